//! The playback position at a given time, and its text.
//!
//! The body's `timestamp` is when the playback state last *changed*, on the server's clock,
//! so it is no use for interpolation; the position advances from the local monotonic time
//! at which the body was received.

use core::fmt::Write;

use crate::model::NowPlaying;

/// Text of a position: `"1:23 / 3:45"` fits easily; the capacity covers `u64::MAX` ms.
pub type TimeText = heapless::String<48>;

/// The position in ms of `np` at monotonic time `now_ms`, given the body arrived at
/// `received_ms`. While playing it advances with the clock and is clamped to the duration
/// (when one is known and non-zero); while paused it stays; a null progress counts as 0.
/// A clock that appears to run backwards counts as no time elapsed. Never overflows.
pub fn position_ms(np: &NowPlaying, received_ms: u64, now_ms: u64) -> u64 {
    let base = np.progress_ms.unwrap_or(0);
    let pos = if np.is_playing {
        base.saturating_add(now_ms.saturating_sub(received_ms))
    } else {
        base
    };
    match np.duration_ms {
        Some(d) if d > 0 => pos.min(d),
        _ => pos,
    }
}

/// Formats `ms` as `m:ss`, or as `h:mm:ss` when `long` is set (seconds are floored).
fn write_time(out: &mut TimeText, ms: u64, long: bool) {
    let secs = ms / 1000;
    let (h, m, s) = (secs / 3600, (secs / 60) % 60, secs % 60);
    // Cannot fail: 20 digits + ":mm:ss" is far below the capacity.
    let _ = if long {
        write!(out, "{h}:{m:02}:{s:02}")
    } else {
        write!(out, "{}:{s:02}", secs / 60)
    };
}

/// Formats one time alone: `m:ss` under an hour, `h:mm:ss` from an hour on.
pub fn format_time(ms: u64) -> TimeText {
    let mut out = TimeText::new();
    write_time(&mut out, ms, ms >= 3_600_000);
    out
}

/// Formats `ms` as `h:mm:ss` whatever its length (`"0:05:00"`): a countdown that
/// reads the same way from hours down to seconds.
pub fn format_hms(ms: u64) -> TimeText {
    let mut out = TimeText::new();
    write_time(&mut out, ms, true);
    out
}

/// The elapsed and total texts of a position, both in the duration's format (`h:mm:ss`
/// when the duration or the position is an hour or more, else `m:ss`): `("0:46:00",
/// "2:00:00")`. With no duration (or a zero one) the elapsed time in its own format and
/// an empty total.
pub fn format_times(position_ms: u64, duration_ms: Option<u64>) -> (TimeText, TimeText) {
    match duration_ms {
        Some(d) if d > 0 => {
            let long = d >= 3_600_000 || position_ms >= 3_600_000;
            let (mut elapsed, mut total) = (TimeText::new(), TimeText::new());
            write_time(&mut elapsed, position_ms, long);
            write_time(&mut total, d, long);
            (elapsed, total)
        }
        _ => (format_time(position_ms), TimeText::new()),
    }
}

/// Formats `"elapsed / total"` with both sides in the duration's format (`h:mm:ss` when
/// the duration is an hour or more, else `m:ss`): `"0:46:00 / 2:00:00"`, `"1:23 / 3:45"`.
/// With no duration (or a zero one, as for ads) the elapsed time alone, in its own format.
pub fn format_position(position_ms: u64, duration_ms: Option<u64>) -> TimeText {
    let (mut out, total) = format_times(position_ms, duration_ms);
    if !total.is_empty() {
        let _ = out.push_str(" / ");
        let _ = out.push_str(&total);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn np(playing: bool, progress: Option<u64>, duration: Option<u64>) -> NowPlaying {
        NowPlaying {
            is_playing: playing,
            progress_ms: progress,
            duration_ms: duration,
            ..Default::default()
        }
    }

    #[test]
    fn position_table() {
        // (playing, progress, duration, received, now) -> position
        let table = [
            (true, Some(46_170), Some(151_933), 1_000, 1_000, 46_170),
            (true, Some(46_170), Some(151_933), 1_000, 11_000, 56_170),
            (true, Some(150_000), Some(151_933), 0, 10_000, 151_933), // clamped
            (false, Some(46_170), Some(151_933), 0, 99_000, 46_170),  // paused stays
            (true, None, Some(10_000), 0, 3_000, 3_000),              // null counts as 0
            (true, Some(5_000), None, 0, 3_000, 8_000),               // ad: no clamp
            (true, Some(5_000), Some(0), 0, 3_000, 8_000),            // zero duration
            (true, Some(5_000), Some(60_000), 10_000, 9_000, 5_000),  // clock went back
            (true, Some(u64::MAX), None, 0, u64::MAX, u64::MAX),      // saturates
        ];
        for (playing, progress, duration, received, now, want) in table {
            let got = position_ms(&np(playing, progress, duration), received, now);
            assert_eq!(
                got, want,
                "{playing} {progress:?} {duration:?} {received} {now}"
            );
        }
    }

    #[test]
    fn format_table() {
        let table: &[(u64, Option<u64>, &str)] = &[
            (0, Some(151_933), "0:00 / 2:31"),
            (46_170, Some(151_933), "0:46 / 2:31"),
            (59_999, Some(600_000), "0:59 / 10:00"),
            (2_760_000, Some(7_200_000), "0:46:00 / 2:00:00"),
            (0, Some(3_600_000), "0:00:00 / 1:00:00"),
            (3_599_999, Some(3_599_999), "59:59 / 59:59"),
            (12_000, None, "0:12"),
            (12_000, Some(0), "0:12"),
            (3_723_000, None, "1:02:03"),
            (u64::MAX, None, "5124095576030:25:51"),
        ];
        for &(pos, dur, want) in table {
            assert_eq!(format_position(pos, dur).as_str(), want, "{pos} {dur:?}");
        }
    }

    #[test]
    fn separate_texts_and_countdowns() {
        for (pos, dur, want) in [
            (46_170, Some(151_933), ("0:46", "2:31")),
            (2_760_000, Some(7_200_000), ("0:46:00", "2:00:00")),
            (3_700_000, Some(3_000_000), ("1:01:40", "0:50:00")),
            (12_000, Some(0), ("0:12", "")),
            (3_723_000, None, ("1:02:03", "")),
        ] {
            let (a, b) = format_times(pos, dur);
            assert_eq!((a.as_str(), b.as_str()), want, "{pos} {dur:?}");
        }
        assert_eq!(format_hms(300_000).as_str(), "0:05:00");
        assert_eq!(format_hms(48_926_000).as_str(), "13:35:26");
    }

    proptest! {
        #[test]
        fn never_overflows_and_stays_in_range(
            playing: bool,
            progress in proptest::option::of(any::<u64>()),
            duration in proptest::option::of(any::<u64>()),
            received: u64,
            now: u64,
        ) {
            let state = np(playing, progress, duration);
            let pos = position_ms(&state, received, now);
            if let Some(d) = duration.filter(|d| *d > 0) {
                prop_assert!(pos <= d);
            }
            if !playing {
                prop_assert_eq!(pos, progress.unwrap_or(0).min(duration.filter(|d| *d > 0).unwrap_or(u64::MAX)));
            }
            let text = format_position(pos, duration);
            prop_assert!(!text.is_empty());
            // Both sides share one format.
            if let Some((a, b)) = text.split_once(" / ") {
                prop_assert_eq!(a.matches(':').count(), b.matches(':').count());
            }
        }
    }
}
