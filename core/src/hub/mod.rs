//! The hub's state message: what `tonearm hub` publishes on `tonearm/<id>/state` and what
//! every display fed by a hub reads (`docs/hub-state.md`, version [`STATE_VERSION`]).
//!
//! One value, [`HubState`], goes both ways: the hub builds it from its [`Session`]
//! ([`HubState::from_session`]) and writes it as JSON of at most [`STATE_CAP`] bytes
//! ([`HubState::write_json`]); a display reads it back with [`HubStateParser`] (the
//! streaming tokenizer of [`crate::json`], so a board needs no buffer beyond the message
//! and nothing it receives can make it panic) and shows it through a mirror session
//! ([`Session::mirror`]).
//!
//! Times are Unix milliseconds (`at_ms`, `since_ms`, `until_ms`): the hub and its
//! displays share no monotonic clock. A display turns them into its own time at receipt.

use core::fmt::{self, Write};

use heapless::String;

use crate::model::{
    ARTISTS_CAP, DEVICE_NAME_CAP, DEVICE_TYPE_CAP, Disallows, Image, Kind, NAME_CAP, NowPlaying,
    TITLE_CAP, URL_CAP,
};
use crate::parse::QueuedItem;
use crate::session::{ConfigProblem, Health, Notice, Playback, Session};

mod parse;

pub use parse::{HubFields, HubStateError, HubStateParser};

/// The version of the message this crate writes and reads (`"v"`).
pub const STATE_VERSION: u64 = 1;
/// The most bytes a state message takes: texts are cut (at character boundaries) so that
/// the whole message fits, whatever they hold.
pub const STATE_CAP: usize = 4096;
/// Bytes kept of the hub's screen name.
pub const SCREEN_CAP: usize = 24;
/// A progress within this much of the one interpolated from the last message is no
/// change (no new message).
pub const PROGRESS_SLACK_MS: u64 = 2_000;
/// Health times (`since_ms`, `until_ms`) this close to the last message's are no change.
pub const HEALTH_SLACK_MS: u64 = 1_500;

/// How the hub's connection to Spotify stands, in Unix time (see [`Health`], which holds
/// the same in the session's monotonic time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HubHealth {
    /// The last answer was good.
    #[default]
    Good,
    /// Answers are failing since `since_ms` (the last good answer, Unix ms).
    Stale {
        /// The last good answer, Unix ms (`None` when the hub does not know the time).
        since_ms: Option<u64>,
    },
    /// Nothing good since `since_ms`.
    Offline {
        /// The last good answer (or the first failure), Unix ms.
        since_ms: Option<u64>,
    },
    /// Spotify asked the hub to wait until `until_ms`.
    RateLimited {
        /// The end of the wait, Unix ms.
        until_ms: Option<u64>,
    },
    /// The developer account's daily quota is used up until `until_ms`.
    QuotaExceeded {
        /// The end of the hold, Unix ms.
        until_ms: Option<u64>,
    },
    /// The hub needs a login (`tonearm login` on the hub).
    LoginNeeded,
    /// The hub's six-month login has ended.
    LoginExpired,
    /// The hub's configuration is wrong.
    ConfigError(ConfigProblem),
}

impl HubHealth {
    /// The `health.state` name.
    pub const fn name(self) -> &'static str {
        match self {
            HubHealth::Good => "good",
            HubHealth::Stale { .. } => "stale",
            HubHealth::Offline { .. } => "offline",
            HubHealth::RateLimited { .. } => "rate_limited",
            HubHealth::QuotaExceeded { .. } => "quota_exceeded",
            HubHealth::LoginNeeded | HubHealth::LoginExpired => "login_needed",
            HubHealth::ConfigError(_) => "config_error",
        }
    }

    /// The `health.reason` (what the state's name does not say), if any.
    pub const fn reason(self) -> Option<&'static str> {
        match self {
            HubHealth::LoginExpired => Some("login_expired"),
            HubHealth::ConfigError(p) => Some(problem_name(p)),
            _ => None,
        }
    }

    fn since_ms(self) -> Option<u64> {
        match self {
            HubHealth::Stale { since_ms } | HubHealth::Offline { since_ms } => since_ms,
            _ => None,
        }
    }

    fn until_ms(self) -> Option<u64> {
        match self {
            HubHealth::RateLimited { until_ms } | HubHealth::QuotaExceeded { until_ms } => until_ms,
            _ => None,
        }
    }

    /// From the session's [`Health`] at a moment whose Unix time is `unix_ms`.
    pub fn from_health(h: Health, unix_ms: Option<u64>) -> HubHealth {
        match h {
            Health::Good => HubHealth::Good,
            Health::Stale { age_ms } => HubHealth::Stale {
                since_ms: unix_ms.map(|u| u.saturating_sub(age_ms)),
            },
            Health::Offline { for_ms } => HubHealth::Offline {
                since_ms: unix_ms.map(|u| u.saturating_sub(for_ms)),
            },
            Health::RateLimited { remaining_ms } => HubHealth::RateLimited {
                until_ms: unix_ms.map(|u| u.saturating_add(remaining_ms)),
            },
            Health::QuotaExceeded { until_unix_s, .. } => HubHealth::QuotaExceeded {
                until_ms: Some(until_unix_s.saturating_mul(1000)),
            },
            Health::LoginNeeded => HubHealth::LoginNeeded,
            Health::LoginExpired => HubHealth::LoginExpired,
            Health::ConfigError(p) => HubHealth::ConfigError(p),
        }
    }

    /// The session's [`Health`] when the time is not known at all: ages 0, waits
    /// without a countdown (0 ms left), a quota hold with its end as the hub gave it.
    pub fn at_unknown_time(self) -> Health {
        match self {
            HubHealth::Stale { .. } => Health::Stale { age_ms: 0 },
            HubHealth::Offline { .. } => Health::Offline { for_ms: 0 },
            HubHealth::RateLimited { .. } => Health::RateLimited { remaining_ms: 0 },
            HubHealth::QuotaExceeded { until_ms } => Health::QuotaExceeded {
                until_unix_s: until_ms.unwrap_or(0) / 1000,
                remaining_ms: 0,
            },
            other => other.at(0),
        }
    }

    /// Whether `self` and `other` say the same, their times within `slack_ms` (the
    /// hub's wall clock is read again every minute and may move by a few ms).
    fn same_as(self, other: HubHealth, slack_ms: u64) -> bool {
        let near = |a: Option<u64>, b: Option<u64>| match (a, b) {
            (Some(a), Some(b)) => a.abs_diff(b) <= slack_ms,
            (a, b) => a == b,
        };
        core::mem::discriminant(&self) == core::mem::discriminant(&other)
            && self.reason() == other.reason()
            && near(self.since_ms(), other.since_ms())
            && near(self.until_ms(), other.until_ms())
    }

    /// The session's [`Health`] at a moment whose Unix time is `unix_ms` (a wait that
    /// has ended is good again; an unknown time counts as now).
    pub fn at(self, unix_ms: u64) -> Health {
        let age = |since: Option<u64>| since.map_or(0, |s| unix_ms.saturating_sub(s));
        match self {
            HubHealth::Good => Health::Good,
            HubHealth::Stale { since_ms } => Health::Stale {
                age_ms: age(since_ms),
            },
            HubHealth::Offline { since_ms } => Health::Offline {
                for_ms: age(since_ms),
            },
            HubHealth::RateLimited { until_ms } => match until_ms {
                Some(u) if u > unix_ms => Health::RateLimited {
                    remaining_ms: u - unix_ms,
                },
                Some(_) => Health::Good,
                None => Health::RateLimited { remaining_ms: 0 },
            },
            HubHealth::QuotaExceeded { until_ms } => {
                let until = until_ms.unwrap_or(unix_ms);
                Health::QuotaExceeded {
                    until_unix_s: until / 1000,
                    remaining_ms: until.saturating_sub(unix_ms),
                }
            }
            HubHealth::LoginNeeded => Health::LoginNeeded,
            HubHealth::LoginExpired => Health::LoginExpired,
            HubHealth::ConfigError(p) => Health::ConfigError(p),
        }
    }
}

/// The `health.reason` of a configuration problem.
pub const fn problem_name(p: ConfigProblem) -> &'static str {
    match p {
        ConfigProblem::InvalidClient => "invalid_client",
        ConfigProblem::MissingClientId => "missing_client_id",
        ConfigProblem::PremiumRequired => "premium_required",
    }
}

fn problem_from(name: &str) -> Option<ConfigProblem> {
    Some(match name {
        "invalid_client" => ConfigProblem::InvalidClient,
        "missing_client_id" => ConfigProblem::MissingClientId,
        "premium_required" => ConfigProblem::PremiumRequired,
        _ => return None,
    })
}

/// The `notice` name of a [`Notice`].
pub const fn notice_name(n: Notice) -> &'static str {
    match n {
        Notice::PremiumRequired => "premium_required",
        Notice::NoActiveDevice => "no_active_device",
        Notice::NotAllowed => "not_allowed",
        Notice::ControlFailed => "control_failed",
        Notice::DailyLimit => "daily_limit",
        Notice::VolumeFixed => "volume_fixed",
    }
}

fn notice_from(name: &str) -> Option<Notice> {
    Some(match name {
        "premium_required" => Notice::PremiumRequired,
        "no_active_device" => Notice::NoActiveDevice,
        "not_allowed" => Notice::NotAllowed,
        "control_failed" => Notice::ControlFailed,
        "daily_limit" => Notice::DailyLimit,
        "volume_fixed" => Notice::VolumeFixed,
        _ => return None,
    })
}

/// The `disallows` names, in the order written, with their flags.
const DISALLOWS: [&str; 5] = [
    "pausing",
    "resuming",
    "skipping_next",
    "skipping_prev",
    "seeking",
];

fn disallow_flag<'a>(d: &'a mut Disallows, name: &str) -> Option<&'a mut bool> {
    Some(match name {
        "pausing" => &mut d.pausing,
        "resuming" => &mut d.resuming,
        "skipping_next" => &mut d.skipping_next,
        "skipping_prev" => &mut d.skipping_prev,
        "seeking" => &mut d.seeking,
        _ => return None,
    })
}

const fn disallow_flags(d: &Disallows) -> [bool; 5] {
    [
        d.pausing,
        d.resuming,
        d.skipping_next,
        d.skipping_prev,
        d.seeking,
    ]
}

/// What plays, as the message carries it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[allow(
    clippy::large_enum_variant,
    reason = "no alloc to box into; one lives at a time"
)]
pub enum HubPlayback {
    /// The hub has heard nothing yet (its screen is `connecting`).
    #[default]
    Unknown,
    /// Nothing plays.
    Nothing,
    /// This plays or is paused. Of the [`NowPlaying`] the message carries the kind,
    /// title, artists, album, show, `is_playing`, progress, duration, device, shuffle,
    /// repeat, one cover URL (as the only image) and the disallows.
    Item(NowPlaying),
}

/// One state message; see the [module docs](self) and `docs/hub-state.md`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HubState {
    /// Increments with every message the hub publishes.
    pub seq: u64,
    /// The hub's screen name (`now_playing`, `paused`, ..., as in the event lines).
    pub screen: String<SCREEN_CAP>,
    /// What plays.
    pub playback: HubPlayback,
    /// The Unix ms at which the item's `progress_ms` held (displays interpolate from it).
    pub at_ms: Option<u64>,
    /// A notice over the hub's screen.
    pub notice: Option<Notice>,
    /// The hub's six-month login ends at this Unix second (the `login_expires` warning).
    pub login_ends_s: Option<u64>,
    /// The hub's screen is dark (night hours, the idle blank).
    pub dark: bool,
    /// The hub's connection to Spotify.
    pub health: HubHealth,
    /// Whether the item playing is liked, once known.
    pub liked: Option<bool>,
    /// What plays next, once known.
    pub up_next: Option<QueuedItem>,
}

impl HubState {
    /// The state of `session` at `now_ms` (the hub's monotonic time), showing `screen`.
    /// Unix times come from the session's wall clock (`None` while it has none).
    pub fn from_session(session: &Session, now_ms: u64, screen: &str, seq: u64) -> HubState {
        let unix = session.unix_ms(now_ms);
        let status = session.status(now_ms);
        let (playback, at_ms) = match session.playback() {
            Playback::Unknown => (HubPlayback::Unknown, None),
            Playback::Nothing { .. } => (HubPlayback::Nothing, None),
            Playback::Item { np, received_ms } => {
                let mut item = NowPlaying {
                    kind: np.kind,
                    is_playing: np.is_playing,
                    progress_ms: np.progress_ms,
                    duration_ms: np.duration_ms,
                    title: np.title.clone(),
                    artists: np.artists.clone(),
                    album: np.album.clone(),
                    show: np.show.clone(),
                    disallows: np.disallows,
                    device: np.device.clone(),
                    shuffle: np.shuffle,
                    repeat: np.repeat,
                    is_local: np.is_local,
                    ..NowPlaying::default()
                };
                // The image the largest layout uses (Spotify's 300 px one).
                if np.kind != Kind::Ad
                    && !np.is_local
                    && let Some(img) = np.pick_image(300)
                {
                    let _ = item.images.push(Image {
                        url: img.url.clone(),
                        width: None,
                        height: None,
                    });
                }
                let at = session.unix_ms(*received_ms);
                (HubPlayback::Item(item), at)
            }
        };
        HubState {
            seq,
            screen: crate::text::bounded(screen).0,
            playback,
            at_ms,
            notice: status.notice,
            login_ends_s: status.login_ends_unix_s,
            dark: status.blank,
            health: HubHealth::from_health(status.health, unix),
            liked: session.liked(),
            up_next: session.up_next().cloned(),
        }
    }

    /// The item, if one plays.
    pub fn item(&self) -> Option<&NowPlaying> {
        match &self.playback {
            HubPlayback::Item(np) => Some(np),
            _ => None,
        }
    }

    /// The cover's URL, if the item has one.
    pub fn cover_url(&self) -> Option<&str> {
        self.item()
            .and_then(|np| np.images.first())
            .map(|i| i.url.as_str())
            .filter(|u| !u.is_empty())
    }

    /// The item's progress at `unix_ms`, interpolated from `progress_ms` at `at_ms`.
    pub fn progress_at(&self, unix_ms: u64) -> Option<u64> {
        let np = self.item()?;
        let p = np.progress_ms?;
        let moved = match (np.is_playing, self.at_ms) {
            (true, Some(at)) => unix_ms.saturating_sub(at),
            _ => 0,
        };
        let p = p.saturating_add(moved);
        Some(np.duration_ms.map_or(p, |d| p.min(d)))
    }

    /// Whether `self` says nothing new beside `last` at `unix_ms` (its `seq` aside): the
    /// same in every key, the progress within [`PROGRESS_SLACK_MS`] of the one
    /// interpolated from `last` (a state published per tick is no state at all).
    pub fn same_as(&self, last: &HubState, unix_ms: u64) -> bool {
        let strip = |s: &HubState| {
            let mut s = s.clone();
            s.seq = 0;
            s.at_ms = None;
            s.health = HubHealth::Good;
            if let HubPlayback::Item(np) = &mut s.playback {
                np.progress_ms = None;
            }
            s
        };
        if strip(self) != strip(last) || !self.health.same_as(last.health, HEALTH_SLACK_MS) {
            return false;
        }
        match (self.progress_at(unix_ms), last.progress_at(unix_ms)) {
            (Some(a), Some(b)) => a.abs_diff(b) <= PROGRESS_SLACK_MS,
            (a, b) => a == b,
        }
    }

    /// Writes the message: one JSON object of at most [`STATE_CAP`] bytes, every key of
    /// version 1 present (`null` when unknown). Texts are cut at character boundaries
    /// to caps on their escaped length that add up to less than [`STATE_CAP`].
    pub fn write_json(&self, out: &mut String<STATE_CAP>) -> fmt::Result {
        out.clear();
        let w = &mut Capped(out);
        let np = self.item();
        write!(
            w,
            "{{\"v\":{STATE_VERSION},\"seq\":{},\"screen\":",
            self.seq
        )?;
        text(w, &self.screen, 40)?;
        w.write_str(",\"kind\":")?;
        match &self.playback {
            HubPlayback::Item(np) => write!(w, "\"{}\"", np.kind.as_str())?,
            _ => w.write_str("null")?,
        }
        w.write_str(",\"title\":")?;
        opt_text(w, np.and_then(|n| n.title.as_deref()), 640)?;
        w.write_str(",\"artists\":[")?;
        if let Some(np) = np {
            // At most 900 bytes for them all: later artists give way.
            let mut room = 900usize;
            for (i, a) in np.artists.iter().enumerate() {
                let cap = room.min(NAME_CAP * 2 + 2);
                if escaped_len(a) + 2 > cap && i > 0 {
                    break;
                }
                if i > 0 {
                    w.write_char(',')?;
                }
                room = room.saturating_sub(text(w, a, cap)? + 1);
            }
        }
        w.write_str("],\"album\":")?;
        opt_text(w, np.and_then(|n| n.album.as_deref()), 280)?;
        w.write_str(",\"show\":")?;
        opt_text(w, np.and_then(|n| n.show.as_deref()), 280)?;
        w.write_str(",\"is_playing\":")?;
        match np {
            Some(np) => write!(w, "{}", np.is_playing)?,
            None => w.write_str("false")?,
        }
        w.write_str(",\"progress_ms\":")?;
        opt_num(w, np.and_then(|n| n.progress_ms))?;
        w.write_str(",\"at_ms\":")?;
        opt_num(w, self.at_ms.filter(|_| np.is_some()))?;
        w.write_str(",\"duration_ms\":")?;
        opt_num(w, np.and_then(|n| n.duration_ms))?;
        w.write_str(",\"device\":")?;
        match np.and_then(|n| n.device.as_ref()) {
            Some(d) => {
                w.write_str("{\"name\":")?;
                text(w, &d.name, 160)?;
                w.write_str(",\"type\":")?;
                text(w, &d.kind, 60)?;
                w.write_str(",\"volume_percent\":")?;
                opt_num(w, d.volume_percent.map(u64::from))?;
                write!(
                    w,
                    ",\"is_restricted\":{},\"supports_volume\":{}}}",
                    d.is_restricted, !d.volume_fixed
                )?;
            }
            None => w.write_str("null")?,
        }
        w.write_str(",\"shuffle\":")?;
        match np.and_then(|n| n.shuffle) {
            Some(s) => write!(w, "{s}")?,
            None => w.write_str("null")?,
        }
        w.write_str(",\"repeat\":")?;
        match np.and_then(|n| n.repeat) {
            Some(r) => write!(w, "\"{}\"", r.as_str())?,
            None => w.write_str("null")?,
        }
        w.write_str(",\"cover_url\":")?;
        // A cut URL names another image: one that does not fit is left out.
        match self.cover_url() {
            Some(u) if escaped_len(u) <= 300 => {
                text(w, u, 300)?;
            }
            _ => w.write_str("null")?,
        }
        w.write_str(",\"disallows\":[")?;
        if let Some(np) = np {
            let mut first = true;
            for (name, on) in DISALLOWS.iter().zip(disallow_flags(&np.disallows)) {
                if on {
                    if !first {
                        w.write_char(',')?;
                    }
                    first = false;
                    write!(w, "\"{name}\"")?;
                }
            }
        }
        w.write_str("],\"notice\":")?;
        match self.notice {
            Some(n) => write!(w, "\"{}\"", notice_name(n))?,
            None => w.write_str("null")?,
        }
        w.write_str(",\"warnings\":[")?;
        if self.login_ends_s.is_some() {
            w.write_str("\"login_expires\"")?;
        }
        w.write_str("],\"login_ends_s\":")?;
        opt_num(w, self.login_ends_s)?;
        write!(
            w,
            ",\"dark\":{},\"health\":{{\"state\":\"{}\",\"since_ms\":",
            self.dark,
            self.health.name()
        )?;
        opt_num(w, self.health.since_ms())?;
        w.write_str(",\"until_ms\":")?;
        opt_num(w, self.health.until_ms())?;
        w.write_str(",\"reason\":")?;
        match self.health.reason() {
            Some(r) => write!(w, "\"{r}\"")?,
            None => w.write_str("null")?,
        }
        w.write_str("},\"liked\":")?;
        match self.liked {
            Some(l) => write!(w, "{l}")?,
            None => w.write_str("null")?,
        }
        w.write_str(",\"up_next\":")?;
        match &self.up_next {
            Some(q) => {
                write!(w, "{{\"kind\":\"{}\",\"title\":", q.kind.as_str())?;
                text(w, &q.title, 400)?;
                w.write_str(",\"by\":")?;
                text(w, &q.by, 200)?;
                w.write_char('}')?;
            }
            None => w.write_str("null")?,
        }
        w.write_char('}')
    }
}

/// A writer into the message that fails rather than cut (it cannot: the caps add up).
struct Capped<'a>(&'a mut String<STATE_CAP>);

impl Write for Capped<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.push_str(s).map_err(|_| fmt::Error)
    }
}

fn opt_num(w: &mut Capped<'_>, n: Option<u64>) -> fmt::Result {
    match n {
        Some(n) => write!(w, "{n}"),
        None => w.write_str("null"),
    }
}

fn opt_text(w: &mut Capped<'_>, s: Option<&str>, cap: usize) -> fmt::Result {
    match s {
        Some(s) => text(w, s, cap).map(|_| ()),
        None => w.write_str("null"),
    }
}

/// How many bytes `c` takes escaped in a JSON string.
fn escaped_char_len(c: char) -> usize {
    match c {
        '"' | '\\' | '\n' | '\r' | '\t' => 2,
        c if (c as u32) < 0x20 => 6,
        c => c.len_utf8(),
    }
}

fn escaped_len(s: &str) -> usize {
    s.chars().map(escaped_char_len).sum()
}

/// Writes `s` as a JSON string of at most `cap` bytes (quotes included), cut at a
/// character boundary; returns the bytes written.
fn text(w: &mut Capped<'_>, s: &str, cap: usize) -> Result<usize, fmt::Error> {
    let mut used = 2;
    w.write_char('"')?;
    for c in s.chars() {
        let n = escaped_char_len(c);
        if used + n > cap {
            break;
        }
        used += n;
        match c {
            '"' => w.write_str("\\\"")?,
            '\\' => w.write_str("\\\\")?,
            '\n' => w.write_str("\\n")?,
            '\r' => w.write_str("\\r")?,
            '\t' => w.write_str("\\t")?,
            c if (c as u32) < 0x20 => write!(w, "\\u{:04x}", c as u32)?,
            c => w.write_char(c)?,
        }
    }
    w.write_char('"')?;
    Ok(used)
}

// The caps above add up to less than the message: every key's worst case.
const _: () = assert!(
    200 // fixed keys and numbers
        + 40 + 640 + 900 + 280 + 280 + 160 + 60 + 300 + 80 + 120 + 400 + 200 + 220
        < STATE_CAP
);

// Every kept text fits its cap escaped at most twice (a quote per byte), except those
// cut on purpose (the title, the artists' share).
const _: () = assert!(2 * DEVICE_NAME_CAP + 2 <= 160 && 2 * NAME_CAP + 2 <= 280);
const _: () = assert!(DEVICE_TYPE_CAP + 2 <= 60 && TITLE_CAP <= 640 && ARTISTS_CAP <= 8);
const _: () = assert!(2 * URL_CAP + 2 <= 300);
