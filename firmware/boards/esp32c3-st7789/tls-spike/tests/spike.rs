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
//! Spotify's hosts chain to DigiCert Global Root G2 (RSA-2048, sha256WithRSAEncryption)
//! through an RSA intermediate, and DigiCert's ECC paths use P-384 CAs, so the same
//! server also presents these chains (each with its own root, the one the client trusts):
//!
//! | case | chain and host | must |
//! | --- | --- | --- |
//! | `rsa_good` | RSA-2048 root -> RSA-2048 intermediate -> RSA-2048 leaf (sha256WithRSA), SAN `*.spike.test`; CertificateVerify in the scheme rustls picks (RSA-PSS-SHA512) | pass |
//! | `rsa_pss_sha256` / `_sha384` / `_sha512` | the same, the server held to one RSA-PSS scheme | pass |
//! | `rsa_chain_with_root` | the same, the server also sends the root | pass |
//! | `rsa_ca_p256_leaf` | RSA root -> RSA intermediate -> P-256 leaf | pass |
//! | `rsa_wrong_host` | the RSA leaf, host `api.other.test` | fail |
//! | `rsa_unknown_root` | the same names under another RSA root | fail |
//! | `rsa_bad_signature` | the RSA leaf with one byte of its signature changed | fail |
//! | `rsa_wrong_key` | the RSA chain, CertificateVerify signed by another RSA key | fail |
//! | `ec_p384_ca` | P-384 root -> P-384 intermediate (ecdsa-with-SHA384) -> P-256 leaf | pass |
//! | `ec_p384_leaf` | P-384 all the way (CertificateVerify ECDSA P-384) | pass |
//! | `ec_p384_wrong_key` | the P-384 chain, CertificateVerify signed by another P-384 key | fail |
//!
//! | `ec_leaf_rsa_pss_sha256` / `_sha384` | the P-256 chain, CertificateVerify claims RSA-PSS (signed with an RSA key) | fail (embedded-tls 0.19 alone panics on SHA-256; `StrictVerifier` refuses first) |
//!
//! `digicert_roots` loads the real roots the board builds in (`firmware/kit/roots/*.der`) with
//! embedded-tls and the strict check; `chain_size_limit` pins the largest certificate
//! list the board's `CertVerifier<.., CERT_LIST>` keeps.
//!
//! Candidates: embedded-tls 0.19 `pki::CertVerifier`; the same wrapped in the board's
//! `StrictVerifier` around the kit's `AnchorVerifier` (tonearm-kit's `tls`, exactly the
//! verifier the boards build: `tonearm_kit::https::Verifier` with the host's clock); embedded-tls 0.18's `pki::CertVerifier` with
//! `NoClock` (exactly what reqwless 0.14's `TlsVerify::Certificate` builds; its other
//! modes, `None` and `Psk`, do not check a certificate at all); rustls 0.23 with the
//! pure-Rust rustls-rustcrypto provider and its webpki verifier.
//!
//! `cargo test --target <host> -- --nocapture` prints the table of results; the asserts
//! pin every cell, so a new crate version that changes a verdict fails here.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use std::sync::Mutex;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, date_time_ymd,
};
use rustls::SignatureScheme;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::{CertifiedKey, Signer, SigningKey};

const GREETING: &[u8] = b"hello from the spike server";

/// A chain to serve (leaf first, normally without the root) with the key that signs the
/// CertificateVerify (normally the leaf's), and the one signature scheme the server may
/// use for it (`None`: whichever rustls prefers among those the client offers).
#[derive(Clone)]
struct Served {
    chain: Vec<Vec<u8>>,
    key: Vec<u8>,
    scheme: Option<SignatureScheme>,
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
    rsa_root: Vec<u8>,
    rsa_good: Served,
    rsa_chain_with_root: Served,
    rsa_ca_p256_leaf: Served,
    rsa_unknown_root: Served,
    rsa_bad_signature: Served,
    rsa_wrong_key: Served,
    p384_root: Vec<u8>,
    ec_p384_ca: Served,
    ec_p384_leaf: Served,
    ec_p384_wrong_key: Served,
    ec_leaf_rsa_pss_sha256: Served,
    ec_leaf_rsa_pss_sha384: Served,
}

/// The key types of the test chains.
#[derive(Clone, Copy)]
enum Alg {
    P256,
    P384,
    Rsa2048,
}

/// The certificate list the board's verifier keeps (`CERT_LIST` in `firmware/kit/src/https.rs`).
const CERT_LIST: usize = 8192;

/// A new key; certificates it signs use ecdsa-with-SHA256, ecdsa-with-SHA384 or
/// sha256WithRSAEncryption.
fn key(alg: Alg) -> KeyPair {
    match alg {
        Alg::P256 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap(),
        Alg::P384 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap(),
        Alg::Rsa2048 => {
            // rcgen's ring backend cannot generate RSA keys: the rsa crate does (2048 bits,
            // like DigiCert Global Root G2 and its TLS intermediates), rcgen signs with it.
            use rsa::pkcs8::EncodePrivateKey;
            let k = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 2048).unwrap();
            let der = k.to_pkcs8_der().unwrap();
            KeyPair::from_pkcs8_der_and_sign_algo(
                &PrivatePkcs8KeyDer::from(der.as_bytes()),
                &rcgen::PKCS_RSA_SHA256,
            )
            .unwrap()
        }
    }
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
    /// The intermediate's key (PKCS#8), for `rsa_wrong_key`.
    inter_key: Vec<u8>,
    inter: Issuer<'static, KeyPair>,
}

fn ca(name: &str) -> Ca {
    ca_of(name, Alg::P256, Alg::P256)
}

fn ca_of(name: &str, root_alg: Alg, inter_alg: Alg) -> Ca {
    let root_key = key(root_alg);
    let root_params = ca_params(&format!("{name} root"));
    let root_cert = root_params.self_signed(&root_key).unwrap();
    let root = Issuer::new(root_params, root_key);
    let inter_key = key(inter_alg);
    let inter_params = ca_params(&format!("{name} intermediate"));
    let inter_cert = inter_params.signed_by(&inter_key, &root).unwrap();
    Ca {
        root_der: root_cert.der().to_vec(),
        inter_der: inter_cert.der().to_vec(),
        inter_key: inter_key.serialize_der(),
        inter: Issuer::new(inter_params, inter_key),
    }
}

fn leaf(ca: &Ca, params: CertificateParams) -> Served {
    leaf_of(ca, params, Alg::P256)
}

fn leaf_of(ca: &Ca, params: CertificateParams, alg: Alg) -> Served {
    let key = key(alg);
    let cert = params.signed_by(&key, &ca.inter).unwrap();
    Served {
        chain: vec![cert.der().to_vec(), ca.inter_der.clone()],
        key: key.serialize_der(),
        scheme: None,
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
        scheme: None,
    };

    // RSA, as on Spotify's hosts: RSA-2048 root -> RSA-2048 intermediate -> RSA-2048 leaf.
    let rsa = ca_of("rsa", Alg::Rsa2048, Alg::Rsa2048);
    let rsa_good = leaf_of(
        &rsa,
        leaf_params(&["*.spike.test"], "spike leaf"),
        Alg::Rsa2048,
    );
    let mut rsa_chain_with_root = rsa_good.clone();
    rsa_chain_with_root.chain.push(rsa.root_der.clone());
    let rsa_ca_p256_leaf = leaf_of(
        &rsa,
        leaf_params(&["*.spike.test"], "spike leaf"),
        Alg::P256,
    );
    let rsa_other = ca_of("other rsa", Alg::Rsa2048, Alg::Rsa2048);
    let rsa_unknown_root = leaf_of(
        &rsa_other,
        leaf_params(&["*.spike.test"], "spike leaf"),
        Alg::Rsa2048,
    );
    // The last byte of a certificate is the last byte of its signature.
    let mut rsa_bad_signature = rsa_good.clone();
    *rsa_bad_signature.chain[0].last_mut().unwrap() ^= 0x01;
    // The right chain, but the CertificateVerify signed with a key that is not the leaf's
    // (the other CA's intermediate key: RSA-2048, already made).
    let mut rsa_wrong_key = rsa_good.clone();
    rsa_wrong_key.key = rsa_other.inter_key.clone();

    // DigiCert's ECC paths: P-384 root -> P-384 intermediate -> P-256 (or P-384) leaf.
    let ec = ca_of("p384", Alg::P384, Alg::P384);
    let ec_p384_ca = leaf_of(&ec, leaf_params(&["*.spike.test"], "spike leaf"), Alg::P256);
    let ec_p384_leaf = leaf_of(&ec, leaf_params(&["*.spike.test"], "spike leaf"), Alg::P384);
    let mut ec_p384_wrong_key = ec_p384_leaf.clone();
    ec_p384_wrong_key.key = key(Alg::P384).serialize_der();
    // A P-256 leaf, but the CertificateVerify says RSA-PSS (signed with an RSA key).
    let ec_leaf_rsa_pss_sha256 = Served {
        key: rsa.inter_key.clone(),
        scheme: Some(SignatureScheme::RSA_PSS_SHA256),
        ..good.clone()
    };
    let ec_leaf_rsa_pss_sha384 = Served {
        scheme: Some(SignatureScheme::RSA_PSS_SHA384),
        ..ec_leaf_rsa_pss_sha256.clone()
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
        rsa_root: rsa.root_der,
        rsa_good,
        rsa_chain_with_root,
        rsa_ca_p256_leaf,
        rsa_unknown_root,
        rsa_bad_signature,
        rsa_wrong_key,
        p384_root: ec.root_der,
        ec_p384_ca,
        ec_p384_leaf,
        ec_p384_wrong_key,
        ec_leaf_rsa_pss_sha256,
        ec_leaf_rsa_pss_sha384,
    }
}

/// The served key, held to one signature scheme (when `only` is set), recording the
/// scheme it signs each CertificateVerify with.
#[derive(Debug)]
struct ServerKey {
    key: Arc<dyn SigningKey>,
    only: Option<SignatureScheme>,
    used: Arc<Mutex<Option<SignatureScheme>>>,
}

impl SigningKey for ServerKey {
    fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn Signer>> {
        let signer = match self.only {
            Some(only) if offered.contains(&only) => self.key.choose_scheme(&[only]),
            Some(_) => None,
            None => self.key.choose_scheme(offered),
        }?;
        *self.used.lock().unwrap() = Some(signer.scheme());
        Some(signer)
    }

    fn algorithm(&self) -> rustls::SignatureAlgorithm {
        self.key.algorithm()
    }
}

/// Always the same chain and key (unlike `with_single_cert`, the key need not match the
/// leaf: `rsa_wrong_key`).
#[derive(Debug)]
struct Fixed(Arc<CertifiedKey>);

impl ResolvesServerCert for Fixed {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }
}

/// A TLS 1.3 server on 127.0.0.1 that presents `served` to every connection and writes
/// the greeting after the handshake; also the scheme of its last CertificateVerify.
fn serve(served: &Served) -> (SocketAddr, Arc<Mutex<Option<SignatureScheme>>>) {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let chain = served
        .chain
        .iter()
        .map(|c| CertificateDer::from(c.clone()))
        .collect::<Vec<_>>();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(served.key.clone()));
    let used = Arc::new(Mutex::new(None));
    let key = ServerKey {
        key: provider.key_provider.load_private_key(key).unwrap(),
        only: served.scheme,
        used: used.clone(),
    };
    let certified = CertifiedKey::new(chain, Arc::new(key));
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(Fixed(Arc::new(certified))));
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
    (addr, used)
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
    use embedded_tls::blocking::{Aes128GcmSha256, Certificate, TlsVerifier};
    use embedded_tls::pki::CertVerifier;
    use std::time::SystemTime;
    use tonearm_kit::tls::{AnchorVerifier, StrictVerifier};

    const DIGICERT_G2: &[u8] = include_bytes!("../../../../kit/roots/digicert-global-root-g2.der");
    const DIGICERT_G3: &[u8] = include_bytes!("../../../../kit/roots/digicert-global-root-g3.der");

    /// `authenticated` is checked after `open`, as the board does (see `rogue.rs`).
    fn run<V: TlsVerifier<Aes128GcmSha256>>(
        addr: SocketAddr,
        host: &str,
        verifier: V,
        authenticated: fn(&V) -> bool,
    ) -> Verdict {
        common::open(connect(addr), host, verifier, authenticated, |tls| {
            let mut buf = [0u8; 64];
            let n = tls.read(&mut buf).map_err(|e| format!("read {e:?}"))?;
            if buf.get(..n) == Some(GREETING) {
                Ok(())
            } else {
                Err("wrong greeting".into())
            }
        })
    }

    /// embedded-tls 0.19's own verifier, with a clock.
    pub fn plain(addr: SocketAddr, host: &str, root: &[u8]) -> Verdict {
        let v: CertVerifier<'_, Aes128GcmSha256, SystemTime, CERT_LIST> =
            CertVerifier::new(Certificate::X509(root));
        run(addr, host, v, |_| true)
    }

    /// The kit's verifier (the boards' `tonearm_kit::https::Verifier`, with the host's
    /// clock): the strict name and CA checks around the anchors' verifier. The anchors
    /// are two unrelated real roots first (DigiCert's, built into every board), then the
    /// case's root: the chain must verify up to the third anchor, as it does on a board
    /// that trusts a test root from its settings record.
    pub fn strict(addr: SocketAddr, host: &str, root: &[u8]) -> Verdict {
        let anchors: [&[u8]; 3] = [DIGICERT_G2, DIGICERT_G3, root];
        let v: AnchorVerifier<'_, Aes128GcmSha256, SystemTime, CERT_LIST> =
            AnchorVerifier::new(&anchors);
        run(
            addr,
            host,
            StrictVerifier::new(v),
            StrictVerifier::authenticated,
        )
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
/// verdict) and prints it, with the scheme the server signed the CertificateVerify with
/// for the board's verifier (`-`: no CertificateVerify, the certificate already failed).
fn results() -> Vec<(&'static str, bool, Vec<Verdict>)> {
    let start = std::time::Instant::now();
    let pki = pki();
    println!(
        "pki: the chains (6 RSA-2048 keys) made in {:?}",
        start.elapsed()
    );
    let (ec, rsa, p384) = (&pki.root[..], &pki.rsa_root[..], &pki.p384_root[..]);
    let held = |served: &Served, scheme| Served {
        scheme: Some(scheme),
        ..served.clone()
    };
    let rsa_pss_sha256 = held(&pki.rsa_good, SignatureScheme::RSA_PSS_SHA256);
    let rsa_pss_sha384 = held(&pki.rsa_good, SignatureScheme::RSA_PSS_SHA384);
    let rsa_pss_sha512 = held(&pki.rsa_good, SignatureScheme::RSA_PSS_SHA512);
    let host = "api.spike.test";
    // (case, chain, host, must pass, the root the client trusts)
    let cases: Vec<(&str, &Served, &str, bool, &[u8])> = vec![
        ("good", &pki.good, host, true, ec),
        ("good_exact", &pki.good, "accounts.spike.test", true, ec),
        ("wrong_host", &pki.good, "api.other.test", false, ec),
        ("wildcard_depth", &pki.good, "a.b.spike.test", false, ec),
        ("expired", &pki.expired, host, false, ec),
        ("unknown_root", &pki.unknown_root, host, false, ec),
        ("cn_only", &pki.cn_only, host, false, ec),
        ("cn_with_other_san", &pki.cn_with_other_san, host, false, ec),
        ("leaf_as_issuer", &pki.leaf_as_issuer, host, false, ec),
        ("expired_cn_only", &pki.expired_cn_only, host, false, ec),
        ("rsa_good", &pki.rsa_good, host, true, rsa),
        ("rsa_pss_sha256", &rsa_pss_sha256, host, true, rsa),
        ("rsa_pss_sha384", &rsa_pss_sha384, host, true, rsa),
        ("rsa_pss_sha512", &rsa_pss_sha512, host, true, rsa),
        (
            "rsa_chain_with_root",
            &pki.rsa_chain_with_root,
            host,
            true,
            rsa,
        ),
        ("rsa_ca_p256_leaf", &pki.rsa_ca_p256_leaf, host, true, rsa),
        (
            "rsa_wrong_host",
            &pki.rsa_good,
            "api.other.test",
            false,
            rsa,
        ),
        ("rsa_unknown_root", &pki.rsa_unknown_root, host, false, rsa),
        (
            "rsa_bad_signature",
            &pki.rsa_bad_signature,
            host,
            false,
            rsa,
        ),
        ("rsa_wrong_key", &pki.rsa_wrong_key, host, false, rsa),
        ("ec_p384_ca", &pki.ec_p384_ca, host, true, p384),
        ("ec_p384_leaf", &pki.ec_p384_leaf, host, true, p384),
        (
            "ec_p384_wrong_key",
            &pki.ec_p384_wrong_key,
            host,
            false,
            p384,
        ),
        (
            "ec_leaf_rsa_pss_sha256",
            &pki.ec_leaf_rsa_pss_sha256,
            host,
            false,
            ec,
        ),
        (
            "ec_leaf_rsa_pss_sha384",
            &pki.ec_leaf_rsa_pss_sha384,
            host,
            false,
            ec,
        ),
    ];
    let mut table = Vec::new();
    let mut errors = Vec::new();
    println!(
        "{:<24} {:<6} {}{}",
        "case",
        "want",
        CANDIDATES.map(|(n, _)| format!("{n:<36}")).join(""),
        "server CertificateVerify (board)"
    );
    for (name, served, host, want, root) in cases {
        let (addr, used) = serve(served);
        let mut row = Vec::new();
        let mut line = format!("{name:<24} {:<6} ", if want { "pass" } else { "fail" });
        let mut scheme = String::from("-");
        for (i, (candidate_name, candidate)) in CANDIDATES.into_iter().enumerate() {
            *used.lock().unwrap() = None;
            // A panic (the board: panic = "abort", a reboot) is a verdict of its own.
            let v = std::panic::catch_unwind(|| candidate(addr, host, root)).unwrap_or_else(|p| {
                let msg = p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                Err(format!("PANIC: {msg}"))
            });
            if i == 1 {
                if let Some(s) = *used.lock().unwrap() {
                    scheme = format!("{s:?}");
                }
            }
            let cell = match &v {
                Ok(()) => "pass".to_string(),
                Err(e) => format!("fail ({})", e.chars().take(28).collect::<String>()),
            };
            let mark = if v.is_ok() == want { "" } else { "  WRONG" };
            if let Err(e) = &v {
                errors.push(format!("{name} / {candidate_name}: {e}"));
            }
            line.push_str(&format!("{:<36}", format!("{cell}{mark}")));
            row.push(v);
        }
        println!("{line}{scheme}");
        table.push((name, want, row));
    }
    println!("\nThe errors in full:");
    for e in errors {
        println!("  {e}");
    }
    table
}

#[test]
fn spike() {
    let table = results();
    // Which candidate got every case right.
    let right = |i: usize| table.iter().all(|(_, want, row)| row[i].is_ok() == *want);
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
            .map(|(_, _, row)| row[i].is_ok())
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
    // embedded-tls 0.19 panics (pki.rs: `RsaPublicKey::from_pkcs1_der(..).unwrap()`) when
    // a CertificateVerify says RSA-PSS-SHA256 and the leaf's key is not RSA; SHA-384 and
    // SHA-512 return DecodeError. Only after the chain verified, but the chain is public:
    // a man in the middle can replay a real chain with an ECDSA leaf and crash the board
    // (panic = "abort": a reboot). Pinned so a release that fixes it is noticed.
    let err = |case: &str, i: usize| {
        table
            .iter()
            .find(|(n, _, _)| *n == case)
            .and_then(|(_, _, row)| row[i].clone().err())
            .unwrap_or_default()
    };
    assert!(
        err("ec_leaf_rsa_pss_sha256", 0).starts_with("PANIC"),
        "embedded-tls 0.19 no longer panics on RSA-PSS with a non-RSA leaf"
    );
    // The board's verifier refuses a scheme that does not fit the leaf's key before
    // embedded-tls gets to its unwrap.
    for case in ["ec_leaf_rsa_pss_sha256", "ec_leaf_rsa_pss_sha384"] {
        assert_eq!(err(case, 1), "InvalidSignature", "{case}");
    }
}

/// embedded-tls's error-level log lines, with the thread that wrote them (tests run in
/// parallel): `digicert_roots` reads how far the verifier got.
struct Capture;

static CAPTURED: Mutex<Vec<(std::thread::ThreadId, String)>> = Mutex::new(Vec::new());

impl log::Log for Capture {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        m.level() <= log::Level::Error
    }
    fn log(&self, r: &log::Record<'_>) {
        if self.enabled(r.metadata()) {
            let line = (std::thread::current().id(), r.args().to_string());
            CAPTURED.lock().unwrap().push(line);
        }
    }
    fn flush(&self) {}
}

/// Runs embedded-tls 0.19's `pki::CertVerifier` (the board's, with a clock) on the chain
/// `[cert]` with `ca` as the trusted root: the result and the lines it logged.
fn embedded_tls_verify(ca: &[u8], cert: &[u8]) -> (Result<(), String>, Vec<String>) {
    use embedded_tls::blocking::{Aes128GcmSha256, Certificate, TlsVerifier};
    use embedded_tls::pki::CertVerifier;
    use embedded_tls::{CertificateEntryRef, CertificateRef};
    static LOGGER: Capture = Capture;
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(log::LevelFilter::Error);
    let me = std::thread::current().id();
    CAPTURED.lock().unwrap().retain(|(t, _)| *t != me);
    let mut v: CertVerifier<'_, Aes128GcmSha256, std::time::SystemTime, 4096> =
        CertVerifier::new(Certificate::X509(ca));
    let mut chain = CertificateRef::with_context(&[]);
    chain.add(CertificateEntryRef::X509(cert)).unwrap();
    let result = v
        .set_hostname_verification("api.spotify.com")
        .and_then(|()| v.verify_certificate(&sha2::Sha256::default(), chain))
        .map_err(|e| format!("{e:?}"));
    let lines = CAPTURED
        .lock()
        .unwrap()
        .iter()
        .filter(|(t, _)| *t == me)
        .map(|(_, l)| l.clone())
        .collect();
    (result, lines)
}

/// The real roots the board builds in (`firmware/kit/roots/*.der`; Debian's DigiCert Global Root
/// G2 and G3 when that folder has none) load with the board's code:
///
/// - the strict check reads basicConstraints cA true (`is_ca`);
/// - embedded-tls 0.19 (rustpki, rsa, p384) parses the root, takes its public key and
///   verifies the root's own signature with it (G2: sha256WithRSAEncryption with an
///   RSA-2048 key; G3: ecdsa-with-SHA384 with a P-384 key): given the root as the chain,
///   it gets past every signature and fails only at the name check (logged as
///   "Hostname ... does not match"), while a copy with one signature byte changed fails
///   before it, silently;
/// - rustls (webpki) accepts it as a trust anchor;
/// - each is byte for byte a certificate of Debian's store (`/etc/ssl/certs`).
///
/// Nothing can be signed by these roots here (no private key), so this proves the roots
/// load and their algorithms are supported, not a chain from Spotify.
#[test]
fn digicert_roots() {
    use rustls::pki_types::pem::PemObject;
    use std::path::{Path, PathBuf};
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../kit/roots");
    let mut roots: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "der"))
                .collect::<Vec<PathBuf>>()
        })
        .unwrap_or_default()
        .into_iter()
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect();
    roots.sort();
    if roots.is_empty() {
        println!(
            "digicert_roots: no {}/*.der; Debian's store instead",
            dir.display()
        );
        for name in ["DigiCert_Global_Root_G2", "DigiCert_Global_Root_G3"] {
            let path = format!("/etc/ssl/certs/{name}.pem");
            if let Ok(c) = CertificateDer::from_pem_file(&path) {
                roots.push((path, c.to_vec()));
            }
        }
    }
    if roots.is_empty() {
        println!(
            "digicert_roots: SKIPPED, no roots in firmware/kit/roots/*.der nor /etc/ssl/certs"
        );
        return;
    }
    let store: Vec<Vec<u8>> = std::fs::read_dir("/etc/ssl/certs")
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "pem"))
                .filter_map(|p| CertificateDer::from_pem_file(p).ok())
                .map(|c| c.to_vec())
                .collect()
        })
        .unwrap_or_default();
    for (name, der) in &roots {
        assert_eq!(tonearm_kit::tls::is_ca(der), Ok(true), "{name}: is_ca");

        let (result, log) = embedded_tls_verify(der, der);
        println!(
            "digicert_roots: {name} ({} bytes): {result:?}, {log:?}",
            der.len()
        );
        assert_eq!(result, Err("InvalidCertificate".to_string()), "{name}");
        assert!(
            log.iter().any(|l| l.starts_with("Hostname")),
            "{name}: embedded-tls did not reach the name check (signature or parse failed): {log:?}"
        );
        let mut bad = der.clone();
        *bad.last_mut().unwrap() ^= 0x01;
        let (result, log) = embedded_tls_verify(der, &bad);
        assert!(result.is_err(), "{name}: changed signature accepted");
        assert!(
            !log.iter().any(|l| l.starts_with("Hostname")),
            "{name}: a changed signature reached the name check: {log:?}"
        );

        let mut anchors = rustls::RootCertStore::empty();
        anchors
            .add(CertificateDer::from(der.clone()))
            .unwrap_or_else(|e| panic!("{name}: webpki: {e}"));

        if store.is_empty() {
            println!("digicert_roots: no /etc/ssl/certs to compare {name} with");
        } else {
            assert!(store.contains(der), "{name} is not in /etc/ssl/certs");
        }
    }
}

/// embedded-tls 0.19's `CertVerifier<_, _, _, CERT_SIZE>` keeps the server's whole
/// certificate list (every entry: 3 length bytes, the certificate, 2 bytes of extensions)
/// for the CertificateVerify; the board uses [`CERT_LIST`]. Grows the leaf (more SANs)
/// under the RSA CA until the board's verifier refuses, and pins the limit: a longer list
/// fails with OutOfMemory, after the chain was verified.
#[test]
fn chain_size_limit() {
    let rsa = ca_of("rsa", Alg::Rsa2048, Alg::Rsa2048);
    println!(
        "chain_size_limit: RSA root {} bytes, RSA intermediate {} bytes",
        rsa.root_der.len(),
        rsa.inter_der.len()
    );
    let mut over = false;
    for extra in (0..=400).step_by(40) {
        let mut sans = vec!["*.spike.test".to_string()];
        sans.extend((0..extra).map(|i| format!("host{i:03}.spike.test")));
        let sans: Vec<&str> = sans.iter().map(String::as_str).collect();
        let served = leaf_of(&rsa, leaf_params(&sans, "spike leaf"), Alg::Rsa2048);
        let list: usize = served.chain.iter().map(|c| 3 + c.len() + 2).sum();
        let (addr, _) = serve(&served);
        let v = e19::strict(addr, "api.spike.test", &rsa.root_der);
        println!(
            "chain_size_limit: leaf {} bytes ({} SANs), certificate list {list} bytes: {v:?}",
            served.chain[0].len(),
            sans.len()
        );
        if list <= CERT_LIST {
            assert_eq!(
                v,
                Ok(()),
                "a {list}-byte list must fit CERT_LIST {CERT_LIST}"
            );
        } else {
            over = true;
            assert_eq!(v, Err("OutOfMemory".to_string()), "{list} bytes");
        }
    }
    assert!(over, "the test reached a list over {CERT_LIST} bytes");
}
