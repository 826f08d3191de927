//! The app every shell drives: a [`Source`] of state (the [`Session`] talking to Spotify)
//! and the retained [`Scene`] (what to redraw), joined by the rules that turn the state
//! into a [`ViewModel`], and by the rules of the loop.
//!
//! Sans-IO and self-driving, like `quinn-proto`'s `Connection`: [`App::poll`] says what to
//! do next ([`Do`]: send a request, fetch a cover, persist tokens, read the clock, set the
//! backlight, draw, sleep until), and handlers take what happened (a response's head,
//! chunks and end, a failure, a press, the time of day). The desktop window, the headless
//! run, the demo, the emulated board and the ESP32-C3 board are all this loop and their
//! I/O, nothing more:
//!
//! ```text
//! loop {
//!     match app.poll(now) {
//!         Do::Send(req) => start it; its events go to app.on_head / on_body / on_end / on_failure
//!         Do::Fetch(img) => the same, for an image (only with the `art` feature)
//!         Do::Save(save) => persist save.tokens and save.quota now
//!         Do::ReadClock => app.set_wall_clock(now, wall) if the time of day is known
//!         Do::Backlight(on) => the panel's backlight
//!         Do::Draw => app.draw(now, &mut display) or app.draw_banded(now, &mut renderer, &mut sink)
//!         Do::Sleep(t) => wait until t, a response event or a press (app.press)
//!     }
//! }
//! ```

use embedded_graphics::prelude::*;

use tonearm_core::session::{
    Action, Control, ControlRefused, Failure, Health, Notice as SessionNotice, Session,
};
use tonearm_core::wall::WallClock;

use crate::band::{BandError, BandRenderer, BandSink};
use crate::color::Palette;
use crate::driver::{Do, Save, Source};
use crate::profile::Profile;
use crate::scene::{Scene, Update};
use crate::screen::Screen;
use crate::view::{ClockTime, ViewModel};

/// While an over-long title scrolls, the frame interval (about 30 frames a second).
pub const ANIMATION_FRAME_MS: u64 = 33;
/// How often the app asks for the time of day when the platform did not tell it (when
/// it did: just after each minute begins, so the idle clock turns on time).
pub const READ_CLOCK_EVERY_MS: u64 = 60_000;
/// The default of [`App::set_quota_save_gap`]: the budget's state is persisted at most
/// once a minute (a board writing flash sets an hour).
pub const QUOTA_SAVE_GAP_MS: u64 = 60_000;
/// While the backlight is off, how often the app looks whether it should come back on
/// by itself (night hours ending, an idle display waking).
const DARK_CHECK_MS: u64 = 1_000;

/// The app; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct App<C, S = Session> {
    source: S,
    scene: Scene<C>,
    vm: ViewModel,
    /// What [`App::vm`] was built from: drawn again while this stays, with its times
    /// advanced to the moment of drawing.
    vm_key: Option<ViewKey>,
    clock: Option<ClockTime>,
    login_command: &'static str,
    /// What is in flight: its events go there.
    in_flight: Option<Flight>,
    /// When the source next wants the network (monotonic ms).
    net_wake_ms: u64,
    /// When the time of day is next asked for.
    clock_due_ms: u64,
    /// The backlight as last told (`None`: not yet).
    lit: Option<bool>,
    /// Something happened since the last draw.
    dirty: bool,
    /// When the picture next changes by itself.
    frame_due_ms: u64,
    /// A draw was the last thing asked for (the next draw waits for a sleep or a
    /// request first).
    ticked: bool,
    quota_gap_ms: u64,
    /// Nothing draws (see [`App::set_headless`]).
    headless: bool,
    #[cfg(feature = "art")]
    art: ArtState<C>,
}

/// What a view model is built from besides the times it advances by itself (the
/// position, ages, countdowns): while none of it changes, the last view model is drawn
/// again at the new time instead of being rebuilt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ViewKey {
    /// Bumped by the session whenever playback, health or a notice may have changed.
    generation: u32,
    /// Changes of health that only time brings (stale, offline, a hold's end).
    health: core::mem::Discriminant<Health>,
    notice: Option<SessionNotice>,
    blank: bool,
    login_warning: bool,
    /// The idle clock's minute.
    clock: Option<ClockTime>,
    /// The source's session (a source that swaps sessions starts generations anew).
    epoch: u32,
    /// The time, while an age or a countdown is shown in whole seconds (stale, offline,
    /// rate limited, a quota hold): such a view model is rebuilt at each draw (once a
    /// second) rather than advanced, so it reads exactly as a fresh build would.
    counting_at: Option<u64>,
    /// The cover is in the cache.
    cover: bool,
    /// The volume overlay is up.
    volume_shown: bool,
}

/// Who gets the events of the request in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flight {
    /// The source's request.
    Source,
    /// A cover.
    #[cfg(feature = "art")]
    Image,
}

/// The covers: the cache, the fetch rules, and which cover the item on screen wants.
#[cfg(feature = "art")]
#[derive(Debug, Clone)]
struct ArtState<C> {
    cache: crate::art::CoverCache<C>,
    fetcher: crate::art::ArtFetcher,
    limits: crate::art::DecodeLimits,
}

impl<C: Palette, S: Source> App<C, S> {
    /// An app drawing on a display of `profile`, its state from `source` (a [`Session`]).
    pub fn new(profile: Profile, source: S) -> Self {
        App {
            source,
            scene: Scene::new(profile),
            vm: ViewModel::new(Screen::Idle),
            vm_key: None,
            clock: None,
            login_command: "tonearm login",
            in_flight: None,
            net_wake_ms: 0,
            clock_due_ms: 0,
            lit: None,
            dirty: true,
            frame_due_ms: 0,
            ticked: false,
            quota_gap_ms: QUOTA_SAVE_GAP_MS,
            headless: false,
            #[cfg(feature = "art")]
            art: ArtState {
                cache: crate::art::CoverCache::new(),
                fetcher: crate::art::ArtFetcher::new(),
                limits: crate::art::DecodeLimits::DESKTOP,
            },
        }
    }

    /// The session whose state is shown (read-only: every change goes through the app).
    pub fn session(&self) -> &Session {
        self.source.session()
    }

    /// The source of state.
    pub fn source(&self) -> &S {
        &self.source
    }

    /// The display profile.
    pub fn profile(&self) -> Profile {
        self.scene.profile()
    }

    /// What the shell must do next at `now_ms` (see the [module docs](self) and [`Do`]).
    /// In order: persist what changed, read the clock when due, follow the backlight,
    /// draw what changed, start the next request (the source's first, a cover after it),
    /// draw the picture's own next tick; else sleep until the next of these is due.
    pub fn poll(&mut self, now_ms: u64) -> Do {
        if self.source.take_news(now_ms) {
            self.dirty = true;
            // The source may want the network (a mirror's timers) sooner than it did.
            self.net_wake_ms = now_ms;
        }
        let tokens = self.source.take_token_update();
        // A rotated refresh token goes out with the budget's state (one write for a
        // board's flash); an access token alone does not hurry it.
        let gap = if tokens.as_ref().is_some_and(|t| t.refresh_token.is_some()) {
            0
        } else {
            self.quota_gap_ms
        };
        let quota = self.source.take_quota_save(now_ms, gap);
        if tokens.is_some() || quota.is_some() {
            return Do::Save(Save { tokens, quota });
        }
        if now_ms >= self.clock_due_ms {
            // Asked once; a platform without a clock is asked again a minute later.
            self.clock_due_ms = now_ms.saturating_add(READ_CLOCK_EVERY_MS);
            return Do::ReadClock;
        }
        if !self.headless {
            let blank = self.is_blank(now_ms);
            if self.lit != Some(!blank) {
                self.lit = Some(!blank);
                if !blank {
                    // The panel may have lost what it showed.
                    self.scene.invalidate();
                    self.dirty = true;
                }
                return Do::Backlight(!blank);
            }
            // What changed is drawn before the next request goes out: a shell that
            // blocks on the network shows "Connecting" or a pressed pause first.
            if !blank && self.dirty && !self.ticked {
                self.ticked = true;
                return Do::Draw;
            }
            if blank {
                // Not drawn, but known: the event line and `last_view` follow the state.
                self.refresh_view(now_ms);
            }
        }
        if self.in_flight.is_none()
            && let Some(next) = self.start_request(now_ms)
        {
            self.ticked = false;
            return next;
        }
        // The picture's own ticks (a second, a scroll frame) after the network: frames
        // that take longer than their interval must not keep a request from going out.
        // Never two draws in a row without a sleep or a request between them: a shell
        // whose frames take longer than their interval still reads its responses and its
        // buttons.
        if !self.headless && self.lit == Some(true) && now_ms >= self.frame_due_ms && !self.ticked {
            self.ticked = true;
            return Do::Draw;
        }
        self.ticked = false;
        let mut wake = self.clock_due_ms;
        if !self.headless {
            wake = wake.min(if self.lit == Some(false) {
                now_ms.saturating_add(DARK_CHECK_MS)
            } else {
                self.frame_due_ms
            });
        }
        if self.in_flight.is_none() {
            wake = wake.min(self.net_wake_ms);
        }
        Do::Sleep(wake.max(now_ms.saturating_add(1)))
    }

    /// What to persist before the shell stops (whatever ended it): fresh tokens, and the
    /// budget's state however recently it was saved.
    pub fn final_save(&mut self, now_ms: u64) -> Option<Save> {
        let tokens = self.source.take_token_update();
        let quota = self.source.take_quota_save(now_ms, 0);
        (tokens.is_some() || quota.is_some()).then_some(Save { tokens, quota })
    }

    /// The request to start now, if one is due (the source's first, a cover after it);
    /// else records when the network is next wanted.
    fn start_request(&mut self, now_ms: u64) -> Option<Do> {
        let next = match self.source.poll(now_ms) {
            Action::Send(req) => {
                self.in_flight = Some(Flight::Source);
                return Some(Do::Send(req));
            }
            Action::WaitUntil(t) => t,
            Action::Wait => u64::MAX,
        };
        self.net_wake_ms = next;
        // Covers only for a display (headless, nothing would show them).
        #[cfg(feature = "art")]
        if self.headless {
            return None;
        } else if let Some((req, wake)) = self.cover_request(now_ms, next) {
            self.in_flight = Some(Flight::Image);
            self.net_wake_ms = wake;
            return Some(Do::Fetch(req));
        } else if let Some(wake) = self.cover_wake(now_ms) {
            self.net_wake_ms = self.net_wake_ms.min(wake);
        }
        None
    }

    /// The response's status and `Retry-After` (see [`Session::on_head`]).
    pub fn on_head(&mut self, now_ms: u64, status: u16, retry_after: Option<&str>) {
        match self.in_flight {
            Some(Flight::Source) => self.source.on_head(now_ms, status, retry_after),
            #[cfg(feature = "art")]
            Some(Flight::Image) => self.art.fetcher.on_head(status),
            None => {}
        }
    }

    /// A chunk of the response body as it arrives (see [`Session::on_body`]).
    pub fn on_body(&mut self, chunk: &[u8]) {
        match self.in_flight {
            Some(Flight::Source) => self.source.on_body(chunk),
            #[cfg(feature = "art")]
            Some(Flight::Image) => self.art.fetcher.on_body(chunk),
            None => {}
        }
    }

    /// The response is complete (see [`Session::on_end`]). An image is decoded here.
    pub fn on_end(&mut self, now_ms: u64) {
        match self.in_flight.take() {
            Some(Flight::Source) => self.source.on_end(now_ms),
            #[cfg(feature = "art")]
            Some(Flight::Image) => self.art_end(now_ms),
            None => return,
        }
        self.dirty = true;
    }

    /// The request failed without a complete response (see [`Session::on_failure`]).
    pub fn on_failure(&mut self, now_ms: u64, failure: Failure) {
        match self.in_flight.take() {
            Some(Flight::Source) => self.source.on_failure(now_ms, failure),
            #[cfg(feature = "art")]
            Some(Flight::Image) => self.art.fetcher.on_failure(now_ms, failure),
            None => return,
        }
        self.dirty = true;
    }

    /// `true` while a request or a cover fetch is in flight.
    pub fn is_busy(&self) -> bool {
        self.in_flight.is_some()
    }

    /// A tap at `at` (the display's pixels): what is drawn there is pressed (see
    /// [`crate::screens::ItemScreen::hit`]: the control row, the heart, the speaker, the
    /// volume overlay). A tap on a dark screen only wakes it. Returns what was pressed
    /// and how the session took it; `None`: nothing there (or only woken).
    pub fn tap(&mut self, now_ms: u64, at: Point) -> Option<(Control, Result<(), ControlRefused>)> {
        if self.is_blank(now_ms) {
            let _ = self.press(now_ms, Control::PlayPause);
            return None;
        }
        let control = crate::Frame::<C>::new(&self.vm, self.profile())
            .item()
            .and_then(|item| item.hit(at))?;
        Some((control, self.press(now_ms, control)))
    }

    /// A button. Refused presses (not allowed for this item, nothing playing) change
    /// nothing but may put up a notice.
    pub fn press(&mut self, now_ms: u64, control: Control) -> Result<(), ControlRefused> {
        self.dirty = true;
        // A press may queue a command, or wake a dark display.
        self.net_wake_ms = now_ms;
        self.source.press(now_ms, control)
    }

    /// A command from elsewhere (a hub's `command` topic): as [`App::press`], but a dark
    /// screen wakes and the command still goes through (see [`Source::command`]).
    pub fn command(&mut self, now_ms: u64, control: Control) -> Result<(), ControlRefused> {
        self.dirty = true;
        self.net_wake_ms = now_ms;
        self.source.command(now_ms, control)
    }

    /// How often the budget's state is persisted at most, unless a quota hold began or
    /// ended or tokens changed (default [`QUOTA_SAVE_GAP_MS`]).
    pub fn set_quota_save_gap(&mut self, gap_ms: u64) {
        self.quota_gap_ms = gap_ms;
    }

    /// Nothing is drawn (a simulation of the schedule): [`App::poll`] never asks to draw,
    /// to set the backlight or to fetch a cover, and sleeps only until the network or the
    /// clock is due.
    /// [`App::update`] still builds what would be shown.
    pub fn set_headless(&mut self, headless: bool) {
        self.headless = headless;
    }

    /// What the user runs for a new login here (default `tonearm login`; a board says
    /// `tonearm provision`): named when a six-month Spotify login has run out.
    pub fn set_login_command(&mut self, command: &'static str) {
        self.login_command = command;
        self.vm_key = None;
        self.dirty = true;
    }

    /// A fixed time of day for the idle screen (tests and renders); a shell that knows
    /// the real time answers [`Do::ReadClock`] with [`App::set_wall_clock`] instead.
    pub fn set_clock(&mut self, clock: Option<ClockTime>) {
        self.clock = clock;
        self.dirty = true;
    }

    /// The time of day at monotonic `now_ms` (Unix time and the local UTC offset), for
    /// night hours, the budget's hours, the login warning, the quota's "back at" and the
    /// idle clock: the answer to [`Do::ReadClock`].
    pub fn set_wall_clock(&mut self, now_ms: u64, wall: WallClock) {
        self.source.set_wall_clock(now_ms, wall);
        let clock = self.session().local_time(now_ms).map(|t| ClockTime {
            hour: t.hour(),
            minute: t.minute(),
        });
        if clock != self.clock {
            self.clock = clock;
            self.dirty = true;
        }
        // Again just after the next minute begins.
        let to_minute = READ_CLOCK_EVERY_MS - wall.unix_ms % READ_CLOCK_EVERY_MS;
        self.clock_due_ms = now_ms.saturating_add(to_minute + 2);
    }

    /// The event line for what the last draw showed, or would have shown while the
    /// backlight is off (see [`crate::events`]).
    pub fn event_line(&self, now_ms: u64) -> crate::events::EventLine {
        let session = self.session();
        let status = session.status(now_ms);
        let mut line = crate::events::EventLine::new(self.vm.screen, &self.vm.title);
        line.warnings.login_expires = status.login_ends_unix_s.is_some();
        line.dark = status.blank;
        line.budget = session.budget();
        // Unix seconds only when the time of day is known (the demo's clock is not).
        if let (Health::QuotaExceeded { until_unix_s, .. }, Some(_)) =
            (status.health, session.unix_ms(now_ms))
        {
            line.quota_until = Some(until_unix_s);
        }
        let vm = &self.vm;
        if vm.screen.shows_item() && !vm.screen.dims_item() {
            line.liked = vm.heart.flatten();
            line.volume = vm.volume;
            tonearm_core::text::push_truncating(&mut line.up_next, &vm.up_next);
        }
        line
    }

    /// Nothing has played for long, or it is night: the backlight is off until playback
    /// resumes (see [`Do::Backlight`]).
    pub fn is_blank(&self, now_ms: u64) -> bool {
        self.session().status(now_ms).blank
    }

    /// The view model for `now_ms`, rebuilt from the session's state (its times as of
    /// `now_ms`).
    pub fn view(&mut self, now_ms: u64) -> &ViewModel {
        self.vm = self.build_view(now_ms);
        self.vm_key = Some(self.view_key(now_ms));
        &self.vm
    }

    /// The view model to draw at `now_ms`: the last one while nothing it was built from
    /// changed (a draw then only advances its times), else a new one.
    fn refresh_view(&mut self, now_ms: u64) {
        let key = self.view_key(now_ms);
        if self.vm_key != Some(key) {
            self.vm = self.build_view(now_ms);
            self.vm_key = Some(key);
        }
    }

    fn view_key(&self, now_ms: u64) -> ViewKey {
        let session = self.session();
        let status = session.status(now_ms);
        #[cfg(feature = "art")]
        let cover = self
            .wanted_cover()
            .is_some_and(|url| self.art.cache.peek(url).is_some());
        #[cfg(not(feature = "art"))]
        let cover = false;
        let counting = matches!(
            status.health,
            Health::Stale { .. }
                | Health::Offline { .. }
                | Health::RateLimited { .. }
                | Health::QuotaExceeded { .. }
        );
        ViewKey {
            generation: session.generation(),
            epoch: self.source.epoch(),
            counting_at: counting.then_some(now_ms),
            health: core::mem::discriminant(&status.health),
            notice: status.notice,
            blank: status.blank,
            login_warning: status.login_ends_unix_s.is_some(),
            clock: self.clock,
            cover,
            volume_shown: status.volume_shown,
        }
    }

    /// The view model of `now_ms`, with the cover when it is here.
    fn build_view(&self, now_ms: u64) -> ViewModel {
        #[allow(unused_mut, reason = "changed only with the art feature")]
        let mut vm = view_model(self.session(), now_ms, self.clock, self.login_command);
        #[cfg(feature = "art")]
        if let (Some(seed), Some(url)) = (vm.art.seed(), self.wanted_cover())
            && self.art.cache.peek(url).is_some()
        {
            vm.art = crate::view::ArtStatus::Cover {
                seed,
                key: crate::view::art_key(url),
            };
        }
        vm
    }

    /// When the picture next changes by itself (the elapsed time's next second, a
    /// countdown, an animation frame).
    pub fn next_frame_ms(&mut self, now_ms: u64) -> u64 {
        self.refresh_view(now_ms);
        self.next_frame_of(&self.vm, now_ms)
    }

    fn next_frame_of(&self, vm: &ViewModel, now_ms: u64) -> u64 {
        if self.scene.is_animating(vm) {
            return now_ms.saturating_add(ANIMATION_FRAME_MS);
        }
        let to_next_second = match vm.screen {
            Screen::NowPlaying | Screen::Episode if vm.playing => {
                1_000 - vm.position_at(now_ms) % 1_000
            }
            _ => 1_000 - now_ms % 1_000,
        };
        now_ms.saturating_add(to_next_second)
    }

    /// The draw is done: nothing is due until the picture changes by itself.
    fn drawn(&mut self, now_ms: u64) {
        self.dirty = false;
        self.frame_due_ms = self.next_frame_of(&self.vm, now_ms);
    }

    /// Rebuilds the view model and returns the regions that changed since the last
    /// draw, without drawing (the scene then assumes they were drawn).
    pub fn update(&mut self, now_ms: u64) -> Update {
        self.refresh_view(now_ms);
        let update = self.scene.update(&self.vm, now_ms);
        self.drawn(now_ms);
        update
    }

    /// Draws what changed straight into `target` (for displays with their own frame
    /// buffer, like the desktop window): the answer to [`Do::Draw`].
    pub fn draw<D: DrawTarget<Color = C>>(
        &mut self,
        now_ms: u64,
        target: &mut D,
    ) -> Result<Update, D::Error> {
        self.refresh_view(now_ms);
        #[cfg(feature = "art")]
        let update = {
            let cover = cover_view(
                self.source.session(),
                &self.art.cache,
                &self.vm,
                self.scene.profile(),
            );
            self.scene
                .redraw_with_cover(&self.vm, cover, now_ms, target)
        };
        #[cfg(not(feature = "art"))]
        let update = self.scene.redraw(&self.vm, now_ms, target);
        self.drawn(now_ms);
        update
    }

    /// Draws what changed band by band through `renderer` into `sink` (for displays
    /// without a frame buffer: SPI panels fed by the band renderer): the answer to
    /// [`Do::Draw`].
    pub fn draw_banded<T: BandSink<C>>(
        &mut self,
        now_ms: u64,
        renderer: &mut BandRenderer<'_, C>,
        sink: &mut T,
    ) -> Result<Update, BandError<T::Error>> {
        self.refresh_view(now_ms);
        #[cfg(feature = "art")]
        let update = {
            let cover = cover_view(
                self.source.session(),
                &self.art.cache,
                &self.vm,
                self.scene.profile(),
            );
            self.scene
                .redraw_banded_with_cover(&self.vm, cover, now_ms, renderer, sink)
        };
        #[cfg(not(feature = "art"))]
        let update = self.scene.redraw_banded(&self.vm, now_ms, renderer, sink);
        self.drawn(now_ms);
        update
    }

    /// Forgets what is on the display (after it was reset): the next draw draws
    /// everything.
    pub fn invalidate(&mut self) {
        self.scene.invalidate();
        self.dirty = true;
    }

    /// The view model of the last draw or update.
    pub fn last_view(&self) -> &ViewModel {
        &self.vm
    }
}

#[cfg(feature = "art")]
impl<C: Palette, S: Source> App<C, S> {
    /// The cover to fetch now, if the fetch rules allow it and the source's next request
    /// (at `next`) leaves room; with the time the network is next wanted.
    fn cover_request(
        &mut self,
        now_ms: u64,
        next: u64,
    ) -> Option<(crate::driver::ImageRequest, u64)> {
        use crate::art::{ART_GAP_MS, Want};
        let url = self.missing_cover()?;
        match self.art.fetcher.want(now_ms, &url) {
            // The session's request comes first; the cover after it.
            Want::Now if next >= now_ms.saturating_add(ART_GAP_MS) => {
                let req = self.art.fetcher.start(now_ms, &url)?;
                Some((req, next))
            }
            Want::Now | Want::Never | Want::At(_) => None,
        }
    }

    /// When the fetch rules next allow the missing cover's fetch.
    fn cover_wake(&self, now_ms: u64) -> Option<u64> {
        let url = self.missing_cover()?;
        match self.art.fetcher.want(now_ms, &url) {
            crate::art::Want::At(t) => Some(t),
            _ => None,
        }
    }

    /// The cover the item on screen wants and the cache lacks.
    fn missing_cover(&self) -> Option<heapless::String<{ tonearm_core::URL_CAP }>> {
        let url = heapless::String::try_from(self.wanted_cover()?).ok()?;
        self.art.cache.peek(&url).is_none().then_some(url)
    }

    /// Decodes the cover on the largest side of this profile's art box with these
    /// limits (default: [`DecodeLimits::DESKTOP`](crate::art::DecodeLimits::DESKTOP)).
    pub fn set_decode_limits(&mut self, limits: crate::art::DecodeLimits) {
        self.art.limits = limits;
    }

    /// Covers in the cache.
    pub fn covers(&self) -> &crate::art::CoverCache<C> {
        &self.art.cache
    }

    /// Image fetches started so far.
    pub fn image_fetches(&self) -> u64 {
        self.art.fetcher.fetches()
    }

    /// The URL of the cover the item on screen wants: the smallest of its images at
    /// least as wide as the art box (an episode's own, else its show's); none for ads
    /// and local files.
    pub fn wanted_cover(&self) -> Option<&str> {
        wanted_cover(self.source.session(), self.profile())
    }

    fn art_end(&mut self, now_ms: u64) {
        let Some((url, body)) = self.art.fetcher.on_end(now_ms) else {
            return;
        };
        let size = self.profile().art_size();
        match crate::art::decode_cover::<C>(&body, size, self.art.limits) {
            Ok(cover) => {
                drop(body);
                self.art.fetcher.succeeded(&url);
                self.art.cache.insert(&url, cover);
            }
            Err(e) => self.art.fetcher.record(now_ms, &url, e),
        }
    }
}

/// See [`App::wanted_cover`].
#[cfg(feature = "art")]
fn wanted_cover(session: &Session, profile: Profile) -> Option<&str> {
    let tonearm_core::session::Playback::Item { np, .. } = session.playback() else {
        return None;
    };
    if np.is_local || np.kind == tonearm_core::Kind::Ad {
        return None;
    }
    let url = np.pick_image(profile.art_size().width)?.url.as_str();
    (!url.is_empty()).then_some(url)
}

/// The cover `vm` shows, from the cache.
#[cfg(feature = "art")]
fn cover_view<'a, C: Palette>(
    session: &'a Session,
    cache: &'a crate::art::CoverCache<C>,
    vm: &ViewModel,
    profile: Profile,
) -> Option<crate::frame::CoverView<'a, C>> {
    let crate::view::ArtStatus::Cover { key, .. } = vm.art else {
        return None;
    };
    let url = wanted_cover(session, profile)?;
    Some(cache.peek(url)?.view(key))
}

// The words: how the session's state reads on screen (kept here by their old paths).
pub use crate::view::{back_text, login_warning_text, view_model};
