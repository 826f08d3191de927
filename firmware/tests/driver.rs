//! The driver's rules (`App::poll` and `Do`), as any shell relies on them: saves before
//! the next request, one request at a time, the clock asked for, the backlight followed,
//! and a loop whose frames are slow still reading its network.

use embedded_graphics::pixelcolor::Rgb565;
use embedded_graphics::prelude::*;
use tonearm_core::Secret;
use tonearm_core::session::{Control, Credentials, Request, RequestKind, Session, Timing};
use tonearm_core::text::bounded;
use tonearm_core::wall::WallClock;
use tonearm_firmware::{App, Do, Profile, Screen};
use tonearm_testkit::{Answer, TrackBody};

type Canvas = tonearm_testkit::Canvas<Rgb565>;

fn app() -> App<Rgb565> {
    let creds = Credentials {
        client_id: bounded("id").0,
        client_secret: None,
        refresh_token: Secret::new("r0"),
    };
    App::new(
        Profile::Landscape320x240,
        Session::new(creds, Timing::default(), 5),
    )
}

/// "Song", ten minutes long, playing; its title long enough to scroll when `long`.
fn playing(now: u64, long: bool) -> Answer {
    let title = if long {
        "A title far too long for any line of this display, so that it has to scroll by"
    } else {
        "Song"
    };
    Answer::new(
        200,
        TrackBody::new(title, now % 600_000, 600_000, true)
            .by("Band", "Album")
            .json(),
    )
}

fn respond(app: &mut App<Rgb565>, now: u64, answer: &Answer) {
    app.on_head(now, answer.status, answer.retry_after.as_deref());
    app.on_body(&answer.body);
    app.on_end(now);
}

/// What the app asked for, in order, while driven until `until` (requests answered at
/// once by `answer`; draws take `draw_ms` of the clock).
fn record(
    app: &mut App<Rgb565>,
    now: &mut u64,
    until: u64,
    draw_ms: u64,
    answer: &mut dyn FnMut(u64, &Request) -> Answer,
) -> Vec<(u64, Do)> {
    let mut canvas = Canvas::new(Size::new(320, 240));
    let mut seen = Vec::new();
    while *now < until {
        let what = app.poll(*now);
        seen.push((*now, what.clone()));
        match what {
            Do::Send(req) => {
                let a = answer(*now, &req);
                *now += 40;
                respond(app, *now, &a);
            }
            Do::Draw => {
                app.draw(*now, &mut canvas).unwrap();
                *now += draw_ms;
            }
            Do::Sleep(t) => {
                assert!(t > *now, "a sleep into the past");
                *now = t.min(until);
            }
            Do::Fetch(img) => panic!("no covers without the art feature: {img:?}"),
            Do::Save(_) | Do::ReadClock | Do::Backlight(_) => {}
        }
    }
    seen
}

#[test]
fn a_rotated_refresh_token_is_saved_before_the_next_request() {
    let mut app = app();
    let mut now = 0;
    let seen = record(
        &mut app,
        &mut now,
        10_000,
        0,
        &mut |now, req| match req.kind {
            RequestKind::Refresh => Answer::token("a", Some("r1")),
            _ => playing(now, false),
        },
    );
    let refresh = seen
        .iter()
        .position(|(_, d)| matches!(d, Do::Send(r) if r.kind == RequestKind::Refresh))
        .expect("a refresh first");
    let save = seen
        .iter()
        .position(|(_, d)| matches!(d, Do::Save(s) if s.tokens.as_ref().is_some_and(|t| t.refresh_token.as_ref().is_some_and(|r| r.expose() == "r1"))))
        .expect("the rotated token is saved");
    let next = seen
        .iter()
        .skip(refresh + 1)
        .position(|(_, d)| matches!(d, Do::Send(_)))
        .map(|i| i + refresh + 1)
        .expect("a poll after the refresh");
    assert!(refresh < save && save < next, "{seen:?}");
}

#[test]
fn one_request_at_a_time() {
    let mut app = app();
    let mut canvas = Canvas::new(Size::new(320, 240));
    let mut now = 0;
    let mut sent = 0;
    while now < 120_000 {
        match app.poll(now) {
            Do::Send(_) => {
                sent += 1;
                assert!(app.is_busy());
                // While it is in flight: draws, sleeps and the rest, but no second one.
                for _ in 0..20 {
                    match app.poll(now) {
                        Do::Send(r) => panic!("a second request in flight: {r:?}"),
                        Do::Draw => {
                            app.draw(now, &mut canvas).unwrap();
                        }
                        Do::Sleep(t) => now = t,
                        _ => {}
                    }
                }
                let a = if sent == 1 {
                    Answer::token("a", None)
                } else {
                    playing(now, false)
                };
                respond(&mut app, now, &a);
                assert!(!app.is_busy());
            }
            Do::Draw => {
                app.draw(now, &mut canvas).unwrap();
            }
            Do::Sleep(t) => now = t,
            _ => {}
        }
    }
    assert!(sent >= 3, "{sent} requests");
}

#[test]
fn the_clock_is_asked_for_at_start_and_each_minute_and_the_idle_screen_shows_it() {
    let mut app = app();
    assert_eq!(app.poll(0), Do::ReadClock, "first of all");
    // 09:41:30 UTC on some day.
    let unix_ms = (20_000 * 86_400 + 9 * 3600 + 41 * 60 + 30) * 1000;
    app.set_wall_clock(
        0,
        WallClock {
            unix_ms,
            utc_offset_s: 0,
        },
    );
    let mut now = 0;
    let mut asked = Vec::new();
    let seen = record(
        &mut app,
        &mut now,
        150_000,
        0,
        &mut |_, req| match req.kind {
            RequestKind::Refresh => Answer::token("a", None),
            _ => Answer::empty(204),
        },
    );
    for (t, d) in &seen {
        if *d == Do::ReadClock {
            asked.push(*t);
            // Not answered: a platform that lost its clock is asked again later.
        }
    }
    // Just after the minute turned (at 30 s), then a minute later as nothing answered.
    assert_eq!(asked.first().copied(), Some(30_002), "{asked:?}");
    assert_eq!(asked.get(1).copied(), Some(90_002), "{asked:?}");
    let vm = app.last_view();
    assert_eq!(vm.screen, Screen::Idle);
    let clock = vm.clock.expect("the idle clock");
    assert_eq!((clock.hour, clock.minute), (9, 41));
}

#[test]
fn the_backlight_follows_dark_and_comes_back_with_a_full_redraw() {
    let mut app = app();
    let mut canvas = Canvas::new(Size::new(320, 240));
    let mut now = 0;
    let mut lit = None;
    let mut full_after_wake = None;
    let mut draws_while_dark = 0;
    let mut went_dark = false;
    // Nothing plays: dark after ten minutes; a press at 11 minutes wakes it.
    let mut pressed = false;
    while now < 13 * 60_000 {
        if !pressed && now >= 11 * 60_000 {
            pressed = true;
            let _ = app.press(now, Control::PlayPause);
        }
        match app.poll(now) {
            Do::Send(req) => {
                let a = match req.kind {
                    RequestKind::Refresh => Answer::token("a", None),
                    _ => Answer::empty(204),
                };
                respond(&mut app, now + 40, &a);
                now += 40;
            }
            Do::Backlight(on) => {
                // Off only while dark, on again only when not.
                assert_eq!(on, !app.is_blank(now), "at {now}");
                went_dark |= !on;
                lit = Some((on, now));
            }
            Do::Draw => {
                if lit.is_some_and(|(on, _)| !on) {
                    draws_while_dark += 1;
                }
                let u = app.draw(now, &mut canvas).unwrap();
                if pressed && full_after_wake.is_none() {
                    full_after_wake = Some(u.full);
                }
            }
            Do::Sleep(t) => now = t.min(13 * 60_000),
            _ => {}
        }
    }
    assert_eq!(draws_while_dark, 0);
    assert!(went_dark, "dark after ten minutes of nothing");
    let (on, at) = lit.expect("told");
    assert!(
        on && at >= 11 * 60_000,
        "lit again after the press: {lit:?}"
    );
    assert_eq!(full_after_wake, Some(true), "the panel is redrawn whole");
}

#[test]
fn frames_slower_than_their_interval_leave_room_for_the_network() {
    let mut app = app();
    let mut now = 0;
    // Every draw takes 50 ms, more than a scroll frame's 33 ms.
    let seen = record(
        &mut app,
        &mut now,
        60_000,
        50,
        &mut |now, req| match req.kind {
            RequestKind::Refresh => Answer::token("a", None),
            _ => playing(now, true),
        },
    );
    // Never two draws without a sleep between them.
    let mut last_draw = false;
    for (t, d) in &seen {
        match d {
            Do::Draw => {
                assert!(!last_draw, "two draws in a row at {t}");
                last_draw = true;
            }
            Do::Sleep(_) | Do::Send(_) => last_draw = false,
            _ => {}
        }
    }
    // The title scrolls (many frames), and the polls still go out every few seconds.
    let draws = seen.iter().filter(|(_, d)| *d == Do::Draw).count();
    let polls = seen
        .iter()
        .filter(|(_, d)| matches!(d, Do::Send(r) if matches!(r.kind, RequestKind::Poll(_))))
        .count();
    assert!(draws > 300, "{draws} draws in a minute of scrolling");
    assert!(polls >= 8, "{polls} polls in a minute");
}

#[test]
fn counted_seconds_read_as_a_fresh_build_would() {
    // A 429 answered at an odd millisecond: its countdown, drawn at any later moment from
    // the kept view model, reads what a view model built at that moment reads.
    let mut app = app();
    let mut now = 0;
    let mut canvas = Canvas::new(Size::new(320, 240));
    record(
        &mut app,
        &mut now,
        5_000,
        0,
        &mut |now, req| match req.kind {
            RequestKind::Refresh => Answer::token("a", None),
            _ => playing(now, false),
        },
    );
    let t0 = loop {
        match app.poll(now) {
            Do::Send(_) => break now + 217,
            Do::Draw => {
                app.draw(now, &mut canvas).unwrap();
            }
            Do::Sleep(t) => now = t,
            _ => {}
        }
    };
    app.on_head(t0, 429, Some("42"));
    app.on_end(t0);
    for dt in (0..40_000).step_by(333) {
        let t = t0 + dt;
        app.update(t);
        let kept = app.last_view().retry_in(t);
        let fresh = app.clone().view(t).retry_in(t);
        assert_eq!(kept, fresh, "{dt} ms after the 429");
        assert!(kept.is_some());
    }
}
