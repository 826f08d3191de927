//! The test's certificates, made at test time: a test root with a leaf for Spotify's
//! hosts (the board trusts the root through the settings record), and an unknown root
//! with its own leaf for the same names (a man in the middle).

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
};

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

/// A new root named `name` and a leaf for [`NAMES`].
pub fn chain(name: &str) -> Result<Chain, rcgen::Error> {
    let root_key = KeyPair::generate()?;
    let mut root_params = CertificateParams::new(Vec::<String>::new())?;
    root_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, name);
    dn.push(DnType::OrganizationName, "Tonearm tests");
    root_params.distinguished_name = dn;
    let root = root_params.self_signed(&root_key)?;
    let issuer = Issuer::new(root_params, root_key);
    let leaf_key = KeyPair::generate()?;
    let mut leaf_params =
        CertificateParams::new(NAMES.iter().map(|n| n.to_string()).collect::<Vec<_>>())?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "api.spotify.com");
    leaf_params.distinguished_name = dn;
    let leaf = leaf_params.signed_by(&leaf_key, &issuer)?;
    Ok(Chain {
        root: root.der().to_vec(),
        leaf: leaf.der().to_vec(),
        leaf_key: leaf_key.serialize_der(),
    })
}
