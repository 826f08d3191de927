//! The board's settings in flash, and what the board makes of them.
//!
//! The record (format version 2: tagged fields; version 1 still read) and its two
//! power-cut-safe slots are `tonearm-settings`, re-exported here: the same code
//! `tonearm provision` writes the image with. This adds the board's reading of the
//! fields, with `tonearm-core`'s types: the time zone ([`time_zone`], [`wall_clock`]),
//! night hours ([`night`]), the daily budget ([`daily_requests`]) and the budget's state
//! ([`quota_state`], [`quota_record`]).

use tonearm_core::budget::{BUDGET_HOURS, DEFAULT_BUDGET, MAX_BUDGET, MIN_BUDGET, QuotaState};
use tonearm_core::wall::{NightError, NightHours, PosixTz, TzError, WallClock};

pub use tonearm_settings::record::*;
pub use tonearm_settings::store::*;

// The record's quota field has the session's hourly counts, one for one.
const _: () = assert!(BUDGET_HOURS == QUOTA_HOURS);

/// How often the board writes the budget's state at most (flash wear): a power cut loses
/// up to this much of its counts (quota holds are written at once).
pub const QUOTA_SAVE_GAP_MS: u64 = 3_600_000;

/// The time zone in the settings: `Ok(None)` without one (the board keeps UTC), an error
/// for a rule that is not a POSIX `TZ` rule (`tonearm provision` checks it; a record
/// written otherwise may have anything).
pub fn time_zone(settings: &Settings<'_>) -> Result<Option<PosixTz>, TzError> {
    settings.tz.map(PosixTz::parse).transpose()
}

/// The night hours in the settings, if any (an error for text that is not
/// `HH:MM-HH:MM`).
pub fn night(settings: &Settings<'_>) -> Result<Option<NightHours>, NightError> {
    settings.night.map(NightHours::parse).transpose()
}

/// The daily request budget: the settings' (0: none), brought into
/// [`MIN_BUDGET`]..=[`MAX_BUDGET`] as the desktop's config requires, or
/// [`DEFAULT_BUDGET`] when the record has none (a version-1 record).
pub fn daily_requests(settings: &Settings<'_>) -> u32 {
    match settings.daily_requests {
        None => DEFAULT_BUDGET,
        Some(0) => 0,
        Some(n) => n.clamp(MIN_BUDGET, MAX_BUDGET),
    }
}

/// The wall clock at Unix time `unix_ms`: the local offset from the rule (UTC without
/// one), for `App::set_wall_clock`.
pub fn wall_clock(unix_ms: u64, tz: Option<&PosixTz>) -> WallClock {
    WallClock {
        unix_ms,
        utc_offset_s: tz.map_or(0, |tz| tz.offset_at(unix_ms / 1000)),
    }
}

/// The session's budget state from the record's.
pub fn quota_state(q: &Quota) -> QuotaState {
    QuotaState {
        hour: q.hour,
        counts: q.counts,
        hold_until_s: q.hold_until_s,
        hits_in_row: q.hits_in_row,
        effective: q.effective,
        since_s: q.since_s,
    }
}

/// The record's budget state from the session's.
pub fn quota_record(s: &QuotaState) -> Quota {
    Quota {
        hour: s.hour,
        counts: s.counts,
        hold_until_s: s.hold_until_s,
        hits_in_row: s.hits_in_row,
        effective: s.effective,
        since_s: s.since_s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_zone_night_and_budget_from_the_record() {
        let cet = Settings {
            tz: Some("CET-1CEST,M3.5.0,M10.5.0/3"),
            night: Some("23:00-07:00"),
            daily_requests: Some(2500),
            ..Settings::default()
        };
        let tz = time_zone(&cet).unwrap().unwrap();
        // 2026-07-01 12:00 UTC: summer time, two hours east; 2026-01-15: one hour.
        assert_eq!(
            wall_clock(1_782_907_200_000, Some(&tz)),
            WallClock {
                unix_ms: 1_782_907_200_000,
                utc_offset_s: 7200
            }
        );
        assert_eq!(wall_clock(1_768_478_400_500, Some(&tz)).utc_offset_s, 3600);
        assert_eq!(wall_clock(1_782_907_200_000, None).utc_offset_s, 0);
        assert_eq!(
            night(&cet),
            Ok(Some(NightHours {
                start_min: 23 * 60,
                end_min: 7 * 60
            }))
        );
        assert_eq!(daily_requests(&cet), 2500);

        // A version-1 record: UTC, no night, the default budget.
        let bare = Settings::default();
        assert_eq!(time_zone(&bare), Ok(None));
        assert_eq!(night(&bare), Ok(None));
        assert_eq!(daily_requests(&bare), DEFAULT_BUDGET);

        // What provision refuses, should a record hold it anyway.
        let odd = Settings {
            tz: Some("Europe/Paris"),
            night: Some("7-23"),
            daily_requests: Some(5),
            ..Settings::default()
        };
        assert_eq!(time_zone(&odd), Err(TzError));
        assert!(night(&odd).is_err());
        assert_eq!(daily_requests(&odd), MIN_BUDGET);
        let huge = Settings {
            daily_requests: Some(u32::MAX),
            ..Settings::default()
        };
        assert_eq!(daily_requests(&huge), MAX_BUDGET);
        let none = Settings {
            daily_requests: Some(0),
            ..Settings::default()
        };
        assert_eq!(daily_requests(&none), 0);
    }

    #[test]
    fn quota_state_round_trips_through_the_record() {
        let mut state = QuotaState::default();
        state.roll(494_444);
        for _ in 0..37 {
            state.record();
        }
        state.hold_until_s = 1_780_003_600;
        state.hits_in_row = 2;
        state.effective = 350;
        state.since_s = 1_779_990_000;
        let q = quota_record(&state);
        let back = Quota::from_bytes(&q.to_bytes()).unwrap();
        assert_eq!(quota_state(&back), state);
        assert_eq!(quota_state(&Quota::default()), QuotaState::default());
    }

    #[test]
    fn partition_table_agrees_with_the_constants() {
        // The row `provision`'s image and the board's Store both rely on.
        let csv = include_str!("../../boards/esp32c3-st7789/partitions.csv");
        let row = csv
            .lines()
            .find(|l| l.starts_with("tonearm,"))
            .expect("a tonearm row in partitions.csv");
        let cols: Vec<&str> = row.split(',').map(str::trim).collect();
        let hex = |s: &str| u32::from_str_radix(s.trim_start_matches("0x"), 16).unwrap();
        assert_eq!(hex(cols[3]), PARTITION_OFFSET, "{row}");
        assert_eq!(hex(cols[4]), PARTITION_SIZE, "{row}");
        assert_eq!(PARTITION_SIZE, 2 * SLOT_SIZE);
        assert!(SLOT_SIZE as usize >= RECORD_MAX);
        assert_eq!(PARTITION_OFFSET % SLOT_SIZE, 0);
    }
}
