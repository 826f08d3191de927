//! The session's vocabulary: what a shell hands in (credentials, timing, presses,
//! failures) and what it gets back (requests to send, actions, status, token updates).

use heapless::String;

use crate::model::NowPlaying;
use crate::parse::{ACCESS_TOKEN_CAP, REFRESH_TOKEN_CAP};
use crate::secret::Secret;

/// Bytes of a client id (Spotify's are 32 hex digits).
pub const CLIENT_ID_CAP: usize = 64;
/// Bytes of a client secret (Spotify's are 32 hex digits).
pub const CLIENT_SECRET_CAP: usize = 64;

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
    /// Like the item playing, or unlike it when it is liked (the heart).
    ToggleLike,
    /// Like (`true`) or unlike the item playing; nothing is sent when it already is.
    SetLiked(bool),
    /// Volume up by [`VOLUME_STEP`] percent.
    VolumeUp,
    /// Volume down by [`VOLUME_STEP`] percent.
    VolumeDown,
    /// Volume to this percent (at most 100).
    SetVolume(u8),
}

/// What a volume press moves by, in percent.
pub const VOLUME_STEP: u8 = 5;
/// Volume presses closer together than this make one request (the last volume).
pub const VOLUME_COALESCE_MS: u64 = 400;
/// The volume overlay stays this long after a change.
pub const VOLUME_SHOWN_MS: u64 = 3_000;

/// Which of the extra requests the owner wants (config `like`, `up_next`): each costs
/// requests from the daily budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Features {
    /// Ask once per track whether it is liked, and show the heart.
    pub like: bool,
    /// Ask for the queue once per track change, and show what plays next.
    pub up_next: bool,
}

impl Default for Features {
    fn default() -> Self {
        Features {
            like: true,
            up_next: true,
        }
    }
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
    /// Nothing to do it to: no heart (an ad, a local file, a token without the library
    /// scopes, likes turned off) or no device volume.
    Unavailable,
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
    /// DELETE
    Delete,
}

impl Method {
    /// The method's name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
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
    /// Ask whether the item playing is in the library (`GET /me/library/contains`).
    Library,
    /// Ask what plays next (`GET /me/player/queue`).
    Queue,
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
    /// `PUT /me/library?uris=` (`true`) or `DELETE /me/library?uris=`: the item playing.
    Like(bool),
    /// `PUT /me/player/volume?volume_percent=N`.
    Volume(u8),
}

/// Bytes of a request's path and query: a library question about five items is the
/// longest (`/me/library/contains?uris=` and five encoded episode URIs).
pub const PATH_CAP: usize = 256;

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
    pub path: String<PATH_CAP>,
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
    /// 403 `VOLUME_CONTROL_DISALLOW`: this device's volume cannot be changed.
    VolumeFixed,
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
    /// The volume changed a moment ago: show it (for [`VOLUME_SHOWN_MS`]).
    pub volume_shown: bool,
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

/// A 429 without a readable body is a quota answer when it asks to wait this long or
/// longer (an ordinary rate limit asks for seconds).
pub const QUOTA_RETRY_AFTER_MS: u64 = 3_600_000;
