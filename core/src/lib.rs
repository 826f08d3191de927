//! The `no_std`, no-alloc core of Tonearm.
//!
//! Everything that decides *what* a now-playing display shows lives here and runs
//! unchanged on a desktop and on a microcontroller:
//!
//! - [`model`]: the fixed-capacity [`NowPlaying`] state and its parts;
//! - [`json`]: a push tokenizer for JSON that never buffers a value it does not keep;
//! - [`parse`]: field extractors on top of it for the currently-playing / player body
//!   ([`NowPlayingParser`]), the token response ([`TokenParser`]) and both error shapes
//!   ([`ErrorParser`]);
//! - [`position`]: the playback position at a given monotonic time and its `m:ss` /
//!   `h:mm:ss` text;
//! - [`session`]: the live session (tokens, schedule, backoff, rate limits, controls) as a
//!   sans-IO state machine;
//! - [`budget`]: the daily request budget and Spotify's quota hold, as state to persist;
//! - [`wall`]: local dates and times, night hours and POSIX `TZ` rules.
//!
//! Nothing here reads a clock, opens a socket or touches a file: bytes come in as chunks
//! and time comes in as a monotonic `now_ms: u64` (a `u32` would wrap after 49 days).
#![cfg_attr(not(test), no_std)]
#![deny(missing_docs)]
#![forbid(unsafe_code)]
// Every byte sequence from the network yields a value or a typed error: nothing that
// input can reach may panic.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

pub mod budget;
pub mod hub;
pub mod json;
pub mod model;
pub mod parse;
pub mod position;
pub mod secret;
pub mod session;
pub mod text;
pub mod wall;

pub use json::{JsonError, JsonErrorKind};
pub use model::{
    ARTISTS_CAP, ContextKind, DEVICE_NAME_CAP, DEVICE_TYPE_CAP, Device, Disallows, IMAGES_CAP,
    ITEM_ID_CAP, Image, ItemId, Kind, NAME_CAP, NowPlaying, Repeat, TITLE_CAP, URI_CAP, URL_CAP,
};
pub use parse::{
    ErrorBody, ErrorParser, NowPlayingParser, Parser, QueueFields, QueueHead, QueueParser,
    QueuedItem, TokenError, TokenParser, TokenResponse,
};
pub use position::{TimeText, format_position, format_time, position_ms};
pub use secret::Secret;
