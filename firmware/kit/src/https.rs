//! HTTPS for the app's requests over any [`Network`]: TLS 1.3 (embedded-tls 0.19,
//! `TLS_AES_128_GCM_SHA256`) with the strict verifier ([`StrictVerifier`] around an
//! [`AnchorVerifier`]) over the trust anchors ([`Anchors`]: the built-in roots and up to
//! two from the settings record), then one HTTP/1.1 exchange ([`crate::http`]).
//!
//! Verification is always on: there is no way to turn it off, and without anchors every
//! connection fails. A handshake in which the server did not prove it holds a verified
//! certificate's key (embedded-tls 0.19 completes one without a Certificate or
//! CertificateVerify) is dropped before a byte of the request, which carries the token,
//! is written ([`Https::perform`]).
//!
//! Memory: [`Buffers`] (the TLS records and the response head, about 25 KiB) live where
//! the board puts them (a `static`); the verifier's copy of the certificate list
//! ([`CERT_LIST`] bytes) lives in the request's future. No heap, except what
//! embedded-tls's RSA path allocates with the `rsa` feature.

use core::sync::atomic::{AtomicU32, Ordering};

use embassy_time::{Duration, Instant, with_timeout};
use embedded_tls::{
    Aes128GcmSha256, CryptoProvider, TlsClock, TlsConfig, TlsConnection, TlsContext, TlsError,
    TlsVerifier,
};
use rand_core::{CryptoRng, RngCore};
use tonearm_core::session::{Failure, Request};

use crate::board::{Log, Network};
use crate::http::{Hosts, Receiver, read_response, write_request};
use crate::tls::{AnchorVerifier, StrictVerifier};

/// TLS records are up to 16 KiB plus overhead; Spotify does not negotiate a smaller
/// maximum fragment length.
pub const TLS_READ: usize = 16_640;
/// The request's records (the longest request, a token refresh, is under 1 KiB).
pub const TLS_WRITE: usize = 4096;
/// The server's certificate list, kept whole by the verifier: a DigiCert leaf with its
/// intermediate is about 3.5 KB, 4.4 KB if the server also sends the root, and a list
/// over this fails the handshake (`OutOfMemory`; the TLS spike's `chain_size_limit`).
pub const CERT_LIST: usize = 8192;
/// The response's status line and headers (Spotify sends many).
pub const HEAD_BUF: usize = 4096;
/// The pieces the body is handed to the app in.
pub const RX_BUF: usize = 512;
/// The largest body accepted (an episode is about 20 KB).
pub const BODY_MAX: usize = 96 * 1024;
/// No complete answer within this: [`Failure::Timeout`].
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
/// Most trust anchors: built-in roots and the record's.
pub const ANCHORS_MAX: usize = 6;

/// The buffers of one HTTPS exchange, [`Buffers::SIZE`] bytes: put them in a `static`
/// (`static_cell`) so they count as static RAM, not stack.
pub struct Buffers {
    tls_read: [u8; TLS_READ],
    tls_write: [u8; TLS_WRITE],
    head: [u8; HEAD_BUF],
    rx: [u8; RX_BUF],
}

impl Buffers {
    /// Their size in bytes (the budgets print it).
    pub const SIZE: usize = TLS_READ + TLS_WRITE + HEAD_BUF + RX_BUF;

    /// Zeroed buffers (a `const fn`, for a `static`).
    pub const fn new() -> Self {
        Buffers {
            tls_read: [0; TLS_READ],
            tls_write: [0; TLS_WRITE],
            head: [0; HEAD_BUF],
            rx: [0; RX_BUF],
        }
    }
}

impl Default for Buffers {
    fn default() -> Self {
        Self::new()
    }
}

/// Unix seconds at boot (monotonic 0), once the time of day is known; 0 before.
static UNIX_AT_BOOT_S: AtomicU32 = AtomicU32::new(0);

/// The clock certificate dates are checked against: the time of day the run loop learnt
/// (SNTP, or the board's [`crate::board::WallClock`]) plus embassy-time's monotonic
/// clock. embedded-tls takes its clock as a type with a static `now()`, so this is the
/// kit's one piece of static state; [`set_unix_now`] is how it is set. Before it is set,
/// `now()` is `None` and embedded-tls skips the date check, so the run loop does not
/// connect until the time is known.
#[derive(Debug, Clone, Copy)]
pub struct KitClock;

impl TlsClock for KitClock {
    fn now() -> Option<u64> {
        unix_now()
    }
}

/// Records that it is `unix_s` now (Unix seconds).
pub fn set_unix_now(unix_s: u64) {
    let boot = unix_s.saturating_sub(Instant::now().as_secs());
    UNIX_AT_BOOT_S.store(u32::try_from(boot).unwrap_or(u32::MAX), Ordering::Relaxed);
}

/// Unix seconds now, once [`set_unix_now`] was called.
pub fn unix_now() -> Option<u64> {
    unix_ms_at(Instant::now().as_millis()).map(|ms| ms / 1000)
}

/// Unix milliseconds at monotonic `now_ms`, once [`set_unix_now`] was called.
pub fn unix_ms_at(now_ms: u64) -> Option<u64> {
    match UNIX_AT_BOOT_S.load(Ordering::Relaxed) {
        0 => None,
        boot => Some(u64::from(boot) * 1000 + now_ms),
    }
}

/// The trust anchors (DER certificates): the built-in roots, then the record's.
#[derive(Debug, Clone, Default)]
pub struct Anchors<'a> {
    ders: heapless::Vec<&'a [u8], ANCHORS_MAX>,
}

impl<'a> Anchors<'a> {
    /// [`crate::roots::ROOTS`] and the record's `extra` anchors (`Settings::roots`).
    pub fn new(built_in: &[(&'a str, &'a [u8])], extra: &[Option<&'a [u8]>]) -> Self {
        let mut ders = heapless::Vec::new();
        for der in built_in
            .iter()
            .map(|(_, der)| *der)
            .chain(extra.iter().flatten().copied())
        {
            // Beyond ANCHORS_MAX: dropped (4 fit today: 2 built in, 2 from the record).
            let _ = ders.push(der);
        }
        Anchors { ders }
    }

    /// The anchors, built-in ones first.
    pub fn as_slice(&self) -> &[&'a [u8]] {
        &self.ders
    }

    /// Whether there are none (then every connection fails).
    pub fn is_empty(&self) -> bool {
        self.ders.is_empty()
    }
}

/// The verifier of one connection: the strict checks around the anchors' verifier.
pub type Verifier<'a> = StrictVerifier<AnchorVerifier<'a, Aes128GcmSha256, KitClock, CERT_LIST>>;

struct Provider<'v, 'a, R> {
    rng: &'v mut R,
    verifier: &'v mut Verifier<'a>,
}

impl<R: RngCore + CryptoRng> CryptoProvider for Provider<'_, '_, R> {
    type CipherSuite = Aes128GcmSha256;
    type Signature = p256::ecdsa::DerSignature;

    fn rng(&mut self) -> impl embedded_tls::CryptoRngCore {
        &mut *self.rng
    }

    fn verifier(&mut self) -> Result<&mut impl TlsVerifier<Aes128GcmSha256>, TlsError> {
        Ok(&mut *self.verifier)
    }
}

/// HTTPS for the app's requests: one connection per request (`Connection: close`).
pub struct Https<'b, N, R> {
    net: &'b mut N,
    rng: R,
    bufs: &'b mut Buffers,
    anchors: Anchors<'b>,
    hosts: Hosts,
}

impl<'b, N: Network, R: RngCore + CryptoRng> Https<'b, N, R> {
    /// A client over `net` with keys from `rng`, trusting `anchors`, asking `hosts`.
    pub fn new(
        net: &'b mut N,
        rng: R,
        bufs: &'b mut Buffers,
        anchors: Anchors<'b>,
        hosts: Hosts,
    ) -> Self {
        Https {
            net,
            rng,
            bufs,
            anchors,
            hosts,
        }
    }

    /// The network (for SNTP between requests).
    pub fn net(&mut self) -> &mut N {
        self.net
    }

    /// Performs `req`, handing the answer's head and body to `to`; `Ok` once the body
    /// is complete (then call `App::on_end`), else why not (`App::on_failure`). Bounded
    /// by [`REQUEST_TIMEOUT`] as a whole. Nothing is written to a server that did not
    /// authenticate.
    pub async fn perform(
        &mut self,
        req: &Request,
        to: &mut impl Receiver,
        log: &mut impl Log,
    ) -> Result<(), Failure> {
        match with_timeout(REQUEST_TIMEOUT, self.exchange(req, to, log)).await {
            Ok(r) => r,
            Err(_) => Err(Failure::Timeout),
        }
    }

    async fn exchange(
        &mut self,
        req: &Request,
        to: &mut impl Receiver,
        log: &mut impl Log,
    ) -> Result<(), Failure> {
        let (host, prefix) = self.hosts.of(req.host);
        if self.anchors.is_empty() {
            log.line(format_args!("tls: no trust anchors: not connecting"));
            return Err(Failure::Connect);
        }
        let addr = self.net.resolve(host).await.map_err(|e| {
            log.line(format_args!("dns: {host}: {e:?}"));
            Failure::Connect
        })?;
        let socket = self.net.connect(addr, self.hosts.port).await.map_err(|e| {
            log.line(format_args!("tcp: {host}: {e:?}"));
            Failure::Connect
        })?;
        let config = TlsConfig::new().with_server_name(host);
        let mut tls: TlsConnection<'_, _, Aes128GcmSha256> = TlsConnection::new(
            socket,
            &mut self.bufs.tls_read[..],
            &mut self.bufs.tls_write[..],
        );
        let mut verifier = StrictVerifier::new(AnchorVerifier::new(self.anchors.as_slice()));
        let opened = tls
            .open(TlsContext::new(
                &config,
                Provider {
                    rng: &mut self.rng,
                    verifier: &mut verifier,
                },
            ))
            .await;
        if let Err(e) = opened {
            log.line(format_args!("tls: {host}: handshake failed: {e:?}"));
            return Err(Failure::Connect);
        }
        if !verifier.authenticated() {
            // embedded-tls 0.19 completes a handshake in which the server sent no
            // Certificate or no CertificateVerify: not the host, and nothing goes to it.
            log.line(format_args!(
                "tls: {host} did not authenticate: nothing sent"
            ));
            return Err(Failure::Connect);
        }
        write_request(&mut tls, req, host, prefix)
            .await
            .map_err(|_| Failure::Io)?;
        read_response(
            &mut tls,
            req.method,
            &mut self.bufs.head[..],
            &mut self.bufs.rx[..],
            BODY_MAX,
            to,
            || Instant::now().as_millis(),
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::board::NoLog;
    use crate::run::rand_core_test::Counter;
    use core::net::{IpAddr, Ipv4Addr};
    use embassy_time::MockDriver;
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    use std::io::{Read as _, Write as _};
    use std::net::{TcpListener, TcpStream};
    use std::sync::{Arc, Mutex};
    use tonearm_core::session::{Host, Method, RequestKind};

    /// A blocking loopback socket as an async one (each call completes at once).
    struct Blocking(TcpStream);

    use embedded_io_async::ErrorKind;

    impl embedded_io_async::ErrorType for Blocking {
        type Error = ErrorKind;
    }
    impl embedded_io_async::Read for Blocking {
        async fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
            self.0.read(buf).map_err(|_| ErrorKind::Other)
        }
    }
    impl embedded_io_async::Write for Blocking {
        async fn write(&mut self, buf: &[u8]) -> Result<usize, ErrorKind> {
            self.0.write(buf).map_err(|_| ErrorKind::Other)
        }
        async fn flush(&mut self) -> Result<(), ErrorKind> {
            self.0.flush().map_err(|_| ErrorKind::Other)
        }
    }

    /// Every name is 127.0.0.1; connections go to the server's port.
    struct Loopback {
        resolved: Vec<String>,
    }

    impl Network for Loopback {
        type Error = std::io::Error;
        type Tcp<'a> = Blocking;
        fn is_up(&self) -> bool {
            true
        }
        async fn resolve(&mut self, host: &str) -> Result<IpAddr, std::io::Error> {
            self.resolved.push(host.to_owned());
            Ok(IpAddr::V4(Ipv4Addr::LOCALHOST))
        }
        async fn connect(&mut self, addr: IpAddr, port: u16) -> Result<Blocking, std::io::Error> {
            let s = TcpStream::connect((addr, port))?;
            s.set_read_timeout(Some(std::time::Duration::from_secs(10)))?;
            Ok(Blocking(s))
        }
        async fn exchange_udp(
            &mut self,
            _: IpAddr,
            _: u16,
            _: &[u8],
            _: &mut [u8],
        ) -> Result<usize, std::io::Error> {
            Err(std::io::ErrorKind::Unsupported.into())
        }
    }

    /// A root (its DER) and a leaf for Spotify's two names signed by it (chain, key).
    fn pki(cn: &str) -> (Vec<u8>, Vec<Vec<u8>>, Vec<u8>) {
        let root_key = KeyPair::generate().unwrap();
        let mut root = CertificateParams::new(Vec::<String>::new()).unwrap();
        root.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        root.distinguished_name.push(DnType::CommonName, cn);
        let root_der = root.self_signed(&root_key).unwrap().der().to_vec();
        let issuer = Issuer::new(root, root_key);
        let leaf_key = KeyPair::generate().unwrap();
        let leaf = CertificateParams::new(vec![
            "api.spotify.com".to_owned(),
            "accounts.spotify.com".to_owned(),
        ])
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap();
        (
            root_der,
            vec![leaf.der().to_vec()],
            leaf_key.serialize_der(),
        )
    }

    /// A TLS 1.3 server for one connection: records the plaintext it received (up to the
    /// end of the request head) and answers `answer`.
    fn serve(
        chain: Vec<Vec<u8>>,
        key: Vec<u8>,
        answer: &'static [u8],
    ) -> (u16, Arc<Mutex<Vec<u8>>>) {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let chain = chain.into_iter().map(CertificateDer::from).collect();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key));
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13])
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let got = Arc::new(Mutex::new(Vec::new()));
        let seen = got.clone();
        std::thread::spawn(move || {
            let Ok((mut stream, _)) = listener.accept() else {
                return;
            };
            let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(10)));
            let conn = rustls::ServerConnection::new(Arc::new(config)).unwrap();
            let mut tls = rustls::StreamOwned::new(conn, &mut stream);
            let mut buf = [0u8; 1024];
            loop {
                match tls.read(&mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => {
                        let mut seen = seen.lock().unwrap();
                        seen.extend_from_slice(&buf[..n]);
                        if seen.windows(4).any(|w| w == b"\r\n\r\n") {
                            break;
                        }
                    }
                }
            }
            let _ = tls.write_all(answer);
            tls.conn.send_close_notify();
            let _ = tls.flush();
        });
        (port, got)
    }

    #[derive(Default)]
    struct Got {
        status: Option<u16>,
        body: Vec<u8>,
    }

    impl Receiver for Got {
        fn head(&mut self, _: u64, status: u16, _: Option<&str>) {
            self.status = Some(status);
        }
        fn body(&mut self, chunk: &[u8]) {
            self.body.extend_from_slice(chunk);
        }
    }

    fn poll_request() -> Request {
        Request {
            kind: RequestKind::Refresh,
            method: Method::Get,
            host: Host::Api,
            path: "/me/player".try_into().unwrap(),
            authorization: "Bearer secret-token".try_into().unwrap(),
            body: heapless::String::new(),
        }
    }

    /// Performs one request against a server on `port` trusting the built-in roots and
    /// `extra`.
    fn perform(port: u16, extra: &[u8]) -> (Result<(), Failure>, Got, Vec<String>) {
        let mut net = Loopback {
            resolved: Vec::new(),
        };
        let mut bufs = Box::new(Buffers::new());
        let extras = [Some(extra)];
        let anchors = Anchors::new(crate::roots::ROOTS, &extras);
        assert_eq!(anchors.as_slice().len(), crate::roots::ROOTS.len() + 1);
        let hosts = Hosts {
            port,
            ..Hosts::SPOTIFY
        };
        let mut got = Got::default();
        let req = poll_request();
        let mut log = NoLog;
        let r = {
            let mut https = Https::new(&mut net, Counter(3), &mut bufs, anchors, hosts);
            let fut = std::pin::pin!(https.perform(&req, &mut got, &mut log));
            crate::run::tests::drive(fut, 60_000).expect("done within the timeout")
        };
        (r, got, net.resolved)
    }

    fn unix_now_real() -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    }

    #[test]
    fn a_request_over_verified_tls_with_an_anchor_from_the_settings() {
        let _serial = crate::testing::SERIAL
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        MockDriver::get().reset();
        set_unix_now(unix_now_real());
        let (root, chain, key) = pki("Tonearm Test Root");
        let (port, got) = serve(
            chain,
            key,
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\n\r\n",
        );
        let (r, answer, resolved) = perform(port, &root);
        assert_eq!(r, Ok(()));
        assert_eq!(answer.status, Some(200));
        assert_eq!(answer.body, b"{\"a\":1}");
        assert_eq!(resolved, ["api.spotify.com"]);
        let sent = String::from_utf8(got.lock().unwrap().clone()).unwrap();
        assert!(
            sent.starts_with("GET /v1/me/player HTTP/1.1\r\nHost: api.spotify.com\r\n"),
            "{sent}"
        );
        assert!(sent.contains("Authorization: Bearer secret-token\r\n"));
    }

    #[test]
    fn an_unknown_root_gets_no_request() {
        let _serial = crate::testing::SERIAL
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        MockDriver::get().reset();
        set_unix_now(unix_now_real());
        // The server's chain is from one root; the board trusts another of the same name.
        let (_, chain, key) = pki("Tonearm Test Root");
        let (other_root, _, _) = pki("Tonearm Test Root");
        let (port, got) = serve(chain, key, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        let (r, answer, _) = perform(port, &other_root);
        assert_eq!(r, Err(Failure::Connect));
        assert_eq!(answer.status, None);
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert!(got.lock().unwrap().is_empty(), "not a byte of the request");
        // And a root of another name: no anchor at all for the chain.
        let (_, chain, key) = pki("Tonearm Test Root");
        let (port, got) = serve(chain, key, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        let (elsewhere, _, _) = pki("Somebody Else's Root");
        assert_eq!(perform(port, &elsewhere).0, Err(Failure::Connect));
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert!(got.lock().unwrap().is_empty());
    }

    #[test]
    fn certificate_dates_are_checked_against_the_kits_clock() {
        let _serial = crate::testing::SERIAL
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        MockDriver::get().reset();
        // rcgen's certificates are valid from 1975 to 4096: a clock in 1970 (well, 1971)
        // is before them.
        set_unix_now(365 * 86_400);
        let (root, chain, key) = pki("Tonearm Test Root");
        let (port, got) = serve(chain, key, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        assert_eq!(perform(port, &root).0, Err(Failure::Connect));
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert!(got.lock().unwrap().is_empty());
    }
}
