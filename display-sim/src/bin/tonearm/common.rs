//! What several commands share: the argument groups of `run`/`demo` and of
//! `login`/`provision`, and the choice between a window and no window.

use std::path::PathBuf;
use std::time::Duration;

use embedded_graphics::pixelcolor::Rgb888;
use tonearm_firmware::{App, Palette, Profile, Source};
use tonearm_sim::config::DisplaySetting;
use tonearm_sim::shell::{Clock, Headless, LoopOptions, Network, TokenSink, run_loop};

/// The display and output options `run` and `demo` share.
#[derive(Debug, Clone, Default, PartialEq, clap::Args)]
pub struct ViewArgs {
    /// The display profile (default: `run`: the config's `display`; else in full screen
    /// `auto`, in a window 320x240); `auto`: the largest that fits the screen.
    #[arg(long, value_name = "320x240|240x240|128x64|480x320|800x480|auto")]
    pub display: Option<String>,
    /// Fill the screen: the display at the largest whole scale that fits, centred on
    /// black, no mouse cursor. Ctrl+Q quits (Esc and Q do not: a stray key must not close
    /// a desk display). Config: `fullscreen = true`.
    #[arg(long, conflicts_with_all = ["headless", "scale"])]
    pub fullscreen: bool,
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

    /// Runs `app` until the window closes, Ctrl-C or `--duration` (`opts`, from
    /// [`ViewArgs::loop_options`]): in a window titled `title`, or headless.
    pub fn show<C, S, N, T>(
        &self,
        app: &mut App<C, S>,
        (net, tokens): (&mut N, &mut T),
        clock: Clock,
        opts: &LoopOptions,
        title: &str,
    ) -> anyhow::Result<()>
    where
        C: Palette + Into<Rgb888> + From<Rgb888>,
        S: Source,
        N: Network,
        T: TokenSink,
    {
        if self.headless {
            return Ok(run_loop(app, net, &mut Headless, tokens, clock, opts)?);
        }
        #[cfg(feature = "window")]
        if self.fullscreen {
            let mut screen = tonearm_sim::fullscreen::FullscreenOutput::new(app.profile(), title)?;
            return Ok(run_loop(app, net, &mut screen, tokens, clock, opts)?);
        }
        #[cfg(feature = "window")]
        {
            let profile = app.profile();
            let scale = self.window_scale(profile)?;
            let mut window = tonearm_sim::window::WindowOutput::new(profile, scale, title)?;
            Ok(run_loop(app, net, &mut window, tokens, clock, opts)?)
        }
        #[cfg(not(feature = "window"))]
        {
            let _ = title;
            anyhow::bail!("this build has no window (the `window` feature is off): use --headless")
        }
    }

    /// The window scale asked for, or the comfortable default for `profile`.
    #[cfg(feature = "window")]
    fn window_scale(&self, profile: Profile) -> anyhow::Result<u32> {
        let scale = self
            .scale
            .unwrap_or_else(|| tonearm_sim::window::default_scale(profile));
        if !(1..=16).contains(&scale) {
            anyhow::bail!("invalid --scale {scale}: use 1 to 16");
        }
        Ok(scale)
    }
}

/// The display profile named `name` (`--display`).
pub fn profile_of(name: &str) -> anyhow::Result<Profile> {
    tonearm_sim::render::parse_profile(name).map_err(anyhow::Error::msg)
}

impl ViewArgs {
    /// The profile `--display` names, else the config's `setting`, else (nothing said)
    /// in full screen the largest that fits and 320x240 in a window. `auto`: the largest
    /// that fits the screen (without a screen, 320x240).
    pub fn profile(&self, setting: Option<DisplaySetting>) -> anyhow::Result<Profile> {
        let auto = || {
            if self.headless {
                Ok(Profile::Landscape320x240)
            } else {
                auto_profile()
            }
        };
        match (self.display.as_deref(), setting) {
            (Some("auto"), _) | (None, Some(DisplaySetting::Auto)) => auto(),
            (Some(name), _) => profile_of(name),
            (None, Some(DisplaySetting::Profile(p))) => Ok(p),
            (None, None) if self.fullscreen => auto(),
            (None, None) => Ok(Profile::Landscape320x240),
        }
    }
}

#[cfg(feature = "window")]
fn auto_profile() -> anyhow::Result<Profile> {
    let screen = tonearm_sim::fullscreen::screen_size()?;
    Ok(tonearm_sim::fullscreen::largest_fitting(screen))
}

#[cfg(not(feature = "window"))]
fn auto_profile() -> anyhow::Result<Profile> {
    anyhow::bail!("--display auto needs the screen's size, and this build has no window")
}

/// How long a login waits for the browser by default.
const DEFAULT_LOGIN_TIMEOUT_S: f64 = 300.0;

/// Arguments of `tonearm login` (and the login part of `tonearm provision`).
#[derive(Debug, Clone, clap::Args)]
pub struct LoginArgs {
    /// The loopback port of the redirect URI `http://127.0.0.1:PORT/callback` (register
    /// exactly this URI in your Spotify app).
    #[arg(long, default_value_t = 8888)]
    pub port: u16,
    /// Your Spotify app's client id (default: the config's or SPOTIFY_CLIENT_ID; login
    /// saves it to the config).
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,
    /// Print the authorize URL instead of opening a browser.
    #[arg(long)]
    pub no_browser: bool,
    /// How long to wait for the browser, in seconds (for tests).
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_LOGIN_TIMEOUT_S, hide = true)]
    pub timeout: f64,
}

/// A `--timeout` in seconds, checked (at most a day).
pub fn timeout_of(secs: f64) -> anyhow::Result<Duration> {
    if !(secs.is_finite() && secs > 0.0) {
        anyhow::bail!("invalid --timeout {secs}: use a number of seconds");
    }
    Ok(Duration::from_secs_f64(secs.min(86_400.0)))
}
