//! The session's schedule over a simulated hour: requests per hour while playing, paused
//! and idle; how long after a track really ends the new one is on screen; and the bytes a
//! poll receives with and without `market`.
//!
//! Run: `cargo bench -p tonearm-core --bench session` (prints figures; asserts nothing).
#![allow(missing_docs)]

use tonearm_core::Secret;
use tonearm_core::session::{Action, Credentials, Playback, RequestKind, Session, Timing};
use tonearm_core::text::bounded;
use tonearm_testkit::{Answer, Timeline, TrackBody, XorShift};

const HOUR: u64 = 3_600_000;
/// Simulated round trip of a request.
const RTT: u64 = 150;

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Playing,
    Paused,
    Idle,
}

/// Spotify's state at time `t`: tracks back to back with lengths from 2 to 6 minutes (the
/// test kit's timeline; its answers are the test kit's bodies).
struct Spotify {
    list: Timeline,
}

impl Spotify {
    fn new(seed: u64) -> Self {
        Spotify {
            list: Timeline::random(&mut XorShift::new(seed), 120_000, 240_000, 2 * HOUR),
        }
    }

    fn body(&self, t: u64, mode: Mode) -> Answer {
        let at = self.list.at(t);
        match mode {
            Mode::Idle => Answer::empty(204),
            _ => {
                let title = format!("Track {}", at.index);
                let body = TrackBody::new(
                    &title,
                    at.progress_ms,
                    at.duration_ms,
                    mode == Mode::Playing,
                );
                Answer::new(200, body.json())
            }
        }
    }
}

struct Figures {
    requests: usize,
    delays: Vec<u64>,
}

fn simulate(mode: Mode, seed: u64) -> Figures {
    let spotify = Spotify::new(seed);
    let creds = Credentials {
        client_id: bounded("id").0,
        client_secret: None,
        refresh_token: Secret::new("r"),
    };
    let mut s = Session::new(creds, Timing::default(), seed);
    let mut now = 0;
    let mut requests = 0;
    let mut shown: Option<String> = None;
    let mut delays = Vec::new();
    let paused_at = 30_000;
    while now < HOUR {
        match s.poll(now) {
            Action::Send(req) => {
                requests += 1;
                now += RTT;
                let answer = match req.kind {
                    RequestKind::Refresh => Answer::token("a", None),
                    _ if mode == Mode::Paused => spotify.body(paused_at, mode),
                    _ => spotify.body(now - RTT / 2, mode),
                };
                s.on_head(now, answer.status, answer.retry_after.as_deref());
                s.on_body(&answer.body);
                s.on_end(now);
                if let Playback::Item { np, .. } = s.playback() {
                    let title = np.title.as_ref().map(|t| t.to_string());
                    if mode == Mode::Playing && title != shown && shown.is_some() {
                        // The new track's real start.
                        delays.push(now - spotify.list.at(now - RTT / 2).start_ms);
                    }
                    shown = title;
                }
            }
            Action::WaitUntil(t) => now = t.max(now + 1),
            Action::Wait => break,
        }
    }
    Figures { requests, delays }
}

fn median(mut v: Vec<u64>) -> u64 {
    v.sort_unstable();
    v.get(v.len() / 2).copied().unwrap_or(0)
}

fn main() {
    println!(
        "tonearm-core session benchmark: a simulated hour, default timing, {RTT} ms round trips"
    );
    for (name, mode) in [
        ("playing", Mode::Playing),
        ("paused", Mode::Paused),
        ("idle (204)", Mode::Idle),
    ] {
        let f = simulate(mode, 0x5eed);
        print!(
            "  {name:<11} {:>4} requests/hour ({:.2} s between requests on average)",
            f.requests,
            3600.0 / f.requests as f64
        );
        if mode == Mode::Playing {
            let n = f.delays.len();
            let max = f.delays.iter().copied().max().unwrap_or(0);
            print!(
                "; track change on screen after its real end: median {} ms, max {} ms over {n} changes",
                median(f.delays.clone()),
                max
            );
        }
        println!();
    }
    // Bytes per poll: the seed's body as sent, with and without the two available_markets
    // arrays (which any `market` parameter removes), in the same formatting.
    let seed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/seed_track.json"
    ))
    .unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&seed).unwrap();
    let with = serde_json::to_string_pretty(&v).unwrap().len();
    v["item"]
        .as_object_mut()
        .unwrap()
        .remove("available_markets");
    v["item"]["album"]
        .as_object_mut()
        .unwrap()
        .remove("available_markets");
    let without = serde_json::to_string_pretty(&v).unwrap().len();
    println!(
        "  bytes per poll (the seed's track, pretty-printed): {with} with available_markets, {without} with market=from_token ({:.0} % less)",
        (1.0 - without as f64 / with as f64) * 100.0
    );
}
