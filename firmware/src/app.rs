//! The app every shell drives: the [`Session`] (what to ask Spotify, and when) and the
//! retained [`Scene`] (what to redraw), joined by the rules that turn the session's state
//! into a [`ViewModel`].
//!
//! Sans-IO like the session: the shell feeds it time, responses and button presses, and
//! takes out requests, tokens to persist and regions to redraw. The desktop (a network
//! thread with blocking HTTP), the emulated board (a simple loop) and an async board all
//! drive this same code; no shell re-implements a rule.
//!
//! A shell's loop, in outline:
//!
//! ```text
//! loop {
//!     match app.poll(now) {                      // what the network should do
//!         Action::Send(req) => { perform it; app.on_head(..); app.on_body(..)*; app.on_end(..) }
//!         Action::WaitUntil(t) => sleep until min(t, app.next_frame_ms(now)) or a button
//!         Action::Wait => sleep until app.next_frame_ms(now) or a button
//!     }
//!     if let Some(t) = app.take_token_update() { persist it now }
//!     app.redraw_banded(now, &mut renderer, &mut display)?;   // only what changed
//!     display backlight = !app.is_blank(now)
//! }
//! ```

use embedded_graphics::prelude::*;

use tonearm_core::session::{
    Action, ConfigProblem, Control, ControlRefused, Failure, Health, Notice as SessionNotice,
    Playback, Session, TokenUpdate,
};
use tonearm_core::text::push_truncating;

use crate::band::{BandError, BandRenderer, BandSink};
use crate::color::Palette;
use crate::profile::Profile;
use crate::scene::{Scene, Update};
use crate::screen::Screen;
use crate::view::{ClockTime, Notice, ViewModel};

/// Data this old (or older) while answers fail shows a stale badge.
pub const STALE_BADGE_AFTER_MS: u64 = 15_000;
/// While an over-long title scrolls, the frame interval (about 30 frames a second).
pub const ANIMATION_FRAME_MS: u64 = 33;

/// The app; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct App<C> {
    session: Session,
    scene: Scene<C>,
    vm: ViewModel,
    clock: Option<ClockTime>,
    login_command: &'static str,
    #[cfg(feature = "art")]
    art: ArtState<C>,
}

/// What the network should do, covers included (see [`App::poll_net`]).
#[cfg(feature = "art")]
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(
    clippy::large_enum_variant,
    reason = "no alloc to box into; one lives at a time"
)]
pub enum NetAction {
    /// Send this API or token request now and report its response.
    Send(tonearm_core::session::Request),
    /// Fetch this image now and report its response the same way.
    FetchImage(crate::art::ImageRequest),
    /// Nothing until this time, or until a button or a response.
    WaitUntil(u64),
    /// Nothing until a button or a response.
    Wait,
}

/// The covers: the cache, the fetch rules, and which cover the item on screen wants.
#[cfg(feature = "art")]
#[derive(Debug, Clone)]
struct ArtState<C> {
    cache: crate::art::CoverCache<C>,
    fetcher: crate::art::ArtFetcher,
    limits: crate::art::DecodeLimits,
}

impl<C: Palette> App<C> {
    /// An app drawing on a display of `profile`, driving `session`.
    pub fn new(profile: Profile, session: Session) -> Self {
        App {
            session,
            scene: Scene::new(profile),
            vm: ViewModel::new(Screen::Idle),
            clock: None,
            login_command: "tonearm login",
            #[cfg(feature = "art")]
            art: ArtState {
                cache: crate::art::CoverCache::new(),
                fetcher: crate::art::ArtFetcher::new(),
                limits: crate::art::DecodeLimits::DESKTOP,
            },
        }
    }

    /// The session (read-only: every change goes through the app).
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// Replaces the session (a new login, or the demo's next act); the screen follows at
    /// the next redraw.
    pub fn replace_session(&mut self, session: Session) {
        self.session = session;
    }

    /// The display profile.
    pub fn profile(&self) -> Profile {
        self.scene.profile()
    }

    /// What the network should do at `now_ms` (see [`Session::poll`]).
    pub fn poll(&mut self, now_ms: u64) -> Action {
        self.session.poll(now_ms)
    }

    /// The response's status and `Retry-After` (see [`Session::on_head`]). With the `art`
    /// feature, the response of an image fetch goes to the covers instead.
    pub fn on_head(&mut self, now_ms: u64, status: u16, retry_after: Option<&str>) {
        #[cfg(feature = "art")]
        if self.art.fetcher.is_busy() {
            self.art.fetcher.on_head(status);
            return;
        }
        self.session.on_head(now_ms, status, retry_after);
    }

    /// A chunk of the response body as it arrives (see [`Session::on_body`]).
    pub fn on_body(&mut self, chunk: &[u8]) {
        #[cfg(feature = "art")]
        if self.art.fetcher.is_busy() {
            self.art.fetcher.on_body(chunk);
            return;
        }
        self.session.on_body(chunk);
    }

    /// The response is complete (see [`Session::on_end`]). An image is decoded here.
    pub fn on_end(&mut self, now_ms: u64) {
        #[cfg(feature = "art")]
        if self.art.fetcher.is_busy() {
            self.art_end(now_ms);
            return;
        }
        self.session.on_end(now_ms);
    }

    /// The request failed without a complete response (see [`Session::on_failure`]).
    pub fn on_failure(&mut self, now_ms: u64, failure: Failure) {
        #[cfg(feature = "art")]
        if self.art.fetcher.is_busy() {
            self.art.fetcher.on_failure(now_ms, failure);
            return;
        }
        self.session.on_failure(now_ms, failure);
    }

    /// A button. Refused presses (not allowed for this item, nothing playing) change
    /// nothing but may put up a notice.
    pub fn press(&mut self, now_ms: u64, control: Control) -> Result<(), ControlRefused> {
        self.session.press(now_ms, control)
    }

    /// Fresh tokens to persist at once (see [`Session::take_token_update`]).
    pub fn take_token_update(&mut self) -> Option<TokenUpdate> {
        self.session.take_token_update()
    }

    /// The budget's state to persist, when it changed (see [`Session::take_quota_save`]).
    pub fn take_quota_save(
        &mut self,
        now_ms: u64,
        min_gap_ms: u64,
    ) -> Option<tonearm_core::budget::QuotaState> {
        self.session.take_quota_save(now_ms, min_gap_ms)
    }

    /// What the user runs for a new login here (default `tonearm login`; a board says
    /// `tonearm provision`): named when a six-month Spotify login has run out.
    pub fn set_login_command(&mut self, command: &'static str) {
        self.login_command = command;
    }

    /// The time of day, when the platform knows it (shown when nothing plays).
    pub fn set_clock(&mut self, clock: Option<ClockTime>) {
        self.clock = clock;
    }

    /// The time of day at monotonic `now_ms` (Unix time and the local UTC offset), for
    /// night hours, the budget's hours, the login warning, the quota's "back at" and the
    /// idle clock. Call it at start and then every minute or so.
    pub fn set_wall_clock(&mut self, now_ms: u64, wall: tonearm_core::wall::WallClock) {
        self.session.set_wall_clock(now_ms, wall);
        self.clock = self.session.local_time(now_ms).map(|t| ClockTime {
            hour: t.hour(),
            minute: t.minute(),
        });
    }

    /// The event line for what the last redraw or update showed (see [`crate::events`]).
    pub fn event_line(&self, now_ms: u64) -> crate::events::EventLine {
        let status = self.session.status(now_ms);
        let mut line = crate::events::EventLine::new(self.vm.screen, &self.vm.title);
        line.warnings.login_expires = status.login_ends_unix_s.is_some();
        line.dark = status.blank;
        line.budget = self.session.budget();
        // Unix seconds only when the time of day is known (the demo's clock is not).
        if let (Health::QuotaExceeded { until_unix_s, .. }, Some(_)) =
            (status.health, self.session.unix_ms(now_ms))
        {
            line.quota_until = Some(until_unix_s);
        }
        line
    }

    /// Nothing has played for long: the shell may turn the display (backlight) off until
    /// playback resumes.
    pub fn is_blank(&self, now_ms: u64) -> bool {
        self.session.status(now_ms).blank
    }

    /// The view model for `now_ms`, rebuilt from the session's state.
    pub fn view(&mut self, now_ms: u64) -> &ViewModel {
        self.vm = self.build_view(now_ms);
        &self.vm
    }

    /// The view model of `now_ms`, with the cover when it is here.
    fn build_view(&self, now_ms: u64) -> ViewModel {
        #[allow(unused_mut, reason = "changed only with the art feature")]
        let mut vm = view_model(&self.session, now_ms, self.clock, self.login_command);
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
    /// countdown, an animation frame), so a shell can sleep until then.
    pub fn next_frame_ms(&mut self, now_ms: u64) -> u64 {
        let vm = self.build_view(now_ms);
        if self.scene.is_animating(&vm) {
            return now_ms.saturating_add(ANIMATION_FRAME_MS);
        }
        let to_next_second = match vm.screen {
            Screen::NowPlaying | Screen::Episode if vm.playing => 1_000 - vm.position_ms % 1_000,
            _ => 1_000 - now_ms % 1_000,
        };
        now_ms.saturating_add(to_next_second)
    }

    /// Rebuilds the view model and returns the regions that changed since the last
    /// redraw (the scene then assumes they were drawn).
    pub fn update(&mut self, now_ms: u64) -> Update {
        self.vm = self.build_view(now_ms);
        self.scene.update(&self.vm, now_ms)
    }

    /// Draws what changed straight into `target` (for displays with their own frame
    /// buffer, like the desktop window).
    pub fn redraw<D: DrawTarget<Color = C>>(
        &mut self,
        now_ms: u64,
        target: &mut D,
    ) -> Result<Update, D::Error> {
        self.vm = self.build_view(now_ms);
        #[cfg(feature = "art")]
        {
            let cover = cover_view(
                &self.session,
                &self.art.cache,
                &self.vm,
                self.scene.profile(),
            );
            self.scene
                .redraw_with_cover(&self.vm, cover, now_ms, target)
        }
        #[cfg(not(feature = "art"))]
        self.scene.redraw(&self.vm, now_ms, target)
    }

    /// Draws what changed band by band through `renderer` into `sink` (for displays
    /// without a frame buffer: SPI panels fed by the band renderer).
    pub fn redraw_banded<S: BandSink<C>>(
        &mut self,
        now_ms: u64,
        renderer: &mut BandRenderer<'_, C>,
        sink: &mut S,
    ) -> Result<Update, BandError<S::Error>> {
        self.vm = self.build_view(now_ms);
        #[cfg(feature = "art")]
        {
            let cover = cover_view(
                &self.session,
                &self.art.cache,
                &self.vm,
                self.scene.profile(),
            );
            self.scene
                .redraw_banded_with_cover(&self.vm, cover, now_ms, renderer, sink)
        }
        #[cfg(not(feature = "art"))]
        self.scene.redraw_banded(&self.vm, now_ms, renderer, sink)
    }

    /// Forgets what is on the display (after it was blanked or reset): the next redraw
    /// draws everything.
    pub fn invalidate(&mut self) {
        self.scene.invalidate();
    }

    /// The view model of the last redraw or update.
    pub fn last_view(&self) -> &ViewModel {
        &self.vm
    }
}

#[cfg(feature = "art")]
impl<C: Palette> App<C> {
    /// What the network should do at `now_ms`, covers included: the session's request
    /// when one is due (see [`Session::poll`]), else the fetch of the cover on screen when
    /// the fetch rules allow it (see [`crate::art`]), else how long to wait. One thing is
    /// in flight at a time: report its response with [`App::on_head`], [`App::on_body`],
    /// [`App::on_end`] or [`App::on_failure`] as for any request, before polling again.
    pub fn poll_net(&mut self, now_ms: u64) -> NetAction {
        use crate::art::{ART_GAP_MS, Want};
        if self.art.fetcher.is_busy() {
            return NetAction::Wait;
        }
        let next = match self.session.poll(now_ms) {
            Action::Send(req) => return NetAction::Send(req),
            Action::Wait => return NetAction::Wait,
            Action::WaitUntil(t) => t,
        };
        let Some(url) = self.wanted_cover() else {
            return NetAction::WaitUntil(next);
        };
        let Ok(url) = heapless::String::<{ tonearm_core::URL_CAP }>::try_from(url) else {
            return NetAction::WaitUntil(next);
        };
        if self.art.cache.get(&url).is_some() {
            return NetAction::WaitUntil(next);
        }
        match self.art.fetcher.want(now_ms, &url) {
            Want::Now if next >= now_ms.saturating_add(ART_GAP_MS) => {
                match self.art.fetcher.start(now_ms, &url) {
                    Some(req) => NetAction::FetchImage(req),
                    None => NetAction::WaitUntil(next),
                }
            }
            // The session's request comes first; the cover after it.
            Want::Now | Want::Never => NetAction::WaitUntil(next),
            Want::At(t) => NetAction::WaitUntil(next.min(t)),
        }
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
        wanted_cover(&self.session, self.profile())
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
    let Playback::Item { np, .. } = session.playback() else {
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

fn notice(n: SessionNotice) -> Notice {
    match n {
        SessionNotice::PremiumRequired => Notice::PremiumRequired,
        SessionNotice::NoActiveDevice => Notice::NoActiveDevice,
        SessionNotice::DailyLimit => Notice::DailyLimit,
        SessionNotice::NotAllowed | SessionNotice::ControlFailed => Notice::CommandFailed,
    }
}

/// When a quota hold ends, in words: "Back at 09:42" (today), "Back tomorrow 09:42",
/// "Back Tue 09:42" (this week), "Back 3 Jan 09:42" (later); "Back in 13:35:26" when the
/// time of day is unknown. The minute is rounded up: never "back" before the hold ends.
pub fn back_text<const N: usize>(
    out: &mut heapless::String<N>,
    session: &Session,
    now_ms: u64,
    until_unix_s: u64,
    remaining_ms: u64,
) {
    use core::fmt::Write as _;
    use tonearm_core::wall::{LocalTime, WEEKDAYS, weekday};
    out.clear();
    let (Some(today), Some(offset)) = (session.local_time(now_ms), session.utc_offset_s()) else {
        let s = remaining_ms.div_ceil(1000);
        let _ = write!(out, "Back in {}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
        return;
    };
    let back = LocalTime::at(until_unix_s.div_ceil(60) * 60, offset);
    let hm = (back.hour(), back.minute());
    let _ = match back.days - today.days {
        ..=0 => write!(out, "Back at {:02}:{:02}", hm.0, hm.1),
        1 => write!(out, "Back tomorrow {:02}:{:02}", hm.0, hm.1),
        2..=6 => {
            let day = WEEKDAYS
                .get(usize::from(weekday(back.days)))
                .copied()
                .unwrap_or("");
            write!(out, "Back {day} {:02}:{:02}", hm.0, hm.1)
        }
        _ => {
            let d = back.date();
            write!(
                out,
                "Back {} {} {:02}:{:02}",
                d.day,
                d.month_name(),
                hm.0,
                hm.1
            )
        }
    };
}

/// "Login ends 3 Jan": the local date the six-month login ends (UTC when the offset is
/// unknown).
pub fn login_warning_text<const N: usize>(
    out: &mut heapless::String<N>,
    session: &Session,
    ends_unix_s: u64,
) {
    use core::fmt::Write as _;
    out.clear();
    let d =
        tonearm_core::wall::LocalTime::at(ends_unix_s, session.utc_offset_s().unwrap_or(0)).date();
    let _ = write!(out, "Login ends {} {}", d.day, d.month_name());
}

fn secs(ms: u64) -> u32 {
    u32::try_from(ms / 1000).unwrap_or(u32::MAX)
}

/// The rules from the session's state to what is shown, at `now_ms`.
///
/// `login_command` is what the user runs for a new login on this platform (`tonearm
/// login` on the desktop, `tonearm provision` for a board); it ends the message that
/// says a six-month login has run out.
pub fn view_model(
    session: &Session,
    now_ms: u64,
    clock: Option<ClockTime>,
    login_command: &str,
) -> ViewModel {
    let status = session.status(now_ms);
    let mut vm = match session.playback() {
        Playback::Item { np, received_ms } => {
            ViewModel::from_now_playing(np, tonearm_core::position_ms(np, *received_ms, now_ms))
        }
        Playback::Nothing { .. } => ViewModel::new(Screen::Idle),
        // Nothing heard yet: say so, rather than "nothing playing".
        Playback::Unknown => {
            let mut vm = ViewModel::new(Screen::Connecting);
            push_truncating(&mut vm.message, "Asking Spotify what plays");
            vm
        }
    };
    if vm.screen == Screen::Idle {
        vm.clock = clock;
    }
    match status.health {
        Health::Good => {}
        Health::Stale { age_ms } => {
            if age_ms >= STALE_BADGE_AFTER_MS && vm.screen != Screen::Idle {
                vm.stale_s = Some(secs(age_ms));
            }
        }
        Health::Offline { for_ms } => {
            vm.screen = Screen::Offline;
            vm.offline_s = Some(secs(for_ms));
        }
        Health::RateLimited { remaining_ms } => {
            vm.screen = Screen::RateLimited;
            vm.retry_in_s = Some(secs(remaining_ms.saturating_add(999)));
        }
        Health::LoginNeeded => vm = ViewModel::new(Screen::LoginNeeded),
        Health::LoginExpired => {
            vm = ViewModel::new(Screen::LoginNeeded);
            push_truncating(&mut vm.message, "Spotify logins last six months: run ");
            push_truncating(&mut vm.message, login_command);
        }
        Health::QuotaExceeded {
            until_unix_s,
            remaining_ms,
        } => {
            // The last item stays, dimmed; without one, a status screen.
            if !vm.screen.shows_item() || vm.title.is_empty() {
                vm = ViewModel::new(Screen::QuotaExceeded);
            }
            vm.screen = Screen::QuotaExceeded;
            back_text(&mut vm.back, session, now_ms, until_unix_s, remaining_ms);
        }
        Health::ConfigError(problem) => {
            vm = ViewModel::new(Screen::ConfigError);
            let text = match problem {
                ConfigProblem::InvalidClient => "invalid client id or secret",
                ConfigProblem::MissingClientId => "no client id configured",
                ConfigProblem::PremiumRequired => "Spotify Premium needed for the app's owner",
            };
            push_truncating(&mut vm.message, text);
        }
    }
    vm.notice = status.notice.map(notice);
    let warned = matches!(
        vm.screen,
        Screen::NowPlaying | Screen::Paused | Screen::Episode | Screen::Ad | Screen::Idle
    );
    if let (true, Some(ends)) = (warned, status.login_ends_unix_s) {
        login_warning_text(&mut vm.warning, session, ends);
    }
    vm
}
