//! Album art on the board (feature `art`): the 64 px cover, decoded with zune-jpeg into
//! a fixed-size heap ([`HEAP_BYTES`] in .bss, embedded-alloc's linked-list allocator),
//! scaled to 64x64 and dithered to Rgb565. The allocator counts its peak use, which the
//! run prints; a decode that does not fit is an error (never a panic: every allocation
//! of the path is fallible or bounded by the header check before it).

use core::alloc::{GlobalAlloc, Layout};
use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicUsize, Ordering};

use embedded_alloc::LlffHeap;
use embedded_graphics::pixelcolor::Rgb565;
use embedded_graphics::prelude::*;
use tonearm_firmware::art::{DecodeLimits, decode_cover};

/// The heap: room for one 64 px decode (measured peak plus a margin).
pub const HEAP_BYTES: usize = 40 * 1024;

/// The 64 px cover: `pattern_rgb(0x0102_0304, 64)` encoded at quality 85 by the host
/// (the test `golden::board_cover` checks this file is exactly that).
pub const COVER_64: &[u8] = include_bytes!("../cover64.jpg");

/// The box it is decoded to.
pub const SIDE: u32 = 64;

/// The allocator with a peak counter.
pub struct Counting {
    heap: LlffHeap,
    now: AtomicUsize,
    peak: AtomicUsize,
}

#[global_allocator]
static HEAP: Counting = Counting {
    heap: LlffHeap::empty(),
    now: AtomicUsize::new(0),
    peak: AtomicUsize::new(0),
};

// SAFETY: forwards to embedded-alloc's heap (itself a GlobalAlloc) and only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is passed on unchanged.
        let p = unsafe { self.heap.alloc(layout) };
        if !p.is_null() {
            let now = self.now.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            self.peak.fetch_max(now, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { self.heap.dealloc(ptr, layout) };
        self.now.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

/// Gives the heap its memory (once, at start).
pub fn init() {
    static mut MEM: [MaybeUninit<u8>; HEAP_BYTES] = [MaybeUninit::uninit(); HEAP_BYTES];
    // SAFETY: called once from `main` before any allocation; MEM is used by nothing else.
    unsafe {
        HEAP.heap
            .init(core::ptr::addr_of_mut!(MEM) as usize, HEAP_BYTES)
    }
}

/// What the decode gave.
pub struct Report {
    /// FNV-1a of the cover's pixels (big-endian Rgb565), as the host computes it.
    pub checksum: u32,
    /// The most heap in use at once, in bytes.
    pub peak_heap: usize,
    /// Heap still in use after the cover was dropped (0: nothing leaked).
    pub left: usize,
}

/// Decodes the cover; `Err` with the error's text when it does not decode. Never
/// inlined, so its frame is not added to its caller's.
#[inline(never)]
pub fn decode() -> Result<Report, tonearm_firmware::art::ArtError> {
    HEAP.peak
        .store(HEAP.now.load(Ordering::Relaxed), Ordering::Relaxed);
    let cover = decode_cover::<Rgb565>(COVER_64, Size::new(SIDE, SIDE), DecodeLimits::SMALL)?;
    let mut h = tonearm_firmware::Fnv1a::new();
    for c in cover.pixels() {
        h.write(&c.into_storage().to_be_bytes());
    }
    let checksum = h.finish();
    drop(cover);
    Ok(Report {
        checksum,
        peak_heap: HEAP.peak.load(Ordering::Relaxed),
        left: HEAP.now.load(Ordering::Relaxed),
    })
}
