//! Tonearm on a desktop, as a library: everything the `tonearm` binary does, by concern.
//! The binary (`src/bin/tonearm/`) only turns command-line arguments into calls of these
//! modules; `anyhow` lives there, at the edge, and these modules return precise errors.
//!
//! - [`config`]: the config file and the environment, validated in one step;
//! - [`token_store`]: `token.json` and (in [`token_store::quota`]) `quota.json`;
//! - [`atomic`]: the one way any file is written (atomically; privately where it holds
//!   secrets);
//! - [`oauth`]: the browser login (PKCE, the loopback callback server, the code exchange,
//!   the pages the browser gets);
//! - [`transport`] (HTTP over ureq) and [`net`] (requests on their own thread);
//! - [`shell`]: the loop that drives the firmware's app; [`live`]: the account's
//!   session for it; [`demo`]: the scripted Spotify; [`window`]: the SDL window;
//! - [`render`]: bodies, screens and PNGs, headlessly;
//! - [`provision`]: the ESP32-C3 board's settings image.

use std::sync::atomic::{AtomicBool, Ordering};

pub mod atomic;
pub mod config;
pub mod demo;
#[cfg(feature = "window")]
pub mod fullscreen;
pub mod hub;
pub mod hub_display;
pub mod live;
pub mod lock;
pub mod mqtt;
pub mod net;
pub mod oauth;
pub mod provision;
pub mod render;
pub mod service;
pub mod shell;
pub mod token_store;
pub mod transport;
#[cfg(feature = "window")]
pub mod window;

/// Set by [`interrupt`] (the binary's Ctrl-C and SIGTERM handler).
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Asks every loop and wait of this crate to end cleanly (the loops then return `Ok`).
pub fn interrupt() {
    INTERRUPTED.store(true, Ordering::Relaxed);
}

/// Whether [`interrupt`] was called (Ctrl-C was pressed).
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::Relaxed)
}
