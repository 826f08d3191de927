//! The one-time values of a login (RFC 7636's PKCE verifier and challenge, the `state`)
//! and the authorize URL that carries them.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest as _, Sha256};

use super::{LoginError, SCOPES, percent_encode};
use crate::config::SecretString;

/// The one-time values of a login: the PKCE verifier (secret), its challenge and the state.
pub struct Pkce {
    /// The code verifier: sent only with the code, to the token endpoint.
    pub verifier: SecretString,
    /// base64url(SHA-256(verifier)): public, in the authorize URL.
    pub challenge: String,
    /// The `state`: the redirect must bring it back.
    pub state: String,
}

impl Pkce {
    /// A fresh verifier (86 characters from 64 random bytes, base64url: inside RFC 7636's
    /// unreserved set and its 43..=128 length) and state (128 random bits), from the OS's
    /// CSPRNG.
    pub fn new() -> Result<Pkce, LoginError> {
        let mut bytes = [0u8; 64];
        getrandom::fill(&mut bytes).map_err(|e| LoginError::Random(e.to_string()))?;
        let verifier = URL_SAFE_NO_PAD.encode(bytes);
        let mut state = [0u8; 16];
        getrandom::fill(&mut state).map_err(|e| LoginError::Random(e.to_string()))?;
        Ok(Pkce {
            challenge: challenge_of(&verifier),
            verifier: SecretString::new(verifier),
            state: URL_SAFE_NO_PAD.encode(state),
        })
    }

    /// Whether `state` is this login's, compared without an early exit.
    pub fn state_is(&self, state: &str) -> bool {
        same(state, &self.state)
    }
}

/// base64url(SHA-256(verifier)), without padding.
pub fn challenge_of(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Equal strings, compared without an early exit.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The authorize URL: the client, the redirect URI, [`SCOPES`], the state and the
/// challenge (never the verifier).
pub fn authorize_url(
    accounts_base: &str,
    client_id: &str,
    redirect_uri: &str,
    pkce: &Pkce,
) -> String {
    format!(
        "{}/authorize?client_id={}&response_type=code&redirect_uri={}&scope={}&state={}&code_challenge={}&code_challenge_method=S256",
        accounts_base.trim_end_matches('/'),
        percent_encode(client_id),
        percent_encode(redirect_uri),
        percent_encode(SCOPES),
        percent_encode(&pkce.state),
        percent_encode(&pkce.challenge),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_values_follow_rfc_7636() {
        let a = Pkce::new().expect("random");
        let b = Pkce::new().expect("random");
        let v = a.verifier.expose();
        assert!((43..=128).contains(&v.len()), "{}", v.len());
        assert!(
            v.bytes()
                .all(|c| c.is_ascii_alphanumeric() || b"-._~".contains(&c))
        );
        assert_eq!(a.challenge, challenge_of(v));
        assert_eq!(a.challenge.len(), 43);
        assert!(!a.challenge.contains('='));
        assert!(a.state.len() >= 22);
        assert_ne!(a.verifier, b.verifier);
        assert_ne!(a.state, b.state);
        // RFC 7636, appendix B.
        assert_eq!(
            challenge_of("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        let shown = format!("{:?}", a.verifier);
        assert!(!shown.contains(v), "{shown}");
        assert!(a.state_is(&a.state.clone()) && !a.state_is(&b.state));
    }

    #[test]
    fn authorize_url_holds_every_parameter_encoded() {
        let pkce = Pkce {
            verifier: SecretString::new("v"),
            challenge: "ch-_".to_owned(),
            state: "st".to_owned(),
        };
        let url = authorize_url(
            "https://accounts.example/",
            "my id",
            "http://127.0.0.1:8888/callback",
            &pkce,
        );
        assert_eq!(
            url,
            "https://accounts.example/authorize?client_id=my%20id&response_type=code\
             &redirect_uri=http%3A%2F%2F127.0.0.1%3A8888%2Fcallback\
             &scope=user-read-currently-playing%20user-read-playback-state%20user-modify-playback-state\
             %20user-library-read%20user-library-modify\
             &state=st&code_challenge=ch-_&code_challenge_method=S256"
        );
        assert!(!url.contains("v&") && !url.ends_with('v'));
    }

    #[test]
    fn equal_strings_without_an_early_exit() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd") && !same("abc", "ab") && !same("", "a"));
    }
}
