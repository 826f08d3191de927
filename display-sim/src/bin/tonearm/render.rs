//! `tonearm render`: a screen into a PNG, headlessly (no SDL, no display needed).

use std::path::PathBuf;

use tonearm_firmware::{Profile, Screen};
use tonearm_sim::render::{parse_screen, read_now_playing, render, view_model, write_png};

use crate::common::profile_of;

/// Arguments of `tonearm render`.
#[derive(Debug, clap::Args)]
pub struct RenderArgs {
    /// The currently-playing body (an empty file means nothing playing); `-` for stdin.
    pub file: PathBuf,
    /// Where to write the PNG (written atomically; nothing is written on error).
    #[arg(long)]
    pub out: PathBuf,
    /// The display profile.
    #[arg(
        long,
        default_value = "320x240",
        value_name = "320x240|240x240|128x64|480x320|800x480"
    )]
    pub display: String,
    /// Show the position this many ms after the body arrived (while playing).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub elapsed_ms: u64,
    /// Force a screen: now_playing, paused, episode, ad, idle, login_needed, offline,
    /// rate_limited, config_error, connecting, setup_needed, quota_exceeded (with sample
    /// values for what the body lacks: a countdown, a message, a back line).
    #[arg(long, value_name = "NAME")]
    pub screen: Option<String>,
    /// Scale each display pixel to K x K pixels of the PNG (1 to 16).
    #[arg(long, value_name = "K", default_value_t = 1)]
    pub scale: u32,
    /// Also print the frame checksum (FNV-1a 32 over the display's pixels, as the boards
    /// print it) as 8 hex digits.
    #[arg(long)]
    pub checksum: bool,
}

/// `render`'s options, validated in one step (a bad value exits 1, like bad input).
struct Options {
    profile: Profile,
    screen: Option<Screen>,
    scale: u32,
}

fn validate(args: &RenderArgs) -> anyhow::Result<Options> {
    let profile = profile_of(&args.display)?;
    let screen = args
        .screen
        .as_deref()
        .map(parse_screen)
        .transpose()
        .map_err(anyhow::Error::msg)?;
    if !(1..=16).contains(&args.scale) {
        anyhow::bail!("invalid --scale {}: use 1 to 16", args.scale);
    }
    Ok(Options {
        profile,
        screen,
        scale: args.scale,
    })
}

/// Runs `tonearm render`.
pub fn run(args: &RenderArgs) -> anyhow::Result<()> {
    let opts = validate(args)?;
    let input = crate::open_input(&args.file)?;
    let np = read_now_playing(input, &args.file)?;
    let vm = view_model(np.as_ref(), args.elapsed_ms, opts.screen);
    let rendered = render(&vm, opts.profile, opts.scale)?;
    write_png(&args.out, &rendered.png)?;
    if args.checksum {
        println!("{:08x}", rendered.checksum);
    }
    Ok(())
}
