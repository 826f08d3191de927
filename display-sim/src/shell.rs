//! The desktop shell's loop: it drives the firmware's [`App`] with a clock, a network and
//! an output (headless or a window). It does the I/O and nothing else: every rule lives
//! in the app and the session.

use std::io::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use embedded_graphics::pixelcolor::Rgb888;
use embedded_graphics::prelude::*;
use embedded_graphics_simulator::{OutputSettingsBuilder, SimulatorDisplay};
use tonearm_core::budget::QuotaState;
use tonearm_core::session::{Control, Failure, Request, Session, TokenUpdate};
use tonearm_core::wall::WallClock;
use tonearm_firmware::app::NetAction;
use tonearm_firmware::art::ImageRequest;
use tonearm_firmware::events::EventLine;
use tonearm_firmware::{App, ArtStatus, Palette, Screen};

/// One step of a response, as the network delivers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetEvent {
    /// The status and the `Retry-After` header.
    Head {
        /// HTTP status.
        status: u16,
        /// The `Retry-After` value, if the header was present (any case).
        retry_after: Option<String>,
    },
    /// A chunk of the body.
    Body(Vec<u8>),
    /// The response is complete.
    End,
    /// No (complete) response.
    Failure(Failure),
}

/// Performs requests. One is in flight at a time (the app never asks for more).
pub trait Network {
    /// Starts `req`; its response arrives through [`Network::next_event`].
    fn start(&mut self, req: Request, now_ms: u64);
    /// Starts fetching an image (`GET`, no credentials, the body capped at
    /// `req.max_bytes`: more is a [`Failure::TooLarge`]); its response arrives through
    /// [`Network::next_event`] like any other.
    fn start_image(&mut self, req: ImageRequest, now_ms: u64);
    /// The next event of the response in flight, waiting at most `timeout`.
    fn next_event(&mut self, timeout: Duration) -> Option<NetEvent>;
    /// A session to replace the app's with, now (the demo's script starts a new one at
    /// some acts). `busy`: a request is in flight (then keep the current one).
    fn new_session(&mut self, _now_ms: u64, _busy: bool) -> Option<Session> {
        None
    }
}

/// Monotonic time for the app: real time, or real time sped up (the demo's `--speed`).
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    start: Instant,
    speed: u32,
    time_of_day: bool,
}

/// How often the loop tells the app the time of day again: just after each minute of the
/// system clock begins, so the idle clock's minute turns on time (and a change of the UTC
/// offset, a clock set by NTP or a suspend shows within a minute).
pub const WALL_CLOCK_EVERY_MS: u64 = 60_000;

/// How often the budget's state is written at most, unless a quota hold began or ended
/// (then at once).
pub const QUOTA_SAVE_GAP_MS: u64 = 60_000;

impl Clock {
    /// A clock starting at 0 now, running `speed` times faster than real time.
    pub fn new(speed: u32) -> Self {
        Clock {
            start: Instant::now(),
            speed: speed.max(1),
            time_of_day: false,
        }
    }

    /// The loop also tells the app the system's time of day (with the local UTC offset),
    /// at start and at each minute ([`WALL_CLOCK_EVERY_MS`]): for night hours, the
    /// budget's hours, the login warning and the idle clock. Only for real time (`speed`
    /// 1).
    #[must_use]
    pub fn with_time_of_day(mut self) -> Self {
        self.time_of_day = self.speed == 1;
        self
    }

    /// Milliseconds since the start, in app time.
    pub fn now_ms(&self) -> u64 {
        let real = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        real.saturating_mul(u64::from(self.speed))
    }

    /// Real milliseconds since the start.
    pub fn real_ms(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// The real duration of `ms` of app time.
    pub fn real(&self, ms: u64) -> Duration {
        Duration::from_millis(ms / u64::from(self.speed))
    }
}

/// What a window (or nothing) reports while the loop waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UiEvent {
    /// A button.
    Press(Control),
    /// Close the window, Q, Esc, Ctrl-C.
    Quit,
}

/// Where frames go besides the event stream and snapshots: a window, or nothing.
pub trait Output<C: PixelColor> {
    /// Shows `display` (only called when something was redrawn, or `blank` changed).
    fn present(&mut self, display: &SimulatorDisplay<C>, blank: bool) -> anyhow::Result<()>;
    /// Waits up to `timeout` for user input.
    fn wait(&mut self, timeout: Duration) -> Option<UiEvent>;
    /// The longest the loop may block on the network before looking at the UI again.
    fn max_block(&self) -> Duration;
}

/// The system's time of day now: Unix time and the offset of the system's time zone
/// (`TZ`, else `/etc/localtime`; UTC when neither can be read).
pub fn system_wall_clock() -> WallClock {
    let now = jiff::Zoned::now();
    WallClock {
        unix_ms: u64::try_from(now.timestamp().as_millisecond()).unwrap_or(0),
        utc_offset_s: now.offset().seconds(),
    }
}

/// No window: the loop just sleeps.
pub struct Headless;

impl<C: PixelColor> Output<C> for Headless {
    fn present(&mut self, _display: &SimulatorDisplay<C>, _blank: bool) -> anyhow::Result<()> {
        Ok(())
    }
    fn wait(&mut self, timeout: Duration) -> Option<UiEvent> {
        if crate::interrupted() {
            return Some(UiEvent::Quit);
        }
        std::thread::sleep(timeout.min(Duration::from_millis(200)));
        crate::interrupted().then_some(UiEvent::Quit)
    }
    fn max_block(&self) -> Duration {
        Duration::from_millis(200)
    }
}

/// Options of the loop shared by `run` and `demo`.
#[derive(Debug, Clone, Default)]
pub struct LoopOptions {
    /// Print the event lines on stdout: one JSON object whenever what the display shows
    /// changes (see `docs/events.md` and [`tonearm_firmware::events`]).
    pub events: bool,
    /// Write the screen as PNG whenever it changes (screen, title or art; atomically).
    pub snapshot: Option<PathBuf>,
    /// Exit 0 after this long (real time), even while a request hangs.
    pub duration: Option<Duration>,
}

/// Where refreshed tokens and the budget's state go: the token store and `quota.json`, or
/// nowhere (the demo).
pub trait TokenSink {
    /// Fresh tokens: persist them now.
    fn tokens(&mut self, update: TokenUpdate) -> anyhow::Result<()>;

    /// The budget's state changed (see [`App::take_quota_save`]): persist it. The default
    /// keeps nothing.
    fn quota(&mut self, _state: QuotaState) -> anyhow::Result<()> {
        Ok(())
    }
}

/// Tokens that are not kept (the demo).
pub struct Discard;

impl TokenSink for Discard {
    fn tokens(&mut self, _update: TokenUpdate) -> anyhow::Result<()> {
        Ok(())
    }
}

/// Runs the app until the window closes, Ctrl-C, or `duration` passes. The budget's state
/// is handed to `tokens` once more at the end (whatever ended the loop).
pub fn run_loop<C, N, O, T>(
    app: &mut App<C>,
    net: &mut N,
    out: &mut O,
    tokens: &mut T,
    clock: Clock,
    opts: &LoopOptions,
) -> anyhow::Result<()>
where
    C: Palette + Into<Rgb888>,
    N: Network,
    O: Output<C>,
    T: TokenSink,
{
    let result = steps(app, net, out, tokens, clock, opts);
    let last = match app.take_quota_save(clock.now_ms(), 0) {
        Some(state) => tokens.quota(state),
        None => Ok(()),
    };
    result.and(last)
}

fn steps<C, N, O, T>(
    app: &mut App<C>,
    net: &mut N,
    out: &mut O,
    tokens: &mut T,
    clock: Clock,
    opts: &LoopOptions,
) -> anyhow::Result<()>
where
    C: Palette + Into<Rgb888>,
    N: Network,
    O: Output<C>,
    T: TokenSink,
{
    let size = app.profile().size();
    let mut display: SimulatorDisplay<C> = SimulatorDisplay::with_default_color(size, C::default());
    let deadline = opts
        .duration
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let mut in_flight = false;
    let mut net_wake = 0u64;
    let mut last_shown: Option<(Screen, String)> = None;
    let mut last_event: Option<EventLine> = None;
    let mut last_art: Option<ArtStatus> = None;
    let mut was_blank = false;
    // When to tell the app the time of day next (app ms).
    let mut wall_due = 0u64;
    let mut last_offset = None;
    let stdout = std::io::stdout();
    loop {
        if deadline.is_some_and(|d| clock.real_ms() >= d) {
            return Ok(());
        }
        let now = clock.now_ms();
        if let Some(session) = net.new_session(now, in_flight) {
            app.replace_session(session);
        }
        // The time of day before the first request (a quota hold is in Unix seconds).
        if clock.time_of_day && now >= wall_due {
            let wall = system_wall_clock();
            if last_offset != Some(wall.utc_offset_s) {
                log::debug!("time of day: UTC offset {} s", wall.utc_offset_s);
                last_offset = Some(wall.utc_offset_s);
            }
            app.set_wall_clock(now, wall);
            // Just after the next minute begins.
            let to_minute = WALL_CLOCK_EVERY_MS - wall.unix_ms % WALL_CLOCK_EVERY_MS;
            wall_due = now.saturating_add(to_minute + 2);
        }
        if !in_flight {
            match app.poll_net(now) {
                NetAction::Send(req) => {
                    log::debug!("request {:?} {}", req.method, req.path);
                    net.start(req, now);
                    in_flight = true;
                }
                NetAction::FetchImage(req) => {
                    log::debug!("image {}", req.url);
                    net.start_image(req, now);
                    in_flight = true;
                }
                NetAction::WaitUntil(t) => net_wake = t,
                NetAction::Wait => net_wake = u64::MAX,
            }
        }
        if let Some(update) = app.take_token_update() {
            tokens.tokens(update)?;
        }
        if let Some(state) = app.take_quota_save(now, QUOTA_SAVE_GAP_MS) {
            tokens.quota(state)?;
        }

        // Draw what changed; report what the display shows when it changed.
        let blank = app.is_blank(now);
        let update = app.redraw(now, &mut display).map_err(|e| match e {})?;
        let event = app.event_line(now);
        let vm = app.last_view();
        let key = (vm.screen, vm.title.to_string());
        let changed_screen = last_shown.as_ref() != Some(&key);
        if opts.events && last_event.as_ref().is_none_or(|e| e.differs(&event)) {
            let mut line = String::new();
            event
                .write_json(clock.real_ms(), &mut line)
                .context("cannot format an event")?;
            last_event = Some(event);
            let mut lock = stdout.lock();
            match writeln!(lock, "{line}").and_then(|()| lock.flush()) {
                Ok(()) => {}
                // Whoever read the events has gone (`tonearm ... --events | head`): stop
                // quietly, as command-line tools do.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
                Err(e) => return Err(e).context("cannot write events"),
            }
        }
        // The snapshot also follows the art (a cover arriving after the title).
        if let Some(path) = &opts.snapshot
            && (changed_screen || last_art != Some(vm.art))
        {
            let image = display.to_rgb_output_image(&OutputSettingsBuilder::new().build());
            crate::render_cmd::write_atomically(path, |p| {
                image.save_png(p).context("cannot encode PNG")
            })?;
        }
        last_art = Some(vm.art);
        if changed_screen {
            last_shown = Some(key);
        }
        if !update.is_empty() || blank != was_blank {
            out.present(&display, blank)?;
            was_blank = blank;
        }

        // Wait for the next thing: a response, the next frame, the next request, input.
        let now = clock.now_ms();
        let mut wake = app.next_frame_ms(now);
        if clock.time_of_day {
            wake = wake.min(wall_due);
        }
        if !in_flight {
            wake = wake.min(net_wake);
        }
        let mut timeout = clock.real(wake.saturating_sub(now));
        if let Some(d) = deadline {
            timeout = timeout.min(Duration::from_millis(d.saturating_sub(clock.real_ms())));
        }
        if in_flight {
            if let Some(ev) = net.next_event(timeout.min(out.max_block())) {
                in_flight = feed(app, ev, clock.now_ms());
                // Take everything that has arrived before drawing again.
                while in_flight {
                    match net.next_event(Duration::ZERO) {
                        Some(ev) => in_flight = feed(app, ev, clock.now_ms()),
                        None => break,
                    }
                }
            }
            if let Some(ev) = out.wait(Duration::ZERO)
                && handle_ui(app, ev, clock.now_ms())
            {
                return Ok(());
            }
        } else if let Some(ev) = out.wait(timeout)
            && handle_ui(app, ev, clock.now_ms())
        {
            return Ok(());
        }
    }
}

/// Feeds one network event; returns whether the request is still in flight.
fn feed<C: Palette>(app: &mut App<C>, ev: NetEvent, now: u64) -> bool {
    match ev {
        NetEvent::Head {
            status,
            retry_after,
        } => {
            log::debug!("response {status}");
            app.on_head(now, status, retry_after.as_deref());
            true
        }
        NetEvent::Body(chunk) => {
            app.on_body(&chunk);
            true
        }
        NetEvent::End => {
            app.on_end(now);
            false
        }
        NetEvent::Failure(f) => {
            log::info!("request failed: {f:?}");
            app.on_failure(now, f);
            false
        }
    }
}

/// Handles input; returns `true` to quit.
fn handle_ui<C: Palette>(app: &mut App<C>, ev: UiEvent, now: u64) -> bool {
    match ev {
        UiEvent::Quit => true,
        UiEvent::Press(control) => {
            if let Err(why) = app.press(now, control) {
                log::info!("{control:?} not sent: {why:?}");
            }
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_system_wall_clock_is_now_with_a_plausible_offset() {
        let before = crate::token_store::now_epoch_s() * 1000;
        let wall = system_wall_clock();
        let after = crate::token_store::now_epoch_s() * 1000 + 1000;
        assert!((before..=after).contains(&wall.unix_ms), "{wall:?}");
        assert!(wall.utc_offset_s.abs() <= 14 * 3600, "{wall:?}");
    }

    #[test]
    fn only_a_real_time_clock_tells_the_time_of_day() {
        assert!(Clock::new(1).with_time_of_day().time_of_day);
        assert!(!Clock::new(4).with_time_of_day().time_of_day);
        assert!(!Clock::new(1).time_of_day);
    }
}
