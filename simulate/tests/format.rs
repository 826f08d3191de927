//! The day format's validation, the percentile rule, and the shipped days.

use std::path::PathBuf;

use tonearm_simulate::day::{Action, Day, DayError, Skip};
use tonearm_simulate::sim::ChangeKind;
use tonearm_simulate::simulate_day;
use tonearm_simulate::stats::{Latencies, max_in_window, percentile};

fn days_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/days")
}

/// A day with these events (and this config) around them.
fn day_with(config: &str, events: &str) -> String {
    format!(
        r#"{{"date": "2026-12-01", "utc_offset_min": 60, "config": {config}, "events": [{events}]}}"#
    )
}

fn err(text: &str) -> DayError {
    Day::parse(text, "docs/days/x.json").expect_err(text)
}

const PLAY: &str = r#"{"at": "07:00:00", "play": [{"title": "Opening", "duration_s": 200}]}"#;

#[test]
fn invalid_days_name_the_event_and_the_key() {
    // (events or whole text, event index, key, words of the message)
    let cases: &[(&str, Option<usize>, Option<&str>, &str)] = &[
        (
            r#"{"at": "07:00:00", "skip": "sideways"}"#,
            Some(0),
            Some(r#""skip""#),
            r#"expected "next" or "previous""#,
        ),
        (
            r#"{"at": "07:00:00", "pause": true, "stop": true}"#,
            Some(0),
            Some(r#""stop""#),
            "a second action in one event",
        ),
        (
            r#"{"at": "07:00:00", "jump": true}"#,
            Some(0),
            Some(r#""jump""#),
            "unknown key",
        ),
        (r#"{"at": "07:00:00"}"#, Some(0), None, "no action"),
        (r#""07:00:00""#, Some(0), None, "expected an object"),
        (
            r#"{"at": "7:00:00", "stop": true}"#,
            Some(0),
            Some(r#""at""#),
            "HH:MM:SS",
        ),
        (
            r#"{"at": "24:00:01", "stop": true}"#,
            Some(0),
            Some(r#""at""#),
            "to 24:00:00",
        ),
        (r#"{"stop": true}"#, Some(0), Some(r#""at""#), "HH:MM:SS"),
        (
            r#"{"at": "07:00:00", "stop": true}, {"at": "06:59:59", "stop": true}"#,
            Some(1),
            Some(r#""at""#),
            "out of order",
        ),
        (
            r#"{"at": "07:00:00", "pause": false}"#,
            Some(0),
            Some(r#""pause""#),
            "expected true",
        ),
        (
            r#"{"at": "07:00:00", "resume": "yes"}"#,
            Some(0),
            Some(r#""resume""#),
            "expected true",
        ),
        (
            r#"{"at": "07:00:00", "press": "stop"}"#,
            Some(0),
            Some(r#""press""#),
            r#"expected "play_pause", "next" or "previous""#,
        ),
        (
            r#"{"at": "07:00:00", "play": []}"#,
            Some(0),
            Some(r#""play""#),
            "the list is empty",
        ),
        (
            r#"{"at": "07:00:00", "play": {"title": "A"}}"#,
            Some(0),
            Some(r#""play""#),
            "expected a list",
        ),
        (
            r#"{"at": "07:00:00", "play": [{"title": "A", "duration_s": 0}]}"#,
            Some(0),
            Some(r#""play": item 0: "duration_s""#),
            "more than 0",
        ),
        (
            r#"{"at": "07:00:00", "play": [{"title": "A", "duration_s": 10}, {"title": "B", "duration_s": -3}]}"#,
            Some(0),
            Some(r#""play": item 1: "duration_s""#),
            "more than 0",
        ),
        (
            r#"{"at": "07:00:00", "play": [{"title": "A"}]}"#,
            Some(0),
            Some(r#""play": item 0: "duration_s""#),
            "more than 0",
        ),
        (
            r#"{"at": "07:00:00", "play": [{"title": "", "duration_s": 5}]}"#,
            Some(0),
            Some(r#""play": item 0: "title""#),
            "expected a title",
        ),
        (
            r#"{"at": "07:00:00", "play": [{"title": "A", "duration_s": 5, "artist": "X"}]}"#,
            Some(0),
            Some(r#""play": item 0: "artist""#),
            "unknown key",
        ),
        (
            r#"{"at": "07:00:00", "play": [{"title": "A", "duration_s": 5}]},
               {"at": "08:00:00", "play": [{"title": "B", "duration_s": 5}, {"title": "A", "duration_s": 5}]}"#,
            Some(1),
            Some(r#""play": item 1: "title""#),
            "already used (event 1)",
        ),
        (
            r#"{"at": "07:00:00", "quota_exceeded": {"retry_after_s": 0}}"#,
            Some(0),
            Some(r#""quota_exceeded": "retry_after_s""#),
            "more than 0",
        ),
        (
            r#"{"at": "07:00:00", "quota_exceeded": {"retry_after_s": 10, "x": 1}}"#,
            Some(0),
            Some(r#""quota_exceeded": "x""#),
            "unknown key",
        ),
        (
            r#"{"at": "07:00:00", "quota_exceeded": 10}"#,
            Some(0),
            Some(r#""quota_exceeded""#),
            "retry_after_s",
        ),
    ];
    for (events, event, key, words) in cases {
        let text = format!("{PLAY}, {events}");
        let e = err(&day_with("{}", &text));
        // The first event is a valid play: the index counts it.
        let want_event = event.map(|i| i + 1);
        assert_eq!(e.event, want_event, "{events}: {e}");
        assert_eq!(e.key.as_deref(), *key, "{events}: {e}");
        assert!(e.message.contains(words), "{events}: {e}");
        let line = e.to_string();
        assert!(
            line.starts_with("docs/days/x.json: "),
            "the file first: {line}"
        );
        if let (Some(i), Some(k)) = (want_event, key) {
            assert!(
                line.starts_with(&format!("docs/days/x.json: event {i}: {k}: ")),
                "{line}"
            );
        }
        assert_eq!(line.lines().count(), 1, "{line}");
    }
    // The example of the brief, word for word.
    let e = err(&day_with(
        "{}",
        &format!(
            r#"{PLAY}, {{"at": "07:01:00", "pause": true}}, {{"at": "07:02:00", "resume": true}},
               {{"at": "07:03:00", "skip": "sideways"}}"#
        ),
    ));
    assert_eq!(
        e.to_string(),
        r#"docs/days/x.json: event 3: "skip": expected "next" or "previous""#
    );
}

#[test]
fn invalid_days_outside_the_events() {
    let cases: &[(&str, Option<&str>, &str)] = &[
        (
            r#"{"date": "2026-12-01", "events": ["#,
            None,
            "not valid JSON",
        ),
        ("[]", None, "expected a JSON object"),
        (
            r#"{"date": "2026-12-01", "events": [], "colour": 1}"#,
            Some(r#""colour""#),
            "unknown key",
        ),
        (r#"{"events": []}"#, Some(r#""date""#), "YYYY-MM-DD"),
        (
            r#"{"date": "2026-02-30", "events": []}"#,
            Some(r#""date""#),
            "YYYY-MM-DD",
        ),
        (r#"{"date": "2026-12-01"}"#, Some(r#""events""#), "a list"),
        (
            r#"{"date": "2026-12-01", "utc_offset_min": 900, "events": []}"#,
            Some(r#""utc_offset_min""#),
            "-720 to 840",
        ),
        (
            r#"{"date": "2026-12-01", "config": [], "events": []}"#,
            Some(r#""config""#),
            "an object",
        ),
        (
            r#"{"date": "2026-12-01", "config": {"daily_requests": 50}, "events": []}"#,
            Some(r#""config": "daily_requests""#),
            "from 100 to 100000",
        ),
        (
            r#"{"date": "2026-12-01", "config": {"night": "23:00-23:00"}, "events": []}"#,
            Some(r#""config": "night""#),
            "start and end are the same",
        ),
        (
            r#"{"date": "2026-12-01", "config": {"client_id": "x"}, "events": []}"#,
            Some(r#""config": "client_id""#),
            "unknown key",
        ),
    ];
    for (text, key, words) in cases {
        let e = err(text);
        assert_eq!(e.event, None, "{text}: {e}");
        assert_eq!(e.key.as_deref(), *key, "{text}: {e}");
        assert!(e.message.contains(words), "{text}: {e}");
        assert_eq!(e.to_string().lines().count(), 1);
    }
}

#[test]
fn valid_days_parse_to_what_they_say() {
    let day = Day::parse(
        &day_with(
            r#"{"daily_requests": 1000, "night": "23:00-07:00", "like": true, "up_next": false}"#,
            r#"{"at": "07:45:00", "play": [{"title": "Morning 1", "duration_s": 214},
                                          {"title": "Morning 2", "duration_s": 187.5}]},
               {"at": "07:47:12", "skip": "next"},
               {"at": "07:47:12", "skip": "previous"},
               {"at": "07:50:00.250", "pause": true}, {"at": "07:51:30", "resume": true},
               {"at": "07:55:00", "press": "play_pause"},
               {"at": "07:56:00", "stop": true},
               {"at": "13:00:00", "quota_exceeded": {"retry_after_s": 20000}},
               {"at": "24:00:00", "stop": true}"#,
        ),
        "x.json",
    )
    .unwrap();
    assert_eq!(day.events.len(), 9);
    let Action::Play(list) = &day.events[0].action else {
        panic!("a play")
    };
    assert_eq!(
        (list.len(), &*list[1].title, list[1].duration_ms),
        (2, "Morning 2", 187_500)
    );
    assert_eq!(
        day.events[1].at_ms, day.events[2].at_ms,
        "equal times keep file order"
    );
    assert_eq!(day.events[2].action, Action::Skip(Skip::Previous));
    assert_eq!(day.events[3].at_ms, 7 * 3_600_000 + 50 * 60_000 + 250);
    assert_eq!(
        day.events[7].action,
        Action::QuotaExceeded {
            retry_after_s: 20_000
        }
    );
    let s = day.sched();
    assert_eq!(s.daily_requests, 1000);
    assert!(s.night.is_some() && s.like && !s.up_next);
    // An empty day is a day too (the display idles through it).
    let empty = Day::parse(r#"{"date": "2026-12-01", "events": []}"#, "x").unwrap();
    assert_eq!(
        (empty.utc_offset_min, empty.sched().daily_requests),
        (0, 700)
    );
}

#[test]
fn percentiles_are_nearest_rank() {
    let one_to = |n: u64| (1..=n).collect::<Vec<u64>>();
    // (values, p, element): element ceil(p * n / 100), 1-based.
    let cases: &[(&[u64], u32, Option<u64>)] = &[
        (&[], 50, None),
        (&[], 95, None),
        (&[7], 50, Some(7)),
        (&[7], 95, Some(7)),
        (&[1, 2], 50, Some(1)),
        (&[1, 2], 95, Some(2)),
        (&[1, 2, 3], 50, Some(2)),
        (&one_to(20), 50, Some(10)),
        (&one_to(20), 95, Some(19)),
        (&one_to(21), 95, Some(20)),
        (&one_to(100), 95, Some(95)),
        (&one_to(101), 50, Some(51)),
        (&one_to(101), 95, Some(96)),
        (&one_to(10), 100, Some(10)),
    ];
    for (values, p, want) in cases {
        assert_eq!(
            percentile(values, *p),
            *want,
            "p{p} of {} values",
            values.len()
        );
    }
    let l = Latencies::of(&[900, 100, 500, 300, 700]);
    assert_eq!(
        (l.n, l.p50_ms, l.p95_ms, l.max_ms),
        (5, Some(500), Some(900), Some(900)),
        "any order in"
    );
    assert_eq!(
        Latencies::of(&[]).to_json(),
        r#"{"n":0,"p50_ms":null,"p95_ms":null,"max_ms":null}"#
    );
    assert_eq!(
        l.to_json(),
        r#"{"n":5,"p50_ms":500,"p95_ms":900,"max_ms":900}"#
    );
    // The busiest window [t, t + 30 s): 30 000 ms after a request is outside it.
    assert_eq!(max_in_window(&[0, 1, 29_999, 30_000, 30_001], 30_000), 3);
}

#[test]
fn shipped_days_are_valid() {
    let mut names: Vec<String> = std::fs::read_dir(days_dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "night-owl.json",
            "ordinary.json",
            "party.json",
            "radio.json",
            "skipping.json"
        ]
    );
    for n in &names {
        Day::load(&days_dir().join(n)).unwrap_or_else(|e| panic!("{e}"));
    }
}

/// The ordinary day is exactly what its description says: about 4 hours of music in
/// three sittings, 70 tracks, 10 skips and 4 pauses (1-5 min, then resume) on the phone,
/// each sitting ending with a stop or the list running out; no night hours, no quota
/// event, config {}.
#[test]
fn the_ordinary_day_is_ordinary() {
    let day = Day::load(&days_dir().join("ordinary.json")).unwrap();
    assert!(day.config.is_empty(), "config {{}}: the defaults apply");
    let count = |f: &dyn Fn(&Action) -> bool| day.events.iter().filter(|e| f(&e.action)).count();
    assert_eq!(
        count(&|a| matches!(a, Action::Play(_))),
        3,
        "three sittings"
    );
    assert_eq!(count(&|a| matches!(a, Action::Skip(Skip::Next))), 10);
    assert_eq!(count(&|a| matches!(a, Action::Pause)), 4);
    assert_eq!(count(&|a| matches!(a, Action::Resume)), 4);
    assert_eq!(count(&|a| matches!(a, Action::Stop)), 2);
    assert_eq!(
        count(&|a| matches!(
            a,
            Action::Press(_) | Action::QuotaExceeded { .. } | Action::Skip(Skip::Previous)
        )),
        0
    );
    for (i, e) in day.events.iter().enumerate() {
        if e.action == Action::Pause {
            let next = &day.events[i + 1];
            assert_eq!(
                next.action,
                Action::Resume,
                "a pause is followed by its resume"
            );
            let gap = next.at_ms - e.at_ms;
            assert!((60_000..=300_000).contains(&gap), "pause of {gap} ms");
        }
        if let Action::Play(list) = &e.action {
            for t in list.iter() {
                assert!((150_000..=300_000).contains(&t.duration_ms), "{:?}", t);
            }
        }
    }
    // What happened at Spotify, from the run: tracks started (the first of each list and
    // every one after a skip or a natural end), music time, and how each sitting ended.
    let report = simulate_day(&day, false);
    let started = report
        .changes
        .iter()
        .filter(|c| {
            matches!(c.state, tonearm_simulate::spotify::State::Item { .. })
                && matches!(c.kind, ChangeKind::Start | ChangeKind::Natural)
                || (c.kind == ChangeKind::Outside && report_is_new_title(&report, c))
        })
        .count();
    assert_eq!(started, 70, "70 tracks");
    let music_ms: u64 = report
        .changes
        .iter()
        .filter(|c| {
            matches!(
                c.state,
                tonearm_simulate::spotify::State::Item { playing: true, .. }
            )
        })
        .map(|c| c.lasted_ms)
        .sum();
    let hours = music_ms as f64 / 3_600_000.0;
    assert!((3.75..=4.25).contains(&hours), "about 4 hours: {hours:.2}");
    let ends = report
        .changes
        .iter()
        .filter(|c| c.state == tonearm_simulate::spotify::State::Nothing)
        .map(|c| c.kind)
        .collect::<Vec<_>>();
    assert_eq!(
        ends,
        [
            ChangeKind::Outside,
            ChangeKind::Natural,
            ChangeKind::Outside
        ],
        "a stop, the list running out, a stop"
    );
}

/// Whether an outside change put a new title on (a skip), not a pause or resume.
fn report_is_new_title(
    report: &tonearm_simulate::Report,
    c: &tonearm_simulate::sim::ChangeRecord,
) -> bool {
    let tonearm_simulate::spotify::State::Item { title, .. } = &c.state else {
        return false;
    };
    let before = report.changes.iter().take_while(|x| x.t_ms < c.t_ms).last();
    !matches!(before.map(|b| &b.state), Some(tonearm_simulate::spotify::State::Item { title: t, .. }) if t == title)
}
