//! Memory figures: the peak stack (the stack is painted at boot and the untouched part
//! measured later), the heap (with its peak), static RAM and flash from the linker's
//! symbols.

use core::alloc::{GlobalAlloc, Layout};

use embedded_alloc::LlffHeap;
use portable_atomic::{AtomicUsize, Ordering};

const PAINT: u32 = 0x5a5a_5a5a;

unsafe extern "C" {
    static __stext: u8;
    static __erodata: u8;
    static __sdata: u8;
    static __edata: u8;
    static __sbss: u8;
    static __ebss: u8;
    static _stack_start: u8;
}

fn addr(sym: &u8) -> usize {
    sym as *const u8 as usize
}

/// The image: code, constants and the initial values of `.data`.
pub fn flash_bytes() -> usize {
    // SAFETY: linker symbols; only their addresses are used.
    unsafe { addr(&__erodata) - addr(&__stext) + (addr(&__edata) - addr(&__sdata)) }
}

/// `.data` and `.bss`.
pub fn static_ram() -> usize {
    // SAFETY: as above.
    unsafe { addr(&__edata) - addr(&__sdata) + (addr(&__ebss) - addr(&__sbss)) }
}

/// The stack: from the end of the statics to the top of RAM.
pub fn stack_size() -> usize {
    // SAFETY: as above.
    unsafe { addr(&_stack_start) - addr(&__ebss) }
}

/// Paints the unused stack (below the current frame, keeping 256 bytes of margin).
#[inline(never)]
pub fn paint_stack() {
    let here = riscv_sp();
    // SAFETY: from the end of .bss to below the live frames: unused stack.
    unsafe {
        let mut p = addr(&__ebss).next_multiple_of(4) as *mut u32;
        while (p as usize) < here - 256 {
            core::ptr::write_volatile(p, PAINT);
            p = p.add(1);
        }
    }
}

/// The deepest the stack has been since [`paint_stack`].
pub fn peak_stack() -> usize {
    // SAFETY: reads the painted region.
    unsafe {
        let bottom = addr(&__ebss).next_multiple_of(4);
        let top = addr(&_stack_start);
        let mut p = bottom as *const u32;
        while (p as usize) < top && core::ptr::read_volatile(p) == PAINT {
            p = p.add(1);
        }
        top - p as usize
    }
}

fn riscv_sp() -> usize {
    let sp: usize;
    // SAFETY: reads the stack pointer.
    unsafe { core::arch::asm!("mv {0}, sp", out(reg) sp) };
    sp
}

/// The heap: TLS (certificate parsing, RSA) allocates.
pub const HEAP_BYTES: usize = 48 * 1024;

/// A heap that remembers its peak.
pub struct PeakHeap {
    heap: LlffHeap,
    used: AtomicUsize,
    peak: AtomicUsize,
}

#[global_allocator]
pub static HEAP: PeakHeap = PeakHeap {
    heap: LlffHeap::empty(),
    used: AtomicUsize::new(0),
    peak: AtomicUsize::new(0),
};

impl PeakHeap {
    /// Gives the heap its memory (once, at boot).
    pub fn init(&self) {
        static mut MEMORY: [u8; HEAP_BYTES] = [0; HEAP_BYTES];
        // SAFETY: called once, before any allocation; the memory is ours.
        unsafe { self.heap.init((&raw mut MEMORY) as usize, HEAP_BYTES) }
    }

    /// The most the heap held at once.
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::Relaxed)
    }
}

// SAFETY: forwards to the LLFF heap; only counts.
unsafe impl GlobalAlloc for PeakHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded.
        let p = unsafe { self.heap.alloc(layout) };
        if !p.is_null() {
            let now = self.used.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            self.peak.fetch_max(now, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded.
        unsafe { self.heap.dealloc(ptr, layout) };
        self.used.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}
