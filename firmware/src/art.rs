//! Album art (feature `art`, needs a global allocator): JPEG covers decoded, scaled to
//! the art box with a box filter, dithered to the display's colors, kept in a small
//! cache by URL, and fetched under rules of their own.
//!
//! - [`decode_cover`]: JPEG bytes (baseline or progressive, color or grayscale) to a
//!   [`Cover`] of exactly the art box's size, through zune-jpeg (no_std + alloc) and
//!   [`scale_box`], then [`Palette::dither`] (ordered on Rgb565, error diffusion on
//!   BinaryColor). Every failure is an [`ArtError`]; nothing panics, and memory is
//!   bounded by [`DecodeLimits`] (the source's pixels) before anything big is allocated.
//! - [`CoverCache`]: the last [`CACHE_COVERS`] covers by URL, least recently used out.
//! - [`ArtFetcher`]: when a cover may be fetched (sans-IO, like the session). One fetch
//!   at a time and only of the cover on screen; at most [`FETCH_CEILING`] fetches in any
//!   [`FETCH_WINDOW_MS`]; after a failure a global backoff (doubling to a minute); a cover
//!   that is broken, too large or not found is never asked for again, one that timed out
//!   is retried later, at most [`MAX_ATTEMPTS`] times. A failure leaves the placeholder.
//!
//! Image fetches go to Spotify's image CDN (`i.scdn.co`), carry no token and are not
//! Web API calls: they do not count towards the session's ceiling of 12 API and token
//! requests per 30 s, which protects the Web API's rate limit. They do share the one
//! connection: the app starts one only while no API request is in flight and the next is
//! at least [`ART_GAP_MS`] away, so a cover never delays a poll by much.

extern crate alloc;

use alloc::vec::Vec;
use core::fmt;

use embedded_graphics::prelude::*;
use heapless::String;
use tonearm_core::URL_CAP;
use tonearm_core::session::Failure;
use zune_jpeg::JpegDecoder;
use zune_jpeg::zune_core::colorspace::ColorSpace;
use zune_jpeg::zune_core::options::DecoderOptions;

use crate::color::Palette;
use crate::frame::CoverView;
use crate::view::art_key;

/// The most bytes of one image accepted (a 640 px cover is 60-150 KB).
pub const MAX_IMAGE_BYTES: usize = 256 * 1024;
/// Covers kept in a [`CoverCache`].
pub const CACHE_COVERS: usize = 4;
/// At most this many image fetches ...
pub const FETCH_CEILING: usize = 6;
/// ... in any window of this many ms.
pub const FETCH_WINDOW_MS: u64 = 60_000;
/// Fetches of one URL that failed for a transient reason before it is given up.
pub const MAX_ATTEMPTS: u8 = 3;
/// An image fetch starts only when the session's next request is at least this far off.
pub const ART_GAP_MS: u64 = 1_000;
/// First wait after a failed fetch before any other; doubles up to [`ART_HOLD_MAX_MS`].
pub const ART_HOLD_MS: u64 = 2_000;
/// Longest wait after failed fetches.
pub const ART_HOLD_MAX_MS: u64 = 60_000;
/// First wait before the same URL is tried again after a transient failure (doubles).
pub const RETRY_URL_MS: u64 = 15_000;
/// Failed URLs remembered (older ones may be tried again, within the ceiling).
pub const FAILED_CAP: usize = 8;

/// Why a cover is not shown. The placeholder stays in every case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ArtError {
    /// The body is larger than [`MAX_IMAGE_BYTES`].
    TooLarge,
    /// The image has more pixels than [`DecodeLimits`] allow, or none.
    Dimensions,
    /// Not a JPEG this decoder reads (corrupt, truncated, another format).
    Corrupt,
    /// Memory for the image could not be had.
    OutOfMemory,
    /// The server answered with this non-2xx status.
    Status(u16),
    /// No complete response.
    Network(Failure),
}

impl ArtError {
    /// Whether fetching the same URL again could give another result.
    pub fn is_transient(self) -> bool {
        match self {
            ArtError::Network(_) | ArtError::OutOfMemory => true,
            ArtError::Status(s) => s == 429 || s >= 500,
            ArtError::TooLarge | ArtError::Dimensions | ArtError::Corrupt => false,
        }
    }
}

impl fmt::Display for ArtError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArtError::TooLarge => write!(f, "image larger than {MAX_IMAGE_BYTES} bytes"),
            ArtError::Dimensions => write!(f, "image dimensions out of bounds"),
            ArtError::Corrupt => write!(f, "not a readable JPEG"),
            ArtError::OutOfMemory => write!(f, "out of memory for the image"),
            ArtError::Status(s) => write!(f, "HTTP status {s}"),
            ArtError::Network(e) => write!(f, "network: {e:?}"),
        }
    }
}

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

/// Decodes `jpeg`, scales it to `size` and dithers it (see the [module docs](self)).
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

#[derive(Debug, Clone)]
struct Entry<C> {
    key: u32,
    url: String<URL_CAP>,
    cover: Cover<C>,
    used: u32,
}

/// The last [`CACHE_COVERS`] covers by URL; the least recently used goes first.
#[derive(Debug, Clone)]
pub struct CoverCache<C> {
    entries: heapless::Vec<Entry<C>, CACHE_COVERS>,
    tick: u32,
}

impl<C> Default for CoverCache<C> {
    fn default() -> Self {
        CoverCache {
            entries: heapless::Vec::new(),
            tick: 0,
        }
    }
}

impl<C: Palette> CoverCache<C> {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// Covers held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Bytes of pixels held (at most [`CACHE_COVERS`] art boxes).
    pub fn bytes(&self) -> usize {
        self.entries.iter().map(|e| e.cover.bytes()).sum()
    }

    fn find(&self, url: &str) -> Option<usize> {
        let key = art_key(url);
        self.entries
            .iter()
            .position(|e| e.key == key && e.url.as_str() == url)
    }

    /// The cover of `url`, marked as just used.
    pub fn get(&mut self, url: &str) -> Option<&Cover<C>> {
        let i = self.find(url)?;
        self.tick = self.tick.wrapping_add(1);
        let tick = self.tick;
        let e = self.entries.get_mut(i)?;
        e.used = tick;
        Some(&e.cover)
    }

    /// The cover of `url`, without marking it.
    pub fn peek(&self, url: &str) -> Option<&Cover<C>> {
        self.entries.get(self.find(url)?).map(|e| &e.cover)
    }

    /// Keeps `cover` for `url` (a URL longer than [`URL_CAP`] is not kept), dropping the
    /// least recently used when full.
    pub fn insert(&mut self, url: &str, cover: Cover<C>) {
        let Ok(u) = String::try_from(url) else {
            return;
        };
        self.tick = self.tick.wrapping_add(1);
        let entry = Entry {
            key: art_key(url),
            url: u,
            cover,
            used: self.tick,
        };
        if let Some(i) = self.find(url) {
            if let Some(e) = self.entries.get_mut(i) {
                *e = entry;
            }
            return;
        }
        if self.entries.is_full()
            && let Some(oldest) = self
                .entries
                .iter()
                .enumerate()
                .max_by_key(|(_, e)| self.tick.wrapping_sub(e.used))
                .map(|(i, _)| i)
        {
            self.entries.swap_remove(oldest);
        }
        let _ = self.entries.push(entry);
    }
}

/// An image to fetch: `GET url` with no credentials, through the same transport rules
/// as API calls (https except loopback, timeouts), the body capped at `max_bytes` (more
/// is a [`Failure::TooLarge`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRequest {
    /// The absolute URL.
    pub url: String<URL_CAP>,
    /// The body cap ([`MAX_IMAGE_BYTES`]).
    pub max_bytes: usize,
}

/// Whether a cover may be fetched now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// Fetch it now.
    Now,
    /// Not before this time.
    At(u64),
    /// Never (it failed for good, or a fetch is in flight).
    Never,
}

#[derive(Debug, Clone, Copy)]
struct Failed {
    key: u32,
    attempts: u8,
    /// `u64::MAX`: never again.
    retry_at_ms: u64,
}

#[derive(Debug, Clone)]
struct Download {
    url: String<URL_CAP>,
    status: u16,
    body: Vec<u8>,
    error: Option<ArtError>,
}

/// The fetch rules (see the [module docs](self)); holds the body of the fetch in flight.
#[derive(Debug, Clone, Default)]
pub struct ArtFetcher {
    in_flight: Option<Download>,
    failed: heapless::Vec<Failed, FAILED_CAP>,
    hold_until_ms: u64,
    hold_ms: u64,
    sent: [u64; FETCH_CEILING],
    sent_count: u64,
}

impl ArtFetcher {
    /// No fetch yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether a fetch is in flight.
    pub fn is_busy(&self) -> bool {
        self.in_flight.is_some()
    }

    /// Fetches started so far.
    pub fn fetches(&self) -> u64 {
        self.sent_count
    }

    /// Whether `url` may be fetched at `now_ms`.
    pub fn want(&self, now_ms: u64, url: &str) -> Want {
        if self.in_flight.is_some() || url.is_empty() || url.len() > URL_CAP {
            return Want::Never;
        }
        let key = art_key(url);
        let mut at = self.hold_until_ms;
        if let Some(f) = self.failed.iter().find(|f| f.key == key) {
            if f.retry_at_ms == u64::MAX {
                return Want::Never;
            }
            at = at.max(f.retry_at_ms);
        }
        if self.sent_count >= FETCH_CEILING as u64 {
            let slot = (self.sent_count % FETCH_CEILING as u64) as usize;
            let oldest = self.sent.get(slot).copied().unwrap_or(0);
            at = at.max(oldest.saturating_add(FETCH_WINDOW_MS));
        }
        if now_ms >= at {
            Want::Now
        } else {
            Want::At(at)
        }
    }

    /// Starts fetching `url` (call only when [`ArtFetcher::want`] says `Now`).
    pub fn start(&mut self, now_ms: u64, url: &str) -> Option<ImageRequest> {
        if self.want(now_ms, url) != Want::Now {
            return None;
        }
        let url: String<URL_CAP> = String::try_from(url).ok()?;
        let slot = (self.sent_count % FETCH_CEILING as u64) as usize;
        if let Some(s) = self.sent.get_mut(slot) {
            *s = now_ms;
        }
        self.sent_count += 1;
        self.in_flight = Some(Download {
            url: url.clone(),
            status: 0,
            body: Vec::new(),
            error: None,
        });
        Some(ImageRequest {
            url,
            max_bytes: MAX_IMAGE_BYTES,
        })
    }

    /// The response's status.
    pub fn on_head(&mut self, status: u16) {
        if let Some(d) = &mut self.in_flight {
            d.status = status;
            if !(200..300).contains(&status) {
                d.error = Some(ArtError::Status(status));
            }
        }
    }

    /// A chunk of the body: kept up to [`MAX_IMAGE_BYTES`], past which the fetch fails.
    pub fn on_body(&mut self, chunk: &[u8]) {
        let Some(d) = &mut self.in_flight else { return };
        if d.error.is_some() {
            return;
        }
        if d.body.len().saturating_add(chunk.len()) > MAX_IMAGE_BYTES {
            d.error = Some(ArtError::TooLarge);
            d.body = Vec::new();
            return;
        }
        if d.body.try_reserve(chunk.len()).is_err() {
            d.error = Some(ArtError::OutOfMemory);
            d.body = Vec::new();
            return;
        }
        d.body.extend_from_slice(chunk);
    }

    /// The response is complete: the URL and the body to decode, or why not (the failure
    /// is already recorded).
    pub fn on_end(&mut self, now_ms: u64) -> Option<(String<URL_CAP>, Vec<u8>)> {
        let d = self.in_flight.take()?;
        match d.error {
            Some(e) => {
                self.record(now_ms, &d.url, e);
                None
            }
            None => Some((d.url, d.body)),
        }
    }

    /// The fetch failed without a complete response.
    pub fn on_failure(&mut self, now_ms: u64, failure: Failure) {
        if let Some(d) = self.in_flight.take() {
            let e = match failure {
                Failure::TooLarge => ArtError::TooLarge,
                f => ArtError::Network(f),
            };
            self.record(now_ms, &d.url, e);
        }
    }

    /// `url` decoded and is shown: it and the backoff are forgotten.
    pub fn succeeded(&mut self, url: &str) {
        let key = art_key(url);
        self.failed.retain(|f| f.key != key);
        self.hold_ms = 0;
        self.hold_until_ms = 0;
    }

    /// `url` failed with `error` at `now_ms`: a global backoff, and that URL never again
    /// or later.
    pub fn record(&mut self, now_ms: u64, url: &str, error: ArtError) {
        self.hold_ms = if self.hold_ms == 0 {
            ART_HOLD_MS
        } else {
            self.hold_ms.saturating_mul(2).min(ART_HOLD_MAX_MS)
        };
        self.hold_until_ms = now_ms.saturating_add(self.hold_ms);
        let key = art_key(url);
        let attempts = self
            .failed
            .iter()
            .find(|f| f.key == key)
            .map_or(0, |f| f.attempts)
            .saturating_add(1);
        let retry_at_ms = if error.is_transient() && attempts < MAX_ATTEMPTS {
            now_ms.saturating_add(RETRY_URL_MS << (attempts - 1).min(8))
        } else {
            u64::MAX
        };
        let rec = Failed {
            key,
            attempts,
            retry_at_ms,
        };
        if let Some(f) = self.failed.iter_mut().find(|f| f.key == key) {
            *f = rec;
        } else {
            if self.failed.is_full() {
                self.failed.remove(0);
            }
            let _ = self.failed.push(rec);
        }
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use embedded_graphics::pixelcolor::{BinaryColor, Rgb565};

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

    fn cover(v: u8) -> Cover<Rgb565> {
        Cover::from_rgb(&[v; 4 * 4 * 3], Size::new(4, 4)).unwrap()
    }

    #[test]
    fn cache_is_bounded_and_least_recently_used_goes() {
        let mut cache = CoverCache::new();
        for i in 0..10 {
            cache.insert(&format!("https://i.scdn.co/image/{i}"), cover(i as u8));
            assert!(cache.len() <= CACHE_COVERS);
        }
        assert_eq!(cache.len(), CACHE_COVERS);
        assert_eq!(cache.bytes(), CACHE_COVERS * 16 * 2);
        assert!(cache.peek("https://i.scdn.co/image/5").is_none());
        assert!(cache.peek("https://i.scdn.co/image/6").is_some());
        // Using 6 keeps it; the next insert drops 7, the oldest.
        assert!(cache.get("https://i.scdn.co/image/6").is_some());
        cache.insert("https://i.scdn.co/image/x", cover(1));
        assert!(cache.peek("https://i.scdn.co/image/6").is_some());
        assert!(cache.peek("https://i.scdn.co/image/7").is_none());
        // The same URL again replaces, does not grow.
        cache.insert("https://i.scdn.co/image/x", cover(2));
        assert_eq!(cache.len(), CACHE_COVERS);
        // A URL too long to keep is not kept.
        cache.insert(&"x".repeat(URL_CAP + 1), cover(3));
        assert_eq!(cache.len(), CACHE_COVERS);
    }

    #[test]
    fn fetch_rules() {
        let mut f = ArtFetcher::new();
        let a = "https://i.scdn.co/image/a";
        assert_eq!(f.want(0, a), Want::Now);
        let req = f.start(0, a).unwrap();
        assert_eq!((req.url.as_str(), req.max_bytes), (a, MAX_IMAGE_BYTES));
        // One at a time.
        assert_eq!(f.want(0, "https://i.scdn.co/image/b"), Want::Never);
        f.on_head(404);
        f.on_body(b"not found");
        assert!(f.on_end(100).is_none());
        // 404: never again; others after the global hold.
        assert_eq!(f.want(100_000, a), Want::Never);
        assert_eq!(f.want(100, "b"), Want::At(100 + ART_HOLD_MS));
        // A timeout: retried later, at most MAX_ATTEMPTS times.
        let b = "https://i.scdn.co/image/b";
        let mut now = 10_000;
        for attempt in 1..=MAX_ATTEMPTS {
            match f.want(now, b) {
                Want::At(t) => now = t,
                Want::Now => {}
                Want::Never => panic!("attempt {attempt}: never"),
            }
            assert!(f.start(now, b).is_some(), "attempt {attempt}");
            f.on_failure(now, Failure::Timeout);
        }
        assert_eq!(f.want(now + 10_000_000, b), Want::Never);
        // A body over the cap fails, and a success resets the backoff.
        let c = "https://i.scdn.co/image/c";
        now += 1_000_000;
        f.start(now, c).unwrap();
        f.on_head(200);
        f.on_body(&vec![0; MAX_IMAGE_BYTES]);
        f.on_body(&[0]);
        assert!(f.on_end(now).is_none());
        assert_eq!(f.want(now + 10_000_000, c), Want::Never);
        let d = "https://i.scdn.co/image/d";
        now += 1_000_000;
        f.start(now, d).unwrap();
        f.on_head(200);
        f.on_body(b"jpeg");
        let (url, body) = f.on_end(now).unwrap();
        assert_eq!((url.as_str(), body.as_slice()), (d, &b"jpeg"[..]));
        f.succeeded(d);
        assert_eq!(f.want(now, "https://i.scdn.co/image/e"), Want::Now);
    }

    #[test]
    fn no_storm_whatever_happens() {
        // Every fetch fails at once, and the wanted URL changes every 100 ms for an hour:
        // at most FETCH_CEILING in any window.
        let mut f = ArtFetcher::new();
        let mut starts = Vec::new();
        for step in 0..36_000u64 {
            let now = step * 100;
            let url = format!("https://i.scdn.co/image/{}", step % 50);
            if f.start(now, &url).is_some() {
                starts.push(now);
                if step % 2 == 0 {
                    f.on_failure(now, Failure::Connect);
                } else {
                    f.on_head(500);
                    let _ = f.on_end(now);
                }
            }
        }
        for w in starts.windows(FETCH_CEILING + 1) {
            assert!(w[FETCH_CEILING] - w[0] >= FETCH_WINDOW_MS, "{w:?}");
        }
        // The backoff caps at a minute: an hour has at least ~50 and at most ~360 fetches.
        assert!(
            starts.len() <= 360 && starts.len() >= 30,
            "{}",
            starts.len()
        );
    }
}
