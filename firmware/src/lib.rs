//! The `no_std` display layer of Tonearm: the view model, the screens and widgets drawn
//! with embedded-graphics on any `DrawTarget`, and the app every shell drives.
#![cfg_attr(not(test), no_std)]
#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)
)]
