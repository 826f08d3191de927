//! The record's extra trust anchors (`Settings::roots`, tags 10 and 11): checking that
//! one is a DER X.509 certificate, and naming it the same way everywhere: its subject's
//! CommonName and a short SHA-256 fingerprint (`tonearm provision` prints the name when
//! it writes an anchor, the board's boot log when it loads one, so the two can be
//! compared).
//!
//! Only what naming needs is read here; verifying with the anchor is the TLS verifier's
//! job (`tonearm-kit`).

use core::fmt;

use sha2::{Digest, Sha256};

/// Bytes of the fingerprint shown (the first 8 of the SHA-256 of the DER).
pub const FINGERPRINT_LEN: usize = 8;

/// Why bytes are not a trust anchor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AnchorError {
    /// Not one DER X.509 certificate (PEM must be decoded first; nothing may follow it).
    NotACertificate,
    /// Longer than the record keeps ([`crate::record::ROOT_MAX`] bytes): use a smaller
    /// root (an ECDSA one is about 600 bytes).
    TooLong,
}

impl fmt::Display for AnchorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AnchorError::NotACertificate => f.write_str("not a DER X.509 certificate"),
            AnchorError::TooLong => write!(
                f,
                "longer than the {} bytes the board keeps",
                crate::record::ROOT_MAX
            ),
        }
    }
}

/// A trust anchor's name: its subject CommonName (if it has one in UTF-8, printable or
/// IA5 form) and the start of its SHA-256 fingerprint. `Display`:
/// `"Tonearm Test Root" (SHA-256 1f:2e:...)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnchorName<'a> {
    /// The subject's CommonName.
    pub common_name: Option<&'a str>,
    /// The first [`FINGERPRINT_LEN`] bytes of the SHA-256 of the certificate's DER.
    pub fingerprint: [u8; FINGERPRINT_LEN],
}

impl fmt::Display for AnchorName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.common_name {
            Some(cn) => write!(f, "{:?} (SHA-256 ", cn)?,
            None => f.write_str("(no CommonName) (SHA-256 ")?,
        }
        for (i, b) in self.fingerprint.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{b:02x}")?;
        }
        f.write_str("...)")
    }
}

/// Checks that `der` is one DER certificate of at most [`crate::record::ROOT_MAX`]
/// bytes and names it.
pub fn describe(der: &[u8]) -> Result<AnchorName<'_>, AnchorError> {
    if der.len() > crate::record::ROOT_MAX {
        return Err(AnchorError::TooLong);
    }
    let bad = AnchorError::NotACertificate;
    let (cert, rest) = tlv(der, SEQUENCE).ok_or(bad)?;
    if !rest.is_empty() {
        return Err(bad);
    }
    let (tbs, after_tbs) = tlv(cert, SEQUENCE).ok_or(bad)?;
    // signatureAlgorithm and signatureValue follow the TBSCertificate.
    let (_, after_alg) = tlv(after_tbs, SEQUENCE).ok_or(bad)?;
    let (_, end) = tlv(after_alg, BIT_STRING).ok_or(bad)?;
    if !end.is_empty() {
        return Err(bad);
    }
    let mut fields = tbs;
    if fields.first() == Some(&VERSION) {
        fields = tlv(fields, VERSION).ok_or(bad)?.1;
    }
    fields = tlv(fields, INTEGER).ok_or(bad)?.1; // serialNumber
    for _ in 0..3 {
        fields = tlv(fields, SEQUENCE).ok_or(bad)?.1; // signature, issuer, validity
    }
    let (subject, _) = tlv(fields, SEQUENCE).ok_or(bad)?;
    let digest = Sha256::digest(der);
    let mut fingerprint = [0u8; FINGERPRINT_LEN];
    for (out, b) in fingerprint.iter_mut().zip(digest.iter()) {
        *out = *b;
    }
    Ok(AnchorName {
        common_name: common_name(subject),
        fingerprint,
    })
}

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const INTEGER: u8 = 0x02;
const BIT_STRING: u8 = 0x03;
const OID: u8 = 0x06;
/// `[0] EXPLICIT` in a TBSCertificate: the version.
const VERSION: u8 = 0xa0;
/// 2.5.4.3
const OID_COMMON_NAME: &[u8] = &[0x55, 0x04, 0x03];
/// UTF8String, PrintableString, IA5String.
const TEXT_TAGS: [u8; 3] = [0x0c, 0x13, 0x16];

/// The first CommonName in an RDNSequence's contents, as text.
fn common_name(mut rdns: &[u8]) -> Option<&str> {
    while !rdns.is_empty() {
        let (mut set, rest) = tlv(rdns, SET)?;
        rdns = rest;
        while !set.is_empty() {
            let (attr, rest) = tlv(set, SEQUENCE)?;
            set = rest;
            let (oid, value) = tlv(attr, OID)?;
            if oid == OID_COMMON_NAME {
                let (&tag, _) = value.split_first()?;
                if !TEXT_TAGS.contains(&tag) {
                    return None;
                }
                let (text, _) = tlv(value, tag)?;
                return core::str::from_utf8(text).ok();
            }
        }
    }
    None
}

/// The contents of the DER element at the start of `bytes` if its tag is `tag`, and what
/// follows it; `None` when malformed.
fn tlv(bytes: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (&t, rest) = bytes.split_first()?;
    if t != tag {
        return None;
    }
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 3 {
            return None;
        }
        let (len, after) = rest.split_at_checked(n)?;
        rest = after;
        len.iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b))
    };
    rest.split_at_checked(len)
}

#[cfg(test)]
mod tests {
    use super::*;

    const G2: &[u8] = include_bytes!("../../kit/roots/digicert-global-root-g2.der");
    const G3: &[u8] = include_bytes!("../../kit/roots/digicert-global-root-g3.der");

    #[test]
    fn the_built_in_roots_are_named_as_openssl_fingerprints_them() {
        let g2 = describe(G2).unwrap();
        assert_eq!(g2.common_name, Some("DigiCert Global Root G2"));
        // kit/roots/README.md: CB:3C:CB:B7:60:31:E5:E0:...
        assert_eq!(
            g2.fingerprint,
            [0xcb, 0x3c, 0xcb, 0xb7, 0x60, 0x31, 0xe5, 0xe0]
        );
        assert_eq!(
            g2.to_string(),
            "\"DigiCert Global Root G2\" (SHA-256 cb:3c:cb:b7:60:31:e5:e0...)"
        );
        let g3 = describe(G3).unwrap();
        assert_eq!(g3.common_name, Some("DigiCert Global Root G3"));
        assert_eq!(g3.fingerprint[..2], [0x31, 0xad]);
    }

    #[test]
    fn real_roots_fit_the_record_beside_the_largest_other_fields_and_read_back() {
        use crate::record::{self, RECORD_MAX, Settings};
        assert!(G2.len() + G3.len() <= record::ROOTS_ROOM);
        let token = "r".repeat(record::REFRESH_TOKEN_MAX);
        let settings = Settings {
            ssid: "home",
            refresh_token: &token,
            tz: Some("CET-1CEST,M3.5.0,M10.5.0/3"),
            roots: [Some(G2), Some(G3)],
            ..Settings::default()
        };
        let mut buf = [0u8; RECORD_MAX];
        let n = record::encode(&settings, 1, &mut buf).unwrap();
        let (_, back) = record::decode(&buf[..n]).unwrap();
        assert_eq!(back.roots, [Some(G2), Some(G3)]);
        let names: Vec<_> = back
            .roots
            .iter()
            .flatten()
            .map(|der| describe(der).unwrap().common_name)
            .collect();
        assert_eq!(
            names,
            [
                Some("DigiCert Global Root G2"),
                Some("DigiCert Global Root G3")
            ]
        );
        // The second alone stays second (tags, not positions).
        let second = Settings {
            roots: [None, Some(G3)],
            ..settings
        };
        let n = record::encode(&second, 2, &mut buf).unwrap();
        assert_eq!(record::decode(&buf[..n]).unwrap().1.roots, [None, Some(G3)]);
    }

    #[test]
    fn what_is_not_one_certificate_is_refused() {
        assert_eq!(describe(&[]), Err(AnchorError::NotACertificate));
        assert_eq!(
            describe(b"-----BEGIN CERTIFICATE-----"),
            Err(AnchorError::NotACertificate)
        );
        let mut trailing = G3.to_vec();
        trailing.push(0);
        assert_eq!(describe(&trailing), Err(AnchorError::NotACertificate));
        let two = [G3, G3].concat();
        assert_eq!(describe(&two), Err(AnchorError::NotACertificate));
        assert_eq!(
            describe(&vec![0x30; crate::record::ROOT_MAX + 1]),
            Err(AnchorError::TooLong)
        );
        // Every prefix fails; bit flips never panic.
        for n in 0..G3.len() {
            assert!(describe(&G3[..n]).is_err(), "prefix {n}");
            let mut c = G3.to_vec();
            c[n] ^= 0x41;
            let _ = describe(&c);
        }
    }
}
