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
    renderer: &'r mut BandRenderer<'b, C>,
    /// The board's own screens (connecting, setup needed) until the app takes over.
    status: Scene<C>,
    display: D,
    buttons: B,
    clock: W,
    watchdog: G,
    log: L,
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

    /// Draws one of the board's own screens (`message`: the body line, if it has one).
    pub fn show(&mut self, screen: Screen, message: &str) {
        let mut vm = ViewModel::new(screen);
        tonearm_core::text::push_truncating(&mut vm.message, message);
        self.display.set_backlight(true);
        let _ = self
            .status
            .redraw_banded(&vm, now_ms(), self.renderer, &mut self.display);
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
        match app.poll(now) {
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
                    Timer::after(Duration::from_millis(BUTTON_SAMPLE_MS.min(until - t))).await;
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
