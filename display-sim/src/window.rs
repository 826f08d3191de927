//! The SDL window (the `window` cargo feature, on by default): the simulator display,
//! scaled, redrawn only when the app drew something, and the keys.

use std::time::{Duration, Instant};

use embedded_graphics::pixelcolor::{BinaryColor, Rgb888};
use embedded_graphics::prelude::*;
use embedded_graphics_simulator::sdl2::{Keycode, Mod, MouseButton};
use embedded_graphics_simulator::{
    BinaryColorTheme, OutputSettingsBuilder, SimulatorDisplay, SimulatorEvent, Window,
};
use tonearm_core::session::Control;
use tonearm_firmware::Profile;

use crate::shell::{Output, ShellError, UiEvent};

/// Why a window cannot be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WindowError {
    /// Neither `DISPLAY` nor `WAYLAND_DISPLAY` is set (Linux).
    #[error(
        "no display to open a window on (DISPLAY is not set): use --headless, or run under a desktop or Xvfb"
    )]
    NoDisplay,
    /// SDL refused (no video driver, no screen mode, no window).
    #[error("SDL cannot open the screen: {0}")]
    Sdl(String),
}

/// Fails early, with the advice, when there is no display to open a window on (Linux).
pub fn check_display() -> Result<(), WindowError> {
    if cfg!(target_os = "linux")
        && std::env::var_os("DISPLAY").is_none()
        && std::env::var_os("WAYLAND_DISPLAY").is_none()
        && std::env::var_os("SDL_VIDEODRIVER").is_none()
    {
        return Err(WindowError::NoDisplay);
    }
    Ok(())
}

/// How often the window looks at its events while the app has nothing to do.
pub(crate) const EVENT_POLL: Duration = Duration::from_millis(15);

/// The default scale: a comfortable window on a desktop.
pub fn default_scale(profile: Profile) -> u32 {
    match profile {
        Profile::Mono128x64 => 5,
        // Already as large as a desktop window should be.
        Profile::Wide800x480 => 1,
        _ => 2,
    }
}

/// An SDL window showing the display.
pub struct WindowOutput {
    window: Window,
    opened: bool,
}

impl WindowOutput {
    /// A window for `profile` at `scale` (opened at the first frame).
    pub fn new(profile: Profile, scale: u32, title: &str) -> Result<Self, WindowError> {
        check_display()?;
        let mut settings = OutputSettingsBuilder::new().scale(scale);
        if profile == Profile::Mono128x64 {
            settings = settings.theme(BinaryColorTheme::OledWhite);
        }
        let mut window = Window::new(title, &settings.build());
        // Frames come only when something changed; no need to cap them.
        window.set_max_fps(1000);
        Ok(WindowOutput {
            window,
            opened: false,
        })
    }
}

/// The keys that press a control, in the window and in full screen: Space play/pause,
/// Right next, Left previous, L like/unlike, + / = / Up volume up, - / Down volume down.
pub(crate) fn control_key(keycode: Keycode) -> Option<Control> {
    match keycode {
        Keycode::Space => Some(Control::PlayPause),
        Keycode::Right => Some(Control::Next),
        Keycode::Left => Some(Control::Previous),
        Keycode::L => Some(Control::ToggleLike),
        Keycode::Plus | Keycode::Equals | Keycode::KpPlus | Keycode::Up => Some(Control::VolumeUp),
        Keycode::Minus | Keycode::KpMinus | Keycode::Down => Some(Control::VolumeDown),
        _ => None,
    }
}

/// The keys: the controls (see [`control_key`]); Q, Esc, Ctrl-C quit.
fn key(keycode: Keycode, keymod: Mod) -> Option<UiEvent> {
    let ctrl = keymod.intersects(Mod::LCTRLMOD | Mod::RCTRLMOD);
    match keycode {
        Keycode::Q | Keycode::Escape => Some(UiEvent::Quit),
        Keycode::C if ctrl => Some(UiEvent::Quit),
        _ => control_key(keycode).map(UiEvent::Press),
    }
}

impl<C> Output<C> for WindowOutput
where
    C: PixelColor + Into<Rgb888> + From<Rgb888> + Default,
{
    fn present(&mut self, display: &SimulatorDisplay<C>, blank: bool) -> Result<(), ShellError> {
        let window = &mut self.window;
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            if blank {
                // The app asked for the display to go dark (a long idle).
                let dark = SimulatorDisplay::<C>::with_default_color(
                    display.size(),
                    C::from(Rgb888::BLACK),
                );
                window.update(&dark);
            } else {
                window.update(display);
            }
        }));
        if result.is_err() {
            return Err(ShellError::Window);
        }
        self.opened = true;
        Ok(())
    }

    fn wait(&mut self, timeout: Duration) -> Option<UiEvent> {
        let opened = self.opened;
        let window = &mut self.window;
        wait_for_input(timeout, || {
            if !opened {
                return None;
            }
            window.events().find_map(|event| match event {
                SimulatorEvent::Quit => Some(UiEvent::Quit),
                SimulatorEvent::KeyDown {
                    keycode,
                    keymod,
                    repeat: false,
                } => key(keycode, keymod),
                // A click is a tap, at the display's own pixels (the window's scale
                // divided out).
                SimulatorEvent::MouseButtonUp {
                    mouse_btn: MouseButton::Left,
                    point,
                } => Some(UiEvent::Tap(point)),
                _ => None,
            })
        })
    }

    fn max_block(&self) -> Duration {
        EVENT_POLL
    }
}

/// Waits up to `timeout` for input, asking `next` for what came every [`EVENT_POLL`]
/// (Ctrl-C or a signal is a quit too). Shared by the window and the full screen.
pub(crate) fn wait_for_input(
    timeout: Duration,
    mut next: impl FnMut() -> Option<UiEvent>,
) -> Option<UiEvent> {
    let until = Instant::now() + timeout;
    loop {
        if crate::interrupted() {
            return Some(UiEvent::Quit);
        }
        if let Some(ev) = next() {
            return Some(ev);
        }
        let now = Instant::now();
        if now >= until {
            return None;
        }
        std::thread::sleep(EVENT_POLL.min(until - now));
    }
}

/// `BinaryColor` draws through a theme; a dark frame is all-off.
#[allow(dead_code)]
fn _assert_binary_color_is_supported(c: BinaryColor) -> Rgb888 {
    c.into()
}
