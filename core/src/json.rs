//! A push tokenizer for JSON: bytes in, events out, constant memory.
//!
//! [`Tokenizer::feed`] takes any number of chunks of any size and calls a [`Sink`] for
//! each event. Nothing borrows a chunk beyond the call, so a board can reuse one receive
//! buffer. Nesting is tracked in a bit stack (no recursion); deeper than [`MAX_DEPTH`] is
//! an error. The sink decides, at the start of each string value, whether it wants the
//! content; strings it does not want are validated and skipped a block at a time without
//! being buffered, so working memory is the same for a 2 KB and a 10 MB body.
//!
//! Everything is validated, wanted or not: structure, numbers, escapes (`\uXXXX` and
//! surrogate pairs, also split across chunks), UTF-8, and control characters in strings.
//! The first error is sticky and carries the byte offset of the offending byte (for a body
//! that ends too early, the body's length).
//!
//! How it is fast (it costs less than `serde_json` into typed structs; see
//! `benches/parse.rs`): the state machine in [`Tokenizer`] reads a byte at a time, but it
//! only runs at chunk boundaries and for anything irregular. In between, fast paths read
//! whole tokens straight from the chunk: `structure` follows the grammar in loops (key,
//! colon, value, comma) instead of dispatching on the state per token; `skip_quiet` walks
//! containers the sink turned down with the state in locals; unwanted strings are scanned
//! a word (8 bytes) at a time for quotes, backslashes, control and non-ASCII bytes
//! (`find_stop`); numbers and literals that lie whole in the chunk are read at once. Any
//! fast path that meets something it does not handle (a token cut by the chunk's end, a
//! malformed number, an irregular escape) hands over to the byte-level path with the
//! state it expects at that byte (or at the token's first byte), so errors are reported
//! by one code path, at the same offsets, whatever the chunking.
//!
//! Why hand-written: no maintained JSON crate parses incrementally without allocation and
//! without a buffer as large as the largest string (serde-json-core needs the whole body,
//! picojson needs scratch as large as any string, kept or not).

use core::fmt;

/// Containers nested deeper than this are an error (the root object counts as 1).
pub const MAX_DEPTH: u8 = 64;
/// Keys longer than this (in bytes, unescaped) are reported as unknown (`None`); no key
/// that Tonearm reads is longer than 24 bytes.
pub const KEY_CAP: usize = 32;

/// What went wrong, without where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum JsonErrorKind {
    /// A byte that cannot stand here (a missing comma, a stray bracket, a bare word).
    UnexpectedByte,
    /// The body ended inside a value: it was truncated (or empty).
    UnexpectedEnd,
    /// A malformed number (`01`, `1.`, `-`, `1e`).
    InvalidNumber,
    /// A backslash escape JSON does not define, or a bad `\u` hex digit.
    InvalidEscape,
    /// A `\uD800`-`\uDFFF` escape that is not half of a valid surrogate pair.
    LoneSurrogate,
    /// Bytes in a string that are not UTF-8.
    InvalidUtf8,
    /// A raw control character (below U+0020) inside a string; it must be escaped.
    ControlCharacter,
    /// Containers nested deeper than [`MAX_DEPTH`].
    TooDeep,
    /// Something other than whitespace after the end of the body.
    TrailingData,
    /// The body is valid JSON only if it is an object; this one starts with something else.
    NotAnObject,
}

impl JsonErrorKind {
    /// A short description, used by `Display`.
    pub const fn as_str(self) -> &'static str {
        match self {
            JsonErrorKind::UnexpectedByte => "unexpected byte",
            JsonErrorKind::UnexpectedEnd => "body ended too early (truncated or empty)",
            JsonErrorKind::InvalidNumber => "malformed number",
            JsonErrorKind::InvalidEscape => "invalid escape in string",
            JsonErrorKind::LoneSurrogate => "unpaired UTF-16 surrogate in \\u escape",
            JsonErrorKind::InvalidUtf8 => "invalid UTF-8 in string",
            JsonErrorKind::ControlCharacter => "unescaped control character in string",
            JsonErrorKind::TooDeep => "nesting too deep",
            JsonErrorKind::TrailingData => "trailing data after the end of the body",
            JsonErrorKind::NotAnObject => "body is not a JSON object",
        }
    }
}

/// A malformed body: what went wrong and the byte offset where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonError {
    /// What went wrong.
    pub kind: JsonErrorKind,
    /// Offset from the start of the body of the offending byte (for
    /// [`JsonErrorKind::UnexpectedEnd`], the body's length).
    pub offset: usize,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte offset {}", self.kind.as_str(), self.offset)
    }
}

impl core::error::Error for JsonError {}

/// Receives the tokenizer's events. Strings and keys arrive unescaped and always split at
/// character boundaries, so every piece is a `&str`.
pub trait Sink {
    /// `{`. Return `false` when nothing inside is wanted: the tokenizer then validates the
    /// object without reporting anything until its closing `}` (which it reports).
    fn begin_object(&mut self) -> bool;
    /// `}`
    fn end_object(&mut self);
    /// `[`. Return `false` when nothing inside is wanted, as for [`Sink::begin_object`].
    fn begin_array(&mut self) -> bool;
    /// `]`
    fn end_array(&mut self);
    /// A key of the current object, unescaped, as the bytes of valid UTF-8 (match it
    /// against byte-string literals); `None` when longer than [`KEY_CAP`].
    fn key(&mut self, key: Option<&[u8]>);
    /// A string value starts. Return `true` to receive its content through
    /// [`Sink::string_part`]; `false` skips it (still validated).
    fn begin_string(&mut self) -> bool;
    /// A piece of a wanted string's content (one string may arrive in many pieces).
    fn string_part(&mut self, part: &str);
    /// The string value ends.
    fn end_string(&mut self);
    /// A number: `Some` for an integer from 0 to `u64::MAX` written without fraction or
    /// exponent, `None` for any other valid number (negative, fractional, too large).
    fn number(&mut self, value: Option<u64>);
    /// `true` or `false`.
    fn boolean(&mut self, value: bool);
    /// `null`.
    fn null(&mut self);
}

/// A sink for content nobody wants (never called: `emit` checks `keep` first), so that
/// the skipping paths need not be generic.
struct NoSink;

impl Sink for NoSink {
    fn begin_object(&mut self) -> bool {
        false
    }
    fn end_object(&mut self) {}
    fn begin_array(&mut self) -> bool {
        false
    }
    fn end_array(&mut self) {}
    fn key(&mut self, _: Option<&[u8]>) {}
    fn begin_string(&mut self) -> bool {
        false
    }
    fn string_part(&mut self, _: &str) {}
    fn end_string(&mut self) {}
    fn number(&mut self, _: Option<u64>) {}
    fn boolean(&mut self, _: bool) {}
    fn null(&mut self) {}
}

/// Where the tokenizer is in the grammar. (Test it with `matches!`: the derived `==`
/// compares the data of the other variants too, and is not always inlined.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the root: only `{` (after whitespace).
    Start,
    /// A value is expected (after `:` or `,` in an array).
    Value,
    /// After `[`: a value or `]`.
    ArrayFirst,
    /// After `{`: a key or `}`.
    ObjectFirst,
    /// After `,` in an object: a key.
    Key,
    /// After a key: `:`.
    Colon,
    /// After a value: `,` or the container's closing bracket.
    AfterValue,
    /// Inside a string (key or value).
    Str(Str),
    /// Inside a number.
    Num(Num),
    /// Inside `true`, `false` or `null`: which, and how many bytes matched.
    Literal(Lit, u8),
    /// The root is closed: only whitespace may follow.
    Done,
}

/// Where in a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Str {
    /// Ordinary content.
    Plain,
    /// After a backslash.
    Escape,
    /// Reading the 4 hex digits of `\u`: digits read so far and value.
    Hex(u8, u16),
    /// After a high surrogate: expecting the `\` of its low half.
    LowBackslash,
    /// Expecting the `u` of the low half.
    LowU,
    /// Reading the low half's hex digits.
    LowHex(u8, u16),
}

/// Where in a number (the accepting states are `Zero`, `Int`, `Frac` and `ExpDigits`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Num {
    Minus,
    Zero,
    Int,
    Dot,
    Frac,
    Exp,
    ExpSign,
    ExpDigits,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lit {
    True,
    False,
    Null,
}

impl Lit {
    const fn text(self) -> &'static [u8] {
        match self {
            Lit::True => b"true",
            Lit::False => b"false",
            Lit::Null => b"null",
        }
    }
}

/// A push tokenizer; see the [module docs](self).
///
/// Its size is a constant (about 110 bytes on a 64-bit host), whatever the body.
#[derive(Debug, Clone)]
pub struct Tokenizer {
    state: State,
    /// Bytes consumed before the current chunk.
    offset: usize,
    /// One bit per open container, 1 for an object.
    stack: u64,
    depth: u8,
    /// The current string is a key.
    in_key: bool,
    /// The sink wants the current string (value or key).
    keep: bool,
    /// The depth of the container the sink does not want (0: none): nothing inside it is
    /// reported.
    quiet: u8,
    /// The current key, unescaped, and whether it overflowed [`KEY_CAP`].
    key: [u8; KEY_CAP],
    key_len: u8,
    key_overflow: bool,
    /// The first bytes of a UTF-8 sequence cut by the end of a chunk.
    utf8: [u8; 4],
    utf8_len: u8,
    /// Where that sequence started (absolute offset), for the error.
    utf8_start: usize,
    /// The high surrogate awaiting its low half.
    high: u16,
    /// The integer value of the current number, if it is still a plain `u64`.
    num: Option<u64>,
    /// Something other than whitespace has been seen.
    seen: bool,
    error: Option<JsonError>,
}

impl Default for Tokenizer {
    fn default() -> Self {
        Self::new()
    }
}

/// Bytes that end a run of plain string content: `"`, `\` and control characters.
#[inline]
fn is_special(b: u8) -> bool {
    b == b'"' || b == b'\\' || b < 0x20
}

/// The index of the first special byte of `s` (or `s.len()`), eight bytes at a time.
/// (Non-ASCII bytes are not special: the runs this finds go through `from_utf8`.)
#[inline]
fn find_special(s: &[u8]) -> usize {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let mut i = 0;
    let mut words = s.chunks_exact(8);
    for word in &mut words {
        let Ok(bytes) = <[u8; 8]>::try_from(word) else {
            break;
        };
        let w = u64::from_le_bytes(bytes);
        // The classic "has a zero byte" trick on w ^ '"', w ^ '\\', and "has a byte < 0x20".
        let q = w ^ (LO * u64::from(b'"'));
        let b = w ^ (LO * u64::from(b'\\'));
        let hit = ((q.wrapping_sub(LO) & !q)
            | (b.wrapping_sub(LO) & !b)
            | (w.wrapping_sub(LO * 0x20) & !w))
            & HI;
        if hit != 0 {
            // The lowest flagged byte is exact (false positives only sit above a true one).
            return i + (hit.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    let rest = s.get(i..).unwrap_or_default();
    rest.iter()
        .position(|&b| is_special(b))
        .map_or(s.len(), |n| i + n)
}

/// The index of the first byte of `s` at or after `i` that stops a skipped string: a
/// special byte or any non-ASCII byte (or `s.len()`), a word (eight bytes) at a time.
///
/// For the short strings of keys and unwanted containers; [`find_stop_wide`] for the long
/// values of wanted objects. (16-byte blocks left to the vectorizer were tried: no fewer
/// instructions on these bodies, and slower, the runs between escapes being short.)
#[inline(always)]
fn find_stop(s: &[u8], mut i: usize) -> usize {
    while let Some(word) = s.get(i..i + 8) {
        let Ok(bytes) = <[u8; 8]>::try_from(word) else {
            break;
        };
        let hit = stop_word(u64::from_le_bytes(bytes));
        if hit != 0 {
            return i + (hit.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&b) = s.get(i) {
        if is_special(b) || b >= 0x80 {
            return i;
        }
        i += 1;
    }
    s.len()
}

/// [`find_stop`], two words per step while there are 16 bytes: the second word's
/// arithmetic runs alongside the first's, and a long run of plain text (a description)
/// pays the loop's overhead half as often. The low word is tested first, so a short run
/// ends as it would a word at a time. On 20 KB of plain text: 0.85x serde_json's time,
/// against 1.1x a word at a time (but more instructions on short strings, hence two).
#[inline(always)]
fn find_stop_wide(s: &[u8], mut i: usize) -> usize {
    while let Some(block) = s.get(i..i + 16) {
        let Some((lo, hi)) = block.split_first_chunk::<8>() else {
            break;
        };
        let Ok(hi) = <[u8; 8]>::try_from(hi) else {
            break;
        };
        let lo = stop_word(u64::from_le_bytes(*lo));
        let hi = stop_word(u64::from_le_bytes(hi));
        if lo != 0 {
            return i + (lo.trailing_zeros() / 8) as usize;
        }
        if hi != 0 {
            return i + 8 + (hi.trailing_zeros() / 8) as usize;
        }
        i += 16;
    }
    find_stop(s, i)
}

/// [`find_stop`], looking at `s[i]` alone first. Escapes often come in runs (`\\\"`,
/// `\u00e9\n`): then one compare settles it, where a word would have the next index
/// wait on a load and a chain of arithmetic (on 2 MB of escape-dense text: 1.1x
/// serde_json's time without this, 0.83x with it).
#[inline(always)]
fn next_stop(s: &[u8], i: usize) -> usize {
    match s.get(i) {
        Some(&b) if !(b == b'"' || b == b'\\' || (b as i8) < 0x20) => find_stop(s, i + 1),
        _ => i,
    }
}

/// [`next_stop`] with [`find_stop_wide`].
#[inline(always)]
fn next_stop_wide(s: &[u8], i: usize) -> usize {
    match s.get(i) {
        Some(&b) if !(b == b'"' || b == b'\\' || (b as i8) < 0x20) => find_stop_wide(s, i + 1),
        _ => i,
    }
}

/// The top bit of each byte of `w` (little-endian) that stops a skipped string, except
/// that bytes above the first stop may be flagged falsely.
///
/// `x - 0x01` has its top bit set when `x` is 0 or at least 0x81, so with `q = w ^ '"'`
/// and `b = w ^ '\\'` the top bits of `q - LO`, `b - LO`, `w - 0x20 LO` and `w` flag
/// quotes, backslashes, control characters and non-ASCII bytes. The usual `& !x` of the
/// zero-byte trick is not needed: the only bytes it would clear have their top bit set,
/// and those are flagged through `w` anyway. A borrow can only leave a byte that is
/// itself flagged, so the lowest flagged byte is exact.
#[inline(always)]
fn stop_word(w: u64) -> u64 {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let q = w ^ (LO * u64::from(b'"'));
    let b = w ^ (LO * u64::from(b'\\'));
    (q.wrapping_sub(LO) | b.wrapping_sub(LO) | w.wrapping_sub(LO * 0x20) | w) & HI
}

/// The length of the escape at `s[i]` (a backslash) when it lies whole in `s` and is
/// valid (a one-letter escape, a `\u` outside the surrogates, or a surrogate pair);
/// `None` otherwise, leaving the escape to the byte-by-byte path, which also reports any
/// error at the right offset.
#[inline(always)]
fn escape_len(s: &[u8], i: usize) -> Option<usize> {
    let b = *s.get(i + 1)?;
    // One load and one well-predicted branch for the one-letter escapes (a `match` on
    // eight letters is a jump or a chain of compares).
    if SIMPLE_ESCAPE.get(usize::from(b)) == Some(&true) {
        return Some(2);
    }
    match b {
        b'u' => match hex4(s.get(i + 2..i + 6)?)? {
            0xD800..=0xDBFF => {
                if s.get(i + 6..i + 8)? != b"\\u" {
                    return None;
                }
                let low = hex4(s.get(i + 8..i + 12)?)?;
                (0xDC00..=0xDFFF).contains(&low).then_some(12)
            }
            0xDC00..=0xDFFF => None,
            _ => Some(6),
        },
        _ => None,
    }
}

/// The index of the first byte of `s` at or after `i` that is not a space (or `s.len()`),
/// eight bytes at a time: for the indentation of pretty-printed bodies.
#[inline(always)]
fn skip_spaces(s: &[u8], mut i: usize) -> usize {
    while let Some(word) = s.get(i..i + 8) {
        let Ok(bytes) = <[u8; 8]>::try_from(word) else {
            break;
        };
        let x = u64::from_le_bytes(bytes) ^ 0x2020_2020_2020_2020;
        if x != 0 {
            return i + (x.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    i
}

/// A number starting at `s[i]` (a `-` or a digit) that lies whole in `s`: the index after
/// it and its value as [`Sink::number`] takes it. `None` when it runs to the end of `s`
/// (the next chunk may go on with it) or is malformed: the byte-level path then reads it
/// from its first byte, and reports any error at the right offset. The grammar is JSON's:
/// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`; the first byte after it is
/// left to the caller (whitespace then ends the value, a digit after `0` is an error).
#[inline]
fn scan_number(s: &[u8], mut i: usize) -> Option<(usize, Option<u64>)> {
    let digit = |s: &[u8], i: usize| s.get(i).map(|b| b.wrapping_sub(b'0')).filter(|d| *d < 10);
    let negative = s.get(i) == Some(&b'-');
    if negative {
        i += 1;
    }
    let first = digit(s, i)?;
    i += 1;
    let mut value = Some(u64::from(first));
    if first == 0 {
        // A leading zero stands alone (`01` is malformed).
        if digit(s, i).is_some() {
            return None;
        }
    } else {
        while let Some(d) = digit(s, i) {
            value = value
                .and_then(|v| v.checked_mul(10))
                .and_then(|v| v.checked_add(u64::from(d)));
            i += 1;
        }
    }
    let mut plain = !negative;
    if s.get(i) == Some(&b'.') {
        i += 1;
        digit(s, i)?;
        while digit(s, i).is_some() {
            i += 1;
        }
        plain = false;
    }
    if matches!(s.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(s.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        digit(s, i)?;
        while digit(s, i).is_some() {
            i += 1;
        }
        plain = false;
    }
    // The byte after the number must be in this chunk: otherwise more digits may follow.
    s.get(i)?;
    Some((i, value.filter(|_| plain)))
}

/// A string nobody wants, from after its opening quote at `s[i - 1]`, when it closes
/// within `s` and is regular: validates it and returns the index after its closing quote.
/// `None` for anything else (cut by the end of `s`, an irregular escape, a control
/// character, UTF-8 that is invalid or cut): the general path then reads the string from
/// its start, and reports any error at the right offset.
#[inline(always)]
fn skip_str(s: &[u8], mut i: usize) -> Option<usize> {
    // (A string's first byte is seldom a stop: straight to the word scan.)
    i = find_stop(s, i);
    loop {
        match *s.get(i)? {
            b'"' => return Some(i + 1),
            b'\\' => i += escape_len(s, i)?,
            b if b >= 0x80 => {
                let rest = s.get(i..)?;
                let n = find_special(rest);
                core::str::from_utf8(rest.get(..n)?).ok()?;
                i += n;
            }
            _ => return None,
        }
        i = next_stop(s, i);
    }
}

/// The literal starting with `b` (`t`, `f` or `n`) at `s[i]` and its length, when it lies
/// whole in `s` and is spelt right; `None` otherwise (cut by the end of `s`, or misspelt:
/// the byte-level path then reads it, and reports any error at the right offset).
/// Compared as fixed-size arrays, which the compiler makes one or two integer compares.
#[inline(always)]
fn literal_at(s: &[u8], i: usize, b: u8) -> Option<(Lit, usize)> {
    let four = <[u8; 4]>::try_from(s.get(i..i + 4)?).ok()?;
    match b {
        b't' => (four == *b"true").then_some((Lit::True, 4)),
        b'n' => (four == *b"null").then_some((Lit::Null, 4)),
        _ => {
            let five = <[u8; 5]>::try_from(s.get(i..i + 5)?).ok()?;
            (five == *b"false").then_some((Lit::False, 5))
        }
    }
}

/// The length of the UTF-8 sequence a lead byte starts (0 for an invalid lead byte).
#[inline]
fn utf8_len(lead: u8) -> u8 {
    match lead {
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => 0,
    }
}

/// The letters of the one-letter escapes (`\\n`, `\\"`, ...).
#[allow(
    clippy::indexing_slicing,
    reason = "evaluated at compile time, b < 256"
)]
const SIMPLE_ESCAPE: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = matches!(
            b as u8,
            b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't'
        );
        b += 1;
    }
    t
};

/// Hex digit values, 0xFF for bytes that are not hex digits.
#[allow(
    clippy::indexing_slicing,
    reason = "evaluated at compile time, b < 256"
)]
const HEX: [u8; 256] = {
    let mut t = [0xFF; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = match b as u8 {
            c @ b'0'..=b'9' => c - b'0',
            c @ b'a'..=b'f' => c - b'a' + 10,
            c @ b'A'..=b'F' => c - b'A' + 10,
            _ => 0xFF,
        };
        b += 1;
    }
    t
};

/// The value of four hex digits, by table.
#[inline(always)]
fn hex4(h: &[u8]) -> Option<u16> {
    let [a, b, c, d] = <[u8; 4]>::try_from(h).ok()?;
    let digit = |x: u8| u16::from(HEX.get(usize::from(x)).copied().unwrap_or(0xFF));
    let (a, b, c, d) = (digit(a), digit(b), digit(c), digit(d));
    if (a | b | c | d) & 0xF0 != 0 {
        return None;
    }
    Some((a << 12) | (b << 8) | (c << 4) | d)
}

/// The character a one-letter escape (`\n`, `\"`, ...) stands for.
#[inline(always)]
fn simple_escape(b: u8) -> Option<char> {
    Some(match b {
        b'"' => '"',
        b'\\' => '\\',
        b'/' => '/',
        b'b' => '\u{8}',
        b'f' => '\u{c}',
        b'n' => '\n',
        b'r' => '\r',
        b't' => '\t',
        _ => return None,
    })
}

/// The code point of a surrogate pair (`high` in D800-DBFF, `low` in DC00-DFFF).
#[inline(always)]
fn surrogate_pair(high: u16, low: u16) -> u32 {
    0x10000 + ((u32::from(high) - 0xD800) << 10) + (u32::from(low) - 0xDC00)
}

#[inline]
fn hex_digit(b: u8) -> Option<u16> {
    match b {
        b'0'..=b'9' => Some(u16::from(b - b'0')),
        b'a'..=b'f' => Some(u16::from(b - b'a' + 10)),
        b'A'..=b'F' => Some(u16::from(b - b'A' + 10)),
        _ => None,
    }
}

#[inline]
fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\n' | b'\r' | b'\t')
}

impl Tokenizer {
    /// A tokenizer at the start of a body.
    pub const fn new() -> Self {
        Tokenizer {
            state: State::Start,
            offset: 0,
            stack: 0,
            depth: 0,
            in_key: false,
            keep: false,
            quiet: 0,
            key: [0; KEY_CAP],
            key_len: 0,
            key_overflow: false,
            utf8: [0; 4],
            utf8_len: 0,
            utf8_start: 0,
            high: 0,
            num: None,
            seen: false,
            error: None,
        }
    }

    /// Bytes fed so far.
    pub fn bytes_fed(&self) -> usize {
        self.offset
    }

    /// `true` while nothing but whitespace has been fed (an empty 204 body, say).
    pub fn is_blank(&self) -> bool {
        !self.seen
    }

    /// Feeds the next chunk of the body. After an error, every call returns that error.
    pub fn feed<S: Sink>(&mut self, chunk: &[u8], sink: &mut S) -> Result<(), JsonError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let result = self.run(chunk, sink);
        match result {
            Ok(()) => self.offset = self.offset.saturating_add(chunk.len()),
            Err(e) => self.error = Some(e),
        }
        result
    }

    /// Ends the body: `Ok` only if one complete object was fed (and nothing else).
    pub fn finish(&mut self) -> Result<(), JsonError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        if matches!(self.state, State::Done) {
            Ok(())
        } else {
            let e = JsonError {
                kind: JsonErrorKind::UnexpectedEnd,
                offset: self.offset,
            };
            self.error = Some(e);
            Err(e)
        }
    }

    #[inline]
    fn err(&self, kind: JsonErrorKind, at: usize) -> JsonError {
        JsonError {
            kind,
            offset: self.offset.saturating_add(at),
        }
    }

    #[cold]
    fn utf8_error(&self) -> JsonError {
        JsonError {
            kind: JsonErrorKind::InvalidUtf8,
            offset: self.utf8_start,
        }
    }

    #[inline]
    fn top_is_object(&self) -> bool {
        self.depth > 0 && (self.stack >> (self.depth - 1)) & 1 == 1
    }

    fn push(&mut self, object: bool, at: usize) -> Result<(), JsonError> {
        if self.depth >= MAX_DEPTH {
            return Err(self.err(JsonErrorKind::TooDeep, at));
        }
        let bit = 1u64 << self.depth;
        if object {
            self.stack |= bit;
        } else {
            self.stack &= !bit;
        }
        self.depth += 1;
        Ok(())
    }

    /// A value has ended: where next.
    #[inline]
    fn value_done(&mut self) {
        self.state = if self.depth == 0 {
            State::Done
        } else {
            State::AfterValue
        };
    }

    /// Starts a value at byte `b` (already known not to be whitespace).
    #[inline(always)]
    fn begin_value<S: Sink>(&mut self, b: u8, at: usize, sink: &mut S) -> Result<(), JsonError> {
        match b {
            b'{' => {
                self.push(true, at)?;
                if self.quiet == 0 && !sink.begin_object() {
                    self.quiet = self.depth;
                }
                self.state = State::ObjectFirst;
            }
            b'[' => {
                self.push(false, at)?;
                if self.quiet == 0 && !sink.begin_array() {
                    self.quiet = self.depth;
                }
                self.state = State::ArrayFirst;
            }
            b'"' => {
                self.in_key = false;
                self.keep = self.quiet == 0 && sink.begin_string();
                self.state = State::Str(Str::Plain);
            }
            b'-' => {
                self.num = None;
                self.state = State::Num(Num::Minus);
            }
            b'0' => {
                self.num = Some(0);
                self.state = State::Num(Num::Zero);
            }
            b'1'..=b'9' => {
                self.num = Some(u64::from(b - b'0'));
                self.state = State::Num(Num::Int);
            }
            b't' => self.state = State::Literal(Lit::True, 1),
            b'f' => self.state = State::Literal(Lit::False, 1),
            b'n' => self.state = State::Literal(Lit::Null, 1),
            _ => return Err(self.err(JsonErrorKind::UnexpectedByte, at)),
        }
        Ok(())
    }

    #[inline]
    fn begin_key(&mut self) {
        self.in_key = true;
        self.keep = self.quiet == 0;
        self.key_len = 0;
        self.key_overflow = false;
        self.state = State::Str(Str::Plain);
    }

    fn run<S: Sink>(&mut self, chunk: &[u8], sink: &mut S) -> Result<(), JsonError> {
        let mut i = 0;
        while let Some(&b) = chunk.get(i) {
            i = match self.state {
                State::Str(Str::Plain) => self.plain(chunk, i, sink)?,
                State::Str(s) => {
                    self.escape(s, b, i, sink)?;
                    i + 1
                }
                State::Num(_) => self.number(chunk, i, sink)?,
                State::Literal(..) => self.literal(chunk, i, sink)?,
                _ if self.quiet != 0 => self.skip_quiet(chunk, i, sink)?,
                _ => self.structure(chunk, i, sink)?,
            };
        }
        Ok(())
    }

    /// `true` in the states `structure` handles (between tokens).
    #[inline(always)]
    fn between_tokens(&self) -> bool {
        !matches!(
            self.state,
            State::Str(_) | State::Num(_) | State::Literal(..)
        )
    }

    /// Whitespace and structural bytes, going straight on into keys, strings, and numbers
    /// and literals that lie whole in the chunk, until a state that needs a byte-level path
    /// (a token cut by the chunk's end, an irregular escape, a malformed number) or the end
    /// of the chunk. Returns the index to continue at.
    fn structure<S: Sink>(
        &mut self,
        chunk: &[u8],
        mut i: usize,
        sink: &mut S,
    ) -> Result<usize, JsonError> {
        // The next byte that is not whitespace, or out at the chunk's end (the state is
        // always up to date where this is used).
        //
        // Only between tokens is whitespace skipped: a byte after a backslash or after a
        // number's digits is the byte-level path's to judge, so every token that can stop
        // part-way returns at once (below) rather than come here.
        macro_rules! next_byte {
            () => {
                loop {
                    let Some(&b) = chunk.get(i) else {
                        return Ok(i);
                    };
                    // Every byte that is not whitespace is above b' ', so one compare
                    // usually settles it.
                    if b > b' ' || !is_ws(b) {
                        break b;
                    }
                    i += 1;
                    if b == b'\n' {
                        // Indentation: spaces eight at a time.
                        i = skip_spaces(chunk, i);
                    }
                }
            };
        }
        // The members of an object and the elements of an array are read in loops that
        // follow the grammar (key, colon, value, comma...), so the state is dispatched on
        // once per container and at chunk boundaries rather than at every token: that
        // dispatch is an indirect jump, and a poorly predicted one.
        loop {
            let mut b = next_byte!();
            match self.state {
                State::Start => {
                    self.seen = true;
                    if b != b'{' {
                        return Err(self.err(JsonErrorKind::NotAnObject, i));
                    }
                    self.begin_value(b, i, sink)?;
                    i += 1;
                }
                State::Value if self.top_is_object() => {
                    // A member's value, the chunk having ended after its colon.
                    i = self.value_at(b, chunk, i, sink)?;
                    // (A container the sink does not want: `skip_quiet` reads it.)
                    if !self.between_tokens() || self.quiet != 0 {
                        return Ok(i);
                    }
                }
                State::Value | State::ArrayFirst => loop {
                    // Elements: value, then `,` or `]`.
                    if b == b']' && matches!(self.state, State::ArrayFirst) {
                        self.close(false, i, sink)?;
                        i += 1;
                        break;
                    }
                    i = self.value_at(b, chunk, i, sink)?;
                    if !self.between_tokens() || self.quiet != 0 {
                        return Ok(i);
                    }
                    if !matches!(self.state, State::AfterValue) {
                        // A container opened: its contents come first.
                        break;
                    }
                    b = next_byte!();
                    match b {
                        b',' => {
                            self.state = State::Value;
                            i += 1;
                            b = next_byte!();
                        }
                        b']' => {
                            self.close(false, i, sink)?;
                            i += 1;
                            break;
                        }
                        _ => return Err(self.err(JsonErrorKind::UnexpectedByte, i)),
                    }
                },
                State::ObjectFirst | State::Key => loop {
                    // Members: key, colon, value, then `,` or `}`.
                    match b {
                        b'"' => {}
                        b'}' if matches!(self.state, State::ObjectFirst) => {
                            self.close(true, i, sink)?;
                            i += 1;
                            break;
                        }
                        _ => return Err(self.err(JsonErrorKind::UnexpectedByte, i)),
                    }
                    i = self.key_at(chunk, i + 1, sink)?;
                    if !matches!(self.state, State::Colon) {
                        return Ok(i);
                    }
                    b = next_byte!();
                    if b != b':' {
                        return Err(self.err(JsonErrorKind::UnexpectedByte, i));
                    }
                    self.state = State::Value;
                    i += 1;
                    b = next_byte!();
                    i = self.value_at(b, chunk, i, sink)?;
                    if !self.between_tokens() || self.quiet != 0 {
                        return Ok(i);
                    }
                    if !matches!(self.state, State::AfterValue) {
                        break;
                    }
                    b = next_byte!();
                    match b {
                        b',' => {
                            self.state = State::Key;
                            i += 1;
                            b = next_byte!();
                        }
                        b'}' => {
                            self.close(true, i, sink)?;
                            i += 1;
                            break;
                        }
                        _ => return Err(self.err(JsonErrorKind::UnexpectedByte, i)),
                    }
                },
                State::Colon => {
                    if b != b':' {
                        return Err(self.err(JsonErrorKind::UnexpectedByte, i));
                    }
                    self.state = State::Value;
                    i += 1;
                }
                State::AfterValue => {
                    match (b, self.top_is_object()) {
                        (b',', true) => self.state = State::Key,
                        (b',', false) => self.state = State::Value,
                        (b'}', true) => self.close(true, i, sink)?,
                        (b']', false) => self.close(false, i, sink)?,
                        _ => return Err(self.err(JsonErrorKind::UnexpectedByte, i)),
                    }
                    i += 1;
                }
                State::Done => return Err(self.err(JsonErrorKind::TrailingData, i)),
                State::Str(_) | State::Num(_) | State::Literal(..) => return Ok(i),
            }
        }
    }

    /// Between tokens inside a container the sink does not want: validates everything and
    /// reports nothing, with the grammar state in locals, until that container closes (its
    /// end is reported), the chunk ends, or a token needs a byte-level path (one cut by the
    /// chunk's end, non-ASCII text cut or malformed, an irregular escape, a malformed
    /// number): then the state is written back and the general paths take over from the
    /// token's first byte, so they also report any error at the right offset.
    fn skip_quiet<S: Sink>(
        &mut self,
        chunk: &[u8],
        mut i: usize,
        sink: &mut S,
    ) -> Result<usize, JsonError> {
        // A plain copy of the structural states: `State` carries data in other variants,
        // which makes every `match` on it a chain of compares rather than one jump.
        #[derive(Clone, Copy, PartialEq, Eq)]
        enum Q {
            Value,
            ArrayFirst,
            ObjectFirst,
            Key,
            Colon,
            AfterValue,
        }
        let mut state = match self.state {
            State::Value => Q::Value,
            State::ArrayFirst => Q::ArrayFirst,
            State::ObjectFirst => Q::ObjectFirst,
            State::Key => Q::Key,
            State::Colon => Q::Colon,
            State::AfterValue => Q::AfterValue,
            // Not between tokens inside a container (not reached: `run` checks).
            _ => return self.structure(chunk, i, sink),
        };
        let mut depth = self.depth;
        let mut stack = self.stack;
        let quiet = self.quiet;
        // The innermost container is an object (`depth >= quiet >= 1` in here).
        let top_is_object = |depth: u8, stack: u64| (stack >> depth.wrapping_sub(1)) & 1 == 1;
        // `Ok(true)`: the general paths go on at `i` (in `state`, written back);
        // `Ok(false)`: the unwanted container has closed.
        //
        // As in `structure`, members and elements are read in loops that follow the
        // grammar, so that the state is dispatched on once per container, not per token.
        let result: Result<bool, JsonError> = 'run: loop {
            // The next byte that is not whitespace, or out at the chunk's end.
            macro_rules! next_byte {
                () => {
                    loop {
                        let Some(&b) = chunk.get(i) else {
                            break 'run Ok(true);
                        };
                        if b > b' ' || !is_ws(b) {
                            break b;
                        }
                        i += 1;
                        if b == b'\n' {
                            i = skip_spaces(chunk, i);
                        }
                    }
                };
            }
            // Reads the value starting with `b`: afterwards the state is `AfterValue`, or
            // `ObjectFirst` / `ArrayFirst` when a container opened.
            macro_rules! value {
                ($b:expr) => {
                    match $b {
                        b'"' => match skip_str(chunk, i + 1) {
                            Some(next) => {
                                i = next;
                                state = Q::AfterValue;
                            }
                            None => break 'run Ok(true),
                        },
                        b @ (b'{' | b'[') => {
                            if depth >= MAX_DEPTH {
                                break 'run Err(self.err(JsonErrorKind::TooDeep, i));
                            }
                            let bit = 1u64 << depth;
                            if b == b'{' {
                                stack |= bit;
                                state = Q::ObjectFirst;
                            } else {
                                stack &= !bit;
                                state = Q::ArrayFirst;
                            }
                            depth += 1;
                            i += 1;
                        }
                        b'-' | b'0'..=b'9' => match scan_number(chunk, i) {
                            Some((next, _)) => {
                                i = next;
                                state = Q::AfterValue;
                            }
                            None => break 'run Ok(true),
                        },
                        b @ (b't' | b'f' | b'n') => match literal_at(chunk, i, b) {
                            Some((_, len)) => {
                                i += len;
                                state = Q::AfterValue;
                            }
                            None => break 'run Ok(true),
                        },
                        // An error: the general paths report it.
                        _ => break 'run Ok(true),
                    }
                };
            }
            // Closes the innermost container at `i`; out when it is the unwanted one.
            macro_rules! close {
                () => {
                    i += 1;
                    depth -= 1;
                    if depth < quiet {
                        break 'run Ok(false);
                    }
                    state = Q::AfterValue;
                };
            }
            let mut b = next_byte!();
            match state {
                Q::Value if top_is_object(depth, stack) => value!(b),
                Q::Value | Q::ArrayFirst => loop {
                    if b == b']' && state == Q::ArrayFirst {
                        close!();
                        break;
                    }
                    value!(b);
                    if state != Q::AfterValue {
                        break;
                    }
                    b = next_byte!();
                    match b {
                        b',' => {
                            state = Q::Value;
                            i += 1;
                            b = next_byte!();
                        }
                        b']' => {
                            close!();
                            break;
                        }
                        _ => break 'run Ok(true),
                    }
                },
                Q::ObjectFirst | Q::Key => loop {
                    match b {
                        b'"' => {}
                        b'}' if state == Q::ObjectFirst => {
                            close!();
                            break;
                        }
                        _ => break 'run Ok(true),
                    }
                    match skip_str(chunk, i + 1) {
                        Some(next) => {
                            i = next;
                            state = Q::Colon;
                        }
                        None => break 'run Ok(true),
                    }
                    b = next_byte!();
                    if b != b':' {
                        break 'run Ok(true);
                    }
                    state = Q::Value;
                    i += 1;
                    b = next_byte!();
                    value!(b);
                    if state != Q::AfterValue {
                        break;
                    }
                    b = next_byte!();
                    match b {
                        b',' => {
                            state = Q::Key;
                            i += 1;
                            b = next_byte!();
                        }
                        b'}' => {
                            close!();
                            break;
                        }
                        _ => break 'run Ok(true),
                    }
                },
                Q::Colon if b == b':' => {
                    state = Q::Value;
                    i += 1;
                }
                Q::AfterValue => {
                    let object = top_is_object(depth, stack);
                    match b {
                        b',' => {
                            state = if object { Q::Key } else { Q::Value };
                            i += 1;
                        }
                        b'}' | b']' if object == (b == b'}') => {
                            close!();
                        }
                        _ => break 'run Ok(true),
                    }
                }
                // Anything else is an error: the general paths report it.
                Q::Colon => break 'run Ok(true),
            }
        };
        self.depth = depth;
        self.stack = stack;
        let state = match state {
            Q::Value => State::Value,
            Q::ArrayFirst => State::ArrayFirst,
            Q::ObjectFirst => State::ObjectFirst,
            Q::Key => State::Key,
            Q::Colon => State::Colon,
            Q::AfterValue => State::AfterValue,
        };
        match result {
            Ok(true) => {
                self.state = state;
                // The general path reads the token (or reports the error) at `i`, so that
                // each call makes progress.
                self.structure(chunk, i, sink)
            }
            Ok(false) => {
                // As `close` does for the container the sink turned down.
                self.quiet = 0;
                if (stack >> depth) & 1 == 1 {
                    sink.end_object();
                } else {
                    sink.end_array();
                }
                self.value_done();
                Ok(i)
            }
            Err(e) => {
                self.state = state;
                Err(e)
            }
        }
    }

    /// Reads the value starting with `chunk[i] == b`: a string, or a number or literal
    /// lying whole in the chunk, straight away; a container is opened. Anything else is
    /// left to the byte-level paths (the state says which).
    #[inline(always)]
    fn value_at<S: Sink>(
        &mut self,
        b: u8,
        chunk: &[u8],
        i: usize,
        sink: &mut S,
    ) -> Result<usize, JsonError> {
        match b {
            b'-' | b'0'..=b'9' => {
                if let Some((next, value)) = scan_number(chunk, i) {
                    if self.quiet == 0 {
                        sink.number(value);
                    }
                    self.value_done();
                    return Ok(next);
                }
            }
            b't' | b'f' | b'n' => {
                if let Some((lit, len)) = literal_at(chunk, i, b) {
                    if self.quiet == 0 {
                        match lit {
                            Lit::True => sink.boolean(true),
                            Lit::False => sink.boolean(false),
                            Lit::Null => sink.null(),
                        }
                    }
                    self.value_done();
                    return Ok(i + len);
                }
            }
            _ => {}
        }
        self.begin_value(b, i, sink)?;
        if matches!(self.state, State::Str(Str::Plain)) {
            if self.keep {
                self.plain(chunk, i + 1, sink)
            } else {
                self.skip_string(chunk, i + 1)
            }
        } else {
            Ok(i + 1)
        }
    }

    /// A key that is ASCII without escapes and closes within the chunk: its content and the
    /// index after its closing quote; `None` for any other key.
    #[inline(always)]
    fn quick_run<'c>(&self, chunk: &'c [u8], start: usize) -> Option<(&'c [u8], usize)> {
        // The first byte that is special or non-ASCII is the closing quote: then the key
        // is ASCII without escapes.
        let end = find_stop(chunk, start);
        if chunk.get(end) == Some(&b'"') {
            Some((chunk.get(start..end)?, end + 1))
        } else {
            None
        }
    }

    /// Reads a key starting after its opening quote at `chunk[start - 1]`.
    #[inline(always)]
    fn key_at<S: Sink>(
        &mut self,
        chunk: &[u8],
        start: usize,
        sink: &mut S,
    ) -> Result<usize, JsonError> {
        self.begin_key();
        if !self.keep {
            return self.skip_string(chunk, start);
        }
        if let Some((key, next)) = self.quick_run(chunk, start) {
            sink.key((key.len() <= KEY_CAP).then_some(key));
            self.state = State::Colon;
            return Ok(next);
        }
        self.plain(chunk, start, sink)
    }

    /// Number bytes; the first byte that is not part of the number ends it (and is left
    /// for the next state).
    fn number<S: Sink>(
        &mut self,
        chunk: &[u8],
        mut i: usize,
        sink: &mut S,
    ) -> Result<usize, JsonError> {
        while let (Some(&b), State::Num(n)) = (chunk.get(i), self.state) {
            if !self.number_byte(n, b, i)? {
                if self.quiet == 0 {
                    sink.number(self.num);
                }
                self.value_done();
                break;
            }
            i += 1;
        }
        Ok(i)
    }

    /// The bytes of `true`, `false` or `null`.
    fn literal<S: Sink>(
        &mut self,
        chunk: &[u8],
        mut i: usize,
        sink: &mut S,
    ) -> Result<usize, JsonError> {
        while let (Some(&b), State::Literal(lit, n)) = (chunk.get(i), self.state) {
            let text = lit.text();
            if text.get(usize::from(n)) != Some(&b) {
                return Err(self.err(JsonErrorKind::UnexpectedByte, i));
            }
            i += 1;
            if usize::from(n) + 1 == text.len() && self.quiet != 0 {
                self.value_done();
            } else if usize::from(n) + 1 == text.len() {
                match lit {
                    Lit::True => sink.boolean(true),
                    Lit::False => sink.boolean(false),
                    Lit::Null => sink.null(),
                }
                self.value_done();
            } else {
                self.state = State::Literal(lit, n + 1);
            }
        }
        Ok(i)
    }

    #[inline]
    fn close<S: Sink>(&mut self, object: bool, at: usize, sink: &mut S) -> Result<(), JsonError> {
        if self.depth == 0 || self.top_is_object() != object {
            return Err(self.err(JsonErrorKind::UnexpectedByte, at));
        }
        if self.quiet == 0 || self.quiet == self.depth {
            self.quiet = 0;
            if object {
                sink.end_object();
            } else {
                sink.end_array();
            }
        }
        self.depth -= 1;
        self.value_done();
        Ok(())
    }

    /// Advances a number by one byte. `Ok(false)` when the byte is not part of it.
    fn number_byte(&mut self, n: Num, b: u8, at: usize) -> Result<bool, JsonError> {
        let next = match (n, b) {
            (Num::Minus, b'0') => Num::Zero,
            (Num::Zero, b'0'..=b'9') => return Err(self.err(JsonErrorKind::InvalidNumber, at)),
            (Num::Minus, b'1'..=b'9') => Num::Int,
            (Num::Int, b'0'..=b'9') => {
                self.num = self
                    .num
                    .and_then(|v| v.checked_mul(10))
                    .and_then(|v| v.checked_add(u64::from(b - b'0')));
                Num::Int
            }
            (Num::Zero | Num::Int, b'.') => Num::Dot,
            (Num::Zero | Num::Int | Num::Frac, b'e' | b'E') => Num::Exp,
            (Num::Dot | Num::Frac, b'0'..=b'9') => Num::Frac,
            (Num::Exp, b'+' | b'-') => Num::ExpSign,
            (Num::Exp | Num::ExpSign | Num::ExpDigits, b'0'..=b'9') => Num::ExpDigits,
            (Num::Zero | Num::Int | Num::Frac | Num::ExpDigits, _) => return Ok(false),
            _ => return Err(self.err(JsonErrorKind::InvalidNumber, at)),
        };
        if matches!(next, Num::Dot | Num::Exp) {
            self.num = None;
        }
        self.state = State::Num(next);
        Ok(true)
    }

    /// Hands validated string content to the key buffer or the sink.
    #[inline]
    fn emit<S: Sink>(&mut self, s: &str, sink: &mut S) {
        if s.is_empty() || !self.keep {
            return;
        }
        if self.in_key {
            let start = usize::from(self.key_len);
            match self.key.get_mut(start..start + s.len()) {
                Some(dst) if !self.key_overflow => {
                    dst.copy_from_slice(s.as_bytes());
                    // Cannot truncate: start + len <= KEY_CAP <= u8::MAX.
                    self.key_len = (start + s.len()) as u8;
                }
                _ => self.key_overflow = true,
            }
        } else {
            sink.string_part(s);
        }
    }

    /// Consumes string content from `chunk[i..]`: runs of plain bytes a block at a time,
    /// escapes that lie whole in the chunk inline, up to and including the closing quote
    /// (or the end of the chunk). Returns the index to continue at.
    fn plain<S: Sink>(
        &mut self,
        chunk: &[u8],
        mut i: usize,
        sink: &mut S,
    ) -> Result<usize, JsonError> {
        if self.utf8_len > 0 {
            i = self.finish_utf8(chunk, i, sink)?;
            if self.utf8_len > 0 {
                return Ok(i);
            }
        }
        if !self.keep {
            return self.skip_string(chunk, i);
        }
        loop {
            let rest = chunk.get(i..).unwrap_or_default();
            let run_len = find_special(rest);
            let run = rest.get(..run_len).unwrap_or_default();
            let end = rest.get(run_len).copied();
            // (Strings nobody wants went to `skip_string` above; keys without escapes
            // never get here: `key_at` hands them on straight from the chunk.)
            self.plain_run(run, i, end.is_none(), sink)?;
            i += run_len;
            match end {
                None => return Ok(i),
                Some(b'"') => {
                    if self.in_key {
                        if self.keep {
                            let key = if self.key_overflow {
                                None
                            } else {
                                self.key.get(..usize::from(self.key_len))
                            };
                            sink.key(key);
                        }
                        self.state = State::Colon;
                    } else {
                        if self.keep {
                            sink.end_string();
                        }
                        self.value_done();
                    }
                    return Ok(i + 1);
                }
                Some(b'\\') => match self.escape_inline(chunk, i, sink) {
                    Some(next) => i = next,
                    None => {
                        // Cut by the chunk's end, or irregular: byte by byte (which also
                        // reports any error at the right offset).
                        self.state = State::Str(Str::Escape);
                        return Ok(i + 1);
                    }
                },
                Some(_) => return Err(self.err(JsonErrorKind::ControlCharacter, i)),
            }
        }
    }

    /// Consumes the content of a string nobody wants (a value or a key) from `chunk[i..]`,
    /// validating it without handing anything on, up to and including the closing quote
    /// (or the end of the chunk, or an escape that needs the byte-level path). Returns
    /// the index to continue at. The state is `Str(Plain)` on entry and is only written
    /// on the way out.
    #[inline(never)]
    fn skip_string(&mut self, chunk: &[u8], mut i: usize) -> Result<usize, JsonError> {
        // (Unlike `skip_str`, no word scan straight away: that measured slower here.)
        loop {
            i = next_stop_wide(chunk, i);
            match chunk.get(i) {
                None => return Ok(i),
                Some(b'"') => {
                    if self.in_key {
                        self.state = State::Colon;
                    } else {
                        self.value_done();
                    }
                    return Ok(i + 1);
                }
                Some(b'\\') => match escape_len(chunk, i) {
                    Some(n) => i += n,
                    None => {
                        // Cut by the chunk's end, or irregular: byte by byte (which also
                        // reports any error at the right offset).
                        self.state = State::Str(Str::Escape);
                        return Ok(i + 1);
                    }
                },
                Some(&b) if b >= 0x80 => {
                    // Non-ASCII: validate the whole run up to the next special byte (a
                    // sequence cut by the chunk's end is kept for the next chunk).
                    let rest = chunk.get(i..).unwrap_or_default();
                    let run_len = find_special(rest);
                    let run = rest.get(..run_len).unwrap_or_default();
                    // (Nothing is handed on: the string is not wanted.)
                    self.plain_run(run, i, run_len == rest.len(), &mut NoSink)?;
                    i += run_len;
                    if self.utf8_len > 0 {
                        return Ok(i);
                    }
                }
                Some(_) => return Err(self.err(JsonErrorKind::ControlCharacter, i)),
            }
        }
    }

    /// Finishes a UTF-8 sequence cut by the previous chunk, byte by byte.
    #[cold]
    fn finish_utf8<S: Sink>(
        &mut self,
        chunk: &[u8],
        mut i: usize,
        sink: &mut S,
    ) -> Result<usize, JsonError> {
        while self.utf8_len > 0 {
            let Some(&b) = chunk.get(i) else {
                return Ok(i);
            };
            if b & 0xC0 != 0x80 {
                return Err(self.utf8_error());
            }
            let n = usize::from(self.utf8_len);
            if let Some(slot) = self.utf8.get_mut(n) {
                *slot = b;
            }
            self.utf8_len += 1;
            i += 1;
            let need = usize::from(utf8_len(self.utf8.first().copied().unwrap_or(0)));
            if usize::from(self.utf8_len) >= need {
                let seq = self.utf8;
                match core::str::from_utf8(seq.get(..need).unwrap_or_default()) {
                    Ok(s) => self.emit(s, sink),
                    Err(_) => return Err(self.utf8_error()),
                }
                self.utf8_len = 0;
            }
        }
        Ok(i)
    }

    /// Validates and hands on a run of plain string bytes starting at `chunk[at]`.
    #[inline(never)]
    fn plain_run<S: Sink>(
        &mut self,
        run: &[u8],
        at: usize,
        at_chunk_end: bool,
        sink: &mut S,
    ) -> Result<(), JsonError> {
        match core::str::from_utf8(run) {
            Ok(s) => self.emit(s, sink),
            Err(e) => {
                let good = e.valid_up_to();
                if let Ok(s) = core::str::from_utf8(run.get(..good).unwrap_or_default()) {
                    self.emit(s, sink);
                }
                let tail = run.get(good..).unwrap_or_default();
                // A sequence cut by the end of the chunk continues in the next one; anything
                // else (a bad byte, or a sequence cut by a quote) is invalid.
                if e.error_len().is_some() || !at_chunk_end || tail.len() > 3 {
                    return Err(self.err(JsonErrorKind::InvalidUtf8, at + good));
                }
                if let Some(dst) = self.utf8.get_mut(..tail.len()) {
                    dst.copy_from_slice(tail);
                }
                self.utf8_len = tail.len() as u8;
                self.utf8_start = self.offset.saturating_add(at + good);
            }
        }
        Ok(())
    }

    /// Decodes the escape at `chunk[i]` (a backslash) when it lies whole in the chunk and
    /// is regular; returns the index after it. `None` leaves it to the byte-by-byte path.
    #[inline(always)]
    fn escape_inline<S: Sink>(&mut self, chunk: &[u8], i: usize, sink: &mut S) -> Option<usize> {
        let b = *chunk.get(i + 1)?;
        if b == b'u' {
            return self.unicode_escape(chunk, i, sink);
        }
        let c = simple_escape(b)?;
        if self.keep {
            let mut buf = [0u8; 4];
            self.emit(c.encode_utf8(&mut buf), sink);
        }
        Some(i + 2)
    }

    /// `\uXXXX`, or a surrogate pair `\uD83D\uDE00`, lying whole in the chunk.
    #[inline(always)]
    fn unicode_escape<S: Sink>(&mut self, chunk: &[u8], i: usize, sink: &mut S) -> Option<usize> {
        let v = hex4(chunk.get(i + 2..i + 6)?)?;
        let (cp, len) = match v {
            0xD800..=0xDBFF => {
                if chunk.get(i + 6..i + 8)? != b"\\u" {
                    return None;
                }
                let low = hex4(chunk.get(i + 8..i + 12)?)?;
                if !(0xDC00..=0xDFFF).contains(&low) {
                    return None;
                }
                (surrogate_pair(v, low), 12)
            }
            0xDC00..=0xDFFF => return None,
            _ => (u32::from(v), 6),
        };
        if self.keep {
            self.emit_char(cp, sink);
        }
        Some(i + len)
    }

    /// Hands on a decoded `\u` escape (not a surrogate: checked by the caller).
    #[inline(never)]
    fn emit_char<S: Sink>(&mut self, cp: u32, sink: &mut S) {
        if let Some(c) = char::from_u32(cp) {
            let mut buf = [0u8; 4];
            self.emit(c.encode_utf8(&mut buf), sink);
        }
    }

    /// Advances an escape sequence by one byte.
    fn escape<S: Sink>(&mut self, s: Str, b: u8, at: usize, sink: &mut S) -> Result<(), JsonError> {
        let mut buf = [0u8; 4];
        let simple = |c: char, buf: &mut [u8; 4]| -> usize { c.encode_utf8(buf).len() };
        let next = match s {
            Str::Plain => Str::Plain,
            Str::Escape => {
                if b == b'u' {
                    self.state = State::Str(Str::Hex(0, 0));
                    return Ok(());
                }
                let Some(c) = simple_escape(b) else {
                    return Err(self.err(JsonErrorKind::InvalidEscape, at));
                };
                let n = simple(c, &mut buf);
                self.emit_bytes(&buf, n, sink);
                Str::Plain
            }
            Str::Hex(n, v) | Str::LowHex(n, v) => {
                let Some(d) = hex_digit(b) else {
                    return Err(self.err(JsonErrorKind::InvalidEscape, at));
                };
                let v = (v << 4) | d;
                let low = matches!(s, Str::LowHex(..));
                if n < 3 {
                    if low {
                        Str::LowHex(n + 1, v)
                    } else {
                        Str::Hex(n + 1, v)
                    }
                } else if low {
                    if !(0xDC00..=0xDFFF).contains(&v) {
                        return Err(self.err(JsonErrorKind::LoneSurrogate, at));
                    }
                    let cp = surrogate_pair(self.high, v);
                    let Some(c) = char::from_u32(cp) else {
                        return Err(self.err(JsonErrorKind::LoneSurrogate, at));
                    };
                    let n = simple(c, &mut buf);
                    self.emit_bytes(&buf, n, sink);
                    Str::Plain
                } else if (0xD800..=0xDBFF).contains(&v) {
                    self.high = v;
                    Str::LowBackslash
                } else if let Some(c) = char::from_u32(u32::from(v)) {
                    let n = simple(c, &mut buf);
                    self.emit_bytes(&buf, n, sink);
                    Str::Plain
                } else {
                    // A low surrogate on its own.
                    return Err(self.err(JsonErrorKind::LoneSurrogate, at));
                }
            }
            Str::LowBackslash if b == b'\\' => Str::LowU,
            Str::LowU if b == b'u' => Str::LowHex(0, 0),
            Str::LowBackslash | Str::LowU => return Err(self.err(JsonErrorKind::LoneSurrogate, at)),
        };
        self.state = State::Str(next);
        Ok(())
    }

    fn emit_bytes<S: Sink>(&mut self, buf: &[u8; 4], n: usize, sink: &mut S) {
        if let Ok(s) = core::str::from_utf8(buf.get(..n).unwrap_or_default()) {
            self.emit(s, sink);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;
    use std::string::String;
    use std::vec::Vec;

    /// Records events as a compact text, joining string pieces.
    #[derive(Default)]
    struct Rec {
        out: String,
        keep: bool,
        /// Arrays are not wanted (quiet).
        quiet: bool,
    }

    impl Sink for Rec {
        fn begin_object(&mut self) -> bool {
            self.out.push('{');
            true
        }
        fn end_object(&mut self) {
            self.out.push('}');
        }
        fn begin_array(&mut self) -> bool {
            self.out.push('[');
            !self.quiet
        }
        fn end_array(&mut self) {
            self.out.push(']');
        }
        fn key(&mut self, key: Option<&[u8]>) {
            let key = key.map(|k| std::str::from_utf8(k).unwrap());
            self.out.push_str(&format!("k:{key:?} "));
        }
        fn begin_string(&mut self) -> bool {
            self.out.push_str("s:");
            self.keep
        }
        fn string_part(&mut self, part: &str) {
            self.out.push_str(part);
        }
        fn end_string(&mut self) {
            self.out.push(' ');
        }
        fn number(&mut self, value: Option<u64>) {
            self.out.push_str(&format!("n:{value:?} "));
        }
        fn boolean(&mut self, value: bool) {
            self.out.push_str(&format!("b:{value} "));
        }
        fn null(&mut self) {
            self.out.push_str("null ");
        }
    }

    fn tokenize(body: &[u8], chunk: usize, keep: bool) -> Result<String, JsonError> {
        tokenize_with(body, chunk, keep, false)
    }

    fn tokenize_with(
        body: &[u8],
        chunk: usize,
        keep: bool,
        quiet: bool,
    ) -> Result<String, JsonError> {
        let mut t = Tokenizer::new();
        let mut rec = Rec {
            keep,
            quiet,
            ..Default::default()
        };
        for c in body.chunks(chunk.max(1)) {
            t.feed(c, &mut rec)?;
        }
        t.finish()?;
        Ok(rec.out)
    }

    /// Same events for every chunk size.
    fn tokenize_all(body: &[u8], keep: bool) -> Result<String, JsonError> {
        let whole = tokenize(body, body.len().max(1), keep);
        for chunk in [1, 2, 3, 5, 7, 64] {
            assert_eq!(
                tokenize(body, chunk, keep),
                whole,
                "chunk {chunk} of {:?}",
                String::from_utf8_lossy(body)
            );
        }
        whole
    }

    #[test]
    fn events_table() {
        let table: &[(&str, &str)] = &[
            ("{}", "{}"),
            (" {\r\n} \n", "{}"),
            (r#"{"a":1}"#, "{k:Some(\"a\") n:Some(1) }"),
            (
                r#"{"a" : [true,false,null]}"#,
                "{k:Some(\"a\") [b:true b:false null ]}",
            ),
            (
                r#"{"a":"x\"y\\z\/\n\t"}"#,
                "{k:Some(\"a\") s:x\"y\\z/\n\t }",
            ),
            (
                r#"{"a":"\u00e9\u65e5\ud83d\ude00"}"#,
                "{k:Some(\"a\") s:é日😀 }",
            ),
            (
                r#"{"a":"日本語 ünïcödé"}"#,
                "{k:Some(\"a\") s:日本語 ünïcödé }",
            ),
            (r#"{"\u0069d":0}"#, "{k:Some(\"id\") n:Some(0) }"),
            (
                r#"{"n":[0,-1,1.5,1e3,18446744073709551615,18446744073709551616,-0,0.0]}"#,
                "{k:Some(\"n\") [n:Some(0) n:None n:None n:None n:Some(18446744073709551615) n:None n:None n:None ]}",
            ),
            (
                "{\"n\":[1E+5,1e-0,-12.5e10,0e0,123456789012345678901234567890,7 ,8\n,0.5e1]}",
                "{k:Some(\"n\") [n:None n:None n:None n:None n:None n:Some(7) n:Some(8) n:None ]}",
            ),
            (
                r#"{"l":[true,false,null, true ],"m":{"x":null,"y":true}}"#,
                "{k:Some(\"l\") [b:true b:false null b:true ]k:Some(\"m\") {k:Some(\"x\") null k:Some(\"y\") b:true }}",
            ),
            (r#"{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa":{}}"#, "{k:None {}}"),
            (
                r#"{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa":{}}"#,
                "{k:Some(\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\") {}}",
            ),
        ];
        for (body, want) in table {
            assert_eq!(
                tokenize_all(body.as_bytes(), true).as_deref(),
                Ok(*want),
                "{body}"
            );
        }
    }

    #[test]
    fn skipped_strings_are_not_delivered_but_validated() {
        assert_eq!(
            tokenize_all(br#"{"a":"long \u00e9 text","b":"x"}"#, false).as_deref(),
            Ok("{k:Some(\"a\") s:k:Some(\"b\") s:}")
        );
        let bad = tokenize_all(b"{\"a\":\"\xff\"}", false).map_err(|e| e.kind);
        assert_eq!(bad, Err(JsonErrorKind::InvalidUtf8));
        // Every kind of escape and non-ASCII text, in a skipped value and in a skipped
        // container (quiet keys too), cut at every place by the chunkings of
        // `tokenize_all`; structural bytes inside strings are content.
        let skipped = r#""x\"]}\\\/\b\f\n\r\t\u00e9\u65E5\ud83d\ude00 日本 é 😀 ]} \\""#;
        let body = format!(r#"{{"a":{skipped},"b":[{skipped},{{"c{{":{skipped}}}],"d":1}}"#);
        assert_eq!(
            tokenize_all(body.as_bytes(), false).as_deref(),
            Ok("{k:Some(\"a\") s:k:Some(\"b\") [s:{k:Some(\"c{\") s:}]k:Some(\"d\") n:Some(1) }")
        );
        for chunk in [1, 2, 3, 5, 7, 64, body.len()] {
            assert_eq!(
                tokenize_with(body.as_bytes(), chunk, true, true).as_deref(),
                Ok(
                    "{k:Some(\"a\") s:x\"]}\\/\u{8}\u{c}\n\r\té日😀 日本 é 😀 ]} \\ k:Some(\"b\") []k:Some(\"d\") n:Some(1) }"
                ),
                "chunks of {chunk}"
            );
        }
    }

    #[test]
    fn unwanted_containers_are_validated_and_reported_as_empty() {
        let body =
            br#"{"q":[1, -2.5e+3 ,true,false,null,[],{},{"k":[0,{"z":"\u00e9"}]},"s" ],"n":[7]}"#;
        for chunk in [1, 2, 3, 5, 7, 64, body.len()] {
            assert_eq!(
                tokenize_with(body, chunk, true, true).as_deref(),
                Ok("{k:Some(\"q\") []k:Some(\"n\") []}"),
                "chunks of {chunk}"
            );
        }
    }

    #[test]
    fn stop_word_flags_every_stop_byte() {
        // Each byte value alone, at each position among plain bytes.
        for v in 0..=255u8 {
            let stop = is_special(v) || v >= 0x80;
            for pos in 0..8 {
                let mut word = [b'a'; 8];
                word[pos] = v;
                let hit = stop_word(u64::from_le_bytes(word));
                assert_eq!(hit != 0, stop, "{v:#x} at {pos}");
                if stop {
                    assert_eq!(hit.trailing_zeros() / 8, pos as u32, "{v:#x} at {pos}");
                }
            }
        }
    }

    #[test]
    fn find_stop_agrees_with_bytewise_scan() {
        let stop = |s: &[u8], from: usize| {
            (from..s.len())
                .find(|&i| is_special(s[i]) || s[i] >= 0x80)
                .unwrap_or(s.len())
        };
        for len in 0..60 {
            for pos in 0..len {
                for special in [b'"', b'\\', 0x00, 0x1f, b'\n', 0x80, 0xE6, 0xFF] {
                    let mut s = std::vec![b'a'; len];
                    s[pos] = special;
                    // A second stop further on, and bytes next to the flagged ranges.
                    if pos + 3 < len {
                        s[pos + 3] = b'"';
                    }
                    if pos > 0 {
                        s[pos - 1] = [b' ', b'!', b'#', b'[', b']', 0x7f][pos % 6];
                    }
                    for from in 0..=pos {
                        assert_eq!(find_stop(&s, from), stop(&s, from), "{s:?} from {from}");
                        assert_eq!(
                            find_stop_wide(&s, from),
                            stop(&s, from),
                            "{s:?} from {from}"
                        );
                    }
                }
            }
            let plain: Vec<u8> = (0..len)
                .map(|i| b' ' + (i % 95) as u8)
                .filter(|&b| b != b'"' && b != b'\\')
                .collect();
            assert_eq!(find_stop(&plain, 0), plain.len());
            assert_eq!(find_stop_wide(&plain, 0), plain.len());
        }
    }

    #[test]
    fn errors_table() {
        use JsonErrorKind::*;
        let table: &[(&[u8], JsonErrorKind, usize)] = &[
            (b"", UnexpectedEnd, 0),
            (b"   ", UnexpectedEnd, 3),
            (b"{", UnexpectedEnd, 1),
            (b"{\"a\":\"abc", UnexpectedEnd, 9),
            (b"[]", NotAnObject, 0),
            (b"  5", NotAnObject, 2),
            (b"{}x", TrailingData, 2),
            (b"{} {}", TrailingData, 3),
            (b"{\"a\":1,}", UnexpectedByte, 7),
            (b"{\"a\":[1,]}", UnexpectedByte, 8),
            (b"{\"a\" 1}", UnexpectedByte, 5),
            (b"{\"a\":1]", UnexpectedByte, 6),
            (b"{\"a\":tru}", UnexpectedByte, 8),
            (b"{\"a\":nulll}", UnexpectedByte, 9),
            (b"{\"a\":01}", InvalidNumber, 6),
            (b"{\"a\":1.}", InvalidNumber, 7),
            (b"{\"a\":-}", InvalidNumber, 6),
            (b"{\"a\":1e}", InvalidNumber, 7),
            (b"{\"a\":+1}", UnexpectedByte, 5),
            (b"{\"a\":1.e3}", InvalidNumber, 7),
            (b"{\"a\":1e+}", InvalidNumber, 8),
            (b"{\"a\":-01}", InvalidNumber, 7),
            (b"{\"a\":--1}", InvalidNumber, 6),
            (b"{\"a\":0x1}", UnexpectedByte, 6),
            (b"{\"a\":1.5.}", UnexpectedByte, 8),
            (b"{\"a\":.5}", UnexpectedByte, 5),
            (b"{\"a\":1e5e}", UnexpectedByte, 8),
            (b"{\"a\":truex}", UnexpectedByte, 9),
            (b"{\"a\":nul}", UnexpectedByte, 8),
            (b"{\"a\":[1,2 3]}", UnexpectedByte, 10),
            // Inside arrays (skipped whole when arrays are not wanted).
            (b"{\"a\":[{\"b\":1]}", UnexpectedByte, 12),
            (b"{\"a\":[[1}]}", UnexpectedByte, 8),
            (b"{\"a\":[}", UnexpectedByte, 6),
            (b"{\"a\":[{]}", UnexpectedByte, 7),
            (b"{\"a\":[{,}]}", UnexpectedByte, 7),
            (b"{\"a\":[{\"b\" 1}]}", UnexpectedByte, 11),
            (b"{\"a\":[{\"b\":}]}", UnexpectedByte, 11),
            (b"{\"a\":[1:2]}", UnexpectedByte, 7),
            (b"{\"a\":[1,,2]}", UnexpectedByte, 8),
            (b"{\"a\":[\"x\" \"y\"]}", UnexpectedByte, 10),
            (b"{\"a\":[\"\x01\"]}", ControlCharacter, 7),
            (b"{\"a\":[\"\xff\"]}", InvalidUtf8, 7),
            (b"{\"a\":[\"\\q\"]}", InvalidEscape, 8),
            (b"{\"a\":[{\"\x01\":1}]}", ControlCharacter, 8),
            (b"{\"a\":[{\"\xe6\x97\":1}]}", InvalidUtf8, 8),
            (b"{\"a\":[tru]}", UnexpectedByte, 9),
            (b"{\"a\":[01]}", InvalidNumber, 7),
            (b"{\"a\":[1]]}", UnexpectedByte, 8),
            (b"{\"a\":[[]}", UnexpectedByte, 8),
            (b"{\"a\":[[[]]]", UnexpectedEnd, 11),
            (b"{\"a\":\"\\x\"}", InvalidEscape, 7),
            // A space after a backslash is not whitespace to skip: the escape is invalid.
            (b"{\"a\":\"\\ n\"}", InvalidEscape, 7),
            (b"{\"a\":\"\\\tn\"}", InvalidEscape, 7),
            (b"{\"a\":\"\\u\n0041\"}", InvalidEscape, 8),
            (b"{\"a\":\"\\ud83d \\ude00\"}", LoneSurrogate, 12),
            (b"{\"a\":\"\\u12g4\"}", InvalidEscape, 10),
            (b"{\"a\":\"\\ud83d\"}", LoneSurrogate, 12),
            (b"{\"a\":\"\\ud83d\\u0041\"}", LoneSurrogate, 17),
            (b"{\"a\":\"\\ude00\"}", LoneSurrogate, 11),
            (b"{\"a\":\"a\xc3\"}", InvalidUtf8, 7),
            (b"{\"a\":\"\xe6\x97\"}", InvalidUtf8, 6),
            (b"{\"a\":\"\xed\xa0\x80\"}", InvalidUtf8, 6),
            (b"{\"a\":\"tab\there\"}", ControlCharacter, 9),
            (b"{\"a\":\"\x00\"}", ControlCharacter, 6),
            (b"\xef\xbb\xbf{}", NotAnObject, 0),
            (b"{\"a\":1}\n]", TrailingData, 8),
            // Whitespace ends a number: what follows must be a separator.
            (b"{\"a\":1 5}", UnexpectedByte, 7),
            (b"{\"a\":1\t5}", UnexpectedByte, 7),
            (b"{\"a\":[1 5]}", UnexpectedByte, 8),
            (b"{\"a\":[1.5 e3]}", UnexpectedByte, 10),
            (b"{\"a\":tr ue}", UnexpectedByte, 7),
            (b"{\"a\":-\n1}", InvalidNumber, 6),
        ];
        for &(body, kind, offset) in table {
            // Wanted and skipped strings, and wanted and unwanted (quiet) arrays, take
            // different paths: all report the same error.
            for chunk in [1, 2, 3, 7, 100] {
                for (keep, quiet) in [(true, false), (false, false), (true, true)] {
                    let got = tokenize_with(body, chunk, keep, quiet);
                    assert_eq!(
                        got,
                        Err(JsonError { kind, offset }),
                        "{:?} in chunks of {chunk}, keep {keep}, quiet {quiet}",
                        String::from_utf8_lossy(body)
                    );
                }
            }
        }
    }

    #[test]
    fn depth_limit() {
        let nest = |n: usize| {
            let mut v = Vec::from(&b"{\"a\":"[..]);
            v.extend(std::iter::repeat_n(b'[', n - 1));
            v.push(b'1');
            v.extend(std::iter::repeat_n(b']', n - 1));
            v.push(b'}');
            v
        };
        for (chunk, quiet) in [(3, false), (3, true), (1000, true), (1000, false)] {
            assert!(tokenize_with(&nest(usize::from(MAX_DEPTH)), chunk, true, quiet).is_ok());
            let err =
                tokenize_with(&nest(usize::from(MAX_DEPTH) + 1), chunk, true, quiet).unwrap_err();
            assert_eq!(err.kind, JsonErrorKind::TooDeep);
            assert_eq!(err.offset, 5 + usize::from(MAX_DEPTH) - 1);
        }
    }

    #[test]
    fn errors_are_sticky() {
        let mut t = Tokenizer::new();
        let mut rec = Rec::default();
        let e = t.feed(b"{]", &mut rec).unwrap_err();
        assert_eq!(t.feed(b"}", &mut rec), Err(e));
        assert_eq!(t.finish(), Err(e));
    }

    #[test]
    fn find_special_agrees_with_bytewise_scan() {
        let mut s = std::vec![b'a'; 40];
        for pos in 0..40 {
            for special in [b'"', b'\\', 0x00, 0x1f, b'\n'] {
                let mut t = s.clone();
                t[pos] = special;
                assert_eq!(find_special(&t), pos);
                // Bytes next to the flagged ranges are not special.
                t[pos] = [b' ', b'!', b'#', b'[', b']', 0x7f, 0x80, 0xff][pos % 8];
                assert_eq!(find_special(&t), 40);
            }
        }
        s[5] = 0xE6; // non-ASCII is not special
        assert_eq!(find_special(&s), 40);
        assert_eq!(find_special(&s[..5]), 5);
        s[5] = b'"';
        s[30] = 0xE6;
        assert_eq!(find_special(&s), 5);
    }

    #[test]
    fn size_is_small() {
        assert!(size_of::<Tokenizer>() <= 128, "{}", size_of::<Tokenizer>());
    }
}
