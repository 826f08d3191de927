//! The machine: [`Session`], its state, and the handlers for what the shell reports.

use super::extras::{Extras, LIBRARY_URIS, LibraryAnswer, VolumeChange};
use super::mirror::Mirror;
use super::request::parse_retry_after;
use super::schedule::Jitter;
use super::vocab::{
    Action, AuthMode, CEILING_REQUESTS, ConfigProblem, Control, ControlCommand, ControlRefused,
    Credentials, Endpoint, Failure, Health, LOGIN_DAYS, LOGIN_WARN_DAYS, Notice, PREMIUM_PROBE_MS,
    Playback, QUOTA_RETRY_AFTER_MS, RequestKind, Status, Timing, TokenUpdate, WAKE_MS,
};
use crate::budget::{Budget, QuotaState};
use crate::model::{Kind, NowPlaying};
#[cfg(feature = "queue")]
use crate::parse::QueueParser;
use crate::parse::{
    ACCESS_TOKEN_CAP, ErrorBody, ErrorParser, NowPlayingParser, QueueHead, TokenParser,
    TokenResponse,
};
use crate::position::position_ms;
use crate::secret::Secret;
use crate::wall::{LocalTime, NightHours, WallClock};

/// The request in flight and how its response is being read.
#[derive(Debug, Clone)]
struct InFlight {
    kind: RequestKind,
    status: u16,
    retry_after_ms: Option<u64>,
    body: Body,
}

/// What a finished response body gave.
#[allow(
    clippy::large_enum_variant,
    reason = "no alloc to box into; one lives at a time"
)]
enum Outcome {
    /// No body was read (not needed for this status).
    Nothing,
    /// An empty player body (nothing playing).
    Blank,
    /// A body that did not parse.
    Malformed,
    State(NowPlaying),
    Token(TokenResponse),
    Error(Option<ErrorBody>),
    Library(heapless::Vec<bool, LIBRARY_URIS>),
    #[cfg_attr(
        not(feature = "queue"),
        allow(dead_code, reason = "made by the queue's parser")
    )]
    Queue(Option<QueueHead>),
}

/// The parser a response body goes into.
#[derive(Debug, Clone)]
#[allow(
    clippy::large_enum_variant,
    reason = "no alloc to box into; stored once"
)]
enum Body {
    Ignore,
    Player(NowPlayingParser),
    Token(TokenParser),
    Error(ErrorParser),
    Library(LibraryAnswer),
    #[cfg(feature = "queue")]
    Queue(QueueParser),
}

/// The session; see the [module docs](super).
#[derive(Debug, Clone)]
pub struct Session {
    pub(super) timing: Timing,
    pub(super) creds: Credentials,
    pub(super) access: Option<Secret<ACCESS_TOKEN_CAP>>,
    /// Monotonic time at which the access token expires.
    pub(super) access_expires_ms: u64,
    pub(super) endpoint: Endpoint,
    pub(super) playback: Playback,
    in_flight: Option<InFlight>,
    /// The request to repeat once after a refresh (after a 401).
    pub(super) retry_after_refresh: Option<RequestKind>,
    /// A 401 has been answered by a refresh already: a second one is a failure.
    refreshed_for_401: bool,
    pub(super) pending_control: Option<ControlCommand>,
    pub(super) next_poll_ms: u64,
    /// No request of any kind before this (429 or backoff).
    pub(super) hold_until_ms: u64,
    rate_limited_until_ms: u64,
    /// The current 429 wait is long enough to show the rate-limited screen.
    rate_limit_long: bool,
    pub(super) failures: u32,
    pub(super) first_failure_ms: Option<u64>,
    last_good_ms: Option<u64>,
    pub(super) idle_interval_ms: u64,
    pub(super) end_repolls: u8,
    /// The moment a poll was scheduled for the predicted end of the track.
    pub(super) end_poll: bool,
    halted: Option<Health>,
    notice: Option<(Notice, u64)>,
    token_update: Option<TokenUpdate>,
    /// Send times of the last [`CEILING_REQUESTS`] requests (a ring).
    pub(super) sent: [u64; CEILING_REQUESTS],
    pub(super) sent_count: u64,
    pub(super) jitter: Jitter,
    /// Bumped whenever something to show changes.
    generation: u32,
    /// The daily request budget, its hourly counts and the quota hold.
    pub(super) budget: Budget,
    /// The state changed since it was last handed out for persisting; `urgent`: a hold
    /// began or ended, or the effective budget moved.
    quota_dirty: bool,
    quota_urgent: bool,
    last_quota_save_ms: Option<u64>,
    /// Unix ms minus monotonic ms, and the local UTC offset, when the shell knows the time.
    wall: Option<(i64, i32)>,
    pub(super) night: Option<NightHours>,
    /// A press woke the dark screen until this time.
    pub(super) woken_until_ms: u64,
    /// When the user authorized (Unix s), for the six-month login.
    authorized_at_s: Option<u64>,
    /// The last change made by a person (a press, a skip or pause elsewhere, a start).
    pub(super) last_activity_ms: u64,
    /// Since when the item shown is paused.
    pub(super) paused_since_ms: Option<u64>,
    /// The next poll confirms a press (it may use the budget's reserve).
    pub(super) confirm_poll: bool,
    /// Spotify refuses the app for want of Premium (probing every 6 hours).
    pub(super) premium_blocked: bool,
    /// The end of the last quota hold (Unix s), shown until the first answer after it;
    /// the request after a hold may use the budget's reserve (a lowered budget may be
    /// spent already, and the screen must learn what plays).
    quota_shown_until_s: u64,
    /// The heart, the queue and the volume.
    pub(super) extras: Extras,
    /// A mirror of a hub's state (see [`Session::mirror`]): never sends anything.
    pub(super) mirror: Option<Mirror>,
}

impl Session {
    /// A session with these credentials and timing; `seed` drives the jitter (use
    /// something device-specific so that many devices do not retry in step).
    pub fn new(creds: Credentials, timing: Timing, seed: u64) -> Self {
        let halted = if creds.client_id.is_empty() {
            Some(Health::ConfigError(ConfigProblem::MissingClientId))
        } else if creds.refresh_token.is_none() {
            Some(Health::LoginNeeded)
        } else {
            None
        };
        Session {
            idle_interval_ms: timing.poll_idle_ms,
            timing,
            creds,
            access: None,
            access_expires_ms: 0,
            endpoint: Endpoint::Player,
            playback: Playback::Unknown,
            in_flight: None,
            retry_after_refresh: None,
            refreshed_for_401: false,
            pending_control: None,
            next_poll_ms: 0,
            hold_until_ms: 0,
            rate_limited_until_ms: 0,
            rate_limit_long: false,
            failures: 0,
            first_failure_ms: None,
            last_good_ms: None,
            end_repolls: 0,
            end_poll: false,
            halted,
            notice: None,
            token_update: None,
            sent: [0; CEILING_REQUESTS],
            sent_count: 0,
            jitter: Jitter(seed | 1),
            generation: 0,
            budget: Budget::new(0, QuotaState::default()),
            quota_dirty: false,
            quota_urgent: false,
            last_quota_save_ms: None,
            wall: None,
            night: None,
            woken_until_ms: 0,
            authorized_at_s: None,
            last_activity_ms: 0,
            paused_since_ms: None,
            confirm_poll: false,
            premium_blocked: false,
            quota_shown_until_s: 0,
            extras: Extras::default(),
            mirror: None,
        }
    }

    /// Something to show may have changed.
    pub(super) fn bump(&mut self) {
        self.generation = self.generation.wrapping_add(1);
    }

    /// A notice from the hub (shown until the next state says otherwise), or none: the
    /// hub's notice goes, one of this display's own stays its time.
    pub(super) fn set_mirror_notice(&mut self, notice: Option<Notice>) {
        match notice {
            Some(n) if self.notice.map(|(o, _)| o) != Some(n) => {
                self.notice = Some((n, u64::MAX));
                self.bump();
            }
            Some(_) => {}
            None if self.notice.is_some_and(|(_, until)| until == u64::MAX) => {
                self.notice = None;
                self.bump();
            }
            None => {}
        }
    }

    /// Sets the daily request budget (`0`: none, today's fixed schedule) and the state
    /// persisted by the last run (hourly counts, a quota hold, the effective budget; see
    /// [`crate::budget`]). Call before the first [`Session::poll`].
    pub fn set_budget(&mut self, daily_requests: u32, state: QuotaState) {
        self.budget = Budget::new(daily_requests, state);
    }

    /// Sets night hours (local time): the screen is dark and polls are rare.
    pub fn set_night(&mut self, night: Option<NightHours>) {
        self.night = night;
    }

    /// When the user authorized this login (Unix seconds), if known: the login ends
    /// [`LOGIN_DAYS`] later, and the screens warn from day [`LOGIN_WARN_DAYS`].
    pub fn set_authorized_at(&mut self, unix_s: Option<u64>) {
        self.authorized_at_s = unix_s;
    }

    /// The time of day at monotonic `now_ms`, when the shell knows it. Call it again
    /// whenever the UTC offset may have changed (each minute is plenty).
    pub fn set_wall_clock(&mut self, now_ms: u64, wall: WallClock) {
        let offset = i64::try_from(wall.unix_ms)
            .unwrap_or(i64::MAX)
            .saturating_sub(i64::try_from(now_ms).unwrap_or(i64::MAX));
        // Only a real change of the time of day is news (not the ms of drift between calls).
        let news = self
            .wall
            .is_none_or(|(o, u)| u != wall.utc_offset_s || o.abs_diff(offset) >= 1_000);
        if news {
            self.generation = self.generation.wrapping_add(1);
        }
        self.wall = Some((offset, wall.utc_offset_s));
    }

    /// Unix ms at monotonic `now_ms`, when the time of day is known.
    pub fn unix_ms(&self, now_ms: u64) -> Option<u64> {
        let (offset, _) = self.wall?;
        u64::try_from(i64::try_from(now_ms).ok()?.saturating_add(offset)).ok()
    }

    /// The local UTC offset (seconds east) last told, when the time of day is known.
    pub fn utc_offset_s(&self) -> Option<i32> {
        self.wall.map(|(_, u)| u)
    }

    /// The local date and time at `now_ms`, when known.
    pub fn local_time(&self, now_ms: u64) -> Option<LocalTime> {
        let unix_ms = self.unix_ms(now_ms)?;
        Some(LocalTime::at(unix_ms / 1000, self.wall?.1))
    }

    /// The Unix second the budget counts with: the wall clock, or (before it is known)
    /// the monotonic clock, so the rules still hold within one run.
    fn budget_s(&self, now_ms: u64) -> u64 {
        self.unix_ms(now_ms).unwrap_or(now_ms) / 1000
    }

    /// The monotonic time of a Unix second (see [`Session::budget_s`]).
    fn mono_of_s(&self, unix_s: u64) -> u64 {
        let ms = unix_s.saturating_mul(1000);
        match self.wall {
            Some((offset, _)) => {
                let m = i64::try_from(ms).unwrap_or(i64::MAX).saturating_sub(offset);
                u64::try_from(m).unwrap_or(0)
            }
            None => ms,
        }
    }

    /// The effective daily budget and what is left of it; `None` without a budget.
    pub fn budget(&self) -> Option<(u32, u32)> {
        self.budget
            .is_set()
            .then(|| (self.budget.limit(), self.budget.left()))
    }

    /// The budget's state as it stands (hourly counts, hold, effective budget).
    pub fn quota_state(&self) -> &QuotaState {
        self.budget.state()
    }

    /// The budget's state to persist, when it changed: at once after a quota hold began
    /// or ended or the effective budget moved, otherwise at most once per `min_gap_ms`
    /// (a desktop may write every minute; a board's flash, once an hour).
    pub fn take_quota_save(&mut self, now_ms: u64, min_gap_ms: u64) -> Option<QuotaState> {
        if !self.quota_dirty {
            return None;
        }
        let due = self.quota_urgent
            || self
                .last_quota_save_ms
                .is_none_or(|t| now_ms.saturating_sub(t) >= min_gap_ms);
        if !due {
            return None;
        }
        self.quota_dirty = false;
        self.quota_urgent = false;
        self.last_quota_save_ms = Some(now_ms);
        Some(self.budget.state().clone())
    }

    /// The end of the quota hold in force at `now_ms` (Unix seconds), if any.
    pub fn quota_until(&self, now_ms: u64) -> Option<u64> {
        let until = self.budget.hold_until_s();
        (until != 0 && self.budget_s(now_ms) < until).then_some(until)
    }

    /// Whether the screen is dark at `now_ms`: night hours or the idle blank, unless a
    /// press woke it.
    pub fn is_dark(&self, now_ms: u64) -> bool {
        if now_ms < self.woken_until_ms {
            return false;
        }
        let idle_blank = matches!(self.playback, Playback::Nothing { since_ms }
            if now_ms.saturating_sub(since_ms) >= self.timing.blank_after_ms);
        idle_blank || self.is_night(now_ms)
    }

    /// Starts from a stored access token valid for `valid_for_ms` more ms (from `now_ms`).
    /// An expired or nearly expired one is ignored (a refresh comes first).
    pub fn set_access_token(
        &mut self,
        token: Secret<ACCESS_TOKEN_CAP>,
        now_ms: u64,
        valid_for_ms: u64,
    ) {
        if token.is_empty() {
            return;
        }
        self.access = Some(token);
        self.access_expires_ms = now_ms.saturating_add(valid_for_ms);
    }

    /// Polls `/me/player/currently-playing` instead of `/me/player` (a token without the
    /// `user-read-playback-state` scope).
    pub fn set_endpoint(&mut self, endpoint: Endpoint) {
        self.endpoint = endpoint;
    }

    /// The endpoint being polled.
    pub fn endpoint(&self) -> Endpoint {
        self.endpoint
    }

    /// The auth mode refreshes use.
    pub fn auth_mode(&self) -> AuthMode {
        self.creds.mode()
    }

    /// The last playback state heard.
    pub fn playback(&self) -> &Playback {
        &self.playback
    }

    /// The current position of what plays, at `now_ms`.
    pub fn position_ms(&self, now_ms: u64) -> Option<u64> {
        match &self.playback {
            Playback::Item { np, received_ms } => Some(position_ms(np, *received_ms, now_ms)),
            _ => None,
        }
    }

    /// Bumped whenever the playback state, health or notice may have changed.
    pub fn generation(&self) -> u32 {
        self.generation
    }

    /// Fresh tokens to persist, once.
    pub fn take_token_update(&mut self) -> Option<TokenUpdate> {
        self.token_update.take()
    }

    /// `true` while a request is in flight.
    pub fn is_busy(&self) -> bool {
        self.in_flight.is_some()
    }

    /// The state to show at `now_ms`.
    pub fn status(&self, now_ms: u64) -> Status {
        let notice = self
            .notice
            .filter(|(_, until)| now_ms < *until)
            .map(|(n, _)| n);
        if let Some(m) = &self.mirror {
            return Status {
                health: self.mirror_health(m, now_ms),
                notice,
                blank: m.dark && m.lost_since_ms.is_none(),
                login_ends_unix_s: m.login_ends_s,
                volume_shown: self.volume_shown(now_ms),
            };
        }
        let blank = self.is_dark(now_ms);
        let health = if let Some(h) = self.halted {
            h
        } else if let Some(until_unix_s) = self.quota_until(now_ms).or(
            // After the hold, until the first answer: not the stale state of hours ago.
            (self.quota_shown_until_s != 0).then_some(self.quota_shown_until_s),
        ) {
            Health::QuotaExceeded {
                until_unix_s,
                remaining_ms: self.mono_of_s(until_unix_s).saturating_sub(now_ms),
            }
        } else if self.premium_blocked {
            Health::ConfigError(ConfigProblem::PremiumRequired)
        } else if now_ms < self.rate_limited_until_ms && self.rate_limit_long {
            Health::RateLimited {
                remaining_ms: self.rate_limited_until_ms - now_ms,
            }
        } else if let Some(first) = self.first_failure_ms {
            let age = now_ms.saturating_sub(self.last_good_ms.unwrap_or(first));
            if age >= self.timing.offline_after_ms {
                Health::Offline { for_ms: age }
            } else {
                Health::Stale { age_ms: age }
            }
        } else {
            Health::Good
        };
        let login_ends_unix_s = match (self.authorized_at_s, self.unix_ms(now_ms)) {
            (Some(at), Some(unix_ms))
                if unix_ms / 1000 >= at.saturating_add(LOGIN_WARN_DAYS * 86_400) =>
            {
                Some(at.saturating_add(LOGIN_DAYS * 86_400))
            }
            _ => None,
        };
        Status {
            health,
            notice,
            blank,
            login_ends_unix_s,
            volume_shown: self.volume_shown(now_ms),
        }
    }

    /// What to do at `now_ms`.
    pub fn poll(&mut self, now_ms: u64) -> Action {
        if self.in_flight.is_some() || self.halted.is_some() || self.mirror.is_some() {
            return Action::Wait;
        }
        let unix_s = self.budget_s(now_ms);
        if self.budget.advance(unix_s) {
            self.quota_dirty = true;
            self.quota_urgent = true;
            self.generation = self.generation.wrapping_add(1);
        }
        // A quota hold: nothing at all is sent (asking early lengthens the ban).
        if let Some(until) = self.quota_until(now_ms) {
            return Action::WaitUntil(self.mono_of_s(until).max(now_ms + 1));
        }
        let Some((kind, mut reserve)) = self.next_kind(now_ms) else {
            return Action::WaitUntil(self.next_due_ms());
        };
        let earliest = self.hold_until_ms.max(self.ceiling_free_at(now_ms));
        if now_ms < earliest {
            return Action::WaitUntil(earliest);
        }
        reserve |= self.quota_shown_until_s != 0;
        if !self.budget.allows(reserve) {
            // Nothing more this time: the quota screen (if up) gives way to the last state.
            self.quota_shown_until_s = 0;
            if let RequestKind::Control(_) = kind {
                // Presses are checked before they are queued; this one no longer fits
                // (nor does a volume waiting to go).
                self.pending_control = None;
                self.drop_pending_extras();
                self.set_notice(now_ms, Notice::DailyLimit);
                return Action::WaitUntil(now_ms + 1);
            }
            // Wait until an hour leaves the window (or a press).
            let release = self
                .budget
                .state()
                .next_release_s()
                .map_or(now_ms + 3_600_000, |s| self.mono_of_s(s));
            return Action::WaitUntil(release.max(now_ms + 1));
        }
        match self.build(kind) {
            Some(req) => {
                self.extras_sent(kind);
                self.record_send(now_ms);
                self.budget.record();
                self.quota_dirty = true;
                if let RequestKind::Poll(_) = kind {
                    self.confirm_poll = false;
                }
                self.in_flight = Some(InFlight {
                    kind,
                    status: 0,
                    retry_after_ms: None,
                    body: Body::Ignore,
                });
                if let RequestKind::Control(_) = kind {
                    self.pending_control = None;
                }
                Action::Send(req)
            }
            // A like whose item is gone: dropped, not a reason to stop.
            None if matches!(kind, RequestKind::Control(ControlCommand::Like(_))) => {
                self.pending_control = None;
                self.like_lost();
                Action::WaitUntil(now_ms + 1)
            }
            // Cannot happen with bounded inputs that fitted; stop rather than spin.
            None => {
                self.halt(Health::ConfigError(ConfigProblem::InvalidClient));
                Action::Wait
            }
        }
    }

    pub(super) fn set_notice(&mut self, now_ms: u64, notice: Notice) {
        self.notice = Some((notice, now_ms.saturating_add(self.timing.notice_ms)));
        self.generation = self.generation.wrapping_add(1);
    }

    /// A button was pressed at `now_ms`. Controls that `disallows` forbids are not sent.
    /// Play/pause updates the state at once (the next poll confirms it).
    ///
    /// A press on a dark screen (night hours, the idle blank) only wakes it for
    /// [`WAKE_MS`], with the normal schedule. During a quota hold, or when even the
    /// budget's reserve is spent, nothing is sent and the notice says "Daily limit".
    /// While Spotify refuses the app for want of Premium, a press sends one probe.
    pub fn press(&mut self, now_ms: u64, control: Control) -> Result<(), ControlRefused> {
        if self.halted.is_some() {
            return Err(ControlRefused::Halted);
        }
        if self.is_dark(now_ms) {
            self.wake(now_ms);
            return Err(ControlRefused::WokeUp);
        }
        self.press_lit(now_ms, control)
    }

    /// A command from elsewhere (a hub's `command` topic: Home Assistant, a display fed
    /// by the hub): as [`Session::press`], but a dark screen does not swallow it: it
    /// wakes and the command goes through (no one here pressed on a dark screen by
    /// mistake; the display that sent it had its own screen to look at).
    pub fn command(&mut self, now_ms: u64, control: Control) -> Result<(), ControlRefused> {
        if self.halted.is_some() {
            return Err(ControlRefused::Halted);
        }
        if self.is_dark(now_ms) {
            self.wake(now_ms);
        }
        self.press_lit(now_ms, control)
    }

    /// Lights a dark screen for [`WAKE_MS`] and asks what plays now.
    fn wake(&mut self, now_ms: u64) {
        self.woken_until_ms = now_ms.saturating_add(WAKE_MS);
        self.last_activity_ms = now_ms;
        // Show what plays now, from a fresh answer.
        self.next_poll_ms = self.next_poll_ms.min(now_ms);
        self.generation = self.generation.wrapping_add(1);
    }

    /// A press on a lit screen.
    fn press_lit(&mut self, now_ms: u64, control: Control) -> Result<(), ControlRefused> {
        if self.quota_until(now_ms).is_some() {
            self.set_notice(now_ms, Notice::DailyLimit);
            return Err(ControlRefused::DailyLimit);
        }
        if self.premium_blocked {
            self.next_poll_ms = self.next_poll_ms.min(now_ms);
            self.confirm_poll = true;
            return Err(ControlRefused::Halted);
        }
        // The command and the poll that confirms it must both fit in the budget.
        if self.budget.is_set() && self.budget.used().saturating_add(2) > self.budget.limit() {
            self.set_notice(now_ms, Notice::DailyLimit);
            return Err(ControlRefused::DailyLimit);
        }
        let Playback::Item { np, received_ms } = &mut self.playback else {
            return Err(ControlRefused::NothingPlaying);
        };
        let volume = match control {
            Control::VolumeUp => Some(VolumeChange::Up),
            Control::VolumeDown => Some(VolumeChange::Down),
            Control::SetVolume(v) => Some(VolumeChange::To(v)),
            _ => None,
        };
        if let Some(change) = volume {
            let result = self.press_volume(now_ms, change);
            if result == Err(ControlRefused::Disallowed) {
                self.set_notice(now_ms, Notice::VolumeFixed);
            }
            if result.is_ok() {
                self.last_activity_ms = now_ms;
                self.generation = self.generation.wrapping_add(1);
            }
            return result;
        }
        if let Control::ToggleLike | Control::SetLiked(_) = control {
            let set = match control {
                Control::SetLiked(v) => Some(v),
                _ => None,
            };
            if self.pending_control.is_some() {
                return Err(ControlRefused::Busy);
            }
            if let Some(liked) = self.press_like(set)? {
                self.pending_control = Some(ControlCommand::Like(liked));
                self.generation = self.generation.wrapping_add(1);
            }
            return Ok(());
        }
        let d = np.disallows;
        // A restricted device takes no commands at all.
        let restricted = np.device.as_ref().is_some_and(|dev| dev.is_restricted);
        let command = match control {
            _ if restricted => None,
            Control::PlayPause if np.is_playing => (!d.pausing).then_some(ControlCommand::Pause),
            Control::PlayPause => (!d.resuming).then_some(ControlCommand::Play),
            Control::Next => (!d.skipping_next).then_some(ControlCommand::Next),
            Control::Previous => (!d.skipping_prev).then_some(ControlCommand::Previous),
            // Handled above.
            Control::ToggleLike
            | Control::SetLiked(_)
            | Control::VolumeUp
            | Control::VolumeDown
            | Control::SetVolume(_) => None,
        };
        let Some(command) = command else {
            self.notice = Some((
                Notice::NotAllowed,
                now_ms.saturating_add(self.timing.notice_ms),
            ));
            self.generation = self.generation.wrapping_add(1);
            return Err(ControlRefused::Disallowed);
        };
        // A second press before the first went out: play/pause twice cancels out; any
        // other pair keeps the first.
        let cancels = matches!(
            (self.pending_control, command),
            (Some(ControlCommand::Pause), ControlCommand::Play)
                | (Some(ControlCommand::Play), ControlCommand::Pause)
        );
        if self.pending_control.is_some() && !cancels {
            return Err(ControlRefused::Busy);
        }
        // Optimistic play/pause: freeze or restart the position now. The flags Spotify
        // sends describe the old state ("resuming" is disallowed while playing): flip
        // them too, so the opposite press works before the next poll.
        match command {
            ControlCommand::Pause | ControlCommand::Play => {
                let playing = command == ControlCommand::Play;
                np.progress_ms = Some(position_ms(np, *received_ms, now_ms));
                np.is_playing = playing;
                *received_ms = now_ms;
                if playing {
                    np.disallows.pausing = false;
                } else {
                    np.disallows.resuming = false;
                }
            }
            ControlCommand::Next
            | ControlCommand::Previous
            | ControlCommand::Like(_)
            | ControlCommand::Volume(_) => {}
        }
        self.pending_control = if cancels { None } else { Some(command) };
        self.last_activity_ms = now_ms;
        self.generation = self.generation.wrapping_add(1);
        Ok(())
    }

    /// The status line and `Retry-After` header (its value, if present, any case of the
    /// name) of the response to the request in flight.
    pub fn on_head(&mut self, _now_ms: u64, status: u16, retry_after: Option<&str>) {
        let Some(f) = self.in_flight.as_mut() else {
            return;
        };
        f.status = status;
        f.retry_after_ms = retry_after.and_then(parse_retry_after);
        f.body = match (f.kind, status) {
            (RequestKind::Poll(_), 200) => Body::Player(NowPlayingParser::new()),
            (RequestKind::Refresh, 200) => Body::Token(TokenParser::new()),
            (RequestKind::Library, 200) => Body::Library(LibraryAnswer::default()),
            #[cfg(feature = "queue")]
            (RequestKind::Queue, 200) => Body::Queue(QueueParser::new()),
            (_, 400..=499) => Body::Error(ErrorParser::new()),
            _ => Body::Ignore,
        };
    }

    /// A chunk of the response body, as it arrives. (Errors are remembered and acted on
    /// at [`Session::on_end`].)
    pub fn on_body(&mut self, chunk: &[u8]) {
        let Some(f) = self.in_flight.as_mut() else {
            return;
        };
        // A parse error is sticky inside each parser; `finish` reports it at the end.
        match &mut f.body {
            Body::Ignore => {}
            Body::Player(p) => {
                let _ = p.feed(chunk);
            }
            Body::Token(p) => {
                let _ = p.feed(chunk);
            }
            Body::Error(p) => {
                let _ = p.feed(chunk);
            }
            Body::Library(a) => a.feed(chunk),
            #[cfg(feature = "queue")]
            Body::Queue(p) => {
                let _ = p.feed(chunk);
            }
        }
    }

    /// The response is complete.
    pub fn on_end(&mut self, now_ms: u64) {
        let Some(f) = self.in_flight.as_mut() else {
            return;
        };
        let (kind, status, retry_after_ms) = (f.kind, f.status, f.retry_after_ms);
        // Finish the parser in place: moving the in-flight state (parser included) out
        // first would put several KB more on the stack of a small device.
        let outcome = match &mut f.body {
            Body::Player(p) if p.is_blank() => Outcome::Blank,
            Body::Player(p) => p.finish().map_or(Outcome::Malformed, Outcome::State),
            Body::Token(p) => p.finish().map_or(Outcome::Malformed, Outcome::Token),
            Body::Error(p) => Outcome::Error(p.finish().ok()),
            Body::Library(a) => Outcome::Library(a.finish()),
            #[cfg(feature = "queue")]
            Body::Queue(p) => Outcome::Queue(p.finish().ok()),
            Body::Ignore => Outcome::Nothing,
        };
        self.in_flight = None;
        if kind != RequestKind::Refresh || !(200..300).contains(&status) {
            // A fresh token after a hold says nothing of what plays: the poll it allows
            // still shows the hold's end until it answers (and may use the reserve).
            self.quota_shown_until_s = 0;
        }
        let error_body = match &outcome {
            Outcome::Error(e) => e.as_ref(),
            _ => None,
        };
        let premium_refusal = status == 403
            && kind != RequestKind::Refresh
            && error_body.is_some_and(|e| {
                e.reason.is_none()
                    && e.message
                        .as_deref()
                        .is_some_and(|m| contains_ignore_case(m, "premium subscription"))
            });
        // An API answer other than a quota answer ends a series of quota answers (a token
        // says nothing about the Web API's quota).
        if kind != RequestKind::Refresh && status != 429 && self.budget.answered() {
            self.quota_dirty = true;
            self.quota_urgent = true;
        }
        match (kind, status) {
            // A quota answer: `QUOTA_EXCEEDED`, or no readable body and a wait of hours.
            (_, 429)
                if error_body.is_some_and(|e| e.reason_is("QUOTA_EXCEEDED"))
                    || (error_body.is_none()
                        && retry_after_ms.is_some_and(|ms| ms >= QUOTA_RETRY_AFTER_MS)) =>
            {
                self.quota_exceeded(now_ms, retry_after_ms)
            }
            (_, 429) => self.rate_limited(now_ms, retry_after_ms),
            _ if premium_refusal => self.premium_refused(now_ms),
            (RequestKind::Refresh, 200) => match outcome {
                Outcome::Token(token) => self.token_ok(now_ms, token),
                _ => self.failed(now_ms),
            },
            (RequestKind::Refresh, 400..=499) => {
                let e = error_body.cloned();
                self.refresh_rejected(now_ms, e.as_ref());
            }
            (RequestKind::Poll(_), 200) => match outcome {
                Outcome::Blank => self.nothing_playing(now_ms),
                Outcome::State(np) => self.got_state(now_ms, np),
                _ => self.failed(now_ms),
            },
            (RequestKind::Poll(_), 204) => self.nothing_playing(now_ms),
            (
                RequestKind::Poll(_)
                | RequestKind::Control(_)
                | RequestKind::Library
                | RequestKind::Queue,
                401,
            ) => self.unauthorized(now_ms, kind),
            (RequestKind::Library, _) => {
                let liked = match outcome {
                    Outcome::Library(v) => v,
                    _ => heapless::Vec::new(),
                };
                self.library_answered(status, &liked);
                self.answered_or_failed(now_ms, status);
            }
            (RequestKind::Queue, _) => {
                let head = match outcome {
                    Outcome::Queue(h) => h,
                    _ => None,
                };
                self.answered_or_failed(now_ms, status);
                if self.queue_answered(status, head) {
                    // It confirms the item shown: it stands for the poll it replaced.
                    self.reschedule_same_item(now_ms);
                } else {
                    // A change, nothing playing, or no answer: the poll, now.
                    self.next_poll_ms = now_ms;
                }
            }
            (RequestKind::Control(ControlCommand::Like(liked)), _) => {
                if let Some(n) = self.like_answered(liked, status) {
                    self.set_notice(now_ms, n);
                }
                self.answered_or_failed(now_ms, status);
            }
            (RequestKind::Control(ControlCommand::Volume(_)), _) => {
                let fixed = error_body.is_some_and(|e| e.reason_is("VOLUME_CONTROL_DISALLOW"));
                if let Some(n) = self.volume_answered(status, fixed) {
                    self.set_notice(now_ms, n);
                }
                self.answered_or_failed(now_ms, status);
            }
            (RequestKind::Poll(Endpoint::Player), 403) => {
                // The token lacks user-read-playback-state: fall back for good.
                self.endpoint = Endpoint::CurrentlyPlaying;
                self.next_poll_ms = now_ms;
                self.good_answer(now_ms);
            }
            (RequestKind::Control(_), 200..=299) => {
                self.good_answer(now_ms);
                self.next_poll_ms = now_ms.saturating_add(self.timing.confirm_ms);
                self.confirm_poll = true;
            }
            (RequestKind::Control(_), 400..=499) => {
                let notice = match error_body {
                    Some(e) if e.reason_is("PREMIUM_REQUIRED") => Notice::PremiumRequired,
                    Some(e) if e.reason_is("NO_ACTIVE_DEVICE") => Notice::NoActiveDevice,
                    _ if status == 404 => Notice::NoActiveDevice,
                    _ => Notice::ControlFailed,
                };
                self.notice = Some((notice, now_ms.saturating_add(self.timing.notice_ms)));
                self.good_answer(now_ms);
                // Undo any optimistic change soon.
                self.next_poll_ms = now_ms.saturating_add(self.timing.confirm_ms);
                self.confirm_poll = true;
            }
            _ => self.failed(now_ms),
        }
        if kind != RequestKind::Refresh {
            // The retried request has had its one retry.
            if self.retry_after_refresh == Some(kind) {
                self.retry_after_refresh = None;
            }
            if (200..300).contains(&status) {
                self.refreshed_for_401 = false;
            }
        }
        self.generation = self.generation.wrapping_add(1);
    }

    /// The request in flight failed without a (complete) response.
    pub fn on_failure(&mut self, now_ms: u64, _failure: Failure) {
        if let Some(f) = self.in_flight.take() {
            if let RequestKind::Control(ControlCommand::Like(_)) = f.kind {
                self.like_lost();
            }
            self.quota_shown_until_s = 0;
            self.failed(now_ms);
            self.generation = self.generation.wrapping_add(1);
        }
    }

    fn halt(&mut self, health: Health) {
        self.halted = Some(health);
        self.pending_control = None;
        self.drop_pending_extras();
        self.retry_after_refresh = None;
    }

    /// An answer to one of the extras: below 500 Spotify is there; from 500 it is a
    /// failure like any other.
    fn answered_or_failed(&mut self, now_ms: u64, status: u16) {
        if status < 500 {
            self.good_answer(now_ms);
        } else {
            self.failed(now_ms);
        }
    }

    fn good_answer(&mut self, now_ms: u64) {
        self.premium_blocked = false;
        self.failures = 0;
        self.first_failure_ms = None;
        self.last_good_ms = Some(now_ms);
        self.hold_until_ms = self.hold_until_ms.min(now_ms);
    }

    fn token_ok(&mut self, now_ms: u64, token: TokenResponse) {
        let expires_in_ms = u64::from(token.expires_in.unwrap_or(3600)).saturating_mul(1000);
        if let Some(new) = &token.refresh_token {
            self.creds.refresh_token = Some(new.clone());
        }
        if !token.scope.is_empty() && !token.has_scope("user-read-playback-state") {
            self.endpoint = Endpoint::CurrentlyPlaying;
        }
        self.extras_token(&token);
        self.access = Some(token.access_token.clone());
        self.access_expires_ms = now_ms.saturating_add(expires_in_ms);
        self.token_update = Some(TokenUpdate {
            access_token: token.access_token,
            expires_in_ms,
            refresh_token: token.refresh_token,
        });
        // A token says nothing about the Web API: failures and their backoff stand until
        // an API answer is good.
    }

    fn refresh_rejected(&mut self, now_ms: u64, body: Option<&ErrorBody>) {
        match body {
            Some(e) if e.error_is("invalid_grant") => {
                self.creds.refresh_token = None;
                self.access = None;
                // Within a week of the six months' end, say that this is why.
                let near_end = match (self.authorized_at_s, self.unix_ms(now_ms)) {
                    (Some(at), Some(unix_ms)) => {
                        unix_ms / 1000 >= at.saturating_add((LOGIN_DAYS - 7) * 86_400)
                    }
                    _ => false,
                };
                self.halt(if near_end {
                    Health::LoginExpired
                } else {
                    Health::LoginNeeded
                });
            }
            Some(e) if e.error_is("invalid_client") || e.error_is("unauthorized_client") => {
                self.halt(Health::ConfigError(ConfigProblem::InvalidClient));
            }
            _ => self.failed(now_ms),
        }
    }

    fn unauthorized(&mut self, now_ms: u64, kind: RequestKind) {
        if self.refreshed_for_401 {
            // A fresh token was refused too: back off rather than loop. No more refreshes
            // for 401s until a request succeeds again.
            self.failed(now_ms);
            return;
        }
        self.refreshed_for_401 = true;
        self.access = None;
        self.retry_after_refresh = Some(kind);
    }

    /// Spotify's daily quota is used up: hold everything (persisted at once).
    fn quota_exceeded(&mut self, now_ms: u64, retry_after_ms: Option<u64>) {
        // Rounded up: the hold never ends before Spotify's wait (asking a moment early
        // would be another quota answer, and a lower budget).
        let unix_s = self.unix_ms(now_ms).unwrap_or(now_ms).div_ceil(1000);
        let until = self
            .budget
            .quota_hit(unix_s, retry_after_ms.map(|ms| ms.div_ceil(1000)));
        self.quota_shown_until_s = until;
        self.quota_dirty = true;
        self.quota_urgent = true;
        self.pending_control = None;
        self.drop_pending_extras();
        self.retry_after_refresh = None;
        self.confirm_poll = false;
        // After the hold: one poll (the next request of any kind waits for the hold).
        self.next_poll_ms = self.mono_of_s(until);
        self.end_poll = false;
        // Not a failure: the hold is its own screen, and the answer after it is news.
        self.failures = 0;
        self.first_failure_ms = None;
    }

    /// Spotify refuses the app because its owner has no Premium: nothing more but one
    /// probe every [`PREMIUM_PROBE_MS`] (a renewal takes hours to apply) and at a press.
    fn premium_refused(&mut self, now_ms: u64) {
        self.premium_blocked = true;
        self.pending_control = None;
        self.drop_pending_extras();
        self.retry_after_refresh = None;
        self.confirm_poll = false;
        self.end_poll = false;
        self.next_poll_ms = now_ms.saturating_add(PREMIUM_PROBE_MS);
    }

    fn rate_limited(&mut self, now_ms: u64, retry_after_ms: Option<u64>) {
        let base = match retry_after_ms {
            Some(ms) => ms,
            None => self.backoff_delay().max(self.timing.retry_after_default_ms),
        };
        let wait = base.saturating_add(self.jitter.upto(1_000));
        self.rate_limit_long = wait >= self.timing.rate_limit_screen_ms;
        self.rate_limited_until_ms = now_ms.saturating_add(wait);
        self.hold_until_ms = self.hold_until_ms.max(self.rate_limited_until_ms);
        self.note_failure(now_ms);
    }

    fn nothing_playing(&mut self, now_ms: u64) {
        self.good_answer(now_ms);
        let since_ms = match self.playback {
            Playback::Nothing { since_ms } => {
                self.idle_interval_ms =
                    (self.idle_interval_ms.saturating_mul(3) / 2).min(self.timing.poll_idle_max_ms);
                since_ms
            }
            _ => {
                self.idle_interval_ms = self.timing.poll_idle_ms;
                now_ms
            }
        };
        self.playback = Playback::Nothing { since_ms };
        self.paused_since_ms = None;
        self.end_repolls = 0;
        self.end_poll = false;
        self.schedule_after_nothing(now_ms, since_ms);
    }

    /// The next poll as if a poll had just shown the same item again.
    fn reschedule_same_item(&mut self, now_ms: u64) {
        let playback = core::mem::replace(&mut self.playback, Playback::Unknown);
        if let Playback::Item { np, received_ms } = &playback {
            self.schedule_after_item(now_ms, (np, *received_ms), true);
        }
        self.playback = playback;
    }

    fn got_state(&mut self, now_ms: u64, mut np: NowPlaying) {
        self.keep_volume_target(&mut np);
        // An empty state (no item and an unknown type, as Spotify sometimes sends when
        // nothing plays) is "nothing".
        if np.title.is_none() && np.kind == Kind::Unknown {
            self.nothing_playing(now_ms);
            return;
        }
        self.good_answer(now_ms);
        let (same_item, was_playing) = match &self.playback {
            Playback::Item { np: old, .. } => (
                old.title == np.title && old.duration_ms == np.duration_ms && old.album == np.album,
                Some(old.is_playing),
            ),
            _ => (false, None),
        };
        // A change someone made (a skip or pause elsewhere, a start after a stop) makes
        // the budgeted schedule more alert for a while; a track ending by itself does not.
        let started = matches!(self.playback, Playback::Nothing { .. });
        let skipped = was_playing.is_some() && !same_item && !self.end_poll;
        if started || skipped || was_playing.is_some_and(|p| p != np.is_playing) {
            self.last_activity_ms = now_ms;
        }
        if np.is_playing {
            self.paused_since_ms = None;
        } else if self.paused_since_ms.is_none() || !same_item {
            self.paused_since_ms = Some(now_ms);
        }
        self.schedule_after_item(now_ms, (&np, now_ms), same_item);
        self.playback = Playback::Item {
            np,
            received_ms: now_ms,
        };
    }
}

/// Whether `hay` contains `needle`, ASCII letters compared without case.
fn contains_ignore_case(hay: &str, needle: &str) -> bool {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    n.is_empty() || h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
}
