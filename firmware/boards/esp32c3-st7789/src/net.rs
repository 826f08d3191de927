//! The network: Wi-Fi (join and rejoin), the embassy-net runner, SNTP, and HTTPS
//! requests for the app with verified TLS and bodies read in small chunks.

use embassy_net::dns::DnsQueryType;
use embassy_net::tcp::TcpSocket;
use embassy_net::udp::{PacketMetadata, UdpSocket};
use embassy_net::{IpAddress, Runner, Stack};
use embassy_time::{Duration, Timer, with_timeout};
use embedded_graphics::pixelcolor::Rgb565;
use embedded_io_async::Write as _;
use embedded_tls::pki::CertVerifier;
use embedded_tls::{
    Aes128GcmSha256, Certificate, CryptoProvider, TlsClock, TlsConfig, TlsConnection, TlsContext,
    TlsError, TlsVerifier,
};
use esp_println::println;
use esp_radio::wifi::sta::StationConfig;
use esp_radio::wifi::{
    AuthenticationMethodConfig, Config as WifiConfig, Interface, Password, Ssid, WifiController,
};
use tonearm_c3_shell::sntp;
use tonearm_c3_shell::tls::StrictVerifier;
use tonearm_core::session::{Failure, Host, Request};
use tonearm_firmware::App;

use crate::roots::ROOTS;

/// The receive buffer every body goes through, in chunks.
pub const RX_BUF: usize = 512;
/// TLS records are up to 16 KiB plus overhead; Spotify does not negotiate a smaller
/// maximum fragment length.
const TLS_READ: usize = 16_640;
const TLS_WRITE: usize = 4096;
/// The server's certificate list, kept whole by the verifier: a DigiCert leaf with its
/// intermediate is about 3.5 KB, 4.4 KB if the server also sends the root, and a list
/// over this fails the handshake (`OutOfMemory`; `tls-spike`'s `chain_size_limit`).
const CERT_LIST: usize = 8192;
/// Response headers (Spotify sends many).
const HEAD_BUF: usize = 4096;
/// The largest body accepted (an episode is about 20 KB).
const BODY_MAX: usize = 96 * 1024;
/// No complete answer within this: `Failure::Timeout`.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// The stored Wi-Fi settings.
#[derive(Clone)]
pub struct WifiSettings {
    pub ssid: heapless::String<32>,
    pub password: heapless::String<64>,
}

/// Joins the network, and joins again whenever it drops (after a pause, so a missing
/// access point is not hammered).
#[embassy_executor::task]
pub async fn wifi_task(mut controller: WifiController<'static>, wifi: WifiSettings) {
    loop {
        if controller.is_connected() {
            let _ = controller.wait_for_disconnect_async().await;
            println!("wifi: disconnected");
            Timer::after(Duration::from_secs(2)).await;
        }
        let Ok(ssid) = Ssid::try_from(wifi.ssid.as_str()) else {
            println!("wifi: bad SSID");
            Timer::after(Duration::from_secs(60)).await;
            continue;
        };
        let auth = if wifi.password.is_empty() {
            AuthenticationMethodConfig::Open
        } else {
            match Password::try_from(wifi.password.as_str()) {
                Ok(p) => AuthenticationMethodConfig::WpaWpa2Personal(p),
                Err(_) => {
                    println!("wifi: bad password");
                    Timer::after(Duration::from_secs(60)).await;
                    continue;
                }
            }
        };
        let config = WifiConfig::Station(
            StationConfig::default()
                .with_ssid(ssid)
                .with_authentication(auth),
        );
        if controller.set_config(&config).is_err() {
            Timer::after(Duration::from_secs(10)).await;
            continue;
        }
        match controller.connect_async().await {
            Ok(_) => println!("wifi: connected"),
            Err(_) => {
                println!("wifi: connect failed; retrying");
                Timer::after(Duration::from_secs(5)).await;
            }
        }
    }
}

/// Runs the IP stack.
#[embassy_executor::task]
pub async fn net_task(mut runner: Runner<'static, Interface>) {
    runner.run().await
}

/// Asks an NTP server for the time; the Unix time in seconds, or `None`.
pub async fn sntp(stack: Stack<'static>) -> Option<u64> {
    let addr = *stack
        .dns_query("pool.ntp.org", DnsQueryType::A)
        .await
        .ok()?
        .first()?;
    let mut rx_meta = [PacketMetadata::EMPTY; 2];
    let mut tx_meta = [PacketMetadata::EMPTY; 2];
    let mut rx = [0u8; 128];
    let mut tx = [0u8; 128];
    let mut sock = UdpSocket::new(stack, &mut rx_meta, &mut rx, &mut tx_meta, &mut tx);
    sock.bind(0).ok()?;
    sock.send_to(&sntp::request(), (addr, 123)).await.ok()?;
    let mut buf = [0u8; 64];
    let (n, _) = with_timeout(Duration::from_secs(3), sock.recv_from(&mut buf))
        .await
        .ok()?
        .ok()?;
    sntp::unix_seconds(buf.get(..n)?)
}

/// The TLS clock: the time of day from SNTP (certificate dates are checked).
pub struct BoardClock;

impl TlsClock for BoardClock {
    fn now() -> Option<u64> {
        crate::unix_now()
    }
}

struct Provider<'a> {
    rng: esp_hal::rng::Trng,
    verifier: StrictVerifier<CertVerifier<'a, Aes128GcmSha256, BoardClock, CERT_LIST>>,
}

impl CryptoProvider for Provider<'_> {
    type CipherSuite = Aes128GcmSha256;
    type Signature = p256_sig::DerSignature;

    fn rng(&mut self) -> impl embedded_tls::CryptoRngCore {
        &mut self.rng
    }

    fn verifier(&mut self) -> Result<&mut impl TlsVerifier<Aes128GcmSha256>, TlsError> {
        Ok(&mut self.verifier)
    }
}

mod p256_sig {
    pub use p256::ecdsa::DerSignature;
}

/// HTTPS for the app's requests: one connection per request (`Connection: close`).
pub struct Https {
    stack: Stack<'static>,
    tls_read: &'static mut [u8; TLS_READ],
    tls_write: &'static mut [u8; TLS_WRITE],
    head: &'static mut [u8; HEAD_BUF],
    /// Which root to try first for each host (the next one after a certificate failure).
    root: [usize; 2],
}

fn host_name(host: Host) -> (&'static str, &'static str) {
    match host {
        Host::Api => ("api.spotify.com", "/v1"),
        Host::Accounts => ("accounts.spotify.com", ""),
    }
}

impl Https {
    /// Buffers are static: about 25 KiB.
    pub fn new(stack: Stack<'static>, _seed: u64) -> Self {
        use static_cell::StaticCell;
        static READ: StaticCell<[u8; TLS_READ]> = StaticCell::new();
        static WRITE: StaticCell<[u8; TLS_WRITE]> = StaticCell::new();
        static HEAD: StaticCell<[u8; HEAD_BUF]> = StaticCell::new();
        Https {
            stack,
            tls_read: READ.init([0; TLS_READ]),
            tls_write: WRITE.init([0; TLS_WRITE]),
            head: HEAD.init([0; HEAD_BUF]),
            root: [0; 2],
        }
    }

    /// Performs `req` and feeds the answer to `app` (head, body chunks, end), or
    /// reports the failure.
    pub async fn perform(
        &mut self,
        req: &Request,
        app: &mut App<Rgb565>,
        rx: &mut [u8; RX_BUF],
        now_ms: fn() -> u64,
    ) {
        match with_timeout(REQUEST_TIMEOUT, self.exchange(req, app, rx, now_ms)).await {
            Ok(Ok(())) => app.on_end(now_ms()),
            Ok(Err(f)) => app.on_failure(now_ms(), f),
            Err(_) => app.on_failure(now_ms(), Failure::Timeout),
        }
    }

    async fn exchange(
        &mut self,
        req: &Request,
        app: &mut App<Rgb565>,
        rx: &mut [u8; RX_BUF],
        now_ms: fn() -> u64,
    ) -> Result<(), Failure> {
        let (host, prefix) = host_name(req.host);
        let slot = usize::from(req.host == Host::Accounts);
        let addr: IpAddress = *self
            .stack
            .dns_query(host, DnsQueryType::A)
            .await
            .map_err(|_| Failure::Connect)?
            .first()
            .ok_or(Failure::Connect)?;
        let mut tcp_rx = [0u8; 2048];
        let mut tcp_tx = [0u8; 1024];
        let mut socket = TcpSocket::new(self.stack, &mut tcp_rx, &mut tcp_tx);
        socket.set_timeout(Some(Duration::from_secs(15)));
        socket
            .connect((addr, 443))
            .await
            .map_err(|_| Failure::Connect)?;

        let root_index = self.root.get(slot).copied().unwrap_or(0) % ROOTS.len().max(1);
        let (root_name, root) = ROOTS.get(root_index).copied().ok_or(Failure::Connect)?;
        let config = TlsConfig::new().with_server_name(host);
        let mut tls: TlsConnection<'_, _, Aes128GcmSha256> =
            TlsConnection::new(socket, &mut self.tls_read[..], &mut self.tls_write[..]);
        let rng = esp_hal::rng::Trng::try_new().map_err(|_| Failure::Connect)?;
        let mut provider = Provider {
            rng,
            verifier: StrictVerifier::new(CertVerifier::new(Certificate::X509(root))),
        };
        let opened = tls.open(TlsContext::new(&config, &mut provider)).await;
        if opened.is_ok() && !provider.verifier.authenticated() {
            // embedded-tls 0.19 completes a handshake in which the server sent no
            // Certificate or no CertificateVerify: not Spotify, and nothing is sent to it.
            println!("tls: {} did not authenticate", host);
            return Err(Failure::Connect);
        }
        if let Err(e) = opened {
            if matches!(e, TlsError::InvalidCertificate) {
                // Not this root (or a bad certificate): the next attempt tries the next.
                println!("tls: {} not verified with root {}", host, root_name);
                if let Some(r) = self.root.get_mut(slot) {
                    *r = r.wrapping_add(1);
                }
            }
            return Err(Failure::Connect);
        }

        // The request (never logged: it carries the token).
        let mut head: heapless::String<256> = heapless::String::new();
        let _ = core::fmt::write(
            &mut head,
            format_args!(
                "{} {}{} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nAccept: application/json\r\n",
                req.method.as_str(),
                prefix,
                req.path,
                host
            ),
        );
        let w = async {
            tls.write_all(head.as_bytes()).await?;
            if !req.authorization.is_empty() {
                tls.write_all(b"Authorization: ").await?;
                tls.write_all(req.authorization.as_bytes()).await?;
                tls.write_all(b"\r\n").await?;
            }
            let mut len: heapless::String<64> = heapless::String::new();
            if req.has_form_body() {
                tls.write_all(b"Content-Type: application/x-www-form-urlencoded\r\n")
                    .await?;
            }
            let _ = core::fmt::write(
                &mut len,
                format_args!("Content-Length: {}\r\n\r\n", req.body.len()),
            );
            tls.write_all(len.as_bytes()).await?;
            tls.write_all(req.body.as_bytes()).await?;
            tls.flush().await
        };
        w.await.map_err(|_| Failure::Io)?;

        let method = match req.method {
            tonearm_core::session::Method::Get => reqwless::request::Method::GET,
            tonearm_core::session::Method::Post => reqwless::request::Method::POST,
            tonearm_core::session::Method::Put => reqwless::request::Method::PUT,
            tonearm_core::session::Method::Delete => reqwless::request::Method::DELETE,
        };
        let resp = reqwless::response::Response::read(&mut tls, method, &mut self.head[..])
            .await
            .map_err(|_| Failure::Io)?;
        let retry_after = resp
            .headers()
            .find(|(name, _)| name.eq_ignore_ascii_case("retry-after"))
            .and_then(|(_, v)| core::str::from_utf8(v).ok());
        app.on_head(now_ms(), resp.status.0, retry_after);
        let mut reader = resp.body().reader();
        let mut total = 0usize;
        loop {
            let n = embedded_io_async::Read::read(&mut reader, &mut rx[..])
                .await
                .map_err(|_| Failure::Io)?;
            if n == 0 {
                break;
            }
            total += n;
            if total > BODY_MAX {
                return Err(Failure::TooLarge);
            }
            app.on_body(rx.get(..n).unwrap_or_default());
        }
        Ok(())
    }
}
