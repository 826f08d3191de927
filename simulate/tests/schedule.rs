//! The session's schedule as the simulator sees it: a day small enough to reason about
//! exactly, quota holds, night hours, a press on the dark screen, and the budget's cap
//! over a week of parties.

use std::path::PathBuf;

use tonearm_core::session::{ControlRefused, NIGHT_POLL_MS, Timing, WAKE_MS};
use tonearm_simulate::day::{Action, DAY_MS, Event};
use tonearm_simulate::sim::{ChangeKind, Outcome, RTT_MS, RequestRecord};
use tonearm_simulate::spotify::RequestClass;
use tonearm_simulate::stats::max_in_window;
use tonearm_simulate::{Day, Report, simulate, simulate_day};

const S: u64 = 1000;
const MIN: u64 = 60 * S;
const H: u64 = 60 * MIN;

fn day(config: &str, events: &str) -> Day {
    Day::parse(
        &format!(
            r#"{{"date": "2026-12-01", "utc_offset_min": 60, "config": {config}, "events": [{events}]}}"#
        ),
        "test.json",
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

fn latencies(report: &Report, kind: ChangeKind) -> Vec<u64> {
    report
        .changes
        .iter()
        .filter(|c| c.kind == kind)
        .map(|c| match c.outcome {
            Outcome::Shown { latency_ms } => latency_ms,
            other => panic!("{c:?}: {other:?}"),
        })
        .collect()
}

/// No budget (today's schedule), music from 00:00:00, so every request can be reasoned
/// out by hand:
///
/// - 0: the token (answered at 150), 150: the first poll (A at 150 ms, shown at 300).
/// - Playing: the next poll 5 s after each answer, so one every 5 150 ms: sent at
///   150 + 5 150 k. The answer's position is as of the moment it was sent, one round trip
///   before it arrives, and the session counts from the arrival: it expects A's end at
///   60 000 + 150 and polls `end_slack` (300) later, at 60 450, instead of its interval
///   poll (which it does from the answer at 56 950 on, when the end is due within 5 s). So
///   the last interval poll before it is sent at 56 800.
/// - A track ending by itself is therefore shown `end_slack` + 2 round trips after its
///   real end: 600 ms (B at 60 600, "nothing" at 90 600 when B's 30 s end the list).
/// - Nothing loaded: idle polls 10, 15, 22.5, 33.75, 50.625 s after each answer, then
///   60 s (`poll_idle_s`): sent at 100 600, 115 750, 138 400, 172 300, 223 075, 283 225 and
///   343 375. C starts at 300 000: shown at 343 525 (43 525 ms).
/// - Playing again: polls sent at 343 375 + 5 150 k; the pause at 360 000 is seen by the
///   one sent at 363 975 (shown at 364 125: 4 125 ms). Paused: a poll 15 s after each
///   answer (379 125, 394 275); the resume at 390 000 is shown at 394 425 (4 425 ms).
#[test]
fn a_day_reasoned_out_by_hand() {
    // (The heart and the queue off: their requests are `extras_...`'s business.)
    let d = day(
        r#"{"daily_requests": 0, "like": false, "up_next": false}"#,
        r#"{"at": "00:00:00", "play": [{"title": "A", "duration_s": 60}, {"title": "B", "duration_s": 30}]},
           {"at": "00:05:00", "play": [{"title": "C", "duration_s": 120}]},
           {"at": "00:06:00", "pause": true},
           {"at": "00:06:30", "resume": true}"#,
    );
    let r = simulate_day(&d, false);
    let timing = Timing::default();
    let mut want = vec![(0, RequestClass::Token)];
    want.extend((0..12).map(|k| (150 + 5_150 * k, RequestClass::Player)));
    want.push((60_450, RequestClass::Player));
    let got: Vec<(u64, RequestClass)> = r
        .requests
        .iter()
        .take(want.len())
        .map(|q| (q.t_ms, q.class))
        .collect();
    assert_eq!(got, want);
    let idle: Vec<u64> = r
        .requests
        .iter()
        .filter(|q| (90_000..343_400).contains(&q.t_ms))
        .map(|q| q.t_ms)
        .collect();
    assert_eq!(
        idle,
        [
            90_450, 100_600, 115_750, 138_400, 172_300, 223_075, 283_225, 343_375
        ]
    );
    let natural = timing.end_slack_ms + 2 * RTT_MS;
    assert_eq!(natural, 600);
    assert_eq!(
        latencies(&r, ChangeKind::Natural),
        [natural, natural, natural],
        "A->B, B->nothing, C->nothing"
    );
    assert_eq!(latencies(&r, ChangeKind::Start), [2 * RTT_MS, 43_525]);
    assert_eq!(latencies(&r, ChangeKind::Outside), [4_125, 4_425]);
    let s = &r.summary;
    assert_eq!((s.natural.n, s.natural.p95_ms), (3, Some(600)));
    assert_eq!((s.start.p50_ms, s.start.max_ms), (Some(300), Some(43_525)));
    assert_eq!((s.missed, s.superseded, s.excluded), (0, 0, 0));
    assert_eq!(s.requests, s.player + s.token + s.control + s.other);
    // Without a budget the token is refreshed a minute before each hour runs out: 24 a
    // day plus the first.
    assert_eq!(s.token, 25);
    assert_eq!(s.max_in_30s, 7, "a 5 150 ms rhythm, and the end polls");
}

/// A change that never reached the screen: a minute or more at Spotify is "missed",
/// less is "superseded".
#[test]
fn unseen_changes_are_missed_or_superseded() {
    // No budget, and paused polls 10 minutes apart: what happens between two of them is
    // never seen.
    let d = day(
        r#"{"daily_requests": 0, "poll_paused_s": 600}"#,
        r#"{"at": "08:00:00", "play": [{"title": "A", "duration_s": 3000}, {"title": "B", "duration_s": 3000}]},
           {"at": "08:10:00", "pause": true},
           {"at": "08:12:00", "resume": true},
           {"at": "08:12:03", "pause": true},
           {"at": "08:13:00", "skip": "next"},
           {"at": "08:14:30", "skip": "previous"}"#,
    );
    let r = simulate_day(&d, false);
    let outcomes: Vec<(u64, Outcome)> = r
        .changes
        .iter()
        .filter(|c| c.kind == ChangeKind::Outside)
        .map(|c| (c.t_ms, c.outcome))
        .collect();
    let at = |h: u64, m: u64, s: u64| h * H + m * MIN + s * S;
    assert!(
        matches!(outcomes[0], (_, Outcome::Shown { .. })),
        "the pause"
    );
    assert_eq!(
        outcomes[1],
        (at(8, 12, 0), Outcome::Superseded),
        "3 s of music"
    );
    // The screen never left "A, paused": the pause after the unseen resume was right
    // at once.
    assert_eq!(outcomes[2].1, Outcome::Shown { latency_ms: 0 });
    assert_eq!(outcomes[3].1, Outcome::Missed, "90 s paused on B");
    assert_eq!(
        outcomes[4].1,
        Outcome::Shown { latency_ms: 0 },
        "back on A, paused"
    );
    assert_eq!((r.summary.missed, r.summary.superseded), (1, 1));
}

/// A quota hit: not one request from the first quota answer until Spotify's quota ends,
/// and `quota_hold_ms` from that answer to the next request.
#[test]
fn a_quota_hold_sends_nothing() {
    let tracks: Vec<String> = (0..40)
        .map(|i| format!(r#"{{"title": "Q{i}", "duration_s": 200}}"#))
        .collect();
    let d = day(
        "{}",
        &format!(
            r#"{{"at": "12:30:00", "play": [{}]}},
               {{"at": "13:00:00", "quota_exceeded": {{"retry_after_s": 3600}}}},
               {{"at": "13:30:00", "skip": "next"}},
               {{"at": "23:00:00", "quota_exceeded": {{"retry_after_s": 20000}}}}"#,
            tracks.join(",")
        ),
    );
    let r = simulate_day(&d, true);
    let quota: Vec<&RequestRecord> = r.requests.iter().filter(|q| q.status == 429).collect();
    assert_eq!(quota.len(), 2, "one quota answer per hold: {quota:?}");
    let (q1, q2) = (quota[0].t_ms, quota[1].t_ms);
    assert!((13 * H..13 * H + MIN).contains(&q1), "{q1}");
    let answered = q1 + RTT_MS;
    let next = r
        .requests
        .iter()
        .find(|q| q.t_ms > q1)
        .expect("a request after the hold")
        .t_ms;
    assert!(
        (14 * H..=14 * H + S).contains(&next),
        "the next request when the hold ends, not before: {next}"
    );
    assert_eq!(r.summary.requests_in_hold, 0);
    // The second hold runs past 24:00: it counts to the end of the day.
    assert!(r.requests.iter().all(|q| q.t_ms <= q2));
    assert_eq!(
        r.summary.quota_hold_ms,
        (next - answered) + (DAY_MS - (q2 + RTT_MS))
    );
    // The skip during the hold is not measured; the screen said so.
    let skip = r
        .changes
        .iter()
        .find(|c| c.t_ms == 13 * H + 30 * MIN)
        .unwrap();
    assert_eq!(skip.outcome, Outcome::Excluded);
    assert!(r.summary.excluded >= 1);
    assert!(
        r.event_lines.iter().any(|l| l.contains("\"quota_until\":")),
        "the event lines carry the hold"
    );
}

/// Night hours: while the screen is dark, at most one poll per 15 minutes; a press on
/// the dark screen wakes it (no command sent), shows what plays now, and a press while
/// awake is sent; after two minutes the screen is dark again.
#[test]
fn night_hours_and_the_press_that_wakes() {
    let tracks: Vec<String> = (0..200)
        .map(|i| format!(r#"{{"title": "N{i}", "duration_s": 180}}"#))
        .collect();
    let d = day(
        r#"{"night": "01:00-06:00", "like": false, "up_next": false}"#,
        &format!(
            r#"{{"at": "00:00:00", "play": [{}]}},
               {{"at": "02:10:00", "skip": "next"}},
               {{"at": "03:00:00", "press": "play_pause"}},
               {{"at": "03:01:00", "press": "play_pause"}},
               {{"at": "03:01:30", "press": "play_pause"}}"#,
            tracks.join(",")
        ),
    );
    let r = simulate_day(&d, true);
    // Polls while dark at night: at least NIGHT_POLL_MS apart.
    let dark: Vec<u64> = r
        .requests
        .iter()
        .filter(|q| q.class == RequestClass::Player && q.dark && q.night)
        .map(|q| q.t_ms)
        .collect();
    assert!(dark.len() >= 15, "the night is polled: {}", dark.len());
    for w in dark.windows(2) {
        assert!(w[1] - w[0] >= NIGHT_POLL_MS, "{} then {}", w[0], w[1]);
    }
    assert!(dark.len() as u64 <= 5 * H / NIGHT_POLL_MS + 1);
    let skip = r
        .changes
        .iter()
        .find(|c| c.t_ms == 2 * H + 10 * MIN)
        .unwrap();
    assert_eq!(skip.outcome, Outcome::Excluded, "dark: not measured");

    // The press at 03:00 only wakes: a poll goes out at once, nothing else.
    let wake = 3 * H;
    assert_eq!(r.presses[0].result, Err(ControlRefused::WokeUp));
    assert_eq!(r.presses[1].result, Ok(()));
    assert_eq!(r.presses[2].result, Ok(()));
    let around: Vec<(u64, RequestClass)> = r
        .requests
        .iter()
        .filter(|q| (wake..wake + WAKE_MS).contains(&q.t_ms))
        .map(|q| (q.t_ms, q.class))
        .collect();
    // (A token first when the last one ran out during the night's sparse polls.)
    let first_poll = around
        .iter()
        .find(|(_, c)| *c == RequestClass::Player)
        .map(|(t, _)| *t);
    assert!(
        first_poll == Some(wake) || first_poll == Some(wake + RTT_MS),
        "{around:?}"
    );
    let answered = first_poll.unwrap() + RTT_MS;
    assert_eq!(
        around
            .iter()
            .filter(|(_, c)| *c == RequestClass::Control)
            .map(|(t, _)| *t)
            .collect::<Vec<_>>(),
        [wake + MIN, wake + MIN + 30 * S],
        "the presses while awake are sent, the waking one is not"
    );
    // The event lines: lit at the press, dark again two minutes later.
    let line_at = |t: u64| {
        r.event_lines
            .iter()
            .rfind(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                v["t_ms"].as_u64().unwrap() <= t
            })
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .unwrap()
    };
    assert_eq!(line_at(wake - 1)["dark"], true);
    assert_eq!(line_at(wake).get("dark"), None, "lit at the press");
    let lit = line_at(answered);
    assert_eq!(lit["screen"], "now_playing");
    // What plays at 03:00 (180 s tracks from 00:00, one skipped at 02:10).
    let playing = r
        .changes
        .iter()
        .rfind(|c| c.t_ms <= wake)
        .map(|c| c.state.clone())
        .unwrap();
    let tonearm_simulate::spotify::State::Item { title, .. } = playing else {
        panic!("music at 03:00")
    };
    assert_eq!(lit["title"], &*title, "the fresh answer is on screen");
    assert_eq!(line_at(wake + MIN + RTT_MS)["screen"], "paused");
    assert_eq!(line_at(wake + WAKE_MS - 1).get("dark"), None);
    assert_eq!(line_at(wake + WAKE_MS)["dark"], true);
    // The night ends at 06:00: lit and polled normally again.
    assert_eq!(line_at(6 * H).get("dark"), None);
    assert!(
        r.requests
            .iter()
            .any(|q| (6 * H..6 * H + MIN).contains(&q.t_ms))
    );
}

fn party() -> Day {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/days/party.json");
    Day::load(&path).unwrap_or_else(|e| panic!("{e}"))
}

/// A week of parties with presses and quota hits, one app carried through: whatever the
/// budget, no 24 hours hold more requests than it, and nothing is sent during a hold.
#[test]
fn the_budget_holds_over_a_week_of_parties() {
    let base = party();
    let week: Vec<Day> = (0..7)
        .map(|i| {
            let mut d = base.clone();
            let mut extra = vec![
                // Someone at the display all evening.
                Event {
                    at_ms: 19 * H + 3 * MIN,
                    action: Action::Press(tonearm_core::session::Control::Next),
                },
                Event {
                    at_ms: 19 * H + 4 * MIN,
                    action: Action::Press(tonearm_core::session::Control::PlayPause),
                },
                Event {
                    at_ms: 19 * H + 5 * MIN,
                    action: Action::Press(tonearm_core::session::Control::PlayPause),
                },
            ];
            if i % 3 == 1 {
                extra.push(Event {
                    at_ms: 15 * H + 17 * MIN,
                    action: Action::QuotaExceeded {
                        retry_after_s: 2 * 3600 + i as u64 * 977,
                    },
                });
            }
            d.events.extend(extra);
            d.events.sort_by_key(|e| e.at_ms);
            d
        })
        .collect();
    for budget in [1000, 700, 100] {
        let mut sched = base.sched();
        sched.daily_requests = budget;
        let r = simulate(&week, &sched, false);
        let times: Vec<u64> = r.requests.iter().map(|q| q.t_ms).collect();
        let most = max_in_window(&times, DAY_MS);
        assert!(
            most <= budget as usize,
            "budget {budget}: {most} requests in 24 h"
        );
        assert_eq!(r.summary.max_in_24h, most);
        assert_eq!(r.summary.requests_in_hold, 0, "budget {budget}");
        assert!(r.summary.presses >= 21);
        assert!(
            r.requests.iter().filter(|q| q.status == 429).count() >= 2,
            "the quota hits happened"
        );
        assert!(r.summary.quota_hold_ms >= 2 * 2 * H, "budget {budget}");
        // It is a party every day: the budget is spent, not saved.
        assert!(most * 10 >= budget as usize * 6, "budget {budget}: {most}");
    }
}

/// A quota whose end is not on a whole second: the session must not ask before Spotify's
/// `Retry-After` has passed (an early request gets a second quota answer, which lowers the
/// budget again). For quota events at several times, the event's ms are chosen so that the
/// seconds Spotify counts are nearly whole when the first request meets the quota (a
/// `Retry-After` rounded up by only 10 ms). The session rounds the answer's second up.
#[test]
fn a_quota_hold_ends_no_earlier_than_retry_after() {
    let quota_day = |at_ms: u64| {
        let t = |ms: u64| {
            format!(
                "{:02}:{:02}:{:02}.{:03}",
                ms / H,
                ms / MIN % 60,
                ms / S % 60,
                ms % S
            )
        };
        day(
            "{}",
            &format!(
                r#"{{"at": "12:00:00", "play": [{{"title": "A", "duration_s": 3000}}]}},
                   {{"at": "{}", "quota_exceeded": {{"retry_after_s": 600}}}}"#,
                t(at_ms)
            ),
        )
    };
    let mut early = Vec::new();
    for k in 0..20 {
        let at = 12 * H + 10 * MIN + k * 53 * S;
        // Which request meets the quota first (the schedule before it does not depend
        // on the event's ms).
        let first = simulate_day(&quota_day(at), false)
            .requests
            .iter()
            .find(|q| q.status == 429)
            .map(|q| q.t_ms)
            .unwrap();
        let ms = (first + S - 10) % S;
        let at = at / S * S + ms;
        if at >= first {
            continue;
        }
        let r = simulate_day(&quota_day(at), false);
        if r.summary.requests_in_hold > 0 {
            early.push((at, r.requests.iter().filter(|q| q.status == 429).count()));
        }
    }
    assert_eq!(early, [], "(quota at, quota answers)");
}

/// The heart and up next over an hour of twenty tracks played through (a budget of 1000):
/// the queue is asked once per track, in place of a poll, so that it costs nothing extra;
/// the library once per five tracks (the track playing and the next four in the queue in
/// one question); every track shows its heart and what follows it; switched off, neither
/// is asked.
#[test]
fn extras_cost_a_library_question_per_five_tracks_and_the_queue_nothing() {
    let tracks: Vec<String> = (0..20)
        .map(|i| format!(r#"{{"title": "X{i}", "duration_s": 180}}"#))
        .collect();
    let events = format!(r#"{{"at": "00:00:00", "play": [{}]}}"#, tracks.join(","));
    let on = simulate_day(&day(r#"{"daily_requests": 1000}"#, &events), true);
    let off = simulate_day(
        &day(
            r#"{"daily_requests": 1000, "like": false, "up_next": false}"#,
            &events,
        ),
        true,
    );
    let (s_on, s_off) = (&on.summary, &off.summary);
    assert_eq!(s_on.library, 4, "{}", s_on.to_json());
    assert_eq!(s_on.queue, 20, "{}", s_on.to_json());
    assert_eq!(s_off.library + s_off.queue, 0);
    assert_eq!(
        s_on.requests,
        s_off.requests + s_on.library,
        "the queue stood in for polls: {} with, {} without",
        s_on.to_json(),
        s_off.to_json()
    );
    // Every track change still shows as fast.
    assert_eq!(s_on.natural.p50_ms, s_off.natural.p50_ms);
    for i in 0..20 {
        let title = format!(r#""title":"X{i}""#);
        assert!(
            on.event_lines
                .iter()
                .any(|l| l.contains(&title) && l.contains(r#""liked":false"#)),
            "X{i} never showed its heart"
        );
    }
    assert!(
        on.event_lines
            .iter()
            .any(|l| l.contains(r#""up_next":"X1"#)),
        "{:?}",
        &on.event_lines[..4.min(on.event_lines.len())]
    );
    assert!(
        !off.event_lines
            .iter()
            .any(|l| l.contains("up_next") || l.contains("liked"))
    );
}
