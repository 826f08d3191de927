//! `tonearm run --headless --events` end to end against the fake Spotify on 127.0.0.1:
//! tokens (rotation, revocation, invalid_grant, invalid_client), 204, 401, 429, 5xx,
//! hanging and broken responses, and a kill right after a token rotation. The helpers
//! ([`Home`], [`Run`]) serve `quota_live` too.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use serde_json::Value;
use tonearm_tests::fake_spotify::{FakeSpotify, Reply, Rotation, Route};

const CLIENT_ID: &str = "tonearm-test-client";

/// The config line these tests run with unless they say otherwise: a budget so large that
/// the schedule stays at its floors (`poll_playing_s` = 5 s, as the tests of backoff and
/// rate limits expect) while the budget's code runs.
pub(crate) const ROOMY_BUDGET: &str = "daily_requests = 100000\n";

pub(crate) fn track(title: &str, progress: u64, duration: u64, playing: bool) -> String {
    serde_json::json!({
        "is_playing": playing,
        "progress_ms": progress,
        "currently_playing_type": "track",
        "item": {"type": "track", "name": title, "duration_ms": duration,
                 "artists": [{"name": "Band"}], "album": {"name": "Album", "images": []}},
        "device": {"name": "Desk", "type": "Speaker", "volume_percent": 50},
    })
    .to_string()
}

/// A config directory for one test: config.toml pointing at the fake, token.json and
/// quota.json beside.
pub(crate) struct Home {
    pub(crate) dir: PathBuf,
}

impl Home {
    /// A config with `refresh_token` and [`ROOMY_BUDGET`].
    pub(crate) fn new(fake: &FakeSpotify, refresh_token: &str) -> Home {
        Home::with(fake, Some(refresh_token), ROOMY_BUDGET)
    }

    /// A config with `refresh_token` (if any) and the `extra` lines.
    pub(crate) fn with(fake: &FakeSpotify, refresh_token: Option<&str>, extra: &str) -> Home {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("tonearm-live-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let refresh = refresh_token.map_or(String::new(), |t| format!("refresh_token = \"{t}\"\n"));
        std::fs::write(
            dir.join("config.toml"),
            format!(
                "client_id = \"{CLIENT_ID}\"\n{refresh}api_base = \"{}\"\naccounts_base = \"{}\"\n{extra}",
                fake.api_base(),
                fake.accounts_base()
            ),
        )
        .unwrap();
        Home { dir }
    }

    pub(crate) fn config(&self) -> PathBuf {
        self.dir.join("config.toml")
    }

    pub(crate) fn token(&self) -> Option<Value> {
        self.json("token.json")
    }

    pub(crate) fn quota(&self) -> Option<Value> {
        self.json("quota.json")
    }

    fn json(&self, name: &str) -> Option<Value> {
        let text = std::fs::read_to_string(self.dir.join(name)).ok()?;
        Some(
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name} is not whole JSON: {e}")),
        )
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The binary, headless, with its event stream.
pub(crate) struct Run {
    pub(crate) child: Child,
    events: Receiver<Value>,
    pub(crate) seen: Vec<Value>,
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Run {
    pub(crate) fn start(config: &Path, extra: &[&str]) -> Run {
        Run::start_with_env(config, extra, &[])
    }

    /// [`Run::start`] with environment variables set for the binary (`TZ`, ...).
    pub(crate) fn start_with_env(config: &Path, extra: &[&str], env: &[(&str, &str)]) -> Run {
        let mut child = Command::new(tonearm_tests::tonearm_bin())
            .args([
                "run",
                "--headless",
                "--events",
                "--timeout",
                "2",
                "--config",
            ])
            .arg(config)
            .args(extra)
            .env_remove("SPOTIFY_CLIENT_ID")
            .env_remove("SPOTIFY_CLIENT_SECRET")
            .env_remove("SPOTIFY_REFRESH_TOKEN")
            .env("RUST_LOG", "debug")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("tonearm starts");
        let (tx, events) = channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let v: Value = serde_json::from_str(&line).expect("each event is a JSON line");
                if tx.send(v).is_err() {
                    break;
                }
            }
        });
        let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let sink = std::sync::Arc::clone(&stderr);
        let err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                let mut s = sink.lock().unwrap();
                s.push_str(&line);
                s.push('\n');
            }
        });
        Run {
            child,
            events,
            seen: Vec::new(),
            stderr,
        }
    }

    pub(crate) fn wait_for(
        &mut self,
        screen: &str,
        title: Option<&str>,
        timeout: Duration,
    ) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok(ev) => {
                    self.seen.push(ev.clone());
                    if ev["screen"] == screen && title.is_none_or(|t| ev["title"] == t) {
                        return ev;
                    }
                }
                Err(_) => panic!(
                    "no {screen} {title:?} event in {timeout:?}; saw {:?}\nstderr:\n{}",
                    self.seen,
                    self.stderr.lock().unwrap()
                ),
            }
        }
    }

    /// The next event within `d`, if one comes (kept in `seen` too).
    pub(crate) fn next_event(&mut self, d: Duration) -> Option<Value> {
        let ev = self.events.recv_timeout(d).ok()?;
        self.seen.push(ev.clone());
        Some(ev)
    }

    /// Asserts no screen change arrives for `d`.
    pub(crate) fn quiet_for(&mut self, d: Duration) {
        if let Ok(ev) = self.events.recv_timeout(d) {
            panic!("unexpected screen change {ev}; before: {:?}", self.seen);
        }
    }

    pub(crate) fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn setup() -> (FakeSpotify, Home) {
    let fake = FakeSpotify::start();
    fake.add_refresh_token("refresh-0");
    let home = Home::new(&fake, "refresh-0");
    (fake, home)
}

pub(crate) const T: Duration = Duration::from_secs(15);

#[test]
fn plays_and_stores_the_token_without_leaking_it() {
    let (fake, home) = setup();
    fake.set_default(
        Route::Player,
        Reply::json(200, track("Live Song", 1_000, 200_000, true)),
    );
    let mut run = Run::start(&home.config(), &[]);
    run.wait_for("now_playing", Some("Live Song"), T);
    // The token was saved at once, privately.
    let token = home.token().expect("token.json written");
    let access = token["access_token"].as_str().unwrap().to_string();
    assert!(fake.access_tokens().contains(&access));
    assert_eq!(token["refresh_token"], "refresh-0");
    assert_eq!(token["auth_mode"], "pkce");
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(home.dir.join("token.json"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    // The requests are the documented ones.
    let refresh = &fake.requests_to(Route::Token)[0];
    assert_eq!(
        refresh.form_field("grant_type").as_deref(),
        Some("refresh_token")
    );
    assert_eq!(refresh.form_field("client_id").as_deref(), Some(CLIENT_ID));
    let poll = &fake.requests_to(Route::Player)[0];
    assert_eq!(
        poll.query(),
        Some("additional_types=track,episode&market=from_token")
    );
    assert_eq!(
        poll.header("authorization"),
        Some(format!("Bearer {access}").as_str())
    );
}

#[test]
fn debug_logs_hold_no_secret() {
    let (fake, home) = setup();
    fake.set_default(
        Route::Player,
        Reply::json(200, track("Quiet", 0, 200_000, true)),
    );
    let mut run = Run::start(&home.config(), &["-vv"]);
    run.wait_for("now_playing", Some("Quiet"), T);
    std::thread::sleep(Duration::from_millis(300));
    let log = run.stderr();
    assert!(log.contains("request"), "debug logging is on: {log}");
    for secret in fake
        .access_tokens()
        .iter()
        .map(String::as_str)
        .chain(["refresh-0"])
    {
        assert!(!log.contains(secret), "a token in the log:\n{log}");
    }
}

#[test]
fn nothing_playing_is_idle() {
    let (fake, home) = setup();
    fake.set_default(Route::Player, Reply::no_content());
    let mut run = Run::start(&home.config(), &[]);
    run.wait_for("idle", None, T);
    fake.wait_for_requests(2, T);
    assert!(!fake.requests_to(Route::Player).is_empty());
    run.quiet_for(Duration::from_secs(1));
}

#[test]
fn an_expired_access_token_is_refreshed_and_the_poll_retried() {
    let (fake, home) = setup();
    fake.set_default(
        Route::Player,
        Reply::json(200, track("Before", 0, 600_000, true)),
    );
    let mut run = Run::start(&home.config(), &[]);
    run.wait_for("now_playing", Some("Before"), T);
    fake.expire_access_tokens();
    fake.set_default(
        Route::Player,
        Reply::json(200, track("After", 0, 600_000, true)),
    );
    run.wait_for("now_playing", Some("After"), T);
    assert_eq!(
        fake.requests_to(Route::Token).len(),
        2,
        "one refresh for the 401"
    );
}

#[test]
fn a_revoked_refresh_token_asks_for_a_login_once() {
    let fake = FakeSpotify::start();
    let home = Home::new(&fake, "refresh-revoked");
    let mut run = Run::start(&home.config(), &[]);
    run.wait_for("login_needed", None, T);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        fake.requests().len(),
        1,
        "no retry loop after invalid_grant"
    );
}

#[test]
fn a_wrong_client_id_is_a_config_error() {
    let (fake, home) = setup();
    fake.set_client("another-client", None);
    let mut run = Run::start(&home.config(), &[]);
    run.wait_for("config_error", None, T);
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(fake.requests().len(), 1);
}

#[test]
fn a_429_holds_every_request_for_retry_after() {
    let (fake, home) = setup();
    fake.set_default(
        Route::Player,
        Reply::json(200, track("Song", 0, 600_000, true)),
    );
    let mut run = Run::start(&home.config(), &[]);
    run.wait_for("now_playing", Some("Song"), T);
    fake.push(Route::Player, Reply::rate_limited(Some(12)));
    run.wait_for("rate_limited", None, Duration::from_secs(10));
    let limited_at = fake
        .requests_to(Route::Player)
        .last()
        .map(|r| r.at)
        .unwrap();
    let asked = fake.requests().len();
    run.wait_for("now_playing", Some("Song"), Duration::from_secs(20));
    // The screen may turn back as the wait ends, a moment before the request arrives.
    let next = fake
        .wait_for_requests(asked + 1, Duration::from_secs(5))
        .into_iter()
        .find(|r| r.at > limited_at)
        .expect("a request after the wait");
    let waited = next.at - limited_at;
    assert!(
        waited >= Duration::from_secs(12),
        "asked again after {waited:?}"
    );
    assert!(
        waited <= Duration::from_secs(14),
        "waited too long: {waited:?}"
    );
}

#[test]
fn server_errors_keep_the_last_state_and_back_off() {
    let (fake, home) = setup();
    fake.set_default(
        Route::Player,
        Reply::json(200, track("Stays", 0, 600_000, true)),
    );
    let mut run = Run::start(&home.config(), &[]);
    run.wait_for("now_playing", Some("Stays"), T);
    fake.set_default(Route::Player, Reply::api_error(503, "Service unavailable"));
    let before = fake.requests_to(Route::Player).len();
    // The same screen stays (with a stale badge); requests slow down.
    run.quiet_for(Duration::from_secs(12));
    let during = fake.requests_to(Route::Player).len() - before;
    assert!(
        (2..=6).contains(&during),
        "{during} requests in 12 s of 503s"
    );
}

#[test]
fn hanging_truncated_and_garbage_responses_do_not_hurt() {
    let (fake, home) = setup();
    fake.set_default(
        Route::Player,
        Reply::json(200, track("Solid", 0, 600_000, true)),
    );
    let mut run = Run::start(&home.config(), &[]);
    run.wait_for("now_playing", Some("Solid"), T);
    fake.push(Route::Player, Reply::hang());
    fake.push(
        Route::Player,
        Reply::json(200, track("Cut", 0, 600_000, true)).truncated_after(40),
    );
    fake.push(Route::Player, Reply::garbage());
    fake.push(
        Route::Player,
        Reply::json(200, "{\"item\": {\"name\": \"Malformed\""),
    );
    fake.set_default(
        Route::Player,
        Reply::json(200, track("Recovered", 0, 600_000, true)),
    );
    run.wait_for("now_playing", Some("Recovered"), Duration::from_secs(40));
    assert!(
        run.seen
            .iter()
            .all(|e| e["title"] != "Cut" && e["title"] != "Malformed")
    );
    assert!(run.child.try_wait().unwrap().is_none(), "still running");
}

#[test]
fn duration_exits_0_even_while_a_request_hangs() {
    let (fake, home) = setup();
    fake.set_default(Route::Player, Reply::hang());
    let started = Instant::now();
    let out = Command::new(tonearm_tests::tonearm_bin())
        .args([
            "run",
            "--headless",
            "--duration",
            "3",
            "--timeout",
            "60",
            "--config",
        ])
        .arg(home.config())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let took = started.elapsed();
    assert!(took < Duration::from_secs(8), "took {took:?}");
    drop(fake);
}

#[test]
fn a_kill_right_after_a_rotation_keeps_the_new_token() {
    let (fake, home) = setup();
    fake.set_rotation(Rotation::RotateAndRevokeOld);
    fake.set_default(
        Route::Player,
        Reply::json(200, track("Rotated", 0, 600_000, true)),
    );
    let mut run = Run::start(&home.config(), &[]);
    run.wait_for("now_playing", Some("Rotated"), T);
    // The rotation happened and the old token is revoked by the fake.
    let valid = fake.refresh_tokens();
    assert_eq!(valid.len(), 1);
    assert_ne!(valid[0], "refresh-0");
    // Kill it hard, then start again: the new token from token.json is used.
    let _ = run.child.kill();
    let _ = run.child.wait();
    assert_eq!(home.token().unwrap()["refresh_token"], valid[0].as_str());
    fake.expire_access_tokens();
    let mut again = Run::start(&home.config(), &[]);
    again.wait_for("now_playing", Some("Rotated"), T);
    let last_refresh = fake.requests_to(Route::Token).pop().unwrap();
    assert_eq!(
        last_refresh.form_field("refresh_token").as_deref(),
        Some(valid[0].as_str())
    );
    assert!(!again.seen.iter().any(|e| e["screen"] == "login_needed"));
}

#[test]
fn no_account_runs_the_demo_and_says_so() {
    let dir = std::env::temp_dir().join(format!("tonearm-noacct-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = Command::new(tonearm_tests::tonearm_bin())
        .args(["--headless", "--events", "--duration", "1.5"])
        .env("HOME", &dir)
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .env_remove("SPOTIFY_CLIENT_ID")
        .env_remove("SPOTIFY_REFRESH_TOKEN")
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).ok();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("demo") && err.contains("tonearm login"),
        "{err}"
    );
    let events = String::from_utf8_lossy(&out.stdout);
    assert!(events.contains("\"now_playing\""), "{events}");
}

#[test]
fn a_rotated_token_that_cannot_be_written_is_kept_and_written_later() {
    let (fake, home) = setup();
    fake.set_default(
        Route::Player,
        Reply::json(200, track("Kept", 0, 600_000, true)),
    );
    let mut run = Run::start(&home.config(), &["--duration", "20"]);
    run.wait_for("now_playing", Some("Kept"), T);
    // Make the next write of token.json fail: a directory where the writer's temporary
    // file goes (it is named after the process). Then rotate at the next refresh.
    let blocker = home.dir.join(format!(".token.json.tmp-{}", run.child.id()));
    std::fs::create_dir(&blocker).unwrap();
    std::fs::write(blocker.join("x"), b"x").unwrap();
    fake.set_rotation(Rotation::RotateAndRevokeOld);
    fake.expire_access_tokens();
    let refreshes = fake.requests_to(Route::Token).len();
    let deadline = Instant::now() + T;
    while fake.requests_to(Route::Token).len() == refreshes {
        assert!(Instant::now() < deadline, "no refresh after the 401");
        std::thread::sleep(Duration::from_millis(50));
    }
    let valid = fake.refresh_tokens();
    assert_eq!(valid.len(), 1);
    assert_ne!(valid[0], "refresh-0");
    // The display goes on with the token in memory: the polls are answered.
    let polls = fake.requests_to(Route::Player).len();
    while fake.requests_to(Route::Player).len() == polls {
        assert!(Instant::now() < deadline, "polls go on: {}", run.stderr());
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        run.stderr().contains("the new token is kept in memory"),
        "{}",
        run.stderr()
    );
    assert_ne!(
        home.token().map(|t| t["refresh_token"].clone()),
        Some(Value::from(valid[0].as_str())),
        "not written yet"
    );
    // The obstacle goes; by the end of the run the rotated token is on disk.
    std::fs::remove_dir_all(&blocker).unwrap();
    let status = run.child.wait().unwrap();
    assert!(status.success(), "{status}: {}", run.stderr());
    assert_eq!(home.token().unwrap()["refresh_token"], valid[0].as_str());
}
