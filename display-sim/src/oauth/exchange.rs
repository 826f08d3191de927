//! The code exchange: `POST {accounts_base}/api/token` with the code and the verifier,
//! the answer read with tonearm-core's token and error parsers (the ones the session
//! refreshes with).

use std::ops::ControlFlow;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use tonearm_core::{ErrorParser, TokenError, TokenParser};

use super::{LoginError, SCOPES, percent_encode};
use crate::config::{Config, SecretString};
use crate::transport::{HttpRequest, Method, Transport as _, TransportConfig, UreqTransport};

/// The largest token response read (a real one is under 2 KB).
const MAX_TOKEN_BODY: u64 = 64 * 1024;

/// The tokens a code exchange gave.
pub struct Tokens {
    /// The access token.
    pub access_token: SecretString,
    /// The refresh token.
    pub refresh_token: SecretString,
    /// Seconds the access token is valid for.
    pub expires_in: u64,
    /// The granted scopes, when the answer says.
    pub scope: Option<String>,
}

impl Tokens {
    /// The scopes Tonearm asked for and Spotify did not grant, if any.
    pub fn missing_scopes(&self) -> Option<String> {
        let granted: Vec<&str> = self.scope.as_deref()?.split_whitespace().collect();
        let missing: Vec<&str> = SCOPES.split(' ').filter(|s| !granted.contains(s)).collect();
        (!missing.is_empty()).then(|| missing.join(" "))
    }
}

/// An OAuth `error` code fit to show: `[a-z0-9_]`, at most 64 characters, else `unknown`.
pub fn sanitize_error(error: &str) -> String {
    if !error.is_empty()
        && error.len() <= 64
        && error
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        error.to_owned()
    } else {
        "unknown".to_owned()
    }
}

/// A token as the token store accepts it: non-empty printable ASCII.
fn token_value(value: Option<&str>, what: &'static str) -> Result<SecretString, LoginError> {
    value
        .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_graphic()))
        .map(SecretString::new)
        .ok_or(LoginError::BadTokenResponse(what))
}

/// Reads a 200's body: the tokens a login needs, or why it is not usable.
pub fn tokens_of(body: &[u8]) -> Result<Tokens, LoginError> {
    let mut parser = TokenParser::new();
    let parsed = parser.feed(body).and_then(|()| parser.finish());
    let token = parsed.map_err(|e| {
        LoginError::BadTokenResponse(match e {
            TokenError::MissingAccessToken => "no access token",
            TokenError::TooLong => "a token is longer than Tonearm keeps",
            _ => "not the expected JSON",
        })
    })?;
    Ok(Tokens {
        access_token: token_value(Some(token.access_token.expose()), "no access token")?,
        refresh_token: token_value(
            token.refresh_token.as_ref().map(|t| t.expose()),
            "no refresh token",
        )?,
        expires_in: token.expires_in.map_or(3600, u64::from).min(86_400),
        scope: (!token.scope.is_empty()).then(|| token.scope.to_string()),
    })
}

/// Reads another status's body: the error a login reports (`secret`: whether a client
/// secret was sent).
pub fn error_of(status: u16, body: &[u8], secret: bool) -> LoginError {
    let mut parser = ErrorParser::new();
    let error = parser
        .feed(body)
        .and_then(|()| parser.finish())
        .ok()
        .and_then(|b| b.error)
        .map(|e| sanitize_error(&e));
    match error.as_deref() {
        Some("invalid_client") => LoginError::InvalidClient {
            with_secret: secret,
        },
        Some("invalid_grant") => LoginError::InvalidGrant,
        _ => LoginError::TokenEndpoint { status, error },
    }
}

/// `POST {accounts_base}/api/token` with the code and the verifier (and Basic auth when
/// `secret` is given).
pub fn exchange(
    config: &Config,
    secret: Option<&SecretString>,
    redirect_uri: &str,
    code: &SecretString,
    verifier: &SecretString,
) -> Result<Tokens, LoginError> {
    let url = format!("{}/api/token", config.accounts_base.trim_end_matches('/'));
    let body = format!(
        "grant_type=authorization_code&code={}&redirect_uri={}&client_id={}&code_verifier={}",
        percent_encode(code.expose()),
        percent_encode(redirect_uri),
        percent_encode(&config.client_id),
        percent_encode(verifier.expose()),
    );
    let basic = secret.map(|secret| {
        let pair = format!("{}:{}", config.client_id, secret.expose());
        SecretString::new(format!("Basic {}", STANDARD.encode(pair)))
    });
    let mut headers = vec![
        ("Content-Type", "application/x-www-form-urlencoded"),
        ("Accept", "application/json"),
    ];
    if let Some(basic) = &basic {
        headers.push(("Authorization", basic.expose()));
    }
    let transport = UreqTransport::new(
        TransportConfig::default()
            .connect_timeout(Duration::from_secs(10))
            .request_timeout(Duration::from_secs(30))
            .max_body(MAX_TOKEN_BODY),
    );
    let request = HttpRequest {
        method: Method::Post,
        url: &url,
        headers: &headers,
        body: Some(body.as_bytes()),
    };
    log::info!("exchanging the authorization code at {url}");
    let mut status = 0;
    let mut reply = Vec::new();
    transport
        .send(&request, &mut |head| status = head.status, &mut |chunk| {
            reply.extend_from_slice(chunk);
            ControlFlow::Continue(())
        })
        .map_err(|source| LoginError::Transport {
            url: url.clone(),
            source,
        })?;
    log::info!("the token endpoint answered {status}");
    if status == 200 {
        tokens_of(&reply)
    } else {
        Err(error_of(status, &reply, secret.is_some()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_sanitizing() {
        assert_eq!(sanitize_error("server_error"), "server_error");
        for bad in ["", "<script>", "a b", &"x".repeat(65)] {
            assert_eq!(sanitize_error(bad), "unknown");
        }
    }

    #[test]
    fn token_answers() {
        let ok = tokens_of(
            br#"{"access_token":"A1","token_type":"Bearer","expires_in":3600,"refresh_token":"R1","scope":"user-read-currently-playing"}"#,
        )
        .expect("usable");
        assert_eq!(
            (ok.access_token.expose(), ok.refresh_token.expose()),
            ("A1", "R1")
        );
        assert_eq!(ok.expires_in, 3600);
        assert_eq!(
            ok.missing_scopes().as_deref(),
            Some(
                "user-read-playback-state user-modify-playback-state user-library-read \
                 user-library-modify"
            )
        );
        let long = tokens_of(br#"{"access_token":"A","refresh_token":"R","expires_in":999999}"#)
            .expect("usable");
        assert_eq!((long.expires_in, long.scope), (86_400, None));
        let refused = |body: &[u8]| match tokens_of(body) {
            Err(LoginError::BadTokenResponse(why)) => why,
            Err(e) => panic!("{e}"),
            Ok(_) => panic!("accepted {body:?}"),
        };
        assert_eq!(refused(b"not json"), "not the expected JSON");
        assert_eq!(refused(br#"{"refresh_token":"R"}"#), "no access token");
        assert_eq!(
            refused(br#"{"access_token":"","refresh_token":"R"}"#),
            "no access token"
        );
        assert_eq!(refused(br#"{"access_token":"A"}"#), "no refresh token");
        assert_eq!(
            refused(br#"{"access_token":"A","refresh_token":"R R"}"#),
            "no refresh token"
        );
    }

    #[test]
    fn error_answers() {
        let client = error_of(
            400,
            br#"{"error":"invalid_client","error_description":"x"}"#,
            true,
        );
        assert!(matches!(
            client,
            LoginError::InvalidClient { with_secret: true }
        ));
        let grant = error_of(400, br#"{"error":"invalid_grant"}"#, false);
        assert!(matches!(grant, LoginError::InvalidGrant));
        for (body, want) in [
            (&br#"{"error":"<b>"}"#[..], Some("unknown")),
            (br#"{"error":{"status":503,"message":"down"}}"#, None),
            (b"Service Unavailable", None),
        ] {
            match error_of(503, body, false) {
                LoginError::TokenEndpoint { status: 503, error } => {
                    assert_eq!(error.as_deref(), want);
                }
                other => panic!("{other}"),
            }
        }
    }
}
