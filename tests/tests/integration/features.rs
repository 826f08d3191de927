//! The heart, the volume and up next end to end against the fake Spotify on 127.0.0.1:
//! the library and the queue asked over real HTTP (URIs in the query string), an old
//! token without the library scopes, and the window's keys sending like, unlike and
//! volume requests.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc::channel;
use std::time::{Duration, Instant};

use serde_json::Value;
use tonearm_tests::fake_spotify::{Item, Route};
use tonearm_tests::xvfb::Xvfb;

use crate::run_live::{Run, T, setup};

/// Five tracks, the first playing.
fn playlist(fake: &tonearm_tests::fake_spotify::FakeSpotify) -> Vec<Item> {
    let items = Item::tracks(5);
    fake.set_playlist(items.clone());
    fake.set_current(Some(0));
    fake.set_playing(true);
    items
}

fn wait_event(run: &mut Run, what: &str, want: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + T;
    loop {
        if let Some(ev) = run.seen.iter().find(|e| want(e)) {
            return ev.clone();
        }
        assert!(Instant::now() < deadline, "no {what}; saw {:?}", run.seen);
        // Any event at all, then look again.
        let _ = run.next_event(Duration::from_millis(200));
    }
}

#[test]
fn the_heart_and_up_next_come_over_http_with_the_uris_in_the_query() {
    let (fake, home) = setup();
    let items = playlist(&fake);
    fake.set_liked(&items[0].uri(), true);
    fake.set_liked(&items[2].uri(), true);
    let mut run = Run::start(&home.config(), &[]);
    let ev = wait_event(&mut run, "liked and up next", |e| {
        e["liked"] == true && e["up_next"].is_string()
    });
    assert_eq!(ev["title"], "Track 0");
    assert!(ev["up_next"].as_str().unwrap().starts_with("Track 1"));
    let queue = fake.requests_to(Route::Queue);
    assert_eq!(queue.len(), 1, "once for the track");
    let library = fake.requests_to(Route::LibraryContains);
    assert_eq!(library.len(), 1);
    let uris = library[0].query_param("uris").expect("uris in the query");
    let want: Vec<String> = items.iter().map(Item::uri).collect();
    assert_eq!(uris, want.join(","), "the track playing and the next four");
    assert!(library[0].body.is_empty(), "never a body");
    // The next track's heart is known without asking again.
    fake.set_current(Some(2));
    wait_event(&mut run, "Track 2 liked", |e| {
        e["title"] == "Track 2" && e["liked"] == true
    });
    assert_eq!(fake.requests_to(Route::LibraryContains).len(), 1);
}

#[test]
fn a_token_without_the_library_scopes_shows_no_heart_and_no_error() {
    let (fake, home) = setup();
    playlist(&fake);
    fake.set_scopes(&[
        "user-read-currently-playing",
        "user-read-playback-state",
        "user-modify-playback-state",
    ]);
    let mut run = Run::start(&home.config(), &[]);
    run.wait_for("now_playing", Some("Track 0"), T);
    std::thread::sleep(Duration::from_secs(3));
    while run.next_event(Duration::from_millis(100)).is_some() {}
    assert!(
        run.seen.iter().all(|e| e.get("liked").is_none()),
        "{:?}",
        run.seen
    );
    assert!(fake.requests_to(Route::LibraryContains).is_empty());
    assert!(
        run.seen
            .iter()
            .all(|e| e["screen"] == "now_playing" || e["screen"] == "connecting")
    );
}

/// `tonearm run` in a window: L likes and unlikes (PUT and DELETE with the URI in the
/// query), + and Down send the volume.
#[test]
fn keys_in_the_window_like_unlike_and_set_the_volume_over_http() {
    let (fake, home) = setup();
    let items = playlist(&fake);
    let xv = Xvfb::start().expect("Xvfb runs");
    let mut child = Command::new(tonearm_tests::tonearm_bin())
        .args(["run", "--events", "--scale", "1", "--config"])
        .arg(home.config())
        .env("DISPLAY", xv.display())
        .env_remove("SPOTIFY_CLIENT_ID")
        .env_remove("SPOTIFY_REFRESH_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("tonearm run starts");
    let (tx, rx) = channel::<Value>();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Ok(v) = serde_json::from_str(&line)
                && tx.send(v).is_err()
            {
                break;
            }
        }
    });
    let wait = |want: &dyn Fn(&Value) -> bool, what: &str| {
        let deadline = Instant::now() + T;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(ev) if want(&ev) => return ev,
                Ok(_) => {}
                Err(_) => panic!("no {what}"),
            }
        }
    };
    wait(&|e| e["liked"] == false, "the heart");
    let id = xv
        .window("Tonearm", Duration::from_secs(10))
        .expect("the window exists");
    let key = |k: &str| {
        std::thread::sleep(Duration::from_millis(200));
        xv.run("xdotool", &["key", "--window", &id, k]);
    };
    key("l");
    wait(&|e| e["liked"] == true, "liked by L");
    let deadline = Instant::now() + T;
    while !fake.is_liked(&items[0].uri()) {
        assert!(Instant::now() < deadline, "the like never reached Spotify");
        std::thread::sleep(Duration::from_millis(50));
    }
    let save = &fake.requests_to(Route::LibrarySave)[0];
    assert_eq!(save.method, "PUT");
    assert_eq!(save.query_param("uris"), Some(items[0].uri()));
    key("l");
    wait(&|e| e["liked"] == false, "unliked by L");
    let deadline = Instant::now() + T;
    while fake.is_liked(&items[0].uri()) {
        assert!(
            Instant::now() < deadline,
            "the unlike never reached Spotify"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(fake.requests_to(Route::LibraryRemove)[0].method, "DELETE");
    // Volume: three presses up, one down: one or two requests, ending at +10.
    let start = fake.volume_percent().expect("a volume");
    for k in ["plus", "plus", "plus", "Down"] {
        xv.run("xdotool", &["key", "--window", &id, k]);
    }
    let want = start + 10;
    wait(&|e| e["volume"] == want, "the volume shown");
    let deadline = Instant::now() + T;
    while fake.volume_percent() != Some(want) {
        assert!(
            Instant::now() < deadline,
            "the volume never reached Spotify"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let sent = fake.requests_to(Route::Volume);
    assert!(
        (1..=2).contains(&sent.len()),
        "a burst is coalesced: {} requests",
        sent.len()
    );
    let _ = child.kill();
    let _ = child.wait();
}
