//! The settings record of Tonearm's boards: what a board keeps in flash (its Wi-Fi
//! network, its own Spotify login, its time zone, night hours and request budget, the
//! budget's persisted state, extra trust roots and a hub), in a partition of two erase
//! sectors ("slots") written in turn, so that a power cut at any moment leaves a complete
//! record.
//!
//! - [`record`]: the record's bytes ([`encode`], [`decode`]), format version 2 (tagged
//!   fields, so later fields need no new version) and still reading version 1;
//! - [`anchor`]: the extra trust anchors' check and name (CommonName, fingerprint);
//! - [`hub`]: the hub a board is fed by (the record's hub URL and MQTT login, read);
//! - `ram` (feature `ram-flash`): NOR flash in memory, for tests and host tools;
//! - [`store`]: the two slots over any `embedded-storage` NOR flash ([`Store`]), and the
//!   partition image `tonearm provision` writes ([`partition_image`]).
//!
//! `no_std`, no alloc, and nothing but `embedded-storage` (and `sha2`, for the anchors'
//! fingerprints): the host (`tonearm provision`,
//! the tests) and every board use the same code, so what one writes the other reads.
#![cfg_attr(not(test), no_std)]
#![deny(missing_docs)]
#![forbid(unsafe_code)]
// A record comes from flash, which can hold anything: nothing it can reach may panic.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

#[cfg(feature = "ram-flash")]
extern crate alloc;

pub mod anchor;
pub mod hub;
#[cfg(feature = "ram-flash")]
pub mod ram;
pub mod record;
pub mod store;

/// The flash traits [`Store`] works over, for implementing them without a dependency of
/// one's own.
pub use embedded_storage;

pub use record::{
    Quota, RECORD_MAX, RecordError, Settings, Unknown, crc32, decode, encode, newer, newest,
};
pub use store::{PARTITION_OFFSET, PARTITION_SIZE, SLOT_SIZE, Store, StoreError, partition_image};
