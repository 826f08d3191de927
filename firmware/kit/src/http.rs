//! HTTP/1.1 over any byte stream (the verified TLS connection, or an in-memory one in
//! the tests): the request as the session built it, and the response read with
//! reqwless' framing (status line and headers, then a `Content-Length` or chunked body,
//! or a body to the connection's end) in small chunks into a [`Receiver`] (the app).
//!
//! One request per connection (`Connection: close`): Spotify is asked every few seconds
//! at most, and a kept-alive TLS connection would hold its 20 KiB of buffers meanwhile.

use embedded_io_async::{Read, Write};
use tonearm_core::session::{Failure, Host, Method, Request};

/// Where a response goes: the app (`tonearm_firmware::App`), or a test's recorder.
pub trait Receiver {
    /// The status line and headers arrived (`retry_after`: the `Retry-After` header's
    /// value, if any).
    fn head(&mut self, now_ms: u64, status: u16, retry_after: Option<&str>);
    /// The next piece of the body (decoded: no chunk framing).
    fn body(&mut self, chunk: &[u8]);
}

impl<C: tonearm_firmware::Palette, S: tonearm_firmware::Source> Receiver
    for tonearm_firmware::App<C, S>
{
    fn head(&mut self, now_ms: u64, status: u16, retry_after: Option<&str>) {
        self.on_head(now_ms, status, retry_after);
    }
    fn body(&mut self, chunk: &[u8]) {
        self.on_body(chunk);
    }
}

/// The host names of Spotify's two services and the path prefix of each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hosts {
    /// The Web API's host (`api.spotify.com`); its paths start with `/v1`.
    pub api: &'static str,
    /// The accounts service's host (`accounts.spotify.com`).
    pub accounts: &'static str,
    /// The TCP port of both (443).
    pub port: u16,
}

impl Hosts {
    /// Spotify's.
    pub const SPOTIFY: Hosts = Hosts {
        api: "api.spotify.com",
        accounts: "accounts.spotify.com",
        port: 443,
    };

    /// The host name and path prefix for `host`.
    pub fn of(&self, host: Host) -> (&'static str, &'static str) {
        match host {
            Host::Api => (self.api, "/v1"),
            Host::Accounts => (self.accounts, ""),
        }
    }
}

impl Default for Hosts {
    fn default() -> Self {
        Hosts::SPOTIFY
    }
}

/// Writes `req` (to `host`, paths under `prefix`) as an HTTP/1.1 request and flushes it.
/// The request carries the token: it is never logged.
pub async fn write_request<W: Write>(
    w: &mut W,
    req: &Request,
    host: &str,
    prefix: &str,
) -> Result<(), W::Error> {
    for part in [
        req.method.as_str(),
        " ",
        prefix,
        req.path.as_str(),
        " HTTP/1.1\r\nHost: ",
        host,
        "\r\nConnection: close\r\nAccept: application/json\r\n",
    ] {
        w.write_all(part.as_bytes()).await?;
    }
    if !req.authorization.is_empty() {
        w.write_all(b"Authorization: ").await?;
        w.write_all(req.authorization.as_bytes()).await?;
        w.write_all(b"\r\n").await?;
    }
    if req.has_form_body() {
        w.write_all(b"Content-Type: application/x-www-form-urlencoded\r\n")
            .await?;
    }
    let mut len: heapless::String<48> = heapless::String::new();
    // Cannot fail: "Content-Length: " and a usize fit in 48 bytes.
    let _ = core::fmt::write(
        &mut len,
        format_args!("Content-Length: {}\r\n\r\n", req.body.len()),
    );
    w.write_all(len.as_bytes()).await?;
    w.write_all(req.body.as_bytes()).await?;
    w.flush().await
}

/// Reads the response to a `method` request from `r` into `to`: the head (status and
/// `Retry-After`, read into `head_buf`, which must hold the status line and all headers),
/// then the body in pieces of at most `rx.len()` bytes. More than `body_max` body bytes:
/// [`Failure::TooLarge`] (what came before was handed on). A broken or malformed answer:
/// [`Failure::Io`]. `now` is called when the head is complete.
pub async fn read_response<R: Read>(
    r: &mut R,
    method: Method,
    head_buf: &mut [u8],
    rx: &mut [u8],
    body_max: usize,
    to: &mut impl Receiver,
    now: impl Fn() -> u64,
) -> Result<(), Failure> {
    let method = match method {
        Method::Get => reqwless::request::Method::GET,
        Method::Post => reqwless::request::Method::POST,
        Method::Put => reqwless::request::Method::PUT,
        Method::Delete => reqwless::request::Method::DELETE,
    };
    let eof = core::cell::Cell::new(false);
    let mut conn = EofWatch {
        inner: r,
        eof: &eof,
    };
    let resp = reqwless::response::Response::read(&mut conn, method, head_buf)
        .await
        .map_err(|_| Failure::Io)?;
    let chunked = resp
        .transfer_encoding
        .contains(&reqwless::headers::TransferEncoding::Chunked);
    let retry_after = resp
        .headers()
        .find(|(name, _)| name.eq_ignore_ascii_case("retry-after"))
        .and_then(|(_, v)| core::str::from_utf8(v).ok())
        .map(str::trim);
    to.head(now(), resp.status.0, retry_after);
    // reqwless ends a `Content-Length` body quietly when the connection closes early:
    // a body cut short is a broken answer, not a complete one.
    let expected = resp.content_length;
    let mut reader = resp.body().reader();
    let mut total = 0usize;
    loop {
        // Never ask for more than the `Content-Length` left: reqwless 0.14's fixed-length
        // reader underflows its count when a read returns bytes past the body.
        let want = match expected {
            Some(len) if len <= total => return Ok(()),
            Some(len) => rx.len().min(len - total),
            None => rx.len(),
        };
        let buf = rx.get_mut(..want).unwrap_or_default();
        let n = Read::read(&mut reader, buf)
            .await
            .map_err(|_| Failure::Io)?;
        if n == 0 {
            // reqwless 0.14 also ends a chunked body quietly when the connection
            // closes inside it; it never reads past the last chunk, so a chunked body
            // that met the connection's end was cut short.
            return match expected {
                Some(len) if len != total => Err(Failure::Io),
                _ if chunked && eof.get() => Err(Failure::Io),
                _ => Ok(()),
            };
        }
        total = total.saturating_add(n);
        if total > body_max {
            return Err(Failure::TooLarge);
        }
        to.body(buf.get(..n).unwrap_or_default());
    }
}

/// A connection that notes when it reaches its end.
struct EofWatch<'a, 'e, R> {
    inner: &'a mut R,
    eof: &'e core::cell::Cell<bool>,
}

impl<R: Read> embedded_io_async::ErrorType for EofWatch<'_, '_, R> {
    type Error = R::Error;
}

impl<R: Read> Read for EofWatch<'_, '_, R> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, R::Error> {
        let n = self.inner.read(buf).await?;
        if n == 0 && !buf.is_empty() {
            self.eof.set(true);
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use embassy_futures::block_on;
    use tonearm_core::session::RequestKind;

    /// A connection in memory: reads come from `input` in pieces of at most `step`
    /// bytes (so headers and chunks split anywhere), writes go to `output`.
    struct Pipe<'a> {
        input: &'a [u8],
        step: usize,
        output: Vec<u8>,
    }

    impl embedded_io_async::ErrorType for Pipe<'_> {
        type Error = core::convert::Infallible;
    }

    impl Read for Pipe<'_> {
        async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
            let n = self.step.min(buf.len()).min(self.input.len());
            buf[..n].copy_from_slice(&self.input[..n]);
            self.input = &self.input[n..];
            Ok(n)
        }
    }

    impl Write for Pipe<'_> {
        async fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
            self.output.extend_from_slice(buf);
            Ok(buf.len())
        }
        async fn flush(&mut self) -> Result<(), Self::Error> {
            Ok(())
        }
    }

    #[derive(Default, Debug, PartialEq)]
    struct Got {
        status: Option<u16>,
        retry_after: Option<String>,
        body: Vec<u8>,
        pieces: usize,
    }

    impl Receiver for Got {
        fn head(&mut self, _now_ms: u64, status: u16, retry_after: Option<&str>) {
            self.status = Some(status);
            self.retry_after = retry_after.map(str::to_owned);
        }
        fn body(&mut self, chunk: &[u8]) {
            self.body.extend_from_slice(chunk);
            self.pieces += 1;
        }
    }

    fn read(
        answer: &[u8],
        step: usize,
        method: Method,
        body_max: usize,
    ) -> (Got, Result<(), Failure>) {
        let mut pipe = Pipe {
            input: answer,
            step,
            output: Vec::new(),
        };
        let mut head = [0u8; 1024];
        let mut rx = [0u8; 16];
        let mut got = Got::default();
        let r = block_on(read_response(
            &mut pipe,
            method,
            &mut head,
            &mut rx,
            body_max,
            &mut got,
            || 7,
        ));
        (got, r)
    }

    #[test]
    fn content_length_chunked_and_close_delimited_bodies() {
        let body = br#"{"is_playing":true,"item":{"name":"Caf\u00e9"}}"#;
        let cl = [
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                body.len()
            )
            .as_bytes(),
            body,
        ]
        .concat();
        let chunked = [
            &b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"[..],
            b"5\r\n",
            &body[..5],
            b"\r\n",
            format!("{:x}\r\n", body.len() - 5).as_bytes(),
            &body[5..],
            b"\r\n0\r\n\r\n",
        ]
        .concat();
        for answer in [&cl, &chunked] {
            for step in [1, 3, 7, 64, 4096] {
                let (got, r) = read(answer, step, Method::Get, 1000);
                assert_eq!(r, Ok(()), "step {step}");
                assert_eq!(got.status, Some(200));
                assert_eq!(got.body, body, "step {step}");
                assert!(got.pieces >= 3, "read in rx-sized pieces");
            }
        }
        // Content-Length stops at its count even if more bytes follow.
        let more = [&cl[..], b"garbage after the body"].concat();
        assert_eq!(read(&more, 5, Method::Get, 1000).0.body, body);
        // A 204 has no body; a 429's Retry-After is passed on, trimmed.
        let (got, r) = read(b"HTTP/1.1 204 No Content\r\n\r\n", 2, Method::Put, 10);
        assert_eq!((got.status, got.body.len(), r), (Some(204), 0, Ok(())));
        let (got, _) = read(
            b"HTTP/1.1 429 Too Many Requests\r\nretry-after:  17 \r\nContent-Length: 0\r\n\r\n",
            4,
            Method::Get,
            10,
        );
        assert_eq!(got.status, Some(429));
        assert_eq!(got.retry_after.as_deref(), Some("17"));
    }

    #[test]
    fn too_large_broken_and_garbage_answers_fail() {
        let big = [
            &b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"[..],
            &[b'x'; 100],
        ]
        .concat();
        let (got, r) = read(&big, 64, Method::Get, 99);
        assert_eq!(r, Err(Failure::TooLarge));
        assert!(got.body.len() <= 99, "nothing past the cap is handed on");
        assert_eq!(read(&big, 64, Method::Get, 100).1, Ok(()));
        // The connection ends inside the body, inside a chunk, inside the head.
        let cut = &big[..big.len() - 10];
        assert_eq!(read(cut, 64, Method::Get, 1000).1, Err(Failure::Io));
        let cut_chunk = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc";
        assert_eq!(read(cut_chunk, 3, Method::Get, 1000).1, Err(Failure::Io));
        assert_eq!(
            read(b"HTTP/1.1 200 OK\r\nContent-Le", 3, Method::Get, 1000).1,
            Err(Failure::Io)
        );
        assert_eq!(read(b"", 3, Method::Get, 1000).1, Err(Failure::Io));
        // A head longer than its buffer.
        let long = [
            &b"HTTP/1.1 200 OK\r\nX: "[..],
            &[b'a'; 2000],
            b"\r\nContent-Length: 0\r\n\r\n",
        ]
        .concat();
        assert_eq!(read(&long, 512, Method::Get, 1000).1, Err(Failure::Io));
        // Every prefix of a chunked answer: an error or the whole body, never a panic.
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
        for n in 0..chunked.len() {
            let (got, r) = read(&chunked[..n], 5, Method::Get, 1000);
            assert!(r.is_err() || got.body == b"abc", "prefix {n}");
        }
    }

    fn request(method: Method, host: Host, path: &str, auth: &str, body: &str) -> Request {
        Request {
            kind: RequestKind::Refresh,
            method,
            host,
            path: path.try_into().unwrap(),
            authorization: auth.try_into().unwrap(),
            body: body.try_into().unwrap(),
        }
    }

    fn written(req: &Request) -> String {
        let mut pipe = Pipe {
            input: &[],
            step: 1,
            output: Vec::new(),
        };
        let (host, prefix) = Hosts::SPOTIFY.of(req.host);
        block_on(write_request(&mut pipe, req, host, prefix)).unwrap();
        String::from_utf8(pipe.output).unwrap()
    }

    #[test]
    fn requests_are_framed_as_the_session_built_them() {
        let get = request(
            Method::Get,
            Host::Api,
            "/me/player?additional_types=episode",
            "Bearer abc",
            "",
        );
        assert_eq!(
            written(&get),
            "GET /v1/me/player?additional_types=episode HTTP/1.1\r\nHost: api.spotify.com\r\n\
             Connection: close\r\nAccept: application/json\r\nAuthorization: Bearer abc\r\n\
             Content-Length: 0\r\n\r\n"
        );
        let form = "grant_type=refresh_token&refresh_token=r&client_id=c";
        let post = request(Method::Post, Host::Accounts, "/api/token", "", form);
        assert_eq!(
            written(&post),
            format!(
                "POST /api/token HTTP/1.1\r\nHost: accounts.spotify.com\r\nConnection: close\r\n\
                 Accept: application/json\r\nContent-Type: application/x-www-form-urlencoded\r\n\
                 Content-Length: {}\r\n\r\n{form}",
                form.len()
            )
        );
        let delete = request(
            Method::Delete,
            Host::Api,
            "/me/library?uris=x",
            "Bearer t",
            "",
        );
        assert!(written(&delete).starts_with("DELETE /v1/me/library?uris=x HTTP/1.1\r\n"));
    }
}
