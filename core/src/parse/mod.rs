//! Field extractors on the [tokenizer](crate::json): the playback body, the queue body,
//! the token response and the error bodies.
//!
//! Each extractor is a [`Sink`] that knows the few paths it keeps and ignores the rest;
//! strings it does not keep are never delivered to it. Duplicate keys follow "the last one
//! wins", as `serde_json::Value` does; a value of an unexpected type counts as absent.
//! Integers are kept when they are plain non-negative integers that fit the field
//! (`640.0`, `-1` and `1e3` count as absent).
//!
//! One file per body (the playback body behind [`NowPlayingParser`], the queue body behind
//! [`QueueParser`], the token response behind [`TokenParser`], the error bodies behind
//! [`ErrorParser`]); the [`Parser`] that drives any of them, the [`Extract`] trait they
//! implement and the helpers they share (cut strings, checked item ids) live here.

use heapless::String;

use crate::json::{JsonError, Sink, Tokenizer};
use crate::model::ItemId;
use crate::text::push_truncating;

mod error;
mod playback;
mod queue;
mod token;

pub use error::{ErrorBody, ErrorFields, ErrorParser};
pub use playback::{NowPlayingFields, NowPlayingParser};
pub use queue::{QueueFields, QueueHead, QueueParser, QueuedItem, UPCOMING_IDS};
pub use token::{
    ACCESS_TOKEN_CAP, REFRESH_TOKEN_CAP, SCOPE_CAP, TokenError, TokenFields, TokenParser,
    TokenResponse,
};

/// What an extractor produces once the body is complete.
pub trait Extract: Sink + Default {
    /// The extracted value.
    type Output;
    /// Takes the value out (the extractor is reset afterwards by the parser).
    fn output(&mut self) -> Self::Output;
    /// Forgets everything, ready for the next body: afterwards the extractor behaves as
    /// `Self::default()`. The default does just that; a large extractor overrides it to
    /// clear only lengths and flags rather than rewrite kilobytes of buffers per body.
    fn reset(&mut self) {
        *self = Self::default();
    }
}

/// A push parser: a [`Tokenizer`] and an extractor. Feed chunks of any size with
/// [`Parser::feed`], then call [`Parser::finish`]; the parser is then ready for the next
/// body, so one instance can serve a device's whole life.
#[derive(Debug, Clone, Default)]
pub struct Parser<E> {
    tok: Tokenizer,
    ex: E,
}

impl<E: Extract> Parser<E> {
    /// A parser at the start of a body.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds the next chunk. After an error every call returns that error until
    /// [`Parser::finish`] or [`Parser::reset`].
    pub fn feed(&mut self, chunk: &[u8]) -> Result<(), JsonError> {
        self.tok.feed(chunk, &mut self.ex)
    }

    /// `true` while nothing but whitespace has been fed: an empty body (Spotify's 204).
    pub fn is_blank(&self) -> bool {
        self.tok.is_blank()
    }

    /// Bytes fed since the start of this body.
    pub fn bytes_fed(&self) -> usize {
        self.tok.bytes_fed()
    }

    /// Ends the body and returns what was extracted, or the first error. Resets the parser.
    pub fn finish(&mut self) -> Result<E::Output, JsonError> {
        let done = self.tok.finish();
        let out = self.ex.output();
        self.reset();
        done.map(|()| out)
    }

    /// Forgets the current body.
    pub fn reset(&mut self) {
        self.tok = Tokenizer::new();
        self.ex.reset();
    }
}

/// Appends a piece of a kept string, dropping pieces after the first cut.
fn put<const N: usize>(s: &mut String<N>, part: &str, full: &mut bool) -> bool {
    if *full {
        return false;
    }
    if !push_truncating(s, part) {
        *full = true;
        return false;
    }
    true
}

/// Appends a piece of a kept item id (started as `Some` of an empty string). A piece with
/// anything but ASCII letters and digits, or one that does not fit, drops the id: an id is
/// never cut (a cut id would name another item). Later pieces of a dropped id are ignored.
fn put_id(id: &mut Option<ItemId>, part: &str) {
    if let Some(s) = id
        && (!part.bytes().all(|b| b.is_ascii_alphanumeric()) || s.push_str(part).is_err())
    {
        *id = None;
    }
}

/// Ends a kept item id: an empty one is none.
fn end_id(id: &mut Option<ItemId>) {
    if id.as_ref().is_some_and(|s| s.is_empty()) {
        *id = None;
    }
}
