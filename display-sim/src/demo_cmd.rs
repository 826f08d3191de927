//! `tonearm demo`: the scripted listening session (see [`crate::demo`]).

use std::path::PathBuf;
use std::time::Duration;

use embedded_graphics::pixelcolor::{BinaryColor, Rgb565, Rgb888};
use tonearm_core::session::Session;
use tonearm_firmware::{App, Palette, Profile};

use crate::demo::{DemoNetwork, demo_credentials, demo_timing};
use crate::shell::{Clock, Discard, Headless, LoopOptions, run_loop};

/// The display and output options `run` and `demo` share.
#[derive(Debug, Clone, Default, PartialEq, clap::Args)]
pub struct ViewArgs {
    /// The display profile (default: `run`: the config's `display`; else 320x240).
    #[arg(long, value_name = "320x240|240x240|128x64")]
    pub display: Option<String>,
    /// Window scale: each display pixel becomes K x K screen pixels (default: 2, or 5 for
    /// 128x64).
    #[arg(long, value_name = "K")]
    pub scale: Option<u32>,
    /// No window: the same loop, for tests and servers.
    #[arg(long)]
    pub headless: bool,
    /// Print one JSON line whenever what the display shows changes (docs/events.md).
    #[arg(long)]
    pub events: bool,
    /// Write the screen as PNG whenever it changes (atomically).
    #[arg(long, value_name = "PNG")]
    pub snapshot: Option<PathBuf>,
    /// Exit 0 after this many seconds (real time), even while a request hangs.
    #[arg(long, value_name = "SECS")]
    pub duration: Option<f64>,
}

impl ViewArgs {
    /// The loop options these arguments ask for (validated).
    pub fn loop_options(&self) -> anyhow::Result<LoopOptions> {
        let duration = match self.duration {
            Some(s) if s.is_finite() && s >= 0.0 => Some(Duration::from_secs_f64(s)),
            Some(s) => anyhow::bail!("invalid --duration {s}: use a number of seconds"),
            None => None,
        };
        Ok(LoopOptions {
            events: self.events,
            snapshot: self.snapshot.clone(),
            duration,
        })
    }

    /// The window scale asked for, or the comfortable default for `profile`.
    #[cfg(feature = "window")]
    pub fn window_scale(&self, profile: Profile) -> anyhow::Result<u32> {
        let scale = self
            .scale
            .unwrap_or_else(|| crate::window::default_scale(profile));
        if !(1..=16).contains(&scale) {
            anyhow::bail!("invalid --scale {scale}: use 1 to 16");
        }
        Ok(scale)
    }
}

/// Arguments of `tonearm demo`.
#[derive(Debug, Clone, clap::Args)]
pub struct DemoArgs {
    /// Run the script K times faster than real time (1 to 100).
    #[arg(long, value_name = "K", default_value_t = 1)]
    pub speed: u32,
    #[command(flatten)]
    pub view: ViewArgs,
}

/// Runs `tonearm demo`.
pub fn run(args: &DemoArgs) -> anyhow::Result<()> {
    let display = args.view.display.as_deref().unwrap_or("320x240");
    let profile = crate::render_cmd::parse_profile(display).map_err(anyhow::Error::msg)?;
    if !(1..=100).contains(&args.speed) {
        anyhow::bail!("invalid --speed {}: use 1 to 100", args.speed);
    }
    let opts = args.view.loop_options()?;
    match profile {
        Profile::Mono128x64 => demo::<BinaryColor>(profile, args, &opts),
        _ => demo::<Rgb565>(profile, args, &opts),
    }
}

fn demo<C>(profile: Profile, args: &DemoArgs, opts: &LoopOptions) -> anyhow::Result<()>
where
    C: Palette + Into<Rgb888> + From<Rgb888>,
{
    let seed = u64::from(std::process::id());
    let mut app: App<C> = App::new(
        profile,
        Session::new(demo_credentials(), demo_timing(), seed),
    );
    let mut net = DemoNetwork::new(seed);
    if args.view.headless {
        let clock = Clock::new(args.speed);
        return run_loop(&mut app, &mut net, &mut Headless, &mut Discard, clock, opts);
    }
    #[cfg(feature = "window")]
    {
        let scale = args.view.window_scale(profile)?;
        let mut window = crate::window::WindowOutput::new(profile, scale, "Tonearm demo")?;
        let clock = Clock::new(args.speed);
        run_loop(&mut app, &mut net, &mut window, &mut Discard, clock, opts)
    }
    #[cfg(not(feature = "window"))]
    anyhow::bail!("this build has no window (the `window` feature is off): use --headless")
}
