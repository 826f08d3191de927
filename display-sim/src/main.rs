//! `tonearm`: Tonearm on a desktop.
//!
//! Raw command-line input becomes validated options here, in one step; each command lives
//! in its own module and returns `anyhow::Result` (the binary's edge).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod parse_cmd;
mod render_cmd;
#[allow(dead_code)] // Wired to the headless loop later.
mod transport;

/// A Spotify "now playing" desk display.
#[derive(Debug, Parser)]
#[command(name = "tonearm", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Parse a currently-playing or player body and print what the display would use, as JSON.
    Parse(parse_cmd::ParseArgs),
    /// Render the screen for a currently-playing body into a PNG, headlessly (no SDL).
    Render(render_cmd::RenderArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Parse(args) => parse_cmd::run(&args),
        Command::Render(args) => render_cmd::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("tonearm: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Opens `path` for reading, `-` meaning standard input.
pub(crate) fn open_input(path: &PathBuf) -> anyhow::Result<Box<dyn std::io::Read>> {
    use anyhow::Context as _;
    if path.as_os_str() == "-" {
        return Ok(Box::new(std::io::stdin().lock()));
    }
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    Ok(Box::new(file))
}
