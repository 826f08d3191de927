//! `tonearm run` (and `tonearm` alone): the account's playback, live.

use std::path::Path;
use std::time::Duration;

use embedded_graphics::pixelcolor::{BinaryColor, Rgb565, Rgb888};
use tonearm_firmware::{App, Palette, Profile};
use tonearm_sim::config::{Config, ConfigError};
use tonearm_sim::shell::{Clock, LoopOptions};

use crate::common::ViewArgs;

/// Arguments of `tonearm run`.
#[derive(Debug, Clone, PartialEq, clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub view: ViewArgs,
    /// Give up on a request after this many seconds (connecting: at most 10).
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_TIMEOUT_S)]
    pub timeout: f64,
    /// Show what a hub publishes instead of polling Spotify: mqtt://HOST[:PORT]/ID (the
    /// hub's --id; none: tonearm). Needs no Spotify login. Config: `hub`.
    #[arg(long, value_name = "URL")]
    pub hub: Option<String>,
}

/// The default of `--timeout`.
const DEFAULT_TIMEOUT_S: f64 = 20.0;

impl Default for RunArgs {
    /// The values clap gives when no option is passed.
    fn default() -> Self {
        RunArgs {
            view: ViewArgs::default(),
            timeout: DEFAULT_TIMEOUT_S,
            hub: None,
        }
    }
}

/// How `run` ended.
pub enum Ran {
    /// The display ran and stopped.
    Done,
    /// Nothing is set up at all (no config file, no client id): the caller shows the demo.
    NoAccount,
}

/// Runs `tonearm run`.
pub fn run(args: &RunArgs, config_path: Option<&Path>) -> anyhow::Result<Ran> {
    if args.hub.is_some() {
        crate::hub::display(&args.view, args.hub.as_deref(), config_path)?;
        return Ok(Ran::Done);
    }
    // A config that names a hub: this display is fed by it (it needs no client id).
    if let Ok(c) = Config::load_for_hub_display(config_path)
        && c.hub.is_some()
    {
        crate::hub::display(&args.view, None, config_path)?;
        return Ok(Ran::Done);
    }
    let config = match Config::load(config_path) {
        Ok(config) => config,
        Err(ConfigError::MissingClientId { path }) if config_path.is_none() && !path.exists() => {
            return Ok(Ran::NoAccount);
        }
        Err(e) => return Err(e.into()),
    };
    let mut view = args.view.clone();
    view.fullscreen |= config.fullscreen && !view.headless;
    let profile = view.profile(config.display_setting)?;
    if !(args.timeout.is_finite() && args.timeout > 0.0) {
        anyhow::bail!(
            "invalid --timeout {}: use a number of seconds",
            args.timeout
        );
    }
    let opts = args.view.loop_options()?;
    match profile {
        Profile::Mono128x64 => live::<BinaryColor>(profile, args, &config, &opts)?,
        _ => live::<Rgb565>(profile, args, &config, &opts)?,
    }
    Ok(Ran::Done)
}

fn live<C>(
    profile: Profile,
    args: &RunArgs,
    config: &Config,
    opts: &LoopOptions,
) -> anyhow::Result<()>
where
    C: Palette + Into<Rgb888> + From<Rgb888>,
{
    let timeout = Duration::from_secs_f64(args.timeout);
    let token = config.token_path();
    let _lock = tonearm_sim::lock::PollLock::acquire(token.parent().unwrap_or(Path::new(".")))?;
    let mut live = tonearm_sim::live::start(config, timeout)?;
    let mut app: App<C, _> = App::new(profile, live.session);
    let clock = Clock::new(1).with_time_of_day();
    let mut view = args.view.clone();
    view.fullscreen |= config.fullscreen && !view.headless;
    view.show(
        &mut app,
        (&mut live.net, &mut live.sink),
        clock,
        opts,
        "Tonearm",
    )
}
