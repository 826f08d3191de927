//! Tonearm on QEMU's riscv32 `virt` machine: the ESP32-C3's ISA (`riscv32imc`) and RAM
//! (320 KiB), with virtio devices for the radio: the emulated twin of the ESP32-C3 board,
//! run end to end against a test network (`scripts/board-virt.sh`).
//!
//! - the NS16550 UART for logs and the event lines (`docs/events.md`);
//! - the SiFive test device to end QEMU with a status;
//! - embassy (executor, time on the CLINT's `mtime`, embassy-net over our virtio-net
//!   driver), entropy from virtio-rng;
//! - the settings record in pflash unit 1 (CFI, written through by QEMU);
//! - the band renderer into the frame checksum instead of a panel.
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]

extern crate alloc;

mod display;
mod exec;
mod exit;
mod mem;
mod pflash;
mod time;
mod uart;
mod virtio;

use embassy_executor::Spawner;
use embassy_net::{Runner, Stack, StackResources};
use embassy_time::{Duration, Instant, Timer};
use embedded_graphics::pixelcolor::Rgb565;
use embedded_graphics::prelude::*;
use static_cell::StaticCell;
use tonearm_firmware::{BandRenderer, Profile, Scene, Screen, ViewModel};
use tonearm_settings::Store;

/// The panel.
const PROFILE: Profile = Profile::Square240x240;

macro_rules! mk_static {
    ($t:ty, $val:expr) => {{
        static STATIC_CELL: StaticCell<$t> = StaticCell::new();
        STATIC_CELL.uninit().write($val)
    }};
}

#[riscv_rt::entry]
fn main() -> ! {
    mem::paint_stack();
    mem::HEAP.init();
    exec::run(|spawner| {
        if let Ok(t) = board(spawner) {
            spawner.spawn(t);
        }
    })
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    println!("panic: {}", info);
    exit::exit(1)
}

/// Milliseconds since boot.
fn now_ms() -> u64 {
    Instant::now().as_millis()
}

/// Prints one event line (the only UART lines that begin with `{`).
fn event(line: &tonearm_firmware::events::EventLine, t_ms: u64) {
    let mut out = uart::Line(heapless::String::new());
    let _ = line.write_json(t_ms, &mut out);
    uart::write_bytes(out.0.as_bytes());
    uart::write_bytes(b"\n");
}

#[embassy_executor::task]
async fn net_task(mut runner: Runner<'static, virtio::NetDriver>) -> ! {
    runner.run().await
}

#[embassy_executor::task]
async fn board(spawner: Spawner) {
    println!(
        "tonearm on qemu-virt: riscv32imc, {} KiB RAM, 240x240 Rgb565",
        (mem::static_ram() + mem::stack_size()) / 1024
    );
    let band = mk_static!(
        [Rgb565; display::BAND_PIXELS],
        [Rgb565::BLACK; display::BAND_PIXELS]
    );
    let mut renderer = BandRenderer::new(band, PROFILE.size());
    let mut sink = display::FrameSink::default();
    let mut status = Scene::<Rgb565>::new(PROFILE);

    let mut seed = [0u8; 8];
    let mut rng = virtio::Rng::new();
    match rng.as_mut().map(|r| r.fill(&mut seed)) {
        Some(true) => println!("rng: virtio-rng"),
        _ => println!("rng: no virtio-rng"),
    }

    let mut store = match Store::new(pflash::Pflash::take(), 0, pflash::BLOCK as u32) {
        Ok(s) => s,
        Err(_) => halt(1),
    };
    let buf = mk_static!(
        [u8; tonearm_settings::RECORD_MAX],
        [0; tonearm_settings::RECORD_MAX]
    );
    let settings = match store.load(buf) {
        Ok(Some(s)) => Some(s),
        Ok(None) => None,
        Err(_) => {
            println!("settings: the flash failed");
            None
        }
    };
    let Some(_settings) = settings else {
        let vm = ViewModel::new(Screen::SetupNeeded);
        event(
            &tonearm_firmware::events::EventLine::new(Screen::SetupNeeded, ""),
            now_ms(),
        );
        let _ = status.redraw_banded(&vm, now_ms(), &mut renderer, &mut sink);
        println!("halted on setup_needed: no settings record in flash");
        report();
        halt(0)
    };

    let Some(nic) =
        virtio::NetDriver::new(mk_static!(virtio::NetBuffers, virtio::NetBuffers::new()))
    else {
        println!("no virtio-net device");
        halt(2)
    };
    println!("net: virtio-net, MAC {:02x?}", nic.mac());
    let (stack, runner) = embassy_net::new(
        nic,
        embassy_net::Config::dhcpv4(Default::default()),
        mk_static!(StackResources<4>, StackResources::<4>::new()),
        u64::from_le_bytes(seed),
    );
    let stack: &'static Stack<'static> = mk_static!(Stack<'static>, stack);
    if let Ok(t) = net_task(runner) {
        spawner.spawn(t);
    }
    stack.wait_config_up().await;
    if let Some(cfg) = stack.config_v4() {
        println!("net: address {} at {} ms", cfg.address, now_ms());
    }
    Timer::after(Duration::from_millis(100)).await;
    report();
    halt(0)
}

fn report() {
    println!(
        "budget: flash {} B, static RAM {} B, peak stack {} B, heap peak {} B",
        mem::flash_bytes(),
        mem::static_ram(),
        mem::peak_stack(),
        mem::HEAP.peak()
    );
}

fn halt(code: u16) -> ! {
    exit::exit(code)
}
