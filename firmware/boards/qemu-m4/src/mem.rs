//! What the run measures about itself: flash and static RAM from the linker's section
//! symbols, and the peak stack from cortex-m-rt's paint (`paint-stack` fills the stack
//! with [`cortex_m_rt::STACK_PAINT_VALUE`] before `main`; what is no longer paint was used).

/// The flash region of `memory.x`.
pub const FLASH_ORIGIN: usize = 0x0800_0000;

// SAFETY (of the block): these are symbols of cortex-m-rt's `link.x`; only their
// addresses are used, never their contents.
unsafe extern "C" {
    static __stext: u32;
    static __etext: u32;
    static __srodata: u32;
    static __erodata: u32;
    static __sdata: u32;
    static __edata: u32;
    static __sidata: u32;
    static __sbss: u32;
    static __ebss: u32;
    static __suninit: u32;
    static __euninit: u32;
    static _stack_end: u32;
    static _stack_start: u32;
}

macro_rules! addr {
    ($sym:ident) => {
        (&raw const $sym) as usize
    };
}

/// The image's sections, in bytes.
#[derive(Debug, Clone, Copy)]
pub struct Sections {
    /// The vector table (before `.text`).
    pub vectors: usize,
    /// Code.
    pub text: usize,
    /// Constants (fonts, layouts, the bodies of the script).
    pub rodata: usize,
    /// Initialised statics (their initial values are in flash too).
    pub data: usize,
    /// Zeroed statics.
    pub bss: usize,
    /// Uninitialised statics.
    pub uninit: usize,
}

impl Sections {
    /// The linker's figures for this image.
    pub fn of_image() -> Sections {
        Sections {
            vectors: addr!(__stext) - FLASH_ORIGIN,
            text: addr!(__etext) - addr!(__stext),
            rodata: addr!(__erodata) - addr!(__srodata),
            data: addr!(__edata) - addr!(__sdata),
            bss: addr!(__ebss) - addr!(__sbss),
            uninit: addr!(__euninit) - addr!(__suninit),
        }
    }

    /// Flash holding code and constants (vector table, `.text`, `.rodata`).
    pub fn flash_text_rodata(&self) -> usize {
        self.vectors + self.text + self.rodata
    }

    /// Everything written to flash (with `.data`'s initial values).
    pub fn flash_total(&self) -> usize {
        addr!(__sidata) - FLASH_ORIGIN + self.data
    }

    /// Static RAM.
    pub fn static_ram(&self) -> usize {
        self.data + self.bss + self.uninit
    }
}

/// The stack region: (lowest address, top), as the linker placed it.
pub fn stack_region() -> (usize, usize) {
    (addr!(_stack_end), addr!(_stack_start))
}

/// The deepest the stack has been since reset, in bytes: the paint is scanned from the
/// bottom of the stack region up to the first word that is not paint.
pub fn peak_stack() -> usize {
    let (bottom, top) = stack_region();
    let mut p = bottom;
    while p < top {
        // SAFETY: `p` is a word-aligned address inside the stack region of RAM
        // (`_stack_end` and `_stack_start` are 4- and 8-aligned by link.x), which is
        // mapped and readable; reading a word of it has no side effect. There is no
        // safe way to look at memory that no Rust object owns.
        let word = unsafe { core::ptr::read_volatile(p as *const u32) };
        if word != cortex_m_rt::STACK_PAINT_VALUE {
            break;
        }
        p += 4;
    }
    top - p
}
