//! `tonearm`: Tonearm on a desktop, the thin binary over the `tonearm_sim` library.
//!
//! Raw command-line input becomes validated options here, in one step; each command lives
//! in its own module, calls the library and returns `anyhow::Result` (the binary's edge).
//! Commands do not call each other: what several share is in [`common`], and `run`
//! without an account hands over to `demo` here.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod common;
mod demo;
mod hub;
mod login;
mod parse;
mod provision;
mod render;
mod run;
mod service;
mod simulate;

/// A Spotify "now playing" desk display.
#[derive(Debug, Parser)]
#[command(name = "tonearm", version, about, propagate_version = true)]
struct Cli {
    /// More log output on stderr (-v info, -vv debug); `RUST_LOG` also works. Secrets are
    /// never logged.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    /// The config file (default: ~/.config/tonearm/config.toml); `token.json` sits beside it.
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,
    /// Without a command: `run` (its options work here too: `tonearm --display 128x64`).
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: run::RunArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show the account's playback in a window (the default). Without an account set up,
    /// the demo.
    Run(run::RunArgs),
    /// Log in to Spotify (Authorization Code with PKCE) and store the token.
    Login(common::LoginArgs),
    /// Forget the stored token.
    Logout,
    /// Write the settings partition image for an ESP32-C3 board: Wi-Fi (from
    /// TONEARM_WIFI_SSID / TONEARM_WIFI_PASSWORD, else asked on the terminal, else the first
    /// two lines of standard input) and a Spotify login of the board's own.
    Provision(provision::ProvisionArgs),
    /// Parse a currently-playing or player body and print what the display would use, as JSON.
    Parse(parse::ParseArgs),
    /// Render the screen for a currently-playing body into a PNG, headlessly (no SDL).
    Render(render::RenderArgs),
    /// A scripted listening session that shows every screen (no Spotify account needed).
    Demo(demo::DemoArgs),
    /// Live through a scripted day against a simulated Spotify, on a simulated clock, and
    /// print what was asked and how soon the screen followed (only the scheduling keys
    /// of --config are read; no account needed).
    Simulate(simulate::SimulateArgs),
    /// Poll Spotify once for many displays: publish what plays over MQTT (topics
    /// tonearm/ID/state, cover, availability, command; Home Assistant discovery). Displays
    /// show it with `tonearm run --hub mqtt://HOST/ID`.
    Hub(hub::HubArgs),
    /// Print (or write with --out) a systemd unit that starts the display in full screen
    /// at boot and restarts it after a failure (see the README's "Starting at boot").
    Service(service::ServiceArgs),
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(default))
        // ureq_proto dumps raw requests, Authorization included, at trace: never allow it.
        .filter_module("ureq_proto", log::LevelFilter::Info)
        .filter_module("ureq", log::LevelFilter::Info)
        .format_timestamp_millis()
        .init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    // Ctrl-C (SIGINT) and SIGTERM: the loops end cleanly and exit 0.
    let _ = ctrlc::set_handler(tonearm_sim::interrupt);
    let config = cli.config.as_deref();
    if cli.command.is_some() && cli.run != run::RunArgs::default() {
        eprintln!(
            "tonearm: --display, --scale, --headless, --events, --snapshot, --duration, --timeout and --hub go after the command (tonearm demo --display 128x64), or without one for run"
        );
        return ExitCode::from(2);
    }
    let result = match cli.command.unwrap_or(Command::Run(cli.run)) {
        Command::Run(args) => match run::run(&args, config) {
            // Nothing set up at all: the demo, and how to get out of it.
            Ok(run::Ran::NoAccount) => {
                eprintln!(
                    "tonearm: no Spotify account set up, showing the demo. To see yours: tonearm login --client-id YOUR_APP_ID (see README: Login)"
                );
                demo::run(&demo::DemoArgs {
                    speed: 1,
                    view: args.view,
                })
            }
            Ok(run::Ran::Done) => Ok(()),
            Err(e) => Err(e),
        },
        Command::Login(args) => login::run(&args, config),
        Command::Logout => login::logout(config),
        Command::Provision(args) => provision::run(&args, config),
        Command::Parse(args) => parse::run(&args),
        Command::Render(args) => render::run(&args),
        Command::Demo(args) => demo::run(&args),
        Command::Simulate(args) => simulate::run(&args, config),
        Command::Service(args) => service::run(&args, config),
        Command::Hub(args) => hub::run(&args, config),
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
