//! The SiFive test device at 0x10_0000: a write ends QEMU with an exit status.

const TEST: usize = 0x10_0000;
const PASS: u32 = 0x5555;
const FAIL: u32 = 0x3333;

/// Ends QEMU: status 0 for `code` 0, else QEMU exits with `code`.
pub fn exit(code: u16) -> ! {
    let value = if code == 0 {
        PASS
    } else {
        (u32::from(code) << 16) | FAIL
    };
    // SAFETY: the test device is at this address on QEMU's virt machine; the write ends
    // the emulator.
    unsafe { core::ptr::write_volatile(TEST as *mut u32, value) };
    loop {
        riscv::asm::wfi();
    }
}

/// Resets the machine (QEMU reloads the image; the settings flash keeps its contents).
pub fn reset() -> ! {
    // SAFETY: as in `exit`; 0x7777 asks QEMU for a system reset.
    unsafe { core::ptr::write_volatile(TEST as *mut u32, 0x7777) };
    loop {
        riscv::asm::wfi();
    }
}
