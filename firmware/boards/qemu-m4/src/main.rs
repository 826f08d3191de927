//! Tonearm on an emulated Cortex-M4: QEMU's `netduinoplus2`, an STM32F405 (1 MiB flash,
//! 128 KiB RAM). The firmware's app runs its own loop (`App::poll`) with a simulated clock
//! and a scripted socket (the crate `tonearm-qemu-run`, which the host test runs too) and
//! draws the 320x240 screens through the band renderer; the board prints each step's
//! checksum and the memory budgets, and exits through semihosting with a code
//! (`SYS_EXIT_EXTENDED`):
//!
//! | code | meaning |
//! | --- | --- |
//! | 0 | every checksum as expected, every budget kept |
//! | 1 | a panic (panic-semihosting) |
//! | 3 | a checksum differs from `expected.rs` |
//! | 4 | a budget is overrun |
//! | 5 | the session did not follow the script |
//! | 6 | a hard fault |
//!
//! `TONEARM_BOARD_FAULT` at build time injects one failure (`checksum`, `budget`,
//! `panic`, `hardfault`, `hang`), so `scripts/board-qemu.sh` can prove each exit path.
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]

#[cfg(feature = "art")]
mod art;
mod mem;

use cortex_m_rt::{ExceptionFrame, entry, exception};
use cortex_m_semihosting::hprintln;
use embedded_graphics::pixelcolor::Rgb565;
use embedded_graphics::prelude::*;
use panic_semihosting as _;

use tonearm_qemu_run as script;
use tonearm_qemu_run::expected::EXPECTED;
use tonearm_qemu_run::{BAND_PIXELS, NoDisplay, RX_BUF, Step};

const EXIT_OK: u32 = 0;
const EXIT_CHECKSUM: u32 = 3;
const EXIT_BUDGET: u32 = 4;
const EXIT_SCRIPT: u32 = 5;
const EXIT_HARDFAULT: u32 = 6;

/// Everything but the band buffer: static RAM and the peak stack.
const RAM_BUDGET: usize = 48 * 1024;
/// The band buffer's limit.
const BAND_BUDGET: usize = 16 * 1024;
/// Flash for code and constants with only the Latin fonts.
const FLASH_LATIN_BUDGET: usize = 256 * 1024;
/// Flash of the part.
const FLASH_PART: usize = 1024 * 1024;
/// RAM of the part.
const RAM_PART: usize = 128 * 1024;

/// A failure injected at build time (see the module docs).
const FAULT: Option<&str> = option_env!("TONEARM_BOARD_FAULT");

/// The non-Latin scripts this image carries.
const FONTS: [(&str, bool); 6] = [
    ("cyrillic", cfg!(feature = "cyrillic")),
    ("greek", cfg!(feature = "greek")),
    ("japanese", cfg!(feature = "japanese")),
    ("chinese", cfg!(feature = "chinese")),
    ("korean", cfg!(feature = "korean")),
    ("symbols", cfg!(feature = "symbols")),
];

#[entry]
fn main() -> ! {
    let code = run();
    hprintln!("exit {}", code);
    exit(code)
}

fn run() -> u32 {
    hprintln!("tonearm on qemu-m4: STM32F405 (1 MiB flash, 128 KiB RAM), 320x240 Rgb565");
    let non_latin = FONTS.iter().any(|(_, on)| *on);
    hprint_fonts(non_latin);
    #[cfg(feature = "art")]
    art::init();

    // The band buffer lives in .bss (a static), so the stack figure below is the rest.
    let Some(band) = cortex_m::singleton!(: [Rgb565; BAND_PIXELS] = [Rgb565::BLACK; BAND_PIXELS])
    else {
        return EXIT_SCRIPT;
    };
    let mut rx = [0u8; RX_BUF];

    let mut wrong = 0u32;
    let result = script::run(band, &mut rx, &mut NoDisplay, |step: &Step| {
        let want = EXPECTED
            .iter()
            .find(|(name, n, _)| (*name, *n) == step.key())
            .map(|(_, _, sum)| *sum);
        let want = match (FAULT, want) {
            (Some("checksum"), Some(w)) => Some(w ^ 1),
            (_, w) => w,
        };
        let verdict = if want == Some(step.checksum) {
            "ok"
        } else {
            wrong += 1;
            "WRONG"
        };
        hprintln!(
            "step {:<16} t={:>6} ms  {:<7} {:>2} regions {:>6} px  stack {:>5} B  checksum {:08x}  {}",
            step,
            step.now_ms,
            if step.full { "full" } else { "partial" },
            step.regions,
            step.pixels,
            mem::peak_stack(),
            step.checksum,
            verdict
        );
        if verdict != "ok" {
            hprintln!("  expected {:08x}", want.unwrap_or(0));
        }
    });
    let stats = match result {
        Ok(stats) => stats,
        Err(e) => {
            hprintln!("script: {}", e);
            return EXIT_SCRIPT;
        }
    };
    hprintln!(
        "loop: {} turns, {} draws; net: {} requests, {} cover fetches refused; {} body bytes in {} chunks (largest {} B) through one {} B receive buffer; {} bands",
        stats.turns,
        stats.draws,
        stats.requests,
        stats.image_fetches,
        stats.bytes,
        stats.chunks,
        stats.max_chunk,
        rx.len(),
        stats.bands
    );

    match FAULT {
        Some("panic") => panic!("injected panic"),
        Some("hardfault") => cortex_m::asm::udf(),
        Some("hang") => loop {
            cortex_m::asm::nop();
        },
        _ => {}
    }

    // The cover's decode comes before the budgets, so the peak stack counts it too.
    #[allow(unused_mut, reason = "changed only with the art feature")]
    let mut over = 0;
    #[cfg(feature = "art")]
    {
        match art::decode() {
            Ok(r) => {
                hprintln!(
                    "art: 64 px cover ({} B JPEG) decoded to {}x{} Rgb565, checksum {:08x}",
                    art::COVER_64.len(),
                    art::SIDE,
                    art::SIDE,
                    r.checksum
                );
                let verdict = if r.peak_heap > art::HEAP_BYTES || r.left != 0 {
                    over += 1;
                    "OVER"
                } else {
                    "ok"
                };
                hprintln!(
                    "budget {:<44} {:>7} B  limit {:>7} B  {}",
                    "art: peak heap (fixed heap in .bss)",
                    r.peak_heap,
                    art::HEAP_BYTES,
                    verdict
                );
                hprintln!("art: heap in use after the cover was dropped: {} B", r.left);
            }
            Err(e) => {
                hprintln!("art: the cover did not decode: {}", e);
                over += 1;
            }
        }
    }
    over += budgets(non_latin);
    if wrong > 0 {
        hprintln!("result: {} wrong checksum(s)", wrong);
        EXIT_CHECKSUM
    } else if over > 0 {
        hprintln!("result: {} budget(s) overrun", over);
        EXIT_BUDGET
    } else {
        hprintln!("result: ok");
        EXIT_OK
    }
}

fn hprint_fonts(non_latin: bool) {
    if !non_latin {
        hprintln!("fonts: Latin only");
        return;
    }
    hprintln!("fonts: Latin and:");
    for (name, on) in FONTS {
        if on {
            hprintln!("  {}", name);
        }
    }
}

/// Prints the budget lines; returns how many are overrun.
fn budgets(non_latin: bool) -> u32 {
    let s = mem::Sections::of_image();
    let peak = mem::peak_stack();
    let band = core::mem::size_of::<[Rgb565; BAND_PIXELS]>();
    // The art heap is a budget of its own (printed with the art line).
    #[cfg(feature = "art")]
    let heap = art::HEAP_BYTES;
    #[cfg(not(feature = "art"))]
    let heap = 0;
    let ram_no_band = s.static_ram().saturating_sub(band + heap) + peak;
    let ram_budget = if FAULT == Some("budget") {
        1024
    } else {
        RAM_BUDGET
    };
    let (flash_budget, flash_what) = if non_latin {
        (FLASH_PART, "with the non-Latin fonts: the part's flash")
    } else {
        (FLASH_LATIN_BUDGET, "Latin only")
    };
    let (stack_bottom, stack_top) = mem::stack_region();
    let mut over = 0;
    let mut line = |what: &str, value: usize, limit: Option<usize>| {
        let verdict = match limit {
            Some(l) if value > l => {
                over += 1;
                "OVER"
            }
            Some(_) => "ok",
            None => "",
        };
        match limit {
            Some(l) => hprintln!(
                "budget {:<44} {:>7} B  limit {:>7} B  {}",
                what,
                value,
                l,
                verdict
            ),
            None => hprintln!("budget {:<44} {:>7} B", what, value),
        }
    };
    line("flash: vector table", s.vectors, None);
    line("flash: .text", s.text, None);
    line("flash: .rodata", s.rodata, None);
    line(
        "flash: text+rodata",
        s.flash_text_rodata(),
        Some(flash_budget),
    );
    line(
        "flash: of which the script's bodies",
        script::BODY_BYTES,
        None,
    );
    line(
        "flash: image (with .data init)",
        s.flash_total(),
        Some(FLASH_PART),
    );
    line("ram: .data", s.data, None);
    line("ram: .bss (with the band buffer)", s.bss + s.uninit, None);
    line("ram: band buffer", band, Some(BAND_BUDGET));
    line("ram: art heap (feature art)", heap, None);
    line("ram: receive buffer (on the stack)", RX_BUF, Some(512));
    line("ram: peak stack", peak, None);
    line(
        "ram: static + peak stack - band - art heap",
        ram_no_band,
        Some(ram_budget),
    );
    line(
        "ram: static + peak stack",
        s.static_ram() + peak,
        Some(RAM_PART),
    );
    hprintln!("  ({})", flash_what);
    hprintln!(
        "  stack region {:#010x}..{:#010x} ({} B unused)",
        stack_bottom,
        stack_top,
        (stack_top - stack_bottom).saturating_sub(peak)
    );
    for (name, bytes) in script::state_sizes() {
        hprintln!("size {:<18} {:>6} B", name, bytes);
    }
    over
}

/// Ends the emulation with `code` (`SYS_EXIT_EXTENDED`: QEMU exits with the code itself).
fn exit(code: u32) -> ! {
    /// `ADP_Stopped_ApplicationExit`.
    const APPLICATION_EXIT: usize = 0x20026;
    /// `SYS_EXIT_EXTENDED`.
    const SYS_EXIT_EXTENDED: usize = 0x20;
    let block = [APPLICATION_EXIT, code as usize];
    // SAFETY: a semihosting call (a `bkpt 0xab` the debugger or QEMU answers) with the
    // parameter block the ARM semihosting spec gives for SYS_EXIT_EXTENDED; it does not
    // return under QEMU. Semihosting has no safe API for this call.
    unsafe {
        cortex_m_semihosting::syscall(SYS_EXIT_EXTENDED, &block);
    }
    loop {
        cortex_m::asm::bkpt();
    }
}

/// A hard fault (a bad access, an undefined instruction, an escalated fault) ends the run
/// with a code, instead of hanging the emulator. (`unsafe fn`: cortex-m-rt requires this
/// signature for the HardFault handler; its body does nothing unsafe.)
#[exception]
unsafe fn HardFault(ef: &ExceptionFrame) -> ! {
    hprintln!("hard fault: pc={:#010x} lr={:#010x}", ef.pc(), ef.lr());
    exit(EXIT_HARDFAULT)
}
