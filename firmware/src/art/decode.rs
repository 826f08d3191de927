//! Decoding: JPEG bytes to RGB888 through zune-jpeg (no_std + alloc), bounded by
//! [`DecodeLimits`] before anything big is allocated; scaled to the art box with a box
//! filter ([`scale_box`]) and dithered to the display's colors ([`Cover`]).

extern crate alloc;

use alloc::vec::Vec;

use embedded_graphics::prelude::*;
use zune_jpeg::JpegDecoder;
use zune_jpeg::zune_core::colorspace::ColorSpace;
use zune_jpeg::zune_core::options::DecoderOptions;

use super::{ArtError, MAX_IMAGE_BYTES};
use crate::color::Palette;
use crate::frame::CoverView;

/// Bounds on what is decoded, checked from the JPEG's header before its pixels are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// The longest side accepted.
    pub max_side: u32,
    /// The most pixels accepted (width x height).
    pub max_pixels: u32,
}

impl DecodeLimits {
    /// Spotify's largest cover (640 x 640) and anything smaller.
    pub const DESKTOP: DecodeLimits = DecodeLimits {
        max_side: 1024,
        max_pixels: 640 * 640,
    };
    /// The 300 px cover and smaller (about 315 KB of heap while decoding).
    pub const MEDIUM: DecodeLimits = DecodeLimits {
        max_side: 320,
        max_pixels: 320 * 320,
    };
    /// The 64 px cover only (about 23 KB of heap while decoding).
    pub const SMALL: DecodeLimits = DecodeLimits {
        max_side: 64,
        max_pixels: 64 * 64,
    };
}

/// Decodes `jpeg` to RGB888 (3 bytes a pixel, rows top to bottom): `(pixels, width,
/// height)`. Grayscale and CMYK images come out as RGB too.
pub fn decode_rgb(jpeg: &[u8], limits: DecodeLimits) -> Result<(Vec<u8>, u32, u32), ArtError> {
    if jpeg.len() > MAX_IMAGE_BYTES {
        return Err(ArtError::TooLarge);
    }
    // The decoder's own limits are wide (its refusal is a text); ours are checked below,
    // after the header and before any pixel buffer.
    let options = DecoderOptions::default()
        .set_max_width(usize::from(u16::MAX))
        .set_max_height(usize::from(u16::MAX))
        .jpeg_set_out_colorspace(ColorSpace::RGB);
    let mut decoder = JpegDecoder::new_with_options(jpeg, options);
    decoder.decode_headers().map_err(|e| match e {
        zune_jpeg::errors::DecodeErrors::LargeDimensions(_) => ArtError::Dimensions,
        _ => ArtError::Corrupt,
    })?;
    let (w, h) = decoder
        .info()
        .map(|i| (u32::from(i.width), u32::from(i.height)))
        .ok_or(ArtError::Corrupt)?;
    if w == 0
        || h == 0
        || w > limits.max_side
        || h > limits.max_side
        || u64::from(w) * u64::from(h) > u64::from(limits.max_pixels)
    {
        return Err(ArtError::Dimensions);
    }
    let pixels = usize::try_from(u64::from(w) * u64::from(h)).map_err(|_| ArtError::Dimensions)?;
    // RGB, or one channel for a grayscale image (zune-jpeg keeps those gray).
    let size = decoder.output_buffer_size().ok_or(ArtError::Dimensions)?;
    let gray = size == pixels;
    if !gray && Some(size) != pixels.checked_mul(3) {
        return Err(ArtError::Corrupt);
    }
    let mut out = Vec::new();
    out.try_reserve_exact(pixels.saturating_mul(3))
        .map_err(|_| ArtError::OutOfMemory)?;
    out.resize(pixels.saturating_mul(3), 0);
    decoder
        .decode_into(&mut out)
        .map_err(|_| ArtError::Corrupt)?;
    if gray {
        // Spread the gray bytes to RGB in place, from the end.
        for i in (0..pixels).rev() {
            let v = out.get(i).copied().unwrap_or(0);
            if let Some(px) = out.get_mut(i * 3..i * 3 + 3) {
                px.fill(v);
            }
        }
    }
    Ok((out, w, h))
}

/// Scales `src` (RGB888, `sw` x `sh`) to `dw` x `dh` with a box filter (each output pixel
/// the mean of the source pixels it covers; a source smaller than the box is repeated),
/// after cutting the source's center to the box's aspect ratio. Appends to `out`.
pub fn scale_box(
    src: &[u8],
    sw: u32,
    sh: u32,
    dw: u32,
    dh: u32,
    out: &mut Vec<u8>,
) -> Result<(), ArtError> {
    let need = u64::from(sw) * u64::from(sh) * 3;
    if sw == 0 || sh == 0 || dw == 0 || dh == 0 || (src.len() as u64) < need {
        return Err(ArtError::Dimensions);
    }
    let bytes =
        usize::try_from(u64::from(dw) * u64::from(dh) * 3).map_err(|_| ArtError::Dimensions)?;
    out.try_reserve_exact(bytes)
        .map_err(|_| ArtError::OutOfMemory)?;
    let (sw64, sh64, dw64, dh64) = (u64::from(sw), u64::from(sh), u64::from(dw), u64::from(dh));
    // The centered crop with the box's aspect ratio.
    let (cw, ch) = if sw64 * dh64 > sh64 * dw64 {
        ((sh64 * dw64 / dh64).max(1), sh64)
    } else {
        (sw64, (sw64 * dh64 / dw64).max(1))
    };
    let (cx, cy) = ((sw64 - cw) / 2, (sh64 - ch) / 2);
    let span = |o: u64, d: u64, c: u64, off: u64, max: u64| {
        let a = off + o * c / d;
        let b = (off + (o + 1) * c / d).max(a + 1).min(max);
        (a.min(max.saturating_sub(1)), b)
    };
    for oy in 0..dh64 {
        let (y0, y1) = span(oy, dh64, ch, cy, sh64);
        for ox in 0..dw64 {
            let (x0, x1) = span(ox, dw64, cw, cx, sw64);
            let mut sum = [0u64; 3];
            let mut n = 0u64;
            for y in y0..y1 {
                let row = usize::try_from((y * sw64 + x0) * 3).unwrap_or(usize::MAX);
                let end = usize::try_from((y * sw64 + x1) * 3).unwrap_or(usize::MAX);
                for px in src.get(row..end).unwrap_or(&[]).chunks_exact(3) {
                    for (s, v) in sum.iter_mut().zip(px) {
                        *s += u64::from(*v);
                    }
                    n += 1;
                }
            }
            let n = n.max(1);
            for s in sum {
                out.push(u8::try_from((s + n / 2) / n).unwrap_or(255));
            }
        }
    }
    Ok(())
}

/// A decoded cover in the display's colors, of the art box's size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cover<C> {
    size: Size,
    pixels: Vec<C>,
}

impl<C: Palette> Cover<C> {
    /// Its size.
    pub fn size(&self) -> Size {
        self.size
    }

    /// Its pixels, row by row.
    pub fn pixels(&self) -> &[C] {
        &self.pixels
    }

    /// Bytes of pixels held.
    pub fn bytes(&self) -> usize {
        self.pixels.len() * size_of::<C>()
    }

    /// This cover for a [`Frame`](crate::Frame), under `key` (see
    /// [`art_key`](crate::view::art_key)).
    pub fn view(&self, key: u32) -> CoverView<'_, C> {
        CoverView {
            key,
            size: self.size,
            pixels: &self.pixels,
        }
    }

    /// A cover from RGB888 pixels already of `size` (dithered here).
    pub fn from_rgb(rgb: &[u8], size: Size) -> Result<Cover<C>, ArtError> {
        let n = usize::try_from(u64::from(size.width) * u64::from(size.height))
            .map_err(|_| ArtError::Dimensions)?;
        let mut pixels = Vec::new();
        pixels
            .try_reserve_exact(n)
            .map_err(|_| ArtError::OutOfMemory)?;
        pixels.resize(n, C::default());
        C::dither(rgb, size.width, size.height, &mut pixels);
        Ok(Cover { size, pixels })
    }
}

/// Decodes `jpeg`, scales it to `size` and dithers it (see the [module docs](super)).
pub fn decode_cover<C: Palette>(
    jpeg: &[u8],
    size: Size,
    limits: DecodeLimits,
) -> Result<Cover<C>, ArtError> {
    let (rgb, w, h) = decode_rgb(jpeg, limits)?;
    let mut scaled = Vec::new();
    scale_box(&rgb, w, h, size.width, size.height, &mut scaled)?;
    drop(rgb);
    Cover::from_rgb(&scaled, size)
}

#[cfg(test)]
mod tests {
    use super::*;
    use embedded_graphics::pixelcolor::{BinaryColor, Rgb565};
    use std::vec;

    /// A test image: `f(x, y) -> [r, g, b]`.
    fn image(w: u32, h: u32, f: impl Fn(u32, u32) -> [u8; 3]) -> Vec<u8> {
        let mut v = Vec::new();
        for y in 0..h {
            for x in 0..w {
                v.extend_from_slice(&f(x, y));
            }
        }
        v
    }

    fn jpeg(w: u32, h: u32, rgb: &[u8], quality: u8) -> Vec<u8> {
        let mut out = Vec::new();
        jpeg_encoder::Encoder::new(&mut out, quality)
            .encode(rgb, w as u16, h as u16, jpeg_encoder::ColorType::Rgb)
            .unwrap();
        out
    }

    fn pattern(x: u32, y: u32) -> [u8; 3] {
        [(x * 4) as u8, (y * 4) as u8, ((x ^ y) * 2) as u8]
    }

    #[test]
    fn decodes_baseline_progressive_and_grayscale() {
        let rgb = image(64, 64, pattern);
        let base = jpeg(64, 64, &rgb, 90);
        let mut prog = Vec::new();
        let mut enc = jpeg_encoder::Encoder::new(&mut prog, 90);
        enc.set_progressive(true);
        enc.encode(&rgb, 64, 64, jpeg_encoder::ColorType::Rgb)
            .unwrap();
        let gray: Vec<u8> = (0..64 * 64).map(|i| (i % 64 * 4) as u8).collect();
        let mut g = Vec::new();
        jpeg_encoder::Encoder::new(&mut g, 90)
            .encode(&gray, 64, 64, jpeg_encoder::ColorType::Luma)
            .unwrap();
        for (name, bytes) in [("baseline", &base), ("progressive", &prog), ("gray", &g)] {
            let (px, w, h) = decode_rgb(bytes, DecodeLimits::SMALL).unwrap();
            assert_eq!((w, h, px.len()), (64, 64, 64 * 64 * 3), "{name}");
            // Close to the source (JPEG is lossy).
            let src = if name == "gray" {
                gray.iter().flat_map(|v| [*v; 3]).collect()
            } else {
                rgb.clone()
            };
            let err: u64 = px
                .iter()
                .zip(&src)
                .map(|(a, b)| u64::from(a.abs_diff(*b)))
                .sum();
            assert!(
                err / (px.len() as u64) < 8,
                "{name}: mean error {}",
                err / px.len() as u64
            );
        }
    }

    #[test]
    fn corrupt_truncated_oversized_and_huge_give_errors() {
        let rgb = image(64, 64, pattern);
        let good = jpeg(64, 64, &rgb, 80);
        let big = jpeg(400, 400, &image(400, 400, pattern), 80);
        let mut flipped = good.clone();
        for i in (200..flipped.len()).step_by(7) {
            flipped[i] ^= 0x5a;
        }
        let size = Size::new(42, 42);
        let table: Vec<(&str, Vec<u8>)> = vec![
            ("empty", vec![]),
            ("png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec()),
            ("header only", good[..20].to_vec()),
            ("truncated", good[..good.len() / 2].to_vec()),
            ("flipped", flipped),
            ("too many pixels", big.clone()),
            ("too many bytes", vec![0xff; MAX_IMAGE_BYTES + 1]),
        ];
        for (name, bytes) in table {
            // Never a panic; a cover of the right size or an error.
            match decode_cover::<Rgb565>(&bytes, size, DecodeLimits::SMALL) {
                Ok(c) => assert_eq!(c.pixels().len(), 42 * 42, "{name}"),
                Err(e) => assert!(!e.to_string().is_empty(), "{name}"),
            }
        }
        for (name, bytes, want) in [
            ("empty", vec![], ArtError::Corrupt),
            ("header only", good[..20].to_vec(), ArtError::Corrupt),
            ("too many pixels", big, ArtError::Dimensions),
            (
                "too many bytes",
                vec![0xff; MAX_IMAGE_BYTES + 1],
                ArtError::TooLarge,
            ),
        ] {
            assert_eq!(
                decode_cover::<Rgb565>(&bytes, size, DecodeLimits::SMALL).err(),
                Some(want),
                "{name}"
            );
        }
    }

    #[test]
    fn every_prefix_of_a_jpeg_is_safe() {
        let good = jpeg(32, 32, &image(32, 32, pattern), 70);
        for n in 0..good.len() {
            let _ = decode_cover::<BinaryColor>(&good[..n], Size::new(16, 16), DecodeLimits::SMALL);
        }
    }

    #[test]
    fn box_filter_means_and_crops() {
        // A 4x2 image to 1x1: the centered 2x2 crop's mean.
        let src = image(4, 2, |x, _| [(x * 60) as u8, 0, 255]);
        let mut out = Vec::new();
        scale_box(&src, 4, 2, 1, 1, &mut out).unwrap();
        assert_eq!(out, vec![90, 0, 255]);
        // Upscaling repeats pixels.
        let mut out = Vec::new();
        scale_box(&[10, 20, 30], 1, 1, 3, 2, &mut out).unwrap();
        assert_eq!(out, [10, 20, 30].repeat(6));
        // Halving averages 2x2 blocks.
        let src = image(4, 4, |x, y| [((x / 2) * 100 + (y % 2) * 10) as u8, 0, 0]);
        let mut out = Vec::new();
        scale_box(&src, 4, 4, 2, 2, &mut out).unwrap();
        assert_eq!(out, vec![5, 0, 0, 105, 0, 0, 5, 0, 0, 105, 0, 0]);
        assert_eq!(
            scale_box(&src[..10], 4, 4, 2, 2, &mut Vec::new()),
            Err(ArtError::Dimensions)
        );
    }

    /// Mean level per column of a horizontal gradient, over 8 rows: a dithered cover
    /// steps smoothly (many levels, short runs), a plainly quantized one in bands.
    #[test]
    fn gradient_shows_no_bands() {
        let (w, h) = (104u32, 16u32);
        // A subtle dark gradient: 40 to 72 in red (5 bits: about 4 levels).
        let rgb = image(w, h, |x, _| [(40 + x * 32 / w) as u8, 0, 0]);
        let mut dithered = vec![Rgb565::default(); (w * h) as usize];
        Rgb565::dither(&rgb, w, h, &mut dithered);
        let column_means = |px: &[Rgb565]| -> Vec<u32> {
            (0..w)
                .map(|x| {
                    (0..8)
                        .map(|y| u32::from(px[(y * w + x) as usize].r()))
                        .sum()
                })
                .collect()
        };
        let d = column_means(&dithered);
        let plain: Vec<Rgb565> = rgb
            .chunks(3)
            .map(|p| Rgb565::new(p[0] >> 3, 0, 0))
            .collect();
        let p = column_means(&plain);
        let distinct = |v: &[u32]| {
            let mut s = v.to_vec();
            s.sort();
            s.dedup();
            s.len()
        };
        let longest_run = |v: &[u32]| {
            v.chunk_by(|a, b| a == b)
                .map(|r| r.len())
                .max()
                .unwrap_or(0)
        };
        assert!(distinct(&p) <= 5, "plain: {}", distinct(&p));
        assert!(longest_run(&p) >= 20, "plain bands: {}", longest_run(&p));
        assert!(distinct(&d) >= 16, "dithered levels: {}", distinct(&d));
        assert!(longest_run(&d) <= 8, "dithered run: {}", longest_run(&d));
        // And the mean is kept.
        let mean = |v: &[u32]| v.iter().sum::<u32>() as f64 / v.len() as f64 / 8.0 * 255.0 / 31.0;
        let want = rgb.chunks(3).map(|p| f64::from(p[0])).sum::<f64>() / f64::from(w * h);
        assert!((mean(&d) - want).abs() < 2.0, "{} vs {want}", mean(&d));
    }

    #[test]
    fn mono_error_diffusion_keeps_gray_levels() {
        let (w, h) = (64u32, 32u32);
        let rgb = image(w, h, |x, _| [(x * 4) as u8; 3]);
        let mut out = vec![BinaryColor::Off; (w * h) as usize];
        BinaryColor::dither(&rgb, w, h, &mut out);
        // Ink per 8-column block grows with the gray level.
        let ink: Vec<usize> = (0..8)
            .map(|b| {
                (0..h)
                    .flat_map(|y| (b * 8..b * 8 + 8).map(move |x| (y * w + x) as usize))
                    .filter(|i| out[*i].is_on())
                    .count()
            })
            .collect();
        assert!(ink.windows(2).all(|p| p[0] <= p[1] + 2), "{ink:?}");
        assert!(ink[0] < 16 && ink[7] > 200, "{ink:?}");
        // Short input: the rest stays black, no panic.
        let mut out = vec![BinaryColor::On; 100];
        BinaryColor::dither(&[255; 30], 10, 10, &mut out);
        assert!(out[20..].iter().all(|c| c.is_off()));
        Rgb565::dither(&[], 400, 400, &mut []);
        BinaryColor::dither(&[1, 2], 1000, 2, &mut [BinaryColor::Off; 3]);
    }
}
