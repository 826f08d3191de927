//! Button debouncing: a press counts once the pin has read "pressed" for
//! [`Debouncer::STABLE_MS`] without a bounce, and then once only until the button has
//! been released for as long. Time is a parameter (`now_ms`, monotonic), so the rule
//! is tested here with a simulated clock; the board samples its pins every few
//! milliseconds and feeds the readings in.

/// One button's debouncer.
#[derive(Debug, Clone, Copy, Default)]
pub struct Debouncer {
    /// The accepted (debounced) state.
    pressed: bool,
    /// The last raw reading and since when it has held.
    raw: bool,
    since_ms: u64,
}

impl Debouncer {
    /// How long a reading must hold before it is believed.
    pub const STABLE_MS: u64 = 30;

    /// A released button.
    pub const fn new() -> Self {
        Debouncer {
            pressed: false,
            raw: false,
            since_ms: 0,
        }
    }

    /// Feeds a raw reading (`true`: pressed) at `now_ms`; returns `true` exactly once
    /// per accepted press.
    pub fn sample(&mut self, now_ms: u64, raw: bool) -> bool {
        if raw != self.raw {
            self.raw = raw;
            self.since_ms = now_ms;
            return false;
        }
        if raw != self.pressed && now_ms.saturating_sub(self.since_ms) >= Self::STABLE_MS {
            self.pressed = raw;
            return raw;
        }
        false
    }

    /// The debounced state.
    pub fn is_pressed(&self) -> bool {
        self.pressed
    }
}

/// What a button with two uses did: a short press (reported when it is let go) or a
/// long one (reported as soon as it has been held for [`HoldButton::LONG_MS`], once).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Press {
    /// Pressed and let go within [`HoldButton::LONG_MS`].
    Short,
    /// Held for [`HoldButton::LONG_MS`].
    Long,
}

/// A debounced button with a short and a long press (the play/pause button: a short
/// press plays or pauses, a long one likes or unlikes).
#[derive(Debug, Clone, Copy, Default)]
pub struct HoldButton {
    debouncer: Debouncer,
    /// When the accepted press began; `None` while released.
    down_ms: Option<u64>,
    /// The long press was reported for this press.
    long_done: bool,
}

impl HoldButton {
    /// How long a press must be held to be a long one.
    pub const LONG_MS: u64 = 700;

    /// A released button.
    pub const fn new() -> Self {
        HoldButton {
            debouncer: Debouncer::new(),
            down_ms: None,
            long_done: false,
        }
    }

    /// Feeds a raw reading (`true`: pressed) at `now_ms`; returns a press when one is
    /// complete.
    pub fn sample(&mut self, now_ms: u64, raw: bool) -> Option<Press> {
        if self.debouncer.sample(now_ms, raw) {
            self.down_ms = Some(now_ms);
            self.long_done = false;
            return None;
        }
        match self.down_ms {
            Some(down) if self.debouncer.is_pressed() => {
                let long = now_ms.saturating_sub(down) >= Self::LONG_MS;
                if long && !self.long_done {
                    self.long_done = true;
                    return Some(Press::Long);
                }
                None
            }
            Some(_) => {
                // Let go: a short press, unless the long one was reported already.
                self.down_ms = None;
                (!self.long_done).then_some(Press::Short)
            }
            None => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `(time, raw)` readings to a [`HoldButton`]; returns what it reported, when.
    fn holds(readings: &[(u64, bool)]) -> Vec<(u64, Press)> {
        let mut b = HoldButton::new();
        readings
            .iter()
            .filter_map(|&(t, raw)| b.sample(t, raw).map(|p| (t, p)))
            .collect()
    }

    #[test]
    fn a_short_press_is_reported_when_let_go_and_a_long_one_once_while_held() {
        let mut r = hold(0, 100, false);
        r.extend(hold(100, 400, true));
        r.extend(hold(400, 500, false));
        // Accepted at 130, let go at 400, accepted released at 430.
        assert_eq!(holds(&r), vec![(430, Press::Short)]);
        let mut r = hold(0, 100, false);
        r.extend(hold(100, 2_000, true));
        r.extend(hold(2_000, 2_100, false));
        // Accepted at 130, long at 830; nothing more when let go.
        assert_eq!(holds(&r), vec![(830, Press::Long)]);
        // Bounces on the way in and out count as nothing more.
        let mut r: Vec<(u64, bool)> = (0..20).map(|i| (i * 2, i % 2 == 0)).collect();
        r.extend(hold(40, 300, true));
        r.extend((300..320).step_by(2).map(|t| (t, t % 4 == 0)));
        r.extend(hold(320, 400, false));
        assert_eq!(holds(&r), vec![(350, Press::Short)]);
    }

    /// Feeds `(time, raw)` readings; returns the times a press was reported.
    fn presses(readings: &[(u64, bool)]) -> Vec<u64> {
        let mut d = Debouncer::new();
        readings
            .iter()
            .filter(|&&(t, raw)| d.sample(t, raw))
            .map(|&(t, _)| t)
            .collect()
    }

    /// A reading every 5 ms from `from` to `to` (exclusive).
    fn hold(from: u64, to: u64, raw: bool) -> Vec<(u64, bool)> {
        (from..to).step_by(5).map(|t| (t, raw)).collect()
    }

    #[test]
    fn clean_press_counts_once() {
        let mut r = hold(0, 100, false);
        r.extend(hold(100, 400, true));
        r.extend(hold(400, 500, false));
        assert_eq!(presses(&r), vec![130]);
    }

    #[test]
    fn bounces_count_once() {
        // Contact bounce on press and on release: alternating readings for 20 ms.
        let mut r = hold(0, 50, false);
        for (i, t) in (50..70).step_by(2).enumerate() {
            r.push((t, i % 2 == 0));
        }
        r.extend(hold(70, 300, true));
        for (i, t) in (300..320).step_by(2).enumerate() {
            r.push((t, i % 2 == 1));
        }
        r.extend(hold(320, 400, false));
        r.extend(hold(400, 500, true));
        assert_eq!(presses(&r), vec![100, 430]);
    }

    #[test]
    fn glitch_is_ignored() {
        let mut r = hold(0, 50, false);
        r.extend(hold(50, 70, true)); // 20 ms: shorter than STABLE_MS
        r.extend(hold(70, 200, false));
        assert_eq!(presses(&r), Vec::<u64>::new());
    }

    #[test]
    fn held_button_does_not_repeat() {
        let mut r = hold(0, 10, false);
        r.extend(hold(10, 10_000, true));
        assert_eq!(presses(&r), vec![40]);
    }
}
