//! The scheduling keys a simulation reads: built-in defaults, then the day's `config`,
//! then a config file's keys (`--config FILE`; its other keys are ignored).
//!
//! | key | value | default |
//! | --- | --- | --- |
//! | `daily_requests` | 0 (no budget: today's fixed schedule) or 100..=100000 | 700 |
//! | `night` | `"HH:MM-HH:MM"` local time, may cross midnight | none |
//! | `poll_playing_s` | 2..=60 | 5 |
//! | `poll_paused_s` | 2..=600 | 15 |
//! | `poll_idle_s` | 10..=3600 (the longest idle interval) | 60 |
//! | `like`, `up_next` | booleans: ask whether each track is liked, ask for the queue | true |
//!
//! The ranges and meanings are those of the desktop's config file: the three intervals
//! become [`Timing::poll_playing_ms`], [`Timing::poll_paused_ms`] and
//! [`Timing::poll_idle_max_ms`].

use core::fmt;
use std::path::Path;

use tonearm_core::budget::{DEFAULT_BUDGET, MAX_BUDGET, MIN_BUDGET};
use tonearm_core::session::Timing;
use tonearm_core::wall::NightHours;

/// The keys a simulation reads.
pub const KEYS: [&str; 7] = [
    "daily_requests",
    "night",
    "poll_playing_s",
    "poll_paused_s",
    "poll_idle_s",
    "like",
    "up_next",
];

/// The scheduling configuration of a simulated display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sched {
    /// The daily request budget; 0: none (today's fixed schedule).
    pub daily_requests: u32,
    /// Night hours, if any.
    pub night: Option<NightHours>,
    /// Poll interval while playing, in seconds.
    pub poll_playing_s: u64,
    /// Poll interval while paused, in seconds.
    pub poll_paused_s: u64,
    /// The longest poll interval while nothing plays, in seconds.
    pub poll_idle_s: u64,
    /// Ask once per track whether it is liked (the heart).
    pub like: bool,
    /// Ask for the queue once per track change (what plays next).
    pub up_next: bool,
}

impl Default for Sched {
    fn default() -> Self {
        Sched {
            daily_requests: DEFAULT_BUDGET,
            night: None,
            poll_playing_s: 5,
            poll_paused_s: 15,
            poll_idle_s: 60,
            like: true,
            up_next: true,
        }
    }
}

impl Sched {
    /// The session's timing rules for this configuration (the rest: the defaults).
    pub fn timing(&self) -> Timing {
        Timing {
            poll_playing_ms: self.poll_playing_s * 1000,
            poll_paused_ms: self.poll_paused_s * 1000,
            poll_idle_max_ms: self.poll_idle_s * 1000,
            ..Timing::default()
        }
    }

    /// Sets one key from a value; `Err` says what is wrong with the value (unknown keys
    /// are the caller's business: a day refuses them, a config file ignores them).
    pub fn set(&mut self, key: &str, value: ConfigValue<'_>) -> Result<(), String> {
        match key {
            "daily_requests" => {
                let n = value.integer().filter(|n| {
                    *n == 0 || (i64::from(MIN_BUDGET)..=i64::from(MAX_BUDGET)).contains(n)
                });
                self.daily_requests = n.and_then(|n| u32::try_from(n).ok()).ok_or_else(|| {
                    format!(
                        "must be 0 (no budget) or a whole number from {MIN_BUDGET} to {MAX_BUDGET}"
                    )
                })?;
            }
            "night" => {
                let ConfigValue::Str(s) = value else {
                    return Err("must be a string \"HH:MM-HH:MM\", e.g. \"23:00-07:00\"".into());
                };
                self.night = Some(NightHours::parse(s).map_err(|e| e.to_string())?);
            }
            "poll_playing_s" => self.poll_playing_s = seconds(value, 2, 60)?,
            "poll_paused_s" => self.poll_paused_s = seconds(value, 2, 600)?,
            "poll_idle_s" => self.poll_idle_s = seconds(value, 10, 3600)?,
            "like" => self.like = value.boolean().ok_or("must be true or false")?,
            "up_next" => self.up_next = value.boolean().ok_or("must be true or false")?,
            _ => return Err(unknown_key_message()),
        }
        Ok(())
    }

    /// Applies a day's `config` object: every key must be one of [`KEYS`]. `Err` names
    /// the key and what is wrong.
    pub fn apply_json(
        &mut self,
        config: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<(), (String, String)> {
        for (key, value) in config {
            if !KEYS.contains(&key.as_str()) {
                return Err((key.clone(), unknown_key_message()));
            }
            self.set(key, ConfigValue::from_json(value))
                .map_err(|m| (key.clone(), m))?;
        }
        Ok(())
    }

    /// Applies the scheduling keys of a TOML config file's text (other keys are ignored).
    pub fn apply_toml(&mut self, text: &str) -> Result<(), (Option<String>, String)> {
        let table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| (None, format!("not valid TOML: {}", e.message())))?;
        for key in KEYS {
            if let Some(value) = table.get(key) {
                self.set(key, ConfigValue::from_toml(value))
                    .map_err(|m| (Some(key.to_owned()), m))?;
            }
        }
        Ok(())
    }

    /// Applies the scheduling keys of the config file at `path`.
    pub fn apply_file(&mut self, path: &Path) -> Result<(), ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: path.display().to_string(),
            key: None,
            message: format!("cannot read: {e}"),
        })?;
        self.apply_toml(&text)
            .map_err(|(key, message)| ConfigError {
                file: path.display().to_string(),
                key,
                message,
            })
    }
}

fn unknown_key_message() -> String {
    format!("unknown key (expected one of {})", KEYS.join(", "))
}

fn seconds(value: ConfigValue<'_>, lo: u64, hi: u64) -> Result<u64, String> {
    value
        .integer()
        .and_then(|n| u64::try_from(n).ok())
        .filter(|n| (lo..=hi).contains(n))
        .ok_or_else(|| format!("must be a whole number of seconds from {lo} to {hi}"))
}

/// A config value, from JSON or TOML.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ConfigValue<'a> {
    /// A whole number.
    Int(i64),
    /// A string.
    Str(&'a str),
    /// A boolean.
    Bool(bool),
    /// Anything else (a fraction, a table, an array, null).
    Other,
}

impl<'a> ConfigValue<'a> {
    /// From a JSON value.
    pub fn from_json(v: &'a serde_json::Value) -> Self {
        match v {
            serde_json::Value::Number(n) => n.as_i64().map_or(ConfigValue::Other, ConfigValue::Int),
            serde_json::Value::String(s) => ConfigValue::Str(s),
            serde_json::Value::Bool(b) => ConfigValue::Bool(*b),
            _ => ConfigValue::Other,
        }
    }

    /// From a TOML value.
    pub fn from_toml(v: &'a toml::Value) -> Self {
        match v {
            toml::Value::Integer(n) => ConfigValue::Int(*n),
            toml::Value::String(s) => ConfigValue::Str(s),
            toml::Value::Boolean(b) => ConfigValue::Bool(*b),
            _ => ConfigValue::Other,
        }
    }

    fn integer(self) -> Option<i64> {
        match self {
            ConfigValue::Int(n) => Some(n),
            _ => None,
        }
    }

    fn boolean(self) -> Option<bool> {
        match self {
            ConfigValue::Bool(b) => Some(b),
            _ => None,
        }
    }
}

/// A config file that could not be read or holds a bad scheduling value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The file, as given.
    pub file: String,
    /// The key, when one is at fault.
    pub key: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.file)?;
        if let Some(key) = &self.key {
            write!(f, "{key}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_and_ranges() {
        let mut s = Sched::default();
        assert_eq!(s.daily_requests, 700);
        let json: serde_json::Value =
            serde_json::from_str(r#"{"daily_requests": 0, "night": "23:00-07:00", "like": true}"#)
                .unwrap();
        s.apply_json(json.as_object().unwrap()).unwrap();
        assert_eq!(s.daily_requests, 0);
        assert_eq!(s.night, Some(NightHours::parse("23:00-07:00").unwrap()));
        s.apply_toml(
            "client_id = \"x\"\ndaily_requests = 500\npoll_idle_s = 120\n[other]\nk = 1\n",
        )
        .unwrap();
        assert_eq!((s.daily_requests, s.poll_idle_s), (500, 120));
        assert_eq!(s.timing().poll_idle_max_ms, 120_000);
        assert!(s.night.is_some(), "a file without night keeps the day's");
        for (json, key) in [
            (r#"{"daily_requests": 99}"#, "daily_requests"),
            (r#"{"daily_requests": 100001}"#, "daily_requests"),
            (r#"{"daily_requests": 700.5}"#, "daily_requests"),
            (r#"{"poll_playing_s": 1}"#, "poll_playing_s"),
            (r#"{"poll_paused_s": 601}"#, "poll_paused_s"),
            (r#"{"poll_idle_s": 9}"#, "poll_idle_s"),
            (r#"{"night": "23:00"}"#, "night"),
            (r#"{"night": 5}"#, "night"),
            (r#"{"like": "yes"}"#, "like"),
            (r#"{"colour": 1}"#, "colour"),
        ] {
            let v: serde_json::Value = serde_json::from_str(json).unwrap();
            let err = Sched::default()
                .apply_json(v.as_object().unwrap())
                .unwrap_err();
            assert_eq!(err.0, key, "{json}");
        }
        let err = Sched::default()
            .apply_toml("poll_playing_s = 61\n")
            .unwrap_err();
        assert_eq!(err.0.as_deref(), Some("poll_playing_s"));
        assert!(
            Sched::default()
                .apply_toml("nonsense = = 1")
                .unwrap_err()
                .0
                .is_none()
        );
    }
}
