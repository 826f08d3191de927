//! `tonearm login` end to end: the binary against the fake accounts server, with real
//! headless Chromium (over WebDriver) clicking Agree or Cancel on the fake's authorize page;
//! and the failures that need no browser (a busy port, `invalid_client`, no client id, a
//! timeout), plus `tonearm logout`.

use std::io::{BufRead, BufReader, Read};
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use tonearm_tests::fake_spotify::{AuthorizeScript, FakeSpotify, Route, parse_form};
use tonearm_tests::webdriver::{Browser, ChromeDriver, free_port};

pub(super) const CLIENT_ID: &str = "tonearm-test-client";
const SCOPES: &str = "user-read-currently-playing user-read-playback-state \
     user-modify-playback-state user-library-read user-library-modify";
/// The lines the test's config starts with: they must survive the login.
const CONFIG_HEAD: &str = "# my desk display\ndisplay = \"128x64\"  # the small one\n";

/// A fake, a config pointing at it and a free port.
pub(super) struct Setup {
    pub(super) fake: FakeSpotify,
    pub(super) dir: tempfile::TempDir,
    pub(super) port: u16,
}

impl Setup {
    pub(super) fn new() -> Setup {
        let fake = FakeSpotify::start();
        fake.set_client(CLIENT_ID, None);
        let dir = tempfile::tempdir().expect("tempdir");
        let setup = Setup {
            port: free_port().expect("a free port"),
            fake,
            dir,
        };
        setup.write_config("");
        setup
    }

    pub(super) fn config(&self) -> PathBuf {
        self.dir.path().join("config.toml")
    }

    pub(super) fn token(&self) -> PathBuf {
        self.dir.path().join("token.json")
    }

    pub(super) fn redirect_uri(&self) -> String {
        format!("http://127.0.0.1:{}/callback", self.port)
    }

    pub(super) fn write_config(&self, extra: &str) {
        let text = format!(
            "{CONFIG_HEAD}accounts_base = \"{}\"\napi_base = \"{}\"\n{extra}",
            self.fake.accounts_base(),
            self.fake.api_base()
        );
        std::fs::write(self.config(), text).expect("write the config");
    }

    /// `tonearm login -vv --no-browser --port P --config C` plus `args`.
    fn login(&self, args: &[&str]) -> Login {
        let port = self.port.to_string();
        let config = self.config();
        // Global options after the subcommand: `tonearm -vv login` is refused (a clap
        // setting of main.rs, args_conflicts_with_subcommands).
        let mut all = vec![
            "login",
            "-vv",
            "--no-browser",
            "--port",
            &port,
            "--config",
            config.to_str().expect("utf-8 path"),
        ];
        all.extend_from_slice(args);
        Login::start(&all)
    }
}

/// A running `tonearm login` (or `provision`), its output collected on threads.
pub(super) struct Login {
    child: Child,
    lines: Receiver<String>,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
}

impl Login {
    fn start(args: &[&str]) -> Login {
        Login::start_with(args, &[], None)
    }

    /// `tonearm args` with `env` set and `stdin` written to its standard input (else
    /// none).
    pub(super) fn start_with(args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Login {
        let mut child = Command::new(tonearm_tests::tonearm_bin())
            .args(args)
            .env_remove("SPOTIFY_CLIENT_ID")
            .env_remove("SPOTIFY_CLIENT_SECRET")
            .env_remove("SPOTIFY_REFRESH_TOKEN")
            .env_remove("TONEARM_WIFI_SSID")
            .env_remove("TONEARM_WIFI_PASSWORD")
            .env_remove("BROWSER")
            .env_remove("RUST_LOG")
            .envs(env.iter().copied())
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("tonearm starts");
        if let (Some(text), Some(mut input)) = (stdin, child.stdin.take()) {
            use std::io::Write as _;
            input.write_all(text.as_bytes()).expect("write stdin");
        }
        let stdout = Arc::new(Mutex::new(String::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let (tx, lines) = channel();
        let out = child.stdout.take().expect("stdout");
        let collected = Arc::clone(&stdout);
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                collected
                    .lock()
                    .expect("lock")
                    .push_str(&format!("{line}\n"));
                let _ = tx.send(line);
            }
        });
        let mut err = child.stderr.take().expect("stderr");
        let collected = Arc::clone(&stderr);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    break;
                }
                collected
                    .lock()
                    .expect("lock")
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Login {
            child,
            lines,
            stdout,
            stderr,
        }
    }

    /// The authorize URL: the line on stdout that starts with `http`.
    pub(super) fn authorize_url(&self) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.starts_with("http") => return line,
                Ok(_) => {}
                Err(_) => panic!(
                    "no authorize URL on stdout; stderr: {}",
                    self.stderr.lock().expect("lock")
                ),
            }
        }
    }

    /// Waits for the exit; returns the code, stdout and stderr.
    pub(super) fn finish(mut self) -> (i32, String, String) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!(
                    "tonearm login did not exit; stderr: {}",
                    self.stderr.lock().expect("lock")
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        // Let the reader threads drain the pipes.
        std::thread::sleep(Duration::from_millis(100));
        let stdout = self.stdout.lock().expect("lock").clone();
        let stderr = self.stderr.lock().expect("lock").clone();
        (status.code().unwrap_or(-1), stdout, stderr)
    }
}

impl Drop for Login {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The query parameters of `url`.
fn query_of(url: &str) -> Vec<(String, String)> {
    parse_form(url.split_once('?').map_or("", |(_, q)| q).as_bytes())
}

fn param<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map_or_else(|| panic!("no {name} in {pairs:?}"), |(_, v)| v.as_str())
}

/// Checks the authorize URL; returns its state and code challenge.
pub(super) fn check_authorize_url(setup: &Setup, url: &str) -> (String, String) {
    let prefix = format!("{}/authorize?", setup.fake.accounts_base());
    assert!(url.starts_with(&prefix), "{url}");
    let q = query_of(url);
    assert_eq!(param(&q, "client_id"), CLIENT_ID);
    assert_eq!(param(&q, "response_type"), "code");
    assert_eq!(param(&q, "redirect_uri"), setup.redirect_uri());
    assert_eq!(param(&q, "scope"), SCOPES);
    assert_eq!(param(&q, "code_challenge_method"), "S256");
    let state = param(&q, "state").to_owned();
    assert!(state.len() >= 16, "a short state: {state}");
    let challenge = param(&q, "code_challenge").to_owned();
    assert_eq!(challenge.len(), 43, "{challenge}");
    assert!(
        challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    (state, challenge)
}

/// Every secret the fake handed out or received: none may show in the output.
fn secrets(fake: &FakeSpotify) -> Vec<String> {
    let mut all = fake.issued_codes();
    all.extend(fake.refresh_tokens());
    all.extend(fake.access_tokens());
    for req in fake.requests_to(Route::Token) {
        for name in ["code", "code_verifier"] {
            all.extend(req.form_field(name));
        }
    }
    all.retain(|s| !s.is_empty());
    all
}

pub(super) fn assert_no_secrets(fake: &FakeSpotify, extra: &[&str], stdout: &str, stderr: &str) {
    let mut all = secrets(fake);
    all.extend(extra.iter().map(|s| (*s).to_owned()));
    for secret in &all {
        assert!(
            !stdout.contains(secret.as_str()),
            "a secret on stdout: {stdout}"
        );
        assert!(
            !stderr.contains(secret.as_str()),
            "a secret on stderr: {stderr}"
        );
    }
}

/// Chromium and its driver, with the authorize page open at `url`.
pub(super) fn open_authorize_page<'d>(driver: &'d ChromeDriver, url: &str) -> Browser<'d> {
    let browser = Browser::start(driver).expect("a headless Chromium session");
    browser.goto(url).expect("the authorize page loads");
    assert_eq!(browser.title().expect("title"), "Spotify (fake): authorize");
    assert!(
        browser
            .text("#scopes")
            .expect("scopes")
            .contains("user-read-currently-playing")
    );
    browser
}

pub(super) fn chromedriver() -> ChromeDriver {
    ChromeDriver::start().expect(
        "chromedriver runs (apt-get install chromium chromium-driver; scripts/test.sh does)",
    )
}

/// Waits for the page tonearm's callback serves; returns its message.
pub(super) fn wait_for_tonearm_page(browser: &Browser<'_>, title: &str) -> String {
    browser
        .wait_for(Duration::from_secs(30), title, |b| {
            (b.title().ok()? == title).then_some(())
        })
        .expect("tonearm's page");
    browser.text("#message").expect("the page's message")
}

#[test]
fn login_in_chromium_stores_the_token_and_saves_the_client_id() {
    let setup = Setup::new();
    let login = setup.login(&["--client-id", CLIENT_ID]);
    let url = login.authorize_url();
    let (state, challenge) = check_authorize_url(&setup, &url);

    let driver = chromedriver();
    let browser = open_authorize_page(&driver, &url);
    browser.click("#agree").expect("click Agree");
    let message = wait_for_tonearm_page(&browser, "Tonearm: logged in");
    assert!(message.contains("logged in"), "{message}");
    assert_eq!(
        browser.text("#heading").expect("heading"),
        "Tonearm is connected to Spotify"
    );
    let landed = browser.url().expect("url");
    assert!(
        landed.starts_with(&format!("{}?code=", setup.redirect_uri())),
        "{landed}"
    );
    assert!(landed.ends_with(&format!("&state={state}")), "{landed}");

    let (code, stdout, stderr) = login.finish();
    assert_eq!(code, 0, "stderr: {stderr}");
    assert_eq!(stdout, format!("{url}\n"), "stdout holds the URL only");
    assert!(
        stderr.contains("tonearm: logged in; token saved to"),
        "{stderr}"
    );
    assert!(stderr.contains("client id saved to"), "{stderr}");

    // One exchange, with the verifier that matches the challenge, by PKCE (no secret).
    let exchanges = setup.fake.requests_to(Route::Token);
    assert_eq!(exchanges.len(), 1, "{exchanges:?}");
    let form = &exchanges[0];
    let issued = setup.fake.issued_codes();
    assert_eq!(issued.len(), 1);
    assert_eq!(
        form.form_field("grant_type").as_deref(),
        Some("authorization_code")
    );
    assert_eq!(form.form_field("code"), Some(issued[0].clone()));
    assert_eq!(form.form_field("redirect_uri"), Some(setup.redirect_uri()));
    assert_eq!(form.form_field("client_id").as_deref(), Some(CLIENT_ID));
    assert_eq!(form.header("authorization"), None);
    let verifier = form.form_field("code_verifier").expect("a code_verifier");
    assert!((43..=128).contains(&verifier.len()), "{}", verifier.len());
    assert!(
        verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
    );
    assert_eq!(
        URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())),
        challenge
    );

    // The stored token: what the fake issued, PKCE, 0600.
    let text = std::fs::read_to_string(setup.token()).expect("token.json");
    let token: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(
        setup.fake.refresh_tokens(),
        vec![
            token["refresh_token"]
                .as_str()
                .expect("refresh_token")
                .to_owned()
        ]
    );
    assert_eq!(
        setup.fake.access_tokens(),
        vec![
            token["access_token"]
                .as_str()
                .expect("access_token")
                .to_owned()
        ]
    );
    assert_eq!(token["auth_mode"], "pkce");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let authorized = token["authorized_at"].as_u64().expect("authorized_at");
    assert!(authorized.abs_diff(now) < 120, "{authorized} vs {now}");
    let expires = token["access_expires_at"]
        .as_u64()
        .expect("access_expires_at");
    assert!(expires.abs_diff(now + 3600) < 120, "{expires}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(setup.token())
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // The client id is in the config, every other line kept.
    let config = std::fs::read_to_string(setup.config()).expect("config");
    assert!(config.starts_with(CONFIG_HEAD), "{config}");
    assert!(config.contains(&format!(
        "accounts_base = \"{}\"",
        setup.fake.accounts_base()
    )));
    assert!(
        config.contains(&format!("\nclient_id = \"{CLIENT_ID}\"\n")),
        "{config}"
    );

    assert_no_secrets(&setup.fake, &[&verifier], &stdout, &stderr);
}

/// A login whose redirect fails in the browser: the failure page and exit 1; nothing
/// exchanged (unless `exchanges`), nothing stored, the config untouched.
fn failing_browser_login(
    script: AuthorizeScript,
    button: &str,
    exchanges: usize,
) -> (String, String) {
    let setup = Setup::new();
    setup.fake.set_authorize(script);
    let config_before = std::fs::read_to_string(setup.config()).expect("config");
    let login = setup.login(&["--client-id", CLIENT_ID]);
    let url = login.authorize_url();
    check_authorize_url(&setup, &url);
    let driver = chromedriver();
    let browser = open_authorize_page(&driver, &url);
    browser.click(button).expect("click");
    let message = wait_for_tonearm_page(&browser, "Tonearm: login failed");
    assert_eq!(
        browser.text("#heading").expect("heading"),
        "Tonearm could not log in"
    );
    let (code, stdout, stderr) = login.finish();
    assert_eq!(code, 1, "stderr: {stderr}");
    assert_eq!(stdout, format!("{url}\n"));
    let last = stderr.lines().last().unwrap_or_default().to_owned();
    assert!(last.starts_with("tonearm: "), "{stderr}");
    assert!(
        message.contains(last.trim_start_matches("tonearm: ")),
        "{message} / {last}"
    );
    assert_eq!(setup.fake.requests_to(Route::Token).len(), exchanges);
    assert!(!setup.token().exists(), "a token was stored");
    assert_eq!(
        std::fs::read_to_string(setup.config()).expect("config"),
        config_before,
        "the config changed"
    );
    assert_no_secrets(&setup.fake, &[], &stdout, &stderr);
    (message, last)
}

#[test]
fn a_tampered_state_is_refused_and_nothing_is_exchanged() {
    let (message, last) = failing_browser_login(
        AuthorizeScript::new().tamper_state("forged-state"),
        "#agree",
        0,
    );
    assert!(message.contains("wrong state"), "{message}");
    assert!(last.contains("nothing was exchanged"), "{last}");
}

#[test]
fn cancel_in_the_browser_is_access_denied() {
    let (message, last) = failing_browser_login(AuthorizeScript::new(), "#cancel", 0);
    assert!(message.contains("access_denied"), "{message}");
    assert!(last.contains("you declined"), "{last}");
}

#[test]
fn an_expired_code_is_invalid_grant() {
    let (message, last) = failing_browser_login(AuthorizeScript::new().expired_code(), "#agree", 1);
    assert!(message.contains("invalid_grant"), "{message}");
    assert!(last.contains("expired"), "{last}");
    assert!(last.contains("run tonearm login again"), "{last}");
}

/// Plays the browser without one: the fake's consent form, then its redirect to the
/// callback. Returns the callback's status and page.
pub(super) fn consent_without_browser(
    fake: &FakeSpotify,
    url: &str,
    decision: &str,
) -> (u16, String) {
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .proxy(None)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .new_agent();
    let page = agent
        .get(url)
        .call()
        .expect("the authorize page")
        .into_body()
        .read_to_string()
        .expect("page");
    assert!(page.contains("id=\"agree\""), "{page}");
    let form = format!(
        "{}&decision={decision}",
        url.split_once('?').map_or("", |(_, q)| q)
    );
    let reply = agent
        .post(fake.url("/authorize/decide"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send(form)
        .expect("the decision");
    assert_eq!(reply.status().as_u16(), 302);
    let location = reply
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .expect("a Location")
        .to_owned();
    assert!(location.starts_with("http://127.0.0.1:"), "{location}");
    let callback = agent.get(&location).call().expect("the callback answers");
    let status = callback.status().as_u16();
    (status, callback.into_body().read_to_string().expect("page"))
}

#[test]
fn a_busy_port_is_named_with_the_way_out() {
    let busy = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
    let port = busy.local_addr().expect("addr").port();
    let mut setup = Setup::new();
    setup.port = port;
    let started = Instant::now();
    let (code, stdout, stderr) = setup.login(&["--client-id", CLIENT_ID]).finish();
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(stdout, "", "no URL when the port is busy");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    for want in [
        &format!("port {port} on 127.0.0.1 is already in use") as &str,
        "--port N",
        "http://127.0.0.1:N/callback",
        "must match the registered one",
    ] {
        assert!(stderr.contains(want), "{want}: {stderr}");
    }
    assert!(setup.fake.requests().is_empty());
    drop(busy);
}

#[test]
fn invalid_client_is_one_clear_line() {
    let setup = Setup::new();
    // A wrong client secret in the config: the token endpoint says invalid_client.
    setup.fake.set_client(CLIENT_ID, Some("the-right-secret"));
    setup.write_config("client_secret = \"a-wrong-secret\"\n");
    let login = setup.login(&["--client-id", CLIENT_ID]);
    let url = login.authorize_url();
    // A stray request first: answered 404, and the login goes on waiting.
    let stray = ureq::get(format!("http://127.0.0.1:{}/favicon.ico", setup.port))
        .config()
        .http_status_as_error(false)
        .build()
        .call()
        .expect("a stray request");
    assert_eq!(stray.status().as_u16(), 404);
    let (status, page) = consent_without_browser(&setup.fake, &url, "agree");
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("Tonearm: login failed"), "{page}");
    assert!(page.contains("invalid_client"), "{page}");
    let (code, stdout, stderr) = login.finish();
    assert_eq!(code, 1, "{stderr}");
    let last = stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("tonearm: Spotify refused the client (invalid_client): check the client id and client_secret"),
        "{stderr}"
    );
    assert_eq!(setup.fake.requests_to(Route::Token).len(), 1);
    assert!(!setup.token().exists());
    assert!(
        !std::fs::read_to_string(setup.config())
            .expect("config")
            .contains("client_id"),
        "a failed login saved the client id"
    );
    assert_no_secrets(&setup.fake, &["a-wrong-secret"], &stdout, &stderr);
}

#[test]
fn a_configured_secret_uses_basic_auth_and_a_corrupt_token_file_is_set_aside() {
    let setup = Setup::new();
    let secret = "the-client-secret-0123456789";
    setup.fake.set_client(CLIENT_ID, Some(secret));
    setup.write_config(&format!(
        "client_id = \"{CLIENT_ID}\"\nclient_secret = \"{secret}\"\n"
    ));
    std::fs::write(setup.token(), "{ this is not a token file").expect("corrupt token");
    let config_before = std::fs::read_to_string(setup.config()).expect("config");
    // No --client-id: the config's.
    let login = setup.login(&[]);
    let url = login.authorize_url();
    check_authorize_url(&setup, &url);
    let (status, page) = consent_without_browser(&setup.fake, &url, "agree");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Tonearm: logged in"), "{page}");
    let (code, stdout, stderr) = login.finish();
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("the old one was corrupt: moved to"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("client id saved"),
        "the id was already there: {stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(setup.config()).expect("config"),
        config_before
    );
    let exchange = &setup.fake.requests_to(Route::Token)[0];
    assert!(
        exchange
            .header("authorization")
            .is_some_and(|a| a.starts_with("Basic ")),
        "{exchange:?}"
    );
    let token: Value =
        serde_json::from_str(&std::fs::read_to_string(setup.token()).expect("token"))
            .expect("json");
    assert_eq!(token["auth_mode"], "secret");
    assert_eq!(
        setup.fake.refresh_tokens(),
        vec![
            token["refresh_token"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        ]
    );
    let aside: Vec<PathBuf> = std::fs::read_dir(setup.dir.path())
        .expect("dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("token.json.corrupt-"))
        })
        .collect();
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert_eq!(
        std::fs::read_to_string(&aside[0]).expect("aside"),
        "{ this is not a token file"
    );
    let basic = exchange
        .header("authorization")
        .unwrap_or_default()
        .to_owned();
    assert_no_secrets(
        &setup.fake,
        &[secret, &basic["Basic ".len()..]],
        &stdout,
        &stderr,
    );
}

#[test]
fn no_client_id_anywhere_says_how_to_give_one() {
    let setup = Setup::new();
    let (code, stdout, stderr) = setup.login(&[]).finish();
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(stdout, "");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("no client id: pass --client-id"),
        "{stderr}"
    );
    assert!(stderr.contains("SPOTIFY_CLIENT_ID"), "{stderr}");
}

#[test]
fn no_answer_from_the_browser_times_out() {
    let setup = Setup::new();
    let (code, stdout, stderr) = setup
        .login(&["--client-id", CLIENT_ID, "--timeout", "1"])
        .finish();
    assert_eq!(code, 1, "{stderr}");
    assert!(stdout.starts_with("http://127.0.0.1:"), "{stdout}");
    let last = stderr.lines().last().unwrap_or_default();
    assert!(
        last.contains("no answer from the browser within 1 second"),
        "{stderr}"
    );
    assert!(setup.fake.requests().is_empty());
    assert!(!setup.token().exists());
}

fn logout(config: &Path) -> (i32, String) {
    let out = Command::new(tonearm_tests::tonearm_bin())
        .args(["logout", "--config", config.to_str().expect("utf-8")])
        .env_remove("SPOTIFY_CLIENT_ID")
        .env_remove("SPOTIFY_REFRESH_TOKEN")
        .output()
        .expect("tonearm logout runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn logout_removes_the_token_and_mentions_a_refresh_token_left_in_the_config() {
    let setup = Setup::new();
    setup.write_config(&format!("client_id = \"{CLIENT_ID}\"\n"));
    std::fs::write(setup.token(), "{}").expect("token");
    let (code, stderr) = logout(&setup.config());
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("logged out: removed"), "{stderr}");
    assert!(!setup.token().exists());
    let (code, stderr) = logout(&setup.config());
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("not logged in"), "{stderr}");
    // A refresh token in the config would go on being used: say so.
    setup.write_config(&format!(
        "client_id = \"{CLIENT_ID}\"\nrefresh_token = \"AQB-config-refresh\"\n"
    ));
    let (code, stderr) = logout(&setup.config());
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("holds a refresh_token"), "{stderr}");
    assert!(!stderr.contains("AQB-config-refresh"), "{stderr}");
}
