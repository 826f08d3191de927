//! `tonearm simulate DAY.json`: the real session and app living through a scripted day
//! against a simulated Spotify, on a simulated clock (see [`tonearm_simulate`] and
//! `docs/days/README.md`). Reads only the scheduling keys of a config file given with
//! `--config`; needs no account and never touches `token.json` or `quota.json`.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use tonearm_simulate::{Day, simulate};

/// Arguments of `tonearm simulate`.
#[derive(Debug, Clone, PartialEq, clap::Args)]
pub struct SimulateArgs {
    /// The day to live through (see docs/days/README.md).
    #[arg(value_name = "DAY.json")]
    pub day: PathBuf,
    /// Print the event lines (one JSON object per change of what the display shows)
    /// before the summary.
    #[arg(long)]
    pub events: bool,
}

/// Runs `tonearm simulate`: the event lines (with `--events`), then the summary line.
pub fn run(args: &SimulateArgs, config: Option<&Path>) -> anyhow::Result<()> {
    let day = Day::load(&args.day)?;
    let mut sched = day.sched();
    if let Some(path) = config {
        sched.apply_file(path)?;
    }
    let report = simulate(std::slice::from_ref(&day), &sched, args.events);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let written = report
        .event_lines
        .iter()
        .try_for_each(|line| writeln!(out, "{line}"))
        .and_then(|()| writeln!(out, "{}", report.summary.to_json()))
        .and_then(|()| out.flush());
    match written {
        // Whoever read the lines has gone (`tonearm simulate ... | head`): stop quietly.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot write the simulation's output"),
    }
}
