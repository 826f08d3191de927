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
}

impl<C: Palette> App<C> {
    /// An app drawing on a display of `profile`, driving `session`.
    pub fn new(profile: Profile, session: Session) -> Self {
        App {
            session,
            scene: Scene::new(profile),
            vm: ViewModel::new(Screen::Idle),
            clock: None,
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

    /// The response's status and `Retry-After` (see [`Session::on_head`]).
    pub fn on_head(&mut self, now_ms: u64, status: u16, retry_after: Option<&str>) {
        self.session.on_head(now_ms, status, retry_after);
    }

    /// A chunk of the response body as it arrives (see [`Session::on_body`]).
    pub fn on_body(&mut self, chunk: &[u8]) {
        self.session.on_body(chunk);
    }

    /// The response is complete (see [`Session::on_end`]).
    pub fn on_end(&mut self, now_ms: u64) {
        self.session.on_end(now_ms);
    }

    /// The request failed without a complete response (see [`Session::on_failure`]).
    pub fn on_failure(&mut self, now_ms: u64, failure: Failure) {
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

    /// The time of day, when the platform knows it (shown when nothing plays).
    pub fn set_clock(&mut self, clock: Option<ClockTime>) {
        self.clock = clock;
    }

    /// Nothing has played for long: the shell may turn the display (backlight) off until
    /// playback resumes.
    pub fn is_blank(&self, now_ms: u64) -> bool {
        self.session.status(now_ms).blank
    }

    /// The view model for `now_ms`, rebuilt from the session's state.
    pub fn view(&mut self, now_ms: u64) -> &ViewModel {
        self.vm = view_model(&self.session, now_ms, self.clock);
        &self.vm
    }

    /// When the picture next changes by itself (the elapsed time's next second, a
    /// countdown, an animation frame), so a shell can sleep until then.
    pub fn next_frame_ms(&mut self, now_ms: u64) -> u64 {
        let vm = view_model(&self.session, now_ms, self.clock);
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
        self.vm = view_model(&self.session, now_ms, self.clock);
        self.scene.update(&self.vm, now_ms)
    }

    /// Draws what changed straight into `target` (for displays with their own frame
    /// buffer, like the desktop window).
    pub fn redraw<D: DrawTarget<Color = C>>(
        &mut self,
        now_ms: u64,
        target: &mut D,
    ) -> Result<Update, D::Error> {
        self.vm = view_model(&self.session, now_ms, self.clock);
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
        self.vm = view_model(&self.session, now_ms, self.clock);
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

fn notice(n: SessionNotice) -> Notice {
    match n {
        SessionNotice::PremiumRequired => Notice::PremiumRequired,
        SessionNotice::NoActiveDevice => Notice::NoActiveDevice,
        SessionNotice::NotAllowed | SessionNotice::ControlFailed => Notice::CommandFailed,
    }
}

fn secs(ms: u64) -> u32 {
    u32::try_from(ms / 1000).unwrap_or(u32::MAX)
}

/// The rules from the session's state to what is shown, at `now_ms`.
pub fn view_model(session: &Session, now_ms: u64, clock: Option<ClockTime>) -> ViewModel {
    let status = session.status(now_ms);
    let mut vm = match session.playback() {
        Playback::Item { np, received_ms } => {
            ViewModel::from_now_playing(np, tonearm_core::position_ms(np, *received_ms, now_ms))
        }
        Playback::Nothing { .. } | Playback::Unknown => ViewModel::new(Screen::Idle),
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
        Health::ConfigError(problem) => {
            vm = ViewModel::new(Screen::ConfigError);
            let text = match problem {
                ConfigProblem::InvalidClient => "invalid client id or secret",
                ConfigProblem::MissingClientId => "no client id configured",
            };
            push_truncating(&mut vm.message, text);
        }
    }
    vm.notice = status.notice.map(notice);
    vm
}
