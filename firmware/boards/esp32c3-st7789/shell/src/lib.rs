//! The ESP32-C3 board's logic that needs no hardware, tested on the host: the settings
//! record (`tonearm-settings`, re-exported) and the board's reading of its fields
//! ([`record`]), the strict TLS name check ([`tls`]), SNTP ([`sntp`]), button
//! debouncing and long presses ([`debounce`]), and an XPT2046 touch panel's readings,
//! calibration and taps ([`touch`], for boards with one). The board crate (`..`) is the
//! shell around these and the firmware's `App`.
#![cfg_attr(not(test), no_std)]
#![deny(missing_docs, unsafe_code)]

pub mod debounce;
pub mod record;
pub mod sntp;
pub mod tls;
pub mod touch;
