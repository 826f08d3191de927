//! For the demo and the tests only, not used by the app: a generated cover pattern, so
//! that no one's artwork is bundled. (`tonearm demo` serves these as its covers; the
//! golden tests and the art bench encode them as JPEGs.)

extern crate alloc;

use alloc::vec::Vec;

/// A generated cover, `side` x `side` RGB888 pixels: a diagonal two-hue gradient with a
/// few shapes chosen from `seed` (rings, a sun, stripes). The demo and the tests encode
/// these as JPEGs; no one's artwork is bundled.
pub fn pattern_rgb(seed: u32, side: u32) -> Vec<u8> {
    use embedded_graphics::pixelcolor::RgbColor;
    let side = side.clamp(1, 1024);
    let hue = u16::try_from(seed % 360).unwrap_or(0);
    let hue2 = (hue + 40 + u16::try_from((seed >> 9) % 100).unwrap_or(0)) % 360;
    let kind = (seed >> 20) % 3;
    let s = i64::from(side);
    let (cx, cy) = (s / 2 + (i64::from(seed >> 3) % 7 - 3) * s / 20, s / 2);
    let mut out = Vec::with_capacity(usize::try_from(side * side * 3).unwrap_or(0));
    for y in 0..s {
        for x in 0..s {
            // Background: a smooth diagonal gradient between the two hues.
            let t = u32::try_from((x + y) * 255 / (2 * s).max(1)).unwrap_or(0);
            let h = u32::from(hue) + (u32::from((hue2 + 360 - hue) % 360) * t) / 255;
            let v = 60 + (170 * (255 - t)) / 255;
            let mut c = crate::color::hsv888(
                u16::try_from(h % 360).unwrap_or(0),
                200,
                u8::try_from(v).unwrap_or(255),
            );
            let (dx, dy) = (x - cx, y - cy);
            let d2 = dx * dx + dy * dy;
            let r = s * 3 / 8;
            let inside = match kind {
                // Rings.
                0 => d2 < r * r && (d2 * 64 / (s * s).max(1)) % 4 < 2,
                // A sun.
                1 => d2 < r * r,
                // Stripes in a disc.
                _ => d2 < r * r && ((x - y).rem_euclid(s / 6 + 1)) < s / 12 + 1,
            };
            if inside {
                let shade = u8::try_from(230 - (d2 * 120 / (r * r).max(1)).min(200)).unwrap_or(30);
                c = crate::color::hsv888((hue + 180) % 360, 90, shade);
            }
            out.extend_from_slice(&[c.r(), c.g(), c.b()]);
        }
    }
    out
}
