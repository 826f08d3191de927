//! Colors by role, so one screen description serves Rgb565 and BinaryColor displays.

use embedded_graphics::pixelcolor::{BinaryColor, Rgb565, Rgb888};
use embedded_graphics::prelude::*;

/// What a color is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The screen background.
    Background,
    /// Main text (titles).
    Text,
    /// Secondary text (artists, times).
    TextDim,
    /// Tertiary text (album, device, hints).
    TextFaint,
    /// The accent (progress fill while playing, the play state).
    Accent,
    /// The progress fill while paused or offline.
    AccentPaused,
    /// The progress track and panel backgrounds.
    Track,
    /// Unavailable controls.
    Disabled,
    /// Warnings (stale data, rate limits).
    Warning,
    /// Errors (configuration, offline).
    Error,
    /// Overlay (notice) background.
    Overlay,
}

/// A pixel color the screens can draw in: a color per [`Role`], the art placeholder's
/// colors and the conversion of covers. Whether a display is mono (and laid out as one)
/// is its [`Profile`](crate::Profile)'s to say, not its color type's.
pub trait Palette: PixelColor + Default {
    /// The color of `role`.
    fn role(role: Role) -> Self;

    /// A color of the art placeholder from hue (0..360), saturation and value (0..=255).
    fn hsv(hue: u16, sat: u8, val: u8) -> Self;

    /// Converts an image of `width` x `height` RGB888 pixels (`rgb`, 3 bytes a pixel, rows
    /// top to bottom) into this color, row by row into `out`, dithered so that gradients
    /// show no bands: ordered (Bayer 8x8) dithering on Rgb565, error diffusion
    /// (Floyd-Steinberg) on BinaryColor. Pixels missing from `rgb` are black; `out` beyond
    /// `width * height` is left alone. Images wider than [`DITHER_MAX_WIDTH`] are not
    /// diffused (threshold only). No allocation, no panic.
    fn dither(rgb: &[u8], width: u32, height: u32, out: &mut [Self]);

    /// This color toned down halfway to the background (covers on `paused` and
    /// `offline`, like the dimmed placeholder). Mono displays keep it as it is.
    fn dimmed(self) -> Self {
        self
    }
}

/// The widest image [`Palette::dither`] diffuses errors across (two rows of errors live
/// on the stack).
pub const DITHER_MAX_WIDTH: usize = 320;

/// The 8x8 Bayer matrix (values 0..64).
const BAYER8: [[u8; 8]; 8] = [
    [0, 32, 8, 40, 2, 34, 10, 42],
    [48, 16, 56, 24, 50, 18, 58, 26],
    [12, 44, 4, 36, 14, 46, 6, 38],
    [60, 28, 52, 20, 62, 30, 54, 22],
    [3, 35, 11, 43, 1, 33, 9, 41],
    [51, 19, 59, 27, 49, 17, 57, 25],
    [15, 47, 7, 39, 13, 45, 5, 37],
    [63, 31, 55, 23, 61, 29, 53, 21],
];

/// `v` (0..=255) quantized to `0..=max` with the ordered-dither threshold `t` (0..64):
/// `floor(v * max / 255 + (t + 0.5) / 64)`, so that the levels average out to `v`.
fn ordered(v: u8, max: u32, t: u8) -> u8 {
    let q = (u32::from(v) * max * 128 + (2 * u32::from(t) + 1) * 255) / (255 * 128);
    u8::try_from(q.min(max)).unwrap_or(0)
}

/// The 8-bit luma of an RGB pixel (BT.601 weights).
fn luma(r: u8, g: u8, b: u8) -> i16 {
    let y = (77 * u32::from(r) + 150 * u32::from(g) + 29 * u32::from(b)) >> 8;
    i16::try_from(y).unwrap_or(255)
}

const fn rgb(r: u8, g: u8, b: u8) -> Rgb565 {
    Rgb565::new(r >> 3, g >> 2, b >> 3)
}

impl Palette for Rgb565 {
    fn dimmed(self) -> Self {
        let bg = Self::role(Role::Background);
        let mid = |a: u8, b: u8| ((u16::from(a) + u16::from(b)) / 2) as u8;
        Rgb565::new(
            mid(self.r(), bg.r()),
            mid(self.g(), bg.g()),
            mid(self.b(), bg.b()),
        )
    }

    fn role(role: Role) -> Self {
        match role {
            Role::Background => rgb(0x0e, 0x10, 0x13),
            Role::Text => rgb(0xf4, 0xf4, 0xf2),
            Role::TextDim => rgb(0xb4, 0xb8, 0xbe),
            Role::TextFaint => rgb(0x80, 0x86, 0x8e),
            Role::Accent => rgb(0x1e, 0xd7, 0x60),
            Role::AccentPaused => rgb(0x9a, 0xa0, 0xa8),
            Role::Track => rgb(0x30, 0x35, 0x3c),
            Role::Disabled => rgb(0x4a, 0x50, 0x58),
            Role::Warning => rgb(0xf5, 0xb0, 0x3a),
            Role::Error => rgb(0xf0, 0x5a, 0x5a),
            Role::Overlay => rgb(0x26, 0x2a, 0x31),
        }
    }

    fn hsv(hue: u16, sat: u8, val: u8) -> Self {
        let c: Rgb888 = hsv888(hue, sat, val);
        rgb(c.r(), c.g(), c.b())
    }

    fn dither(rgb: &[u8], width: u32, height: u32, out: &mut [Self]) {
        let mut px = rgb.chunks_exact(3);
        let mut out = out.iter_mut();
        for y in 0..height {
            let row = BAYER8.get((y % 8) as usize).copied().unwrap_or([0; 8]);
            for x in 0..width {
                let (r, g, b) = match px.next() {
                    Some(&[r, g, b]) => (r, g, b),
                    _ => (0, 0, 0),
                };
                let t = row.get((x % 8) as usize).copied().unwrap_or(0);
                // Green has twice the levels: its threshold is the transposed matrix's,
                // so the three channels do not step together.
                let tg = BAYER8
                    .get((x % 8) as usize)
                    .and_then(|r| r.get((y % 8) as usize))
                    .copied()
                    .unwrap_or(0);
                let Some(o) = out.next() else { return };
                *o = Rgb565::new(ordered(r, 31, t), ordered(g, 63, tg), ordered(b, 31, t));
            }
        }
    }
}

impl Palette for BinaryColor {
    fn role(role: Role) -> Self {
        match role {
            Role::Background | Role::Track | Role::Overlay => BinaryColor::Off,
            _ => BinaryColor::On,
        }
    }

    fn hsv(_hue: u16, _sat: u8, val: u8) -> Self {
        BinaryColor::from(val >= 128)
    }

    fn dither(rgb: &[u8], width: u32, height: u32, out: &mut [Self]) {
        // Floyd-Steinberg on luma: errors of this row and the next, with a guard column
        // on each side (so x - 1 and x + 1 never leave the arrays).
        let w = width as usize;
        let diffuse = w <= DITHER_MAX_WIDTH;
        let mut cur = [0i16; DITHER_MAX_WIDTH + 2];
        let mut next = [0i16; DITHER_MAX_WIDTH + 2];
        let mut px = rgb.chunks_exact(3);
        let mut out = out.iter_mut();
        for _ in 0..height {
            for x in 0..w {
                let y = match px.next() {
                    Some(&[r, g, b]) => luma(r, g, b),
                    _ => 0,
                };
                let Some(o) = out.next() else { return };
                if !diffuse {
                    *o = BinaryColor::from(y >= 128);
                    continue;
                }
                let v = y + cur.get(x + 1).copied().unwrap_or(0) / 16;
                let on = v >= 128;
                *o = BinaryColor::from(on);
                let err = v - if on { 255 } else { 0 };
                let spread = |arr: &mut [i16], i: usize, k: i16| {
                    if let Some(e) = arr.get_mut(i) {
                        *e = e.saturating_add(err.saturating_mul(k));
                    }
                };
                spread(&mut cur, x + 2, 7);
                spread(&mut next, x, 3);
                spread(&mut next, x + 1, 5);
                spread(&mut next, x + 2, 1);
            }
            cur = next;
            next = [0; DITHER_MAX_WIDTH + 2];
        }
    }
}

/// HSV to RGB in integer arithmetic.
pub(crate) fn hsv888(hue: u16, sat: u8, val: u8) -> Rgb888 {
    let h = u32::from(hue % 360);
    let (s, v) = (u32::from(sat), u32::from(val));
    let region = h / 60;
    let rem = (h % 60) * 255 / 60;
    let p = v * (255 - s) / 255;
    let q = v * (255 - s * rem / 255) / 255;
    let t = v * (255 - s * (255 - rem) / 255) / 255;
    let (r, g, b) = match region {
        0 => (v, t, p),
        1 => (q, v, p),
        2 => (p, v, t),
        3 => (p, q, v),
        4 => (t, p, v),
        _ => (v, p, q),
    };
    let c = |x: u32| u8::try_from(x.min(255)).unwrap_or(255);
    Rgb888::new(c(r), c(g), c(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hsv_primaries() {
        assert_eq!(hsv888(0, 255, 255), Rgb888::new(255, 0, 0));
        assert_eq!(hsv888(120, 255, 255), Rgb888::new(0, 255, 0));
        assert_eq!(hsv888(240, 255, 255), Rgb888::new(0, 0, 255));
        assert_eq!(hsv888(77, 0, 200), Rgb888::new(200, 200, 200));
    }
}
