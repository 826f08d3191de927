//! The words of the quota screen and the login warning: when the hold ends, in the local
//! time of day, and when the six-month login ends.

use tonearm_core::Secret;
use tonearm_core::session::{Credentials, Session, Timing};
use tonearm_core::text::bounded;
use tonearm_core::wall::WallClock;
use tonearm_firmware::app::{back_text, login_warning_text};

/// 2026-12-01 00:00:00 UTC, a Tuesday.
const DAY0_S: u64 = 1_796_083_200;

fn session(wall: Option<(u64, i32)>) -> Session {
    let creds = Credentials {
        client_id: bounded("id").0,
        client_secret: None,
        refresh_token: Secret::new("r"),
    };
    let mut s = Session::new(creds, Timing::default(), 1);
    if let Some((unix_s, utc_offset_s)) = wall {
        s.set_wall_clock(
            0,
            WallClock {
                unix_ms: unix_s * 1000,
                utc_offset_s,
            },
        );
    }
    s
}

#[test]
fn back_at_today_tomorrow_weekday_or_date() {
    // Now: Tuesday 2026-12-01 08:00 local (UTC+1).
    let now_s = DAY0_S + 7 * 3600;
    let s = session(Some((now_s, 3600)));
    let cases = [
        // (until, local)          text
        (now_s + 6_120, "Back at 09:42"),
        (now_s + 6_061, "Back at 09:42"), // 09:41:01 rounds up
        (now_s + 6_121, "Back at 09:43"),
        (now_s + 15 * 3600 + 59 * 60, "Back at 23:59"),
        (now_s + 16 * 3600, "Back tomorrow 00:00"),
        (now_s + 25 * 3600 + 42 * 60, "Back tomorrow 09:42"),
        (now_s + 2 * 86_400, "Back Thu 08:00"),
        (now_s + 6 * 86_400, "Back Mon 08:00"),
        (now_s + 33 * 86_400, "Back 3 Jan 08:00"),
    ];
    for (until, want) in cases {
        let mut out = heapless::String::<32>::new();
        back_text(&mut out, &s, 0, until, (until - now_s) * 1000);
        assert_eq!(out.as_str(), want, "until {until}");
    }
}

#[test]
fn back_in_a_countdown_without_a_wall_clock() {
    let s = session(None);
    let mut out = heapless::String::<32>::new();
    back_text(&mut out, &s, 0, 0, 48_926_000);
    assert_eq!(out.as_str(), "Back in 13:35:26");
    back_text(&mut out, &s, 0, 0, 1);
    assert_eq!(out.as_str(), "Back in 0:00:01");
}

#[test]
fn login_ends_on_a_local_date() {
    let s = session(Some((DAY0_S, -5 * 3600)));
    let mut out = heapless::String::<24>::new();
    // 2027-01-03 03:00 UTC is still 2 January in New York.
    login_warning_text(&mut out, &s, DAY0_S + 33 * 86_400 + 3 * 3600);
    assert_eq!(out.as_str(), "Login ends 2 Jan");
    login_warning_text(&mut out, &session(None), DAY0_S + 33 * 86_400 + 3 * 3600);
    assert_eq!(out.as_str(), "Login ends 3 Jan");
}
