//! The full-screen output (`--fullscreen`, config `fullscreen = true`; the `window`
//! feature): the display fills the screen at the largest whole scale that fits, centred on
//! black, the mouse cursor hidden. For a desk display (a Raspberry Pi's screen, a spare
//! monitor).
//!
//! Written on `sdl2` directly rather than through embedded-graphics-simulator's window,
//! which opens only windows of the display's size times a fixed scale: here the scale and
//! the offset follow the screen, and every frame is scaled by whole pixels (nearest, by
//! hand, so the picture is the app's frame exactly, whatever SDL's own scaler would do).
//!
//! Keys as in the window (Space, Right, Left), except that Esc and Q do nothing: a stray
//! key must not close a desk display. **Ctrl+Q** quits (and Ctrl+C, or a signal).
//!
//! When the app turns the screen dark (idle, night hours) the picture goes black and the
//! backlight in `/sys/class/backlight` (or `TONEARM_BACKLIGHT`) goes to 0, where there is
//! one and the user may write it (the `video` group).

use std::time::Duration;

use embedded_graphics::pixelcolor::Rgb888;
use embedded_graphics::prelude::*;
use embedded_graphics_simulator::SimulatorDisplay;
use sdl2::event::Event;
use sdl2::keyboard::{Keycode, Mod};
use sdl2::mouse::MouseButton;
use sdl2::pixels::{Color, PixelFormatEnum};
use sdl2::rect::Rect;
use sdl2::surface::Surface;
use tonearm_firmware::Profile;

use crate::shell::{Output, ShellError, UiEvent};
use crate::window::WindowError;

use crate::window::EVENT_POLL;

/// Where a display of `size` goes on a screen of `screen`: the largest whole scale that
/// fits (at least 1) and the top-left corner that centres it.
pub fn placement(size: Size, screen: Size) -> (u32, Point) {
    let scale = (screen.width / size.width.max(1))
        .min(screen.height / size.height.max(1))
        .max(1);
    let w = size.width * scale;
    let h = size.height * scale;
    let x = (i64::from(screen.width) - i64::from(w)) / 2;
    let y = (i64::from(screen.height) - i64::from(h)) / 2;
    (
        scale,
        Point::new(
            i32::try_from(x.max(0)).unwrap_or(0),
            i32::try_from(y.max(0)).unwrap_or(0),
        ),
    )
}

thread_local! {
    /// One SDL context for the thread: asking the screen's size (`--display auto`) and
    /// then opening the screen must not quit and restart SDL in between (the window
    /// stayed black).
    /// (The video subsystem too: dropping its last handle quits it.)
    static SDL: std::cell::RefCell<Option<(sdl2::Sdl, sdl2::VideoSubsystem)>> =
        const { std::cell::RefCell::new(None) };
}

fn sdl() -> Result<(sdl2::Sdl, sdl2::VideoSubsystem), WindowError> {
    SDL.with(|cell| {
        let mut cell = cell.borrow_mut();
        if let Some(both) = cell.as_ref() {
            return Ok(both.clone());
        }
        let sdl = sdl2::init().map_err(WindowError::Sdl)?;
        let video = sdl.video().map_err(WindowError::Sdl)?;
        *cell = Some((sdl.clone(), video.clone()));
        Ok((sdl, video))
    })
}

/// The size of the screen a full-screen display would fill (the desktop's mode of the
/// first display).
pub fn screen_size() -> Result<Size, WindowError> {
    crate::window::check_display()?;
    let (_sdl, video) = sdl()?;
    let mode = video.desktop_display_mode(0).map_err(WindowError::Sdl)?;
    Ok(Size::new(
        u32::try_from(mode.w).unwrap_or(0),
        u32::try_from(mode.h).unwrap_or(0),
    ))
}

/// The largest profile that fits a screen of `screen` (for `--display auto`); the
/// smallest when none does.
pub fn largest_fitting(screen: Size) -> Profile {
    let mut fitting: Vec<Profile> = Profile::ALL
        .iter()
        .copied()
        .filter(|p| p.size().width <= screen.width && p.size().height <= screen.height)
        .collect();
    fitting.sort_by_key(|p| p.size().width * p.size().height);
    fitting.last().copied().unwrap_or(Profile::Mono128x64)
}

/// A full-screen SDL window showing the display.
pub struct FullscreenOutput {
    // The context must outlive the window and the event pump.
    _sdl: sdl2::Sdl,
    window: sdl2::video::Window,
    pump: sdl2::EventPump,
    scale: u32,
    offset: Point,
    /// The scaled frame, 0RGB 32-bit.
    buf: Vec<u8>,
    /// The screen's backlight, where Linux exposes it (follows the app's dark state).
    backlight: Option<crate::service::SysfsBacklight>,
    /// Dark as last shown.
    dark: bool,
}

impl FullscreenOutput {
    /// A full-screen window for `profile`, titled `title`.
    pub fn new(profile: Profile, title: &str) -> Result<Self, WindowError> {
        crate::window::check_display()?;
        let (sdl, video) = sdl()?;
        let mode = video.desktop_display_mode(0).map_err(WindowError::Sdl)?;
        let screen = Size::new(
            u32::try_from(mode.w).unwrap_or(0),
            u32::try_from(mode.h).unwrap_or(0),
        );
        let window = video
            .window(title, screen.width.max(1), screen.height.max(1))
            .fullscreen_desktop()
            .build()
            .map_err(|e| WindowError::Sdl(e.to_string()))?;
        sdl.mouse().show_cursor(false);
        let pump = sdl.event_pump().map_err(WindowError::Sdl)?;
        let (scale, offset) = placement(profile.size(), screen);
        log::info!(
            "full screen {}x{}: the display at {}x, from ({}, {})",
            screen.width,
            screen.height,
            scale,
            offset.x,
            offset.y
        );
        Ok(FullscreenOutput {
            _sdl: sdl,
            window,
            pump,
            scale,
            offset,
            buf: Vec::new(),
            backlight: crate::service::SysfsBacklight::find(),
            dark: false,
        })
    }

    fn show<C>(&mut self, display: &SimulatorDisplay<C>, blank: bool) -> Result<(), String>
    where
        C: PixelColor + Into<Rgb888>,
    {
        let size = display.size();
        let (w, h) = (size.width * self.scale, size.height * self.scale);
        let pitch = w as usize * 4;
        self.buf.clear();
        self.buf.resize(pitch * h as usize, 0);
        if !blank {
            for y in 0..size.height {
                let row = y as usize * self.scale as usize * pitch;
                for x in 0..size.width {
                    let c: Rgb888 = display.get_pixel(Point::new(x as i32, y as i32)).into();
                    let px = u32::from(c.r()) << 16 | u32::from(c.g()) << 8 | u32::from(c.b());
                    let at = row + x as usize * self.scale as usize * 4;
                    for k in 0..self.scale as usize {
                        self.buf[at + k * 4..at + k * 4 + 4].copy_from_slice(&px.to_le_bytes());
                    }
                }
                // The first screen row of this display row, then its copies.
                let (first, rest) = self.buf[row..].split_at_mut(pitch);
                for k in 0..self.scale as usize - 1 {
                    rest[k * pitch..(k + 1) * pitch].copy_from_slice(first);
                }
            }
        }
        let frame = Surface::from_data(&mut self.buf, w, h, pitch as u32, PixelFormatEnum::RGB888)?;
        let mut screen = self.window.surface(&self.pump)?;
        screen.fill_rect(None, Color::BLACK)?;
        frame.blit(
            None,
            &mut screen,
            Rect::new(self.offset.x, self.offset.y, w, h),
        )?;
        screen.update_window()
    }
}

/// The keys in full screen (see the module docs).
fn key(keycode: Keycode, keymod: Mod) -> Option<UiEvent> {
    let ctrl = keymod.intersects(Mod::LCTRLMOD | Mod::RCTRLMOD);
    match keycode {
        Keycode::Q | Keycode::C if ctrl => Some(UiEvent::Quit),
        _ => crate::window::control_key(keycode).map(UiEvent::Press),
    }
}

impl<C> Output<C> for FullscreenOutput
where
    C: PixelColor + Into<Rgb888>,
{
    fn present(&mut self, display: &SimulatorDisplay<C>, blank: bool) -> Result<(), ShellError> {
        if blank != self.dark {
            self.dark = blank;
            if let Some(b) = &mut self.backlight {
                b.set(!blank);
            }
        }
        self.show(display, blank).map_err(|e| {
            log::error!("full screen: {e}");
            ShellError::Window
        })
    }

    fn wait(&mut self, timeout: Duration) -> Option<UiEvent> {
        let pump = &mut self.pump;
        let (offset, scale) = (self.offset, i32::try_from(self.scale).unwrap_or(1).max(1));
        crate::window::wait_for_input(timeout, || {
            pump.poll_iter().find_map(|event| match event {
                Event::Quit { .. } => Some(UiEvent::Quit),
                Event::KeyDown {
                    keycode: Some(keycode),
                    keymod,
                    repeat: false,
                    ..
                } => key(keycode, keymod),
                // A click (or a touch screen's tap, which SDL reports as one) is a tap
                // at the display's own pixels: the margins and the scale taken out.
                Event::MouseButtonUp {
                    mouse_btn: MouseButton::Left,
                    x,
                    y,
                    ..
                } => {
                    let p = Point::new(x - offset.x, y - offset.y);
                    (p.x >= 0 && p.y >= 0)
                        .then(|| UiEvent::Tap(Point::new(p.x / scale, p.y / scale)))
                }
                _ => None,
            })
        })
    }

    fn max_block(&self) -> Duration {
        EVENT_POLL
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_largest_whole_scale_centred() {
        let d = Size::new(320, 240);
        assert_eq!(placement(d, Size::new(800, 480)), (2, Point::new(80, 0)));
        assert_eq!(placement(d, Size::new(1024, 600)), (2, Point::new(192, 60)));
        assert_eq!(
            placement(d, Size::new(1920, 1080)),
            (4, Point::new(320, 60))
        );
        // Smaller than the display: scale 1 from the corner (cut, never shrunk).
        assert_eq!(placement(d, Size::new(300, 200)), (1, Point::new(0, 0)));
        assert_eq!(
            placement(Size::new(128, 64), Size::new(800, 480)),
            (6, Point::new(16, 48))
        );
    }

    #[test]
    fn auto_picks_the_largest_layout_that_fits() {
        assert_eq!(largest_fitting(Size::new(1920, 1080)), Profile::Wide800x480);
        assert_eq!(largest_fitting(Size::new(800, 480)), Profile::Wide800x480);
        assert_eq!(
            largest_fitting(Size::new(640, 480)),
            Profile::Landscape480x320
        );
        assert_eq!(
            largest_fitting(Size::new(480, 320)),
            Profile::Landscape480x320
        );
        assert_eq!(
            largest_fitting(Size::new(479, 320)),
            Profile::Landscape320x240
        );
        assert_eq!(largest_fitting(Size::new(240, 240)), Profile::Square240x240);
        assert_eq!(largest_fitting(Size::new(200, 100)), Profile::Mono128x64);
    }
}
