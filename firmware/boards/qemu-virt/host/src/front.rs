//! The fake Spotify's front door on the test network: `192.0.2.1:443`, where the
//! board's DNS sends Spotify's names. In [`Mode::Tls`] it is an HTTPS server (rustls,
//! TLS 1.3, the chain of the test root) that reads each request, records every byte it
//! received (the TLS records as they came, and the decrypted request), and passes the
//! request to the fake Spotify on loopback (plain HTTP, `tests/src/fake_spotify`),
//! whose answer it sends back. [`Mode::Rogue`] is a man in the middle who replays a
//! chain the board trusts but sends no CertificateVerify (the TLS spike's rogue server);
//! [`Mode::Down`] refuses connections, [`Mode::Closing`] closes each at once (the
//! server gone).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};

use crate::rogue;

/// What the front does with a connection.
#[derive(Clone)]
pub enum Mode {
    /// HTTPS in front of the fake at `upstream`.
    Tls {
        config: Arc<ServerConfig>,
        upstream: SocketAddr,
    },
    /// The rogue server: `chain` (leaf first) without CertificateVerify.
    Rogue { chain: Vec<Vec<u8>> },
    /// No listener: connections are refused.
    Down,
    /// The server gone behind a listener that closes each connection at once (so the
    /// board's attempts are counted).
    Closing,
}

/// One connection as the front saw it.
#[derive(Debug, Default, Clone)]
pub struct Conn {
    /// When it was accepted (since the front started).
    pub at: Duration,
    /// Every byte received from the board, as it came (TLS records).
    pub raw: Vec<u8>,
    /// The decrypted request ([`Mode::Tls`] only).
    pub plain: Vec<u8>,
    /// Rogue: TLS records the board sent after the server's Finished (its own Finished
    /// is the first; any more would be a request).
    pub records_after_handshake: usize,
    /// Whether the TLS handshake completed (rustls).
    pub handshake_done: bool,
}

struct Shared {
    mode: Mode,
    conns: Vec<Arc<Mutex<Conn>>>,
}

/// The front, on its own thread.
#[derive(Clone)]
pub struct Front {
    shared: Arc<Mutex<Shared>>,
    started: Instant,
}

/// A rustls server config for `leaf` (DER) with its PKCS#8 key.
pub fn tls_config(leaf: &[u8], key: &[u8]) -> Result<Arc<ServerConfig>, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(leaf.to_vec())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.to_vec())),
        )?;
    Ok(Arc::new(config))
}

impl Front {
    /// Listens on `addr` in `mode`.
    pub fn start(addr: SocketAddr, mode: Mode) -> std::io::Result<Front> {
        let front = Front {
            shared: Arc::new(Mutex::new(Shared {
                mode,
                conns: Vec::new(),
            })),
            started: Instant::now(),
        };
        let me = front.clone();
        std::thread::Builder::new()
            .name("front".into())
            .spawn(move || me.accept_loop(addr))?;
        Ok(front)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Switches the mode (for new connections).
    pub fn set_mode(&self, mode: Mode) {
        self.lock().mode = mode;
    }

    /// Forgets the connections seen so far.
    pub fn clear(&self) {
        self.lock().conns.clear();
    }

    /// The connections seen so far.
    pub fn conns(&self) -> Vec<Conn> {
        self.lock()
            .conns
            .iter()
            .map(|c| c.lock().unwrap_or_else(|e| e.into_inner()).clone())
            .collect()
    }

    fn accept_loop(&self, addr: SocketAddr) {
        let mut listener: Option<TcpListener> = None;
        loop {
            let mode = self.lock().mode.clone();
            if matches!(mode, Mode::Down) {
                listener = None;
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
            if listener.is_none() {
                match TcpListener::bind(addr).and_then(|l| l.set_nonblocking(true).map(|()| l)) {
                    Ok(l) => listener = Some(l),
                    Err(e) => {
                        eprintln!("front: cannot listen on {addr}: {e}");
                        std::thread::sleep(Duration::from_millis(500));
                        continue;
                    }
                }
            }
            let Some(l) = &listener else { continue };
            match l.accept() {
                Ok((stream, from)) => {
                    if std::env::var_os("BOARD_VIRT_DEBUG").is_some() {
                        eprintln!("front: connection from {from}");
                    }
                    let _ = stream.set_nonblocking(false);
                    let conn = Arc::new(Mutex::new(Conn {
                        at: self.started.elapsed(),
                        ..Conn::default()
                    }));
                    self.lock().conns.push(Arc::clone(&conn));
                    let _ = std::thread::Builder::new()
                        .name("front-conn".into())
                        .spawn(move || handle(stream, mode, &conn));
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
    }
}

/// A TCP stream that records what it reads.
pub struct Tap {
    stream: TcpStream,
    conn: Arc<Mutex<Conn>>,
}

impl Read for Tap {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.stream.read(buf)?;
        self.conn
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .raw
            .extend_from_slice(&buf[..n]);
        Ok(n)
    }
}

impl Write for Tap {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.stream.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.stream.flush()
    }
}

fn handle(stream: TcpStream, mode: Mode, conn: &Arc<Mutex<Conn>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(60)));
    match mode {
        Mode::Tls { config, upstream } => {
            if let Err(e) = proxy(stream, config, upstream, conn) {
                let c = conn.lock().unwrap_or_else(|e| e.into_inner());
                eprintln!(
                    "front: connection at {:.1} s: {e} (received {} B, handshake {})",
                    c.at.as_secs_f64(),
                    c.raw.len(),
                    if c.handshake_done { "done" } else { "not done" }
                );
            }
        }
        Mode::Rogue { chain } => {
            let tap = Tap {
                stream,
                conn: Arc::clone(conn),
            };
            let after = rogue::handshake(tap, &chain);
            conn.lock()
                .unwrap_or_else(|e| e.into_inner())
                .records_after_handshake = after;
        }
        Mode::Down | Mode::Closing => {}
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn content_length(head: &[u8]) -> usize {
    String::from_utf8_lossy(head)
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())
                .flatten()
        })
        .unwrap_or(0)
}

fn proxy(
    stream: TcpStream,
    config: Arc<ServerConfig>,
    upstream: SocketAddr,
    conn: &Arc<Mutex<Conn>>,
) -> std::io::Result<()> {
    let tap = Tap {
        stream,
        conn: Arc::clone(conn),
    };
    let server = ServerConnection::new(config).map_err(std::io::Error::other)?;
    let mut tls = StreamOwned::new(server, tap);
    let mut req = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = tls.read(&mut buf)?;
        if !tls.conn.is_handshaking() {
            conn.lock()
                .unwrap_or_else(|e| e.into_inner())
                .handshake_done = true;
        }
        if n == 0 {
            return Ok(());
        }
        req.extend_from_slice(&buf[..n]);
        conn.lock()
            .unwrap_or_else(|e| e.into_inner())
            .plain
            .extend_from_slice(&buf[..n]);
        if let Some(end) = find(&req, b"\r\n\r\n")
            && req.len() >= end + 4 + content_length(&req[..end])
        {
            break;
        }
    }
    let mut up = TcpStream::connect(upstream)?;
    up.set_read_timeout(Some(Duration::from_secs(150)))?;
    up.write_all(&req)?;
    let mut resp = [0u8; 16384];
    while let Ok(n) = up.read(&mut resp) {
        if n == 0 {
            break;
        }
        tls.write_all(&resp[..n])?;
        tls.flush()?;
    }
    tls.conn.send_close_notify();
    let _ = tls.flush();
    Ok(())
}
