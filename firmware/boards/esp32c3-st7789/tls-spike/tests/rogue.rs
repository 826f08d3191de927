//! A hole in embedded-tls 0.19, and the board's check that closes it.
//!
//! embedded-tls 0.19 (`connection.rs`, `process_server_verify`) takes the server's
//! EncryptedExtensions, Certificate, CertificateVerify and Finished in any order and
//! completes the handshake on a valid Finished, whether or not a Certificate and a
//! CertificateVerify came first. The Finished only proves the server took part in the key
//! exchange, which a man in the middle does himself: a server that sends no certificate,
//! or replays Spotify's public chain without a CertificateVerify, is never authenticated,
//! and a client that then sends its request hands its token to it.
//!
//! rustls cannot be made to leave those messages out, so this file has a small TLS 1.3
//! server of its own (P-256 key share, TLS_AES_128_GCM_SHA256, RFC 8446's key schedule),
//! which sends a full, correct handshake (`full`: the control, both must pass), one
//! without CertificateVerify and one without Certificate and CertificateVerify. Embedded-
//! tls 0.19 alone opens all three (pinned: an upgrade that fixes it is noticed); the
//! board's way, `StrictVerifier::authenticated()` checked after `open` (as
//! the kit's `Https::perform` does before it writes a byte), refuses the two forged ones.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, SystemTime};

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes128Gcm, KeyInit, Nonce};
use embedded_tls::blocking::{Aes128GcmSha256, Certificate, TlsVerifier};
use embedded_tls::pki::CertVerifier;
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{DerSignature, SigningKey};
use p256::pkcs8::DecodePrivateKey;
use rand_core::{OsRng, RngCore};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use sha2::{Digest, Sha256};
use tonearm_kit::tls::{AnchorVerifier, StrictVerifier};

/// What the server leaves out.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    Full,
    NoCertificateVerify,
    NoCertificate,
}

/// HKDF-Expand-Label (RFC 8446, 7.1) with SHA-256.
fn expand_label(secret: &[u8], label: &str, context: &[u8], len: usize) -> Vec<u8> {
    let hk = Hkdf::<Sha256>::from_prk(secret).unwrap();
    let label = format!("tls13 {label}");
    let mut info = Vec::new();
    info.extend_from_slice(&u16::try_from(len).unwrap().to_be_bytes());
    info.push(u8::try_from(label.len()).unwrap());
    info.extend_from_slice(label.as_bytes());
    info.push(u8::try_from(context.len()).unwrap());
    info.extend_from_slice(context);
    let mut out = vec![0; len];
    hk.expand(&info, &mut out).unwrap();
    out
}

fn u24(n: usize) -> [u8; 3] {
    let b = u32::try_from(n).unwrap().to_be_bytes();
    [b[1], b[2], b[3]]
}

/// A handshake message: type, 24-bit length, body.
fn message(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![kind];
    m.extend_from_slice(&u24(body.len()));
    m.extend_from_slice(body);
    m
}

/// The ClientHello's legacy session id and P-256 key share.
fn parse_client_hello(msg: &[u8]) -> (Vec<u8>, Vec<u8>) {
    assert_eq!(msg[0], 1, "a ClientHello");
    let b = &msg[4..];
    let mut p = 2 + 32; // version, random
    let sid = b[p + 1..p + 1 + usize::from(b[p])].to_vec();
    p += 1 + sid.len();
    p += 2 + usize::from(u16::from_be_bytes([b[p], b[p + 1]])); // cipher suites
    p += 1 + usize::from(b[p]); // compression methods
    let end = p + 2 + usize::from(u16::from_be_bytes([b[p], b[p + 1]]));
    p += 2;
    while p < end {
        let kind = u16::from_be_bytes([b[p], b[p + 1]]);
        let len = usize::from(u16::from_be_bytes([b[p + 2], b[p + 3]]));
        let ext = &b[p + 4..p + 4 + len];
        if kind == 0x0033 {
            let mut q = 2;
            while q < ext.len() {
                let group = u16::from_be_bytes([ext[q], ext[q + 1]]);
                let klen = usize::from(u16::from_be_bytes([ext[q + 2], ext[q + 3]]));
                if group == 0x0017 {
                    return (sid, ext[q + 4..q + 4 + klen].to_vec());
                }
                q += 4 + klen;
            }
        }
        p += 4 + len;
    }
    panic!("no secp256r1 key share in the ClientHello");
}

/// One handshake as `mode` says, with `chain` (leaf first) and the leaf's PKCS#8 key.
fn handshake(mut s: TcpStream, mode: Mode, chain: &[Vec<u8>], leaf_key: &[u8]) {
    let mut head = [0u8; 5];
    s.read_exact(&mut head).unwrap();
    assert_eq!(head[0], 22, "a handshake record");
    let mut ch = vec![0; usize::from(u16::from_be_bytes([head[3], head[4]]))];
    s.read_exact(&mut ch).unwrap();
    let (sid, client_share) = parse_client_hello(&ch);

    let secret = p256::ecdh::EphemeralSecret::random(&mut OsRng);
    let share = p256::EncodedPoint::from(secret.public_key());
    let client = p256::PublicKey::from_sec1_bytes(&client_share).unwrap();
    let shared = secret.diffie_hellman(&client);

    let mut body = vec![3, 3];
    let mut random = [0u8; 32];
    OsRng.fill_bytes(&mut random);
    body.extend_from_slice(&random);
    body.push(u8::try_from(sid.len()).unwrap());
    body.extend_from_slice(&sid);
    body.extend_from_slice(&[0x13, 0x01, 0]); // TLS_AES_128_GCM_SHA256, no compression
    let mut ext = vec![0x00, 0x2b, 0, 2, 3, 4]; // supported_versions: TLS 1.3
    ext.extend_from_slice(&[0x00, 0x33, 0, 69, 0x00, 0x17, 0, 65]); // key_share
    ext.extend_from_slice(share.as_bytes());
    body.extend_from_slice(&u16::try_from(ext.len()).unwrap().to_be_bytes());
    body.extend_from_slice(&ext);
    let sh = message(2, &body);
    let mut record = vec![22, 3, 3];
    record.extend_from_slice(&u16::try_from(sh.len()).unwrap().to_be_bytes());
    record.extend_from_slice(&sh);
    s.write_all(&record).unwrap();

    let mut transcript = Sha256::new();
    transcript.update(&ch);
    transcript.update(&sh);
    let (early, _) = Hkdf::<Sha256>::extract(Some(&[0u8; 32]), &[0u8; 32]);
    let derived = expand_label(&early, "derived", &Sha256::digest(b""), 32);
    let (hs, _) = Hkdf::<Sha256>::extract(Some(&derived), shared.raw_secret_bytes());
    let traffic = expand_label(&hs, "s hs traffic", &transcript.clone().finalize(), 32);
    let key = expand_label(&traffic, "key", &[], 16);
    let iv = expand_label(&traffic, "iv", &[], 12);
    let cipher = Aes128Gcm::new_from_slice(&key).unwrap();
    let mut seq = 0u64;
    let mut send = |s: &mut TcpStream, msg: &[u8]| {
        let mut inner = msg.to_vec();
        inner.push(22); // the real content type: handshake
        let mut aad = vec![23, 3, 3];
        aad.extend_from_slice(&u16::try_from(inner.len() + 16).unwrap().to_be_bytes());
        let mut nonce = [0u8; 12];
        nonce.copy_from_slice(&iv);
        for (n, b) in nonce[4..].iter_mut().zip(seq.to_be_bytes()) {
            *n ^= b;
        }
        seq += 1;
        let sealed = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: &inner,
                    aad: &aad,
                },
            )
            .unwrap();
        s.write_all(&aad).unwrap();
        s.write_all(&sealed).unwrap();
    };

    let ee = message(8, &[0, 0]);
    transcript.update(&ee);
    send(&mut s, &ee);
    if mode != Mode::NoCertificate {
        let mut list = Vec::new();
        for der in chain {
            list.extend_from_slice(&u24(der.len()));
            list.extend_from_slice(der);
            list.extend_from_slice(&[0, 0]);
        }
        let mut body = vec![0]; // no request context
        body.extend_from_slice(&u24(list.len()));
        body.extend_from_slice(&list);
        let cert = message(11, &body);
        transcript.update(&cert);
        send(&mut s, &cert);
    }
    if mode == Mode::Full {
        let mut content = vec![0x20; 64];
        content.extend_from_slice(b"TLS 1.3, server CertificateVerify\0");
        content.extend_from_slice(&transcript.clone().finalize());
        let signer = SigningKey::from_pkcs8_der(leaf_key).unwrap();
        let sig: DerSignature = signer.sign(&content);
        let mut body = vec![0x04, 0x03]; // ecdsa_secp256r1_sha256
        body.extend_from_slice(&u16::try_from(sig.as_bytes().len()).unwrap().to_be_bytes());
        body.extend_from_slice(sig.as_bytes());
        let cv = message(15, &body);
        transcript.update(&cv);
        send(&mut s, &cv);
    }
    let finished_key = expand_label(&traffic, "finished", &[], 32);
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&finished_key).unwrap();
    mac.update(&transcript.finalize());
    let fin = message(20, &mac.finalize().into_bytes());
    send(&mut s, &fin);
    // The client's Finished and whatever follows; nothing is answered.
    let mut sink = [0u8; 4096];
    while matches!(s.read(&mut sink), Ok(n) if n > 0) {}
}

fn serve(mode: Mode, chain: Vec<Vec<u8>>, leaf_key: Vec<u8>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let (s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        handshake(s, mode, &chain, &leaf_key);
    });
    addr
}

/// Opens a connection with `verifier` the board's way; `Ok` when the handshake completed
/// and `authenticated` says the server was authenticated.
fn open<V: TlsVerifier<Aes128GcmSha256>>(
    addr: SocketAddr,
    verifier: V,
    authenticated: fn(&V) -> bool,
) -> Result<(), String> {
    let stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    common::open(
        stream,
        "api.spike.test",
        verifier,
        authenticated,
        |_| Ok(()),
    )
}

#[test]
fn a_server_that_skips_authentication_is_refused_by_the_board() {
    let root_key = KeyPair::generate().unwrap();
    let mut root_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    root_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let root = root_params.self_signed(&root_key).unwrap();
    let root_der = root.der().to_vec();
    let issuer = Issuer::new(root_params, root_key);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["*.spike.test".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap();
    let chain = vec![leaf.der().to_vec()];
    let key = leaf_key.serialize_der();

    let mut table = Vec::new();
    for mode in [Mode::Full, Mode::NoCertificateVerify, Mode::NoCertificate] {
        let bare = open(
            serve(mode, chain.clone(), key.clone()),
            CertVerifier::<Aes128GcmSha256, SystemTime, 8192>::new(Certificate::X509(&root_der)),
            |_| true,
        );
        let board = open(
            serve(mode, chain.clone(), key.clone()),
            // The boards' verifier (tonearm_kit::https::Verifier, with the host's clock).
            StrictVerifier::new(AnchorVerifier::<Aes128GcmSha256, SystemTime, 8192>::new(&[
                &root_der[..],
            ])),
            StrictVerifier::authenticated,
        );
        println!("{mode:?}: embedded-tls 0.19 alone: {bare:?}; the board: {board:?}");
        table.push((mode, bare, board));
    }
    // The control: the server's full handshake is right, and both accept it.
    assert_eq!(table[0].1, Ok(()), "the full handshake, embedded-tls alone");
    assert_eq!(table[0].2, Ok(()), "the full handshake, the board");
    for (mode, bare, board) in &table[1..] {
        // The hole, pinned: embedded-tls 0.19 completes the handshake.
        assert_eq!(
            bare,
            &Ok(()),
            "{mode:?}: embedded-tls no longer completes it (fixed upstream?)"
        );
        assert_eq!(
            board,
            &Err("not authenticated".to_string()),
            "{mode:?}: the board must refuse"
        );
    }
}
