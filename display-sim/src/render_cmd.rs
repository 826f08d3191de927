//! `tonearm render`: a screen into a PNG, headlessly (no SDL, no display needed).

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use embedded_graphics::pixelcolor::{BinaryColor, Rgb565, Rgb888};
use embedded_graphics::prelude::*;
use embedded_graphics_simulator::{OutputSettingsBuilder, SimulatorDisplay};
use tonearm_core::position_ms;
use tonearm_firmware::{ChecksumColor, Frame, Palette, Profile, Screen, ViewModel, frame_checksum};

/// Arguments of `tonearm render`.
#[derive(Debug, clap::Args)]
pub struct RenderArgs {
    /// The currently-playing body (an empty file means nothing playing); `-` for stdin.
    pub file: PathBuf,
    /// Where to write the PNG (written atomically; nothing is written on error).
    #[arg(long)]
    pub out: PathBuf,
    /// The display profile.
    #[arg(long, default_value = "320x240", value_name = "320x240|240x240|128x64")]
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
    let profile = parse_profile(&args.display).map_err(anyhow::Error::msg)?;
    let screen = args
        .screen
        .as_deref()
        .map(parse_screen)
        .transpose()
        .map_err(anyhow::Error::msg)?;
    if !(1..=16).contains(&args.scale) {
        bail!("invalid --scale {}: use 1 to 16", args.scale);
    }
    Ok(Options {
        profile,
        screen,
        scale: args.scale,
    })
}

pub(crate) fn parse_profile(s: &str) -> Result<Profile, String> {
    Profile::from_name(s)
        .ok_or_else(|| format!("unknown display {s:?}: use 320x240, 240x240 or 128x64"))
}

fn parse_screen(s: &str) -> Result<Screen, String> {
    Screen::from_name(s).ok_or_else(|| {
        let names: Vec<&str> = Screen::ALL.iter().map(|s| s.name()).collect();
        format!("unknown screen {s:?}: use one of {}", names.join(", "))
    })
}

/// The view model `render` draws for `args`.
fn view_model(args: &RenderArgs, screen: Option<Screen>) -> anyhow::Result<ViewModel> {
    let input = crate::open_input(&args.file)?;
    let np = crate::parse_cmd::parse_reader(input, &args.file)?;
    let vm = match np {
        Some(np) => ViewModel::from_now_playing(&np, position_ms(&np, 0, args.elapsed_ms)),
        None => ViewModel::new(Screen::Idle),
    };
    Ok(match screen {
        Some(s) => vm.with_screen(s),
        None => vm,
    })
}

/// Draws `vm`, returns the PNG bytes' display and the frame checksum.
fn draw<C>(vm: &ViewModel, profile: Profile) -> anyhow::Result<(SimulatorDisplay<C>, u32)>
where
    C: Palette + ChecksumColor + Into<Rgb888>,
{
    let frame = Frame::<C>::new(vm, profile);
    let mut display = SimulatorDisplay::with_default_color(profile.size(), C::default());
    frame.draw(&mut display).map_err(|e| match e {})?;
    let mut band = vec![C::default(); profile.size().width as usize * 16];
    let sum = frame_checksum(&frame, &mut band).map_err(|e| anyhow::anyhow!("checksum: {e}"))?;
    Ok((display, sum))
}

/// Writes `bytes`-producing `save` to `out` atomically: a temporary file beside it,
/// synced, then renamed over it. On any error the temporary file is removed.
pub(crate) fn write_atomically(
    out: &Path,
    save: impl FnOnce(&Path) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.is_dir() {
        bail!(
            "cannot write {}: {} is not a directory",
            out.display(),
            dir.display()
        );
    }
    let name = out.file_name().context("--out needs a file name")?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = save(&tmp)
        .and_then(|()| {
            std::fs::File::open(&tmp)
                .and_then(|f| f.sync_all())
                .with_context(|| format!("cannot sync {}", tmp.display()))
        })
        .and_then(|()| {
            std::fs::rename(&tmp, out).with_context(|| format!("cannot write {}", out.display()))
        });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Runs `tonearm render`.
pub fn run(args: &RenderArgs) -> anyhow::Result<()> {
    let opts = validate(args)?;
    let vm = view_model(args, opts.screen)?;
    let settings = OutputSettingsBuilder::new().scale(opts.scale).build();
    let sum = match opts.profile {
        Profile::Mono128x64 => {
            let (display, sum) = draw::<BinaryColor>(&vm, opts.profile)?;
            let image = display.to_rgb_output_image(&settings);
            write_atomically(&args.out, |p| {
                image.save_png(p).context("cannot encode PNG")
            })?;
            sum
        }
        profile => {
            let (display, sum) = draw::<Rgb565>(&vm, profile)?;
            let image = display.to_rgb_output_image(&settings);
            write_atomically(&args.out, |p| {
                image.save_png(p).context("cannot encode PNG")
            })?;
            sum
        }
    };
    if args.checksum {
        println!("{sum:08x}");
    }
    Ok(())
}
