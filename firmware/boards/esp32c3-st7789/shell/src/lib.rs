//! The ESP32-C3 board's logic that needs no hardware, tested on the host: the storage
//! record format ([`record`]), the strict TLS name check ([`tls`]) and button
//! debouncing ([`debounce`]). The board crate (`..`) is the shell around these and the
//! firmware's `App`.
#![cfg_attr(not(test), no_std)]
#![deny(missing_docs, unsafe_code)]

pub mod debounce;
pub mod record;
pub mod sntp;
pub mod tls;
