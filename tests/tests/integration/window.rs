//! The real SDL window under Xvfb: the demo draws what the app draws, the progress moves,
//! keys sent with xdotool act, and Q quits cleanly.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use serde_json::Value;
use tonearm_tests::xvfb::{Image, Xvfb};

/// The demo in a window on `x`, with its event stream read on a thread.
struct Demo {
    child: Child,
    events: Receiver<Value>,
    seen: Vec<Value>,
}

impl Demo {
    fn start(x: &Xvfb, args: &[&str]) -> Demo {
        // A window at scale 1 (its size is the display's); full screen has no scale.
        let scale: &[&str] = if args.contains(&"--fullscreen") {
            &[]
        } else {
            &["--scale", "1"]
        };
        let mut child = Command::new(tonearm_tests::tonearm_bin())
            .args(["demo", "--events"])
            .args(scale)
            .args(args)
            .env("DISPLAY", x.display())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("tonearm demo starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, events) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let v: Value = serde_json::from_str(&line).expect("each event line is JSON");
                if tx.send(v).is_err() {
                    break;
                }
            }
        });
        Demo {
            child,
            events,
            seen: Vec::new(),
        }
    }

    /// Waits for an event with this screen (and title, if given).
    fn wait_for(&mut self, screen: &str, title: Option<&str>, timeout: Duration) -> Value {
        self.wait_until(&format!("{screen} {title:?}"), timeout, |ev| {
            ev["screen"] == screen && title.is_none_or(|t| ev["title"] == t)
        })
    }

    /// Waits for an event `what` says.
    fn wait_until(
        &mut self,
        what: &str,
        timeout: Duration,
        want: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let ev = self
                .events
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no {what} event; saw {:?}", self.seen));
            self.seen.push(ev.clone());
            if want(&ev) {
                return ev;
            }
        }
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn xvfb() -> Xvfb {
    Xvfb::start().expect("Xvfb runs (scripts/test.sh installs it)")
}

/// Rows of the 320x240 layout above the progress bar (header, art, title, artists, album):
/// they do not change while one track plays.
const STILL_ROWS: u32 = 120;
/// The rows of the progress bar and the times.
const PROGRESS_ROWS: (u32, u32) = (140, 200);

#[test]
fn the_window_shows_the_apps_frames_and_the_progress_moves() {
    let x = xvfb();
    let dir = std::env::temp_dir().join(format!("tonearm-window-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let snapshot = dir.join("snap.png");
    let mut demo = Demo::start(&x, &["--snapshot", snapshot.to_str().unwrap()]);
    demo.wait_for("now_playing", Some("Karma Police"), Duration::from_secs(30));
    let id = x
        .window("Tonearm demo", Duration::from_secs(10))
        .expect("the window exists");
    std::thread::sleep(Duration::from_millis(500));
    let first = x.capture(&id);
    assert_eq!(
        (first.width, first.height),
        (320, 240),
        "scale 1: the display's size"
    );
    // The snapshot is the app's own frame of this screen: the window shows the same pixels
    // wherever nothing animates.
    let snap = Image::from_png(&snapshot);
    assert_eq!(
        snap.diff_rows(&first, 0, STILL_ROWS),
        0,
        "the window differs from the app's frame"
    );
    // Not a blank window: the header's green and the title's white are there.
    assert!(
        first.pixels.iter().any(|p| p[1] > 150 && p[0] < 100),
        "no green"
    );
    assert!(
        first
            .pixels
            .iter()
            .any(|p| p[0] > 230 && p[1] > 230 && p[2] > 230),
        "no white"
    );
    std::thread::sleep(Duration::from_millis(2_200));
    let second = x.capture(&id);
    assert!(
        first.diff_rows(&second, PROGRESS_ROWS.0, PROGRESS_ROWS.1) > 0,
        "the progress did not move"
    );
    assert_eq!(
        first.diff_rows(&second, 0, STILL_ROWS),
        0,
        "the still part changed"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn keys_act_and_q_quits_cleanly() {
    let x = xvfb();
    let mut demo = Demo::start(&x, &[]);
    demo.wait_for("now_playing", Some("Karma Police"), Duration::from_secs(30));
    let id = x
        .window("Tonearm demo", Duration::from_secs(10))
        .expect("the window exists");
    // No window manager: focus the window ourselves.
    x.run("xdotool", &["windowfocus", "--sync", &id]);
    // A person's presses are a few hundred ms apart at the least.
    let press = |key: &str| {
        std::thread::sleep(Duration::from_millis(300));
        x.run("xdotool", &["key", "--window", &id, key]);
    };
    press("space");
    demo.wait_for("paused", Some("Karma Police"), Duration::from_secs(5));
    press("space");
    demo.wait_for("now_playing", Some("Karma Police"), Duration::from_secs(5));
    press("Right");
    demo.wait_for("now_playing", Some("夢の中へ"), Duration::from_secs(5));
    // Q closes the window, so xdotool may report an error for a key that did its work
    // (the window is gone before it lets go): send it once, unchecked, and judge by the
    // exit. If it was lost, a second one is sent before the deadline.
    let q = || {
        std::thread::sleep(Duration::from_millis(300));
        let _ = Command::new("xdotool")
            .args(["key", "--window", &id, "q"])
            .env("DISPLAY", x.display())
            .output();
    };
    q();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut again = Instant::now() + Duration::from_secs(3);
    loop {
        if Instant::now() > again && demo.child.try_wait().unwrap().is_none() {
            q();
            again = deadline;
        }
        if let Some(status) = demo.child.try_wait().unwrap() {
            assert!(status.success(), "Q exits 0, got {status}");
            break;
        }
        assert!(Instant::now() < deadline, "Q did not quit");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn without_a_display_the_window_fails_with_a_clear_message() {
    let out = Command::new(tonearm_tests::tonearm_bin())
        .args(["demo", "--duration", "2"])
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--headless"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

/// `--fullscreen` on screens of `width` x `height`: the app's frame (`frame_size`) at the
/// largest whole `scale` from `(x, y)`, pixel for pixel, black around it.
fn fullscreen_shows_the_frame_scaled(
    (width, height): (u32, u32),
    frame_size: (u32, u32),
    (scale, x, y): (u32, u32, u32),
    extra: &[&str],
) {
    let xv = Xvfb::start_with(width, height).expect("Xvfb runs");
    let dir = std::env::temp_dir().join(format!(
        "tonearm-fullscreen-{}-{width}x{height}-{}x{}",
        std::process::id(),
        frame_size.0,
        frame_size.1
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let snapshot = dir.join("snap.png");
    let mut args = vec!["--fullscreen", "--snapshot", snapshot.to_str().unwrap()];
    args.extend_from_slice(extra);
    let mut demo = Demo::start(&xv, &args);
    demo.wait_for("now_playing", Some("Karma Police"), Duration::from_secs(30));
    // The cover arrives just after the title (later on a loaded machine): compare until
    // the screen and the snapshot show the same moment, for up to 15 s.
    let deadline = Instant::now() + Duration::from_secs(15);
    let (screen, frame, wrong) = loop {
        std::thread::sleep(Duration::from_millis(700));
        let png = xv.run("import", &["-window", "root", "png24:-"]);
        let screen = Image::from_png_bytes(&png);
        assert_eq!((screen.width, screen.height), (width, height));
        let frame = Image::from_png(&snapshot);
        assert_eq!((frame.width, frame.height), frame_size);
        let mut wrong = 0;
        for fy in 0..STILL_ROWS {
            for fx in 0..frame.width {
                let want = frame.at(fx, fy);
                for dy in 0..scale {
                    for dx in 0..scale {
                        if screen.at(x + fx * scale + dx, y + fy * scale + dy) != want {
                            wrong += 1;
                        }
                    }
                }
            }
        }
        if wrong == 0 || Instant::now() > deadline {
            break (screen, frame, wrong);
        }
    };
    assert_eq!(wrong, 0, "screen pixels that differ from the app's frame");
    // Black around the picture: the corners and the middle of each margin.
    let (w, h) = (frame.width * scale, frame.height * scale);
    let mut outside = Vec::new();
    if (w, h) != (width, height) {
        outside.extend([(0, 0), (width - 1, height - 1)]);
    }
    if x > 0 {
        outside.extend([(x / 2, height / 2), (x + w + x / 2, height / 2)]);
    }
    if y > 0 {
        outside.extend([(width / 2, y / 2), (width / 2, y + h + y / 2)]);
    }
    for (px, py) in outside {
        assert_eq!(screen.at(px, py), [0, 0, 0], "({px}, {py}) is not black");
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn fullscreen_fills_an_800x480_screen_at_twice_the_size() {
    fullscreen_shows_the_frame_scaled(
        (800, 480),
        (320, 240),
        (2, 80, 0),
        &["--display", "320x240"],
    );
}

#[test]
fn fullscreen_shows_the_800x480_layout_on_a_1024x600_screen_centred() {
    // `--display auto`: the largest layout that fits.
    fullscreen_shows_the_frame_scaled(
        (1024, 600),
        (800, 480),
        (1, 112, 60),
        &["--display", "auto"],
    );
}

#[test]
fn fullscreen_without_a_display_fills_an_800x480_screen_with_its_own_layout() {
    // Nothing said of the display: full screen picks the largest layout that fits.
    fullscreen_shows_the_frame_scaled((800, 480), (800, 480), (1, 0, 0), &[]);
}

#[test]
fn fullscreen_shows_the_480x320_layout_at_twice_the_size() {
    // A 3.5-inch panel's layout on a 1024x768 monitor: 960x640, centred.
    fullscreen_shows_the_frame_scaled(
        (1024, 768),
        (480, 320),
        (2, 32, 64),
        &["--display", "480x320"],
    );
}

#[test]
fn fullscreen_ignores_esc_and_q_and_quits_on_ctrl_q() {
    let xv = Xvfb::start_with(800, 480).expect("Xvfb runs");
    let mut demo = Demo::start(&xv, &["--fullscreen"]);
    demo.wait_for("now_playing", Some("Karma Police"), Duration::from_secs(30));
    let id = xv
        .window("Tonearm demo", Duration::from_secs(10))
        .expect("the window exists");
    xv.run("xdotool", &["windowfocus", "--sync", &id]);
    for key in ["Escape", "q"] {
        std::thread::sleep(Duration::from_millis(300));
        xv.run("xdotool", &["key", "--window", &id, key]);
    }
    std::thread::sleep(Duration::from_millis(1_000));
    assert!(
        demo.child.try_wait().unwrap().is_none(),
        "Esc or Q closed the full-screen display"
    );
    // Space still acts.
    std::thread::sleep(Duration::from_millis(300));
    xv.run("xdotool", &["key", "--window", &id, "space"]);
    demo.wait_for("paused", Some("Karma Police"), Duration::from_secs(5));
    std::thread::sleep(Duration::from_millis(300));
    let _ = Command::new("xdotool")
        .args(["key", "--window", &id, "ctrl+q"])
        .env("DISPLAY", xv.display())
        .output();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = demo.child.try_wait().unwrap() {
            assert!(status.success(), "Ctrl+Q exits 0, got {status}");
            break;
        }
        assert!(Instant::now() < deadline, "Ctrl+Q did not quit");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The heart, the volume and up next in the window: the demo's first track is liked and
/// knows what plays next; L unlikes it, + turns the volume up, a click on the heart likes
/// it again, a click on the speaker shows the volume and a click on its right half turns
/// it up, a click on next skips (the clicks at the display's own pixels: scale 1).
#[test]
fn keys_and_clicks_like_turn_the_volume_and_skip() {
    let xv = Xvfb::start().expect("Xvfb runs");
    let mut demo = Demo::start(&xv, &["--display", "320x240"]);
    let t = Duration::from_secs(30);
    demo.wait_until("liked and up next", t, |ev| {
        ev["title"] == "Karma Police" && ev["liked"] == true && ev["up_next"].is_string()
    });
    assert_eq!(demo.seen.last().unwrap()["volume"], 60);
    let id = xv
        .window("Tonearm demo", Duration::from_secs(10))
        .expect("the window exists");
    let key = |k: &str| {
        std::thread::sleep(Duration::from_millis(200));
        xv.run("xdotool", &["key", "--window", &id, k]);
    };
    let click = |x: i32, y: i32| {
        std::thread::sleep(Duration::from_millis(200));
        xv.run(
            "xdotool",
            &[
                "mousemove",
                "--window",
                &id,
                &x.to_string(),
                &y.to_string(),
                "click",
                "1",
            ],
        );
    };
    let short = Duration::from_secs(5);
    key("l");
    demo.wait_until("unliked by L", short, |ev| ev["liked"] == false);
    key("plus");
    demo.wait_until("volume 65 by +", short, |ev| ev["volume"] == 65);
    key("Down");
    demo.wait_until("volume 60 by Down", short, |ev| ev["volume"] == 60);
    // The heart at the control row's left end, the speaker at its right (320x240).
    click(26, 216);
    demo.wait_until("liked by a click", short, |ev| ev["liked"] == true);
    click(294, 216);
    std::thread::sleep(Duration::from_millis(300));
    // The overlay is up: its right half turns the volume up.
    click(220, 116);
    demo.wait_until("volume 65 by a tap", short, |ev| ev["volume"] == 65);
    // Next: 44 px right of the play disc.
    click(204, 216);
    demo.wait_until("skipped by a click", Duration::from_secs(10), |ev| {
        ev["title"].is_string() && ev["title"] != "Karma Police"
    });
}
