//! What a test scripts: the replies, how they are delivered, the token rotation and the
//! authorize page's misbehaviours.

use std::time::Duration;

use super::PREMIUM_LAPSED_MESSAGE;

/// How a reply's body goes over the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Delivery {
    /// All at once, with `Content-Length`.
    Whole,
    /// `Content-Length` up front, then `chunk` bytes every `interval`.
    Trickle { chunk: usize, interval: Duration },
    /// Chunked transfer encoding (no `Content-Length`), `chunk` bytes per chunk.
    Chunked { chunk: usize },
    /// Chunked transfer encoding: the first `sent` bytes as a valid chunk, then broken
    /// chunk framing, so the client's body ends early with an error.
    Truncated { sent: usize },
    /// The request is read and never answered (until the server is dropped).
    Hang,
    /// Bytes that are not HTTP at all instead of a status line.
    Garbage,
}

/// One scripted answer: status, headers, body and how it is delivered.
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use]
pub struct Reply {
    pub(super) status: u16,
    pub(super) headers: Vec<(String, String)>,
    pub(super) body: Vec<u8>,
    pub(super) delay: Duration,
    pub(super) delivery: Delivery,
}

impl Reply {
    /// A reply with `status`, no headers and an empty body.
    pub fn new(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            delay: Duration::ZERO,
            delivery: Delivery::Whole,
        }
    }

    /// 204 No Content (nothing playing; or a control's documented success).
    pub fn no_content() -> Reply {
        Reply::new(204)
    }

    /// `status` with a JSON body (`Content-Type: application/json`). The body is sent
    /// as given, so it may be malformed on purpose.
    pub fn json(status: u16, body: impl Into<Vec<u8>>) -> Reply {
        Reply::new(status)
            .header("Content-Type", "application/json; charset=utf-8")
            .body(body)
    }

    /// A control's seen-in-the-wild success: 200 with an opaque, non-JSON body.
    pub fn opaque_ok() -> Reply {
        Reply::new(200)
            .header("Content-Type", "text/plain")
            .body("5f2c0e6a1d9b4c7e8a3f")
    }

    /// A Web API error: `{"error":{"status":..,"message":..}}`.
    pub fn api_error(status: u16, message: &str) -> Reply {
        // Keys in Spotify's order (status, message, reason), not serde_json's sorted one.
        let body = format!(
            r#"{{"error":{{"status":{status},"message":{}}}}}"#,
            json_string(message)
        );
        Reply::json(status, body)
    }

    /// A player error with a `reason`, e.g. 403 `PREMIUM_REQUIRED`, 404 `NO_ACTIVE_DEVICE`.
    pub fn player_error(status: u16, reason: &str, message: &str) -> Reply {
        let body = format!(
            r#"{{"error":{{"status":{status},"message":{},"reason":{}}}}}"#,
            json_string(message),
            json_string(reason)
        );
        Reply::json(status, body)
    }

    /// 429, with a lower-case `retry-after: secs` header when `retry_after` is given.
    pub fn rate_limited(retry_after: Option<u64>) -> Reply {
        let reply = Reply::api_error(429, "API rate limit exceeded");
        match retry_after {
            Some(secs) => reply.header("retry-after", &secs.to_string()),
            None => reply,
        }
    }

    /// The used-up daily quota (per developer account, since July 2026): 429 with
    /// `{"error":{"status":429,"message":"Too many requests","reason":"QUOTA_EXCEEDED"}}`
    /// and, when `retry_after` is given, `Retry-After: secs` (Spotify's wait is hours:
    /// 48 925 s was seen). Variants: [`Reply::lower_case_retry_after`],
    /// [`Reply::without_body`].
    pub fn quota_exceeded(retry_after: Option<u64>) -> Reply {
        let reply = Reply::player_error(429, "QUOTA_EXCEEDED", "Too many requests");
        match retry_after {
            Some(secs) => reply.header("Retry-After", &secs.to_string()),
            None => reply,
        }
    }

    /// Spells the `Retry-After` header `retry-after` (header names may come lower-case).
    pub fn lower_case_retry_after(mut self) -> Reply {
        for (name, _) in &mut self.headers {
            if name.eq_ignore_ascii_case("retry-after") {
                "retry-after".clone_into(name);
            }
        }
        self
    }

    /// Drops the body and its `Content-Type` (Spotify sometimes answers with an empty
    /// body).
    pub fn without_body(mut self) -> Reply {
        self.body.clear();
        self.headers
            .retain(|(name, _)| !name.eq_ignore_ascii_case("content-type"));
        self
    }

    /// The 403 Spotify gives every Web API call when the app's owner has no Premium (no
    /// `reason`; the message is [`PREMIUM_LAPSED_MESSAGE`]). See
    /// [`FakeSpotify::set_premium_lapsed`](super::FakeSpotify::set_premium_lapsed).
    pub fn premium_lapsed() -> Reply {
        Reply::api_error(403, PREMIUM_LAPSED_MESSAGE)
    }

    /// 403 `{"error":{"status":403,"message":"Insufficient client scope"}}`: the access
    /// token lacks the route's scope.
    pub fn insufficient_scope() -> Reply {
        Reply::api_error(403, "Insufficient client scope")
    }

    /// 404 `NO_ACTIVE_DEVICE`, a player command's answer when no device is active.
    pub fn no_active_device() -> Reply {
        Reply::player_error(
            404,
            "NO_ACTIVE_DEVICE",
            "Player command failed: No active device found",
        )
    }

    /// 403 `VOLUME_CONTROL_DISALLOW`: the device's volume cannot be set (phones, some
    /// speakers).
    pub fn volume_control_disallowed() -> Reply {
        Reply::player_error(
            403,
            "VOLUME_CONTROL_DISALLOW",
            "Player command failed: Cannot control device volume",
        )
    }

    /// 400 `invalid_grant` from the token endpoint (refresh token expired or revoked).
    pub fn invalid_grant() -> Reply {
        token_error("invalid_grant", "Refresh token revoked")
    }

    /// 400 `invalid_client` from the token endpoint (wrong client id or secret).
    pub fn invalid_client() -> Reply {
        token_error("invalid_client", "Invalid client")
    }

    /// Adds a response header, sent with exactly this spelling.
    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Replaces the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Reply {
        self.body = body.into();
        self
    }

    /// Waits this long before sending anything (a slow server).
    pub fn delay(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }

    /// Sends the body `chunk` bytes at a time, `interval` apart, after an honest
    /// `Content-Length` (a slow body; shows whether a client streams).
    pub fn trickle(mut self, chunk: usize, interval: Duration) -> Reply {
        self.delivery = Delivery::Trickle {
            chunk: chunk.max(1),
            interval,
        };
        self
    }

    /// Sends the body with chunked transfer encoding, `chunk` bytes per chunk, so the
    /// client cannot know its length up front.
    pub fn chunked(mut self, chunk: usize) -> Reply {
        self.delivery = Delivery::Chunked {
            chunk: chunk.max(1),
        };
        self
    }

    /// Sends the head and the first `sent` bytes of the body, then breaks the chunked
    /// framing: the client sees a body that ends early with an error.
    pub fn truncated_after(mut self, sent: usize) -> Reply {
        self.delivery = Delivery::Truncated { sent };
        self
    }

    /// Reads the request and never answers (until the fake is dropped, at most two
    /// minutes): the client must give up by itself.
    pub fn hang() -> Reply {
        Reply {
            delivery: Delivery::Hang,
            ..Reply::new(0)
        }
    }

    /// Answers with bytes that are not an HTTP response.
    pub fn garbage() -> Reply {
        Reply {
            delivery: Delivery::Garbage,
            ..Reply::new(0)
        }
    }

    /// The status code.
    pub fn status(&self) -> u16 {
        self.status
    }
}

/// `text` as a JSON string literal.
fn json_string(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}

pub(super) fn token_error(error: &str, description: &str) -> Reply {
    let body = serde_json::json!({"error": error, "error_description": description});
    Reply::json(400, body.to_string())
}

/// What a refresh does with the refresh token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Rotation {
    /// No `refresh_token` in the response: the client keeps the one it has (the default).
    #[default]
    Never,
    /// A new `refresh_token` in every response; the old one stays valid.
    Rotate,
    /// A new `refresh_token` in every response, and the old one is revoked at once.
    RotateAndRevokeOld,
}

/// How the authorize page misbehaves (the default: like Spotify). Set with
/// [`FakeSpotify::set_authorize`](super::FakeSpotify::set_authorize); it applies to every
/// later decision.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[must_use]
pub struct AuthorizeScript {
    pub(super) state: Option<String>,
    pub(super) expired_code: bool,
    pub(super) error: Option<String>,
}

impl AuthorizeScript {
    /// Spotify's behaviour.
    pub fn new() -> AuthorizeScript {
        AuthorizeScript::default()
    }

    /// The redirect carries `state` instead of the one the client sent (a forged or stale
    /// redirect).
    pub fn tamper_state(mut self, state: &str) -> AuthorizeScript {
        self.state = Some(state.to_owned());
        self
    }

    /// Agree hands out a code the token endpoint does not know (expired or already used:
    /// the exchange gets `invalid_grant`).
    pub fn expired_code(mut self) -> AuthorizeScript {
        self.expired_code = true;
        self
    }

    /// Agree redirects with `error=<error>` instead of a code.
    pub fn error(mut self, error: &str) -> AuthorizeScript {
        self.error = Some(error.to_owned());
        self
    }
}
