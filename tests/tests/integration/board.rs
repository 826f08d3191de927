//! The emulated board draws exactly what the desktop draws.
//!
//! `firmware/boards/qemu-m4` runs the crate `tonearm-qemu-run` (the app's own loop, a
//! simulated clock, a scripted socket) under QEMU and checks each step's checksum against
//! its `expected.rs`. This test runs the same crate on the host (same app, same bodies,
//! same chunks, same band renderer) and checks:
//!
//! - every step's checksum equals `expected.rs` (so the board and the host agree);
//! - the partial redraws, applied to a frame buffer over the last full frame, give the
//!   frame the desktop draws from scratch at that moment (`tonearm render --checksum` for
//!   the same body and elapsed time; in-process for a scrolled title, which `render`
//!   cannot ask for);
//! - the result does not depend on the receive buffer's or the band buffer's size.
//!
//! After a deliberate change to the screens, regenerate the table with
//! `TONEARM_BLESS=1 cargo test -p tonearm-tests --test integration board` and run
//! `scripts/board-qemu.sh`.

use std::cell::RefCell;
use std::convert::Infallible;
use std::path::{Path, PathBuf};

use embedded_graphics::pixelcolor::Rgb565;
use embedded_graphics::prelude::*;
use embedded_graphics::primitives::Rectangle;
use tonearm_core::{NowPlayingParser, position_ms};
use tonearm_firmware::{BandSink, Frame, Screen, ViewModel, checksum_pixels, frame_checksum};
use tonearm_tests::{repo_root, run_tonearm};

use tonearm_qemu_run as script;
use tonearm_qemu_run::{BAND_PIXELS, NoDisplay, PROFILE, RX_BUF, Stats, Step, WIDTH, expected};

/// The display as a frame buffer: what a panel would show after every band.
struct FrameBuffer(Vec<Rgb565>);

impl FrameBuffer {
    fn new() -> Self {
        let size = PROFILE.size();
        FrameBuffer(vec![Rgb565::BLACK; (size.width * size.height) as usize])
    }

    fn checksum(&self) -> u32 {
        checksum_pixels(self.0.iter().copied())
    }
}

impl BandSink<Rgb565> for FrameBuffer {
    type Error = Infallible;

    fn push_band(&mut self, area: Rectangle, pixels: &[Rgb565]) -> Result<(), Infallible> {
        let w = area.size.width as usize;
        assert_eq!(pixels.len(), w * area.size.height as usize);
        for (i, p) in pixels.iter().enumerate() {
            let x = area.top_left.x as usize + i % w;
            let y = area.top_left.y as usize + i / w;
            assert!(x < WIDTH && y < 240, "band {area:?} outside the display");
            self.0[y * WIDTH + x] = *p;
        }
        Ok(())
    }
}

/// A frame buffer the script draws into while the step reports read it.
struct Shared<'a>(&'a RefCell<FrameBuffer>);

impl BandSink<Rgb565> for Shared<'_> {
    type Error = Infallible;

    fn push_band(&mut self, area: Rectangle, pixels: &[Rgb565]) -> Result<(), Infallible> {
        self.0.borrow_mut().push_band(area, pixels)
    }
}

/// Runs the board's script on the host: each step with the frame buffer's checksum
/// after it.
fn run(rx_len: usize, band_len: usize) -> (Vec<(Step, u32)>, Stats) {
    let mut band = vec![Rgb565::BLACK; band_len];
    let mut rx = vec![0u8; rx_len];
    let fb = RefCell::new(FrameBuffer::new());
    let mut steps = Vec::new();
    let stats = script::run(&mut band, &mut rx, &mut Shared(&fb), |s| {
        steps.push((*s, fb.borrow().checksum()));
    })
    .unwrap_or_else(|e| panic!("script: {e}"));
    (steps, stats)
}

/// The body behind a step: (fixture file, bytes); `None` when nothing plays.
fn body(step: &Step) -> Option<(PathBuf, &'static [u8])> {
    let (name, bytes) = match step.screen {
        Screen::NowPlaying => ("seed_track.json", script::SEED_BODY),
        Screen::Episode => ("episode_long_escaped.json", script::EPISODE_BODY),
        _ => return None,
    };
    Some((repo_root().join("core/tests/fixtures").join(name), bytes))
}

/// The desktop's frame for `step`, drawn from scratch in-process: the body parsed in one
/// piece, the view model at the step's elapsed time, the frame at its animation time.
fn fresh_frame(step: &Step) -> (ViewModel, u64) {
    let vm = match body(step) {
        Some((_, bytes)) => {
            let mut p = NowPlayingParser::new();
            p.feed(bytes).unwrap();
            let np = p.finish().unwrap();
            ViewModel::from_now_playing(&np, position_ms(&np, 0, step.elapsed_ms))
        }
        // Before the first answer (the words the app's view model gives it).
        None if step.screen == Screen::Connecting => {
            let mut vm = ViewModel::new(Screen::Connecting);
            vm.message.push_str("Asking Spotify what plays").unwrap();
            vm
        }
        None => ViewModel::new(Screen::Idle),
    };
    (vm, step.anim_ms)
}

fn fresh_checksum(step: &Step) -> u32 {
    let (vm, anim) = fresh_frame(step);
    let frame = Frame::<Rgb565>::new(&vm, PROFILE).at(anim);
    let mut buf = vec![Rgb565::BLACK; WIDTH * 16];
    frame_checksum(&frame, &mut buf).unwrap()
}

/// Whether the title is at its resting place (as `tonearm render` always draws it).
fn title_at_rest(step: &Step) -> bool {
    let (vm, anim) = fresh_frame(step);
    Frame::<Rgb565>::new(&vm, PROFILE)
        .at(anim)
        .title_scroll()
        .unwrap_or(0)
        == 0
}

/// `tonearm render --checksum` of the step's body at its elapsed time.
fn render_checksum(step: &Step) -> u32 {
    let png = std::env::temp_dir().join(format!(
        "tonearm-board-{}-{}-{}.png",
        std::process::id(),
        step.screen.name(),
        step.n
    ));
    let elapsed = step.elapsed_ms.to_string();
    let file = body(step).map(|(p, _)| p);
    let input = file.as_deref().map_or("-", |p| p.to_str().unwrap());
    let args = [
        "render",
        input,
        "--out",
        png.to_str().unwrap(),
        "--display",
        "320x240",
        "--elapsed-ms",
        &elapsed,
        "--checksum",
    ];
    let out = run_tonearm(&args, file.is_none().then_some(&b""[..]));
    let _ = std::fs::remove_file(&png);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    u32::from_str_radix(text.trim(), 16).unwrap_or_else(|e| panic!("{text:?}: {e}"))
}

fn expected_path() -> PathBuf {
    repo_root().join("firmware/boards/qemu-m4/run/src/expected.rs")
}

/// The table as `expected.rs` spells it.
fn table(steps: &[(Step, u32)]) -> String {
    let mut s = format!(
        "pub const EXPECTED: [(&str, u16, u32); {}] = [\n",
        steps.len()
    );
    for (step, _) in steps {
        let (name, n) = step.key();
        s += &format!("    ({name:?}, {n}, 0x{:08x}),\n", step.checksum);
    }
    s + "];\n"
}

fn bless(path: &Path, steps: &[(Step, u32)]) {
    let old = std::fs::read_to_string(path).unwrap();
    let head = &old[..old.find("pub const EXPECTED").unwrap()];
    std::fs::write(path, format!("{head}{}", table(steps))).unwrap();
}

#[test]
fn board_steps_have_the_checksums_the_board_checks() {
    let (steps, _) = run(RX_BUF, BAND_PIXELS);
    let got: Vec<(&str, u16, u32)> = steps
        .iter()
        .map(|(s, _)| (s.key().0, s.key().1, s.checksum))
        .collect();
    if got != expected::EXPECTED {
        if std::env::var_os("TONEARM_BLESS").is_some() {
            bless(&expected_path(), &steps);
            return;
        }
        panic!(
            "the board's steps differ from {}; if the screens changed on purpose, \
             rerun with TONEARM_BLESS=1. Got:\n{}",
            expected_path().display(),
            table(&steps)
        );
    }
}

#[test]
fn partial_redraws_give_the_frame_the_desktop_draws() {
    let (steps, _) = run(RX_BUF, BAND_PIXELS);
    let screens: Vec<String> = steps
        .iter()
        .filter(|(s, _)| s.n == 0)
        .map(|(s, _)| s.to_string())
        .collect();
    assert_eq!(screens, ["connecting", "now_playing", "episode", "idle"]);
    assert!(
        steps.iter().filter(|(s, _)| !s.full).count() >= 4,
        "the progress ticks redraw partially"
    );
    let mut via_binary = 0;
    for (step, shown) in &steps {
        assert_eq!(
            *shown,
            fresh_checksum(step),
            "{step}: display vs fresh frame"
        );
        if step.full {
            assert_eq!(
                step.checksum, *shown,
                "{step}: a full redraw hashes the frame"
            );
            assert_eq!(step.pixels, 320 * 240, "{step}");
        } else {
            assert!(step.pixels < 320 * 240 / 10, "{step}: {} px", step.pixels);
        }
        // `tonearm render` draws the title at rest and cannot draw "connecting".
        if title_at_rest(step) && step.screen != Screen::Connecting {
            assert_eq!(render_checksum(step), *shown, "{step}: tonearm render");
            via_binary += 1;
        }
    }
    // The over-long title scrolls, and the steps at rest agree with the binary.
    assert!(
        steps
            .iter()
            .any(|(s, _)| s.screen == Screen::NowPlaying && !title_at_rest(s))
    );
    assert!(
        via_binary >= 5,
        "{via_binary} steps checked with tonearm render"
    );
}

#[test]
fn receive_buffer_and_band_buffer_sizes_do_not_change_the_picture() {
    let (base, stats) = run(RX_BUF, BAND_PIXELS);
    let bytes = script::TOKEN_BODY.len() + script::SEED_BODY.len() + script::EPISODE_BODY.len();
    assert_eq!(stats.requests, 4);
    assert_eq!(stats.bytes as usize, bytes);
    assert_eq!(stats.max_chunk, RX_BUF);
    assert!(
        stats.chunks as usize > bytes / RX_BUF,
        "small chunks: {stats:?}"
    );
    const { assert!(BAND_PIXELS * 2 <= 16 * 1024) };
    // A one-byte socket, a one-row band; a larger buffer than the board's is cut to it.
    for (rx, band) in [(1, BAND_PIXELS), (64, WIDTH), (RX_BUF * 4, WIDTH * 240)] {
        let (other, st) = run(rx, band);
        assert!(st.max_chunk <= rx.min(RX_BUF), "{rx}: {st:?}");
        assert_eq!(other, base, "rx {rx}, band {band}");
    }
    // Without a display attached (as on the board) the steps are the same.
    let mut band = vec![Rgb565::BLACK; BAND_PIXELS];
    let mut rx = vec![0u8; RX_BUF];
    let mut steps = Vec::new();
    script::run(&mut band, &mut rx, &mut NoDisplay, |s| steps.push(*s)).unwrap();
    assert_eq!(steps, base.iter().map(|(s, _)| *s).collect::<Vec<_>>());
}

#[test]
fn a_band_buffer_smaller_than_a_row_is_an_error_not_a_panic() {
    let mut band = vec![Rgb565::BLACK; WIDTH - 1];
    let mut rx = vec![0u8; RX_BUF];
    let r = script::run(&mut band, &mut rx, &mut NoDisplay, |_| {});
    assert_eq!(r, Err(script::ScriptError::Band));
}
