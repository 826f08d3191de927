//! `tonearm demo`: a scripted listening session through the real parser, session, app and
//! screens. Only the network is replaced: a scripted Spotify answers the session's
//! requests with real response bodies, in small chunks, as a socket would deliver them.
//!
//! The script (app time; `--speed K` runs it K times faster) shows every screen in about
//! 80 seconds, then starts again:
//!
//! | from | what Spotify says | screen |
//! | --- | --- | --- |
//! | 0 s | a track 10 s from its end | `now_playing` |
//! | 10 s | a Japanese title | `now_playing` |
//! | 20 s | paused | `paused` |
//! | 25 s | an over-long title (it scrolls) | `now_playing` |
//! | 33 s | a two-hour podcast episode | `episode` |
//! | 41 s | an ad | `ad` |
//! | 46 s | nothing (204) | `idle` |
//! | 52 s | 429, `Retry-After: 5` | `rate_limited` |
//! | 58 s | 503s | stale badge, then `offline` |
//! | 66 s | the refresh token is revoked | `login_needed` |
//! | 72 s | the client id is wrong | `config_error` |
//!
//! Space, Right and Left work as on a real account: pausing stops the script's clock.

use std::collections::VecDeque;
use std::time::Duration;

use tonearm_core::Secret;
use tonearm_core::session::{ControlCommand, Credentials, Request, RequestKind, Session, Timing};
use tonearm_core::text::bounded;

use crate::shell::{NetEvent, Network};

/// Timing rules for the demo: quicker than a real device's, so a minute shows everything
/// (the rules are the same; only the intervals are shorter).
pub fn demo_timing() -> Timing {
    Timing {
        poll_playing_ms: 2_000,
        poll_paused_ms: 2_000,
        poll_idle_ms: 2_000,
        poll_idle_max_ms: 2_000,
        confirm_ms: 300,
        end_slack_ms: 300,
        backoff_ms: 500,
        backoff_max_ms: 2_000,
        offline_after_ms: 4_000,
        rate_limit_screen_ms: 3_000,
        retry_after_default_ms: 3_000,
        notice_ms: 3_000,
        ..Timing::default()
    }
}

/// The acts of the script: (start in ms of script time, act).
const ACTS: [(u64, Act); 11] = [
    (0, Act::Track(0)),
    (10_000, Act::Track(1)),
    (20_000, Act::Paused(1)),
    (25_000, Act::Track(2)),
    (33_000, Act::Episode),
    (41_000, Act::Ad),
    (46_000, Act::Nothing),
    (52_000, Act::RateLimited),
    (58_000, Act::Down),
    (66_000, Act::Revoked),
    (72_000, Act::BadClient),
];
/// Length of one pass of the script.
pub const SCRIPT_MS: u64 = 78_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Act {
    Track(usize),
    Paused(usize),
    Episode,
    Ad,
    Nothing,
    RateLimited,
    Down,
    Revoked,
    BadClient,
}

struct Song {
    title: &'static str,
    artists: &'static [&'static str],
    album: &'static str,
    duration_ms: u64,
    /// Progress at the start of its act.
    start_ms: u64,
}

const SONGS: [Song; 3] = [
    Song {
        title: "Karma Police",
        artists: &["Radiohead"],
        album: "OK Computer",
        duration_ms: 264_000,
        start_ms: 254_000,
    },
    Song {
        title: "夢の中へ",
        artists: &["井上陽水"],
        album: "断絶",
        duration_ms: 183_000,
        start_ms: 0,
    },
    Song {
        title: "Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch (Extended Welsh Choir Version, Live at the Royal Albert Hall)",
        artists: &["The Longest Band Name in the World", "Côr Meibion"],
        album: "Place Names of Anglesey, Vol. 2",
        duration_ms: 425_000,
        start_ms: 61_000,
    },
];

fn act_at(script_ms: u64) -> (usize, u64, Act) {
    let t = script_ms % SCRIPT_MS;
    let mut found = (0, 0, Act::Track(0));
    for (i, (start, act)) in ACTS.iter().enumerate() {
        if t >= *start {
            found = (i, *start, *act);
        }
    }
    found
}

/// The scripted Spotify.
#[derive(Debug)]
pub struct DemoSpotify {
    /// Script time, which stands still while the user has paused.
    script_ms: u64,
    last_now: u64,
    user_paused: bool,
    queue: VecDeque<NetEvent>,
    /// Which pass of the script the current session belongs to, and its act group.
    session_epoch: (u64, u8),
}

impl Default for DemoSpotify {
    fn default() -> Self {
        Self::new()
    }
}

impl DemoSpotify {
    /// The script at its start.
    pub fn new() -> Self {
        DemoSpotify {
            script_ms: 0,
            last_now: 0,
            user_paused: false,
            queue: VecDeque::new(),
            session_epoch: (0, 0),
        }
    }

    fn advance(&mut self, now: u64) {
        let dt = now.saturating_sub(self.last_now);
        self.last_now = now;
        if !self.user_paused {
            self.script_ms += dt;
        }
    }

    /// Which session the script wants now: a new pass, or the two acts that need a
    /// fresh session (a revoked token, a wrong client id).
    fn epoch(&self) -> (u64, u8) {
        let pass = self.script_ms / SCRIPT_MS;
        let group = match act_at(self.script_ms).2 {
            Act::Revoked => 1,
            Act::BadClient => 2,
            _ => 0,
        };
        (pass, group)
    }

    fn respond(&mut self, req: &Request) -> (u16, Option<&'static str>, String) {
        let (_, act_start, act) = act_at(self.script_ms);
        let in_act = self.script_ms % SCRIPT_MS - act_start;
        match req.kind {
            RequestKind::Refresh => match act {
                Act::Revoked => (400, None, r#"{"error":"invalid_grant","error_description":"Refresh token revoked"}"#.into()),
                Act::BadClient => (400, None, r#"{"error":"invalid_client","error_description":"Invalid client"}"#.into()),
                _ => (
                    200,
                    None,
                    r#"{"access_token":"demo-access-token","token_type":"Bearer","expires_in":3600,"scope":"user-read-currently-playing user-read-playback-state user-modify-playback-state"}"#.into(),
                ),
            },
            RequestKind::Control(c) => {
                match c {
                    ControlCommand::Pause => self.user_paused = true,
                    ControlCommand::Play => self.user_paused = false,
                    ControlCommand::Next => {
                        let (i, _, _) = act_at(self.script_ms);
                        let next = ACTS.get(i + 1).map_or(SCRIPT_MS, |(s, _)| *s);
                        self.script_ms += next - self.script_ms % SCRIPT_MS;
                    }
                    ControlCommand::Previous => self.script_ms -= in_act,
                }
                (204, None, String::new())
            }
            RequestKind::Poll(_) => match act {
                Act::Track(i) => (200, None, track_body(i, in_act, !self.user_paused)),
                Act::Paused(i) => (200, None, track_body(i, 10_000, false)),
                Act::Episode => (200, None, episode_body(in_act, !self.user_paused)),
                Act::Ad => (200, None, ad_body(in_act)),
                Act::Nothing => (204, None, String::new()),
                Act::RateLimited => (
                    429,
                    Some("5"),
                    r#"{"error":{"status":429,"message":"API rate limit exceeded"}}"#.into(),
                ),
                Act::Down | Act::Revoked | Act::BadClient => (503, None, "Service Unavailable".into()),
            },
        }
    }
}

fn json_str(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

fn track_body(i: usize, in_act: u64, playing: bool) -> String {
    let Some(song) = SONGS.get(i) else {
        return String::new();
    };
    let artists: Vec<String> = song
        .artists
        .iter()
        .map(|a| format!(r#"{{"name":{},"type":"artist"}}"#, json_str(a)))
        .collect();
    let progress = (song.start_ms + in_act).min(song.duration_ms);
    format!(
        r#"{{"device":{{"id":"demo","is_active":true,"name":"Desk speaker","type":"Speaker","volume_percent":60}},"shuffle_state":false,"repeat_state":"context","timestamp":0,"context":{{"type":"album"}},"progress_ms":{progress},"item":{{"album":{{"name":{},"images":[]}},"artists":[{}],"duration_ms":{},"is_local":false,"name":{},"type":"track"}},"currently_playing_type":"track","actions":{{"disallows":{{"{}":true}}}},"is_playing":{playing}}}"#,
        json_str(song.album),
        artists.join(","),
        song.duration_ms,
        json_str(song.title),
        if playing { "resuming" } else { "pausing" },
    )
}

fn episode_body(in_act: u64, playing: bool) -> String {
    let description =
        "A long description with \\\"quotes\\\", \\u00e9scapes and \\n newlines. ".repeat(40);
    format!(
        r##"{{"device":{{"name":"Desk speaker","type":"Speaker","volume_percent":60}},"shuffle_state":false,"repeat_state":"off","progress_ms":{},"currently_playing_type":"episode","is_playing":{playing},"actions":{{"disallows":{{}}}},"item":{{"type":"episode","name":"#212 – The History of Vinyl, Part 3","duration_ms":7200000,"description":"{description}","html_description":"<p>{description}</p>","images":[],"show":{{"name":"Groove Talk","publisher":"Groove Media","images":[]}}}}}}"##,
        2_760_000 + in_act
    )
}

fn ad_body(in_act: u64) -> String {
    format!(
        r#"{{"timestamp":0,"context":null,"progress_ms":{in_act},"item":null,"currently_playing_type":"ad","actions":{{"disallows":{{"resuming":true,"seeking":true,"skipping_next":true,"skipping_prev":true}}}},"is_playing":true}}"#
    )
}

/// The demo's credentials: nothing real, nothing secret.
pub fn demo_credentials() -> Credentials {
    Credentials {
        client_id: bounded("tonearm-demo").0,
        client_secret: None,
        refresh_token: Secret::new("demo-refresh-token"),
    }
}

/// The scripted network: answers at once, in 256-byte chunks.
pub struct DemoNetwork {
    /// The script.
    pub spotify: DemoSpotify,
    seed: u64,
}

impl Network for DemoNetwork {
    /// At a new pass of the script, and at the acts that need one (a revoked token, a
    /// wrong client id), a fresh session.
    fn new_session(&mut self, now_ms: u64, busy: bool) -> Option<Session> {
        self.spotify.advance(now_ms);
        let epoch = self.spotify.epoch();
        if epoch == self.spotify.session_epoch || busy {
            return None;
        }
        self.spotify.session_epoch = epoch;
        self.seed = self.seed.wrapping_add(1);
        Some(Session::new(demo_credentials(), demo_timing(), self.seed))
    }

    fn start(&mut self, req: Request, now_ms: u64) {
        let s = &mut self.spotify;
        s.advance(now_ms);
        let (status, retry_after, body) = s.respond(&req);
        s.queue.push_back(NetEvent::Head {
            status,
            retry_after: retry_after.map(String::from),
        });
        for chunk in body.as_bytes().chunks(256) {
            s.queue.push_back(NetEvent::Body(chunk.to_vec()));
        }
        s.queue.push_back(NetEvent::End);
    }

    fn next_event(&mut self, _timeout: Duration) -> Option<NetEvent> {
        self.spotify.queue.pop_front()
    }
}

impl DemoNetwork {
    /// A network playing the script from its start; `seed` seeds the sessions' jitter.
    pub fn new(seed: u64) -> Self {
        DemoNetwork {
            spotify: DemoSpotify::new(),
            seed,
        }
    }
}
