//! `tonearm login` and `tonearm logout`.
//!
//! Login is the Authorization Code flow with PKCE (S256), as Spotify documents it for apps
//! that cannot keep a secret:
//!
//! 1. a one-shot listener on `127.0.0.1:PORT` (loopback only) for the redirect
//!    `http://127.0.0.1:PORT/callback`, bound first so a busy port fails at once;
//! 2. a code verifier and a `state` from the OS's CSPRNG; the authorize URL (with the
//!    verifier's S256 challenge) printed on stdout and opened in a browser if one is there;
//! 3. the redirect: its `state` checked first (a wrong one ends the login and nothing is
//!    exchanged), then `error=` or `code=`;
//! 4. the code exchanged at `{accounts_base}/api/token` (with `client_id` and the verifier;
//!    with a configured client secret, Basic auth as well), the tokens stored in the token
//!    store, the client id saved to the config; the browser gets a small page saying how it
//!    went.
//!
//! The code, the verifier and the tokens are never printed or logged; the URL holds only
//! the public challenge and the one-time `state`.

use std::fmt;
use std::io::{Read as _, Write as _};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::Deserialize;
use sha2::{Digest as _, Sha256};

use crate::config::{self, Config, ConfigError, SecretString};
use crate::token_store::{AuthMode, StoredToken, TokenStore, TokenStoreError, now_epoch_s};
use crate::transport::{HttpRequest, Method, Transport as _, TransportConfig, UreqTransport};

/// The scopes Tonearm asks for: read what plays, and the play/pause/next/previous controls.
pub const SCOPES: &str =
    "user-read-currently-playing user-read-playback-state user-modify-playback-state";

/// How long a login waits for the browser by default.
const DEFAULT_TIMEOUT_S: f64 = 300.0;

/// The longest request head read from the browser.
const MAX_HEAD: usize = 8 * 1024;

/// The largest token response read (a real one is under 2 KB).
const MAX_TOKEN_BODY: u64 = 64 * 1024;

/// Arguments of `tonearm login` (and the login part of `tonearm provision`).
#[derive(Debug, Clone, clap::Args)]
pub struct LoginArgs {
    /// The loopback port of the redirect URI `http://127.0.0.1:PORT/callback` (register
    /// exactly this URI in your Spotify app).
    #[arg(long, default_value_t = 8888)]
    pub port: u16,
    /// Your Spotify app's client id (default: the config's or SPOTIFY_CLIENT_ID; login
    /// saves it to the config).
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,
    /// Print the authorize URL instead of opening a browser.
    #[arg(long)]
    pub no_browser: bool,
    /// How long to wait for the browser, in seconds (for tests).
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_TIMEOUT_S, hide = true)]
    pub timeout: f64,
}

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

/// The one-time values of a login: the PKCE verifier (secret) and the state.
struct Pkce {
    verifier: SecretString,
    challenge: String,
    state: String,
}

impl Pkce {
    /// A fresh verifier (86 characters from 64 random bytes, base64url: inside RFC 7636's
    /// unreserved set and its 43..=128 length) and state (128 random bits).
    fn new() -> Result<Pkce, LoginError> {
        let mut bytes = [0u8; 64];
        getrandom::fill(&mut bytes).map_err(|e| LoginError::Random(e.to_string()))?;
        let verifier = URL_SAFE_NO_PAD.encode(bytes);
        let mut state = [0u8; 16];
        getrandom::fill(&mut state).map_err(|e| LoginError::Random(e.to_string()))?;
        Ok(Pkce {
            challenge: challenge_of(&verifier),
            verifier: SecretString::new(verifier),
            state: URL_SAFE_NO_PAD.encode(state),
        })
    }
}

/// base64url(SHA-256(verifier)), without padding.
fn challenge_of(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Percent-encodes a query or form component: everything but RFC 3986's unreserved set.
fn encode(value: &str) -> String {
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

/// Decodes a query component (`+` is a space, `%XX` a byte); invalid UTF-8 is replaced.
fn decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => match bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                Some(byte) => {
                    out.push(byte);
                    i += 2;
                }
                None => out.push(b'%'),
            },
            _ => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The decoded `key=value` pairs of a query string.
fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// An OAuth `error` code fit to show: `[a-z0-9_]`, at most 64 characters, else `unknown`.
fn sanitize_error(error: &str) -> String {
    if !error.is_empty()
        && error.len() <= 64
        && error
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        error.to_owned()
    } else {
        "unknown".to_owned()
    }
}

/// Equal strings, compared without an early exit.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The authorize URL.
fn authorize_url(accounts_base: &str, client_id: &str, redirect_uri: &str, pkce: &Pkce) -> String {
    format!(
        "{}/authorize?client_id={}&response_type=code&redirect_uri={}&scope={}&state={}&code_challenge={}&code_challenge_method=S256",
        accounts_base.trim_end_matches('/'),
        encode(client_id),
        encode(redirect_uri),
        encode(SCOPES),
        encode(&pkce.state),
        encode(&pkce.challenge),
    )
}

/// A `--timeout` in seconds, checked (at most a day).
pub(crate) fn timeout_of(secs: f64) -> anyhow::Result<Duration> {
    if !(secs.is_finite() && secs > 0.0) {
        anyhow::bail!("invalid --timeout {secs}: use a number of seconds");
    }
    Ok(Duration::from_secs_f64(secs.min(86_400.0)))
}

/// Runs `tonearm login`.
pub fn run(args: &LoginArgs, config_path: Option<&Path>) -> anyhow::Result<()> {
    let timeout = timeout_of(args.timeout)?;
    if args.port == 0 {
        return Err(LoginError::PortZero.into());
    }
    let config = load_config(args.client_id.as_deref(), config_path, true)?;
    let store = TokenStore::new(config.token_path());
    // Fail before the browser step if the token file cannot even be read.
    match store.load() {
        Ok(_) | Err(TokenStoreError::Corrupt { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    let flow = Flow {
        config: &config,
        port: args.port,
        no_browser: args.no_browser,
        timeout,
        use_secret: true,
        command: "tonearm login",
    };
    let done = browser_login(&flow, |tokens| store_tokens(&config, &store, tokens))?;

    let store_note = match done.set_aside {
        Some(p) => format!(" (the old one was corrupt: moved to {})", p.display()),
        None => String::new(),
    };
    eprintln!(
        "tonearm: logged in; token saved to {}{store_note}",
        store.path().display()
    );
    match done.config {
        Ok(config::Saved::Written) => {
            eprintln!("tonearm: client id saved to {}", config.path.display())
        }
        Ok(config::Saved::Unchanged) => {}
        Err(e) => anyhow::bail!(
            "the token was saved, but the client id could not be saved: {e}; add client_id = \"{}\" to the config yourself",
            config.client_id
        ),
    }
    if let Some(missing) = done.missing_scopes {
        eprintln!(
            "tonearm: warning: Spotify did not grant {missing}: the display may miss what needs it (controls, the device); run tonearm login again to grant it"
        );
    }
    eprintln!("tonearm: run tonearm to see what is playing");
    Ok(())
}

/// One browser login: what `login` and `provision` share.
pub(crate) struct Flow<'a> {
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

/// A login error as `command` tells it (the messages say "run tonearm login again").
fn retell(e: LoginError, command: &str) -> anyhow::Error {
    if command == "tonearm login" {
        e.into()
    } else {
        anyhow::anyhow!("{}", e.to_string().replace("tonearm login", command))
    }
}

/// The browser step and the code exchange: the listener, the authorize URL (printed, and
/// opened in a browser unless `no_browser`), the redirect, the state check, the exchange;
/// then `keep` stores the tokens. The browser gets a page saying how it all went (a
/// failure of `keep` included); the result is `keep`'s.
pub(crate) fn browser_login<T>(
    flow: &Flow<'_>,
    keep: impl FnOnce(Tokens) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let config = flow.config;
    let listener = bind(flow.port).map_err(|e| retell(e, flow.command))?;
    let redirect_uri = format!("http://127.0.0.1:{}/callback", flow.port);
    let pkce = Pkce::new()?;
    let url = authorize_url(
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
        if open_browser(&url) {
            eprintln!("tonearm: opened your browser (if nothing shows, open the URL above)");
        } else {
            eprintln!("tonearm: no browser found: open the URL above yourself");
        }
    }
    eprintln!("{wait}");

    let (stream, params) =
        wait_for_callback(&listener, flow.timeout).map_err(|e| retell(e, flow.command))?;
    drop(listener);
    let secret = if flow.use_secret {
        config.client_secret.as_ref()
    } else {
        None
    };
    let outcome = redeem(config, secret, &redirect_uri, &pkce, &params)
        .map_err(|e| retell(e, flow.command))
        .and_then(keep);
    match &outcome {
        Ok(_) => respond(stream, 200, &success_page()),
        Err(e) => respond(stream, 400, &failure_page(&format!("{e:#}"))),
    }
    outcome
}

/// The config for a login: the file (missing is fine: it is created) and the environment,
/// with `--client-id` taking precedence over both. `saves` is whether the command keeps
/// the client id in the config (`login` does, `provision` does not): the messages say so.
pub(crate) fn load_config(
    client_id: Option<&str>,
    config_path: Option<&Path>,
    saves: bool,
) -> anyhow::Result<Config> {
    let path = match config_path {
        Some(p) => p.to_path_buf(),
        None => config::default_path()?,
    };
    let cli_id = match client_id.map(str::trim) {
        None => None,
        Some(id) if id.is_empty() || !id.bytes().all(|b| b.is_ascii_graphic()) => {
            return Err(LoginError::BadClientId.into());
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
        Err(ConfigError::MissingClientId { path }) if saves => {
            Err(LoginError::NoClientId { path }.into())
        }
        Err(ConfigError::MissingClientId { path }) => Err(anyhow::anyhow!(
            "no client id: pass --client-id YOUR_APP_ID (from your app in the Spotify developer dashboard), set SPOTIFY_CLIENT_ID, or put client_id in {}",
            path.display()
        )),
        Err(e) => Err(e.into()),
    }
}

/// Binds the loopback listener (127.0.0.1 only, never all interfaces).
fn bind(port: u16) -> Result<TcpListener, LoginError> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let listener = TcpListener::bind(addr).map_err(|source| match source.kind() {
        std::io::ErrorKind::AddrInUse => LoginError::PortInUse { port },
        _ => LoginError::Listen { port, source },
    })?;
    listener
        .set_nonblocking(true)
        .map_err(|source| LoginError::Listen { port, source })?;
    Ok(listener)
}

/// Tries `$BROWSER` (a `:`-separated list of commands; `%s` stands for the URL), then the
/// platform's opener. Returns whether one started. Its output is discarded.
fn open_browser(url: &str) -> bool {
    use std::process::{Command, Stdio};
    let spawn = |program: &str, args: Vec<String>| {
        // The browser outlives this command and passes its environment on to everything
        // it starts: no secret of ours goes with it.
        let child = Command::new(program)
            .args(args)
            .env_remove(config::ENV_CLIENT_SECRET)
            .env_remove(config::ENV_REFRESH_TOKEN)
            .env_remove(crate::provision_cmd::ENV_PASSWORD)
            .env_remove(crate::provision_cmd::ENV_SSID)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        match child {
            Ok(mut child) => {
                // Reap it whenever it ends; the login does not wait for it.
                let _ = std::thread::Builder::new()
                    .name("browser".into())
                    .spawn(move || child.wait());
                log::info!("started {program} for the authorize URL");
                true
            }
            Err(e) => {
                log::info!("cannot start {program}: {e}");
                false
            }
        }
    };
    if let Ok(list) = std::env::var("BROWSER") {
        for command in list.split(':').map(str::trim).filter(|c| !c.is_empty()) {
            let mut words: Vec<String> = command.split_whitespace().map(str::to_owned).collect();
            if words.iter().any(|w| w.contains("%s")) {
                for w in &mut words {
                    *w = w.replace("%s", url);
                }
            } else {
                words.push(url.to_owned());
            }
            let Some((program, rest)) = words.split_first() else {
                continue;
            };
            if spawn(program, rest.to_vec()) {
                return true;
            }
        }
    }
    if cfg!(target_os = "macos") {
        spawn("open", vec![url.to_owned()])
    } else if cfg!(windows) {
        spawn(
            "rundll32",
            vec!["url.dll,FileProtocolHandler".to_owned(), url.to_owned()],
        )
    } else {
        // Without a graphical session xdg-open may start a text browser on this terminal.
        let graphical = ["DISPLAY", "WAYLAND_DISPLAY"]
            .iter()
            .any(|v| std::env::var_os(v).is_some_and(|s| !s.is_empty()));
        graphical && spawn("xdg-open", vec![url.to_owned()])
    }
}

/// The redirect's query parameters.
struct Callback {
    pairs: Vec<(String, String)>,
}

impl Callback {
    fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Waits for `GET /callback?...`; other requests (a favicon, a stray path) get a 404 and
/// the wait goes on. Each connection is read on its own thread, so an idle connection (a
/// browser's preconnect) holds nothing up.
fn wait_for_callback(
    listener: &TcpListener,
    timeout: Duration,
) -> Result<(TcpStream, Callback), LoginError> {
    let deadline = Instant::now() + timeout;
    let (tx, rx) = mpsc::channel::<(TcpStream, String)>();
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                let tx = tx.clone();
                let _ = std::thread::Builder::new()
                    .name("login-callback".into())
                    .spawn(move || {
                        if let Some((stream, target)) = read_request(stream) {
                            let _ = tx.send((stream, target));
                        }
                    });
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => log::debug!("accept: {e}"),
        }
        while let Ok((stream, target)) = rx.try_recv() {
            let (path, query) = target.split_once('?').unwrap_or((&target, ""));
            if path == "/callback" {
                log::info!("the browser came back to /callback");
                return Ok((
                    stream,
                    Callback {
                        pairs: query_pairs(query),
                    },
                ));
            }
            log::debug!("ignored a request for a path other than /callback");
            respond(stream, 404, &not_found_page());
        }
        if crate::interrupted() {
            return Err(LoginError::Interrupted);
        }
        if Instant::now() >= deadline {
            return Err(LoginError::Timeout(timeout));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Reads a request head; returns the stream and the target of a `GET`, answering anything
/// else itself. `None` when the connection sent nothing usable.
fn read_request(mut stream: TcpStream) -> Option<(TcpStream, String)> {
    stream.set_nonblocking(false).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = match stream.read(&mut buf) {
            Ok(0) | Err(_) => return None,
            Ok(n) => n,
        };
        head.extend_from_slice(buf.get(..n).unwrap_or_default());
        if head.len() > MAX_HEAD {
            respond(stream, 431, &not_found_page());
            return None;
        }
    }
    let line = head.split(|b| *b == b'\r').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let mut parts = line.split(' ');
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    if method != "GET" {
        respond(stream, 405, &not_found_page());
        return None;
    }
    Some((stream, target.to_owned()))
}

/// Writes a small HTML page and closes the connection.
fn respond(mut stream: TcpStream, status: u16, html: &str) {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Request Header Fields Too Large",
    };
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nCache-Control: no-store\r\nReferrer-Policy: no-referrer\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n",
        html.len()
    );
    let _ = stream.set_write_timeout(Some(Duration::from_secs(5)));
    let _ = stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(html.as_bytes()))
        .and_then(|()| stream.flush());
    let _ = stream.shutdown(std::net::Shutdown::Write);
}

/// What a successful login did.
struct Done {
    set_aside: Option<PathBuf>,
    config: Result<config::Saved, config::SaveError>,
    missing_scopes: Option<String>,
}

/// Checks the redirect and exchanges its code (with Basic auth when `secret` is given).
fn redeem(
    config: &Config,
    secret: Option<&SecretString>,
    redirect_uri: &str,
    pkce: &Pkce,
    params: &Callback,
) -> Result<Tokens, LoginError> {
    // The state first: nothing from a redirect with a wrong one is used.
    if !params.get("state").is_some_and(|s| same(s, &pkce.state)) {
        return Err(LoginError::StateMismatch);
    }
    if let Some(error) = params.get("error") {
        return Err(match error {
            "access_denied" => LoginError::AccessDenied,
            other => LoginError::Authorize {
                error: sanitize_error(other),
            },
        });
    }
    let code = params
        .get("code")
        .filter(|c| !c.is_empty())
        .map(SecretString::new)
        .ok_or(LoginError::NoCode)?;
    exchange(config, secret, redirect_uri, &code, &pkce.verifier)
}

/// Stores a login's tokens in the token store and the client id in the config.
fn store_tokens(config: &Config, store: &TokenStore, tokens: Tokens) -> anyhow::Result<Done> {
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
    store
        .save(&token)
        .with_context(|| format!("cannot save the token to {}", store.path().display()))?;
    log::info!("token saved");
    Ok(Done {
        set_aside,
        config: config::save_client_id(&config.path, &config.client_id),
        missing_scopes,
    })
}

/// The token endpoint's success body.
#[derive(Deserialize)]
struct TokenBody {
    access_token: Option<String>,
    refresh_token: Option<String>,
    expires_in: Option<u64>,
    scope: Option<String>,
}

/// The token endpoint's error body.
#[derive(Deserialize)]
struct ErrorBody {
    error: Option<String>,
}

/// The tokens a code exchange gave.
pub(crate) struct Tokens {
    /// The access token.
    pub access_token: SecretString,
    /// The refresh token.
    pub refresh_token: SecretString,
    /// Seconds the access token is valid for.
    pub expires_in: u64,
    /// The granted scopes, when the answer says.
    pub scope: Option<String>,
}

impl Tokens {
    /// The scopes Tonearm asked for and Spotify did not grant, if any.
    pub fn missing_scopes(&self) -> Option<String> {
        let granted: Vec<&str> = self.scope.as_deref()?.split_whitespace().collect();
        let missing: Vec<&str> = SCOPES.split(' ').filter(|s| !granted.contains(s)).collect();
        (!missing.is_empty()).then(|| missing.join(" "))
    }
}

/// A token as the token store accepts it: non-empty printable ASCII.
fn token_value(value: Option<String>, what: &'static str) -> Result<SecretString, LoginError> {
    value
        .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_graphic()))
        .map(SecretString::new)
        .ok_or(LoginError::BadTokenResponse(what))
}

/// `POST {accounts_base}/api/token` with the code and the verifier (and Basic auth when a
/// client secret is configured).
fn exchange(
    config: &Config,
    secret: Option<&SecretString>,
    redirect_uri: &str,
    code: &SecretString,
    verifier: &SecretString,
) -> Result<Tokens, LoginError> {
    let url = format!("{}/api/token", config.accounts_base.trim_end_matches('/'));
    let body = format!(
        "grant_type=authorization_code&code={}&redirect_uri={}&client_id={}&code_verifier={}",
        encode(code.expose()),
        encode(redirect_uri),
        encode(&config.client_id),
        encode(verifier.expose()),
    );
    let basic = secret.map(|secret| {
        let pair = format!("{}:{}", config.client_id, secret.expose());
        SecretString::new(format!("Basic {}", STANDARD.encode(pair)))
    });
    let mut headers = vec![
        ("Content-Type", "application/x-www-form-urlencoded"),
        ("Accept", "application/json"),
    ];
    if let Some(basic) = &basic {
        headers.push(("Authorization", basic.expose()));
    }
    let transport = UreqTransport::new(
        TransportConfig::default()
            .connect_timeout(Duration::from_secs(10))
            .request_timeout(Duration::from_secs(30))
            .max_body(MAX_TOKEN_BODY),
    );
    let request = HttpRequest {
        method: Method::Post,
        url: &url,
        headers: &headers,
        body: Some(body.as_bytes()),
    };
    log::info!("exchanging the authorization code at {url}");
    let mut status = 0;
    let mut reply = Vec::new();
    transport
        .send(&request, &mut |head| status = head.status, &mut |chunk| {
            reply.extend_from_slice(chunk);
            ControlFlow::Continue(())
        })
        .map_err(|source| LoginError::Transport {
            url: url.clone(),
            source,
        })?;
    log::info!("the token endpoint answered {status}");
    if status == 200 {
        let body: TokenBody = serde_json::from_slice(&reply)
            .map_err(|_| LoginError::BadTokenResponse("not the expected JSON"))?;
        return Ok(Tokens {
            access_token: token_value(body.access_token, "no access token")?,
            refresh_token: token_value(body.refresh_token, "no refresh token")?,
            expires_in: body.expires_in.unwrap_or(3600).min(86_400),
            scope: body.scope,
        });
    }
    let error = serde_json::from_slice::<ErrorBody>(&reply)
        .ok()
        .and_then(|b| b.error)
        .map(|e| sanitize_error(&e));
    Err(match error.as_deref() {
        Some("invalid_client") => LoginError::InvalidClient {
            with_secret: secret.is_some(),
        },
        Some("invalid_grant") => LoginError::InvalidGrant,
        _ => LoginError::TokenEndpoint { status, error },
    })
}

/// Escapes text for HTML.
fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A small page (no scripts, no outside resources).
fn page(title: &str, class: &str, heading: &str, body: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; background: #121212; color: #eee; display: flex; min-height: 90vh; align-items: center; justify-content: center; }}
main {{ max-width: 32rem; padding: 2rem; border-radius: 12px; background: #1e1e1e; }}
h1 {{ font-size: 1.4rem; }} .ok h1 {{ color: #1db954; }} .fail h1 {{ color: #f87171; }}
p {{ line-height: 1.5; }}
</style></head>
<body class="{class}"><main><h1 id="heading">{heading}</h1>{body}</main></body></html>
"#
    )
}

fn success_page() -> String {
    page(
        "Tonearm: logged in",
        "ok",
        "Tonearm is connected to Spotify",
        "<p id=\"message\">You are logged in. You can close this tab and go back to the terminal.</p>",
    )
}

fn failure_page(reason: &str) -> String {
    page(
        "Tonearm: login failed",
        "fail",
        "Tonearm could not log in",
        &format!(
            "<p id=\"message\">{}</p><p>You can close this tab; the terminal says the same.</p>",
            html_escape(reason)
        ),
    )
}

fn not_found_page() -> String {
    page(
        "Tonearm",
        "fail",
        "Nothing here",
        "<p>Tonearm is waiting for Spotify's redirect to /callback.</p>",
    )
}

/// Runs `tonearm logout`: removes the token file, and only it. A refresh token in the
/// config or the environment stays, and tonearm would go on using it: say so. `quota.json`
/// stays too, on purpose: Spotify's quota is per developer account, and a new login does
/// not reset it.
pub fn logout(config_path: Option<&Path>) -> anyhow::Result<()> {
    let loaded = Config::load(config_path);
    let path = match &loaded {
        Ok(config) => config.token_path(),
        Err(_) => match config_path {
            Some(p) => p
                .parent()
                .map_or_else(|| "token.json".into(), |d| d.join("token.json")),
            None => config::default_path()?.with_file_name("token.json"),
        },
    };
    let store = TokenStore::new(&path);
    match std::fs::remove_file(store.path()) {
        Ok(()) => eprintln!("tonearm: logged out: removed {}", path.display()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("tonearm: not logged in (no {})", path.display());
        }
        Err(e) => {
            return Err(anyhow::Error::from(e).context(format!("cannot remove {}", path.display())));
        }
    }
    let quota = path.with_file_name(crate::quota_store::FILE_NAME);
    if quota.exists() {
        eprintln!(
            "tonearm: kept {}: the request budget's state (Spotify's quota is per developer account; a new login does not reset it)",
            quota.display()
        );
    }
    if let Ok(config) = &loaded
        && let Some((_, origin)) = &config.refresh_token
    {
        let place = match origin {
            config::Origin::Env => "SPOTIFY_REFRESH_TOKEN is set".to_owned(),
            config::Origin::File => format!("{} holds a refresh_token", config.path.display()),
        };
        eprintln!(
            "tonearm: note: {place}: tonearm will go on using it; remove it to log out fully"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_values_follow_rfc_7636() {
        let a = Pkce::new().expect("random");
        let b = Pkce::new().expect("random");
        let v = a.verifier.expose();
        assert!((43..=128).contains(&v.len()), "{}", v.len());
        assert!(
            v.bytes()
                .all(|c| c.is_ascii_alphanumeric() || b"-._~".contains(&c))
        );
        assert_eq!(a.challenge, challenge_of(v));
        assert_eq!(a.challenge.len(), 43);
        assert!(!a.challenge.contains('='));
        assert!(a.state.len() >= 22);
        assert_ne!(a.verifier, b.verifier);
        assert_ne!(a.state, b.state);
        // RFC 7636, appendix B.
        assert_eq!(
            challenge_of("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        let shown = format!("{:?}", a.verifier);
        assert!(!shown.contains(v), "{shown}");
    }

    #[test]
    fn authorize_url_holds_every_parameter_encoded() {
        let pkce = Pkce {
            verifier: SecretString::new("v"),
            challenge: "ch-_".to_owned(),
            state: "st".to_owned(),
        };
        let url = authorize_url(
            "https://accounts.example/",
            "my id",
            "http://127.0.0.1:8888/callback",
            &pkce,
        );
        assert_eq!(
            url,
            "https://accounts.example/authorize?client_id=my%20id&response_type=code\
             &redirect_uri=http%3A%2F%2F127.0.0.1%3A8888%2Fcallback\
             &scope=user-read-currently-playing%20user-read-playback-state%20user-modify-playback-state\
             &state=st&code_challenge=ch-_&code_challenge_method=S256"
        );
        assert!(!url.contains("v&") && !url.ends_with('v'));
    }

    #[test]
    fn query_decoding_and_error_sanitizing() {
        let pairs = query_pairs("code=a%2Bb+c&state=x%3D&&error&bad=%zz%4");
        assert_eq!(
            pairs,
            [
                ("code".to_owned(), "a+b c".to_owned()),
                ("state".to_owned(), "x=".to_owned()),
                ("error".to_owned(), String::new()),
                ("bad".to_owned(), "%zz%4".to_owned()),
            ]
        );
        assert_eq!(decode("%E6%97%A5"), "\u{65e5}");
        assert_eq!(decode("%FF"), "\u{fffd}");
        assert_eq!(sanitize_error("server_error"), "server_error");
        for bad in ["", "<script>", "a b", &"x".repeat(65)] {
            assert_eq!(sanitize_error(bad), "unknown");
        }
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd") && !same("abc", "ab") && !same("", "a"));
    }

    #[test]
    fn pages_escape_the_reason() {
        let page = failure_page("<b>&\"'");
        assert!(page.contains("&lt;b&gt;&amp;&quot;&#39;"), "{page}");
        assert!(page.contains("<title>Tonearm: login failed</title>"));
        assert!(success_page().contains("<title>Tonearm: logged in</title>"));
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
