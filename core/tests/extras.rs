//! The heart, the volume and up next under a simulated clock: what each asks of Spotify,
//! when, and within which budget.

use tonearm_core::session::{
    Action, Control, ControlCommand, ControlRefused, Credentials, Features, Method, Notice,
    Request, RequestKind, Session, Timing,
};
use tonearm_core::{Secret, budget::QuotaState, text::bounded};
use tonearm_testkit::Answer as Reply;

const ALL_SCOPES: &str = "user-read-currently-playing user-read-playback-state \
                          user-modify-playback-state user-library-read user-library-modify";

fn creds() -> Credentials {
    Credentials {
        client_id: bounded("abc123").0,
        client_secret: None,
        refresh_token: Some(Secret::new("refresh-1").unwrap()),
    }
}

fn token(scope: Option<&str>) -> Reply {
    let scope = scope.map_or(String::new(), |s| format!(r#","scope":"{s}""#));
    Reply::new(
        200,
        format!(r#"{{"access_token":"access-1","token_type":"Bearer","expires_in":3600{scope}}}"#),
    )
}

/// What the scripted player plays.
#[derive(Clone, Debug)]
struct Item {
    id: &'static str,
    kind: &'static str,
    local: bool,
    duration_ms: u64,
}

const A: Item = Item {
    id: "4uLU6hMCjMI75M1A2tKUQC",
    kind: "track",
    local: false,
    duration_ms: 200_000,
};
const B: Item = Item {
    id: "7lPN2DXiMsVn7XUKtOW1CS",
    ..A
};
const EPISODE: Item = Item {
    id: "512ojhOuo1ktJprKbVcKyQ",
    kind: "episode",
    ..A
};

/// A `/me/player` body of `item` at `progress_ms`, with a device at `volume`.
fn player(item: &Item, progress_ms: u64, volume: Option<u8>, supports_volume: bool) -> Reply {
    let id = if item.local {
        "null".to_owned()
    } else {
        format!(r#""{}""#, item.id)
    };
    let volume = volume.map_or("null".to_owned(), |v| v.to_string());
    Reply::new(
        200,
        format!(
            r#"{{"device":{{"name":"Desk","type":"Speaker","volume_percent":{volume},"supports_volume":{supports_volume},"is_restricted":false}},"progress_ms":{progress_ms},"is_playing":true,"currently_playing_type":"{kind}","item":{{"id":{id},"name":"Song {i}","type":"{kind}","is_local":{local},"duration_ms":{d},"artists":[{{"name":"Artist"}}],"album":{{"name":"Album"}},"show":{{"name":"Show"}}}},"actions":{{"disallows":{{"resuming":true}}}}}}"#,
            kind = item.kind,
            i = &item.id[..4],
            local = item.local,
            d = item.duration_ms,
        ),
    )
}

/// A queue answer: `current` playing, `next` first in the queue (with the id of `then`).
fn queue(current: Option<&Item>, next: &str) -> Reply {
    queue_then(current, next, "0000000000000000000000")
}

fn queue_then(current: Option<&Item>, next: &str, then: &str) -> Reply {
    let current = current.map_or("null".to_owned(), |c| {
        format!(r#"{{"id":"{}","name":"x","type":"track"}}"#, c.id)
    });
    Reply::new(
        200,
        format!(
            r#"{{"currently_playing":{current},"queue":[{{"id":"{then}","type":"track","name":"{next}","artists":[{{"name":"Next Artist"}}]}},{{"id":"1111111111111111111111","type":"track","name":"Later","artists":[{{"name":"Z"}}]}}]}}"#
        ),
    )
}

/// The scripted Spotify around a session.
struct Sim {
    s: Session,
    now: u64,
    sent: Vec<(u64, Request)>,
    item: Item,
    volume: Option<u8>,
    supports_volume: bool,
    liked: bool,
    scope: Option<&'static str>,
    library_status: u16,
    /// The id of the first queued item.
    then: &'static str,
}

impl Sim {
    fn new(features: Features) -> Sim {
        let mut s = Session::new(creds(), Timing::default(), 7);
        s.set_features(features);
        Sim {
            s,
            now: 0,
            sent: Vec::new(),
            item: A,
            volume: Some(40),
            supports_volume: true,
            liked: true,
            scope: Some(ALL_SCOPES),
            library_status: 200,
            then: "0000000000000000000000",
        }
    }

    fn answer(&mut self, req: &Request) -> Reply {
        let item = self.item.clone();
        match req.kind {
            RequestKind::Refresh => token(self.scope),
            RequestKind::Poll(_) => {
                player(&item, self.now % 100_000, self.volume, self.supports_volume)
            }
            RequestKind::Library if self.library_status != 200 => Reply::new(
                self.library_status,
                r#"{"error":{"status":403,"message":"Insufficient client scope"}}"#,
            ),
            RequestKind::Library => {
                // One answer per URI asked about, in order.
                let n = req.path.matches("spotify%3A").count();
                let all = vec![self.liked.to_string(); n];
                Reply::new(200, format!("[{}]", all.join(",")))
            }
            RequestKind::Queue => queue_then(Some(&item), "Next Song", self.then),
            RequestKind::Control(ControlCommand::Volume(v)) => {
                self.volume = Some(v);
                Reply::new(204, "")
            }
            RequestKind::Control(ControlCommand::Like(v)) => {
                self.liked = v;
                Reply::new(200, "")
            }
            RequestKind::Control(_) => Reply::new(204, ""),
        }
    }

    /// Serves every request until `until`.
    fn run(&mut self, until: u64) {
        while let Some(req) = self.next_request(until) {
            let r = self.answer(&req);
            self.respond(&r, 50);
        }
    }

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
        for c in r.body.chunks(5) {
            self.s.on_body(c);
        }
        self.s.on_end(self.now);
    }

    fn count(&self, kind: impl Fn(&RequestKind) -> bool) -> usize {
        self.sent.iter().filter(|(_, r)| kind(&r.kind)).count()
    }

    fn last(&self) -> &Request {
        &self.sent.last().unwrap().1
    }
}

fn is_library(k: &RequestKind) -> bool {
    *k == RequestKind::Library
}

fn is_queue(k: &RequestKind) -> bool {
    *k == RequestKind::Queue
}

fn is_poll(k: &RequestKind) -> bool {
    matches!(k, RequestKind::Poll(_))
}

#[test]
fn the_library_is_asked_once_per_track_and_the_heart_follows() {
    let mut sim = Sim::new(Features::default());
    sim.run(60_000);
    assert_eq!(sim.count(is_library), 1, "once for the track");
    let ask = sim.sent.iter().find(|(_, r)| is_library(&r.kind)).unwrap();
    assert_eq!(ask.1.method, Method::Get);
    // The track playing, and the next two in the queue (asked about in the same request).
    assert_eq!(
        ask.1.path.as_str(),
        "/me/library/contains?uris=spotify%3Atrack%3A4uLU6hMCjMI75M1A2tKUQC,\
         spotify%3Atrack%3A0000000000000000000000,spotify%3Atrack%3A1111111111111111111111"
    );
    assert!(
        ask.1.body.is_empty(),
        "the URIs go in the query, never in a body"
    );
    assert!(sim.s.has_heart());
    assert_eq!(sim.s.liked(), Some(true));
    // Another track: asked once more, for it.
    sim.item = B;
    sim.liked = false;
    sim.run(240_000);
    assert_eq!(sim.count(is_library), 2);
    assert_eq!(sim.s.liked(), Some(false));
    assert!(sim.last().path.contains("7lPN2DXiMsVn7XUKtOW1CS") || sim.count(is_library) == 2);
}

#[test]
fn an_episode_is_asked_by_its_episode_uri_and_a_local_file_not_at_all() {
    let mut sim = Sim::new(Features::default());
    sim.item = EPISODE;
    sim.run(30_000);
    let ask = sim.sent.iter().find(|(_, r)| is_library(&r.kind)).unwrap();
    let want = "/me/library/contains?uris=spotify%3Aepisode%3A512ojhOuo1ktJprKbVcKyQ";
    assert!(ask.1.path.starts_with(want), "{}", ask.1.path);
    let mut sim = Sim::new(Features::default());
    sim.item = Item { local: true, ..A };
    sim.run(120_000);
    assert_eq!(sim.count(is_library), 0);
    assert_eq!(
        sim.count(is_queue),
        0,
        "a local file has no place in the queue's answer"
    );
    assert!(!sim.s.has_heart());
    assert_eq!(
        sim.s.press(sim.now, Control::ToggleLike),
        Err(ControlRefused::Unavailable)
    );
}

#[test]
fn a_token_without_the_library_scopes_shows_no_heart_and_asks_nothing() {
    let mut sim = Sim::new(Features::default());
    sim.scope = Some("user-read-currently-playing user-read-playback-state");
    sim.run(300_000);
    assert_eq!(sim.count(is_library), 0);
    assert!(!sim.s.has_heart());
    assert_eq!(sim.s.liked(), None);
}

#[test]
fn without_a_scope_in_the_token_answer_the_first_403_decides() {
    let mut sim = Sim::new(Features::default());
    sim.scope = None;
    sim.library_status = 403;
    sim.run(60_000);
    assert_eq!(sim.count(is_library), 1);
    assert!(!sim.s.has_heart(), "no heart, and no error shown");
    assert_eq!(sim.s.status(sim.now).notice, None);
    // Not asked again for the next track.
    sim.item = B;
    sim.run(300_000);
    assert_eq!(sim.count(is_library), 1);
}

#[test]
fn like_is_optimistic_sent_in_the_query_and_undone_by_a_refusal() {
    let mut sim = Sim::new(Features::default());
    sim.liked = false;
    sim.run(30_000);
    assert_eq!(sim.s.liked(), Some(false));
    sim.s.press(sim.now, Control::ToggleLike).unwrap();
    assert_eq!(sim.s.liked(), Some(true), "shown at once");
    let req = sim.next_request(sim.now + 1).expect("sent at once");
    assert_eq!(req.method, Method::Put);
    assert_eq!(
        req.path.as_str(),
        "/me/library?uris=spotify%3Atrack%3A4uLU6hMCjMI75M1A2tKUQC"
    );
    assert!(req.body.is_empty());
    sim.respond(&Reply::new(200, ""), 50);
    assert_eq!(sim.s.liked(), Some(true));
    // Idempotent: liking a liked track sends nothing.
    assert_eq!(sim.s.press(sim.now, Control::SetLiked(true)), Ok(()));
    let controls = |sim: &Sim| sim.count(|k| matches!(k, RequestKind::Control(_)));
    let before = controls(&sim);
    sim.run(sim.now + 1_000);
    assert_eq!(controls(&sim), before);
    // Unlike, refused: the heart comes back, and a notice says so.
    let at = sim.now + 2_000;
    sim.now = at;
    sim.s.press(at, Control::SetLiked(false)).unwrap();
    assert_eq!(sim.s.liked(), Some(false));
    let req = sim.next_request(sim.now + 1).expect("sent");
    assert_eq!(req.method, Method::Delete);
    sim.respond(&Reply::new(500, ""), 50);
    assert_eq!(sim.s.liked(), Some(true), "undone");
    assert_eq!(sim.s.status(sim.now).notice, Some(Notice::ControlFailed));
}

#[test]
fn the_queue_stands_in_for_the_poll_after_a_change_and_costs_nothing_extra() {
    let run = |up_next: bool| {
        let mut sim = Sim::new(Features {
            like: false,
            up_next,
        });
        sim.s.set_budget(1000, QuotaState::default());
        sim.run(150_000);
        sim.item = B;
        sim.run(600_000);
        sim
    };
    let with = run(true);
    let without = run(false);
    assert_eq!(with.count(is_queue), 2, "once per track");
    assert_eq!(
        with.sent.len(),
        without.sent.len(),
        "the queue replaced a poll each time: {} with, {} without",
        with.sent.len(),
        without.sent.len()
    );
    let next = with.s.up_next().expect("known");
    assert_eq!(next.title.as_str(), "Next Song");
    assert_eq!(next.by.as_str(), "Next Artist");
    assert!(without.s.up_next().is_none());
    let q = with.sent.iter().find(|(_, r)| is_queue(&r.kind)).unwrap();
    assert_eq!(q.1.path.as_str(), "/me/player/queue");
}

#[test]
fn a_queue_that_disagrees_brings_the_poll_at_once() {
    let mut sim = Sim::new(Features {
        like: false,
        up_next: true,
    });
    let req = loop {
        let r = sim.next_request(120_000).expect("the queue is asked");
        if is_queue(&r.kind) {
            break r;
        }
        let a = sim.answer(&r);
        sim.respond(&a, 50);
    };
    assert_eq!(req.kind, RequestKind::Queue);
    // Spotify has moved on to B already.
    sim.respond(&queue(Some(&B), "Other"), 50);
    assert!(
        sim.s.up_next().is_none(),
        "not the item shown: not its next"
    );
    let at = sim.now;
    let next = sim.next_request(at + 1).expect("at once");
    assert!(is_poll(&next.kind));
    assert_eq!(sim.sent.last().unwrap().0, at);
}

#[test]
fn volume_presses_show_at_once_and_go_as_one_request() {
    let mut sim = Sim::new(Features::default());
    sim.run(30_000);
    let t0 = sim.now;
    for k in 0..3 {
        sim.now = t0 + k * 150;
        sim.s.press(sim.now, Control::VolumeUp).unwrap();
    }
    assert!(sim.s.status(sim.now).volume_shown);
    let device = |s: &Session| match s.playback() {
        tonearm_core::session::Playback::Item { np, .. } => np.device.clone().unwrap(),
        _ => panic!("no item"),
    };
    assert_eq!(
        device(&sim.s).volume_percent,
        Some(55),
        "40 + 3 x 5, shown at once"
    );
    // (A poll due meanwhile goes first.)
    let req = loop {
        let r = sim.next_request(sim.now + 5_000).unwrap();
        if matches!(r.kind, RequestKind::Control(_)) {
            break r;
        }
        let a = sim.answer(&r);
        sim.respond(&a, 50);
    };
    assert_eq!(req.kind, RequestKind::Control(ControlCommand::Volume(55)));
    assert_eq!(req.method, Method::Put);
    assert_eq!(req.path.as_str(), "/me/player/volume?volume_percent=55");
    assert!(
        sim.sent.last().unwrap().0 >= t0 + 300 + 400,
        "after the burst"
    );
    sim.respond(&Reply::new(204, ""), 50);
    let volumes = sim.count(|k| matches!(k, RequestKind::Control(ControlCommand::Volume(_))));
    assert_eq!(volumes, 1);
    assert!(
        !sim.s.status(sim.now + 3_500).volume_shown,
        "the overlay goes"
    );
    // Down to 0 and no lower; up to 100 and no higher.
    for _ in 0..30 {
        sim.s.press(sim.now, Control::VolumeDown).unwrap();
    }
    assert_eq!(device(&sim.s).volume_percent, Some(0));
    sim.s.press(sim.now, Control::SetVolume(250)).unwrap();
    assert_eq!(device(&sim.s).volume_percent, Some(100));
}

#[test]
fn a_fixed_volume_is_a_notice_not_an_error_screen() {
    let mut sim = Sim::new(Features::default());
    sim.supports_volume = false;
    sim.run(30_000);
    assert_eq!(
        sim.s.press(sim.now, Control::VolumeUp),
        Err(ControlRefused::Disallowed)
    );
    assert_eq!(sim.s.status(sim.now).notice, Some(Notice::VolumeFixed));
    // A device that says it can, and then refuses.
    let mut sim = Sim::new(Features::default());
    sim.run(30_000);
    sim.s.press(sim.now, Control::VolumeDown).unwrap();
    let req = loop {
        let r = sim.next_request(sim.now + 5_000).unwrap();
        if matches!(r.kind, RequestKind::Control(_)) {
            break r;
        }
        let a = sim.answer(&r);
        sim.respond(&a, 50);
    };
    assert!(matches!(
        req.kind,
        RequestKind::Control(ControlCommand::Volume(35))
    ));
    sim.respond(
        &Reply::new(
            403,
            r#"{"error":{"status":403,"message":"Player command failed: Cannot control device volume","reason":"VOLUME_CONTROL_DISALLOW"}}"#,
        ),
        50,
    );
    let st = sim.s.status(sim.now);
    assert_eq!(st.notice, Some(Notice::VolumeFixed));
    assert!(matches!(st.health, tonearm_core::session::Health::Good));
    assert_eq!(
        sim.s.press(sim.now, Control::VolumeUp),
        Err(ControlRefused::Disallowed),
        "greyed out from now on"
    );
}

#[test]
fn the_extras_give_way_when_the_budget_runs_short() {
    // A budget of 100 a day with 62 used: the queue (40 % left needed) is dropped, the
    // library (35 %) still asked; with 70 used, neither.
    for (used, library, queue_asked) in [(0, 1, 1), (62, 1, 0), (70, 0, 0)] {
        let mut sim = Sim::new(Features::default());
        let mut state = QuotaState::default();
        for _ in 0..used {
            state.record();
        }
        sim.s.set_budget(100, state);
        sim.run(1_200_000);
        assert_eq!(sim.count(is_library), library, "{used} used");
        assert_eq!(sim.count(is_queue), queue_asked, "{used} used");
    }
}

#[test]
fn switched_off_they_ask_nothing() {
    let mut sim = Sim::new(Features {
        like: false,
        up_next: false,
    });
    sim.run(600_000);
    assert_eq!(sim.count(is_library) + sim.count(is_queue), 0);
    assert!(!sim.s.has_heart());
    assert_eq!(
        sim.s.press(sim.now, Control::ToggleLike),
        Err(ControlRefused::Unavailable)
    );
}

/// One library question covers the track playing and the next ones in the queue: when
/// the next one comes, its heart is known at once and nothing is asked for it.
#[test]
fn the_next_tracks_heart_comes_with_the_question_about_this_one() {
    let mut sim = Sim::new(Features::default());
    sim.then = B.id;
    sim.run(60_000);
    assert_eq!(sim.count(is_library), 1);
    let ask = sim.sent.iter().find(|(_, r)| is_library(&r.kind)).unwrap();
    assert!(ask.1.path.contains(B.id), "{}", ask.1.path);
    sim.item = B;
    sim.run(120_000);
    assert_eq!(sim.count(is_library), 1, "B was asked about with A");
    assert_eq!(sim.s.liked(), Some(true));
}

/// A like pressed while a poll is out is for the track pressed: when the poll answers
/// another track (or nothing), the request still names the first one, and nothing halts.
#[test]
fn a_like_is_for_the_track_pressed_whatever_the_poll_in_flight_answers() {
    for next in [Some(B), None] {
        let mut sim = Sim::new(Features::default());
        sim.liked = false;
        sim.run(30_000);
        // A poll goes out ...
        let poll = loop {
            let r = sim.next_request(sim.now + 60_000).unwrap();
            if is_poll(&r.kind) {
                break r;
            }
            let a = sim.answer(&r);
            sim.respond(&a, 50);
        };
        assert!(is_poll(&poll.kind));
        // ... the press comes before its answer ...
        sim.s.press(sim.now, Control::ToggleLike).unwrap();
        // ... which names another track, or none.
        match &next {
            Some(b) => {
                let r = player(b, 1_000, Some(40), true);
                sim.respond(&r, 50);
            }
            None => sim.respond(&Reply::new(204, ""), 50),
        }
        let req = sim.next_request(sim.now + 1_000).expect("the like goes");
        assert_eq!(req.method, Method::Put, "{next:?}");
        assert!(req.path.ends_with(A.id), "{}", req.path);
        sim.respond(&Reply::new(200, ""), 50);
        assert!(
            matches!(
                sim.s.status(sim.now).health,
                tonearm_core::session::Health::Good
            ),
            "never a halt"
        );
    }
}

/// A like that gets no answer is not shown as pressed for long: its heart is asked again.
#[test]
fn a_like_lost_to_the_network_is_asked_again() {
    let mut sim = Sim::new(Features::default());
    sim.liked = false;
    sim.run(30_000);
    sim.s.press(sim.now, Control::ToggleLike).unwrap();
    let req = loop {
        let r = sim.next_request(sim.now + 5_000).unwrap();
        if matches!(r.kind, RequestKind::Control(_)) {
            break r;
        }
        let a = sim.answer(&r);
        sim.respond(&a, 50);
    };
    assert_eq!(req.method, Method::Put);
    sim.s
        .on_failure(sim.now + 30_000, tonearm_core::session::Failure::Timeout);
    sim.now += 30_000;
    let asked = sim.count(is_library);
    sim.run(sim.now + 300_000);
    assert_eq!(sim.count(is_library), asked + 1, "asked again");
    assert_eq!(
        sim.s.liked(),
        Some(false),
        "Spotify's answer, not the lost press"
    );
}

/// A volume waiting to go when the budget runs out is dropped: no spin, no notice storm.
#[test]
fn a_volume_the_budget_no_longer_allows_is_dropped_without_spinning() {
    let mut sim = Sim::new(Features::default());
    let mut state = QuotaState::default();
    for _ in 0..197 {
        state.record();
    }
    sim.s.set_budget(200, state);
    sim.run(10_000);
    sim.s.press(sim.now, Control::VolumeUp).ok();
    let mut waits = 0;
    let end = sim.now + 60_000;
    while sim.now < end {
        match sim.s.poll(sim.now) {
            Action::Send(r) => {
                sim.sent.push((sim.now, r.clone()));
                let a = sim.answer(&r);
                sim.respond(&a, 50);
            }
            Action::WaitUntil(t) => {
                waits += 1;
                assert!(waits < 1_000, "poll() spins at {}", sim.now);
                sim.now = t.min(end);
            }
            Action::Wait => break,
        }
    }
}
