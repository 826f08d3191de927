//! `tonearm demo`: the scripted session shows every screen, through the real parser,
//! session, app and screens.

use std::process::Command;

use serde_json::Value;

#[test]
fn the_demo_shows_every_screen() {
    let out = Command::new(tonearm_tests::tonearm_bin())
        .args([
            "demo",
            "--headless",
            "--events",
            "--speed",
            "10",
            "--duration",
            "9.0",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let events: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON lines"))
        .collect();
    for screen in [
        "now_playing",
        "paused",
        "episode",
        "ad",
        "idle",
        "login_needed",
        "offline",
        "rate_limited",
        "quota_exceeded",
        "config_error",
    ] {
        assert!(
            events.iter().any(|e| e["screen"] == screen),
            "no {screen} in {events:?}"
        );
    }
    // The CJK and the over-long titles come through whole.
    assert!(events.iter().any(|e| e["title"] == "夢の中へ"));
    assert!(
        events
            .iter()
            .any(|e| e["title"].as_str().is_some_and(|t| t.len() > 100))
    );
    // Times only go forward.
    let times: Vec<u64> = events.iter().map(|e| e["t_ms"].as_u64().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn the_demo_snapshot_is_the_screen() {
    let dir = std::env::temp_dir().join(format!("tonearm-demo-snap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let snap = dir.join("now.png");
    let status = Command::new(tonearm_tests::tonearm_bin())
        .args([
            "demo",
            "--headless",
            "--duration",
            "0.5",
            "--display",
            "128x64",
            "--snapshot",
        ])
        .arg(&snap)
        .status()
        .unwrap();
    assert!(status.success());
    let img = tonearm_tests::xvfb::Image::from_png(&snap);
    assert_eq!((img.width, img.height), (128, 64));
    assert!(
        img.pixels.iter().any(|p| p != &img.pixels[0]),
        "not a blank frame"
    );
    std::fs::remove_dir_all(&dir).ok();
}
