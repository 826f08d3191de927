//! The schedule: when the next request is due, the rolling ceiling, backoff with jitter,
//! the budgeted pacing and the night cap.

use super::machine::Session;
use super::vocab::{
    CEILING_REQUESTS, CEILING_WINDOW_MS, ControlCommand, NIGHT_POLL_MS, PREMIUM_PROBE_MS, Playback,
    RequestKind,
};
use crate::model::NowPlaying;
use crate::position::position_ms;

/// A small deterministic PRNG (xorshift64*) for jitter: no entropy source in no_std, and
/// determinism keeps the simulated-clock tests exact. Seed it per device.
#[derive(Debug, Clone)]
pub(super) struct Jitter(pub(super) u64);

impl Jitter {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A value in `0..=max`.
    pub(super) fn upto(&mut self, max: u64) -> u64 {
        match max.checked_add(1) {
            Some(m) => self.next() % m,
            None => self.next(),
        }
    }
}

/// Quick re-polls allowed around a predicted track end while Spotify still shows the old one.
const END_REPOLLS: u8 = 3;

impl Session {
    /// The request due now, if any (ignoring holds and the ceiling), and whether it may
    /// use the budget's reserve (a press, its confirmation, and the refresh they need).
    pub(super) fn next_kind(&self, now_ms: u64) -> Option<(RequestKind, bool)> {
        let due = if let Some(kind) = self.retry_after_refresh {
            Some((
                kind,
                matches!(kind, RequestKind::Control(_)) || self.confirm_poll,
            ))
        } else if let Some(c) = self.pending_control {
            Some((RequestKind::Control(c), true))
        } else if let Some(v) = self.volume_due(now_ms) {
            Some((RequestKind::Control(ControlCommand::Volume(v)), true))
        } else if now_ms >= self.next_poll_ms {
            // The queue stands in for the poll after a change (it confirms the item).
            let kind = if self.queue_due(now_ms) && !self.confirm_poll {
                RequestKind::Queue
            } else {
                RequestKind::Poll(self.endpoint)
            };
            Some((kind, self.confirm_poll))
        } else if self.library_due(now_ms) {
            Some((RequestKind::Library, false))
        } else {
            None
        };
        // Without a budget the token is refreshed ahead of time, as always; with one,
        // only when a request needs it (an idle hour costs no refresh).
        let ahead = !self.budget.is_set() && !self.premium_blocked;
        if self.needs_refresh(now_ms) && (due.is_some() || ahead) {
            return Some((RequestKind::Refresh, due.is_some_and(|(_, r)| r)));
        }
        due
    }

    fn needs_refresh(&self, now_ms: u64) -> bool {
        self.access.is_none()
            || now_ms.saturating_add(self.timing.refresh_early_ms) >= self.access_expires_ms
    }

    /// When the next request becomes due (a poll, or the proactive refresh).
    pub(super) fn next_due_ms(&self) -> u64 {
        let refresh_at = if self.budget.is_set() || self.premium_blocked {
            u64::MAX
        } else {
            self.access_expires_ms
                .saturating_sub(self.timing.refresh_early_ms)
        };
        self.next_poll_ms
            .min(refresh_at)
            .min(self.volume_due_at())
            .max(self.hold_until_ms)
    }

    /// The earliest time the rolling ceiling allows another request.
    pub(super) fn ceiling_free_at(&self, _now_ms: u64) -> u64 {
        if self.sent_count < CEILING_REQUESTS as u64 {
            return 0;
        }
        // The oldest of the last CEILING_REQUESTS sends must have left the window.
        let slot = (self.sent_count % CEILING_REQUESTS as u64) as usize;
        let oldest = self.sent.get(slot).copied().unwrap_or(0);
        oldest.saturating_add(CEILING_WINDOW_MS)
    }

    pub(super) fn record_send(&mut self, now_ms: u64) {
        let slot = (self.sent_count % CEILING_REQUESTS as u64) as usize;
        if let Some(s) = self.sent.get_mut(slot) {
            *s = now_ms;
        }
        self.sent_count += 1;
    }

    /// Whether night hours are in force at `now_ms` (a wake-up aside).
    pub(super) fn is_night(&self, now_ms: u64) -> bool {
        match (self.night, self.local_time(now_ms)) {
            (Some(n), Some(t)) => n.contains(t.minute_of_day()),
            _ => false,
        }
    }

    pub(super) fn failed(&mut self, now_ms: u64) {
        let mut delay = self.backoff_delay();
        if self.premium_blocked {
            // A probe that failed waits for the next probe's time.
            delay = delay.max(PREMIUM_PROBE_MS);
        } else if self.budget.is_set() {
            // Every attempt counts against the budget, failed or not: retry no faster
            // than the schedule would poll (an outage must not spend the day's share),
            // and at night no more than the night allows.
            let base = match self.playback {
                Playback::Item { .. } => pace::PLAY_STEADY_MS,
                _ => pace::IDLE_MAX_MS,
            };
            delay = self.night_cap(now_ms, delay.max(self.paced(base, 0)));
        }
        self.hold_until_ms = self.hold_until_ms.max(now_ms.saturating_add(delay));
        self.note_failure(now_ms);
    }

    pub(super) fn note_failure(&mut self, now_ms: u64) {
        self.failures = self.failures.saturating_add(1);
        self.first_failure_ms.get_or_insert(now_ms);
    }

    /// Exponential backoff with "equal jitter": half the delay fixed, half random; the
    /// whole stays within `backoff_max_ms`.
    pub(super) fn backoff_delay(&mut self) -> u64 {
        let exp = self.failures.min(20);
        let full = self
            .timing
            .backoff_ms
            .saturating_mul(1u64 << exp)
            .min(self.timing.backoff_max_ms);
        full / 2 + self.jitter.upto(full / 2)
    }

    /// `base` (the interval for a budget of [`pace::REFERENCE`] a day) scaled to the
    /// effective budget, at least `min_ms`, and stretched as the day's spend nears the
    /// share for the display's own polls, so that the reserve is never touched.
    fn paced(&self, base: u64, min_ms: u64) -> u64 {
        let limit = u64::from(self.budget.limit().max(1));
        let mut iv = base.saturating_mul(pace::REFERENCE) / limit;
        iv = iv.max(min_ms);
        let own = u64::from(self.budget.own_limit());
        let used = u64::from(self.budget.used());
        let knee = own * pace::THIN_FROM_PERCENT / 100;
        if used > knee {
            // Stretched by the square of (room at the knee / room left): gently at first,
            // hard near the end, so the track ends keep their polls.
            let room = own.saturating_sub(used).max(1);
            let span = own - knee;
            iv = iv.saturating_mul(span * span) / (room * room);
        }
        iv.min(pace::LONGEST_MS)
    }

    /// Night hours (unless a press woke the screen): at most one poll per
    /// [`NIGHT_POLL_MS`], but never past the night's end.
    fn night_cap(&self, now_ms: u64, next: u64) -> u64 {
        if now_ms < self.woken_until_ms {
            return next;
        }
        match (self.night, self.local_time(now_ms)) {
            (Some(n), Some(t)) if n.contains(t.minute_of_day()) => {
                let to_morning = u64::from(n.secs_to_boundary(t.second_of_day)) * 1000;
                next.max(NIGHT_POLL_MS).min(to_morning.max(1_000))
            }
            _ => next,
        }
    }

    /// The next poll after an answer that nothing plays, which began at `since_ms`.
    pub(super) fn schedule_after_nothing(&mut self, now_ms: u64, since_ms: u64) {
        let next = if self.budget.is_set() {
            // Alert for a while after a stop (music often starts again), then sparser.
            let quiet = now_ms.saturating_sub(since_ms);
            let base = if quiet < pace::STOP_ALERT_FOR_MS {
                pace::IDLE_ALERT_MS
            } else {
                (quiet / 4).clamp(pace::IDLE_ALERT_MS, pace::IDLE_MAX_MS)
            };
            self.paced(base, self.timing.poll_idle_max_ms)
        } else {
            self.idle_interval_ms
        };
        self.next_poll_ms = now_ms.saturating_add(self.night_cap(now_ms, next));
    }

    /// The next poll after an answer with `np` (`same_item`: the item shown before), and
    /// whether it is the one for the predicted end of the track.
    /// (`received_ms`: when `np` was received.)
    pub(super) fn schedule_after_item(
        &mut self,
        now_ms: u64,
        (np, received_ms): (&NowPlaying, u64),
        same_item: bool,
    ) {
        let t = self.timing;
        let budgeted = self.budget.is_set();
        let mut next = if budgeted {
            let calm = now_ms.saturating_sub(self.last_activity_ms);
            let paused_for = self.paused_since_ms.map_or(0, |p| now_ms.saturating_sub(p));
            let base = if calm < pace::ALERT_FOR_MS {
                pace::PLAY_ALERT_MS
            } else if np.is_playing && calm < pace::LONG_AFTER_MS {
                pace::PLAY_STEADY_MS
            } else if np.is_playing {
                pace::PLAY_LONG_MS
            } else if paused_for < pace::PAUSED_STEADY_FOR_MS {
                pace::PLAY_STEADY_MS
            } else {
                (paused_for / 4).clamp(pace::PLAY_STEADY_MS, pace::IDLE_MAX_MS)
            };
            let min = if np.is_playing {
                t.poll_playing_ms
            } else {
                t.poll_paused_ms
            };
            self.paced(base, min)
        } else if np.is_playing {
            t.poll_playing_ms
        } else {
            t.poll_paused_ms
        };
        let night = now_ms >= self.woken_until_ms && self.is_night(now_ms);
        // Near the end of the day's own share, even track ends are no longer watched.
        let watch_end = !night
            && (!budgeted
                || u64::from(self.budget.used()) * 100
                    < u64::from(self.budget.own_limit()) * pace::END_POLLS_UNTIL_PERCENT);
        if np.is_playing && watch_end {
            if let Some(d) = np.duration_ms.filter(|d| *d > 0) {
                let remaining = d.saturating_sub(position_ms(np, received_ms, now_ms));
                let at_end = same_item && remaining <= t.end_slack_ms.saturating_add(1_000);
                if self.end_poll && at_end {
                    // We polled for the end but Spotify still shows the old item: look
                    // again shortly, a few times.
                    if self.end_repolls < END_REPOLLS {
                        self.end_repolls += 1;
                        next = next.min(2 * t.end_slack_ms + 200);
                    }
                } else if !at_end {
                    self.end_repolls = 0;
                }
                let to_end = remaining.saturating_add(t.end_slack_ms);
                // Still at its end after every quick look (a stalled device): stop watching
                // this item's end, and poll on the ordinary interval until it changes.
                let stalled = at_end && self.end_repolls >= END_REPOLLS;
                // With a budget, a poll just before the end is folded into the end's.
                let merge = if budgeted {
                    next.max(self.paced(pace::MERGE_MS, 0))
                } else {
                    next
                };
                self.end_poll = !stalled && to_end <= merge;
                if self.end_poll {
                    next = to_end;
                }
            } else {
                self.end_poll = false;
            }
        } else {
            self.end_poll = false;
            self.end_repolls = 0;
        }
        self.next_poll_ms = now_ms.saturating_add(self.night_cap(now_ms, next));
    }
}

/// The budgeted schedule's intervals, for a budget of [`REFERENCE`](pace::REFERENCE)
/// requests a day; a smaller budget stretches them in proportion (500 a day: twice as long).
mod pace {
    /// The budget the intervals below are written for.
    pub const REFERENCE: u64 = 1_000;
    /// Right after a change someone made (a press, a skip or pause elsewhere, a start).
    pub const PLAY_ALERT_MS: u64 = 20_000;
    /// How long "right after" lasts.
    pub const ALERT_FOR_MS: u64 = 120_000;
    /// Ordinary listening (and the first quarter hour of a pause).
    pub const PLAY_STEADY_MS: u64 = 29_000;
    /// Long uninterrupted listening: after this long without a change ...
    pub const LONG_AFTER_MS: u64 = 1_800_000;
    /// ... polls thin to this.
    pub const PLAY_LONG_MS: u64 = 32_000;
    /// A pause this long thins toward [`IDLE_MAX_MS`].
    pub const PAUSED_STEADY_FOR_MS: u64 = 900_000;
    /// An interval poll due this close to the predicted end is folded into the end poll.
    pub const MERGE_MS: u64 = 38_000;
    /// After a stop, nothing playing: this often ...
    pub const IDLE_ALERT_MS: u64 = 60_000;
    /// ... for this long, then growing to ...
    pub const STOP_ALERT_FOR_MS: u64 = 300_000;
    /// ... this at the most.
    pub const IDLE_MAX_MS: u64 = 210_000;
    /// Polls thin once this share (percent) of the own share of the budget is spent ...
    pub const THIN_FROM_PERCENT: u64 = 85;
    /// ... and track ends are watched until this share.
    pub const END_POLLS_UNTIL_PERCENT: u64 = 98;
    /// The longest interval the pacing makes.
    pub const LONGEST_MS: u64 = 3_600_000;
}
