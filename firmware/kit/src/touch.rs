//! A resistive touch panel's XPT2046 controller (the Cheap Yellow Display's), as far as
//! it needs no hardware: the command bytes, the 12-bit answers, a press's pressure,
//! calibration from raw readings to the display's pixels, and taps from a stream of
//! readings. The board reads the controller over SPI (send a command byte, read two
//! bytes) every few milliseconds while its IRQ pin is low, and hands each tap to
//! `App::tap`. Written here because the maintained crates do not fit: `xpt2046` is pinned
//! to an embedded-hal 1.0 alpha, and `tsc2046` reads raw values only (no calibration or
//! taps); the protocol is four command bytes.
//!
//! Time is a parameter (`now_ms`, monotonic), so the rules are tested on the host.

/// Read X (12-bit, differential reference, power-down between conversions).
pub const READ_X: u8 = 0xD0;
/// Read Y.
pub const READ_Y: u8 = 0x90;
/// Read Z1 (pressure, with Z2).
pub const READ_Z1: u8 = 0xB0;
/// Read Z2.
pub const READ_Z2: u8 = 0xC0;

/// The 12-bit result of a conversion from the two bytes read after its command: the
/// first byte's low 7 bits and the second's high 5.
pub const fn decode(hi: u8, lo: u8) -> u16 {
    ((((hi as u16) << 8) | lo as u16) >> 3) & 0x0FFF
}

/// Whether a reading is a finger (or a stylus) rather than noise: the pressure reading
/// rises from 0 (nothing) as the press gets firmer.
pub const fn is_pressed(z1: u16, z2: u16) -> bool {
    // Z = Z1 + 4095 - Z2 grows with pressure; below this the panel reads noise.
    (z1 as u32 + 4095).saturating_sub(z2 as u32) >= PRESSURE_MIN
}

/// The weakest pressure taken as a press.
pub const PRESSURE_MIN: u32 = 400;

/// The middle of three readings (one spike among three samples is dropped).
pub fn median3(a: u16, b: u16, c: u16) -> u16 {
    a.max(b).min(a.min(b).max(c))
}

/// From raw readings to the display's pixels: the raw values at the display's left,
/// right, top and bottom edges (as measured once on the board; many panels are mirrored,
/// so `x_left` may be above `x_right`), whether the panel's axes are swapped against the
/// display's (a panel mounted for portrait, shown in landscape), and the display's size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Calibration {
    /// Raw value at the display's left edge.
    pub x_left: u16,
    /// Raw value at the display's right edge.
    pub x_right: u16,
    /// Raw value at the display's top edge.
    pub y_top: u16,
    /// Raw value at the display's bottom edge.
    pub y_bottom: u16,
    /// The panel's X reading runs along the display's Y axis.
    pub swap_xy: bool,
    /// The display's width in pixels.
    pub width: u16,
    /// The display's height in pixels.
    pub height: u16,
}

impl Calibration {
    /// A typical Cheap Yellow Display (ESP32-2432S028R) in landscape, 320x240; measure
    /// your own panel's corners and store them in the settings record.
    pub const CHEAP_YELLOW_DISPLAY: Calibration = Calibration {
        x_left: 3800,
        x_right: 300,
        y_top: 3700,
        y_bottom: 250,
        swap_xy: false,
        width: 320,
        height: 240,
    };

    /// The pixel of raw reading `(x, y)`, clamped to the display; `None` for a
    /// calibration without extent.
    pub fn to_pixel(&self, raw_x: u16, raw_y: u16) -> Option<(u16, u16)> {
        let (rx, ry) = if self.swap_xy {
            (raw_y, raw_x)
        } else {
            (raw_x, raw_y)
        };
        let map = |raw: u16, from: u16, to: u16, size: u16| -> Option<u16> {
            let span = i32::from(to) - i32::from(from);
            if span == 0 || size == 0 {
                return None;
            }
            let at = (i32::from(raw) - i32::from(from)) * i32::from(size) / span;
            let last = i32::from(size) - 1;
            u16::try_from(at.clamp(0, last)).ok()
        };
        Some((
            map(rx, self.x_left, self.x_right, self.width)?,
            map(ry, self.y_top, self.y_bottom, self.height)?,
        ))
    }
}

/// Taps from a stream of readings: a press that is let go within [`Taps::MAX_HOLD_MS`]
/// without moving more than [`Taps::SLOP_PX`] is a tap at where it began; a drag or a
/// long hold is nothing. After a tap, [`Taps::LOCKOUT_MS`] pass before the next.
#[derive(Debug, Clone, Copy, Default)]
pub struct Taps {
    /// Where and when the press began, and whether it has stayed put.
    down: Option<(u64, (u16, u16), bool)>,
    /// No tap before this.
    quiet_until_ms: u64,
}

impl Taps {
    /// The longest a tap is held.
    pub const MAX_HOLD_MS: u64 = 1_000;
    /// How far a tap may wander (a resistive panel's readings jitter).
    pub const SLOP_PX: u16 = 12;
    /// The pause after a tap.
    pub const LOCKOUT_MS: u64 = 250;

    /// No press yet.
    pub const fn new() -> Self {
        Taps {
            down: None,
            quiet_until_ms: 0,
        }
    }

    /// Feeds one reading at `now_ms`: the pixel pressed, or `None` when nothing is.
    /// Returns a tap when a press ends as one.
    pub fn sample(&mut self, now_ms: u64, at: Option<(u16, u16)>) -> Option<(u16, u16)> {
        match (at, self.down) {
            (Some(p), None) => {
                self.down = Some((now_ms, p, true));
                None
            }
            (Some(p), Some((t, start, still))) => {
                let moved =
                    p.0.abs_diff(start.0) > Self::SLOP_PX || p.1.abs_diff(start.1) > Self::SLOP_PX;
                self.down = Some((t, start, still && !moved));
                None
            }
            (None, Some((t, start, still))) => {
                self.down = None;
                let quick = now_ms.saturating_sub(t) <= Self::MAX_HOLD_MS;
                if still && quick && now_ms >= self.quiet_until_ms {
                    self.quiet_until_ms = now_ms.saturating_add(Self::LOCKOUT_MS);
                    Some(start)
                } else {
                    None
                }
            }
            (None, None) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twelve_bit_answers_and_pressure() {
        // 0x7F 0xF8: all twelve bits set.
        assert_eq!(decode(0x7F, 0xF8), 4095);
        assert_eq!(decode(0x00, 0x08), 1);
        assert_eq!(decode(0x40, 0x00), 2048);
        // The top bit of the first byte is the busy bit's slot, never data.
        assert_eq!(decode(0xFF, 0xFF), 4095);
        assert!(!is_pressed(0, 4095), "nothing touches");
        assert!(is_pressed(600, 3500));
        assert_eq!(median3(100, 4000, 110), 110);
        assert_eq!(median3(5, 5, 9), 5);
        assert_eq!(median3(9, 1, 5), 5);
    }

    #[test]
    fn calibration_maps_corners_mirrors_and_clamps() {
        let c = Calibration::CHEAP_YELLOW_DISPLAY;
        assert_eq!(c.to_pixel(3800, 3700), Some((0, 0)), "top left");
        assert_eq!(
            c.to_pixel(300, 250),
            Some((319, 239)),
            "bottom right, clamped"
        );
        let mid = c.to_pixel(2050, 1975).unwrap();
        assert!(
            mid.0.abs_diff(160) <= 1 && mid.1.abs_diff(120) <= 1,
            "{mid:?}"
        );
        // Beyond the edges: clamped, never out of the display.
        assert_eq!(c.to_pixel(4095, 0), Some((0, 239)));
        let swapped = Calibration { swap_xy: true, ..c };
        assert_eq!(swapped.to_pixel(3700, 3800), Some((0, 0)));
        let flat = Calibration { x_right: 3800, ..c };
        assert_eq!(flat.to_pixel(1000, 1000), None);
    }

    #[test]
    fn taps_not_drags_nor_holds_with_a_lockout() {
        let mut t = Taps::new();
        let mut feed = |from: u64, to: u64, at: Option<(u16, u16)>| {
            (from..to)
                .step_by(10)
                .filter_map(|ms| t.sample(ms, at).map(|p| (ms, p)))
                .collect::<Vec<_>>()
        };
        // A quick press: a tap where it began, when it is let go.
        assert!(feed(0, 120, Some((50, 60))).is_empty());
        assert_eq!(feed(120, 130, None), [(120, (50, 60))]);
        // Another at once: within the lockout, nothing.
        assert!(feed(130, 200, Some((50, 60))).is_empty());
        assert!(feed(200, 210, None).is_empty());
        // Jitter within the slop is still a tap.
        assert!(feed(600, 650, Some((100, 100))).is_empty());
        assert!(feed(650, 700, Some((108, 95))).is_empty());
        assert_eq!(feed(700, 710, None), [(700, (100, 100))]);
        // A drag: nothing.
        assert!(feed(1_200, 1_250, Some((10, 10))).is_empty());
        assert!(feed(1_250, 1_300, Some((60, 10))).is_empty());
        assert!(feed(1_300, 1_310, None).is_empty());
        // A long hold: nothing.
        assert!(feed(2_000, 3_500, Some((30, 30))).is_empty());
        assert!(feed(3_500, 3_510, None).is_empty());
    }
}
