//! Token responses and error bodies, through the same tokenizer.

use tonearm_core::json::JsonErrorKind;
use tonearm_core::parse::{ACCESS_TOKEN_CAP, REFRESH_TOKEN_CAP};
use tonearm_core::{ErrorBody, ErrorParser, TokenError, TokenParser, TokenResponse};

fn token(body: &str, chunk: usize) -> Result<TokenResponse, TokenError> {
    let mut p = TokenParser::new();
    for c in body.as_bytes().chunks(chunk) {
        p.feed(c)?;
    }
    p.finish()
}

fn token_all_ways(body: &str) -> Result<TokenResponse, TokenError> {
    let whole = token(body, body.len().max(1));
    for chunk in [1, 3, 16] {
        assert_eq!(token(body, chunk), whole);
    }
    whole
}

fn error_body(body: &str) -> Option<ErrorBody> {
    let whole = {
        let mut p = ErrorParser::new();
        p.feed(body.as_bytes()).ok()?;
        p.finish().ok()
    };
    let mut p = ErrorParser::new();
    for c in body.as_bytes().chunks(2) {
        if p.feed(c).is_err() {
            assert_eq!(whole, None);
            return None;
        }
    }
    assert_eq!(p.finish().ok(), whole);
    whole
}

#[test]
fn seed_token_response() {
    let t = token_all_ways(
        "{\n\"access_token\": \"sensored_cus_its_private\",\n\"token_type\": \"Bearer\",\n\"expires_in\": 3600,\n\"refresh_token\": \"sensored_cus_its_also_private\",\n\"scope\": \"user-read-currently-playing\"\n}",
    )
    .unwrap();
    assert_eq!(t.access_token.expose(), "sensored_cus_its_private");
    assert_eq!(t.token_type.as_str(), "Bearer");
    assert_eq!(t.expires_in, Some(3600));
    assert_eq!(
        t.refresh_token.as_ref().map(|r| r.expose()),
        Some("sensored_cus_its_also_private")
    );
    assert!(t.has_scope("user-read-currently-playing"));
    assert!(!t.has_scope("user-read-playback-state"));
    // Secrets stay out of Debug.
    let shown = format!("{t:?}");
    assert!(!shown.contains("sensored"), "{shown}");
}

#[test]
fn token_without_rotation_keeps_no_refresh_token() {
    let t = token_all_ways(
        r#"{"access_token":"a","token_type":"Bearer","expires_in":3600,"scope":"x y"}"#,
    )
    .unwrap();
    assert_eq!(t.refresh_token, None);
    assert!(t.has_scope("y"));
}

#[test]
fn long_tokens() {
    // 600-character access tokens are seen; 1024 fit; longer is an error, never a cut.
    for len in [600, ACCESS_TOKEN_CAP] {
        let a = "A".repeat(len);
        let t = token_all_ways(&format!(r#"{{"access_token":"{a}","expires_in":3600}}"#)).unwrap();
        assert_eq!(t.access_token.expose().len(), len);
    }
    let a = "A".repeat(ACCESS_TOKEN_CAP + 1);
    assert_eq!(
        token_all_ways(&format!(r#"{{"access_token":"{a}"}}"#)),
        Err(TokenError::TooLong)
    );
    let r = "R".repeat(REFRESH_TOKEN_CAP + 1);
    assert_eq!(
        token_all_ways(&format!(r#"{{"access_token":"a","refresh_token":"{r}"}}"#)),
        Err(TokenError::TooLong)
    );
}

#[test]
fn unusable_token_bodies() {
    assert_eq!(
        token_all_ways(r#"{"token_type":"Bearer"}"#),
        Err(TokenError::MissingAccessToken)
    );
    assert_eq!(
        token_all_ways(r#"{"access_token":null}"#),
        Err(TokenError::MissingAccessToken)
    );
    assert_eq!(
        token_all_ways(r#"{"nested":{"access_token":"a"}}"#),
        Err(TokenError::MissingAccessToken)
    );
    match token_all_ways(r#"{"access_token":"a""#) {
        Err(TokenError::Json(e)) => assert_eq!(e.kind, JsonErrorKind::UnexpectedEnd),
        other => panic!("{other:?}"),
    }
}

#[test]
fn error_shapes() {
    let api = error_body(r#"{"error":{"status":403,"message":"Player command failed: Premium required","reason":"PREMIUM_REQUIRED"}}"#).unwrap();
    assert_eq!(api.status, Some(403));
    assert!(api.reason_is("PREMIUM_REQUIRED"));
    assert_eq!(api.error, None);

    let api = error_body("{\n  \"error\" : {\n    \"status\" : 404,\n    \"message\" : \"Player command failed: No active device found\",\n    \"reason\" : \"NO_ACTIVE_DEVICE\"\n  }\n}").unwrap();
    assert!(api.reason_is("NO_ACTIVE_DEVICE"));

    let rate =
        error_body(r#"{"error":{"status":429,"message":"API rate limit exceeded"}}"#).unwrap();
    assert_eq!((rate.status, rate.reason), (Some(429), None));

    let auth =
        error_body(r#"{"error":"invalid_grant","error_description":"Refresh token revoked"}"#)
            .unwrap();
    assert!(auth.error_is("invalid_grant"));
    assert_eq!(auth.message.as_deref(), Some("Refresh token revoked"));
    assert_eq!(auth.status, None);

    let client =
        error_body(r#"{"error":"invalid_client","error_description":"Invalid client"}"#).unwrap();
    assert!(client.error_is("invalid_client"));

    // A long message is cut, not an error; nested look-alikes are ignored.
    let long = format!(
        r#"{{"error":{{"status":500,"message":"{}","x":{{"reason":"NOPE"}}}}}}"#,
        "m".repeat(500)
    );
    let long = error_body(&long).unwrap();
    assert_eq!(long.message.map(|m| m.len()), Some(128));
    assert_eq!(long.reason, None);

    // Plain-text and empty bodies are not JSON: the caller goes by the status alone.
    assert_eq!(error_body("Forbidden"), None);
    assert_eq!(error_body(""), None);
}
