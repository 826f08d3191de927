//! Three buttons on `embedded-hal` input pins, as [`Buttons`]: play/pause (a short press
//! plays or pauses, a long one, [`HoldButton::LONG_MS`], likes or unlikes), previous
//! and next; each debounced ([`crate::debounce`]). Pins read low while pressed (buttons
//! to ground with pull-ups), unless built with [`PinButtons::active_high`].

use embedded_hal::digital::InputPin;
use tonearm_core::session::Control;

use crate::board::Buttons;
use crate::debounce::{Debouncer, HoldButton, Press};

/// Play/pause, previous and next on three pins.
#[derive(Debug)]
pub struct PinButtons<P, Q, N> {
    play: P,
    previous: Q,
    next: N,
    play_state: HoldButton,
    previous_state: Debouncer,
    next_state: Debouncer,
    pressed_level_high: bool,
}

impl<P: InputPin, Q: InputPin, N: InputPin> PinButtons<P, Q, N> {
    /// Buttons that pull their pins low when pressed.
    pub fn new(play: P, previous: Q, next: N) -> Self {
        PinButtons {
            play,
            previous,
            next,
            play_state: HoldButton::new(),
            previous_state: Debouncer::new(),
            next_state: Debouncer::new(),
            pressed_level_high: false,
        }
    }

    /// Buttons that pull their pins high when pressed.
    #[must_use]
    pub fn active_high(mut self) -> Self {
        self.pressed_level_high = true;
        self
    }
}

/// Whether `pin` reads pressed (a pin that cannot be read counts as released).
fn pressed(pin: &mut impl InputPin, high: bool) -> bool {
    let level = if high { pin.is_high() } else { pin.is_low() };
    level.unwrap_or(false)
}

impl<P: InputPin, Q: InputPin, N: InputPin> Buttons for PinButtons<P, Q, N> {
    fn sample(&mut self, now_ms: u64) -> Option<Control> {
        let high = self.pressed_level_high;
        // Every pin is sampled each time (the debouncers need their samples).
        let play = self
            .play_state
            .sample(now_ms, pressed(&mut self.play, high))
            .map(|p| match p {
                Press::Short => Control::PlayPause,
                Press::Long => Control::ToggleLike,
            });
        let previous = self
            .previous_state
            .sample(now_ms, pressed(&mut self.previous, high))
            .then_some(Control::Previous);
        let next = self
            .next_state
            .sample(now_ms, pressed(&mut self.next, high))
            .then_some(Control::Next);
        play.or(previous).or(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::cell::Cell;
    use std::rc::Rc;

    /// A pin whose level the test sets.
    #[derive(Clone, Default)]
    struct Pin(Rc<Cell<bool>>);

    impl embedded_hal::digital::ErrorType for Pin {
        type Error = core::convert::Infallible;
    }

    impl InputPin for Pin {
        fn is_high(&mut self) -> Result<bool, Self::Error> {
            Ok(self.0.get())
        }
        fn is_low(&mut self) -> Result<bool, Self::Error> {
            Ok(!self.0.get())
        }
    }

    #[test]
    fn presses_become_controls_once() {
        let (play, prev, next) = (Pin::default(), Pin::default(), Pin::default());
        for p in [&play, &prev, &next] {
            p.0.set(true); // released: pulled up
        }
        let mut b = PinButtons::new(play.clone(), prev.clone(), next.clone());
        let mut got = Vec::new();
        let mut run = |b: &mut PinButtons<Pin, Pin, Pin>, from: u64, to: u64| {
            for t in (from..to).step_by(5) {
                if let Some(c) = b.sample(t) {
                    got.push((t, c));
                }
            }
        };
        run(&mut b, 0, 100);
        next.0.set(false);
        run(&mut b, 100, 300);
        next.0.set(true);
        run(&mut b, 300, 400);
        play.0.set(false);
        run(&mut b, 400, 600);
        play.0.set(true);
        run(&mut b, 600, 700);
        play.0.set(false);
        run(&mut b, 700, 2000);
        play.0.set(true);
        run(&mut b, 2000, 2100);
        prev.0.set(false);
        run(&mut b, 2100, 2200);
        assert_eq!(
            got,
            vec![
                (130, Control::Next),
                (630, Control::PlayPause),
                (1430, Control::ToggleLike),
                (2130, Control::Previous),
            ]
        );
    }

    #[test]
    fn active_high_buttons() {
        let (play, prev, next) = (Pin::default(), Pin::default(), Pin::default());
        let mut b = PinButtons::new(play, prev.clone(), next).active_high();
        let got: Vec<_> = (0..100u64)
            .step_by(5)
            .filter_map(|t| {
                prev.0.set(t >= 20);
                b.sample(t)
            })
            .collect();
        assert_eq!(got, vec![Control::Previous]);
    }
}
