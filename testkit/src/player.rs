//! The scripted player: one account's player living through a day, answering the
//! display's requests as the Web API does.
//!
//! It sees a request at the moment it is sent (a control applies then) and the answer
//! describes that moment. Times are the caller's monotonic ms.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::rc::Rc;

use crate::Track;
use crate::answer::{
    ALL_SCOPES, Answer, INSUFFICIENT_SCOPE_BODY, NO_DEVICE_BODY, NOT_FOUND_BODY,
    VOLUME_DISALLOWED_BODY, api_error_body, token_body, token_body_without_scope,
};
use crate::body::quoted;

/// The markets of an item's `available_markets` (185 codes, as Spotify lists them).
pub const MARKETS: [&str; 185] = [
    "AD", "AE", "AG", "AL", "AM", "AO", "AR", "AT", "AU", "AZ", "BA", "BB", "BD", "BE", "BF", "BG",
    "BH", "BI", "BJ", "BN", "BO", "BR", "BS", "BT", "BW", "BY", "BZ", "CA", "CD", "CG", "CH", "CI",
    "CL", "CM", "CO", "CR", "CV", "CW", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "ES", "ET", "FI", "FJ", "FM", "FR", "GA", "GB", "GD", "GE", "GH", "GM", "GN", "GQ", "GR",
    "GT", "GW", "GY", "HK", "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IN", "IQ", "IS", "IT", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KR", "KW", "KZ", "LA", "LB", "LC", "LI", "LK",
    "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MG", "MH", "MK", "ML", "MN", "MO",
    "MR", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA", "NE", "NG", "NI", "NL", "NO", "NP", "NR",
    "NZ", "OM", "PA", "PE", "PG", "PH", "PK", "PL", "PR", "PS", "PT", "PW", "PY", "QA", "RO", "RS",
    "RW", "SA", "SB", "SC", "SE", "SG", "SI", "SK", "SL", "SM", "SN", "SR", "ST", "SV", "SZ", "TD",
    "TG", "TH", "TJ", "TL", "TN", "TO", "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "US", "UY", "UZ",
    "VC", "VE", "VN", "VU", "WS", "XK", "ZA", "ZM", "ZW",
];

/// The most items `GET /me/player/queue` lists.
pub const QUEUE_LEN: usize = 20;

/// The most URIs one library request may carry.
pub const MAX_LIBRARY_URIS: usize = 40;

/// The device's volume until changed.
pub const DEFAULT_VOLUME_PERCENT: u8 = 62;

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

    /// The first query parameter `name`, percent-decoded (`+` is a space):
    /// `uris=spotify%3Atrack%3Ax` and `uris=spotify:track:x` both give `spotify:track:x`.
    pub fn query_param(&self, name: &str) -> Option<String> {
        let (_, query) = self.path.split_once('?')?;
        query.split('&').find_map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(key) == name).then(|| percent_decode(value))
        })
    }
}

/// Decodes `%XX` (a bad escape stays as it is) and `+`.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => match bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                Some(byte) => {
                    out.push(byte);
                    i += 2;
                }
                None => out.push(b'%'),
            },
            _ => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
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
    /// `GET /me/library/contains?uris=..`, `PUT` and `DELETE /me/library?uris=..`: whether
    /// the item is liked, like, unlike.
    Library,
    /// `PUT /me/player/volume?volume_percent=N`.
    Volume,
    /// `GET /me/player/queue`.
    Queue,
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
            (Host::Api, "GET", "/me/library/contains")
            | (Host::Api, "PUT" | "DELETE", "/me/library") => RequestClass::Library,
            (Host::Api, "PUT", "/me/player/volume") => RequestClass::Volume,
            (Host::Api, "GET", "/me/player/queue") => RequestClass::Queue,
            _ => RequestClass::Other,
        }
    }

    /// The scopes of which the access token needs one for `call` (`None`: no scope
    /// check).
    pub fn scopes(call: &Call<'_>) -> Option<&'static [&'static str]> {
        Some(match RequestClass::of(call) {
            RequestClass::Player if call.route() == "/me/player" => &["user-read-playback-state"],
            RequestClass::Player => &["user-read-currently-playing", "user-read-playback-state"],
            RequestClass::Control | RequestClass::Volume => &["user-modify-playback-state"],
            RequestClass::Queue => &["user-read-playback-state", "user-read-currently-playing"],
            RequestClass::Library if call.method == "GET" => &["user-library-read"],
            RequestClass::Library => &["user-library-modify"],
            RequestClass::Token | RequestClass::Other => return None,
        })
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
    /// The saved items, by URI.
    liked: HashSet<String>,
    supports_volume: bool,
    volume_percent: Option<u8>,
    /// The scopes every token carries, space-separated.
    scopes: String,
    /// Whether token answers list `scope`.
    scope_in_token: bool,
    /// A queue set by the test (instead of the next items of the list).
    queue: Option<Rc<[Track]>>,
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
            liked: HashSet::new(),
            supports_volume: true,
            volume_percent: Some(DEFAULT_VOLUME_PERCENT),
            scopes: ALL_SCOPES.to_owned(),
            scope_in_token: true,
            queue: None,
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

    /// The id of item `index` of the list loaded (`sim0001t0003`: list 1, item 3).
    pub fn item_id(&self, index: usize) -> String {
        format!("sim{:04}t{:04}", self.list_no, index)
    }

    /// The id of the item loaded, if any.
    pub fn current_id(&self) -> Option<String> {
        self.item().and(self.index).map(|i| self.item_id(i))
    }

    /// The URI of the item loaded (`spotify:track:sim0001t0003`), if any.
    pub fn current_uri(&self) -> Option<String> {
        self.current_id().map(|id| format!("spotify:track:{id}"))
    }

    /// Saves (`true`) or removes an item in the user's library: `id` is a URI
    /// (`spotify:episode:x`) or a track's bare id (`x` is `spotify:track:x`).
    pub fn set_liked(&mut self, id: &str, liked: bool) {
        let key = liked_key(id);
        if liked {
            self.liked.insert(key);
        } else {
            self.liked.remove(&key);
        }
    }

    /// Whether the library holds `id` (a URI, or a track's bare id).
    pub fn is_liked(&self, id: &str) -> bool {
        self.liked.contains(&liked_key(id))
    }

    /// The device's `supports_volume` (default `true`); `false`: volume requests get 403
    /// `VOLUME_CONTROL_DISALLOW`.
    pub fn set_supports_volume(&mut self, supports: bool) {
        self.supports_volume = supports;
    }

    /// The device's `volume_percent` in `/me/player` bodies (`None`: `null`; default
    /// [`DEFAULT_VOLUME_PERCENT`]).
    pub fn set_volume_percent(&mut self, volume: Option<u8>) {
        self.volume_percent = volume;
    }

    /// The device's volume now.
    pub fn volume_percent(&self) -> Option<u8> {
        self.volume_percent
    }

    /// The scopes every token carries (default [`ALL_SCOPES`]); a request needing one it
    /// lacks ([`RequestClass::scopes`]) gets 403 `Insufficient client scope`.
    pub fn set_scopes(&mut self, scopes: &[&str]) {
        self.scopes = scopes.join(" ");
    }

    /// Whether token answers carry `scope` (default: yes).
    pub fn set_scope_in_token_answer(&mut self, on: bool) {
        self.scope_in_token = on;
    }

    /// The queue `GET /me/player/queue` lists (its first [`QUEUE_LEN`] items, ids
    /// `sim0001q0000`, ...), instead of the next items of the list (`None`, the default).
    pub fn set_queue(&mut self, queue: Option<Rc<[Track]>>) {
        self.queue = queue;
    }

    fn has_scope(&self, name: &str) -> bool {
        self.scopes.split_whitespace().any(|s| s == name)
    }

    /// Answers `call`, sent at `now` (a control applies now), without a request body.
    pub fn answer(&mut self, now: u64, call: &Call<'_>) -> Answer {
        self.answer_with_body(now, call, &[])
    }

    /// Answers `call`, sent at `now` with `body` (the library and volume refuse a
    /// body with 400: their parameters go in the query string).
    pub fn answer_with_body(&mut self, now: u64, call: &Call<'_>, body: &[u8]) -> Answer {
        if self.quota_active(now) {
            let secs = (self.quota_until_ms - now).div_ceil(1000);
            return Answer::quota(Some(&secs.to_string()));
        }
        if let Some(any_of) = RequestClass::scopes(call)
            && !any_of.iter().any(|s| self.has_scope(s))
        {
            return Answer::new(403, INSUFFICIENT_SCOPE_BODY);
        }
        let path = call.route();
        match RequestClass::of(call) {
            RequestClass::Token => {
                self.tokens += 1;
                let access = format!("sim-access-{}", self.tokens);
                if self.scope_in_token {
                    Answer::new(200, token_body(&access, None, &self.scopes))
                } else {
                    Answer::new(200, token_body_without_scope(&access, None))
                }
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
            RequestClass::Volume => self.volume(call, body),
            RequestClass::Queue => Answer::new(200, self.queue_body()),
            RequestClass::Library => self.library(call, body),
            RequestClass::Other => Answer::new(404, NOT_FOUND_BODY),
        }
    }

    /// `PUT /me/player/volume?volume_percent=N`: 400 for a body or `N` outside 0..=100,
    /// 404 `NO_ACTIVE_DEVICE` when nothing is loaded, 403 `VOLUME_CONTROL_DISALLOW`
    /// without volume control, else 204.
    fn volume(&mut self, call: &Call<'_>, body: &[u8]) -> Answer {
        let bad = |message: &str| Answer::new(400, api_error_body(400, message, None));
        if !body.is_empty() {
            return bad("volume_percent must be given in the query string");
        }
        let Some(value) = call.query_param("volume_percent") else {
            return bad("Required parameter volume_percent missing");
        };
        let volume = match value.trim().parse::<u8>() {
            Ok(v) if v <= 100 => v,
            _ => return bad("Invalid volume_percent value: must be 0..100"),
        };
        if self.index.is_none() {
            return Answer::new(404, NO_DEVICE_BODY);
        }
        if !self.supports_volume {
            return Answer::new(403, VOLUME_DISALLOWED_BODY);
        }
        self.volume_percent = Some(volume);
        Answer::empty(204)
    }

    /// `GET /me/library/contains` (a JSON array of booleans), `PUT` and `DELETE
    /// /me/library` (200, empty body; idempotent).
    fn library(&mut self, call: &Call<'_>, body: &[u8]) -> Answer {
        let bad = |message: &str| Answer::new(400, api_error_body(400, message, None));
        if !body.is_empty() {
            return bad("Request body is not supported: pass uris in the query string");
        }
        let uris: Vec<String> = call
            .query_param("uris")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(str::to_owned)
            .collect();
        if uris.is_empty() {
            return bad("Missing required field: uris");
        }
        if uris.len() > MAX_LIBRARY_URIS {
            return bad("Too many uris requested");
        }
        if let Some(uri) = uris.iter().find(|u| !valid_uri(u)) {
            return bad(&format!("Invalid uri: {uri}"));
        }
        match call.method {
            "GET" => {
                let mut out = String::from("[");
                for (k, uri) in uris.iter().enumerate() {
                    if k > 0 {
                        out.push(',');
                    }
                    out.push_str(if self.liked.contains(uri) {
                        "true"
                    } else {
                        "false"
                    });
                }
                out.push(']');
                Answer::new(200, out)
            }
            "PUT" => {
                self.liked.extend(uris);
                Answer::empty(200)
            }
            _ => {
                for uri in &uris {
                    self.liked.remove(uri);
                }
                Answer::empty(200)
            }
        }
    }

    /// The queue body: `{"currently_playing": <full track or null>, "queue": [...]}`
    /// with the next [`QUEUE_LEN`] items of the list (it ends: no wrapping), or the
    /// test's queue; nothing loaded: `{"currently_playing":null,"queue":[]}` (200:
    /// SPOTIFY-API.md documents no 204 for the queue).
    fn queue_body(&self) -> String {
        let mut b = String::with_capacity(64 * 1024);
        b.push_str(r#"{"currently_playing":"#);
        match (self.index, self.item()) {
            (Some(i), Some(t)) => self.track_json(&mut b, &self.item_id(i), t, i + 1, true),
            _ => b.push_str("null"),
        }
        b.push_str(r#","queue":["#);
        let mut first = true;
        let mut sep = |b: &mut String| {
            if !first {
                b.push(',');
            }
            first = false;
        };
        if let Some(queue) = &self.queue {
            for (k, t) in queue.iter().take(QUEUE_LEN).enumerate() {
                sep(&mut b);
                let id = format!("sim{:04}q{:04}", self.list_no, k);
                self.track_json(&mut b, &id, t, k + 1, true);
            }
        } else if let Some(i) = self.index {
            for (k, t) in self.list.iter().enumerate().skip(i + 1).take(QUEUE_LEN) {
                sep(&mut b);
                self.track_json(&mut b, &self.item_id(k), t, k + 1, true);
            }
        }
        b.push_str("]}");
        b
    }

    /// The full track object of `t` (`no`: its `track_number`); with the two
    /// `available_markets` arrays when `markets` (a request without `market`).
    fn track_json(&self, b: &mut String, id: &str, t: &Track, no: usize, markets: bool) {
        const ARTIST: &str = r#"{"external_urls":{"spotify":"https://open.spotify.com/artist/simartist"},"href":"https://api.spotify.com/v1/artists/simartist","id":"simartist","name":"The Simulators","type":"artist","uri":"spotify:artist:simartist"}"#;
        let mut market_list = String::new();
        if markets {
            market_list.push_str(r#""available_markets":["#);
            for (k, m) in MARKETS.iter().enumerate() {
                if k > 0 {
                    market_list.push(',');
                }
                let _ = write!(market_list, r#""{m}""#);
            }
            market_list.push_str("],");
        }
        let _ = write!(
            b,
            concat!(
                r#"{{"album":{{"album_type":"album","artists":[{artist}],{markets}"#,
                r#""external_urls":{{"spotify":"https://open.spotify.com/album/simalbum{list}"}},"href":"https://api.spotify.com/v1/albums/simalbum{list}","id":"simalbum{list}","#,
                r#""images":[{{"height":640,"url":"https://i.scdn.co/image/sim{list}a640","width":640}},{{"height":300,"url":"https://i.scdn.co/image/sim{list}a300","width":300}},{{"height":64,"url":"https://i.scdn.co/image/sim{list}a64","width":64}}],"#,
                r#""name":"Simulated Sessions {list}","release_date":"2026-01-01","release_date_precision":"day","total_tracks":{total},"type":"album","uri":"spotify:album:simalbum{list}"}},"#,
                r#""artists":[{artist}],{markets}"#,
                r#""disc_number":1,"duration_ms":{dur},"explicit":false,"external_ids":{{"isrc":"XXSIM2600000"}},"external_urls":{{"spotify":"https://open.spotify.com/track/{id}"}},"href":"https://api.spotify.com/v1/tracks/{id}","id":"{id}","is_local":false,"is_playable":true,"#,
                r#""name":{title},"track_number":{no},"type":"track","uri":"spotify:track:{id}"}}"#,
            ),
            artist = ARTIST,
            markets = market_list,
            list = self.list_no,
            total = self.list.len(),
            dur = t.duration_ms,
            id = id,
            title = quoted(&t.title),
            no = no,
        );
    }

    /// The player body at `now` (`device` and the rest when `full`), or `None` (204).
    fn player_body(&self, now: u64, full: bool) -> Option<String> {
        let i = self.index?;
        let t = self.item()?;
        let mut b = String::with_capacity(2048);
        b.push('{');
        if full {
            let volume = self
                .volume_percent
                .map_or_else(|| "null".to_owned(), |v| v.to_string());
            let _ = write!(
                b,
                r#""device":{{"id":"simdevice0","is_active":true,"is_private_session":false,"is_restricted":false,"name":"Kitchen speaker","supports_volume":{},"type":"Speaker","volume_percent":{volume}}},"shuffle_state":false,"smart_shuffle":false,"repeat_state":"off","#,
                self.supports_volume
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
                r#""progress_ms":{pos},"item":"#,
            ),
            ts = self.unix_at_zero_ms + self.changed_ms,
            list = self.list_no,
            pos = self.position(now),
        );
        self.track_json(&mut b, &self.item_id(i), t, i + 1, false);
        let _ = write!(
            b,
            r#","currently_playing_type":"track","actions":{{"disallows":{disallows}}},"is_playing":{}}}"#,
            self.playing
        );
        Some(b)
    }
}

/// The URI kinds the library takes.
const LIBRARY_KINDS: [&str; 7] = [
    "track",
    "episode",
    "album",
    "show",
    "audiobook",
    "artist",
    "playlist",
];

/// `spotify:<kind>:<base62 id>`.
fn valid_uri(uri: &str) -> bool {
    let mut parts = uri.split(':');
    matches!(
        (parts.next(), parts.next(), parts.next(), parts.next()),
        (Some("spotify"), Some(kind), Some(id), None)
            if LIBRARY_KINDS.contains(&kind)
                && !id.is_empty()
                && id.bytes().all(|b| b.is_ascii_alphanumeric())
    )
}

/// A liked-set key: `id` itself when it is a URI, else `spotify:track:<id>`.
fn liked_key(id: &str) -> String {
    if id.starts_with("spotify:") {
        id.to_owned()
    } else {
        format!("spotify:track:{id}")
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

    fn api<'a>(method: &'a str, path: &'a str) -> Call<'a> {
        Call {
            host: Host::Api,
            method,
            path,
        }
    }

    fn json(a: &Answer) -> serde_json::Value {
        serde_json::from_slice(&a.body).unwrap_or(serde_json::Value::Null)
    }

    const SCOPE_403: &str = r#"{"error":{"status":403,"message":"Insufficient client scope"}}"#;

    #[test]
    fn the_new_requests_are_classed_with_their_scopes() {
        for (c, class, scopes) in [
            (
                api("GET", "/me/library/contains?uris=spotify:track:a"),
                RequestClass::Library,
                Some(&["user-library-read"][..]),
            ),
            (
                api("PUT", "/me/library?uris=spotify:track:a"),
                RequestClass::Library,
                Some(&["user-library-modify"][..]),
            ),
            (
                api("DELETE", "/me/library?uris=spotify:track:a"),
                RequestClass::Library,
                Some(&["user-library-modify"][..]),
            ),
            (
                api("PUT", "/me/player/volume?volume_percent=5"),
                RequestClass::Volume,
                Some(&["user-modify-playback-state"][..]),
            ),
            (
                api("GET", "/me/player/queue"),
                RequestClass::Queue,
                Some(&["user-read-playback-state", "user-read-currently-playing"][..]),
            ),
            (
                api("GET", "/me/player?market=from_token"),
                RequestClass::Player,
                Some(&["user-read-playback-state"][..]),
            ),
            (
                api("POST", "/me/player/next"),
                RequestClass::Control,
                Some(&["user-modify-playback-state"][..]),
            ),
            (api("GET", "/me/library"), RequestClass::Other, None),
            (
                api("POST", "/me/library/contains"),
                RequestClass::Other,
                None,
            ),
            (api("GET", "/me/player/volume"), RequestClass::Other, None),
            (api("PUT", "/me/player/queue"), RequestClass::Other, None),
            (
                api("GET", "/me/tracks/contains?ids=a"),
                RequestClass::Other,
                None,
            ),
            (
                Call {
                    host: Host::Accounts,
                    method: "POST",
                    path: "/api/token",
                },
                RequestClass::Token,
                None,
            ),
        ] {
            assert_eq!(RequestClass::of(&c), class, "{c:?}");
            assert_eq!(RequestClass::scopes(&c), scopes, "{c:?}");
        }
        let c = api(
            "GET",
            "/me/library/contains?uris=spotify%3Atrack%3Ax%2Cy&b=1+2&c",
        );
        assert_eq!(c.query_param("uris").as_deref(), Some("spotify:track:x,y"));
        assert_eq!(c.query_param("b").as_deref(), Some("1 2"));
        assert_eq!(c.query_param("c").as_deref(), Some(""));
        assert_eq!(c.query_param("d"), None);
        assert_eq!(api("GET", "/me/x").query_param("a"), None);
    }

    #[test]
    fn library_round_trip() {
        let mut s = Spotify::new(0);
        s.play(0, tracks(3));
        let id = s.current_id().unwrap();
        assert_eq!(id, "sim0001t0000");
        assert_eq!(s.current_uri().unwrap(), "spotify:track:sim0001t0000");
        assert_eq!(s.item_id(2), "sim0001t0002");
        s.set_liked("sim0001t0001", true);
        assert!(s.is_liked("spotify:track:sim0001t0001"));
        let contains = api(
            "GET",
            "/me/library/contains?uris=spotify:track:sim0001t0000,spotify:track:sim0001t0001",
        );
        let a = s.answer(0, &contains);
        assert_eq!((a.status, a.body_text()), (200, "[false,true]".into()));
        let encoded = api(
            "GET",
            "/me/library/contains?uris=spotify%3Atrack%3Asim0001t0001%2Cspotify%3Atrack%3Asim0001t0000",
        );
        assert_eq!(s.answer(0, &encoded).body_text(), "[true,false]");
        let put = api("PUT", "/me/library?uris=spotify%3Atrack%3Asim0001t0000");
        for _ in 0..2 {
            let a = s.answer(0, &put);
            assert_eq!((a.status, a.body.len()), (200, 0), "idempotent");
            assert!(s.is_liked(&id));
        }
        assert_eq!(s.answer(0, &contains).body_text(), "[true,true]");
        let delete = api("DELETE", "/me/library?uris=spotify:track:sim0001t0001");
        for _ in 0..2 {
            let a = s.answer(0, &delete);
            assert_eq!((a.status, a.body.len()), (200, 0), "idempotent");
            assert!(!s.is_liked("sim0001t0001"));
        }
        assert_eq!(s.answer(0, &contains).body_text(), "[true,false]");
        let episode = api("PUT", "/me/library?uris=spotify:episode:simep1");
        assert_eq!(s.answer(0, &episode).status, 200);
        assert!(s.is_liked("spotify:episode:simep1") && !s.is_liked("simep1"));
        s.set_liked("spotify:episode:simep1", false);
        assert!(!s.is_liked("spotify:episode:simep1"));
    }

    #[test]
    fn library_refuses_bodies_and_bad_uris() {
        let mut s = Spotify::new(0);
        let put = api("PUT", "/me/library?uris=spotify:track:a");
        let a = s.answer_with_body(0, &put, br#"{"uris":["spotify:track:a"]}"#);
        assert_eq!(a.status, 400, "a JSON body");
        assert_eq!(json(&a)["error"]["status"], 400);
        assert!(!s.is_liked("a"));
        let get = api("GET", "/me/library/contains?uris=spotify:track:a");
        assert_eq!(s.answer_with_body(0, &get, b"{}").status, 400);
        assert_eq!(s.answer_with_body(0, &put, b"").status, 200);
        assert!(s.is_liked("a"));
        let many = |n: usize| {
            let uris: Vec<String> = (0..n).map(|i| format!("spotify:track:t{i}")).collect();
            format!("/me/library/contains?uris={}", uris.join(","))
        };
        let (forty, forty_one) = (many(40), many(41));
        for path in [
            "/me/library",
            "/me/library?uris=",
            "/me/library?ids=a",
            "/me/library?uris=a",
            "/me/library?uris=spotify:track:",
            "/me/library?uris=spotify:thing:a",
            "/me/library?uris=spotify:track:a:b",
        ] {
            for method in ["PUT", "DELETE"] {
                let a = s.answer(0, &api(method, path));
                assert_eq!(a.status, 400, "{method} {path}");
                assert_eq!(json(&a)["error"]["status"], 400);
            }
        }
        let a = s.answer(0, &api("GET", &forty_one));
        assert_eq!(a.status, 400);
        let a = s.answer(0, &api("GET", &forty));
        assert_eq!(json(&a).as_array().map(Vec::len), Some(40));
        assert!(s.is_liked("a"));
    }

    #[test]
    fn every_endpoint_needs_its_scope_and_the_token_lists_them() {
        let mut s = Spotify::new(0);
        s.play(0, tracks(2));
        let token = Call {
            host: Host::Accounts,
            method: "POST",
            path: "/api/token",
        };
        let v = json(&s.answer(0, &token));
        assert_eq!(v["scope"], ALL_SCOPES);
        for (c, needs) in [
            (
                api("GET", "/me/library/contains?uris=spotify:track:a"),
                &["user-library-read"][..],
            ),
            (
                api("PUT", "/me/library?uris=spotify:track:a"),
                &["user-library-modify"][..],
            ),
            (
                api("DELETE", "/me/library?uris=spotify:track:a"),
                &["user-library-modify"][..],
            ),
            (
                api("PUT", "/me/player/volume?volume_percent=3"),
                &["user-modify-playback-state"][..],
            ),
            (
                api("GET", "/me/player/queue"),
                &["user-read-playback-state", "user-read-currently-playing"][..],
            ),
        ] {
            let rest: Vec<&str> = ALL_SCOPES
                .split(' ')
                .filter(|x| !needs.contains(x))
                .collect();
            s.set_scopes(&rest);
            let a = s.answer(0, &c);
            assert_eq!((a.status, a.body_text()), (403, SCOPE_403.into()), "{c:?}");
            s.set_scopes(&ALL_SCOPES.split(' ').collect::<Vec<_>>());
            assert!(matches!(s.answer(0, &c).status, 200 | 204), "{c:?}");
        }
        assert_eq!(s.volume_percent(), Some(3));
        assert!(!s.is_liked("a"));
        // The queue takes either read scope.
        for scope in ["user-read-currently-playing", "user-read-playback-state"] {
            s.set_scopes(&[scope]);
            assert_eq!(s.answer(0, &api("GET", "/me/player/queue")).status, 200);
        }
        // The token answer lists the scopes, or has none.
        s.set_scopes(&["user-read-currently-playing", "user-library-read"]);
        let v = json(&s.answer(0, &token));
        assert_eq!(v["scope"], "user-read-currently-playing user-library-read");
        s.set_scope_in_token_answer(false);
        let v = json(&s.answer(0, &token));
        assert!(v.get("scope").is_none(), "{v}");
        assert_eq!(v["access_token"], "sim-access-3");
        // The player routes check theirs too.
        assert_eq!(
            s.answer(0, &PLAYER).status,
            403,
            "no user-read-playback-state"
        );
        let current = api("GET", "/me/player/currently-playing?market=from_token");
        assert_eq!(s.answer(0, &current).status, 200);
    }

    #[test]
    fn volume_shows_in_the_next_player_body() {
        let mut s = Spotify::new(0);
        let put = |v: &'static str| api("PUT", v);
        assert_eq!(
            s.answer(0, &put("/me/player/volume?volume_percent=10"))
                .body,
            NO_DEVICE_BODY.as_bytes(),
            "nothing loaded: no active device"
        );
        s.play(0, tracks(2));
        assert_eq!(
            json(&s.answer(0, &PLAYER))["device"]["volume_percent"],
            DEFAULT_VOLUME_PERCENT
        );
        for (path, want) in [
            ("/me/player/volume?volume_percent=30", 30),
            ("/me/player/volume?volume_percent=0", 0),
            (
                "/me/player/volume?volume_percent=100&device_id=simdevice0",
                100,
            ),
        ] {
            let a = s.answer(1_000, &put(path));
            assert_eq!((a.status, a.body.len()), (204, 0), "{path}");
            let v = json(&s.answer(2_000, &PLAYER));
            assert_eq!(v["device"]["volume_percent"], want, "{path}");
            assert_eq!(v["device"]["supports_volume"], true);
        }
        for path in [
            "/me/player/volume?volume_percent=101",
            "/me/player/volume?volume_percent=-1",
            "/me/player/volume?volume_percent=x",
            "/me/player/volume?volume_percent=",
            "/me/player/volume",
        ] {
            let a = s.answer(0, &put(path));
            assert_eq!(a.status, 400, "{path}");
            assert_eq!(json(&a)["error"]["status"], 400);
        }
        assert_eq!(s.volume_percent(), Some(100));
        s.set_supports_volume(false);
        let a = s.answer(0, &put("/me/player/volume?volume_percent=20"));
        assert_eq!(a.status, 403);
        assert_eq!(
            a.body_text(),
            r#"{"error":{"status":403,"message":"Player command failed: Cannot control device volume","reason":"VOLUME_CONTROL_DISALLOW"}}"#
        );
        assert_eq!(
            json(&s.answer(0, &PLAYER))["device"]["supports_volume"],
            false
        );
        assert_eq!(s.volume_percent(), Some(100));
        s.set_volume_percent(None);
        assert!(json(&s.answer(0, &PLAYER))["device"]["volume_percent"].is_null());
    }

    #[test]
    fn the_queue_lists_the_next_twenty_full_tracks() {
        let mut s = Spotify::new(0);
        let queue = api("GET", "/me/player/queue");
        // Nothing loaded: 200 (SPOTIFY-API.md documents only 200 for the queue), no
        // current item, an empty queue.
        let a = s.answer(0, &queue);
        assert_eq!(
            (a.status, a.body_text()),
            (200, r#"{"currently_playing":null,"queue":[]}"#.into())
        );
        s.play(0, tracks(30));
        s.skip(1_000, Skip::Next);
        let a = s.answer(2_000, &queue);
        assert_eq!(a.status, 200);
        assert!(
            (40_000..200_000).contains(&a.body.len()),
            "a full-size body: {} bytes",
            a.body.len()
        );
        let v = json(&a);
        assert_eq!(v["currently_playing"]["id"], "sim0001t0001");
        assert_eq!(v["currently_playing"]["name"], "T1");
        let items = v["queue"].as_array().cloned().unwrap_or_default();
        assert_eq!(items.len(), QUEUE_LEN);
        assert_eq!(items[0]["id"], "sim0001t0002");
        assert_eq!(items[0]["uri"], "spotify:track:sim0001t0002");
        assert_eq!(items[0]["name"], "T2");
        assert_eq!(items[19]["id"], "sim0001t0021");
        let t = &items[0];
        for field in [
            "album",
            "artists",
            "available_markets",
            "disc_number",
            "duration_ms",
            "explicit",
            "external_ids",
            "external_urls",
            "href",
            "id",
            "is_local",
            "name",
            "track_number",
            "type",
            "uri",
        ] {
            assert!(t.get(field).is_some(), "{field}");
        }
        assert_eq!(t["type"], "track");
        assert_eq!(t["duration_ms"], 100_000);
        assert_eq!(t["available_markets"].as_array().map(Vec::len), Some(185));
        assert_eq!(
            t["album"]["available_markets"].as_array().map(Vec::len),
            Some(185)
        );
        assert_eq!(t["album"]["images"].as_array().map(Vec::len), Some(3));
        assert_eq!(t["album"]["artists"][0]["name"], "The Simulators");
        assert!(t["external_ids"]["isrc"].is_string());
        // Near the end the list runs out (the scripted list ends: no wrapping).
        for _ in 0..25 {
            s.skip(3_000, Skip::Next);
        }
        let v = json(&s.answer(3_000, &queue));
        assert_eq!(v["currently_playing"]["id"], "sim0001t0026");
        assert_eq!(v["queue"].as_array().map(Vec::len), Some(3));
        // A queue set by the test.
        s.set_queue(Some(tracks(25)));
        let v = json(&s.answer(3_000, &queue));
        assert_eq!(v["queue"].as_array().map(Vec::len), Some(QUEUE_LEN));
        assert_eq!(v["queue"][0]["id"], "sim0001q0000");
        assert_eq!(v["queue"][0]["name"], "T0");
        s.set_queue(None);
        s.stop(4_000);
        let a = s.answer(4_000, &queue);
        assert_eq!(a.body_text(), r#"{"currently_playing":null,"queue":[]}"#);
    }

    #[test]
    fn the_quota_holds_the_new_requests_too() {
        let mut s = Spotify::new(0);
        s.play(0, tracks(2));
        s.quota_exceeded(0, 10);
        for c in [
            api("GET", "/me/library/contains?uris=spotify:track:a"),
            api("PUT", "/me/library?uris=spotify:track:a"),
            api("DELETE", "/me/library?uris=spotify:track:a"),
            api("PUT", "/me/player/volume?volume_percent=1"),
            api("GET", "/me/player/queue"),
        ] {
            let a = s.answer(1_000, &c);
            assert!(a.quota, "{c:?}");
            assert_eq!((a.status, a.retry_after.as_deref()), (429, Some("9")));
        }
        assert!(!s.is_liked("a"));
        assert_eq!(s.volume_percent(), Some(DEFAULT_VOLUME_PERCENT));
    }
}
