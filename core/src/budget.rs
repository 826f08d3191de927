//! The daily request budget and the quota hold: what survives a restart.
//!
//! Spotify counts a development-mode app's quota per developer account; a used-up quota
//! answers 429 `QUOTA_EXCEEDED` for hours and locks the owner out. The budget is a hard cap
//! over a rolling 24 hours on every request to Spotify's accounts and API hosts, kept as
//! hourly counts: the current hour and the 24 before it, so the window counted is always
//! at least 24 hours long (a conservative cap, never a generous one).
//!
//! [`QuotaState`] is plain data for a shell to persist (`quota.json` on the desktop, the
//! settings record on a board) and to hand back to [`Session::new`](crate::session::Session)
//! at the next start: a new login does not reset an account's quota, and asking during a
//! hold lengthens the ban.

/// Hourly buckets kept: the current hour and the 24 before it.
pub const BUDGET_HOURS: usize = 25;
/// The smallest budget that may be configured (and the floor after quota hits).
pub const MIN_BUDGET: u32 = 100;
/// The largest budget that may be configured.
pub const MAX_BUDGET: u32 = 100_000;
/// The default budget: below the lowest lock-out reported (about 800 requests a day).
pub const DEFAULT_BUDGET: u32 = 700;
/// Share of the budget kept for presses on the display and their confirmation polls, in
/// percent.
pub const RESERVE_PERCENT: u32 = 10;

/// The longest hold kept, whatever a `Retry-After` or a stored state says: a safety net
/// against a corrupt or hand-edited state (Spotify's longest seen: 48 925 s).
pub const MAX_HOLD_S: u64 = 7 * 86_400;

const HOUR_S: u64 = 3600;
const DAY_S: u64 = 86_400;

/// The persisted state: hourly counts, the quota hold and the effective budget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaState {
    /// The Unix hour (Unix seconds / 3600) that `counts[0]` counts.
    pub hour: u64,
    /// Requests sent per hour, newest first: `counts[i]` counts hour `hour - i`.
    pub counts: [u16; BUDGET_HOURS],
    /// A quota answer's hold: nothing is sent before this Unix second (0: none).
    pub hold_until_s: u64,
    /// Quota answers in a row (6, 12, then 24 hours of hold without `Retry-After`).
    pub hits_in_row: u8,
    /// The effective budget after quota hits (0: the configured one).
    pub effective: u32,
    /// The Unix second of the last quota hit or of the effective budget's last climb.
    pub since_s: u64,
}

impl Default for QuotaState {
    fn default() -> Self {
        QuotaState {
            hour: 0,
            counts: [0; BUDGET_HOURS],
            hold_until_s: 0,
            hits_in_row: 0,
            effective: 0,
            since_s: 0,
        }
    }
}

impl QuotaState {
    /// Moves the newest bucket to `hour`, dropping the buckets that leave the window. A
    /// clock that went back keeps the counts where they are (never forgets a request).
    pub fn roll(&mut self, hour: u64) {
        if hour < self.hour {
            // A clock that went back (or a stored hour from the future): the counts are
            // re-anchored at this hour, which only makes them last longer.
            self.hour = hour;
            return;
        }
        if hour == self.hour {
            return;
        }
        let shift = hour - self.hour;
        if shift >= BUDGET_HOURS as u64 {
            self.counts = [0; BUDGET_HOURS];
        } else {
            let shift = shift as usize;
            self.counts.copy_within(..BUDGET_HOURS - shift, shift);
            if let Some(head) = self.counts.get_mut(..shift) {
                head.fill(0);
            }
        }
        self.hour = hour;
    }

    /// Requests counted in the window (after [`QuotaState::roll`]).
    pub fn used(&self) -> u32 {
        self.counts.iter().map(|c| u32::from(*c)).sum()
    }

    /// Counts one request in the newest bucket.
    pub fn record(&mut self) {
        if let Some(c) = self.counts.first_mut() {
            *c = c.saturating_add(1);
        }
    }

    /// The Unix second at which the oldest non-empty bucket leaves the window (when a
    /// full budget has room again); `None` when nothing is counted.
    pub fn next_release_s(&self) -> Option<u64> {
        let oldest = self.counts.iter().rposition(|c| *c > 0)? as u64;
        // Bucket i covers hour (hour - i); it leaves when the newest hour is hour - i + 25.
        Some(
            (self.hour - oldest.min(self.hour))
                .saturating_add(BUDGET_HOURS as u64)
                .saturating_mul(HOUR_S),
        )
    }
}

/// The budget as configured and as it stands after quota hits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Budget {
    /// The configured daily budget; 0: no budget.
    configured: u32,
    state: QuotaState,
}

impl Budget {
    /// A budget of `configured` requests a day (0: none), from a persisted state.
    pub fn new(configured: u32, state: QuotaState) -> Budget {
        let mut b = Budget { configured, state };
        if b.state.effective == 0 || b.state.effective > configured {
            b.state.effective = configured;
        }
        b
    }

    /// Whether a budget is set.
    pub fn is_set(&self) -> bool {
        self.configured > 0
    }

    /// The configured budget (0: none).
    pub fn configured(&self) -> u32 {
        self.configured
    }

    /// The state to persist.
    pub fn state(&self) -> &QuotaState {
        &self.state
    }

    /// Brings the window and the effective budget to Unix second `unix_s`: buckets that
    /// left the window are dropped, and each full quiet day since the last hit (or climb)
    /// gives back 5 % of the configured budget.
    pub fn advance(&mut self, unix_s: u64) -> bool {
        self.state.roll(unix_s / HOUR_S);
        let mut changed = false;
        if self.state.since_s > unix_s {
            self.state.since_s = unix_s;
            changed = true;
        }
        if self.configured > 0 && self.state.effective < self.configured {
            let days = unix_s.saturating_sub(self.state.since_s) / DAY_S;
            if days > 0 {
                let step = (self.configured / 20).max(1);
                let add = u32::try_from(days).unwrap_or(u32::MAX).saturating_mul(step);
                self.state.effective = self
                    .state
                    .effective
                    .saturating_add(add)
                    .min(self.configured);
                self.state.since_s += days * DAY_S;
                changed = true;
            }
        }
        if self.state.hold_until_s != 0 && unix_s >= self.state.hold_until_s {
            self.state.hold_until_s = 0;
            changed = true;
        }
        if self.state.hold_until_s > unix_s.saturating_add(MAX_HOLD_S) {
            self.state.hold_until_s = unix_s.saturating_add(MAX_HOLD_S);
            changed = true;
        }
        changed
    }

    /// The effective budget (the configured one, less after quota hits); 0 when none.
    pub fn limit(&self) -> u32 {
        if self.configured == 0 {
            0
        } else {
            self.state.effective
        }
    }

    /// What the display may spend on its own polls: the limit less the reserve.
    pub fn own_limit(&self) -> u32 {
        let l = self.limit();
        l - l * RESERVE_PERCENT / 100
    }

    /// Requests in the window.
    pub fn used(&self) -> u32 {
        self.state.used()
    }

    /// What is left of the limit (0 when there is no budget).
    pub fn left(&self) -> u32 {
        self.limit().saturating_sub(self.used())
    }

    /// Whether one more request fits: within the whole limit for a press (the reserve),
    /// within [`Budget::own_limit`] otherwise. Always when there is no budget.
    pub fn allows(&self, reserve: bool) -> bool {
        if self.configured == 0 {
            return true;
        }
        let limit = if reserve {
            self.limit()
        } else {
            self.own_limit()
        };
        self.used() < limit
    }

    /// Counts a request sent (with or without a budget: the counts are kept either way).
    pub fn record(&mut self) {
        self.state.record();
    }

    /// The hold in force, as a Unix second (0: none).
    pub fn hold_until_s(&self) -> u64 {
        self.state.hold_until_s
    }

    /// A quota answer at `unix_s`. `retry_after_s` is Spotify's wait, if it gave one;
    /// without it the hold is 6 hours, then 12, then 24 for answers in a row. The
    /// effective budget drops to 75 % (never below [`MIN_BUDGET`]). Returns the hold's end.
    pub fn quota_hit(&mut self, unix_s: u64, retry_after_s: Option<u64>) -> u64 {
        let hold = match retry_after_s {
            Some(s) => s,
            None => match self.state.hits_in_row {
                0 => 6 * HOUR_S,
                1 => 12 * HOUR_S,
                _ => 24 * HOUR_S,
            },
        };
        self.state.hits_in_row = self.state.hits_in_row.saturating_add(1);
        self.state.hold_until_s = unix_s.saturating_add(hold.clamp(1, MAX_HOLD_S));
        if self.configured > 0 {
            self.state.effective = (self.state.effective / 4 * 3)
                .max(MIN_BUDGET)
                .min(self.configured);
        }
        self.state.since_s = unix_s;
        self.state.hold_until_s
    }

    /// An answer that was not a quota answer: the next quota hit starts the series again.
    pub fn answered(&mut self) -> bool {
        let changed = self.state.hits_in_row != 0;
        self.state.hits_in_row = 0;
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_rolls_and_counts() {
        let mut s = QuotaState::default();
        s.roll(1000);
        s.record();
        s.record();
        s.roll(1001);
        s.record();
        assert_eq!(s.used(), 3);
        assert_eq!(s.counts[..2], [1, 2]);
        s.roll(1024);
        assert_eq!(s.used(), 3, "hour 1000 is still inside a 24 h window");
        assert_eq!(s.next_release_s(), Some(1025 * 3600));
        s.roll(1025);
        assert_eq!(s.used(), 1);
        s.roll(1000);
        assert_eq!(s.used(), 1, "a clock going back forgets nothing");
        s.roll(5000);
        assert_eq!(s.used(), 0);
        assert_eq!(s.next_release_s(), None);
    }

    #[test]
    fn reserve_and_limit() {
        let mut b = Budget::new(100, QuotaState::default());
        b.advance(3600 * 10);
        for _ in 0..90 {
            assert!(b.allows(false));
            b.record();
        }
        assert!(!b.allows(false), "own polls stop at 90 %");
        assert!(b.allows(true), "presses may use the reserve");
        for _ in 0..10 {
            b.record();
        }
        assert!(!b.allows(true));
        assert_eq!(b.left(), 0);
        assert!(Budget::new(0, QuotaState::default()).allows(false));
    }

    #[test]
    fn quota_hits_hold_and_lower_the_budget() {
        let mut b = Budget::new(700, QuotaState::default());
        let t = 1_000_000;
        assert_eq!(b.quota_hit(t, None), t + 6 * 3600);
        assert_eq!(b.limit(), 525);
        assert_eq!(b.quota_hit(t, None), t + 12 * 3600);
        assert_eq!(b.quota_hit(t, None), t + 24 * 3600);
        assert_eq!(b.quota_hit(t, Some(48_925)), t + 48_925);
        assert_eq!(b.quota_hit(t, Some(u64::MAX)), t + MAX_HOLD_S);
        // A stored hold beyond reason is cut to the longest kept.
        let mut far = Budget::new(
            700,
            QuotaState {
                hold_until_s: u64::MAX,
                ..QuotaState::default()
            },
        );
        assert!(far.advance(t));
        assert_eq!(far.hold_until_s(), t + MAX_HOLD_S);
        b.answered();
        assert_eq!(
            b.quota_hit(t, None),
            t + 6 * 3600,
            "the series starts again"
        );
        let mut low = Budget::new(120, QuotaState::default());
        low.quota_hit(t, None);
        assert_eq!(low.limit(), MIN_BUDGET);
        // 5 % of the configured budget back per quiet day.
        let mut b = Budget::new(1000, QuotaState::default());
        b.quota_hit(t, Some(60));
        assert_eq!(b.limit(), 750);
        b.advance(t + 86_399);
        assert_eq!(b.limit(), 750);
        assert_eq!(b.hold_until_s(), 0, "the hold ended");
        b.advance(t + 86_400);
        assert_eq!(b.limit(), 800);
        b.advance(t + 10 * 86_400);
        assert_eq!(b.limit(), 1000);
        assert_eq!(
            Budget::new(500, b.state().clone()).limit(),
            500,
            "a lower configured budget caps the stored one"
        );
    }
}
