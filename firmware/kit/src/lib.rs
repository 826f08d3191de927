//! What every networked Tonearm board shares, so a board crate is only its wiring (its
//! radio or NIC, its display bus, its pins, its flash partition):
//!
//! - [`board`]: the seams a board fills, as small traits with their invariants
//!   ([`board::Network`], [`board::Backlight`], [`board::Buttons`], [`board::WallClock`],
//!   [`board::Watchdog`], [`board::Log`]; the flash, the band sink and the RNG through
//!   `embedded-storage`, `tonearm_firmware::BandSink` and `rand_core`);
//! - [`run`]: the boot (the settings record, the status screens, the network, the time)
//!   and the async loop around `tonearm_firmware::App`, which holds every rule: the loop
//!   only performs what [`tonearm_firmware::Do`] says;
//! - [`https`]: HTTPS over a [`board::Network`] with embedded-tls 0.19 and the strict
//!   verifier ([`tls`]), trusting the built-in roots ([`roots`]) and the record's extra
//!   anchors; nothing is sent to a server that did not authenticate; [`http`]: the
//!   request framing and the response reading (chunked and `Content-Length` bodies);
//! - [`sntp`]: the time of day over UDP (certificate dates need it);
//! - [`settings`]: the board's reading of the settings record (`tonearm-settings`);
//! - [`debounce`], [`buttons`]: debounced buttons with short and long presses;
//!   [`touch`]: an XPT2046 touch panel's readings, calibration and taps;
//! - `embassy` (feature `embassy-net`): [`board::Network`] over an `embassy_net::Stack`;
//! - `hub` (feature `hub`): the second mode, a board fed by a hub (`tonearm hub`) over
//!   MQTT 5 (minimq) instead of talking to Spotify: `Kit::run_hub`, `hub::mode`.
//!
//! `no_std`, tested on the host (embassy-time's mock driver). Heap: none of the kit's own;
//! with the `rsa` feature embedded-tls's RSA signature check and the `rsa` crate allocate
//! (a few KiB per handshake with an RSA chain), so such a board needs a global allocator.
#![cfg_attr(not(test), no_std)]
#![deny(missing_docs, unsafe_code)]
// The crate docs link the `net` modules, which a build without `net` does not have.
#![cfg_attr(not(feature = "net"), allow(rustdoc::broken_intra_doc_links))]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

pub mod debounce;
pub mod roots;
pub mod settings;
pub mod sntp;
pub mod tls;
pub mod touch;

#[cfg(feature = "net")]
pub mod board;
#[cfg(feature = "net")]
pub mod buttons;
#[cfg(feature = "embassy-net")]
pub mod embassy;
#[cfg(feature = "net")]
pub mod http;
#[cfg(feature = "net")]
pub mod https;
#[cfg(feature = "hub")]
pub mod hub;
#[cfg(feature = "net")]
pub mod run;

pub use tonearm_settings;

/// What the tests share: the mock driver's clock and the kit's time of day are global.
#[cfg(test)]
pub(crate) mod testing {
    /// Held by every test that uses embassy-time's mock driver or the kit's clock.
    pub static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
}
