//! Parse cost of our streaming parser against `serde_json` into typed structs with owned
//! `String`s, measured in the same run, plus heap allocations and state sizes.
//!
//! Run: `cargo bench -p tonearm-core --bench parse` (not run in CI: it prints figures, it
//! asserts nothing). Times are medians over many runs; the machines are shared and noisy,
//! so read the ratios.
#![allow(unsafe_code, missing_docs)] // The counting allocator below needs `unsafe`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use serde::Deserialize;
use tonearm_core::NowPlayingParser;

struct Counting;
static ALLOCS: AtomicUsize = AtomicUsize::new(0);
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
}
#[global_allocator]
static GLOBAL: Counting = Counting;

// serde_json's side: the same fields, typed, with owned strings.
#[derive(Deserialize)]
#[allow(dead_code)]
struct Body {
    timestamp: Option<u64>,
    progress_ms: Option<u64>,
    #[serde(default)]
    is_playing: bool,
    currently_playing_type: Option<String>,
    item: Option<Item>,
    context: Option<Context>,
    actions: Option<Actions>,
    device: Option<Device>,
    shuffle_state: Option<bool>,
    repeat_state: Option<String>,
}
#[derive(Deserialize)]
#[allow(dead_code)]
struct Item {
    #[serde(rename = "type")]
    kind: Option<String>,
    name: Option<String>,
    duration_ms: Option<u64>,
    #[serde(default)]
    is_local: bool,
    #[serde(default)]
    artists: Vec<Artist>,
    album: Option<Album>,
    #[serde(default)]
    images: Vec<Image>,
    show: Option<Show>,
}
#[derive(Deserialize)]
#[allow(dead_code)]
struct Artist {
    name: Option<String>,
}
#[derive(Deserialize)]
#[allow(dead_code)]
struct Album {
    name: Option<String>,
    #[serde(default)]
    images: Vec<Image>,
}
#[derive(Deserialize)]
#[allow(dead_code)]
struct Show {
    name: Option<String>,
    publisher: Option<String>,
    #[serde(default)]
    images: Vec<Image>,
}
#[derive(Deserialize)]
#[allow(dead_code)]
struct Image {
    url: Option<String>,
    width: Option<u32>,
    height: Option<u32>,
}
#[derive(Deserialize)]
#[allow(dead_code)]
struct Context {
    #[serde(rename = "type")]
    kind: Option<String>,
}
#[derive(Deserialize)]
#[allow(dead_code)]
struct Actions {
    disallows: Option<Disallows>,
}
#[derive(Deserialize)]
#[allow(dead_code)]
struct Disallows {
    pausing: Option<bool>,
    resuming: Option<bool>,
    skipping_next: Option<bool>,
    skipping_prev: Option<bool>,
    seeking: Option<bool>,
}
#[derive(Deserialize)]
#[allow(dead_code)]
struct Device {
    name: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    volume_percent: Option<u8>,
}

thread_local! {
    /// One parser for the device's whole life, as a board keeps it.
    static PARSER: std::cell::RefCell<NowPlayingParser> = std::cell::RefCell::new(NowPlayingParser::new());
}

fn ours(body: &[u8]) -> usize {
    PARSER.with_borrow_mut(|p| {
        // 512-byte chunks, as a board's receive buffer would deliver them.
        for c in body.chunks(512) {
            p.feed(c).unwrap();
        }
        let np = p.finish().unwrap();
        np.title.map_or(0, |t| t.len())
    })
}

fn theirs(body: &[u8]) -> usize {
    let b: Body = serde_json::from_slice(body).unwrap();
    b.item.and_then(|i| i.name).map_or(0, |t| t.len())
}

fn batch_ns(body: &[u8], f: fn(&[u8]) -> usize, per_batch: usize) -> f64 {
    let start = Instant::now();
    for _ in 0..per_batch {
        black_box(f(black_box(body)));
    }
    start.elapsed().as_nanos() as f64 / per_batch as f64
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Median ns per call of ours and of serde_json, and the median of the per-round ratios.
/// The two are timed in alternating batches so that load from elsewhere hits both alike.
fn measure(body: &[u8], runs: usize, per_batch: usize) -> (f64, f64, f64) {
    let (mut a, mut b, mut r) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        let x = batch_ns(body, ours, per_batch);
        let y = batch_ns(body, theirs, per_batch);
        a.push(x);
        b.push(y);
        r.push(x / y);
    }
    (median(a), median(b), median(r))
}

fn allocations(body: &[u8], f: fn(&[u8]) -> usize) -> usize {
    let before = ALLOCS.load(Ordering::Relaxed);
    black_box(f(body));
    ALLOCS.load(Ordering::Relaxed) - before
}

/// `BENCH_COUNT=<ours|serde_json>:<body>:<n>` parses one body `n` times and prints
/// nothing else: `scripts/bench-instructions.sh` runs that under callgrind to count
/// instructions, which, unlike time, do not depend on what else the machine is doing.
fn count_mode(spec: &str, bodies: &[(&str, &Vec<u8>)]) {
    let mut parts = spec.split(':');
    let (Some(who), Some(which), Some(n)) = (parts.next(), parts.next(), parts.next()) else {
        panic!("BENCH_COUNT=<ours|serde_json>:<body>:<n>");
    };
    let n: usize = n.parse().unwrap();
    let body = bodies
        .iter()
        .find(|(name, _)| name.starts_with(which))
        .unwrap()
        .1;
    let f: fn(&[u8]) -> usize = if who == "ours" { ours } else { theirs };
    for _ in 0..n {
        black_box(f(black_box(body)));
    }
}

fn main() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/");
    let seed = std::fs::read(format!("{dir}seed_track.json")).unwrap();
    let episode = std::fs::read(format!("{dir}episode_long_escaped.json")).unwrap();
    // A real episode body from the shared corpus (HTML description with escapes), when the
    // build script found the corpus (`build.rs`); without it, that case is skipped.
    let corpus_episode = option_env!("TONEARM_CORPUS").map(|dir| {
        std::fs::read(format!(
            "{dir}/pyspotify_player_episode_html_description.json"
        ))
        .unwrap()
    });
    if corpus_episode.is_none() {
        println!(
            "skipped: episode (corpus, real): no API corpus (../shared/api-corpus beside this \
             checkout, or TONEARM_SHARED=<folder holding api-corpus>)"
        );
    }
    let corpus_episode = corpus_episode.as_ref();
    // A multi-megabyte body: a 2 MB escaped description and 1 MB of market codes.
    let mut big = Vec::from(&b"{\"item\":{\"type\":\"episode\",\"description\":\""[..]);
    while big.len() < 2 << 20 {
        big.extend_from_slice(b"Talk about \\\"things\\\" \\u00e9\\n and more plain text here. ");
    }
    big.extend_from_slice(b"\",\"available_markets\":[");
    while big.len() < 3 << 20 {
        big.extend_from_slice(b"\"AD\", \"AE\", \"AG\", \"AL\", ");
    }
    big.extend_from_slice(b"\"ZW\"],\"name\":\"Big\",\"duration_ms\":1000}}");

    // An episode whose long description has no escapes at all (20 KB of plain text): the
    // case where scanning speed, not escape handling, decides.
    let mut plain = Vec::from(&b"{\"item\":{\"type\":\"episode\",\"description\":\""[..]);
    while plain.len() < 20_000 {
        plain.extend_from_slice(b"In this episode we talk about quotes, slashes and newlines. ");
    }
    plain.extend_from_slice(b"\",\"name\":\"Plain\",\"duration_ms\":1000}}");

    if let Ok(spec) = std::env::var("BENCH_COUNT") {
        let mut bodies = vec![("seed", &seed), ("episode", &episode)];
        bodies.extend(corpus_episode.map(|body| ("real", body)));
        bodies.extend([("multi", &big), ("plain", &plain)]);
        count_mode(&spec, &bodies);
        return;
    }
    println!("tonearm-core parse benchmark (median ns per parse; ratio = ours / serde_json)");
    println!(
        "{:<28} {:>9} {:>13} {:>13} {:>7} {:>10} {:>10}",
        "body", "bytes", "ours ns", "serde_json ns", "ratio", "our allocs", "sj allocs"
    );
    let mut cases = vec![
        ("seed (with markets)", &seed, 41, 200),
        ("episode (dense escapes)", &episode, 41, 100),
    ];
    cases.extend(corpus_episode.map(|body| ("episode (corpus, real)", body, 41, 200)));
    cases.extend([
        ("multi-MB (3 MiB)", &big, 21, 2),
        ("plain description (20 KB)", &plain, 41, 100),
    ]);
    for (name, body, runs, batch) in cases {
        if let Ok(only) = std::env::var("BENCH_ONLY")
            && !name.starts_with(only.as_str())
        {
            continue;
        }
        assert_eq!(
            ours(body),
            theirs(body),
            "both parsers agree on the title length"
        );
        let (a, b, ratio) = measure(body, runs, batch);
        println!(
            "{:<28} {:>9} {:>13.0} {:>13.0} {:>6.2}x {:>10} {:>10}",
            name,
            body.len(),
            a,
            b,
            ratio,
            allocations(body, ours),
            allocations(body, theirs)
        );
    }
    println!(
        "state sizes: NowPlayingParser {} B (tokenizer {} B), NowPlaying {} B, TokenParser {} B",
        size_of::<NowPlayingParser>(),
        size_of::<tonearm_core::json::Tokenizer>(),
        size_of::<tonearm_core::NowPlaying>(),
        size_of::<tonearm_core::TokenParser>()
    );
}
