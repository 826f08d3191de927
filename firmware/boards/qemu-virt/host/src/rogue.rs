//! A man in the middle who replays a chain the board trusts but cannot sign with its
//! key: a TLS 1.3 server of its own (P-256 key share, TLS_AES_128_GCM_SHA256, RFC 8446's
//! key schedule) that sends EncryptedExtensions, the Certificate and a valid Finished,
//! and no CertificateVerify. Ported from the TLS spike (`tls-spike/tests/rogue.rs`).
//! embedded-tls 0.19 completes such a handshake; the kit must not send a byte of the
//! request then. What the board sends after the handshake is counted in TLS records.

use std::io::{Read, Write};

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes128Gcm, KeyInit, Nonce};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};

/// HKDF-Expand-Label (RFC 8446, 7.1) with SHA-256.
fn expand_label(secret: &[u8], label: &str, context: &[u8], len: usize) -> Option<Vec<u8>> {
    let hk = Hkdf::<Sha256>::from_prk(secret).ok()?;
    let label = format!("tls13 {label}");
    let mut info = Vec::new();
    info.extend_from_slice(&u16::try_from(len).ok()?.to_be_bytes());
    info.push(u8::try_from(label.len()).ok()?);
    info.extend_from_slice(label.as_bytes());
    info.push(u8::try_from(context.len()).ok()?);
    info.extend_from_slice(context);
    let mut out = vec![0; len];
    hk.expand(&info, &mut out).ok()?;
    Some(out)
}

fn u24(n: usize) -> [u8; 3] {
    let b = u32::try_from(n).unwrap_or(0).to_be_bytes();
    [b[1], b[2], b[3]]
}

fn message(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![kind];
    m.extend_from_slice(&u24(body.len()));
    m.extend_from_slice(body);
    m
}

/// The ClientHello's legacy session id and P-256 key share.
fn parse_client_hello(msg: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    if *msg.first()? != 1 {
        return None;
    }
    let b = msg.get(4..)?;
    let mut p = 2 + 32;
    let sid_len = usize::from(*b.get(p)?);
    let sid = b.get(p + 1..p + 1 + sid_len)?.to_vec();
    p += 1 + sid_len;
    p += 2 + usize::from(u16::from_be_bytes([*b.get(p)?, *b.get(p + 1)?]));
    p += 1 + usize::from(*b.get(p)?);
    let end = p + 2 + usize::from(u16::from_be_bytes([*b.get(p)?, *b.get(p + 1)?]));
    p += 2;
    while p < end {
        let kind = u16::from_be_bytes([*b.get(p)?, *b.get(p + 1)?]);
        let len = usize::from(u16::from_be_bytes([*b.get(p + 2)?, *b.get(p + 3)?]));
        let ext = b.get(p + 4..p + 4 + len)?;
        if kind == 0x0033 {
            let mut q = 2;
            while q + 4 <= ext.len() {
                let group = u16::from_be_bytes([ext[q], ext[q + 1]]);
                let klen = usize::from(u16::from_be_bytes([ext[q + 2], ext[q + 3]]));
                if group == 0x0017 {
                    return Some((sid, ext.get(q + 4..q + 4 + klen)?.to_vec()));
                }
                q += 4 + klen;
            }
        }
        p += 4 + len;
    }
    None
}

/// Runs the rogue handshake on `s` with `chain` (leaf first); returns how many TLS
/// records the client sent after the server's flight (its Finished is one).
pub fn handshake<S: Read + Write>(mut s: S, chain: &[Vec<u8>]) -> usize {
    run(&mut s, chain).unwrap_or(0)
}

fn run<S: Read + Write>(s: &mut S, chain: &[Vec<u8>]) -> Option<usize> {
    let mut head = [0u8; 5];
    s.read_exact(&mut head).ok()?;
    if head[0] != 22 {
        return None;
    }
    let mut ch = vec![0; usize::from(u16::from_be_bytes([head[3], head[4]]))];
    s.read_exact(&mut ch).ok()?;
    let (sid, client_share) = parse_client_hello(&ch)?;

    let secret = p256::ecdh::EphemeralSecret::random(&mut OsRng);
    let share = p256::EncodedPoint::from(secret.public_key());
    let client = p256::PublicKey::from_sec1_bytes(&client_share).ok()?;
    let shared = secret.diffie_hellman(&client);

    let mut body = vec![3, 3];
    let mut random = [0u8; 32];
    OsRng.fill_bytes(&mut random);
    body.extend_from_slice(&random);
    body.push(u8::try_from(sid.len()).ok()?);
    body.extend_from_slice(&sid);
    body.extend_from_slice(&[0x13, 0x01, 0]);
    let mut ext = vec![0x00, 0x2b, 0, 2, 3, 4];
    ext.extend_from_slice(&[0x00, 0x33, 0, 69, 0x00, 0x17, 0, 65]);
    ext.extend_from_slice(share.as_bytes());
    body.extend_from_slice(&u16::try_from(ext.len()).ok()?.to_be_bytes());
    body.extend_from_slice(&ext);
    let sh = message(2, &body);
    let mut record = vec![22, 3, 3];
    record.extend_from_slice(&u16::try_from(sh.len()).ok()?.to_be_bytes());
    record.extend_from_slice(&sh);
    s.write_all(&record).ok()?;

    let mut transcript = Sha256::new();
    transcript.update(&ch);
    transcript.update(&sh);
    let (early, _) = Hkdf::<Sha256>::extract(Some(&[0u8; 32]), &[0u8; 32]);
    let derived = expand_label(&early, "derived", &Sha256::digest(b""), 32)?;
    let (hs, _) = Hkdf::<Sha256>::extract(Some(&derived), shared.raw_secret_bytes());
    let traffic = expand_label(&hs, "s hs traffic", &transcript.clone().finalize(), 32)?;
    let key = expand_label(&traffic, "key", &[], 16)?;
    let iv = expand_label(&traffic, "iv", &[], 12)?;
    let cipher = Aes128Gcm::new_from_slice(&key).ok()?;
    let mut seq = 0u64;
    let mut send = |s: &mut S, msg: &[u8]| -> Option<()> {
        let mut inner = msg.to_vec();
        inner.push(22);
        let mut aad = vec![23, 3, 3];
        aad.extend_from_slice(&u16::try_from(inner.len() + 16).ok()?.to_be_bytes());
        let mut nonce = [0u8; 12];
        nonce.copy_from_slice(&iv);
        for (n, b) in nonce[4..].iter_mut().zip(seq.to_be_bytes()) {
            *n ^= b;
        }
        seq += 1;
        let sealed = cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: &inner,
                    aad: &aad,
                },
            )
            .ok()?;
        s.write_all(&aad).ok()?;
        s.write_all(&sealed).ok()
    };

    let ee = message(8, &[0, 0]);
    transcript.update(&ee);
    send(s, &ee)?;
    let mut list = Vec::new();
    for der in chain {
        list.extend_from_slice(&u24(der.len()));
        list.extend_from_slice(der);
        list.extend_from_slice(&[0, 0]);
    }
    let mut body = vec![0];
    body.extend_from_slice(&u24(list.len()));
    body.extend_from_slice(&list);
    let cert = message(11, &body);
    transcript.update(&cert);
    send(s, &cert)?;
    // No CertificateVerify.
    let finished_key = expand_label(&traffic, "finished", &[], 32)?;
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&finished_key).ok()?;
    mac.update(&transcript.finalize());
    let fin = message(20, &mac.finalize().into_bytes());
    send(s, &fin)?;
    // Count the client's records (change_cipher_spec not counted) until it closes.
    let mut records = 0;
    loop {
        let mut head = [0u8; 5];
        if s.read_exact(&mut head).is_err() {
            break;
        }
        let mut body = vec![0; usize::from(u16::from_be_bytes([head[3], head[4]]))];
        if s.read_exact(&mut body).is_err() {
            break;
        }
        if head[0] != 20 {
            records += 1;
        }
    }
    Some(records)
}
