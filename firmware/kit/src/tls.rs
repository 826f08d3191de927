//! The strict half of certificate verification: the server's name must be in the leaf's
//! subjectAltName (the CommonName is never used), and every certificate above the leaf
//! must be a CA.
//!
//! embedded-tls 0.19's `pki::CertVerifier` checks the signatures up the chain to one
//! trusted root, the validity dates (with a clock) and the CertificateVerify signature,
//! but its name check falls back to the CommonName even when the certificate has
//! subjectAltNames (and only looks at the first three of those), and it does not check
//! that an issuer is a CA. [`StrictVerifier`] wraps it and adds both checks, so a name
//! check never passes on a CommonName and a leaf cannot sign another leaf.
//! `tls-spike/tests/spike.rs` runs both against a loopback server.
//!
//! It also closes a hole in embedded-tls 0.19: its handshake accepts the server's
//! Finished without a Certificate and a CertificateVerify having come first, so a man in
//! the middle who simply sends neither is never checked at all. [`StrictVerifier`]
//! remembers whether a CertificateVerify over a verified chain passed
//! ([`StrictVerifier::authenticated`]); the board sends nothing on a connection where it
//! did not.
//!
//! And it guards a panic in embedded-tls 0.19: its `verify_signature` unwraps the
//! leaf's key as an RSA key when the server's CertificateVerify says RSA-PSS-SHA256, so
//! a man in the middle replaying a real chain with an ECDSA leaf could reboot the board.
//! [`StrictVerifier`] only passes on a CertificateVerify whose scheme fits the leaf's key
//! ([`public_key`], [`KeyKind::fits`]), and an RSA key only once it has decoded.
//!
//! The DER walking here reads only what it needs and never panics: a certificate it
//! cannot read fails the check.

/// A DER element: its tag and contents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Tlv<'a> {
    tag: u8,
    value: &'a [u8],
}

/// Reads DER elements one after the other from a slice.
#[derive(Debug, Clone, Copy)]
struct Der<'a> {
    rest: &'a [u8],
}

impl<'a> Der<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Der { rest: bytes }
    }

    fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// The next element; `None` when the input is malformed or ends.
    fn next(&mut self) -> Option<Tlv<'a>> {
        let (&tag, rest) = self.rest.split_first()?;
        if tag & 0x1f == 0x1f {
            return None; // high tag numbers do not occur in the fields read here
        }
        let (&first, mut rest) = rest.split_first()?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 4 {
                return None;
            }
            let (bytes, after) = rest.split_at_checked(n)?;
            rest = after;
            bytes.iter().try_fold(0usize, |acc, &b| {
                acc.checked_mul(256)?.checked_add(usize::from(b))
            })?
        };
        let (value, after) = rest.split_at_checked(len)?;
        self.rest = after;
        Some(Tlv { tag, value })
    }

    /// The next element, which must have `tag`.
    fn expect(&mut self, tag: u8) -> Option<&'a [u8]> {
        let tlv = self.next()?;
        (tlv.tag == tag).then_some(tlv.value)
    }
}

const SEQUENCE: u8 = 0x30;
const INTEGER: u8 = 0x02;
const BIT_STRING: u8 = 0x03;
/// `[0] EXPLICIT` in a TBSCertificate: the version.
const VERSION: u8 = 0xa0;
/// 1.2.840.113549.1.1.1
const OID_RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
/// 1.2.840.10045.2.1
const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
/// 1.2.840.10045.3.1.7 (secp256r1)
const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/// 1.3.132.0.34 (secp384r1)
const OID_P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
const OCTET_STRING: u8 = 0x04;
const BOOLEAN: u8 = 0x01;
const OID: u8 = 0x06;
/// `[3] EXPLICIT` in a TBSCertificate: the extensions.
const EXTENSIONS: u8 = 0xa3;
/// `dNSName [2] IMPLICIT IA5String` in a GeneralName.
const DNS_NAME: u8 = 0x82;
/// 2.5.29.17
const OID_SUBJECT_ALT_NAME: &[u8] = &[0x55, 0x1d, 0x11];
/// 2.5.29.19
const OID_BASIC_CONSTRAINTS: &[u8] = &[0x55, 0x1d, 0x13];

/// Why a certificate fails the strict check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NameError {
    /// The certificate could not be read.
    Malformed,
    /// The leaf has no subjectAltName with DNS names (a CommonName is not enough).
    NoSubjectAltName,
    /// No DNS name of the leaf matches the host.
    Mismatch,
    /// A certificate above the leaf is not a CA (basicConstraints cA is not true).
    NotACa,
    /// The chain is empty or holds something other than X.509 certificates.
    NoCertificate,
}

impl core::fmt::Display for NameError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            NameError::Malformed => "certificate could not be read",
            NameError::NoSubjectAltName => "leaf certificate has no subjectAltName DNS names",
            NameError::Mismatch => "host name does not match the certificate",
            NameError::NotACa => "an issuing certificate is not a CA",
            NameError::NoCertificate => "no X.509 certificate in the chain",
        })
    }
}

/// The fields of a DER certificate's TBSCertificate, one after the other.
fn tbs_fields(cert: &[u8]) -> Result<Der<'_>, NameError> {
    let cert = Der::new(cert)
        .expect(SEQUENCE)
        .ok_or(NameError::Malformed)?;
    let tbs = Der::new(cert)
        .expect(SEQUENCE)
        .ok_or(NameError::Malformed)?;
    Ok(Der::new(tbs))
}

/// The value (inside the OCTET STRING) of the extension `oid` of a DER certificate;
/// `Ok(None)` if the certificate has no such extension.
fn extension<'a>(cert: &'a [u8], oid: &[u8]) -> Result<Option<&'a [u8]>, NameError> {
    let m = NameError::Malformed;
    let mut fields = tbs_fields(cert)?;
    while let Some(field) = fields.next() {
        if field.tag != EXTENSIONS {
            continue;
        }
        let list = Der::new(field.value).expect(SEQUENCE).ok_or(m)?;
        let mut exts = Der::new(list);
        while !exts.is_empty() {
            let ext = exts.expect(SEQUENCE).ok_or(m)?;
            let mut parts = Der::new(ext);
            let id = parts.expect(OID).ok_or(m)?;
            let mut next = parts.next().ok_or(m)?;
            if next.tag == BOOLEAN {
                next = parts.next().ok_or(m)?; // `critical`
            }
            if next.tag != OCTET_STRING {
                return Err(m);
            }
            if id == oid {
                return Ok(Some(next.value));
            }
        }
        return Ok(None);
    }
    if fields.is_empty() { Ok(None) } else { Err(m) }
}

/// The kind of public key a certificate holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyKind {
    /// rsaEncryption.
    Rsa,
    /// id-ecPublicKey on secp256r1.
    EcP256,
    /// id-ecPublicKey on secp384r1.
    EcP384,
    /// Anything else (or a key that cannot be used): no signature scheme fits.
    Other,
}

/// The TLS 1.3 CertificateVerify schemes the board's verifier checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Scheme {
    /// rsa_pss_rsae_sha256, _sha384, _sha512.
    RsaPss,
    /// ecdsa_secp256r1_sha256.
    EcdsaP256,
    /// ecdsa_secp384r1_sha384.
    EcdsaP384,
    /// Anything else.
    Other,
}

impl KeyKind {
    /// Whether a CertificateVerify with `scheme` can have been made with this key.
    pub fn fits(self, scheme: Scheme) -> bool {
        matches!(
            (self, scheme),
            (KeyKind::Rsa, Scheme::RsaPss)
                | (KeyKind::EcP256, Scheme::EcdsaP256)
                | (KeyKind::EcP384, Scheme::EcdsaP384)
        )
    }
}

/// The subjectPublicKeyInfo of a DER certificate: the key's kind and its bits (the BIT
/// STRING's contents; for RSA the PKCS#1 `RSAPublicKey`, for EC the SEC1 point).
pub fn public_key(cert: &[u8]) -> Result<(KeyKind, &[u8]), NameError> {
    let m = NameError::Malformed;
    let mut fields = tbs_fields(cert)?;
    let mut serial = fields.next().ok_or(m)?;
    if serial.tag == VERSION {
        serial = fields.next().ok_or(m)?;
    }
    if serial.tag != INTEGER {
        return Err(m);
    }
    // signature, issuer, validity, subject
    for _ in 0..4 {
        fields.expect(SEQUENCE).ok_or(m)?;
    }
    let mut spki = Der::new(fields.expect(SEQUENCE).ok_or(m)?);
    let mut algorithm = Der::new(spki.expect(SEQUENCE).ok_or(m)?);
    let bits = spki.expect(BIT_STRING).ok_or(m)?;
    let key = match bits.split_first() {
        Some((0, key)) => key,
        _ => return Err(m), // a key is whole bytes
    };
    let kind = match algorithm.expect(OID).ok_or(m)? {
        OID_RSA_ENCRYPTION => KeyKind::Rsa,
        OID_EC_PUBLIC_KEY => match algorithm.next() {
            Some(Tlv {
                tag: OID,
                value: OID_P256,
            }) => KeyKind::EcP256,
            Some(Tlv {
                tag: OID,
                value: OID_P384,
            }) => KeyKind::EcP384,
            _ => KeyKind::Other,
        },
        _ => KeyKind::Other,
    };
    Ok((kind, key))
}

/// The issuer and the subject of a DER certificate: the contents of their Name
/// SEQUENCEs, byte for byte (how a chain's top is matched to its trust anchor).
pub fn issuer_and_subject(cert: &[u8]) -> Result<(&[u8], &[u8]), NameError> {
    let m = NameError::Malformed;
    let mut fields = tbs_fields(cert)?;
    let mut serial = fields.next().ok_or(m)?;
    if serial.tag == VERSION {
        serial = fields.next().ok_or(m)?;
    }
    if serial.tag != INTEGER {
        return Err(m);
    }
    fields.expect(SEQUENCE).ok_or(m)?; // signature
    let issuer = fields.expect(SEQUENCE).ok_or(m)?;
    fields.expect(SEQUENCE).ok_or(m)?; // validity
    let subject = fields.expect(SEQUENCE).ok_or(m)?;
    Ok((issuer, subject))
}

/// Calls `f` with each dNSName of the certificate's subjectAltName; `Ok(false)` if it
/// has none.
pub fn for_each_dns_name(cert: &[u8], mut f: impl FnMut(&[u8])) -> Result<bool, NameError> {
    let Some(san) = extension(cert, OID_SUBJECT_ALT_NAME)? else {
        return Ok(false);
    };
    let names = Der::new(san).expect(SEQUENCE).ok_or(NameError::Malformed)?;
    let mut names = Der::new(names);
    let mut any = false;
    while !names.is_empty() {
        let name = names.next().ok_or(NameError::Malformed)?;
        if name.tag == DNS_NAME {
            any = true;
            f(name.value);
        }
    }
    Ok(any)
}

/// Whether the certificate says it is a CA (basicConstraints with cA true).
pub fn is_ca(cert: &[u8]) -> Result<bool, NameError> {
    let Some(bc) = extension(cert, OID_BASIC_CONSTRAINTS)? else {
        return Ok(false);
    };
    let body = Der::new(bc).expect(SEQUENCE).ok_or(NameError::Malformed)?;
    match Der::new(body).next() {
        Some(Tlv {
            tag: BOOLEAN,
            value: [v],
        }) => Ok(*v != 0),
        _ => Ok(false), // cA absent: DEFAULT FALSE
    }
}

/// RFC 6125 matching of a presented DNS name (`pattern`) against the host: ASCII case
/// does not matter; a wildcard is only a whole leftmost label (`*.example.com`), matches
/// exactly one label, and needs at least two labels after it. Anything that is not a
/// plain LDH name (IDNs must be in their `xn--` form) does not match.
pub fn name_matches(pattern: &[u8], host: &[u8]) -> bool {
    let host = host.strip_suffix(b".").unwrap_or(host);
    if !is_ldh_name(host) {
        return false;
    }
    if let Some(suffix) = pattern.strip_prefix(b"*.") {
        if !is_ldh_name(suffix) || suffix.iter().filter(|&&b| b == b'.').count() < 1 {
            return false;
        }
        match host.iter().position(|&b| b == b'.') {
            Some(dot) => host
                .get(dot + 1..)
                .is_some_and(|rest| rest.eq_ignore_ascii_case(suffix)),
            None => false,
        }
    } else {
        is_ldh_name(pattern) && pattern.eq_ignore_ascii_case(host)
    }
}

/// Letters, digits and hyphens in non-empty dot-separated labels of at most 63 bytes.
fn is_ldh_name(name: &[u8]) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split(|&b| b == b'.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
        })
}

/// The strict check of a chain as the server sent it (leaf first, DER certificates):
/// `host` must match a subjectAltName DNS name of the leaf, and every later certificate
/// must be a CA. Signatures and dates are the wrapped verifier's job.
pub fn check_chain<'a>(
    host: &[u8],
    mut chain: impl Iterator<Item = Option<&'a [u8]>>,
) -> Result<(), NameError> {
    let leaf = chain.next().flatten().ok_or(NameError::NoCertificate)?;
    let mut matched = false;
    let any = for_each_dns_name(leaf, |name| matched |= name_matches(name, host))?;
    if !any {
        return Err(NameError::NoSubjectAltName);
    }
    if !matched {
        return Err(NameError::Mismatch);
    }
    for issuer in chain {
        if !is_ca(issuer.ok_or(NameError::NoCertificate)?)? {
            return Err(NameError::NotACa);
        }
    }
    Ok(())
}

#[cfg(feature = "net")]
pub use verifier::{AnchorVerifier, StrictVerifier};

#[cfg(feature = "net")]
mod verifier {
    use embedded_tls::pki::CertVerifier;
    use embedded_tls::{
        Certificate, CertificateEntryRef, CertificateRef, CertificateVerifyRef, SignatureScheme,
        TlsCipherSuite, TlsClock, TlsError, TlsVerifier,
    };

    use super::{KeyKind, Scheme};

    /// Longest host name (RFC 1035).
    const HOST_MAX: usize = 253;

    /// Wraps an embedded-tls verifier (`pki::CertVerifier`: signatures to the root,
    /// dates, CertificateVerify) and adds [`check_chain`](super::check_chain): the name
    /// only from subjectAltName, issuers only CAs. Without a host name set, every
    /// certificate fails: this verifier never skips the name check. A CertificateVerify
    /// whose scheme does not fit the verified leaf's key fails here, before embedded-tls
    /// sees it (see the module docs).
    #[derive(Debug)]
    pub struct StrictVerifier<V> {
        inner: V,
        host: [u8; HOST_MAX],
        host_len: usize,
        /// The verified leaf's key; `Other` until a chain has verified, and again once a
        /// CertificateVerify has used it.
        leaf_key: KeyKind,
        /// A CertificateVerify over the verified chain passed in this handshake.
        authenticated: bool,
    }

    impl<V> StrictVerifier<V> {
        /// Adds the strict checks to `inner`.
        pub fn new(inner: V) -> Self {
            StrictVerifier {
                inner,
                host: [0; HOST_MAX],
                host_len: 0,
                leaf_key: KeyKind::Other,
                authenticated: false,
            }
        }

        /// Whether the server proved it holds the key of a certificate that verified for
        /// the host: a chain verified and then its CertificateVerify did. embedded-tls
        /// 0.19 completes a handshake that has neither, so check this after `open` and
        /// send nothing when it is false.
        pub fn authenticated(&self) -> bool {
            self.authenticated
        }
    }

    impl<CS: TlsCipherSuite, V: TlsVerifier<CS>> TlsVerifier<CS> for StrictVerifier<V> {
        fn set_hostname_verification(&mut self, hostname: &str) -> Result<(), TlsError> {
            let bytes = hostname.as_bytes();
            let slot = self
                .host
                .get_mut(..bytes.len())
                .ok_or(TlsError::InsufficientSpace)?;
            slot.copy_from_slice(bytes);
            self.host_len = bytes.len();
            // A new handshake starts: nothing is authenticated yet.
            self.leaf_key = KeyKind::Other;
            self.authenticated = false;
            self.inner.set_hostname_verification(hostname)
        }

        fn verify_certificate(
            &mut self,
            transcript: &CS::Hash,
            cert: CertificateRef<'_>,
        ) -> Result<(), TlsError> {
            let host = self.host.get(..self.host_len).unwrap_or_default();
            let chain = cert.entries.iter().map(|e| match e {
                CertificateEntryRef::X509(der) => Some(*der),
                CertificateEntryRef::RawPublicKey(_) => None,
            });
            self.leaf_key = KeyKind::Other;
            self.authenticated = false;
            super::check_chain(host, chain).map_err(|_| TlsError::InvalidCertificate)?;
            let leaf = match cert.entries.first() {
                Some(CertificateEntryRef::X509(der)) => *der,
                _ => return Err(TlsError::InvalidCertificate),
            };
            let (kind, key) = super::public_key(leaf).map_err(|_| TlsError::InvalidCertificate)?;
            self.inner.verify_certificate(transcript, cert)?;
            self.leaf_key = match kind {
                KeyKind::Rsa if !rsa_key_decodes(key) => KeyKind::Other,
                kind => kind,
            };
            Ok(())
        }

        fn verify_signature(&mut self, verify: CertificateVerifyRef<'_>) -> Result<(), TlsError> {
            let scheme = match verify.signature_scheme {
                SignatureScheme::RsaPssRsaeSha256
                | SignatureScheme::RsaPssRsaeSha384
                | SignatureScheme::RsaPssRsaeSha512 => Scheme::RsaPss,
                SignatureScheme::EcdsaSecp256r1Sha256 => Scheme::EcdsaP256,
                SignatureScheme::EcdsaSecp384r1Sha384 => Scheme::EcdsaP384,
                _ => Scheme::Other,
            };
            // The leaf's key serves one CertificateVerify: a second one (or one without
            // a Certificate before it) finds no key and fails here.
            let key = core::mem::replace(&mut self.leaf_key, KeyKind::Other);
            if !key.fits(scheme) {
                return Err(TlsError::InvalidSignature);
            }
            self.inner.verify_signature(verify)?;
            self.authenticated = true;
            Ok(())
        }
    }

    /// embedded-tls 0.19's `pki::CertVerifier` (signatures up to a root, dates with the
    /// clock `CLK`, the CertificateVerify) over several trust anchors: the chain must
    /// verify up to one of them. `pki::CertVerifier` trusts exactly one root, so this
    /// picks the anchor whose subject is byte for byte the issuer of the chain's top
    /// certificate (the first such anchor, should two share a name) and verifies once
    /// with it. Always wrapped in [`StrictVerifier`], which adds the checks
    /// `pki::CertVerifier` lacks.
    ///
    /// `CERT` bounds the certificate list kept for the CertificateVerify (a longer list
    /// fails the handshake); the verifier is about `CERT` bytes large.
    pub struct AnchorVerifier<'a, CS: TlsCipherSuite, CLK: TlsClock, const CERT: usize> {
        anchors: &'a [&'a [u8]],
        host: heapless::String<HOST_MAX>,
        /// The verifier of the anchor that verified the chain, once one has.
        verified: Option<CertVerifier<'a, CS, CLK, CERT>>,
        /// Which anchor that is.
        anchor: Option<usize>,
    }

    impl<'a, CS: TlsCipherSuite, CLK: TlsClock, const CERT: usize> AnchorVerifier<'a, CS, CLK, CERT> {
        /// Trusts `anchors` (DER certificates); with none, every chain fails.
        pub fn new(anchors: &'a [&'a [u8]]) -> Self {
            AnchorVerifier {
                anchors,
                host: heapless::String::new(),
                verified: None,
                anchor: None,
            }
        }

        /// The index in `anchors` of the anchor the server's chain verified up to.
        pub fn anchor(&self) -> Option<usize> {
            self.anchor
        }
    }

    impl<CS: TlsCipherSuite, CLK: TlsClock, const CERT: usize> TlsVerifier<CS>
        for AnchorVerifier<'_, CS, CLK, CERT>
    {
        fn set_hostname_verification(&mut self, hostname: &str) -> Result<(), TlsError> {
            self.host =
                heapless::String::try_from(hostname).map_err(|_| TlsError::InsufficientSpace)?;
            self.verified = None;
            self.anchor = None;
            Ok(())
        }

        fn verify_certificate(
            &mut self,
            transcript: &CS::Hash,
            cert: CertificateRef<'_>,
        ) -> Result<(), TlsError> {
            self.verified = None;
            self.anchor = None;
            // The anchor whose subject is the issuer of the top of the chain (the
            // intermediate, or the root itself when the server sends it): one
            // verification with the anchor the chain names, never a guess with the
            // others (a key of another type than the signature's is not tried).
            let top = match cert.entries.last() {
                Some(CertificateEntryRef::X509(der)) => *der,
                _ => return Err(TlsError::InvalidCertificate),
            };
            let (issuer, _) =
                super::issuer_and_subject(top).map_err(|_| TlsError::InvalidCertificate)?;
            let (i, anchor) = self
                .anchors
                .iter()
                .enumerate()
                .find(|(_, a)| super::issuer_and_subject(a).is_ok_and(|(_, s)| s == issuer))
                .ok_or(TlsError::InvalidCertificate)?;
            let v = self
                .verified
                .insert(CertVerifier::new(Certificate::X509(anchor)));
            v.set_hostname_verification(&self.host)?;
            match v.verify_certificate(transcript, cert) {
                Ok(()) => {
                    self.anchor = Some(i);
                    Ok(())
                }
                Err(e) => {
                    // No half-set verifier left behind (its `verify_signature` would
                    // unwrap a transcript it never got).
                    self.verified = None;
                    Err(e)
                }
            }
        }

        fn verify_signature(&mut self, verify: CertificateVerifyRef<'_>) -> Result<(), TlsError> {
            match (self.anchor, self.verified.as_mut()) {
                (Some(_), Some(v)) => v.verify_signature(verify),
                _ => Err(TlsError::InvalidSignature),
            }
        }
    }

    /// Whether embedded-tls can decode this PKCS#1 key: the very call it unwraps.
    #[cfg(feature = "rsa")]
    fn rsa_key_decodes(key: &[u8]) -> bool {
        use rsa::pkcs1::DecodeRsaPublicKey as _;
        rsa::RsaPublicKey::from_pkcs1_der(key).is_ok()
    }

    /// Without RSA support no RSA scheme is verified at all.
    #[cfg(not(feature = "rsa"))]
    fn rsa_key_decodes(_key: &[u8]) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let table: &[(&str, &str, bool)] = &[
            ("api.spotify.com", "api.spotify.com", true),
            ("API.Spotify.com", "api.spotify.COM", true),
            ("api.spotify.com", "api.spotify.com.", true),
            ("api.spotify.com", "accounts.spotify.com", false),
            ("*.spotify.com", "api.spotify.com", true),
            ("*.spotify.com", "spotify.com", false),
            ("*.spotify.com", "a.b.spotify.com", false),
            ("*.com", "spotify.com", false),
            ("a*.spotify.com", "api.spotify.com", false),
            ("api.*.com", "api.spotify.com", false),
            ("*.*.com", "a.b.com", false),
            ("*", "localhost", false),
            ("*.spotify.com", "", false),
            ("", "", false),
            ("*.spotify.com", "*.spotify.com", false),
            ("api.spotify.com", "api..spotify.com", false),
            ("bücher.example", "bücher.example", false),
            ("*.xn--bcher-kva.example", "a.xn--bcher-kva.example", true),
            ("1.2.3.4", "1.2.3.4", true), // LDH: the caller never asks for an IP
        ];
        for &(pattern, host, want) in table {
            assert_eq!(
                name_matches(pattern.as_bytes(), host.as_bytes()),
                want,
                "{pattern} vs {host}"
            );
        }
    }

    #[test]
    fn der_lengths() {
        // Long form, truncated, oversized, zero-length-of-length.
        assert_eq!(
            Der::new(&[0x04, 0x81, 0x01, 0xaa]).next(),
            Some(Tlv {
                tag: 4,
                value: &[0xaa]
            })
        );
        assert_eq!(Der::new(&[0x04, 0x81]).next(), None);
        assert_eq!(Der::new(&[0x04, 0x02, 0x00]).next(), None);
        assert_eq!(Der::new(&[0x04, 0x80]).next(), None);
        assert_eq!(Der::new(&[0x04, 0x85, 1, 1, 1, 1, 1]).next(), None);
        assert_eq!(Der::new(&[0x1f, 0x01, 0x00]).next(), None);
        assert_eq!(Der::new(&[]).next(), None);
    }

    #[test]
    fn garbage_never_panics() {
        // Every prefix and a few bit flips of a small certificate-shaped input.
        fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
            let mut v = vec![tag, u8::try_from(content.len()).unwrap()];
            v.extend_from_slice(content);
            v
        }
        let san = tlv(SEQUENCE, &tlv(DNS_NAME, b"a.b.c.de"));
        let mut ext = tlv(OID, OID_SUBJECT_ALT_NAME);
        ext.extend(tlv(OCTET_STRING, &san));
        let exts = tlv(EXTENSIONS, &tlv(SEQUENCE, &tlv(SEQUENCE, &ext)));
        let cert = &tlv(SEQUENCE, &tlv(SEQUENCE, &exts))[..];
        let mut seen = 0;
        assert_eq!(
            for_each_dns_name(cert, |n| {
                seen += 1;
                assert_eq!(n, b"a.b.c.de");
            }),
            Ok(true)
        );
        assert_eq!(seen, 1);
        assert_eq!(check_chain(b"a.b.c.de", [Some(cert)].into_iter()), Ok(()));
        assert_eq!(
            check_chain(b"x.b.c.de", [Some(cert)].into_iter()),
            Err(NameError::Mismatch)
        );
        assert_eq!(
            check_chain(b"a.b.c.de", [Some(cert), Some(cert)].into_iter()),
            Err(NameError::NotACa)
        );
        for n in 0..cert.len() {
            let _ = check_chain(b"a.b.c.de", [Some(&cert[..n])].into_iter());
            for bit in 0..8 {
                let mut c = cert.to_vec();
                c[n] ^= 1 << bit;
                let _ = check_chain(b"a.b.c.de", [Some(&c[..])].into_iter());
                let _ = is_ca(&c);
            }
        }
        assert_eq!(
            check_chain(b"a", core::iter::empty()),
            Err(NameError::NoCertificate)
        );
    }

    /// The roots the board trusts: G2 holds an RSA key, G3 a P-384 one.
    const G2: &[u8] = include_bytes!("../roots/digicert-global-root-g2.der");
    const G3: &[u8] = include_bytes!("../roots/digicert-global-root-g3.der");

    #[test]
    fn public_keys_of_the_real_roots() {
        let (kind, key) = public_key(G2).unwrap();
        assert_eq!(kind, KeyKind::Rsa);
        // PKCS#1 RSAPublicKey: SEQUENCE { modulus (2048 bits), 65537 }.
        let mut rsa = Der::new(Der::new(key).expect(SEQUENCE).unwrap());
        let modulus = rsa.expect(INTEGER).unwrap();
        assert_eq!(modulus.len(), 257, "a 2048-bit modulus and its sign byte");
        assert_eq!(rsa.expect(INTEGER), Some(&[1u8, 0, 1][..]));
        let (kind, key) = public_key(G3).unwrap();
        assert_eq!(kind, KeyKind::EcP384);
        assert_eq!(key.len(), 97, "an uncompressed P-384 point");
        assert_eq!(key.first(), Some(&4));
        assert_eq!(is_ca(G2), Ok(true));
        // Self-signed: issuer and subject are the same Name; the two roots' differ.
        let (i2, s2) = issuer_and_subject(G2).unwrap();
        let (i3, s3) = issuer_and_subject(G3).unwrap();
        assert_eq!((i2, i3), (s2, s3));
        assert_ne!(s2, s3);
        assert!(s2.windows(23).any(|w| w == b"DigiCert Global Root G2"));
        for n in 0..G2.len() {
            assert!(issuer_and_subject(&G2[..n]).is_err());
        }
        assert_eq!(is_ca(G3), Ok(true));
        // Every prefix and bit flip of a real certificate: an error or a key, no panic.
        for n in 0..G3.len() {
            assert!(public_key(&G3[..n]).is_err());
            let mut c = G3.to_vec();
            c[n] ^= 0x80;
            let _ = public_key(&c);
        }
    }

    #[test]
    fn a_scheme_must_fit_the_key() {
        use KeyKind as K;
        use Scheme as S;
        for (kind, scheme, want) in [
            (K::Rsa, S::RsaPss, true),
            (K::EcP256, S::EcdsaP256, true),
            (K::EcP384, S::EcdsaP384, true),
            // The panic this guards: RSA-PSS over an EC leaf.
            (K::EcP256, S::RsaPss, false),
            (K::EcP384, S::RsaPss, false),
            (K::Rsa, S::EcdsaP256, false),
            (K::EcP256, S::EcdsaP384, false),
            (K::EcP384, S::EcdsaP256, false),
            (K::Other, S::RsaPss, false),
            (K::Other, S::EcdsaP256, false),
            (K::Rsa, S::Other, false),
        ] {
            assert_eq!(kind.fits(scheme), want, "{kind:?} {scheme:?}");
        }
    }
}
