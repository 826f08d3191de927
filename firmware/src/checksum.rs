//! The frame checksum: FNV-1a 32 over the pixels, row-major.
//!
//! Rgb565 pixels count as their little-endian `u16`; BinaryColor pixels as one byte, 0
//! or 1. Boards print it and so does the host, so a frame can be compared across them.

use embedded_graphics::pixelcolor::raw::RawU16;
use embedded_graphics::pixelcolor::{BinaryColor, Rgb565};
use embedded_graphics::prelude::*;
use embedded_graphics::primitives::Rectangle;

use crate::band::BandSink;

/// FNV-1a, 32 bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fnv1a(u32);

impl Fnv1a {
    const OFFSET: u32 = 0x811c_9dc5;
    const PRIME: u32 = 0x0100_0193;

    /// A hasher in its initial state.
    pub const fn new() -> Fnv1a {
        Fnv1a(Self::OFFSET)
    }

    /// Hashes `bytes`.
    pub fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u32::from(*b)).wrapping_mul(Self::PRIME);
        }
    }

    /// Hashes one `u32` (little-endian), for fingerprints.
    pub fn write_u32(&mut self, v: u32) {
        self.write(&v.to_le_bytes());
    }

    /// Hashes one `u64` (little-endian), for fingerprints.
    pub fn write_u64(&mut self, v: u64) {
        self.write(&v.to_le_bytes());
    }

    /// The hash so far.
    pub const fn finish(&self) -> u32 {
        self.0
    }
}

impl Default for Fnv1a {
    fn default() -> Self {
        Fnv1a::new()
    }
}

/// A color the frame checksum knows how to hash.
pub trait ChecksumColor: PixelColor {
    /// Feeds this pixel to `h` (Rgb565: little-endian u16; BinaryColor: 0 or 1).
    fn hash_into(self, h: &mut Fnv1a);
}

impl ChecksumColor for Rgb565 {
    fn hash_into(self, h: &mut Fnv1a) {
        h.write(&RawU16::from(self).into_inner().to_le_bytes());
    }
}

impl ChecksumColor for BinaryColor {
    fn hash_into(self, h: &mut Fnv1a) {
        h.write(&[u8::from(self.is_on())]);
    }
}

/// Checksum of pixels given in row-major order.
pub fn checksum_pixels<C: ChecksumColor>(pixels: impl IntoIterator<Item = C>) -> u32 {
    let mut h = Fnv1a::new();
    for p in pixels {
        p.hash_into(&mut h);
    }
    h.finish()
}

/// A [`BandSink`] that hashes the bands it is given. The bands must cover the frame
/// full-width, top to bottom (as [`crate::band::BandRenderer::render`] of the whole
/// screen hands them), so the hash is the row-major frame checksum.
#[derive(Debug, Default)]
pub struct ChecksumSink {
    hash: Fnv1a,
}

impl ChecksumSink {
    /// A sink with nothing hashed yet.
    pub const fn new() -> ChecksumSink {
        ChecksumSink { hash: Fnv1a::new() }
    }

    /// The checksum of everything pushed so far.
    pub const fn checksum(&self) -> u32 {
        self.hash.finish()
    }
}

impl<C: ChecksumColor> BandSink<C> for ChecksumSink {
    type Error = core::convert::Infallible;

    fn push_band(&mut self, _area: Rectangle, pixels: &[C]) -> Result<(), Self::Error> {
        for p in pixels {
            p.hash_into(&mut self.hash);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_reference_values() {
        // Published FNV-1a 32 test vectors.
        for (input, want) in [
            (&b""[..], 0x811c_9dc5),
            (b"a", 0xe40c_292c),
            (b"foobar", 0xbf9c_f968),
        ] {
            let mut h = Fnv1a::new();
            h.write(input);
            assert_eq!(h.finish(), want);
        }
    }

    #[test]
    fn pixel_encodings() {
        // Rgb565 white is 0xFFFF (two 0xFF bytes); BinaryColor is one byte per pixel.
        let mut h = Fnv1a::new();
        h.write(&[0xff, 0xff, 0x00, 0xf8]);
        assert_eq!(checksum_pixels([Rgb565::WHITE, Rgb565::RED]), h.finish());
        let mut h = Fnv1a::new();
        h.write(&[1, 0]);
        assert_eq!(
            checksum_pixels([BinaryColor::On, BinaryColor::Off]),
            h.finish()
        );
    }
}
