//! The server: the accept loop, each request read and recorded on a thread of its own,
//! and the reply written by hand on the raw connection.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::routes::decide;
use super::script::Delivery;
use super::state::Shared;
use super::{MAX_HANG, MAX_REQUEST_BODY, RecordedRequest, Reply, Route};

/// The accept loop: each request is answered on its own thread.
pub(super) fn serve(server: &tiny_http::Server, shared: &Arc<Shared>) {
    while !shared.stop.load(Ordering::SeqCst) {
        let request = match server.recv_timeout(Duration::from_millis(50)) {
            Ok(Some(request)) => request,
            Ok(None) => continue,
            Err(_) => break,
        };
        let shared = Arc::clone(shared);
        let spawned = std::thread::Builder::new()
            .name("fake-spotify-request".to_owned())
            .spawn(move || handle(request, &shared));
        if spawned.is_err() {
            // Out of threads: the request is dropped, which answers 500.
            continue;
        }
    }
}

pub(super) fn handle(mut request: tiny_http::Request, shared: &Shared) {
    let at = shared.started.elapsed();
    let method = request.method().as_str().to_owned();
    let path_and_query = request.url().to_owned();
    let headers: Vec<(String, String)> = request
        .headers()
        .iter()
        .map(|h| {
            (
                h.field.as_str().as_str().to_owned(),
                h.value.as_str().to_owned(),
            )
        })
        .collect();
    let mut body = Vec::new();
    let _ = request
        .as_reader()
        .take(MAX_REQUEST_BODY)
        .read_to_end(&mut body);
    let path = path_and_query
        .split_once('?')
        .map_or(path_and_query.as_str(), |(p, _)| p);
    let (route, method_ok) = Route::of(&method, path);
    let recorded = RecordedRequest {
        route,
        method,
        path_and_query: path_and_query.clone(),
        headers,
        body,
        at,
    };
    let reply = {
        let mut state = shared.lock();
        let reply = decide(&mut state, &recorded, method_ok);
        state.requests.push(recorded);
        shared.changed.notify_all();
        reply
    };
    deliver(request, &reply, shared);
}

pub(super) fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        302 => "Found",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

/// Writes `reply` to the client. The response is written by hand on the raw connection,
/// so header names keep their spelling and trickled chunks really leave one by one.
pub(super) fn deliver(request: tiny_http::Request, reply: &Reply, shared: &Shared) {
    if !reply.delay.is_zero() && !sleep_unless_stopped(shared, reply.delay) {
        return;
    }
    match reply.delivery {
        Delivery::Hang => {
            sleep_unless_stopped(shared, MAX_HANG);
            // Dropping the request now answers 500 on a connection nobody waits on.
            drop(request);
            return;
        }
        Delivery::Garbage => {
            let mut writer = request.into_writer();
            let _ = writer.write_all(b"THIS IS NOT HTTP\r\n\x00\x01\x02\r\n\r\n");
            let _ = writer.flush();
            return;
        }
        _ => {}
    }
    let status = reply.status;
    let mut head = format!("HTTP/1.1 {status} {}\r\n", reason_phrase(status));
    for (name, value) in &reply.headers {
        let _ = write!(head, "{name}: {value}\r\n");
    }
    let no_body = status == 204 || status == 304 || (100..200).contains(&status);
    match reply.delivery {
        Delivery::Truncated { .. } | Delivery::Chunked { .. } if !no_body => {
            head.push_str("Transfer-Encoding: chunked\r\n");
        }
        _ if no_body => {}
        _ => {
            let _ = write!(head, "Content-Length: {}\r\n", reply.body.len());
        }
    }
    head.push_str("\r\n");
    let mut writer = request.into_writer();
    if writer.write_all(head.as_bytes()).is_err() {
        return;
    }
    if no_body {
        let _ = writer.flush();
        return;
    }
    match reply.delivery {
        Delivery::Trickle { chunk, interval } => {
            for (i, piece) in reply.body.chunks(chunk).enumerate() {
                if i > 0 && !sleep_unless_stopped(shared, interval) {
                    return;
                }
                if writer
                    .write_all(piece)
                    .and_then(|()| writer.flush())
                    .is_err()
                {
                    return;
                }
            }
        }
        Delivery::Chunked { chunk } => {
            for piece in reply.body.chunks(chunk) {
                let _ = write!(writer, "{:x}\r\n", piece.len());
                let _ = writer.write_all(piece);
                let _ = writer.write_all(b"\r\n");
            }
            let _ = writer.write_all(b"0\r\n\r\n");
        }
        Delivery::Truncated { sent } => {
            let piece = reply.body.get(..sent).unwrap_or(&reply.body);
            let _ = write!(writer, "{:x}\r\n", piece.len());
            let _ = writer.write_all(piece);
            // Not a chunk-size line: the client's chunk decoder fails here.
            let _ = writer.write_all(b"\r\nnot-a-chunk-size\r\n");
        }
        _ => {
            let _ = writer.write_all(&reply.body);
        }
    }
    let _ = writer.flush();
}

/// Sleeps for `duration`, waking early if the fake is dropped. Returns false if it was.
pub(super) fn sleep_unless_stopped(shared: &Shared, duration: Duration) -> bool {
    let deadline = Instant::now() + duration;
    let mut state = shared.lock();
    loop {
        if shared.stop.load(Ordering::SeqCst) {
            return false;
        }
        let now = Instant::now();
        if now >= deadline {
            return true;
        }
        state = match shared.changed.wait_timeout(state, deadline - now) {
            Ok((guard, _)) => guard,
            Err(e) => e.into_inner().0,
        };
    }
}
