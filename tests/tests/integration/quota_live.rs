//! The 2026 rules end to end: `tonearm run --headless --events` against the fake Spotify.
//! A quota 429 (and its variants) holds every request, and the hold and the counts survive
//! a restart through `quota.json`; the six-month login warning; the Premium 403; night
//! hours; the budget's config errors; `tonearm logout` keeps `quota.json`.

use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use tonearm_tests::fake_spotify::{FakeSpotify, Reply, Route};

use crate::run_live::{Home, ROOMY_BUDGET, Run, T, setup, track};

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}

/// The sum of `quota.json`'s hourly counts.
fn counted(quota: &Value) -> u64 {
    quota["counts"]
        .as_array()
        .expect("counts")
        .iter()
        .map(|c| c.as_u64().expect("a count"))
        .sum()
}

/// A fake that knows `refresh-0` and plays `title`.
fn fake_playing(title: &str) -> FakeSpotify {
    let fake = FakeSpotify::start();
    fake.add_refresh_token("refresh-0");
    fake.set_default(
        Route::Player,
        Reply::json(200, track(title, 0, 600_000, true)),
    );
    fake
}

/// A fake and a home polling every 2 s while playing (the budget is roomy enough that
/// `poll_playing_s` is the interval). The fake answers any poll not scripted with a title
/// the test must never see.
fn fast_setup() -> (FakeSpotify, Home) {
    let fake = fake_playing("Asked too early");
    let home = Home::with(
        &fake,
        Some("refresh-0"),
        "daily_requests = 100000\npoll_playing_s = 2\n",
    );
    (fake, home)
}

/// Ends `run` as Ctrl-C or a service manager would (SIGTERM), and waits for its exit.
fn terminate(mut run: Run) {
    let pid = run.child.id().to_string();
    let status = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let exit = run.child.wait().expect("it exits");
    assert!(exit.success(), "{exit:?}\n{}", run.stderr());
}

/// Asserts that the fake gets no request for `d` (it had `before`).
fn no_request_for(fake: &FakeSpotify, before: usize, d: Duration) {
    std::thread::sleep(d);
    let now = fake.requests();
    assert_eq!(
        now.len(),
        before,
        "requests during the hold: {:?}",
        now.iter()
            .skip(before)
            .map(|r| &r.path_and_query)
            .collect::<Vec<_>>()
    );
}

#[test]
fn a_quota_429_holds_every_request_and_the_hold_survives_a_restart() {
    let (fake, home) = fast_setup();
    fake.push(
        Route::Player,
        Reply::json(200, track("Day", 1_000, 600_000, true)),
    );
    fake.push(
        Route::Player,
        Reply::json(200, track("Day", 3_000, 600_000, true)),
    );
    fake.push(Route::Player, Reply::quota_exceeded(Some(6 * 3600)));
    let started = unix_now();
    let mut run = Run::start(&home.config(), &[]);
    run.wait_for("now_playing", Some("Day"), T);
    let event = run.wait_for("quota_exceeded", None, T);
    let until = event["quota_until"].as_u64().expect("quota_until");
    assert!(
        until >= started + 6 * 3600 && until <= unix_now() + 6 * 3600 + 1,
        "quota_until {until}, started {started}"
    );
    // The effective budget dropped to 75 % and rides along.
    assert_eq!(event["budget"]["limit"], 75_000, "{event}");
    let sent = fake.requests();
    assert_eq!(fake.requests_to(Route::Player).len(), 3, "{sent:?}");
    assert_eq!(sent.len(), 4, "a refresh and three polls");
    no_request_for(&fake, sent.len(), Duration::from_secs(8));
    // The hold was written at once (a kill now loses nothing).
    let quota = home.quota().expect("quota.json written");
    assert_eq!(quota["version"], 1);
    assert_eq!(quota["hold_until_s"], until);
    assert_eq!(quota["hits_in_row"], 1);
    assert_eq!(quota["effective"], 75_000);
    assert_eq!(counted(&quota), 4, "{quota}");
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(home.dir.join("quota.json"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    assert!(
        run.seen.iter().all(|e| e["title"] != "Asked too early"),
        "{:?}",
        run.seen
    );
    let _ = run.child.kill();
    let _ = run.child.wait();

    // A restart with the same config directory: still held, still silent.
    let mut again = Run::start(&home.config(), &[]);
    let event = again.wait_for("quota_exceeded", None, T);
    assert_eq!(event["quota_until"], until, "{event}");
    no_request_for(&fake, sent.len(), Duration::from_secs(5));
    assert!(again.seen.iter().all(|e| e["screen"] != "now_playing"));
    // A clean exit writes the state once more: the counts are still there.
    terminate(again);
    let quota = home.quota().expect("quota.json");
    assert_eq!(quota["hold_until_s"], until);
    assert_eq!(counted(&quota), 4, "{quota}");
}

#[test]
fn quota_429_variants_hold_for_their_time() {
    // (reply, the hold it asks for in seconds)
    let cases = [
        (
            Reply::quota_exceeded(Some(3 * 3600)).lower_case_retry_after(),
            3 * 3600,
            "lower-case retry-after",
        ),
        (
            Reply::quota_exceeded(Some(2 * 3600)).without_body(),
            2 * 3600,
            "no body, a wait of hours",
        ),
        (
            Reply::quota_exceeded(None),
            6 * 3600,
            "no Retry-After: six hours",
        ),
    ];
    for (reply, hold, what) in cases {
        let (fake, home) = fast_setup();
        fake.push(Route::Player, reply);
        let started = unix_now();
        let mut run = Run::start(&home.config(), &[]);
        let event = run.wait_for("quota_exceeded", None, T);
        let until = event["quota_until"].as_u64().expect("quota_until");
        assert!(
            until >= started + hold && until <= unix_now() + hold + 1,
            "{what}: quota_until {until}, started {started}"
        );
        let sent = fake.requests().len();
        assert_eq!(sent, 2, "{what}: a refresh and one poll");
        no_request_for(&fake, sent, Duration::from_secs(4));
        assert_eq!(home.quota().expect("quota.json")["hold_until_s"], until);
    }
}

/// A token.json as `tonearm login` writes it, authorized `days_ago`; returns when.
fn write_token(home: &Home, days_ago: u64) -> u64 {
    let at = unix_now() - days_ago * 86_400;
    let token = serde_json::json!({
        "version": 1,
        "refresh_token": "refresh-0",
        "auth_mode": "pkce",
        "authorized_at": at,
    });
    std::fs::write(home.dir.join("token.json"), token.to_string()).unwrap();
    at
}

#[test]
fn a_login_175_days_old_warns_that_it_ends_soon() {
    let fake = fake_playing("Late");
    let home = Home::with(&fake, None, ROOMY_BUDGET);
    let at = write_token(&home, 175);
    let mut run = Run::start(&home.config(), &[]);
    let event = run.wait_for("now_playing", Some("Late"), T);
    assert_eq!(
        event["warnings"],
        serde_json::json!(["login_expires"]),
        "{event}"
    );
    // The refreshed token.json still says when the login was made.
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(home.token().expect("token.json")["authorized_at"], at);
    drop(run);

    // 100 days: no warning.
    let fake = fake_playing("Early");
    let home = Home::with(&fake, None, ROOMY_BUDGET);
    write_token(&home, 100);
    let mut run = Run::start(&home.config(), &[]);
    let event = run.wait_for("now_playing", Some("Early"), T);
    assert!(event.get("warnings").is_none(), "{event}");
}

#[test]
fn an_unknown_login_time_gives_no_warning_and_says_why_at_v() {
    let fake = fake_playing("Seeded");
    let home = Home::new(&fake, "refresh-0");
    let mut run = Run::start(&home.config(), &["-v"]);
    let event = run.wait_for("now_playing", Some("Seeded"), T);
    assert!(event.get("warnings").is_none(), "{event}");
    let log = run.stderr();
    let lines: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("no six-month login warning"))
        .collect();
    assert_eq!(lines.len(), 1, "{log}");
    assert!(lines[0].contains("refresh_token"), "{log}");
    assert!(
        !log.lines().any(|l| l.starts_with("tonearm: warning")),
        "no warning for it: {log}"
    );
}

#[test]
fn premium_lapsed_is_a_config_error_and_nothing_more_is_sent() {
    let (fake, home) = setup();
    fake.set_premium_lapsed(true);
    let mut run = Run::start(&home.config(), &[]);
    run.wait_for("config_error", None, T);
    let sent = fake.requests();
    assert_eq!(sent.len(), 2, "a refresh and one poll: {sent:?}");
    assert_eq!(fake.requests_to(Route::Player).len(), 1);
    no_request_for(&fake, 2, Duration::from_secs(6));
}

#[test]
fn night_hours_darken_the_screen_and_thin_the_polls() {
    let fake = fake_playing("Nocturne");
    // Two hours of night around now, in UTC.
    let minute = unix_now() / 60 % 1440;
    let at = |m: u64| format!("{:02}:{:02}", m / 60, m % 60);
    let night = format!(
        "{}-{}",
        at((minute + 1380) % 1440),
        at((minute + 60) % 1440)
    );
    let home = Home::with(
        &fake,
        Some("refresh-0"),
        &format!("daily_requests = 100000\npoll_playing_s = 2\nnight = \"{night}\"\n"),
    );
    let mut run = Run::start_with_env(&home.config(), &[], &[("TZ", "UTC")]);
    let event = run.wait_for("now_playing", Some("Nocturne"), T);
    assert_eq!(event["dark"], true, "night {night}: {event}");
    // One poll at start, then at most one per quarter hour.
    no_request_for(&fake, 2, Duration::from_secs(6));

    // A night elsewhere in the day: not dark, the usual polls.
    let fake = fake_playing("Daylight");
    let night = format!(
        "{}-{}",
        at((minute + 120) % 1440),
        at((minute + 180) % 1440)
    );
    let home = Home::with(
        &fake,
        Some("refresh-0"),
        &format!("daily_requests = 100000\npoll_playing_s = 2\nnight = \"{night}\"\n"),
    );
    let mut run = Run::start_with_env(&home.config(), &[], &[("TZ", "UTC")]);
    let event = run.wait_for("now_playing", Some("Daylight"), T);
    assert!(event.get("dark").is_none(), "night {night}: {event}");
    assert!(fake.wait_for_requests(4, T).len() >= 4, "polls every 2 s");
}

#[test]
fn budget_and_night_config_errors_are_one_line() {
    let fake = FakeSpotify::start();
    for (extra, want) in [
        (
            "\ndaily_requests = 50\n",
            "config.toml:6: daily_requests: must be 0 (no budget) or a whole number of requests from 100 to 100000",
        ),
        (
            "night = \"23:00-23:00\"\n",
            "config.toml:5: night: `23:00-23:00`: start and end are the same",
        ),
        (
            "night = \"11pm-7am\"\n",
            "config.toml:5: night: `11pm-7am`: expected HH:MM-HH:MM in 24-hour time",
        ),
    ] {
        let home = Home::with(&fake, Some("refresh-0"), extra);
        let out = Command::new(tonearm_tests::tonearm_bin())
            .args(["run", "--headless", "--duration", "2", "--config"])
            .arg(home.config())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{extra}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with("tonearm: "), "{err}");
        assert!(err.contains(want), "{err}\nwant: {want}");
    }
    assert!(fake.requests().is_empty());
}

#[test]
fn a_corrupt_quota_file_is_set_aside_with_one_warning() {
    let fake = fake_playing("Fresh");
    let home = Home::new(&fake, "refresh-0");
    std::fs::write(home.dir.join("quota.json"), "{\"version\":1,\"hour\":").unwrap();
    let mut run = Run::start(&home.config(), &[]);
    run.wait_for("now_playing", Some("Fresh"), T);
    let log = run.stderr();
    let warnings: Vec<&str> = log
        .lines()
        .filter(|l| l.starts_with("tonearm: warning:"))
        .collect();
    assert_eq!(warnings.len(), 1, "{log}");
    assert!(
        warnings[0].contains("quota.json: not a valid quota file")
            && warnings[0].contains("starts from empty counts"),
        "{log}"
    );
    let aside: Vec<_> = std::fs::read_dir(&home.dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("quota.json.corrupt-")
        })
        .collect();
    assert_eq!(aside.len(), 1);
    // A fresh quota.json counts from zero.
    std::thread::sleep(Duration::from_millis(300));
    let quota = home.quota().expect("a new quota.json");
    let sent = fake.requests().len() as u64;
    assert!(
        (1..=sent).contains(&counted(&quota)),
        "{quota}, {sent} sent"
    );
}

#[test]
fn logout_keeps_the_quota_file() {
    let fake = FakeSpotify::start();
    let home = Home::with(&fake, None, "");
    write_token(&home, 3);
    let quota = r#"{"version":1,"hour":1,"counts":[5],"hold_until_s":0,"hits_in_row":0,"effective":0,"since_s":0}"#;
    std::fs::write(home.dir.join("quota.json"), quota).unwrap();
    let out = Command::new(tonearm_tests::tonearm_bin())
        .args(["logout", "--config"])
        .arg(home.config())
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("logged out: removed"), "{err}");
    assert!(err.contains("kept") && err.contains("quota.json"), "{err}");
    assert!(!home.dir.join("token.json").exists());
    assert_eq!(
        std::fs::read_to_string(home.dir.join("quota.json")).unwrap(),
        quota
    );
}
