//! `tonearm demo`: the scripted listening session (see [`tonearm_sim::demo`]).

use embedded_graphics::pixelcolor::{BinaryColor, Rgb565, Rgb888};
use tonearm_firmware::{App, Palette, Profile};
use tonearm_sim::demo::{self as script, DemoSource};
use tonearm_sim::shell::{Clock, Discard, LoopOptions};

use crate::common::ViewArgs;

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
    let profile = args.view.profile(None)?;
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
    let (source, mut net) = script::demo(seed);
    let mut app: App<C, DemoSource> = App::new(profile, source);
    // In real time the demo knows the time of day (the idle screen's clock, "Back at");
    // sped up it does not.
    let clock = Clock::new(args.speed).with_time_of_day();
    args.view.show(
        &mut app,
        (&mut net, &mut Discard),
        clock,
        opts,
        "Tonearm demo",
    )
}
