//! Tonearm on an ESP32-C3 with a 240x240 ST7789 panel, Wi-Fi, verified TLS and three
//! buttons. A thin shell around `tonearm_firmware::App` (the same app the desktop and
//! the emulated board drive): it brings time, response bytes and button presses in, and
//! takes requests, tokens to persist and bands to draw out. Every rule (when to poll,
//! refresh, back off, blank) is in the app; none is here.
//!
//! Tasks (embassy on esp-rtos):
//!
//! - `net_task`: the embassy-net stack (DHCP, DNS, TCP, UDP).
//! - `wifi_task`: joins the network from the stored settings and rejoins after a drop.
//! - `main`: settings from flash (Wi-Fi, the login, the time zone, night hours, the daily
//!   budget and its state), SNTP, then the app's own loop (`App::poll`) and what it asks
//!   for: the wall clock (local time from the settings' POSIX TZ rule), HTTPS requests
//!   with bodies read in 512-byte chunks into the session's streaming parser, the
//!   settings record written when the refresh token rotates or the budget's state is due
//!   (at most hourly), the panel drawn band by band, the backlight; buttons sampled and
//!   debounced while it sleeps, and the watchdog fed.
//!
//! Only compiled here: nothing of this file ran on hardware (see firmware/PORTING.md).
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]

extern crate alloc;

mod display;
mod net;
mod roots;

use core::sync::atomic::{AtomicU32, Ordering};

use embassy_executor::Spawner;
use embassy_net::{Stack, StackResources};
use embassy_time::{Duration, Instant, Timer};
use embedded_graphics::pixelcolor::Rgb565;
use embedded_graphics::prelude::*;
use esp_backtrace as _;
use esp_hal::gpio::{Input, InputConfig, Pull};
use esp_hal::timer::timg::{MwdtStage, TimerGroup};
use esp_println::println;
use esp_radio::wifi::{Interface, WifiController};
use esp_storage::FlashStorage;
use static_cell::StaticCell;

use tonearm_c3_shell::debounce::{Debouncer, HoldButton, Press};
use tonearm_c3_shell::record::{self, Quota, RECORD_MAX, Settings, Store};
use tonearm_core::Secret;
use tonearm_core::session::{Control, Credentials, Session, Timing};
use tonearm_core::text::bounded;
use tonearm_firmware::{App, BandRenderer, Do, Profile, Screen, ViewModel};

esp_bootloader_esp_idf::esp_app_desc!();

/// The panel: 240x240 Rgb565.
const PROFILE: Profile = Profile::Square240x240;
/// Rows per band: 20 rows of 240 Rgb565 pixels are 9 600 bytes (12 bands a screen).
const BAND_ROWS: usize = 20;
/// Pixels in the band buffer.
const BAND_PIXELS: usize = 240 * BAND_ROWS;
/// The settings partition (`tonearm` in partitions.csv): two 4 KiB slots.
const SETTINGS_OFFSET: u32 = record::PARTITION_OFFSET;
const SETTINGS_SLOT: u32 = record::SLOT_SIZE;
/// The watchdog resets a board whose main loop has not run for this long (a request
/// has its own, shorter timeouts).
const WATCHDOG_S: u64 = 60;
/// How often the buttons are sampled.
const BUTTON_SAMPLE_MS: u64 = 5;

/// Unix time at boot (seconds), from SNTP; 0 until known. Read by the TLS clock.
pub static UNIX_AT_BOOT: AtomicU32 = AtomicU32::new(0);

/// The time of day in seconds since the Unix epoch, when SNTP has answered.
pub fn unix_now() -> Option<u64> {
    unix_ms_at(now_ms()).map(|ms| ms / 1000)
}

/// Unix time in ms at monotonic `now_ms`, when SNTP has answered.
fn unix_ms_at(now_ms: u64) -> Option<u64> {
    match UNIX_AT_BOOT.load(Ordering::Relaxed) {
        0 => None,
        base => Some(u64::from(base) * 1000 + now_ms),
    }
}

/// Monotonic milliseconds since boot: the app's `now_ms`.
fn now_ms() -> u64 {
    Instant::now().as_millis()
}

macro_rules! mk_static {
    ($t:ty, $val:expr) => {{
        static STATIC_CELL: StaticCell<$t> = StaticCell::new();
        STATIC_CELL.uninit().write($val)
    }};
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
    let mut panel = display::Panel::new(display::Pins {
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
    let mut renderer = BandRenderer::new(band, PROFILE.size());
    // The board's own screens (connecting, setup needed) go through a scene of their own
    // until the app takes over.
    let mut status = tonearm_firmware::Scene::<Rgb565>::new(PROFILE);

    // The buttons: to ground, with pull-ups (pressed reads low).
    let cfg = InputConfig::default().with_pull(Pull::Up);
    // Play/pause: a short press plays or pauses, a long one (0.7 s) likes or unlikes.
    let play = Input::new(p.GPIO0, cfg);
    let mut play_button = HoldButton::new();
    let buttons = [
        (Input::new(p.GPIO1, cfg), Control::Previous),
        (Input::new(p.GPIO2, cfg), Control::Next),
    ];
    let mut debouncers = [Debouncer::new(); 2];

    // The settings.
    let mut store = match Store::new(FlashStorage::new(p.FLASH), SETTINGS_OFFSET, SETTINGS_SLOT) {
        Ok(s) => s,
        Err(_) => {
            halt_on(
                &mut status,
                &mut renderer,
                &mut panel,
                Screen::ConfigError,
                "bad settings partition",
                &mut wdt,
            )
            .await
        }
    };
    // The record as read stays in this buffer (the settings borrow from it); saves are
    // built in the second one.
    let settings_buf = mk_static!([u8; RECORD_MAX], [0; RECORD_MAX]);
    let save_buf = mk_static!([u8; RECORD_MAX], [0; RECORD_MAX]);
    let settings: Settings<'static> = match store.load(settings_buf) {
        Ok(Some(s)) => s,
        _ => {
            halt_on(
                &mut status,
                &mut renderer,
                &mut panel,
                Screen::SetupNeeded,
                "",
                &mut wdt,
            )
            .await
        }
    };
    if roots::ROOTS.is_empty() {
        // Never connect unverified: without roots there is nothing to check against.
        halt_on::<()>(
            &mut status,
            &mut renderer,
            &mut panel,
            Screen::ConfigError,
            "no CA roots built in",
            &mut wdt,
        )
        .await;
    }
    let creds = Credentials {
        client_id: bounded(settings.client_id).0,
        client_secret: None,
        refresh_token: Secret::new(settings.refresh_token),
    };
    let wifi = net::WifiSettings {
        ssid: heapless::String::try_from(settings.ssid).unwrap_or_default(),
        password: heapless::String::try_from(settings.password).unwrap_or_default(),
    };
    // What the board rewrites: the refresh token (after a rotation) and the budget's
    // state; every other field is written back as it was read.
    let mut saved = Saved {
        refresh_token: heapless::String::try_from(settings.refresh_token).unwrap_or_default(),
        quota: settings.quota,
    };
    let tz = match record::time_zone(&settings) {
        Ok(Some(tz)) => {
            println!("time zone: {}", settings.tz.unwrap_or_default());
            Some(tz)
        }
        Ok(None) => {
            println!("no TZ rule in the settings: times are UTC");
            None
        }
        Err(_) => {
            println!("the TZ rule in the settings is not a POSIX TZ rule: times are UTC");
            None
        }
    };
    let night = record::night(&settings).unwrap_or_else(|_| {
        println!("the night hours in the settings are not HH:MM-HH:MM: no night hours");
        None
    });
    let daily_requests = record::daily_requests(&settings);
    println!(
        "daily request budget: {} ({})",
        daily_requests,
        if settings.quota.is_some() {
            "with its stored state"
        } else {
            "no stored state"
        }
    );

    draw_status(
        &mut status,
        &mut renderer,
        &mut panel,
        Screen::Connecting,
        settings.ssid,
    );

    // The network.
    let controller = match WifiController::new(p.WIFI, Default::default()) {
        Ok(c) => c,
        Err(_) => {
            halt_on(
                &mut status,
                &mut renderer,
                &mut panel,
                Screen::ConfigError,
                "Wi-Fi failed to start",
                &mut wdt,
            )
            .await
        }
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

    // Wait for an address, then the time of day (TLS checks certificate dates).
    loop {
        wdt.feed();
        if stack.is_config_up() {
            break;
        }
        Timer::after(Duration::from_millis(200)).await;
    }
    while unix_now().is_none() {
        wdt.feed();
        match net::sntp(*stack).await {
            Some(unix) => {
                let boot = unix.saturating_sub(Instant::now().as_secs());
                UNIX_AT_BOOT.store(u32::try_from(boot).unwrap_or(0), Ordering::Relaxed);
            }
            None => Timer::after(Duration::from_secs(2)).await,
        }
    }
    println!("online; time of day known");

    let mut session = Session::new(creds, Timing::default(), seed);
    session.set_budget(
        daily_requests,
        settings
            .quota
            .as_ref()
            .map(record::quota_state)
            .unwrap_or_default(),
    );
    session.set_night(night);
    session.set_authorized_at(settings.authorized_at);
    let app = mk_static!(App<Rgb565>, App::new(PROFILE, session));
    // A board's new login comes from `tonearm provision`, not `tonearm login`.
    app.set_login_command("tonearm provision");
    app.set_quota_save_gap(record::QUOTA_SAVE_GAP_MS);
    let mut http = net::Https::new(*stack, seed);
    let mut rx = [0u8; net::RX_BUF];
    // The loop is the app's (`App::poll`); this is only its I/O.
    loop {
        wdt.feed();
        let now = now_ms();
        match app.poll(now) {
            Do::Send(req) => http.perform(&req, app, &mut rx, now_ms).await,
            // Built without the `art` feature: never asked.
            Do::Fetch(_) => app.on_failure(now, tonearm_core::session::Failure::Connect),
            Do::Save(save) => {
                // Only a rotated refresh token or the budget's state is worth a flash write
                // (the access token lives in RAM).
                let mut changed = false;
                if let Some(rt) = save.tokens.and_then(|t| t.refresh_token) {
                    match heapless::String::try_from(rt.expose()) {
                        Ok(t) => {
                            saved.refresh_token = t;
                            changed = true;
                        }
                        Err(_) => println!("settings: the rotated token is too long to store"),
                    }
                }
                if let Some(q) = &save.quota {
                    saved.quota = Some(record::quota_record(q));
                    changed = true;
                }
                if changed
                    && store
                        .save(&saved.apply(&settings), &mut save_buf[..])
                        .is_err()
                {
                    println!("settings: could not store the settings record");
                }
            }
            Do::ReadClock => {
                if let Some(unix_ms) = unix_ms_at(now) {
                    app.set_wall_clock(now, record::wall_clock(unix_ms, tz.as_ref()));
                }
            }
            Do::Backlight(on) => panel.backlight(on),
            Do::Draw => {
                let _ = app.draw_banded(now, &mut renderer, &mut panel.sink());
            }
            Do::Sleep(until) => {
                // Sample the buttons while waiting (at least once, however short the
                // sleep: the debouncer needs its samples); a press goes to the app at once.
                loop {
                    let t = now_ms();
                    let held = match play_button.sample(t, play.is_low()) {
                        Some(Press::Short) => Some(Control::PlayPause),
                        Some(Press::Long) => Some(Control::ToggleLike),
                        None => None,
                    };
                    let pressed =
                        held.or_else(|| {
                            buttons.iter().zip(debouncers.iter_mut()).find_map(
                                |((pin, control), d)| d.sample(t, pin.is_low()).then_some(*control),
                            )
                        });
                    if let Some(control) = pressed {
                        let _ = app.press(t, control);
                        break;
                    }
                    if t >= until {
                        break;
                    }
                    Timer::after(Duration::from_millis(BUTTON_SAMPLE_MS.min(until - t))).await;
                }
            }
        }
    }
}

struct Saved {
    /// The refresh token in force (the one read, or the last rotation's).
    refresh_token: heapless::String<{ record::REFRESH_TOKEN_MAX }>,
    /// The budget's state as last saved (or read).
    quota: Option<Quota>,
}

impl Saved {
    /// The record to write: `read` (the record as read, with any fields of a later
    /// version) with the token and the budget's state replaced.
    fn apply<'a>(&'a self, read: &Settings<'a>) -> Settings<'a> {
        Settings {
            refresh_token: &self.refresh_token,
            quota: self.quota,
            ..*read
        }
    }
}

/// Draws one of the board's own screens (`message`: the body line, if the screen has one).
fn draw_status(
    scene: &mut tonearm_firmware::Scene<Rgb565>,
    renderer: &mut BandRenderer<'_, Rgb565>,
    panel: &mut display::Panel,
    screen: Screen,
    message: &str,
) {
    let mut vm = ViewModel::new(screen);
    tonearm_core::text::push_truncating(&mut vm.message, message);
    panel.backlight(true);
    let _ = scene.redraw_banded(&vm, now_ms(), renderer, &mut panel.sink());
}

/// Shows `screen` and waits for a reset (a provisioned image, a power cycle), feeding
/// the watchdog.
async fn halt_on<T>(
    scene: &mut tonearm_firmware::Scene<Rgb565>,
    renderer: &mut BandRenderer<'_, Rgb565>,
    panel: &mut display::Panel,
    screen: Screen,
    message: &str,
    wdt: &mut esp_hal::timer::timg::Wdt<esp_hal::peripherals::TIMG1<'static>>,
) -> T {
    println!("halted on {}: {}", screen.name(), message);
    draw_status(scene, renderer, panel, screen, message);
    loop {
        wdt.feed();
        Timer::after(Duration::from_secs(1)).await;
    }
}
