//! The session's schedule over a simulated hour: requests per hour while playing, paused
//! and idle; how long after a track really ends the new one is on screen; and the bytes a
//! poll receives with and without `market`.
//!
//! Run: `cargo bench -p tonearm-core --bench session` (prints figures; asserts nothing).
#![allow(missing_docs)]

use tonearm_core::Secret;
use tonearm_core::session::{Action, Credentials, Playback, RequestKind, Session, Timing};
use tonearm_core::text::bounded;

const HOUR: u64 = 3_600_000;
/// Simulated round trip of a request.
const RTT: u64 = 150;

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Playing,
    Paused,
    Idle,
}

/// A deterministic PRNG for track lengths.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Spotify's state at time `t`: tracks back to back with lengths from 2 to 6 minutes.
struct Spotify {
    starts: Vec<(u64, u64)>, // (start, duration)
}

impl Spotify {
    fn new(seed: u64) -> Self {
        let mut rng = Rng(seed);
        let mut starts = Vec::new();
        let mut t = 0;
        while t < 2 * HOUR {
            let d = 120_000 + rng.next() % 240_000;
            starts.push((t, d));
            t += d;
        }
        Spotify { starts }
    }

    fn at(&self, t: u64) -> (usize, u64, u64) {
        let i = self.starts.iter().rposition(|(s, _)| *s <= t).unwrap_or(0);
        let (s, d) = self.starts[i];
        (i, t - s, d)
    }

    fn body(&self, t: u64, mode: Mode) -> (u16, String) {
        let (i, progress, d) = self.at(t);
        match mode {
            Mode::Idle => (204, String::new()),
            _ => (
                200,
                format!(
                    r#"{{"is_playing":{},"progress_ms":{progress},"currently_playing_type":"track","item":{{"type":"track","name":"Track {i}","duration_ms":{d},"artists":[{{"name":"A"}}],"album":{{"name":"B"}}}}}}"#,
                    mode == Mode::Playing
                ),
            ),
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
                let (status, body) = match req.kind {
                    RequestKind::Refresh => {
                        (200, r#"{"access_token":"a","expires_in":3600}"#.to_string())
                    }
                    _ if mode == Mode::Paused => spotify.body(paused_at, mode),
                    _ => spotify.body(now - RTT / 2, mode),
                };
                s.on_head(now, status, None);
                s.on_body(body.as_bytes());
                s.on_end(now);
                if let Playback::Item { np, .. } = s.playback() {
                    let title = np.title.as_ref().map(|t| t.to_string());
                    if mode == Mode::Playing && title != shown && shown.is_some() {
                        // The new track's real start.
                        let (i, _, _) = spotify.at(now - RTT / 2);
                        delays.push(now - spotify.starts[i].0);
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
