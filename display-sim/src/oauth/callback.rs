//! The loopback server for the redirect: `127.0.0.1:PORT` only, one `GET /callback`
//! awaited, anything else answered with a small page while the wait goes on.

use std::io::{Read as _, Write as _};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::LoginError;
use super::pages::not_found_page;

/// The longest request head read from the browser.
const MAX_HEAD: usize = 8 * 1024;

/// Binds the loopback listener (127.0.0.1 only, never all interfaces), non-blocking.
pub fn bind(port: u16) -> Result<TcpListener, LoginError> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let listener = TcpListener::bind(addr).map_err(|source| match source.kind() {
        std::io::ErrorKind::AddrInUse => LoginError::PortInUse { port },
        _ => LoginError::Listen { port, source },
    })?;
    listener
        .set_nonblocking(true)
        .map_err(|source| LoginError::Listen { port, source })?;
    Ok(listener)
}

/// The redirect's query parameters, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Callback {
    pairs: Vec<(String, String)>,
}

impl Callback {
    /// The parameters of a query string (`code=...&state=...`).
    pub fn from_query(query: &str) -> Callback {
        Callback {
            pairs: query_pairs(query),
        }
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Decodes a query component (`+` is a space, `%XX` a byte); invalid UTF-8 is replaced.
fn decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => match bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                Some(byte) => {
                    out.push(byte);
                    i += 2;
                }
                None => out.push(b'%'),
            },
            _ => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The decoded `key=value` pairs of a query string.
fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// Waits for `GET /callback?...`; other requests (a favicon, a stray path) get a 404 and
/// the wait goes on. Each connection is read on its own thread, so an idle connection (a
/// browser's preconnect) holds nothing up. Ends early on Ctrl-C ([`crate::interrupted`]).
pub fn wait_for_callback(
    listener: &TcpListener,
    timeout: Duration,
) -> Result<(TcpStream, Callback), LoginError> {
    let deadline = Instant::now() + timeout;
    let (tx, rx) = mpsc::channel::<(TcpStream, String)>();
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                let tx = tx.clone();
                let _ = std::thread::Builder::new()
                    .name("login-callback".into())
                    .spawn(move || {
                        if let Some((stream, target)) = read_request(stream) {
                            let _ = tx.send((stream, target));
                        }
                    });
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => log::debug!("accept: {e}"),
        }
        while let Ok((stream, target)) = rx.try_recv() {
            let (path, query) = target.split_once('?').unwrap_or((&target, ""));
            if path == "/callback" {
                log::info!("the browser came back to /callback");
                return Ok((stream, Callback::from_query(query)));
            }
            log::debug!("ignored a request for a path other than /callback");
            respond(stream, 404, &not_found_page());
        }
        if crate::interrupted() {
            return Err(LoginError::Interrupted);
        }
        if Instant::now() >= deadline {
            return Err(LoginError::Timeout(timeout));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Reads a request head; returns the stream and the target of a `GET`, answering anything
/// else itself. `None` when the connection sent nothing usable.
fn read_request(mut stream: TcpStream) -> Option<(TcpStream, String)> {
    stream.set_nonblocking(false).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = match stream.read(&mut buf) {
            Ok(0) | Err(_) => return None,
            Ok(n) => n,
        };
        head.extend_from_slice(buf.get(..n).unwrap_or_default());
        if head.len() > MAX_HEAD {
            respond(stream, 431, &not_found_page());
            return None;
        }
    }
    let line = head.split(|b| *b == b'\r').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let mut parts = line.split(' ');
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    if method != "GET" {
        respond(stream, 405, &not_found_page());
        return None;
    }
    Some((stream, target.to_owned()))
}

/// Writes a small HTML page and closes the connection.
pub fn respond(mut stream: TcpStream, status: u16, html: &str) {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Request Header Fields Too Large",
    };
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nCache-Control: no-store\r\nReferrer-Policy: no-referrer\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n",
        html.len()
    );
    let _ = stream.set_write_timeout(Some(Duration::from_secs(5)));
    let _ = stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(html.as_bytes()))
        .and_then(|()| stream.flush());
    let _ = stream.shutdown(std::net::Shutdown::Write);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_decoding() {
        let pairs = query_pairs("code=a%2Bb+c&state=x%3D&&error&bad=%zz%4");
        assert_eq!(
            pairs,
            [
                ("code".to_owned(), "a+b c".to_owned()),
                ("state".to_owned(), "x=".to_owned()),
                ("error".to_owned(), String::new()),
                ("bad".to_owned(), "%zz%4".to_owned()),
            ]
        );
        assert_eq!(decode("%E6%97%A5"), "\u{65e5}");
        assert_eq!(decode("%FF"), "\u{fffd}");
        let cb = Callback::from_query("state=s&code=c&state=t");
        assert_eq!((cb.get("state"), cb.get("code")), (Some("s"), Some("c")));
        assert_eq!(cb.get("error"), None);
    }
}
