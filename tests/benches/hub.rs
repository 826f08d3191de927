//! The hub issue's figures, measured with real parts: the release `tonearm hub` against the
//! fake Spotify, a real mosquitto on 127.0.0.1, and 1, 5 and 20 headless displays
//! (`tonearm run --hub`).
//!
//! `cargo bench -p tonearm-tests --bench hub` (builds the release binary first). Each case
//! runs `TONEARM_BENCH_SECS` seconds (default 60) after every display shows the first song;
//! the fake changes the song every 8 to 12 s (at varied phases of the hub's polls). Printed:
//!
//! - Spotify requests per hour (Web API and token requests at the fake, scaled from the
//!   run; cover fetches apart), per number of displays, and their ratio to one display:
//!   a hub asks the same whatever the number of screens;
//! - the time from the hub's receipt of a changed state (the poll that brought it, at the
//!   fake) to each display's event line, p50 and p95; also from the hub's own event line;
//! - the time from a change at the fake to the hub's receipt (bound by the poll interval);
//! - bytes per state message and per cover message;
//! - a display's memory: peak RSS (`VmHWM` in `/proc/<pid>/status`), and the hub's.
//!
//! The hub's config: `daily_requests = 0` (no budget: the schedule is the `poll_*_s`
//! floors, 5 s while playing), so the figures do not depend on the time of day.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use tonearm_tests::fake_spotify::{FakeSpotify, Reply, Route};
use tonearm_tests::mosquitto::{Mosquitto, Recorder};

const ID: &str = "bench";
const REFRESH: &str = "refresh-bench";
/// The gaps between song changes (about 10 s, at varied phases of the hub's 5 s polls),
/// used in turn.
const CHANGE_GAPS_MS: [u64; 7] = [8_300, 11_100, 9_600, 12_400, 10_200, 8_900, 11_700];
const START_TIMEOUT: Duration = Duration::from_secs(90);

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing: run only for
    // the former, so that a test run of all targets does not take minutes.
    if !std::env::args().any(|a| a == "--bench") {
        println!("hub bench: run with `cargo bench -p tonearm-tests --bench hub`");
        return;
    }
    let secs: u64 = std::env::var("TONEARM_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let bin = tonearm_tests::tonearm_bin();
    println!(
        "hub figures: {}, {secs} s per case after start, a song change every 8-12 s, hub config daily_requests = 0 (poll_playing_s 5)",
        bin.display()
    );
    let mut results = Vec::new();
    for n in [1usize, 5, 20] {
        let r = run_case(&bin, n, Duration::from_secs(secs));
        r.print();
        results.push(r);
    }
    summary(&results);
}

/// What one case measured.
struct Case {
    displays: usize,
    window: Duration,
    api_requests: usize,
    by_route: Vec<(Route, usize)>,
    image_fetches: usize,
    changes: usize,
    /// Hub's receipt (the poll, at the fake) to a display's line, ms.
    receipt_to_display: Vec<f64>,
    /// Hub's event line to a display's line, ms.
    hub_line_to_display: Vec<f64>,
    /// Change at the fake to the hub's receipt, ms.
    change_to_receipt: Vec<f64>,
    /// Change at the fake to the hub's event line, ms.
    change_to_hub_line: Vec<f64>,
    missed: usize,
    state_bytes: Vec<usize>,
    cover_bytes: Vec<usize>,
    display_hwm_kb: Vec<u64>,
    hub_hwm_kb: Option<u64>,
}

impl Case {
    fn per_hour(&self) -> f64 {
        self.api_requests as f64 * 3600.0 / self.window.as_secs_f64()
    }

    fn print(&self) {
        println!(
            "\n{} display(s): {:.1} s window, {} song changes",
            self.displays,
            self.window.as_secs_f64(),
            self.changes
        );
        println!(
            "  Spotify requests: {} in the window = {:.0} per hour ({}); cover fetches {}",
            self.api_requests,
            self.per_hour(),
            self.by_route
                .iter()
                .map(|(r, n)| format!("{r:?} {n}"))
                .collect::<Vec<_>>()
                .join(", "),
            self.image_fetches
        );
        println!(
            "  hub receipt -> display line: p50 {:.0} ms, p95 {:.0} ms, max {:.0} ms ({} samples, {} missed)",
            pct(&self.receipt_to_display, 50.0),
            pct(&self.receipt_to_display, 95.0),
            pct(&self.receipt_to_display, 100.0),
            self.receipt_to_display.len(),
            self.missed
        );
        println!(
            "  hub line -> display line:    p50 {:.0} ms, p95 {:.0} ms",
            pct(&self.hub_line_to_display, 50.0),
            pct(&self.hub_line_to_display, 95.0)
        );
        println!(
            "  change at the fake -> hub receipt: p50 {:.0} ms, p95 {:.0} ms; -> hub line: p50 {:.0} ms, p95 {:.0} ms ({} samples)",
            pct(&self.change_to_receipt, 50.0),
            pct(&self.change_to_receipt, 95.0),
            pct(&self.change_to_hub_line, 50.0),
            pct(&self.change_to_hub_line, 95.0),
            self.change_to_receipt.len()
        );
        println!(
            "  state message bytes: min {} median {} max {} ({} messages); cover bytes: {:?}",
            self.state_bytes.iter().min().copied().unwrap_or(0),
            median_usize(&self.state_bytes),
            self.state_bytes.iter().max().copied().unwrap_or(0),
            self.state_bytes.len(),
            self.cover_bytes
        );
        println!(
            "  display peak RSS: median {} KiB, max {} KiB; hub peak RSS {} KiB",
            median_u64(&self.display_hwm_kb),
            self.display_hwm_kb.iter().max().copied().unwrap_or(0),
            self.hub_hwm_kb.map_or("?".to_owned(), |k| k.to_string())
        );
    }
}

fn summary(results: &[Case]) {
    println!("\nsummary");
    println!(
        "  displays  requests/h  ratio to 1  receipt->display p50/p95 ms  display peak RSS KiB"
    );
    let base = results.first().map_or(1.0, Case::per_hour).max(1.0);
    for r in results {
        println!(
            "  {:>8}  {:>10.0}  {:>10.2}  {:>13.0} / {:<12.0}  {:>8}",
            r.displays,
            r.per_hour(),
            r.per_hour() / base,
            pct(&r.receipt_to_display, 50.0),
            pct(&r.receipt_to_display, 95.0),
            median_u64(&r.display_hwm_kb)
        );
    }
    let pooled: Vec<f64> = results
        .iter()
        .flat_map(|r| r.change_to_receipt.clone())
        .collect();
    let hub_lines: Vec<f64> = results
        .iter()
        .flat_map(|r| r.receipt_to_display.clone())
        .collect();
    println!(
        "  change at the fake -> hub receipt (all cases): p50 {:.0} ms, p95 {:.0} ms ({} samples; bound by the 5 s poll)",
        pct(&pooled, 50.0),
        pct(&pooled, 95.0),
        pooled.len()
    );
    println!(
        "  hub receipt -> display line (all cases): p50 {:.0} ms, p95 {:.0} ms ({} samples)",
        pct(&hub_lines, 50.0),
        pct(&hub_lines, 95.0),
        hub_lines.len()
    );
    let all_states: Vec<usize> = results.iter().flat_map(|r| r.state_bytes.clone()).collect();
    println!(
        "  bytes per state message: median {} (max {}); without a hub, N polling displays would ask N times the requests of one",
        median_usize(&all_states),
        all_states.iter().max().copied().unwrap_or(0)
    );
}

fn pct(v: &[f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * s.len() as f64).ceil().max(1.0) as usize;
    s[rank.min(s.len()) - 1]
}

fn median_usize(v: &[usize]) -> usize {
    let mut s = v.to_vec();
    s.sort_unstable();
    s.get(s.len() / 2).copied().unwrap_or(0)
}

fn median_u64(v: &[u64]) -> u64 {
    let mut s = v.to_vec();
    s.sort_unstable();
    s.get(s.len() / 2).copied().unwrap_or(0)
}

// ---------------------------------------------------------------------------------------
// The fake, playing (progress moving on, covers served by the fake).

struct Player {
    fake: Arc<FakeSpotify>,
    now: Arc<Mutex<(String, Instant)>>,
    stop: Arc<AtomicBool>,
}

impl Player {
    fn start() -> Player {
        let fake = Arc::new(FakeSpotify::start());
        fake.add_refresh_token(REFRESH);
        let now = Arc::new(Mutex::new(("Song 0".to_owned(), Instant::now())));
        let stop = Arc::new(AtomicBool::new(false));
        let p = Player {
            fake: Arc::clone(&fake),
            now: Arc::clone(&now),
            stop: Arc::clone(&stop),
        };
        p.play("Song 0");
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let (title, since) = now.lock().unwrap().clone();
                fake.set_default(Route::Player, body(&fake, &title, since));
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        p
    }

    /// Plays `title` from 0; returns the fake's clock at the change.
    fn play(&self, title: &str) -> Duration {
        let slug = slug(title);
        let seed = title
            .bytes()
            .fold(7u32, |h, b| h.wrapping_mul(31) ^ u32::from(b));
        let rgb = tonearm_firmware::art::pattern_rgb(seed, 300);
        self.fake.set_image(&format!("{slug}-300"), jpeg(&rgb, 300));
        let since = Instant::now();
        *self.now.lock().unwrap() = (title.to_owned(), since);
        self.fake
            .set_default(Route::Player, body(&self.fake, title, since));
        self.fake.elapsed()
    }

    /// The `Instant` of the fake's clock value `at`.
    fn instant_of(&self, at: Duration) -> Instant {
        let now = Instant::now();
        let elapsed = self.fake.elapsed();
        now - elapsed + at
    }
}

impl Drop for Player {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
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

fn body(fake: &FakeSpotify, title: &str, since: Instant) -> Reply {
    let slug = slug(title);
    let progress = u64::try_from(since.elapsed().as_millis()).unwrap_or(0);
    let body = serde_json::json!({
        "device": {"id": "dev1", "name": "Desk", "type": "Speaker", "volume_percent": 50,
                   "is_active": true, "is_restricted": false, "supports_volume": true},
        "shuffle_state": false, "repeat_state": "off", "timestamp": 0,
        "progress_ms": progress.min(599_000), "is_playing": true,
        "currently_playing_type": "track", "actions": {"disallows": {}},
        "item": {
            "type": "track", "id": format!("{slug}0000000000"), "name": title,
            "uri": format!("spotify:track:{slug}0000000000"),
            "duration_ms": 600_000, "is_local": false,
            "artists": [{"name": "The Band"}],
            "album": {"name": "The Album", "images": [
                {"url": fake.image_url(&format!("{slug}-300")), "width": 300, "height": 300}]},
        },
    });
    Reply::json(200, body.to_string())
}

// ---------------------------------------------------------------------------------------
// Processes.

type Lines = Arc<Mutex<Vec<(Instant, Value)>>>;

/// A `tonearm` process whose event lines are kept with their arrival times.
struct Proc {
    child: Child,
    lines: Lines,
    stderr: Arc<Mutex<String>>,
}

impl Proc {
    fn spawn(bin: &Path, args: &[&str]) -> Proc {
        let mut child = Command::new(bin)
            .args(args)
            .env_remove("SPOTIFY_CLIENT_ID")
            .env_remove("SPOTIFY_CLIENT_SECRET")
            .env_remove("SPOTIFY_REFRESH_TOKEN")
            .env_remove("TONEARM_MQTT_PASSWORD")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e}", bin.display()));
        let lines: Lines = Arc::default();
        let sink = Arc::clone(&lines);
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let at = Instant::now();
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    sink.lock().unwrap().push((at, v));
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&stderr);
        let err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                let mut s = sink.lock().unwrap();
                if s.len() < 64 * 1024 {
                    s.push_str(&line);
                    s.push('\n');
                }
            }
        });
        Proc {
            child,
            lines,
            stderr,
        }
    }

    /// When the process printed `now_playing` with `title`, if it did.
    fn shown(&self, title: &str) -> Option<Instant> {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .find(|(_, v)| v["screen"] == "now_playing" && v["title"] == title)
            .map(|(at, _)| *at)
    }

    fn wait_shown(&self, title: &str, timeout: Duration, who: &str) -> Instant {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(at) = self.shown(title) {
                return at;
            }
            if Instant::now() > deadline {
                panic!(
                    "{who}: no now_playing {title} in {timeout:?}; lines {:?}\nstderr:\n{}",
                    self.lines.lock().unwrap(),
                    self.stderr.lock().unwrap()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Peak resident set (`VmHWM`), KiB.
    fn peak_rss_kb(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn write(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn run_case(bin: &Path, n: usize, window: Duration) -> Case {
    let player = Player::start();
    let fake = &player.fake;
    let broker = Mosquitto::start();
    let hub_dir = tempfile::tempdir().unwrap();
    let hub_config = write(
        hub_dir.path(),
        &format!(
            "client_id = \"tonearm-test-client\"\nrefresh_token = \"{REFRESH}\"\n\
             api_base = \"{}\"\naccounts_base = \"{}\"\ndaily_requests = 0\n\
             mqtt_url = \"{}\"\nmqtt_username = \"{}\"\nmqtt_password = \"{}\"\n",
            fake.api_base(),
            fake.accounts_base(),
            broker.url(),
            broker.user(),
            broker.password()
        ),
    );
    let display_dir = tempfile::tempdir().unwrap();
    let display_config = write(
        display_dir.path(),
        &format!(
            "mqtt_username = \"{}\"\nmqtt_password = \"{}\"\n",
            broker.user(),
            broker.password()
        ),
    );
    let rec = Recorder::start(&broker, &format!("tonearm/{ID}/#"));
    let lifetime = (window.as_secs() + 180).to_string();
    let hub = Proc::spawn(
        bin,
        &[
            "--config",
            &hub_config.to_string_lossy(),
            "hub",
            "--id",
            ID,
            "--events",
            "--duration",
            &lifetime,
        ],
    );
    hub.wait_shown("Song 0", START_TIMEOUT, "hub");
    let url = format!("{}/{ID}", broker.url());
    let displays: Vec<Proc> = (0..n)
        .map(|_| {
            Proc::spawn(
                bin,
                &[
                    "--config",
                    &display_config.to_string_lossy(),
                    "run",
                    "--headless",
                    "--events",
                    "--hub",
                    &url,
                    "--duration",
                    &lifetime,
                ],
            )
        })
        .collect();
    for (i, d) in displays.iter().enumerate() {
        d.wait_shown("Song 0", START_TIMEOUT, &format!("display {i}"));
    }

    // The window: songs change every CHANGE_EVERY; requests are counted at the fake.
    let w0 = fake.elapsed();
    let start = Instant::now();
    let mut changes: Vec<(String, Duration, Instant)> = Vec::new();
    let mut k = 1;
    loop {
        let gap = Duration::from_millis(CHANGE_GAPS_MS[(k - 1) % CHANGE_GAPS_MS.len()]);
        if start.elapsed() + gap > window {
            break;
        }
        std::thread::sleep(gap);
        let title = format!("Song {k}");
        let at = player.play(&title);
        changes.push((title, at, Instant::now()));
        k += 1;
    }
    std::thread::sleep(window.saturating_sub(start.elapsed()));
    let w1 = fake.elapsed();
    // Let the last change arrive everywhere (not counted).
    if let Some((title, _, _)) = changes.last() {
        for d in &displays {
            let deadline = Instant::now() + Duration::from_secs(15);
            while d.shown(title).is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }

    let requests = fake.requests();
    let in_window: Vec<_> = requests
        .iter()
        .filter(|r| r.at >= w0 && r.at < w1)
        .collect();
    let mut by_route: HashMap<Route, usize> = HashMap::new();
    for r in &in_window {
        *by_route.entry(r.route).or_default() += 1;
    }
    let image_fetches = by_route.remove(&Route::Image).unwrap_or(0);
    let mut by_route: Vec<(Route, usize)> = by_route.into_iter().collect();
    by_route.sort_by_key(|(r, _)| format!("{r:?}"));
    let api_requests = by_route.iter().map(|(_, n)| n).sum();

    let mut case = Case {
        displays: n,
        window: w1 - w0,
        api_requests,
        by_route,
        image_fetches,
        changes: changes.len(),
        receipt_to_display: Vec::new(),
        hub_line_to_display: Vec::new(),
        change_to_receipt: Vec::new(),
        change_to_hub_line: Vec::new(),
        missed: 0,
        state_bytes: rec
            .on(&format!("tonearm/{ID}/state"))
            .iter()
            .map(|m| m.payload.len())
            .collect(),
        cover_bytes: rec
            .on(&format!("tonearm/{ID}/cover"))
            .iter()
            .map(|m| m.payload.len())
            .collect(),
        display_hwm_kb: displays.iter().filter_map(Proc::peak_rss_kb).collect(),
        hub_hwm_kb: hub.peak_rss_kb(),
    };
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    for (title, at, changed) in &changes {
        // The hub's receipt: the first poll after the change (its answer carries it).
        let receipt = requests
            .iter()
            .find(|r| r.route == Route::Player && r.at > *at)
            .map(|r| player.instant_of(r.at));
        let hub_line = hub.shown(title);
        if let Some(receipt) = receipt {
            case.change_to_receipt
                .push(ms(receipt.saturating_duration_since(*changed)));
        }
        if let Some(line) = hub_line {
            case.change_to_hub_line
                .push(ms(line.saturating_duration_since(*changed)));
        }
        for d in &displays {
            match (d.shown(title), receipt, hub_line) {
                (Some(shown), Some(receipt), Some(line)) => {
                    case.receipt_to_display
                        .push(ms(shown.saturating_duration_since(receipt)));
                    case.hub_line_to_display
                        .push(ms(shown.saturating_duration_since(line)));
                }
                _ => case.missed += 1,
            }
        }
    }
    drop(displays);
    drop(hub);
    case
}
