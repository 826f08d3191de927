//! The parsers allocate nothing, whatever the body: a counting global allocator watches.
//!
//! The only `unsafe` in the workspace: a global allocator cannot be written without it.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use tonearm_core::{NowPlayingParser, TokenParser};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn parsing_allocates_nothing() {
    // Bodies are built before counting starts.
    let seed = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/seed_track.json"
    ))
    .unwrap();
    let episode = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/episode_long_escaped.json"
    ))
    .unwrap();
    let mut huge = Vec::from(&b"{\"x\":\""[..]);
    huge.extend(std::iter::repeat_n(b'y', 10 << 20));
    huge.extend(b"\",\"item\":{\"name\":\"z\"}}");
    let token = br#"{"access_token":"abc","expires_in":3600,"refresh_token":"def"}"#;

    let mut parser = Box::new(NowPlayingParser::new());
    let mut tokens = Box::new(TokenParser::new());
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    let mut titles = 0;
    for body in [&seed, &episode, &huge] {
        for chunk in body.chunks(512) {
            parser.feed(chunk).unwrap();
        }
        titles += usize::from(parser.finish().unwrap().title.is_some());
    }
    tokens.feed(token).unwrap();
    let t = tokens.finish().unwrap();
    let after = ALLOCATIONS.load(Ordering::SeqCst);
    assert_eq!(titles, 3);
    assert_eq!(t.expires_in, Some(3600));
    assert_eq!(after - before, 0, "the parsers allocated");
}
