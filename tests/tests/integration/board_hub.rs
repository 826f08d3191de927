//! A board fed by a hub, end to end on the host: the kit's hub mode
//! (`tonearm_kit::hub`, `Kit::run_hub`: the loop and the MQTT client a board runs, over
//! a `Network` of std sockets, on embassy-time's mock driver kept in step with the real
//! clock) against a real mosquitto on 127.0.0.1 (`tonearm_tests::mosquitto`), its settings
//! written by `tonearm provision --hub`, beside the host's own hub-fed display
//! (`tonearm run --hub --headless --events`) on the same broker.
//!
//! The hub's messages are published as `tonearm hub` publishes them (retained `state` and
//! `availability`, QoS 1, MQTT 5), with `mosquitto_pub`: the board and the host show the
//! same screens (their event lines, but for `t_ms`, are the same list); a press on the
//! board goes out as the hub's command; `offline` when the hub's will says so and within
//! seconds of the broker stopping; back when it restarts and the hub publishes again.
//!
//! And the emulated board's hub scenario, on the host: the real `tonearm hub` against the
//! fake Spotify, the board's first `paused` frame (its FNV checksum, as the boards print
//! it) equal to `tonearm render` of the body the hub read.

use std::future::Future;
use std::io::{Read as _, Write as _};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::path::Path;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use embassy_time::MockDriver;
use embedded_graphics::pixelcolor::Rgb565;
use embedded_graphics::prelude::*;
use serde_json::Value;
use tonearm_core::session::Control;
use tonearm_firmware::checksum::{ChecksumColor as _, Fnv1a};
use tonearm_firmware::events::EventLine;
use tonearm_firmware::{App, BandRenderer, Profile};
use tonearm_kit::board::{Backlight, Buttons, Log, Network, NoWallClock};
use tonearm_kit::hub::{Buffers, HubSource};
use tonearm_kit::run::{Kit, now_ms};
use tonearm_kit::settings::RECORD_MAX;
use tonearm_settings::ram::RamFlash;
use tonearm_tests::fake_spotify::{FakeSpotify, Item, Route};
use tonearm_tests::mosquitto::{Mosquitto, Recorder};

use crate::run_live::{Home, ROOMY_BUDGET, Run};

const ID: &str = "desk";
const HUB_USER: &str = "tonearm-hub";
const HUB_PASSWORD: &str = "hub-broker-pw-3e7a";
const BOARD_USER: &str = "tonearm-board";
const BOARD_PASSWORD: &str = "board-broker-pw-c41d";
/// How long a screen may take to come.
const T: Duration = Duration::from_secs(20);

/// embassy-time's mock driver is one clock for the process: one board at a time (each
/// test holds this from its start, so its timeouts count from when it runs).
static MOCK_CLOCK: Mutex<()> = Mutex::new(());

/// Waits for the mock clock: the only board of the process from now until dropped.
fn one_board() -> std::sync::MutexGuard<'static, ()> {
    MOCK_CLOCK.lock().unwrap_or_else(|e| e.into_inner())
}

// ---------------------------------------------------------------------------------------
// The board's network: std sockets, loopback only.

/// Every name is this machine; SNTP is answered from this computer's clock without a
/// packet sent; TCP connections are std sockets, non-blocking (a read with nothing to
/// read is pending: the driver polls again a millisecond later).
struct HostNet;

struct HostTcp(TcpStream);

#[derive(Debug)]
struct IoError(std::io::ErrorKind);

impl std::fmt::Display for IoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl std::error::Error for IoError {}

impl embedded_io_async::Error for IoError {
    fn kind(&self) -> embedded_io_async::ErrorKind {
        embedded_io_async::ErrorKind::Other
    }
}

impl embedded_io_async::ErrorType for HostTcp {
    type Error = IoError;
}

fn would_block(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted
    )
}

impl embedded_io_async::Read for HostTcp {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, IoError> {
        std::future::poll_fn(|_| match self.0.read(buf) {
            Err(e) if would_block(&e) => Poll::Pending,
            r => Poll::Ready(r.map_err(|e| IoError(e.kind()))),
        })
        .await
    }
}

impl embedded_io_async::Write for HostTcp {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, IoError> {
        std::future::poll_fn(|_| match self.0.write(buf) {
            Err(e) if would_block(&e) => Poll::Pending,
            r => Poll::Ready(r.map_err(|e| IoError(e.kind()))),
        })
        .await
    }
    async fn flush(&mut self) -> Result<(), IoError> {
        Ok(())
    }
}

impl Network for HostNet {
    type Error = String;
    type Tcp<'a> = HostTcp;

    fn is_up(&self) -> bool {
        true
    }

    async fn resolve(&mut self, _host: &str) -> Result<IpAddr, String> {
        Ok(IpAddr::V4(Ipv4Addr::LOCALHOST))
    }

    async fn connect(&mut self, addr: IpAddr, port: u16) -> Result<HostTcp, String> {
        assert!(
            addr.is_loopback(),
            "the board's test connects to loopback only"
        );
        let s = TcpStream::connect_timeout(&SocketAddr::new(addr, port), Duration::from_secs(2))
            .map_err(|e| e.to_string())?;
        s.set_nonblocking(true).map_err(|e| e.to_string())?;
        s.set_nodelay(true).map_err(|e| e.to_string())?;
        Ok(HostTcp(s))
    }

    async fn exchange_udp(
        &mut self,
        _addr: IpAddr,
        port: u16,
        _request: &[u8],
        reply: &mut [u8],
    ) -> Result<usize, String> {
        assert_eq!(port, 123, "only SNTP");
        let unix = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let ntp = u32::try_from(unix + 2_208_988_800).unwrap();
        reply[..48].fill(0);
        reply[0] = 0x24; // server, version 4
        reply[1] = 2; // stratum
        reply[40..44].copy_from_slice(&ntp.to_be_bytes());
        Ok(48)
    }
}

// ---------------------------------------------------------------------------------------
// The board's other parts.

/// The frame checksum of each whole frame (the FNV the host and the emulated board
/// print: full-width bands from the top row to the bottom), backlight ignored.
struct Panel {
    hash: Fnv1a,
    next_row: Option<u32>,
    last: Arc<Mutex<Option<u32>>>,
}

impl tonearm_firmware::BandSink<Rgb565> for Panel {
    type Error = core::convert::Infallible;
    fn push_band(
        &mut self,
        area: embedded_graphics::primitives::Rectangle,
        pixels: &[Rgb565],
    ) -> Result<(), Self::Error> {
        let size = Profile::Square240x240.size();
        let full_width = area.top_left.x == 0 && area.size.width == size.width;
        let y = u32::try_from(area.top_left.y).unwrap_or(u32::MAX);
        self.next_row = match (full_width, y, self.next_row) {
            (true, 0, _) => {
                self.hash = Fnv1a::new();
                Some(0)
            }
            (true, y, Some(next)) if y == next => Some(next),
            _ => None,
        };
        if let Some(next) = self.next_row {
            for p in pixels {
                p.hash_into(&mut self.hash);
            }
            let end = next + area.size.height;
            if end >= size.height {
                *self.last.lock().unwrap() = Some(self.hash.finish());
                self.next_row = None;
            } else {
                self.next_row = Some(end);
            }
        }
        Ok(())
    }
}

impl Backlight for Panel {
    fn set_backlight(&mut self, _on: bool) {}
}

/// One press at a time, set by the test.
struct TestButtons(Arc<Mutex<Option<Control>>>);

impl Buttons for TestButtons {
    fn sample(&mut self, _now_ms: u64) -> Option<Control> {
        self.0.lock().unwrap().take()
    }
}

/// The log lines, and the event lines as a board's UART prints them (a line when what
/// shows changes: `EventLine::differs`), parsed back.
/// Each event line carries, as `_frame`, the checksum of the last whole frame drawn
/// before it.
struct TestLog {
    lines: Arc<Mutex<Vec<String>>>,
    events: Arc<Mutex<Vec<Value>>>,
    last: Option<EventLine>,
    frame: Arc<Mutex<Option<u32>>>,
}

impl Log for TestLog {
    fn line(&mut self, args: core::fmt::Arguments<'_>) {
        self.lines.lock().unwrap().push(args.to_string());
    }

    fn drawn(&mut self, now_ms: u64, event: &EventLine) {
        if self.last.as_ref().is_some_and(|l| !event.differs(l)) {
            return;
        }
        let mut json = String::new();
        event.write_json(now_ms, &mut json).unwrap();
        let mut v: Value = serde_json::from_str(&json).expect("an event line is JSON");
        if let Some(frame) = *self.frame.lock().unwrap() {
            v["_frame"] = Value::String(format!("{frame:08x}"));
        }
        self.events.lock().unwrap().push(v);
        self.last = Some(event.clone());
    }
}

/// Polls `fut` until it is ready, or until `stop` is set, every millisecond, moving the
/// mock clock on with the real one.
fn drive<F: Future>(fut: F, stop: &AtomicBool, clock: &mut RealClock) -> Option<F::Output> {
    let mut fut = pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    while !stop.load(Ordering::Relaxed) {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return Some(v);
        }
        std::thread::sleep(Duration::from_millis(1));
        clock.catch_up();
    }
    None
}

/// The mock driver's time kept at the real time since the board's start.
struct RealClock {
    start: Instant,
    advanced_ms: u64,
}

impl RealClock {
    fn new() -> Self {
        MockDriver::get().reset();
        RealClock {
            start: Instant::now(),
            advanced_ms: 0,
        }
    }

    fn catch_up(&mut self) {
        let real = u64::try_from(self.start.elapsed().as_millis()).unwrap();
        if real > self.advanced_ms {
            MockDriver::get().advance(embassy_time::Duration::from_millis(real - self.advanced_ms));
            self.advanced_ms = real;
        }
    }
}

/// The board: the kit's boot and `Kit::run_hub` in a thread of its own, until dropped.
struct Board {
    lines: Arc<Mutex<Vec<String>>>,
    events: Arc<Mutex<Vec<Value>>>,
    press: Arc<Mutex<Option<Control>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Board {
    /// Boots a board whose settings partition holds `image` (the caller holds
    /// [`one_board`]).
    fn start(image: Vec<u8>) -> Board {
        let lines: Arc<Mutex<Vec<String>>> = Arc::default();
        let events: Arc<Mutex<Vec<Value>>> = Arc::default();
        let press: Arc<Mutex<Option<Control>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let (l, e, p, s) = (lines.clone(), events.clone(), press.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let mut clock = RealClock::new();
            let profile = Profile::Square240x240;
            let mut band = vec![Rgb565::BLACK; 240 * 20];
            let mut renderer = BandRenderer::new(&mut band, profile.size());
            let frame = Arc::new(Mutex::new(None));
            let log = TestLog {
                lines: l,
                events: e,
                last: None,
                frame: frame.clone(),
            };
            let panel = Panel {
                hash: Fnv1a::new(),
                next_row: None,
                last: frame,
            };
            let mut kit = Kit::new(
                profile,
                &mut renderer,
                panel,
                TestButtons(p),
                NoWallClock,
                (),
                log,
            );
            let mut buf = Box::new([0u8; RECORD_MAX]);
            let Some((_store, settings)) = drive(
                kit.load_settings(RamFlash(image), 0, 4096, &mut buf),
                &s,
                &mut clock,
            ) else {
                return;
            };
            let mut app = Box::new(App::<Rgb565, HubSource>::new(
                profile,
                HubSource::new(now_ms()),
            ));
            let mut bufs = Box::new(Buffers::new());
            let mut net = HostNet;
            let run = kit.run_hub(
                &mut app,
                &mut net,
                &mut bufs,
                &settings,
                0x0052_5400_1234_5441,
                "pool.ntp.org",
            );
            let _ = drive(run, &s, &mut clock);
        });
        Board {
            lines,
            events,
            press,
            stop,
            thread: Some(thread),
        }
    }

    /// The first event line from `from` on that shows `screen` (and `title`), and its
    /// index.
    fn wait_for(&self, from: usize, screen: &str, title: Option<&str>) -> (usize, Value) {
        let deadline = Instant::now() + T;
        loop {
            {
                let events = self.events.lock().unwrap();
                if let Some((i, ev)) = events.iter().enumerate().skip(from).find(|(_, ev)| {
                    ev["screen"] == screen && title.is_none_or(|t| ev["title"] == t)
                }) {
                    return (i, ev.clone());
                }
            }
            assert!(
                Instant::now() < deadline,
                "the board: no {screen} {title:?} in {T:?}; events {:#?}\nlog:\n{}",
                self.events.lock().unwrap(),
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn count(&self) -> usize {
        self.events.lock().unwrap().len()
    }

    fn events(&self) -> Vec<Value> {
        self.events.lock().unwrap().clone()
    }

    fn log(&self) -> String {
        self.lines.lock().unwrap().join("\n")
    }

    fn press(&self, control: Control) {
        *self.press.lock().unwrap() = Some(control);
    }
}

impl Drop for Board {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

// ---------------------------------------------------------------------------------------
// The hub's messages.

fn topic(leaf: &str) -> String {
    format!("tonearm/{ID}/{leaf}")
}

fn unix_ms() -> u64 {
    u64::try_from(
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

/// A state message as `tonearm hub` writes it (`docs/hub-state.md`), without a cover.
fn state(seq: u64, title: &str, playing: bool) -> String {
    state_with_cover(seq, title, playing, None)
}

/// The same with `cover_url`.
fn state_with_cover(seq: u64, title: &str, playing: bool, cover_url: Option<&str>) -> String {
    serde_json::json!({
        "v": 1, "seq": seq,
        "screen": if playing { "now_playing" } else { "paused" },
        "kind": "track", "title": title, "artists": ["Opeth"], "album": "Damnation",
        "show": null, "is_playing": playing, "progress_ms": 61_000, "at_ms": unix_ms(),
        "duration_ms": 463_000,
        "device": {"name": "Kitchen", "type": "Speaker", "volume_percent": 40,
                   "is_restricted": false, "supports_volume": true},
        "shuffle": false, "repeat": "off", "cover_url": cover_url, "disallows": [],
        "notice": null, "warnings": [], "login_ends_s": null, "dark": false,
        "health": {"state": "good", "since_ms": null, "until_ms": null, "reason": null},
        "liked": true, "up_next": null
    })
    .to_string()
}

/// Publishes as the hub does: retained, as the hub's user.
fn hub_says(broker: &Mosquitto, leaf: &str, payload: &str) {
    broker
        .publish(&topic(leaf), payload.as_bytes(), true)
        .unwrap_or_else(|e| panic!("mosquitto_pub: {e}"));
}

/// The hub's heartbeat (`online` every 2 s, QoS 0, not retained, as `tonearm hub` sends
/// it while connected) until dropped; a broker that does not answer within a second
/// misses that beat.
struct Heartbeat {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

fn heartbeat(broker: &Mosquitto) -> Heartbeat {
    let port = broker.port().to_string();
    let stop = Arc::new(AtomicBool::new(false));
    let s = stop.clone();
    let thread = std::thread::spawn(move || {
        while !s.load(Ordering::Relaxed) {
            let beat = Instant::now();
            if let Ok(mut child) = std::process::Command::new("mosquitto_pub")
                .args([
                    "-h",
                    "127.0.0.1",
                    "-p",
                    &port,
                    "-u",
                    HUB_USER,
                    "-P",
                    HUB_PASSWORD,
                ])
                .args(["-V", "mqttv5", "-q", "0", "-t", &topic("availability")])
                .args(["-m", "online"])
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
            {
                while beat.elapsed() < Duration::from_secs(1) {
                    if let Ok(Some(_)) = child.try_wait() {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
                let _ = child.kill();
                let _ = child.wait();
            }
            while beat.elapsed() < Duration::from_secs(2) && !s.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    });
    Heartbeat {
        stop,
        thread: Some(thread),
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Publishes the hub's cover for `url` (retained, the URL as the MQTT 5 user property
/// `url`, as the hub does).
fn hub_cover(broker: &Mosquitto, url: &str, jpeg: &[u8]) {
    let mut child = broker
        .pub_command()
        .args(["-V", "mqttv5", "-q", "1", "-r", "-t", &topic("cover"), "-s"])
        .args(["-D", "PUBLISH", "user-property", "url", url])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(jpeg).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A small cover: a pattern of our own as a JPEG.
fn cover_jpeg(side: u16) -> Vec<u8> {
    let rgb = tonearm_firmware::art::pattern_rgb(7, side.into());
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 85)
        .encode(&rgb, side, side, jpeg_encoder::ColorType::Rgb)
        .unwrap();
    out
}

/// An event line without `t_ms` (the board counts from its boot, the host from its
/// start) and the board's `_frame`.
fn norm(ev: &Value) -> Value {
    let mut v = ev.clone();
    if let Some(o) = v.as_object_mut() {
        o.remove("t_ms");
        o.remove("_frame");
    }
    v
}

/// The board's settings, as `tonearm provision --hub` writes them for this broker.
fn provision(dir: &Path, broker: &Mosquitto) -> Vec<u8> {
    provision_for(dir, &format!("{}/{ID}", broker.url()), BOARD_PASSWORD)
}

/// The board's settings for hub `url`, with the board's broker user and `password`.
fn provision_for(dir: &Path, url: &str, password: &str) -> Vec<u8> {
    let config = dir.join("board.toml");
    std::fs::write(
        &config,
        format!("mqtt_username = \"{BOARD_USER}\"\nmqtt_password = \"{password}\"\n"),
    )
    .unwrap();
    let out = dir.join("board.bin");
    let run = std::process::Command::new(tonearm_tests::tonearm_bin())
        .args(["provision", "--tz", "UTC0", "--hub", url, "--config"])
        .arg(&config)
        .arg("--out")
        .arg(&out)
        .env_remove("TONEARM_MQTT_PASSWORD")
        .env("TONEARM_WIFI_SSID", "test net")
        .env("TONEARM_WIFI_PASSWORD", "")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "provision: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    std::fs::read(&out).unwrap()
}

#[test]
fn a_board_fed_by_a_hub_shows_what_the_hosts_display_shows() {
    let _one = one_board();
    let mut broker = Mosquitto::builder()
        .user(HUB_USER, HUB_PASSWORD)
        .user(BOARD_USER, BOARD_PASSWORD)
        .start();
    let dir = tempfile::tempdir().unwrap();
    let image = provision(dir.path(), &broker);
    // The hub is there, a track paused (retained, as the hub leaves them), beating.
    hub_says(&broker, "availability", "online");
    hub_says(&broker, "state", &state(1, "Windowpane", false));
    let beat = heartbeat(&broker);
    let commands = Recorder::connect(broker.port(), HUB_USER, HUB_PASSWORD, &topic("command"));
    commands.wait_subscribed(T).unwrap();

    let board = Board::start(image);
    let display_config = dir.path().join("display.toml");
    std::fs::write(
        &display_config,
        format!("mqtt_username = \"{BOARD_USER}\"\nmqtt_password = \"{BOARD_PASSWORD}\"\n"),
    )
    .unwrap();
    let url = format!("{}/{ID}", broker.url());
    let mut host = Run::start(&display_config, &["--hub", &url, "--duration", "120"]);

    // The retained state, on both.
    let (at, _) = board.wait_for(0, "paused", Some("Windowpane"));
    host.wait_for("paused", Some("Windowpane"), T);
    let log = board.log();
    assert!(
        log.contains(&format!(
            "hub: mqtt://127.0.0.1:{}/{ID} as {BOARD_USER} (client tonearm-board-0052540012345441)",
            broker.port()
        )),
        "{log}"
    );
    assert!(log.contains("hub: broker connected"), "{log}");
    assert!(log.contains("time of day known"), "{log}");
    assert!(!log.contains(BOARD_PASSWORD), "no secret in the log: {log}");

    // A new state, with its cover on the hub's `cover` topic (nothing listens at its URL:
    // the board takes the hub's, as the host does).
    let url = "http://127.0.0.1:9/image/blackest-eyes";
    let jpeg = cover_jpeg(64);
    hub_cover(&broker, url, &jpeg);
    hub_says(
        &broker,
        "state",
        &state_with_cover(2, "Blackest Eyes", true, Some(url)),
    );
    let (at, _) = board.wait_for(at, "now_playing", Some("Blackest Eyes"));
    host.wait_for("now_playing", Some("Blackest Eyes"), T);
    let handed = format!("hub: the cover ({} bytes) handed to the app", jpeg.len());
    let deadline = Instant::now() + T;
    while !board.log().contains(&handed) {
        assert!(Instant::now() < deadline, "{}", board.log());
        std::thread::sleep(Duration::from_millis(20));
    }

    // A press on the board: the hub's command, once, not retained.
    board.press(Control::PlayPause);
    let m = commands
        .wait_for_topic(&topic("command"), T)
        .unwrap_or_else(|| panic!("no command; board log:\n{}", board.log()));
    assert_eq!(m.text(), "play_pause");
    assert!(!m.retain);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(commands.on(&topic("command")).len(), 1);

    // A 1 MiB message on `state` never reaches the board (its Maximum Packet Size is
    // 8 KiB: the broker drops it for this client), a malformed one is ignored, and the
    // hub's next publish replaces both; the link holds all along.
    hub_says(&broker, "state", &"x".repeat(1 << 20));
    hub_says(&broker, "state", "{\"v\":1,\"seq\":");
    hub_says(&broker, "state", &state(3, "Harvest", true));
    let (at, _) = board.wait_for(at, "now_playing", Some("Harvest"));
    host.wait_for("now_playing", Some("Harvest"), T);
    let log = board.log();
    assert!(
        log.contains("hub: a state message ignored (13 bytes): not a state message"),
        "{log}"
    );
    assert!(!log.contains("unreachable"), "the link held: {log}");

    // The hub's will (it is gone: no more beats): offline, the last title kept.
    drop(beat);
    hub_says(&broker, "availability", "offline");
    let (at, _) = board.wait_for(at, "offline", Some("Harvest"));
    host.wait_for("offline", Some("Harvest"), T);
    hub_says(&broker, "availability", "online");
    hub_says(&broker, "state", &state(4, "Windowpane", false));
    let _beat = heartbeat(&broker);
    let (at, _) = board.wait_for(at, "paused", Some("Windowpane"));
    host.wait_for("paused", Some("Windowpane"), T);

    // The broker stops: offline within the 3 s of the contract (and the link's own
    // detection), then back once it restarts and the hub publishes again (a restarted
    // broker without persistence has lost every retained message).
    let n = board.count();
    let stopped = Instant::now();
    broker.stop();
    let (at, _) = board.wait_for(at.max(n), "offline", Some("Windowpane"));
    let took = stopped.elapsed();
    assert!(
        took < Duration::from_secs(6),
        "offline {took:?} after the broker stopped"
    );
    host.wait_for("offline", Some("Windowpane"), T);
    std::thread::sleep(Duration::from_secs(2));
    broker.restart();
    hub_says(&broker, "availability", "online");
    hub_says(&broker, "state", &state(5, "Windowpane", false));
    board.wait_for(at, "paused", Some("Windowpane"));
    host.wait_for("paused", Some("Windowpane"), Duration::from_secs(40));
    let log = board.log();
    assert!(log.contains("hub: broker unreachable"), "{log}");
    assert!(
        log.matches("hub: broker connected").count() >= 2,
        "reconnected: {log}"
    );

    // The same screens, line for line.
    std::thread::sleep(Duration::from_millis(500));
    while host.next_event(Duration::from_millis(300)).is_some() {}
    let board_lines: Vec<Value> = board.events().iter().map(norm).collect();
    let host_lines: Vec<Value> = host.seen.iter().map(norm).collect();
    eprintln!(
        "board_hub: offline {took:?} after the broker stopped; the board's lines:\n{}",
        board
            .events()
            .iter()
            .map(Value::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert_eq!(
        board_lines,
        host_lines,
        "the board's event lines are the host's\nboard log:\n{}",
        board.log()
    );
}

/// `GET` on the fake over loopback with `token`: the body.
fn fetch(fake: &FakeSpotify, path: &str, token: &str) -> Vec<u8> {
    let mut s = TcpStream::connect(fake.addr()).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: api.spotify.com\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut all = Vec::new();
    s.read_to_end(&mut all).unwrap();
    let end = all
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a head");
    let head = String::from_utf8_lossy(&all[..end]).to_ascii_lowercase();
    assert!(!head.contains("chunked"), "{head}");
    all[end + 4..].to_vec()
}

/// The emulated board's scenario, on the host: `tonearm hub` against the fake Spotify
/// (a paused track; a login without the library scopes and no queue line, which a body
/// alone cannot show), the board provisioned with `--hub`: its first `paused` frame is the
/// frame `tonearm render` draws from the body the hub read. The hub frozen: `offline`
/// within 10 s (its heartbeat stops); it goes on: back.
#[test]
fn a_board_fed_by_tonearm_hub_draws_the_paused_frame_of_tonearm_render() {
    let _one = one_board();
    const REFRESH: &str = "refresh-board-hub-6d2f";
    let fake = FakeSpotify::start();
    fake.add_refresh_token(REFRESH);
    fake.set_playlist(Item::tracks(3));
    fake.set_current(Some(0));
    fake.set_playing(false);
    fake.set_scopes(&[
        "user-read-currently-playing",
        "user-read-playback-state",
        "user-modify-playback-state",
    ]);
    let broker = Mosquitto::builder()
        .user(HUB_USER, HUB_PASSWORD)
        .user(BOARD_USER, BOARD_PASSWORD)
        .start();
    let home = Home::with(
        &fake,
        Some(REFRESH),
        &format!(
            "{ROOMY_BUDGET}up_next = false\nmqtt_url = \"{}\"\nmqtt_username = \"{HUB_USER}\"\nmqtt_password = \"{HUB_PASSWORD}\"\n",
            broker.url()
        ),
    );
    let mut hub = std::process::Command::new(tonearm_tests::tonearm_bin())
        .arg("--config")
        .arg(home.config())
        .args(["hub", "--id", ID, "--duration", "90"])
        .env_remove("SPOTIFY_CLIENT_ID")
        .env_remove("SPOTIFY_CLIENT_SECRET")
        .env_remove("SPOTIFY_REFRESH_TOKEN")
        .env_remove("TONEARM_MQTT_PASSWORD")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("tonearm hub starts");
    let dir = tempfile::tempdir().unwrap();
    let board = Board::start(provision(dir.path(), &broker));
    let (at, ev) = board.wait_for(0, "paused", Some("Track 0"));
    // The hub frozen (`kill -STOP`: its socket open, its will not sent yet): its
    // heartbeat stops, the board shows it `offline` within 10 s; it goes on: back.
    tonearm_tests::mosquitto::signal(hub.id(), "STOP");
    let frozen = Instant::now();
    let (at, _) = board.wait_for(at, "offline", Some("Track 0"));
    let took = frozen.elapsed();
    tonearm_tests::mosquitto::signal(hub.id(), "CONT");
    assert!(
        took < Duration::from_secs(10),
        "offline {took:?} after the hub froze"
    );
    board.wait_for(at, "paused", Some("Track 0"));
    let _ = hub.kill();
    let _ = hub.wait();
    let frame = ev["_frame"]
        .as_str()
        .expect("a whole frame before the line")
        .to_owned();
    // The body the hub read, drawn by the desktop.
    let last = fake
        .requests()
        .into_iter()
        .rfind(|r| matches!(r.route, Route::Player | Route::CurrentlyPlaying))
        .expect("the hub asked the fake");
    let access = fake.add_access_token(Duration::from_secs(600));
    let body = dir.path().join("paused.body.json");
    std::fs::write(&body, fetch(&fake, &last.path_and_query, &access)).unwrap();
    let out = std::process::Command::new(tonearm_tests::tonearm_bin())
        .arg("render")
        .arg(&body)
        .args([
            "--screen",
            "paused",
            "--display",
            "240x240",
            "--checksum",
            "--out",
        ])
        .arg(dir.path().join("paused.png"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let desktop = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert_eq!(
        frame,
        desktop,
        "the board's paused frame is tonearm render's; the board's lines {:#?}",
        board.events()
    );
}

/// Wrong broker credentials: the board says the broker refused (never the password),
/// shows `offline` once it has been out of reach 3 s, and keeps trying, further apart.
#[test]
fn a_board_whose_login_the_broker_refuses_shows_offline_and_keeps_trying() {
    let _one = one_board();
    let broker = Mosquitto::builder()
        .user(HUB_USER, HUB_PASSWORD)
        .user(BOARD_USER, BOARD_PASSWORD)
        .start();
    hub_says(&broker, "availability", "online");
    hub_says(&broker, "state", &state(1, "Windowpane", false));
    let dir = tempfile::tempdir().unwrap();
    let url = format!("{}/{ID}", broker.url());
    let board = Board::start(provision_for(dir.path(), &url, "not-the-pw-0b7e"));
    let (_, ev) = board.wait_for(0, "offline", None);
    assert_eq!(ev["title"], Value::Null, "no state ever came");
    let deadline = Instant::now() + T;
    while board
        .log()
        .matches("hub: the broker refused: NotAuthorized: check the board's MQTT user and password")
        .count()
        < 3
    {
        assert!(Instant::now() < deadline, "{}", board.log());
        std::thread::sleep(Duration::from_millis(50));
    }
    let log = board.log();
    eprintln!("board_hub: the refused board's log:\n{log}");
    assert!(!log.contains("not-the-pw-0b7e"), "{log}");
    assert!(!log.contains("broker connected"), "{log}");
    // 1 s, 2 s, 4 s apart: no hammering.
    assert!(log.contains("next try in 4000 ms"), "{log}");
    assert_eq!(
        board.events().iter().map(norm).collect::<Vec<_>>(),
        [
            serde_json::json!({"screen": "connecting", "title": null}),
            serde_json::json!({"screen": "offline", "title": null}),
        ]
    );
}

/// A broker that freezes (`kill -STOP`: its sockets stay open, nothing answers): the
/// hub falls silent (6 s after its last beat) and the keep-alive finds the broker out (a
/// ping 2.5 s after the last packet, 5 s for its answer, then the 3 s of the contract):
/// `offline` within 10.5 s, 15 s allowed for a loaded machine; it goes on (`kill
/// -CONT`): back.
#[test]
fn a_frozen_broker_is_found_out_by_the_keep_alive() {
    let _one = one_board();
    let broker = Mosquitto::builder()
        .user(HUB_USER, HUB_PASSWORD)
        .user(BOARD_USER, BOARD_PASSWORD)
        .start();
    hub_says(&broker, "availability", "online");
    hub_says(&broker, "state", &state(1, "Windowpane", false));
    let _beat = heartbeat(&broker);
    let dir = tempfile::tempdir().unwrap();
    let board = Board::start(provision(dir.path(), &broker));
    let (at, _) = board.wait_for(0, "paused", Some("Windowpane"));
    let pid = broker.pid().expect("running");
    tonearm_tests::mosquitto::signal(pid, "STOP");
    let frozen = Instant::now();
    let (at, _) = board.wait_for(at, "offline", Some("Windowpane"));
    let took = frozen.elapsed();
    tonearm_tests::mosquitto::signal(pid, "CONT");
    eprintln!(
        "board_hub: offline {took:?} after the broker froze; log:\n{}",
        board.log()
    );
    assert!(
        took > Duration::from_secs(3) && took < Duration::from_secs(15),
        "offline after {took:?}"
    );
    board.wait_for(at, "paused", Some("Windowpane"));
}
