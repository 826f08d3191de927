//! The scripted player: one account's player living through a day, answering the
//! display's requests as the Web API does.
//!
//! It sees a request at the moment it is sent (a control applies then) and the answer
//! describes that moment. Times are the caller's monotonic ms.

use std::fmt::Write as _;
use std::rc::Rc;

use crate::Track;
use crate::answer::{Answer, NO_DEVICE_BODY, NOT_FOUND_BODY};
use crate::body::quoted;

/// Which host a request goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Host {
    /// The Web API (`https://api.spotify.com/v1`).
    Api,
    /// The accounts service (`https://accounts.spotify.com`).
    Accounts,
}

/// A request as the script sees it: where it goes, nothing else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Call<'a> {
    /// The host.
    pub host: Host,
    /// The method's name (`GET`, `POST`, `PUT`).
    pub method: &'a str,
    /// The path below the host's base, with the query.
    pub path: &'a str,
}

impl Call<'_> {
    /// The path without the query.
    pub fn route(&self) -> &str {
        self.path.split('?').next().unwrap_or("")
    }
}

/// A skip (on another device or from the display).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// The next item (or the list ends).
    Next,
    /// The previous item (the first one is restarted).
    Previous,
}

/// What a player shows, as the display should show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// Nothing is loaded (the player answers 204).
    Nothing,
    /// An item is loaded, playing or paused.
    Item {
        /// Its title.
        title: Rc<str>,
        /// Playing (`true`) or paused.
        playing: bool,
    },
}

/// What a request was for, by its method and path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestClass {
    /// `GET /me/player`, `GET /me/player/currently-playing`.
    Player,
    /// `POST /api/token`.
    Token,
    /// `PUT /me/player/play|pause`, `POST /me/player/next|previous`: made for a press.
    Control,
    /// Anything else the app asks by itself.
    Other,
}

impl RequestClass {
    /// The class of a request.
    pub fn of(call: &Call<'_>) -> RequestClass {
        match (call.host, call.method, call.route()) {
            (Host::Accounts, "POST", "/api/token") => RequestClass::Token,
            (Host::Api, "GET", "/me/player" | "/me/player/currently-playing") => {
                RequestClass::Player
            }
            (Host::Api, "PUT", "/me/player/play" | "/me/player/pause")
            | (Host::Api, "POST", "/me/player/next" | "/me/player/previous") => {
                RequestClass::Control
            }
            _ => RequestClass::Other,
        }
    }
}

/// The scripted player.
#[derive(Debug, Clone)]
pub struct Spotify {
    /// Unix ms at monotonic 0 (for `timestamp`).
    unix_at_zero_ms: u64,
    list: Rc<[Track]>,
    /// The item loaded, if any.
    index: Option<usize>,
    playing: bool,
    /// The position at `since_ms`.
    pos_ms: u64,
    since_ms: u64,
    /// When the playback state last changed (Spotify's `timestamp`).
    changed_ms: u64,
    /// Every call answers the quota 429 before this time.
    quota_until_ms: u64,
    /// Which `play` list is loaded (for ids).
    list_no: u32,
    tokens: u32,
}

impl Spotify {
    /// A player with nothing loaded; `unix_at_zero_ms` is the Unix time of monotonic 0.
    pub fn new(unix_at_zero_ms: u64) -> Spotify {
        Spotify {
            unix_at_zero_ms,
            list: Rc::from(Vec::new()),
            index: None,
            playing: false,
            pos_ms: 0,
            since_ms: 0,
            changed_ms: 0,
            quota_until_ms: 0,
            list_no: 0,
            tokens: 0,
        }
    }

    /// What the player shows now.
    pub fn state(&self) -> State {
        match self.item() {
            Some(t) => State::Item {
                title: t.title.clone(),
                playing: self.playing,
            },
            None => State::Nothing,
        }
    }

    fn item(&self) -> Option<&Track> {
        self.list.get(self.index?)
    }

    /// The position of the loaded item at `now`.
    pub fn position(&self, now: u64) -> u64 {
        let d = self.item().map_or(0, |t| t.duration_ms);
        if self.playing {
            (self.pos_ms + now.saturating_sub(self.since_ms)).min(d)
        } else {
            self.pos_ms
        }
    }

    /// When the item playing ends by itself, if one plays.
    pub fn next_end(&self) -> Option<u64> {
        let t = self.item().filter(|_| self.playing)?;
        Some(self.since_ms + t.duration_ms.saturating_sub(self.pos_ms))
    }

    /// The item playing ended at `t` (its [`Spotify::next_end`]): the next one begins,
    /// or the list ends.
    pub fn end_track(&mut self, t: u64) {
        self.go_to(t, self.index.map(|i| i + 1));
    }

    /// Loads item `index` (nothing when past the end) at position 0, keeping
    /// playing/paused.
    fn go_to(&mut self, now: u64, index: Option<usize>) {
        self.index = index.filter(|i| *i < self.list.len());
        if self.index.is_none() {
            self.playing = false;
        }
        self.pos_ms = 0;
        self.since_ms = now;
        self.changed_ms = now;
    }

    /// `play`: `list` replaces whatever is loaded; its first item plays from 0.
    pub fn play(&mut self, now: u64, list: Rc<[Track]>) {
        self.list = list;
        self.list_no += 1;
        self.playing = true;
        self.go_to(now, Some(0));
    }

    /// A skip (on another device or from the display). Nothing loaded: no change.
    pub fn skip(&mut self, now: u64, skip: Skip) {
        let Some(i) = self.index else {
            return;
        };
        match skip {
            Skip::Next => self.go_to(now, Some(i + 1)),
            Skip::Previous => self.go_to(now, Some(i.saturating_sub(1))),
        }
    }

    /// Pause (when playing).
    pub fn pause(&mut self, now: u64) {
        if self.index.is_some() && self.playing {
            self.pos_ms = self.position(now);
            self.since_ms = now;
            self.playing = false;
            self.changed_ms = now;
        }
    }

    /// Resume (when paused).
    pub fn resume(&mut self, now: u64) {
        if self.index.is_some() && !self.playing {
            self.since_ms = now;
            self.playing = true;
            self.changed_ms = now;
        }
    }

    /// Stop: nothing is loaded.
    pub fn stop(&mut self, now: u64) {
        if self.index.is_some() {
            self.go_to(now, None);
        }
    }

    /// Every call answers the quota 429 from `now` for `retry_after_s`.
    pub fn quota_exceeded(&mut self, now: u64, retry_after_s: u64) {
        self.quota_until_ms = self
            .quota_until_ms
            .max(now.saturating_add(retry_after_s.saturating_mul(1000)));
    }

    /// Whether calls answer the quota 429 at `now`.
    pub fn quota_active(&self, now: u64) -> bool {
        now < self.quota_until_ms
    }

    /// Answers `call`, sent at `now` (a control applies now).
    pub fn answer(&mut self, now: u64, call: &Call<'_>) -> Answer {
        if self.quota_active(now) {
            let secs = (self.quota_until_ms - now).div_ceil(1000);
            return Answer::quota(Some(&secs.to_string()));
        }
        let path = call.route();
        match RequestClass::of(call) {
            RequestClass::Token => {
                self.tokens += 1;
                Answer::token(&format!("sim-access-{}", self.tokens), None)
            }
            RequestClass::Player => match self.player_body(now, path == "/me/player") {
                Some(body) => Answer::new(200, body),
                None => Answer::empty(204),
            },
            RequestClass::Control => {
                if self.index.is_none() {
                    return Answer::new(404, NO_DEVICE_BODY);
                }
                match path {
                    "/me/player/play" => self.resume(now),
                    "/me/player/pause" => self.pause(now),
                    "/me/player/next" => self.skip(now, Skip::Next),
                    _ => self.skip(now, Skip::Previous),
                }
                Answer::empty(204)
            }
            RequestClass::Other => Answer::new(404, NOT_FOUND_BODY),
        }
    }

    /// The player body at `now` (`device` and the rest when `full`), or `None` (204).
    fn player_body(&self, now: u64, full: bool) -> Option<String> {
        let i = self.index?;
        let t = self.item()?;
        let title = quoted(&t.title);
        let id = format!("sim{:04}t{:04}", self.list_no, i);
        let mut b = String::with_capacity(2048);
        b.push('{');
        if full {
            b.push_str(
                r#""device":{"id":"simdevice0","is_active":true,"is_private_session":false,"is_restricted":false,"name":"Kitchen speaker","supports_volume":true,"type":"Speaker","volume_percent":62},"shuffle_state":false,"smart_shuffle":false,"repeat_state":"off","#,
            );
        }
        let disallows = if self.playing {
            r#"{"resuming":true}"#
        } else {
            r#"{"pausing":true}"#
        };
        let _ = write!(
            b,
            concat!(
                r#""timestamp":{ts},"context":{{"external_urls":{{"spotify":"https://open.spotify.com/playlist/simlist{list}"}},"href":"https://api.spotify.com/v1/playlists/simlist{list}","type":"playlist","uri":"spotify:playlist:simlist{list}"}},"#,
                r#""progress_ms":{pos},"item":{{"album":{{"album_type":"album","artists":[{{"external_urls":{{"spotify":"https://open.spotify.com/artist/simartist"}},"href":"https://api.spotify.com/v1/artists/simartist","id":"simartist","name":"The Simulators","type":"artist","uri":"spotify:artist:simartist"}}],"#,
                r#""external_urls":{{"spotify":"https://open.spotify.com/album/simalbum{list}"}},"href":"https://api.spotify.com/v1/albums/simalbum{list}","id":"simalbum{list}","#,
                r#""images":[{{"height":640,"url":"https://i.scdn.co/image/sim{list}a640","width":640}},{{"height":300,"url":"https://i.scdn.co/image/sim{list}a300","width":300}},{{"height":64,"url":"https://i.scdn.co/image/sim{list}a64","width":64}}],"#,
                r#""name":"Simulated Sessions {list}","release_date":"2026-01-01","release_date_precision":"day","total_tracks":{total},"type":"album","uri":"spotify:album:simalbum{list}"}},"#,
                r#""artists":[{{"external_urls":{{"spotify":"https://open.spotify.com/artist/simartist"}},"href":"https://api.spotify.com/v1/artists/simartist","id":"simartist","name":"The Simulators","type":"artist","uri":"spotify:artist:simartist"}}],"#,
                r#""disc_number":1,"duration_ms":{dur},"explicit":false,"external_ids":{{"isrc":"XXSIM2600000"}},"external_urls":{{"spotify":"https://open.spotify.com/track/{id}"}},"href":"https://api.spotify.com/v1/tracks/{id}","id":"{id}","is_local":false,"is_playable":true,"#,
                r#""name":{title},"track_number":{no},"type":"track","uri":"spotify:track:{id}"}},"#,
                r#""currently_playing_type":"track","actions":{{"disallows":{dis}}},"is_playing":{playing}}}"#
            ),
            ts = self.unix_at_zero_ms + self.changed_ms,
            list = self.list_no,
            pos = self.position(now),
            total = self.list.len(),
            dur = t.duration_ms,
            id = id,
            title = title,
            no = i + 1,
            dis = disallows,
            playing = self.playing,
        );
        Some(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tracks(n: usize) -> Rc<[Track]> {
        crate::Timeline::uniform(100_000, (n as u64 - 1) * 100_000).tracks("T")
    }

    fn item(title: &str, playing: bool) -> State {
        State::Item {
            title: Rc::from(title),
            playing,
        }
    }

    const PLAYER: Call<'static> = Call {
        host: Host::Api,
        method: "GET",
        path: "/me/player?additional_types=track,episode&market=from_token",
    };

    #[test]
    fn a_list_plays_through_and_ends() {
        let mut s = Spotify::new(0);
        assert_eq!(s.state(), State::Nothing);
        s.play(1000, tracks(2));
        assert_eq!(s.next_end(), Some(101_000));
        s.pause(51_000);
        assert_eq!((s.position(90_000), s.next_end()), (50_000, None));
        s.resume(61_000);
        assert_eq!(s.next_end(), Some(111_000));
        s.end_track(111_000);
        assert_eq!(s.state(), item("T1", true));
        s.skip(120_000, Skip::Previous);
        assert_eq!((s.state(), s.position(120_000)), (item("T0", true), 0));
        s.skip(121_000, Skip::Previous);
        assert_eq!(s.state(), item("T0", true), "the first one restarts");
        s.pause(122_000);
        s.skip(123_000, Skip::Next);
        assert_eq!(
            s.state(),
            item("T1", false),
            "a skip while paused stays paused"
        );
        s.skip(124_000, Skip::Next);
        assert_eq!((s.state(), s.next_end()), (State::Nothing, None));
        s.skip(125_000, Skip::Next);
        assert_eq!(s.state(), State::Nothing);
    }

    #[test]
    fn calls_are_classed_and_answered() {
        let call = |host, method, path| Call { host, method, path };
        for (c, class) in [
            (
                call(Host::Accounts, "POST", "/api/token"),
                RequestClass::Token,
            ),
            (call(Host::Api, "POST", "/api/token"), RequestClass::Other),
            (PLAYER, RequestClass::Player),
            (
                call(Host::Api, "GET", "/me/player/currently-playing?market=x"),
                RequestClass::Player,
            ),
            (
                call(Host::Api, "PUT", "/me/player/pause"),
                RequestClass::Control,
            ),
            (
                call(Host::Api, "POST", "/me/player/next"),
                RequestClass::Control,
            ),
            (
                call(Host::Api, "GET", "/me/player/next"),
                RequestClass::Other,
            ),
        ] {
            assert_eq!(RequestClass::of(&c), class, "{c:?}");
        }
        let mut s = Spotify::new(1_700_000_000_000);
        assert_eq!(s.answer(0, &PLAYER).status, 204, "nothing loaded");
        let pause = call(Host::Api, "PUT", "/me/player/pause");
        assert_eq!(s.answer(0, &pause).status, 404, "no device");
        s.play(0, tracks(3));
        let a = s.answer(42_000, &PLAYER);
        assert_eq!(a.status, 200);
        let v: serde_json::Value = serde_json::from_slice(&a.body).unwrap();
        assert_eq!(
            (&v["item"]["name"], &v["progress_ms"], &v["is_playing"]),
            (&"T0".into(), &42_000.into(), &true.into())
        );
        assert_eq!(v["timestamp"], 1_700_000_000_000u64);
        assert_eq!(s.answer(43_000, &pause).status, 204);
        assert_eq!(s.state(), item("T0", false));
        let token = call(Host::Accounts, "POST", "/api/token");
        let v: serde_json::Value = serde_json::from_slice(&s.answer(0, &token).body).unwrap();
        assert_eq!(v["access_token"], "sim-access-1");
        s.quota_exceeded(50_000, 100);
        let a = s.answer(50_500, &PLAYER);
        assert!(a.quota);
        assert_eq!((a.status, a.retry_after.as_deref()), (429, Some("100")));
        assert_eq!(s.answer(150_000, &PLAYER).status, 200);
    }
}
