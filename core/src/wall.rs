//! Wall-clock time for the rules that depend on it: local dates and times of day, night
//! hours, and POSIX `TZ` rules for boards that only know UTC.
//!
//! The session keeps running on its monotonic `now_ms`; a shell that knows the time of day
//! tells it with a [`WallClock`] (Unix time and the local UTC offset at that moment). The
//! calendar arithmetic is Howard Hinnant's `days_from_civil` / `civil_from_days`, exact
//! over the whole proleptic Gregorian calendar.
//!
//! [`PosixTz`] is written here rather than taken from a crate: `tz-rs` and `jiff` parse
//! POSIX rules only with `alloc` or `std`, and a board needs nothing more than "what is
//! the UTC offset at this Unix second" for the one rule in its settings.

use core::fmt;

/// Seconds in a day.
pub const DAY_S: u64 = 86_400;

/// What the shell knows of the time of day, at one monotonic moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WallClock {
    /// Unix time in ms at that moment.
    pub unix_ms: u64,
    /// The local offset from UTC at that moment, in seconds east (CET: 3600).
    pub utc_offset_s: i32,
}

/// A date and time of day in the local zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalTime {
    /// Days since 1970-01-01 (local).
    pub days: i64,
    /// Seconds since local midnight, 0 to 86 399.
    pub second_of_day: u32,
}

impl LocalTime {
    /// The local time of a Unix second at a UTC offset.
    pub fn at(unix_s: u64, utc_offset_s: i32) -> LocalTime {
        let local = i64::try_from(unix_s)
            .unwrap_or(i64::MAX)
            .saturating_add(i64::from(utc_offset_s));
        LocalTime {
            days: local.div_euclid(DAY_S as i64),
            second_of_day: u32::try_from(local.rem_euclid(DAY_S as i64)).unwrap_or(0),
        }
    }

    /// Hour, 0 to 23.
    pub fn hour(&self) -> u8 {
        u8::try_from(self.second_of_day / 3600).unwrap_or(0)
    }

    /// Minute of the hour, 0 to 59.
    pub fn minute(&self) -> u8 {
        u8::try_from(self.second_of_day / 60 % 60).unwrap_or(0)
    }

    /// Minutes since local midnight, 0 to 1439.
    pub fn minute_of_day(&self) -> u16 {
        u16::try_from(self.second_of_day / 60).unwrap_or(0)
    }

    /// The local calendar date.
    pub fn date(&self) -> Date {
        Date::from_days(self.days)
    }
}

/// A calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    /// The year.
    pub year: i32,
    /// 1 to 12.
    pub month: u8,
    /// 1 to 31.
    pub day: u8,
}

/// English month abbreviations, January first.
pub const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
/// English weekday abbreviations, Monday first.
pub const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

impl Date {
    /// The date `days` after 1970-01-01.
    pub fn from_days(days: i64) -> Date {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        Date {
            year: i32::try_from(year).unwrap_or(i32::MAX),
            month: u8::try_from(month).unwrap_or(1),
            day: u8::try_from(day).unwrap_or(1),
        }
    }

    /// Days from 1970-01-01 to this date.
    pub fn to_days(self) -> i64 {
        let (m, d) = (i64::from(self.month), i64::from(self.day));
        let y = i64::from(self.year) - i64::from(m <= 2);
        let era = y.div_euclid(400);
        let yoe = y.rem_euclid(400);
        let mp = if m > 2 { m - 3 } else { m + 9 };
        let doy = (153 * mp + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The month's English abbreviation (`Jan`).
    pub fn month_name(self) -> &'static str {
        MONTHS
            .get(usize::from(self.month.saturating_sub(1)))
            .copied()
            .unwrap_or("")
    }
}

/// The weekday of a day count, 0 = Monday ... 6 = Sunday (1970-01-01 was a Thursday).
pub fn weekday(days: i64) -> u8 {
    u8::try_from((days + 3).rem_euclid(7)).unwrap_or(0)
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn month_len(year: i64, month: u8) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Night hours: a local time range, `HH:MM-HH:MM`, that may cross midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NightHours {
    /// First minute of the night (minutes since midnight).
    pub start_min: u16,
    /// First minute after the night.
    pub end_min: u16,
}

/// Why a night range was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NightError {
    /// Not `HH:MM-HH:MM` with hours 00-23 and minutes 00-59 (e.g. `23:00-07:00`).
    Format,
    /// Start and end are the same: the night would be empty or the whole day.
    Empty,
}

impl fmt::Display for NightError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NightError::Format => "expected HH:MM-HH:MM in 24-hour time, e.g. \"23:00-07:00\"",
            NightError::Empty => "start and end are the same",
        })
    }
}

fn hhmm(s: &str) -> Option<u16> {
    let b = s.as_bytes();
    let [h1, h2, b':', m1, m2] = *b else {
        return None;
    };
    if ![h1, h2, m1, m2].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let h = u16::from(h1 - b'0') * 10 + u16::from(h2 - b'0');
    let m = u16::from(m1 - b'0') * 10 + u16::from(m2 - b'0');
    (h < 24 && m < 60).then_some(h * 60 + m)
}

impl NightHours {
    /// Parses `HH:MM-HH:MM` (24-hour; may cross midnight; start and end differ).
    pub fn parse(s: &str) -> Result<NightHours, NightError> {
        let (a, b) = s.trim().split_once('-').ok_or(NightError::Format)?;
        let start_min = hhmm(a).ok_or(NightError::Format)?;
        let end_min = hhmm(b).ok_or(NightError::Format)?;
        if start_min == end_min {
            return Err(NightError::Empty);
        }
        Ok(NightHours { start_min, end_min })
    }

    /// Whether a local minute of the day is in the night.
    pub fn contains(&self, minute_of_day: u16) -> bool {
        if self.start_min < self.end_min {
            (self.start_min..self.end_min).contains(&minute_of_day)
        } else {
            minute_of_day >= self.start_min || minute_of_day < self.end_min
        }
    }

    /// Seconds from `second_of_day` to the next boundary (the night's start or end).
    pub fn secs_to_boundary(&self, second_of_day: u32) -> u32 {
        let now = second_of_day % DAY_S as u32;
        let until = |min: u16| {
            let t = u32::from(min) * 60;
            if t > now {
                t - now
            } else {
                t + DAY_S as u32 - now
            }
        };
        until(self.start_min).min(until(self.end_min))
    }
}

impl fmt::Display for NightHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:02}:{:02}-{:02}:{:02}",
            self.start_min / 60,
            self.start_min % 60,
            self.end_min / 60,
            self.end_min % 60
        )
    }
}

/// A POSIX `TZ` rule (`CET-1CEST,M3.5.0,M10.5.0/3`, `UTC0`, `<+0530>-5:30`): the UTC offset
/// at any moment, daylight saving included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PosixTz {
    /// Standard offset, seconds east of UTC.
    std_offset_s: i32,
    /// Daylight saving: its offset and when it starts and ends (local standard / daylight
    /// time of the transition).
    dst: Option<Dst>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Dst {
    offset_s: i32,
    start: Transition,
    end: Transition,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Transition {
    day: DayRule,
    /// Seconds after local midnight (may be negative or past 24 h, RFC 8536).
    time_s: i32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DayRule {
    /// `Jn`: day 1-365, February 29 never counted.
    Julian1(u16),
    /// `n`: day 0-365, February 29 counted.
    Julian0(u16),
    /// `Mm.w.d`: weekday `d` (0 = Sunday) of week `w` (5 = last) of month `m`.
    Month { month: u8, week: u8, weekday: u8 },
}

/// A `TZ` rule that could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TzError;

impl fmt::Display for TzError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a POSIX TZ rule (e.g. \"CET-1CEST,M3.5.0,M10.5.0/3\" or \"UTC0\")")
    }
}

/// A small cursor over the rule's bytes.
struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    fn eat(&mut self, c: u8) -> bool {
        let hit = self.peek() == Some(c);
        if hit {
            self.i += 1;
        }
        hit
    }
    fn number(&mut self, max_digits: usize) -> Option<i32> {
        let start = self.i;
        let mut n: i32 = 0;
        while let Some(d) = self.peek().filter(u8::is_ascii_digit) {
            if self.i - start >= max_digits {
                return None;
            }
            n = n * 10 + i32::from(d - b'0');
            self.i += 1;
        }
        (self.i > start).then_some(n)
    }
    /// A zone name: three or more letters, or `<...>` of letters, digits, `+`, `-`.
    fn name(&mut self) -> Option<()> {
        let start = self.i;
        if self.eat(b'<') {
            while let Some(c) = self.peek() {
                self.i += 1;
                if c == b'>' {
                    return (self.i - start >= 5).then_some(());
                }
                if !(c.is_ascii_alphanumeric() || c == b'+' || c == b'-') {
                    return None;
                }
            }
            return None;
        }
        while self.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
            self.i += 1;
        }
        (self.i - start >= 3).then_some(())
    }
    /// `[+-]hh[:mm[:ss]]` in seconds; hours up to `max_h`.
    fn hms(&mut self, max_h: i32) -> Option<i32> {
        let sign = if self.eat(b'-') {
            -1
        } else {
            self.eat(b'+');
            1
        };
        let h = self.number(3)?;
        let mut s = h.checked_mul(3600)?;
        if h > max_h {
            return None;
        }
        if self.eat(b':') {
            let m = self.number(2).filter(|m| *m < 60)?;
            s += m * 60;
            if self.eat(b':') {
                s += self.number(2).filter(|x| *x < 60)?;
            }
        }
        Some(sign * s)
    }
    fn transition(&mut self) -> Option<Transition> {
        let day = if self.eat(b'J') {
            DayRule::Julian1(u16::try_from(self.number(3).filter(|n| (1..=365).contains(n))?).ok()?)
        } else if self.eat(b'M') {
            let month = self.number(2).filter(|n| (1..=12).contains(n))?;
            let week = self.eat(b'.').then(|| self.number(1))??;
            let weekday = self.eat(b'.').then(|| self.number(1))??;
            if !(1..=5).contains(&week) || weekday > 6 {
                return None;
            }
            DayRule::Month {
                month: u8::try_from(month).ok()?,
                week: u8::try_from(week).ok()?,
                weekday: u8::try_from(weekday).ok()?,
            }
        } else {
            DayRule::Julian0(u16::try_from(self.number(3).filter(|n| *n <= 365)?).ok()?)
        };
        let time_s = if self.eat(b'/') { self.hms(167)? } else { 7200 };
        Some(Transition { day, time_s })
    }
}

impl PosixTz {
    /// UTC.
    pub const UTC: PosixTz = PosixTz {
        std_offset_s: 0,
        dst: None,
    };

    /// Reads a POSIX `TZ` rule. A rule with a daylight-saving name but no dates uses the
    /// US rule (`M3.2.0,M11.1.0`), as glibc does.
    pub fn parse(rule: &str) -> Result<PosixTz, TzError> {
        let mut c = Cursor {
            b: rule.trim().as_bytes(),
            i: 0,
        };
        c.name().ok_or(TzError)?;
        // POSIX offsets are west of UTC: `CET-1` is one hour east.
        let std_offset_s = -c.hms(24).ok_or(TzError)?;
        let mut tz = PosixTz {
            std_offset_s,
            dst: None,
        };
        if c.peek().is_none() {
            return Ok(tz);
        }
        c.name().ok_or(TzError)?;
        let offset_s = match c.peek() {
            Some(b',') | None => std_offset_s + 3600,
            Some(_) => -c.hms(24).ok_or(TzError)?,
        };
        let (start, end) = if c.eat(b',') {
            let start = c.transition().ok_or(TzError)?;
            if !c.eat(b',') {
                return Err(TzError);
            }
            (start, c.transition().ok_or(TzError)?)
        } else {
            let us = |month, week| Transition {
                day: DayRule::Month {
                    month,
                    week,
                    weekday: 0,
                },
                time_s: 7200,
            };
            (us(3, 2), us(11, 1))
        };
        if c.peek().is_some() {
            return Err(TzError);
        }
        tz.dst = Some(Dst {
            offset_s,
            start,
            end,
        });
        Ok(tz)
    }

    /// The UTC offset (seconds east) at a Unix second.
    pub fn offset_at(&self, unix_s: u64) -> i32 {
        let Some(dst) = self.dst else {
            return self.std_offset_s;
        };
        let t = i64::try_from(unix_s).unwrap_or(i64::MAX);
        let year = i64::from(LocalTime::at(unix_s, self.std_offset_s).date().year);
        // Transitions are given in the local time in force before them.
        let start = dst.start.unix_s(year) - i64::from(self.std_offset_s);
        let end = dst.end.unix_s(year) - i64::from(dst.offset_s);
        let in_dst = if start < end {
            t >= start && t < end
        } else {
            // Southern hemisphere: daylight saving spans the new year.
            t >= start || t < end
        };
        if in_dst {
            dst.offset_s
        } else {
            self.std_offset_s
        }
    }
}

impl Transition {
    /// The transition of `year` as local seconds since the epoch.
    fn unix_s(&self, year: i64) -> i64 {
        let y = i32::try_from(year).unwrap_or(1970);
        let jan1 = Date {
            year: y,
            month: 1,
            day: 1,
        }
        .to_days();
        let days = match self.day {
            DayRule::Julian1(n) => {
                let n = i64::from(n);
                jan1 + n - 1 + i64::from(is_leap(year) && n >= 60)
            }
            DayRule::Julian0(n) => jan1 + i64::from(n),
            DayRule::Month {
                month,
                week,
                weekday: wd,
            } => {
                let first = Date {
                    year: y,
                    month,
                    day: 1,
                }
                .to_days();
                // weekday() is Monday = 0; POSIX is Sunday = 0.
                let first_wd = i64::from((weekday(first) + 1) % 7);
                let mut day = first + (i64::from(wd) - first_wd).rem_euclid(7);
                day += 7 * (i64::from(week) - 1);
                let last = first + month_len(year, month) - 1;
                while day > last {
                    day -= 7;
                }
                day
            }
        };
        days * DAY_S as i64 + i64::from(self.time_s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unix(y: i32, mo: u8, d: u8, h: u64, mi: u64) -> u64 {
        let days = Date {
            year: y,
            month: mo,
            day: d,
        }
        .to_days();
        u64::try_from(days).unwrap() * DAY_S + h * 3600 + mi * 60
    }

    #[test]
    fn dates_round_trip() {
        for days in [-800_000i64, -1, 0, 1, 59, 365, 10_957, 20_000, 2_932_896] {
            assert_eq!(Date::from_days(days).to_days(), days);
        }
        assert_eq!(
            Date::from_days(20_788),
            Date {
                year: 2026,
                month: 12,
                day: 1
            }
        );
        assert_eq!(weekday(0), 3, "1970-01-01 was a Thursday");
        assert_eq!(weekday(20_788), 1, "2026-12-01 is a Tuesday");
    }

    #[test]
    fn local_time_with_offsets() {
        let t = LocalTime::at(unix(2026, 12, 1, 23, 30), 3600);
        assert_eq!((t.date().day, t.hour(), t.minute()), (2, 0, 30));
        let t = LocalTime::at(unix(2026, 12, 1, 0, 30), -5 * 3600);
        assert_eq!((t.date().day, t.hour(), t.minute()), (30, 19, 30));
    }

    #[test]
    fn night_hours() {
        let n = NightHours::parse("23:00-07:00").unwrap();
        assert!(n.contains(23 * 60) && n.contains(0) && n.contains(6 * 60 + 59));
        assert!(!n.contains(7 * 60) && !n.contains(22 * 60 + 59));
        assert_eq!(n.secs_to_boundary(22 * 3600), 3600);
        assert_eq!(n.secs_to_boundary(23 * 3600), 8 * 3600);
        let day = NightHours::parse("13:00-14:30").unwrap();
        assert!(day.contains(13 * 60 + 10) && !day.contains(14 * 60 + 30));
        assert_eq!(day.to_string(), "13:00-14:30");
        for bad in [
            "",
            "23:00",
            "24:00-07:00",
            "23:60-07:00",
            "7:00-08:00",
            "23:00-23:00",
        ] {
            assert!(NightHours::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn posix_rules() {
        let cet = PosixTz::parse("CET-1CEST,M3.5.0,M10.5.0/3").unwrap();
        // 2026: CEST from 29 March 01:00 UTC to 25 October 01:00 UTC.
        assert_eq!(cet.offset_at(unix(2026, 3, 29, 0, 59)), 3600);
        assert_eq!(cet.offset_at(unix(2026, 3, 29, 1, 0)), 7200);
        assert_eq!(cet.offset_at(unix(2026, 10, 25, 0, 59)), 7200);
        assert_eq!(cet.offset_at(unix(2026, 10, 25, 1, 0)), 3600);
        assert_eq!(cet.offset_at(unix(2026, 12, 4, 12, 0)), 3600);
        let ny = PosixTz::parse("EST5EDT,M3.2.0,M11.1.0").unwrap();
        // 2026: EDT from 8 March 07:00 UTC to 1 November 06:00 UTC.
        assert_eq!(ny.offset_at(unix(2026, 3, 8, 6, 59)), -5 * 3600);
        assert_eq!(ny.offset_at(unix(2026, 3, 8, 7, 0)), -4 * 3600);
        assert_eq!(ny.offset_at(unix(2026, 11, 1, 5, 59)), -4 * 3600);
        assert_eq!(ny.offset_at(unix(2026, 11, 1, 6, 0)), -5 * 3600);
        assert_eq!(PosixTz::parse("EST5EDT").unwrap(), ny);
        // Southern hemisphere: Sydney, daylight saving over the new year.
        let syd = PosixTz::parse("AEST-10AEDT,M10.1.0,M4.1.0/3").unwrap();
        assert_eq!(syd.offset_at(unix(2026, 1, 15, 0, 0)), 11 * 3600);
        assert_eq!(syd.offset_at(unix(2026, 6, 15, 0, 0)), 10 * 3600);
        let ist = PosixTz::parse("<+0530>-5:30").unwrap();
        assert_eq!(ist.offset_at(0), 5 * 3600 + 1800);
        assert_eq!(PosixTz::parse("UTC0").unwrap(), PosixTz::UTC);
        for bad in [
            "",
            "CET",
            "X-1",
            "CET-1CEST,M3.5.0",
            "CET-1CEST,M13.5.0,M10.5.0",
            "CET-1 x",
        ] {
            assert!(PosixTz::parse(bad).is_err(), "{bad}");
        }
    }
}
