//! What both test files share: opening a connection with embedded-tls 0.19 the board's
//! way (`../src/net.rs`): its cipher suite and buffer sizes, a verifier, and
//! `authenticated` checked after `open`, before anything is sent.

use std::net::TcpStream;

use embedded_io_adapters::std::FromStd;
use embedded_tls::blocking::{
    Aes128GcmSha256, CryptoProvider, TlsConfig, TlsConnection, TlsContext, TlsError, TlsVerifier,
};
use p256::ecdsa::DerSignature;

/// The TLS connection the tests use.
pub type Tls<'a> = TlsConnection<'a, FromStd<TcpStream>, Aes128GcmSha256>;

struct Provider<V> {
    verifier: V,
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

/// Opens a TLS connection over `stream` for `host` with `verifier`; `Err("not
/// authenticated")` when the handshake completed but `authenticated` says the server was
/// not authenticated; else what `then` makes of the open connection.
pub fn open<V: TlsVerifier<Aes128GcmSha256>>(
    stream: TcpStream,
    host: &str,
    verifier: V,
    authenticated: fn(&V) -> bool,
    then: impl FnOnce(&mut Tls<'_>) -> Result<(), String>,
) -> Result<(), String> {
    let mut rx = vec![0u8; 16_640];
    let mut tx = vec![0u8; 4096];
    let config = TlsConfig::new().with_server_name(host);
    let mut tls: Tls<'_> = TlsConnection::new(FromStd::new(stream), &mut rx, &mut tx);
    let mut provider = Provider { verifier };
    tls.open(TlsContext::new(&config, &mut provider))
        .map_err(|e| format!("{e:?}"))?;
    if !authenticated(&provider.verifier) {
        return Err("not authenticated".into());
    }
    then(&mut tls)
}
