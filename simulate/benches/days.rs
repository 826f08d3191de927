//! The shipped days (`docs/days/*.json`) under today's schedule (no budget) and under
//! daily budgets of 1000, 700 and 500 requests: requests, the busiest 30 s, how long
//! changes took to reach the screen, what was missed, and the wall time a simulated day
//! takes. Then the goals for the ordinary day, met or not.
//!
//! Run: `cargo bench -p tonearm-simulate` (prints figures; asserts nothing);
//! `TONEARM_BENCH=extras cargo bench -p tonearm-simulate`: only what the heart and up next
//! cost on the ordinary day.
#![allow(missing_docs)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use tonearm_simulate::stats::Latencies;
use tonearm_simulate::{Day, Summary, simulate};

const BUDGETS: [u32; 4] = [0, 1000, 700, 500];
/// Runs per figure for the wall time (the median is printed).
const RUNS: usize = 7;

fn days_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/days")
}

fn secs(v: Option<u64>) -> String {
    v.map_or_else(|| "-".to_owned(), |ms| format!("{:.1}", ms as f64 / 1000.0))
}

fn pair(l: &Latencies) -> String {
    format!("{}/{}", secs(l.p50_ms), secs(l.p95_ms))
}

fn run(day: &Day, budget: u32) -> (Summary, Duration) {
    let mut sched = day.sched();
    sched.daily_requests = budget;
    let mut times = Vec::with_capacity(RUNS);
    let mut summary = None;
    for _ in 0..RUNS {
        let t = Instant::now();
        let report = simulate(std::slice::from_ref(day), &sched, false);
        times.push(t.elapsed());
        summary = Some(report.summary);
    }
    times.sort_unstable();
    (summary.expect("RUNS > 0"), times[RUNS / 2])
}

fn check(results: &mut Vec<String>, ok: bool, what: String) {
    results.push(format!("  [{}] {what}", if ok { "met" } else { "MISSED" }));
}

fn main() {
    // `TONEARM_BENCH=extras`: only the heart and up next on the ordinary day.
    if std::env::var("TONEARM_BENCH").is_ok_and(|v| v == "extras") {
        extras(&days_dir().join("ordinary.json"));
        return;
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(days_dir())
        .expect("docs/days")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    println!(
        "tonearm-simulate: the shipped days, today's schedule (budget 0) beside daily budgets; \
         latencies p50/p95 in s (nearest rank), wall time: median of {RUNS} runs per simulated day"
    );
    println!(
        "{:<10} {:>6} {:>8} {:>5} {:>11} {:>11} {:>13} {:>6} {:>6} {:>5} {:>8}",
        "day",
        "budget",
        "requests",
        "max30",
        "natural",
        "outside",
        "start",
        "missed",
        "supers",
        "excl",
        "wall ms"
    );
    let mut goals = Vec::new();
    for path in &files {
        let name = path.file_stem().unwrap_or_default().to_string_lossy();
        let day = Day::load(path).unwrap_or_else(|e| panic!("{e}"));
        for budget in BUDGETS {
            let (s, wall) = run(&day, budget);
            println!(
                "{:<10} {:>6} {:>8} {:>5} {:>11} {:>11} {:>13} {:>6} {:>6} {:>5} {:>8.1}",
                name,
                budget,
                s.requests,
                s.max_in_30s,
                pair(&s.natural),
                pair(&s.outside),
                pair(&s.start),
                s.missed,
                s.superseded,
                s.excluded,
                wall.as_secs_f64() * 1000.0
            );
            if name == "ordinary" {
                ordinary_goals(&mut goals, budget, &s);
            }
        }
    }
    println!("goals on the ordinary day (the heart and up next on, as by default):");
    for g in goals {
        println!("{g}");
    }
    extras(&days_dir().join("ordinary.json"));
}

/// What the heart (`like`) and up next (`up_next`) cost on the ordinary day: each off and
/// on, at each budget, and per track change.
fn extras(path: &std::path::Path) {
    let day = Day::load(path).unwrap_or_else(|e| panic!("{e}"));
    println!(
        "the heart and up next on the ordinary day: requests (library, queue), per track change, latencies p50/p95 in s"
    );
    println!(
        "{:>6} {:<14} {:>8} {:>8} {:>6} {:>9} {:>11} {:>11} {:>6}",
        "budget",
        "extras",
        "requests",
        "library",
        "queue",
        "per change",
        "natural",
        "outside",
        "missed"
    );
    for budget in BUDGETS {
        let mut base = None;
        for (label, like, up_next) in [
            ("off", false, false),
            ("like", true, false),
            ("up_next", false, true),
            ("both", true, true),
        ] {
            let mut sched = day.sched();
            sched.daily_requests = budget;
            sched.like = like;
            sched.up_next = up_next;
            let s = simulate(std::slice::from_ref(&day), &sched, false).summary;
            let changes = s.natural.n + s.outside.n + s.start.n;
            let extra = match base {
                None => {
                    base = Some(s.requests);
                    0.0
                }
                Some(b) => (s.requests as f64 - b as f64) / changes.max(1) as f64,
            };
            println!(
                "{:>6} {:<14} {:>8} {:>8} {:>6} {:>+9.2} {:>11} {:>11} {:>6}",
                budget,
                label,
                s.requests,
                s.library,
                s.queue,
                extra,
                pair(&s.natural),
                pair(&s.outside),
                s.missed
            );
        }
    }
}

fn ordinary_goals(goals: &mut Vec<String>, budget: u32, s: &Summary) {
    let le = |v: Option<u64>, max: u64| v.is_some_and(|v| v <= max);
    let lt = |v: Option<u64>, max: u64| v.is_some_and(|v| v < max);
    match budget {
        1000 => {
            check(
                goals,
                s.requests <= 1000,
                format!("1000: at most 1000 requests ({})", s.requests),
            );
            check(
                goals,
                lt(s.natural.p95_ms, 1000),
                format!("1000: natural p95 under 1 s ({} s)", secs(s.natural.p95_ms)),
            );
            check(
                goals,
                le(s.outside.p50_ms, 15_000),
                format!("1000: outside p50 <= 15 s ({} s)", secs(s.outside.p50_ms)),
            );
            check(
                goals,
                le(s.outside.p95_ms, 40_000),
                format!("1000: outside p95 <= 40 s ({} s)", secs(s.outside.p95_ms)),
            );
            check(
                goals,
                le(s.start.p50_ms, 180_000),
                format!(
                    "1000: start p50 <= 3 min ({} s, n = {})",
                    secs(s.start.p50_ms),
                    s.start.n
                ),
            );
            check(
                goals,
                s.missed == 0,
                format!("1000: nothing missed ({} missed)", s.missed),
            );
        }
        500 => {
            check(
                goals,
                lt(s.natural.p95_ms, 1500),
                format!(
                    "500: natural p95 under 1.5 s ({} s)",
                    secs(s.natural.p95_ms)
                ),
            );
            check(
                goals,
                le(s.outside.p50_ms, 60_000),
                format!("500: outside p50 <= 1 min ({} s)", secs(s.outside.p50_ms)),
            );
        }
        _ => {}
    }
}
