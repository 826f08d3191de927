//! HTTP for the desktop shell: blocking `ureq` 3 over rustls, bodies streamed in chunks.
//!
//! One call, [`Transport::send`], does one exchange: it reports the response head once
//! ([`ResponseHead`]: status, `Retry-After`), then hands the body to the caller in chunks of
//! at most [`CHUNK`] bytes, never holding more than one chunk. The rules:
//!
//! - **https only**, except plain http to the loopback literals `127.0.0.1` and `[::1]` (the
//!   fake server in tests). Any other http URL is refused before anything is sent
//!   ([`TransportError::InsecureUrl`]). Credentials in a URL are refused too.
//! - **Every status is a response.** 4xx and 5xx are not errors here: the session decides on
//!   them. Redirects are not followed (a 3xx is handed over as it is), so no redirect can
//!   lead a request to plain http.
//! - **Timeouts**: one for establishing the connection (including TLS) and one for the whole
//!   exchange, from DNS to the last byte of the body ([`TransportConfig`]).
//! - **A body cap** (1 MiB by default): a body that would exceed it ends the call with
//!   [`TransportError::BodyTooLarge`] after at most the cap has been handed over. With gzip
//!   the cap applies to the decoded bytes.
//! - **Secrets**: this module logs nothing. [`HttpRequest`]'s `Debug` shows header names but
//!   no values except a few harmless ones, and only the body's length; [`TransportError`]
//!   messages hold no header, body or query. `ureq` logs through the `log` crate: at
//!   `debug` it redacts headers and paths, but at `trace` `ureq_proto` dumps the raw request
//!   bytes, `Authorization` included. A binary that installs a logger MUST cap `ureq_proto`
//!   (and `ureq`) below `trace`, whatever `RUST_LOG` says.
//!
//! A proxy from the environment (`HTTPS_PROXY`, ...) is used for remote hosts, never for the
//! loopback addresses.

use std::fmt;
use std::io::{ErrorKind, Read};
use std::ops::ControlFlow;
use std::time::Duration;

use tonearm_core::session::Failure;
pub use tonearm_core::session::Method;
use ureq::http;

/// The most bytes handed to `on_chunk` at once.
pub const CHUNK: usize = 4096;

/// The default body cap: 1 MiB (an episode body is 10-20 KB; a track about 3 KB).
pub const DEFAULT_MAX_BODY: u64 = 1 << 20;

/// One request. No field is ever logged; `Debug` redacts header values and the body.
#[derive(Clone, Copy)]
pub struct HttpRequest<'a> {
    /// The method.
    pub method: Method,
    /// The full URL (`https://...`, or `http://127.0.0.1:PORT/...` / `http://[::1]:PORT/...`).
    /// URLs carry no secrets in Tonearm: tokens go in headers and bodies.
    pub url: &'a str,
    /// Extra headers, e.g. `("Authorization", "Bearer ...")`.
    pub headers: &'a [(&'a str, &'a str)],
    /// The body, if any. A PUT or POST without one is sent with `Content-Length: 0`.
    pub body: Option<&'a [u8]>,
}

/// Header values that are safe to show in `Debug`.
const SHOWN_HEADERS: &[&str] = &["accept", "content-type", "user-agent"];

impl fmt::Debug for HttpRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Headers<'a>(&'a [(&'a str, &'a str)]);
        impl fmt::Debug for Headers<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let mut map = f.debug_map();
                for (name, value) in self.0 {
                    let shown = SHOWN_HEADERS.iter().any(|h| h.eq_ignore_ascii_case(name));
                    map.entry(name, if shown { value } else { &"<redacted>" });
                }
                map.finish()
            }
        }
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("headers", &Headers(self.headers))
            .field(
                "body",
                &self.body.map(|b| format!("<{} bytes redacted>", b.len())),
            )
            .finish()
    }
}

/// The head of a response, reported once before any body chunk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResponseHead {
    /// The status code; any value, 2xx or not.
    pub status: u16,
    /// The `Retry-After` header (found in any letter case), trimmed, as sent.
    pub retry_after: Option<String>,
    /// `Content-Length`, if sent (of the bytes on the wire).
    pub content_length: Option<u64>,
    /// `Content-Type`, if sent.
    pub content_type: Option<String>,
}

/// How a successful exchange ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Completion {
    /// Body bytes handed to `on_chunk` (decoded).
    pub body_bytes: u64,
    /// `true` if `on_chunk` returned `Break` and the rest of the body was not read.
    pub stopped: bool,
}

/// Why an exchange failed. No variant holds a header, a body or a query string.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// The URL cannot be used. Fix the configured `api_base` / `accounts_base`.
    #[error("invalid URL: {reason}")]
    InvalidUrl {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Plain http to a host other than `127.0.0.1` or `[::1]`. Use https.
    #[error(
        "refusing plain http to {host}: use https (plain http is allowed only to 127.0.0.1 and [::1])"
    )]
    InsecureUrl {
        /// The host that was asked for.
        host: String,
    },
    /// The request could not be built (e.g. a header with invalid characters).
    #[error("invalid request: {detail}")]
    InvalidRequest {
        /// What the HTTP library said.
        detail: String,
    },
    /// No connection: DNS failed, the port refused, the network is unreachable.
    #[error("cannot connect to {host}: {detail}")]
    Connect {
        /// The host.
        host: String,
        /// Why.
        detail: String,
    },
    /// The TLS handshake failed (certificate, protocol).
    #[error("TLS with {host} failed: {detail}")]
    Tls {
        /// The host.
        host: String,
        /// Why.
        detail: String,
    },
    /// A timeout expired (connect, or the whole exchange including the body).
    #[error("timed out: {detail}")]
    Timeout {
        /// Which timeout.
        detail: String,
    },
    /// The body is larger than the cap; the part handed over must be discarded.
    #[error("response body larger than {limit} bytes")]
    BodyTooLarge {
        /// The cap.
        limit: u64,
    },
    /// The connection closed before the body was complete.
    #[error("connection closed before the response body was complete")]
    Truncated,
    /// The server did not speak valid HTTP (bad status line, broken chunked framing).
    #[error("bad HTTP response: {detail}")]
    Protocol {
        /// What was wrong.
        detail: String,
    },
    /// Another I/O error while sending or receiving.
    #[error("I/O error: {detail}")]
    Io {
        /// The error.
        detail: String,
    },
}

impl TransportError {
    /// The session's view of this failure.
    pub fn failure(&self) -> Failure {
        match self {
            TransportError::Timeout { .. } => Failure::Timeout,
            TransportError::BodyTooLarge { .. } => Failure::TooLarge,
            TransportError::Truncated
            | TransportError::Protocol { .. }
            | TransportError::Io { .. } => Failure::Io,
            TransportError::InvalidUrl { .. }
            | TransportError::InsecureUrl { .. }
            | TransportError::InvalidRequest { .. }
            | TransportError::Connect { .. }
            | TransportError::Tls { .. } => Failure::Connect,
        }
    }
}

/// Sends HTTP requests. Implementations MUST call `on_head` exactly once per successful
/// exchange, before any `on_chunk`; MUST NOT treat a non-2xx status as an error; MUST stop
/// reading when `on_chunk` returns `Break`; and MUST NOT log secrets. After an `Err`, any
/// chunks already handed over belong to an incomplete body and must be discarded.
pub trait Transport {
    /// Does one exchange, streaming the body into `on_chunk`.
    fn send(
        &self,
        req: &HttpRequest<'_>,
        on_head: &mut dyn FnMut(&ResponseHead),
        on_chunk: &mut dyn FnMut(&[u8]) -> ControlFlow<()>,
    ) -> Result<Completion, TransportError>;
}

/// Timeouts and the body cap of a [`UreqTransport`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TransportConfig {
    connect_timeout: Duration,
    request_timeout: Duration,
    max_body: u64,
}

impl Default for TransportConfig {
    fn default() -> Self {
        TransportConfig {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_body: DEFAULT_MAX_BODY,
        }
    }
}

impl TransportConfig {
    /// Time to establish a connection, TLS included (default 10 s).
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Time for the whole exchange, from DNS to the end of the body (default 30 s).
    #[must_use]
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// The body cap in bytes (default 1 MiB).
    #[must_use]
    pub fn max_body(mut self, bytes: u64) -> Self {
        self.max_body = bytes;
        self
    }
}

/// The real transport: `ureq` 3 with rustls (webpki roots), gzip, no redirects.
#[derive(Debug)]
pub struct UreqTransport {
    remote: ureq::Agent,
    loopback: ureq::Agent,
    max_body: u64,
}

impl UreqTransport {
    /// A transport with `config`'s timeouts and cap.
    pub fn new(config: TransportConfig) -> Self {
        let builder = |proxy_from_env: bool| {
            let b = ureq::Agent::config_builder()
                .http_status_as_error(false)
                .max_redirects(0)
                .timeout_connect(Some(config.connect_timeout))
                .timeout_global(Some(config.request_timeout))
                .user_agent(concat!("tonearm/", env!("CARGO_PKG_VERSION")));
            if proxy_from_env {
                b.build().new_agent()
            } else {
                b.proxy(None).build().new_agent()
            }
        };
        UreqTransport {
            remote: builder(true),
            loopback: builder(false),
            max_body: config.max_body,
        }
    }
}

impl Default for UreqTransport {
    fn default() -> Self {
        UreqTransport::new(TransportConfig::default())
    }
}

/// A URL that passed [`check_url`].
#[derive(Debug)]
struct CheckedUrl {
    uri: http::Uri,
    host: String,
    loopback: bool,
}

/// Checks `url` against the scheme rule: https anywhere, http only to `127.0.0.1` and
/// `[::1]`; no credentials in the URL.
fn check_url(url: &str) -> Result<CheckedUrl, TransportError> {
    let uri: http::Uri = url.parse().map_err(|_| TransportError::InvalidUrl {
        reason: "not a valid absolute URL",
    })?;
    let authority = uri
        .authority()
        .ok_or(TransportError::InvalidUrl { reason: "no host" })?;
    if authority.as_str().contains('@') {
        return Err(TransportError::InvalidUrl {
            reason: "credentials in a URL are not allowed",
        });
    }
    let host = authority.host().to_owned();
    if host.is_empty() {
        return Err(TransportError::InvalidUrl { reason: "no host" });
    }
    let loopback = host == "127.0.0.1" || host == "[::1]";
    match uri.scheme_str() {
        Some(s) if s.eq_ignore_ascii_case("https") => {}
        Some(s) if s.eq_ignore_ascii_case("http") => {
            if !loopback {
                return Err(TransportError::InsecureUrl { host });
            }
        }
        _ => {
            return Err(TransportError::InvalidUrl {
                reason: "the scheme must be https (or http to 127.0.0.1 and [::1])",
            });
        }
    }
    Ok(CheckedUrl {
        uri,
        host,
        loopback,
    })
}

/// Maps an error from `ureq` (before or while reading the body).
fn map_ureq(err: ureq::Error, host: &str) -> TransportError {
    use ureq::Error as E;
    match err {
        E::Timeout(which) => TransportError::Timeout {
            detail: which.to_string(),
        },
        E::Io(io) => map_io(io, host),
        E::HostNotFound => TransportError::Connect {
            host: host.to_owned(),
            detail: "host not found".to_owned(),
        },
        E::ConnectionFailed | E::ConnectProxyFailed(_) | E::InvalidProxyUrl => {
            TransportError::Connect {
                host: host.to_owned(),
                detail: err.to_string(),
            }
        }
        E::Tls(_) | E::Rustls(_) | E::Pem(_) => TransportError::Tls {
            host: host.to_owned(),
            detail: err.to_string(),
        },
        E::Protocol(_) | E::LargeResponseHeader(..) | E::Decompress(..) => {
            TransportError::Protocol {
                detail: err.to_string(),
            }
        }
        E::BadUri(_) => TransportError::InvalidUrl {
            reason: "rejected by the HTTP client",
        },
        E::RequireHttpsOnly(_) => TransportError::InsecureUrl {
            host: host.to_owned(),
        },
        E::Http(_) => TransportError::InvalidRequest {
            detail: err.to_string(),
        },
        other => TransportError::Io {
            detail: other.to_string(),
        },
    }
}

/// Maps an I/O error, unwrapping a `ureq` error carried inside it.
fn map_io(err: std::io::Error, host: &str) -> TransportError {
    if err.get_ref().is_some_and(|e| e.is::<ureq::Error>()) {
        if let Some(Ok(inner)) = err.into_inner().map(|e| e.downcast::<ureq::Error>()) {
            return map_ureq(*inner, host);
        }
        return TransportError::Io {
            detail: "unknown".to_owned(),
        };
    }
    match err.kind() {
        ErrorKind::TimedOut | ErrorKind::WouldBlock => TransportError::Timeout {
            detail: err.to_string(),
        },
        ErrorKind::UnexpectedEof => TransportError::Truncated,
        ErrorKind::ConnectionRefused
        | ErrorKind::HostUnreachable
        | ErrorKind::NetworkUnreachable
        | ErrorKind::AddrNotAvailable
        | ErrorKind::NetworkDown => TransportError::Connect {
            host: host.to_owned(),
            detail: err.to_string(),
        },
        _ => TransportError::Io {
            detail: err.to_string(),
        },
    }
}

fn header_str(headers: &http::HeaderMap, name: http::header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_owned())
}

impl Transport for UreqTransport {
    fn send(
        &self,
        req: &HttpRequest<'_>,
        on_head: &mut dyn FnMut(&ResponseHead),
        on_chunk: &mut dyn FnMut(&[u8]) -> ControlFlow<()>,
    ) -> Result<Completion, TransportError> {
        let url = check_url(req.url)?;
        let agent = if url.loopback {
            &self.loopback
        } else {
            &self.remote
        };
        let mut builder = http::Request::builder()
            .method(req.method.as_str())
            .uri(url.uri);
        for (name, value) in req.headers {
            builder = builder.header(*name, *value);
        }
        let invalid = |e: http::Error| TransportError::InvalidRequest {
            detail: e.to_string(),
        };
        let result = match (req.body, req.method) {
            (Some(body), _) => agent.run(builder.body(body).map_err(invalid)?),
            (None, Method::Get) => agent.run(builder.body(()).map_err(invalid)?),
            (None, _) => agent.run(builder.body(&[][..]).map_err(invalid)?),
        };
        let response = result.map_err(|e| map_ureq(e, &url.host))?;
        let (parts, mut body) = response.into_parts();
        let head = ResponseHead {
            status: parts.status.as_u16(),
            retry_after: header_str(&parts.headers, http::header::RETRY_AFTER),
            content_length: header_str(&parts.headers, http::header::CONTENT_LENGTH)
                .and_then(|v| v.parse().ok()),
            content_type: header_str(&parts.headers, http::header::CONTENT_TYPE),
        };
        on_head(&head);
        // Refuse early when the length is known and not changed by decoding.
        let encoded = parts.headers.contains_key(http::header::CONTENT_ENCODING);
        if !encoded && head.content_length.is_some_and(|len| len > self.max_body) {
            return Err(TransportError::BodyTooLarge {
                limit: self.max_body,
            });
        }
        let mut reader = body.as_reader();
        let mut buf = [0u8; CHUNK];
        let mut total: u64 = 0;
        loop {
            let room = self.max_body.saturating_sub(total);
            // Ask for one byte more than fits, to see an overflow without handing it over.
            let want = usize::try_from(room.saturating_add(1))
                .unwrap_or(CHUNK)
                .min(CHUNK);
            let Some(window) = buf.get_mut(..want) else {
                return Err(TransportError::Io {
                    detail: "buffer".to_owned(),
                });
            };
            let n = match reader.read(window) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(map_io(e, &url.host)),
            };
            if n as u64 > room {
                return Err(TransportError::BodyTooLarge {
                    limit: self.max_body,
                });
            }
            total += n as u64;
            let chunk = window.get(..n).unwrap_or_default();
            if on_chunk(chunk).is_break() {
                return Ok(Completion {
                    body_bytes: total,
                    stopped: true,
                });
            }
        }
        Ok(Completion {
            body_bytes: total,
            stopped: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;
    use tonearm_tests::fake_spotify::{FakeSpotify, Reply, Route};

    /// What one exchange produced.
    #[derive(Debug)]
    struct Got {
        head: Option<ResponseHead>,
        chunks: Vec<Vec<u8>>,
        result: Result<Completion, TransportError>,
    }

    impl Got {
        fn body(&self) -> Vec<u8> {
            self.chunks.concat()
        }
    }

    fn send_with(t: &UreqTransport, req: &HttpRequest<'_>) -> Got {
        let mut head = None;
        let mut chunks = Vec::new();
        let result = t.send(req, &mut |h| head = Some(h.clone()), &mut |c| {
            chunks.push(c.to_vec());
            ControlFlow::Continue(())
        });
        Got {
            head,
            chunks,
            result,
        }
    }

    fn get(t: &UreqTransport, url: &str) -> Got {
        send_with(
            t,
            &HttpRequest {
                method: Method::Get,
                url,
                headers: &[],
                body: None,
            },
        )
    }

    fn fake() -> FakeSpotify {
        let fake = FakeSpotify::start();
        fake.set_require_auth(false);
        fake
    }

    fn quick() -> UreqTransport {
        UreqTransport::new(
            TransportConfig::default()
                .connect_timeout(Duration::from_secs(2))
                .request_timeout(Duration::from_secs(5)),
        )
    }

    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i % 251) as u8).collect()
    }

    #[test]
    fn body_arrives_in_small_chunks() {
        let fake = fake();
        let body = pattern(50_000);
        fake.push(Route::Player, Reply::new(200).body(body.clone()));
        fake.push(
            Route::Player,
            Reply::new(200).body(body.clone()).chunked(777),
        );
        let t = quick();
        for _ in 0..2 {
            let got = get(&t, &fake.url("/v1/me/player"));
            let done = got.result.as_ref().expect("ok");
            assert_eq!(done.body_bytes, 50_000);
            assert!(!done.stopped);
            assert_eq!(got.head.as_ref().map(|h| h.status), Some(200));
            assert!(got.chunks.len() >= 50_000 / CHUNK, "{}", got.chunks.len());
            assert!(got.chunks.iter().all(|c| !c.is_empty() && c.len() <= CHUNK));
            assert_eq!(got.body(), body);
        }
    }

    #[test]
    fn chunks_are_handed_over_while_the_body_is_still_arriving() {
        let fake = fake();
        fake.push(
            Route::Player,
            Reply::new(200)
                .body(pattern(3000))
                .trickle(1000, Duration::from_millis(400)),
        );
        let t = quick();
        let start = Instant::now();
        let mut first_chunk_at = None;
        let result = t.send(
            &HttpRequest {
                method: Method::Get,
                url: &fake.url("/v1/me/player"),
                headers: &[],
                body: None,
            },
            &mut |_| {},
            &mut |_| {
                first_chunk_at.get_or_insert_with(|| start.elapsed());
                ControlFlow::Continue(())
            },
        );
        let end = start.elapsed();
        assert_eq!(result.expect("ok").body_bytes, 3000);
        let first = first_chunk_at.expect("a chunk");
        // The body takes 800 ms to arrive; the first part must not wait for the rest.
        assert!(end >= Duration::from_millis(750), "{end:?}");
        assert!(
            first + Duration::from_millis(500) < end,
            "{first:?} {end:?}"
        );
    }

    #[test]
    fn non_2xx_statuses_are_responses_with_their_bodies() {
        let fake = fake();
        for status in [400, 401, 403, 404, 429, 500, 502, 503] {
            fake.push(Route::Player, Reply::api_error(status, "nope"));
        }
        fake.push(
            Route::Player,
            Reply::new(302).header("Location", "http://example.invalid/"),
        );
        let t = quick();
        for status in [400, 401, 403, 404, 429, 500, 502, 503, 302] {
            let got = get(&t, &fake.url("/v1/me/player"));
            assert!(got.result.is_ok(), "{status}: {:?}", got.result);
            assert_eq!(got.head.as_ref().map(|h| h.status), Some(status));
            if status != 302 {
                let json: serde_json::Value =
                    serde_json::from_slice(&got.body()).expect("error body");
                assert_eq!(json["error"]["status"], status);
            }
        }
        // The redirect was not followed.
        assert_eq!(fake.requests().len(), 9);
    }

    #[test]
    fn retry_after_in_any_case() {
        let fake = fake();
        fake.push(Route::Player, Reply::rate_limited(Some(7)));
        fake.push(
            Route::Player,
            Reply::api_error(429, "x").header("RETRY-AFTER", " 86400 "),
        );
        fake.push(Route::Player, Reply::rate_limited(None));
        fake.push(
            Route::Player,
            Reply::api_error(429, "x").header("Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        let t = quick();
        let heads: Vec<ResponseHead> = (0..4)
            .map(|_| get(&t, &fake.url("/v1/me/player")).head.expect("head"))
            .collect();
        assert_eq!(heads[0].status, 429);
        assert_eq!(heads[0].retry_after.as_deref(), Some("7"));
        assert_eq!(
            heads[0]
                .retry_after
                .as_deref()
                .and_then(tonearm_core::session::parse_retry_after)
                .map(|ms| ms / 1000),
            Some(7)
        );
        assert_eq!(
            heads[1]
                .retry_after
                .as_deref()
                .and_then(tonearm_core::session::parse_retry_after)
                .map(|ms| ms / 1000),
            Some(86400)
        );
        assert_eq!(heads[2].retry_after, None);
        assert_eq!(
            heads[2]
                .retry_after
                .as_deref()
                .and_then(tonearm_core::session::parse_retry_after)
                .map(|ms| ms / 1000),
            None
        );
        assert!(heads[3].retry_after.is_some());
        assert_eq!(
            heads[3]
                .retry_after
                .as_deref()
                .and_then(tonearm_core::session::parse_retry_after)
                .map(|ms| ms / 1000),
            None
        );
    }

    #[test]
    fn body_cap_at_the_boundary() {
        let fake = fake();
        let t = UreqTransport::new(TransportConfig::default().max_body(10_000));
        // Known length: exactly the cap passes, one byte more is refused up front.
        fake.push(Route::Player, Reply::new(200).body(pattern(10_000)));
        fake.push(Route::Player, Reply::new(200).body(pattern(10_001)));
        // Unknown length (chunked): refused while streaming, never over the cap.
        fake.push(
            Route::Player,
            Reply::new(200).body(pattern(10_000)).chunked(999),
        );
        fake.push(
            Route::Player,
            Reply::new(200).body(pattern(10_001)).chunked(999),
        );
        let url = fake.url("/v1/me/player");
        let exact = get(&t, &url);
        assert_eq!(exact.result.expect("ok").body_bytes, 10_000);
        let over = get(&t, &url);
        assert!(matches!(
            over.result,
            Err(TransportError::BodyTooLarge { limit: 10_000 })
        ));
        assert!(over.chunks.is_empty());
        assert_eq!(over.head.as_ref().map(|h| h.status), Some(200));
        let exact = get(&t, &url);
        assert_eq!(exact.result.expect("ok").body_bytes, 10_000);
        let over = get(&t, &url);
        assert!(
            matches!(
                over.result,
                Err(TransportError::BodyTooLarge { limit: 10_000 })
            ),
            "{:?}",
            over.result
        );
        assert!(over.body().len() <= 10_000);
        assert_eq!(over.body(), pattern(10_001)[..over.body().len()]);
    }

    #[test]
    fn default_cap_is_one_mebibyte() {
        let fake = fake();
        fake.push(
            Route::Player,
            Reply::new(200).body(pattern(1 << 20)).chunked(65536),
        );
        fake.push(
            Route::Player,
            Reply::new(200).body(pattern((1 << 20) + 1)).chunked(65536),
        );
        let t = quick();
        let url = fake.url("/v1/me/player");
        assert_eq!(get(&t, &url).result.expect("ok").body_bytes, 1 << 20);
        let over = get(&t, &url);
        assert!(matches!(
            over.result,
            Err(TransportError::BodyTooLarge {
                limit: DEFAULT_MAX_BODY
            })
        ));
        // At most the cap was handed over (the read that overflowed is held back).
        let len = over.body().len();
        assert!(len <= 1 << 20 && len + CHUNK > 1 << 20, "{len}");
    }

    #[test]
    fn hanging_server_hits_the_timeout_quickly() {
        let fake = fake();
        fake.push(Route::Player, Reply::hang());
        let t = UreqTransport::new(
            TransportConfig::default()
                .connect_timeout(Duration::from_millis(300))
                .request_timeout(Duration::from_millis(300)),
        );
        let start = Instant::now();
        let got = get(&t, &fake.url("/v1/me/player"));
        let took = start.elapsed();
        assert!(
            matches!(got.result, Err(TransportError::Timeout { .. })),
            "{:?}",
            got.result
        );
        assert_eq!(
            got.result.as_ref().err().map(TransportError::failure),
            Some(Failure::Timeout)
        );
        assert!(got.head.is_none());
        assert!(took >= Duration::from_millis(250), "{took:?}");
        assert!(took < Duration::from_secs(3), "{took:?}");
    }

    #[test]
    fn a_slow_body_counts_against_the_whole_request_timeout() {
        let fake = fake();
        fake.push(
            Route::Player,
            Reply::new(200)
                .body(pattern(5000))
                .trickle(500, Duration::from_millis(200)),
        );
        let t = UreqTransport::new(
            TransportConfig::default().request_timeout(Duration::from_millis(500)),
        );
        let start = Instant::now();
        let got = get(&t, &fake.url("/v1/me/player"));
        assert!(
            matches!(got.result, Err(TransportError::Timeout { .. })),
            "{:?}",
            got.result
        );
        assert!(got.head.is_some() && !got.chunks.is_empty());
        assert!(start.elapsed() < Duration::from_secs(3));
    }

    #[test]
    fn a_slow_head_within_the_timeout_is_fine() {
        let fake = fake();
        fake.push(
            Route::Player,
            Reply::json(200, "{}").delay(Duration::from_millis(200)),
        );
        let got = get(&quick(), &fake.url("/v1/me/player"));
        assert_eq!(got.result.expect("ok").body_bytes, 2);
    }

    #[test]
    fn truncated_and_garbage_responses_are_typed_errors() {
        let fake = fake();
        fake.push(
            Route::Player,
            Reply::json(200, vec![b'x'; 2000]).truncated_after(1000),
        );
        fake.push(Route::Player, Reply::garbage());
        let t = quick();
        let truncated = get(&t, &fake.url("/v1/me/player"));
        assert!(
            matches!(
                truncated.result,
                Err(TransportError::Protocol { .. } | TransportError::Truncated)
            ),
            "{:?}",
            truncated.result
        );
        assert_eq!(truncated.head.as_ref().map(|h| h.status), Some(200));
        assert!(truncated.body().len() <= 1000);
        let garbage = get(&t, &fake.url("/v1/me/player"));
        assert!(
            matches!(garbage.result, Err(TransportError::Protocol { .. })),
            "{:?}",
            garbage.result
        );
        assert!(garbage.head.is_none());
    }

    #[test]
    fn connection_refused_is_a_connect_error() {
        // A port that was free a moment ago and has nobody listening now.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("bind")
            .port();
        let start = Instant::now();
        let got = get(&quick(), &format!("http://127.0.0.1:{port}/v1/me/player"));
        assert!(
            matches!(got.result, Err(TransportError::Connect { .. })),
            "{:?}",
            got.result
        );
        assert_eq!(
            got.result.as_ref().err().map(TransportError::failure),
            Some(Failure::Connect)
        );
        assert!(start.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn url_rules() {
        for ok in [
            "https://api.spotify.com/v1/me/player",
            "https://accounts.spotify.com/api/token",
            "HTTPS://API.SPOTIFY.COM/v1",
            "http://127.0.0.1:8080/v1/me/player",
            "http://[::1]:8080/v1/me/player",
            "http://127.0.0.1/",
        ] {
            assert!(check_url(ok).is_ok(), "{ok}");
        }
        for (bad, insecure) in [
            ("http://api.spotify.com/v1", true),
            ("http://localhost:8080/", true),
            ("http://127.0.0.2:8080/", true),
            ("http://[::2]:8080/", true),
            ("http://10.0.0.1/", true),
            ("http://127.0.0.1.example.com/", true),
            ("ftp://127.0.0.1/", false),
            ("/v1/me/player", false),
            ("not a url", false),
            ("", false),
            ("https://user:pw@api.spotify.com/", false),
            ("http://user@127.0.0.1/", false),
        ] {
            let err = check_url(bad).expect_err(bad);
            assert_eq!(
                matches!(err, TransportError::InsecureUrl { .. }),
                insecure,
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn http_to_a_non_loopback_host_is_refused_before_sending() {
        let t = quick();
        let start = Instant::now();
        let got = get(&t, "http://api.spotify.com/v1/me/player");
        let err = got.result.expect_err("refused");
        assert!(
            matches!(err, TransportError::InsecureUrl { ref host } if host == "api.spotify.com")
        );
        assert!(err.to_string().contains("use https"), "{err}");
        assert!(got.head.is_none());
        // No DNS lookup, no connection attempt.
        assert!(start.elapsed() < Duration::from_millis(100));
    }

    #[test]
    fn methods_headers_and_bodies_reach_the_server() {
        let fake = fake();
        let t = quick();
        let token = "Bearer BQD-very-secret-access-token";
        let form = b"grant_type=refresh_token&refresh_token=AQC-secret";
        let send = |method, path: &str, body: Option<&[u8]>| {
            send_with(
                &t,
                &HttpRequest {
                    method,
                    url: &fake.url(path),
                    headers: &[
                        ("Authorization", token),
                        ("Content-Type", "application/x-www-form-urlencoded"),
                    ],
                    body,
                },
            )
        };
        assert!(
            send(Method::Put, "/v1/me/player/pause", None)
                .result
                .is_ok()
        );
        assert!(send(Method::Post, "/api/token", Some(form)).result.is_ok());
        assert!(
            send(Method::Get, "/v1/me/player?market=from_token", None)
                .result
                .is_ok()
        );
        let reqs = fake.requests();
        assert_eq!(reqs.len(), 3);
        assert_eq!(reqs[0].method, "PUT");
        assert_eq!(reqs[0].route, Route::Pause);
        assert_eq!(reqs[0].header("content-length"), Some("0"));
        assert_eq!(reqs[0].header("authorization"), Some(token));
        assert_eq!(reqs[1].method, "POST");
        assert_eq!(reqs[1].body, form);
        assert_eq!(reqs[2].path_and_query, "/v1/me/player?market=from_token");
        assert!(reqs[2].body.is_empty());
        assert!(
            reqs[2]
                .header("user-agent")
                .is_some_and(|ua| ua.starts_with("tonearm/"))
        );
    }

    #[test]
    fn break_stops_reading() {
        let fake = fake();
        fake.push(Route::Player, Reply::new(200).body(pattern(100_000)));
        let mut seen = 0;
        let result = quick().send(
            &HttpRequest {
                method: Method::Get,
                url: &fake.url("/v1/me/player"),
                headers: &[],
                body: None,
            },
            &mut |_| {},
            &mut |c| {
                seen += c.len();
                ControlFlow::Break(())
            },
        );
        let done = result.expect("ok");
        assert!(done.stopped);
        assert_eq!(done.body_bytes as usize, seen);
        assert!(seen <= CHUNK);
    }

    #[test]
    fn secrets_stay_out_of_debug_and_errors() {
        let secret = "BQD-very-secret-access-token";
        let auth = format!("Bearer {secret}");
        let body = b"refresh_token=AQC-refresh-secret&client_id=abc";
        let req = HttpRequest {
            method: Method::Post,
            url: "http://127.0.0.1:9/api/token",
            headers: &[("Authorization", &auth), ("Content-Type", "text/plain")],
            body: Some(body),
        };
        let debug = format!("{req:?}");
        assert!(!debug.contains(secret), "{debug}");
        assert!(!debug.contains("AQC-refresh-secret"), "{debug}");
        assert!(
            debug.contains("Authorization") && debug.contains("text/plain"),
            "{debug}"
        );
        assert!(
            debug.contains(&format!("<{} bytes redacted>", body.len())),
            "{debug}"
        );
        // A failed exchange's error says nothing of the request's secrets.
        let got = send_with(&quick(), &req);
        let err = got.result.expect_err("nobody listens on port 9");
        for text in [err.to_string(), format!("{err:?}")] {
            assert!(!text.contains(secret) && !text.contains("AQC"), "{text}");
        }
    }
}
