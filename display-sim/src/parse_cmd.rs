//! `tonearm parse`: the core parser on a file, printed as JSON.

use std::path::PathBuf;

/// Arguments of `tonearm parse`.
#[derive(Debug, clap::Args)]
pub struct ParseArgs {
    /// The body to parse; `-` for standard input. An empty file means nothing playing.
    pub file: PathBuf,
    /// Also print the position as the screen would show it this many ms after arrival.
    #[arg(long, value_name = "N")]
    pub elapsed_ms: Option<u64>,
}

/// Runs `tonearm parse`.
pub fn run(_args: &ParseArgs) -> anyhow::Result<()> {
    anyhow::bail!("parse is not implemented yet")
}
