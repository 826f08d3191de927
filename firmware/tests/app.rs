//! The app: the session's state becomes the right screen, and steady playback redraws
//! only small regions. Every test drives the app as a shell does: `App::poll` and what it
//! says, the draws included.

use embedded_graphics::pixelcolor::Rgb565;
use embedded_graphics::prelude::*;
use tonearm_core::Secret;
use tonearm_core::session::{Control, Credentials, Request, RequestKind, Session, Timing};
use tonearm_core::text::bounded;
use tonearm_firmware::{App, Do, Profile, Screen};
// The scripted Spotify's answers (shared with the core's tests, the session bench and
// `tonearm simulate`).
use tonearm_testkit::{Answer, TrackBody};

/// The test canvas: it keeps the picture and counts the pixels written.
type Canvas = tonearm_testkit::Canvas<Rgb565>;

fn creds(refresh: bool) -> Credentials {
    Credentials {
        client_id: bounded("id").0,
        client_secret: None,
        refresh_token: refresh.then(|| Secret::new("r").unwrap()),
    }
}

fn app(refresh: bool) -> App<Rgb565> {
    App::new(
        Profile::Landscape320x240,
        Session::new(creds(refresh), Timing::default(), 3),
    )
}

/// Drives the app until `until` as a shell does: requests answered (`player` for polls)
/// after 40 ms, draws into `canvas`, sleeps to the time it names.
fn drive(
    app: &mut App<Rgb565>,
    now: &mut u64,
    until: u64,
    canvas: &mut Canvas,
    player: &dyn Fn(u64) -> Answer,
) {
    loop {
        match app.poll(*now) {
            Do::Send(req) => answer(app, now, &req, player),
            Do::Draw => {
                app.draw(*now, canvas).unwrap();
            }
            Do::Save(_) | Do::ReadClock | Do::Backlight(_) => {}
            Do::Fetch(img) => panic!("no covers without the art feature: {img:?}"),
            Do::Sleep(t) if t <= until => *now = t,
            Do::Sleep(_) => {
                *now = until;
                return;
            }
        }
    }
}

fn answer(app: &mut App<Rgb565>, now: &mut u64, req: &Request, player: &dyn Fn(u64) -> Answer) {
    let answer = match req.kind {
        RequestKind::Refresh => Answer::token("a", None),
        RequestKind::Poll(_) => player(*now),
        RequestKind::Control(_) => Answer::empty(204),
        // Not what these tests are about.
        RequestKind::Library | RequestKind::Queue => Answer::empty(404),
    };
    *now += 40;
    app.on_head(*now, answer.status, answer.retry_after.as_deref());
    app.on_body(&answer.body);
    app.on_end(*now);
}

/// The app's next request from `now` (what it asks before, drawing included, is done).
fn next_request(app: &mut App<Rgb565>, now: &mut u64, canvas: &mut Canvas) -> Option<Request> {
    for _ in 0..10_000 {
        match app.poll(*now) {
            Do::Send(req) => return Some(req),
            Do::Draw => {
                app.draw(*now, canvas).unwrap();
            }
            Do::Sleep(t) if t - *now > 3_600_000 => return None,
            Do::Sleep(t) => *now = t,
            _ => {}
        }
    }
    None
}

fn serve(app: &mut App<Rgb565>, now: &mut u64, until: u64, player: &dyn Fn(u64) -> Answer) {
    drive(
        app,
        now,
        until,
        &mut Canvas::new(Size::new(320, 240)),
        player,
    );
}

/// "Song" by "Band" on "Album", ten minutes long, playing from 0 over and over.
fn playing(now: u64) -> Answer {
    let body = TrackBody::new("Song", now % 600_000, 600_000, true).by("Band", "Album");
    Answer::new(200, body.json())
}

#[test]
fn without_a_refresh_token_it_asks_for_a_login() {
    let mut app = app(false);
    assert_eq!(app.view(0).screen, Screen::LoginNeeded);
    let mut now = 0;
    let mut canvas = Canvas::new(Size::new(320, 240));
    assert_eq!(next_request(&mut app, &mut now, &mut canvas), None);
    assert_eq!(app.last_view().screen, Screen::LoginNeeded, "drawn");
}

#[test]
fn screens_follow_the_session() {
    let mut app = app(true);
    let mut now = 0;
    assert_eq!(
        app.view(now).screen,
        Screen::Connecting,
        "nothing heard yet"
    );
    serve(&mut app, &mut now, 1_000, &playing);
    let vm = app.view(now).clone();
    assert_eq!(
        (vm.screen, vm.title.as_str(), vm.subtitle.as_str()),
        (Screen::NowPlaying, "Song", "Band")
    );

    // Pause: optimistic, then confirmed.
    app.press(now, Control::PlayPause).unwrap();
    assert_eq!(app.view(now).screen, Screen::Paused);

    // Spotify goes away: the last state stays with a stale badge, then offline.
    let t = now;
    serve(&mut app, &mut now, t + 30_000, &|_| Answer::empty(503));
    let vm = app.view(now).clone();
    assert!(vm.stale_s.is_some(), "{vm:?}");
    assert_eq!(vm.title.as_str(), "Song");
    serve(&mut app, &mut now, t + 200_000, &|_| Answer::empty(503));
    let vm = app.view(now).clone();
    assert_eq!(vm.screen, Screen::Offline);
    assert!(vm.offline_s.unwrap() >= 60);

    // A long 429: the countdown.
    let until = now + 70_000;
    serve(&mut app, &mut now, until, &playing);
    assert_eq!(app.view(now).screen, Screen::NowPlaying);
    let mut t = now;
    let mut canvas = Canvas::new(Size::new(320, 240));
    assert!(next_request(&mut app, &mut t, &mut canvas).is_some());
    app.on_head(t, 429, Some("90"));
    app.on_end(t);
    let vm = app.view(t + 1_000).clone();
    assert_eq!(vm.screen, Screen::RateLimited);
    assert!(
        (88..=91).contains(&vm.retry_in_s.unwrap()),
        "{:?}",
        vm.retry_in_s
    );

    // Nothing playing: idle with the clock, blank after ten minutes.
    now = t + 200_000;
    let until = now + 1;
    serve(&mut app, &mut now, until, &|_| Answer::empty(204));
    app.set_clock(Some(tonearm_firmware::ClockTime { hour: 7, minute: 5 }));
    let vm = app.view(now).clone();
    assert_eq!(vm.screen, Screen::Idle);
    assert!(vm.clock.is_some());
    assert!(!app.is_blank(now));
    let until = now + 11 * 60_000;
    serve(&mut app, &mut now, until, &|_| Answer::empty(204));
    assert!(app.is_blank(now));
}

#[test]
fn steady_playback_redraws_small_regions() {
    let mut app = app(true);
    let mut now = 0;
    serve(&mut app, &mut now, 1_000, &playing);
    let mut canvas = Canvas::new(Size::new(320, 240));
    app.invalidate();
    let first = app.draw(now, &mut canvas).unwrap();
    assert!(first.full);
    let full = canvas.written();
    canvas.reset_counts();
    // A minute of ticks and polls, as the app schedules them.
    let start = now;
    let mut draws = 0;
    while now < start + 60_000 {
        match app.poll(now) {
            Do::Send(req) => answer(&mut app, &mut now, &req, &playing),
            Do::Draw => {
                let u = app.draw(now, &mut canvas).unwrap();
                assert!(!u.full, "no full redraw while one track plays");
                draws += 1;
            }
            Do::Sleep(t) => {
                assert!(t > now);
                now = t;
            }
            _ => {}
        }
    }
    // A draw a second (the elapsed time), and one after each poll's answer.
    assert!((60..=80).contains(&draws), "{draws} draws in a minute");
    let share = canvas.written() as f64 / (full as f64 * 60.0);
    assert!(
        share < 0.03,
        "pixels written per second: {:.2}% of a full redraw",
        share * 100.0
    );
}

#[test]
fn unreachable_from_the_start_is_connecting_then_offline_without_a_last_track() {
    let mut app = app(true);
    let mut now = 0;
    assert_eq!(app.view(now).screen, Screen::Connecting);
    // The token endpoint never answers well.
    let mut canvas = Canvas::new(Size::new(320, 240));
    while now <= 120_000 {
        match app.poll(now) {
            Do::Send(_) => {
                now += 40;
                app.on_head(now, 503, None);
                app.on_end(now);
            }
            Do::Draw => {
                app.draw(now, &mut canvas).unwrap();
            }
            Do::Sleep(t) => now = t,
            _ => {}
        }
    }
    let vm = app.view(now).clone();
    assert_eq!(vm.screen, Screen::Offline);
    assert!(vm.title.is_empty(), "no made-up last track: {vm:?}");
    assert!(vm.offline_s.unwrap() >= 60);
    // Its picture is a status screen, and it differs from the one a minute later.
    let mut a = Canvas::new(Size::new(320, 240));
    let mut fresh: App<Rgb565> = app;
    fresh.invalidate();
    fresh.draw(now, &mut a).unwrap();
    let before = a.pixels().to_vec();
    let u = fresh.draw(now + 60_000, &mut a).unwrap();
    assert!(!u.is_empty(), "the age is redrawn as it grows");
    assert_ne!(before, a.pixels());
}
