//! The desktop shell's loop: it drives the firmware's [`App`] with a clock, a network and
//! an output (headless or a window). It does the I/O and nothing else: every rule lives
//! in the app and the session.

use std::io::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use embedded_graphics::pixelcolor::Rgb888;
use embedded_graphics::prelude::*;
use embedded_graphics_simulator::SimulatorDisplay;
use tonearm_core::budget::QuotaState;
use tonearm_core::session::{Control, Failure, Request, Session, TokenUpdate};
use tonearm_core::wall::WallClock;
use tonearm_firmware::events::EventLine;
use tonearm_firmware::{App, ArtStatus, Do, ImageRequest, Palette, Save, Screen, Source};

use crate::render::RenderError;
use crate::token_store::TokenStoreError;

/// Why a loop ended with an error. Each message is one line.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ShellError {
    /// Fresh tokens could not be persisted (the cause follows as the error's source).
    #[error("cannot save the new token to {}", path.display())]
    SaveToken {
        /// The token file.
        path: PathBuf,
        /// Why.
        source: TokenStoreError,
    },
    /// An event line could not be formatted.
    #[error("cannot format an event: {0}")]
    FormatEvent(std::fmt::Error),
    /// Standard output refused an event line.
    #[error("cannot write events: {0}")]
    WriteEvents(std::io::Error),
    /// A `--snapshot` could not be written.
    #[error(transparent)]
    Snapshot(RenderError),
    /// The window could not be opened or updated.
    #[error("cannot open or update the window (is SDL able to reach a display?): use --headless")]
    Window,
}

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
    /// Whether news also arrives unasked (a hub's messages): the loop then waits for it
    /// with [`Network::wait_news`] while no request is in flight.
    fn brings_news(&self) -> bool {
        false
    }
    /// Waits up to `timeout` for news; `true` when some arrived (the app's source takes
    /// it at the next poll, see [`Source::take_news`]). Only called when
    /// [`Network::brings_news`].
    fn wait_news(&mut self, timeout: Duration) -> bool {
        let _ = timeout;
        false
    }
}

/// Monotonic time for the app: real time, or real time sped up (the demo's `--speed`).
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    start: Instant,
    speed: u32,
    time_of_day: bool,
}

impl Clock {
    /// A clock starting at 0 now, running `speed` times faster than real time.
    pub fn new(speed: u32) -> Self {
        Clock {
            start: Instant::now(),
            speed: speed.max(1),
            time_of_day: false,
        }
    }

    /// The loop also tells the app the system's time of day (with the local UTC offset)
    /// whenever it asks ([`Do::ReadClock`]: at start and just after each minute begins):
    /// for night hours, the budget's hours, the login warning and the idle clock. Only
    /// for real time (`speed` 1).
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
        // Rounded up: a wait shorter than `speed` app-ms must not become no wait at all
        // (the loop would spin through a scrolling title at `--speed 50`).
        Duration::from_millis(ms.div_ceil(u64::from(self.speed)))
    }
}

/// What a window (or nothing) reports while the loop waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UiEvent {
    /// A button.
    Press(Control),
    /// A command from elsewhere (a hub's `command` topic): a dark screen does not
    /// swallow it (see [`App::command`]).
    Command(Control),
    /// A tap (a mouse click) at a point of the display, in its own pixels.
    Tap(Point),
    /// Close the window, Q, Esc, Ctrl-C.
    Quit,
}

/// Where frames go besides the event stream and snapshots: a window, or nothing.
pub trait Output<C: PixelColor> {
    /// Shows `display` (only called when something was redrawn, or `blank` changed).
    fn present(&mut self, display: &SimulatorDisplay<C>, blank: bool) -> Result<(), ShellError>;
    /// Waits up to `timeout` for user input.
    fn wait(&mut self, timeout: Duration) -> Option<UiEvent>;
    /// The longest the loop may block on the network before looking at the UI again.
    fn max_block(&self) -> Duration;
    /// Before each wait: what the app shows now (its session, and the event line of its
    /// screen). A hub publishes it from here; the default does nothing.
    fn observe(
        &mut self,
        now_ms: u64,
        session: &Session,
        event: &EventLine,
    ) -> Result<(), ShellError> {
        let _ = (now_ms, session, event);
        Ok(())
    }
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
    fn present(&mut self, _display: &SimulatorDisplay<C>, _blank: bool) -> Result<(), ShellError> {
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
    fn tokens(&mut self, update: TokenUpdate) -> Result<(), ShellError>;

    /// The budget's state changed (see [`Save::quota`]): persist it. The default
    /// keeps nothing.
    fn quota(&mut self, _state: QuotaState) -> Result<(), ShellError> {
        Ok(())
    }

    /// The loop is ending: whatever could not be persisted yet is tried once more; an
    /// error here is the run's error. The default has nothing pending.
    fn flush(&mut self) -> Result<(), ShellError> {
        Ok(())
    }
}

/// Tokens that are not kept (the demo).
pub struct Discard;

impl TokenSink for Discard {
    fn tokens(&mut self, _update: TokenUpdate) -> Result<(), ShellError> {
        Ok(())
    }
}

/// Runs the app's loop ([`App::poll`]) until the window closes, Ctrl-C, or `duration`
/// passes, doing what it asks: requests and covers through `net`, saves through `tokens`,
/// draws into a frame buffer shown by `out`, the event lines and snapshots. What is left
/// to persist is handed to `tokens` once more at the end (whatever ended the loop).
pub fn run_loop<C, S, N, O, T>(
    app: &mut App<C, S>,
    net: &mut N,
    out: &mut O,
    tokens: &mut T,
    clock: Clock,
    opts: &LoopOptions,
) -> Result<(), ShellError>
where
    C: Palette + Into<Rgb888>,
    S: Source,
    N: Network,
    O: Output<C>,
    T: TokenSink,
{
    let result = steps(app, net, out, tokens, clock, opts);
    let last = match app.final_save(clock.now_ms()) {
        Some(save) => persist(tokens, save),
        None => Ok(()),
    };
    let flushed = tokens.flush();
    result.and(last).and(flushed)
}

fn persist<T: TokenSink>(tokens: &mut T, save: Save) -> Result<(), ShellError> {
    if let Some(update) = save.tokens {
        tokens.tokens(update)?;
    }
    if let Some(state) = save.quota {
        tokens.quota(state)?;
    }
    Ok(())
}

/// What the loop reports beside the window: event lines and snapshots.
struct Reports {
    last_shown: Option<(Screen, String)>,
    last_event: Option<EventLine>,
    last_art: Option<ArtStatus>,
}

impl Reports {
    /// Before the loop sleeps: an event line when what is shown changed (the backlight
    /// off included), a snapshot when the screen, title or art changed. `Ok(false)`:
    /// whoever read the events has gone.
    fn report<C, S>(
        &mut self,
        app: &App<C, S>,
        display: &SimulatorDisplay<C>,
        now: u64,
        clock: Clock,
        opts: &LoopOptions,
    ) -> Result<bool, ShellError>
    where
        C: Palette + Into<Rgb888>,
        S: Source,
    {
        let event = app.event_line(now);
        let vm = app.last_view();
        let key = (vm.screen, vm.title.to_string());
        let changed_screen = self.last_shown.as_ref() != Some(&key);
        if opts.events && self.last_event.as_ref().is_none_or(|e| e.differs(&event)) {
            let mut line = String::new();
            event
                .write_json(clock.real_ms(), &mut line)
                .map_err(ShellError::FormatEvent)?;
            self.last_event = Some(event);
            let stdout = std::io::stdout();
            let mut lock = stdout.lock();
            match writeln!(lock, "{line}").and_then(|()| lock.flush()) {
                Ok(()) => {}
                // Whoever read the events has gone (`tonearm ... --events | head`): stop
                // quietly, as command-line tools do.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(false),
                Err(e) => return Err(ShellError::WriteEvents(e)),
            }
        }
        // The snapshot also follows the art (a cover arriving after the title).
        if let Some(path) = &opts.snapshot
            && (changed_screen || self.last_art != Some(vm.art))
        {
            crate::render::png_of(display, 1)
                .and_then(|png| crate::render::write_png(path, &png))
                .map_err(ShellError::Snapshot)?;
        }
        self.last_art = Some(vm.art);
        if changed_screen {
            self.last_shown = Some(key);
        }
        Ok(true)
    }
}

fn steps<C, S, N, O, T>(
    app: &mut App<C, S>,
    net: &mut N,
    out: &mut O,
    tokens: &mut T,
    clock: Clock,
    opts: &LoopOptions,
) -> Result<(), ShellError>
where
    C: Palette + Into<Rgb888>,
    S: Source,
    N: Network,
    O: Output<C>,
    T: TokenSink,
{
    let size = app.profile().size();
    let mut display: SimulatorDisplay<C> = SimulatorDisplay::with_default_color(size, C::default());
    let deadline = opts
        .duration
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let mut reports = Reports {
        last_shown: None,
        last_event: None,
        last_art: None,
    };
    let mut blank = false;
    let mut last_offset = None;
    loop {
        if deadline.is_some_and(|d| clock.real_ms() >= d) {
            return Ok(());
        }
        let now = clock.now_ms();
        match app.poll(now) {
            Do::Send(req) => {
                log::debug!("request {:?} {}", req.method, req.path);
                net.start(req, now);
            }
            Do::Fetch(req) => {
                log::debug!("image {}", req.url);
                net.start_image(req, now);
            }
            Do::Save(save) => persist(tokens, save)?,
            Do::ReadClock => {
                // Only in real time: a sped-up demo has no time of day.
                if clock.time_of_day {
                    let wall = system_wall_clock();
                    if last_offset != Some(wall.utc_offset_s) {
                        log::debug!("time of day: UTC offset {} s", wall.utc_offset_s);
                        last_offset = Some(wall.utc_offset_s);
                    }
                    app.set_wall_clock(now, wall);
                }
            }
            Do::Backlight(on) => {
                blank = !on;
                out.present(&display, blank)?;
            }
            Do::Draw => {
                let update = app.draw(now, &mut display).map_err(|e| match e {})?;
                if !update.is_empty() {
                    out.present(&display, blank)?;
                }
            }
            Do::Sleep(wake) => {
                if !reports.report(app, &display, now, clock, opts)? {
                    return Ok(());
                }
                out.observe(now, app.session(), &app.event_line(now))?;
                let mut timeout = clock.real(wake.saturating_sub(now));
                if let Some(d) = deadline {
                    timeout = timeout.min(Duration::from_millis(d.saturating_sub(clock.real_ms())));
                }
                if wait(app, net, out, clock, timeout)? {
                    return Ok(());
                }
            }
        }
    }
}

/// Waits up to `timeout` for a response event or input and hands it to the app; returns
/// `true` to quit.
fn wait<C, S, N, O>(
    app: &mut App<C, S>,
    net: &mut N,
    out: &mut O,
    clock: Clock,
    timeout: Duration,
) -> Result<bool, ShellError>
where
    C: Palette,
    S: Source,
    N: Network,
    O: Output<C>,
{
    if app.is_busy() {
        if let Some(ev) = net.next_event(timeout.min(out.max_block())) {
            let mut in_flight = feed(app, ev, clock.now_ms());
            // Take everything that has arrived before drawing again.
            while in_flight {
                match net.next_event(Duration::ZERO) {
                    Some(ev) => in_flight = feed(app, ev, clock.now_ms()),
                    None => break,
                }
            }
        }
        if let Some(ev) = out.wait(Duration::ZERO) {
            return Ok(handle_ui(app, ev, clock.now_ms()));
        }
    } else if net.brings_news() {
        // News (a hub's message) ends the wait at once; the UI is looked at every time
        // (a stream of messages must not starve the keys, the window or Ctrl-C).
        let _ = net.wait_news(timeout.min(out.max_block()));
        if let Some(ev) = out.wait(Duration::ZERO) {
            return Ok(handle_ui(app, ev, clock.now_ms()));
        }
    } else if let Some(ev) = out.wait(timeout) {
        return Ok(handle_ui(app, ev, clock.now_ms()));
    }
    Ok(false)
}

/// Feeds one network event; returns whether the request is still in flight.
fn feed<C: Palette, S: Source>(app: &mut App<C, S>, ev: NetEvent, now: u64) -> bool {
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
fn handle_ui<C: Palette, S: Source>(app: &mut App<C, S>, ev: UiEvent, now: u64) -> bool {
    match ev {
        UiEvent::Quit => true,
        UiEvent::Press(control) => {
            if let Err(why) = app.press(now, control) {
                log::info!("{control:?} not sent: {why:?}");
            }
            false
        }
        UiEvent::Command(control) => {
            if let Err(why) = app.command(now, control) {
                log::info!("command {control:?} not sent: {why:?}");
            }
            false
        }
        UiEvent::Tap(at) => {
            match app.tap(now, at) {
                Some((control, Err(why))) => log::info!("tap: {control:?} not sent: {why:?}"),
                Some((control, Ok(()))) => log::debug!("tap at {at:?}: {control:?}"),
                None => log::debug!("tap at {at:?}: nothing there"),
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
