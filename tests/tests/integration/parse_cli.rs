//! `tonearm parse` end to end: the real binary on fixtures, the corpus, stdin and bad input.

use serde_json::Value;
use tonearm_tests::{corpus_files, fixtures_dir, run_tonearm};

const KEYS: [&str; 16] = [
    "kind",
    "is_playing",
    "progress_ms",
    "duration_ms",
    "timestamp",
    "title",
    "artists",
    "album",
    "show",
    "publisher",
    "is_local",
    "image_url",
    "device",
    "shuffle",
    "repeat",
    "truncated",
];

fn parse_ok(args: &[&str], stdin: Option<&[u8]>) -> Value {
    let out = run_tonearm(args, stdin);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{args:?}: {stderr}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        stdout.lines().count(),
        1,
        "one JSON object on one line: {stdout}"
    );
    serde_json::from_str(&stdout).unwrap()
}

#[test]
#[cfg_attr(
    not(tonearm_corpus),
    ignore = "needs the API corpus: ../shared/api-corpus beside this checkout, or TONEARM_SHARED=<folder holding api-corpus>"
)]
fn every_corpus_body_prints_every_key() {
    let files = corpus_files();
    assert_eq!(files.len(), 20);
    for path in files {
        let v = parse_ok(&["parse", path.to_str().unwrap()], None);
        let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        let mut want = KEYS.to_vec();
        keys.sort_unstable();
        want.sort_unstable();
        assert_eq!(keys, want, "{}", path.display());
        assert!(v["artists"].is_array());
    }
}

#[test]
fn seed_values_and_position() {
    let seed = fixtures_dir().join("seed_track.json");
    let v = parse_ok(
        &["parse", "--elapsed-ms", "10000", seed.to_str().unwrap()],
        None,
    );
    assert_eq!(v["kind"], "track");
    assert_eq!(v["title"], "Yume no Naka e");
    assert_eq!(v["artists"], serde_json::json!(["Cherish"]));
    assert_eq!(
        v["image_url"],
        "https://i.scdn.co/image/ab67616d00004851fce712500a4be6eaf874c20e"
    );
    assert_eq!(v["device"], Value::Null);
    assert_eq!(v["position_ms"], 56_170);
    assert_eq!(v["position_text"], "0:56 / 2:31");
    // Far past the end: clamped.
    let v = parse_ok(
        &["parse", "--elapsed-ms", "999999999", seed.to_str().unwrap()],
        None,
    );
    assert_eq!(v["position_text"], "2:31 / 2:31");
}

#[test]
fn episode_falls_back_to_show_image_and_uses_long_times() {
    let body = br#"{"is_playing":false,"progress_ms":2760000,"currently_playing_type":"episode",
        "item":{"type":"episode","name":"E","duration_ms":7200000,"images":[],
        "show":{"name":"S","images":[{"url":"https://i.scdn.co/image/show","width":300,"height":300}]}}}"#;
    let v = parse_ok(&["parse", "--elapsed-ms", "5000", "-"], Some(body));
    assert_eq!(v["image_url"], "https://i.scdn.co/image/show");
    assert_eq!(
        v["position_text"], "0:46:00 / 2:00:00",
        "paused: no advance"
    );
    assert_eq!(v["publisher"], Value::Null);
}

#[test]
fn player_body_device_shuffle_repeat() {
    let body = std::fs::read(fixtures_dir().join("player_device_crlf.json")).unwrap();
    let v = parse_ok(&["parse", "-"], Some(&body));
    assert_eq!(
        (
            v["device"].as_str(),
            v["shuffle"].as_bool(),
            v["repeat"].as_str()
        ),
        (Some("Kitchen speaker"), Some(true), Some("track"))
    );
}

#[test]
fn empty_body_is_nothing_playing() {
    let v = parse_ok(&["parse", "-"], Some(b""));
    assert_eq!(v, serde_json::json!({"kind": "nothing_playing"}));
}

#[test]
fn ad_has_only_elapsed_time() {
    let body = std::fs::read(fixtures_dir().join("ad_item_null.json")).unwrap();
    let v = parse_ok(&["parse", "--elapsed-ms", "1000", "-"], Some(&body));
    assert_eq!(
        (
            v["kind"].as_str(),
            v["title"].is_null(),
            v["position_text"].as_str()
        ),
        (Some("ad"), true, Some("0:15"))
    );
}

#[test]
fn invalid_input_exits_1_with_one_line_naming_the_offset() {
    let table: &[(&[u8], &str)] = &[
        (b"{\"item\": {\"name\": \"x\"", "offset 21"),
        (b"{\"a\":1}garbage", "offset 7"),
        (b"<html>", "offset 0"),
        (b"{\"a\":\"\xff\"}", "offset 6"),
    ];
    for (body, offset) in table {
        let out = run_tonearm(&["parse", "-"], Some(body));
        assert_eq!(out.status.code(), Some(1));
        assert!(out.stdout.is_empty(), "nothing on stdout");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(offset), "{stderr}");
    }
    let out = run_tonearm(&["parse", "/nonexistent/body.json"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/body.json"));
}

/// The body is streamed: a 200 MB body parses under a 64 MB address-space limit.
#[test]
fn memory_does_not_grow_with_the_file() {
    use std::io::Write;
    let dir = std::env::temp_dir().join(format!("tonearm-parse-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("huge.json");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    f.write_all(b"{\"available_markets\":[").unwrap();
    let row = b"\"AD\",\"AE\",\"AG\",\"AL\",\"AM\",\"AO\",\"AR\",\"AT\",\"AU\",\"AZ\",";
    for _ in 0..(200 << 20) / row.len() {
        f.write_all(row).unwrap();
    }
    f.write_all(b"\"ZW\"],\"item\":{\"type\":\"track\",\"name\":\"Still here\"}}")
        .unwrap();
    drop(f);
    let script = format!(
        "ulimit -v 65536; exec '{}' parse '{}'",
        tonearm_tests::tonearm_bin().display(),
        path.display()
    );
    let out = std::process::Command::new("bash")
        .args(["-c", &script])
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).ok();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["title"], "Still here");
}

/// `tonearm service --out`: a unit systemd accepts, running this binary in full screen.
#[test]
fn the_service_unit_passes_systemd_analyze_verify() {
    let dir = std::env::temp_dir().join(format!("tonearm-service-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let unit = dir.join("tonearm.service");
    let config = dir.join("config.toml");
    let out = std::process::Command::new(tonearm_tests::tonearm_bin())
        .args(["service", "--user", "daemon", "--out"])
        .arg(&unit)
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&unit).unwrap();
    assert!(text.contains("run --fullscreen --config"), "{text}");
    assert!(
        text.contains(&format!("{:?}", config.display().to_string())),
        "{text}"
    );
    let verify = std::process::Command::new("systemd-analyze")
        .arg("verify")
        .arg(&unit)
        .output()
        .expect("systemd-analyze (scripts/test.sh installs systemd)");
    let said = String::from_utf8_lossy(&verify.stderr);
    assert!(verify.status.success(), "{said}");
    assert!(
        !said.to_lowercase().contains("error") && !said.contains("Failed"),
        "{said}"
    );
    std::fs::remove_dir_all(&dir).ok();
}
