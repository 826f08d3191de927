//! The driver's vocabulary: what [`App::poll`](crate::App::poll) tells a shell to do
//! ([`Do`]), what to persist ([`Save`]), and the seam the app takes its state from
//! ([`Source`]).
//!
//! The app is sans-IO and drives itself, like `quinn-proto`'s `Connection`: a shell only
//! performs what [`Do`] says and reports what happened (a response's head, body chunks
//! and end, a failure, a press, the time of day). Every rule of the loop (when to ask
//! Spotify, when to draw, when to persist, when to read the clock, when to turn the
//! backlight off) lives in the app, so no shell has a copy of one.

use heapless::String;
use tonearm_core::URL_CAP;
use tonearm_core::budget::QuotaState;
use tonearm_core::session::{
    Action, Control, ControlRefused, Failure, Request, Session, TokenUpdate,
};
use tonearm_core::wall::WallClock;

/// What the shell must do next; the answer of [`App::poll`](crate::App::poll).
///
/// After doing it (or, for [`Do::Sleep`], after the time came or something happened),
/// the shell polls again. Invariants a shell MUST keep:
///
/// - after [`Do::Send`] or [`Do::Fetch`], it reports that request's response with
///   `on_head`, `on_body`*, `on_end` (or `on_failure`), and nothing else goes out
///   meanwhile: the app never asks for a second request while one is in flight;
/// - [`Do::Save`] is persisted before the next request goes out (a rotated refresh token
///   replaces the old one, which Spotify may no longer accept);
/// - [`Do::Draw`] is answered with one `App::draw` or `App::draw_banded` call.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(
    clippy::large_enum_variant,
    reason = "no alloc to box into; one lives at a time"
)]
pub enum Do {
    /// Send this request to Spotify's accounts or API host now.
    Send(Request),
    /// Fetch this image (a cover) now; reported like a request. Only with the `art`
    /// feature: without it the app never asks for one.
    Fetch(ImageRequest),
    /// Persist this at once (tokens to the token store, the budget's state beside them).
    Save(Save),
    /// Turn the display's backlight on (`true`) or off. When it comes back on the next
    /// draw redraws everything.
    Backlight(bool),
    /// Draw now (`App::draw` into a display with a frame buffer, `App::draw_banded`
    /// through the band renderer for one without).
    Draw,
    /// Tell the app the time of day ([`App::set_wall_clock`](crate::App::set_wall_clock)),
    /// if the platform knows it; a platform that does not simply polls again (the app
    /// asks again a minute later).
    ReadClock,
    /// Nothing to do until this time (monotonic ms), or until something happens: a
    /// response arrives, a button is pressed.
    Sleep(u64),
}

/// What to persist (see [`Do::Save`]). At least one of the two is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Save {
    /// Fresh tokens (a rotated refresh token above all).
    pub tokens: Option<TokenUpdate>,
    /// The budget's state (its hourly counts, a quota hold): written at most once per
    /// [`App::set_quota_save_gap`](crate::App::set_quota_save_gap), and at once when a
    /// hold begins or ends, the effective budget moves or the 24-hour window rolls over
    /// (see [`Session::take_quota_save`]), and with every rotated refresh token.
    pub quota: Option<QuotaState>,
}

/// An image to fetch: `GET` without credentials, the body capped at `max_bytes` (more
/// is a [`Failure::TooLarge`]). Defined here, not with the covers, so a shell's `match`
/// on [`Do`] is the same with or without the `art` feature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRequest {
    /// The absolute URL.
    pub url: String<URL_CAP>,
    /// The body cap.
    pub max_bytes: usize,
}

/// Where the app's state comes from: the [`Session`] talking to Spotify, or something
/// that keeps a session up to date by other means (the demo's script; a hub). The app
/// draws [`Source::session`]'s state and forwards to the source what happens.
///
/// Implementations MUST keep the session's own contract: [`Source::poll`] asks for at
/// most one request at a time, and every event is handed on to the session that sent the
/// request.
pub trait Source {
    /// The session whose state is shown.
    fn session(&self) -> &Session;
    /// What the network should do (see [`Session::poll`]).
    fn poll(&mut self, now_ms: u64) -> Action;
    /// See [`Session::on_head`].
    fn on_head(&mut self, now_ms: u64, status: u16, retry_after: Option<&str>);
    /// See [`Session::on_body`].
    fn on_body(&mut self, chunk: &[u8]);
    /// See [`Session::on_end`].
    fn on_end(&mut self, now_ms: u64);
    /// See [`Session::on_failure`].
    fn on_failure(&mut self, now_ms: u64, failure: Failure);
    /// See [`Session::press`].
    fn press(&mut self, now_ms: u64, control: Control) -> Result<(), ControlRefused>;
    /// A command from elsewhere (a hub's `command` topic), which a dark screen does not
    /// swallow: see [`Session::command`]. The default is a press.
    fn command(&mut self, now_ms: u64, control: Control) -> Result<(), ControlRefused> {
        self.press(now_ms, control)
    }
    /// See [`Session::take_token_update`].
    fn take_token_update(&mut self) -> Option<TokenUpdate>;
    /// See [`Session::take_quota_save`].
    fn take_quota_save(&mut self, now_ms: u64, min_gap_ms: u64) -> Option<QuotaState>;
    /// See [`Session::set_wall_clock`].
    fn set_wall_clock(&mut self, now_ms: u64, wall: WallClock);
    /// A source that hears news by itself (a hub's state messages, pushed rather than
    /// asked for) applies what arrived since the last call and says whether anything
    /// did: the app then redraws what changed. Called at every [`App::poll`](crate::App::poll),
    /// also while a request is in flight; it MUST NOT block. The default hears nothing.
    fn take_news(&mut self, now_ms: u64) -> bool {
        let _ = now_ms;
        false
    }
    /// Changes whenever [`Source::session`] is another session than before (its
    /// generations start anew): the app then rebuilds what it shows. A source that keeps
    /// one session leaves the default.
    fn epoch(&self) -> u32 {
        0
    }
}

impl Source for Session {
    fn session(&self) -> &Session {
        self
    }
    fn poll(&mut self, now_ms: u64) -> Action {
        Session::poll(self, now_ms)
    }
    fn on_head(&mut self, now_ms: u64, status: u16, retry_after: Option<&str>) {
        Session::on_head(self, now_ms, status, retry_after);
    }
    fn on_body(&mut self, chunk: &[u8]) {
        Session::on_body(self, chunk);
    }
    fn on_end(&mut self, now_ms: u64) {
        Session::on_end(self, now_ms);
    }
    fn on_failure(&mut self, now_ms: u64, failure: Failure) {
        Session::on_failure(self, now_ms, failure);
    }
    fn press(&mut self, now_ms: u64, control: Control) -> Result<(), ControlRefused> {
        Session::press(self, now_ms, control)
    }
    fn command(&mut self, now_ms: u64, control: Control) -> Result<(), ControlRefused> {
        Session::command(self, now_ms, control)
    }
    fn take_token_update(&mut self) -> Option<TokenUpdate> {
        Session::take_token_update(self)
    }
    fn take_quota_save(&mut self, now_ms: u64, min_gap_ms: u64) -> Option<QuotaState> {
        Session::take_quota_save(self, now_ms, min_gap_ms)
    }
    fn set_wall_clock(&mut self, now_ms: u64, wall: WallClock) {
        Session::set_wall_clock(self, now_ms, wall);
    }
}
