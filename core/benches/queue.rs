//! Parse cost and state size of the queue parser (`/me/player/queue`: twenty full items,
//! of which it keeps the current id and the first item's kind, title and maker), with the
//! playback parser on a full `/me/player` body measured in the same run for reference.
//!
//! Run: `cargo bench -p tonearm-core --bench queue` (not run in CI: it prints figures, it
//! asserts nothing but that the parsers find what they should). Times are medians over
//! many runs of a batch of parses; the machines are shared and noisy, so read MB/s as a
//! rough figure and compare lines of the same run.

use std::hint::black_box;
use std::time::Instant;

use tonearm_core::parse::{QueueHead, QueueParser};
use tonearm_core::{NowPlaying, NowPlayingParser};

#[path = "../tests/queue_support/mod.rs"]
mod queue_support;

/// Bytes per `feed`, as a board's receive buffer would deliver them.
const CHUNK: usize = 512;

/// Parses `body` with `parser` (one parser for the device's whole life, as a board keeps
/// it) and returns something that depends on the result.
fn queue(parser: &mut QueueParser, body: &[u8]) -> usize {
    for c in body.chunks(CHUNK) {
        parser.feed(c).unwrap();
    }
    let head = parser.finish().unwrap();
    head.next.map_or(0, |n| n.title.len())
}

fn player(parser: &mut NowPlayingParser, body: &[u8]) -> usize {
    for c in body.chunks(CHUNK) {
        parser.feed(c).unwrap();
    }
    let np = parser.finish().unwrap();
    np.title.map_or(0, |t| t.len())
}

/// Nanoseconds per call of `f`, over a batch of `per_batch` calls.
fn batch_ns(per_batch: usize, mut f: impl FnMut() -> usize) -> f64 {
    let start = Instant::now();
    for _ in 0..per_batch {
        black_box(f());
    }
    start.elapsed().as_nanos() as f64 / per_batch as f64
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// One body to time: its name, its bytes, and parses per batch.
struct Case {
    name: &'static str,
    body: Vec<u8>,
    per_batch: usize,
    which: Which,
}

#[derive(Clone, Copy)]
enum Which {
    Queue,
    Player,
}

fn main() {
    let compact = queue_support::realistic_queue();
    let pretty = queue_support::pretty(&compact);
    let player_item = queue_support::track(100, "Now Playing Song", &["Radiohead", "A Guest"]);
    let player_compact = queue_support::player_body(&player_item);
    let player_pretty = queue_support::pretty(&player_compact);

    let mut queue_parser = Box::new(QueueParser::new());
    let mut player_parser = Box::new(NowPlayingParser::new());

    // Both parsers find what they should before anything is timed.
    for body in [&compact, &pretty] {
        for c in body.as_bytes().chunks(CHUNK) {
            queue_parser.feed(c).unwrap();
        }
        let head: QueueHead = queue_parser.finish().unwrap();
        let next = head.next.unwrap();
        assert_eq!(next.title.as_str(), queue_support::ESCAPED_NAME.1);
        assert_eq!(next.by.as_str(), queue_support::ESCAPED_ARTIST.1);
        assert_eq!(
            head.current_id.as_deref(),
            Some(queue_support::track_id(queue_support::CURRENT).as_str())
        );
    }
    for body in [&player_compact, &player_pretty] {
        player_parser.feed(body.as_bytes()).unwrap();
        let np: NowPlaying = player_parser.finish().unwrap();
        assert_eq!(np.title.as_deref(), Some("Now Playing Song"));
        assert_eq!(np.artists.len(), 2);
        assert!(np.device.is_some() && np.id.is_some());
    }

    let cases = [
        Case {
            name: "queue, 20 items (as sent)",
            body: pretty.into_bytes(),
            per_batch: 40,
            which: Which::Queue,
        },
        Case {
            name: "queue, 20 items (compact)",
            body: compact.into_bytes(),
            per_batch: 40,
            which: Which::Queue,
        },
        Case {
            name: "player, 1 item (as sent)",
            body: player_pretty.into_bytes(),
            per_batch: 800,
            which: Which::Player,
        },
        Case {
            name: "player, 1 item (compact)",
            body: player_compact.into_bytes(),
            per_batch: 800,
            which: Which::Player,
        },
    ];

    // The cases take turns within each round, so that load from elsewhere hits all alike.
    const RUNS: usize = 41;
    let mut times: Vec<Vec<f64>> = vec![Vec::with_capacity(RUNS); cases.len()];
    for _ in 0..RUNS {
        for (case, t) in cases.iter().zip(times.iter_mut()) {
            let body = case.body.as_slice();
            let ns = match case.which {
                Which::Queue => {
                    batch_ns(case.per_batch, || queue(&mut queue_parser, black_box(body)))
                }
                Which::Player => batch_ns(case.per_batch, || {
                    player(&mut player_parser, black_box(body))
                }),
            };
            t.push(ns);
        }
    }

    println!(
        "tonearm-core queue benchmark ({CHUNK}-byte chunks; median of {RUNS} runs; MB = 10^6 B)"
    );
    println!(
        "{:<28} {:>9} {:>12} {:>10} {:>8} {:>9}",
        "body", "bytes", "ns/parse", "(fastest)", "MB/s", "ns/KB"
    );
    for (case, t) in cases.iter().zip(times) {
        let fastest = t.iter().copied().fold(f64::INFINITY, f64::min);
        let ns = median(t);
        let bytes = case.body.len() as f64;
        println!(
            "{:<28} {:>9} {:>12.0} {:>10.0} {:>8.0} {:>9.1}",
            case.name,
            case.body.len(),
            ns,
            fastest,
            bytes / ns * 1e3,
            ns / bytes * 1e3
        );
    }
    println!(
        "state sizes (no heap): QueueParser {} B (output QueueHead {} B), \
         NowPlayingParser {} B (output NowPlaying {} B), tokenizer {} B",
        size_of::<QueueParser>(),
        size_of::<QueueHead>(),
        size_of::<NowPlayingParser>(),
        size_of::<NowPlaying>(),
        size_of::<tonearm_core::json::Tokenizer>(),
    );
}
