//! A fake Spotify: a real HTTP server on `127.0.0.1:0`, scriptable per test.
//!
//! Built on `tiny_http` (blocking, no async runtime). The server runs on its own thread
//! and answers each request on a thread of its own, so a slow or hanging reply never holds
//! up the next request. It serves both hosts Spotify uses on one port:
//!
//! | route | method and path |
//! | --- | --- |
//! | [`Route::Token`] | `POST /api/token` (accounts: [`FakeSpotify::accounts_base`]) |
//! | [`Route::Authorize`] | `GET /authorize` (the consent page, with Agree and Cancel) |
//! | [`Route::AuthorizeDecision`] | `POST /authorize/decide` (the page's form: a 302 to the app) |
//! | [`Route::Player`] | `GET /v1/me/player` (API: [`FakeSpotify::api_base`]) |
//! | [`Route::CurrentlyPlaying`] | `GET /v1/me/player/currently-playing` |
//! | [`Route::Play`], [`Route::Pause`] | `PUT /v1/me/player/play`, `PUT /v1/me/player/pause` |
//! | [`Route::Next`], [`Route::Previous`] | `POST /v1/me/player/next`, `POST /v1/me/player/previous` |
//!
//! Anything else gets a 404 (wrong method: 405) and is recorded like every request.
//!
//! # Scripting
//!
//! Each route has a queue of scripted [`Reply`]s, consumed one per request, and a default
//! used when the queue is empty ([`FakeSpotify::push`], [`FakeSpotify::set_default`]).
//! Defaults: 204 for the player and control routes; the token model for the token route.
//!
//! The **token model** behaves like Spotify's accounts service: it knows the client id (and,
//! optionally, the secret), the valid refresh tokens, the valid access tokens with their
//! expiry and the pending authorization codes. `POST /api/token` checks the client (Basic auth
//! with the secret, or `client_id` in the body for PKCE), then the grant: a refresh with an
//! unknown or revoked refresh token gives 400 `invalid_grant`, a wrong client 400
//! `invalid_client`. Whether a refresh hands out a new refresh token, and whether the old one
//! is revoked then, is the [`Rotation`] setting.
//!
//! The **authorize page** (`GET /authorize?client_id=..&response_type=code&redirect_uri=..
//! &state=..&code_challenge=..&code_challenge_method=S256`) checks its parameters like
//! Spotify (the client id, `response_type=code`, an http(s) `redirect_uri`, `S256`) and shows
//! a small HTML page with an **Agree** button (`#agree`) and a **Cancel** button (`#cancel`).
//! Agree issues a code registered with the challenge and redirects (302) to
//! `redirect_uri?code=..&state=..`; Cancel redirects to `redirect_uri?error=access_denied
//! &state=..`. [`FakeSpotify::set_authorize`] scripts the misbehaviours a client must
//! survive ([`AuthorizeScript`]: a tampered state, an expired code, an error);
//! [`FakeSpotify::issued_codes`] lists the codes handed out.
//!
//! API routes first check `Authorization: Bearer <token>` against the model (unless turned
//! off with [`FakeSpotify::set_require_auth`]): an unknown or expired access token gets a
//! 401 without consuming a scripted reply, as Spotify would.
//!
//! The 2026 refusals: [`Reply::quota_exceeded`] is the 429 of a used-up daily quota (with
//! its variants [`Reply::lower_case_retry_after`] and [`Reply::without_body`]), and
//! [`FakeSpotify::set_premium_lapsed`] makes every Web API call answer the 403 Spotify
//! gives when the app's owner has no Premium ([`Reply::premium_lapsed`]). Every request is
//! recorded ([`FakeSpotify::requests`]), so a test can count what a client sent.
//!
//! ```
//! use std::time::Duration;
//! use tonearm_tests::fake_spotify::{FakeSpotify, Reply, Rotation, Route};
//!
//! let fake = FakeSpotify::start();
//! fake.set_client("my-client", Some("my-secret"));
//! fake.add_refresh_token("refresh-0");
//! fake.set_rotation(Rotation::RotateAndRevokeOld);
//! let access = fake.add_access_token(Duration::from_secs(3600));
//! fake.set_default(Route::Player, Reply::json(200, r#"{"is_playing":true}"#));
//! fake.push(Route::Player, Reply::rate_limited(Some(7)));
//! fake.push(Route::Next, Reply::player_error(403, "PREMIUM_REQUIRED", "Premium required"));
//! // Point the client at fake.api_base() and fake.accounts_base(); afterwards:
//! assert!(fake.requests().is_empty());
//! # let _ = access;
//! ```

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use sha2::{Digest as _, Sha256};

/// The message of Spotify's 403 to every Web API call when the app's owner has no Premium.
pub const PREMIUM_LAPSED_MESSAGE: &str = "Active premium subscription required for the owner of \
    the app. When the subscription status changes, it can take a few hours before requests are \
    allowed again.";

/// The longest request body the fake reads; the rest is ignored.
const MAX_REQUEST_BODY: u64 = 1 << 20;

/// How long a hanging reply holds its connection at most (it lets go at once when the
/// server is dropped), so that no test can leave a thread behind for long.
const MAX_HANG: Duration = Duration::from_secs(120);

/// The endpoints the fake serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Route {
    /// `POST /api/token`.
    Token,
    /// `GET /authorize`: the consent page.
    Authorize,
    /// `POST /authorize/decide`: the consent page's Agree or Cancel.
    AuthorizeDecision,
    /// `GET /v1/me/player`.
    Player,
    /// `GET /v1/me/player/currently-playing`.
    CurrentlyPlaying,
    /// `PUT /v1/me/player/play`.
    Play,
    /// `PUT /v1/me/player/pause`.
    Pause,
    /// `POST /v1/me/player/next`.
    Next,
    /// `POST /v1/me/player/previous`.
    Previous,
    /// `GET /image/<name>`: a cover, as the image CDN serves them (no token needed;
    /// [`FakeSpotify::set_image`], else 404).
    Image,
    /// Any other path (always answered 404, or 405 for a known path with the wrong method).
    Unknown,
}

impl Route {
    /// The route for a method and a path (without the query).
    pub fn of(method: &str, path: &str) -> (Route, bool) {
        let (route, want) = match path {
            "/api/token" => (Route::Token, "POST"),
            "/authorize" => (Route::Authorize, "GET"),
            "/authorize/decide" => (Route::AuthorizeDecision, "POST"),
            "/v1/me/player" => (Route::Player, "GET"),
            "/v1/me/player/currently-playing" => (Route::CurrentlyPlaying, "GET"),
            "/v1/me/player/play" => (Route::Play, "PUT"),
            "/v1/me/player/pause" => (Route::Pause, "PUT"),
            "/v1/me/player/next" => (Route::Next, "POST"),
            "/v1/me/player/previous" => (Route::Previous, "POST"),
            p if p.starts_with("/image/") => (Route::Image, "GET"),
            _ => return (Route::Unknown, false),
        };
        (route, method.eq_ignore_ascii_case(want))
    }
}

/// How a reply's body goes over the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Delivery {
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
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    delay: Duration,
    delivery: Delivery,
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
        let body = serde_json::json!({"error": {"status": status, "message": message}});
        Reply::json(status, body.to_string())
    }

    /// A player error with a `reason`, e.g. 403 `PREMIUM_REQUIRED`, 404 `NO_ACTIVE_DEVICE`.
    pub fn player_error(status: u16, reason: &str, message: &str) -> Reply {
        let body = serde_json::json!({
            "error": {"status": status, "message": message, "reason": reason}
        });
        Reply::json(status, body.to_string())
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
    /// [`FakeSpotify::set_premium_lapsed`].
    pub fn premium_lapsed() -> Reply {
        Reply::api_error(403, PREMIUM_LAPSED_MESSAGE)
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

fn token_error(error: &str, description: &str) -> Reply {
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
/// [`FakeSpotify::set_authorize`]; it applies to every later decision.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[must_use]
pub struct AuthorizeScript {
    state: Option<String>,
    expired_code: bool,
    error: Option<String>,
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

/// One request the fake received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedRequest {
    /// The route it matched.
    pub route: Route,
    /// `GET`, `PUT`, ...
    pub method: String,
    /// Path and query, as sent.
    pub path_and_query: String,
    /// Headers in the order received (names as sent).
    pub headers: Vec<(String, String)>,
    /// The body (at most 1 MiB is read).
    pub body: Vec<u8>,
    /// When it arrived, since the fake started.
    pub at: Duration,
}

impl RecordedRequest {
    /// The first header named `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The path without the query.
    pub fn path(&self) -> &str {
        self.path_and_query
            .split_once('?')
            .map_or(self.path_and_query.as_str(), |(p, _)| p)
    }

    /// The query (after `?`), if any.
    pub fn query(&self) -> Option<&str> {
        self.path_and_query.split_once('?').map(|(_, q)| q)
    }

    /// The form fields of an `application/x-www-form-urlencoded` body, decoded.
    pub fn form(&self) -> Vec<(String, String)> {
        parse_form(&self.body)
    }

    /// The decoded form field `name`.
    pub fn form_field(&self, name: &str) -> Option<String> {
        self.form()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }
}

/// A pending authorization code (the `/authorize` step happened "before").
#[derive(Clone, Debug)]
struct AuthCode {
    redirect_uri: String,
    /// `Some` for PKCE: base64url(SHA-256(verifier)), no padding.
    code_challenge: Option<String>,
}

#[derive(Debug)]
struct TokenModel {
    client_id: String,
    client_secret: Option<String>,
    refresh_tokens: HashSet<String>,
    /// Access token -> when it expires.
    access_tokens: HashMap<String, Instant>,
    codes: HashMap<String, AuthCode>,
    rotation: Rotation,
    expires_in: u64,
    access_token_len: usize,
    scope: String,
    issued: u64,
}

impl TokenModel {
    fn new_token(&mut self, kind: &str, len: usize) -> String {
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

    fn issue_access(&mut self, now: Instant) -> String {
        let token = self.new_token("access", self.access_token_len);
        self.access_tokens
            .insert(token.clone(), now + Duration::from_secs(self.expires_in));
        token
    }

    fn access_valid(&self, token: &str, now: Instant) -> bool {
        self.access_tokens.get(token).is_some_and(|exp| now < *exp)
    }
}

#[derive(Debug)]
struct State {
    queues: HashMap<Route, VecDeque<Reply>>,
    defaults: HashMap<Route, Reply>,
    tokens: TokenModel,
    require_auth: bool,
    /// Every Web API call answers [`Reply::premium_lapsed`].
    premium_lapsed: bool,
    requests: Vec<RecordedRequest>,
    authorize: AuthorizeScript,
    issued_codes: Vec<String>,
    /// Replies of `/image/<name>` by name.
    images: HashMap<String, Reply>,
}

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    /// Wakes hanging replies and `wait_for_requests` callers.
    changed: Condvar,
    stop: AtomicBool,
    started: Instant,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking test thread must not wedge every other test using this fake.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The fake server. Dropping it stops the server and releases hanging replies.
pub struct FakeSpotify {
    shared: Arc<Shared>,
    server: Arc<tiny_http::Server>,
    addr: SocketAddr,
    thread: Option<JoinHandle<()>>,
}

impl FakeSpotify {
    /// Starts a fake on `127.0.0.1` with a free port. Panics if it cannot bind (a test
    /// helper: the test cannot go on then).
    pub fn start() -> FakeSpotify {
        FakeSpotify::try_start().unwrap_or_else(|e| panic!("cannot start the fake Spotify: {e}"))
    }

    /// Starts a fake on `127.0.0.1` with a free port.
    pub fn try_start() -> Result<FakeSpotify, Box<dyn std::error::Error + Send + Sync>> {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0")?);
        let addr = server
            .server_addr()
            .to_ip()
            .ok_or("the fake's listener has no IP address")?;
        let mut defaults = HashMap::new();
        for route in [
            Route::Player,
            Route::CurrentlyPlaying,
            Route::Play,
            Route::Pause,
            Route::Next,
            Route::Previous,
        ] {
            defaults.insert(route, Reply::no_content());
        }
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                images: HashMap::new(),
                queues: HashMap::new(),
                defaults,
                tokens: TokenModel {
                    client_id: "tonearm-test-client".to_owned(),
                    client_secret: None,
                    refresh_tokens: HashSet::new(),
                    access_tokens: HashMap::new(),
                    codes: HashMap::new(),
                    rotation: Rotation::Never,
                    expires_in: 3600,
                    access_token_len: 64,
                    scope: "user-read-currently-playing user-read-playback-state \
                            user-modify-playback-state"
                        .to_owned(),
                    issued: 0,
                },
                require_auth: true,
                premium_lapsed: false,
                requests: Vec::new(),
                authorize: AuthorizeScript::new(),
                issued_codes: Vec::new(),
            }),
            changed: Condvar::new(),
            stop: AtomicBool::new(false),
            started: Instant::now(),
        });
        let thread = {
            let shared = Arc::clone(&shared);
            let server = Arc::clone(&server);
            std::thread::Builder::new()
                .name("fake-spotify".to_owned())
                .spawn(move || serve(&server, &shared))?
        };
        Ok(FakeSpotify {
            shared,
            server,
            addr,
            thread: Some(thread),
        })
    }

    /// The listening address (always `127.0.0.1:<port>`).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The Web API base, `http://127.0.0.1:<port>/v1` (the config's `api_base`).
    pub fn api_base(&self) -> String {
        format!("{}/v1", self.base_url())
    }

    /// The accounts base, `http://127.0.0.1:<port>` (the config's `accounts_base`).
    pub fn accounts_base(&self) -> String {
        self.base_url()
    }

    /// A full URL for `path_and_query` (which starts with `/`).
    pub fn url(&self, path_and_query: &str) -> String {
        format!("{}{path_and_query}", self.base_url())
    }

    /// Serves `jpeg` at `/image/<name>` (200, `image/jpeg`), as often as it is asked.
    pub fn set_image(&self, name: &str, jpeg: impl Into<Vec<u8>>) {
        self.set_image_reply(
            name,
            Reply::new(200)
                .header("Content-Type", "image/jpeg")
                .body(jpeg),
        );
    }

    /// Answers `/image/<name>` with `reply`, as often as it is asked.
    pub fn set_image_reply(&self, name: &str, reply: Reply) {
        self.shared.lock().images.insert(name.to_owned(), reply);
    }

    /// The URL of `/image/<name>` on this server.
    pub fn image_url(&self, name: &str) -> String {
        self.url(&format!("/image/{name}"))
    }

    /// Queues `reply` as the next answer on `route` (after those already queued).
    pub fn push(&self, route: Route, reply: Reply) {
        self.shared
            .lock()
            .queues
            .entry(route)
            .or_default()
            .push_back(reply);
    }

    /// The answer on `route` once its queue is empty. For [`Route::Token`] this replaces the
    /// token model; [`FakeSpotify::clear_default`] restores it.
    pub fn set_default(&self, route: Route, reply: Reply) {
        self.shared.lock().defaults.insert(route, reply);
    }

    /// Removes `route`'s default: the token model for [`Route::Token`], 204 for the others.
    pub fn clear_default(&self, route: Route) {
        let mut state = self.shared.lock();
        if route == Route::Token || route == Route::Unknown {
            state.defaults.remove(&route);
        } else {
            state.defaults.insert(route, Reply::no_content());
        }
    }

    /// How many scripted replies are still queued on `route`.
    pub fn queued(&self, route: Route) -> usize {
        self.shared
            .lock()
            .queues
            .get(&route)
            .map_or(0, VecDeque::len)
    }

    /// Whether API routes check the bearer token (default: yes).
    pub fn set_require_auth(&self, on: bool) {
        self.shared.lock().require_auth = on;
    }

    /// The app's owner loses (`true`) or regains Premium: while lost, every Web API call
    /// (player and control routes, whatever the token or the scripted replies) answers
    /// [`Reply::premium_lapsed`]. The accounts service and images are not affected.
    pub fn set_premium_lapsed(&self, lapsed: bool) {
        self.shared.lock().premium_lapsed = lapsed;
    }

    /// The registered client: its id, and its secret (`None`: PKCE only).
    pub fn set_client(&self, client_id: &str, client_secret: Option<&str>) {
        let mut state = self.shared.lock();
        state.tokens.client_id = client_id.to_owned();
        state.tokens.client_secret = client_secret.map(str::to_owned);
    }

    /// What a refresh does with the refresh token.
    pub fn set_rotation(&self, rotation: Rotation) {
        self.shared.lock().tokens.rotation = rotation;
    }

    /// `expires_in` of issued access tokens, in seconds (they really expire then).
    pub fn set_expires_in(&self, secs: u64) {
        self.shared.lock().tokens.expires_in = secs;
    }

    /// The length of issued access tokens (Spotify's reach about 600 characters).
    pub fn set_access_token_len(&self, len: usize) {
        self.shared.lock().tokens.access_token_len = len;
    }

    /// Makes `token` a valid refresh token.
    pub fn add_refresh_token(&self, token: &str) {
        self.shared
            .lock()
            .tokens
            .refresh_tokens
            .insert(token.to_owned());
    }

    /// Revokes one refresh token (a later refresh with it gets `invalid_grant`).
    pub fn revoke_refresh_token(&self, token: &str) {
        self.shared.lock().tokens.refresh_tokens.remove(token);
    }

    /// Revokes every refresh token (the 6-month expiry, or the user removed the app).
    pub fn revoke_all_refresh_tokens(&self) {
        self.shared.lock().tokens.refresh_tokens.clear();
    }

    /// The refresh tokens valid now, sorted.
    pub fn refresh_tokens(&self) -> Vec<String> {
        let mut tokens: Vec<String> = self
            .shared
            .lock()
            .tokens
            .refresh_tokens
            .iter()
            .cloned()
            .collect();
        tokens.sort();
        tokens
    }

    /// Issues an access token valid for `ttl` and returns it.
    pub fn add_access_token(&self, ttl: Duration) -> String {
        let mut state = self.shared.lock();
        let len = state.tokens.access_token_len;
        let token = state.tokens.new_token("access", len);
        state
            .tokens
            .access_tokens
            .insert(token.clone(), Instant::now() + ttl);
        token
    }

    /// Expires every access token issued so far (the next API call gets 401).
    pub fn expire_access_tokens(&self) {
        self.shared.lock().tokens.access_tokens.clear();
    }

    /// The access tokens valid now, sorted.
    pub fn access_tokens(&self) -> Vec<String> {
        let state = self.shared.lock();
        let now = Instant::now();
        let mut tokens: Vec<String> = state
            .tokens
            .access_tokens
            .iter()
            .filter(|(_, exp)| now < **exp)
            .map(|(t, _)| t.clone())
            .collect();
        tokens.sort();
        tokens
    }

    /// Registers an authorization code, as if the user had just approved the app with
    /// `redirect_uri`. With `code_challenge` (S256) the exchange must bring the matching
    /// `code_verifier` (PKCE). Codes are single-use.
    pub fn add_auth_code(&self, code: &str, redirect_uri: &str, code_challenge: Option<&str>) {
        self.shared.lock().tokens.codes.insert(
            code.to_owned(),
            AuthCode {
                redirect_uri: redirect_uri.to_owned(),
                code_challenge: code_challenge.map(str::to_owned),
            },
        );
    }

    /// How the authorize page behaves from now on.
    pub fn set_authorize(&self, script: AuthorizeScript) {
        self.shared.lock().authorize = script;
    }

    /// The codes the authorize page handed out (registered or, with
    /// [`AuthorizeScript::expired_code`], not), in order.
    pub fn issued_codes(&self) -> Vec<String> {
        self.shared.lock().issued_codes.clone()
    }

    /// Every request received so far, in order of arrival.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().requests.clone()
    }

    /// The requests received on `route`.
    pub fn requests_to(&self, route: Route) -> Vec<RecordedRequest> {
        self.shared
            .lock()
            .requests
            .iter()
            .filter(|r| r.route == route)
            .cloned()
            .collect()
    }

    /// Waits until at least `n` requests arrived or `timeout` passed; returns them all.
    pub fn wait_for_requests(&self, n: usize, timeout: Duration) -> Vec<RecordedRequest> {
        let deadline = Instant::now() + timeout;
        let mut state = self.shared.lock();
        while state.requests.len() < n {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            state = match self.shared.changed.wait_timeout(state, deadline - now) {
                Ok((guard, _)) => guard,
                Err(e) => e.into_inner().0,
            };
        }
        state.requests.clone()
    }

    /// Time since the fake started (the clock of [`RecordedRequest::at`]).
    pub fn elapsed(&self) -> Duration {
        self.shared.started.elapsed()
    }
}

impl std::fmt::Debug for FakeSpotify {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeSpotify")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Drop for FakeSpotify {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        {
            // Take the lock so no hanging reply misses the wake-up.
            let _state = self.shared.lock();
            self.shared.changed.notify_all();
        }
        self.server.unblock();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The accept loop: each request is answered on its own thread.
fn serve(server: &tiny_http::Server, shared: &Arc<Shared>) {
    while !shared.stop.load(Ordering::SeqCst) {
        let request = match server.recv_timeout(Duration::from_millis(50)) {
            Ok(Some(request)) => request,
            Ok(None) => continue,
            Err(_) => break,
        };
        let shared = Arc::clone(shared);
        let spawned = std::thread::Builder::new()
            .name("fake-spotify-request".to_owned())
            .spawn(move || handle(request, &shared));
        if spawned.is_err() {
            // Out of threads: the request is dropped, which answers 500.
            continue;
        }
    }
}

fn handle(mut request: tiny_http::Request, shared: &Shared) {
    let at = shared.started.elapsed();
    let method = request.method().as_str().to_owned();
    let path_and_query = request.url().to_owned();
    let headers: Vec<(String, String)> = request
        .headers()
        .iter()
        .map(|h| {
            (
                h.field.as_str().as_str().to_owned(),
                h.value.as_str().to_owned(),
            )
        })
        .collect();
    let mut body = Vec::new();
    let _ = request
        .as_reader()
        .take(MAX_REQUEST_BODY)
        .read_to_end(&mut body);
    let path = path_and_query
        .split_once('?')
        .map_or(path_and_query.as_str(), |(p, _)| p);
    let (route, method_ok) = Route::of(&method, path);
    let recorded = RecordedRequest {
        route,
        method,
        path_and_query: path_and_query.clone(),
        headers,
        body,
        at,
    };
    let reply = {
        let mut state = shared.lock();
        let reply = decide(&mut state, &recorded, method_ok);
        state.requests.push(recorded);
        shared.changed.notify_all();
        reply
    };
    deliver(request, &reply, shared);
}

/// The answer to one request (called with the state locked).
fn decide(state: &mut State, req: &RecordedRequest, method_ok: bool) -> Reply {
    if req.route == Route::Unknown {
        return Reply::api_error(404, "Service not found");
    }
    if !method_ok {
        return Reply::api_error(405, "Method not allowed");
    }
    if req.route == Route::Image {
        // The CDN: no token; a queued reply first, then the image of that name.
        if let Some(reply) = state
            .queues
            .get_mut(&Route::Image)
            .and_then(VecDeque::pop_front)
        {
            return reply;
        }
        let name = req.path().trim_start_matches("/image/");
        return state
            .images
            .get(name)
            .cloned()
            .unwrap_or_else(|| Reply::new(404).body("Not Found"));
    }
    let now = Instant::now();
    let accounts = matches!(
        req.route,
        Route::Token | Route::Authorize | Route::AuthorizeDecision
    );
    if !accounts && state.premium_lapsed {
        return Reply::premium_lapsed();
    }
    if !accounts && state.require_auth {
        let token = req
            .header("authorization")
            .and_then(|v| strip_prefix_ignore_case(v, "Bearer "))
            .map(str::trim);
        match token {
            None => return Reply::api_error(401, "No token provided"),
            Some(t) if !state.tokens.access_valid(t, now) => {
                return Reply::api_error(401, "The access token expired");
            }
            Some(_) => {}
        }
    }
    if let Some(reply) = state
        .queues
        .get_mut(&req.route)
        .and_then(VecDeque::pop_front)
    {
        return reply;
    }
    if let Some(reply) = state.defaults.get(&req.route) {
        return reply.clone();
    }
    // Only the accounts routes lack a default: the model answers.
    match req.route {
        Route::Authorize => authorize_page(&state.tokens, req),
        Route::AuthorizeDecision => authorize_decision(state, req),
        _ => token_endpoint(&mut state.tokens, req, now),
    }
}

/// An HTML page.
fn html_reply(status: u16, title: &str, body: &str) -> Reply {
    Reply::new(status)
        .header("Content-Type", "text/html; charset=utf-8")
        .header("Cache-Control", "no-store")
        .body(format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <title>{}</title></head>\n<body>{body}</body></html>\n",
            html_escape(title)
        ))
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// Percent-encodes a query component (all but RFC 3986's unreserved characters).
fn encode_component(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Checks the authorize parameters as Spotify does; `Err` is the error page.
fn authorize_params(
    model: &TokenModel,
    fields: &[(String, String)],
) -> Result<HashMap<String, String>, Reply> {
    let params: HashMap<String, String> = fields.iter().cloned().collect();
    let get = |name: &str| params.get(name).map(String::as_str);
    let refuse = |message: &str| Err(html_reply(400, "Error", &html_escape(message)));
    if get("client_id") != Some(model.client_id.as_str()) {
        return refuse("INVALID_CLIENT: Invalid client");
    }
    if get("response_type") != Some("code") {
        return refuse("unsupported_response_type: response_type must be code");
    }
    let redirect = get("redirect_uri").unwrap_or_default();
    if !(redirect.starts_with("http://") || redirect.starts_with("https://")) {
        return refuse("INVALID_CLIENT: Invalid redirect URI");
    }
    if get("code_challenge").is_some() && get("code_challenge_method") != Some("S256") {
        return refuse("invalid_request: code_challenge_method must be S256");
    }
    Ok(params)
}

/// `GET /authorize`: the consent page, its form carrying the parameters on.
fn authorize_page(model: &TokenModel, req: &RecordedRequest) -> Reply {
    let fields = parse_form(req.query().unwrap_or_default().as_bytes());
    let params = match authorize_params(model, &fields) {
        Ok(params) => params,
        Err(page) => return page,
    };
    let mut hidden = String::new();
    let mut names: Vec<&String> = params.keys().collect();
    names.sort();
    for name in names {
        let _ = write!(
            hidden,
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            html_escape(name),
            html_escape(&params[name])
        );
    }
    let scopes = params.get("scope").map_or("", String::as_str);
    html_reply(
        200,
        "Spotify (fake): authorize",
        &format!(
            "<h1>Connect {} to your Spotify account?</h1>\n<p id=\"scopes\">{}</p>\n\
             <form method=\"post\" action=\"/authorize/decide\">{hidden}\n\
             <button type=\"submit\" id=\"agree\" name=\"decision\" value=\"agree\">Agree</button>\n\
             <button type=\"submit\" id=\"cancel\" name=\"decision\" value=\"cancel\">Cancel</button>\n\
             </form>",
            html_escape(&params["client_id"]),
            html_escape(scopes)
        ),
    )
}

/// `POST /authorize/decide`: a code (Agree) or `access_denied` (Cancel), by a 302 to the
/// redirect URI.
fn authorize_decision(state: &mut State, req: &RecordedRequest) -> Reply {
    let fields = parse_form(&req.body);
    let params = match authorize_params(&state.tokens, &fields) {
        Ok(params) => params,
        Err(page) => return page,
    };
    let script = state.authorize.clone();
    let redirect_uri = params["redirect_uri"].clone();
    let sent_state = params.get("state").cloned().unwrap_or_default();
    let reply_state = script.state.clone().unwrap_or(sent_state);
    let outcome = match params.get("decision").map(String::as_str) {
        Some("agree") => match &script.error {
            Some(error) => format!("error={}", encode_component(error)),
            None => {
                let code = state.tokens.new_token("code", 48);
                state.issued_codes.push(code.clone());
                if !script.expired_code {
                    state.tokens.codes.insert(
                        code.clone(),
                        AuthCode {
                            redirect_uri: redirect_uri.clone(),
                            code_challenge: params.get("code_challenge").cloned(),
                        },
                    );
                }
                format!("code={}", encode_component(&code))
            }
        },
        Some("cancel") => "error=access_denied".to_owned(),
        _ => return html_reply(400, "Error", "invalid_request: no decision"),
    };
    let separator = if redirect_uri.contains('?') { '&' } else { '?' };
    let location = format!(
        "{redirect_uri}{separator}{outcome}&state={}",
        encode_component(&reply_state)
    );
    Reply::new(302)
        .header("Location", &location)
        .header("Cache-Control", "no-store")
}

/// The token model's answer to `POST /api/token`.
fn token_endpoint(model: &mut TokenModel, req: &RecordedRequest, now: Instant) -> Reply {
    let form = parse_form(&req.body);
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    // The client: Basic auth (with the secret), or client_id in the body (PKCE).
    let pkce = match req.header("authorization") {
        Some(value) => {
            let Some(encoded) = strip_prefix_ignore_case(value, "Basic ") else {
                return Reply::invalid_client();
            };
            let Ok(decoded) = STANDARD.decode(encoded.trim()) else {
                return Reply::invalid_client();
            };
            let decoded = String::from_utf8_lossy(&decoded);
            let Some((id, secret)) = decoded.split_once(':') else {
                return Reply::invalid_client();
            };
            if id != model.client_id || model.client_secret.as_deref() != Some(secret) {
                return Reply::invalid_client();
            }
            false
        }
        None => {
            if field("client_id") != Some(model.client_id.as_str()) {
                return Reply::invalid_client();
            }
            true
        }
    };
    match field("grant_type") {
        Some("refresh_token") => {
            let Some(old) = field("refresh_token") else {
                return token_error("invalid_request", "refresh_token must be supplied");
            };
            if !model.refresh_tokens.contains(old) {
                return Reply::invalid_grant();
            }
            let old = old.to_owned();
            let access = model.issue_access(now);
            let refresh = match model.rotation {
                Rotation::Never => None,
                Rotation::Rotate | Rotation::RotateAndRevokeOld => {
                    if model.rotation == Rotation::RotateAndRevokeOld {
                        model.refresh_tokens.remove(&old);
                    }
                    let new = model.new_token("refresh", 131);
                    model.refresh_tokens.insert(new.clone());
                    Some(new)
                }
            };
            token_reply(model, &access, refresh.as_deref())
        }
        Some("authorization_code") => {
            let Some(code) = field("code").and_then(|c| model.codes.remove(c)) else {
                return token_error("invalid_grant", "Invalid authorization code");
            };
            if field("redirect_uri") != Some(code.redirect_uri.as_str()) {
                return token_error("invalid_grant", "Invalid redirect URI");
            }
            if pkce {
                let Some(challenge) = code.code_challenge.as_deref() else {
                    return Reply::invalid_client();
                };
                let verifier = field("code_verifier").unwrap_or_default();
                let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
                if computed != challenge {
                    return token_error("invalid_grant", "code_verifier was incorrect");
                }
            }
            let access = model.issue_access(now);
            let refresh = model.new_token("refresh", 131);
            model.refresh_tokens.insert(refresh.clone());
            token_reply(model, &access, Some(&refresh))
        }
        _ => token_error(
            "unsupported_grant_type",
            "grant_type parameter is missing or unsupported",
        ),
    }
}

fn token_reply(model: &TokenModel, access: &str, refresh: Option<&str>) -> Reply {
    let mut body = serde_json::json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": model.expires_in,
        "scope": model.scope,
    });
    if let (Some(refresh), Some(obj)) = (refresh, body.as_object_mut()) {
        obj.insert("refresh_token".to_owned(), refresh.into());
    }
    Reply::json(200, body.to_string())
}

fn strip_prefix_ignore_case<'a>(value: &'a str, prefix: &str) -> Option<&'a str> {
    let head = value.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| value.get(prefix.len()..))
        .flatten()
}

/// Decodes an `application/x-www-form-urlencoded` body (`+` is a space, `%XX` a byte).
pub fn parse_form(body: &[u8]) -> Vec<(String, String)> {
    body.split(|b| *b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let mut it = pair.splitn(2, |b| *b == b'=');
            let key = it.next().unwrap_or_default();
            let value = it.next().unwrap_or_default();
            (percent_decode(key), percent_decode(value))
        })
        .collect()
}

fn percent_decode(input: &[u8]) -> String {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while let Some(&b) = input.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = input
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                if let Some(byte) = hex {
                    out.push(byte);
                    i += 2;
                } else {
                    out.push(b'%');
                }
            }
            _ => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        302 => "Found",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

/// Writes `reply` to the client. The response is written by hand on the raw connection,
/// so header names keep their spelling and trickled chunks really leave one by one.
fn deliver(request: tiny_http::Request, reply: &Reply, shared: &Shared) {
    if !reply.delay.is_zero() && !sleep_unless_stopped(shared, reply.delay) {
        return;
    }
    match reply.delivery {
        Delivery::Hang => {
            sleep_unless_stopped(shared, MAX_HANG);
            // Dropping the request now answers 500 on a connection nobody waits on.
            drop(request);
            return;
        }
        Delivery::Garbage => {
            let mut writer = request.into_writer();
            let _ = writer.write_all(b"THIS IS NOT HTTP\r\n\x00\x01\x02\r\n\r\n");
            let _ = writer.flush();
            return;
        }
        _ => {}
    }
    let status = reply.status;
    let mut head = format!("HTTP/1.1 {status} {}\r\n", reason_phrase(status));
    for (name, value) in &reply.headers {
        let _ = write!(head, "{name}: {value}\r\n");
    }
    let no_body = status == 204 || status == 304 || (100..200).contains(&status);
    match reply.delivery {
        Delivery::Truncated { .. } | Delivery::Chunked { .. } if !no_body => {
            head.push_str("Transfer-Encoding: chunked\r\n");
        }
        _ if no_body => {}
        _ => {
            let _ = write!(head, "Content-Length: {}\r\n", reply.body.len());
        }
    }
    head.push_str("\r\n");
    let mut writer = request.into_writer();
    if writer.write_all(head.as_bytes()).is_err() {
        return;
    }
    if no_body {
        let _ = writer.flush();
        return;
    }
    match reply.delivery {
        Delivery::Trickle { chunk, interval } => {
            for (i, piece) in reply.body.chunks(chunk).enumerate() {
                if i > 0 && !sleep_unless_stopped(shared, interval) {
                    return;
                }
                if writer
                    .write_all(piece)
                    .and_then(|()| writer.flush())
                    .is_err()
                {
                    return;
                }
            }
        }
        Delivery::Chunked { chunk } => {
            for piece in reply.body.chunks(chunk) {
                let _ = write!(writer, "{:x}\r\n", piece.len());
                let _ = writer.write_all(piece);
                let _ = writer.write_all(b"\r\n");
            }
            let _ = writer.write_all(b"0\r\n\r\n");
        }
        Delivery::Truncated { sent } => {
            let piece = reply.body.get(..sent).unwrap_or(&reply.body);
            let _ = write!(writer, "{:x}\r\n", piece.len());
            let _ = writer.write_all(piece);
            // Not a chunk-size line: the client's chunk decoder fails here.
            let _ = writer.write_all(b"\r\nnot-a-chunk-size\r\n");
        }
        _ => {
            let _ = writer.write_all(&reply.body);
        }
    }
    let _ = writer.flush();
}

/// Sleeps for `duration`, waking early if the fake is dropped. Returns false if it was.
fn sleep_unless_stopped(shared: &Shared, duration: Duration) -> bool {
    let deadline = Instant::now() + duration;
    let mut state = shared.lock();
    loop {
        if shared.stop.load(Ordering::SeqCst) {
            return false;
        }
        let now = Instant::now();
        if now >= deadline {
            return true;
        }
        state = match shared.changed.wait_timeout(state, deadline - now) {
            Ok((guard, _)) => guard,
            Err(e) => e.into_inner().0,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader};
    use std::net::TcpStream;

    /// A minimal raw client (so the fake's own tests do not depend on the code under test).
    fn raw(fake: &FakeSpotify, request: &str) -> String {
        let mut stream = TcpStream::connect(fake.addr()).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        stream.write_all(request.as_bytes()).expect("write");
        let mut out = Vec::new();
        let _ = stream.read_to_end(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    fn get(fake: &FakeSpotify, path: &str, token: Option<&str>) -> String {
        let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
        raw(
            fake,
            &format!("GET {path} HTTP/1.1\r\nHost: x\r\n{auth}Connection: close\r\n\r\n"),
        )
    }

    fn post_token(fake: &FakeSpotify, auth: Option<&str>, form: &str) -> String {
        let auth = auth.map_or(String::new(), |a| format!("Authorization: {a}\r\n"));
        raw(
            fake,
            &format!(
                "POST /api/token HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: \
                 application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{form}",
                form.len()
            ),
        )
    }

    fn body_json(response: &str) -> serde_json::Value {
        let body = response.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        serde_json::from_str(body).unwrap_or(serde_json::Value::Null)
    }

    fn basic(id: &str, secret: &str) -> String {
        format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
    }

    #[test]
    fn scripted_replies_come_in_order_then_the_default() {
        let fake = FakeSpotify::start();
        fake.set_require_auth(false);
        fake.push(Route::Player, Reply::json(200, "{\"a\":1}"));
        fake.push(Route::Player, Reply::server_error_for_test());
        assert_eq!(fake.queued(Route::Player), 2);
        let first = get(&fake, "/v1/me/player?market=from_token", None);
        assert!(first.starts_with("HTTP/1.1 200 "), "{first}");
        assert!(first.ends_with("{\"a\":1}"), "{first}");
        assert!(get(&fake, "/v1/me/player", None).starts_with("HTTP/1.1 503 "));
        let third = get(&fake, "/v1/me/player", None);
        assert!(third.starts_with("HTTP/1.1 204 "), "{third}");
        assert!(!third.contains("Content-Length"), "{third}");
        let reqs = fake.requests_to(Route::Player);
        assert_eq!(reqs.len(), 3);
        assert_eq!(reqs[0].query(), Some("market=from_token"));
        assert_eq!(reqs[0].path(), "/v1/me/player");
        assert!(reqs[0].at <= reqs[1].at && reqs[1].at <= reqs[2].at);
    }

    impl Reply {
        fn server_error_for_test() -> Reply {
            Reply::api_error(503, "Service unavailable")
        }
    }

    #[test]
    fn api_routes_check_the_bearer_token_without_consuming_the_script() {
        let fake = FakeSpotify::start();
        fake.push(Route::CurrentlyPlaying, Reply::json(200, "{}"));
        let no_token = get(&fake, "/v1/me/player/currently-playing", None);
        assert!(no_token.starts_with("HTTP/1.1 401 "), "{no_token}");
        let wrong = get(&fake, "/v1/me/player/currently-playing", Some("nope"));
        assert!(wrong.starts_with("HTTP/1.1 401 "), "{wrong}");
        assert_eq!(body_json(&wrong)["error"]["status"], 401);
        assert_eq!(fake.queued(Route::CurrentlyPlaying), 1);
        let token = fake.add_access_token(Duration::from_secs(60));
        let ok = get(&fake, "/v1/me/player/currently-playing", Some(&token));
        assert!(ok.starts_with("HTTP/1.1 200 "), "{ok}");
        fake.expire_access_tokens();
        let expired = get(&fake, "/v1/me/player/currently-playing", Some(&token));
        assert!(expired.starts_with("HTTP/1.1 401 "), "{expired}");
        let short = fake.add_access_token(Duration::from_millis(1));
        std::thread::sleep(Duration::from_millis(20));
        let timed_out = get(&fake, "/v1/me/player", Some(&short));
        assert!(timed_out.starts_with("HTTP/1.1 401 "), "{timed_out}");
    }

    #[test]
    fn unknown_paths_and_wrong_methods() {
        let fake = FakeSpotify::start();
        assert!(get(&fake, "/v1/me/nothing", None).starts_with("HTTP/1.1 404 "));
        assert!(get(&fake, "/v1/me/player/next", None).starts_with("HTTP/1.1 405 "));
        assert_eq!(fake.requests()[1].route, Route::Next);
    }

    #[test]
    fn refresh_without_rotation_keeps_the_refresh_token() {
        let fake = FakeSpotify::start();
        fake.set_client("cid", Some("secret"));
        fake.add_refresh_token("r0");
        let resp = post_token(
            &fake,
            Some(&basic("cid", "secret")),
            "grant_type=refresh_token&refresh_token=r0",
        );
        assert!(resp.starts_with("HTTP/1.1 200 "), "{resp}");
        let json = body_json(&resp);
        assert_eq!(json["token_type"], "Bearer");
        assert_eq!(json["expires_in"], 3600);
        assert!(json.get("refresh_token").is_none());
        let access = json["access_token"].as_str().unwrap_or_default();
        assert_eq!(fake.access_tokens(), vec![access.to_owned()]);
        assert_eq!(fake.refresh_tokens(), vec!["r0".to_owned()]);
        let player = get(&fake, "/v1/me/player", Some(access));
        assert!(player.starts_with("HTTP/1.1 204 "), "{player}");
        let req = &fake.requests_to(Route::Token)[0];
        assert_eq!(req.form_field("refresh_token").as_deref(), Some("r0"));
    }

    #[test]
    fn rotation_with_revocation_invalidates_the_old_refresh_token() {
        let fake = FakeSpotify::start();
        fake.set_client("cid", None);
        fake.set_rotation(Rotation::RotateAndRevokeOld);
        fake.set_access_token_len(600);
        fake.add_refresh_token("r0");
        let resp = post_token(
            &fake,
            None,
            "grant_type=refresh_token&refresh_token=r0&client_id=cid",
        );
        let json = body_json(&resp);
        let new = json["refresh_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(!new.is_empty() && new != "r0", "{resp}");
        assert_eq!(json["access_token"].as_str().map(str::len), Some(600));
        assert_eq!(fake.refresh_tokens(), vec![new.clone()]);
        let again = post_token(
            &fake,
            None,
            "grant_type=refresh_token&refresh_token=r0&client_id=cid",
        );
        assert!(again.starts_with("HTTP/1.1 400 "), "{again}");
        assert_eq!(body_json(&again)["error"], "invalid_grant");
        let with_new = post_token(
            &fake,
            None,
            &format!("grant_type=refresh_token&refresh_token={new}&client_id=cid"),
        );
        assert!(with_new.starts_with("HTTP/1.1 200 "), "{with_new}");
    }

    #[test]
    fn rotation_without_revocation_keeps_both() {
        let fake = FakeSpotify::start();
        fake.set_client("cid", None);
        fake.set_rotation(Rotation::Rotate);
        fake.add_refresh_token("r0");
        let resp = post_token(
            &fake,
            None,
            "grant_type=refresh_token&refresh_token=r0&client_id=cid",
        );
        let new = body_json(&resp)["refresh_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let mut expected = vec!["r0".to_owned(), new];
        expected.sort();
        assert_eq!(fake.refresh_tokens(), expected);
    }

    #[test]
    fn wrong_client_credentials_are_invalid_client() {
        let fake = FakeSpotify::start();
        fake.set_client("cid", Some("secret"));
        fake.add_refresh_token("r0");
        let form = "grant_type=refresh_token&refresh_token=r0";
        for auth in [
            Some(basic("cid", "wrong")),
            Some(basic("other", "secret")),
            Some("Basic !!!".to_owned()),
            Some("Bearer x".to_owned()),
            None,
        ] {
            let resp = post_token(&fake, auth.as_deref(), form);
            assert!(resp.starts_with("HTTP/1.1 400 "), "{resp}");
            assert_eq!(body_json(&resp)["error"], "invalid_client", "{auth:?}");
        }
        // PKCE with the wrong client id.
        let resp = post_token(&fake, None, &format!("{form}&client_id=other"));
        assert_eq!(body_json(&resp)["error"], "invalid_client");
        // Revoked: invalid_grant.
        fake.revoke_all_refresh_tokens();
        let resp = post_token(&fake, Some(&basic("cid", "secret")), form);
        assert_eq!(body_json(&resp)["error"], "invalid_grant");
    }

    #[test]
    fn pkce_code_exchange_checks_the_verifier() {
        let fake = FakeSpotify::start();
        fake.set_client("cid", None);
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        // RFC 7636, appendix B.
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        let redirect = "http://127.0.0.1:8888/callback";
        fake.add_auth_code("code1", redirect, Some(challenge));
        fake.add_auth_code("code2", redirect, Some(challenge));
        let form = |code: &str, v: &str| {
            format!(
                "grant_type=authorization_code&code={code}&redirect_uri=http%3A%2F%2F127.0.0.1\
                 %3A8888%2Fcallback&client_id=cid&code_verifier={v}"
            )
        };
        let bad = post_token(&fake, None, &form("code1", "wrong-verifier"));
        assert_eq!(body_json(&bad)["error"], "invalid_grant", "{bad}");
        let good = post_token(&fake, None, &form("code2", verifier));
        assert!(good.starts_with("HTTP/1.1 200 "), "{good}");
        let refresh = body_json(&good)["refresh_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert_eq!(fake.refresh_tokens(), vec![refresh]);
        // Single use.
        let reuse = post_token(&fake, None, &form("code2", verifier));
        assert_eq!(body_json(&reuse)["error"], "invalid_grant");
    }

    const RFC_VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const RFC_CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    const AUTHORIZE_QUERY: &str = "client_id=cid&response_type=code&redirect_uri=http%3A%2F%2F\
        127.0.0.1%3A8888%2Fcallback&scope=user-read-currently-playing%20user-modify-playback-state\
        &state=st%2B1&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM\
        &code_challenge_method=S256";

    fn decide(fake: &FakeSpotify, decision: &str) -> String {
        let form = format!("{AUTHORIZE_QUERY}&decision={decision}");
        raw(
            fake,
            &format!(
                "POST /authorize/decide HTTP/1.1\r\nHost: x\r\nContent-Type: \
                 application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{form}",
                form.len()
            ),
        )
    }

    fn location(response: &str) -> String {
        response
            .lines()
            .find_map(|l| l.strip_prefix("Location: "))
            .unwrap_or_default()
            .to_owned()
    }

    #[test]
    fn authorize_page_offers_agree_and_cancel_and_carries_the_parameters() {
        let fake = FakeSpotify::start();
        fake.set_client("cid", None);
        // No bearer token needed on the accounts pages.
        let page = get(&fake, &format!("/authorize?{AUTHORIZE_QUERY}"), None);
        assert!(page.starts_with("HTTP/1.1 200 "), "{page}");
        assert!(page.contains("Content-Type: text/html"), "{page}");
        for want in [
            "id=\"agree\"",
            "id=\"cancel\"",
            "action=\"/authorize/decide\"",
            "name=\"state\" value=\"st+1\"",
            "name=\"redirect_uri\" value=\"http://127.0.0.1:8888/callback\"",
            &format!("name=\"code_challenge\" value=\"{RFC_CHALLENGE}\""),
            "user-read-currently-playing user-modify-playback-state",
        ] {
            assert!(page.contains(want), "{want}\n{page}");
        }
        assert_eq!(fake.requests_to(Route::Authorize).len(), 1);
        // Parameters Spotify would refuse.
        for (from, to) in [
            ("client_id=cid", "client_id=other"),
            ("response_type=code", "response_type=token"),
            ("redirect_uri=http", "redirect_uri=ftp"),
            ("code_challenge_method=S256", "code_challenge_method=plain"),
        ] {
            let query = AUTHORIZE_QUERY.replace(from, to);
            let page = get(&fake, &format!("/authorize?{query}"), None);
            assert!(page.starts_with("HTTP/1.1 400 "), "{to}: {page}");
        }
        assert!(fake.issued_codes().is_empty());
    }

    #[test]
    fn agree_redirects_with_a_code_bound_to_the_challenge() {
        let fake = FakeSpotify::start();
        fake.set_client("cid", None);
        let reply = decide(&fake, "agree");
        assert!(reply.starts_with("HTTP/1.1 302 "), "{reply}");
        let codes = fake.issued_codes();
        assert_eq!(codes.len(), 1);
        assert_eq!(
            location(&reply),
            format!(
                "http://127.0.0.1:8888/callback?code={}&state=st%2B1",
                codes[0]
            )
        );
        let form = |v: &str| {
            format!(
                "grant_type=authorization_code&code={}&redirect_uri=http%3A%2F%2F127.0.0.1\
                 %3A8888%2Fcallback&client_id=cid&code_verifier={v}",
                codes[0]
            )
        };
        let good = post_token(&fake, None, &form(RFC_VERIFIER));
        assert!(good.starts_with("HTTP/1.1 200 "), "{good}");
        let reuse = post_token(&fake, None, &form(RFC_VERIFIER));
        assert_eq!(body_json(&reuse)["error"], "invalid_grant");
    }

    #[test]
    fn cancel_and_the_scripted_misbehaviours() {
        let fake = FakeSpotify::start();
        fake.set_client("cid", None);
        let reply = decide(&fake, "cancel");
        assert_eq!(
            location(&reply),
            "http://127.0.0.1:8888/callback?error=access_denied&state=st%2B1"
        );
        assert!(fake.issued_codes().is_empty());

        fake.set_authorize(AuthorizeScript::new().tamper_state("forged"));
        let reply = decide(&fake, "agree");
        assert!(location(&reply).ends_with("&state=forged"), "{reply}");

        fake.set_authorize(AuthorizeScript::new().error("server_error"));
        let reply = decide(&fake, "agree");
        assert_eq!(
            location(&reply),
            "http://127.0.0.1:8888/callback?error=server_error&state=st%2B1"
        );

        fake.set_authorize(AuthorizeScript::new().expired_code());
        let reply = decide(&fake, "agree");
        let code = fake.issued_codes().pop().unwrap_or_default();
        assert!(
            location(&reply).contains(&format!("?code={code}&")),
            "{reply}"
        );
        let form = format!(
            "grant_type=authorization_code&code={code}&redirect_uri=http%3A%2F%2F127.0.0.1\
             %3A8888%2Fcallback&client_id=cid&code_verifier={RFC_VERIFIER}"
        );
        let expired = post_token(&fake, None, &form);
        assert_eq!(body_json(&expired)["error"], "invalid_grant", "{expired}");

        let nothing = decide(&fake, "maybe");
        assert!(nothing.starts_with("HTTP/1.1 400 "), "{nothing}");
    }

    #[test]
    fn scripted_token_replies_override_the_model() {
        let fake = FakeSpotify::start();
        fake.set_client("cid", Some("s"));
        fake.add_refresh_token("r0");
        fake.push(Route::Token, Reply::invalid_client());
        let form = "grant_type=refresh_token&refresh_token=r0";
        let first = post_token(&fake, Some(&basic("cid", "s")), form);
        assert_eq!(body_json(&first)["error"], "invalid_client");
        let second = post_token(&fake, Some(&basic("cid", "s")), form);
        assert!(second.starts_with("HTTP/1.1 200 "), "{second}");
    }

    #[test]
    fn rate_limit_header_is_sent_lower_case() {
        let fake = FakeSpotify::start();
        fake.set_require_auth(false);
        fake.push(Route::Player, Reply::rate_limited(Some(7)));
        fake.push(Route::Player, Reply::rate_limited(None));
        let with = get(&fake, "/v1/me/player", None);
        assert!(with.starts_with("HTTP/1.1 429 "), "{with}");
        assert!(with.contains("\r\nretry-after: 7\r\n"), "{with}");
        let without = get(&fake, "/v1/me/player", None);
        assert!(!without.to_ascii_lowercase().contains("retry-after"));
    }

    #[test]
    fn quota_answers_and_their_variants() {
        let fake = FakeSpotify::start();
        fake.set_require_auth(false);
        fake.push(Route::Player, Reply::quota_exceeded(Some(48_925)));
        fake.push(
            Route::Player,
            Reply::quota_exceeded(Some(21_600)).lower_case_retry_after(),
        );
        fake.push(
            Route::Player,
            Reply::quota_exceeded(Some(7_200)).without_body(),
        );
        fake.push(Route::Player, Reply::quota_exceeded(None));
        let first = get(&fake, "/v1/me/player", None);
        assert!(first.starts_with("HTTP/1.1 429 "), "{first}");
        assert!(first.contains("\r\nRetry-After: 48925\r\n"), "{first}");
        assert_eq!(
            body_json(&first),
            serde_json::json!({"error": {"status": 429, "message": "Too many requests",
                                         "reason": "QUOTA_EXCEEDED"}})
        );
        let lower = get(&fake, "/v1/me/player", None);
        assert!(lower.contains("\r\nretry-after: 21600\r\n"), "{lower}");
        assert!(!lower.contains("Retry-After"), "{lower}");
        assert_eq!(body_json(&lower)["error"]["reason"], "QUOTA_EXCEEDED");
        let bare = get(&fake, "/v1/me/player", None);
        assert!(bare.starts_with("HTTP/1.1 429 "), "{bare}");
        assert!(bare.contains("Retry-After: 7200\r\n"), "{bare}");
        assert!(bare.contains("Content-Length: 0\r\n"), "{bare}");
        assert!(
            !bare.to_ascii_lowercase().contains("content-type"),
            "{bare}"
        );
        assert!(bare.ends_with("\r\n\r\n"), "{bare}");
        let no_wait = get(&fake, "/v1/me/player", None);
        assert!(!no_wait.to_ascii_lowercase().contains("retry-after"));
        assert_eq!(body_json(&no_wait)["error"]["reason"], "QUOTA_EXCEEDED");
        assert_eq!(
            fake.requests_to(Route::Player).len(),
            4,
            "each one recorded"
        );
    }

    #[test]
    fn a_lapsed_premium_refuses_every_web_api_call() {
        let fake = FakeSpotify::start();
        fake.add_refresh_token("r0");
        fake.set_premium_lapsed(true);
        fake.push(Route::Player, Reply::json(200, "{}"));
        let send = |m: &str, p: &str| {
            raw(
                &fake,
                &format!("{m} {p} HTTP/1.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
            )
        };
        for (method, path) in [
            ("GET", "/v1/me/player"),
            ("GET", "/v1/me/player/currently-playing"),
            ("PUT", "/v1/me/player/play"),
            ("PUT", "/v1/me/player/pause"),
            ("POST", "/v1/me/player/next"),
            ("POST", "/v1/me/player/previous"),
        ] {
            let resp = send(method, path);
            assert!(resp.starts_with("HTTP/1.1 403 "), "{path}: {resp}");
            let body = body_json(&resp);
            assert_eq!(body["error"]["status"], 403);
            assert_eq!(body["error"]["message"], PREMIUM_LAPSED_MESSAGE);
            assert!(body["error"].get("reason").is_none(), "{body}");
        }
        assert!(
            PREMIUM_LAPSED_MESSAGE
                .starts_with("Active premium subscription required for the owner of the app. When")
        );
        assert!(PREMIUM_LAPSED_MESSAGE.ends_with("before requests are allowed again."));
        assert_eq!(
            fake.queued(Route::Player),
            1,
            "the scripted reply is not used"
        );
        // The accounts service still answers.
        let token = post_token(
            &fake,
            None,
            "grant_type=refresh_token&refresh_token=r0&client_id=tonearm-test-client",
        );
        assert!(token.starts_with("HTTP/1.1 200 "), "{token}");
        fake.set_premium_lapsed(false);
        assert!(send("GET", "/v1/me/player").starts_with("HTTP/1.1 401 "));
        assert_eq!(fake.requests().len(), 8);
    }

    #[test]
    fn controls_answer_as_scripted() {
        let fake = FakeSpotify::start();
        fake.set_require_auth(false);
        fake.push(Route::Play, Reply::opaque_ok());
        fake.push(
            Route::Next,
            Reply::player_error(403, "PREMIUM_REQUIRED", "Premium required"),
        );
        fake.push(
            Route::Previous,
            Reply::player_error(404, "NO_ACTIVE_DEVICE", "No active device"),
        );
        let send = |m: &str, p: &str| {
            raw(
                &fake,
                &format!("{m} {p} HTTP/1.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
            )
        };
        assert!(send("PUT", "/v1/me/player/play").starts_with("HTTP/1.1 200 "));
        assert!(send("PUT", "/v1/me/player/pause").starts_with("HTTP/1.1 204 "));
        let next = send("POST", "/v1/me/player/next");
        assert_eq!(body_json(&next)["error"]["reason"], "PREMIUM_REQUIRED");
        let prev = send("POST", "/v1/me/player/previous");
        assert!(prev.starts_with("HTTP/1.1 404 "));
        assert_eq!(body_json(&prev)["error"]["reason"], "NO_ACTIVE_DEVICE");
    }

    #[test]
    fn hanging_reply_is_released_when_the_fake_is_dropped() {
        let fake = FakeSpotify::start();
        fake.set_require_auth(false);
        fake.push(Route::Player, Reply::hang());
        let mut stream = TcpStream::connect(fake.addr()).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_millis(300)))
            .expect("timeout");
        stream
            .write_all(b"GET /v1/me/player HTTP/1.1\r\nConnection: close\r\n\r\n")
            .expect("write");
        let mut line = String::new();
        let got = BufReader::new(&stream).read_line(&mut line);
        assert!(got.is_err(), "a hanging reply answered: {line:?}");
        assert_eq!(fake.wait_for_requests(1, Duration::from_secs(5)).len(), 1);
        let started = Instant::now();
        drop(fake);
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn form_decoding() {
        assert_eq!(
            parse_form(b"a=1&b=x+y%2Fz&c&d=%zz&&e=%41"),
            vec![
                ("a".to_owned(), "1".to_owned()),
                ("b".to_owned(), "x y/z".to_owned()),
                ("c".to_owned(), String::new()),
                ("d".to_owned(), "%zz".to_owned()),
                ("e".to_owned(), "A".to_owned()),
            ]
        );
    }
}
