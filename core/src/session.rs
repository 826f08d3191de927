//! The live session: tokens, the polling schedule, backoff, rate limits and controls, as
//! a state machine that does no I/O ("sans-IO", as in quinn-proto or rustls).
//!
//! A shell drives it:
//!
//! 1. [`Session::poll`] with the monotonic time says what to do: send a [`Request`] now, or
//!    wait until a given time (or until something happens: a button, a response).
//! 2. The shell performs the request and reports the response: [`Session::on_head`] with
//!    the status and `Retry-After`, [`Session::on_body`] with each chunk as it arrives (it
//!    goes straight into the streaming parsers), then [`Session::on_end`]; or
//!    [`Session::on_failure`] for a timeout or a connection error.
//! 3. [`Session::take_token_update`] hands out refreshed tokens to persist at once, and
//!    the state to show is read with [`Session::playback`] and [`Session::status`].
//!
//! Every rule is a pure function of the time it is told and its state: it never reads a
//! clock. `now_ms` MUST be monotonic (it may stand still, never go back); a `u64` of
//! milliseconds does not wrap in any device's life.

use core::fmt::Write as _;

use heapless::String;

use crate::budget::{Budget, QuotaState};
use crate::model::{Kind, NowPlaying};
use crate::parse::{ErrorBody, ErrorParser, NowPlayingParser, TokenParser, TokenResponse};
use crate::position::position_ms;
use crate::secret::Secret;
use crate::wall::{LocalTime, NightHours, WallClock};

/// Bytes of a client id (Spotify's are 32 hex digits).
pub const CLIENT_ID_CAP: usize = 64;
/// Bytes of a client secret (Spotify's are 32 hex digits).
pub const CLIENT_SECRET_CAP: usize = 64;
pub use crate::parse::{ACCESS_TOKEN_CAP, REFRESH_TOKEN_CAP};

/// The query every player request carries: episodes too (else a podcast is `item: null`),
/// and a market (which also drops the two `available_markets` arrays).
pub const PLAYER_QUERY: &str = "additional_types=track,episode&market=from_token";

/// How the device proves who it is when refreshing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    /// PKCE: the client id in the body, nothing secret on the device.
    Pkce,
    /// A client secret, sent as `Authorization: Basic base64(id:secret)`.
    Secret,
}

impl AuthMode {
    /// `pkce` or `secret`.
    pub const fn as_str(self) -> &'static str {
        match self {
            AuthMode::Pkce => "pkce",
            AuthMode::Secret => "secret",
        }
    }
}

/// What the session needs to know about the app and the user.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    /// The Spotify app's client id.
    pub client_id: String<CLIENT_ID_CAP>,
    /// The client secret, if the app uses one (then refreshes use Basic auth).
    pub client_secret: Option<Secret<CLIENT_SECRET_CAP>>,
    /// The refresh token; `None` means a login is needed.
    pub refresh_token: Option<Secret<REFRESH_TOKEN_CAP>>,
}

impl Credentials {
    /// The auth mode these credentials imply.
    pub fn mode(&self) -> AuthMode {
        if self.client_secret.is_some() {
            AuthMode::Secret
        } else {
            AuthMode::Pkce
        }
    }
}

/// The timing rules, all in milliseconds. The defaults are the documented behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// Poll interval while playing (also: a poll just after the predicted end).
    pub poll_playing_ms: u64,
    /// Poll interval while paused.
    pub poll_paused_ms: u64,
    /// First poll interval while nothing plays; it grows to [`Timing::poll_idle_max_ms`].
    pub poll_idle_ms: u64,
    /// Longest poll interval while nothing plays.
    pub poll_idle_max_ms: u64,
    /// How long after a control command the confirmation poll goes out.
    pub confirm_ms: u64,
    /// How long after the predicted end of a track its "did it change?" poll goes out.
    pub end_slack_ms: u64,
    /// Refresh the access token this long before it expires.
    pub refresh_early_ms: u64,
    /// First backoff after a failure; it doubles up to [`Timing::backoff_max_ms`].
    pub backoff_ms: u64,
    /// Longest backoff (jitter included).
    pub backoff_max_ms: u64,
    /// Without a good answer for this long, the state is `offline`.
    pub offline_after_ms: u64,
    /// A 429 wait at least this long shows the rate-limited screen (shorter: a stale badge).
    pub rate_limit_screen_ms: u64,
    /// A 429 without `Retry-After` waits this long (before jitter).
    pub retry_after_default_ms: u64,
    /// Nothing playing for this long asks the shell to blank the display.
    pub blank_after_ms: u64,
    /// How long a notice (Premium required, no active device) stays up.
    pub notice_ms: u64,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            poll_playing_ms: 5_000,
            poll_paused_ms: 15_000,
            poll_idle_ms: 10_000,
            poll_idle_max_ms: 60_000,
            confirm_ms: 400,
            end_slack_ms: 300,
            refresh_early_ms: 60_000,
            backoff_ms: 1_000,
            backoff_max_ms: 60_000,
            offline_after_ms: 60_000,
            rate_limit_screen_ms: 10_000,
            retry_after_default_ms: 30_000,
            blank_after_ms: 600_000,
            notice_ms: 4_000,
        }
    }
}

/// At most this many requests (API and token calls together) ...
pub const CEILING_REQUESTS: usize = 12;
/// ... in any window of this many ms, whatever happens.
pub const CEILING_WINDOW_MS: u64 = 30_000;

/// Which player endpoint the session polls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `/me/player`: adds the device, shuffle and repeat (scope `user-read-playback-state`).
    Player,
    /// `/me/player/currently-playing` (scope `user-read-currently-playing`).
    CurrentlyPlaying,
}

/// A button.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Pause when playing, resume when paused.
    PlayPause,
    /// Next item.
    Next,
    /// Previous item.
    Previous,
}

/// Why a control press was not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ControlRefused {
    /// `actions.disallows` forbids it for the current item.
    Disallowed,
    /// Nothing is known to be playing or paused.
    NothingPlaying,
    /// A login is needed or the configuration is broken.
    Halted,
    /// Another control is still waiting to be sent.
    Busy,
    /// The daily request budget (reserve included) is spent, or Spotify's quota is used
    /// up: nothing is sent ("Daily limit reached").
    DailyLimit,
    /// The screen was dark (night hours or the idle blank): the press only woke it.
    WokeUp,
}

/// Which server a request goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Host {
    /// The Web API (`api_base`, e.g. `https://api.spotify.com/v1`).
    Api,
    /// The accounts service (`accounts_base`, e.g. `https://accounts.spotify.com`).
    Accounts,
}

/// An HTTP method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// GET
    Get,
    /// POST
    Post,
    /// PUT
    Put,
}

impl Method {
    /// The method's name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
        }
    }
}

/// What a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    /// Poll the playback state.
    Poll(Endpoint),
    /// Refresh the access token.
    Refresh,
    /// Send a control command (`PlayPause` resolved to play or pause).
    Control(ControlCommand),
}

/// A control command as sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlCommand {
    /// `PUT /me/player/play`
    Play,
    /// `PUT /me/player/pause`
    Pause,
    /// `POST /me/player/next`
    Next,
    /// `POST /me/player/previous`
    Previous,
}

/// Bytes of an `Authorization` header value (`Bearer ` and the longest access token).
pub const AUTHORIZATION_CAP: usize = ACCESS_TOKEN_CAP + 16;
/// Bytes of a request body (a form with the refresh token and client id).
pub const BODY_CAP: usize = REFRESH_TOKEN_CAP * 3 + 128;

/// An HTTP request to send. The shell prefixes `path` with the base URL of `host`, sends
/// `authorization` as the `Authorization` header (never logging it), and the body, if any,
/// with `Content-Type: application/x-www-form-urlencoded`. An empty PUT/POST body still
/// needs `Content-Length: 0`.
#[derive(Clone, PartialEq, Eq)]
pub struct Request {
    /// What it is for.
    pub kind: RequestKind,
    /// The method.
    pub method: Method,
    /// Where it goes.
    pub host: Host,
    /// Path and query, relative to the host's base URL (`/me/player?...`, `/api/token`).
    pub path: String<96>,
    /// The `Authorization` header value (secret: never log it).
    pub authorization: String<AUTHORIZATION_CAP>,
    /// The form body (secret: never log it); empty for none.
    pub body: String<BODY_CAP>,
}

impl Request {
    /// `true` when there is a form body.
    pub fn has_form_body(&self) -> bool {
        !self.body.is_empty()
    }
}

impl core::fmt::Debug for Request {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Request")
            .field("kind", &self.kind)
            .field("method", &self.method)
            .field("host", &self.host)
            .field("path", &self.path)
            .field("authorization", &"<redacted>")
            .field(
                "body",
                &if self.body.is_empty() {
                    ""
                } else {
                    "<redacted>"
                },
            )
            .finish()
    }
}

/// What to do next.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(
    clippy::large_enum_variant,
    reason = "no alloc to box into; one lives at a time"
)]
pub enum Action {
    /// Send this request now and report its response.
    Send(Request),
    /// Nothing until this time, or until a button or a response.
    WaitUntil(u64),
    /// Nothing until a button or a response (a request is in flight, or the session is
    /// halted on a login or configuration problem).
    Wait,
}

/// A transport failure, reported instead of a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Failure {
    /// The connection could not be made (DNS, refused, TLS).
    Connect,
    /// No complete answer within the timeout.
    Timeout,
    /// The connection broke during the response.
    Io,
    /// The body was larger than the shell accepts.
    TooLarge,
}

/// The last thing the session has heard about playback.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(
    clippy::large_enum_variant,
    reason = "no alloc to box into; stored once"
)]
pub enum Playback {
    /// Nothing heard yet.
    Unknown,
    /// Nothing plays (204, or an empty state), since this time.
    Nothing {
        /// When nothing started (monotonic ms).
        since_ms: u64,
    },
    /// This plays (or is paused); it arrived at `received_ms`.
    Item {
        /// The state.
        np: NowPlaying,
        /// Local receive time (monotonic ms), the origin of position interpolation.
        received_ms: u64,
    },
}

/// A short message over the screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// 403 `PREMIUM_REQUIRED`: controls need Premium.
    PremiumRequired,
    /// 404 `NO_ACTIVE_DEVICE`: nothing to control.
    NoActiveDevice,
    /// The press was not allowed for this item (`disallows`).
    NotAllowed,
    /// Another control failed.
    ControlFailed,
    /// The daily request budget or Spotify's quota is spent: the press sent nothing.
    DailyLimit,
}

/// A configuration problem the user must fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigProblem {
    /// The accounts service says `invalid_client`: wrong client id or secret.
    InvalidClient,
    /// No client id is configured.
    MissingClientId,
    /// The app's owner has no Spotify Premium: Spotify refuses every Web API call (403
    /// "Active premium subscription required for the owner of the app"). The session
    /// probes once every 6 hours, and at a press.
    PremiumRequired,
}

/// How the connection to Spotify stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    /// The last answer was good.
    Good,
    /// Answers are failing; the last good one is this old (ms). Shown as a stale badge.
    Stale {
        /// Age of the last good answer in ms.
        age_ms: u64,
    },
    /// Nothing good for `offline_after_ms` or more.
    Offline {
        /// How long since the last good answer (or the first failure), in ms.
        for_ms: u64,
    },
    /// Spotify asked us to wait (429) this much longer.
    RateLimited {
        /// Remaining wait in ms.
        remaining_ms: u64,
    },
    /// The refresh token is gone, expired or revoked: run `tonearm login`.
    LoginNeeded,
    /// The refresh token was refused near the end of the six months a Spotify login
    /// lasts: a new login is needed, and this is why.
    LoginExpired,
    /// Spotify's daily quota for the developer account is used up (429
    /// `QUOTA_EXCEEDED`): nothing is sent until the hold ends.
    QuotaExceeded {
        /// When the hold ends, Unix seconds.
        until_unix_s: u64,
        /// How long until then, in ms.
        remaining_ms: u64,
    },
    /// The configuration is wrong.
    ConfigError(ConfigProblem),
}

/// The state to show, at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    /// The connection.
    pub health: Health,
    /// A notice to overlay, if one is up.
    pub notice: Option<Notice>,
    /// The screen is dark: night hours, or nothing has played for long (the idle blank).
    /// A press wakes it for [`WAKE_MS`].
    pub blank: bool,
    /// The six-month login ends soon: at this Unix second (shown from day
    /// [`LOGIN_WARN_DAYS`] after the login).
    pub login_ends_unix_s: Option<u64>,
}

/// A Spotify login ends this many days after the user authorized (refreshing does not
/// extend it).
pub const LOGIN_DAYS: u64 = 182;
/// From this many days after the login, the screens warn that it ends soon.
pub const LOGIN_WARN_DAYS: u64 = 168;
/// A press on a dark screen wakes it for this long, with the normal schedule.
pub const WAKE_MS: u64 = 120_000;
/// During night hours, at most one poll in this long.
pub const NIGHT_POLL_MS: u64 = 900_000;
/// While Spotify refuses the app for want of Premium, one probe this often.
pub const PREMIUM_PROBE_MS: u64 = 6 * 3_600_000;

/// Fresh tokens for the shell to persist at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenUpdate {
    /// The new access token.
    pub access_token: Secret<ACCESS_TOKEN_CAP>,
    /// Its lifetime from the moment of the update, in ms.
    pub expires_in_ms: u64,
    /// A new refresh token, which replaces the stored one (the old one may already be
    /// revoked). `None`: keep the stored one.
    pub refresh_token: Option<Secret<REFRESH_TOKEN_CAP>>,
}

/// The request in flight and how its response is being read.
#[derive(Debug, Clone)]
struct InFlight {
    kind: RequestKind,
    status: u16,
    retry_after_ms: Option<u64>,
    body: Body,
}

/// What a finished response body gave.
#[allow(
    clippy::large_enum_variant,
    reason = "no alloc to box into; one lives at a time"
)]
enum Outcome {
    /// No body was read (not needed for this status).
    Nothing,
    /// An empty player body (nothing playing).
    Blank,
    /// A body that did not parse.
    Malformed,
    State(NowPlaying),
    Token(TokenResponse),
    Error(Option<ErrorBody>),
}

/// The parser a response body goes into.
#[derive(Debug, Clone)]
#[allow(
    clippy::large_enum_variant,
    reason = "no alloc to box into; stored once"
)]
enum Body {
    Ignore,
    Player(NowPlayingParser),
    Token(TokenParser),
    Error(ErrorParser),
}

/// A small deterministic PRNG (xorshift64*) for jitter: no entropy source in no_std, and
/// determinism keeps the simulated-clock tests exact. Seed it per device.
#[derive(Debug, Clone)]
struct Jitter(u64);

impl Jitter {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A value in `0..=max`.
    fn upto(&mut self, max: u64) -> u64 {
        match max.checked_add(1) {
            Some(m) => self.next() % m,
            None => self.next(),
        }
    }
}

/// Quick re-polls allowed around a predicted track end while Spotify still shows the old one.
const END_REPOLLS: u8 = 3;

/// The session; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct Session {
    timing: Timing,
    creds: Credentials,
    access: Option<Secret<ACCESS_TOKEN_CAP>>,
    /// Monotonic time at which the access token expires.
    access_expires_ms: u64,
    endpoint: Endpoint,
    playback: Playback,
    in_flight: Option<InFlight>,
    /// The request to repeat once after a refresh (after a 401).
    retry_after_refresh: Option<RequestKind>,
    /// A 401 has been answered by a refresh already: a second one is a failure.
    refreshed_for_401: bool,
    pending_control: Option<ControlCommand>,
    next_poll_ms: u64,
    /// No request of any kind before this (429 or backoff).
    hold_until_ms: u64,
    rate_limited_until_ms: u64,
    /// The current 429 wait is long enough to show the rate-limited screen.
    rate_limit_long: bool,
    failures: u32,
    first_failure_ms: Option<u64>,
    last_good_ms: Option<u64>,
    idle_interval_ms: u64,
    end_repolls: u8,
    /// The moment a poll was scheduled for the predicted end of the track.
    end_poll: bool,
    halted: Option<Health>,
    notice: Option<(Notice, u64)>,
    token_update: Option<TokenUpdate>,
    /// Send times of the last [`CEILING_REQUESTS`] requests (a ring).
    sent: [u64; CEILING_REQUESTS],
    sent_count: u64,
    jitter: Jitter,
    /// Bumped whenever something to show changes.
    generation: u32,
    /// The daily request budget, its hourly counts and the quota hold.
    budget: Budget,
    /// The state changed since it was last handed out for persisting; `urgent`: a hold
    /// began or ended, or the effective budget moved.
    quota_dirty: bool,
    quota_urgent: bool,
    last_quota_save_ms: Option<u64>,
    /// Unix ms minus monotonic ms, and the local UTC offset, when the shell knows the time.
    wall: Option<(i64, i32)>,
    night: Option<NightHours>,
    /// A press woke the dark screen until this time.
    woken_until_ms: u64,
    /// When the user authorized (Unix s), for the six-month login.
    authorized_at_s: Option<u64>,
    /// The last change made by a person (a press, a skip or pause elsewhere, a start).
    last_activity_ms: u64,
    /// Since when the item shown is paused.
    paused_since_ms: Option<u64>,
    /// The next poll confirms a press (it may use the budget's reserve).
    confirm_poll: bool,
    /// Spotify refuses the app for want of Premium (probing every 6 hours).
    premium_blocked: bool,
    /// The end of the last quota hold (Unix s), shown until the first answer after it;
    /// the request after a hold may use the budget's reserve (a lowered budget may be
    /// spent already, and the screen must learn what plays).
    quota_shown_until_s: u64,
}

impl Session {
    /// A session with these credentials and timing; `seed` drives the jitter (use
    /// something device-specific so that many devices do not retry in step).
    pub fn new(creds: Credentials, timing: Timing, seed: u64) -> Self {
        let halted = if creds.client_id.is_empty() {
            Some(Health::ConfigError(ConfigProblem::MissingClientId))
        } else if creds.refresh_token.is_none() {
            Some(Health::LoginNeeded)
        } else {
            None
        };
        Session {
            idle_interval_ms: timing.poll_idle_ms,
            timing,
            creds,
            access: None,
            access_expires_ms: 0,
            endpoint: Endpoint::Player,
            playback: Playback::Unknown,
            in_flight: None,
            retry_after_refresh: None,
            refreshed_for_401: false,
            pending_control: None,
            next_poll_ms: 0,
            hold_until_ms: 0,
            rate_limited_until_ms: 0,
            rate_limit_long: false,
            failures: 0,
            first_failure_ms: None,
            last_good_ms: None,
            end_repolls: 0,
            end_poll: false,
            halted,
            notice: None,
            token_update: None,
            sent: [0; CEILING_REQUESTS],
            sent_count: 0,
            jitter: Jitter(seed | 1),
            generation: 0,
            budget: Budget::new(0, QuotaState::default()),
            quota_dirty: false,
            quota_urgent: false,
            last_quota_save_ms: None,
            wall: None,
            night: None,
            woken_until_ms: 0,
            authorized_at_s: None,
            last_activity_ms: 0,
            paused_since_ms: None,
            confirm_poll: false,
            premium_blocked: false,
            quota_shown_until_s: 0,
        }
    }

    /// Sets the daily request budget (`0`: none, today's fixed schedule) and the state
    /// persisted by the last run (hourly counts, a quota hold, the effective budget; see
    /// [`crate::budget`]). Call before the first [`Session::poll`].
    pub fn set_budget(&mut self, daily_requests: u32, state: QuotaState) {
        self.budget = Budget::new(daily_requests, state);
    }

    /// Sets night hours (local time): the screen is dark and polls are rare.
    pub fn set_night(&mut self, night: Option<NightHours>) {
        self.night = night;
    }

    /// When the user authorized this login (Unix seconds), if known: the login ends
    /// [`LOGIN_DAYS`] later, and the screens warn from day [`LOGIN_WARN_DAYS`].
    pub fn set_authorized_at(&mut self, unix_s: Option<u64>) {
        self.authorized_at_s = unix_s;
    }

    /// The time of day at monotonic `now_ms`, when the shell knows it. Call it again
    /// whenever the UTC offset may have changed (each minute is plenty).
    pub fn set_wall_clock(&mut self, now_ms: u64, wall: WallClock) {
        let offset = i64::try_from(wall.unix_ms)
            .unwrap_or(i64::MAX)
            .saturating_sub(i64::try_from(now_ms).unwrap_or(i64::MAX));
        // Only a real change of the time of day is news (not the ms of drift between calls).
        let news = self
            .wall
            .is_none_or(|(o, u)| u != wall.utc_offset_s || o.abs_diff(offset) >= 1_000);
        if news {
            self.generation = self.generation.wrapping_add(1);
        }
        self.wall = Some((offset, wall.utc_offset_s));
    }

    /// Unix ms at monotonic `now_ms`, when the time of day is known.
    pub fn unix_ms(&self, now_ms: u64) -> Option<u64> {
        let (offset, _) = self.wall?;
        u64::try_from(i64::try_from(now_ms).ok()?.saturating_add(offset)).ok()
    }

    /// The local UTC offset (seconds east) last told, when the time of day is known.
    pub fn utc_offset_s(&self) -> Option<i32> {
        self.wall.map(|(_, u)| u)
    }

    /// The local date and time at `now_ms`, when known.
    pub fn local_time(&self, now_ms: u64) -> Option<LocalTime> {
        let unix_ms = self.unix_ms(now_ms)?;
        Some(LocalTime::at(unix_ms / 1000, self.wall?.1))
    }

    /// The Unix second the budget counts with: the wall clock, or (before it is known)
    /// the monotonic clock, so the rules still hold within one run.
    fn budget_s(&self, now_ms: u64) -> u64 {
        self.unix_ms(now_ms).unwrap_or(now_ms) / 1000
    }

    /// The monotonic time of a Unix second (see [`Session::budget_s`]).
    fn mono_of_s(&self, unix_s: u64) -> u64 {
        let ms = unix_s.saturating_mul(1000);
        match self.wall {
            Some((offset, _)) => {
                let m = i64::try_from(ms).unwrap_or(i64::MAX).saturating_sub(offset);
                u64::try_from(m).unwrap_or(0)
            }
            None => ms,
        }
    }

    /// The effective daily budget and what is left of it; `None` without a budget.
    pub fn budget(&self) -> Option<(u32, u32)> {
        self.budget
            .is_set()
            .then(|| (self.budget.limit(), self.budget.left()))
    }

    /// The budget's state as it stands (hourly counts, hold, effective budget).
    pub fn quota_state(&self) -> &QuotaState {
        self.budget.state()
    }

    /// The budget's state to persist, when it changed: at once after a quota hold began
    /// or ended or the effective budget moved, otherwise at most once per `min_gap_ms`
    /// (a desktop may write every minute; a board's flash, once an hour).
    pub fn take_quota_save(&mut self, now_ms: u64, min_gap_ms: u64) -> Option<QuotaState> {
        if !self.quota_dirty {
            return None;
        }
        let due = self.quota_urgent
            || self
                .last_quota_save_ms
                .is_none_or(|t| now_ms.saturating_sub(t) >= min_gap_ms);
        if !due {
            return None;
        }
        self.quota_dirty = false;
        self.quota_urgent = false;
        self.last_quota_save_ms = Some(now_ms);
        Some(self.budget.state().clone())
    }

    /// The end of the quota hold in force at `now_ms` (Unix seconds), if any.
    pub fn quota_until(&self, now_ms: u64) -> Option<u64> {
        let until = self.budget.hold_until_s();
        (until != 0 && self.budget_s(now_ms) < until).then_some(until)
    }

    /// Whether night hours are in force at `now_ms` (a wake-up aside).
    fn is_night(&self, now_ms: u64) -> bool {
        match (self.night, self.local_time(now_ms)) {
            (Some(n), Some(t)) => n.contains(t.minute_of_day()),
            _ => false,
        }
    }

    /// Whether the screen is dark at `now_ms`: night hours or the idle blank, unless a
    /// press woke it.
    pub fn is_dark(&self, now_ms: u64) -> bool {
        if now_ms < self.woken_until_ms {
            return false;
        }
        let idle_blank = matches!(self.playback, Playback::Nothing { since_ms }
            if now_ms.saturating_sub(since_ms) >= self.timing.blank_after_ms);
        idle_blank || self.is_night(now_ms)
    }

    /// Starts from a stored access token valid for `valid_for_ms` more ms (from `now_ms`).
    /// An expired or nearly expired one is ignored (a refresh comes first).
    pub fn set_access_token(
        &mut self,
        token: Secret<ACCESS_TOKEN_CAP>,
        now_ms: u64,
        valid_for_ms: u64,
    ) {
        if token.is_empty() {
            return;
        }
        self.access = Some(token);
        self.access_expires_ms = now_ms.saturating_add(valid_for_ms);
    }

    /// Polls `/me/player/currently-playing` instead of `/me/player` (a token without the
    /// `user-read-playback-state` scope).
    pub fn set_endpoint(&mut self, endpoint: Endpoint) {
        self.endpoint = endpoint;
    }

    /// The endpoint being polled.
    pub fn endpoint(&self) -> Endpoint {
        self.endpoint
    }

    /// The auth mode refreshes use.
    pub fn auth_mode(&self) -> AuthMode {
        self.creds.mode()
    }

    /// The last playback state heard.
    pub fn playback(&self) -> &Playback {
        &self.playback
    }

    /// The current position of what plays, at `now_ms`.
    pub fn position_ms(&self, now_ms: u64) -> Option<u64> {
        match &self.playback {
            Playback::Item { np, received_ms } => Some(position_ms(np, *received_ms, now_ms)),
            _ => None,
        }
    }

    /// Bumped whenever the playback state, health or notice may have changed.
    pub fn generation(&self) -> u32 {
        self.generation
    }

    /// Fresh tokens to persist, once.
    pub fn take_token_update(&mut self) -> Option<TokenUpdate> {
        self.token_update.take()
    }

    /// `true` while a request is in flight.
    pub fn is_busy(&self) -> bool {
        self.in_flight.is_some()
    }

    /// The state to show at `now_ms`.
    pub fn status(&self, now_ms: u64) -> Status {
        let notice = self
            .notice
            .filter(|(_, until)| now_ms < *until)
            .map(|(n, _)| n);
        let blank = self.is_dark(now_ms);
        let health = if let Some(h) = self.halted {
            h
        } else if let Some(until_unix_s) = self.quota_until(now_ms).or(
            // After the hold, until the first answer: not the stale state of hours ago.
            (self.quota_shown_until_s != 0).then_some(self.quota_shown_until_s),
        ) {
            Health::QuotaExceeded {
                until_unix_s,
                remaining_ms: self.mono_of_s(until_unix_s).saturating_sub(now_ms),
            }
        } else if self.premium_blocked {
            Health::ConfigError(ConfigProblem::PremiumRequired)
        } else if now_ms < self.rate_limited_until_ms && self.rate_limit_long {
            Health::RateLimited {
                remaining_ms: self.rate_limited_until_ms - now_ms,
            }
        } else if let Some(first) = self.first_failure_ms {
            let age = now_ms.saturating_sub(self.last_good_ms.unwrap_or(first));
            if age >= self.timing.offline_after_ms {
                Health::Offline { for_ms: age }
            } else {
                Health::Stale { age_ms: age }
            }
        } else {
            Health::Good
        };
        let login_ends_unix_s = match (self.authorized_at_s, self.unix_ms(now_ms)) {
            (Some(at), Some(unix_ms))
                if unix_ms / 1000 >= at.saturating_add(LOGIN_WARN_DAYS * 86_400) =>
            {
                Some(at.saturating_add(LOGIN_DAYS * 86_400))
            }
            _ => None,
        };
        Status {
            health,
            notice,
            blank,
            login_ends_unix_s,
        }
    }

    /// What to do at `now_ms`.
    pub fn poll(&mut self, now_ms: u64) -> Action {
        if self.in_flight.is_some() || self.halted.is_some() {
            return Action::Wait;
        }
        let unix_s = self.budget_s(now_ms);
        if self.budget.advance(unix_s) {
            self.quota_dirty = true;
            self.quota_urgent = true;
            self.generation = self.generation.wrapping_add(1);
        }
        // A quota hold: nothing at all is sent (asking early lengthens the ban).
        if let Some(until) = self.quota_until(now_ms) {
            return Action::WaitUntil(self.mono_of_s(until).max(now_ms + 1));
        }
        let Some((kind, mut reserve)) = self.next_kind(now_ms) else {
            return Action::WaitUntil(self.next_due_ms());
        };
        let earliest = self.hold_until_ms.max(self.ceiling_free_at(now_ms));
        if now_ms < earliest {
            return Action::WaitUntil(earliest);
        }
        reserve |= self.quota_shown_until_s != 0;
        if !self.budget.allows(reserve) {
            // Nothing more this time: the quota screen (if up) gives way to the last state.
            self.quota_shown_until_s = 0;
            if let RequestKind::Control(_) = kind {
                // Presses are checked before they are queued; this one no longer fits.
                self.pending_control = None;
                self.set_notice(now_ms, Notice::DailyLimit);
                return Action::WaitUntil(now_ms + 1);
            }
            // Wait until an hour leaves the window (or a press).
            let release = self
                .budget
                .state()
                .next_release_s()
                .map_or(now_ms + 3_600_000, |s| self.mono_of_s(s));
            return Action::WaitUntil(release.max(now_ms + 1));
        }
        match self.build(kind) {
            Some(req) => {
                self.record_send(now_ms);
                self.budget.record();
                self.quota_dirty = true;
                if let RequestKind::Poll(_) = kind {
                    self.confirm_poll = false;
                }
                self.in_flight = Some(InFlight {
                    kind,
                    status: 0,
                    retry_after_ms: None,
                    body: Body::Ignore,
                });
                if let RequestKind::Control(_) = kind {
                    self.pending_control = None;
                }
                Action::Send(req)
            }
            // Cannot happen with bounded inputs that fitted; stop rather than spin.
            None => {
                self.halt(Health::ConfigError(ConfigProblem::InvalidClient));
                Action::Wait
            }
        }
    }

    /// The request due now, if any (ignoring holds and the ceiling), and whether it may
    /// use the budget's reserve (a press, its confirmation, and the refresh they need).
    fn next_kind(&self, now_ms: u64) -> Option<(RequestKind, bool)> {
        let due = if let Some(kind) = self.retry_after_refresh {
            Some((
                kind,
                matches!(kind, RequestKind::Control(_)) || self.confirm_poll,
            ))
        } else if let Some(c) = self.pending_control {
            Some((RequestKind::Control(c), true))
        } else {
            (now_ms >= self.next_poll_ms)
                .then_some((RequestKind::Poll(self.endpoint), self.confirm_poll))
        };
        // Without a budget the token is refreshed ahead of time, as always; with one,
        // only when a request needs it (an idle hour costs no refresh).
        let ahead = !self.budget.is_set() && !self.premium_blocked;
        if self.needs_refresh(now_ms) && (due.is_some() || ahead) {
            return Some((RequestKind::Refresh, due.is_some_and(|(_, r)| r)));
        }
        due
    }

    fn needs_refresh(&self, now_ms: u64) -> bool {
        self.access.is_none()
            || now_ms.saturating_add(self.timing.refresh_early_ms) >= self.access_expires_ms
    }

    /// When the next request becomes due (a poll, or the proactive refresh).
    fn next_due_ms(&self) -> u64 {
        let refresh_at = if self.budget.is_set() || self.premium_blocked {
            u64::MAX
        } else {
            self.access_expires_ms
                .saturating_sub(self.timing.refresh_early_ms)
        };
        self.next_poll_ms.min(refresh_at).max(self.hold_until_ms)
    }

    fn set_notice(&mut self, now_ms: u64, notice: Notice) {
        self.notice = Some((notice, now_ms.saturating_add(self.timing.notice_ms)));
        self.generation = self.generation.wrapping_add(1);
    }

    /// The earliest time the rolling ceiling allows another request.
    fn ceiling_free_at(&self, _now_ms: u64) -> u64 {
        if self.sent_count < CEILING_REQUESTS as u64 {
            return 0;
        }
        // The oldest of the last CEILING_REQUESTS sends must have left the window.
        let slot = (self.sent_count % CEILING_REQUESTS as u64) as usize;
        let oldest = self.sent.get(slot).copied().unwrap_or(0);
        oldest.saturating_add(CEILING_WINDOW_MS)
    }

    fn record_send(&mut self, now_ms: u64) {
        let slot = (self.sent_count % CEILING_REQUESTS as u64) as usize;
        if let Some(s) = self.sent.get_mut(slot) {
            *s = now_ms;
        }
        self.sent_count += 1;
    }

    fn build(&self, kind: RequestKind) -> Option<Request> {
        let mut req = Request {
            kind,
            method: Method::Get,
            host: Host::Api,
            path: String::new(),
            authorization: String::new(),
            body: String::new(),
        };
        match kind {
            RequestKind::Refresh => {
                req.method = Method::Post;
                req.host = Host::Accounts;
                req.path.push_str("/api/token").ok()?;
                let refresh = self.creds.refresh_token.as_ref()?;
                req.body
                    .push_str("grant_type=refresh_token&refresh_token=")
                    .ok()?;
                form_encode(&mut req.body, refresh.expose())?;
                match &self.creds.client_secret {
                    Some(secret) => basic_auth(
                        &mut req.authorization,
                        &self.creds.client_id,
                        secret.expose(),
                    )?,
                    None => {
                        req.body.push_str("&client_id=").ok()?;
                        form_encode(&mut req.body, &self.creds.client_id)?;
                    }
                }
            }
            RequestKind::Poll(endpoint) => {
                let path = match endpoint {
                    Endpoint::Player => "/me/player",
                    Endpoint::CurrentlyPlaying => "/me/player/currently-playing",
                };
                write!(req.path, "{path}?{PLAYER_QUERY}").ok()?;
                self.bearer(&mut req.authorization)?;
            }
            RequestKind::Control(c) => {
                let (method, path) = match c {
                    ControlCommand::Play => (Method::Put, "/me/player/play"),
                    ControlCommand::Pause => (Method::Put, "/me/player/pause"),
                    ControlCommand::Next => (Method::Post, "/me/player/next"),
                    ControlCommand::Previous => (Method::Post, "/me/player/previous"),
                };
                req.method = method;
                req.path.push_str(path).ok()?;
                self.bearer(&mut req.authorization)?;
            }
        }
        Some(req)
    }

    fn bearer(&self, out: &mut String<AUTHORIZATION_CAP>) -> Option<()> {
        out.push_str("Bearer ").ok()?;
        out.push_str(self.access.as_ref()?.expose()).ok()
    }

    /// A button was pressed at `now_ms`. Controls that `disallows` forbids are not sent.
    /// Play/pause updates the state at once (the next poll confirms it).
    ///
    /// A press on a dark screen (night hours, the idle blank) only wakes it for
    /// [`WAKE_MS`], with the normal schedule. During a quota hold, or when even the
    /// budget's reserve is spent, nothing is sent and the notice says "Daily limit".
    /// While Spotify refuses the app for want of Premium, a press sends one probe.
    pub fn press(&mut self, now_ms: u64, control: Control) -> Result<(), ControlRefused> {
        if self.halted.is_some() {
            return Err(ControlRefused::Halted);
        }
        if self.is_dark(now_ms) {
            self.woken_until_ms = now_ms.saturating_add(WAKE_MS);
            self.last_activity_ms = now_ms;
            // Show what plays now, from a fresh answer.
            self.next_poll_ms = self.next_poll_ms.min(now_ms);
            self.generation = self.generation.wrapping_add(1);
            return Err(ControlRefused::WokeUp);
        }
        if self.quota_until(now_ms).is_some() {
            self.set_notice(now_ms, Notice::DailyLimit);
            return Err(ControlRefused::DailyLimit);
        }
        if self.premium_blocked {
            self.next_poll_ms = self.next_poll_ms.min(now_ms);
            self.confirm_poll = true;
            return Err(ControlRefused::Halted);
        }
        // The command and the poll that confirms it must both fit in the budget.
        if self.budget.is_set() && self.budget.used().saturating_add(2) > self.budget.limit() {
            self.set_notice(now_ms, Notice::DailyLimit);
            return Err(ControlRefused::DailyLimit);
        }
        let Playback::Item { np, received_ms } = &mut self.playback else {
            return Err(ControlRefused::NothingPlaying);
        };
        let d = np.disallows;
        // A restricted device takes no commands at all.
        let restricted = np.device.as_ref().is_some_and(|dev| dev.is_restricted);
        let command = match control {
            _ if restricted => None,
            Control::PlayPause if np.is_playing => (!d.pausing).then_some(ControlCommand::Pause),
            Control::PlayPause => (!d.resuming).then_some(ControlCommand::Play),
            Control::Next => (!d.skipping_next).then_some(ControlCommand::Next),
            Control::Previous => (!d.skipping_prev).then_some(ControlCommand::Previous),
        };
        let Some(command) = command else {
            self.notice = Some((
                Notice::NotAllowed,
                now_ms.saturating_add(self.timing.notice_ms),
            ));
            self.generation = self.generation.wrapping_add(1);
            return Err(ControlRefused::Disallowed);
        };
        // A second press before the first went out: play/pause twice cancels out; any
        // other pair keeps the first.
        let cancels = matches!(
            (self.pending_control, command),
            (Some(ControlCommand::Pause), ControlCommand::Play)
                | (Some(ControlCommand::Play), ControlCommand::Pause)
        );
        if self.pending_control.is_some() && !cancels {
            return Err(ControlRefused::Busy);
        }
        // Optimistic play/pause: freeze or restart the position now. The flags Spotify
        // sends describe the old state ("resuming" is disallowed while playing): flip
        // them too, so the opposite press works before the next poll.
        match command {
            ControlCommand::Pause | ControlCommand::Play => {
                let playing = command == ControlCommand::Play;
                np.progress_ms = Some(position_ms(np, *received_ms, now_ms));
                np.is_playing = playing;
                *received_ms = now_ms;
                if playing {
                    np.disallows.pausing = false;
                } else {
                    np.disallows.resuming = false;
                }
            }
            ControlCommand::Next | ControlCommand::Previous => {}
        }
        self.pending_control = if cancels { None } else { Some(command) };
        self.last_activity_ms = now_ms;
        self.generation = self.generation.wrapping_add(1);
        Ok(())
    }

    /// The status line and `Retry-After` header (its value, if present, any case of the
    /// name) of the response to the request in flight.
    pub fn on_head(&mut self, _now_ms: u64, status: u16, retry_after: Option<&str>) {
        let Some(f) = self.in_flight.as_mut() else {
            return;
        };
        f.status = status;
        f.retry_after_ms = retry_after.and_then(parse_retry_after);
        f.body = match (f.kind, status) {
            (RequestKind::Poll(_), 200) => Body::Player(NowPlayingParser::new()),
            (RequestKind::Refresh, 200) => Body::Token(TokenParser::new()),
            (_, 400..=499) => Body::Error(ErrorParser::new()),
            _ => Body::Ignore,
        };
    }

    /// A chunk of the response body, as it arrives. (Errors are remembered and acted on
    /// at [`Session::on_end`].)
    pub fn on_body(&mut self, chunk: &[u8]) {
        let Some(f) = self.in_flight.as_mut() else {
            return;
        };
        // A parse error is sticky inside each parser; `finish` reports it at the end.
        match &mut f.body {
            Body::Ignore => {}
            Body::Player(p) => {
                let _ = p.feed(chunk);
            }
            Body::Token(p) => {
                let _ = p.feed(chunk);
            }
            Body::Error(p) => {
                let _ = p.feed(chunk);
            }
        }
    }

    /// The response is complete.
    pub fn on_end(&mut self, now_ms: u64) {
        let Some(f) = self.in_flight.as_mut() else {
            return;
        };
        let (kind, status, retry_after_ms) = (f.kind, f.status, f.retry_after_ms);
        // Finish the parser in place: moving the in-flight state (parser included) out
        // first would put several KB more on the stack of a small device.
        let outcome = match &mut f.body {
            Body::Player(p) if p.is_blank() => Outcome::Blank,
            Body::Player(p) => p.finish().map_or(Outcome::Malformed, Outcome::State),
            Body::Token(p) => p.finish().map_or(Outcome::Malformed, Outcome::Token),
            Body::Error(p) => Outcome::Error(p.finish().ok()),
            Body::Ignore => Outcome::Nothing,
        };
        self.in_flight = None;
        if kind != RequestKind::Refresh || !(200..300).contains(&status) {
            // A fresh token after a hold says nothing of what plays: the poll it allows
            // still shows the hold's end until it answers (and may use the reserve).
            self.quota_shown_until_s = 0;
        }
        let error_body = match &outcome {
            Outcome::Error(e) => e.as_ref(),
            _ => None,
        };
        let premium_refusal = status == 403
            && kind != RequestKind::Refresh
            && error_body.is_some_and(|e| {
                e.reason.is_none()
                    && e.message
                        .as_deref()
                        .is_some_and(|m| contains_ignore_case(m, "premium subscription"))
            });
        // An API answer other than a quota answer ends a series of quota answers (a token
        // says nothing about the Web API's quota).
        if kind != RequestKind::Refresh && status != 429 && self.budget.answered() {
            self.quota_dirty = true;
            self.quota_urgent = true;
        }
        match (kind, status) {
            // A quota answer: `QUOTA_EXCEEDED`, or no readable body and a wait of hours.
            (_, 429)
                if error_body.is_some_and(|e| e.reason_is("QUOTA_EXCEEDED"))
                    || (error_body.is_none()
                        && retry_after_ms.is_some_and(|ms| ms >= QUOTA_RETRY_AFTER_MS)) =>
            {
                self.quota_exceeded(now_ms, retry_after_ms)
            }
            (_, 429) => self.rate_limited(now_ms, retry_after_ms),
            _ if premium_refusal => self.premium_refused(now_ms),
            (RequestKind::Refresh, 200) => match outcome {
                Outcome::Token(token) => self.token_ok(now_ms, token),
                _ => self.failed(now_ms),
            },
            (RequestKind::Refresh, 400..=499) => {
                let e = error_body.cloned();
                self.refresh_rejected(now_ms, e.as_ref());
            }
            (RequestKind::Poll(_), 200) => match outcome {
                Outcome::Blank => self.nothing_playing(now_ms),
                Outcome::State(np) => self.got_state(now_ms, np),
                _ => self.failed(now_ms),
            },
            (RequestKind::Poll(_), 204) => self.nothing_playing(now_ms),
            (RequestKind::Poll(_) | RequestKind::Control(_), 401) => {
                self.unauthorized(now_ms, kind)
            }
            (RequestKind::Poll(Endpoint::Player), 403) => {
                // The token lacks user-read-playback-state: fall back for good.
                self.endpoint = Endpoint::CurrentlyPlaying;
                self.next_poll_ms = now_ms;
                self.good_answer(now_ms);
            }
            (RequestKind::Control(_), 200..=299) => {
                self.good_answer(now_ms);
                self.next_poll_ms = now_ms.saturating_add(self.timing.confirm_ms);
                self.confirm_poll = true;
            }
            (RequestKind::Control(_), 400..=499) => {
                let notice = match error_body {
                    Some(e) if e.reason_is("PREMIUM_REQUIRED") => Notice::PremiumRequired,
                    Some(e) if e.reason_is("NO_ACTIVE_DEVICE") => Notice::NoActiveDevice,
                    _ if status == 404 => Notice::NoActiveDevice,
                    _ => Notice::ControlFailed,
                };
                self.notice = Some((notice, now_ms.saturating_add(self.timing.notice_ms)));
                self.good_answer(now_ms);
                // Undo any optimistic change soon.
                self.next_poll_ms = now_ms.saturating_add(self.timing.confirm_ms);
                self.confirm_poll = true;
            }
            _ => self.failed(now_ms),
        }
        if kind != RequestKind::Refresh {
            // The retried request has had its one retry.
            if self.retry_after_refresh == Some(kind) {
                self.retry_after_refresh = None;
            }
            if (200..300).contains(&status) {
                self.refreshed_for_401 = false;
            }
        }
        self.generation = self.generation.wrapping_add(1);
    }

    /// The request in flight failed without a (complete) response.
    pub fn on_failure(&mut self, now_ms: u64, _failure: Failure) {
        if self.in_flight.take().is_some() {
            self.quota_shown_until_s = 0;
            self.failed(now_ms);
            self.generation = self.generation.wrapping_add(1);
        }
    }

    fn halt(&mut self, health: Health) {
        self.halted = Some(health);
        self.pending_control = None;
        self.retry_after_refresh = None;
    }

    fn good_answer(&mut self, now_ms: u64) {
        self.premium_blocked = false;
        self.failures = 0;
        self.first_failure_ms = None;
        self.last_good_ms = Some(now_ms);
        self.hold_until_ms = self.hold_until_ms.min(now_ms);
    }

    fn token_ok(&mut self, now_ms: u64, token: TokenResponse) {
        let expires_in_ms = u64::from(token.expires_in.unwrap_or(3600)).saturating_mul(1000);
        if let Some(new) = &token.refresh_token {
            self.creds.refresh_token = Some(new.clone());
        }
        if !token.scope.is_empty() && !token.has_scope("user-read-playback-state") {
            self.endpoint = Endpoint::CurrentlyPlaying;
        }
        self.access = Some(token.access_token.clone());
        self.access_expires_ms = now_ms.saturating_add(expires_in_ms);
        self.token_update = Some(TokenUpdate {
            access_token: token.access_token,
            expires_in_ms,
            refresh_token: token.refresh_token,
        });
        // A token says nothing about the Web API: failures and their backoff stand until
        // an API answer is good.
    }

    fn refresh_rejected(&mut self, now_ms: u64, body: Option<&ErrorBody>) {
        match body {
            Some(e) if e.error_is("invalid_grant") => {
                self.creds.refresh_token = None;
                self.access = None;
                // Within a week of the six months' end, say that this is why.
                let near_end = match (self.authorized_at_s, self.unix_ms(now_ms)) {
                    (Some(at), Some(unix_ms)) => {
                        unix_ms / 1000 >= at.saturating_add((LOGIN_DAYS - 7) * 86_400)
                    }
                    _ => false,
                };
                self.halt(if near_end {
                    Health::LoginExpired
                } else {
                    Health::LoginNeeded
                });
            }
            Some(e) if e.error_is("invalid_client") || e.error_is("unauthorized_client") => {
                self.halt(Health::ConfigError(ConfigProblem::InvalidClient));
            }
            _ => self.failed(now_ms),
        }
    }

    fn unauthorized(&mut self, now_ms: u64, kind: RequestKind) {
        if self.refreshed_for_401 {
            // A fresh token was refused too: back off rather than loop. No more refreshes
            // for 401s until a request succeeds again.
            self.failed(now_ms);
            return;
        }
        self.refreshed_for_401 = true;
        self.access = None;
        self.retry_after_refresh = Some(kind);
    }

    /// Spotify's daily quota is used up: hold everything (persisted at once).
    fn quota_exceeded(&mut self, now_ms: u64, retry_after_ms: Option<u64>) {
        // Rounded up: the hold never ends before Spotify's wait (asking a moment early
        // would be another quota answer, and a lower budget).
        let unix_s = self.unix_ms(now_ms).unwrap_or(now_ms).div_ceil(1000);
        let until = self
            .budget
            .quota_hit(unix_s, retry_after_ms.map(|ms| ms.div_ceil(1000)));
        self.quota_shown_until_s = until;
        self.quota_dirty = true;
        self.quota_urgent = true;
        self.pending_control = None;
        self.retry_after_refresh = None;
        self.confirm_poll = false;
        // After the hold: one poll (the next request of any kind waits for the hold).
        self.next_poll_ms = self.mono_of_s(until);
        self.end_poll = false;
        // Not a failure: the hold is its own screen, and the answer after it is news.
        self.failures = 0;
        self.first_failure_ms = None;
    }

    /// Spotify refuses the app because its owner has no Premium: nothing more but one
    /// probe every [`PREMIUM_PROBE_MS`] (a renewal takes hours to apply) and at a press.
    fn premium_refused(&mut self, now_ms: u64) {
        self.premium_blocked = true;
        self.pending_control = None;
        self.retry_after_refresh = None;
        self.confirm_poll = false;
        self.end_poll = false;
        self.next_poll_ms = now_ms.saturating_add(PREMIUM_PROBE_MS);
    }

    fn rate_limited(&mut self, now_ms: u64, retry_after_ms: Option<u64>) {
        let base = match retry_after_ms {
            Some(ms) => ms,
            None => self.backoff_delay().max(self.timing.retry_after_default_ms),
        };
        let wait = base.saturating_add(self.jitter.upto(1_000));
        self.rate_limit_long = wait >= self.timing.rate_limit_screen_ms;
        self.rate_limited_until_ms = now_ms.saturating_add(wait);
        self.hold_until_ms = self.hold_until_ms.max(self.rate_limited_until_ms);
        self.note_failure(now_ms);
    }

    fn failed(&mut self, now_ms: u64) {
        let mut delay = self.backoff_delay();
        if self.premium_blocked {
            // A probe that failed waits for the next probe's time.
            delay = delay.max(PREMIUM_PROBE_MS);
        } else if self.budget.is_set() {
            // Every attempt counts against the budget, failed or not: retry no faster
            // than the schedule would poll (an outage must not spend the day's share),
            // and at night no more than the night allows.
            let base = match self.playback {
                Playback::Item { .. } => pace::PLAY_STEADY_MS,
                _ => pace::IDLE_MAX_MS,
            };
            delay = self.night_cap(now_ms, delay.max(self.paced(base, 0)));
        }
        self.hold_until_ms = self.hold_until_ms.max(now_ms.saturating_add(delay));
        self.note_failure(now_ms);
    }

    fn note_failure(&mut self, now_ms: u64) {
        self.failures = self.failures.saturating_add(1);
        self.first_failure_ms.get_or_insert(now_ms);
    }

    /// Exponential backoff with "equal jitter": half the delay fixed, half random; the
    /// whole stays within `backoff_max_ms`.
    fn backoff_delay(&mut self) -> u64 {
        let exp = self.failures.min(20);
        let full = self
            .timing
            .backoff_ms
            .saturating_mul(1u64 << exp)
            .min(self.timing.backoff_max_ms);
        full / 2 + self.jitter.upto(full / 2)
    }

    fn nothing_playing(&mut self, now_ms: u64) {
        self.good_answer(now_ms);
        let since_ms = match self.playback {
            Playback::Nothing { since_ms } => {
                self.idle_interval_ms =
                    (self.idle_interval_ms.saturating_mul(3) / 2).min(self.timing.poll_idle_max_ms);
                since_ms
            }
            _ => {
                self.idle_interval_ms = self.timing.poll_idle_ms;
                now_ms
            }
        };
        self.playback = Playback::Nothing { since_ms };
        self.paused_since_ms = None;
        self.end_repolls = 0;
        self.end_poll = false;
        let next = if self.budget.is_set() {
            // Alert for a while after a stop (music often starts again), then sparser.
            let quiet = now_ms.saturating_sub(since_ms);
            let base = if quiet < pace::STOP_ALERT_FOR_MS {
                pace::IDLE_ALERT_MS
            } else {
                (quiet / 4).clamp(pace::IDLE_ALERT_MS, pace::IDLE_MAX_MS)
            };
            self.paced(base, self.timing.poll_idle_max_ms)
        } else {
            self.idle_interval_ms
        };
        self.next_poll_ms = now_ms.saturating_add(self.night_cap(now_ms, next));
    }

    /// `base` (the interval for a budget of [`pace::REFERENCE`] a day) scaled to the
    /// effective budget, at least `min_ms`, and stretched as the day's spend nears the
    /// share for the display's own polls, so that the reserve is never touched.
    fn paced(&self, base: u64, min_ms: u64) -> u64 {
        let limit = u64::from(self.budget.limit().max(1));
        let mut iv = base.saturating_mul(pace::REFERENCE) / limit;
        iv = iv.max(min_ms);
        let own = u64::from(self.budget.own_limit());
        let used = u64::from(self.budget.used());
        let knee = own * pace::THIN_FROM_PERCENT / 100;
        if used > knee {
            // Stretched by the square of (room at the knee / room left): gently at first,
            // hard near the end, so the track ends keep their polls.
            let room = own.saturating_sub(used).max(1);
            let span = own - knee;
            iv = iv.saturating_mul(span * span) / (room * room);
        }
        iv.min(pace::LONGEST_MS)
    }

    /// Night hours (unless a press woke the screen): at most one poll per
    /// [`NIGHT_POLL_MS`], but never past the night's end.
    fn night_cap(&self, now_ms: u64, next: u64) -> u64 {
        if now_ms < self.woken_until_ms {
            return next;
        }
        match (self.night, self.local_time(now_ms)) {
            (Some(n), Some(t)) if n.contains(t.minute_of_day()) => {
                let to_morning = u64::from(n.secs_to_boundary(t.second_of_day)) * 1000;
                next.max(NIGHT_POLL_MS).min(to_morning.max(1_000))
            }
            _ => next,
        }
    }

    fn got_state(&mut self, now_ms: u64, np: NowPlaying) {
        // An empty state (no item and an unknown type, as Spotify sometimes sends when
        // nothing plays) is "nothing".
        if np.title.is_none() && np.kind == Kind::Unknown {
            self.nothing_playing(now_ms);
            return;
        }
        self.good_answer(now_ms);
        let (same_item, was_playing) = match &self.playback {
            Playback::Item { np: old, .. } => (
                old.title == np.title && old.duration_ms == np.duration_ms && old.album == np.album,
                Some(old.is_playing),
            ),
            _ => (false, None),
        };
        // A change someone made (a skip or pause elsewhere, a start after a stop) makes
        // the budgeted schedule more alert for a while; a track ending by itself does not.
        let started = matches!(self.playback, Playback::Nothing { .. });
        let skipped = was_playing.is_some() && !same_item && !self.end_poll;
        if started || skipped || was_playing.is_some_and(|p| p != np.is_playing) {
            self.last_activity_ms = now_ms;
        }
        if np.is_playing {
            self.paused_since_ms = None;
        } else if self.paused_since_ms.is_none() || !same_item {
            self.paused_since_ms = Some(now_ms);
        }
        let t = self.timing;
        let budgeted = self.budget.is_set();
        let mut next = if budgeted {
            let calm = now_ms.saturating_sub(self.last_activity_ms);
            let paused_for = self.paused_since_ms.map_or(0, |p| now_ms.saturating_sub(p));
            let base = if calm < pace::ALERT_FOR_MS {
                pace::PLAY_ALERT_MS
            } else if np.is_playing && calm < pace::LONG_AFTER_MS {
                pace::PLAY_STEADY_MS
            } else if np.is_playing {
                pace::PLAY_LONG_MS
            } else if paused_for < pace::PAUSED_STEADY_FOR_MS {
                pace::PLAY_STEADY_MS
            } else {
                (paused_for / 4).clamp(pace::PLAY_STEADY_MS, pace::IDLE_MAX_MS)
            };
            let min = if np.is_playing {
                t.poll_playing_ms
            } else {
                t.poll_paused_ms
            };
            self.paced(base, min)
        } else if np.is_playing {
            t.poll_playing_ms
        } else {
            t.poll_paused_ms
        };
        let night = now_ms >= self.woken_until_ms && self.is_night(now_ms);
        // Near the end of the day's own share, even track ends are no longer watched.
        let watch_end = !night
            && (!budgeted
                || u64::from(self.budget.used()) * 100
                    < u64::from(self.budget.own_limit()) * pace::END_POLLS_UNTIL_PERCENT);
        if np.is_playing && watch_end {
            if let Some(d) = np.duration_ms.filter(|d| *d > 0) {
                let remaining = d.saturating_sub(position_ms(&np, now_ms, now_ms));
                let at_end = same_item && remaining <= t.end_slack_ms.saturating_add(1_000);
                if self.end_poll && at_end {
                    // We polled for the end but Spotify still shows the old item: look
                    // again shortly, a few times.
                    if self.end_repolls < END_REPOLLS {
                        self.end_repolls += 1;
                        next = next.min(2 * t.end_slack_ms + 200);
                    }
                } else if !at_end {
                    self.end_repolls = 0;
                }
                let to_end = remaining.saturating_add(t.end_slack_ms);
                // Still at its end after every quick look (a stalled device): stop watching
                // this item's end, and poll on the ordinary interval until it changes.
                let stalled = at_end && self.end_repolls >= END_REPOLLS;
                // With a budget, a poll just before the end is folded into the end's.
                let merge = if budgeted {
                    next.max(self.paced(pace::MERGE_MS, 0))
                } else {
                    next
                };
                self.end_poll = !stalled && to_end <= merge;
                if self.end_poll {
                    next = to_end;
                }
            } else {
                self.end_poll = false;
            }
        } else {
            self.end_poll = false;
            self.end_repolls = 0;
        }
        self.next_poll_ms = now_ms.saturating_add(self.night_cap(now_ms, next));
        self.playback = Playback::Item {
            np,
            received_ms: now_ms,
        };
    }
}

/// The budgeted schedule's intervals, for a budget of [`REFERENCE`] requests a day; a
/// smaller budget stretches them in proportion (500 a day: twice as long).
mod pace {
    /// The budget the intervals below are written for.
    pub const REFERENCE: u64 = 1_000;
    /// Right after a change someone made (a press, a skip or pause elsewhere, a start).
    pub const PLAY_ALERT_MS: u64 = 20_000;
    /// How long "right after" lasts.
    pub const ALERT_FOR_MS: u64 = 120_000;
    /// Ordinary listening (and the first quarter hour of a pause).
    pub const PLAY_STEADY_MS: u64 = 29_000;
    /// Long uninterrupted listening: after this long without a change ...
    pub const LONG_AFTER_MS: u64 = 1_800_000;
    /// ... polls thin to this.
    pub const PLAY_LONG_MS: u64 = 32_000;
    /// A pause this long thins toward [`IDLE_MAX_MS`].
    pub const PAUSED_STEADY_FOR_MS: u64 = 900_000;
    /// An interval poll due this close to the predicted end is folded into the end poll.
    pub const MERGE_MS: u64 = 38_000;
    /// After a stop, nothing playing: this often ...
    pub const IDLE_ALERT_MS: u64 = 60_000;
    /// ... for this long, then growing to ...
    pub const STOP_ALERT_FOR_MS: u64 = 300_000;
    /// ... this at the most.
    pub const IDLE_MAX_MS: u64 = 210_000;
    /// Polls thin once this share (percent) of the own share of the budget is spent ...
    pub const THIN_FROM_PERCENT: u64 = 85;
    /// ... and track ends are watched until this share.
    pub const END_POLLS_UNTIL_PERCENT: u64 = 98;
    /// The longest interval the pacing makes.
    pub const LONGEST_MS: u64 = 3_600_000;
}

/// A 429 without a readable body is a quota answer when it asks to wait this long or
/// longer (an ordinary rate limit asks for seconds).
pub const QUOTA_RETRY_AFTER_MS: u64 = 3_600_000;

/// Whether `hay` contains `needle`, ASCII letters compared without case.
fn contains_ignore_case(hay: &str, needle: &str) -> bool {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    n.is_empty() || h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
}

/// Parses a `Retry-After` value in seconds into ms (HTTP dates are not used by Spotify and
/// count as missing).
pub fn parse_retry_after(value: &str) -> Option<u64> {
    let v = value.trim();
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let secs: u64 = v.parse().ok()?;
    Some(secs.saturating_mul(1000))
}

/// Appends `s` form-url-encoded (`application/x-www-form-urlencoded`).
fn form_encode<const N: usize>(out: &mut String<N>, s: &str) -> Option<()> {
    const HEXD: &[u8; 16] = b"0123456789ABCDEF";
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b)).ok()?;
        } else {
            out.push('%').ok()?;
            out.push(char::from(*HEXD.get(usize::from(b >> 4))?)).ok()?;
            out.push(char::from(*HEXD.get(usize::from(b & 0xF))?))
                .ok()?;
        }
    }
    Some(())
}

/// Writes `Basic base64(id:secret)`.
fn basic_auth<const N: usize>(out: &mut String<N>, id: &str, secret: &str) -> Option<()> {
    use base64::Engine as _;
    let mut plain = [0u8; CLIENT_ID_CAP + 1 + CLIENT_SECRET_CAP];
    let len = id.len() + 1 + secret.len();
    let (a, rest) = plain.split_at_mut_checked(id.len())?;
    a.copy_from_slice(id.as_bytes());
    let (colon, rest) = rest.split_first_mut()?;
    *colon = b':';
    rest.get_mut(..secret.len())?
        .copy_from_slice(secret.as_bytes());
    let mut enc = [0u8; (CLIENT_ID_CAP + 1 + CLIENT_SECRET_CAP).div_ceil(3) * 4];
    let n = base64::engine::general_purpose::STANDARD
        .encode_slice(plain.get(..len)?, &mut enc)
        .ok()?;
    out.push_str("Basic ").ok()?;
    out.push_str(core::str::from_utf8(enc.get(..n)?).ok()?).ok()
}
