//! The executor: embassy's raw executor polled from a loop that sleeps (`wfi`) when
//! nothing is ready, until the next timer ([`crate::time`]) or an interrupt from a
//! virtio device ([`crate::virtio::service_interrupts`]). Interrupts stay globally off
//! (`mstatus.MIE` = 0): `wfi` still wakes on a pending enabled interrupt, and the loop
//! services it in thread mode, so there are no trap handlers and no data shared with one.

use embassy_executor::{Spawner, raw};
use portable_atomic::{AtomicBool, Ordering};
use static_cell::StaticCell;

/// Set when a task was woken (by embassy's pender).
static WORK: AtomicBool = AtomicBool::new(false);

#[unsafe(export_name = "__pender")]
fn pender(_context: *mut ()) {
    WORK.store(true, Ordering::SeqCst);
}

/// Runs the executor forever; `init` spawns the first tasks.
pub fn run(init: impl FnOnce(Spawner)) -> ! {
    static EXECUTOR: StaticCell<raw::Executor> = StaticCell::new();
    let executor: &'static raw::Executor = EXECUTOR.init(raw::Executor::new(core::ptr::null_mut()));
    init(executor.spawner());
    // SAFETY: enabling the timer and external interrupt sources in `mie` with
    // `mstatus.MIE` off only lets `wfi` wake on them; no trap is taken.
    unsafe {
        riscv::register::mie::set_mtimer();
        riscv::register::mie::set_mext();
    }
    loop {
        WORK.store(false, Ordering::SeqCst);
        // SAFETY: `poll` is never called re-entrantly (one thread, no trap handlers).
        unsafe { executor.poll() };
        let next = crate::time::wake_due();
        crate::virtio::service_interrupts();
        if WORK.load(Ordering::SeqCst) {
            continue;
        }
        crate::time::arm(next);
        riscv::asm::wfi();
        crate::virtio::service_interrupts();
    }
}
