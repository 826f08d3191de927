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
//! | [`Route::Volume`] | `PUT /v1/me/player/volume?volume_percent=N` |
//! | [`Route::Queue`] | `GET /v1/me/player/queue` |
//! | [`Route::LibraryContains`] | `GET /v1/me/library/contains?uris=..` |
//! | [`Route::LibrarySave`], [`Route::LibraryRemove`] | `PUT /v1/me/library?uris=..`, `DELETE /v1/me/library?uris=..` |
//!
//! Anything else gets a 404 (wrong method: 405) and is recorded like every request.
//!
//! # Scripting
//!
//! Each route has a queue of scripted [`Reply`]s, consumed one per request, and a default
//! used when the queue is empty ([`FakeSpotify::push`], [`FakeSpotify::set_default`]).
//! Scripted replies are sent as given. Without a default, the token model answers the
//! token route and the **player model** the Web API routes.
//!
//! The **player model** is a playlist ([`FakeSpotify::set_playlist`], [`Item`]s), the item
//! loaded, one device and the user's library:
//!
//! - `GET /v1/me/player` and `/currently-playing`: 204 while nothing is loaded (the
//!   default: so an unscripted fake answers 204 as before) or no device is active
//!   ([`FakeSpotify::set_device_active`]); else 200 with the full body (the item's full
//!   object, `device` with `supports_volume` and `volume_percent` for `/me/player`). A
//!   `market` parameter removes `available_markets`; an episode without `episode` in
//!   `additional_types` comes as `item: null`.
//! - Play, pause, next, previous: 204 (next and previous move through the playlist, which
//!   wraps around), or 404 `NO_ACTIVE_DEVICE` ([`Reply::no_active_device`]) without an
//!   active device.
//! - `PUT /v1/me/player/volume?volume_percent=N`: `N` in 0..=100 (else 400), 404
//!   `NO_ACTIVE_DEVICE` without an active device, 403 `VOLUME_CONTROL_DISALLOW`
//!   ([`Reply::volume_control_disallowed`]) when the device does not support volume
//!   ([`FakeSpotify::set_supports_volume`]); else 204, and later `/me/player` bodies show
//!   the new `volume_percent` ([`FakeSpotify::volume_percent`]).
//! - `GET /v1/me/player/queue`: 200 `{"currently_playing": <full object or null>,
//!   "queue": [...]}` with up to 20 full objects (tracks with `available_markets` of 185
//!   codes, episodes with their long descriptions: tens of KB): the items after the
//!   current one, wrapping around the playlist, or the queue a test set
//!   ([`FakeSpotify::set_queue`]). Nothing playing: `{"currently_playing": null, "queue":
//!   []}`, still 200 (SPOTIFY-API.md documents no 204 for the queue).
//! - `GET /v1/me/library/contains?uris=a,b`: `[true,false]`, in order; `PUT` and `DELETE
//!   /v1/me/library?uris=..` save and remove (idempotent), answering 200 with an empty
//!   body. The URIs (`spotify:track:<id>`, `spotify:episode:<id>`, ..., at most 40) come
//!   comma-separated in the query, percent-encoded or not; a missing `uris`, a bad URI, or
//!   any request body (a JSON body is what Spotify refuses) is a 400 with Spotify's error
//!   body. The liked set: [`FakeSpotify::set_liked`], [`FakeSpotify::is_liked`].
//!
//! **Scopes**: every access token carries the scopes of [`FakeSpotify::set_scopes`]
//! (default [`ALL_SCOPES`]), and the token answer lists them in `scope` (omitted with
//! [`FakeSpotify::set_scope_in_token_answer`]). Each Web API route needs one of
//! [`Route::scopes`] (e.g. the library's `user-library-read` / `user-library-modify`);
//! without it: 403 `Insufficient client scope` ([`Reply::insufficient_scope`]), checked
//! after the token and before any scripted reply is consumed.
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
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

mod player;
mod record;
mod routes;
mod script;
mod server;
mod state;
#[cfg(test)]
mod tests;

pub use player::{DEFAULT_VOLUME_PERCENT, Item, ItemKind, MARKETS, MAX_LIBRARY_URIS, QUEUE_LEN};
use player::{PlayerModel, liked_key};
pub use record::{RecordedRequest, parse_form};
pub use routes::Route;
pub use script::{AuthorizeScript, Reply, Rotation};
use server::serve;
use state::{AuthCode, Shared, State, TokenModel};

/// The message of Spotify's 403 to every Web API call when the app's owner has no Premium.
pub const PREMIUM_LAPSED_MESSAGE: &str = "Active premium subscription required for the owner of \
    the app. When the subscription status changes, it can take a few hours before requests are \
    allowed again.";

/// Every scope the fake knows, the default of [`FakeSpotify::set_scopes`].
pub const ALL_SCOPES: [&str; 5] = [
    "user-read-currently-playing",
    "user-read-playback-state",
    "user-modify-playback-state",
    "user-library-read",
    "user-library-modify",
];

/// The longest request body the fake reads; the rest is ignored.
pub(super) const MAX_REQUEST_BODY: u64 = 1 << 20;

/// How long a hanging reply holds its connection at most (it lets go at once when the
/// server is dropped), so that no test can leave a thread behind for long.
pub(super) const MAX_HANG: Duration = Duration::from_secs(120);

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
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                images: HashMap::new(),
                queues: HashMap::new(),
                defaults: HashMap::new(),
                tokens: TokenModel {
                    client_id: "tonearm-test-client".to_owned(),
                    client_secret: None,
                    refresh_tokens: HashSet::new(),
                    access_tokens: HashMap::new(),
                    codes: HashMap::new(),
                    rotation: Rotation::Never,
                    expires_in: 3600,
                    access_token_len: 64,
                    scope: ALL_SCOPES.join(" "),
                    scope_in_answer: true,
                    issued: 0,
                },
                require_auth: true,
                premium_lapsed: false,
                requests: Vec::new(),
                authorize: AuthorizeScript::new(),
                issued_codes: Vec::new(),
                player: PlayerModel::new(),
            }),
            changed: Condvar::new(),
            stop: AtomicBool::new(false),
            started: Instant::now(),
        });
        shared.lock().player.image_base = format!("http://{addr}/image/");
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

    /// The answer on `route` once its queue is empty. This replaces the model (the token
    /// model for [`Route::Token`], the player model for the Web API routes);
    /// [`FakeSpotify::clear_default`] restores it.
    pub fn set_default(&self, route: Route, reply: Reply) {
        self.shared.lock().defaults.insert(route, reply);
    }

    /// Removes `route`'s default: the token model answers [`Route::Token`], the player
    /// model the Web API routes (204 for the player and control routes while nothing is
    /// loaded, as before there was a model).
    pub fn clear_default(&self, route: Route) {
        self.shared.lock().defaults.remove(&route);
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

    /// The scopes every access token carries (issued before or after; also with
    /// [`FakeSpotify::set_require_auth`] off), listed by token answers. Default:
    /// [`ALL_SCOPES`].
    pub fn set_scopes(&self, scopes: &[&str]) {
        self.shared.lock().tokens.scope = scopes.join(" ");
    }

    /// The scopes access tokens carry now.
    pub fn scopes(&self) -> Vec<String> {
        self.shared
            .lock()
            .tokens
            .scope
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    }

    /// Whether token answers carry the `scope` field (default: yes; `false` is an old
    /// answer without one).
    pub fn set_scope_in_token_answer(&self, on: bool) {
        self.shared.lock().tokens.scope_in_answer = on;
    }

    /// Loads `items` as the player's playlist: the first one plays from 0 (an empty list:
    /// nothing is loaded). The test's queue ([`FakeSpotify::set_queue`]) is kept.
    pub fn set_playlist(&self, items: Vec<Item>) {
        let mut state = self.shared.lock();
        state.player.playlist = items;
        state.player.playing = true;
        state.player.go_to(Some(0));
    }

    /// Loads item `index` of the playlist at position 0, keeping playing or paused
    /// (`None`, or past the end: nothing is loaded).
    pub fn set_current(&self, index: Option<usize>) {
        self.shared.lock().player.go_to(index);
    }

    /// The item loaded, if any.
    pub fn current(&self) -> Option<Item> {
        self.shared.lock().player.item().cloned()
    }

    /// Plays (`true`) or pauses the item loaded.
    pub fn set_playing(&self, playing: bool) {
        self.shared.lock().player.set_playing(playing);
    }

    /// Whether an item plays (loaded and not paused).
    pub fn is_playing(&self) -> bool {
        let state = self.shared.lock();
        state.player.playing && state.player.current.is_some()
    }

    /// The queue `GET /v1/me/player/queue` lists (its first [`QUEUE_LEN`] items), instead
    /// of the playlist's next items (`None`, the default).
    pub fn set_queue(&self, items: Option<Vec<Item>>) {
        self.shared.lock().player.queue = items;
    }

    /// The items the queue lists now (after the current one).
    pub fn queue(&self) -> Vec<Item> {
        self.shared.lock().player.upcoming()
    }

    /// Whether a device is active (default: yes). Without one the player routes answer
    /// 204 and the controls and volume 404 `NO_ACTIVE_DEVICE`.
    pub fn set_device_active(&self, active: bool) {
        self.shared.lock().player.device_active = active;
    }

    /// The device's `supports_volume` (default: `true`); `false`: volume requests get
    /// 403 `VOLUME_CONTROL_DISALLOW`.
    pub fn set_supports_volume(&self, supports: bool) {
        self.shared.lock().player.supports_volume = supports;
    }

    /// The device's `volume_percent` in `/me/player` bodies (`None`: `null`; default
    /// [`DEFAULT_VOLUME_PERCENT`]).
    pub fn set_volume_percent(&self, volume: Option<u8>) {
        self.shared.lock().player.volume_percent = volume;
    }

    /// The device's volume now (as set by a test or by `PUT /v1/me/player/volume`).
    pub fn volume_percent(&self) -> Option<u8> {
        self.shared.lock().player.volume_percent
    }

    /// Saves (`true`) or removes an item in the user's library. `id` is a URI
    /// (`spotify:episode:xyz`) or a track's bare id (`xyz` is `spotify:track:xyz`).
    pub fn set_liked(&self, id: &str, liked: bool) {
        let key = liked_key(id);
        let mut state = self.shared.lock();
        if liked {
            state.player.liked.insert(key);
        } else {
            state.player.liked.remove(&key);
        }
    }

    /// Whether the library holds `id` (a URI, or a track's bare id).
    pub fn is_liked(&self, id: &str) -> bool {
        self.shared.lock().player.liked.contains(&liked_key(id))
    }

    /// The URIs in the library, sorted.
    pub fn liked(&self) -> Vec<String> {
        let mut liked: Vec<String> = self.shared.lock().player.liked.iter().cloned().collect();
        liked.sort();
        liked
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
