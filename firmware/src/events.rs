//! The event lines (`--events` on the desktop, `tonearm simulate`, a board's UART): one
//! JSON object per change of what the display shows, defined once here and documented in
//! `docs/events.md`. Nothing else formats them.
//!
//! | key | present | a new line when it changes |
//! | --- | --- | --- |
//! | `t_ms` | always (the shell's clock) | - |
//! | `screen`, `title` | always (`title` null when none) | yes |
//! | `warnings` | only when not empty, e.g. `["login_expires"]` | yes |
//! | `dark` | `true` while the screen is dark (night hours, idle blank) | yes |
//! | `budget` | `{"limit":N,"left":M}` when a budget is set | no (it rides along) |
//! | `quota_until` | Unix seconds, on `quota_exceeded` only | yes |
//! | `liked` | `true` / `false`, once known for the item playing | yes |
//! | `volume` | 0 to 100, while an item shows and the device has one | yes |
//! | `up_next` | a title (`"Title · Artist"`), once the queue answered | yes |

use core::fmt::{self, Write};

use heapless::String;
use tonearm_core::TITLE_CAP;
use tonearm_core::text::push_truncating;

use crate::screen::Screen;

/// Warnings the display carries besides its screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Warnings {
    /// The six-month Spotify login ends within two weeks.
    pub login_expires: bool,
}

impl Warnings {
    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        !self.login_expires
    }

    /// The names, in a stable order.
    pub fn names(&self) -> impl Iterator<Item = &'static str> {
        self.login_expires.then_some("login_expires").into_iter()
    }
}

/// What one event line says (all but its time).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EventLine {
    /// The screen shown.
    pub screen: Screen,
    /// The title shown (empty: none).
    pub title: String<TITLE_CAP>,
    /// Warnings in force.
    pub warnings: Warnings,
    /// The screen is dark.
    pub dark: bool,
    /// The effective daily budget and what is left of it, when a budget is set.
    pub budget: Option<(u32, u32)>,
    /// The end of Spotify's quota hold (Unix seconds), on `quota_exceeded` only.
    pub quota_until: Option<u64>,
    /// Whether the item playing is liked, once known.
    pub liked: Option<bool>,
    /// The device's volume, while an item shows.
    pub volume: Option<u8>,
    /// What plays next (empty: unknown or none).
    pub up_next: String<{ crate::view::UP_NEXT_CAP }>,
}

impl EventLine {
    /// A line for `screen` with `title`; the rest empty.
    pub fn new(screen: Screen, title: &str) -> EventLine {
        let mut line = EventLine {
            screen,
            ..EventLine::default()
        };
        push_truncating(&mut line.title, title);
        line
    }

    /// Whether `other` says something new: every key but `budget` counts.
    pub fn differs(&self, other: &EventLine) -> bool {
        self.screen != other.screen
            || self.title != other.title
            || self.warnings != other.warnings
            || self.dark != other.dark
            || self.quota_until != other.quota_until
            || self.liked != other.liked
            || self.volume != other.volume
            || self.up_next != other.up_next
    }

    /// Writes the line as one JSON object (no newline).
    pub fn write_json<W: Write>(&self, t_ms: u64, w: &mut W) -> fmt::Result {
        write!(
            w,
            "{{\"t_ms\":{t_ms},\"screen\":\"{}\",\"title\":",
            self.screen.name()
        )?;
        if self.title.is_empty() {
            w.write_str("null")?;
        } else {
            write_json_str(w, &self.title)?;
        }
        if !self.warnings.is_empty() {
            w.write_str(",\"warnings\":[")?;
            for (i, name) in self.warnings.names().enumerate() {
                if i > 0 {
                    w.write_char(',')?;
                }
                write!(w, "\"{name}\"")?;
            }
            w.write_char(']')?;
        }
        if self.dark {
            w.write_str(",\"dark\":true")?;
        }
        if let Some((limit, left)) = self.budget {
            write!(w, ",\"budget\":{{\"limit\":{limit},\"left\":{left}}}")?;
        }
        if let Some(until) = self.quota_until {
            write!(w, ",\"quota_until\":{until}")?;
        }
        if let Some(liked) = self.liked {
            write!(w, ",\"liked\":{liked}")?;
        }
        if let Some(volume) = self.volume {
            write!(w, ",\"volume\":{volume}")?;
        }
        if !self.up_next.is_empty() {
            w.write_str(",\"up_next\":")?;
            write_json_str(w, &self.up_next)?;
        }
        w.write_char('}')
    }
}

/// Writes `s` as a JSON string, escaped.
fn write_json_str<W: Write>(w: &mut W, s: &str) -> fmt::Result {
    w.write_char('"')?;
    for c in s.chars() {
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
    w.write_char('"')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(line: &EventLine, t: u64) -> std::string::String {
        let mut s = std::string::String::new();
        line.write_json(t, &mut s).unwrap();
        s
    }

    #[test]
    fn lines_table() {
        let mut line = EventLine::new(Screen::NowPlaying, "Say \"hi\" \\ \u{1}é");
        assert_eq!(
            json(&line, 5),
            r#"{"t_ms":5,"screen":"now_playing","title":"Say \"hi\" \\ \u0001é"}"#
        );
        line.warnings.login_expires = true;
        line.dark = true;
        line.budget = Some((700, 650));
        line.quota_until = Some(1_764_000_000);
        assert_eq!(
            json(&line, 0),
            r#"{"t_ms":0,"screen":"now_playing","title":"Say \"hi\" \\ \u0001é","warnings":["login_expires"],"dark":true,"budget":{"limit":700,"left":650},"quota_until":1764000000}"#
        );
        let mut more = line.clone();
        more.liked = Some(false);
        more.volume = Some(62);
        push_truncating(&mut more.up_next, "Blackest \"Eyes\" \u{b7} Porcupine Tree");
        assert!(more.differs(&line));
        assert!(json(&more, 0).ends_with(
            r#""quota_until":1764000000,"liked":false,"volume":62,"up_next":"Blackest \"Eyes\" · Porcupine Tree"}"#
        ));
        serde_json::from_str::<serde_json::Value>(&json(&more, 0)).unwrap();
        assert_eq!(
            json(&EventLine::new(Screen::Idle, ""), 1),
            r#"{"t_ms":1,"screen":"idle","title":null}"#
        );
        for l in [json(&line, 0), json(&EventLine::new(Screen::Idle, "x"), 1)] {
            serde_json::from_str::<serde_json::Value>(&l).unwrap();
        }
    }

    #[test]
    fn budget_rides_along() {
        let a = EventLine {
            budget: Some((700, 10)),
            ..EventLine::new(Screen::Idle, "")
        };
        let mut b = a.clone();
        b.budget = Some((700, 9));
        assert!(!a.differs(&b));
        b.dark = true;
        assert!(a.differs(&b));
    }
}
