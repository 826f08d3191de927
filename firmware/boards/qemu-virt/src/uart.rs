//! The NS16550 UART at 0x1000_0000: the board's console. QEMU needs no set-up (no baud
//! rate, no FIFO): a byte written to the transmit register appears on `-serial`.
//!
//! Every line goes out whole (`println!` formats into a line buffer first), so the
//! event lines (the only lines that begin with `{`) never interleave with a log line.

use core::fmt;

const BASE: usize = 0x1000_0000;
/// Line status register; bit 5: the transmit holding register is empty.
const LSR: usize = BASE + 5;
const LSR_THRE: u8 = 1 << 5;

/// Writes raw bytes to the UART.
pub fn write_bytes(bytes: &[u8]) {
    for &b in bytes {
        // SAFETY: the UART's registers are at these addresses on QEMU's virt machine;
        // byte accesses have no side effect but sending.
        unsafe {
            while core::ptr::read_volatile(LSR as *const u8) & LSR_THRE == 0 {}
            core::ptr::write_volatile(BASE as *mut u8, b);
        }
    }
}

/// A line being formatted (cut at 512 bytes), sent whole.
pub struct Line(pub heapless::String<512>);

impl fmt::Write for Line {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for c in s.chars() {
            if self.0.push(c).is_err() {
                break;
            }
        }
        Ok(())
    }
}

/// Prints one line on the UART (never one that begins with `{`: those are events).
#[macro_export]
macro_rules! println {
    ($($arg:tt)*) => {{
        use core::fmt::Write as _;
        let mut line = $crate::uart::Line(heapless::String::new());
        let _ = write!(line, $($arg)*);
        if line.0.starts_with('{') {
            $crate::uart::write_bytes(b" ");
        }
        $crate::uart::write_bytes(line.0.as_bytes());
        $crate::uart::write_bytes(b"\n");
    }};
}
