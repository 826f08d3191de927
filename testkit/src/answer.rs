//! An answer as it goes over the wire, and the bodies Spotify sends with its refusals.

/// The quota answer's body (429 `QUOTA_EXCEEDED`), as Spotify sends it.
pub const QUOTA_BODY: &str =
    r#"{"error":{"status":429,"message":"Too many requests","reason":"QUOTA_EXCEEDED"}}"#;

/// A control's 404 when no device is active.
pub const NO_DEVICE_BODY: &str = r#"{"error":{"status":404,"message":"Player command failed: No active device found","reason":"NO_ACTIVE_DEVICE"}}"#;

/// The 404 of a path the Web API does not know.
pub const NOT_FOUND_BODY: &str = r#"{"error":{"status":404,"message":"Service not found"}}"#;

/// The accounts service's 400 when the refresh token was revoked.
pub const INVALID_GRANT_BODY: &str =
    r#"{"error":"invalid_grant","error_description":"Refresh token revoked"}"#;

/// The scopes the display asks for, as a token answer lists them.
pub const SCOPES: &str =
    "user-read-currently-playing user-read-playback-state user-modify-playback-state";

/// Every scope the scripted [`Spotify`](crate::Spotify) grants by default: [`SCOPES`] and
/// the library's two (`user-library-read`, `user-library-modify`).
pub const ALL_SCOPES: &str = "user-read-currently-playing user-read-playback-state \
    user-modify-playback-state user-library-read user-library-modify";

/// The 403 of a request whose token lacks the scope it needs.
pub const INSUFFICIENT_SCOPE_BODY: &str =
    r#"{"error":{"status":403,"message":"Insufficient client scope"}}"#;

/// The 403 of `PUT /me/player/volume` on a device without volume control.
pub const VOLUME_DISALLOWED_BODY: &str = r#"{"error":{"status":403,"message":"Player command failed: Cannot control device volume","reason":"VOLUME_CONTROL_DISALLOW"}}"#;

/// One answer: status, the `Retry-After` header and the body.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The `Retry-After` header's value, if any.
    pub retry_after: Option<String>,
    /// The body (empty for none).
    pub body: Vec<u8>,
    /// A quota answer (429 `QUOTA_EXCEEDED`): what a shell would hold for.
    pub quota: bool,
}

impl Answer {
    /// `status` with `body`.
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Answer {
        Answer {
            status,
            retry_after: None,
            body: body.into(),
            quota: false,
        }
    }

    /// `status` without a body (a 204, a bare 503).
    pub fn empty(status: u16) -> Answer {
        Answer::new(status, Vec::new())
    }

    /// The same with a `Retry-After` header.
    pub fn with_retry_after(mut self, value: impl Into<String>) -> Answer {
        self.retry_after = Some(value.into());
        self
    }

    /// A 429 of the short-term rate limit, with `Retry-After` when given and no body.
    pub fn rate_limited(retry_after: Option<&str>) -> Answer {
        Answer {
            retry_after: retry_after.map(str::to_owned),
            ..Answer::empty(429)
        }
    }

    /// The 429 of a used-up daily quota ([`QUOTA_BODY`]), with `Retry-After` when given.
    pub fn quota(retry_after: Option<&str>) -> Answer {
        Answer {
            retry_after: retry_after.map(str::to_owned),
            quota: true,
            ..Answer::new(429, QUOTA_BODY)
        }
    }

    /// A token answer: `access` for an hour with [`SCOPES`], and a new refresh token when
    /// given.
    pub fn token(access: &str, refresh: Option<&str>) -> Answer {
        Answer::new(200, token_body(access, refresh, SCOPES))
    }

    /// The body as text (lossy; for messages).
    pub fn body_text(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.body)
    }
}

/// A token endpoint body: `access` for an hour with `scope`, and `refresh` when given.
pub fn token_body(access: &str, refresh: Option<&str>, scope: &str) -> String {
    let refresh = refresh
        .map(|r| format!(r#","refresh_token":"{r}""#))
        .unwrap_or_default();
    format!(
        r#"{{"access_token":"{access}","token_type":"Bearer","expires_in":3600,"scope":"{scope}"{refresh}}}"#
    )
}

/// A token endpoint body without `scope` (older answers had none): `access` for an hour,
/// and `refresh` when given.
pub fn token_body_without_scope(access: &str, refresh: Option<&str>) -> String {
    let refresh = refresh
        .map(|r| format!(r#","refresh_token":"{r}""#))
        .unwrap_or_default();
    format!(r#"{{"access_token":"{access}","token_type":"Bearer","expires_in":3600{refresh}}}"#)
}

/// A Web API error body: `{"error":{"status":..,"message":..,"reason":..}}` (no reason
/// when `None`).
pub fn api_error_body(status: u16, message: &str, reason: Option<&str>) -> String {
    let reason = reason
        .map(|r| format!(r#","reason":"{r}""#))
        .unwrap_or_default();
    format!(r#"{{"error":{{"status":{status},"message":"{message}"{reason}}}}}"#)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_json() {
        for body in [
            QUOTA_BODY.to_owned(),
            NO_DEVICE_BODY.to_owned(),
            NOT_FOUND_BODY.to_owned(),
            INVALID_GRANT_BODY.to_owned(),
            token_body("a", Some("r"), SCOPES),
            token_body("a", None, "x"),
            token_body("a", None, ALL_SCOPES),
            token_body_without_scope("a", Some("r")),
            token_body_without_scope("a", None),
            INSUFFICIENT_SCOPE_BODY.to_owned(),
            VOLUME_DISALLOWED_BODY.to_owned(),
            api_error_body(403, "Premium required", Some("PREMIUM_REQUIRED")),
            api_error_body(401, "The access token expired", None),
        ] {
            let v: serde_json::Value = serde_json::from_str(&body).expect(&body);
            assert!(v.is_object(), "{body}");
        }
        assert_eq!(
            api_error_body(404, "Service not found", None),
            NOT_FOUND_BODY
        );
        assert_eq!(
            api_error_body(403, "Insufficient client scope", None),
            INSUFFICIENT_SCOPE_BODY
        );
        assert_eq!(
            api_error_body(
                403,
                "Player command failed: Cannot control device volume",
                Some("VOLUME_CONTROL_DISALLOW")
            ),
            VOLUME_DISALLOWED_BODY
        );
        assert!(ALL_SCOPES.starts_with(SCOPES));
        let v: serde_json::Value =
            serde_json::from_str(&token_body_without_scope("a", None)).unwrap();
        assert!(v.get("scope").is_none() && v["access_token"] == "a");
        let v: serde_json::Value =
            serde_json::from_slice(&Answer::token("a", Some("r")).body).unwrap();
        assert_eq!(
            (&v["access_token"], &v["refresh_token"], &v["expires_in"]),
            (&"a".into(), &"r".into(), &3600.into())
        );
    }

    #[test]
    fn refusals() {
        let q = Answer::quota(Some("60"));
        assert!(q.quota);
        assert_eq!((q.status, q.retry_after.as_deref()), (429, Some("60")));
        let r = Answer::rate_limited(None);
        assert!(!r.quota && r.body.is_empty() && r.retry_after.is_none());
        assert_eq!(
            Answer::empty(503)
                .with_retry_after("7")
                .retry_after
                .as_deref(),
            Some("7")
        );
    }
}
