//! The embassy time driver on the CLINT's `mtime` (10 MHz on QEMU's virt machine, so
//! one embassy tick is one `mtime` tick), with the timer queue in a critical section.
//! The executor's idle loop ([`crate::exec`]) wakes what is due ([`wake_due`]) and
//! sleeps until the next expiry ([`arm`]): no trap handler is involved, `wfi` wakes on
//! the pending machine-timer interrupt with interrupts globally off.

use core::cell::RefCell;
use core::task::Waker;

use critical_section::Mutex;
use embassy_time_queue_utils::Queue;

const MTIMECMP: usize = 0x0200_4000;
const MTIME: usize = 0x0200_BFF8;

/// `mtime` now.
pub fn ticks() -> u64 {
    // SAFETY: the CLINT's `mtime` on QEMU's virt machine; reading has no side effect.
    unsafe {
        loop {
            let hi = core::ptr::read_volatile((MTIME + 4) as *const u32);
            let lo = core::ptr::read_volatile(MTIME as *const u32);
            if hi == core::ptr::read_volatile((MTIME + 4) as *const u32) {
                return (u64::from(hi) << 32) | u64::from(lo);
            }
        }
    }
}

/// Sets `mtimecmp`: the machine-timer interrupt is pending from `at` on.
pub fn arm(at: u64) {
    // SAFETY: hart 0's `mtimecmp`; written high word first (to all ones) so that no
    // intermediate value is earlier than both the old and the new one.
    unsafe {
        core::ptr::write_volatile((MTIMECMP + 4) as *mut u32, u32::MAX);
        core::ptr::write_volatile(MTIMECMP as *mut u32, at as u32);
        core::ptr::write_volatile((MTIMECMP + 4) as *mut u32, (at >> 32) as u32);
    }
}

static QUEUE: Mutex<RefCell<Queue>> = Mutex::new(RefCell::new(Queue::new()));

/// Wakes the timers that are due; returns when the next one is (`u64::MAX`: none).
pub fn wake_due() -> u64 {
    critical_section::with(|cs| QUEUE.borrow_ref_mut(cs).next_expiration(ticks()))
}

struct Clint;

impl embassy_time_driver::Driver for Clint {
    fn now(&self) -> u64 {
        ticks()
    }

    fn schedule_wake(&self, at: u64, waker: &Waker) {
        critical_section::with(|cs| {
            QUEUE.borrow_ref_mut(cs).schedule_wake(at, waker);
        });
    }
}

embassy_time_driver::time_driver_impl!(static DRIVER: Clint = Clint);
