//! The boot and the loop every networked board runs, around `tonearm_firmware::App`.
//!
//! The app is sans-IO and holds every rule (when to poll, refresh, back off, save, read
//! the clock, blank); [`Kit::run`] only performs what [`Do`] says and reports back. A
//! board's `main` is its wiring and four calls:
//!
//! ```text
//! let mut kit = Kit::new(PROFILE, &mut renderer, panel, buttons, NoWallClock, wdt, log);
//! let (store, settings) = kit.load_settings(flash, OFFSET, SLOT, settings_buf).await;
//! // ... the board joins its network with settings.ssid / settings.password ...
//! let app = APP.init(App::new(PROFILE, kit::run::session(&settings, seed, &mut log)));
//! kit.run(app, &mut net, rng, bufs, store, settings, save_buf, &Config::default()).await
//! ```
//!
//! Failures the board cannot get past (no settings, an unreadable partition, no trust
//! anchors) show their screen and wait for a reset, feeding the watchdog: a board never
//! connects without verification, and never reboots in a loop.

use embassy_time::{Duration, Instant, Timer};
use embedded_storage::nor_flash::NorFlash;
use rand_core::{CryptoRng, RngCore};
use tonearm_core::Secret;
use tonearm_core::session::{Credentials, Failure, Session, Timing};
use tonearm_core::wall::PosixTz;
use tonearm_firmware::{
    App, BandRenderer, BandSink, Do, Palette, Profile, Save, Scene, Screen, ViewModel,
};
use tonearm_settings::anchor;

use crate::board::{Backlight, Buttons, Log, Network, WallClock, Watchdog};
use crate::http::Hosts;
use crate::https::{Anchors, Buffers, Https};
use crate::settings::{self as record, Quota, RECORD_MAX, Settings, Store};

/// How often the buttons are sampled while the loop waits.
pub const BUTTON_SAMPLE_MS: u64 = 5;
/// How often the loop looks whether the network is up, at boot.
pub const NET_POLL_MS: u64 = 200;
/// The pause between SNTP attempts at boot.
pub const SNTP_RETRY_MS: u64 = 2000;
/// What the login-needed screen tells a board's user to run.
pub const LOGIN_COMMAND: &str = "tonearm provision";

/// The options of the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// Where the requests go (Spotify's hosts, port 443).
    pub hosts: Hosts,
    /// The NTP server asked at boot (a name).
    pub sntp_server: &'static str,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            hosts: Hosts::SPOTIFY,
            sntp_server: crate::sntp::SERVER,
        }
    }
}

/// Monotonic milliseconds since boot: the app's `now_ms` (embassy-time).
pub fn now_ms() -> u64 {
    Instant::now().as_millis()
}

/// The board's parts the boot and the loop use, and the kit's status screens.
pub struct Kit<'r, 'b, C: Palette, D, B, W, G, L> {
    pub(crate) renderer: &'r mut BandRenderer<'b, C>,
    /// The board's own screens (connecting, setup needed) until the app takes over.
    status: Scene<C>,
    pub(crate) display: D,
    pub(crate) buttons: B,
    pub(crate) clock: W,
    pub(crate) watchdog: G,
    pub(crate) log: L,
}

impl<'r, 'b, C, D, B, W, G, L> Kit<'r, 'b, C, D, B, W, G, L>
where
    C: Palette,
    D: BandSink<C> + Backlight,
    B: Buttons,
    W: WallClock,
    G: Watchdog,
    L: Log,
{
    /// The kit over a board's display (drawn band by band through `renderer`), buttons,
    /// wall clock, watchdog and log.
    pub fn new(
        profile: Profile,
        renderer: &'r mut BandRenderer<'b, C>,
        display: D,
        buttons: B,
        clock: W,
        watchdog: G,
        log: L,
    ) -> Self {
        Kit {
            renderer,
            status: Scene::new(profile),
            display,
            buttons,
            clock,
            watchdog,
            log,
        }
    }

    /// The log.
    pub fn log(&mut self) -> &mut L {
        &mut self.log
    }

    /// The display.
    pub fn display(&mut self) -> &mut D {
        &mut self.display
    }

    /// Draws one of the board's own screens (`message`: the body line, if it has one),
    /// and tells the log ([`Log::drawn`]) as the app's draws do.
    pub fn show(&mut self, screen: Screen, message: &str) {
        let mut vm = ViewModel::new(screen);
        tonearm_core::text::push_truncating(&mut vm.message, message);
        self.display.set_backlight(true);
        let now = now_ms();
        let _ = self
            .status
            .redraw_banded(&vm, now, self.renderer, &mut self.display);
        self.log
            .drawn(now, &tonearm_firmware::events::EventLine::new(screen, ""));
    }

    /// Shows `screen` and waits for a reset (a new settings image, a power cycle),
    /// feeding the watchdog.
    pub async fn halt(&mut self, screen: Screen, message: &str) -> ! {
        self.log
            .line(format_args!("halted on {}: {}", screen.name(), message));
        self.show(screen, message);
        loop {
            self.watchdog.feed();
            Timer::after(Duration::from_secs(1)).await;
        }
    }

    /// Reads the settings record from the two slots at `offset` (each `slot` bytes) of
    /// `flash` into `buf`, which the settings then borrow; logs what the board makes of
    /// them (time zone, night hours, budget, trust anchors). Halts on `setup_needed`
    /// without a record and on `config_error` for a partition that does not fit the
    /// flash.
    pub async fn load_settings<'s, F: NorFlash>(
        &mut self,
        flash: F,
        offset: u32,
        slot: u32,
        buf: &'s mut [u8; RECORD_MAX],
    ) -> (Store<F>, Settings<'s>) {
        let mut store = match Store::new(flash, offset, slot) {
            Ok(s) => s,
            Err(_) => {
                self.halt(Screen::ConfigError, "bad settings partition")
                    .await
            }
        };
        let settings = match store.load(buf) {
            Ok(Some(s)) => s,
            Ok(None) => self.halt(Screen::SetupNeeded, "").await,
            Err(e) => {
                self.log
                    .line(format_args!("settings: unreadable record: {e:?}"));
                self.halt(Screen::SetupNeeded, "").await
            }
        };
        log_anchors(&settings, &mut self.log);
        (store, settings)
    }

    /// Waits for the network (showing `connecting` with the network's name), learns the
    /// time of day (the board's clock, else SNTP), then runs `app` for ever: performs
    /// what it asks (requests over `net` with keys from `rng`, saves into `store`, the
    /// wall clock, the backlight, draws, sleeps while sampling the buttons) and feeds
    /// the watchdog each turn.
    #[allow(clippy::too_many_arguments, reason = "the board's parts, each once")]
    pub async fn run<'s, N, R, F>(
        &mut self,
        app: &mut App<C>,
        net: &mut N,
        rng: R,
        bufs: &mut Buffers,
        store: Store<F>,
        settings: Settings<'s>,
        save_buf: &mut [u8; RECORD_MAX],
        config: &Config,
    ) -> !
    where
        N: Network,
        R: RngCore + CryptoRng,
        F: NorFlash,
    {
        if settings.hub_url.is_some_and(|u| !u.trim().is_empty()) {
            // A record for a board fed by a hub has no Spotify login: `Kit::run_hub`
            // (feature `hub`) runs it; a board wired for this mode only says so.
            self.halt(Screen::ConfigError, "the settings name a hub: no hub mode")
                .await;
        }
        let anchors = anchors(&settings);
        if anchors.is_empty() {
            // Never connect unverified: without anchors there is nothing to check against.
            self.halt(Screen::ConfigError, "no CA roots built in").await;
        }
        self.show(Screen::Connecting, settings.ssid);
        while !net.is_up() {
            self.watchdog.feed();
            Timer::after(Duration::from_millis(NET_POLL_MS)).await;
        }
        self.log.line(format_args!("network up"));
        self.learn_time(net, config.sntp_server).await;
        app.set_login_command(LOGIN_COMMAND);
        app.set_quota_save_gap(record::QUOTA_SAVE_GAP_MS);
        let mut run = Running {
            https: Https::new(net, rng, bufs, anchors, config.hosts),
            saver: Saver::new(store, settings, save_buf),
            tz: record::time_zone(&settings).ok().flatten(),
        };
        loop {
            self.step(app, &mut run).await;
        }
    }

    /// The time of day from the board's clock, else from SNTP (retried until it answers).
    async fn learn_time<N: Network>(&mut self, net: &mut N, server: &str) {
        loop {
            self.watchdog.feed();
            let unix = match self.clock.unix_s() {
                Some(s) => Some(s),
                None => crate::sntp::query(net, server).await,
            };
            if let Some(s) = unix {
                crate::https::set_unix_now(s);
                self.log.line(format_args!("time of day known: {s} (Unix)"));
                return;
            }
            Timer::after(Duration::from_millis(SNTP_RETRY_MS)).await;
        }
    }

    /// One turn of the loop: polls the app and does what it says.
    async fn step<N, R, F>(&mut self, app: &mut App<C>, run: &mut Running<'_, '_, N, R, F>)
    where
        N: Network,
        R: RngCore + CryptoRng,
        F: NorFlash,
    {
        self.watchdog.feed();
        let now = now_ms();
        let what = app.poll(now);
        match what {
            Do::Send(req) => match run.https.perform(&req, app, &mut self.log).await {
                Ok(()) => app.on_end(now_ms()),
                Err(f) => app.on_failure(now_ms(), f),
            },
            // The kit is built without the `art` feature's fetching: never asked.
            Do::Fetch(_) => app.on_failure(now, Failure::Connect),
            Do::Save(save) => run.saver.save(&save, &mut self.log),
            Do::ReadClock => {
                if let Some(unix_ms) = crate::https::unix_ms_at(now) {
                    app.set_wall_clock(now, record::wall_clock(unix_ms, run.tz.as_ref()));
                }
            }
            Do::Backlight(on) => self.display.set_backlight(on),
            Do::Draw => {
                let _ = app.draw_banded(now, self.renderer, &mut self.display);
                self.log.drawn(now, &app.event_line(now));
            }
            Do::Sleep(until) => {
                let Some(period) = self.buttons.sample_period_ms() else {
                    // No buttons: nothing but the time can change what the app wants.
                    Timer::at(Instant::from_millis(until)).await;
                    return;
                };
                // Sample the buttons while waiting (at least once, however short the
                // sleep: the debouncers need their samples); a press goes to the app at
                // once.
                loop {
                    let t = now_ms();
                    if let Some(control) = self.buttons.sample(t) {
                        let _ = app.press(t, control);
                        break;
                    }
                    if t >= until {
                        break;
                    }
                    Timer::after(Duration::from_millis(period.clamp(1, until - t))).await;
                }
            }
        }
    }
}

/// What the loop holds once running.
struct Running<'n, 's, N, R, F: NorFlash> {
    https: Https<'n, N, R>,
    saver: Saver<'s, F>,
    tz: Option<PosixTz>,
}

/// The settings record as read, and what the board rewrites in it: the refresh token
/// (after a rotation) and the budget's state; every other field (and any field of a
/// later version) is written back as it was read.
pub struct Saver<'s, F> {
    store: Store<F>,
    read: Settings<'s>,
    buf: &'s mut [u8; RECORD_MAX],
    refresh_token: heapless::String<{ record::REFRESH_TOKEN_MAX }>,
    quota: Option<Quota>,
}

impl<'s, F: NorFlash> Saver<'s, F> {
    /// Saves into `store`, starting from `read` (the record as loaded), building records
    /// in `buf`.
    pub fn new(store: Store<F>, read: Settings<'s>, buf: &'s mut [u8; RECORD_MAX]) -> Self {
        Saver {
            store,
            refresh_token: heapless::String::try_from(read.refresh_token).unwrap_or_default(),
            quota: read.quota,
            read,
            buf,
        }
    }

    /// Persists what `save` carries that is worth a flash write: a rotated refresh
    /// token, the budget's state (the access token lives in RAM only).
    pub fn save(&mut self, save: &Save, log: &mut impl Log) {
        let mut changed = false;
        if let Some(rt) = save.tokens.as_ref().and_then(|t| t.refresh_token.as_ref()) {
            match heapless::String::try_from(rt.expose()) {
                Ok(t) => {
                    self.refresh_token = t;
                    changed = true;
                }
                Err(_) => log.line(format_args!(
                    "settings: the rotated token is too long to store"
                )),
            }
        }
        if let Some(q) = &save.quota {
            self.quota = Some(record::quota_record(q));
            changed = true;
        }
        if !changed {
            return;
        }
        let record = Settings {
            refresh_token: &self.refresh_token,
            quota: self.quota,
            ..self.read
        };
        match self.store.save(&record, &mut self.buf[..]) {
            Ok(()) => log.line(format_args!("settings: saved")),
            Err(e) => log.line(format_args!("settings: could not store the record: {e:?}")),
        }
    }

    /// The store (for tests and for a board that reads it back).
    pub fn store(&mut self) -> &mut Store<F> {
        &mut self.store
    }
}

/// The session for the settings' login, with the time zone's night hours, the daily
/// budget and its stored state and the login's time; `seed` varies the backoff's jitter
/// between boards (the MAC address). Logs what it read (never a secret).
pub fn session(settings: &Settings<'_>, seed: u64, log: &mut impl Log) -> Session {
    let creds = Credentials {
        client_id: tonearm_core::text::bounded(settings.client_id).0,
        client_secret: None,
        refresh_token: Secret::new(settings.refresh_token),
    };
    match record::time_zone(settings) {
        Ok(Some(_)) => log.line(format_args!(
            "time zone: {}",
            settings.tz.unwrap_or_default()
        )),
        Ok(None) => log.line(format_args!("no TZ rule in the settings: times are UTC")),
        Err(_) => log.line(format_args!(
            "the TZ rule in the settings is not a POSIX TZ rule: times are UTC"
        )),
    }
    let night = record::night(settings).unwrap_or_else(|_| {
        log.line(format_args!(
            "the night hours in the settings are not HH:MM-HH:MM: no night hours"
        ));
        None
    });
    let daily = record::daily_requests(settings);
    log.line(format_args!(
        "daily request budget: {} ({})",
        daily,
        if settings.quota.is_some() {
            "with its stored state"
        } else {
            "no stored state"
        }
    ));
    let mut session = Session::new(creds, Timing::default(), seed);
    session.set_budget(
        daily,
        settings
            .quota
            .as_ref()
            .map(record::quota_state)
            .unwrap_or_default(),
    );
    session.set_night(night);
    session.set_authorized_at(settings.authorized_at);
    session
}

/// The trust anchors: the built-in roots and the record's valid extra anchors.
pub fn anchors<'s>(settings: &Settings<'s>) -> Anchors<'s> {
    let mut extra = [None; tonearm_settings::record::ROOTS_MAX];
    for (slot, der) in extra.iter_mut().zip(settings.roots.iter()) {
        *slot = der.filter(|d| anchor::describe(d).is_ok());
    }
    Anchors::new(crate::roots::ROOTS, &extra)
}

/// Logs the trust anchors: each built-in root and each of the record's, by CommonName
/// and fingerprint (as `tonearm provision` printed it); a record anchor that is not a
/// certificate is logged and left out.
pub fn log_anchors(settings: &Settings<'_>, log: &mut impl Log) {
    for (file, der) in crate::roots::ROOTS {
        match anchor::describe(der) {
            Ok(name) => log.line(format_args!("trust: built in: {name} ({file})")),
            Err(e) => log.line(format_args!("trust: built in: {file}: {e}")),
        }
    }
    for (i, der) in settings.roots.iter().enumerate() {
        let Some(der) = der else { continue };
        match anchor::describe(der) {
            Ok(name) => log.line(format_args!("trust: from the settings ({}): {name}", i + 1)),
            Err(e) => log.line(format_args!(
                "trust: from the settings ({}): left out: {e}",
                i + 1
            )),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use core::future::Future;
    use core::net::{IpAddr, Ipv4Addr};
    use core::pin::Pin;
    use core::task::{Context, Poll, Waker};
    use embassy_time::MockDriver;
    use embedded_graphics::pixelcolor::Rgb565;
    use embedded_graphics::prelude::*;
    use std::cell::RefCell;
    use std::rc::Rc;
    use tonearm_core::session::Control;
    use tonearm_settings::ram::RamFlash;

    use crate::testing::SERIAL;

    /// Polls `fut` every simulated [`BUTTON_SAMPLE_MS`] for `ms` milliseconds (embassy's
    /// timers are checked on every poll, so no waker is needed).
    pub(crate) fn drive<F: Future + ?Sized>(mut fut: Pin<&mut F>, ms: u64) -> Option<F::Output> {
        let mut cx = Context::from_waker(Waker::noop());
        for _ in 0..ms / BUTTON_SAMPLE_MS {
            if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
                return Some(v);
            }
            MockDriver::get().advance(Duration::from_millis(BUTTON_SAMPLE_MS));
        }
        None
    }

    type Shared = Rc<RefCell<Vec<String>>>;

    /// The log, and the event lines as `drawn <screen>`.
    struct Lines(Shared);

    impl Log for Lines {
        fn line(&mut self, args: core::fmt::Arguments<'_>) {
            self.0.borrow_mut().push(args.to_string());
        }
        fn drawn(&mut self, now_ms: u64, event: &tonearm_firmware::events::EventLine) {
            self.0
                .borrow_mut()
                .push(format!("drawn {} at {now_ms}", event.screen.name()));
        }
    }

    /// A panel that counts bands and remembers the backlight.
    #[derive(Clone, Default)]
    struct Panel(Rc<RefCell<(usize, Option<bool>)>>);

    impl BandSink<Rgb565> for Panel {
        type Error = core::convert::Infallible;
        fn push_band(
            &mut self,
            _area: embedded_graphics::primitives::Rectangle,
            _pixels: &[Rgb565],
        ) -> Result<(), Self::Error> {
            self.0.borrow_mut().0 += 1;
            Ok(())
        }
    }

    impl Backlight for Panel {
        fn set_backlight(&mut self, on: bool) {
            self.0.borrow_mut().1 = Some(on);
        }
    }

    /// Counts the watchdog's feeds.
    #[derive(Clone, Default)]
    struct Dog(Rc<RefCell<u64>>);

    impl Watchdog for Dog {
        fn feed(&mut self) {
            *self.0.borrow_mut() += 1;
        }
    }

    /// Presses `control` once at `at_ms`; counts its samples.
    #[derive(Clone)]
    struct Press(u64, Control, Rc<RefCell<(bool, u64)>>);

    impl Buttons for Press {
        fn sample(&mut self, now_ms: u64) -> Option<Control> {
            let mut state = self.2.borrow_mut();
            state.1 += 1;
            (now_ms >= self.0 && !std::mem::replace(&mut state.0, true)).then_some(self.1)
        }
    }

    /// No buttons: the loop must never sample.
    struct Never;

    impl Buttons for Never {
        fn sample(&mut self, _now_ms: u64) -> Option<Control> {
            panic!("sampled without buttons")
        }
        fn sample_period_ms(&self) -> Option<u64> {
            None
        }
    }

    /// A network that comes up at `up_ms`, answers SNTP with `unix_s` and every name
    /// with 192.0.2.1, and refuses every TCP connection (so no request gets through).
    struct Net {
        up_ms: u64,
        unix_s: u64,
        log: Shared,
    }

    enum NoTcp {}

    impl embedded_io_async::ErrorType for NoTcp {
        type Error = core::convert::Infallible;
    }
    impl embedded_io_async::Read for NoTcp {
        async fn read(&mut self, _buf: &mut [u8]) -> Result<usize, Self::Error> {
            match *self {}
        }
    }
    impl embedded_io_async::Write for NoTcp {
        async fn write(&mut self, _buf: &[u8]) -> Result<usize, Self::Error> {
            match *self {}
        }
        async fn flush(&mut self) -> Result<(), Self::Error> {
            match *self {}
        }
    }

    const TEST_NET: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));

    impl Network for Net {
        type Error = &'static str;
        type Tcp<'a> = NoTcp;

        fn is_up(&self) -> bool {
            now_ms() >= self.up_ms
        }
        async fn resolve(&mut self, host: &str) -> Result<IpAddr, &'static str> {
            self.log
                .borrow_mut()
                .push(format!("resolve {host} at {}", now_ms()));
            Ok(TEST_NET)
        }
        async fn connect(&mut self, addr: IpAddr, port: u16) -> Result<NoTcp, &'static str> {
            self.log
                .borrow_mut()
                .push(format!("connect {addr}:{port} at {}", now_ms()));
            Err("refused")
        }
        async fn exchange_udp(
            &mut self,
            addr: IpAddr,
            port: u16,
            request: &[u8],
            reply: &mut [u8],
        ) -> Result<usize, &'static str> {
            assert_eq!((addr, port), (TEST_NET, 123));
            assert_eq!(request, crate::sntp::request());
            let ntp = u32::try_from(self.unix_s + 2_208_988_800).unwrap();
            reply[..48].fill(0);
            reply[0] = 0x24;
            reply[1] = 2;
            reply[40..44].copy_from_slice(&ntp.to_be_bytes());
            Ok(48)
        }
    }

    const G3: &[u8] = include_bytes!("../roots/digicert-global-root-g3.der");

    fn record<'a>(roots: [Option<&'a [u8]>; 2]) -> Settings<'a> {
        Settings {
            ssid: "test net",
            password: "password",
            client_id: "0123456789abcdef0123456789abcdef",
            refresh_token: "AQB-old-token",
            tz: Some("CET-1CEST,M3.5.0,M10.5.0/3"),
            roots,
            ..Settings::default()
        }
    }

    fn flash_with(settings: Option<&Settings<'_>>) -> RamFlash {
        let mut image = vec![0xFF; 8192];
        if let Some(s) = settings {
            tonearm_settings::partition_image(s, &mut image).unwrap();
        }
        RamFlash(image)
    }

    /// 2026-07-01 12:00 UTC.
    const UNIX: u64 = 1_782_907_200;

    #[test]
    fn boot_connects_only_once_the_network_and_the_time_are_there_and_requests_back_off() {
        let press = Press(5_000, Control::Next, Rc::default());
        let (log, panel, dog) = boot_and_run(press.clone(), 1_200_000);
        // The buttons were sampled every 5 ms while the loop waited, the press taken.
        let (taken, samples) = *press.2.borrow();
        assert!(taken);
        assert!(samples > 1_200_000 / 5 / 2, "{samples}");
        check_boot(&log.borrow(), &panel, &dog);
    }

    #[test]
    fn without_buttons_the_loop_sleeps_to_the_apps_deadlines() {
        let (log, panel, dog) = boot_and_run(Never, 1_200_000);
        check_boot(&log.borrow(), &panel, &dog);
    }

    /// Boots a board with a record (two extra anchors, one of them garbage), a network
    /// up at 1 s that refuses every connection, and `buttons`; runs it for `ms`; checks
    /// the time of day reached the session.
    fn boot_and_run<B: Buttons>(buttons: B, ms: u64) -> (Shared, Panel, Dog) {
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        MockDriver::get().reset();
        let log: Shared = Rc::default();
        let panel = Panel::default();
        let dog = Dog::default();
        let mut band = vec![Rgb565::BLACK; 240 * 20];
        let mut renderer = BandRenderer::new(&mut band, Profile::Square240x240.size());
        let mut kit = Kit::new(
            Profile::Square240x240,
            &mut renderer,
            panel.clone(),
            buttons,
            crate::board::NoWallClock,
            dog.clone(),
            Lines(log.clone()),
        );
        let garbage = [0x30u8, 0x03, 1, 2, 3];
        let settings = record([Some(G3), Some(&garbage)]);
        let mut buf = Box::new([0u8; RECORD_MAX]);
        let mut save_buf = Box::new([0u8; RECORD_MAX]);
        let mut net = Net {
            up_ms: 1_000,
            unix_s: UNIX,
            log: log.clone(),
        };
        let mut bufs = Box::new(Buffers::new());
        let (store, settings) = {
            let fut =
                std::pin::pin!(kit.load_settings(flash_with(Some(&settings)), 0, 4096, &mut buf));
            drive(fut, 10).expect("a record loads at once")
        };
        assert_eq!(settings.refresh_token, "AQB-old-token");
        let mut app = Box::new(App::<Rgb565>::new(
            Profile::Square240x240,
            session(&settings, 7, &mut Lines(log.clone())),
        ));
        let config = Config::default();
        {
            let fut = kit.run(
                &mut app,
                &mut net,
                rand_core_test::Counter(1),
                &mut bufs,
                store,
                settings,
                &mut save_buf,
                &config,
            );
            let mut fut = Box::pin(fut);
            assert!(drive(fut.as_mut(), ms).is_none(), "the loop never ends");
        }
        // The time of day reached the session (Do::ReadClock), as SNTP said at 1 s.
        let now = now_ms();
        let unix_ms = app.session().unix_ms(now).expect("the wall clock is set");
        assert_eq!(unix_ms, UNIX * 1000 + now - 1000);
        (log, panel, dog)
    }

    /// What every boot of [`boot_and_run`] shows.
    fn check_boot(lines: &[String], panel: &Panel, dog: &Dog) {
        let at = |prefix: &str| {
            lines
                .iter()
                .position(|l| l.starts_with(prefix))
                .unwrap_or_else(|| panic!("no line {prefix:?} in {lines:#?}"))
        };
        // The anchors are named, the garbage one left out.
        let g2 = at("trust: built in: \"DigiCert Global Root G2\" (SHA-256 cb:3c:cb:b7");
        assert!(at("trust: from the settings (1): \"DigiCert Global Root G3\"") > g2);
        at("trust: from the settings (2): left out: not a DER X.509 certificate");
        at("time zone: CET-1CEST");
        // No name is looked up before the network is up, no connection before the time.
        let up = at("network up");
        let time = at(&format!("time of day known: {UNIX} (Unix)"));
        assert!(up < time);
        assert_eq!(at("resolve pool.ntp.org"), up + 1);
        let first_connect = at("connect 192.0.2.1:443");
        assert!(first_connect > time);
        // The first request is the token refresh; refused connections back off.
        assert!(lines[first_connect - 1].starts_with("resolve accounts.spotify.com"));
        let times: Vec<u64> = lines
            .iter()
            .filter(|l| l.starts_with("connect "))
            .map(|l| l.rsplit(' ').next().unwrap().parse().unwrap())
            .collect();
        assert!(times.len() >= 3, "{times:?} {lines:#?}");
        let gaps: Vec<u64> = times.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(
            gaps.iter().all(|g| *g >= 60_000) && gaps.windows(2).all(|g| g[1] >= g[0]),
            "refused refreshes are retried minutes apart, never sooner: {gaps:?}"
        );
        assert!(times.len() < 20, "no hammering: {times:?}");
        // Screens: connecting first (the kit's), then the app's; drawn and lit.
        // The kit's own `connecting` has its event line, before the network is up.
        assert!(at("drawn connecting at 0") < up);
        assert!(
            lines.iter().any(|l| l.starts_with("drawn offline")),
            "{lines:#?}"
        );
        assert!(panel.0.borrow().0 > 12, "at least a full screen of bands");
        assert_eq!(panel.0.borrow().1, Some(true));
        // The watchdog is fed all along (every turn, and while waiting).
        assert!(*dog.0.borrow() > 90, "{}", dog.0.borrow());
    }

    #[test]
    fn a_record_for_a_hub_is_not_run_against_spotify() {
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        MockDriver::get().reset();
        let log: Shared = Rc::default();
        let mut band = vec![Rgb565::BLACK; 240 * 20];
        let mut renderer = BandRenderer::new(&mut band, Profile::Square240x240.size());
        let mut kit = Kit::new(
            Profile::Square240x240,
            &mut renderer,
            Panel::default(),
            crate::board::NoButtons,
            crate::board::NoWallClock,
            Dog::default(),
            Lines(log.clone()),
        );
        let hub = Settings {
            ssid: "test net",
            hub_url: Some("mqtt://192.0.2.1/desk"),
            ..Settings::default()
        };
        let mut buf = Box::new([0u8; RECORD_MAX]);
        let mut save_buf = Box::new([0u8; RECORD_MAX]);
        let (store, settings) = {
            let fut = std::pin::pin!(kit.load_settings(flash_with(Some(&hub)), 0, 4096, &mut buf));
            drive(fut, 10).expect("a record loads at once")
        };
        let mut app = Box::new(App::<Rgb565>::new(
            Profile::Square240x240,
            session(&settings, 7, &mut Lines(log.clone())),
        ));
        let mut net = Net {
            up_ms: 0,
            unix_s: UNIX,
            log: log.clone(),
        };
        let mut bufs = Box::new(Buffers::new());
        let config = Config::default();
        {
            let fut = kit.run(
                &mut app,
                &mut net,
                rand_core_test::Counter(1),
                &mut bufs,
                store,
                settings,
                &mut save_buf,
                &config,
            );
            assert!(drive(Box::pin(fut).as_mut(), 5_000).is_none(), "halted");
        }
        let lines = log.borrow();
        assert!(
            lines.contains(
                &"halted on config_error: the settings name a hub: no hub mode".to_owned()
            ),
            "{lines:#?}"
        );
        assert!(
            !lines
                .iter()
                .any(|l| l.starts_with("resolve") || l.starts_with("connect")),
            "nothing asked of the network: {lines:#?}"
        );
    }

    #[test]
    fn no_record_halts_on_setup_needed_and_keeps_feeding_the_watchdog() {
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        MockDriver::get().reset();
        let log: Shared = Rc::default();
        let dog = Dog::default();
        let mut band = vec![Rgb565::BLACK; 240 * 20];
        let mut renderer = BandRenderer::new(&mut band, Profile::Square240x240.size());
        let mut kit = Kit::new(
            Profile::Square240x240,
            &mut renderer,
            Panel::default(),
            crate::board::NoButtons,
            crate::board::NoWallClock,
            dog.clone(),
            Lines(log.clone()),
        );
        let mut buf = Box::new([0u8; RECORD_MAX]);
        {
            let fut = std::pin::pin!(kit.load_settings(flash_with(None), 0, 4096, &mut buf));
            assert!(drive(fut, 10_500).is_none(), "halted");
        }
        assert_eq!(log.borrow()[0], "halted on setup_needed: ");
        assert_eq!(log.borrow()[1], "drawn setup_needed at 0", "its event line");
        assert!(*dog.0.borrow() >= 10, "fed each second");
        // A partition that does not fit the flash: a configuration error.
        let fut = std::pin::pin!(kit.load_settings(RamFlash(vec![0xFF; 4096]), 0, 4096, &mut buf));
        assert!(drive(fut, 10).is_none());
        let lines = log.borrow();
        assert_eq!(
            lines[lines.len() - 2..],
            [
                "halted on config_error: bad settings partition",
                "drawn config_error at 10500"
            ]
        );
    }

    #[test]
    fn a_rotated_token_and_the_budget_are_saved_and_everything_else_kept() {
        let garbage = [1u8, 2, 3];
        let before = Settings {
            night: Some("23:00-07:00"),
            daily_requests: Some(900),
            ..record([Some(G3), Some(&garbage)])
        };
        let mut buf = Box::new([0u8; RECORD_MAX]);
        let mut store = Store::new(flash_with(Some(&before)), 0, 4096).unwrap();
        let read = store.load(&mut buf[..]).unwrap().unwrap();
        let mut save_buf = Box::new([0u8; RECORD_MAX]);
        let mut saver = Saver::new(store, read, &mut save_buf);
        let log: Shared = Rc::default();
        let mut quota = tonearm_core::budget::QuotaState::default();
        quota.roll(494_444);
        quota.record();
        saver.save(
            &Save {
                tokens: Some(tonearm_core::session::TokenUpdate {
                    access_token: Secret::new("BQ-access").unwrap(),
                    expires_in_ms: 3_600_000,
                    refresh_token: Some(Secret::new("AQB-new-token").unwrap()),
                }),
                quota: Some(quota.clone()),
            },
            &mut Lines(log.clone()),
        );
        assert_eq!(log.borrow().as_slice(), ["settings: saved"]);
        let mut check = [0u8; RECORD_MAX];
        let after = saver.store().load(&mut check).unwrap().unwrap();
        assert_eq!(after.refresh_token, "AQB-new-token");
        assert_eq!(after.quota.map(|q| record::quota_state(&q)), Some(quota));
        let expect = Settings {
            refresh_token: "AQB-new-token",
            quota: after.quota,
            ..before
        };
        assert_eq!(after, expect, "every other field as it was");
        // An access token alone is not worth a flash write.
        let seq = saver.store().sequence();
        saver.save(
            &Save {
                tokens: Some(tonearm_core::session::TokenUpdate {
                    access_token: Secret::new("BQ-2").unwrap(),
                    expires_in_ms: 7_200_000,
                    refresh_token: None,
                }),
                quota: None,
            },
            &mut Lines(log.clone()),
        );
        assert_eq!(saver.store().sequence(), seq);
        assert_eq!(log.borrow().len(), 1);
    }
}

/// A deterministic "RNG" for the tests (no handshake completes in them).
#[cfg(test)]
pub(crate) mod rand_core_test {
    pub struct Counter(pub u64);

    impl rand_core::RngCore for Counter {
        fn next_u32(&mut self) -> u32 {
            self.next_u64() as u32
        }
        fn next_u64(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            self.0
        }
        fn fill_bytes(&mut self, dest: &mut [u8]) {
            for b in dest {
                *b = self.next_u64() as u8;
            }
        }
        fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
            self.fill_bytes(dest);
            Ok(())
        }
    }

    impl rand_core::CryptoRng for Counter {}
}
