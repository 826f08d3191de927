//! The view model: a plain struct the app fills from the core's state and the screens
//! draw. Every word the user reads is decided here (the fixed copy of each screen, the
//! badge, the header's label, the quota's heading), so drawing only lays out and draws.
//!
//! Times move on by themselves: the position, the ages ("3 min ago"), the countdowns
//! ("0:12") are kept as they were at [`ViewModel::at_ms`] and advanced to the moment of
//! drawing by the methods that take a `now_ms` ([`ViewModel::position_at`],
//! [`ViewModel::badge`], ...). The rest does not depend on the time, so a view model
//! built once serves every redraw until the state (or the clock's minute) changes.

use heapless::String;
use tonearm_core::position::{format_hms, format_times};
use tonearm_core::session::{ConfigProblem, Health, Playback, Session};
use tonearm_core::text::push_truncating;
use tonearm_core::{DEVICE_NAME_CAP, NAME_CAP, TITLE_CAP};
use tonearm_core::{Disallows, Kind, NowPlaying, Repeat, TimeText, format_time};

use crate::checksum::Fnv1a;
use crate::profile::Profile;
use crate::screen::Screen;

/// Bytes kept of the joined artist names (`"A, B, C"`).
pub const ARTISTS_TEXT_CAP: usize = 192;
/// Bytes kept of a status message (the config error's explanation, for example).
pub const MESSAGE_CAP: usize = 96;
/// Bytes kept of the quota screen's back line (`"Back tomorrow 09:42"`).
pub const BACK_CAP: usize = 32;
/// Bytes kept of the login warning (`"Login ends 3 Jan"`).
pub const WARNING_CAP: usize = 24;
/// Bytes kept of a badge's text (`"Offline \u{b7} 3 min"`, `"2 h ago"`).
pub const BADGE_CAP: usize = 32;
/// Bytes kept of a status screen's hint (its last line).
pub const HINT_CAP: usize = 48;
/// Bytes kept of the header's device line (`"on "` and the device's name).
pub const DEVICE_LINE_CAP: usize = DEVICE_NAME_CAP + 3;
/// Stale data shows its badge from this age on (seconds).
pub const STALE_BADGE_AFTER_S: u32 = 15;

/// A short overlay over whatever screen is shown: the session's own notice (one enum for
/// both layers); its words are [`notice_text`].
pub use tonearm_core::session::Notice;

/// The words of a notice. A refused press (not allowed for this item) and another failed
/// control read the same.
pub const fn notice_text(n: Notice) -> &'static str {
    match n {
        Notice::PremiumRequired => "Premium required",
        Notice::NoActiveDevice => "No active device",
        Notice::NotAllowed | Notice::ControlFailed => "Command failed",
        Notice::DailyLimit => "Daily limit reached",
        Notice::VolumeFixed => "Volume is fixed",
    }
}

/// The state of the album-art area.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ArtStatus {
    /// No art for this item (ads): the area shows a neutral tile.
    #[default]
    None,
    /// A placeholder generated from the seed (a hash of the album or show name): stable
    /// colors and pattern per name, so every album looks different.
    Placeholder {
        /// FNV-1a 32 of the album or show name.
        seed: u32,
    },
    /// The item's cover, decoded: the frame draws the [`CoverView`](crate::frame::CoverView)
    /// it is given with this key (or the placeholder of `seed` if it has none).
    Cover {
        /// The placeholder's seed, as for [`ArtStatus::Placeholder`].
        seed: u32,
        /// FNV-1a 32 of the cover's URL (see [`art_key`]).
        key: u32,
    },
}

impl ArtStatus {
    /// The placeholder seed, if any.
    pub const fn seed(self) -> Option<u32> {
        match self {
            ArtStatus::None => None,
            ArtStatus::Placeholder { seed } | ArtStatus::Cover { seed, .. } => Some(seed),
        }
    }
}

/// Whether a control button can be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Controls {
    /// Previous is available.
    pub prev: bool,
    /// Play/pause (whichever applies now) is available.
    pub play_pause: bool,
    /// Next is available.
    pub next: bool,
}

impl Controls {
    /// Every control available.
    pub const ALL: Controls = Controls {
        prev: true,
        play_pause: true,
        next: true,
    };

    /// The controls `disallows` leaves available, for an item that is playing or not.
    pub fn from_disallows(d: &Disallows, playing: bool) -> Controls {
        Controls {
            prev: !d.skipping_prev,
            play_pause: if playing { !d.pausing } else { !d.resuming },
            next: !d.skipping_next,
        }
    }
}

/// Time of day, when the platform knows it (shown on `idle`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClockTime {
    /// Hour, 0 to 23.
    pub hour: u8,
    /// Minute, 0 to 59.
    pub minute: u8,
}

/// Everything a screen draws. Plain data: the app (or `tonearm render`) fills it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ViewModel {
    /// Which screen to draw.
    pub screen: Screen,
    /// Track or episode title (for an ad, "Advertisement").
    pub title: String<TITLE_CAP>,
    /// Second line: artists joined with ", " (track), or the show (episode).
    pub subtitle: String<ARTISTS_TEXT_CAP>,
    /// Third line: the album (track) or the publisher (episode).
    pub detail: String<NAME_CAP>,
    /// Playing (`true`) or paused.
    pub playing: bool,
    /// A local file (no art, no ids).
    pub is_local: bool,
    /// When the times below were taken (monotonic ms): drawn at a later `now_ms` they
    /// move on by the difference (the position while playing, the ages, the
    /// countdowns). `None`: they are shown as they are (a still image, a golden).
    pub at_ms: Option<u64>,
    /// Position into the item at [`ViewModel::at_ms`], in ms (see
    /// [`ViewModel::position_at`]).
    pub position_ms: u64,
    /// Duration of the item in ms; `None` (or zero) when unknown (ads, null durations).
    pub duration_ms: Option<u64>,
    /// The album-art area.
    pub art: ArtStatus,
    /// Controls that can be used (`actions.disallows`).
    pub controls: Controls,
    /// Playback device name, empty when unknown.
    pub device: String<DEVICE_NAME_CAP>,
    /// Shuffle state, when known.
    pub shuffle: Option<bool>,
    /// Repeat state, when known.
    pub repeat: Option<Repeat>,
    /// Age of the data in seconds when it is stale, at [`ViewModel::at_ms`]; `None`
    /// when fresh. Its badge shows from [`STALE_BADGE_AFTER_S`] on.
    pub stale_s: Option<u32>,
    /// A short overlay.
    pub notice: Option<Notice>,
    /// `idle`: the time of day, when known.
    pub clock: Option<ClockTime>,
    /// `offline`: seconds since the last good answer, at [`ViewModel::at_ms`].
    pub offline_s: Option<u32>,
    /// `rate_limited`: seconds until the next request is allowed, at
    /// [`ViewModel::at_ms`].
    pub retry_in_s: Option<u32>,
    /// `config_error` and `login_needed` (and `connecting`): what is wrong, in a few
    /// words; wrapped onto as many lines as the screen has. Empty: the screen's own text.
    pub message: String<MESSAGE_CAP>,
    /// `quota_exceeded`: when Spotify answers again, already formatted (`"Back at
    /// 09:42"`, `"Back tomorrow 09:42"`, `"Back Tue 09:42"`, `"Back in 13:35:26"`).
    /// Where a screen has room, a trailing time (digits and colons) is shown in big
    /// numbers (see [`back_time`]). Empty: none. Ignored when
    /// [`ViewModel::back_in_s`] is set.
    pub back: String<BACK_CAP>,
    /// `quota_exceeded` when the time of day is unknown: seconds until Spotify answers
    /// again, at [`ViewModel::at_ms`]; the back line is then `"Back in h:mm:ss"`,
    /// counting down as it is drawn.
    pub back_in_s: Option<u32>,
    /// The login warning shown small on the item screens and `idle` (`"Login ends 3
    /// Jan"`). Empty: none.
    pub warning: String<WARNING_CAP>,
    /// Some text was cut to fit its capacity.
    pub truncated: bool,
    /// The heart: `None` for none (an ad, a local file, likes off, a token without the
    /// library scopes); `Some(None)` while the library has not answered; else liked or
    /// not.
    pub heart: Option<Option<bool>>,
    /// The device's volume in percent, when it has one.
    pub volume: Option<u8>,
    /// The volume can be changed (the device supports it, it is not restricted, the
    /// volume is known); else it is shown greyed out.
    pub volume_enabled: bool,
    /// The volume changed a moment ago: it is shown over the item.
    pub volume_shown: bool,
    /// What plays next (`"Title · Artist"`); empty: unknown, or none.
    pub up_next: String<UP_NEXT_CAP>,
}

/// Bytes of [`ViewModel::up_next`].
pub const UP_NEXT_CAP: usize = 160;

fn copy<const N: usize>(out: &mut String<N>, s: &str) -> bool {
    out.clear();
    push_truncating(out, s)
}

/// FNV-1a 32 of a cover's URL: the key of [`ArtStatus::Cover`].
pub fn art_key(url: &str) -> u32 {
    art_seed(url)
}

/// FNV-1a 32 of a name: the seed of the art placeholder.
pub fn art_seed(name: &str) -> u32 {
    let mut h = Fnv1a::new();
    h.write(name.as_bytes());
    h.finish()
}

impl ViewModel {
    /// A view model for `screen` with nothing else filled in.
    pub fn new(screen: Screen) -> ViewModel {
        ViewModel {
            screen,
            ..ViewModel::default()
        }
    }

    /// The view model of a playback state at `position_ms` (see
    /// [`tonearm_core::position_ms`]): `now_playing`, `paused`, `episode`, `ad`, or
    /// `idle` when the state names nothing to show.
    pub fn from_now_playing(np: &NowPlaying, position_ms: u64) -> ViewModel {
        let mut vm = ViewModel::default();
        let mut fitted = true;
        let nothing = np.title.is_none() && np.artists.is_empty() && np.kind != Kind::Ad;
        vm.screen = match np.kind {
            _ if nothing => Screen::Idle,
            Kind::Ad => Screen::Ad,
            Kind::Episode if np.is_playing => Screen::Episode,
            Kind::Episode => Screen::Paused,
            Kind::Track | Kind::Unknown if np.is_playing => Screen::NowPlaying,
            Kind::Track | Kind::Unknown => Screen::Paused,
        };
        vm.playing = np.is_playing;
        vm.is_local = np.is_local;
        match np.kind {
            Kind::Ad => {
                fitted &= copy(&mut vm.title, "Ad break");
                fitted &= copy(&mut vm.subtitle, "Spotify");
            }
            Kind::Episode => {
                fitted &= copy(&mut vm.title, np.title.as_deref().unwrap_or(""));
                fitted &= copy(&mut vm.subtitle, np.show.as_deref().unwrap_or(""));
                fitted &= copy(&mut vm.detail, np.publisher.as_deref().unwrap_or(""));
            }
            Kind::Track | Kind::Unknown => {
                fitted &= copy(&mut vm.title, np.title.as_deref().unwrap_or(""));
                for (i, a) in np.artists.iter().enumerate() {
                    if i > 0 {
                        fitted &= push_truncating(&mut vm.subtitle, ", ");
                    }
                    fitted &= push_truncating(&mut vm.subtitle, a);
                }
                let album = np.album.as_deref().unwrap_or("");
                if album.is_empty() && np.is_local {
                    fitted &= copy(&mut vm.detail, "Local file");
                } else {
                    fitted &= copy(&mut vm.detail, album);
                }
            }
        }
        vm.art = match np.kind {
            Kind::Ad => ArtStatus::None,
            Kind::Episode => ArtStatus::Placeholder {
                seed: art_seed(np.show.as_deref().unwrap_or(vm.title.as_str())),
            },
            Kind::Track | Kind::Unknown => ArtStatus::Placeholder {
                seed: art_seed(np.album.as_deref().unwrap_or(vm.title.as_str())),
            },
        };
        vm.set_position(position_ms, np.duration_ms);
        vm.controls = Controls::from_disallows(&np.disallows, np.is_playing);
        if np.device.as_ref().is_some_and(|d| d.is_restricted) {
            // A restricted device (some speakers) takes no Web API commands.
            vm.controls = Controls::default();
        }
        if let Some(d) = &np.device {
            fitted &= copy(&mut vm.device, &d.name);
            vm.volume = d.volume_percent;
            vm.volume_enabled = !d.volume_fixed && !d.is_restricted && d.volume_percent.is_some();
        }
        vm.shuffle = np.shuffle;
        vm.repeat = np.repeat;
        vm.truncated = np.truncated || !fitted;
        vm
    }

    /// Sets the position (at [`ViewModel::at_ms`]) and the duration. A zero duration
    /// counts as none.
    pub fn set_position(&mut self, position_ms: u64, duration_ms: Option<u64>) {
        self.position_ms = position_ms;
        self.duration_ms = duration_ms.filter(|d| *d > 0);
    }

    /// This view model shown as `screen`, with sample values for what that screen needs
    /// and this one lacks (used by `tonearm render --screen` and the golden tests).
    #[must_use]
    pub fn with_screen(mut self, screen: Screen) -> ViewModel {
        self.screen = screen;
        match screen {
            Screen::Offline if self.offline_s.is_none() => self.offline_s = Some(180),
            Screen::RateLimited if self.retry_in_s.is_none() => self.retry_in_s = Some(42),
            Screen::ConfigError if self.message.is_empty() => {
                copy(&mut self.message, "invalid client id");
            }
            Screen::QuotaExceeded if self.back.is_empty() => {
                copy(&mut self.back, "Back tomorrow 09:42");
            }
            Screen::Paused => self.playing = false,
            Screen::NowPlaying | Screen::Episode => self.playing = true,
            _ => {}
        }
        self
    }

    /// Whether the progress bar has a known, non-zero duration.
    pub fn has_duration(&self) -> bool {
        self.duration_ms.is_some_and(|d| d > 0)
    }
}

/// The heading of `quota_exceeded`, longest first: the first that fits is drawn.
pub const QUOTA_HEADINGS: [&str; 3] = [
    "Daily Spotify limit reached",
    "Daily limit reached",
    "Daily limit",
];

/// What the art tile of an item without art (an ad) says.
pub const NO_ART_TEXT: &str = "AD";

/// Which badge an item screen shows; its color is the screen's to choose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BadgeKind {
    /// Offline, with how long.
    Offline,
    /// The data's age while answers fail.
    Stale,
    /// The daily quota is used up (128x64, where there is no header).
    DailyLimit,
    /// Paused (128x64, where there is no header).
    Paused,
}

/// What a status screen says (see [`ViewModel::status_words`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusWords {
    /// The heading, longest first: the first that fits is drawn (the last when none
    /// does).
    pub heading: &'static [&'static str],
    /// The first line (a message is wrapped onto as many as the screen has).
    pub body: String<MESSAGE_CAP>,
    /// The last line: a hint, or the command to run. Empty: none.
    pub hint: String<HINT_CAP>,
}

fn owned<const N: usize>(s: &str) -> String<N> {
    let mut out = String::new();
    push_truncating(&mut out, s);
    out
}

/// The words of the view model, and its times at `now_ms`.
impl ViewModel {
    /// Milliseconds from [`ViewModel::at_ms`] to `now_ms` (0 without an `at_ms`, or for a
    /// `now_ms` before it).
    pub fn since_ms(&self, now_ms: u64) -> u64 {
        self.at_ms.map_or(0, |at| now_ms.saturating_sub(at))
    }

    fn since_s(&self, now_ms: u64) -> u32 {
        u32::try_from(self.since_ms(now_ms) / 1000).unwrap_or(u32::MAX)
    }

    /// The position at `now_ms`: while playing it advances from
    /// [`ViewModel::position_ms`] and stops at the duration, as
    /// [`tonearm_core::position_ms`] does.
    pub fn position_at(&self, now_ms: u64) -> u64 {
        let since = self.since_ms(now_ms);
        if !self.playing || since == 0 {
            return self.position_ms;
        }
        let pos = self.position_ms.saturating_add(since);
        match self.duration_ms {
            Some(d) if d > 0 => pos.min(d.max(self.position_ms)),
            _ => pos,
        }
    }

    /// The elapsed and total texts at `now_ms`, both in the duration's format (`"0:46"`
    /// and `"2:31"`, `"0:46:00"` and `"2:00:00"`); the total is empty without a
    /// duration.
    pub fn times_at(&self, now_ms: u64) -> (TimeText, TimeText) {
        format_times(self.position_at(now_ms), self.duration_ms)
    }

    /// The age of stale data at `now_ms`, once it is old enough for its badge.
    pub fn stale_age(&self, now_ms: u64) -> Option<u32> {
        self.stale_s
            .map(|s| s.saturating_add(self.since_s(now_ms)))
            .filter(|s| *s >= STALE_BADGE_AFTER_S)
    }

    /// How long the display has been offline at `now_ms`.
    pub fn offline_age(&self, now_ms: u64) -> Option<u32> {
        self.offline_s
            .map(|s| s.saturating_add(self.since_s(now_ms)))
    }

    /// Seconds until the next request is allowed at `now_ms` (`rate_limited`).
    pub fn retry_in(&self, now_ms: u64) -> Option<u32> {
        self.retry_in_s
            .map(|s| s.saturating_sub(self.since_s(now_ms)))
    }

    /// The back line of `quota_exceeded` at `now_ms` (see [`ViewModel::back`] and
    /// [`ViewModel::back_in_s`]).
    pub fn back_line(&self, now_ms: u64) -> String<BACK_CAP> {
        match self.back_in_s {
            Some(s) => {
                let left = s.saturating_sub(self.since_s(now_ms));
                let mut out: String<BACK_CAP> = owned("Back in ");
                push_truncating(&mut out, &format_hms(u64::from(left) * 1000));
                out
            }
            None => self.back.clone(),
        }
    }

    /// `offline` or `quota_exceeded` before anything was ever heard (no title to show
    /// dimmed): shown as a status screen.
    pub fn without_item(&self) -> bool {
        self.screen.dims_item() && self.title.is_empty()
    }

    /// `quota_exceeded` as a status screen with a back line ending in a time: the
    /// line's lead (`"Back in"`) and its time, shown in big numbers.
    pub fn quota_time(&self, now_ms: u64) -> Option<(String<BACK_CAP>, TimeText)> {
        if self.screen != Screen::QuotaExceeded || !self.without_item() {
            return None;
        }
        let line = self.back_line(now_ms);
        let (lead, time) = back_time(&line)?;
        Some((owned(lead), owned(time)))
    }

    /// Whether the login warning shows: it is set and the screen is an item screen (not
    /// `offline` or `quota_exceeded`, which have more pressing news) or `idle`.
    pub fn shows_warning(&self) -> bool {
        !self.warning.is_empty()
            && matches!(
                self.screen,
                Screen::NowPlaying | Screen::Paused | Screen::Episode | Screen::Ad | Screen::Idle
            )
    }

    /// The item screens' state label.
    pub fn header_label(&self) -> &'static str {
        match self.screen {
            Screen::Paused => "PAUSED",
            Screen::Episode => "PODCAST",
            Screen::Ad => "ADVERTISEMENT",
            Screen::Offline | Screen::QuotaExceeded => "LAST PLAYED",
            _ => "NOW PLAYING",
        }
    }

    /// The title line (`"Unknown title"` when there is none).
    pub fn title_line(&self) -> &str {
        if self.title.is_empty() {
            "Unknown title"
        } else {
            self.title.as_str()
        }
    }

    /// The device line of the header (`"on Kitchen speaker"`); empty without a device.
    pub fn device_line(&self) -> String<DEVICE_LINE_CAP> {
        let mut out = String::new();
        if !self.device.is_empty() {
            let _ = out.push_str("on ");
            push_truncating(&mut out, &self.device);
        }
        out
    }

    /// The badge of an item screen at `now_ms`: offline with how long, the age of stale
    /// data, or (on a mono display, which has no header) out of quota or paused. The
    /// ages are short on a mono display (`"3m"`).
    pub fn badge(&self, profile: Profile, now_ms: u64) -> Option<(String<BADGE_CAP>, BadgeKind)> {
        let mono = profile.is_mono();
        let age = |s: u32| {
            if mono { short_age_text(s) } else { age_text(s) }
        };
        let mut t = String::new();
        if let Some(s) = self
            .offline_age(now_ms)
            .filter(|_| self.screen == Screen::Offline)
        {
            let _ = t.push_str(if mono { "Offline " } else { "Offline \u{b7} " });
            let _ = t.push_str(&age(s));
            Some((t, BadgeKind::Offline))
        } else if mono && self.screen == Screen::QuotaExceeded {
            let _ = t.push_str(Self::quota_headings(profile).last().copied().unwrap_or(""));
            Some((t, BadgeKind::DailyLimit))
        } else if let Some(s) = self.stale_age(now_ms) {
            let _ = t.push_str(&age(s));
            let _ = t.push_str(" ago");
            Some((t, BadgeKind::Stale))
        } else if mono && self.screen == Screen::Paused {
            let _ = t.push_str("PAUSED");
            Some((t, BadgeKind::Paused))
        } else {
            None
        }
    }

    /// `quota_exceeded`'s heading, longest first (one on a mono display).
    pub fn quota_headings(profile: Profile) -> &'static [&'static str] {
        match QUOTA_HEADINGS.split_last() {
            Some((short, _)) if profile.is_mono() => core::slice::from_ref(short),
            _ => &QUOTA_HEADINGS,
        }
    }

    /// The text of the status screens' big number at `now_ms`: the rate limit's
    /// countdown, the quota's time, the idle clock; empty for the rest.
    pub fn big_text(&self, now_ms: u64) -> TimeText {
        match self.screen {
            Screen::RateLimited => countdown_text(self.retry_in(now_ms).unwrap_or(0)),
            Screen::QuotaExceeded => self
                .quota_time(now_ms)
                .map(|(_, time)| time)
                .unwrap_or_default(),
            Screen::Idle => match self.clock {
                Some(c) => {
                    use core::fmt::Write as _;
                    let mut t = TimeText::new();
                    let _ = write!(t, "{}:{:02}", c.hour.min(23), c.minute.min(59));
                    t
                }
                None => TimeText::new(),
            },
            _ => TimeText::new(),
        }
    }

    /// What a status screen says at `now_ms`, in the shorter words on a mono display.
    pub fn status_words(&self, profile: Profile, now_ms: u64) -> StatusWords {
        let mono = profile.is_mono();
        let pick = |short: &'static str, long: &'static str| if mono { short } else { long };
        let on_your_computer = pick("On your computer run", "On your computer, run");
        let (heading, body, hint): (&'static [&'static str], String<MESSAGE_CAP>, &str) =
            match self.screen {
                Screen::LoginNeeded => (
                    if mono {
                        &["Login needed"]
                    } else {
                        &["Log in to Spotify"]
                    },
                    owned(on_your_computer),
                    // A login message says what to run itself.
                    if self.message.is_empty() {
                        "tonearm login"
                    } else {
                        ""
                    },
                ),
                Screen::RateLimited => (
                    if mono {
                        &["Rate limited"]
                    } else {
                        &["Spotify asked us to wait"]
                    },
                    owned(pick("retrying automatically", "Retrying automatically in")),
                    "",
                ),
                Screen::ConfigError => (
                    if mono {
                        &["Config error"]
                    } else {
                        &["Configuration error"]
                    },
                    self.message.clone(),
                    pick("Check config.toml", "Fix config.toml, then restart tonearm"),
                ),
                Screen::Connecting => (
                    &["Connecting"],
                    if self.message.is_empty() {
                        owned("Joining the network")
                    } else {
                        self.message.clone()
                    },
                    "",
                ),
                Screen::Offline => (
                    &["Offline"],
                    owned(pick("No answer from Spotify", "No answer from Spotify yet")),
                    "",
                ),
                Screen::SetupNeeded => (
                    if mono {
                        &["Setup needed"]
                    } else {
                        &["Set up this display"]
                    },
                    owned(on_your_computer),
                    "tonearm provision",
                ),
                Screen::QuotaExceeded => (
                    Self::quota_headings(profile),
                    match self.quota_time(now_ms) {
                        Some((lead, _)) => owned(&lead),
                        None => owned(&self.back_line(now_ms)),
                    },
                    "",
                ),
                Screen::Idle if self.clock.is_some() => {
                    (&["Nothing playing"], owned("Nothing playing"), "")
                }
                _ => (
                    &["Nothing playing"],
                    owned(pick("Play on Spotify", "Play something on Spotify")),
                    "",
                ),
            };
        let mut hint: String<HINT_CAP> = owned(hint);
        if let Some(secs) = self
            .offline_age(now_ms)
            .filter(|_| self.screen == Screen::Offline)
        {
            use core::fmt::Write as _;
            let _ = write!(hint, "for {}", age_text(secs));
        }
        StatusWords {
            heading,
            body,
            hint,
        }
    }
}

/// The back line split before its trailing time, when it ends in one: `"Back in
/// 13:35:26"` is `("Back in", "13:35:26")`. A time is the last word, at most 8 characters
/// of ASCII digits and colons with a digit; `None` when the line ends otherwise.
pub fn back_time(back: &str) -> Option<(&str, &str)> {
    let back = back.trim();
    let (lead, time) = match back.rsplit_once(' ') {
        Some((lead, time)) => (lead.trim_end(), time),
        None => ("", back),
    };
    let ok = time.len() <= 8
        && time.bytes().any(|b| b.is_ascii_digit())
        && time.bytes().all(|b| b.is_ascii_digit() || b == b':');
    ok.then_some((lead, time))
}

/// A short human age: `"45s"`, `"3 min"`, `"2 h"`, `"3 d"`.
pub fn age_text(secs: u32) -> String<16> {
    use core::fmt::Write as _;
    let mut out = String::new();
    let _ = match secs {
        0..=59 => write!(out, "{secs}s"),
        60..=3599 => write!(out, "{} min", secs / 60),
        3600..=86_399 => write!(out, "{} h", secs / 3600),
        _ => write!(out, "{} d", secs / 86_400),
    };
    out
}

/// A compact age for small displays: `"45s"`, `"3m"`, `"2h"`, `"3d"`.
pub fn short_age_text(secs: u32) -> String<16> {
    use core::fmt::Write as _;
    let mut out = String::new();
    let _ = match secs {
        0..=59 => write!(out, "{secs}s"),
        60..=3599 => write!(out, "{}m", secs / 60),
        3600..=86_399 => write!(out, "{}h", secs / 3600),
        _ => write!(out, "{}d", secs / 86_400),
    };
    out
}

/// A countdown: `"0:42"`, `"12:05"`, `"1:00:00"`.
pub fn countdown_text(secs: u32) -> TimeText {
    format_time(u64::from(secs) * 1000)
}

// ---------------------------------------------------------------------------------------
// From the session's state to the view model: every word the screens show is decided here.
// ---------------------------------------------------------------------------------------

/// When a quota hold ends, in words: "Back at 09:42" (today), "Back tomorrow 09:42",
/// "Back Tue 09:42" (this week), "Back 3 Jan 09:42" (later); "Back in 13:35:26" when the
/// time of day is unknown. The minute is rounded up: never "back" before the hold ends.
pub fn back_text<const N: usize>(
    out: &mut String<N>,
    session: &Session,
    now_ms: u64,
    until_unix_s: u64,
    remaining_ms: u64,
) {
    use core::fmt::Write as _;
    use tonearm_core::wall::{LocalTime, WEEKDAYS, weekday};
    out.clear();
    let (Some(today), Some(offset)) = (session.local_time(now_ms), session.utc_offset_s()) else {
        let s = remaining_ms.div_ceil(1000);
        let _ = write!(out, "Back in {}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
        return;
    };
    let back = LocalTime::at(until_unix_s.div_ceil(60) * 60, offset);
    let hm = (back.hour(), back.minute());
    let _ = match back.days - today.days {
        ..=0 => write!(out, "Back at {:02}:{:02}", hm.0, hm.1),
        1 => write!(out, "Back tomorrow {:02}:{:02}", hm.0, hm.1),
        2..=6 => {
            let day = WEEKDAYS
                .get(usize::from(weekday(back.days)))
                .copied()
                .unwrap_or("");
            write!(out, "Back {day} {:02}:{:02}", hm.0, hm.1)
        }
        _ => {
            let d = back.date();
            write!(
                out,
                "Back {} {} {:02}:{:02}",
                d.day,
                d.month_name(),
                hm.0,
                hm.1
            )
        }
    };
}

/// "Login ends 3 Jan": the local date the six-month login ends (UTC when the offset is
/// unknown).
pub fn login_warning_text<const N: usize>(
    out: &mut String<N>,
    session: &Session,
    ends_unix_s: u64,
) {
    use core::fmt::Write as _;
    out.clear();
    let d =
        tonearm_core::wall::LocalTime::at(ends_unix_s, session.utc_offset_s().unwrap_or(0)).date();
    let _ = write!(out, "Login ends {} {}", d.day, d.month_name());
}

fn secs(ms: u64) -> u32 {
    u32::try_from(ms / 1000).unwrap_or(u32::MAX)
}

/// The rules from the session's state to what is shown, at `now_ms`.
///
/// `login_command` is what the user runs for a new login on this platform (`tonearm
/// login` on the desktop, `tonearm provision` for a board); it ends the message that
/// says a six-month login has run out.
pub fn view_model(
    session: &Session,
    now_ms: u64,
    clock: Option<ClockTime>,
    login_command: &str,
) -> ViewModel {
    let status = session.status(now_ms);
    let mut vm = match session.playback() {
        Playback::Item { np, received_ms } => {
            ViewModel::from_now_playing(np, tonearm_core::position_ms(np, *received_ms, now_ms))
        }
        Playback::Nothing { .. } => ViewModel::new(Screen::Idle),
        // Nothing heard yet: say so, rather than "nothing playing".
        Playback::Unknown => {
            let mut vm = ViewModel::new(Screen::Connecting);
            push_truncating(&mut vm.message, "Asking Spotify what plays");
            vm
        }
    };
    if vm.screen == Screen::Idle {
        vm.clock = clock;
    }
    match status.health {
        Health::Good => {}
        Health::Stale { age_ms } => {
            // Its badge shows once it is old enough (see `ViewModel::stale_age`), as the
            // age grows while the view model is drawn again.
            if vm.screen != Screen::Idle {
                vm.stale_s = Some(secs(age_ms));
            }
        }
        Health::Offline { for_ms } => {
            vm.screen = Screen::Offline;
            vm.offline_s = Some(secs(for_ms));
        }
        Health::RateLimited { remaining_ms } => {
            vm.screen = Screen::RateLimited;
            vm.retry_in_s = Some(secs(remaining_ms.saturating_add(999)));
        }
        Health::LoginNeeded => vm = ViewModel::new(Screen::LoginNeeded),
        Health::LoginExpired => {
            vm = ViewModel::new(Screen::LoginNeeded);
            push_truncating(&mut vm.message, "Spotify logins last six months: run ");
            push_truncating(&mut vm.message, login_command);
        }
        Health::QuotaExceeded {
            until_unix_s,
            remaining_ms,
        } => {
            // The last item stays, dimmed; without one, a status screen.
            if !vm.screen.shows_item() || vm.title.is_empty() {
                vm = ViewModel::new(Screen::QuotaExceeded);
            }
            vm.screen = Screen::QuotaExceeded;
            if session.local_time(now_ms).is_some() {
                back_text(&mut vm.back, session, now_ms, until_unix_s, remaining_ms);
            } else {
                // No time of day: a countdown, which runs as the view model is drawn.
                vm.back_in_s = Some(secs(remaining_ms.saturating_add(999)));
            }
        }
        Health::ConfigError(problem) => {
            vm = ViewModel::new(Screen::ConfigError);
            let text = match problem {
                ConfigProblem::InvalidClient => "invalid client id or secret",
                ConfigProblem::MissingClientId => "no client id configured",
                ConfigProblem::PremiumRequired => "Spotify Premium needed for the app's owner",
            };
            push_truncating(&mut vm.message, text);
        }
    }
    vm.notice = status.notice;
    if vm.screen.shows_item() && !vm.screen.dims_item() {
        vm.heart = session.has_heart().then_some(session.liked());
        vm.volume_shown = status.volume_shown && vm.volume.is_some();
        if let Some(next) = session.up_next() {
            up_next_text(&mut vm.up_next, next);
        }
    } else {
        vm.volume = None;
        vm.volume_enabled = false;
    }
    let warned = matches!(
        vm.screen,
        Screen::NowPlaying | Screen::Paused | Screen::Episode | Screen::Ad | Screen::Idle
    );
    if let (true, Some(ends)) = (warned, status.login_ends_unix_s) {
        login_warning_text(&mut vm.warning, session, ends);
    }
    // Its times (position, ages, countdowns) are as of now; drawn later, they move on.
    vm.at_ms = Some(now_ms);
    vm
}

/// The up-next line's words: `"Title · Artist"` (or the show, for an episode).
pub fn up_next_text(out: &mut String<UP_NEXT_CAP>, next: &tonearm_core::parse::QueuedItem) {
    out.clear();
    push_truncating(out, &next.title);
    if !next.by.is_empty() {
        push_truncating(out, " \u{b7} ");
        push_truncating(out, &next.by);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonearm_core::text::bounded;

    fn track() -> NowPlaying {
        let mut np = NowPlaying {
            kind: Kind::Track,
            is_playing: true,
            progress_ms: Some(46_170),
            duration_ms: Some(151_933),
            title: Some(bounded("Karma Police").0),
            album: Some(bounded("OK Computer").0),
            ..Default::default()
        };
        let _ = np.artists.push(bounded("Radiohead").0);
        let _ = np.artists.push(bounded("Someone").0);
        np
    }

    #[test]
    fn track_fields() {
        let vm = ViewModel::from_now_playing(&track(), 46_170);
        assert_eq!(vm.screen, Screen::NowPlaying);
        assert_eq!(vm.subtitle.as_str(), "Radiohead, Someone");
        assert_eq!(vm.detail.as_str(), "OK Computer");
        let (elapsed, total) = vm.times_at(0);
        assert_eq!((elapsed.as_str(), total.as_str()), ("0:46", "2:31"));
        assert_eq!(vm.controls, Controls::ALL);
        assert!(!vm.truncated);
    }

    #[test]
    fn screens_table() {
        let mut paused = track();
        paused.is_playing = false;
        let mut ep = track();
        ep.kind = Kind::Episode;
        let ad = NowPlaying {
            kind: Kind::Ad,
            is_playing: true,
            ..Default::default()
        };
        let table = [
            (track(), Screen::NowPlaying),
            (paused, Screen::Paused),
            (ep, Screen::Episode),
            (ad, Screen::Ad),
            (NowPlaying::default(), Screen::Idle),
        ];
        for (np, want) in table {
            assert_eq!(ViewModel::from_now_playing(&np, 0).screen, want);
        }
    }

    #[test]
    fn durations() {
        let mut vm = ViewModel::default();
        let texts = |vm: &ViewModel, now: u64| {
            let (a, b) = vm.times_at(now);
            (a.as_str().to_owned(), b.as_str().to_owned())
        };
        vm.set_position(2_760_000, Some(7_200_000));
        assert_eq!(texts(&vm, 0), ("0:46:00".into(), "2:00:00".into()));
        vm.set_position(12_000, Some(0));
        assert_eq!(texts(&vm, 0), ("0:12".into(), "".into()));
        assert!(!vm.has_duration());
        vm.set_position(u64::MAX, None);
        assert!(!vm.times_at(0).0.is_empty());
    }

    #[test]
    fn disallows_grey_out_controls() {
        let mut np = track();
        np.disallows.skipping_prev = true;
        np.disallows.pausing = true;
        let vm = ViewModel::from_now_playing(&np, 0);
        assert_eq!(
            vm.controls,
            Controls {
                prev: false,
                play_pause: false,
                next: true
            }
        );
    }

    #[test]
    fn a_restricted_device_greys_out_every_control() {
        let mut np = track();
        np.device = Some(tonearm_core::Device {
            is_restricted: true,
            ..Default::default()
        });
        assert_eq!(
            ViewModel::from_now_playing(&np, 0).controls,
            Controls::default()
        );
    }

    #[test]
    fn long_artist_list_is_cut_and_flagged() {
        let mut np = track();
        np.artists.clear();
        for _ in 0..6 {
            let _ = np.artists.push(bounded(&"x".repeat(100)).0);
        }
        let vm = ViewModel::from_now_playing(&np, 0);
        assert_eq!(vm.subtitle.len(), ARTISTS_TEXT_CAP);
        assert!(vm.truncated);
    }

    #[test]
    fn back_lines_and_their_times() {
        for (back, want) in [
            ("Back at 09:42", Some(("Back at", "09:42"))),
            ("Back tomorrow 09:42", Some(("Back tomorrow", "09:42"))),
            ("Back Tue 09:42", Some(("Back Tue", "09:42"))),
            ("Back in 13:35:26", Some(("Back in", "13:35:26"))),
            ("Back in  0:42 ", Some(("Back in", "0:42"))),
            ("09:42", Some(("", "09:42"))),
            ("Back at 9:42 pm", None),
            ("Back in 2 h", None),
            ("Back soon", None),
            ("Back in ::", None),
            ("Back in 123:45:678", None),
            ("Back in 1\u{662}:00", None),
            ("", None),
            (" ", None),
        ] {
            assert_eq!(back_time(back), want, "{back:?}");
        }
    }

    #[test]
    fn quota_sample_and_caps() {
        let vm = ViewModel::new(Screen::QuotaExceeded).with_screen(Screen::QuotaExceeded);
        assert_eq!(vm.back.as_str(), "Back tomorrow 09:42");
        let mut vm = ViewModel::default();
        assert!(!copy(
            &mut vm.warning,
            "Login ends 30 September 2026, run login"
        ));
        assert_eq!(vm.warning.len(), WARNING_CAP);
        assert!(copy(&mut vm.back, "Back tomorrow 09:42"));
    }

    #[test]
    fn ages() {
        for (s, want) in [
            (5, "5s"),
            (60, "1 min"),
            (7200, "2 h"),
            (u32::MAX, "49710 d"),
        ] {
            assert_eq!(age_text(s).as_str(), want);
        }
        assert_eq!(countdown_text(42).as_str(), "0:42");
        assert_eq!(countdown_text(48_926).as_str(), "13:35:26");
        assert_eq!(countdown_text(3600).as_str(), "1:00:00");
    }
}
