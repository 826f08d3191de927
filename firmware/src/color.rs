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

/// A pixel color the screens can draw in: a color per [`Role`] and the art
/// placeholder's colors.
pub trait Palette: PixelColor + Default {
    /// Only on and off: layouts use outlines and inversion instead of shades.
    const MONO: bool;

    /// The color of `role`.
    fn role(role: Role) -> Self;

    /// A color of the art placeholder from hue (0..360), saturation and value (0..=255).
    fn hsv(hue: u16, sat: u8, val: u8) -> Self;
}

const fn rgb(r: u8, g: u8, b: u8) -> Rgb565 {
    Rgb565::new(r >> 3, g >> 2, b >> 3)
}

impl Palette for Rgb565 {
    const MONO: bool = false;

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
}

impl Palette for BinaryColor {
    const MONO: bool = true;

    fn role(role: Role) -> Self {
        match role {
            Role::Background | Role::Track | Role::Overlay => BinaryColor::Off,
            _ => BinaryColor::On,
        }
    }

    fn hsv(_hue: u16, _sat: u8, val: u8) -> Self {
        BinaryColor::from(val >= 128)
    }
}

/// HSV to RGB in integer arithmetic.
fn hsv888(hue: u16, sat: u8, val: u8) -> Rgb888 {
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
