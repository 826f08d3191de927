//! Logging in to Spotify: the Authorization Code flow with PKCE (S256), as Spotify
//! documents it for apps that cannot keep a secret (`tonearm login`, and the board's own
//! login in `tonearm provision`):
//!
//! 1. a one-shot listener on `127.0.0.1:PORT` (loopback only) for the redirect
//!    `http://127.0.0.1:PORT/callback`, bound first so a busy port fails at once
//!    ([`callback`]);
//! 2. a code verifier and a `state` from the OS's CSPRNG; the authorize URL (with the
//!    verifier's S256 challenge) printed on stdout and opened in a browser if one is there
//!    ([`pkce`], [`browser`]);
//! 3. the redirect: its `state` checked first (a wrong one ends the login and nothing is
//!    exchanged), then `error=` or `code=`;
//! 4. the code exchanged at `{accounts_base}/api/token` (with `client_id` and the verifier;
//!    with a client secret, Basic auth as well), read with tonearm-core's parsers
//!    ([`exchange`]); the caller keeps the tokens ([`store_login`] for the desktop); the
//!    browser gets a small page saying how it went ([`pages`]).
//!
//! The code, the verifier and the tokens are never printed or logged; the URL holds only
//! the public challenge and the one-time `state`.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::config::{self, Config, ConfigError, SecretString};
use crate::token_store::{AuthMode, StoredToken, TokenStore, TokenStoreError, now_epoch_s};

pub mod browser;
pub mod callback;
pub mod exchange;
pub mod pages;
pub mod pkce;

pub use exchange::Tokens;
use pkce::Pkce;

/// The scopes Tonearm asks for: read what plays, the controls (play/pause, next,
/// previous, volume), and the library (is the track liked; like and unlike it).
pub const SCOPES: &str = "user-read-currently-playing user-read-playback-state \
     user-modify-playback-state user-library-read user-library-modify";

/// Why a login failed. Each message is one line, says what to do, and holds no secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoginError {
    /// No client id on the command line, in the environment or in the config.
    #[error(
        "no client id: pass --client-id YOUR_APP_ID (from your app in the Spotify developer dashboard; it is saved to {} for next time) or set SPOTIFY_CLIENT_ID",
        path.display()
    )]
    NoClientId {
        /// The config file.
        path: PathBuf,
    },
    /// `--client-id` is empty or holds spaces.
    #[error(
        "--client-id: not a client id (empty, or holds spaces): copy it from your app in the Spotify developer dashboard"
    )]
    BadClientId,
    /// `--port 0`.
    #[error(
        "--port 0: give the port of the redirect URI registered in your Spotify app (default 8888)"
    )]
    PortZero,
    /// The port is taken.
    #[error(
        "port {port} on 127.0.0.1 is already in use (another tonearm login?): stop what uses it, or pick another port with --port N and register http://127.0.0.1:N/callback in your Spotify app (the redirect URI must match the registered one exactly)"
    )]
    PortInUse {
        /// The port.
        port: u16,
    },
    /// Another error while binding the port (e.g. a privileged port).
    #[error(
        "cannot listen on 127.0.0.1:{port}: {source}; pick another port with --port N (and register http://127.0.0.1:N/callback in your Spotify app)"
    )]
    Listen {
        /// The port.
        port: u16,
        /// Why.
        source: std::io::Error,
    },
    /// The operating system's random numbers are unavailable.
    #[error("no secure random numbers from the operating system: {0}")]
    Random(String),
    /// No redirect arrived in time.
    #[error(
        "no answer from the browser within {}: run tonearm login again (and approve Tonearm in the browser)",
        Minutes(*.0)
    )]
    Timeout(Duration),
    /// Ctrl-C.
    #[error("login interrupted: nothing was stored")]
    Interrupted,
    /// The user pressed Cancel on Spotify's page.
    #[error(
        "you declined Tonearm's access in Spotify (access_denied): nothing was stored; run tonearm login again to approve it"
    )]
    AccessDenied,
    /// The redirect's `state` is not the one this login sent.
    #[error(
        "the redirect to the callback came back with a wrong state (an old browser tab, or a forged request): nothing was exchanged or stored; run tonearm login again"
    )]
    StateMismatch,
    /// The authorize step failed with another `error=` value.
    #[error(
        "Spotify refused the authorization ({error}): check the client id and the registered redirect URI, then run tonearm login again"
    )]
    Authorize {
        /// The `error` parameter (only `[a-z0-9_]`, at most 64 characters, else `unknown`).
        error: String,
    },
    /// The redirect holds neither a code nor an error.
    #[error("the redirect to the callback holds no authorization code: run tonearm login again")]
    NoCode,
    /// The token endpoint refused the client.
    #[error(
        "Spotify refused the client (invalid_client): check the client id{} against your app in the Spotify developer dashboard, then run tonearm login again",
        if *.with_secret { " and client_secret" } else { "" }
    )]
    InvalidClient {
        /// Whether a client secret was sent.
        with_secret: bool,
    },
    /// The token endpoint refused the code.
    #[error(
        "Spotify refused the authorization code (invalid_grant: it expired, was already used, or the redirect URI does not match): run tonearm login again and finish within 10 minutes"
    )]
    InvalidGrant,
    /// Another answer from the token endpoint.
    #[error("the token endpoint answered {status}{}: try again later", match error { Some(e) => format!(" ({e})"), None => String::new() })]
    TokenEndpoint {
        /// The status.
        status: u16,
        /// The `error` field, if any (sanitized like [`LoginError::Authorize`]'s).
        error: Option<String>,
    },
    /// A 200 from the token endpoint without what a login needs.
    #[error("the token endpoint's answer is not usable ({0}): try again")]
    BadTokenResponse(&'static str),
    /// The accounts service cannot be reached.
    #[error("cannot exchange the code at {url}: {source}")]
    Transport {
        /// The token endpoint.
        url: String,
        /// Why.
        source: crate::transport::TransportError,
    },
    /// No client id, for a command that does not save one (`provision`).
    #[error(
        "no client id: pass --client-id YOUR_APP_ID (from your app in the Spotify developer dashboard), set SPOTIFY_CLIENT_ID, or put client_id in {}",
        path.display()
    )]
    NoClientIdUnsaved {
        /// The config file.
        path: PathBuf,
    },
    /// The config file cannot be read or is not valid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The token file cannot be read, or a corrupt one cannot be moved aside.
    #[error(transparent)]
    Store(#[from] TokenStoreError),
    /// The new token could not be saved (the cause follows as the error's source).
    #[error("cannot save the token to {}", path.display())]
    SaveToken {
        /// The token file.
        path: PathBuf,
        /// Why.
        source: TokenStoreError,
    },
}

/// `5 minutes`, `90 seconds`.
struct Minutes(Duration);

impl fmt::Display for Minutes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0.as_secs();
        if s >= 60 && s.is_multiple_of(60) {
            let m = s / 60;
            write!(f, "{m} minute{}", if m == 1 { "" } else { "s" })
        } else {
            write!(
                f,
                "{:.0} second{}",
                self.0.as_secs_f64(),
                if s == 1 { "" } else { "s" }
            )
        }
    }
}

/// Percent-encodes a query or form component: everything but RFC 3986's unreserved set.
pub fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// One browser login: what `login` and `provision` share.
#[derive(Debug)]
pub struct Flow<'a> {
    /// The client id and the accounts service (and the secret, with `use_secret`).
    pub config: &'a Config,
    /// The loopback port of the redirect URI.
    pub port: u16,
    /// Print the URL instead of opening a browser.
    pub no_browser: bool,
    /// How long to wait for the browser.
    pub timeout: Duration,
    /// Send the configured client secret (Basic auth) with the code. `provision` never
    /// does: a board refreshes with PKCE, without a secret.
    pub use_secret: bool,
    /// The command to run again after a failure (`tonearm login`, `tonearm provision`):
    /// the messages name it.
    pub command: &'static str,
}

/// A login error as the command that ran the flow tells it (the messages say "run
/// tonearm login again"; `provision` says its own name). For `login` its causes are the
/// error's own; a retold message stands alone.
#[derive(Debug)]
pub struct FlowError {
    /// The error.
    pub error: LoginError,
    /// The command ([`Flow::command`]).
    pub command: &'static str,
}

impl FlowError {
    fn is_login(&self) -> bool {
        self.command == "tonearm login"
    }
}

impl fmt::Display for FlowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_login() {
            self.error.fmt(f)
        } else {
            let text = self.error.to_string();
            f.write_str(&text.replace("tonearm login", self.command))
        }
    }
}

impl std::error::Error for FlowError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        if self.is_login() {
            self.error.source()
        } else {
            None
        }
    }
}

/// The browser step and the code exchange: the listener, the authorize URL (printed, and
/// opened in a browser unless `no_browser`), the redirect, the state check, the exchange;
/// then `keep` keeps the tokens. The browser gets a page saying how it all went (a
/// failure of `keep` included, as `{:#}` shows it); the result is `keep`'s.
pub fn browser_login<T, E>(
    flow: &Flow<'_>,
    keep: impl FnOnce(Tokens) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<FlowError> + fmt::Display,
{
    let told = |error| {
        E::from(FlowError {
            error,
            command: flow.command,
        })
    };
    let config = flow.config;
    let listener = callback::bind(flow.port).map_err(told)?;
    let redirect_uri = format!("http://127.0.0.1:{}/callback", flow.port);
    let pkce = Pkce::new().map_err(told)?;
    let url = pkce::authorize_url(
        &config.accounts_base,
        &config.client_id,
        &redirect_uri,
        &pkce,
    );
    log::info!("listening on 127.0.0.1:{} for the redirect", flow.port);

    let wait = format!(
        "tonearm: waiting for Spotify to redirect to {redirect_uri} (up to {}; Ctrl-C to give up)",
        Minutes(flow.timeout)
    );
    if flow.no_browser {
        eprintln!("tonearm: open this URL in a browser and approve Tonearm:");
        println!("{url}");
    } else {
        eprintln!(
            "tonearm: log in to Spotify and approve Tonearm in your browser; this URL does it:"
        );
        println!("{url}");
        if browser::open_browser(&url) {
            eprintln!("tonearm: opened your browser (if nothing shows, open the URL above)");
        } else {
            eprintln!("tonearm: no browser found: open the URL above yourself");
        }
    }
    eprintln!("{wait}");

    let (stream, params) = callback::wait_for_callback(&listener, flow.timeout).map_err(told)?;
    drop(listener);
    let secret = if flow.use_secret {
        config.client_secret.as_ref()
    } else {
        None
    };
    let outcome = redeem(config, secret, &redirect_uri, &pkce, &params)
        .map_err(told)
        .and_then(keep);
    match &outcome {
        Ok(_) => callback::respond(stream, 200, &pages::success_page()),
        Err(e) => callback::respond(stream, 400, &pages::failure_page(&format!("{e:#}"))),
    }
    outcome
}

/// Checks the redirect and exchanges its code (with Basic auth when `secret` is given).
fn redeem(
    config: &Config,
    secret: Option<&SecretString>,
    redirect_uri: &str,
    pkce: &Pkce,
    params: &callback::Callback,
) -> Result<Tokens, LoginError> {
    // The state first: nothing from a redirect with a wrong one is used.
    if !params.get("state").is_some_and(|s| pkce.state_is(s)) {
        return Err(LoginError::StateMismatch);
    }
    if let Some(error) = params.get("error") {
        return Err(match error {
            "access_denied" => LoginError::AccessDenied,
            other => LoginError::Authorize {
                error: exchange::sanitize_error(other),
            },
        });
    }
    let code = params
        .get("code")
        .filter(|c| !c.is_empty())
        .map(SecretString::new)
        .ok_or(LoginError::NoCode)?;
    exchange::exchange(config, secret, redirect_uri, &code, &pkce.verifier)
}

/// The config for a login: the file (missing is fine: it is created) and the environment,
/// with `client_id` (`--client-id`) taking precedence over both. `saves` is whether the
/// command keeps the client id in the config (`login` does, `provision` does not): the
/// messages say so.
pub fn login_config(
    client_id: Option<&str>,
    config_path: Option<&Path>,
    saves: bool,
) -> Result<Config, LoginError> {
    let path = match config_path {
        Some(p) => p.to_path_buf(),
        None => config::default_path()?,
    };
    let cli_id = match client_id.map(str::trim) {
        None => None,
        Some(id) if id.is_empty() || !id.bytes().all(|b| b.is_ascii_graphic()) => {
            return Err(LoginError::BadClientId);
        }
        Some(id) => Some(id.to_owned()),
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(source) => return Err(ConfigError::Read { path, source }.into()),
    };
    let env_id = std::env::var(config::ENV_CLIENT_ID)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty());
    if let (Some(cli), Some(env)) = (&cli_id, &env_id)
        && cli != env
        && saves
    {
        eprintln!(
            "tonearm: warning: SPOTIFY_CLIENT_ID holds another client id and overrides the config: unset it, or tonearm will not be able to use this login"
        );
    }
    let env = |name: &str| match (name, &cli_id) {
        (config::ENV_CLIENT_ID, Some(id)) => Some(id.clone()),
        _ => std::env::var(name).ok(),
    };
    match Config::parse(&text, &path, &env) {
        Ok(config) => Ok(config),
        Err(ConfigError::MissingClientId { path }) if saves => Err(LoginError::NoClientId { path }),
        Err(ConfigError::MissingClientId { path }) => Err(LoginError::NoClientIdUnsaved { path }),
        Err(e) => Err(e.into()),
    }
}

/// What [`store_login`] did.
#[derive(Debug)]
pub struct Stored {
    /// Where a corrupt token file was moved, if there was one.
    pub set_aside: Option<PathBuf>,
    /// Whether the client id was saved to the config (a failure is not the login's).
    pub config: Result<config::Saved, config::SaveError>,
    /// The scopes Spotify did not grant, if any.
    pub missing_scopes: Option<String>,
}

/// Keeps a desktop login: the tokens in the token store (a corrupt file there is moved
/// aside first), the client id in the config.
pub fn store_login(
    config: &Config,
    store: &TokenStore,
    tokens: Tokens,
) -> Result<Stored, LoginError> {
    let missing_scopes = tokens.missing_scopes();
    let now = now_epoch_s();
    let token = StoredToken {
        refresh_token: tokens.refresh_token,
        access_token: Some(tokens.access_token),
        access_expires_at: Some(now.saturating_add(tokens.expires_in)),
        auth_mode: if config.client_secret.is_some() {
            AuthMode::Secret
        } else {
            AuthMode::Pkce
        },
        authorized_at: Some(now),
    };
    let set_aside = match store.load() {
        Err(TokenStoreError::Corrupt { .. }) => store.set_aside_corrupt()?,
        _ => None,
    };
    store.save(&token).map_err(|source| LoginError::SaveToken {
        path: store.path().to_path_buf(),
        source,
    })?;
    log::info!("token saved");
    Ok(Stored {
        set_aside,
        config: config::save_client_id(&config.path, &config.client_id),
        missing_scopes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_encoding_keeps_only_the_unreserved_set() {
        assert_eq!(percent_encode("aZ09-._~"), "aZ09-._~");
        assert_eq!(percent_encode("a b/+=\u{e9}"), "a%20b%2F%2B%3D%C3%A9");
    }

    #[test]
    fn a_flow_error_names_the_command() {
        let e = FlowError {
            error: LoginError::StateMismatch,
            command: "tonearm provision",
        };
        assert!(
            e.to_string().ends_with("run tonearm provision again"),
            "{e}"
        );
        let e = FlowError {
            error: LoginError::StateMismatch,
            command: "tonearm login",
        };
        assert_eq!(e.to_string(), LoginError::StateMismatch.to_string());
    }

    #[test]
    fn messages_are_one_line() {
        let errors = [
            LoginError::PortInUse { port: 8888 },
            LoginError::Timeout(Duration::from_secs(300)),
            LoginError::Timeout(Duration::from_secs(2)),
            LoginError::AccessDenied,
            LoginError::StateMismatch,
            LoginError::InvalidClient { with_secret: true },
            LoginError::InvalidGrant,
            LoginError::TokenEndpoint {
                status: 503,
                error: None,
            },
            LoginError::NoClientId {
                path: "/c/config.toml".into(),
            },
        ];
        for e in errors {
            let s = e.to_string();
            assert!(!s.contains('\n'), "{s}");
        }
        assert!(
            LoginError::Timeout(Duration::from_secs(300))
                .to_string()
                .contains("within 5 minutes")
        );
        let port = LoginError::PortInUse { port: 8888 }.to_string();
        for want in [
            "port 8888",
            "--port",
            "redirect URI",
            "http://127.0.0.1:N/callback",
        ] {
            assert!(port.contains(want), "{port}");
        }
    }
}
