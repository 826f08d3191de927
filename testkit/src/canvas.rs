//! The test canvas: a frame buffer that remembers each pixel's color, which pixels were
//! ever written, and how many writes it took, so a test can check a picture, a region
//! redrawn or the cost of a frame.

use embedded_graphics::prelude::*;

/// A frame buffer of `size`, starting at the color's default (black).
///
/// Pixels outside it are dropped and not counted, as a display would, unless it is
/// [strict](Canvas::strict): then one fails the test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Canvas<C> {
    size: Size,
    pixels: Vec<C>,
    touched: Vec<bool>,
    written: u64,
    strict: bool,
}

impl<C: PixelColor + Default> Canvas<C> {
    /// A canvas of `size`.
    pub fn new(size: Size) -> Self {
        let n = (size.width * size.height) as usize;
        Canvas {
            size,
            pixels: vec![C::default(); n],
            touched: vec![false; n],
            written: 0,
            strict: false,
        }
    }

    /// A canvas of `size` that panics on a pixel outside it.
    pub fn strict(size: Size) -> Self {
        Canvas {
            strict: true,
            ..Canvas::new(size)
        }
    }
}

impl<C: PixelColor> Canvas<C> {
    /// The pixels, row by row.
    pub fn pixels(&self) -> &[C] {
        &self.pixels
    }

    /// The color at `p`, `None` outside the canvas.
    pub fn pixel(&self, p: Point) -> Option<C> {
        self.index(p).map(|i| self.pixels[i])
    }

    /// Whether the pixel at `i` (row by row) was ever written.
    pub fn touched(&self) -> &[bool] {
        &self.touched
    }

    /// The color at `p` if it was ever written.
    pub fn lit(&self, p: Point) -> Option<C> {
        self.index(p)
            .filter(|i| self.touched[*i])
            .map(|i| self.pixels[i])
    }

    /// Every pixel, row by row: its color if it was ever written, else `None` (what a
    /// strict display remembers, for comparing two pictures drawn on fresh canvases).
    pub fn lit_pixels(&self) -> Vec<Option<C>> {
        self.pixels
            .iter()
            .zip(&self.touched)
            .map(|(c, t)| t.then_some(*c))
            .collect()
    }

    /// Pixel writes inside the canvas since it was made or [`Canvas::reset_counts`].
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Forgets the writes and which pixels were touched; the picture stays.
    pub fn reset_counts(&mut self) {
        self.written = 0;
        self.touched.fill(false);
    }

    fn index(&self, p: Point) -> Option<usize> {
        (p.x >= 0 && p.y >= 0 && (p.x as u32) < self.size.width && (p.y as u32) < self.size.height)
            .then(|| p.y as usize * self.size.width as usize + p.x as usize)
    }
}

impl<C> OriginDimensions for Canvas<C> {
    fn size(&self) -> Size {
        self.size
    }
}

impl<C: PixelColor> DrawTarget for Canvas<C> {
    type Color = C;
    type Error = core::convert::Infallible;

    fn draw_iter<I: IntoIterator<Item = Pixel<C>>>(
        &mut self,
        pixels: I,
    ) -> Result<(), Self::Error> {
        for Pixel(p, c) in pixels {
            match self.index(p) {
                Some(i) => {
                    self.pixels[i] = c;
                    self.touched[i] = true;
                    self.written += 1;
                }
                None => assert!(!self.strict, "{p:?} is outside the display"),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use embedded_graphics::pixelcolor::Rgb565;
    use embedded_graphics::primitives::{PrimitiveStyle, Rectangle};

    #[test]
    fn records_colors_touches_and_writes() {
        let mut c = Canvas::<Rgb565>::new(Size::new(4, 3));
        Rectangle::new(Point::new(-1, 1), Size::new(3, 5))
            .into_styled(PrimitiveStyle::with_fill(Rgb565::RED))
            .draw(&mut c)
            .unwrap();
        assert_eq!(c.written(), 4, "only the pixels inside count");
        assert_eq!(c.pixel(Point::new(1, 2)), Some(Rgb565::RED));
        assert_eq!(c.pixel(Point::new(2, 2)), Some(Rgb565::BLACK));
        assert_eq!(c.lit(Point::new(2, 2)), None);
        assert_eq!(c.pixel(Point::new(4, 0)), None);
        let lit = c.lit_pixels();
        assert_eq!(
            (lit[4], lit[9], lit[0]),
            (Some(Rgb565::RED), Some(Rgb565::RED), None)
        );
        c.reset_counts();
        assert_eq!((c.written(), c.lit(Point::new(1, 2))), (0, None));
        assert_eq!(c.pixel(Point::new(1, 2)), Some(Rgb565::RED), "picture kept");
    }

    #[test]
    #[should_panic(expected = "outside the display")]
    fn strict_fails_outside() {
        let mut c = Canvas::<Rgb565>::strict(Size::new(2, 2));
        let _ = Pixel(Point::new(2, 0), Rgb565::RED).draw(&mut c);
    }
}
