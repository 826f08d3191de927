//! The TLS verification spike for the ESP32-C3 board (issue 8): which verifier can the
//! board use? Each candidate connects to a rustls server on 127.0.0.1 that presents a
//! chain made here with rcgen (root -> intermediate -> leaf, ECDSA P-256), and must
//! accept the good chain for a matching host and refuse everything else.
//!
//! | case | chain and host | must |
//! | --- | --- | --- |
//! | `good` | leaf SAN `*.spike.test`, host `api.spike.test` | pass |
//! | `good_exact` | the same leaf, host `accounts.spike.test` | pass |
//! | `wrong_host` | the same leaf, host `api.other.test` | fail |
//! | `wildcard_depth` | the same leaf, host `a.b.spike.test` | fail |
//! | `expired` | leaf valid only in 2020 | fail |
//! | `unknown_root` | the same names under another root | fail |
//! | `cn_only` | leaf without SAN, CN `api.spike.test` | fail |
//! | `cn_with_other_san` | SAN `www.elsewhere.test`, CN `api.spike.test` | fail |
//! | `leaf_as_issuer` | the leaf is signed by another leaf (not a CA) | fail |
//! | `expired_cn_only` | CN-only leaf valid only in 2020 (isolates the date check of CN-only verifiers) | fail |
//!
//! Candidates: embedded-tls 0.19 `pki::CertVerifier`; the same wrapped in the board's
//! `StrictVerifier` (tonearm-c3-shell); embedded-tls 0.18's `pki::CertVerifier` with
//! `NoClock` (exactly what reqwless 0.14's `TlsVerify::Certificate` builds; its other
//! modes, `None` and `Psk`, do not check a certificate at all); rustls 0.23 with the
//! pure-Rust rustls-rustcrypto provider and its webpki verifier.
//!
//! `cargo test --target <host> -- --nocapture` prints the table of results; the asserts
//! pin every cell, so a new crate version that changes a verdict fails here.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, date_time_ymd,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};

const GREETING: &[u8] = b"hello from the spike server";

/// A chain to serve (leaf first, without the root) with the leaf's key, and the root a
/// client should trust.
struct Served {
    chain: Vec<Vec<u8>>,
    key: Vec<u8>,
}

struct Pki {
    root: Vec<u8>,
    good: Served,
    expired: Served,
    unknown_root: Served,
    cn_only: Served,
    cn_with_other_san: Served,
    leaf_as_issuer: Served,
    expired_cn_only: Served,
}

fn ca_params(cn: &str) -> CertificateParams {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    p.distinguished_name = dn;
    p.not_before = date_time_ymd(2020, 1, 1);
    p.not_after = date_time_ymd(2090, 1, 1);
    p
}

fn leaf_params(sans: &[&str], cn: &str) -> CertificateParams {
    let mut p =
        CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    p.distinguished_name = dn;
    p.is_ca = IsCa::ExplicitNoCa;
    p.not_before = date_time_ymd(2020, 1, 1);
    p.not_after = date_time_ymd(2090, 1, 1);
    p
}

/// root -> intermediate, and leaves signed by the intermediate.
struct Ca {
    root_der: Vec<u8>,
    inter_der: Vec<u8>,
    inter: Issuer<'static, KeyPair>,
}

fn ca(name: &str) -> Ca {
    let root_key = KeyPair::generate().unwrap();
    let root_params = ca_params(&format!("{name} root"));
    let root_cert = root_params.self_signed(&root_key).unwrap();
    let root = Issuer::new(root_params, root_key);
    let inter_key = KeyPair::generate().unwrap();
    let inter_params = ca_params(&format!("{name} intermediate"));
    let inter_cert = inter_params.signed_by(&inter_key, &root).unwrap();
    Ca {
        root_der: root_cert.der().to_vec(),
        inter_der: inter_cert.der().to_vec(),
        inter: Issuer::new(inter_params, inter_key),
    }
}

fn leaf(ca: &Ca, params: CertificateParams) -> Served {
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &ca.inter).unwrap();
    Served {
        chain: vec![cert.der().to_vec(), ca.inter_der.clone()],
        key: key.serialize_der(),
    }
}

fn pki() -> Pki {
    let main = ca("spike");
    let other = ca("other");
    let good = leaf(&main, leaf_params(&["*.spike.test"], "spike leaf"));
    let mut old = leaf_params(&["*.spike.test"], "spike leaf");
    old.not_before = date_time_ymd(2020, 1, 1);
    old.not_after = date_time_ymd(2020, 12, 31);
    let expired = leaf(&main, old);
    // The same dates on a CN-only leaf: isolates the date check of verifiers that only
    // read the CN.
    let mut old_cn = leaf_params(&[], "api.spike.test");
    old_cn.not_before = date_time_ymd(2020, 1, 1);
    old_cn.not_after = date_time_ymd(2020, 12, 31);
    let expired_cn_only = leaf(&main, old_cn);
    let unknown_root = leaf(&other, leaf_params(&["*.spike.test"], "spike leaf"));
    let cn_only = leaf(&main, leaf_params(&[], "api.spike.test"));
    let cn_with_other_san = leaf(
        &main,
        leaf_params(&["www.elsewhere.test"], "api.spike.test"),
    );
    // A leaf (no CA flag) used as an issuer: root -> intermediate -> leaf -> "leaf".
    let issuer_key = KeyPair::generate().unwrap();
    let issuer_params = leaf_params(&["shop.spike.test"], "a plain leaf");
    let issuer_cert = issuer_params.signed_by(&issuer_key, &main.inter).unwrap();
    let fake_issuer = Issuer::new(issuer_params, issuer_key);
    let fake_key = KeyPair::generate().unwrap();
    let fake = leaf_params(&["*.spike.test"], "spike leaf")
        .signed_by(&fake_key, &fake_issuer)
        .unwrap();
    let leaf_as_issuer = Served {
        chain: vec![
            fake.der().to_vec(),
            issuer_cert.der().to_vec(),
            main.inter_der.clone(),
        ],
        key: fake_key.serialize_der(),
    };
    Pki {
        root: main.root_der,
        good,
        expired,
        unknown_root,
        cn_only,
        cn_with_other_san,
        leaf_as_issuer,
        expired_cn_only,
    }
}

/// A TLS 1.3 server on 127.0.0.1 that presents `served` to every connection and writes
/// the greeting after the handshake.
fn serve(served: &Served) -> SocketAddr {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let chain = served
        .chain
        .iter()
        .map(|c| CertificateDer::from(c.clone()))
        .collect::<Vec<_>>();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(served.key.clone()));
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let config = config.clone();
            std::thread::spawn(move || {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                let Ok(conn) = rustls::ServerConnection::new(config) else {
                    return;
                };
                let mut tls = rustls::StreamOwned::new(conn, &mut stream);
                if tls.write_all(GREETING).is_ok() {
                    let _ = tls.flush();
                    tls.conn.send_close_notify();
                    let _ = tls.flush();
                    let mut sink = [0u8; 64];
                    let _ = tls.read(&mut sink);
                }
            });
        }
    });
    addr
}

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

/// The result of one candidate on one case: `Ok` when the handshake passed and the
/// greeting arrived.
type Verdict = Result<(), String>;

mod e19 {
    use super::*;
    use embedded_io_adapters::std::FromStd;
    use embedded_tls::blocking::{
        Aes128GcmSha256, Certificate, CryptoProvider, TlsConfig, TlsConnection, TlsContext,
        TlsError, TlsVerifier,
    };
    use embedded_tls::pki::CertVerifier;
    use p256::ecdsa::DerSignature;
    use std::time::SystemTime;
    use tonearm_c3_shell::tls::StrictVerifier;

    pub struct Provider<V> {
        pub verifier: V,
    }

    impl<V: TlsVerifier<Aes128GcmSha256>> CryptoProvider for Provider<V> {
        type CipherSuite = Aes128GcmSha256;
        type Signature = DerSignature;
        fn rng(&mut self) -> impl embedded_tls::CryptoRngCore {
            rand_core::OsRng
        }
        fn verifier(&mut self) -> Result<&mut impl TlsVerifier<Aes128GcmSha256>, TlsError> {
            Ok(&mut self.verifier)
        }
    }

    fn run<V: TlsVerifier<Aes128GcmSha256>>(addr: SocketAddr, host: &str, verifier: V) -> Verdict {
        let mut rx = vec![0u8; 16_640];
        let mut tx = vec![0u8; 4096];
        let config = TlsConfig::new().with_server_name(host);
        let mut tls: TlsConnection<_, Aes128GcmSha256> =
            TlsConnection::new(FromStd::new(connect(addr)), &mut rx, &mut tx);
        tls.open(TlsContext::new(&config, Provider { verifier }))
            .map_err(|e| format!("{e:?}"))?;
        let mut buf = [0u8; 64];
        let n = tls.read(&mut buf).map_err(|e| format!("read {e:?}"))?;
        if buf.get(..n) == Some(GREETING) {
            Ok(())
        } else {
            Err("wrong greeting".into())
        }
    }

    /// embedded-tls 0.19's own verifier, with a clock.
    pub fn plain(addr: SocketAddr, host: &str, root: &[u8]) -> Verdict {
        let v: CertVerifier<'_, Aes128GcmSha256, SystemTime, 4096> =
            CertVerifier::new(Certificate::X509(root));
        run(addr, host, v)
    }

    /// The same, wrapped in the board's strict name and CA checks.
    pub fn strict(addr: SocketAddr, host: &str, root: &[u8]) -> Verdict {
        let v: CertVerifier<'_, Aes128GcmSha256, SystemTime, 4096> =
            CertVerifier::new(Certificate::X509(root));
        run(addr, host, StrictVerifier::new(v))
    }
}

mod e18 {
    use super::*;
    use embedded_io_adapters::std::FromStd;
    use embedded_tls_018::blocking::{
        Aes128GcmSha256, Certificate, CryptoProvider, NoClock, TlsConfig, TlsConnection,
        TlsContext, TlsError, TlsVerifier,
    };
    use embedded_tls_018::pki::CertVerifier;
    use p256::ecdsa::DerSignature;

    /// reqwless 0.14's `Provider` for `TlsVerify::Certificate`, copied: embedded-tls 0.18's
    /// `CertVerifier` with `NoClock`.
    struct Provider {
        verifier: CertVerifier<Aes128GcmSha256, NoClock, 4096>,
    }

    impl CryptoProvider for Provider {
        type CipherSuite = Aes128GcmSha256;
        type Signature = DerSignature;
        fn rng(&mut self) -> impl embedded_tls_018::CryptoRngCore {
            rand_core::OsRng
        }
        fn verifier(&mut self) -> Result<&mut impl TlsVerifier<Aes128GcmSha256>, TlsError> {
            Ok(&mut self.verifier)
        }
    }

    pub fn reqwless(addr: SocketAddr, host: &str, root: &[u8]) -> Verdict {
        let mut rx = vec![0u8; 16_640];
        let mut tx = vec![0u8; 4096];
        let config = TlsConfig::new()
            .with_server_name(host)
            .with_ca(Certificate::X509(root));
        let mut tls: TlsConnection<_, Aes128GcmSha256> =
            TlsConnection::new(FromStd::new(connect(addr)), &mut rx, &mut tx);
        tls.open(TlsContext::new(
            &config,
            Provider {
                verifier: CertVerifier::new(),
            },
        ))
        .map_err(|e| format!("{e:?}"))?;
        let mut buf = [0u8; 64];
        let n = tls.read(&mut buf).map_err(|e| format!("read {e:?}"))?;
        if buf.get(..n) == Some(GREETING) {
            Ok(())
        } else {
            Err("wrong greeting".into())
        }
    }
}

/// rustls with the pure-Rust RustCrypto provider (what `no_std` + alloc would use).
fn rustls_rustcrypto(addr: SocketAddr, host: &str, root: &[u8]) -> Verdict {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from(root.to_vec()))
        .map_err(|e| e.to_string())?;
    let config =
        rustls::ClientConfig::builder_with_provider(Arc::new(rustls_rustcrypto::provider()))
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth();
    let name = ServerName::try_from(host.to_string()).map_err(|e| e.to_string())?;
    let conn = rustls::ClientConnection::new(Arc::new(config), name).map_err(|e| e.to_string())?;
    let mut tls = rustls::StreamOwned::new(conn, connect(addr));
    let mut buf = Vec::new();
    match tls.read_to_end(&mut buf) {
        Ok(_) if buf == GREETING => Ok(()),
        Ok(_) => Err("wrong greeting".into()),
        Err(e) => Err(e.to_string()),
    }
}

type Candidate = fn(SocketAddr, &str, &[u8]) -> Verdict;

const CANDIDATES: [(&str, Candidate); 4] = [
    ("embedded-tls 0.19 pki", e19::plain),
    ("embedded-tls 0.19 + StrictVerifier", e19::strict),
    ("reqwless 0.14 (embedded-tls 0.18)", e18::reqwless),
    ("rustls 0.23 + rustls-rustcrypto", rustls_rustcrypto),
];

/// Runs every candidate on every case; returns the table (case, host, per-candidate
/// verdict) and prints it.
fn results() -> Vec<(&'static str, bool, Vec<bool>)> {
    let pki = pki();
    let cases: [(&str, &Served, &str, bool); 10] = [
        ("good", &pki.good, "api.spike.test", true),
        ("good_exact", &pki.good, "accounts.spike.test", true),
        ("wrong_host", &pki.good, "api.other.test", false),
        ("wildcard_depth", &pki.good, "a.b.spike.test", false),
        ("expired", &pki.expired, "api.spike.test", false),
        ("unknown_root", &pki.unknown_root, "api.spike.test", false),
        ("cn_only", &pki.cn_only, "api.spike.test", false),
        (
            "cn_with_other_san",
            &pki.cn_with_other_san,
            "api.spike.test",
            false,
        ),
        (
            "leaf_as_issuer",
            &pki.leaf_as_issuer,
            "api.spike.test",
            false,
        ),
        (
            "expired_cn_only",
            &pki.expired_cn_only,
            "api.spike.test",
            false,
        ),
    ];
    let mut table = Vec::new();
    println!(
        "{:<18} {:<6} {}",
        "case",
        "want",
        CANDIDATES.map(|(n, _)| format!("{n:<36}")).join("")
    );
    for (name, served, host, want) in cases {
        let addr = serve(served);
        let mut row = Vec::new();
        let mut line = format!("{name:<18} {:<6} ", if want { "pass" } else { "fail" });
        for (_, candidate) in CANDIDATES {
            let v = candidate(addr, host, &pki.root);
            let cell = match &v {
                Ok(()) => "pass".to_string(),
                Err(e) => format!("fail ({})", e.chars().take(28).collect::<String>()),
            };
            let mark = if v.is_ok() == want { "" } else { "  WRONG" };
            line.push_str(&format!("{:<36}", format!("{cell}{mark}")));
            row.push(v.is_ok());
        }
        println!("{line}");
        table.push((name, want, row));
    }
    table
}

#[test]
fn spike() {
    let table = results();
    // Which candidate got every case right.
    let right = |i: usize| table.iter().all(|(_, want, row)| row[i] == *want);
    // The board's choice: embedded-tls 0.19 with the strict wrapper, and rustls.
    assert!(
        right(1),
        "embedded-tls 0.19 + StrictVerifier must pass every case"
    );
    assert!(right(3), "rustls + rustls-rustcrypto must pass every case");
    // What the others get wrong, pinned so a new version that fixes it is noticed.
    let cell = |case: &str, i: usize| {
        table
            .iter()
            .find(|(n, _, _)| *n == case)
            .map(|(_, _, row)| row[i])
            .unwrap()
    };
    // embedded-tls 0.19 alone: right but for the CommonName fallback and the CA flag.
    assert!(cell("good", 0) && cell("good_exact", 0));
    assert!(!cell("wrong_host", 0) && !cell("expired", 0) && !cell("unknown_root", 0));
    assert!(cell("cn_only", 0), "0.19 falls back to the CN without SANs");
    assert!(
        cell("cn_with_other_san", 0),
        "0.19 falls back to the CN even when SANs exist"
    );
    assert!(cell("leaf_as_issuer", 0), "0.19 does not check the CA flag");
    // reqwless 0.14's only verifying mode: no wildcard SAN, no dates.
    assert!(
        !cell("good", 2),
        "reqwless 0.14 cannot verify a wildcard SAN leaf"
    );
    assert!(!cell("unknown_root", 2));
    assert!(cell("cn_only", 2), "reqwless 0.14 matches the CN");
    assert!(
        cell("expired_cn_only", 2),
        "reqwless 0.14 checks no dates (NoClock)"
    );
    assert!(
        !cell("expired_cn_only", 0),
        "0.19 with a clock checks dates"
    );
}
