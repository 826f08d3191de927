//! The day format (documented in `docs/days/README.md`): a date, a UTC offset, the day's
//! scheduling config, and what happens at Spotify and on the display, in order.
//!
//! Raw JSON becomes a validated [`Day`] in one step; the first problem found is reported
//! with the file, the event's index (counting from 0) and the key.

use core::fmt;
use std::collections::HashMap;
use std::rc::Rc;

use serde_json::{Map, Value};
use tonearm_core::session::Control;
use tonearm_core::wall::Date;

use crate::config::Sched;

/// Milliseconds in a day.
pub const DAY_MS: u64 = 86_400_000;
/// The longest title accepted (bytes); the display keeps 256.
pub const TITLE_MAX: usize = 200;

/// A day of listening.
#[derive(Debug, Clone, PartialEq)]
pub struct Day {
    /// The local date.
    pub date: Date,
    /// The local offset from UTC, in minutes east.
    pub utc_offset_min: i32,
    /// The day's own scheduling keys, applied over the defaults.
    pub config: Map<String, Value>,
    /// What happens, in order.
    pub events: Vec<Event>,
}

/// One thing that happens.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Local time on the day's date, ms since 00:00.
    pub at_ms: u64,
    /// What happens.
    pub action: Action,
}

/// An item of a `play` list, and a skip made on another device: the scripted player's
/// own types.
pub use tonearm_testkit::{Skip, Track};

/// What happens.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// On another device: this list replaces whatever is loaded; its first item starts at
    /// position 0.
    Play(Rc<[Track]>),
    /// A skip on another device.
    Skip(Skip),
    /// A pause on another device.
    Pause,
    /// A resume on another device.
    Resume,
    /// A stop on another device: nothing is loaded.
    Stop,
    /// A press on the display.
    Press(Control),
    /// Spotify's quota is used up: every call answers the quota 429 for this long.
    QuotaExceeded {
        /// How long, in seconds.
        retry_after_s: u64,
    },
}

/// The action keys of an event.
pub const ACTIONS: [&str; 7] = [
    "play",
    "skip",
    "pause",
    "resume",
    "stop",
    "press",
    "quota_exceeded",
];

/// Why a day file was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayError {
    /// The file, as given.
    pub file: String,
    /// The event's index in `events` (from 0), when an event is at fault.
    pub event: Option<usize>,
    /// The key at fault, already quoted (`"skip"`, `"play": item 2: "duration_s"`).
    pub key: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for DayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.file)?;
        if let Some(i) = self.event {
            write!(f, "event {i}: ")?;
        }
        if let Some(key) = &self.key {
            write!(f, "{key}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for DayError {}

/// A problem before the file name is attached.
struct Problem {
    event: Option<usize>,
    key: Option<String>,
    message: String,
}

fn problem(event: Option<usize>, key: &str, message: impl Into<String>) -> Problem {
    Problem {
        event,
        key: Some(key.to_owned()),
        message: message.into(),
    }
}

fn q(key: &str) -> String {
    format!("\"{key}\"")
}

impl Day {
    /// Reads and validates the day file at `path` (named in errors as given).
    pub fn load(path: &std::path::Path) -> Result<Day, DayError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| DayError {
            file: file.clone(),
            event: None,
            key: None,
            message: format!("cannot read: {e}"),
        })?;
        Day::parse(&text, &file)
    }

    /// Validates a day's JSON text; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Day, DayError> {
        parse(text).map_err(|p| DayError {
            file: file.to_owned(),
            event: p.event,
            key: p.key,
            message: p.message,
        })
    }

    /// The scheduling configuration: the defaults with this day's `config` over them.
    pub fn sched(&self) -> Sched {
        let mut s = Sched::default();
        // Validated when the day was parsed.
        let _ = s.apply_json(&self.config);
        s
    }

    /// Unix ms at 00:00 local on the day's date.
    pub fn midnight_unix_ms(&self) -> u64 {
        let s = self.date.to_days() * 86_400 - i64::from(self.utc_offset_min) * 60;
        u64::try_from(s).unwrap_or(0) * 1000
    }
}

fn parse(text: &str) -> Result<Day, Problem> {
    let root: Value = serde_json::from_str(text).map_err(|e| Problem {
        event: None,
        key: None,
        message: format!("not valid JSON: {e}"),
    })?;
    let Value::Object(root) = root else {
        return Err(Problem {
            event: None,
            key: None,
            message: "expected a JSON object with \"date\" and \"events\"".into(),
        });
    };
    for key in root.keys() {
        if !["date", "utc_offset_min", "config", "events"].contains(&key.as_str()) {
            return Err(problem(
                None,
                &q(key),
                "unknown key (expected date, utc_offset_min, config or events)",
            ));
        }
    }
    let date = match root.get("date") {
        Some(Value::String(s)) => parse_date(s),
        _ => None,
    }
    .ok_or_else(|| problem(None, "\"date\"", "expected a date \"YYYY-MM-DD\""))?;
    let utc_offset_min = match root.get("utc_offset_min") {
        None => 0,
        Some(v) => v
            .as_i64()
            .filter(|m| (-720..=840).contains(m))
            .and_then(|m| i32::try_from(m).ok())
            .ok_or_else(|| {
                problem(
                    None,
                    "\"utc_offset_min\"",
                    "expected whole minutes from -720 to 840",
                )
            })?,
    };
    let config = match root.get("config") {
        None => Map::new(),
        Some(Value::Object(c)) => c.clone(),
        Some(_) => return Err(problem(None, "\"config\"", "expected an object")),
    };
    Sched::default()
        .apply_json(&config)
        .map_err(|(key, m)| problem(None, &format!("\"config\": {}", q(&key)), m))?;
    let Some(Value::Array(raw)) = root.get("events") else {
        return Err(problem(None, "\"events\"", "expected a list of events"));
    };
    let mut events = Vec::with_capacity(raw.len());
    let mut titles: HashMap<Rc<str>, usize> = HashMap::new();
    let mut last_at = 0;
    for (i, ev) in raw.iter().enumerate() {
        let e = event(i, ev, &mut titles)?;
        if e.at_ms < last_at {
            return Err(problem(
                Some(i),
                "\"at\"",
                "out of order (earlier than the event before)",
            ));
        }
        last_at = e.at_ms;
        events.push(e);
    }
    Ok(Day {
        date,
        utc_offset_min,
        config,
        events,
    })
}

fn event(i: usize, ev: &Value, titles: &mut HashMap<Rc<str>, usize>) -> Result<Event, Problem> {
    let Value::Object(obj) = ev else {
        return Err(Problem {
            event: Some(i),
            key: None,
            message: "expected an object {\"at\": \"HH:MM:SS\", <action>: ...}".into(),
        });
    };
    let mut action_key: Option<&str> = None;
    for key in obj.keys() {
        if key == "at" {
            continue;
        }
        if !ACTIONS.contains(&key.as_str()) {
            return Err(problem(
                Some(i),
                &q(key),
                format!(
                    "unknown key (expected at and one of {})",
                    ACTIONS.join(", ")
                ),
            ));
        }
        if let Some(first) = action_key {
            return Err(problem(
                Some(i),
                &q(key),
                format!("a second action in one event (it already has \"{first}\")"),
            ));
        }
        action_key = Some(key);
    }
    let at_ms = match obj.get("at") {
        Some(Value::String(s)) => parse_time(s),
        _ => None,
    }
    .ok_or_else(|| {
        problem(
            Some(i),
            "\"at\"",
            "expected a local time \"HH:MM:SS\" (or \"HH:MM:SS.mmm\") from 00:00:00 to 24:00:00",
        )
    })?;
    let Some(key) = action_key else {
        return Err(Problem {
            event: Some(i),
            key: None,
            message: format!("no action (expected one of {})", ACTIONS.join(", ")),
        });
    };
    let value = &obj[key];
    let bad = |m: &str| problem(Some(i), &q(key), m);
    let action = match key {
        "play" => Action::Play(play_list(i, value, titles)?),
        "skip" => match value.as_str() {
            Some("next") => Action::Skip(Skip::Next),
            Some("previous") => Action::Skip(Skip::Previous),
            _ => return Err(bad("expected \"next\" or \"previous\"")),
        },
        "pause" | "resume" | "stop" => {
            if value != &Value::Bool(true) {
                return Err(bad("expected true"));
            }
            match key {
                "pause" => Action::Pause,
                "resume" => Action::Resume,
                _ => Action::Stop,
            }
        }
        "press" => match value.as_str() {
            Some("play_pause") => Action::Press(Control::PlayPause),
            Some("next") => Action::Press(Control::Next),
            Some("previous") => Action::Press(Control::Previous),
            _ => return Err(bad("expected \"play_pause\", \"next\" or \"previous\"")),
        },
        _ => {
            let Value::Object(q_obj) = value else {
                return Err(bad("expected {\"retry_after_s\": N}"));
            };
            if let Some(k) = q_obj.keys().find(|k| *k != "retry_after_s") {
                return Err(problem(
                    Some(i),
                    &format!("\"quota_exceeded\": {}", q(k)),
                    "unknown key (expected retry_after_s)",
                ));
            }
            let retry_after_s = q_obj
                .get("retry_after_s")
                .and_then(Value::as_u64)
                .filter(|s| *s > 0)
                .ok_or_else(|| {
                    problem(
                        Some(i),
                        "\"quota_exceeded\": \"retry_after_s\"",
                        "expected a whole number of seconds, more than 0",
                    )
                })?;
            Action::QuotaExceeded { retry_after_s }
        }
    };
    Ok(Event { at_ms, action })
}

fn play_list(
    i: usize,
    value: &Value,
    titles: &mut HashMap<Rc<str>, usize>,
) -> Result<Rc<[Track]>, Problem> {
    let Value::Array(items) = value else {
        return Err(problem(
            Some(i),
            "\"play\"",
            "expected a list of {\"title\", \"duration_s\"}",
        ));
    };
    if items.is_empty() {
        return Err(problem(Some(i), "\"play\"", "the list is empty"));
    }
    let mut out = Vec::with_capacity(items.len());
    for (j, item) in items.iter().enumerate() {
        let at = |k: &str| format!("\"play\": item {j}: {}", q(k));
        let Value::Object(item) = item else {
            return Err(problem(
                Some(i),
                &format!("\"play\": item {j}"),
                "expected {\"title\", \"duration_s\"}",
            ));
        };
        if let Some(k) = item.keys().find(|k| *k != "title" && *k != "duration_s") {
            return Err(problem(
                Some(i),
                &at(k),
                "unknown key (expected title, duration_s)",
            ));
        }
        let title = match item.get("title") {
            Some(Value::String(s)) if !s.trim().is_empty() && s.len() <= TITLE_MAX => s.as_str(),
            _ => {
                return Err(problem(
                    Some(i),
                    &at("title"),
                    format!("expected a title of 1 to {TITLE_MAX} bytes"),
                ));
            }
        };
        if let Some(first) = titles.get(title) {
            return Err(problem(
                Some(i),
                &at("title"),
                format!(
                    "{title:?} is already used (event {first}); titles are unique within a day"
                ),
            ));
        }
        let duration_ms = item
            .get("duration_s")
            .and_then(Value::as_f64)
            .filter(|d| d.is_finite() && *d > 0.0 && *d <= 86_400.0)
            .map(|d| (d * 1000.0).round() as u64)
            .filter(|ms| *ms > 0)
            .ok_or_else(|| {
                problem(
                    Some(i),
                    &at("duration_s"),
                    "expected seconds, more than 0 (at most a day)",
                )
            })?;
        let title: Rc<str> = Rc::from(title);
        titles.insert(title.clone(), i);
        out.push(Track { title, duration_ms });
    }
    Ok(out.into())
}

/// `YYYY-MM-DD`, a real calendar date.
fn parse_date(s: &str) -> Option<Date> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: core::ops::Range<usize>| -> Option<u32> {
        let part = s.get(r)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let date = Date {
        year: i32::try_from(year).ok()?,
        month: u8::try_from(month).ok()?,
        day: u8::try_from(day).ok()?,
    };
    // A real date survives the round trip (no 02-30, no month 13).
    (year >= 1970 && (1..=12).contains(&month) && Date::from_days(date.to_days()) == date)
        .then_some(date)
}

/// `HH:MM:SS` or `HH:MM:SS.mmm`, 00:00:00 to 24:00:00, as ms since midnight.
pub fn parse_time(s: &str) -> Option<u64> {
    let (hms, frac) = match s.split_once('.') {
        Some((hms, frac)) => (hms, Some(frac)),
        None => (s, None),
    };
    let b = hms.as_bytes();
    if b.len() != 8 || b[2] != b':' || b[5] != b':' {
        return None;
    }
    let two = |at: usize| -> Option<u64> {
        let p = hms.get(at..at + 2)?;
        p.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| p.parse().ok())?
    };
    let (h, m, sec) = (two(0)?, two(3)?, two(6)?);
    let ms = match frac {
        None => 0,
        Some(f) if (1..=3).contains(&f.len()) && f.bytes().all(|c| c.is_ascii_digit()) => {
            f.parse::<u64>().ok()? * 10u64.pow(3 - f.len() as u32)
        }
        Some(_) => return None,
    };
    if m > 59 || sec > 59 {
        return None;
    }
    let t = ((h * 60 + m) * 60 + sec) * 1000 + ms;
    (t <= DAY_MS).then_some(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_dates() {
        assert_eq!(parse_time("00:00:00"), Some(0));
        assert_eq!(parse_time("07:45:12.5"), Some(27_912_500));
        assert_eq!(parse_time("23:59:59.999"), Some(DAY_MS - 1));
        assert_eq!(parse_time("24:00:00"), Some(DAY_MS));
        for bad in [
            "24:00:01",
            "7:45:00",
            "07:60:00",
            "07:45",
            "07:45:00.",
            "aa:bb:cc",
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
        assert!(parse_date("2026-12-01").is_some());
        assert!(parse_date("2028-02-29").is_some());
        for bad in [
            "2026-02-29",
            "2026-13-01",
            "2026-1-01",
            "26-12-01",
            "1969-12-31",
        ] {
            assert!(parse_date(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn midnight_in_unix_time() {
        let day = Day::parse(
            r#"{"date":"2026-12-01","utc_offset_min":60,"events":[]}"#,
            "x.json",
        )
        .unwrap();
        // 2026-12-01T00:00+01:00 = 2026-11-30T23:00Z
        assert_eq!(day.midnight_unix_ms(), 1_796_079_600_000);
    }
}
