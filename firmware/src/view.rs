//! The view model: a plain struct the app fills from the core's state and the screens
//! draw. It holds text already chosen and formatted, so drawing never decides anything.

use heapless::String;
use tonearm_core::text::push_truncating;
use tonearm_core::{DEVICE_NAME_CAP, NAME_CAP, TITLE_CAP};
use tonearm_core::{Disallows, Kind, NowPlaying, Repeat, TimeText, format_time};

use crate::checksum::Fnv1a;
use crate::screen::Screen;

/// Bytes kept of the joined artist names (`"A, B, C"`).
pub const ARTISTS_TEXT_CAP: usize = 192;
/// Bytes kept of a status message (the config error's explanation, for example).
pub const MESSAGE_CAP: usize = 96;
/// Bytes kept of the quota screen's back line (`"Back tomorrow 09:42"`).
pub const BACK_CAP: usize = 32;
/// Bytes kept of the login warning (`"Login ends 3 Jan"`).
pub const WARNING_CAP: usize = 24;

/// A short overlay over whatever screen is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Notice {
    /// A control needs Spotify Premium (403 `PREMIUM_REQUIRED`).
    PremiumRequired,
    /// No device is active (404 `NO_ACTIVE_DEVICE`).
    NoActiveDevice,
    /// A control was refused for another reason.
    CommandFailed,
    /// The app's daily Spotify quota is used up (a control was refused for it).
    DailyLimit,
}

impl Notice {
    /// The text shown.
    pub const fn text(self) -> &'static str {
        match self {
            Notice::PremiumRequired => "Premium required",
            Notice::NoActiveDevice => "No active device",
            Notice::CommandFailed => "Command failed",
            Notice::DailyLimit => "Daily limit reached",
        }
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
    /// Position into the item, in ms.
    pub position_ms: u64,
    /// Duration of the item in ms; `None` (or zero) when unknown (ads, null durations).
    pub duration_ms: Option<u64>,
    /// Elapsed text, in the duration's format (`"0:46"`, `"0:46:00"`).
    pub elapsed: TimeText,
    /// Total text (`"2:31"`, `"2:00:00"`); empty when there is no duration.
    pub total: TimeText,
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
    /// Age of the data in seconds when it is stale (the stale badge); `None` when fresh.
    pub stale_s: Option<u32>,
    /// A short overlay.
    pub notice: Option<Notice>,
    /// `idle`: the time of day, when known.
    pub clock: Option<ClockTime>,
    /// `offline`: seconds since the last good answer.
    pub offline_s: Option<u32>,
    /// `rate_limited`: seconds until the next request is allowed.
    pub retry_in_s: Option<u32>,
    /// `config_error` and `login_needed` (and `connecting`): what is wrong, in a few
    /// words; wrapped onto as many lines as the screen has. Empty: the screen's own text.
    pub message: String<MESSAGE_CAP>,
    /// `quota_exceeded`: when Spotify answers again, already formatted (`"Back at
    /// 09:42"`, `"Back tomorrow 09:42"`, `"Back Tue 09:42"`, `"Back in 13:35:26"`).
    /// Where a screen has room, a trailing time (digits and colons) is shown in big
    /// numbers (see [`back_time`]). Empty: none.
    pub back: String<BACK_CAP>,
    /// The login warning shown small on the item screens and `idle` (`"Login ends 3
    /// Jan"`). Empty: none.
    pub warning: String<WARNING_CAP>,
    /// Some text was cut to fit its capacity.
    pub truncated: bool,
}

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
        }
        vm.shuffle = np.shuffle;
        vm.repeat = np.repeat;
        vm.truncated = np.truncated || !fitted;
        vm
    }

    /// Sets the position and duration and their texts (`elapsed`, `total`), both in the
    /// duration's format. A zero duration counts as none.
    pub fn set_position(&mut self, position_ms: u64, duration_ms: Option<u64>) {
        let duration_ms = duration_ms.filter(|d| *d > 0);
        self.position_ms = position_ms;
        self.duration_ms = duration_ms;
        self.total.clear();
        match duration_ms {
            Some(d) => {
                let long = d >= 3_600_000 || position_ms >= 3_600_000;
                self.elapsed = time_text(position_ms, long);
                self.total = time_text(d, long);
            }
            None => self.elapsed = format_time(position_ms),
        }
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

/// `m:ss`, or `h:mm:ss` when `long`.
fn time_text(ms: u64, long: bool) -> TimeText {
    use core::fmt::Write as _;
    let secs = ms / 1000;
    let mut out = TimeText::new();
    let _ = if long {
        write!(
            out,
            "{}:{:02}:{:02}",
            secs / 3600,
            (secs / 60) % 60,
            secs % 60
        )
    } else {
        write!(out, "{}:{:02}", secs / 60, secs % 60)
    };
    out
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
    time_text(u64::from(secs) * 1000, secs >= 3600)
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
        assert_eq!((vm.elapsed.as_str(), vm.total.as_str()), ("0:46", "2:31"));
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
        vm.set_position(2_760_000, Some(7_200_000));
        assert_eq!(
            (vm.elapsed.as_str(), vm.total.as_str()),
            ("0:46:00", "2:00:00")
        );
        vm.set_position(12_000, Some(0));
        assert_eq!((vm.elapsed.as_str(), vm.total.as_str()), ("0:12", ""));
        assert!(!vm.has_duration());
        vm.set_position(u64::MAX, None);
        assert!(!vm.elapsed.is_empty());
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
