//! The hub's state message: written from a session, read back, within its cap whatever
//! the texts hold, refused when it is not a version-1 state; and the mirror session that
//! shows it.

use tonearm_core::hub::{
    HubHealth, HubPlayback, HubState, HubStateError, HubStateParser, STATE_CAP,
};
use tonearm_core::parse::QueuedItem;
use tonearm_core::session::{
    Action, ConfigProblem, Credentials, Health, Notice, Playback, Session, Timing,
};
use tonearm_core::wall::WallClock;
use tonearm_core::{Device, Kind, NowPlaying, Secret, text::bounded};

const UNIX0: u64 = 1_796_000_000_000;

fn creds() -> Credentials {
    Credentials {
        client_id: bounded("abc123").0,
        client_secret: None,
        refresh_token: Some(Secret::new("refresh-1").unwrap()),
    }
}

fn answer(s: &mut Session, now: u64, status: u16, body: &str) {
    s.on_head(now, status, None);
    s.on_body(body.as_bytes());
    s.on_end(now);
}

/// A session at `UNIX0` (monotonic 1000) that has heard `body` from `/me/player`.
fn session_with(body: &str) -> Session {
    let mut s = Session::new(creds(), Timing::default(), 7);
    s.set_wall_clock(
        1000,
        WallClock {
            unix_ms: UNIX0,
            utc_offset_s: 3600,
        },
    );
    let Action::Send(_) = s.poll(1000) else {
        panic!("no token request")
    };
    answer(
        &mut s,
        1000,
        200,
        r#"{"access_token":"a","token_type":"Bearer","expires_in":3600}"#,
    );
    let Action::Send(req) = s.poll(1000) else {
        panic!("no poll")
    };
    assert!(req.path.starts_with("/me/player"), "{}", req.path);
    answer(&mut s, 1000, 200, body);
    s
}

const BODY: &str = r#"{"device":{"name":"Kitchen \"Echo\"","type":"Speaker","volume_percent":40,"is_restricted":false,"supports_volume":true},
"shuffle_state":true,"repeat_state":"context","progress_ms":61000,"is_playing":true,"currently_playing_type":"track",
"actions":{"disallows":{"skipping_prev":true}},
"item":{"type":"track","id":"4uLU6hMCjMI75M1A2tKUQC","name":"Windowpane","duration_ms":463000,
"album":{"name":"Damnation","images":[{"url":"https://i.scdn.co/image/640","width":640,"height":640},{"url":"https://i.scdn.co/image/300","width":300,"height":300},{"url":"https://i.scdn.co/image/64","width":64,"height":64}]},
"artists":[{"name":"Opeth"},{"name":"Steven Wilson"}]}}"#;

fn write(state: &HubState) -> String {
    let mut out = heapless::String::<STATE_CAP>::new();
    state.write_json(&mut out).expect("fits");
    out.as_str().to_owned()
}

fn parse(msg: &str) -> Result<HubState, HubStateError> {
    HubStateParser::new().parse(msg.as_bytes())
}

#[test]
fn a_session_round_trips_through_the_message() {
    let s = session_with(BODY);
    let state = HubState::from_session(&s, 2000, "now_playing", 5);
    let msg = write(&state);
    // Every key of version 1, with the types docs/hub-state.md gives.
    let v: serde_json::Value = serde_json::from_str(&msg).unwrap();
    for key in [
        "v",
        "seq",
        "screen",
        "kind",
        "title",
        "artists",
        "album",
        "show",
        "is_playing",
        "progress_ms",
        "at_ms",
        "duration_ms",
        "device",
        "shuffle",
        "repeat",
        "cover_url",
        "disallows",
        "notice",
        "warnings",
        "health",
    ] {
        assert!(v.get(key).is_some(), "{key} missing from {msg}");
    }
    assert_eq!(v["v"], 1);
    assert_eq!(v["seq"], 5);
    assert_eq!(v["title"], "Windowpane");
    assert_eq!(v["artists"], serde_json::json!(["Opeth", "Steven Wilson"]));
    assert_eq!(v["show"], serde_json::Value::Null);
    assert_eq!(v["progress_ms"], 61000);
    assert_eq!(v["at_ms"], UNIX0);
    assert_eq!(v["device"]["name"], "Kitchen \"Echo\"");
    assert_eq!(v["device"]["volume_percent"], 40);
    assert_eq!(v["device"]["supports_volume"], true);
    assert_eq!(v["repeat"], "context");
    assert_eq!(v["cover_url"], "https://i.scdn.co/image/300");
    assert_eq!(v["disallows"], serde_json::json!(["skipping_prev"]));
    assert_eq!(v["health"]["state"], "good");
    assert_eq!(v["warnings"], serde_json::json!([]));
    // And back.
    let back = parse(&msg).unwrap();
    assert_eq!(back, state);
    let np = back.item().unwrap();
    assert_eq!(np.kind, Kind::Track);
    assert!(np.disallows.skipping_prev && !np.disallows.pausing);
    assert_eq!(back.cover_url(), Some("https://i.scdn.co/image/300"));
}

fn item_state(np: NowPlaying) -> HubState {
    HubState {
        seq: 1,
        screen: bounded("now_playing").0,
        playback: HubPlayback::Item(np),
        at_ms: Some(UNIX0),
        ..HubState::default()
    }
}

#[test]
fn hostile_texts_stay_within_the_cap_and_still_parse() {
    // The worst a body can hold: every text full of characters that escape long.
    let control: String = "\u{1}".repeat(256);
    let quotes: String = "\"".repeat(128);
    let mut np = NowPlaying {
        kind: Kind::Track,
        is_playing: true,
        progress_ms: Some(1),
        duration_ms: Some(2),
        title: Some(bounded(&control).0),
        album: Some(bounded(&quotes).0),
        show: Some(bounded(&quotes).0),
        device: Some(Device {
            name: bounded(&control).0,
            kind: bounded(&quotes).0,
            volume_percent: Some(100),
            ..Device::default()
        }),
        ..NowPlaying::default()
    };
    for _ in 0..6 {
        np.artists.push(bounded(&control).0).unwrap();
    }
    np.images
        .push(tonearm_core::Image {
            url: bounded(&"\\".repeat(128)).0,
            width: None,
            height: None,
        })
        .unwrap();
    let mut state = item_state(np);
    state.up_next = Some(QueuedItem {
        kind: Kind::Track,
        title: bounded(&control).0,
        by: bounded(&control).0,
    });
    state.notice = Some(Notice::ControlFailed);
    state.login_ends_s = Some(1);
    state.health = HubHealth::ConfigError(ConfigProblem::PremiumRequired);
    let msg = write(&state);
    assert!(msg.len() <= STATE_CAP);
    let v: serde_json::Value = serde_json::from_str(&msg).unwrap();
    // Cut, at character boundaries, never dropped whole.
    let title = v["title"].as_str().unwrap();
    assert!(!title.is_empty() && title.chars().all(|c| c == '\u{1}'));
    assert!(!v["artists"].as_array().unwrap().is_empty());
    assert_eq!(v["health"]["reason"], "premium_required");
    let back = parse(&msg).unwrap();
    assert_eq!(
        back.health,
        HubHealth::ConfigError(ConfigProblem::PremiumRequired)
    );
    assert_eq!(back.notice, Some(Notice::ControlFailed));
    assert_eq!(back.login_ends_s, Some(1));
}

#[test]
fn what_is_not_a_version_1_state_is_refused() {
    let s = session_with(BODY);
    let good = write(&HubState::from_session(&s, 2000, "now_playing", 5));
    assert!(parse(&good).is_ok());
    assert_eq!(
        parse(&good.replacen("\"v\":1", "\"v\":2", 1)),
        Err(HubStateError::Version)
    );
    assert_eq!(
        parse(&good.replacen("\"health\"", "\"wealth\"", 1)),
        Err(HubStateError::Incomplete)
    );
    assert_eq!(
        parse(&good.replacen("\"seq\":5", "\"seq\":\"5\"", 1)),
        Err(HubStateError::Incomplete)
    );
    for bad in [
        "",
        "null",
        "[1]",
        "{\"v\":1",
        "not json",
        &good[..good.len() - 1],
    ] {
        assert!(
            matches!(
                parse(bad),
                Err(HubStateError::Json(_) | HubStateError::Version)
            ),
            "{bad:?}"
        );
    }
    // A message far larger than any state (the broker may hold anything): read in
    // constant memory, its title cut.
    let huge = good.replacen("Windowpane", &"x".repeat(1 << 20), 1);
    let back = parse(&huge).unwrap();
    assert_eq!(back.item().unwrap().title.as_ref().unwrap().len(), 256);
    assert!(back.item().unwrap().truncated);
    // Unknown keys (a later minor addition) are skipped.
    let more = good.replacen("{\"v\":1,", "{\"v\":1,\"new\":{\"a\":[1,{\"b\":2}]},", 1);
    assert_eq!(parse(&more).unwrap(), parse(&good).unwrap());
}

#[test]
fn only_a_change_is_news_not_the_progress_ticking() {
    let s = session_with(BODY);
    let a = HubState::from_session(&s, 2000, "now_playing", 1);
    let mut b = a.clone();
    b.seq = 2;
    // Polled again 10 s later: the progress moved as interpolated.
    b.at_ms = Some(UNIX0 + 10_000);
    if let HubPlayback::Item(np) = &mut b.playback {
        np.progress_ms = Some(71_500);
    }
    assert!(b.same_as(&a, UNIX0 + 10_000));
    // A seek of 3 s is news.
    if let HubPlayback::Item(np) = &mut b.playback {
        np.progress_ms = Some(74_000);
    }
    assert!(!b.same_as(&a, UNIX0 + 10_000));
    let mut c = a.clone();
    c.liked = Some(true);
    assert!(!c.same_as(&a, UNIX0));
    let mut d = a.clone();
    d.health = HubHealth::Stale {
        since_ms: Some(UNIX0),
    };
    assert!(!d.same_as(&a, UNIX0));
}

fn mirror_at(unix_ms: u64, now: u64) -> Session {
    let mut m = Session::mirror(Timing::default());
    m.set_wall_clock(
        now,
        WallClock {
            unix_ms,
            utc_offset_s: 0,
        },
    );
    m
}

#[test]
fn a_mirror_shows_the_hub_state_in_its_own_time() {
    let hub = session_with(BODY);
    let state = HubState::from_session(&hub, 1000, "now_playing", 1);
    // The display's clock: monotonic 50 000 is UNIX0 + 500 (the message is 0.5 s old).
    let mut m = mirror_at(UNIX0 + 500, 50_000);
    assert_eq!(m.playback(), &Playback::Unknown);
    assert_eq!(m.poll(50_000), Action::Wait);
    m.apply_mirror(50_000, &state);
    assert_eq!(m.poll(50_000), Action::Wait, "a mirror never sends");
    let Playback::Item { np, .. } = m.playback() else {
        panic!("no item")
    };
    assert_eq!(np.title.as_deref(), Some("Windowpane"));
    assert_eq!(m.position_ms(50_000), Some(61_500));
    assert_eq!(m.position_ms(60_000), Some(71_500));
    assert_eq!(m.status(50_000).health, Health::Good);
    // Rate limited on the hub for 30 s more: the wait counts down here.
    let mut limited = state.clone();
    limited.health = HubHealth::RateLimited {
        until_ms: Some(UNIX0 + 30_500),
    };
    m.apply_mirror(50_000, &limited);
    assert_eq!(
        m.status(50_000).health,
        Health::RateLimited {
            remaining_ms: 30_000
        }
    );
    assert_eq!(m.status(81_000).health, Health::Good);
    // The hub's notice shows until the hub's next state drops it.
    let mut notice = state.clone();
    notice.notice = Some(Notice::NoActiveDevice);
    m.apply_mirror(51_000, &notice);
    assert_eq!(m.status(900_000).notice, Some(Notice::NoActiveDevice));
    m.apply_mirror(52_000, &state);
    assert_eq!(m.status(52_000).notice, None);
    // The display's own notice (a press it could not pass on) keeps its time.
    m.mirror_notice(53_000, Notice::ControlFailed);
    m.apply_mirror(53_500, &state);
    assert_eq!(m.status(53_500).notice, Some(Notice::ControlFailed));
    // Gone: the last item stays, offline since the hub was last known to be there.
    m.mirror_lost(56_000);
    assert_eq!(m.status(60_000).health, Health::Offline { for_ms: 4_000 });
    m.mirror_lost(59_000);
    assert_eq!(
        m.status(60_000).health,
        Health::Offline { for_ms: 4_000 },
        "the first loss counts"
    );
    assert!(matches!(m.playback(), Playback::Item { .. }));
    // Back.
    m.apply_mirror(70_000, &state);
    assert_eq!(m.status(70_000).health, Health::Good);
}

#[test]
fn a_mirror_shows_the_heart_up_next_and_volume_changes() {
    let hub = session_with(BODY);
    let mut state = HubState::from_session(&hub, 1000, "now_playing", 1);
    let mut m = mirror_at(UNIX0, 1000);
    m.apply_mirror(1000, &state);
    assert_eq!(m.liked(), None);
    assert!(!m.has_heart());
    assert!(!m.status(1000).volume_shown);
    state.liked = Some(true);
    state.up_next = Some(QueuedItem {
        kind: Kind::Track,
        title: bounded("Blackest Eyes").0,
        by: bounded("Porcupine Tree").0,
    });
    if let HubPlayback::Item(np) = &mut state.playback {
        np.device.as_mut().unwrap().volume_percent = Some(45);
    }
    m.apply_mirror(2000, &state);
    assert_eq!(m.liked(), Some(true));
    assert_eq!(m.up_next().unwrap().by.as_str(), "Porcupine Tree");
    assert!(
        m.status(2000).volume_shown,
        "a volume change shows the overlay"
    );
    assert!(!m.status(9000).volume_shown);
    // Nothing plays; then the hub needs a login.
    state.playback = HubPlayback::Nothing;
    state.health = HubHealth::LoginNeeded;
    m.apply_mirror(3000, &state);
    assert!(matches!(m.playback(), Playback::Nothing { .. }));
    assert_eq!(m.status(3000).health, Health::LoginNeeded);
    assert_eq!(m.liked(), None);
}

#[test]
fn a_command_goes_through_a_dark_screen_which_a_press_only_wakes() {
    use tonearm_core::session::{Control, ControlRefused, RequestKind};
    use tonearm_core::wall::NightHours;
    let night = || NightHours::parse("00:00-23:59").unwrap();
    // A press on the dark screen only wakes it.
    let mut s = session_with(BODY);
    s.set_night(Some(night()));
    assert!(s.status(2000).blank);
    assert_eq!(s.press(2000, Control::Next), Err(ControlRefused::WokeUp));
    // A command (the hub's topic) wakes it and is sent.
    let mut s = session_with(BODY);
    s.set_night(Some(night()));
    assert_eq!(s.command(2000, Control::Next), Ok(()));
    assert!(!s.status(2000).blank, "woken");
    let Action::Send(req) = s.poll(2000) else {
        panic!("the command is not sent")
    };
    assert!(
        matches!(req.kind, RequestKind::Control(_)),
        "{:?} {}",
        req.kind,
        req.path
    );
}

#[test]
fn health_times_that_move_by_a_few_ms_are_no_change() {
    let s = session_with(BODY);
    let mut a = HubState::from_session(&s, 2000, "now_playing", 1);
    a.health = HubHealth::Stale {
        since_ms: Some(UNIX0),
    };
    let mut b = a.clone();
    b.health = HubHealth::Stale {
        since_ms: Some(UNIX0 + 7),
    };
    assert!(b.same_as(&a, UNIX0 + 5000));
    b.health = HubHealth::Stale {
        since_ms: Some(UNIX0 + 60_000),
    };
    assert!(!b.same_as(&a, UNIX0 + 5000));
    b.health = HubHealth::Offline {
        since_ms: Some(UNIX0),
    };
    assert!(!b.same_as(&a, UNIX0 + 5000));
}

#[test]
fn a_mirror_without_any_clock_shows_no_made_up_countdown() {
    let mut m = Session::mirror(Timing::default());
    // Nothing plays (no at_ms) and the display has no time of day.
    let state = HubState {
        seq: 1,
        screen: bounded("rate_limited").0,
        playback: HubPlayback::Nothing,
        health: HubHealth::RateLimited {
            until_ms: Some(UNIX0 + 30_000),
        },
        ..HubState::default()
    };
    m.apply_mirror(5_000, &state);
    assert_eq!(
        m.status(6_000).health,
        Health::RateLimited { remaining_ms: 0 }
    );
}
