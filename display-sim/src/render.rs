//! Headless rendering (no SDL, no display needed): a currently-playing body through the
//! core parser, the view model and the firmware's screens into a PNG, and the frame
//! checksum the boards print.

use std::io::Read;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use embedded_graphics::pixelcolor::{BinaryColor, Rgb565, Rgb888};
use embedded_graphics::prelude::*;
use embedded_graphics_simulator::{OutputSettingsBuilder, SimulatorDisplay};
use tonearm_core::{JsonError, NowPlaying, NowPlayingParser, position_ms};
use tonearm_firmware::{ChecksumColor, Frame, Palette, Profile, Screen, ViewModel, frame_checksum};

use crate::atomic::{Options, WriteError, write_atomically};

/// Bytes read and fed at a time: memory does not grow with the body.
const CHUNK: usize = 512;

/// Why a body could not be read or parsed. Messages name the input, never its content.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BodyError {
    /// The input could not be read.
    #[error("cannot read {}: {source}", name.display())]
    Read {
        /// The input (`-` for standard input).
        name: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The body is not a currently-playing or player body.
    #[error("{}: invalid body: {source}", name.display())]
    Invalid {
        /// The input.
        name: PathBuf,
        /// Where and why parsing stopped.
        source: JsonError,
    },
}

/// Why a PNG could not be made or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    /// The output's directory does not exist.
    #[error("cannot write {}: {} is not a directory", out.display(), dir.display())]
    NoDirectory {
        /// The output.
        out: PathBuf,
        /// Its directory.
        dir: PathBuf,
    },
    /// The output has no file name (`..`, `/`).
    #[error("--out needs a file name")]
    NoFileName,
    /// The PNG encoder failed.
    #[error("cannot encode PNG: {0}")]
    Encode(String),
    /// The frame checksum could not be computed.
    #[error("checksum: {0}")]
    Checksum(String),
    /// The file could not be written.
    #[error(transparent)]
    Write(#[from] WriteError),
}

/// A display profile by name (`320x240`, `240x240`, `128x64`).
pub fn parse_profile(s: &str) -> Result<Profile, String> {
    Profile::from_name(s).ok_or_else(|| {
        format!("unknown display {s:?}: use 320x240, 240x240, 128x64, 480x320 or 800x480")
    })
}

/// A screen by name (`now_playing`, `paused`, ...).
pub fn parse_screen(s: &str) -> Result<Screen, String> {
    Screen::from_name(s).ok_or_else(|| {
        let names: Vec<&str> = Screen::ALL.iter().map(|s| s.name()).collect();
        format!("unknown screen {s:?}: use one of {}", names.join(", "))
    })
}

/// Reads `reader` in small chunks straight into the core parser. `Ok(None)` for an empty
/// (or all-whitespace) body: Spotify's 204, nothing playing. `name` is for the messages.
pub fn read_now_playing(
    mut reader: impl Read,
    name: &Path,
) -> Result<Option<NowPlaying>, BodyError> {
    let invalid = |source| BodyError::Invalid {
        name: name.to_path_buf(),
        source,
    };
    let mut parser = NowPlayingParser::new();
    let mut buf = [0u8; CHUNK];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(source) => {
                return Err(BodyError::Read {
                    name: name.to_path_buf(),
                    source,
                });
            }
        };
        parser
            .feed(buf.get(..n).unwrap_or_default())
            .map_err(invalid)?;
    }
    if parser.is_blank() {
        return Ok(None);
    }
    parser.finish().map(Some).map_err(invalid)
}

/// The view model for a body (`None`: nothing playing), `elapsed_ms` after it arrived,
/// on `screen` when one is forced.
pub fn view_model(np: Option<&NowPlaying>, elapsed_ms: u64, screen: Option<Screen>) -> ViewModel {
    let vm = match np {
        Some(np) => ViewModel::from_now_playing(np, position_ms(np, 0, elapsed_ms)),
        None => ViewModel::new(Screen::Idle),
    };
    match screen {
        Some(s) => vm.with_screen(s),
        None => vm,
    }
}

/// A rendered frame: the PNG's bytes and the frame checksum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The PNG, each display pixel scaled to `scale` x `scale`.
    pub png: Vec<u8>,
    /// FNV-1a 32 over the display's pixels, as the boards print it.
    pub checksum: u32,
}

/// Draws `vm` on `profile` and encodes it as a PNG at `scale`.
pub fn render(vm: &ViewModel, profile: Profile, scale: u32) -> Result<Rendered, RenderError> {
    match profile {
        Profile::Mono128x64 => render_in::<BinaryColor>(vm, profile, scale),
        _ => render_in::<Rgb565>(vm, profile, scale),
    }
}

fn render_in<C>(vm: &ViewModel, profile: Profile, scale: u32) -> Result<Rendered, RenderError>
where
    C: Palette + ChecksumColor + Into<Rgb888>,
{
    let frame = Frame::<C>::new(vm, profile);
    let mut display = SimulatorDisplay::with_default_color(profile.size(), C::default());
    if let Err(never) = frame.draw(&mut display) {
        match never {}
    }
    let mut band = vec![C::default(); profile.size().width as usize * 16];
    let checksum =
        frame_checksum(&frame, &mut band).map_err(|e| RenderError::Checksum(e.to_string()))?;
    Ok(Rendered {
        png: png_of(&display, scale)?,
        checksum,
    })
}

/// `display` as PNG bytes, each pixel scaled to `scale` x `scale`.
pub fn png_of<C>(display: &SimulatorDisplay<C>, scale: u32) -> Result<Vec<u8>, RenderError>
where
    C: PixelColor + Into<Rgb888>,
{
    let settings = OutputSettingsBuilder::new().scale(scale).build();
    let image = display.to_rgb_output_image(&settings);
    // The simulator encodes PNGs into a file or into base64; the latter stays in memory.
    let encoded = image
        .to_base64_png()
        .map_err(|e| RenderError::Encode(e.to_string()))?;
    base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|e| RenderError::Encode(e.to_string()))
}

/// Writes a PNG to `out` atomically (see [`crate::atomic`]); its directory must exist.
pub fn write_png(out: &Path, png: &[u8]) -> Result<(), RenderError> {
    let dir = crate::atomic::dir_of(out);
    if !dir.is_dir() {
        return Err(RenderError::NoDirectory {
            out: out.to_path_buf(),
            dir: dir.to_path_buf(),
        });
    }
    if out.file_name().is_none() {
        return Err(RenderError::NoFileName);
    }
    Ok(write_atomically(out, png, &Options::default())?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_blank_invalid_and_unreadable() {
        let name = Path::new("body.json");
        assert!(matches!(read_now_playing(&b" \n"[..], name), Ok(None)));
        let err = read_now_playing(&b"{\"item\": [}"[..], name).expect_err("invalid");
        assert!(
            err.to_string().starts_with("body.json: invalid body: "),
            "{err}"
        );
        struct Broken;
        impl Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("gone"))
            }
        }
        let err = read_now_playing(Broken, name).expect_err("unreadable");
        assert_eq!(err.to_string(), "cannot read body.json: gone");
    }

    #[test]
    fn a_png_at_each_scale_and_a_stable_checksum() {
        let vm = view_model(None, 0, Some(Screen::Offline));
        let one = render(&vm, Profile::Mono128x64, 1).expect("render");
        let two = render(&vm, Profile::Mono128x64, 2).expect("render");
        assert!(one.png.starts_with(b"\x89PNG\r\n\x1a\n"));
        assert_eq!(one.checksum, two.checksum, "the checksum is the display's");
        assert_ne!(one.png, two.png);
    }

    #[test]
    fn write_png_needs_a_directory_and_a_name() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("nope/out.png");
        let err = write_png(&missing, b"png").expect_err("no dir");
        assert!(
            err.to_string().ends_with("nope is not a directory"),
            "{err}"
        );
        let out = dir.path().join("out.png");
        write_png(&out, b"png").expect("write");
        assert_eq!(std::fs::read(&out).expect("read"), b"png");
    }
}
