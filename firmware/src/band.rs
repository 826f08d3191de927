//! The band renderer: a frame (or a changed region of it) drawn in horizontal bands into
//! a caller-provided buffer, each band handed to a sink as an SPI display driver would
//! push it. No full framebuffer is needed, and since every pixel of a band is composed in
//! RAM before it is pushed, the display never shows a half-drawn (cleared) region.

use core::convert::Infallible;

use embedded_graphics::prelude::*;
use embedded_graphics::primitives::Rectangle;

/// Where finished bands go: a display driver's "write this window" call, a checksum, a
/// test recorder.
pub trait BandSink<C> {
    /// The sink's error.
    type Error;

    /// Receives the pixels of `area`, row-major (`area.size.width` per row). Bands
    /// arrive top to bottom.
    fn push_band(&mut self, area: Rectangle, pixels: &[C]) -> Result<(), Self::Error>;
}

/// A [`BandSink`] that writes each band into a `DrawTarget` with `fill_contiguous`
/// (one window write per band on display drivers that implement it).
#[derive(Debug)]
pub struct DrawTargetSink<'a, D>(pub &'a mut D);

impl<D: DrawTarget> BandSink<D::Color> for DrawTargetSink<'_, D> {
    type Error = D::Error;

    fn push_band(&mut self, area: Rectangle, pixels: &[D::Color]) -> Result<(), D::Error> {
        self.0.fill_contiguous(&area, pixels.iter().copied())
    }
}

/// Errors of [`BandRenderer::render`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BandError<E> {
    /// The buffer cannot hold one row of the area: give a buffer of at least the
    /// display's width in pixels.
    BufferTooSmall,
    /// The sink failed.
    Sink(E),
}

impl<E: core::fmt::Display> core::fmt::Display for BandError<E> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            BandError::BufferTooSmall => f.write_str("band buffer smaller than one row"),
            BandError::Sink(e) => write!(f, "band sink: {e}"),
        }
    }
}

/// Renders areas band by band into a borrowed buffer.
#[derive(Debug)]
pub struct BandRenderer<'b, C> {
    buf: &'b mut [C],
    display: Size,
}

impl<'b, C: PixelColor> BandRenderer<'b, C> {
    /// A renderer for a display of `display` size using `buf` (at least one row wide;
    /// the more rows it holds, the fewer bands and draw passes).
    pub fn new(buf: &'b mut [C], display: Size) -> Self {
        BandRenderer { buf, display }
    }

    /// Draws `area` (clipped to the display): for each band, fills the band with
    /// `background`, calls `draw` with a [`BandTarget`] that keeps only the band's
    /// pixels, then pushes the band to `sink`. Returns the number of bands.
    pub fn render<S, F>(
        &mut self,
        area: Rectangle,
        background: C,
        mut draw: F,
        sink: &mut S,
    ) -> Result<u32, BandError<S::Error>>
    where
        S: BandSink<C>,
        F: FnMut(&mut BandTarget<'_, C>),
    {
        let area = area.intersection(&Rectangle::new(Point::zero(), self.display));
        let width = area.size.width as usize;
        if width == 0 || area.size.height == 0 {
            return Ok(0);
        }
        let rows_fit = self.buf.len() / width;
        if rows_fit == 0 {
            return Err(BandError::BufferTooSmall);
        }
        let rows_fit = u32::try_from(rows_fit).unwrap_or(u32::MAX);
        let mut bands = 0;
        let mut y = 0u32;
        while y < area.size.height {
            let rows = rows_fit.min(area.size.height - y);
            let band = Rectangle::new(
                area.top_left + Point::new(0, i32::try_from(y).unwrap_or(i32::MAX)),
                Size::new(area.size.width, rows),
            );
            let len = width * rows as usize;
            let Some(pixels) = self.buf.get_mut(..len) else {
                return Err(BandError::BufferTooSmall);
            };
            pixels.fill(background);
            let mut target = BandTarget {
                pixels: &mut *pixels,
                band,
                display: self.display,
            };
            draw(&mut target);
            sink.push_band(band, pixels).map_err(BandError::Sink)?;
            bands += 1;
            y += rows;
        }
        Ok(bands)
    }
}

/// The `DrawTarget` a band is drawn through: the whole display's coordinates and
/// bounding box (so layouts work unchanged), keeping only the pixels inside the band.
#[derive(Debug)]
pub struct BandTarget<'a, C> {
    pixels: &'a mut [C],
    band: Rectangle,
    display: Size,
}

impl<C> BandTarget<'_, C> {
    /// The band's area on the display.
    pub fn band(&self) -> Rectangle {
        self.band
    }

    fn index(&self, p: Point) -> Option<usize> {
        let d = p - self.band.top_left;
        let (x, y) = (u32::try_from(d.x).ok()?, u32::try_from(d.y).ok()?);
        (x < self.band.size.width && y < self.band.size.height)
            .then(|| y as usize * self.band.size.width as usize + x as usize)
    }
}

impl<C: PixelColor> OriginDimensions for BandTarget<'_, C> {
    fn size(&self) -> Size {
        self.display
    }
}

impl<C: PixelColor> DrawTarget for BandTarget<'_, C> {
    type Color = C;
    type Error = Infallible;

    fn draw_iter<I>(&mut self, pixels: I) -> Result<(), Infallible>
    where
        I: IntoIterator<Item = Pixel<C>>,
    {
        for Pixel(p, c) in pixels {
            if let Some(slot) = self.index(p).and_then(|i| self.pixels.get_mut(i)) {
                *slot = c;
            }
        }
        Ok(())
    }

    fn fill_solid(&mut self, area: &Rectangle, color: C) -> Result<(), Infallible> {
        let a = area.intersection(&self.band);
        if a.size.width == 0 || a.size.height == 0 {
            return Ok(());
        }
        let w = self.band.size.width as usize;
        let x0 = (a.top_left.x - self.band.top_left.x).max(0) as usize;
        let y0 = (a.top_left.y - self.band.top_left.y).max(0) as usize;
        for row in y0..y0 + a.size.height as usize {
            let start = row * w + x0;
            if let Some(run) = self.pixels.get_mut(start..start + a.size.width as usize) {
                run.fill(color);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use embedded_graphics::mock_display::MockDisplay;
    use embedded_graphics::pixelcolor::BinaryColor;
    use embedded_graphics::primitives::{Circle, PrimitiveStyle};

    fn scene<D: DrawTarget<Color = BinaryColor>>(d: &mut D) {
        let _ = Circle::new(Point::new(1, 1), 6)
            .into_styled(PrimitiveStyle::with_fill(BinaryColor::On))
            .draw(d);
    }

    #[test]
    fn banded_equals_direct() {
        let size = Size::new(8, 8);
        let mut direct = MockDisplay::new();
        direct.set_allow_overdraw(true);
        direct
            .fill_solid(&Rectangle::new(Point::zero(), size), BinaryColor::Off)
            .unwrap();
        scene(&mut direct);
        for buf_len in [8, 16, 24, 64] {
            let mut buf = [BinaryColor::Off; 64];
            let mut banded = MockDisplay::new();
            let mut r = BandRenderer::new(&mut buf[..buf_len], size);
            let whole = Rectangle::new(Point::zero(), size);
            let bands = r
                .render(
                    whole,
                    BinaryColor::Off,
                    |t| scene(t),
                    &mut DrawTargetSink(&mut banded),
                )
                .unwrap();
            assert_eq!(bands, 8u32.div_ceil(buf_len as u32 / 8));
            banded.assert_eq(&direct);
        }
    }

    #[test]
    fn buffer_smaller_than_a_row_is_an_error() {
        let mut buf = [BinaryColor::Off; 4];
        let mut r = BandRenderer::new(&mut buf, Size::new(8, 8));
        let mut out = MockDisplay::<BinaryColor>::new();
        let err = r
            .render(
                Rectangle::new(Point::zero(), Size::new(8, 8)),
                BinaryColor::Off,
                |_| {},
                &mut DrawTargetSink(&mut out),
            )
            .unwrap_err();
        assert_eq!(err, BandError::BufferTooSmall);
    }

    #[test]
    fn area_is_clipped_to_display() {
        let mut buf = [BinaryColor::Off; 64];
        let mut r = BandRenderer::new(&mut buf, Size::new(8, 8));
        let mut out = MockDisplay::<BinaryColor>::new();
        r.render(
            Rectangle::new(Point::new(6, 6), Size::new(10, 10)),
            BinaryColor::On,
            |_| {},
            &mut DrawTargetSink(&mut out),
        )
        .unwrap();
        assert_eq!(
            out.affected_area(),
            Rectangle::new(Point::new(6, 6), Size::new(2, 2))
        );
    }
}
