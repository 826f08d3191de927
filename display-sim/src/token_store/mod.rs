//! `token.json` beside the config file: the tokens that survive a restart.
//!
//! It holds the refresh token, the access token with its wall-clock expiry (epoch
//! seconds, so it stays meaningful across restarts), the auth mode the tokens were issued
//! under (`pkce` or `secret`, so a refresh uses the same one) and when the user first
//! authorized (for a warning before Spotify's 6-month limit).
//!
//! **Writes are atomic** ([`crate::atomic`]): the new content goes to a temporary file in
//! the same directory (created fresh with mode 0600), is fsynced, renamed over `token.json`,
//! and the directory is fsynced. A crash or kill at any moment leaves either the old file or the new one, never a
//! mix, so a working token is never lost. **A corrupt file is never overwritten silently**:
//! [`TokenStore::load`] reports it, [`TokenStore::save`] refuses to replace it, and only
//! [`TokenStore::set_aside_corrupt`] (an explicit step, e.g. before a new login) moves it away.
//!
//! Secrets never show in `Debug` output or error messages (parse errors give a line and
//! column, never the text).
//!
//! At start, [`starting_token`] applies the precedence: the token file, then
//! `SPOTIFY_REFRESH_TOKEN`, then the config file's `refresh_token`.

use std::fmt;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::atomic::{Options, WriteError, write_atomically};
use crate::config::{Config, Origin, SecretString};

pub mod quota;

pub use quota::{QuotaStore, QuotaStoreError};

/// The token file's format version.
const VERSION: u32 = 1;

/// Largest token file read (a real one is under 2 KB).
const MAX_FILE: u64 = 64 * 1024;

/// How the tokens were obtained, and so how they are refreshed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthMode {
    /// Authorization code with PKCE: refreshes send `client_id`, no secret.
    Pkce,
    /// Authorization code with the client secret: refreshes use Basic auth.
    Secret,
}

/// What the token file holds.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredToken {
    /// The refresh token.
    pub refresh_token: SecretString,
    /// The last access token, if any.
    pub access_token: Option<SecretString>,
    /// When the access token expires, in seconds since the Unix epoch.
    pub access_expires_at: Option<u64>,
    /// How the tokens were obtained.
    pub auth_mode: AuthMode,
    /// When the user first authorized, in seconds since the Unix epoch, if known.
    pub authorized_at: Option<u64>,
}

impl fmt::Debug for StoredToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredToken")
            .field("refresh_token", &self.refresh_token)
            .field("access_token", &self.access_token)
            .field("access_expires_at", &self.access_expires_at)
            .field("auth_mode", &self.auth_mode)
            .field("authorized_at", &self.authorized_at)
            .finish()
    }
}

impl StoredToken {
    /// How long the stored access token is still valid at `now` (epoch seconds); `None`
    /// when there is none or it has expired.
    pub fn access_remaining(&self, now_epoch_s: u64) -> Option<Duration> {
        self.access_token.as_ref()?;
        let left = self.access_expires_at?.checked_sub(now_epoch_s)?;
        (left > 0).then(|| Duration::from_secs(left))
    }
}

/// The file as stored.
#[derive(Serialize, Deserialize)]
struct FileV1 {
    version: u32,
    refresh_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    access_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    access_expires_at: Option<u64>,
    auth_mode: AuthMode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    authorized_at: Option<u64>,
}

/// Why the token file cannot be read or written. Messages name the file, never a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenStoreError {
    /// An I/O error.
    #[error("{}: cannot {op}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What was being done (`read`, `write`, `rename`, ...).
        op: &'static str,
        /// The error.
        source: std::io::Error,
    },
    /// The file exists but is not a valid token file. Delete it (or move it away) and log in
    /// again; it is never overwritten without that step.
    #[error(
        "{}: not a valid token file ({detail}); move it away or delete it, then log in again",
        path.display()
    )]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong (position and category only).
        detail: String,
    },
    /// A save would replace a corrupt token file. Call [`TokenStore::set_aside_corrupt`] first.
    #[error("{}: refusing to overwrite a corrupt token file; move it away first", path.display())]
    WouldOverwriteCorrupt {
        /// The file.
        path: PathBuf,
    },
    /// The tokens were issued with a client secret, and none is configured now.
    #[error(
        "{}: the tokens were issued with a client secret, but none is configured: set client_secret (or SPOTIFY_CLIENT_SECRET), or log in again",
        path.display()
    )]
    SecretMissing {
        /// The file.
        path: PathBuf,
    },
}

/// Seconds since the Unix epoch, now (0 if the clock is before 1970).
pub fn now_epoch_s() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The token file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenStore {
    path: PathBuf,
}

impl TokenStore {
    /// The store at `path` (usually [`Config::token_path`]).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        TokenStore { path: path.into() }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    #[cfg(test)]
    fn temp_path(&self) -> PathBuf {
        crate::atomic::temp_path_of(&self.path)
    }

    fn io(&self, op: &'static str) -> impl FnOnce(std::io::Error) -> TokenStoreError + '_ {
        move |source| TokenStoreError::Io {
            path: self.path.clone(),
            op,
            source,
        }
    }

    /// Reads the file: `Ok(None)` when there is none, an error when it is unreadable or
    /// corrupt.
    pub fn load(&self) -> Result<Option<StoredToken>, TokenStoreError> {
        let raw: FileV1 = match read_json_file(&self.path, MAX_FILE) {
            JsonFile::Missing => return Ok(None),
            JsonFile::Io(e) => return Err(self.io("read")(e)),
            JsonFile::Corrupt(detail) => return Err(self.corrupt(detail)),
            JsonFile::Value(v) => v,
        };
        if raw.version != VERSION {
            return Err(self.corrupt(format!("unknown version {}", raw.version)));
        }
        let token = |s: String, field: &str| {
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_graphic()) {
                Err(self.corrupt(format!("{field} is empty or holds invalid characters")))
            } else {
                Ok(SecretString::new(s))
            }
        };
        Ok(Some(StoredToken {
            refresh_token: token(raw.refresh_token, "refresh_token")?,
            access_token: raw
                .access_token
                .map(|s| token(s, "access_token"))
                .transpose()?,
            access_expires_at: raw.access_expires_at,
            auth_mode: raw.auth_mode,
            authorized_at: raw.authorized_at,
        }))
    }

    fn corrupt(&self, detail: String) -> TokenStoreError {
        TokenStoreError::Corrupt {
            path: self.path.clone(),
            detail,
        }
    }

    /// Writes `token` atomically (see the module docs). Refuses to replace a corrupt file.
    pub fn save(&self, token: &StoredToken) -> Result<(), TokenStoreError> {
        match self.load() {
            Ok(_) => {}
            Err(TokenStoreError::Corrupt { .. }) => {
                return Err(TokenStoreError::WouldOverwriteCorrupt {
                    path: self.path.clone(),
                });
            }
            Err(e) => return Err(e),
        }
        let file = FileV1 {
            version: VERSION,
            refresh_token: token.refresh_token.expose().to_owned(),
            access_token: token.access_token.as_ref().map(|t| t.expose().to_owned()),
            access_expires_at: token.access_expires_at,
            auth_mode: token.auth_mode,
            authorized_at: token.authorized_at,
        };
        write_json_file(&self.path, &file, true).map_err(|e| TokenStoreError::Io {
            path: e.path,
            op: e.op,
            source: e.source,
        })
    }

    /// Moves a token file (corrupt or not) to `token.json.corrupt-<epoch seconds>` and
    /// returns the new path; `Ok(None)` when there is no file.
    pub fn set_aside_corrupt(&self) -> Result<Option<PathBuf>, TokenStoreError> {
        set_aside(&self.path).map_err(self.io("move aside"))
    }
}

/// What reading one of the small JSON files beside the config gave.
pub(crate) enum JsonFile<T> {
    /// No such file.
    Missing,
    /// It could not be read.
    Io(std::io::Error),
    /// It is not what was written: why, in a few words (position and category only:
    /// serde_json's message may quote the content, a secret among it).
    Corrupt(String),
    /// The value.
    Value(T),
}

/// Reads a JSON file of at most `max` bytes into `T` (the token and quota files).
pub(crate) fn read_json_file<T: serde::de::DeserializeOwned>(path: &Path, max: u64) -> JsonFile<T> {
    use std::io::Read as _;
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return JsonFile::Missing,
        Err(e) => return JsonFile::Io(e),
    };
    let mut bytes = Vec::new();
    if let Err(e) = file.take(max + 1).read_to_end(&mut bytes) {
        return JsonFile::Io(e);
    }
    if bytes.len() as u64 > max {
        return JsonFile::Corrupt(format!("larger than {} KiB", max / 1024));
    }
    match serde_json::from_slice(&bytes) {
        Ok(v) => JsonFile::Value(v),
        Err(e) => {
            let what = match e.classify() {
                serde_json::error::Category::Io => "unreadable",
                serde_json::error::Category::Syntax => "not valid JSON",
                serde_json::error::Category::Data => "a field is missing or out of range",
                serde_json::error::Category::Eof => "it ends too early",
            };
            JsonFile::Corrupt(format!("line {} column {}: {what}", e.line(), e.column()))
        }
    }
}

/// Moves the file at `path` to `<name>.corrupt-<epoch seconds>` beside it and returns the
/// new path; `Ok(None)` when there is no file.
pub(crate) fn set_aside(path: &Path) -> std::io::Result<Option<PathBuf>> {
    if !path.exists() {
        return Ok(None);
    }
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_else(|| "state.json".into());
    name.push(format!(".corrupt-{}", now_epoch_s()));
    let aside = path.with_file_name(name);
    fs::rename(path, &aside)?;
    Ok(Some(aside))
}

/// Writes `value` as JSON (pretty or compact), with a final newline, atomically into a
/// private file (see [`crate::atomic`]).
pub(crate) fn write_json_file<T: Serialize>(
    path: &Path,
    value: &T,
    pretty: bool,
) -> Result<(), WriteError> {
    let encoded = if pretty {
        serde_json::to_vec_pretty(value)
    } else {
        serde_json::to_vec(value)
    };
    let mut bytes = encoded.map_err(|e| WriteError {
        path: path.to_path_buf(),
        op: "encode",
        source: std::io::Error::other(e.to_string()),
    })?;
    bytes.push(b'\n');
    write_atomically(path, &bytes, &Options::private_state())
}

/// Where the refresh token used at start came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenSource {
    /// `token.json`.
    TokenFile,
    /// `SPOTIFY_REFRESH_TOKEN`.
    Env,
    /// The config file's `refresh_token`.
    ConfigFile,
}

/// The token to start with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StartingToken {
    /// The tokens.
    pub token: StoredToken,
    /// Where the refresh token came from.
    pub source: TokenSource,
}

impl StartingToken {
    /// `true` when the token came from the environment or the config and should be written
    /// to the (empty) token store now ("seeds the store").
    pub fn needs_seeding(&self) -> bool {
        self.source != TokenSource::TokenFile
    }
}

/// The token to start with: the token file's, else the environment's, else the config
/// file's (the last two are in `config.refresh_token`, the environment already preferred).
/// `Ok(None)`: no token anywhere, a login is needed. A seeded token gets the auth mode the
/// config implies (a client secret: `secret`; none: `pkce`).
pub fn starting_token(
    stored: Option<StoredToken>,
    config: &Config,
    store_path: &Path,
) -> Result<Option<StartingToken>, TokenStoreError> {
    if let Some(token) = stored {
        if token.auth_mode == AuthMode::Secret && config.client_secret.is_none() {
            return Err(TokenStoreError::SecretMissing {
                path: store_path.to_path_buf(),
            });
        }
        return Ok(Some(StartingToken {
            token,
            source: TokenSource::TokenFile,
        }));
    }
    Ok(config
        .refresh_token
        .as_ref()
        .map(|(refresh, origin)| StartingToken {
            token: StoredToken {
                refresh_token: refresh.clone(),
                access_token: None,
                access_expires_at: None,
                auth_mode: if config.client_secret.is_some() {
                    AuthMode::Secret
                } else {
                    AuthMode::Pkce
                },
                authorized_at: None,
            },
            source: match origin {
                Origin::Env => TokenSource::Env,
                Origin::File => TokenSource::ConfigFile,
            },
        }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::{Command, Stdio};
    use std::time::Instant;

    fn token(n: u64) -> StoredToken {
        StoredToken {
            // Long, like real ones, so a write takes more than one syscall's worth of time.
            refresh_token: SecretString::new(format!("refresh-{n}-{}", "R".repeat(600))),
            access_token: Some(SecretString::new(format!("access-{n}-{}", "A".repeat(600)))),
            access_expires_at: Some(1_800_000_000 + n),
            auth_mode: AuthMode::Pkce,
            authorized_at: Some(1_700_000_000),
        }
    }

    fn config(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Config {
        Config::parse(text, Path::new("/x/config.toml"), env).expect("config")
    }

    #[test]
    fn save_then_load_round_trips_with_mode_0600() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = TokenStore::new(dir.path().join("sub/token.json"));
        assert_eq!(store.load().expect("empty"), None);
        let t = token(1);
        store.save(&t).expect("save");
        assert_eq!(store.load().expect("load"), Some(t.clone()));
        let mut t2 = token(2);
        t2.access_token = None;
        t2.access_expires_at = None;
        t2.authorized_at = None;
        t2.auth_mode = AuthMode::Secret;
        store.save(&t2).expect("save again");
        assert_eq!(store.load().expect("load"), Some(t2));
        let text = fs::read_to_string(store.path()).expect("read");
        assert!(text.contains("\"auth_mode\": \"secret\""), "{text}");
        assert!(!store.temp_path().exists());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = |p: &Path| fs::metadata(p).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode(store.path()), 0o600);
            assert_eq!(mode(&dir.path().join("sub")), 0o700);
        }
    }

    #[test]
    fn a_leftover_temp_file_does_not_matter() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = TokenStore::new(dir.path().join("token.json"));
        fs::write(store.temp_path(), "half a toke").expect("leftover");
        assert_eq!(store.load().expect("load"), None);
        store.save(&token(3)).expect("save");
        assert_eq!(store.load().expect("load"), Some(token(3)));
        assert!(!store.temp_path().exists());
    }

    #[test]
    fn access_expiry_is_wall_clock() {
        let t = token(0);
        let at = t.access_expires_at.expect("expiry");
        assert_eq!(t.access_remaining(at - 100), Some(Duration::from_secs(100)));
        assert_eq!(t.access_remaining(at), None);
        assert_eq!(t.access_remaining(at + 1), None);
        let mut none = t.clone();
        none.access_token = None;
        assert_eq!(none.access_remaining(0), None);
        assert!(now_epoch_s() > 1_600_000_000);
    }

    #[test]
    fn corrupt_files_are_reported_and_never_overwritten_silently() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = TokenStore::new(dir.path().join("token.json"));
        let secret = "AQD-SECRET-REFRESH";
        let cases = [
            format!("{{\"version\":1,\"refresh_token\":\"{secret}\""),
            format!("{{\"version\":1,\"refresh_token\":\"{secret}\",\"auth_mode\":\"magic\"}}"),
            format!("{{\"version\":1,\"refresh_token\":\"{secret}\"}}"),
            format!("{{\"version\":2,\"refresh_token\":\"{secret}\",\"auth_mode\":\"pkce\"}}"),
            format!("{{\"version\":1,\"refresh_token\":\"{secret} x\",\"auth_mode\":\"pkce\"}}"),
            "{\"version\":1,\"refresh_token\":\"\",\"auth_mode\":\"pkce\"}".to_owned(),
            format!("{{\"version\":1,\"refresh_token\":7,\"auth_mode\":\"{secret}\"}}"),
            String::new(),
            "\u{0}\u{1}binary".to_owned(),
            " ".repeat(70 * 1024),
        ];
        for content in &cases {
            fs::write(store.path(), content).expect("write");
            let err = store.load().expect_err(content);
            let shown = format!("{err} {err:?}");
            assert!(matches!(err, TokenStoreError::Corrupt { .. }), "{shown}");
            assert!(shown.contains("token.json"), "{shown}");
            assert!(!shown.contains("SECRET"), "{shown}");
            let refused = store.save(&token(9)).expect_err("must refuse");
            assert!(matches!(
                refused,
                TokenStoreError::WouldOverwriteCorrupt { .. }
            ));
            assert_eq!(fs::read_to_string(store.path()).expect("read"), *content);
        }
        let aside = store.set_aside_corrupt().expect("aside").expect("a file");
        assert!(aside.exists() && !store.path().exists());
        store.save(&token(9)).expect("save after setting aside");
        assert_eq!(store.load().expect("load"), Some(token(9)));
    }

    #[test]
    fn secrets_stay_out_of_debug() {
        let shown = format!("{:?}", token(5));
        assert!(
            !shown.contains("refresh-5") && !shown.contains("access-5"),
            "{shown}"
        );
        assert!(
            shown.contains("Pkce") && shown.contains("1800000005"),
            "{shown}"
        );
    }

    #[test]
    fn precedence_file_then_env_then_config() {
        let path = Path::new("/x/token.json");
        let env = |name: &str| (name == "SPOTIFY_REFRESH_TOKEN").then(|| "from-env".to_owned());
        let none = |_: &str| None;
        let with_token = "client_id = \"c\"\nrefresh_token = \"from-config\"\n";
        // The file wins over both.
        let start = starting_token(Some(token(1)), &config(with_token, &env), path)
            .expect("ok")
            .expect("some");
        assert_eq!(start.source, TokenSource::TokenFile);
        assert!(!start.needs_seeding());
        assert_eq!(start.token, token(1));
        // No file: the environment beats the config file.
        let start = starting_token(None, &config(with_token, &env), path)
            .expect("ok")
            .expect("some");
        assert_eq!(start.source, TokenSource::Env);
        assert_eq!(start.token.refresh_token.expose(), "from-env");
        assert_eq!(start.token.auth_mode, AuthMode::Pkce);
        assert!(start.needs_seeding());
        // Then the config file; a secret makes the mode `secret`.
        let with_secret = format!("{with_token}client_secret = \"s\"\n");
        let start = starting_token(None, &config(&with_secret, &none), path)
            .expect("ok")
            .expect("some");
        assert_eq!(start.source, TokenSource::ConfigFile);
        assert_eq!(start.token.refresh_token.expose(), "from-config");
        assert_eq!(start.token.auth_mode, AuthMode::Secret);
        // Nothing anywhere: a login is needed.
        let bare = config("client_id = \"c\"\n", &none);
        assert_eq!(starting_token(None, &bare, path).expect("ok"), None);
        // Tokens made with a secret cannot be refreshed without one.
        let mut secret_token = token(2);
        secret_token.auth_mode = AuthMode::Secret;
        let err = starting_token(Some(secret_token), &bare, path).expect_err("mismatch");
        assert!(err.to_string().contains("client_secret"), "{err}");
    }

    const CHILD_ENV: &str = "TONEARM_TOKEN_STORE_CHILD_DIR";

    /// Not a test on its own: the child process of the kill test. It saves tokens with a
    /// rising counter as fast as it can until it is killed (or 30 s pass).
    #[test]
    #[ignore = "run only as the child of kill_at_any_moment_never_breaks_the_file"]
    fn child_writer_loop() {
        let Some(dir) = std::env::var_os(CHILD_ENV) else {
            return;
        };
        let store = TokenStore::new(PathBuf::from(dir).join("token.json"));
        let start = Instant::now();
        // Go on from the token there, so the parent sees progress at the first write.
        let mut n = store
            .load()
            .expect("load")
            .and_then(|t| t.access_expires_at)
            .map_or(1, |e| e - 1_800_000_000 + 1);
        while start.elapsed() < Duration::from_secs(30) {
            store.save(&token(n)).expect("save");
            n += 1;
        }
    }

    #[test]
    fn kill_at_any_moment_never_breaks_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = TokenStore::new(dir.path().join("token.json"));
        store.save(&token(0)).expect("first save");
        let exe = std::env::current_exe().expect("test binary");
        let mut last_seen = 0;
        let mut advanced = 0;
        for round in 0..12u64 {
            let mut child = Command::new(&exe)
                .args([
                    "--exact",
                    "token_store::tests::child_writer_loop",
                    "--ignored",
                    "--test-threads=1",
                ])
                .env(CHILD_ENV, dir.path())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn the writer");
            // Wait until this child has written at least once, then kill it a little later,
            // at a different moment each round.
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                let current = store.load().expect("readable while writing");
                let n = current
                    .and_then(|t| t.access_expires_at)
                    .map_or(0, |e| e - 1_800_000_000);
                if n > last_seen || Instant::now() > deadline {
                    break;
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            std::thread::sleep(Duration::from_micros(300 * round + 50));
            child.kill().expect("kill");
            let _ = child.wait();
            let loaded = store
                .load()
                .expect("never corrupt after a kill")
                .expect("never missing after a kill");
            let n = loaded.access_expires_at.expect("expiry") - 1_800_000_000;
            assert_eq!(loaded, token(n), "a whole token from one write");
            if n > last_seen {
                advanced += 1;
            }
            last_seen = n;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt as _;
                let meta = fs::metadata(store.path()).expect("meta");
                assert_eq!(meta.permissions().mode() & 0o777, 0o600);
            }
            // The next writer starts where this one left off (a leftover temp is fine).
            store.save(&token(n)).expect("save after the kill");
        }
        // The writers really ran (the test would prove nothing otherwise).
        assert!(advanced >= 10, "writers advanced in only {advanced} rounds");
    }
}
