//! The settings partition image for the ESP32-C3 board (`tonearm provision`).
//!
//! The board keeps its Wi-Fi network, its Spotify login, its time zone and its request
//! budget in a flash partition, not in its binary (`tonearm-settings`, in
//! `firmware/settings`, defines the record; this writes it with the same code the board
//! reads it with). `tonearm provision` gathers what goes in and writes the image for
//! `espflash write-bin`:
//!
//! 1. the board's options, checked first: `--tz RULE` (a POSIX `TZ` rule; by default the
//!    host's, see [`host_tz`]), `--daily-requests N` and `--night HH:MM-HH:MM` (the
//!    desktop config's rules);
//! 2. the Wi-Fi SSID and password, from `TONEARM_WIFI_SSID` / `TONEARM_WIFI_PASSWORD`,
//!    else asked on the terminal (the password without echo), else read as the first two
//!    lines of standard input. Never from the command line, where `ps` and the shell's
//!    history would keep them. Checked before anything else happens;
//! 3. a login of the board's own (the same PKCE browser flow as `tonearm login`, always
//!    without the client secret: the board refreshes with PKCE). Its own, because two
//!    devices sharing one refresh token would revoke each other's at each rotation; the
//!    desktop's token and config are not touched. Its time is the record's
//!    `authorized_at` (the board warns before the login's six months are up);
//! 4. the image (two 4 KiB slots: a version-2 record in slot 0 with sequence 1, slot 1
//!    erased), written atomically and privately (mode 0600: it holds secrets; see
//!    [`crate::atomic`]).
//!
//! `--hub mqtt://HOST[:PORT]/ID` writes a board fed by that hub (`tonearm hub`) instead:
//! no Spotify login at all (no browser, no client id), the hub's URL checked with the
//! board's own reading of it (`tonearm_settings::hub`), and the broker's user and
//! password from the config's `mqtt_username` / `mqtt_password` (or
//! `TONEARM_MQTT_PASSWORD`), never from the command line ([`hub_login`]). The board
//! subscribes to the hub and needs no TLS: `mqtts://` is refused (the board firmware has
//! no TLS to a broker yet), and so is `--daily-requests` (such a board asks Spotify
//! nothing).
//!
//! `--trust-root FILE` (up to twice, checked with the board options) adds a trust anchor
//! beside the roots built into the firmware: one X.509 certificate, PEM or DER, of at
//! most 2 KiB ([`read_trust_roots`]). It is for a TLS proxy of one's own at home (or the
//! tests' fake Spotify); the board verifies every connection against the built-in roots
//! and these, and names each anchor in its boot log as this command does (its subject's
//! CommonName and a SHA-256 fingerprint: `tonearm_settings::anchor`). There is no way to
//! turn verification off.

use std::io::{BufRead as _, IsTerminal as _};
use std::path::{Path, PathBuf};

use tonearm_core::budget::{DEFAULT_BUDGET, MAX_BUDGET, MIN_BUDGET};
use tonearm_core::wall::{NightError, NightHours, PosixTz};
use tonearm_settings::anchor::{self, AnchorError};
use tonearm_settings::record::{self, RecordError, Settings};
use tonearm_settings::store;

use crate::atomic::{Mode, Options, Replace, WriteError, write_atomically};
use crate::config::SecretString;

/// The Wi-Fi network's name, when set.
pub const ENV_SSID: &str = "TONEARM_WIFI_SSID";
/// The Wi-Fi password, when set (empty for an open network).
pub const ENV_PASSWORD: &str = "TONEARM_WIFI_PASSWORD";
/// The host's time zone when set: a POSIX rule, or a zone (`Europe/Paris`, `:/path`).
pub const ENV_TZ: &str = "TZ";
/// The host's time zone when `TZ` is not set.
pub const LOCALTIME: &str = "/etc/localtime";
/// Where zone names in `TZ` are looked up.
pub const ZONEINFO: &str = "/usr/share/zoneinfo";
/// An example rule for the messages.
const TZ_EXAMPLE: &str = "CET-1CEST,M3.5.0,M10.5.0/3";

/// Why nothing was written. Each message is one line and says what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProvisionError {
    /// No SSID from the environment, the terminal or standard input.
    #[error(
        "no Wi-Fi network given: set {ENV_SSID} (and {ENV_PASSWORD}), or run tonearm provision in a terminal to be asked"
    )]
    NoSsid,
    /// No password from the environment, the terminal or standard input.
    #[error(
        "no Wi-Fi password given: set {ENV_PASSWORD} (empty for an open network), or run tonearm provision in a terminal to be asked"
    )]
    NoPassword,
    /// The SSID does not fit 802.11's 1 to 32 bytes.
    #[error("the Wi-Fi network name is {0} bytes long: a network name has 1 to 32 bytes")]
    SsidLength(usize),
    /// Not a WPA2 passphrase.
    #[error(
        "the Wi-Fi password {0}: WPA2 takes 8 to 63 printable ASCII characters (or 64 hex digits); leave it empty for an open network"
    )]
    Password(&'static str),
    /// The client id does not fit the record.
    #[error(
        "the client id is {0} bytes long: the board keeps at most {max} (Spotify's have 32)",
        max = record::CLIENT_ID_MAX
    )]
    ClientIdLength(usize),
    /// `--tz` is not a POSIX TZ rule.
    #[error(
        "--tz {0:?}: not a POSIX TZ rule: give one such as {TZ_EXAMPLE} or UTC0 (the last line of a zone's TZif file: tail -n1 /usr/share/zoneinfo/Europe/Paris)"
    )]
    Tz(String),
    /// `--tz` is longer than the record keeps.
    #[error(
        "--tz: the rule is {0} bytes long: the board keeps at most {max}",
        max = record::TZ_MAX
    )]
    TzLength(usize),
    /// `--daily-requests` is out of range.
    #[error(
        "--daily-requests {0:?}: must be 0 (no budget) or a whole number of requests from {MIN_BUDGET} to {MAX_BUDGET} (default {DEFAULT_BUDGET})"
    )]
    DailyRequests(String),
    /// `--night` is not a night range.
    #[error("--night {0:?}: {1}")]
    Night(String, NightError),
    /// The output exists and `--force` was not given.
    #[error(
        "{} exists: pass --force to replace it, or choose another --out",
        .0.display()
    )]
    Exists(PathBuf),
    /// The output is a directory.
    #[error("{} is a directory: give a file name, such as {}/board.bin", .0.display(), .0.display())]
    IsDirectory(PathBuf),
    /// The output's directory does not exist.
    #[error("cannot write {}: its directory does not exist", .0.display())]
    NoDirectory(PathBuf),
    /// Spotify's refresh token is longer than the board keeps.
    #[error(
        "Spotify's refresh token is {0} bytes long, more than the board keeps ({max}): nothing was written",
        max = record::REFRESH_TOKEN_MAX
    )]
    TokenTooLong(usize),
    /// Ctrl-C at a prompt.
    #[error("interrupted: nothing was written")]
    Interrupted,
    /// An environment variable that is not UTF-8.
    #[error("{0} is not valid UTF-8")]
    NotUnicode(&'static str),
    /// The terminal could not be read.
    #[error("cannot read the Wi-Fi password from the terminal: {0}")]
    Terminal(String),
    /// The record could not be made (not expected after the checks).
    #[error("cannot make the settings record: {0}")]
    Record(RecordError),
    /// More `--trust-root` than the record keeps.
    #[error(
        "--trust-root given {0} times: the board keeps at most {max} trust roots of its own",
        max = record::ROOTS_MAX
    )]
    TrustRootCount(usize),
    /// A `--trust-root` file could not be read.
    #[error("--trust-root {}: cannot read it: {}", .0.display(), .1)]
    TrustRootRead(PathBuf, String),
    /// A `--trust-root` file is not one certificate the board can keep.
    #[error("--trust-root {}: {}", .0.display(), .1)]
    TrustRoot(PathBuf, String),
    /// The same root twice.
    #[error("--trust-root {}: the same certificate as {}", .0.display(), .1.display())]
    TrustRootTwice(PathBuf, PathBuf),
    /// The roots together do not fit the record.
    #[error(
        "the trust roots are {0} bytes together: the record keeps {room} beside the other settings; use a smaller root (an ECDSA one is about 600 bytes)",
        room = record::ROOTS_ROOM
    )]
    TrustRootsTooLarge(usize),
    /// `--hub` is not a hub URL the board can use.
    #[error("--hub {0:?}: {1}")]
    Hub(String, String),
    /// `--hub` carries a user or password (not echoed: it may hold the password).
    #[error(
        "--hub: a hub URL must not carry a user or password: put them in the config's mqtt_username and mqtt_password (or TONEARM_MQTT_PASSWORD)"
    )]
    HubCredentials,
    /// `--hub` is longer than the record keeps.
    #[error(
        "--hub: the URL is {0} bytes long: the board keeps at most {max}",
        max = record::HUB_URL_MAX
    )]
    HubLength(usize),
    /// The config's MQTT user or password is longer than the record keeps.
    #[error(
        "the config's {0} is {1} bytes long: the board keeps at most {max}",
        max = record::MQTT_USER_MAX
    )]
    MqttLoginLength(&'static str, usize),
    /// A Spotify option given with `--hub`.
    #[error(
        "{0} with --hub: a board fed by a hub has no Spotify login and asks Spotify nothing; leave {0} out"
    )]
    NotWithHub(&'static str),
}

/// A `--trust-root`: the certificate's DER and its name (as the board's boot log gives
/// it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustRoot {
    /// The file it came from.
    pub path: PathBuf,
    /// The certificate (DER).
    pub der: Vec<u8>,
    /// Its CommonName and fingerprint (`tonearm_settings::anchor::AnchorName`).
    pub name: String,
}

/// The PEM label of a certificate.
const PEM_BEGIN: &str = "-----BEGIN CERTIFICATE-----";
const PEM_END: &str = "-----END CERTIFICATE-----";

/// One certificate from a file's bytes: DER as it is, or PEM (one `CERTIFICATE` block;
/// text around it, such as `openssl x509 -text`'s, is ignored). The error says why not.
pub fn certificate_der(bytes: &[u8]) -> Result<Vec<u8>, String> {
    use base64::Engine as _;
    let Some(text) = std::str::from_utf8(bytes)
        .ok()
        .filter(|t| t.contains(PEM_BEGIN))
    else {
        return Ok(bytes.to_vec());
    };
    let blocks = text.matches(PEM_BEGIN).count();
    if blocks > 1 {
        return Err(format!(
            "holds {blocks} certificates: give one root per --trust-root"
        ));
    }
    let body = text
        .split_once(PEM_BEGIN)
        .and_then(|(_, rest)| rest.split_once(PEM_END))
        .map(|(body, _)| body)
        .ok_or_else(|| format!("no {PEM_END} line"))?;
    let b64: String = body.split_whitespace().collect();
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|e| format!("the PEM block is not base64: {e}"))
}

/// Reads and checks the `--trust-root` files: at most [`record::ROOTS_MAX`], each one
/// certificate (PEM or DER) of at most [`record::ROOT_MAX`] bytes, no two the same, and
/// together small enough for the record.
pub fn read_trust_roots(paths: &[PathBuf]) -> Result<Vec<TrustRoot>, ProvisionError> {
    if paths.len() > record::ROOTS_MAX {
        return Err(ProvisionError::TrustRootCount(paths.len()));
    }
    let mut roots: Vec<TrustRoot> = Vec::new();
    for path in paths {
        let bytes = std::fs::read(path)
            .map_err(|e| ProvisionError::TrustRootRead(path.clone(), e.to_string()))?;
        let der =
            certificate_der(&bytes).map_err(|e| ProvisionError::TrustRoot(path.clone(), e))?;
        let name = match anchor::describe(&der) {
            Ok(name) => name.to_string(),
            Err(AnchorError::NotACertificate) => {
                return Err(ProvisionError::TrustRoot(
                    path.clone(),
                    "not an X.509 certificate (PEM or DER)".to_owned(),
                ));
            }
            Err(e) => {
                return Err(ProvisionError::TrustRoot(
                    path.clone(),
                    format!("{} bytes: {e}", der.len()),
                ));
            }
        };
        if let Some(same) = roots.iter().find(|r| r.der == der) {
            return Err(ProvisionError::TrustRootTwice(
                path.clone(),
                same.path.clone(),
            ));
        }
        roots.push(TrustRoot {
            path: path.clone(),
            der,
            name,
        });
    }
    let total: usize = roots.iter().map(|r| r.der.len()).sum();
    if total > record::ROOTS_ROOM {
        return Err(ProvisionError::TrustRootsTooLarge(total));
    }
    Ok(roots)
}

/// The Wi-Fi settings.
pub struct Wifi {
    /// The network's name.
    pub ssid: String,
    /// The password (empty for an open network).
    pub password: SecretString,
}

/// The board's time zone and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardTz {
    /// The POSIX rule (checked), or none: the board keeps UTC.
    pub rule: Option<String>,
    /// Where it came from: `None` for `--tz`, else the host's source (`/etc/localtime`,
    /// `TZ=...`).
    pub from: Option<String>,
}

/// The board's options, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Board {
    /// The time zone.
    pub tz: BoardTz,
    /// The daily request budget (`Some(0)`: none), or the firmware's default.
    pub daily_requests: Option<u32>,
    /// The night hours, if any.
    pub night: Option<NightHours>,
}

impl Board {
    /// The options for the "wrote" line: `, time zone R, 700 requests a day, night N`.
    pub fn summary(&self) -> String {
        let mut s = String::new();
        if let (Some(rule), None) = (&self.tz.rule, &self.tz.from) {
            s.push_str(&format!(", time zone {rule}"));
        }
        match self.daily_requests {
            Some(0) => s.push_str(", no request budget"),
            Some(n) => s.push_str(&format!(", {n} requests a day")),
            None => {}
        }
        if let Some(night) = self.night {
            s.push_str(&format!(", night {night}"));
        }
        s
    }
}

impl BoardTz {
    /// The line saying which zone the board got from the host, or that it got none;
    /// nothing for `--tz`.
    pub fn note(&self) -> Option<String> {
        let from = self.from.as_deref()?;
        Some(match &self.rule {
            Some(rule) => format!(
                "the board's time zone is this computer's: {rule} (from {from}; --tz RULE sets another)"
            ),
            None => format!(
                "no time zone rule found in {from}: the board will show UTC (--tz RULE sets one, such as --tz {TZ_EXAMPLE})"
            ),
        })
    }
}

/// `--tz`, `--daily-requests` and `--night`, checked before anything is asked (a bad one
/// is a one-line error); without `--tz`, the host's zone.
pub fn board_options(
    tz: Option<&str>,
    daily_requests: Option<&str>,
    night: Option<&str>,
) -> Result<Board, ProvisionError> {
    let tz = match tz {
        Some(rule) => BoardTz {
            rule: Some(check_tz(rule)?),
            from: None,
        },
        None => host_tz(),
    };
    let daily_requests = daily_requests
        .map(|text| {
            text.trim()
                .parse::<u32>()
                .ok()
                .filter(|n| *n == 0 || (MIN_BUDGET..=MAX_BUDGET).contains(n))
                .ok_or_else(|| ProvisionError::DailyRequests(text.to_owned()))
        })
        .transpose()?;
    let night = night
        .map(|text| NightHours::parse(text).map_err(|e| ProvisionError::Night(text.to_owned(), e)))
        .transpose()?;
    Ok(Board {
        tz,
        daily_requests,
        night,
    })
}

/// A `--tz` rule, checked with the parser the board uses; returned trimmed.
fn check_tz(rule: &str) -> Result<String, ProvisionError> {
    let rule = rule.trim();
    PosixTz::parse(rule).map_err(|_| ProvisionError::Tz(rule.to_owned()))?;
    if rule.len() > record::TZ_MAX {
        return Err(ProvisionError::TzLength(rule.len()));
    }
    Ok(rule.to_owned())
}

/// The host's time zone as a POSIX rule, as the C library finds it: `TZ` when set (a
/// POSIX rule itself, or a zone: `Europe/Paris` under [`ZONEINFO`], `:/an/absolute/path`),
/// else [`LOCALTIME`]. A zone file's rule is its TZif footer (TZif version 2 and later
/// end with the POSIX rule for times after their table, on a line of its own). No rule
/// (no such file, a version-1 file, an empty footer, a rule the board cannot read, or one
/// longer than the record keeps): none, and the board keeps UTC.
pub fn host_tz() -> BoardTz {
    let env = std::env::var(ENV_TZ).ok().filter(|v| !v.is_empty());
    let (path, from) = match env {
        Some(value) => {
            let from = format!("{ENV_TZ}={value}");
            let name = value.strip_prefix(':').unwrap_or(&value);
            if !value.starts_with(':') && PosixTz::parse(name).is_ok() {
                let rule = (name.len() <= record::TZ_MAX).then(|| name.to_owned());
                return BoardTz {
                    rule,
                    from: Some(from),
                };
            }
            let path = if name.starts_with('/') {
                PathBuf::from(name)
            } else {
                Path::new(ZONEINFO).join(name)
            };
            (path, from)
        }
        None => (PathBuf::from(LOCALTIME), LOCALTIME.to_owned()),
    };
    let rule = std::fs::read(&path)
        .ok()
        .and_then(|bytes| tzif_rule(&bytes).map(str::to_owned))
        .filter(|rule| PosixTz::parse(rule).is_ok() && rule.len() <= record::TZ_MAX);
    BoardTz {
        rule,
        from: Some(from),
    }
}

/// The POSIX rule in a TZif file's footer (version 2 and later: the file ends with
/// `\n` RULE `\n`); `None` for a version-1 file, a missing or empty footer, or text that
/// is not UTF-8.
pub fn tzif_rule(bytes: &[u8]) -> Option<&str> {
    if !bytes.starts_with(b"TZif") || bytes.get(4).is_none_or(|v| *v < b'2') {
        return None;
    }
    let body = bytes.strip_suffix(b"\n")?;
    let start = body.iter().rposition(|&b| b == b'\n')? + 1;
    let rule = std::str::from_utf8(body.get(start..)?).ok()?;
    (!rule.is_empty()).then_some(rule)
}

/// Refuses an existing output without `--force`, and an output in a missing directory,
/// before anything is asked.
pub fn check_out(out: &Path, force: bool) -> Result<(), ProvisionError> {
    if out.is_dir() {
        return Err(ProvisionError::IsDirectory(out.to_path_buf()));
    }
    if out.exists() && !force {
        return Err(ProvisionError::Exists(out.to_path_buf()));
    }
    let dir = out.parent().filter(|d| !d.as_os_str().is_empty());
    if dir.is_some_and(|d| !d.is_dir()) {
        return Err(ProvisionError::NoDirectory(out.to_path_buf()));
    }
    Ok(())
}

/// The SSID and the password: each from its environment variable, else the terminal,
/// else standard input's next line.
pub fn read_wifi() -> Result<Wifi, ProvisionError> {
    use std::env::VarError;
    let interactive = std::io::stdin().is_terminal();
    let ssid = match std::env::var(ENV_SSID) {
        Ok(ssid) => ssid,
        Err(VarError::NotUnicode(_)) => return Err(ProvisionError::NotUnicode(ENV_SSID)),
        Err(VarError::NotPresent) => {
            if interactive {
                eprint!("Wi-Fi network (SSID): ");
            }
            let line = read_line();
            // Ctrl-C at the prompt: the handler only sets a flag, the read ends at Enter.
            if crate::interrupted() {
                return Err(ProvisionError::Interrupted);
            }
            line.ok_or(ProvisionError::NoSsid)?
        }
    };
    let password = match std::env::var(ENV_PASSWORD) {
        Ok(password) => password,
        Err(VarError::NotUnicode(_)) => return Err(ProvisionError::NotUnicode(ENV_PASSWORD)),
        Err(VarError::NotPresent) if interactive => rpassword::prompt_password(format!(
            "Wi-Fi password for \"{}\" (not shown; empty for an open network): ",
            ssid.escape_debug()
        ))
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::Interrupted => ProvisionError::Interrupted,
            _ => ProvisionError::Terminal(e.to_string()),
        })?,
        Err(VarError::NotPresent) => read_line().ok_or(ProvisionError::NoPassword)?,
    };
    if crate::interrupted() {
        return Err(ProvisionError::Interrupted);
    }
    Ok(Wifi {
        ssid,
        password: SecretString::new(password),
    })
}

/// A line of standard input without its line ending (spaces are kept: they can be part
/// of an SSID or a password); `None` at its end.
fn read_line() -> Option<String> {
    let mut line = String::new();
    match std::io::stdin().lock().read_line(&mut line) {
        Ok(0) | Err(_) => None,
        Ok(_) => {
            let end = line.trim_end_matches(['\n', '\r']).len();
            line.truncate(end);
            Some(line)
        }
    }
}

/// 802.11's and WPA2's rules, so that a board is never flashed with settings it cannot
/// join with.
pub fn check_wifi(wifi: &Wifi) -> Result<(), ProvisionError> {
    let n = wifi.ssid.len();
    if !(1..=record::SSID_MAX).contains(&n) {
        return Err(ProvisionError::SsidLength(n));
    }
    let password = wifi.password.expose();
    let hex_key = password.len() == 64 && password.bytes().all(|b| b.is_ascii_hexdigit());
    if password.is_empty() || hex_key {
        return Ok(());
    }
    if !password.bytes().all(|b| (b' '..=b'~').contains(&b)) {
        return Err(ProvisionError::Password(
            "holds characters other than printable ASCII",
        ));
    }
    match password.len() {
        0..8 => Err(ProvisionError::Password("is shorter than 8 characters")),
        8..=63 => Ok(()),
        _ => Err(ProvisionError::Password("is longer than 63 characters")),
    }
}

/// The hub a board is fed by, checked (`--hub`), with the broker's login from the
/// config.
#[derive(Debug, Clone)]
pub struct HubLogin {
    /// The URL as the record keeps it (trimmed; an empty path means the id `tonearm`).
    pub url: String,
    /// The broker's address and the hub's id, for messages: `mqtt://HOST:PORT/ID`.
    pub shown: String,
    /// `mqtt_username`.
    pub user: Option<String>,
    /// `mqtt_password` or `TONEARM_MQTT_PASSWORD`.
    pub password: Option<SecretString>,
}

/// `--hub URL` checked as the board reads it (`tonearm_settings::hub::parse`: a user or
/// password in the URL, a bad port or id are refused), `mqtts://` refused (no TLS to a
/// broker on the boards yet), and the login from the config's `mqtt_username` and
/// `mqtt_password` (or `TONEARM_MQTT_PASSWORD`), each within what the record keeps.
pub fn hub_login(url: &str, mqtt: &crate::config::MqttConfig) -> Result<HubLogin, ProvisionError> {
    use tonearm_settings::hub::{self, HubError};
    let url = url.trim();
    let hub = hub::parse(url).map_err(|e| match e {
        HubError::Credentials => ProvisionError::HubCredentials,
        other => ProvisionError::Hub(url.to_owned(), other.to_string()),
    })?;
    if hub.tls {
        return Err(ProvisionError::Hub(
            url.to_owned(),
            "the board firmware has no TLS to a broker yet: use mqtt:// (a broker on the home network)"
                .to_owned(),
        ));
    }
    if url.len() > record::HUB_URL_MAX {
        return Err(ProvisionError::HubLength(url.len()));
    }
    let user = mqtt.username.clone().filter(|u| !u.is_empty());
    if let Some(u) = &user
        && u.len() > record::MQTT_USER_MAX
    {
        return Err(ProvisionError::MqttLoginLength("mqtt_username", u.len()));
    }
    let password = mqtt.password.clone();
    if let Some(p) = &password
        && p.expose().len() > record::MQTT_PASSWORD_MAX
    {
        return Err(ProvisionError::MqttLoginLength(
            "mqtt_password",
            p.expose().len(),
        ));
    }
    Ok(HubLogin {
        url: url.to_owned(),
        shown: hub.to_string(),
        user,
        password,
    })
}

/// The partition image for `settings`.
pub fn image(settings: &Settings<'_>) -> Result<Vec<u8>, ProvisionError> {
    let mut image = vec![0xFF; store::PARTITION_SIZE as usize];
    store::partition_image(settings, &mut image).map_err(|e| match e {
        RecordError::TooLong(record::TAG_REFRESH_TOKEN) => {
            ProvisionError::TokenTooLong(settings.refresh_token.len())
        }
        RecordError::TooLong(record::TAG_CLIENT_ID) => {
            ProvisionError::ClientIdLength(settings.client_id.len())
        }
        RecordError::TooLarge => ProvisionError::TrustRootsTooLarge(
            settings.roots.iter().flatten().map(|r| r.len()).sum(),
        ),
        // Not expected: the SSID and the password were checked, the buffer fits.
        other => ProvisionError::Record(other),
    })?;
    Ok(image)
}

/// Writes the image to `out` atomically and privately (see [`crate::atomic`]): over an
/// existing file with `replace`, else never (an `out` that appeared meanwhile is kept:
/// the error's kind is `AlreadyExists`).
pub fn write_image(out: &Path, bytes: &[u8], replace: bool) -> Result<(), WriteError> {
    let options = Options {
        mode: Mode::Private,
        create_dir: false,
        replace: if replace {
            Replace::Always
        } else {
            Replace::Never
        },
    };
    write_atomically(out, bytes, &options)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wifi(ssid: &str, password: &str) -> Wifi {
        Wifi {
            ssid: ssid.to_owned(),
            password: SecretString::new(password),
        }
    }

    #[test]
    fn wifi_rules() {
        assert!(check_wifi(&wifi("home", "")).is_ok(), "open network");
        assert!(check_wifi(&wifi("home", "8 chars!")).is_ok());
        assert!(check_wifi(&wifi(&"s".repeat(32), &"p".repeat(63))).is_ok());
        assert!(
            check_wifi(&wifi("Café ☕", &"a1".repeat(32))).is_ok(),
            "hex key"
        );
        let err = |s: &str, p: &str| check_wifi(&wifi(s, p)).unwrap_err().to_string();
        assert!(err("", "password").contains("0 bytes"));
        assert!(err(&"s".repeat(33), "password").contains("33 bytes"));
        assert!(err("home", "short").contains("shorter than 8"));
        assert!(err("home", &"p".repeat(64)).contains("longer than 63"));
        assert!(err("home", "pässword").contains("printable ASCII"));
        assert!(err("home", "tab\there!").contains("printable ASCII"));
    }

    #[test]
    fn hub_urls_and_logins() {
        use crate::config::MqttConfig;
        let login = MqttConfig {
            username: Some("board".to_owned()),
            password: Some(SecretString::new("mqtt-pw")),
            ..MqttConfig::default()
        };
        let ok = hub_login(" mqtt://192.0.2.1/desk ", &login).expect("valid");
        assert_eq!(ok.url, "mqtt://192.0.2.1/desk");
        assert_eq!(ok.shown, "mqtt://192.0.2.1:1883/desk");
        assert_eq!(ok.user.as_deref(), Some("board"));
        assert_eq!(
            ok.password.as_ref().map(SecretString::expose),
            Some("mqtt-pw")
        );
        let anonymous = hub_login("mqtt://broker:1999", &MqttConfig::default()).expect("valid");
        assert_eq!(anonymous.shown, "mqtt://broker:1999/tonearm");
        assert!(anonymous.user.is_none() && anonymous.password.is_none());
        let err = |url: &str, mqtt: &MqttConfig| {
            let e = hub_login(url, mqtt).expect_err("refused").to_string();
            assert_eq!(e.lines().count(), 1, "{e}");
            assert!(!e.contains("mqtt-pw"), "{e}");
            e
        };
        let with_login = err("mqtt://u:secret-in-url@broker/desk", &login);
        assert!(with_login.contains("mqtt_username"), "{with_login}");
        assert!(!with_login.contains("secret-in-url"), "{with_login}");
        assert!(err("mqtts://broker/desk", &login).contains("no TLS to a broker"));
        assert!(err("http://broker/desk", &login).contains("mqtt://HOST"));
        assert!(err("mqtt://broker/Desk", &login).contains("id"));
        assert!(err("mqtt://broker:0/desk", &login).contains("port"));
        let long = format!("mqtt://{}/desk", "h".repeat(130));
        assert!(err(&long, &login).contains("at most 128"));
        let long_user = MqttConfig {
            username: Some("u".repeat(65)),
            ..MqttConfig::default()
        };
        assert!(err("mqtt://broker/desk", &long_user).contains("mqtt_username is 65 bytes"));
        let long_pw = MqttConfig {
            password: Some(SecretString::new("p".repeat(65))),
            ..MqttConfig::default()
        };
        assert!(err("mqtt://broker/desk", &long_pw).contains("mqtt_password is 65 bytes"));
        assert!(
            ProvisionError::NotWithHub("--client-id")
                .to_string()
                .contains("leave --client-id out")
        );
    }

    #[test]
    fn image_holds_the_record_in_slot_0() {
        let settings = Settings {
            ssid: "home",
            password: "password",
            client_id: "0123456789abcdef0123456789abcdef",
            refresh_token: "AQB-refresh",
            authorized_at: Some(1_780_000_000),
            tz: Some("CET-1CEST,M3.5.0,M10.5.0/3"),
            night: Some("23:00-07:00"),
            daily_requests: Some(700),
            ..Settings::default()
        };
        let bytes = image(&settings).expect("fits");
        assert_eq!(bytes.len(), 8192);
        let slot = store::SLOT_SIZE as usize;
        assert_eq!(bytes[4], record::VERSION);
        assert_eq!(record::decode(&bytes[..slot]), Ok((1, settings)));
        assert!(bytes[slot..].iter().all(|&b| b == 0xFF));
        let long = "r".repeat(record::REFRESH_TOKEN_MAX + 1);
        let too_long = Settings {
            refresh_token: &long,
            ..settings
        };
        assert!(matches!(
            image(&too_long),
            Err(ProvisionError::TokenTooLong(513))
        ));
    }

    const G2: &[u8] = include_bytes!("../../firmware/kit/roots/digicert-global-root-g2.der");
    const G3: &[u8] = include_bytes!("../../firmware/kit/roots/digicert-global-root-g3.der");

    fn pem(der: &[u8]) -> String {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD.encode(der);
        let lines: Vec<&str> = b64
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).expect("ascii"))
            .collect();
        format!("{PEM_BEGIN}\n{}\n{PEM_END}\n", lines.join("\n"))
    }

    #[test]
    fn trust_roots_from_pem_and_der() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = |name: &str, bytes: &[u8]| {
            let p = dir.path().join(name);
            std::fs::write(&p, bytes).expect("write");
            p
        };
        let der = path("g2.der", G2);
        // PEM with text around it, as `openssl x509 -text` prints it; CRLF line ends.
        let text = format!("Certificate:\n    Data: ...\n{}", pem(G3)).replace('\n', "\r\n");
        let pem_file = path("g3.pem", text.as_bytes());
        let roots = read_trust_roots(&[der.clone(), pem_file.clone()]).expect("two roots");
        assert_eq!(roots[0].der, G2);
        assert_eq!(roots[1].der, G3);
        assert_eq!(
            roots[0].name,
            "\"DigiCert Global Root G2\" (SHA-256 cb:3c:cb:b7:60:31:e5:e0...)"
        );
        assert!(
            roots[1]
                .name
                .starts_with("\"DigiCert Global Root G3\" (SHA-256 31:ad:")
        );
        assert_eq!(read_trust_roots(&[]).expect("none"), []);

        let err = |paths: &[PathBuf]| {
            let e = read_trust_roots(paths).expect_err("refused").to_string();
            assert_eq!(e.lines().count(), 1, "{e}");
            e
        };
        assert!(err(&[der.clone(), der.clone(), der.clone()]).contains("given 3 times"));
        assert!(
            err(&[der.clone(), path("again.pem", pem(G2).as_bytes())])
                .contains("the same certificate as")
        );
        let bundle = path("bundle.pem", format!("{}{}", pem(G2), pem(G3)).as_bytes());
        assert!(err(&[bundle]).contains("holds 2 certificates"));
        assert!(
            err(&[path("key.pem", b"-----BEGIN PRIVATE KEY-----\nAAAA\n")])
                .contains("not an X.509")
        );
        assert!(
            err(&[path("cut.pem", &pem(G2).as_bytes()[..100])])
                .contains("no -----END CERTIFICATE-----")
        );
        assert!(
            err(&[path(
                "bad.pem",
                format!("{PEM_BEGIN}\n!!!\n{PEM_END}").as_bytes()
            )])
            .contains("not base64")
        );
        assert!(err(&[path("cut.der", &G2[..500])]).contains("not an X.509"));
        assert!(err(&[dir.path().join("missing.der")]).contains("cannot read it"));
        // Over 2 KiB: a certificate the board cannot keep.
        let mut big = vec![0x30, 0x82, 0x08, 0x01];
        big.extend(std::iter::repeat_n(0u8, 0x801));
        assert!(err(&[path("big.der", &big)]).contains("2053 bytes: longer than the 2048 bytes"));
    }

    #[test]
    fn trust_roots_go_into_the_image() {
        let settings = Settings {
            ssid: "home",
            refresh_token: "AQB-refresh",
            roots: [Some(G2), Some(G3)],
            ..Settings::default()
        };
        let bytes = image(&settings).expect("fits");
        let (_, read) = record::decode(&bytes[..store::SLOT_SIZE as usize]).expect("record");
        assert_eq!(read.roots, [Some(G2), Some(G3)]);
        let (a, b) = (vec![0x30; 2048], vec![0x30; 2048]);
        let too_large = Settings {
            roots: [Some(&a), Some(&b)],
            ..settings
        };
        assert!(matches!(
            image(&too_large),
            Err(ProvisionError::TrustRootsTooLarge(4096))
        ));
    }

    /// A TZif file: version `v`, an empty table, then `footer` (version 2 and later).
    fn tzif(v: u8, footer: Option<&str>) -> Vec<u8> {
        let mut block = b"TZif".to_vec();
        block.push(v);
        block.extend_from_slice(&[0; 15]);
        // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt; one type "UTC".
        for n in [0u32, 0, 0, 0, 1, 4] {
            block.extend_from_slice(&n.to_be_bytes());
        }
        block.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
        block.extend_from_slice(b"UTC\0");
        let mut file = block.clone();
        if v != 0 {
            file.extend_from_slice(&block);
            file.push(b'\n');
            file.extend_from_slice(footer.unwrap_or_default().as_bytes());
            file.push(b'\n');
        }
        file
    }

    #[test]
    fn tzif_footers() {
        let cet = "CET-1CEST,M3.5.0,M10.5.0/3";
        assert_eq!(tzif_rule(&tzif(b'2', Some(cet))), Some(cet));
        assert_eq!(
            tzif_rule(&tzif(b'3', Some("<+0530>-5:30"))),
            Some("<+0530>-5:30")
        );
        assert_eq!(tzif_rule(&tzif(b'2', Some(""))), None, "an empty footer");
        assert_eq!(tzif_rule(&tzif(0, None)), None, "version 1 has no footer");
        let mut cut = tzif(b'2', Some(cet));
        cut.pop();
        assert_eq!(tzif_rule(&cut), None, "no final newline");
        assert_eq!(tzif_rule(b"not a zone file\nUTC0\n"), None);
        assert_eq!(tzif_rule(b""), None);
        // This machine's own, when it has one: whatever it is, the board can read it.
        if let Some(rule) = std::fs::read(LOCALTIME).ok().as_deref().and_then(tzif_rule) {
            assert!(PosixTz::parse(rule).is_ok(), "{rule}");
        }
    }

    #[test]
    fn board_options_are_checked() {
        let ok = board_options(
            Some(" CET-1CEST,M3.5.0,M10.5.0/3 "),
            Some("2500"),
            Some("23:30-06:15"),
        )
        .expect("valid");
        assert_eq!(ok.tz.rule.as_deref(), Some("CET-1CEST,M3.5.0,M10.5.0/3"));
        assert_eq!(ok.tz.from, None);
        assert_eq!(ok.tz.note(), None, "--tz needs no note");
        assert_eq!(ok.daily_requests, Some(2500));
        assert_eq!(
            ok.night.map(|n| n.to_string()).as_deref(),
            Some("23:30-06:15")
        );
        assert_eq!(
            ok.summary(),
            ", time zone CET-1CEST,M3.5.0,M10.5.0/3, 2500 requests a day, night 23:30-06:15"
        );
        for daily in ["0", "100", "100000"] {
            assert!(board_options(Some("UTC0"), Some(daily), None).is_ok());
        }
        let err = |tz, daily, night| {
            let e = board_options(tz, daily, night).expect_err("refused");
            let text = e.to_string();
            assert_eq!(text.lines().count(), 1, "{text}");
            text
        };
        assert!(err(Some("Europe/Paris"), None, None).contains("not a POSIX TZ rule"));
        assert!(err(Some(""), None, None).contains("not a POSIX TZ rule"));
        let long = format!("<{}>-1", "A".repeat(70));
        assert!(err(Some(&long), None, None).contains("at most 64"));
        for daily in ["99", "100001", "-1", "700.0", "lots", ""] {
            assert!(
                err(Some("UTC0"), Some(daily), None).contains("must be 0 (no budget)"),
                "{daily}"
            );
        }
        assert!(err(Some("UTC0"), None, Some("7-23")).contains("HH:MM-HH:MM"));
        assert!(err(Some("UTC0"), None, Some("07:00-07:00")).contains("the same"));
        // The host's zone: the note says where it came from, or that there is none.
        let host = BoardTz {
            rule: Some("UTC0".to_owned()),
            from: Some(LOCALTIME.to_owned()),
        };
        assert!(
            host.note()
                .expect("a note")
                .contains("UTC0 (from /etc/localtime")
        );
        let none = BoardTz {
            rule: None,
            from: Some(LOCALTIME.to_owned()),
        };
        let note = none.note().expect("a note");
        assert!(note.contains("the board will show UTC"), "{note}");
        assert_eq!(note.lines().count(), 1);
    }

    #[test]
    fn out_checks_and_writes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("board.bin");
        assert!(check_out(&out, false).is_ok());
        std::fs::write(&out, b"old").expect("write");
        assert!(matches!(
            check_out(&out, false),
            Err(ProvisionError::Exists(_))
        ));
        assert!(check_out(&out, true).is_ok());
        assert!(matches!(
            check_out(&dir.path().join("nope/board.bin"), true),
            Err(ProvisionError::NoDirectory(_))
        ));
        assert!(matches!(
            check_out(dir.path(), true),
            Err(ProvisionError::IsDirectory(_))
        ));
        // Without replace, an output that appeared meanwhile is kept.
        let err = write_image(&out, &[1, 2, 3], false).expect_err("exists");
        assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&out).expect("read"), b"old");
        write_image(&out, &[1, 2, 3], true).expect("write");
        assert_eq!(std::fs::read(&out).expect("read"), [1, 2, 3]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&out).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(
            std::fs::read_dir(dir.path()).expect("dir").count(),
            1,
            "no temporary file left"
        );
    }
}
