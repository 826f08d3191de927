//! The hub a board is fed by: the record's hub URL (tag 12) read, and the MQTT login
//! beside it (tags 13 and 14).
//!
//! A record with a hub URL makes a board a display fed by that hub (`tonearm hub`): it
//! subscribes to `tonearm/<id>/state` and `tonearm/<id>/availability` on the broker and
//! publishes presses on `tonearm/<id>/command`; it needs no Spotify login (such a record
//! has none: `tonearm provision --hub URL` writes none) and no trust anchors for Spotify.
//!
//! The URL is the one `tonearm run --hub` takes: `mqtt://HOST[:PORT]/ID` or
//! `mqtts://HOST[:PORT]/ID` (ports 1883 and 8883 by default; an empty path means the id
//! `tonearm`). A user or password in the URL is refused: they are fields of their own,
//! so no log line that names the hub names a secret.

use core::fmt;

use crate::record::Settings;

/// `mqtt://`'s default port.
pub const DEFAULT_PORT: u16 = 1883;
/// `mqtts://`'s default port.
pub const DEFAULT_TLS_PORT: u16 = 8883;
/// The id of a URL without one (as `tonearm hub` has by default).
pub const DEFAULT_ID: &str = "tonearm";
/// The longest hub id (`[a-z0-9_-]{1,32}`).
pub const ID_MAX: usize = 32;

/// A hub, as the record names it. Borrowed from the record.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Hub<'a> {
    /// `mqtts://`: TLS to the broker.
    pub tls: bool,
    /// The broker's host name or address (IPv6 without its brackets).
    pub host: &'a str,
    /// The broker's port.
    pub port: u16,
    /// The hub's id (`tonearm/<id>/...`).
    pub id: &'a str,
    /// The MQTT user, if the broker wants one.
    pub user: Option<&'a str>,
    /// The MQTT password (a secret: never logged).
    pub password: Option<&'a str>,
}

impl fmt::Debug for Hub<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hub")
            .field("tls", &self.tls)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("id", &self.id)
            .field("user", &self.user)
            .field("password", &self.password.map(|_| "<redacted>"))
            .finish()
    }
}

impl fmt::Display for Hub<'_> {
    /// `mqtt://HOST:PORT/ID`, without the login (for logs).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.tls { "mqtts" } else { "mqtt" };
        if self.host.contains(':') {
            write!(f, "{scheme}://[{}]:{}/{}", self.host, self.port, self.id)
        } else {
            write!(f, "{scheme}://{}:{}/{}", self.host, self.port, self.id)
        }
    }
}

/// Why a hub URL is refused. Each says what to write instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HubError {
    /// Neither `mqtt://` nor `mqtts://`.
    Scheme,
    /// A user or password in the URL: give them as the MQTT user and password instead.
    Credentials,
    /// No host.
    Host,
    /// The port is not a number from 1 to 65535.
    Port,
    /// The id is not 1 to 32 of `a-z`, `0-9`, `_`, `-`.
    Id,
}

impl fmt::Display for HubError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HubError::Scheme => {
                "not a hub URL: use mqtt://HOST[:PORT]/ID or mqtts://HOST[:PORT]/ID"
            }
            HubError::Credentials => {
                "a hub URL must not carry a user or password: they are settings of their own"
            }
            HubError::Host => "the hub URL names no broker host",
            HubError::Port => "the hub URL's port is not a number from 1 to 65535",
            HubError::Id => "the hub URL's id is not 1 to 32 of a-z, 0-9, _ and -",
        })
    }
}

impl core::error::Error for HubError {}

/// Whether `id` is a hub id: 1 to [`ID_MAX`] of `a-z`, `0-9`, `_`, `-`.
pub fn is_id(id: &str) -> bool {
    (1..=ID_MAX).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// Reads a hub URL (without the login: see [`Hub::user`]).
pub fn parse(url: &str) -> Result<Hub<'_>, HubError> {
    let url = url.trim();
    let (tls, rest) = if let Some(r) = url.strip_prefix("mqtt://") {
        (false, r)
    } else if let Some(r) = url.strip_prefix("mqtts://") {
        (true, r)
    } else {
        return Err(HubError::Scheme);
    };
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    if authority.contains('@') {
        return Err(HubError::Credentials);
    }
    let (host, port) = match authority.rsplit_once(':') {
        // `[::1]:1883`, `host:1883`; a bare IPv6 address needs its brackets.
        Some((h, p)) if !p.contains(']') => {
            let port = p
                .parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or(HubError::Port)?;
            (h, port)
        }
        _ => (authority, if tls { DEFAULT_TLS_PORT } else { DEFAULT_PORT }),
    };
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if host.is_empty() || host.contains(['/', '?', '#', ' ', '[', ']']) {
        return Err(HubError::Host);
    }
    let path = path.trim_end_matches('/');
    let id = if path.is_empty() { DEFAULT_ID } else { path };
    if !is_id(id) {
        return Err(HubError::Id);
    }
    Ok(Hub {
        tls,
        host,
        port,
        id,
        user: None,
        password: None,
    })
}

impl<'a> Settings<'a> {
    /// The hub this record names, with its MQTT login: `Ok(None)` for a board that talks
    /// to Spotify itself, `Err` for a URL the board cannot use (shown as a configuration
    /// error). An empty URL counts as none.
    pub fn hub(&self) -> Result<Option<Hub<'a>>, HubError> {
        let Some(url) = self.hub_url.filter(|u| !u.trim().is_empty()) else {
            return Ok(None);
        };
        let hub = parse(url)?;
        Ok(Some(Hub {
            user: self.mqtt_user.filter(|u| !u.is_empty()),
            password: self.mqtt_password,
            ..hub
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{self, RECORD_MAX};

    fn hub(tls: bool, host: &'static str, port: u16, id: &'static str) -> Hub<'static> {
        Hub {
            tls,
            host,
            port,
            id,
            user: None,
            password: None,
        }
    }

    #[test]
    fn urls() {
        let table: &[(&str, Result<Hub<'static>, HubError>)] = &[
            (
                "mqtt://192.0.2.1/tonearm",
                Ok(hub(false, "192.0.2.1", 1883, "tonearm")),
            ),
            (
                "mqtt://broker:1884/desk",
                Ok(hub(false, "broker", 1884, "desk")),
            ),
            (
                "mqtts://broker/kitchen_1",
                Ok(hub(true, "broker", 8883, "kitchen_1")),
            ),
            ("mqtt://broker", Ok(hub(false, "broker", 1883, "tonearm"))),
            ("mqtt://broker/", Ok(hub(false, "broker", 1883, "tonearm"))),
            (
                " mqtt://broker/a-b/ ",
                Ok(hub(false, "broker", 1883, "a-b")),
            ),
            ("mqtt://[::1]:1999/x", Ok(hub(false, "::1", 1999, "x"))),
            ("mqtt://[fe80::1]/x", Ok(hub(false, "fe80::1", 1883, "x"))),
            ("http://broker/x", Err(HubError::Scheme)),
            ("broker/x", Err(HubError::Scheme)),
            ("", Err(HubError::Scheme)),
            ("mqtt://user:pw@broker/x", Err(HubError::Credentials)),
            ("mqtt://user@broker/x", Err(HubError::Credentials)),
            ("mqtt:///x", Err(HubError::Host)),
            ("mqtt://:1883/x", Err(HubError::Host)),
            ("mqtt://broker:0/x", Err(HubError::Port)),
            ("mqtt://broker:65536/x", Err(HubError::Port)),
            ("mqtt://broker:http/x", Err(HubError::Port)),
            ("mqtt://broker/Desk", Err(HubError::Id)),
            ("mqtt://broker/a/b", Err(HubError::Id)),
            ("mqtt://broker/a b", Err(HubError::Id)),
            (
                "mqtt://broker/abcdefghijklmnopqrstuvwxyz0123456",
                Err(HubError::Id),
            ),
        ];
        for (url, want) in table {
            assert_eq!(parse(url), *want, "{url}");
        }
        assert!(is_id("abcdefghijklmnopqrstuvwxyz012345"));
        for e in [
            HubError::Scheme,
            HubError::Credentials,
            HubError::Host,
            HubError::Port,
            HubError::Id,
        ] {
            let text = e.to_string();
            assert!(!text.is_empty() && !text.contains('\n'), "{text}");
        }
    }

    #[test]
    fn shown_without_the_login() {
        let h = Hub {
            user: Some("board"),
            password: Some("mqtt-secret-1"),
            ..hub(false, "192.0.2.1", 1883, "tonearm")
        };
        assert_eq!(h.to_string(), "mqtt://192.0.2.1:1883/tonearm");
        let debug = format!("{h:?}");
        assert!(
            debug.contains("board") && !debug.contains("mqtt-secret-1"),
            "{debug}"
        );
        assert_eq!(
            hub(true, "::1", 8883, "x").to_string(),
            "mqtts://[::1]:8883/x"
        );
    }

    #[test]
    fn a_record_with_a_hub_and_no_spotify_login() {
        let settings = Settings {
            ssid: "home",
            password: "wifi-password",
            tz: Some("UTC0"),
            hub_url: Some("mqtt://192.0.2.1:1883/desk"),
            mqtt_user: Some("board"),
            mqtt_password: Some("mqtt-secret-1"),
            ..Settings::default()
        };
        let mut buf = [0u8; RECORD_MAX];
        let n = record::encode(&settings, 1, &mut buf).unwrap();
        let (_, read) = record::decode(&buf[..n]).unwrap();
        assert_eq!(read, settings);
        assert_eq!((read.client_id, read.refresh_token), ("", ""));
        assert_eq!(
            read.hub(),
            Ok(Some(Hub {
                user: Some("board"),
                password: Some("mqtt-secret-1"),
                ..hub(false, "192.0.2.1", 1883, "desk")
            }))
        );
        // Without a login the hub is reached anonymously; an empty user is none.
        let anonymous = Settings {
            mqtt_user: Some(""),
            mqtt_password: None,
            ..settings
        };
        assert_eq!(
            anonymous.hub(),
            Ok(Some(hub(false, "192.0.2.1", 1883, "desk")))
        );
        // No hub, or an empty URL: a board that talks to Spotify.
        assert_eq!(Settings::default().hub(), Ok(None));
        let empty = Settings {
            hub_url: Some(" "),
            ..settings
        };
        assert_eq!(empty.hub(), Ok(None));
        let bad = Settings {
            hub_url: Some("mqtt://u:p@192.0.2.1/desk"),
            ..settings
        };
        assert_eq!(bad.hub(), Err(HubError::Credentials));
    }

    #[test]
    fn old_records_have_no_hub() {
        let v1 = record::tests::v1_record(3, "home", "pw", "0123", "AQB-token");
        let (_, read) = record::decode(&v1).unwrap();
        assert_eq!(read.hub(), Ok(None));
        assert_eq!(read.refresh_token, "AQB-token");
    }
}
