//! The board's "panel": the band renderer's bands hashed into the frame checksum (the
//! FNV-1a the host prints with `tonearm render ... --checksum`). A run of full-width
//! bands from row 0 to the last row is a whole frame: its checksum is printed, as
//! `frame <checksum>`, after the event line of the screen it shows.

use embedded_graphics::pixelcolor::Rgb565;
use embedded_graphics::primitives::Rectangle;
use tonearm_firmware::{BandSink, ChecksumColor, Fnv1a};

use crate::println;

/// The panel's size: 240x240, as the ESP32-C3's ST7789.
pub const WIDTH: u32 = 240;
/// Rows.
pub const HEIGHT: u32 = 240;
/// Rows per band: 20 rows of 240 Rgb565 pixels are 9 600 bytes (as on the ESP32-C3).
pub const BAND_ROWS: usize = 20;
/// Pixels in the band buffer.
pub const BAND_PIXELS: usize = WIDTH as usize * BAND_ROWS;

/// Hashes what is drawn; prints each whole frame's checksum.
#[derive(Default)]
pub struct FrameSink {
    hash: Fnv1a,
    /// The next row a whole frame in progress expects.
    next_row: Option<u32>,
    /// Frames drawn whole, and pixels pushed in all.
    pub frames: u32,
    /// Pixels pushed.
    pub pixels: u64,
}

impl BandSink<Rgb565> for FrameSink {
    type Error = core::convert::Infallible;

    fn push_band(&mut self, area: Rectangle, pixels: &[Rgb565]) -> Result<(), Self::Error> {
        self.pixels += pixels.len() as u64;
        let full_width = area.top_left.x == 0 && area.size.width == WIDTH;
        let y = u32::try_from(area.top_left.y).unwrap_or(u32::MAX);
        self.next_row = match (full_width, y, self.next_row) {
            (true, 0, _) => {
                self.hash = Fnv1a::new();
                Some(0)
            }
            (true, y, Some(next)) if y == next => Some(next),
            _ => None,
        };
        if let Some(next) = self.next_row {
            for p in pixels {
                p.hash_into(&mut self.hash);
            }
            let end = next + area.size.height;
            if end >= HEIGHT {
                self.frames += 1;
                println!("frame {:08x}", self.hash.finish());
                self.next_row = None;
            } else {
                self.next_row = Some(end);
            }
        }
        Ok(())
    }
}
