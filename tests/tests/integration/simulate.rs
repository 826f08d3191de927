//! `tonearm simulate` end to end: the real binary on the shipped ordinary day, with
//! `--events` and `--config`, and on an invalid day.

use serde_json::Value;
use tonearm_tests::{repo_root, run_tonearm};

const SUMMARY_KEYS: [&str; 10] = [
    "requests",
    "requests_by_kind",
    "max_in_30s",
    "natural",
    "outside",
    "start",
    "missed",
    "superseded",
    "excluded",
    "quota_hold_ms",
];

fn ordinary() -> String {
    repo_root()
        .join("docs/days/ordinary.json")
        .to_string_lossy()
        .into_owned()
}

/// Runs `tonearm` expecting success; returns its stdout's lines, parsed.
fn lines_of(args: &[&str]) -> Vec<Value> {
    let out = run_tonearm(args, None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{args:?}: {stderr}");
    assert!(stderr.is_empty(), "nothing on stderr: {stderr}");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

fn check_summary(s: &Value) {
    for key in SUMMARY_KEYS {
        assert!(s.get(key).is_some(), "{key} missing: {s}");
    }
    let by_kind = &s["requests_by_kind"];
    let mut sum = 0;
    for kind in [
        "player", "token", "control", "library", "queue", "volume", "other",
    ] {
        sum += by_kind[kind]
            .as_u64()
            .unwrap_or_else(|| panic!("{kind}: {s}"));
    }
    assert_eq!(Some(sum), s["requests"].as_u64(), "{s}");
    for figure in ["natural", "outside", "start"] {
        for key in ["n", "p50_ms", "p95_ms", "max_ms"] {
            assert!(s[figure].get(key).is_some(), "{figure}.{key}: {s}");
        }
    }
}

#[test]
fn the_ordinary_day_prints_its_summary() {
    let day = ordinary();
    let lines = lines_of(&["simulate", &day]);
    assert_eq!(lines.len(), 1, "without --events only the summary");
    let s = &lines[0];
    check_summary(s);
    // The defaults: a budget of 700 (config {}), so far fewer requests than a day of
    // 5 s polls, and a natural change of every sitting measured.
    assert_eq!(s["daily_requests"], 700);
    assert!(s["requests"].as_u64().unwrap() <= 700, "{s}");
    assert!(s["natural"]["n"].as_u64().unwrap() >= 50, "{s}");
    assert_eq!(s["excluded"], 0, "no night, no quota: {s}");
    assert_eq!(s["requests_by_kind"]["control"], 0, "no presses: {s}");
}

#[test]
fn events_come_first_and_the_config_file_counts() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    // Other keys (no client id needed, a display) are ignored; token.json is never read.
    std::fs::write(
        &config,
        "display = \"128x64\"\ndaily_requests = 0\npoll_playing_s = 10\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("token.json"), "not JSON").unwrap();
    let day = ordinary();
    let lines = lines_of(&[
        "simulate",
        &day,
        "--events",
        "--config",
        config.to_str().unwrap(),
    ]);
    let (summary, events) = lines.split_last().unwrap();
    check_summary(summary);
    assert_eq!(summary["daily_requests"], 0);
    // 10 s polls for about 4 hours of music, and idle polls the rest of the day.
    let requests = summary["requests"].as_u64().unwrap();
    assert!((2_000..4_000).contains(&requests), "{summary}");
    assert!(
        events.len() > 70,
        "a line per track at least: {}",
        events.len()
    );
    let mut last = 0;
    for e in events {
        let t = e["t_ms"].as_u64().unwrap();
        assert!(t >= last && t < 86_400_000, "{e}");
        last = t;
        assert!(e["screen"].is_string() && e.get("title").is_some(), "{e}");
        assert_eq!(e.get("budget"), None, "no budget, no budget key: {e}");
    }
    assert_eq!(events[0]["screen"], "connecting");
    assert!(
        events
            .iter()
            .any(|e| e["title"] == "Morning 1" && e["screen"] == "now_playing")
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("token.json")).unwrap(),
        "not JSON"
    );
    assert!(
        !dir.path().join("quota.json").exists(),
        "quota.json is never written"
    );
}

#[test]
fn an_invalid_day_exits_1_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.json");
    std::fs::write(
        &path,
        r#"{"date": "2026-12-01", "events": [
            {"at": "07:00:00", "play": [{"title": "A", "duration_s": 100}]},
            {"at": "07:01:00", "pause": true},
            {"at": "07:02:00", "resume": true},
            {"at": "07:03:00", "skip": "sideways"}]}"#,
    )
    .unwrap();
    let out = run_tonearm(&["simulate", path.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        stderr,
        format!(
            "tonearm: {}: event 3: \"skip\": expected \"next\" or \"previous\"\n",
            path.display()
        )
    );
    // A bad scheduling value in the config file names the file and the key.
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "daily_requests = 50\n").unwrap();
    let day = ordinary();
    let out = run_tonearm(
        &["simulate", &day, "--config", config.to_str().unwrap()],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.starts_with(&format!("tonearm: {}: daily_requests: ", config.display())),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1);
}
