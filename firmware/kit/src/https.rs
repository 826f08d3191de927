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
