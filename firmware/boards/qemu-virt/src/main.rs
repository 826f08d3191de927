//! Tonearm on QEMU's riscv32 `virt` machine: the ESP32-C3's ISA (`riscv32imc`) and RAM
//! (320 KiB), with virtio devices for the radio: the emulated twin of the ESP32-C3 board,
//! run end to end against a test network (`scripts/board-virt.sh`). Only wiring: every
//! rule is the app's (`tonearm_firmware::App`), the boot and the loop are the kit's
//! (`tonearm_kit::run`).
//!
//! - the NS16550 UART for logs and the event lines (`docs/events.md`), and
//!   `frame <checksum>` after each whole frame;
//! - the SiFive test device to end QEMU with a status, and to reset the machine when the
//!   watchdog fires;
//! - embassy (executor, time on the CLINT's `mtime`, embassy-net over our virtio-net
//!   driver), TLS keys from virtio-rng;
//! - the settings record in pflash unit 1 (CFI, written through to the image by QEMU);
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

use core::fmt;

use embassy_executor::Spawner;
use embassy_net::{Runner, Stack, StackResources};
use embassy_time::{Duration, Instant, Timer};
use embedded_graphics::pixelcolor::Rgb565;
use embedded_graphics::prelude::*;
use portable_atomic::{AtomicU64, Ordering};
use static_cell::StaticCell;
use tonearm_firmware::events::EventLine;
use tonearm_firmware::{App, BandRenderer, Profile};
use tonearm_kit::board::{Log, NoButtons, NoWallClock, Watchdog};
use tonearm_kit::embassy::EmbassyNet;
use tonearm_kit::https::Buffers;
use tonearm_kit::hub::{Buffers as HubBuffers, HubSource};
use tonearm_kit::run::{Config, Kit};
use tonearm_kit::settings::RECORD_MAX;

/// The panel.
const PROFILE: Profile = Profile::Square240x240;
/// The watchdog resets the machine when the loop has not fed it for this long.
const WATCHDOG_MS: u64 = 60_000;

/// A `static` for a value a `const` expression builds: it is placed in `.bss`/`.data`
/// by the linker, never built on the stack first (as `mk_static!` does).
macro_rules! const_static {
    ($t:ty, $val:expr) => {{
        static CELL: static_cell::ConstStaticCell<$t> = static_cell::ConstStaticCell::new($val);
        CELL.take()
    }};
}

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
        if let Ok(t) = watchdog_task() {
            spawner.spawn(t);
        }
        if let Ok(t) = budget_task() {
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

/// The log: lines on the UART, and the event lines when what shows changes.
struct UartLog {
    last: Option<EventLine>,
}

impl Log for UartLog {
    fn line(&mut self, args: fmt::Arguments<'_>) {
        println!("{}", args);
    }

    fn drawn(&mut self, now_ms: u64, event: &EventLine) {
        if self.last.as_ref().is_some_and(|l| !event.differs(l)) {
            return;
        }
        let mut out = uart::Line(heapless::String::new());
        let _ = event.write_json(now_ms, &mut out);
        uart::write_bytes(out.0.as_bytes());
        uart::write_bytes(b"\n");
        self.last = Some(event.clone());
        // The peaks so far, with each change of what shows (and every 30 s).
        report();
    }
}

/// When the loop last fed the watchdog (ms since boot).
static FED_AT: AtomicU64 = AtomicU64::new(0);

/// The board's watchdog: fed by the kit's loop, watched by [`watchdog_task`].
struct SoftWatchdog;

impl Watchdog for SoftWatchdog {
    fn feed(&mut self) {
        FED_AT.store(now_ms(), Ordering::Relaxed);
    }
}

/// Resets the machine (as a chip's watchdog would) when the loop stops feeding it.
#[embassy_executor::task]
async fn watchdog_task() {
    loop {
        Timer::after(Duration::from_secs(1)).await;
        let fed = FED_AT.load(Ordering::Relaxed);
        if now_ms().saturating_sub(fed) > WATCHDOG_MS {
            println!("watchdog: not fed for {} ms: reset", now_ms() - fed);
            exit::reset();
        }
    }
}

/// Prints the memory budgets every 30 s (the peaks so far).
#[embassy_executor::task]
async fn budget_task() {
    loop {
        Timer::after(Duration::from_secs(30)).await;
        report();
    }
}

/// The panel: frames into the checksum; the backlight only logged.
struct Panel(display::FrameSink);

impl tonearm_firmware::BandSink<Rgb565> for Panel {
    type Error = core::convert::Infallible;

    fn push_band(
        &mut self,
        area: embedded_graphics::primitives::Rectangle,
        pixels: &[Rgb565],
    ) -> Result<(), Self::Error> {
        self.0.push_band(area, pixels)
    }
}

impl tonearm_kit::board::Backlight for Panel {
    fn set_backlight(&mut self, on: bool) {
        println!("backlight {}", if on { "on" } else { "off" });
    }
}

/// The TLS keys' generator: ChaCha20 seeded with 32 bytes of the host's entropy
/// (virtio-rng) at boot. The device is asked once: a virtio-rng request is a busy wait
/// on its used ring, which stalls under QEMU when it comes from the running loop (seen
/// in the first TLS handshake), and a seeded CSPRNG needs no more.
fn tls_rng(rng: &mut virtio::Rng) -> Option<rand_chacha::ChaCha20Rng> {
    use rand_core::SeedableRng as _;
    let mut seed = [0u8; 32];
    rng.fill(&mut seed)
        .then(|| rand_chacha::ChaCha20Rng::from_seed(seed))
}

#[embassy_executor::task]
async fn net_task(mut runner: Runner<'static, virtio::NetDriver>) -> ! {
    runner.run().await
}

#[embassy_executor::task]
async fn board(spawner: Spawner) {
    SoftWatchdog.feed();
    println!(
        "tonearm on qemu-virt: riscv32imc, {} KiB RAM, 240x240 Rgb565",
        (mem::static_ram() + mem::stack_size()) / 1024
    );
    let band = const_static!(
        [Rgb565; display::BAND_PIXELS],
        [Rgb565::BLACK; display::BAND_PIXELS]
    );
    let renderer = mk_static!(
        BandRenderer<'static, Rgb565>,
        BandRenderer::new(band, PROFILE.size())
    );
    let mut kit = Kit::new(
        PROFILE,
        renderer,
        Panel(display::FrameSink::default()),
        NoButtons,
        NoWallClock,
        SoftWatchdog,
        UartLog { last: None },
    );

    let Some(mut rng) = virtio::Rng::new() else {
        kit.halt(tonearm_firmware::Screen::ConfigError, "no virtio-rng")
            .await
    };
    let mut seed = [0u8; 8];
    let _ = rng.fill(&mut seed);
    let Some(tls_rng) = tls_rng(&mut rng) else {
        kit.halt(tonearm_firmware::Screen::ConfigError, "virtio-rng failed")
            .await
    };

    let settings_buf = const_static!([u8; RECORD_MAX], [0; RECORD_MAX]);
    let save_buf = const_static!([u8; RECORD_MAX], [0; RECORD_MAX]);
    let (store, settings) = kit
        .load_settings(
            pflash::Pflash::take(),
            0,
            pflash::BLOCK as u32,
            settings_buf,
        )
        .await;

    let Some(nic) =
        virtio::NetDriver::new(const_static!(virtio::NetBuffers, virtio::NetBuffers::new()))
    else {
        kit.halt(tonearm_firmware::Screen::ConfigError, "no virtio-net")
            .await
    };
    let mac = nic.mac();
    println!("net: virtio-net {:02x?}", mac);
    let (stack, runner) = embassy_net::new(
        nic,
        embassy_net::Config::dhcpv4(Default::default()),
        const_static!(StackResources<4>, StackResources::<4>::new()),
        u64::from_le_bytes(seed),
    );
    let stack: &'static Stack<'static> = mk_static!(Stack<'static>, stack);
    if let Ok(t) = net_task(runner) {
        spawner.spawn(t);
    }
    if let Ok(t) = address_task(*stack) {
        spawner.spawn(t);
    }

    let session_seed =
        u64::from_le_bytes([mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], 0x54, 0x41]);
    let net = new_net(*stack);
    // A record that names a hub: the kit's second mode, fed by `tonearm hub` over MQTT
    // (no Spotify login, no TLS).
    if tonearm_kit::hub::mode(&settings) == tonearm_kit::hub::Mode::Hub {
        let app = new_hub_app();
        let bufs = const_static!(HubBuffers, HubBuffers::new());
        println!("mqtt: buffers {} B", HubBuffers::SIZE);
        kit.run_hub(
            app,
            net,
            bufs,
            &settings,
            session_seed,
            tonearm_kit::sntp::SERVER,
        )
        .await
    }
    let app = new_app(&settings, session_seed, kit.log());
    let bufs = const_static!(Buffers, Buffers::new());
    println!("tls: buffers {} B", Buffers::SIZE);
    kit.run(
        app,
        net,
        tls_rng,
        bufs,
        store,
        settings,
        save_buf,
        &Config::default(),
    )
    .await
}

/// The app, in a `static`. Not inlined: the value is built on the stack before it is
/// moved into place, and that must happen in a frame of its own, not in the board
/// task's poll frame, which stays under every request for as long as the loop runs.
#[inline(never)]
fn new_app(
    settings: &tonearm_kit::settings::Settings<'_>,
    seed: u64,
    log: &mut UartLog,
) -> &'static mut App<Rgb565> {
    let session = tonearm_kit::run::session(settings, seed, log);
    mk_static!(App<Rgb565>, App::new(PROFILE, session))
}

/// The app of a board fed by a hub, in a `static` (not inlined, as [`new_app`]).
#[inline(never)]
fn new_hub_app() -> &'static mut App<Rgb565, HubSource> {
    mk_static!(
        App<Rgb565, HubSource>,
        App::new(PROFILE, HubSource::new(now_ms()))
    )
}

/// The network for the kit, in a `static` (not inlined, as [`new_app`]).
#[inline(never)]
fn new_net(stack: Stack<'static>) -> &'static mut EmbassyNet<'static> {
    mk_static!(EmbassyNet<'static>, EmbassyNet::new(stack))
}

/// Logs each address DHCP gives (and its loss).
#[embassy_executor::task]
async fn address_task(stack: Stack<'static>) {
    loop {
        stack.wait_config_up().await;
        if let Some(cfg) = stack.config_v4() {
            println!("net: address {} (DHCP) at {} ms", cfg.address, now_ms());
        }
        stack.wait_config_down().await;
        println!("net: address lost at {} ms", now_ms());
    }
}

/// Prints the memory budgets (peaks so far).
fn report() {
    println!(
        "budget: flash {} B, static RAM {} B (TLS buffers {} B, heap {} B, DMA {} B of which {} B in use), peak stack {} B of {} B, heap peak {} B",
        mem::flash_bytes(),
        mem::static_ram(),
        Buffers::SIZE,
        mem::HEAP_BYTES,
        virtio::DMA_BYTES,
        virtio::dma_pages_used() * 4096,
        mem::peak_stack(),
        mem::stack_size(),
        mem::HEAP.peak()
    );
}
