//! The scripted state behind the server: the reply queues and defaults, the token model,
//! the recorded requests, shared between the server's threads and the handle.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::AtomicBool;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::player::PlayerModel;
use super::{AuthorizeScript, RecordedRequest, Reply, Rotation, Route};

/// A pending authorization code (the `/authorize` step happened "before").
#[derive(Clone, Debug)]
pub(super) struct AuthCode {
    pub(super) redirect_uri: String,
    /// `Some` for PKCE: base64url(SHA-256(verifier)), no padding.
    pub(super) code_challenge: Option<String>,
}

#[derive(Debug)]
pub(super) struct TokenModel {
    pub(super) client_id: String,
    pub(super) client_secret: Option<String>,
    pub(super) refresh_tokens: HashSet<String>,
    /// Access token -> when it expires.
    pub(super) access_tokens: HashMap<String, Instant>,
    pub(super) codes: HashMap<String, AuthCode>,
    pub(super) rotation: Rotation,
    pub(super) expires_in: u64,
    pub(super) access_token_len: usize,
    /// The scopes every access token carries (those issued before a change too),
    /// space-separated.
    pub(super) scope: String,
    /// Whether token answers list `scope` (old answers had none).
    pub(super) scope_in_answer: bool,
    pub(super) issued: u64,
}

impl TokenModel {
    pub(super) fn new_token(&mut self, kind: &str, len: usize) -> String {
        self.issued += 1;
        let mut token = format!("{kind}-{}-", self.issued);
        // Padded with a repeating, token-safe alphabet up to `len` (tokens are long).
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut i = self.issued as usize;
        while token.len() < len {
            token.push(char::from(alphabet[i % alphabet.len()]));
            i = i.wrapping_mul(31).wrapping_add(7);
        }
        token
    }

    pub(super) fn issue_access(&mut self, now: Instant) -> String {
        let token = self.new_token("access", self.access_token_len);
        self.access_tokens
            .insert(token.clone(), now + Duration::from_secs(self.expires_in));
        token
    }

    pub(super) fn has_scope(&self, name: &str) -> bool {
        self.scope.split_whitespace().any(|s| s == name)
    }

    pub(super) fn access_valid(&self, token: &str, now: Instant) -> bool {
        self.access_tokens.get(token).is_some_and(|exp| now < *exp)
    }
}

#[derive(Debug)]
pub(super) struct State {
    pub(super) queues: HashMap<Route, VecDeque<Reply>>,
    pub(super) defaults: HashMap<Route, Reply>,
    pub(super) tokens: TokenModel,
    pub(super) require_auth: bool,
    /// Every Web API call answers [`Reply::premium_lapsed`].
    pub(super) premium_lapsed: bool,
    pub(super) requests: Vec<RecordedRequest>,
    pub(super) authorize: AuthorizeScript,
    pub(super) issued_codes: Vec<String>,
    /// Replies of `/image/<name>` by name.
    pub(super) images: HashMap<String, Reply>,
    /// What the player routes answer when nothing is scripted.
    pub(super) player: PlayerModel,
}

#[derive(Debug)]
pub(super) struct Shared {
    pub(super) state: Mutex<State>,
    /// Wakes hanging replies and `wait_for_requests` callers.
    pub(super) changed: Condvar,
    pub(super) stop: AtomicBool,
    pub(super) started: Instant,
}

impl Shared {
    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking test thread must not wedge every other test using this fake.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}
