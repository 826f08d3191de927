//! The qemu-virt board's scenarios, run by `scripts/board-virt.sh` inside the test's
//! network namespace (after it made `tap0` on 192.0.2.1/24 and started dnsmasq): each
//! scenario boots the firmware that ships for the board under QEMU, with a settings
//! image written here with `tonearm-settings`, against the fake Spotify behind its TLS
//! front (`192.0.2.1:443`, a chain from a root made at test time, which the record's
//! extra trust anchor names) and the SNTP responder (`192.0.2.1:123`). The `hub`
//! scenario adds mosquitto on `192.0.2.1:18830` and `tonearm hub` against the fake over
//! loopback: the board, provisioned with a hub and no Spotify login, is fed by it.
//!
//! ```text
//! tonearm-virt-host --elf FIRMWARE --tonearm TONEARM --dir DIR [--only NAME,...]
//! ```
//!
//! Prints `board-virt: PASS <name> (<s> s)` or `board-virt: FAIL <name>: <why>` per
//! scenario; the UART of each run is in `DIR/<name>.uart.log`.

mod certs;
mod front;
mod rogue;
mod sntp;
mod vm;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tonearm_settings::{Settings, partition_image};
use tonearm_tests::fake_spotify::{FakeSpotify, Item, Reply, Rotation, Route};

use crate::front::{Front, Mode};
use crate::vm::Vm;

/// The client id in the records and the fake.
const CLIENT: &str = "tonearm-test-client";
/// pflash unit 1: 32 MiB.
const FLASH_SIZE: usize = 32 * 1024 * 1024;
/// The board's address from dnsmasq.
const BOARD_ADDR: &str = "192.0.2.10";

struct Ctx {
    elf: PathBuf,
    tonearm: PathBuf,
    dir: PathBuf,
    trusted: certs::Chain,
    unknown: certs::Chain,
    front: Front,
}

type Outcome = Result<String, String>;
/// A scenario: its name and its run.
type Scenario = (&'static str, fn(&Ctx) -> Outcome);

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let (Some(elf), Some(tonearm), Some(dir)) = (arg("--elf"), arg("--tonearm"), arg("--dir"))
    else {
        eprintln!(
            "usage: tonearm-virt-host --elf FIRMWARE --tonearm TONEARM --dir DIR [--only A,B]"
        );
        std::process::exit(2);
    };
    let only: Option<Vec<String>> =
        arg("--only").map(|s| s.split(',').map(str::to_owned).collect());
    let dir = PathBuf::from(dir);
    let setup = || -> Result<Ctx, String> {
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let trusted = certs::chain("Tonearm test root", certs::Keys::Rsa)?;
        let unknown = certs::chain("Unknown root", certs::Keys::P256)?;
        sntp::serve("192.0.2.1:123").map_err(|e| format!("SNTP responder: {e}"))?;
        let front = Front::start(
            "192.0.2.1:443"
                .parse::<SocketAddr>()
                .map_err(|e| e.to_string())?,
            Mode::Down,
        )
        .map_err(|e| format!("TLS front: {e}"))?;
        Ok(Ctx {
            elf: PathBuf::from(&elf),
            tonearm: PathBuf::from(&tonearm),
            dir: dir.clone(),
            trusted,
            unknown,
            front,
        })
    };
    let ctx = match setup() {
        Ok(c) => c,
        Err(e) => {
            println!("board-virt: FAIL setup: {e}");
            std::process::exit(1);
        }
    };
    let scenarios: [Scenario; 12] = [
        ("boot", boot),
        ("setup_needed", setup_needed),
        ("track_change", track_change),
        ("token_rotation", token_rotation),
        ("rate_limited", rate_limited),
        ("quota_exceeded", quota_exceeded),
        ("mitm_unknown_root", mitm_unknown_root),
        ("mitm_no_certificate_verify", mitm_no_certificate_verify),
        ("hanging_response", hanging_response),
        ("link_down_up", link_down_up),
        ("server_gone", server_gone),
        ("hub", hub),
    ];
    let mut failed = 0;
    for (name, run) in scenarios {
        if only.as_ref().is_some_and(|o| !o.iter().any(|n| n == name)) {
            continue;
        }
        let t = Instant::now();
        ctx.front.set_mode(Mode::Down);
        ctx.front.clear();
        match run(&ctx) {
            Ok(note) => println!(
                "board-virt: PASS {name} ({:.1} s){}{note}",
                t.elapsed().as_secs_f64(),
                if note.is_empty() { "" } else { ": " }
            ),
            Err(why) => {
                failed += 1;
                println!(
                    "board-virt: FAIL {name}: {why} ({:.1} s)",
                    t.elapsed().as_secs_f64()
                );
            }
        }
    }
    std::process::exit(i32::from(failed > 0));
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Writes a 32 MiB pflash image: the record (with `root` as its extra trust anchor) as
/// `tonearm-settings` writes it, padded with erased flash; `None`: all erased.
fn write_image(path: &Path, refresh_token: Option<&str>, root: &[u8]) -> Result<(), String> {
    let mut image = vec![0xFF; FLASH_SIZE];
    if let Some(token) = refresh_token {
        let settings = Settings {
            ssid: "tonearm-test-net",
            client_id: CLIENT,
            refresh_token: token,
            authorized_at: Some(unix_now()),
            roots: [Some(root), None],
            // No daily budget: the session polls at its own pace (every 5 s while
            // playing), not one request in two minutes, so the scenarios stay short.
            daily_requests: Some(0),
            ..Settings::default()
        };
        let mut part = vec![0xFF; 2 * tonearm_settings::RECORD_MAX];
        partition_image(&settings, &mut part).map_err(|e| format!("record: {e:?}"))?;
        image[..part.len()].copy_from_slice(&part);
    }
    std::fs::write(path, image).map_err(|e| format!("{}: {e}", path.display()))
}

/// A fake Spotify knowing `refresh_token`, with a playlist loaded (playing from 0).
fn fake(refresh_token: &str, items: Vec<Item>) -> FakeSpotify {
    let fake = FakeSpotify::start();
    fake.set_client(CLIENT, None);
    fake.add_refresh_token(refresh_token);
    fake.set_playlist(items);
    fake.set_current(Some(0));
    fake
}

impl Ctx {
    fn serve(&self, fake: &FakeSpotify) -> Result<(), String> {
        let config = front::tls_config(&self.trusted.leaf, &self.trusted.leaf_key)
            .map_err(|e| e.to_string())?;
        self.front.set_mode(Mode::Tls {
            config,
            upstream: fake.addr(),
        });
        Ok(())
    }

    fn boot(&self, name: &str, image: &Path) -> Result<Vm, String> {
        Vm::start(
            &self.elf,
            image,
            &self.dir.join(format!("{name}.uart.log")),
            &self.dir.join(format!("{name}.monitor")),
        )
        .map_err(|e| format!("QEMU: {e}"))
    }

    fn image(&self, name: &str, refresh_token: Option<&str>) -> Result<PathBuf, String> {
        let path = self.dir.join(format!("{name}.pflash.img"));
        write_image(&path, refresh_token, &self.trusted.root)?;
        Ok(path)
    }
}

/// The common start of the scenarios that disturb a board that plays: the fake with two
/// tracks playing behind the front, the board booted with a record whose login is
/// `refresh_token`, online, and showing the first track.
fn playing(ctx: &Ctx, name: &str, refresh_token: &str) -> Result<(FakeSpotify, Vm), String> {
    let fake = fake(refresh_token, Item::tracks(2));
    fake.set_playing(true);
    ctx.serve(&fake)?;
    let image = ctx.image(name, Some(refresh_token))?;
    let mut vm = ctx.boot(name, &image)?;
    online(&mut vm)?;
    screen(
        &mut vm,
        Duration::from_secs(60),
        "now_playing",
        Some("Track 0"),
    )?;
    Ok((fake, vm))
}

/// Waits for DHCP and the time of day.
fn online(vm: &mut Vm) -> Result<(), String> {
    vm.wait_for(Duration::from_secs(30), "DHCP address", |l| {
        l.starts_with("net: address") && l.contains(BOARD_ADDR)
    })?;
    vm.wait_for(Duration::from_secs(30), "time of day (SNTP)", |l| {
        l.starts_with("time of day known")
    })?;
    Ok(())
}

/// Waits for an event line showing `screen` (and `title`, if given).
fn screen(vm: &mut Vm, timeout: Duration, screen: &str, title: Option<&str>) -> Outcome {
    let what = format!(
        "{screen} screen{}",
        title.map(|t| format!(" with {t:?}")).unwrap_or_default()
    );
    vm.wait_for(timeout, &what, |l| {
        vm::screen(l).as_deref() == Some(screen)
            && title.is_none_or(|t| vm::title(l).as_deref() == Some(t))
    })
}

/// The `frame` checksum printed last before the line at `index` of the UART.
fn frame_before(vm: &Vm, line: &str) -> Option<String> {
    let at = vm.lines.iter().rposition(|l| l == line)?;
    vm.lines[..at]
        .iter()
        .rev()
        .take_while(|l| !l.starts_with('{'))
        .find_map(|l| l.strip_prefix("frame ").map(str::to_owned))
}

/// `GET` on the fake over loopback: the body.
fn fetch(fake: &FakeSpotify, path: &str, token: &str) -> Result<Vec<u8>, String> {
    let mut s = TcpStream::connect(fake.addr()).map_err(|e| e.to_string())?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: api.spotify.com\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut all = Vec::new();
    s.read_to_end(&mut all).map_err(|e| e.to_string())?;
    let end = all
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("no head")?;
    let head = String::from_utf8_lossy(&all[..end]).to_ascii_lowercase();
    if head.contains("transfer-encoding: chunked") {
        return Err("chunked body".into());
    }
    Ok(all[end + 4..].to_vec())
}

/// `tonearm render BODY --screen S --display 240x240 --checksum`.
fn render(ctx: &Ctx, body: &Path, screen: &str) -> Result<String, String> {
    let out = std::process::Command::new(&ctx.tonearm)
        .arg("render")
        .arg(body)
        .args([
            "--screen",
            screen,
            "--display",
            "240x240",
            "--checksum",
            "--out",
        ])
        .arg(ctx.dir.join(format!("{screen}.render.png")))
        .output()
        .map_err(|e| format!("tonearm render: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "tonearm render failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// The player requests the fake got (either route).
fn player_requests(fake: &FakeSpotify) -> Vec<tonearm_tests::fake_spotify::RecordedRequest> {
    fake.requests()
        .into_iter()
        .filter(|r| matches!(r.route, Route::Player | Route::CurrentlyPlaying))
        .collect()
}

/// Nothing the front received carries an `Authorization` header, in clear or decrypted.
fn no_authorization(ctx: &Ctx) -> Result<usize, String> {
    let conns = ctx.front.conns();
    for c in &conns {
        for bytes in [&c.raw, &c.plain] {
            if bytes
                .windows(14)
                .any(|w| w.eq_ignore_ascii_case(b"authorization:"))
            {
                return Err("the board sent an Authorization header".into());
            }
        }
        if !c.plain.is_empty() {
            return Err(format!(
                "the board sent {} bytes of a request",
                c.plain.len()
            ));
        }
    }
    Ok(conns.len())
}

// ---- The scenarios ----

/// DHCP, DNS, SNTP, the token refresh, now playing: a paused item whose first frame
/// matches the desktop's render of the same body.
fn boot(ctx: &Ctx) -> Outcome {
    let fake = fake("rt-boot", Item::tracks(3));
    fake.set_playing(false);
    // A login without the library scopes: no heart, which `tonearm render` of a body
    // alone cannot know about.
    fake.set_scopes(&[
        "user-read-currently-playing",
        "user-read-playback-state",
        "user-modify-playback-state",
    ]);
    ctx.serve(&fake)?;
    let image = ctx.image("boot", Some("rt-boot"))?;
    let mut vm = ctx.boot("boot", &image)?;
    online(&mut vm)?;
    let line = screen(&mut vm, Duration::from_secs(60), "paused", Some("Track 0"))?;
    let board = frame_before(&vm, &line).ok_or("no frame checksum before the paused event")?;
    let token_ok = fake
        .requests_to(Route::Token)
        .iter()
        .any(|r| String::from_utf8_lossy(&r.body).contains("refresh_token=rt-boot"));
    if !token_ok {
        return Err("no token refresh with the record's refresh token".into());
    }
    let last = player_requests(&fake)
        .pop()
        .ok_or("no player request reached the fake")?;
    let access = fake.add_access_token(Duration::from_secs(600));
    let body = fetch(&fake, &last.path_and_query, &access)?;
    let body_path = ctx.dir.join("boot.body.json");
    std::fs::write(&body_path, &body).map_err(|e| e.to_string())?;
    let desktop = render(ctx, &body_path, "paused")?;
    vm.stop();
    if board != desktop {
        return Err(format!(
            "paused frame checksum {board} on the board, {desktop} from tonearm render"
        ));
    }
    Ok(format!("paused frame {board} = tonearm render"))
}

/// No record in flash: `setup_needed`, drawn as the desktop draws it.
fn setup_needed(ctx: &Ctx) -> Outcome {
    let image = ctx.image("setup_needed", None)?;
    let mut vm = ctx.boot("setup_needed", &image)?;
    let line = screen(&mut vm, Duration::from_secs(20), "setup_needed", None)?;
    let board =
        frame_before(&vm, &line).ok_or("no frame checksum before the setup_needed event")?;
    vm.stop();
    let empty = ctx.dir.join("empty.body");
    std::fs::write(&empty, b"").map_err(|e| e.to_string())?;
    let desktop = render(ctx, &empty, "setup_needed")?;
    if board != desktop {
        return Err(format!(
            "setup_needed frame {board}, tonearm render {desktop}"
        ));
    }
    Ok(format!("frame {board} = tonearm render"))
}

/// A track ends: the board asks at the predicted end and shows the next one.
fn track_change(ctx: &Ctx) -> Outcome {
    let mut items = Item::tracks(2);
    items[0].duration_ms = 15_000;
    let fake = fake("rt-track", items);
    fake.set_playing(true);
    let ends = Instant::now() + Duration::from_millis(15_000);
    ctx.serve(&fake)?;
    let image = ctx.image("track_change", Some("rt-track"))?;
    let mut vm = ctx.boot("track_change", &image)?;
    online(&mut vm)?;
    screen(
        &mut vm,
        Duration::from_secs(40),
        "now_playing",
        Some("Track 0"),
    )?;
    // The player moves on at the end of the track.
    let wait = ends.saturating_duration_since(Instant::now());
    vm.none_for(wait, "a panic", |_| false)?;
    fake.set_current(Some(1));
    fake.set_playing(true);
    let switched = Instant::now();
    screen(
        &mut vm,
        Duration::from_secs(8),
        "now_playing",
        Some("Track 1"),
    )?;
    let after = switched.elapsed();
    vm.stop();
    Ok(format!(
        "next track shown {:.1} s after the end",
        after.as_secs_f64()
    ))
}

/// A rotated refresh token is written to flash; after a restart the board uses it (the
/// fake revoked the old one).
fn token_rotation(ctx: &Ctx) -> Outcome {
    let fake = fake("rt-old", Item::tracks(2));
    fake.set_playing(false);
    fake.set_rotation(Rotation::RotateAndRevokeOld);
    ctx.serve(&fake)?;
    let image = ctx.image("token_rotation", Some("rt-old"))?;
    let mut vm = ctx.boot("token_rotation", &image)?;
    online(&mut vm)?;
    vm.wait_for(Duration::from_secs(60), "the rotated token saved", |l| {
        l.starts_with("settings: saved")
    })?;
    screen(&mut vm, Duration::from_secs(60), "paused", Some("Track 0"))?;
    vm.stop();
    let valid = fake.refresh_tokens();
    if valid.iter().any(|t| t == "rt-old") || valid.len() != 1 {
        return Err(format!(
            "the fake's valid refresh tokens: {} (expected one new)",
            valid.len()
        ));
    }
    let new = valid[0].clone();
    let before = fake.requests_to(Route::Token).len();
    let mut vm = ctx.boot("token_rotation-restart", &image)?;
    online(&mut vm)?;
    screen(&mut vm, Duration::from_secs(60), "paused", Some("Track 0"))?;
    vm.stop();
    let tokens = fake.requests_to(Route::Token);
    let used_new = tokens[before..].first().is_some_and(|r| {
        String::from_utf8_lossy(&r.body).contains(&format!("refresh_token={new}"))
    });
    if !used_new {
        return Err("after the restart, the first refresh did not use the rotated token".into());
    }
    Ok(String::new())
}

/// A 429 with `Retry-After`: the board waits that long before it asks again.
fn rate_limited(ctx: &Ctx) -> Outcome {
    let (fake, mut vm) = playing(ctx, "rate_limited", "rt-429")?;
    const RETRY_S: u64 = 12;
    for route in [Route::Player, Route::CurrentlyPlaying] {
        fake.push(route, Reply::rate_limited(Some(RETRY_S)));
    }
    screen(&mut vm, Duration::from_secs(20), "rate_limited", None)?;
    let limited_at = player_requests(&fake)
        .last()
        .map(|r| r.at)
        .ok_or("no player request")?;
    screen(
        &mut vm,
        Duration::from_secs(RETRY_S + 15),
        "now_playing",
        Some("Track 0"),
    )?;
    vm.stop();
    let next = player_requests(&fake)
        .into_iter()
        .map(|r| r.at)
        .find(|at| *at > limited_at)
        .ok_or("no request after the 429")?;
    let gap = next - limited_at;
    if gap < Duration::from_secs(RETRY_S) {
        return Err(format!(
            "asked again {:.1} s after a Retry-After of {RETRY_S} s",
            gap.as_secs_f64()
        ));
    }
    Ok(format!("asked again after {:.1} s", gap.as_secs_f64()))
}

/// The daily quota's 429 (`QUOTA_EXCEEDED` with `Retry-After`): the board shows
/// `quota_exceeded` with the hold's end, asks the Web API nothing until then, and comes
/// back after it.
fn quota_exceeded(ctx: &Ctx) -> Outcome {
    let (fake, mut vm) = playing(ctx, "quota_exceeded", "rt-quota")?;
    const HOLD_S: u64 = 20;
    for route in [Route::Player, Route::CurrentlyPlaying] {
        fake.push(route, Reply::quota_exceeded(Some(HOLD_S)));
    }
    let line = screen(&mut vm, Duration::from_secs(20), "quota_exceeded", None)?;
    let held_at = unix_now();
    let until = vm::event(&line)
        .and_then(|e| e.get("quota_until")?.as_u64())
        .ok_or("no quota_until on the quota_exceeded line")?;
    if until.abs_diff(held_at + HOLD_S) > 3 {
        return Err(format!(
            "quota_until {until}, expected about {}",
            held_at + HOLD_S
        ));
    }
    let api = |f: &FakeSpotify| {
        f.requests()
            .iter()
            .filter(|r| r.route != Route::Token)
            .count()
    };
    let n = api(&fake);
    let hit = fake
        .requests()
        .iter()
        .rfind(|r| matches!(r.route, Route::Player | Route::CurrentlyPlaying))
        .map(|r| r.at)
        .ok_or("no player request")?;
    screen(
        &mut vm,
        Duration::from_secs(HOLD_S + 20),
        "now_playing",
        Some("Track 0"),
    )?;
    vm.stop();
    let next = fake
        .requests()
        .iter()
        .filter(|r| r.route != Route::Token && r.at > hit)
        .map(|r| r.at)
        .min()
        .ok_or("no request after the hold")?;
    let gap = next - hit;
    if gap < Duration::from_secs(HOLD_S - 1) {
        return Err(format!(
            "asked the Web API {:.1} s into a {HOLD_S} s quota hold ({} requests before)",
            gap.as_secs_f64(),
            n
        ));
    }
    Ok(format!(
        "quota_exceeded until the hold's end; asked again after {:.1} s",
        gap.as_secs_f64()
    ))
}

/// A server whose certificate comes from a root the board does not trust.
fn mitm_unknown_root(ctx: &Ctx) -> Outcome {
    let fake = fake("rt-mitm", Item::tracks(1));
    let config =
        front::tls_config(&ctx.unknown.leaf, &ctx.unknown.leaf_key).map_err(|e| e.to_string())?;
    ctx.front.set_mode(Mode::Tls {
        config,
        upstream: fake.addr(),
    });
    let image = ctx.image("mitm_unknown_root", Some("rt-mitm"))?;
    let mut vm = ctx.boot("mitm_unknown_root", &image)?;
    online(&mut vm)?;
    vm.wait_for(
        Duration::from_secs(20),
        "the board's refusal of the certificate",
        |l| l.starts_with("tls:") && l.contains("InvalidCertificate"),
    )?;
    vm.none_for(
        Duration::from_secs(10),
        "an item shown through the man in the middle",
        |l| matches!(vm::screen(l).as_deref(), Some("paused" | "now_playing")),
    )?;
    vm.stop();
    let conns = no_authorization(ctx)?;
    if conns == 0 {
        return Err("the board never connected".into());
    }
    if !fake.requests().is_empty() {
        return Err("requests reached the fake".into());
    }
    Ok(format!("{conns} connections refused, nothing sent"))
}

/// A server that replays the trusted chain but sends no CertificateVerify.
fn mitm_no_certificate_verify(ctx: &Ctx) -> Outcome {
    ctx.front.set_mode(Mode::Rogue {
        chain: vec![ctx.trusted.leaf.clone()],
    });
    let image = ctx.image("mitm_no_certificate_verify", Some("rt-rogue"))?;
    let mut vm = ctx.boot("mitm_no_certificate_verify", &image)?;
    online(&mut vm)?;
    vm.wait_for(
        Duration::from_secs(20),
        "the board's refusal of the handshake",
        |l| l.starts_with("tls:") && l.contains("did not authenticate"),
    )?;
    vm.none_for(
        Duration::from_secs(10),
        "an item shown through the rogue server",
        |l| matches!(vm::screen(l).as_deref(), Some("paused" | "now_playing")),
    )?;
    vm.stop();
    let conns = ctx.front.conns();
    no_authorization(ctx)?;
    if conns.is_empty() {
        return Err("the board never connected".into());
    }
    if let Some(c) = conns.iter().find(|c| c.records_after_handshake > 1) {
        return Err(format!(
            "the board sent {} records after the rogue handshake (its Finished is one)",
            c.records_after_handshake
        ));
    }
    Ok(format!("{} handshakes, no request after any", conns.len()))
}

/// A response that never comes: the request times out and the board goes on.
fn hanging_response(ctx: &Ctx) -> Outcome {
    let (fake, mut vm) = playing(ctx, "hanging_response", "rt-hang")?;
    for route in [Route::Player, Route::CurrentlyPlaying] {
        fake.push(route, Reply::hang());
    }
    let hung_from = Instant::now();
    // The next poll hangs; the one after it must come and be answered.
    let n = player_requests(&fake).len();
    let deadline = Instant::now() + Duration::from_secs(60);
    while player_requests(&fake).len() < n + 2 {
        if Instant::now() > deadline {
            return Err("no request after the hanging one within 60 s".into());
        }
        vm.none_for(Duration::from_millis(500), "a panic", |_| false)?;
    }
    let recovered = hung_from.elapsed();
    vm.none_for(Duration::from_secs(3), "a watchdog reset", |l| {
        l.starts_with("watchdog")
    })?;
    screen(
        &mut vm,
        Duration::from_secs(15),
        "now_playing",
        Some("Track 0"),
    )
    .or_else(|_| Ok::<_, String>(String::new()))?;
    vm.stop();
    Ok(format!(
        "asked again {:.1} s after the hang began",
        recovered.as_secs_f64()
    ))
}

/// The link goes down (QEMU's `set_link`) for 20 s and comes back: nothing reaches the
/// fake while it is down, and the board asks again and shows the item once it is up.
fn link_down_up(ctx: &Ctx) -> Outcome {
    let (fake, mut vm) = playing(ctx, "link_down_up", "rt-link")?;
    vm.monitor("set_link n0 off")?;
    let n = player_requests(&fake).len();
    vm.none_for(Duration::from_secs(20), "a panic", |_| false)?;
    let during = player_requests(&fake).len() - n;
    if during > 1 {
        return Err(format!(
            "{during} requests reached the fake with the link down"
        ));
    }
    vm.monitor("set_link n0 on")?;
    let up = Instant::now();
    let deadline = up + Duration::from_secs(60);
    while player_requests(&fake).len() < n + during + 2 {
        if Instant::now() > deadline {
            return Err("no requests answered within 60 s of the link coming back".into());
        }
        vm.none_for(Duration::from_millis(500), "a panic", |_| false)?;
    }
    let back = up.elapsed();
    let shown = vm
        .lines
        .iter()
        .rev()
        .find_map(|l| vm::screen(l))
        .unwrap_or_default();
    vm.stop();
    if shown != "now_playing" {
        return Err(format!("the board shows {shown} after the link came back"));
    }
    Ok(format!(
        "asking again {:.0} s after the link came up",
        back.as_secs_f64()
    ))
}

/// The server gone for over a minute (each connection closed at once): the offline
/// screen, backoff (the attempts further and further apart), and back when it returns.
fn server_gone(ctx: &Ctx) -> Outcome {
    let (fake, mut vm) = playing(ctx, "server_gone", "rt-gone")?;
    let before = ctx.front.conns().len();
    ctx.front.set_mode(Mode::Closing);
    let gone = Instant::now();
    screen(&mut vm, Duration::from_secs(90), "offline", None)?;
    let offline_after = gone.elapsed();
    vm.none_for(Duration::from_secs(5), "a panic", |_| false)?;
    let attempts: Vec<Duration> = ctx.front.conns()[before..].iter().map(|c| c.at).collect();
    ctx.serve(&fake)?;
    let back = Instant::now();
    screen(
        &mut vm,
        Duration::from_secs(90),
        "now_playing",
        Some("Track 0"),
    )?;
    let recovered = back.elapsed();
    vm.stop();
    let gaps: Vec<f64> = attempts
        .windows(2)
        .map(|w| (w[1] - w[0]).as_secs_f64())
        .collect();
    let (first, last) = (
        gaps.first().copied().unwrap_or(0.0),
        gaps.last().copied().unwrap_or(0.0),
    );
    if attempts.len() < 3 || last < 2.0 * first.max(0.5) {
        return Err(format!(
            "no backoff: {} attempts while gone, gaps {:?} s",
            attempts.len(),
            gaps.iter()
                .map(|g| (g * 10.0).round() / 10.0)
                .collect::<Vec<_>>()
        ));
    }
    Ok(format!(
        "offline after {:.0} s; {} attempts while gone, gaps {:.1} s .. {:.1} s; back {:.0} s after the server returned",
        offline_after.as_secs_f64(),
        attempts.len(),
        first,
        last,
        recovered.as_secs_f64()
    ))
}

/// The hub's broker inside the namespace, where the board reaches it (never 1883).
const MQTT_PORT: u16 = 18830;
const HUB_USER: &str = "tonearm-hub";
const HUB_PASSWORD: &str = "hub-broker-pw-31f2";
const BOARD_USER: &str = "tonearm-board";
const BOARD_PASSWORD: &str = "board-broker-pw-8a0c";

/// A child process killed when dropped.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A board fed by a hub (the hub issue's item 4): mosquitto on 192.0.2.1 in the test
/// network (authentication on), `tonearm hub` polling the fake over loopback, the board's
/// record a hub and its broker login and no Spotify login at all. Its first `paused`
/// frame equals `tonearm render` of the body the hub read (a login without the library
/// scopes and no queue line on the hub: what a body alone cannot show); the broker
/// stopped: `offline`; restarted: back (the hub publishes again).
fn hub(ctx: &Ctx) -> Outcome {
    let mut broker = None;
    let outcome = hub_run(ctx, &mut broker);
    // The broker's log beside the UART's, whatever happened.
    if let Some(b) = &broker {
        let _ = std::fs::write(ctx.dir.join("hub.mosquitto.log"), b.log());
    }
    outcome
}

fn hub_run(ctx: &Ctx, broker_slot: &mut Option<tonearm_tests::mosquitto::Mosquitto>) -> Outcome {
    let fake = fake("rt-hub", Item::tracks(3));
    fake.set_playing(false);
    fake.set_scopes(&[
        "user-read-currently-playing",
        "user-read-playback-state",
        "user-modify-playback-state",
    ]);
    let broker = broker_slot.insert(
        tonearm_tests::mosquitto::Mosquitto::builder()
            .user(HUB_USER, HUB_PASSWORD)
            .user(BOARD_USER, BOARD_PASSWORD)
            .config_lines(&format!("listener {MQTT_PORT} 192.0.2.1"))
            .try_start()?,
    );
    let home = ctx.dir.join("hub-home");
    std::fs::create_dir_all(&home).map_err(|e| e.to_string())?;
    let config = home.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "client_id = \"{CLIENT}\"\nrefresh_token = \"rt-hub\"\napi_base = \"{}\"\n\
             accounts_base = \"{}\"\ndaily_requests = 100000\nup_next = false\n\
             mqtt_url = \"{}\"\nmqtt_username = \"{HUB_USER}\"\nmqtt_password = \"{HUB_PASSWORD}\"\n",
            fake.api_base(),
            fake.accounts_base(),
            broker.url()
        ),
    )
    .map_err(|e| e.to_string())?;
    let hub_log =
        std::fs::File::create(ctx.dir.join("hub.tonearm.log")).map_err(|e| e.to_string())?;
    let _hub = Child(
        std::process::Command::new(&ctx.tonearm)
            .arg("--config")
            .arg(&config)
            .args(["-v", "hub", "--id", "desk", "--duration", "300"])
            .env_remove("TONEARM_MQTT_PASSWORD")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(hub_log)
            .spawn()
            .map_err(|e| format!("tonearm hub: {e}"))?,
    );
    let url = format!("mqtt://192.0.2.1:{MQTT_PORT}/desk");
    let settings = Settings {
        ssid: "tonearm-test-net",
        tz: Some("UTC0"),
        hub_url: Some(&url),
        mqtt_user: Some(BOARD_USER),
        mqtt_password: Some(BOARD_PASSWORD),
        ..Settings::default()
    };
    let image = ctx.dir.join("hub.pflash.img");
    let mut flash = vec![0xFF; FLASH_SIZE];
    partition_image(&settings, &mut flash[..2 * tonearm_settings::RECORD_MAX])
        .map_err(|e| format!("record: {e:?}"))?;
    std::fs::write(&image, flash).map_err(|e| e.to_string())?;
    let mut vm = ctx.boot("hub", &image)?;
    online(&mut vm)?;
    vm.wait_for(Duration::from_secs(30), "the broker", |l| {
        l.starts_with("hub: broker connected")
    })?;
    let line = screen(&mut vm, Duration::from_secs(60), "paused", Some("Track 0"))?;
    let board = frame_before(&vm, &line).ok_or("no frame checksum before the paused event")?;
    let last = player_requests(&fake)
        .pop()
        .ok_or("the hub sent the fake no player request")?;
    let access = fake.add_access_token(Duration::from_secs(600));
    let body = fetch(&fake, &last.path_and_query, &access)?;
    let body_path = ctx.dir.join("hub.body.json");
    std::fs::write(&body_path, &body).map_err(|e| e.to_string())?;
    let desktop = render(ctx, &body_path, "paused")?;
    if board != desktop {
        return Err(format!(
            "paused frame checksum {board} on the board, {desktop} from tonearm render"
        ));
    }
    // Nothing of Spotify's on the board's link: it asked the front nothing.
    if !ctx.front.conns().is_empty() {
        return Err("the board connected to the Spotify front".into());
    }
    broker.stop();
    let stopped = Instant::now();
    screen(&mut vm, Duration::from_secs(20), "offline", Some("Track 0"))?;
    let offline_after = stopped.elapsed();
    broker.restart();
    let restarted = Instant::now();
    screen(&mut vm, Duration::from_secs(60), "paused", Some("Track 0"))?;
    let back_after = restarted.elapsed();
    vm.stop();
    Ok(format!(
        "paused frame {board} = tonearm render; offline {:.1} s after the broker stopped, back {:.1} s after it restarted",
        offline_after.as_secs_f64(),
        back_after.as_secs_f64()
    ))
}
