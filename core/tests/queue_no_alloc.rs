//! The queue parser allocates nothing, whatever the body: a counting global allocator
//! watches (as `tests/no_alloc.rs` does for the other parsers).
#![allow(unsafe_code)] // A global allocator cannot be written without it.

mod queue_support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use tonearm_core::parse::QueueParser;

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
fn parsing_a_queue_allocates_nothing() {
    // Bodies are built before counting starts.
    let compact = queue_support::realistic_queue();
    let pretty = queue_support::pretty(&compact);
    let long = format!(
        r#"{{"queue":[{{"name":"{}","artists":[{{"name":"{}"}}]}}]}}"#,
        "\\u00e9".repeat(10_000),
        "x".repeat(10_000)
    );
    let mut parser = Box::new(QueueParser::new());
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    let mut named = 0;
    for body in [&compact, &pretty, &long] {
        for chunk in body.as_bytes().chunks(512) {
            parser.feed(chunk).unwrap();
        }
        named += usize::from(parser.finish().unwrap().next.is_some());
    }
    let after = ALLOCATIONS.load(Ordering::SeqCst);
    assert_eq!(named, 3);
    assert_eq!(after - before, 0, "the queue parser allocated");
}
