//! Album art (feature `art`, needs a global allocator): JPEG covers decoded, scaled to
//! the art box with a box filter, dithered to the display's colors, kept in a small
//! cache by URL, and fetched under rules of their own.
//!
//! - [`decode_cover`]: JPEG bytes (baseline or progressive, color or grayscale) to a
//!   [`Cover`] of exactly the art box's size, through zune-jpeg (no_std + alloc) and
//!   [`scale_box`], then [`Palette::dither`](crate::Palette::dither) (ordered on
//!   Rgb565, error diffusion on BinaryColor). Every failure is an [`ArtError`]; nothing
//!   panics, and memory is bounded by [`DecodeLimits`] (the source's pixels) before
//!   anything big is allocated.
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
//!
//! The code lives by concern: `decode` (JPEG to [`Cover`]), `cache` ([`CoverCache`]),
//! `fetch` (the [`ArtFetcher`]'s rules), and [`demo`]: a generated cover for the demo and
//! the tests, which the app never uses.

use core::fmt;

use tonearm_core::session::Failure;

mod cache;
mod decode;
pub mod demo;
mod fetch;

pub use cache::CoverCache;
pub use decode::{Cover, DecodeLimits, decode_cover, decode_rgb, scale_box};
// The demo's generated cover, kept at its old path (see `demo`).
pub use demo::pattern_rgb;
pub use fetch::{ArtFetcher, ImageRequest, Want};

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
