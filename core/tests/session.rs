//! The session's rules under a simulated clock: tokens, schedule, failures, the request
//! ceiling and controls, and a simulated day of listening with random faults.

use tonearm_core::model::Kind;
use tonearm_core::session::{
    Action, CEILING_REQUESTS, CEILING_WINDOW_MS, ConfigProblem, Control, ControlCommand,
    ControlRefused, Credentials, Endpoint, Failure, Health, Host, Method, Notice, Playback,
    Request, RequestKind, Session, Timing,
};
use tonearm_core::{Secret, text::bounded};
// The scripted Spotify's answers (status, Retry-After, body), shared with the firmware's
// tests, the session bench and `tonearm simulate`.
use tonearm_testkit::answer::{INVALID_GRANT_BODY, api_error_body};
use tonearm_testkit::{Answer as Reply, Timeline, TrackBody, XorShift};

fn reply(status: u16, body: &str) -> Reply {
    Reply::new(status, body)
}

fn token(access: &str, refresh: Option<&str>) -> Reply {
    Reply::token(access, refresh)
}

/// A track of `duration` ms at `progress` ms, playing (resuming disallowed) or paused.
fn track(title: &str, progress: u64, duration: u64, playing: bool) -> Reply {
    let disallows: &[&str] = if playing { &["resuming"] } else { &[] };
    let body = TrackBody::new(title, progress, duration, playing)
        .at_timestamp(1)
        .disallowing(disallows);
    reply(200, &body.json())
}

/// Playing `list` (from monotonic 0) at `now`, its items titled `{prefix}{index}`.
fn listening(list: &Timeline, prefix: &str, now: u64) -> Reply {
    let at = list.at(now);
    let title = format!("{prefix}{}", at.index);
    track(&title, at.progress_ms, at.duration_ms, true)
}

fn creds(secret: bool) -> Credentials {
    Credentials {
        client_id: bounded("abc123").0,
        client_secret: secret.then(|| Secret::new("s3cr3t").unwrap()),
        refresh_token: Some(Secret::new("refresh-1").unwrap()),
    }
}

/// The simulated device: a session, a clock, and a log of what was sent when.
struct Sim {
    s: Session,
    now: u64,
    sent: Vec<(u64, Request)>,
}

impl Sim {
    fn new(creds: Credentials) -> Self {
        Sim {
            s: Session::new(creds, Timing::default(), 42),
            now: 0,
            sent: Vec::new(),
        }
    }

    /// Runs until the session sends a request or `until` passes; returns the request.
    fn next_request(&mut self, until: u64) -> Option<Request> {
        loop {
            match self.s.poll(self.now) {
                Action::Send(r) => {
                    self.sent.push((self.now, r.clone()));
                    return Some(r);
                }
                Action::WaitUntil(t) if t <= until => {
                    assert!(t > self.now, "WaitUntil({t}) at {} would spin", self.now);
                    self.now = t;
                }
                _ => {
                    self.now = until;
                    return None;
                }
            }
        }
    }

    fn respond(&mut self, r: &Reply, latency: u64) {
        self.now += latency;
        self.s.on_head(self.now, r.status, r.retry_after.as_deref());
        for c in r.body.chunks(7) {
            self.s.on_body(c);
        }
        self.s.on_end(self.now);
    }

    /// Serves requests with `server` until `until`.
    fn run(&mut self, until: u64, mut server: impl FnMut(&Request, u64) -> Reply) {
        while let Some(req) = self.next_request(until) {
            let r = server(&req, self.now);
            self.respond(&r, 50);
        }
    }

    fn requests(&self, kind: impl Fn(&RequestKind) -> bool) -> Vec<u64> {
        self.sent
            .iter()
            .filter(|(_, r)| kind(&r.kind))
            .map(|(t, _)| *t)
            .collect()
    }

    fn title(&self) -> Option<String> {
        match self.s.playback() {
            Playback::Item { np, .. } => np.title.as_ref().map(|t| t.to_string()),
            _ => None,
        }
    }
}

fn is_poll(k: &RequestKind) -> bool {
    matches!(k, RequestKind::Poll(_))
}

/// Logs in and gets one poll answered with `first`.
fn started(secret: bool, first: Reply) -> Sim {
    let mut sim = Sim::new(creds(secret));
    let r = sim.next_request(0).unwrap();
    assert_eq!(r.kind, RequestKind::Refresh);
    sim.respond(&token("access-1", None), 50);
    let r = sim.next_request(sim.now).unwrap();
    assert!(is_poll(&r.kind));
    sim.respond(&first, 50);
    sim
}

#[test]
fn refresh_request_pkce_and_secret() {
    let mut sim = Sim::new(creds(false));
    let r = sim.next_request(0).unwrap();
    assert_eq!(
        (r.method, r.host, r.path.as_str()),
        (Method::Post, Host::Accounts, "/api/token")
    );
    assert_eq!(
        r.body.as_str(),
        "grant_type=refresh_token&refresh_token=refresh-1&client_id=abc123"
    );
    assert!(r.authorization.is_empty(), "PKCE: nothing secret");
    assert!(!format!("{r:?}").contains("refresh-1"), "Debug redacts");

    let mut sim = Sim::new(creds(true));
    let r = sim.next_request(0).unwrap();
    assert_eq!(
        r.body.as_str(),
        "grant_type=refresh_token&refresh_token=refresh-1"
    );
    // base64("abc123:s3cr3t")
    assert_eq!(r.authorization.as_str(), "Basic YWJjMTIzOnMzY3IzdA==");
}

#[test]
fn polls_the_player_with_the_bearer_token() {
    let mut sim = Sim::new(creds(false));
    sim.next_request(0).unwrap();
    sim.respond(&token("access-1", None), 50);
    let r = sim.next_request(1000).unwrap();
    assert_eq!(r.kind, RequestKind::Poll(Endpoint::Player));
    assert_eq!((r.method, r.host), (Method::Get, Host::Api));
    assert_eq!(
        r.path.as_str(),
        "/me/player?additional_types=track,episode&market=from_token"
    );
    assert_eq!(r.authorization.as_str(), "Bearer access-1");
    let update = sim.s.take_token_update().unwrap();
    assert_eq!(update.access_token.expose(), "access-1");
    assert_eq!(update.expires_in_ms, 3_600_000);
    assert!(update.refresh_token.is_none());
    assert!(sim.s.take_token_update().is_none(), "handed out once");
}

#[test]
fn rotated_refresh_token_replaces_the_old_one() {
    let mut sim = Sim::new(creds(false));
    sim.next_request(0).unwrap();
    sim.respond(&token("access-1", Some("refresh-2")), 50);
    let update = sim.s.take_token_update().unwrap();
    assert_eq!(update.refresh_token.unwrap().expose(), "refresh-2");
    // The next refresh (about a minute before expiry) uses the new token.
    sim.run(3_600_000, |req, _| match req.kind {
        RequestKind::Refresh => {
            assert!(
                req.body.contains("refresh_token=refresh-2"),
                "{:?}",
                req.body.as_str()
            );
            token("access-2", None)
        }
        _ => track("T", 0, 600_000_000, true),
    });
    let refreshes = sim.requests(|k| *k == RequestKind::Refresh);
    assert_eq!(refreshes.len(), 2, "{refreshes:?}");
    let at = refreshes[1];
    assert!(
        (3_600_000 - 61_000..=3_600_000 - 59_000).contains(&at),
        "refreshed at {at}"
    );
}

#[test]
fn a_401_refreshes_once_and_retries_once() {
    let mut sim = started(false, track("T", 0, 300_000, true));
    let mut n401 = 0;
    sim.run(20_000, |req, now| match req.kind {
        RequestKind::Refresh => token("access-2", None),
        _ if req.authorization.as_str() == "Bearer access-1" && now < 10_000 => {
            n401 += 1;
            reply(401, &api_error_body(401, "The access token expired", None))
        }
        _ => track("T", 0, 300_000, true),
    });
    assert_eq!(n401, 1);
    assert_eq!(sim.requests(|k| *k == RequestKind::Refresh).len(), 2);
    let kinds: Vec<_> = sim
        .sent
        .iter()
        .skip(2)
        .take(3)
        .map(|(_, r)| r.kind)
        .collect();
    assert_eq!(
        kinds,
        [
            RequestKind::Poll(Endpoint::Player),
            RequestKind::Refresh,
            RequestKind::Poll(Endpoint::Player)
        ]
    );
    assert_eq!(sim.s.status(sim.now).health, Health::Good);
}

#[test]
fn a_401_after_a_fresh_token_backs_off_instead_of_looping() {
    let mut sim = started(false, track("T", 0, 300_000, true));
    sim.run(120_000, |req, _| match req.kind {
        RequestKind::Refresh => token("access-x", None),
        _ => reply(401, ""),
    });
    let refreshes = sim.requests(|k| *k == RequestKind::Refresh).len();
    assert!(refreshes < 12, "{refreshes} refreshes in 2 minutes: a loop");
    assert!(matches!(
        sim.s.status(sim.now).health,
        Health::Offline { .. }
    ));
}

#[test]
fn invalid_grant_stops_and_asks_for_a_login() {
    let mut sim = Sim::new(creds(false));
    sim.run(3_600_000, |_, _| reply(400, INVALID_GRANT_BODY));
    assert_eq!(sim.sent.len(), 1, "no retry loop");
    assert_eq!(sim.s.status(sim.now).health, Health::LoginNeeded);
    assert_eq!(
        sim.s.press(sim.now, Control::Next),
        Err(ControlRefused::Halted)
    );
}

#[test]
fn invalid_client_is_a_config_error() {
    let mut sim = Sim::new(creds(true));
    sim.run(600_000, |_, _| {
        reply(
            400,
            r#"{"error":"invalid_client","error_description":"Invalid client secret"}"#,
        )
    });
    assert_eq!(sim.sent.len(), 1);
    assert_eq!(
        sim.s.status(sim.now).health,
        Health::ConfigError(ConfigProblem::InvalidClient)
    );
}

#[test]
fn no_refresh_token_or_client_id_halts_at_once() {
    let mut c = creds(false);
    c.refresh_token = None;
    let mut s = Session::new(c, Timing::default(), 1);
    assert_eq!(s.poll(0), Action::Wait);
    assert_eq!(s.status(0).health, Health::LoginNeeded);
    let mut c = creds(false);
    c.client_id.clear();
    let s = Session::new(c, Timing::default(), 1);
    assert_eq!(
        s.status(0).health,
        Health::ConfigError(ConfigProblem::MissingClientId)
    );
}

#[test]
fn playing_polls_every_5_s_and_just_after_the_predicted_end() {
    // 12 s left at the first poll.
    let mut sim = started(false, track("One", 288_000, 300_000, true));
    let t0 = sim.now;
    sim.run(t0 + 30_000, |req, now| {
        assert!(is_poll(&req.kind));
        // The new track starts exactly when the old one ends.
        let end = t0 + 12_000;
        if now < end {
            track("One", 288_000 + (now - t0), 300_000, true)
        } else {
            track("Two", now - end, 200_000, true)
        }
    });
    let polls = sim.requests(is_poll);
    let after: Vec<u64> = polls.iter().filter(|t| **t > t0).map(|t| t - t0).collect();
    // Every 5 s, and one just after the end (12 s + slack).
    assert_eq!(after[0], 5_000);
    assert_eq!(after[1], 10_050);
    let end_poll = after.iter().find(|t| **t >= 12_000).unwrap();
    assert!(*end_poll <= 12_000 + 600, "end poll at {end_poll}");
    assert_eq!(sim.title().as_deref(), Some("Two"));
}

#[test]
fn an_hour_of_playback_polls_at_most_once_per_5_s_on_average() {
    let mut sim = started(false, track("Track 0", 0, 180_000, true));
    let t0 = sim.now;
    let list = Timeline::uniform(180_000, 3_600_000);
    sim.run(t0 + 3_600_000, |req, now| match req.kind {
        RequestKind::Refresh => token("access-2", None),
        _ => listening(&list, "Track ", now - t0),
    });
    let polls = sim.requests(is_poll).iter().filter(|t| **t > t0).count();
    assert!(polls <= 720, "{polls} polls in an hour");
    assert_eq!(sim.requests(|k| *k == RequestKind::Refresh).len(), 2);
}

#[test]
fn a_late_track_change_is_polled_again_quickly() {
    let mut sim = started(false, track("One", 290_000, 300_000, true));
    let t0 = sim.now;
    // Spotify shows the next track 1.5 s after the old one ends.
    sim.run(t0 + 20_000, |_, now| {
        let end = t0 + 10_000;
        if now < end + 1_500 {
            track("One", 300_000.min(290_000 + now - t0), 300_000, true)
        } else {
            track("Two", now - end, 200_000, true)
        }
    });
    let polls: Vec<u64> = sim
        .requests(is_poll)
        .into_iter()
        .filter(|t| *t > t0 + 10_000)
        .collect();
    // The second track is seen well before the 5 s poll.
    let seen = polls.iter().find(|t| **t >= t0 + 11_500).unwrap();
    assert!(
        *seen <= t0 + 11_500 + 1_000,
        "seen at +{}",
        seen - t0 - 10_000
    );
}

#[test]
fn paused_polls_every_15_s() {
    let mut sim = started(false, track("P", 1_000, 300_000, false));
    let t0 = sim.now;
    sim.run(t0 + 60_000, |_, _| track("P", 1_000, 300_000, false));
    let gaps: Vec<u64> = sim
        .requests(is_poll)
        .windows(2)
        .map(|w| w[1] - w[0])
        .skip(1)
        .collect();
    assert!(
        gaps.iter().all(|g| (15_000..=15_100).contains(g)),
        "{gaps:?}"
    );
    assert_eq!(
        sim.s.position_ms(sim.now),
        Some(1_000),
        "paused: the position stays"
    );
}

#[test]
fn nothing_playing_backs_off_to_a_minute_then_blanks_after_10_minutes() {
    let mut sim = started(false, reply(204, ""));
    let t0 = sim.now;
    assert!(matches!(sim.s.playback(), Playback::Nothing { .. }));
    sim.run(t0 + 15 * 60_000, |_, _| reply(204, ""));
    let polls = sim.requests(is_poll);
    let gaps: Vec<u64> = polls.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(
        gaps.windows(2).all(|w| w[1] >= w[0]),
        "slower and slower: {gaps:?}"
    );
    assert!((59_000..=60_100).contains(gaps.last().unwrap()), "{gaps:?}");
    assert!(!sim.s.status(t0 + 9 * 60_000).blank);
    assert!(sim.s.status(t0 + 10 * 60_000).blank);
    // Playback resumes: no longer blank.
    sim.run(sim.now + 61_000, |_, _| track("Back", 0, 100_000, true));
    assert!(!sim.s.status(sim.now).blank);
    assert_eq!(sim.title().as_deref(), Some("Back"));
}

#[test]
#[cfg_attr(
    not(tonearm_corpus),
    ignore = "needs the API corpus: ../shared/api-corpus beside this checkout, or TONEARM_SHARED=<folder holding api-corpus>"
)]
fn an_empty_unknown_state_counts_as_nothing_playing() {
    // The corpus folder the build script found (`build.rs`).
    let Some(corpus) = option_env!("TONEARM_CORPUS") else {
        panic!("no API corpus at build time");
    };
    let body = std::fs::read(
        std::path::Path::new(corpus).join("issue1515_player_unknown_item_null_timestamp0.json"),
    )
    .unwrap();
    let sim = started(false, Reply::new(200, body));
    assert!(matches!(sim.s.playback(), Playback::Nothing { .. }));
}

#[test]
fn a_429_holds_every_request_until_retry_after() {
    let mut sim = started(false, track("T", 0, 300_000, true));
    let t0 = sim.now;
    let mut first = true;
    let mut r = Reply::rate_limited(Some("120"));
    sim.run(t0 + 200_000, |_, _| {
        if std::mem::take(&mut first) {
            r.clone()
        } else {
            r.status = 200;
            track("T", 0, 300_000, true)
        }
    });
    let after_429 = sim
        .sent
        .iter()
        .map(|(t, _)| *t)
        .find(|t| *t > t0 + 5_000)
        .unwrap();
    assert!(
        (t0 + 5_050 + 120_000..=t0 + 5_050 + 121_000).contains(&after_429),
        "next request at {after_429}"
    );
}

#[test]
fn a_long_429_shows_a_countdown_and_a_short_one_a_stale_badge() {
    for (retry_after, long) in [("120", true), ("2", false)] {
        let mut sim = started(false, track("T", 0, 300_000, true));
        let req = sim.next_request(sim.now + 10_000).unwrap();
        assert!(is_poll(&req.kind));
        sim.respond(
            &reply(429, &api_error_body(429, "API rate limit exceeded", None))
                .with_retry_after(retry_after),
            50,
        );
        match sim.s.status(sim.now + 1_000).health {
            Health::RateLimited { remaining_ms } => {
                assert!(long);
                assert!(
                    (119_000..=120_000).contains(&remaining_ms),
                    "{remaining_ms}"
                );
            }
            Health::Stale { .. } => assert!(!long),
            other => panic!("{other:?}"),
        }
        // The last good state stays.
        assert_eq!(sim.title().as_deref(), Some("T"));
    }
}

#[test]
fn a_429_without_retry_after_backs_off() {
    let mut sim = started(false, track("T", 0, 300_000, true));
    let t0 = sim.now;
    sim.run(t0 + 120_000, |_, _| reply(429, ""));
    let times = sim.requests(|_| true);
    let after: Vec<u64> = times.iter().filter(|t| **t > t0).copied().collect();
    assert!(after.len() <= 5, "{after:?}");
    assert!(after.windows(2).all(|w| w[1] - w[0] >= 30_000), "{after:?}");
}

#[test]
fn server_errors_back_off_exponentially_then_show_offline() {
    let mut sim = started(false, track("T", 0, 3_000_000, true));
    let t0 = sim.now;
    sim.run(t0 + 600_000, |_, _| reply(503, "Service Unavailable"));
    let polls: Vec<u64> = sim
        .requests(is_poll)
        .into_iter()
        .filter(|t| *t > t0)
        .collect();
    let gaps: Vec<u64> = polls.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(
        gaps.iter().all(|g| *g <= 60_050),
        "capped at a minute: {gaps:?}"
    );
    assert!(
        gaps.iter().rev().take(3).all(|g| *g >= 30_000),
        "grown: {gaps:?}"
    );
    // Stale at first, offline after 60 s without a good answer; the last state stays.
    assert!(matches!(
        sim.s.status(t0 + 5_100).health,
        Health::Stale { .. }
    ));
    match sim.s.status(sim.now).health {
        Health::Offline { for_ms } => assert!(for_ms >= 590_000),
        other => panic!("{other:?}"),
    }
    assert_eq!(sim.title().as_deref(), Some("T"));
}

#[test]
fn malformed_bodies_and_timeouts_are_failures() {
    let mut sim = started(false, track("T", 0, 3_000_000, true));
    let req = sim.next_request(sim.now + 10_000).unwrap();
    assert!(is_poll(&req.kind));
    sim.respond(&reply(200, "{\"item\": {\"name\": \"cut off"), 50);
    assert!(matches!(sim.s.status(sim.now).health, Health::Stale { .. }));
    assert_eq!(
        sim.title().as_deref(),
        Some("T"),
        "the last good state stays"
    );
    sim.next_request(sim.now + 10_000).unwrap();
    sim.s.on_failure(sim.now + 10_000, Failure::Timeout);
    assert!(!sim.s.is_busy());
    sim.next_request(sim.now + 60_000).unwrap();
    sim.respond(&track("U", 0, 100_000, true), 50);
    assert_eq!(sim.s.status(sim.now).health, Health::Good);
    assert_eq!(sim.title().as_deref(), Some("U"));
}

#[test]
fn the_ceiling_holds_even_with_zero_delays() {
    let timing = Timing {
        poll_playing_ms: 1,
        poll_paused_ms: 1,
        poll_idle_ms: 1,
        poll_idle_max_ms: 1,
        confirm_ms: 0,
        backoff_ms: 0,
        backoff_max_ms: 0,
        retry_after_default_ms: 0,
        ..Timing::default()
    };
    let mut sim = Sim::new(creds(false));
    sim.s = Session::new(creds(false), timing, 7);
    sim.run(300_000, |req, _| match req.kind {
        RequestKind::Refresh => token("a", None),
        _ => reply(500, ""),
    });
    let times = sim.requests(|_| true);
    assert!(times.len() >= 100, "{}", times.len());
    for (i, t) in times.iter().enumerate() {
        let in_window = times[i..]
            .iter()
            .take_while(|u| **u < t + CEILING_WINDOW_MS)
            .count();
        assert!(
            in_window <= CEILING_REQUESTS,
            "{in_window} requests in 30 s from {t}"
        );
    }
}

#[test]
fn play_pause_is_optimistic_and_confirmed() {
    let mut sim = started(false, track("T", 10_000, 300_000, true));
    let t = sim.now + 2_000;
    sim.s.press(t, Control::PlayPause).unwrap();
    match sim.s.playback() {
        Playback::Item { np, .. } => assert!(!np.is_playing),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        sim.s.position_ms(t + 10_000),
        Some(12_000),
        "frozen where it was paused"
    );
    sim.now = t;
    let r = sim.next_request(t).unwrap();
    assert_eq!(r.kind, RequestKind::Control(ControlCommand::Pause));
    assert_eq!(
        (r.method, r.path.as_str()),
        (Method::Put, "/me/player/pause")
    );
    // 200 with an opaque body counts as success.
    sim.respond(&reply(200, "xyz-not-json"), 80);
    let confirm = sim.next_request(sim.now + 5_000).unwrap();
    assert!(is_poll(&confirm.kind));
    assert_eq!(
        sim.sent.last().unwrap().0,
        t + 80 + 400,
        "a quick confirmation poll"
    );
    assert_eq!(sim.s.status(sim.now).notice, None);
}

#[test]
fn play_pause_twice_before_sending_cancels_and_the_opposite_works_at_once() {
    // Spotify disallows "resuming" while playing; after an optimistic pause it must work.
    let mut sim = started(false, track("T", 10_000, 300_000, true));
    let t = sim.now + 1_000;
    sim.s.press(t, Control::PlayPause).unwrap();
    sim.s.press(t + 100, Control::PlayPause).unwrap();
    match sim.s.playback() {
        Playback::Item { np, .. } => assert!(np.is_playing),
        other => panic!("{other:?}"),
    }
    // Nothing to send: the two presses cancelled out.
    sim.now = t + 100;
    let next = sim.next_request(t + 200);
    assert!(next.is_none(), "{next:?}");
    // Pause goes out; then resume works before any poll confirms the pause.
    sim.s.press(sim.now, Control::PlayPause).unwrap();
    assert_eq!(
        sim.next_request(sim.now).unwrap().kind,
        RequestKind::Control(ControlCommand::Pause)
    );
    sim.respond(&reply(204, ""), 30);
    sim.s.press(sim.now + 50, Control::PlayPause).unwrap();
    assert_eq!(
        sim.next_request(sim.now + 50).unwrap().kind,
        RequestKind::Control(ControlCommand::Play)
    );
    // A different press while one waits is refused, not queued behind it.
    sim.respond(&reply(204, ""), 30);
    sim.s.press(sim.now, Control::Next).unwrap();
    assert_eq!(
        sim.s.press(sim.now, Control::Previous),
        Err(ControlRefused::Busy)
    );
}

#[test]
fn a_restricted_device_takes_no_controls() {
    let mut sim = started(
        false,
        reply(
            200,
            r#"{"is_playing":true,"progress_ms":5,"item":{"type":"track","name":"T","duration_ms":100000},"device":{"name":"Sonos","type":"Speaker","is_restricted":true}}"#,
        ),
    );
    let t = sim.now;
    for c in [Control::PlayPause, Control::Next, Control::Previous] {
        assert_eq!(sim.s.press(t, c), Err(ControlRefused::Disallowed));
    }
    assert!(sim.next_request(t + 100).is_none(), "nothing sent");
}

#[test]
fn disallowed_controls_are_not_sent() {
    // The track fixture disallows resuming while playing; make it paused and disallow it.
    let mut sim = started(
        false,
        reply(
            200,
            r#"{"is_playing":false,"progress_ms":5,"item":{"type":"track","name":"T","duration_ms":100000},"actions":{"disallows":{"resuming":true,"skipping_prev":true}}}"#,
        ),
    );
    let t = sim.now;
    assert_eq!(
        sim.s.press(t, Control::PlayPause),
        Err(ControlRefused::Disallowed)
    );
    assert_eq!(
        sim.s.press(t, Control::Previous),
        Err(ControlRefused::Disallowed)
    );
    assert_eq!(sim.s.status(t).notice, Some(Notice::NotAllowed));
    sim.s.press(t, Control::Next).unwrap();
    let r = sim.next_request(t).unwrap();
    assert_eq!(
        (r.kind, r.method, r.path.as_str()),
        (
            RequestKind::Control(ControlCommand::Next),
            Method::Post,
            "/me/player/next"
        )
    );
}

#[test]
fn premium_required_and_no_active_device_become_notices() {
    for (status, body, notice) in [
        (
            403,
            r#"{"error":{"status":403,"message":"Player command failed: Premium required","reason":"PREMIUM_REQUIRED"}}"#,
            Notice::PremiumRequired,
        ),
        (
            404,
            r#"{"error":{"status":404,"message":"Player command failed: No active device found","reason":"NO_ACTIVE_DEVICE"}}"#,
            Notice::NoActiveDevice,
        ),
        (404, "", Notice::NoActiveDevice),
    ] {
        let mut sim = started(false, track("T", 0, 300_000, true));
        sim.s.press(sim.now, Control::Next).unwrap();
        sim.next_request(sim.now).unwrap();
        sim.respond(&reply(status, body), 50);
        assert_eq!(sim.s.status(sim.now).notice, Some(notice));
        assert_eq!(sim.s.status(sim.now + 5_000).notice, None, "short");
        assert_eq!(sim.s.status(sim.now).health, Health::Good);
    }
}

#[test]
fn a_403_on_the_player_falls_back_to_currently_playing() {
    let mut sim = started(
        false,
        reply(
            403,
            r#"{"error":{"status":403,"message":"Insufficient client scope"}}"#,
        ),
    );
    let r = sim.next_request(sim.now + 1_000).unwrap();
    assert_eq!(r.kind, RequestKind::Poll(Endpoint::CurrentlyPlaying));
    assert_eq!(
        r.path.as_str(),
        "/me/player/currently-playing?additional_types=track,episode&market=from_token"
    );
}

#[test]
fn a_token_without_the_playback_state_scope_uses_currently_playing() {
    let mut sim = Sim::new(creds(false));
    sim.next_request(0).unwrap();
    sim.respond(
        &reply(
            200,
            r#"{"access_token":"a","expires_in":3600,"scope":"user-read-currently-playing"}"#,
        ),
        10,
    );
    assert_eq!(
        sim.next_request(100).unwrap().kind,
        RequestKind::Poll(Endpoint::CurrentlyPlaying)
    );
}

/// A deterministic xorshift64 stream for the randomized tests.
fn xorshift(seed: u64) -> impl FnMut() -> u64 {
    let mut rng = XorShift::new(seed);
    move || rng.next()
}

/// A day of listening against a simulated Spotify with random faults: no panic, the
/// ceiling held, and the final state right once the faults stop.
#[test]
fn a_simulated_day_with_random_faults() {
    let mut next = xorshift(0x9E37_79B9_7F4A_7C15);
    let mut sim = Sim::new(creds(false));
    let day = 24 * 3_600_000;
    let mut refresh_gen = 1;
    let mut current_refresh = String::from("refresh-1");
    // Tracks of 3 minutes back to back, from t = 0.
    let list = Timeline::uniform(180_000, day);
    let title_at = |t: u64| format!("Track {}", list.at(t).index);
    sim.run(day, |req, now| {
        let faults = now < day - 600_000;
        let roll = next() % 100;
        if faults && roll < 3 {
            return reply(503, "");
        }
        if faults && roll < 4 {
            return Reply::rate_limited(Some("7"));
        }
        if faults && roll < 5 {
            return reply(200, "{\"item\": [");
        }
        match req.kind {
            RequestKind::Refresh => {
                assert!(
                    req.body
                        .contains(&format!("refresh_token={current_refresh}")),
                    "uses the newest refresh token"
                );
                refresh_gen += 1;
                current_refresh = format!("refresh-{refresh_gen}");
                token(&format!("access-{refresh_gen}"), Some(&current_refresh))
            }
            _ => listening(&list, "Track ", now),
        }
    });
    let times = sim.requests(|_| true);
    for (i, t) in times.iter().enumerate() {
        assert!(
            times[i..]
                .iter()
                .take_while(|u| **u < t + CEILING_WINDOW_MS)
                .count()
                <= CEILING_REQUESTS
        );
    }
    // 720 polls an hour at one per 5 s, a refresh, and the retries of 5 % faults.
    let per_hour = times.len() as u64 * 3_600_000 / day;
    assert!(per_hour <= 800, "{per_hour} requests an hour");
    assert_eq!(sim.s.status(sim.now).health, Health::Good);
    let last_poll = *sim.requests(is_poll).last().unwrap();
    assert_eq!(sim.title(), Some(title_at(last_poll)));
    match sim.s.playback() {
        Playback::Item { np, .. } => assert_eq!(np.kind, Kind::Track),
        other => panic!("{other:?}"),
    }
    assert!(
        size_of::<Session>() < 16 * 1024,
        "session state {} bytes",
        size_of::<Session>()
    );
}

// ---------------------------------------------------------------------------------------
// The 2026 quota rules: the daily budget, quota holds, night hours, the six-month login,
// the Premium refusal. Wall-clock time: the simulated device starts at 2026-12-01 00:00
// UTC (offset 0) unless a test says otherwise.

use tonearm_core::budget::QuotaState;
use tonearm_core::wall::{NightHours, WallClock};

/// 2026-12-01 00:00:00 UTC.
const DAY0_S: u64 = 1_796_083_200;
const HOUR: u64 = 3_600_000;

fn quota_429(retry_after: Option<&'static str>) -> Reply {
    Reply::quota(retry_after)
}

fn premium_403() -> Reply {
    reply(
        403,
        r#"{"error":{"status":403,"message":"Active premium subscription required for the owner of the app. When the subscription status changes, it can take a few hours before requests are allowed again."}}"#,
    )
}

impl Sim {
    /// A session with a budget, its persisted state, and the wall clock at `start_s`
    /// (Unix) with `offset_s` at monotonic 0.
    fn budgeted(daily: u32, state: QuotaState, start_s: u64, offset_s: i32) -> Self {
        let mut sim = Sim::new(creds(false));
        sim.s.set_budget(daily, state);
        sim.s.set_wall_clock(
            0,
            WallClock {
                unix_ms: start_s * 1000,
                utc_offset_s: offset_s,
            },
        );
        sim
    }

    /// Serves requests like `run`, remembering the budget's state after each response.
    fn unix_s(&self) -> u64 {
        self.s.unix_ms(self.now).unwrap() / 1000
    }

    fn unix_s_up(&self) -> u64 {
        self.s.unix_ms(self.now).unwrap().div_ceil(1000)
    }
}

/// Requests in any window of 24 hours, at the most.
fn max_in_24h(times: &[u64]) -> usize {
    (0..times.len())
        .map(|i| {
            times[i..]
                .iter()
                .take_while(|u| **u < times[i] + 24 * HOUR)
                .count()
        })
        .max()
        .unwrap_or(0)
}

#[test]
fn a_quota_answer_holds_everything_and_the_hold_survives_a_restart() {
    let mut sim = Sim::budgeted(700, QuotaState::default(), DAY0_S, 0);
    sim.next_request(0).unwrap();
    sim.respond(&token("a", None), 50);
    sim.next_request(sim.now).unwrap();
    sim.respond(&quota_429(Some("20000")), 50);
    // The hold counts from the answer's second rounded up: never a moment early.
    let hit_s = sim.unix_s_up();
    let until = hit_s + 20_000;
    match sim.s.status(sim.now).health {
        Health::QuotaExceeded {
            until_unix_s,
            remaining_ms,
        } => {
            assert_eq!(until_unix_s, until);
            assert!(
                (20_000_000..=20_001_000).contains(&remaining_ms),
                "{remaining_ms}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(sim.s.quota_until(sim.now), Some(until));
    // A press sends nothing and says so.
    assert_eq!(
        sim.s.press(sim.now, Control::PlayPause),
        Err(ControlRefused::DailyLimit)
    );
    assert_eq!(sim.s.status(sim.now).notice, Some(Notice::DailyLimit));
    // Persisted at once (urgent), whatever the gap.
    let saved = sim
        .s
        .take_quota_save(sim.now, u64::MAX)
        .expect("saved at once");
    assert_eq!(saved.hold_until_s, until);
    assert_eq!(saved.counts.iter().map(|c| u32::from(*c)).sum::<u32>(), 2);
    assert_eq!(saved.effective, 525, "75 % of 700 after a quota hit");
    // Not one request during the hold.
    let sent = sim.sent.len();
    assert!(sim.next_request(sim.now + 19_990_000).is_none());
    assert_eq!(sim.sent.len(), sent);

    // A restart an hour in, from the saved state: still nothing until the hold ends.
    let mut again = Sim::budgeted(700, saved.clone(), hit_s + 3600, 0);
    assert!(again.next_request(20_000_000 - 3_600_000 - 1_000).is_none());
    match again.s.status(again.now).health {
        Health::QuotaExceeded { until_unix_s, .. } => assert_eq!(until_unix_s, until),
        other => panic!("{other:?}"),
    }
    // Then one request (the token first: the restarted device has none).
    let r = again.next_request(20_000_000).unwrap();
    assert_eq!(again.unix_s(), until);
    assert_eq!(r.kind, RequestKind::Refresh);
    assert_eq!(again.s.budget(), Some((525, 525 - 3)));
}

#[test]
fn a_quota_answer_without_retry_after_holds_6_then_12_then_24_hours() {
    let mut sim = Sim::budgeted(700, QuotaState::default(), DAY0_S, 0);
    sim.next_request(0).unwrap();
    sim.respond(&token("a", None), 50);
    let mut holds = Vec::new();
    for _ in 0..3 {
        let r = sim.next_request(sim.now + 48 * HOUR).unwrap();
        assert!(is_poll(&r.kind), "{r:?}");
        let asked = sim.now;
        sim.respond(&quota_429(None), 50);
        let until = sim.s.quota_until(sim.now).unwrap();
        holds.push(until - sim.unix_s_up());
        // The access token has expired by then; the refresh is the first request after.
        let r = sim.next_request(sim.now + 48 * HOUR).unwrap();
        assert!(sim.now >= asked + (until - sim.unix_s()) * 1000);
        assert_eq!(r.kind, RequestKind::Refresh);
        sim.respond(&token("a", None), 50);
    }
    assert_eq!(holds, [6 * 3600, 12 * 3600, 24 * 3600]);
    // A good answer starts the series again.
    sim.next_request(sim.now + HOUR).unwrap();
    sim.respond(&track("T", 0, 300_000, true), 50);
    sim.next_request(sim.now + HOUR).unwrap();
    sim.respond(&quota_429(None), 50);
    assert_eq!(
        sim.s.quota_until(sim.now).unwrap() - sim.unix_s_up(),
        6 * 3600
    );
}

#[test]
fn a_429_without_a_body_is_a_quota_answer_only_when_it_asks_for_hours() {
    for (retry_after, quota) in [
        ("3600", true),
        ("48925", true),
        ("3599", false),
        ("120", false),
    ] {
        let mut sim = Sim::budgeted(700, QuotaState::default(), DAY0_S, 0);
        sim.next_request(0).unwrap();
        sim.respond(&token("a", None), 50);
        sim.next_request(sim.now).unwrap();
        sim.respond(&Reply::rate_limited(Some(retry_after)), 50);
        let health = sim.s.status(sim.now).health;
        assert_eq!(
            matches!(health, Health::QuotaExceeded { .. }),
            quota,
            "{retry_after}: {health:?}"
        );
        if !quota {
            assert!(matches!(health, Health::RateLimited { .. }), "{health:?}");
        }
    }
    // A rate limit with a body but no quota reason is never a quota answer.
    let mut sim = Sim::budgeted(700, QuotaState::default(), DAY0_S, 0);
    sim.next_request(0).unwrap();
    sim.respond(&token("a", None), 50);
    sim.next_request(sim.now).unwrap();
    sim.respond(
        &reply(429, &api_error_body(429, "API rate limit exceeded", None)).with_retry_after("7200"),
        50,
    );
    assert!(matches!(
        sim.s.status(sim.now).health,
        Health::RateLimited { .. }
    ));
}

#[test]
fn own_polls_stop_at_90_percent_and_presses_use_the_reserve() {
    let mut sim = Sim::budgeted(100, QuotaState::default(), DAY0_S, 0);
    // A track that never ends: polls go on as long as the budget allows.
    sim.run(20 * HOUR, |req, _| match req.kind {
        RequestKind::Refresh => token("a", None),
        _ => track("T", 0, 600_000_000, true),
    });
    assert_eq!(
        sim.sent.len(),
        90,
        "own polls and refreshes stop at 90 % of 100"
    );
    assert_eq!(sim.s.budget(), Some((100, 10)));
    // Presses still go out, each with its confirmation poll, until the reserve is spent.
    let mut presses = 0;
    while sim.s.press(sim.now, Control::PlayPause).is_ok() {
        presses += 1;
        sim.run(sim.now + 5_000, |req, _| match req.kind {
            RequestKind::Refresh => token("a", None),
            RequestKind::Control(_) => reply(204, ""),
            _ => track("T", 0, 600_000_000, presses % 2 == 0),
        });
    }
    // The last press that fitted may leave one request unused: a press needs two.
    assert!((99..=100).contains(&sim.sent.len()), "{presses} presses");
    assert!(presses >= 4, "{presses} presses");
    assert_eq!(
        sim.s.press(sim.now, Control::PlayPause),
        Err(ControlRefused::DailyLimit)
    );
    assert_eq!(sim.s.status(sim.now).notice, Some(Notice::DailyLimit));
    assert!(sim.next_request(sim.now + HOUR).is_none(), "nothing more");
    let (limit, left) = sim.s.budget().unwrap();
    assert_eq!((limit, left as usize), (100, 100 - sim.sent.len()));
}

#[test]
fn the_cap_is_never_exceeded_over_a_week_with_quota_hits_presses_and_restarts() {
    let mut next = xorshift(0x2545_F491_4F6C_DD1D);
    let budget = 300;
    let mut state = QuotaState::default();
    let mut all: Vec<u64> = Vec::new(); // Unix ms of every request, across restarts
    let list = Timeline::uniform(180_000, 25 * HOUR);
    for day in 0..7u64 {
        // A restart every day, from what the last run saved.
        let start_s = DAY0_S + day * 86_400;
        let mut sim = Sim::budgeted(budget, state.clone(), start_s, 3600);
        let mut t = 0;
        while t < 24 * HOUR {
            let until = t + 600_000;
            sim.run(until, |req, now| {
                let roll = next() % 1000;
                if roll < 2 {
                    return quota_429(Some("1800"));
                }
                match req.kind {
                    RequestKind::Refresh => token("a", None),
                    RequestKind::Control(_) => reply(204, ""),
                    // Music all day: tracks of 3 minutes.
                    _ => listening(&list, "T", now),
                }
            });
            if next().is_multiple_of(3) {
                let _ = sim.s.press(sim.now, Control::Next);
            }
            if let Some(s) = sim.s.take_quota_save(sim.now, 0) {
                state = s;
            }
            t = sim.now.max(until);
        }
        all.extend(sim.sent.iter().map(|(t, _)| start_s * 1000 + t));
    }
    all.sort_unstable();
    let most = max_in_24h(&all);
    assert!(most <= budget as usize, "{most} requests in 24 h");
    assert!(
        most >= budget as usize * 3 / 4,
        "the budget is used: {most}"
    );
}

#[test]
fn night_hours_poll_rarely_and_a_press_only_wakes() {
    // 23:30 local (UTC+1) on 2026-12-01.
    let start_s = DAY0_S + 22 * 3600 + 30 * 60;
    let mut sim = Sim::budgeted(700, QuotaState::default(), start_s, 3600);
    sim.s
        .set_night(Some(NightHours::parse("23:00-07:00").unwrap()));
    let list = Timeline::uniform(200_000, 9 * HOUR);
    let serve = |req: &Request, now: u64| match req.kind {
        RequestKind::Refresh => token("a", None),
        RequestKind::Control(_) => reply(204, ""),
        _ => listening(&list, "T", now),
    };
    sim.run(2 * HOUR, serve);
    assert!(sim.s.is_dark(sim.now) && sim.s.status(sim.now).blank);
    let polls = sim.requests(is_poll);
    assert!(polls.len() >= 8, "{polls:?}");
    for w in polls.windows(2) {
        assert!(
            w[1] - w[0] >= 900_000,
            "at most one poll in 15 minutes: {polls:?}"
        );
    }
    // A press wakes the screen and sends nothing but a poll; the normal schedule for
    // two minutes, then dark again.
    let before = sim.sent.len();
    assert_eq!(
        sim.s.press(sim.now, Control::Next),
        Err(ControlRefused::WokeUp)
    );
    assert!(!sim.s.is_dark(sim.now));
    let woke = sim.now;
    sim.run(woke + 120_000, serve);
    let awake: Vec<_> = sim.sent[before..]
        .iter()
        .map(|(t, r)| (*t, r.kind))
        .collect();
    assert!(
        awake
            .iter()
            .all(|(_, k)| !matches!(k, RequestKind::Control(_)))
    );
    assert!(awake.len() >= 3, "polls while awake: {awake:?}");
    assert!(sim.s.is_dark(woke + 120_000));
    // Morning: 07:00 local ends the night, and the schedule is normal again.
    sim.run(8 * HOUR, serve);
    assert!(!sim.s.is_dark(sim.now));
    let morning = sim.requests(is_poll);
    let last = &morning[morning.len() - 4..];
    assert!(last.windows(2).all(|w| w[1] - w[0] < 60_000), "{last:?}");
}

#[test]
fn the_login_warning_starts_on_day_168_and_invalid_grant_then_says_why() {
    let authorized = DAY0_S - 168 * 86_400 + 60;
    let mut sim = Sim::budgeted(0, QuotaState::default(), DAY0_S, 0);
    sim.s.set_authorized_at(Some(authorized));
    assert_eq!(sim.s.status(0).login_ends_unix_s, None, "day 167");
    assert_eq!(
        sim.s.status(60_000).login_ends_unix_s,
        Some(authorized + 182 * 86_400),
        "day 168"
    );
    // Unknown: no warning.
    let mut unknown = Sim::budgeted(0, QuotaState::default(), DAY0_S + 100 * 86_400, 0);
    unknown.s.set_authorized_at(None);
    assert_eq!(unknown.s.status(0).login_ends_unix_s, None);
    // invalid_grant within a week of the end: the login expired; earlier: just refused.
    for (days_before_end, health) in [(6, Health::LoginExpired), (30, Health::LoginNeeded)] {
        let now_s = DAY0_S;
        let mut sim = Sim::budgeted(0, QuotaState::default(), now_s, 0);
        sim.s
            .set_authorized_at(Some(now_s - (182 - days_before_end) * 86_400));
        sim.next_request(0).unwrap();
        sim.respond(&reply(400, INVALID_GRANT_BODY), 50);
        assert_eq!(sim.s.status(sim.now).health, health);
    }
}

#[test]
fn the_premium_refusal_probes_every_6_hours_and_at_a_press() {
    for budget in [0, 700] {
        premium_refusal(budget);
    }
}

fn premium_refusal(budget: u32) {
    let mut sim = Sim::budgeted(budget, QuotaState::default(), DAY0_S, 0);
    sim.next_request(0).unwrap();
    sim.respond(&token("a", None), 50);
    sim.next_request(sim.now).unwrap();
    sim.respond(&premium_403(), 50);
    let refused = sim.now;
    assert_eq!(
        sim.s.status(sim.now).health,
        Health::ConfigError(ConfigProblem::PremiumRequired)
    );
    // Not the 403 fallback to /currently-playing.
    assert_eq!(sim.s.endpoint(), Endpoint::Player);
    assert!(sim.next_request(refused + 6 * HOUR - 1).is_none());
    // The probe (after a refresh: the token has expired by then).
    let r = sim.next_request(refused + 6 * HOUR + 1_000).unwrap();
    assert_eq!(r.kind, RequestKind::Refresh);
    sim.respond(&token("a", None), 50);
    let r = sim.next_request(sim.now + 1_000).unwrap();
    assert!(is_poll(&r.kind));
    sim.respond(&premium_403(), 50);
    // A press sends a probe, not the command.
    assert_eq!(
        sim.s.press(sim.now + 1_000, Control::PlayPause),
        Err(ControlRefused::Halted)
    );
    let r = sim.next_request(sim.now + 2_000).unwrap();
    assert!(is_poll(&r.kind), "{r:?}");
    // Premium is back: the probe's answer ends the refusal.
    sim.respond(&track("T", 0, 300_000, true), 50);
    assert_eq!(sim.s.status(sim.now).health, Health::Good);
    // Other 403s on the player keep today's fallback.
    let mut other = started(false, track("T", 0, 300_000, true));
    other.next_request(other.now + 10_000).unwrap();
    other.respond(
        &reply(
            403,
            r#"{"error":{"status":403,"message":"Insufficient client scope"}}"#,
        ),
        50,
    );
    assert_eq!(other.s.endpoint(), Endpoint::CurrentlyPlaying);
}

#[test]
fn the_budgeted_schedule_watches_track_ends_and_thins_between() {
    let mut sim = Sim::budgeted(1000, QuotaState::default(), DAY0_S, 0);
    // A 200 s track from 0, then another.
    let list = Timeline::uniform(200_000, 400_000);
    sim.run(400_000, |req, now| match req.kind {
        RequestKind::Refresh => token("a", None),
        _ => listening(&list, "T", now),
    });
    let polls = sim.requests(is_poll);
    // Alert after the start (20 s), and a poll just after the predicted end.
    assert!(
        polls.iter().any(|t| (200_000..=200_600).contains(t)),
        "{polls:?}"
    );
    for w in polls.windows(2) {
        assert!(w[1] - w[0] <= 40_500, "{polls:?}");
        assert!(w[1] - w[0] >= 19_000, "{polls:?}");
    }
    // 20 s apart for three minutes after the start, then 30 s: 16 polls in 400 s
    // (today's schedule: about 85).
    assert!(polls.len() <= 16, "{}: {polls:?}", polls.len());
    assert!(
        polls[10..].windows(2).all(|w| w[1] - w[0] >= 29_000),
        "{polls:?}"
    );
}

/// An outage through the night (every connection refused): the attempts are paced and
/// capped by the night like polls, so the morning still has its budget.
#[test]
fn an_outage_at_night_does_not_spend_the_day() {
    let start = DAY0_S + 22 * 3600;
    let mut sim = Sim::budgeted(700, QuotaState::default(), start, 0);
    sim.s
        .set_night(Some(NightHours::parse("23:00-07:00").unwrap()));
    let (night_start, night_end) = (HOUR, 9 * HOUR);
    let list = Timeline::uniform(200_000, night_end + 4 * HOUR + HOUR);
    let mut night_attempts = 0u32;
    while let Some(req) = sim.next_request(night_end + 4 * HOUR) {
        let t = sim.now;
        if (night_start..night_end).contains(&t) {
            night_attempts += 1;
            sim.now += 50;
            sim.s.on_failure(sim.now, Failure::Connect);
            continue;
        }
        let r = match req.kind {
            RequestKind::Refresh => token("a", None),
            _ => listening(&list, "T", t),
        };
        sim.respond(&r, 50);
    }
    assert!(
        night_attempts <= 8 * 4 + 2,
        "{night_attempts} attempts in 8 h"
    );
    let morning = sim
        .requests(is_poll)
        .iter()
        .filter(|t| **t >= night_end)
        .count();
    assert!(
        morning >= 100,
        "{morning} polls in the 4 hours after the outage"
    );
}

/// A stored state whose hour lies in the future (a clock that ran fast) or is absurd:
/// the counts are re-anchored at the current hour, never a stall or a spin.
#[test]
fn a_stored_hour_from_the_future_is_re_anchored() {
    for hour in [DAY0_S / 3600 + 30 * 24, u64::MAX] {
        let mut counts = [0u16; 25];
        counts[0] = 640;
        let state = QuotaState {
            hour,
            counts,
            ..QuotaState::default()
        };
        let mut sim = Sim::budgeted(700, state, DAY0_S, 0);
        // Over the own share now, so the first poll waits for the counts to expire (a
        // day at the most), without spinning.
        let mut waits = 0;
        loop {
            match sim.s.poll(sim.now) {
                Action::WaitUntil(t) => {
                    assert!(t > sim.now, "spins at {}", sim.now);
                    sim.now = t;
                    waits += 1;
                    assert!(waits < 1000);
                }
                Action::Send(_) => break,
                Action::Wait => panic!("stalled"),
            }
        }
        assert!(
            sim.now <= 26 * HOUR,
            "first request after {} h",
            sim.now / HOUR
        );
    }
}

/// A device stuck at the end of a track (Spotify keeps answering "playing, at the end"):
/// a few quick looks, then the ordinary interval, not a poll every second.
#[test]
fn a_track_stuck_at_its_end_is_not_polled_every_second() {
    for budget in [0, 700] {
        let mut sim = Sim::budgeted(budget, QuotaState::default(), DAY0_S + 12 * 3600, 0);
        sim.run(HOUR, |req, _| match req.kind {
            RequestKind::Refresh => token("a", None),
            _ => track("T", 200_000, 200_000, true),
        });
        let polls = sim.requests(is_poll).len();
        let most = if budget == 0 { 760 } else { 200 };
        assert!(polls < most, "budget {budget}: {polls} polls in an hour");
    }
}

/// After a quota hold that lowered the budget below what is already spent, the one poll
/// after the hold still goes out (from the reserve), and the screen does not keep saying
/// "Back at" a time long past.
#[test]
fn the_poll_after_a_hold_goes_out_even_when_the_lowered_budget_is_spent() {
    let mut counts = [0u16; 25];
    counts[0] = 500;
    let state = QuotaState {
        hour: DAY0_S / 3600 + 12,
        counts,
        ..QuotaState::default()
    };
    let mut sim = Sim::budgeted(700, state, DAY0_S + 12 * 3600, 0);
    sim.next_request(0).unwrap();
    sim.respond(&token("a", None), 50);
    sim.next_request(sim.now).unwrap();
    sim.respond(&quota_429(Some("3600")), 50);
    let held = sim.now;
    let r = sim
        .next_request(sim.now + 20 * HOUR)
        .expect("a request after the hold");
    assert!(
        sim.now >= held + 3_600_000 && sim.now <= held + 3_602_000,
        "{}",
        sim.now
    );
    assert_eq!(r.kind, RequestKind::Refresh);
    sim.respond(&token("a", None), 50);
    let r = sim
        .next_request(sim.now + 1_000)
        .expect("the poll after the hold");
    assert!(is_poll(&r.kind));
    sim.respond(&track("T", 0, 200_000, true), 50);
    assert_eq!(sim.s.status(sim.now).health, Health::Good);
}
