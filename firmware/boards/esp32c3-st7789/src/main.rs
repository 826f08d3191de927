//! Tonearm on an ESP32-C3 with a 240x240 ST7789 panel, Wi-Fi, verified TLS and three
//! buttons. Wiring only: the boot, the HTTPS client, SNTP, the settings record and the
//! loop around `tonearm_firmware::App` are the kit's (`tonearm-kit`, shared with the
//! emulated RISC-V board that runs them end to end); this file hands it the board's
//! parts.
//!
//! Tasks (embassy on esp-rtos):
//!
//! - `net_task`: the embassy-net stack (DHCP, DNS, TCP, UDP).
//! - `wifi_task`: joins the network from the stored settings and rejoins after a drop.
//! - `main`: the panel, the buttons, the watchdog, the settings partition, then the kit:
//!   `Kit::load_settings` (setup needed without a record), the Wi-Fi, and `Kit::run`.
//!
//! Only compiled here: nothing of this file ran on hardware (see firmware/PORTING.md).
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]

extern crate alloc;

mod display;
mod net;

use embassy_executor::Spawner;
use embassy_net::{Stack, StackResources};
use embedded_graphics::pixelcolor::Rgb565;
use embedded_graphics::prelude::*;
use esp_backtrace as _;
use esp_hal::gpio::{Input, InputConfig, Pull};
use esp_hal::timer::timg::{MwdtStage, TimerGroup, Wdt};
use esp_println::println;
use esp_radio::wifi::{Interface, WifiController};
use esp_storage::FlashStorage;
use static_cell::StaticCell;

use tonearm_firmware::{App, BandRenderer, Profile, Screen};
use tonearm_kit::board::{Log, NoWallClock, Watchdog};
use tonearm_kit::buttons::PinButtons;
use tonearm_kit::embassy::EmbassyNet;
use tonearm_kit::https::Buffers;
use tonearm_kit::run::{Config, Kit};
use tonearm_kit::settings::{self as record, RECORD_MAX};

esp_bootloader_esp_idf::esp_app_desc!();

/// The panel: 240x240 Rgb565.
const PROFILE: Profile = Profile::Square240x240;
/// Rows per band: 20 rows of 240 Rgb565 pixels are 9 600 bytes (12 bands a screen).
const BAND_ROWS: usize = 20;
/// Pixels in the band buffer.
const BAND_PIXELS: usize = 240 * BAND_ROWS;
/// The watchdog resets a board whose main loop has not run for this long (a request
/// has its own, shorter timeouts).
const WATCHDOG_S: u64 = 60;

macro_rules! mk_static {
    ($t:ty, $val:expr) => {{
        static STATIC_CELL: StaticCell<$t> = StaticCell::new();
        STATIC_CELL.uninit().write($val)
    }};
}

/// The log: esp-println on the USB serial console.
struct Console;

impl Log for Console {
    fn line(&mut self, args: core::fmt::Arguments<'_>) {
        println!("{}", args);
    }
}

/// The main watchdog of timer group 1.
struct Dog(Wdt<esp_hal::peripherals::TIMG1<'static>>);

impl Watchdog for Dog {
    fn feed(&mut self) {
        self.0.feed();
    }
}

#[esp_rtos::main]
async fn main(spawner: Spawner) -> ! {
    let p =
        esp_hal::init(esp_hal::Config::default().with_cpu_clock(esp_hal::clock::CpuClock::max()));
    // Wi-Fi and the TLS session (RSA keys, the certificate copy) allocate.
    esp_alloc::heap_allocator!(#[esp_hal::ram(reclaimed)] size: 64 * 1024);
    esp_alloc::heap_allocator!(size: 48 * 1024);

    let timg0 = TimerGroup::new(p.TIMG0);
    esp_rtos::start(timg0.timer0, p.FROM_CPU_INTR0);

    let timg1 = TimerGroup::new(p.TIMG1);
    let mut wdt = timg1.wdt;
    wdt.set_timeout(
        MwdtStage::Stage0,
        esp_hal::time::Duration::from_secs(WATCHDOG_S),
    );
    wdt.enable();

    // The panel and its backlight.
    let panel = display::Panel::new(display::Pins {
        spi: p.SPI2,
        sck: p.GPIO6,
        mosi: p.GPIO7,
        cs: p.GPIO10,
        dc: p.GPIO4,
        rst: p.GPIO5,
        backlight: p.GPIO3,
        ledc: p.LEDC,
    });
    let band = mk_static!([Rgb565; BAND_PIXELS], [Rgb565::BLACK; BAND_PIXELS]);
    let renderer = mk_static!(
        BandRenderer<'static, Rgb565>,
        BandRenderer::new(band, PROFILE.size())
    );

    // The buttons: to ground, with pull-ups (pressed reads low). Play/pause: a short
    // press plays or pauses, a long one (0.7 s) likes or unlikes.
    let cfg = InputConfig::default().with_pull(Pull::Up);
    let buttons = PinButtons::new(
        Input::new(p.GPIO0, cfg),
        Input::new(p.GPIO1, cfg),
        Input::new(p.GPIO2, cfg),
    );

    let mut kit = Kit::new(
        PROFILE,
        renderer,
        panel,
        buttons,
        NoWallClock,
        Dog(wdt),
        Console,
    );

    // The settings (`tonearm` in partitions.csv): two 4 KiB slots. The record as read
    // stays in its buffer (the settings borrow from it); saves are built in the second.
    let settings_buf = mk_static!([u8; RECORD_MAX], [0; RECORD_MAX]);
    let save_buf = mk_static!([u8; RECORD_MAX], [0; RECORD_MAX]);
    let (store, settings) = kit
        .load_settings(
            FlashStorage::new(p.FLASH),
            record::PARTITION_OFFSET,
            record::SLOT_SIZE,
            settings_buf,
        )
        .await;
    let wifi = net::WifiSettings {
        ssid: heapless::String::try_from(settings.ssid).unwrap_or_default(),
        password: heapless::String::try_from(settings.password).unwrap_or_default(),
    };

    // The network.
    let controller = match WifiController::new(p.WIFI, Default::default()) {
        Ok(c) => c,
        Err(_) => kit.halt(Screen::ConfigError, "Wi-Fi failed to start").await,
    };
    let sta = Interface::station();
    let mac = sta.mac_address();
    let seed = u64::from_le_bytes([mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], 0x54, 0x41]);
    let (stack, runner) = embassy_net::new(
        sta,
        embassy_net::Config::dhcpv4(Default::default()),
        mk_static!(StackResources<4>, StackResources::<4>::new()),
        seed,
    );
    let stack: &'static Stack<'static> = mk_static!(Stack<'static>, stack);
    if let Ok(t) = net::net_task(runner) {
        spawner.spawn(t);
    }
    if let Ok(t) = net::wifi_task(controller, wifi) {
        spawner.spawn(t);
    }
    let rng = match esp_hal::rng::Trng::try_new() {
        Ok(rng) => rng,
        Err(_) => kit.halt(Screen::ConfigError, "no random numbers").await,
    };

    let session = tonearm_kit::run::session(&settings, seed, kit.log());
    let app = mk_static!(App<Rgb565>, App::new(PROFILE, session));
    // Named, so scripts/board-esp32c3.sh finds them in the ELF: the TLS and HTTP
    // buffers, and the TCP socket's.
    static TLS_BUFFERS: StaticCell<Buffers> = StaticCell::new();
    static TCP_BUFFERS: StaticCell<EmbassyNet<'static>> = StaticCell::new();
    let net = TCP_BUFFERS.uninit().write(EmbassyNet::new(*stack));
    let bufs = TLS_BUFFERS.uninit().write(Buffers::new());
    kit.run(
        app,
        net,
        rng,
        bufs,
        store,
        settings,
        save_buf,
        &Config::default(),
    )
    .await
}
