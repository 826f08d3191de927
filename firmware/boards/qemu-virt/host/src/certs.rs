//! The test's certificates, made at test time: a test root with a leaf for Spotify's
//! hosts (the board trusts the root through the settings record), and an unknown root
//! with its own leaf for the same names (a man in the middle). The trusted chain is
//! RSA-2048 with sha256WithRSAEncryption, as Spotify's (DigiCert Global Root G2), so the
//! board's RSA path (and its heap) runs; the unknown one is P-256.

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
};
use rsa::pkcs8::EncodePrivateKey;

/// The names the leaves carry.
pub const NAMES: [&str; 3] = ["api.spotify.com", "accounts.spotify.com", "i.scdn.co"];

/// A root and a leaf it signed.
pub struct Chain {
    /// The root (DER): what the record's extra trust anchor holds.
    pub root: Vec<u8>,
    /// The leaf (DER).
    pub leaf: Vec<u8>,
    /// The leaf's key (PKCS#8 DER, P-256).
    pub leaf_key: Vec<u8>,
}

/// Which keys a chain has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keys {
    /// RSA-2048, signatures sha256WithRSAEncryption (and RSA-PSS in the handshake).
    Rsa,
    /// P-256 ECDSA.
    P256,
}

fn key(keys: Keys) -> Result<KeyPair, String> {
    match keys {
        Keys::P256 => KeyPair::generate().map_err(|e| e.to_string()),
        Keys::Rsa => {
            let k =
                rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 2048).map_err(|e| e.to_string())?;
            let der = k.to_pkcs8_der().map_err(|e| e.to_string())?;
            KeyPair::from_pkcs8_der_and_sign_algo(
                &rustls::pki_types::PrivatePkcs8KeyDer::from(der.as_bytes()),
                &rcgen::PKCS_RSA_SHA256,
            )
            .map_err(|e| e.to_string())
        }
    }
}

/// A new root named `name` and a leaf for [`NAMES`], with `keys`.
pub fn chain(name: &str, keys: Keys) -> Result<Chain, String> {
    chain_of(name, keys).map_err(|e| format!("certificates: {e}"))
}

fn chain_of(name: &str, keys: Keys) -> Result<Chain, String> {
    let e = |e: rcgen::Error| e.to_string();
    let root_key = key(keys)?;
    let mut root_params = CertificateParams::new(Vec::<String>::new()).map_err(e)?;
    root_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, name);
    dn.push(DnType::OrganizationName, "Tonearm tests");
    root_params.distinguished_name = dn;
    let root = root_params.self_signed(&root_key).map_err(e)?;
    let issuer = Issuer::new(root_params, root_key);
    let leaf_key = key(keys)?;
    let mut leaf_params =
        CertificateParams::new(NAMES.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            .map_err(e)?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "api.spotify.com");
    leaf_params.distinguished_name = dn;
    let leaf = leaf_params.signed_by(&leaf_key, &issuer).map_err(e)?;
    Ok(Chain {
        root: root.der().to_vec(),
        leaf: leaf.der().to_vec(),
        leaf_key: leaf_key.serialize_der(),
    })
}
