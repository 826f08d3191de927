//! `tonearm hub` and `tonearm run --hub` end to end with real parts: a real mosquitto on
//! 127.0.0.1 with authentication (`tonearm_tests::mosquitto`), the fake Spotify, the hub
//! and several headless displays, all stopped at the end of each test.
//!
//! What the hub issue's "Tests" section asks: the displays show what `tonearm hub
//! --events` shows; a late display has the retained state within 3 s; a command published
//! as Home Assistant would is executed once, a retained one never; a broker restart, a
//! killed and a frozen hub are survived; wrong broker credentials are one line; a 1 MiB and
//! a malformed state message are ignored and replaced; the discovery payloads; no secret in
//! any message the broker saw; one poller per config.
//!
//! The fake plays scripted bodies (covers served by the fake itself, so nothing leaves
//! loopback) whose progress moves on with the clock, as Spotify's does: a hub publishes on
//! change only, so a frozen progress would look like a seek at every poll.

use std::io::{BufRead, BufReader, Read as _};
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use tonearm_tests::fake_spotify::{FakeSpotify, Reply, Rotation, Route};
use tonearm_tests::mosquitto::{Message, Mosquitto, Recorder, signal};

use crate::run_live::{Home, ROOMY_BUDGET, Run};

/// The hub's id in these tests.
const ID: &str = "desk";
/// The broker's users: the hub, the displays, Home Assistant.
const HUB_USER: &str = "tonearm-hub";
const HUB_PASSWORD: &str = "hub-broker-pw-5d1c";
const DISPLAY_USER: &str = "tonearm-display";
const DISPLAY_PASSWORD: &str = "display-broker-pw-a93e";
const HA_USER: &str = "homeassistant";
const HA_PASSWORD: &str = "ha-broker-pw-77b0";
/// The hub's Spotify client (the fake's default id) and a secret for the no-secret test.
const CLIENT_ID: &str = "tonearm-test-client";
const CLIENT_SECRET: &str = "client-secret-0f9e8d7c6b5a";
const REFRESH: &str = "refresh-hub-4b3a2918";

/// How long a test waits for something that should come within a poll or two.
const T: Duration = Duration::from_secs(15);
/// A bound on every process these tests start (they are killed at the end anyway).
const LIFETIME_S: &str = "90";
/// The largest cover message the contract allows (about 7.5 KiB).
const COVER_CAP: usize = 7680;

fn state_topic() -> String {
    format!("tonearm/{ID}/state")
}

fn availability_topic() -> String {
    format!("tonearm/{ID}/availability")
}

fn command_topic() -> String {
    format!("tonearm/{ID}/command")
}

fn cover_topic() -> String {
    format!("tonearm/{ID}/cover")
}

// ---------------------------------------------------------------------------------------
// The fake Spotify, playing.

/// What the fake plays.
#[derive(Clone, Debug)]
struct Playing {
    title: String,
    playing: bool,
    /// The progress at `since`.
    progress_ms: u64,
    since: Instant,
}

/// The fake Spotify with a player whose progress moves on: a thread rewrites the default
/// `/me/player` answer every 100 ms. Covers are served by the fake (one per title).
struct Spotify {
    fake: Arc<FakeSpotify>,
    now: Arc<Mutex<Option<Playing>>>,
    stop: Arc<AtomicBool>,
}

impl Spotify {
    fn start() -> Spotify {
        let fake = Arc::new(FakeSpotify::start());
        fake.add_refresh_token(REFRESH);
        let now = Arc::new(Mutex::new(None::<Playing>));
        let stop = Arc::new(AtomicBool::new(false));
        let spotify = Spotify {
            fake: Arc::clone(&fake),
            now: Arc::clone(&now),
            stop: Arc::clone(&stop),
        };
        spotify.publish_body();
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let playing = now.lock().unwrap().clone();
                fake.set_default(Route::Player, reply(&fake, playing.as_ref()));
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        spotify
    }

    /// Plays `title` from 0 (its cover served by the fake).
    fn play(&self, title: &str) {
        let slug = slug(title);
        let seed = title
            .bytes()
            .fold(7u32, |h, b| h.wrapping_mul(31) ^ u32::from(b));
        for side in [300u16, 64] {
            let rgb = tonearm_firmware::art::pattern_rgb(seed, side.into());
            self.fake
                .set_image(&format!("{slug}-{side}"), jpeg(&rgb, side));
        }
        *self.now.lock().unwrap() = Some(Playing {
            title: title.to_owned(),
            playing: true,
            progress_ms: 0,
            since: Instant::now(),
        });
        self.publish_body();
    }

    /// Pauses what plays (its progress stops).
    fn pause(&self) {
        if let Some(p) = self.now.lock().unwrap().as_mut() {
            p.progress_ms = position(p);
            p.playing = false;
            p.since = Instant::now();
        }
        self.publish_body();
    }

    /// Nothing loaded: `/me/player` answers 204.
    fn stop_playing(&self) {
        *self.now.lock().unwrap() = None;
        self.publish_body();
    }

    fn publish_body(&self) {
        let playing = self.now.lock().unwrap().clone();
        self.fake
            .set_default(Route::Player, reply(&self.fake, playing.as_ref()));
    }

    /// Every secret the fake handed out or was given: the access tokens the hub sent
    /// (from the requests' Authorization headers), the refresh tokens, the client secret.
    fn secrets(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .fake
            .requests()
            .iter()
            .filter_map(|r| r.header("authorization"))
            .filter_map(|h| h.strip_prefix("Bearer "))
            .map(str::to_owned)
            .collect();
        out.extend(self.fake.access_tokens());
        out.extend(self.fake.refresh_tokens());
        out.push(REFRESH.to_owned());
        out.push(CLIENT_SECRET.to_owned());
        out.sort();
        out.dedup();
        out
    }
}

impl Deref for Spotify {
    type Target = FakeSpotify;
    fn deref(&self) -> &FakeSpotify {
        &self.fake
    }
}

impl Drop for Spotify {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn position(p: &Playing) -> u64 {
    if p.playing {
        p.progress_ms + u64::try_from(p.since.elapsed().as_millis()).unwrap_or(0)
    } else {
        p.progress_ms
    }
}

fn slug(title: &str) -> String {
    title
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase()
}

fn jpeg(rgb: &[u8], side: u16) -> Vec<u8> {
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 85)
        .encode(rgb, side, side, jpeg_encoder::ColorType::Rgb)
        .unwrap();
    out
}

/// The `/me/player` answer for what plays (204 for nothing).
fn reply(fake: &FakeSpotify, playing: Option<&Playing>) -> Reply {
    let Some(p) = playing else {
        return Reply::no_content();
    };
    let slug = slug(&p.title);
    let body = serde_json::json!({
        "device": {"id": "dev1", "name": "Desk", "type": "Speaker", "volume_percent": 50,
                   "is_active": true, "is_restricted": false, "supports_volume": true},
        "shuffle_state": false,
        "repeat_state": "off",
        "timestamp": 0,
        "progress_ms": position(p).min(599_000),
        "is_playing": p.playing,
        "currently_playing_type": "track",
        "actions": {"disallows": {}},
        "item": {
            "type": "track", "id": format!("{slug}0000000000"), "name": p.title,
            "uri": format!("spotify:track:{slug}0000000000"),
            "duration_ms": 600_000, "is_local": false,
            "artists": [{"name": "The Band"}],
            "album": {"name": "The Album", "images": [
                {"url": fake.image_url(&format!("{slug}-300")), "width": 300, "height": 300},
                {"url": fake.image_url(&format!("{slug}-64")), "width": 64, "height": 64}]},
        },
    });
    Reply::json(200, body.to_string())
}

// ---------------------------------------------------------------------------------------
// The hub process.

/// `tonearm --config X hub ...` with its event stream and its stderr.
struct Hub {
    child: Child,
    events: Receiver<Value>,
    seen: Vec<Value>,
    stderr: Arc<Mutex<String>>,
}

impl Hub {
    fn spawn(config: &Path, args: &[&str], env: &[(&str, &str)]) -> Hub {
        let mut child = Command::new(tonearm_tests::tonearm_bin())
            .arg("--config")
            .arg(config)
            .arg("hub")
            .args(args)
            .env_remove("SPOTIFY_CLIENT_ID")
            .env_remove("SPOTIFY_CLIENT_SECRET")
            .env_remove("SPOTIFY_REFRESH_TOKEN")
            .env_remove("TONEARM_MQTT_PASSWORD")
            .env("RUST_LOG", "debug")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("tonearm hub starts");
        let (tx, events) = channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let v: Value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("the hub's event line is not JSON ({e}): {line}"));
                if tx.send(v).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&stderr);
        let err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                let mut s = sink.lock().unwrap();
                s.push_str(&line);
                s.push('\n');
            }
        });
        Hub {
            child,
            events,
            seen: Vec::new(),
            stderr,
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn wait_for(&mut self, screen: &str, title: Option<&str>, timeout: Duration) -> Value {
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
                    "the hub: no {screen} {title:?} event in {timeout:?}; saw {:?}\nstderr:\n{}",
                    self.seen,
                    self.stderr()
                ),
            }
        }
    }

    /// Waits for an event line for which `want` holds (seen before or coming).
    fn wait_for_line(&mut self, timeout: Duration, want: impl Fn(&Value) -> bool) -> Value {
        if let Some(ev) = self.seen.iter().find(|e| want(e)) {
            return ev.clone();
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok(ev) => {
                    self.seen.push(ev.clone());
                    if want(&ev) {
                        return ev;
                    }
                }
                Err(_) => panic!(
                    "the hub: no such line in {timeout:?}; saw {:?}\nstderr:\n{}",
                    self.seen,
                    tail(&self.stderr(), 30)
                ),
            }
        }
    }

    /// Takes every event that comes within `d` of the last one.
    fn drain(&mut self, d: Duration) {
        while let Ok(ev) = self.events.recv_timeout(d) {
            self.seen.push(ev);
        }
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        // SIGKILL ends a stopped process too.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------------------
// A house: the fake Spotify, the broker, the hub's config, the displays' config.

struct House {
    spotify: Spotify,
    broker: Mosquitto,
    home: Home,
    display_home: tempfile::TempDir,
}

impl House {
    fn new() -> House {
        House::with(Mosquitto::builder(), "")
    }

    /// A house whose broker is `builder` (with the three users added) and whose hub
    /// config has `extra` lines.
    fn with(builder: tonearm_tests::mosquitto::MosquittoBuilder, extra: &str) -> House {
        let spotify = Spotify::start();
        spotify.play("Song A");
        let broker = builder
            .user(HUB_USER, HUB_PASSWORD)
            .user(DISPLAY_USER, DISPLAY_PASSWORD)
            .user(HA_USER, HA_PASSWORD)
            .start();
        let home = Home::with(
            &spotify,
            Some(REFRESH),
            &format!(
                "{ROOMY_BUDGET}poll_paused_s = 5\n\
                 mqtt_url = \"{}\"\nmqtt_username = \"{HUB_USER}\"\n\
                 mqtt_password = \"{HUB_PASSWORD}\"\n{extra}",
                broker.url()
            ),
        );
        let display_home = tempfile::Builder::new()
            .prefix("tonearm-hub-display-")
            .tempdir()
            .unwrap();
        // A display fed by a hub: the broker's keys and nothing of Spotify.
        std::fs::write(
            display_home.path().join("config.toml"),
            format!("mqtt_username = \"{DISPLAY_USER}\"\nmqtt_password = \"{DISPLAY_PASSWORD}\"\n"),
        )
        .unwrap();
        House {
            spotify,
            broker,
            home,
            display_home,
        }
    }

    /// `mqtt://127.0.0.1:PORT/desk`.
    fn hub_url(&self) -> String {
        format!("{}/{ID}", self.broker.url())
    }

    fn display_config(&self) -> PathBuf {
        self.display_home.path().join("config.toml")
    }

    /// The hub with `--id desk --events`, bounded in time, plus `extra`.
    fn hub(&self, extra: &[&str]) -> Hub {
        let mut args = vec![
            "--id",
            ID,
            "--events",
            "--timeout",
            "2",
            "--duration",
            LIFETIME_S,
        ];
        args.extend_from_slice(extra);
        Hub::spawn(&self.home.config(), &args, &[])
    }

    /// A headless display fed by the hub (`run --headless --events --hub URL`).
    fn display(&self) -> Run {
        let url = self.hub_url();
        Run::start(
            &self.display_config(),
            &["--hub", &url, "--duration", LIFETIME_S],
        )
    }

    /// A recorder on `#` as Home Assistant's user (subscribed before it returns).
    fn recorder(&self) -> Recorder {
        let r = Recorder::connect(self.broker.port(), HA_USER, HA_PASSWORD, "#");
        r.wait_subscribed(Duration::from_secs(10))
            .unwrap_or_else(|e| panic!("recorder: {e}\n{}", self.broker.log()));
        r
    }

    /// Publishes as Home Assistant does (`mosquitto_pub`, QoS 0 as its buttons do).
    fn ha_publish(&self, topic: &str, payload: &str, retain: bool) {
        let mut cmd = self.broker.pub_command_as(HA_USER, HA_PASSWORD);
        cmd.args(["-q", "0", "-t", topic, "-m", payload]);
        if retain {
            cmd.arg("-r");
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "mosquitto_pub: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The house's fake Spotify (its requests, its settings).
impl Deref for House {
    type Target = FakeSpotify;
    fn deref(&self) -> &FakeSpotify {
        &self.spotify
    }
}

// ---------------------------------------------------------------------------------------
// Helpers.

/// An event line without what may differ between the hub and its displays (`t_ms`, and
/// the hub's `budget`).
fn norm(ev: &Value) -> Value {
    let mut v = ev.clone();
    if let Some(o) = v.as_object_mut() {
        o.remove("t_ms");
        o.remove("budget");
    }
    v
}

/// The (screen, title) steps from the first `now_playing` of `title` on, repeats removed.
fn steps_from(events: &[Value], title: &str) -> Vec<(String, String)> {
    let start = events
        .iter()
        .position(|e| e["screen"] == "now_playing" && e["title"] == title)
        .unwrap_or(events.len());
    let mut out: Vec<(String, String)> = Vec::new();
    for e in &events[start..] {
        let step = (e["screen"].to_string(), e["title"].to_string());
        if out.last() != Some(&step) {
            out.push(step);
        }
    }
    out
}

/// Waits until the display printed a line for which `want` holds, then until it has
/// been quiet for a second (bounded: 15 s in all).
fn settle(run: &mut Run, want: impl Fn(&Value) -> bool) {
    let deadline = Instant::now() + T;
    while !run.seen.iter().any(&want) {
        assert!(
            Instant::now() < deadline,
            "display: no such line in {T:?}: {:?}\n{}",
            run.seen,
            run.stderr()
        );
        let _ = run.next_event(Duration::from_millis(100));
    }
    while run.next_event(Duration::from_secs(1)).is_some() {
        assert!(
            Instant::now() < deadline,
            "display never quiet: {:?}",
            run.seen
        );
    }
}

/// Waits for the display's `screen` (with `title`); on failure says what the display saw
/// and printed, and `context()`.
fn shows(
    run: &mut Run,
    screen: &str,
    title: Option<&str>,
    timeout: Duration,
    context: impl Fn() -> String,
) {
    let deadline = Instant::now() + timeout;
    let mut checked = 0;
    loop {
        let hit = run.seen[checked..]
            .iter()
            .any(|e| e["screen"] == screen && title.is_none_or(|t| e["title"] == t));
        if hit {
            return;
        }
        checked = run.seen.len();
        if Instant::now() > deadline {
            panic!(
                "display: no {screen} {title:?} in {timeout:?}; saw {:?}\ndisplay stderr:\n{}\n{}",
                run.seen,
                tail(&run.stderr(), 30),
                context()
            );
        }
        let _ = run.next_event(Duration::from_millis(100));
    }
}

/// The last `n` lines of `text`.
fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Runs `cmd` to its end, within `timeout` (killed and a panic after it).
fn output_within(mut cmd: Command, timeout: Duration) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_t = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = out.read_to_end(&mut b);
        b
    });
    let err_t = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = err.read_to_end(&mut b);
        b
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            let e = err_t.join().unwrap_or_default();
            panic!(
                "still running after {timeout:?}; stderr:\n{}",
                String::from_utf8_lossy(&e)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Output {
        status,
        stdout: out_t.join().unwrap_or_default(),
        stderr: err_t.join().unwrap_or_default(),
    }
}

/// The `tonearm` command with `--config X` and the Spotify variables removed.
fn tonearm(config: &Path) -> Command {
    let mut cmd = Command::new(tonearm_tests::tonearm_bin());
    cmd.arg("--config")
        .arg(config)
        .env_remove("SPOTIFY_CLIENT_ID")
        .env_remove("SPOTIFY_CLIENT_SECRET")
        .env_remove("SPOTIFY_REFRESH_TOKEN")
        .env_remove("TONEARM_MQTT_PASSWORD")
        .env_remove("RUST_LOG");
    cmd
}

/// Waits until the recorder sees a state (after the first `from` messages) whose title is
/// `title`.
fn wait_state(rec: &Recorder, from: usize, title: &str, timeout: Duration) -> Message {
    rec.wait_for_after(from, timeout, |m| {
        m.topic == state_topic() && m.json().is_some_and(|v| v["title"] == title)
    })
    .unwrap_or_else(|| {
        panic!(
            "no state with {title} in {timeout:?}; states: {:?}",
            rec.on(&state_topic())
                .iter()
                .map(Message::text)
                .collect::<Vec<_>>()
        )
    })
}

/// The number of requests on `route` after waiting `settle`.
fn count_settled(fake: &FakeSpotify, route: Route, settle: Duration) -> usize {
    std::thread::sleep(settle);
    fake.requests_to(route).len()
}

// ---------------------------------------------------------------------------------------
// The tests.

#[test]
fn three_displays_show_the_screens_of_the_hub() {
    let house = House::new();
    let rec = house.recorder();
    let mut hub = house.hub(&[]);
    hub.wait_for("now_playing", Some("Song A"), T);
    let mut displays: Vec<Run> = (0..3).map(|_| house.display()).collect();
    for d in &mut displays {
        d.wait_for("now_playing", Some("Song A"), T);
    }
    // The same changes reach every screen.
    house.spotify.pause();
    hub.wait_for("paused", Some("Song A"), T);
    for d in &mut displays {
        d.wait_for("paused", Some("Song A"), T);
    }
    house.spotify.play("Song B");
    hub.wait_for("now_playing", Some("Song B"), T);
    for d in &mut displays {
        d.wait_for("now_playing", Some("Song B"), T);
    }
    house.spotify.stop_playing();
    hub.wait_for("idle", None, T);
    for d in &mut displays {
        d.wait_for("idle", None, T);
    }
    // Late keys (heart, up next) settle; then every display's lines match the hub's.
    std::thread::sleep(Duration::from_secs(1));
    hub.drain(Duration::from_millis(200));
    let hub_steps = steps_from(&hub.seen, "Song A");
    let hub_last = norm(hub.seen.last().unwrap());
    for (i, d) in displays.iter_mut().enumerate() {
        while d.next_event(Duration::from_millis(200)).is_some() {}
        assert_eq!(
            steps_from(&d.seen, "Song A"),
            hub_steps,
            "display {i}'s screens differ from the hub's:\n{:?}\nhub: {:?}",
            d.seen,
            hub.seen
        );
        assert_eq!(norm(d.seen.last().unwrap()), hub_last, "display {i}");
        // A display fed by a hub has no budget of its own.
        assert!(
            d.seen.iter().all(|e| e.get("budget").is_none()),
            "display {i}: {:?}",
            d.seen
        );
        assert!(d.child.try_wait().unwrap().is_none(), "display {i} runs");
    }
    // The state messages: version 1, within 4 KiB, seq growing, published on change only.
    let states = rec.on(&state_topic());
    assert!(states.len() >= 4, "{} states", states.len());
    let mut last_seq = None;
    for m in &states {
        assert!(m.payload.len() <= 4096, "{} bytes", m.payload.len());
        assert!(m.retain, "state is retained");
        let v = m.json().unwrap_or_else(|| panic!("not JSON: {}", m.text()));
        assert_eq!(v["v"], 1, "{v}");
        let seq = v["seq"].as_u64().unwrap_or_else(|| panic!("seq: {v}"));
        if let Some(last) = last_seq {
            assert!(seq > last, "seq {seq} after {last}");
        }
        last_seq = Some(seq);
    }
}

#[test]
fn a_steady_song_publishes_no_state_per_poll_and_its_cover_is_small() {
    let house = House::new();
    let rec = house.recorder();
    let mut hub = house.hub(&[]);
    hub.wait_for("now_playing", Some("Song A"), T);
    let state = wait_state(&rec, 0, "Song A", T);
    // Let the late keys (the heart) come, then count for 7 s (a poll or two at 5 s).
    rec.wait_for(T, |m| {
        m.topic == state_topic() && m.json().is_some_and(|v| !v["liked"].is_null())
    })
    .expect("a state with the heart");
    std::thread::sleep(Duration::from_millis(500));
    let polls = house.requests_to(Route::Player).len();
    let n = rec.on(&state_topic()).len();
    std::thread::sleep(Duration::from_secs(7));
    assert!(
        house.requests_to(Route::Player).len() > polls,
        "the hub polls"
    );
    assert_eq!(
        rec.on(&state_topic()).len(),
        n,
        "states while nothing changed: {:?}",
        rec.on(&state_topic())
            .iter()
            .map(Message::text)
            .collect::<Vec<_>>()
    );
    // The cover: retained, small, tagged with the state's cover_url, a JPEG.
    let cover_url = state.json().unwrap()["cover_url"].clone();
    assert!(cover_url.is_string(), "{}", state.text());
    let cover = rec
        .wait_for(T, |m| {
            m.topic == cover_topic() && m.user_property("url") == cover_url.as_str()
        })
        .unwrap_or_else(|| panic!("no cover for {cover_url}: {:?}", rec.on(&cover_topic())));
    assert!(cover.retain);
    assert!(
        cover.payload.len() <= COVER_CAP,
        "{} bytes",
        cover.payload.len()
    );
    assert!(cover.payload.starts_with(&[0xff, 0xd8]), "a JPEG");
    assert!(
        house.requests_to(Route::Image).len() <= 2,
        "the cover fetched once (or twice for two sizes)"
    );
}

#[test]
fn a_display_started_after_the_hub_shows_the_retained_state_within_3_s() {
    let house = House::new();
    let rec = house.recorder();
    let mut hub = house.hub(&[]);
    hub.wait_for("now_playing", Some("Song A"), T);
    wait_state(&rec, 0, "Song A", T);
    std::thread::sleep(Duration::from_secs(1));
    let mut display = house.display();
    let ev = display.wait_for("now_playing", Some("Song A"), T);
    let t = ev["t_ms"].as_u64().unwrap();
    assert!(
        t <= 3000,
        "shown {t} ms after the start: {:?}",
        display.seen
    );
    // Before the state: only `connecting` (never another screen).
    for e in &display.seen[..display.seen.len() - 1] {
        assert_eq!(e["screen"], "connecting", "{:?}", display.seen);
    }
    // The display asks Spotify nothing: every request the fake saw carried the hub's
    // token (the display has none), and it needs no client id.
    assert!(
        house
            .requests()
            .iter()
            .filter(|r| r.route != Route::Token && r.route != Route::Image)
            .all(|r| r
                .header("authorization")
                .is_some_and(|h| h.starts_with("Bearer ")))
    );
}

/// Waits until the fake saw `n` requests on `route` (the session's ceiling of 12
/// requests in 30 s may hold a press back for a while: up to 30 s).
fn wait_requests(house: &House, hub: &Hub, route: Route, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while house.requests_to(route).len() < n {
        assert!(
            Instant::now() < deadline,
            "{n} {route:?} not sent: {}\nrequests: {:?}",
            tail(&hub.stderr(), 20),
            house
                .requests()
                .iter()
                .map(|r| format!("{:?} {} {}", r.at, r.method, r.path()))
                .collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_command_from_home_assistant_is_executed_once_and_a_retained_one_never() {
    let house = House::new();
    // A retained press from long ago waits on the broker before the hub starts.
    house.ha_publish(&command_topic(), "next", true);
    let rec = house.recorder();
    let mut hub = house.hub(&[]);
    hub.wait_for("now_playing", Some("Song A"), T);
    wait_state(&rec, 0, "Song A", T);
    assert_eq!(
        count_settled(&house, Route::Next, Duration::from_secs(2)),
        0,
        "a retained command was executed at start"
    );
    // ... and cleared (an empty retained message), so no late subscriber gets it.
    let cleared = rec.wait_for(T, |m| m.topic == command_topic() && m.payload.is_empty());
    assert!(
        cleared.is_some_and(|m| m.retain),
        "{:?}",
        rec.on(&command_topic())
    );
    let late = Recorder::connect(house.broker.port(), HA_USER, HA_PASSWORD, &command_topic());
    late.wait_subscribed(T).unwrap();
    std::thread::sleep(Duration::from_millis(500));
    assert!(late.messages().is_empty(), "{:?}", late.messages());

    // One press: one request.
    house.ha_publish(&command_topic(), "next", false);
    wait_requests(&house, &hub, Route::Next, 1);
    assert_eq!(
        count_settled(&house, Route::Next, Duration::from_secs(3)),
        1
    );
    // A retained press while the hub runs: never executed, cleared.
    let before = rec.count();
    house.ha_publish(&command_topic(), "next", true);
    let cleared = rec.wait_for_after(before, T, |m| {
        m.topic == command_topic() && m.payload.is_empty()
    });
    assert!(
        cleared.is_some(),
        "a live retained command was not cleared: {:?}",
        rec.on(&command_topic())
    );
    assert_eq!(
        count_settled(&house, Route::Next, Duration::from_secs(3)),
        1,
        "a retained command ran"
    );
}

#[test]
fn every_command_is_sent_once_and_anything_else_is_ignored() {
    let house = House::new();
    let mut hub = house.hub(&[]);
    hub.wait_for("now_playing", Some("Song A"), T);
    // Anything but the exact commands is ignored, and the hub goes on.
    for junk in ["NEXT", "next ", "volume:", "volume:101", "rm -rf /", ""] {
        house.ha_publish(&command_topic(), junk, false);
    }
    house
        .broker
        .publish(&command_topic(), b"\x00\xffnext", false)
        .unwrap();
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        hub.child.try_wait().unwrap().is_none(),
        "the hub runs: {}",
        hub.stderr()
    );
    for route in [Route::Next, Route::Volume, Route::Play, Route::Pause] {
        assert!(house.requests_to(route).is_empty(), "{route:?}");
    }
    // play_pause while playing pauses; previous goes back; volume:NN sets it: each once.
    house.ha_publish(&command_topic(), "play_pause", false);
    wait_requests(&house, &hub, Route::Pause, 1);
    house.ha_publish(&command_topic(), "previous", false);
    wait_requests(&house, &hub, Route::Previous, 1);
    house.ha_publish(&command_topic(), "volume:30", false);
    wait_requests(&house, &hub, Route::Volume, 1);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(house.requests_to(Route::Pause).len(), 1);
    assert_eq!(house.requests_to(Route::Previous).len(), 1);
    assert_eq!(house.requests_to(Route::Play).len(), 0);
    let volume = house.requests_to(Route::Volume);
    assert_eq!(volume.len(), 1);
    assert_eq!(
        volume[0].query_param("volume_percent").as_deref(),
        Some("30")
    );
    // like and unlike, for the track playing, once the heart is known.
    let uri = "spotify:track:songa0000000000";
    hub.wait_for_line(T, |e| e["title"] == "Song A" && e["liked"] == false);
    house.ha_publish(&command_topic(), "like", false);
    wait_requests(&house, &hub, Route::LibrarySave, 1);
    assert_eq!(
        house.requests_to(Route::LibrarySave)[0]
            .query_param("uris")
            .as_deref(),
        Some(uri)
    );
    hub.wait_for_line(T, |e| e["title"] == "Song A" && e["liked"] == true);
    house.ha_publish(&command_topic(), "unlike", false);
    wait_requests(&house, &hub, Route::LibraryRemove, 1);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(house.requests_to(Route::LibrarySave).len(), 1);
    assert_eq!(house.requests_to(Route::LibraryRemove).len(), 1);
    assert!(!house.is_liked(uri));
}

#[test]
fn a_display_fed_by_a_hub_snapshots_what_it_shows() {
    let house = House::new();
    let mut hub = house.hub(&[]);
    hub.wait_for("now_playing", Some("Song A"), T);
    let dir = tempfile::tempdir().unwrap();
    let shown = dir.path().join("shown.png");
    let waiting = dir.path().join("waiting.png");
    let url = house.hub_url();
    let nobody = format!("{}/nobody", house.broker.url());
    let mut a = Run::start(
        &house.display_config(),
        &[
            "--hub",
            &url,
            "--duration",
            "6",
            "--snapshot",
            shown.to_str().unwrap(),
        ],
    );
    let mut b = Run::start(
        &house.display_config(),
        &[
            "--hub",
            &nobody,
            "--duration",
            "6",
            "--snapshot",
            waiting.to_str().unwrap(),
        ],
    );
    a.wait_for("now_playing", Some("Song A"), T);
    b.wait_for("connecting", None, T);
    for run in [&mut a, &mut b] {
        let status = run.child.wait().unwrap();
        assert!(status.success(), "{status}: {}", run.stderr());
    }
    assert!(
        b.seen.iter().all(|e| e["screen"] == "connecting"),
        "{:?}",
        b.seen
    );
    let (shown, waiting) = (pixels(&shown), pixels(&waiting));
    assert_eq!(shown.0, waiting.0, "same size");
    assert_ne!(shown.1, waiting.1, "the hub's state is drawn");
}

/// A PNG's size and RGB(A) bytes.
fn pixels(path: &Path) -> ((u32, u32), Vec<u8>) {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut reader = png::Decoder::new(BufReader::new(file)).read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    ((info.width, info.height), buf)
}

#[test]
fn the_broker_restarted_hub_and_displays_reconnect_and_the_state_returns() {
    let mut house = House::new();
    let mut hub = house.hub(&[]);
    hub.wait_for("now_playing", Some("Song A"), T);
    let mut displays = [house.display(), house.display()];
    for d in &mut displays {
        d.wait_for("now_playing", Some("Song A"), T);
    }
    // The broker dies (SIGKILL: no will goes out; without persistence it forgets every
    // retained message): `offline` once it has been unreachable for 3 s, not at once.
    house.broker.kill();
    let stopped = Instant::now();
    for d in &mut displays {
        d.wait_for("offline", None, Duration::from_secs(10));
    }
    let took = stopped.elapsed();
    assert!(
        took >= Duration::from_millis(2500),
        "offline after {took:?}"
    );
    std::thread::sleep(Duration::from_secs(2));
    house.broker.restart();
    // Everything comes back within the backoff (at most 30 s; here a few seconds).
    for d in &mut displays {
        shows(
            d,
            "now_playing",
            Some("Song A"),
            Duration::from_secs(35),
            || {
                format!(
                    "hub:\n{}\nbroker:\n{}",
                    tail(&hub.stderr(), 40),
                    house.broker.log()
                )
            },
        );
    }
    // The hub published its retained messages again: a newcomer has them all.
    let rec = house.recorder();
    let state = rec
        .wait_for_topic(&state_topic(), Duration::from_secs(5))
        .expect("the state again");
    assert!(state.retain);
    assert_eq!(state.json().unwrap()["title"], "Song A");
    let avail = rec
        .wait_for_topic(&availability_topic(), Duration::from_secs(5))
        .expect("availability again");
    assert_eq!(avail.text(), "online");
    assert!(
        rec.wait_for(Duration::from_secs(5), |m| m
            .topic
            .starts_with("homeassistant/")
            && m.topic.ends_with("/config"))
            .is_some(),
        "discovery again"
    );
    // A change after the restart reaches the displays.
    house.spotify.play("Song C");
    for d in &mut displays {
        d.wait_for("now_playing", Some("Song C"), T);
    }
    assert!(hub.child.try_wait().unwrap().is_none(), "{}", hub.stderr());
}

#[test]
fn a_killed_hub_shows_offline_and_a_new_one_brings_the_screens_back() {
    let house = House::new();
    let mut hub = house.hub(&[]);
    hub.wait_for("now_playing", Some("Song A"), T);
    let mut displays = [house.display(), house.display()];
    for d in &mut displays {
        d.wait_for("now_playing", Some("Song A"), T);
    }
    signal(hub.pid(), "KILL");
    let killed = Instant::now();
    for d in &mut displays {
        d.wait_for("offline", None, Duration::from_secs(10));
    }
    assert!(
        killed.elapsed() < Duration::from_secs(10),
        "{:?}",
        killed.elapsed()
    );
    drop(hub);
    // The lock went with the process: a new hub starts on the same config.
    let mut hub = house.hub(&[]);
    hub.wait_for("now_playing", Some("Song A"), T);
    for d in &mut displays {
        d.wait_for("now_playing", Some("Song A"), T);
    }
}

#[test]
fn a_frozen_hub_shows_offline_within_10_s_and_recovers_when_it_goes_on() {
    let house = House::new();
    let mut hub = house.hub(&[]);
    hub.wait_for("now_playing", Some("Song A"), T);
    let mut display = house.display();
    display.wait_for("now_playing", Some("Song A"), T);
    let rec = house.recorder();
    signal(hub.pid(), "STOP");
    let stopped = Instant::now();
    // The hub's heartbeat stops at once: the display counts 6 s of silence. (Its will
    // comes later: Debian's mosquitto 2.0.11 notices a silent client late, 10.5-11.3 s
    // after its last packet with rumqttc's shortest keep-alive of 5 s.)
    display.wait_for("offline", None, Duration::from_secs(12));
    let took = stopped.elapsed();
    let will = rec.wait_for(Duration::from_secs(15), |m| {
        m.topic == availability_topic() && m.text() == "offline"
    });
    signal(hub.pid(), "CONT");
    let will = will.expect("the will");
    assert!(
        took <= Duration::from_secs(10),
        "offline after {took:?} (the will after {:?})\n{}",
        will.at.saturating_duration_since(stopped),
        house.broker.log()
    );
    assert!(will.retain);
    display.wait_for("now_playing", Some("Song A"), Duration::from_secs(35));
    let back = rec.wait_for(T, |m| {
        m.topic == availability_topic() && m.text() == "online" && m.at > will.at
    });
    assert!(back.is_some(), "online again");
}

#[test]
fn wrong_broker_credentials_are_one_line_naming_the_broker_and_the_user() {
    let house = House::new();
    let home = Home::with(
        &house.spotify,
        Some(REFRESH),
        &format!(
            "{ROOMY_BUDGET}mqtt_url = \"{}\"\nmqtt_username = \"{HUB_USER}\"\nmqtt_password = \"not-the-pw-9c1d\"\n",
            house.broker.url()
        ),
    );
    let mut cmd = tonearm(&home.config());
    cmd.args(["hub", "--id", ID, "--duration", "30"]);
    let out = output_within(cmd, Duration::from_secs(20));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line: {err}");
    let broker = format!("127.0.0.1:{}", house.broker.port());
    assert!(lines[0].contains(&broker), "names the broker: {err}");
    assert!(lines[0].contains(HUB_USER), "names the user: {err}");
    assert!(
        !err.contains("not-the-pw-9c1d"),
        "the password printed: {err}"
    );

    // The password from the environment beats the file's.
    let mut hub = Hub::spawn(
        &home.config(),
        &["--id", ID, "--events", "--duration", "20"],
        &[("TONEARM_MQTT_PASSWORD", HUB_PASSWORD)],
    );
    hub.wait_for("now_playing", Some("Song A"), T);
    drop(hub);

    // A URL with credentials in it is refused, naming the keys to use instead.
    let url = format!(
        "mqtt://{HUB_USER}:url-pw-3e4f@127.0.0.1:{}",
        house.broker.port()
    );
    let mut cmd = tonearm(&home.config());
    cmd.args(["hub", "--id", ID, "--mqtt", &url, "--duration", "5"]);
    let out = output_within(cmd, Duration::from_secs(10));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        matches!(out.status.code(), Some(1 | 2)),
        "{:?}: {err}",
        out.status
    );
    assert!(
        err.contains("mqtt_username") && err.contains("mqtt_password"),
        "{err}"
    );
    assert!(!err.contains("url-pw-3e4f"), "the password echoed: {err}");

    // A bad id is refused.
    let mut cmd = tonearm(&home.config());
    cmd.args(["hub", "--id", "Desk Display", "--duration", "5"]);
    let out = output_within(cmd, Duration::from_secs(10));
    assert!(matches!(out.status.code(), Some(1 | 2)), "{:?}", out.status);
}

#[test]
fn a_huge_and_a_malformed_state_are_ignored_and_the_hubs_next_publish_replaces_them() {
    let house = House::new();
    let mut hub = house.hub(&[]);
    hub.wait_for("now_playing", Some("Song A"), T);
    let mut display = house.display();
    display.wait_for("now_playing", Some("Song A"), T);
    let rec = house.recorder();
    wait_state(&rec, 0, "Song A", T);
    // The late keys (the heart) come in a second state: let the display show them.
    settle(&mut display, |e| {
        e["title"] == "Song A" && e.get("liked").is_some()
    });
    // 1 MiB of a plausible state, retained, then one cut short, one of another version,
    // one that is not JSON at all.
    let mut huge = String::from(r#"{"v":1,"seq":999999,"screen":"now_playing","title":""#);
    huge.push_str(&"x".repeat(1 << 20));
    huge.push_str(r#"","is_playing":true}"#);
    let junk: [&[u8]; 4] = [
        huge.as_bytes(),
        br#"{"v":1,"seq":1000000,"screen":"now_playing","title":"Broken"#,
        br#"{"v":2,"seq":1000001,"screen":"idle","title":"Version two"}"#,
        b"\xff\xfe not json \x00",
    ];
    for payload in junk {
        house.broker.publish(&state_topic(), payload, true).unwrap();
    }
    // The display shows what it showed, and runs.
    display.quiet_for(Duration::from_secs(3));
    assert!(
        display.child.try_wait().unwrap().is_none(),
        "{}",
        display.stderr()
    );
    // A display started now finds junk retained: it waits, without crashing.
    let mut late = house.display();
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        late.child.try_wait().unwrap().is_none(),
        "{}",
        late.stderr()
    );
    while late.next_event(Duration::from_millis(100)).is_some() {}
    assert!(
        late.seen.iter().all(|e| e["title"] != "Broken"
            && e["title"] != "Version two"
            && e["screen"] != "idle"),
        "{:?}",
        late.seen
    );
    // The hub's next publish replaces them all.
    let from = rec.count();
    house.spotify.play("Song B");
    display.wait_for("now_playing", Some("Song B"), T);
    late.wait_for("now_playing", Some("Song B"), T);
    wait_state(&rec, from, "Song B", T);
    let fresh = house.recorder();
    let retained = fresh
        .wait_for_topic(&state_topic(), Duration::from_secs(5))
        .expect("a retained state");
    let v = retained.json().expect("JSON again");
    assert_eq!(v["v"], 1);
    assert_eq!(v["title"], "Song B");
    assert!(retained.payload.len() <= 4096);
    assert!(hub.child.try_wait().unwrap().is_none(), "{}", hub.stderr());
}

#[test]
fn discovery_configs_carry_the_keys_home_assistant_reads_and_come_again_on_its_birth() {
    let house = House::new();
    let rec = house.recorder();
    let mut hub = house.hub(&[]);
    hub.wait_for("now_playing", Some("Song A"), T);
    let prefix = format!("tonearm_{ID}");
    let want: [(&str, &str); 9] = [
        ("sensor", "title"),
        ("sensor", "artist"),
        ("sensor", "album"),
        ("sensor", "device"),
        ("binary_sensor", "playing"),
        ("image", "cover"),
        ("button", "play_pause"),
        ("button", "next"),
        ("button", "previous"),
    ];
    let topic = |c: &str, o: &str| format!("homeassistant/{c}/{prefix}/{o}/config");
    for (c, o) in want {
        let t = topic(c, o);
        rec.wait_for_topic(&t, T)
            .unwrap_or_else(|| panic!("no {t}; discovery seen: {:?}", discovery_topics(&rec)));
    }
    // Nothing else under our node id (no invented media_player).
    let mut seen = discovery_topics(&rec);
    seen.sort();
    seen.dedup();
    let mut expected: Vec<String> = want.iter().map(|(c, o)| topic(c, o)).collect();
    expected.sort();
    assert_eq!(seen, expected);

    let version = String::from_utf8(
        output_within(
            {
                let mut c = Command::new(tonearm_tests::tonearm_bin());
                c.arg("--version");
                c
            },
            Duration::from_secs(10),
        )
        .stdout,
    )
    .unwrap();
    let mut unique_ids = Vec::new();
    let mut device = None;
    for (c, o) in want {
        let m = rec.last(&topic(c, o)).unwrap();
        assert!(m.retain, "{} retained", m.topic);
        let v = m
            .json()
            .unwrap_or_else(|| panic!("{}: not JSON: {}", m.topic, m.text()));
        assert!(
            v["name"].as_str().is_some_and(|n| !n.is_empty()),
            "{}: name: {v}",
            m.topic
        );
        let uid = v["unique_id"]
            .as_str()
            .unwrap_or_else(|| panic!("{}: unique_id: {v}", m.topic));
        assert!(uid.contains(ID), "{uid}");
        unique_ids.push(uid.to_owned());
        // The shared device block.
        let d = &v["device"];
        let ids = &d["identifiers"];
        assert!(
            ids.as_array().is_some_and(|a| !a.is_empty())
                || ids.as_str().is_some_and(|s| !s.is_empty()),
            "{}: identifiers: {v}",
            m.topic
        );
        assert!(
            d["name"].as_str().is_some_and(|n| !n.is_empty()),
            "{}: device name: {v}",
            m.topic
        );
        let sw = d["sw_version"]
            .as_str()
            .unwrap_or_else(|| panic!("{}: sw_version: {v}", m.topic));
        assert!(version.contains(sw), "sw_version {sw} vs {version}");
        match &device {
            None => device = Some(d.clone()),
            Some(first) => assert_eq!(first, d, "one device for every entity"),
        }
        // Availability.
        let avail = v["availability_topic"]
            .as_str()
            .map(str::to_owned)
            .or_else(|| v["availability"][0]["topic"].as_str().map(str::to_owned));
        assert_eq!(
            avail.as_deref(),
            Some(availability_topic().as_str()),
            "{}: {v}",
            m.topic
        );
        match c {
            "button" => {
                assert_eq!(v["command_topic"], command_topic(), "{v}");
                assert_eq!(v["payload_press"], o, "{v}");
            }
            "image" => {
                assert!(
                    v["image_topic"] == cover_topic()
                        || v["url_topic"]
                            .as_str()
                            .is_some_and(|t| t.starts_with(&format!("tonearm/{ID}/"))),
                    "{v}"
                );
            }
            _ => {
                let st = v["state_topic"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{}: state_topic: {v}", m.topic));
                assert!(st.starts_with(&format!("tonearm/{ID}/")), "{v}");
            }
        }
    }
    unique_ids.sort();
    unique_ids.dedup();
    assert_eq!(unique_ids.len(), want.len(), "unique ids: {unique_ids:?}");

    // Home Assistant's birth message brings them all again.
    let from = rec.count();
    house.ha_publish("homeassistant/status", "online", false);
    for (c, o) in want {
        let t = topic(c, o);
        rec.wait_for_after(from, T, |m| m.topic == t)
            .unwrap_or_else(|| panic!("{t} not published again after homeassistant/status online"));
    }
    // A press of the discovered next button, as Home Assistant sends it.
    let next = rec.last(&topic("button", "next")).unwrap().json().unwrap();
    house.ha_publish(
        next["command_topic"].as_str().unwrap(),
        next["payload_press"].as_str().unwrap(),
        false,
    );
    let deadline = Instant::now() + T;
    while house.requests_to(Route::Next).is_empty() {
        assert!(
            Instant::now() < deadline,
            "the button did nothing: {}",
            hub.stderr()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn discovery_topics(rec: &Recorder) -> Vec<String> {
    rec.messages()
        .into_iter()
        .filter(|m| {
            m.topic.starts_with("homeassistant/") && m.topic.contains(&format!("/tonearm_{ID}/"))
        })
        .map(|m| m.topic)
        .collect()
}

#[test]
fn no_secret_in_any_message_the_broker_saw_nor_in_the_logs() {
    let house = House::with(
        Mosquitto::builder(),
        &format!("client_secret = \"{CLIENT_SECRET}\"\n"),
    );
    house.spotify.set_client(CLIENT_ID, Some(CLIENT_SECRET));
    house.spotify.set_rotation(Rotation::RotateAndRevokeOld);
    let rec = house.recorder();
    let mut hub = house.hub(&["-vv"]);
    hub.wait_for("now_playing", Some("Song A"), T);
    let mut display = house.display();
    display.wait_for("now_playing", Some("Song A"), T);
    // A refresh (a new access token, a rotated refresh token), a command, a change.
    house.spotify.expire_access_tokens();
    house.ha_publish(&command_topic(), "next", false);
    house.spotify.play("Song B");
    hub.wait_for("now_playing", Some("Song B"), T);
    display.wait_for("now_playing", Some("Song B"), T);
    assert!(
        house.requests_to(Route::Token).len() >= 2,
        "a refresh happened"
    );
    std::thread::sleep(Duration::from_secs(1));
    let mut secrets = house.spotify.secrets();
    if let Some(t) = house.home.token() {
        for k in ["access_token", "refresh_token"] {
            if let Some(s) = t[k].as_str() {
                secrets.push(s.to_owned());
            }
        }
    }
    secrets.extend([HUB_PASSWORD, DISPLAY_PASSWORD, HA_PASSWORD].map(str::to_owned));
    assert!(secrets.len() >= 7, "{secrets:?}");
    let messages = rec.messages();
    assert!(messages.len() >= 10, "{} messages", messages.len());
    for m in &messages {
        let mut hay = m.topic.as_bytes().to_vec();
        hay.extend_from_slice(&m.payload);
        for (k, v) in &m.user_properties {
            hay.extend_from_slice(k.as_bytes());
            hay.extend_from_slice(v.as_bytes());
        }
        for s in &secrets {
            assert!(
                !contains(&hay, s.as_bytes()),
                "a secret in a message on {}: {}",
                m.topic,
                m.text()
            );
        }
        assert!(!contains(&hay, b"Bearer "), "on {}", m.topic);
        let lower = m.text().to_ascii_lowercase();
        assert!(
            !lower.contains("authorization"),
            "on {}: {}",
            m.topic,
            m.text()
        );
    }
    // Nor in what the hub (at -vv) and the display printed.
    hub.drain(Duration::from_millis(100));
    let printed = format!(
        "{}\n{:?}\n{}\n{:?}",
        hub.stderr(),
        hub.seen,
        display.stderr(),
        display.seen
    );
    assert!(
        printed.contains("mqtt") || printed.contains("MQTT") || printed.contains("broker"),
        "debug logs are on"
    );
    for s in &secrets {
        assert!(
            !printed.contains(s.as_str()),
            "a secret printed:\n{printed}"
        );
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn one_poller_per_config_and_the_second_names_the_first() {
    let house = House::new();
    let mut hub = house.hub(&[]);
    hub.wait_for("now_playing", Some("Song A"), T);
    let pid = hub.pid();
    let check = |out: Output, what: &str| {
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{what}: {err}");
        assert!(
            err.contains(&pid.to_string()),
            "{what} names PID {pid}: {err}"
        );
        assert!(err.contains("--hub"), "{what} suggests --hub: {err}");
    };
    // A second `run` and a second `hub` on the same config: refused at once.
    let mut cmd = tonearm(&house.home.config());
    cmd.args(["run", "--headless", "--duration", "20"]);
    check(output_within(cmd, Duration::from_secs(10)), "run");
    let mut cmd = tonearm(&house.home.config());
    cmd.args(["hub", "--id", "other", "--duration", "20"]);
    check(output_within(cmd, Duration::from_secs(10)), "hub");
    // The first one goes on, untouched.
    assert!(hub.child.try_wait().unwrap().is_none());
    let polls = house.requests_to(Route::Player).len();
    let deadline = Instant::now() + Duration::from_secs(7);
    while house.requests_to(Route::Player).len() == polls {
        assert!(Instant::now() < deadline, "the hub polls on");
        std::thread::sleep(Duration::from_millis(50));
    }
    // A display fed by the hub takes no lock: it runs beside the hub on the same config.
    let url = house.hub_url();
    let mut display = Run::start(&house.home.config(), &["--hub", &url, "--duration", "20"]);
    display.wait_for("now_playing", Some("Song A"), T);
    // The plain `run` starts once the hub is gone (the lock went with it).
    drop(hub);
    let mut run = Run::start(&house.home.config(), &["--duration", "20"]);
    run.wait_for("now_playing", Some("Song A"), T);
}

#[test]
fn a_hub_that_ends_says_offline() {
    let house = House::new();
    let rec = house.recorder();
    let mut cmd = tonearm(&house.home.config());
    cmd.args(["hub", "--id", ID, "--duration", "4"]);
    let started = Instant::now();
    let out = output_within(cmd, Duration::from_secs(15));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let avail = rec.on(&availability_topic());
    assert_eq!(
        avail.first().map(Message::text).as_deref(),
        Some("online"),
        "{avail:?}"
    );
    let last = rec
        .wait_for(Duration::from_secs(3), |m| {
            m.topic == availability_topic() && m.text() == "offline"
        })
        .expect("offline after the end");
    assert!(last.retain);
}

#[test]
fn a_huge_retained_message_on_the_command_topic_does_not_throw_the_hub_off() {
    let house = House::new();
    // 64 KiB retained on the hub's command topic before it starts: the hub announces an
    // 8 KiB maximum packet, so the broker never sends it, and the hub stays connected.
    house
        .broker
        .publish(&command_topic(), &vec![b'x'; 64 * 1024], true)
        .unwrap();
    let rec = house.recorder();
    let mut hub = house.hub(&[]);
    hub.wait_for("now_playing", Some("Song A"), T);
    wait_state(&rec, 0, "Song A", T);
    std::thread::sleep(Duration::from_secs(4));
    let offline: Vec<_> = rec
        .on(&availability_topic())
        .into_iter()
        .filter(|m| m.text() == "offline")
        .collect();
    assert!(
        offline.is_empty(),
        "the hub lost its connection: {offline:?}\n{}\n{}",
        hub.stderr(),
        house.broker.log()
    );
    // And it still takes commands.
    house.ha_publish(&command_topic(), "next", false);
    wait_requests(&house, &hub, Route::Next, 1);
}
