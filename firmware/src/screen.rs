//! The one vocabulary of screens.

/// What the display shows. The snake_case [`Screen::name`] is used everywhere: the
/// `--screen` flag, the `--events` stream and the golden file names.
///
/// "Stale" is not a screen (it is a badge with the age of the data), and notices
/// ("Premium required", "No active device") are overlays, not screens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Screen {
    /// A track is playing.
    NowPlaying,
    /// A track (or episode) is paused.
    Paused,
    /// A podcast episode or audiobook chapter.
    Episode,
    /// An advertisement.
    Ad,
    /// Nothing is playing.
    #[default]
    Idle,
    /// No usable token: the user must run `tonearm login`.
    LoginNeeded,
    /// No good answer for a while: the last known track, dimmed, with how long.
    Offline,
    /// Spotify asked to wait (HTTP 429): a countdown.
    RateLimited,
    /// The configuration is wrong (for example an invalid client id).
    ConfigError,
    /// A board is joining its Wi-Fi network (or lost it and is joining again).
    Connecting,
    /// A board has no settings (Wi-Fi, client id, token) in its flash yet: run
    /// `tonearm provision` and flash the image.
    SetupNeeded,
    /// The app's daily Spotify quota is used up: nothing is asked for hours. The last
    /// item, dimmed as on `offline`, with when Spotify answers again (a status screen
    /// when nothing was heard).
    QuotaExceeded,
}

impl Screen {
    /// Every screen, in a stable order.
    pub const ALL: [Screen; 12] = [
        Screen::NowPlaying,
        Screen::Paused,
        Screen::Episode,
        Screen::Ad,
        Screen::Idle,
        Screen::LoginNeeded,
        Screen::Offline,
        Screen::RateLimited,
        Screen::ConfigError,
        Screen::Connecting,
        Screen::SetupNeeded,
        Screen::QuotaExceeded,
    ];

    /// The snake_case name (`now_playing`, `login_needed`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            Screen::NowPlaying => "now_playing",
            Screen::Paused => "paused",
            Screen::Episode => "episode",
            Screen::Ad => "ad",
            Screen::Idle => "idle",
            Screen::LoginNeeded => "login_needed",
            Screen::Offline => "offline",
            Screen::RateLimited => "rate_limited",
            Screen::ConfigError => "config_error",
            Screen::Connecting => "connecting",
            Screen::SetupNeeded => "setup_needed",
            Screen::QuotaExceeded => "quota_exceeded",
        }
    }

    /// The screen of a snake_case name; `None` for an unknown name.
    pub fn from_name(name: &str) -> Option<Screen> {
        Screen::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Whether this screen shows an item (title, art, progress). `offline` and
    /// `quota_exceeded` show the last one, dimmed; with none (an empty title: nothing
    /// heard yet) the frame draws them as status screens.
    pub const fn shows_item(self) -> bool {
        matches!(
            self,
            Screen::NowPlaying
                | Screen::Paused
                | Screen::Episode
                | Screen::Ad
                | Screen::Offline
                | Screen::QuotaExceeded
        )
    }

    /// Whether this screen shows the last item dimmed (`offline`, `quota_exceeded`).
    pub const fn dims_item(self) -> bool {
        matches!(self, Screen::Offline | Screen::QuotaExceeded)
    }
}

impl core::fmt::Display for Screen {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in Screen::ALL {
            assert_eq!(Screen::from_name(s.name()), Some(s));
        }
        assert_eq!(Screen::from_name("nope"), None);
        assert_eq!(Screen::RateLimited.name(), "rate_limited");
        assert_eq!(
            Screen::from_name("quota_exceeded"),
            Some(Screen::QuotaExceeded)
        );
    }
}
