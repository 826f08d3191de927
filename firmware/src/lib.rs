//! The `no_std` display layer of Tonearm: the view model, the screens and widgets drawn
//! with embedded-graphics on any `DrawTarget`, and the app every shell drives.
//!
//! - [`ViewModel`] (in [`view`]): what to show, filled by the app or by
//!   [`ViewModel::from_now_playing`];
//! - [`Screen`]: the one vocabulary of screens;
//! - [`Profile`]: the three display shapes, each with its own layout;
//! - [`screens`]: the [`ItemScreen`] and the [`StatusScreen`], each a `Drawable` laid out
//!   once for its view model, profile and time;
//! - [`Frame`]: a view model drawn on a profile as the screen it calls for, whole or one
//!   region at a time;
//! - [`Scene`]: the retained scene that redraws only what changed, through the diff
//!   protocol of [`parts`];
//! - [`band`]: the band renderer (no frame buffer needed) and [`checksum`]: the frame
//!   checksum boards and the host print;
//! - [`text`] and [`fonts`]: Unicode text through a per-character font fallback chain;
//! - [`App`] (in [`app`]): the session and the scene joined, the one thing every shell
//!   drives;
//! - `art` (feature `art`, needs alloc): album covers fetched, decoded, scaled, dithered
//!   and cached.
#![cfg_attr(not(test), no_std)]
#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

pub mod app;
#[cfg(feature = "art")]
pub mod art;
pub mod band;
pub mod checksum;
pub mod color;
pub mod driver;
pub mod events;
pub mod fonts;
pub mod frame;
pub mod hub;
pub mod parts;
pub mod profile;
pub mod scene;
pub mod screen;
pub mod screens;
pub mod text;
pub mod view;
pub mod widgets;

pub use app::App;
pub use band::{BandError, BandRenderer, BandSink, BandTarget, DrawTargetSink};
pub use checksum::{ChecksumColor, ChecksumSink, Fnv1a, checksum_pixels};
pub use color::{Palette, Role};
pub use driver::{Do, ImageRequest, Save, Source};
pub use frame::{CoverView, Frame};
pub use parts::Part;
pub use profile::Profile;
pub use scene::{Scene, Update};
pub use screen::Screen;
pub use screens::{ItemScreen, StatusScreen};
pub use view::{ArtStatus, ClockTime, Controls, Notice, ViewModel};

/// The frame checksum of `frame`, rendered in bands through `buf` (at least one row of
/// the display; more rows, fewer passes).
pub fn frame_checksum<C: Palette + ChecksumColor>(
    frame: &Frame<'_, C>,
    buf: &mut [C],
) -> Result<u32, BandError<core::convert::Infallible>> {
    let bounds = frame.profile().bounds();
    let mut renderer = BandRenderer::new(buf, bounds.size);
    let mut sink = ChecksumSink::new();
    renderer.render(
        bounds,
        C::role(Role::Background),
        |t| {
            let _ = frame.draw_region(t, bounds);
        },
        &mut sink,
    )?;
    Ok(sink.checksum())
}
