//! The desktop shell's configuration: a TOML file plus environment overrides, turned into
//! a validated [`Config`] in one step.
//!
//! The file lives at the platform's config directory (`~/.config/tonearm/config.toml` on
//! Linux, see [`default_path`]); `--config PATH` overrides it. Keys:
//!
//! | key | type | default |
//! | --- | --- | --- |
//! | `client_id` | string | required (here or in `SPOTIFY_CLIENT_ID`) |
//! | `client_secret` | string | none: PKCE |
//! | `refresh_token` | string | none (seeds the token store when it is empty) |
//! | `api_base` | URL | `https://api.spotify.com/v1` |
//! | `accounts_base` | URL | `https://accounts.spotify.com` |
//! | `display` | `320x240`, `240x240`, `128x64`, `480x320`, `800x480` or `auto` | `320x240` (full screen: `auto`) |
//! | `poll_playing_s` | integer, 2..=60 | 5 |
//! | `poll_paused_s` | integer, 2..=600 | 15 |
//! | `poll_idle_s` | integer, 10..=3600 (the longest idle interval) | 60 |
//! | `daily_requests` | integer: 0 (no budget) or 100..=100000 | 700 |
//! | `night` | `"HH:MM-HH:MM"`, 24-hour local time, may cross midnight | none |
//! | `fullscreen` | `true` or `false` | `false` |
//! | `like` | `true` or `false`: the heart (asks the library once per track) | `true` |
//! | `up_next` | `true` or `false`: what plays next (asks the queue once per track) | `true` |
//! | `mqtt_url` | `mqtt://HOST[:PORT]` or `mqtts://HOST[:PORT]`: the broker of `tonearm hub` | none |
//! | `mqtt_username` | string: the broker's user (hub and hub-fed displays) | none |
//! | `mqtt_password` | string (or `TONEARM_MQTT_PASSWORD`) | none |
//! | `mqtt_ca` | path of a PEM file: the CA of a private `mqtts://` broker | none (public roots) |
//! | `hub` | `mqtt://HOST[:PORT]/ID`: show a hub's state instead of polling Spotify | none |
//!
//! With a budget (`daily_requests` not 0) the schedule paces itself to it, and the three
//! `poll_*_s` keys are the shortest intervals it may use; with `daily_requests = 0` they are
//! the schedule itself, as before the budget.
//!
//! `SPOTIFY_CLIENT_ID`, `SPOTIFY_CLIENT_SECRET` and `SPOTIFY_REFRESH_TOKEN` override the
//! file (an empty variable counts as unset). Unknown keys are errors (a typo must not
//! silently do nothing). Every error is one line naming the file, the line and the key;
//! secret values never appear in errors or in `Debug` output.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;
use tonearm_core::budget::{DEFAULT_BUDGET, MAX_BUDGET, MIN_BUDGET};
use tonearm_core::wall::NightHours;
use tonearm_firmware::Profile;

use crate::atomic::{Mode, Replace, write_atomically};

/// The file name inside the config directory.
pub const FILE_NAME: &str = "config.toml";

/// The default Web API base.
pub const DEFAULT_API_BASE: &str = "https://api.spotify.com/v1";
/// The default accounts base.
pub const DEFAULT_ACCOUNTS_BASE: &str = "https://accounts.spotify.com";

/// The environment variable for `client_id`.
pub const ENV_CLIENT_ID: &str = "SPOTIFY_CLIENT_ID";
/// The environment variable for `client_secret`.
pub const ENV_CLIENT_SECRET: &str = "SPOTIFY_CLIENT_SECRET";
/// The environment variable for `refresh_token`.
pub const ENV_REFRESH_TOKEN: &str = "SPOTIFY_REFRESH_TOKEN";
/// The environment variable for `mqtt_password`.
pub const ENV_MQTT_PASSWORD: &str = "TONEARM_MQTT_PASSWORD";

/// A secret string (client secret, token) that never shows in `Debug` and has no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(String);

impl SecretString {
    /// Wraps `value`.
    pub fn new(value: impl Into<String>) -> Self {
        SecretString(value.into())
    }

    /// The secret itself: only for putting it on the wire or into the token file.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretString(<{} bytes redacted>)", self.0.len())
    }
}

/// Where a value came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// An environment variable.
    Env,
    /// The config file.
    File,
}

/// The validated configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// The config file (whether or not it existed).
    pub path: PathBuf,
    /// The Spotify app's client id (not secret, but not shown needlessly either).
    pub client_id: String,
    /// The client secret; `None` means PKCE.
    pub client_secret: Option<SecretString>,
    /// A refresh token to seed the token store with when it is empty, and where it came from.
    pub refresh_token: Option<(SecretString, Origin)>,
    /// The Web API base, without a trailing `/`.
    pub api_base: String,
    /// The accounts base, without a trailing `/`.
    pub accounts_base: String,
    /// The display profile (320x240 when the file names none, or says `auto`).
    pub display: Profile,
    /// What the file says of the display: nothing (`None`: in full screen the largest
    /// layout that fits, else [`Config::display`]), `auto`, or a profile.
    pub display_setting: Option<DisplaySetting>,
    /// Poll interval while playing.
    pub poll_playing: Duration,
    /// Poll interval while paused.
    pub poll_paused: Duration,
    /// Longest poll interval while nothing plays.
    pub poll_idle: Duration,
    /// The daily request budget; 0: none (the fixed schedule of the `poll_*` keys).
    pub daily_requests: u32,
    /// Night hours (local time): the screen is dark and polls are rare.
    pub night: Option<NightHours>,
    /// Fill the screen (as `--fullscreen`).
    pub fullscreen: bool,
    /// Ask once per track whether it is liked, and show the heart (default `true`).
    pub like: bool,
    /// Ask for the queue once per track change, and show what plays next (default `true`).
    pub up_next: bool,
    /// The MQTT broker and credentials (`mqtt_*`).
    pub mqtt: MqttConfig,
    /// `hub`: the hub whose state this display shows (`mqtt://HOST[:PORT]/ID`).
    pub hub: Option<String>,
}

/// The config's `mqtt_*` keys (the URL checked, the rest as written).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MqttConfig {
    /// `mqtt_url`.
    pub url: Option<String>,
    /// `mqtt_username`.
    pub username: Option<String>,
    /// `mqtt_password`, or `TONEARM_MQTT_PASSWORD`.
    pub password: Option<SecretString>,
    /// `mqtt_ca`, relative to the config file's folder.
    pub ca: Option<PathBuf>,
}

/// The config's `display`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisplaySetting {
    /// `auto`: the largest layout that fits the screen.
    Auto,
    /// A profile by name.
    Profile(Profile),
}

/// Why the configuration cannot be used. Each is one line; none shows a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// No config directory could be determined (no home directory). Pass `--config PATH`.
    #[error("no config directory on this system (no home directory?): pass --config PATH")]
    NoConfigDir,
    /// The file exists (or was named with `--config`) but cannot be read.
    #[error("{}: cannot read", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML.
    #[error("{}:{line}: {message}", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The 1-based line.
        line: usize,
        /// What the TOML parser said.
        message: String,
    },
    /// A key that this program does not know (a typo?).
    #[error("{}:{line}: unknown key `{key}` (known keys: {})", path.display(), KEYS.join(", "))]
    UnknownKey {
        /// The file.
        path: PathBuf,
        /// The 1-based line.
        line: usize,
        /// The key as written.
        key: String,
    },
    /// A known key with a value that cannot be used. `line` is `None` for a value that came
    /// from the environment.
    #[error("{}: {key}: {message}", Where(path, *line))]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The 1-based line in the file, or `None` when the value came from the environment.
        line: Option<usize>,
        /// The key (or the environment variable).
        key: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// `client_id` is missing from both the file and the environment.
    #[error(
        "{}: no client_id: set client_id in the file or SPOTIFY_CLIENT_ID (your app's id from the Spotify developer dashboard)",
        path.display()
    )]
    MissingClientId {
        /// The file.
        path: PathBuf,
    },
}

/// `path:line` or `path (environment)` for messages.
struct Where<'a>(&'a Path, Option<usize>);

impl fmt::Display for Where<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.1 {
            Some(line) => write!(f, "{}:{line}", self.0.display()),
            None => write!(f, "{} (environment)", self.0.display()),
        }
    }
}

/// Every key the file may hold.
pub const KEYS: &[&str] = &[
    "client_id",
    "client_secret",
    "refresh_token",
    "api_base",
    "accounts_base",
    "display",
    "poll_playing_s",
    "poll_paused_s",
    "poll_idle_s",
    "daily_requests",
    "night",
    "fullscreen",
    "like",
    "up_next",
    "mqtt_url",
    "mqtt_username",
    "mqtt_password",
    "mqtt_ca",
    "hub",
];

/// Keys whose values are secret: their values never appear in messages.
const SECRET_KEYS: &[&str] = &["client_secret", "refresh_token", "mqtt_password"];

/// The file as written: every value with its span, no interpretation yet.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    client_id: Option<Spanned<toml::Value>>,
    client_secret: Option<Spanned<toml::Value>>,
    refresh_token: Option<Spanned<toml::Value>>,
    api_base: Option<Spanned<toml::Value>>,
    accounts_base: Option<Spanned<toml::Value>>,
    display: Option<Spanned<toml::Value>>,
    poll_playing_s: Option<Spanned<toml::Value>>,
    poll_paused_s: Option<Spanned<toml::Value>>,
    poll_idle_s: Option<Spanned<toml::Value>>,
    daily_requests: Option<Spanned<toml::Value>>,
    night: Option<Spanned<toml::Value>>,
    fullscreen: Option<Spanned<toml::Value>>,
    like: Option<Spanned<toml::Value>>,
    up_next: Option<Spanned<toml::Value>>,
    mqtt_url: Option<Spanned<toml::Value>>,
    mqtt_username: Option<Spanned<toml::Value>>,
    mqtt_password: Option<Spanned<toml::Value>>,
    mqtt_ca: Option<Spanned<toml::Value>>,
    hub: Option<Spanned<toml::Value>>,
}

/// The platform's config file: `<config dir>/tonearm/config.toml`.
pub fn default_path() -> Result<PathBuf, ConfigError> {
    directories::ProjectDirs::from("", "", "tonearm")
        .map(|dirs| dirs.config_dir().join(FILE_NAME))
        .ok_or(ConfigError::NoConfigDir)
}

impl Config {
    /// Loads the config from `path` (or [`default_path`]) with the process environment.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        Config::load_with_env(path, &|name| std::env::var(name).ok())
    }

    /// Loads the config of a display fed by a hub: as [`Config::load`], but no
    /// `client_id` is needed (it holds no Spotify credentials; `client_id` is then empty).
    pub fn load_for_hub_display(path: Option<&Path>) -> Result<Config, ConfigError> {
        let env = |name: &str| std::env::var(name).ok();
        match Config::load_with_env(path, &env) {
            Err(ConfigError::MissingClientId { path }) => {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                Config::parse_inner(&text, &path, &env, false)
            }
            other => other,
        }
    }

    /// Loads the config from `path` (or [`default_path`]), reading environment variables
    /// through `env`. A missing file is an error only when `path` was given explicitly.
    pub fn load_with_env(
        path: Option<&Path>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let (path, explicit) = match path {
            Some(p) => (p.to_path_buf(), true),
            None => (default_path()?, false),
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => String::new(),
            Err(source) => return Err(ConfigError::Read { path, source }),
        };
        Config::parse(&text, &path, env)
    }

    /// Turns a file's text (and the environment) into a validated config. `path` is only
    /// used in messages and kept in [`Config::path`].
    pub fn parse(
        text: &str,
        path: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        Config::parse_inner(text, path, env, true)
    }

    fn parse_inner(
        text: &str,
        path: &Path,
        env: &dyn Fn(&str) -> Option<String>,
        need_client_id: bool,
    ) -> Result<Config, ConfigError> {
        let raw: RawFile = toml::from_str(text).map_err(|e| toml_error(&e, text, path))?;
        let p = Parser { text, path };
        let env_value = |name: &str| {
            env(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };

        let client_id = match env_value(ENV_CLIENT_ID) {
            Some(v) => Some(p.check_token_chars(v, ENV_CLIENT_ID, None)?),
            None => p.opt_string(raw.client_id.as_ref(), "client_id")?,
        };
        let client_id = match client_id {
            Some(id) => id,
            None if !need_client_id => String::new(),
            None => {
                return Err(ConfigError::MissingClientId {
                    path: path.to_path_buf(),
                });
            }
        };

        let client_secret = match env_value(ENV_CLIENT_SECRET) {
            Some(v) => Some(p.check_token_chars(v, ENV_CLIENT_SECRET, None)?),
            None => p.opt_string(raw.client_secret.as_ref(), "client_secret")?,
        }
        .map(SecretString::new);

        let refresh_token = match env_value(ENV_REFRESH_TOKEN) {
            Some(v) => Some((
                p.check_token_chars(v, ENV_REFRESH_TOKEN, None)?,
                Origin::Env,
            )),
            None => p
                .opt_string(raw.refresh_token.as_ref(), "refresh_token")?
                .map(|v| (v, Origin::File)),
        }
        .map(|(v, o)| (SecretString::new(v), o));

        let api_base = p.base_url(raw.api_base.as_ref(), "api_base", DEFAULT_API_BASE)?;
        let accounts_base = p.base_url(
            raw.accounts_base.as_ref(),
            "accounts_base",
            DEFAULT_ACCOUNTS_BASE,
        )?;

        let display_setting = match raw.display.as_ref() {
            None => None,
            Some(v) => {
                let name = p.string(v, "display")?;
                Some(match name.as_str() {
                    "auto" => DisplaySetting::Auto,
                    _ => DisplaySetting::Profile(Profile::from_name(&name).ok_or_else(|| {
                        p.invalid(
                            v,
                            "display",
                            format!(
                                "`{name}` is not a display: use 320x240, 240x240, 128x64, \
                                 480x320, 800x480 or auto"
                            ),
                        )
                    })?),
                })
            }
        };
        let display = match display_setting {
            Some(DisplaySetting::Profile(p)) => p,
            _ => Profile::Landscape320x240,
        };

        let night = match raw.night.as_ref() {
            None => None,
            Some(v) => {
                let text = p.string(v, "night")?;
                if text.is_empty() {
                    return Err(p.invalid(
                        v,
                        "night",
                        "is empty: give HH:MM-HH:MM (e.g. \"23:00-07:00\"), or remove the line for no night hours".to_owned(),
                    ));
                }
                Some(
                    NightHours::parse(&text)
                        .map_err(|e| p.invalid(v, "night", format!("`{text}`: {e}")))?,
                )
            }
        };

        let mqtt_password = match env_value(ENV_MQTT_PASSWORD) {
            Some(v) => Some(v),
            // Any printable text (a passphrase may hold spaces), but not empty.
            None => match raw.mqtt_password.as_ref() {
                None => None,
                Some(v) => {
                    let s = p.string(v, "mqtt_password")?;
                    if s.is_empty() {
                        return Err(p.invalid(
                            v,
                            "mqtt_password",
                            "is empty: remove the line or give a value".to_owned(),
                        ));
                    }
                    Some(s)
                }
            },
        }
        .map(SecretString::new);
        let mqtt_url = match raw.mqtt_url.as_ref() {
            None => None,
            Some(v) => {
                let s = p.string(v, "mqtt_url")?;
                let url =
                    crate::mqtt::BrokerUrl::parse(&s).map_err(|m| p.invalid(v, "mqtt_url", m))?;
                if url.id.is_some() {
                    return Err(p.invalid(
                        v,
                        "mqtt_url",
                        "takes no path: the hub's id is --id".to_owned(),
                    ));
                }
                Some(s)
            }
        };
        let hub = match raw.hub.as_ref() {
            None => None,
            Some(v) => {
                let s = p.string(v, "hub")?;
                crate::mqtt::BrokerUrl::parse(&s).map_err(|m| p.invalid(v, "hub", m))?;
                Some(s)
            }
        };
        let mqtt_username = match raw.mqtt_username.as_ref() {
            None => None,
            Some(v) => {
                let s = p.string(v, "mqtt_username")?;
                if s.is_empty() || s.chars().any(char::is_control) {
                    return Err(p.invalid(
                        v,
                        "mqtt_username",
                        "must be a non-empty name without control characters".to_owned(),
                    ));
                }
                Some(s)
            }
        };
        let mqtt_ca = match raw.mqtt_ca.as_ref() {
            None => None,
            Some(v) => {
                let s = p.string(v, "mqtt_ca")?;
                let file = PathBuf::from(&s);
                let file = if file.is_relative() {
                    path.parent().map_or(file.clone(), |d| d.join(&file))
                } else {
                    file
                };
                if !file.is_file() {
                    return Err(p.invalid(
                        v,
                        "mqtt_ca",
                        format!(
                            "{} is not a file: give the broker CA's PEM file",
                            file.display()
                        ),
                    ));
                }
                Some(file)
            }
        };
        let mqtt = MqttConfig {
            url: mqtt_url,
            username: mqtt_username,
            password: mqtt_password,
            ca: mqtt_ca,
        };

        Ok(Config {
            path: path.to_path_buf(),
            client_id,
            client_secret,
            refresh_token,
            api_base,
            accounts_base,
            display,
            display_setting,
            poll_playing: p.seconds(raw.poll_playing_s.as_ref(), "poll_playing_s", 5, 2..61)?,
            poll_paused: p.seconds(raw.poll_paused_s.as_ref(), "poll_paused_s", 15, 2..601)?,
            poll_idle: p.seconds(raw.poll_idle_s.as_ref(), "poll_idle_s", 60, 10..3601)?,
            daily_requests: p.daily_requests(raw.daily_requests.as_ref())?,
            night,
            fullscreen: p.boolean(raw.fullscreen.as_ref(), "fullscreen", false)?,
            like: p.boolean(raw.like.as_ref(), "like", true)?,
            up_next: p.boolean(raw.up_next.as_ref(), "up_next", true)?,
            mqtt,
            hub,
        })
    }

    /// The token file's path: `token.json` beside the config file.
    pub fn token_path(&self) -> PathBuf {
        self.beside("token.json")
    }

    /// The budget's state: `quota.json` beside the config file (see
    /// [`crate::token_store::quota`]).
    pub fn quota_path(&self) -> PathBuf {
        self.beside(crate::token_store::quota::FILE_NAME)
    }

    fn beside(&self, name: &str) -> PathBuf {
        self.path
            .parent()
            .map_or_else(|| PathBuf::from(name), |d| d.join(name))
    }
}

/// The 1-based line of byte offset `at` in `text`.
fn line_of(text: &str, at: usize) -> usize {
    let at = at.min(text.len());
    text.as_bytes()
        .get(..at)
        .map_or(0, |b| b.iter().filter(|c| **c == b'\n').count())
        + 1
}

/// The key written on the line holding `at` (`key = ...`), if there is one.
fn key_on_line(text: &str, at: usize) -> Option<String> {
    let at = at.min(text.len());
    let start = text.get(..at)?.rfind('\n').map_or(0, |i| i + 1);
    let line = text.get(start..)?.lines().next()?;
    let (key, _) = line.split_once('=')?;
    let key = key.trim().trim_matches('"').trim_matches('\'');
    (!key.is_empty()).then(|| key.to_owned())
}

/// Turns a TOML error into a one-line error with the line and, where there is one, the key.
fn toml_error(err: &toml::de::Error, text: &str, path: &Path) -> ConfigError {
    let at = err.span().map_or(0, |s| s.start);
    let line = line_of(text, at);
    let message = err
        .message()
        .lines()
        .next()
        .unwrap_or("invalid TOML")
        .trim();
    if message.starts_with("unknown field") {
        // The span covers the key itself.
        let key = err
            .span()
            .and_then(|s| text.get(s))
            .map(|k| k.trim().trim_matches('"').trim_matches('\'').to_owned())
            .or_else(|| key_on_line(text, at))
            .unwrap_or_default();
        return ConfigError::UnknownKey {
            path: path.to_path_buf(),
            line,
            key,
        };
    }
    let key = key_on_line(text, at);
    let secret = key.as_deref().is_some_and(|k| SECRET_KEYS.contains(&k));
    let message = if secret {
        // The parser may quote the value: never show a secret's.
        "invalid value (not shown: it is secret)".to_owned()
    } else {
        message.to_owned()
    };
    match key {
        Some(key) => ConfigError::Invalid {
            path: path.to_path_buf(),
            line: Some(line),
            key,
            message,
        },
        None => ConfigError::Syntax {
            path: path.to_path_buf(),
            line,
            message,
        },
    }
}

/// Validation helpers over one file's text.
struct Parser<'a> {
    text: &'a str,
    path: &'a Path,
}

impl Parser<'_> {
    fn line(&self, span: Range<usize>) -> usize {
        line_of(self.text, span.start)
    }

    fn invalid(&self, v: &Spanned<toml::Value>, key: &str, message: String) -> ConfigError {
        ConfigError::Invalid {
            path: self.path.to_path_buf(),
            line: Some(self.line(v.span())),
            key: key.to_owned(),
            message,
        }
    }

    fn string(&self, v: &Spanned<toml::Value>, key: &str) -> Result<String, ConfigError> {
        match v.get_ref() {
            toml::Value::String(s) => Ok(s.trim().to_owned()),
            other => Err(self.invalid(
                v,
                key,
                format!("must be a string, not {}", other.type_str()),
            )),
        }
    }

    /// A non-empty string of printable, non-space ASCII (ids, secrets, tokens).
    fn opt_string(
        &self,
        v: Option<&Spanned<toml::Value>>,
        key: &str,
    ) -> Result<Option<String>, ConfigError> {
        let Some(v) = v else { return Ok(None) };
        let s = self.string(v, key)?;
        self.check_token_chars(s, key, Some(v.span())).map(Some)
    }

    fn check_token_chars(
        &self,
        s: String,
        key: &str,
        span: Option<Range<usize>>,
    ) -> Result<String, ConfigError> {
        let problem = if s.is_empty() {
            Some("is empty: remove the line or give a value")
        } else if !s.bytes().all(|b| b.is_ascii_graphic()) {
            Some("holds spaces or characters that cannot be in it (a paste with a line break?)")
        } else {
            None
        };
        match problem {
            None => Ok(s),
            Some(message) => Err(ConfigError::Invalid {
                path: self.path.to_path_buf(),
                line: span.map(|s| self.line(s)),
                key: key.to_owned(),
                message: message.to_owned(),
            }),
        }
    }

    fn base_url(
        &self,
        v: Option<&Spanned<toml::Value>>,
        key: &str,
        default: &str,
    ) -> Result<String, ConfigError> {
        let Some(v) = v else {
            return Ok(default.to_owned());
        };
        let s = self.string(v, key)?;
        let s = s.trim_end_matches('/').to_owned();
        let lower = s.to_ascii_lowercase();
        let host = lower
            .strip_prefix("https://")
            .or_else(|| lower.strip_prefix("http://"))
            .map(|rest| rest.split(['/', '?', '#']).next().unwrap_or_default());
        let message = match host {
            None => Some("must start with https://".to_owned()),
            Some("") => Some("has no host".to_owned()),
            Some(h) if h.contains('@') => Some("must not hold credentials".to_owned()),
            Some(_) if s.contains(['?', '#']) || s.bytes().any(|b| !b.is_ascii_graphic()) => {
                Some("must be a plain base URL (no spaces, query or fragment)".to_owned())
            }
            Some(h) if lower.starts_with("http://") => {
                let hostname = if h.starts_with('[') {
                    h.split_inclusive(']').next().unwrap_or(h)
                } else {
                    h.split(':').next().unwrap_or(h)
                };
                (hostname != "127.0.0.1" && hostname != "[::1]").then(|| {
                    format!(
                        "plain http is allowed only to 127.0.0.1 and [::1], not {hostname}: use https"
                    )
                })
            }
            Some(_) => None,
        };
        match message {
            None => Ok(s),
            Some(m) => Err(self.invalid(v, key, m)),
        }
    }

    /// `daily_requests`: 0 (no budget) or [`MIN_BUDGET`]..=[`MAX_BUDGET`].
    fn daily_requests(&self, v: Option<&Spanned<toml::Value>>) -> Result<u32, ConfigError> {
        let Some(v) = v else {
            return Ok(DEFAULT_BUDGET);
        };
        let bad = || {
            self.invalid(
                v,
                "daily_requests",
                format!(
                    "must be 0 (no budget) or a whole number of requests from {MIN_BUDGET} to {MAX_BUDGET} (default {DEFAULT_BUDGET})"
                ),
            )
        };
        match v.get_ref() {
            toml::Value::Integer(n) => match u32::try_from(*n) {
                Ok(n) if n == 0 || (MIN_BUDGET..=MAX_BUDGET).contains(&n) => Ok(n),
                _ => Err(bad()),
            },
            _ => Err(bad()),
        }
    }

    /// A boolean key: `default` when absent.
    fn boolean(
        &self,
        v: Option<&Spanned<toml::Value>>,
        key: &str,
        default: bool,
    ) -> Result<bool, ConfigError> {
        match v {
            None => Ok(default),
            Some(v) => match v.get_ref() {
                toml::Value::Boolean(b) => Ok(*b),
                other => Err(self.invalid(
                    v,
                    key,
                    format!("must be true or false, not {}", other.type_str()),
                )),
            },
        }
    }

    fn seconds(
        &self,
        v: Option<&Spanned<toml::Value>>,
        key: &str,
        default: u64,
        range: Range<u64>,
    ) -> Result<Duration, ConfigError> {
        let Some(v) = v else {
            return Ok(Duration::from_secs(default));
        };
        let bad = || {
            self.invalid(
                v,
                key,
                format!(
                    "must be a whole number of seconds from {} to {}",
                    range.start,
                    range.end.saturating_sub(1)
                ),
            )
        };
        match v.get_ref() {
            toml::Value::Integer(n) => {
                let n = u64::try_from(*n).map_err(|_| bad())?;
                if range.contains(&n) {
                    Ok(Duration::from_secs(n))
                } else {
                    Err(bad())
                }
            }
            _ => Err(bad()),
        }
    }
}

/// Why [`save_client_id`] could not write the config file. Each is one line; none shows a
/// secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SaveError {
    /// The client id is empty or holds spaces or control characters.
    #[error(
        "not a client id (empty, or holds spaces): copy it from your app in the Spotify developer dashboard"
    )]
    InvalidClientId,
    /// The existing file is not valid TOML (or holds a key that cannot be replaced): it is
    /// left as it is. Fix the file, then run the command again.
    #[error("{0}; the file was left unchanged")]
    Invalid(#[source] ConfigError),
    /// Reading, writing or renaming failed. The old file, if any, is intact.
    #[error("{}: cannot {op}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What was being done.
        op: &'static str,
        /// The error.
        source: std::io::Error,
    },
}

/// Whether [`save_client_id`] changed the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Saved {
    /// The file already held this client id: nothing was written.
    Unchanged,
    /// The file was written (or created).
    Written,
}

/// Sets `client_id` in the config file at `path`, creating the file (mode 0600 on Unix)
/// and its directory (0700) when needed.
///
/// Every other key, comment and blank line stays as it was (the file is edited, not
/// rewritten from a model); the line of an existing `client_id` keeps its place and its
/// trailing comment. The new content goes to a temporary file beside it, is fsynced and
/// renamed over it ([`crate::atomic`]), so a crash leaves the old file or the new one, never a mix. An
/// existing file keeps its permissions; a symlink is followed (its target is replaced,
/// the link stays). A file that is not valid TOML is left untouched.
pub fn save_client_id(path: &Path, client_id: &str) -> Result<Saved, SaveError> {
    if client_id.is_empty() || !client_id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(SaveError::InvalidClientId);
    }
    let io = |path: &Path, op: &'static str| {
        let path = path.to_path_buf();
        move |source| SaveError::Io { path, op, source }
    };
    // Follow a symlink (dotfile managers link config files): replace its target.
    let path = match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            std::fs::canonicalize(path).map_err(io(path, "resolve the symlink"))?
        }
        _ => path.to_path_buf(),
    };
    let (text, permissions) = match std::fs::read_to_string(&path) {
        Ok(text) => {
            let meta = std::fs::metadata(&path).map_err(io(&path, "read"))?;
            (text, Some(meta.permissions()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (String::new(), None),
        Err(e) => return Err(io(&path, "read")(e)),
    };
    // Validate with the same parser (and the same one-line, secret-free errors) as loading.
    toml::from_str::<toml::Table>(&text)
        .map_err(|e| SaveError::Invalid(toml_error(&e, &text, &path)))?;
    let mut doc: toml_edit::DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
        SaveError::Invalid(ConfigError::Syntax {
            path: path.clone(),
            line: line_of(&text, e.span().map_or(0, |s| s.start)),
            message: "not valid TOML".to_owned(),
        })
    })?;
    match doc.get_mut("client_id") {
        Some(toml_edit::Item::Value(value)) => {
            if value.as_str() == Some(client_id) {
                return Ok(Saved::Unchanged);
            }
            let decor = value.decor().clone();
            *value = toml_edit::Value::from(client_id);
            *value.decor_mut() = decor;
        }
        Some(_) => {
            // `[client_id]` as a table: loading refuses it too.
            return Err(SaveError::Invalid(ConfigError::Invalid {
                path: path.clone(),
                line: None,
                key: "client_id".to_owned(),
                message: "is not a plain `key = \"value\"` line: fix the file".to_owned(),
            }));
        }
        None => {
            doc.insert("client_id", toml_edit::value(client_id));
        }
    }
    let mut out = doc.to_string();
    if !out.ends_with('\n') {
        out.push('\n');
    }
    let options = crate::atomic::Options {
        mode: permissions.map_or(Mode::Private, Mode::Keep),
        create_dir: true,
        replace: Replace::Always,
    };
    write_atomically(&path, out.as_bytes(), &options).map_err(|e| SaveError::Io {
        path: e.path,
        op: e.op,
        source: e.source,
    })?;
    Ok(Saved::Written)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("/cfg/tonearm/config.toml"), &no_env)
    }

    fn err(text: &str) -> String {
        let e = parse(text).expect_err(text);
        let s = e.to_string();
        assert!(!s.contains('\n'), "not one line: {s}");
        s
    }

    #[test]
    fn minimal_file_gets_the_defaults() {
        let c = parse("client_id = \"abc123\"\n").expect("ok");
        assert_eq!(c.client_id, "abc123");
        assert_eq!(c.client_secret, None);
        assert_eq!(c.refresh_token, None);
        assert_eq!(c.api_base, DEFAULT_API_BASE);
        assert_eq!(c.accounts_base, DEFAULT_ACCOUNTS_BASE);
        assert_eq!(c.display, Profile::Landscape320x240);
        assert_eq!(c.poll_playing, Duration::from_secs(5));
        assert_eq!(c.poll_paused, Duration::from_secs(15));
        assert_eq!(c.poll_idle, Duration::from_secs(60));
        assert_eq!(c.daily_requests, 700);
        assert_eq!(c.night, None);
        assert_eq!(c.token_path(), Path::new("/cfg/tonearm/token.json"));
        assert_eq!(c.quota_path(), Path::new("/cfg/tonearm/quota.json"));
    }

    /// `like` and `up_next`: on unless turned off; booleans only.
    #[test]
    fn like_and_up_next_default_on() {
        let c = parse("client_id = \"a\"\n").expect("ok");
        assert!(c.like && c.up_next);
        let c = parse("client_id = \"a\"\nlike = false\nup_next = false\n").expect("ok");
        assert!(!c.like && !c.up_next);
        let e = parse("client_id = \"a\"\nup_next = 1\n").expect_err("an integer");
        assert!(
            e.to_string()
                .ends_with(":2: up_next: must be true or false, not integer"),
            "{e}"
        );
    }

    /// Every layout by name, `auto`, and nothing said (which full screen reads as auto).
    #[test]
    fn display_names_auto_and_nothing() {
        for profile in Profile::ALL {
            let c = parse(&format!(
                "client_id = \"a\"\ndisplay = \"{}\"\n",
                profile.name()
            ))
            .expect("ok");
            assert_eq!(c.display, profile);
            assert_eq!(c.display_setting, Some(DisplaySetting::Profile(profile)));
        }
        let c = parse("client_id = \"a\"\ndisplay = \"auto\"\n").expect("ok");
        assert_eq!(c.display_setting, Some(DisplaySetting::Auto));
        assert_eq!(c.display, Profile::Landscape320x240);
        let c = parse("client_id = \"a\"\n").expect("ok");
        assert_eq!(c.display_setting, None);
        assert_eq!(c.display, Profile::Landscape320x240);
    }

    #[test]
    fn full_file() {
        let c = parse(
            r#"
# comment
client_id = "abc"
client_secret = "s3cr3t"
refresh_token = "AQB-refresh"
api_base = "http://127.0.0.1:8080/v1/"
accounts_base = "http://[::1]:9090"
display = "128x64"
poll_playing_s = 4
poll_paused_s = 30
poll_idle_s = 120
daily_requests = 2500
night = "23:30-06:45"
"#,
        )
        .expect("ok");
        assert_eq!(
            c.client_secret.as_ref().map(SecretString::expose),
            Some("s3cr3t")
        );
        assert_eq!(
            c.refresh_token.as_ref().map(|(t, o)| (t.expose(), *o)),
            Some(("AQB-refresh", Origin::File))
        );
        assert_eq!(c.api_base, "http://127.0.0.1:8080/v1");
        assert_eq!(c.accounts_base, "http://[::1]:9090");
        assert_eq!(c.display, Profile::Mono128x64);
        assert_eq!(c.poll_playing, Duration::from_secs(4));
        assert_eq!(c.poll_paused, Duration::from_secs(30));
        assert_eq!(c.poll_idle, Duration::from_secs(120));
        assert_eq!(c.daily_requests, 2500);
        assert_eq!(
            c.night,
            Some(NightHours {
                start_min: 23 * 60 + 30,
                end_min: 6 * 60 + 45
            })
        );
    }

    #[test]
    fn fullscreen_is_a_boolean() {
        assert!(!parse("client_id = \"a\"\n").expect("ok").fullscreen);
        let c = parse("client_id = \"a\"\nfullscreen = true\n").expect("ok");
        assert!(c.fullscreen);
        let e = parse("client_id = \"a\"\nfullscreen = \"yes\"\n").expect_err("a string");
        assert!(
            e.to_string()
                .ends_with(":2: fullscreen: must be true or false, not string"),
            "{e}"
        );
    }

    #[test]
    fn budget_and_night_values() {
        for (line, want) in [
            ("daily_requests = 0", 0),
            ("daily_requests = 100", 100),
            ("daily_requests = 100000", 100_000),
        ] {
            let c = parse(&format!("client_id = \"a\"\n{line}\n")).expect(line);
            assert_eq!(c.daily_requests, want, "{line}");
        }
        for (line, start, end) in [
            ("night = \"00:00-07:00\"", 0, 420),
            ("night = \"13:00-14:30\"", 780, 870),
            ("night = \" 22:00-06:00 \"", 1320, 360),
        ] {
            let c = parse(&format!("client_id = \"a\"\n{line}\n")).expect(line);
            assert_eq!(
                c.night,
                Some(NightHours {
                    start_min: start,
                    end_min: end
                }),
                "{line}"
            );
        }
    }

    #[test]
    fn environment_overrides_the_file() {
        let env = |name: &str| match name {
            ENV_CLIENT_ID => Some("env-id".to_owned()),
            ENV_CLIENT_SECRET => Some(" env-secret\n".to_owned()),
            ENV_REFRESH_TOKEN => Some("env-refresh".to_owned()),
            _ => None,
        };
        let text = "client_id = \"file-id\"\nclient_secret = \"file-secret\"\n\
                    refresh_token = \"file-refresh\"\n";
        let c = Config::parse(text, Path::new("c.toml"), &env).expect("ok");
        assert_eq!(c.client_id, "env-id");
        assert_eq!(
            c.client_secret.as_ref().map(SecretString::expose),
            Some("env-secret")
        );
        assert_eq!(
            c.refresh_token.as_ref().map(|(t, o)| (t.expose(), *o)),
            Some(("env-refresh", Origin::Env))
        );
        // Only the environment, no file at all.
        let c = Config::parse("", Path::new("c.toml"), &env).expect("ok");
        assert_eq!(c.client_id, "env-id");
        // An empty variable counts as unset.
        let empty = |name: &str| (name == ENV_CLIENT_ID).then(String::new);
        let c = Config::parse(text, Path::new("c.toml"), &empty).expect("ok");
        assert_eq!(c.client_id, "file-id");
    }

    #[test]
    fn errors_name_the_file_the_line_and_the_key() {
        let cases: &[(&str, &str)] = &[
            (
                "client_id = \"a\"\nclient_secrt = \"x\"\n",
                "/cfg/tonearm/config.toml:2: unknown key `client_secrt`",
            ),
            (
                "client_id = \"a\"\n\n\npoll_playing_s = \"5\"\n",
                "/cfg/tonearm/config.toml:4: poll_playing_s: must be a whole number",
            ),
            (
                "client_id = \"a\"\npoll_paused_s = 0\n",
                "config.toml:2: poll_paused_s: must be a whole number of seconds from 2 to 600",
            ),
            (
                "client_id = \"a\"\npoll_idle_s = -5\n",
                "config.toml:2: poll_idle_s:",
            ),
            (
                "client_id = \"a\"\npoll_playing_s = 1.5\n",
                "config.toml:2: poll_playing_s:",
            ),
            (
                "client_id = \"a\"\ndisplay = \"640x480\"\n",
                "config.toml:2: display: `640x480` is not a display",
            ),
            (
                "client_id = \"a\"\ndisplay = 320\n",
                "config.toml:2: display: must be a string, not integer",
            ),
            (
                "client_id = \"a\"\napi_base = \"http://api.spotify.com/v1\"\n",
                "config.toml:2: api_base: plain http is allowed only to 127.0.0.1 and [::1]",
            ),
            (
                "client_id = \"a\"\naccounts_base = \"http://localhost:9/\"\n",
                "config.toml:2: accounts_base: plain http is allowed only",
            ),
            (
                "client_id = \"a\"\napi_base = \"ftp://x\"\n",
                "config.toml:2: api_base: must start with https://",
            ),
            (
                "client_id = \"a\"\napi_base = \"https://u:p@x\"\n",
                "config.toml:2: api_base: must not hold credentials",
            ),
            ("client_id = \"\"\n", "config.toml:1: client_id: is empty"),
            (
                "client_id = \"a b\"\n",
                "config.toml:1: client_id: holds spaces",
            ),
            (
                "client_id = \"a\"\nclient_id = \"b\"\n",
                "config.toml:2: client_id:",
            ),
            ("client_id = \"a\"\nthis is not toml\n", "config.toml:2: "),
            ("poll_playing_s = 5\n", "config.toml: no client_id"),
            (
                "client_id = \"a\"\n[section]\nx = 1\n",
                "config.toml:2: unknown key `section`",
            ),
            (
                "client_id = \"a\"\ndaily_requests = 50\n",
                "config.toml:2: daily_requests: must be 0 (no budget) or a whole number of requests from 100 to 100000",
            ),
            (
                "client_id = \"a\"\ndaily_requests = 99\n",
                "config.toml:2: daily_requests: must be 0 (no budget) or",
            ),
            (
                "client_id = \"a\"\ndaily_requests = 100001\n",
                "config.toml:2: daily_requests: must be 0 (no budget) or",
            ),
            (
                "client_id = \"a\"\n\ndaily_requests = -1\n",
                "config.toml:3: daily_requests: must be 0 (no budget) or",
            ),
            (
                "client_id = \"a\"\ndaily_requests = 5000000000\n",
                "config.toml:2: daily_requests: must be 0 (no budget) or",
            ),
            (
                "client_id = \"a\"\ndaily_requests = \"700\"\n",
                "config.toml:2: daily_requests: must be 0 (no budget) or",
            ),
            (
                "client_id = \"a\"\ndaily_requests = 700.0\n",
                "config.toml:2: daily_requests: must be 0 (no budget) or",
            ),
            (
                "client_id = \"a\"\nnight = \"23:00\"\n",
                "config.toml:2: night: `23:00`: expected HH:MM-HH:MM in 24-hour time, e.g. \"23:00-07:00\"",
            ),
            (
                "client_id = \"a\"\nnight = \"24:00-07:00\"\n",
                "config.toml:2: night: `24:00-07:00`: expected HH:MM-HH:MM",
            ),
            (
                "client_id = \"a\"\nnight = \"7:00-08:00\"\n",
                "config.toml:2: night: `7:00-08:00`: expected HH:MM-HH:MM",
            ),
            (
                "client_id = \"a\"\nnight = \"11pm-7am\"\n",
                "config.toml:2: night: `11pm-7am`: expected HH:MM-HH:MM",
            ),
            (
                "client_id = \"a\"\nnight = \"23:00-23:00\"\n",
                "config.toml:2: night: `23:00-23:00`: start and end are the same",
            ),
            (
                "client_id = \"a\"\nnight = 2300\n",
                "config.toml:2: night: must be a string, not integer",
            ),
            (
                "client_id = \"a\"\nnight = \"\"\n",
                "config.toml:2: night: is empty: give HH:MM-HH:MM",
            ),
        ];
        for (text, want) in cases {
            let got = err(text);
            assert!(got.contains(want), "{text:?}\n got: {got}\nwant: {want}");
        }
    }

    #[test]
    fn secrets_never_show_in_errors_or_debug() {
        let secret = "VERY-SECRET-VALUE";
        let texts = [
            format!("client_id = \"a\"\nclient_secret = \"{secret}\nrefresh_token = 1\n"),
            format!("client_id = \"a\"\nclient_secret = \"{secret} x\"\n"),
            format!("client_id = \"a\"\nrefresh_token = [\"{secret}\"]\n"),
            format!("client_id = \"a\"\nrefresh_token = \"{secret}\" junk\n"),
        ];
        for text in &texts {
            let e = parse(text).expect_err(text);
            for shown in [e.to_string(), format!("{e:?}")] {
                assert!(!shown.contains(secret), "{shown}");
            }
        }
        let env = |name: &str| (name == ENV_REFRESH_TOKEN).then(|| format!("{secret} {secret}"));
        let e = Config::parse("client_id = \"a\"", Path::new("c.toml"), &env).expect_err("bad");
        assert!(!e.to_string().contains(secret));
        assert!(e.to_string().contains("SPOTIFY_REFRESH_TOKEN"), "{e}");
        assert!(e.to_string().contains("(environment)"), "{e}");
        let ok = parse(&format!(
            "client_id = \"a\"\nclient_secret = \"{secret}\"\nrefresh_token = \"{secret}\"\n"
        ))
        .expect("ok");
        let debug = format!("{ok:?}");
        assert!(!debug.contains(secret), "{debug}");
        assert!(debug.contains("redacted"), "{debug}");
    }

    #[test]
    fn loading_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config.toml");
        // An explicit path that does not exist is an error.
        let e = Config::load_with_env(Some(&path), &no_env).expect_err("missing");
        assert!(matches!(e, ConfigError::Read { .. }), "{e}");
        assert!(e.to_string().contains("config.toml: cannot read"), "{e}");
        std::fs::write(&path, "client_id = \"from-file\"\n").expect("write");
        let c = Config::load_with_env(Some(&path), &no_env).expect("ok");
        assert_eq!(c.client_id, "from-file");
        assert_eq!(c.path, path);
        assert_eq!(c.token_path(), dir.path().join("token.json"));
    }

    #[test]
    fn default_path_is_under_the_config_dir() {
        // directories needs a home directory; on the test machines there is one.
        if let Ok(p) = default_path() {
            assert!(p.ends_with("tonearm/config.toml"), "{}", p.display());
        }
    }

    fn id_of(path: &Path) -> String {
        Config::load_with_env(Some(path), &no_env)
            .expect("the saved file loads")
            .client_id
    }

    #[test]
    fn save_client_id_creates_the_file_and_the_directory() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a/b/config.toml");
        assert_eq!(
            save_client_id(&path, "abc123").expect("saved"),
            Saved::Written
        );
        assert_eq!(id_of(&path), "abc123");
        assert!(!crate::atomic::temp_path_of(&path).exists());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode(&path), 0o600);
            assert_eq!(mode(path.parent().expect("dir")), 0o700);
        }
    }

    #[test]
    fn save_client_id_keeps_every_other_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config.toml");
        let before = "# my display\ndisplay = \"128x64\"   # the small one\n\n\
                      client_id = \"old\" # from the dashboard\nclient_secret = \"s3cr3t\"\n\
                      poll_idle_s = 120\n";
        std::fs::write(&path, before).expect("write");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).expect("chmod");
        }
        assert_eq!(
            save_client_id(&path, "new-id").expect("saved"),
            Saved::Written
        );
        let after = std::fs::read_to_string(&path).expect("read");
        assert_eq!(after, before.replace("\"old\"", "\"new-id\""));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode, 0o640, "an existing file keeps its permissions");
        }
        let c = Config::load_with_env(Some(&path), &no_env).expect("loads");
        assert_eq!(c.client_id, "new-id");
        assert_eq!(c.display, Profile::Mono128x64);
        assert_eq!(c.poll_idle, Duration::from_secs(120));
        // The same id again: nothing is written.
        std::fs::write(&path, &after).expect("write");
        let mtime = std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .expect("mtime");
        assert_eq!(
            save_client_id(&path, "new-id").expect("saved"),
            Saved::Unchanged
        );
        assert_eq!(std::fs::read_to_string(&path).expect("read"), after);
        assert_eq!(
            std::fs::metadata(&path)
                .and_then(|m| m.modified())
                .expect("mtime"),
            mtime
        );
    }

    #[test]
    fn save_client_id_adds_the_key_to_a_file_without_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "accounts_base = \"http://127.0.0.1:9/\"").expect("write");
        assert_eq!(save_client_id(&path, "X").expect("saved"), Saved::Written);
        let after = std::fs::read_to_string(&path).expect("read");
        assert!(
            after.starts_with("accounts_base = \"http://127.0.0.1:9/\"\n"),
            "{after}"
        );
        assert!(after.ends_with('\n'), "{after:?}");
        let c = Config::load_with_env(Some(&path), &no_env).expect("loads");
        assert_eq!(
            (c.client_id.as_str(), c.accounts_base.as_str()),
            ("X", "http://127.0.0.1:9")
        );
    }

    #[test]
    fn save_client_id_leaves_a_broken_file_alone() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config.toml");
        let secret = "VERY-SECRET-VALUE";
        let cases = [
            format!("client_id = \"a\"\nclient_secret = \"{secret}\n"),
            "display = \"128x64\"\nthis is not toml\n".to_owned(),
            "[client_id]\nx = 1\n".to_owned(),
        ];
        for text in &cases {
            std::fs::write(&path, text).expect("write");
            let e = save_client_id(&path, "new").expect_err(text);
            let shown = e.to_string();
            assert!(matches!(e, SaveError::Invalid(_)), "{shown}");
            assert!(shown.contains("config.toml"), "{shown}");
            assert!(shown.contains("left unchanged"), "{shown}");
            assert!(!shown.contains('\n') && !shown.contains(secret), "{shown}");
            assert!(!format!("{e:?}").contains(secret));
            assert_eq!(&std::fs::read_to_string(&path).expect("read"), text);
        }
    }

    #[test]
    fn save_client_id_refuses_a_bad_id_and_reports_io_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config.toml");
        for bad in ["", "a b", "id\n", "\u{e9}"] {
            assert!(
                matches!(save_client_id(&path, bad), Err(SaveError::InvalidClientId)),
                "{bad:?}"
            );
        }
        assert!(!path.exists());
        // The path is a directory: an I/O error naming it, nothing created beside it.
        std::fs::create_dir(&path).expect("mkdir");
        let e = save_client_id(&path, "id").expect_err("a directory");
        assert!(matches!(e, SaveError::Io { .. }), "{e}");
        assert!(e.to_string().contains("config.toml"), "{e}");
        assert!(!crate::atomic::temp_path_of(&path).exists());
    }

    #[cfg(unix)]
    #[test]
    fn save_client_id_follows_a_symlink() {
        let dir = tempfile::tempdir().expect("tempdir");
        let real = dir.path().join("dotfiles/tonearm.toml");
        std::fs::create_dir_all(real.parent().expect("dir")).expect("mkdir");
        std::fs::write(&real, "display = \"240x240\"\n").expect("write");
        let link = dir.path().join("config.toml");
        std::os::unix::fs::symlink(&real, &link).expect("symlink");
        assert_eq!(
            save_client_id(&link, "linked").expect("saved"),
            Saved::Written
        );
        assert!(
            std::fs::symlink_metadata(&link)
                .expect("meta")
                .file_type()
                .is_symlink()
        );
        assert_eq!(id_of(&real), "linked");
        assert_eq!(id_of(&link), "linked");
    }
}
