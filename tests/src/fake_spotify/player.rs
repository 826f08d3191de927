//! The fake's player model: a playlist, the device, the queue and the liked set, and the
//! answers of the routes it serves when no reply is scripted (the player bodies, the
//! controls, volume, the queue and the library).

use std::collections::HashSet;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use super::{RecordedRequest, Reply, Route, parse_form};

// The scripted Spotify's figures, the same here: the markets of an item's
// `available_markets` (185 codes), the most items the queue lists, the most URIs one
// library request may carry, and the device's volume until changed.
pub use tonearm_testkit::player::{DEFAULT_VOLUME_PERCENT, MARKETS, MAX_LIBRARY_URIS, QUEUE_LEN};

/// What an [`Item`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ItemKind {
    /// A track (`spotify:track:<id>`).
    Track,
    /// A podcast episode (`spotify:episode:<id>`).
    Episode,
}

impl ItemKind {
    /// `track` or `episode`, as in URIs and `type` fields.
    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::Track => "track",
            ItemKind::Episode => "episode",
        }
    }
}

/// One item of the fake's playlist or queue. Build with [`Item::track`],
/// [`Item::episode`] or [`Item::tracks`]; [`Item::json`] is the full Web API object.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Item {
    /// Track or episode.
    pub kind: ItemKind,
    /// The id (base62: ASCII letters and digits).
    pub id: String,
    /// The name.
    pub name: String,
    /// A track's artist; an episode's show publisher.
    pub artist: String,
    /// A track's album; an episode's show.
    pub album: String,
    /// The length in ms.
    pub duration_ms: u64,
}

impl Item {
    /// A track of 3 minutes by "The Fakes" on "Fake Album".
    pub fn track(id: &str, name: &str) -> Item {
        Item {
            kind: ItemKind::Track,
            id: id.to_owned(),
            name: name.to_owned(),
            artist: "The Fakes".to_owned(),
            album: "Fake Album".to_owned(),
            duration_ms: 180_000,
        }
    }

    /// An episode of 45 minutes of "The Fake Show" by "Fake Media".
    pub fn episode(id: &str, name: &str) -> Item {
        Item {
            kind: ItemKind::Episode,
            id: id.to_owned(),
            name: name.to_owned(),
            artist: "Fake Media".to_owned(),
            album: "The Fake Show".to_owned(),
            duration_ms: 2_700_000,
        }
    }

    /// `n` tracks with ids `fake0001t0000`, `fake0001t0001`, ... named `Track 0`, `Track 1`, ...
    pub fn tracks(n: usize) -> Vec<Item> {
        (0..n)
            .map(|i| Item::track(&format!("fake0001t{i:04}"), &format!("Track {i}")))
            .collect()
    }

    /// The same by `artist` on `album` (an episode: published by `artist` in the show
    /// `album`).
    pub fn by(mut self, artist: &str, album: &str) -> Item {
        artist.clone_into(&mut self.artist);
        album.clone_into(&mut self.album);
        self
    }

    /// The same lasting `duration_ms`.
    pub fn with_duration(mut self, duration_ms: u64) -> Item {
        self.duration_ms = duration_ms;
        self
    }

    /// `spotify:track:<id>` or `spotify:episode:<id>`.
    pub fn uri(&self) -> String {
        format!("spotify:{}:{}", self.kind.as_str(), self.id)
    }

    /// The full Web API object (a track with its album, artists, images, external ids ...;
    /// an episode with its descriptions and its show). `markets`: with the
    /// `available_markets` arrays (185 codes each), which any `market` parameter removes.
    pub fn json(&self, markets: bool) -> Value {
        match self.kind {
            ItemKind::Track => self.track_json(markets),
            ItemKind::Episode => self.episode_json(markets),
        }
    }

    fn track_json(&self, markets: bool) -> Value {
        let id = &self.id;
        let album_id = format!("{id}alb");
        let artist_id = base62(&self.artist);
        let artist = json!({
            "external_urls": {"spotify": format!("https://open.spotify.com/artist/{artist_id}")},
            "href": format!("https://api.spotify.com/v1/artists/{artist_id}"),
            "id": artist_id,
            "name": self.artist,
            "type": "artist",
            "uri": format!("spotify:artist:{artist_id}"),
        });
        let mut album = json!({
            "album_type": "album",
            "artists": [artist.clone()],
            "external_urls": {"spotify": format!("https://open.spotify.com/album/{album_id}")},
            "href": format!("https://api.spotify.com/v1/albums/{album_id}"),
            "id": album_id,
            "images": images(&album_id),
            "is_playable": true,
            "name": self.album,
            "release_date": "2026-01-01",
            "release_date_precision": "day",
            "total_tracks": 12,
            "type": "album",
            "uri": format!("spotify:album:{album_id}"),
        });
        let mut track = json!({
            "album": Value::Null,
            "artists": [artist],
            "disc_number": 1,
            "duration_ms": self.duration_ms,
            "explicit": false,
            "external_ids": {"isrc": "XXFAK2600001"},
            "external_urls": {"spotify": format!("https://open.spotify.com/track/{id}")},
            "href": format!("https://api.spotify.com/v1/tracks/{id}"),
            "id": id,
            "is_local": false,
            "is_playable": true,
            "name": self.name,
            "popularity": 42,
            "preview_url": Value::Null,
            "track_number": 1,
            "type": "track",
            "uri": self.uri(),
        });
        if markets {
            album["available_markets"] = json!(MARKETS.as_slice());
            track["available_markets"] = json!(MARKETS.as_slice());
        }
        track["album"] = album;
        track
    }

    fn episode_json(&self, markets: bool) -> Value {
        let id = &self.id;
        let show_id = format!("{id}shw");
        let mut show = json!({
            "copyrights": [],
            "description": long_description(&self.album, false),
            "explicit": false,
            "external_urls": {"spotify": format!("https://open.spotify.com/show/{show_id}")},
            "href": format!("https://api.spotify.com/v1/shows/{show_id}"),
            "html_description": long_description(&self.album, true),
            "id": show_id,
            "images": images(&show_id),
            "is_externally_hosted": false,
            "languages": ["en"],
            "media_type": "audio",
            "name": self.album,
            "publisher": self.artist,
            "total_episodes": 120,
            "type": "show",
            "uri": format!("spotify:show:{show_id}"),
        });
        if markets {
            show["available_markets"] = json!(MARKETS.as_slice());
        }
        json!({
            "audio_preview_url": format!("https://podz-content.spotifycdn.com/audio/clips/{id}/clip.mp3"),
            "description": long_description(&self.name, false),
            "duration_ms": self.duration_ms,
            "explicit": false,
            "external_urls": {"spotify": format!("https://open.spotify.com/episode/{id}")},
            "href": format!("https://api.spotify.com/v1/episodes/{id}"),
            "html_description": long_description(&self.name, true),
            "id": id,
            "images": images(id),
            "is_externally_hosted": false,
            "is_playable": true,
            "language": "en",
            "languages": ["en"],
            "name": self.name,
            "release_date": "2026-01-15",
            "release_date_precision": "day",
            "resume_point": {"fully_played": false, "resume_position_ms": 0},
            "show": show,
            "type": "episode",
            "uri": self.uri(),
        })
    }
}

/// Whether `name` is one of the player's items' covers (Spotify's cover ids start so).
pub(super) fn is_player_image(name: &str) -> bool {
    name.starts_with("ab67616d")
}

/// A cover for the image `name`: 300 px, two colours and a diagonal from the name's hash,
/// so each album looks different and a cover that moves is seen to.
pub(super) fn cover_jpeg(name: &str) -> Vec<u8> {
    let h = name.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    let [a, b, c, d] = h.to_le_bytes();
    let side = 300u16;
    let mut rgb = Vec::with_capacity(usize::from(side) * usize::from(side) * 3);
    for y in 0..side {
        for x in 0..side {
            let on = (x + y) % 100 < 50;
            let (r, g, bl) = if on {
                (a, b, c)
            } else {
                (d, c ^ 0x80, a ^ 0x55)
            };
            rgb.extend_from_slice(&[r, g, bl]);
        }
    }
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 80)
        .encode(&rgb, side, side, jpeg_encoder::ColorType::Rgb)
        .expect("an in-memory JPEG");
    out
}

/// The three sizes Spotify serves, widest first.
fn images(id: &str) -> Value {
    json!([
        {"height": 640, "url": format!("https://i.scdn.co/image/ab67616d0000b273{id}"), "width": 640},
        {"height": 300, "url": format!("https://i.scdn.co/image/ab67616d00001e02{id}"), "width": 300},
        {"height": 64, "url": format!("https://i.scdn.co/image/ab67616d00004851{id}"), "width": 64},
    ])
}

/// An id made of the letters and digits of `name` (`fake` when it has none).
fn base62(name: &str) -> String {
    let id: String = name.chars().filter(char::is_ascii_alphanumeric).collect();
    if id.is_empty() { "fake".to_owned() } else { id }
}

/// A podcast description of a few KB, full of what JSON escapes (quotes, backslashes,
/// newlines, non-ASCII, an emoji); as HTML when `html`.
fn long_description(about: &str, html: bool) -> String {
    let paragraph = format!(
        "In this episode of \u{201c}{about}\u{201d} we talk about \"fake\" servers, \
         back\\slashes and caf\u{e9}s \u{1f3a7}. Links, credits & the full transcript are \
         on our site; write to us at hello@example.invalid."
    );
    let mut out = String::new();
    for i in 0..12 {
        if html {
            out.push_str("<p>");
            out.push_str(&paragraph.replace('&', "&amp;"));
            out.push_str("</p>");
        } else {
            if i > 0 {
                out.push_str("\n\n");
            }
            out.push_str(&paragraph);
        }
    }
    out
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The player, its device, its queue and the user's library.
#[derive(Debug)]
pub(super) struct PlayerModel {
    pub(super) playlist: Vec<Item>,
    /// The item loaded, if any (an index into `playlist`).
    pub(super) current: Option<usize>,
    pub(super) playing: bool,
    /// The position at `since`.
    pos_ms: u64,
    since: Instant,
    /// Unix ms of the last change (Spotify's `timestamp`).
    changed_unix_ms: u64,
    pub(super) device_active: bool,
    pub(super) supports_volume: bool,
    pub(super) volume_percent: Option<u8>,
    /// A queue the test set (instead of the next items of the playlist).
    pub(super) queue: Option<Vec<Item>>,
    /// The saved items, by URI.
    pub(super) liked: HashSet<String>,
    /// Where the items' images point: this server's `/image/` (the fake serves a cover for
    /// any name), so nothing ever asks the real CDN.
    pub(super) image_base: String,
}

/// The image host the items name (replaced by [`PlayerModel::image_base`] in answers).
const CDN: &str = "https://i.scdn.co/image/";

impl PlayerModel {
    /// `body` with its image URLs on this server.
    fn local_images(&self, body: &str) -> String {
        body.replace(CDN, &self.image_base)
    }

    pub(super) fn new() -> PlayerModel {
        PlayerModel {
            playlist: Vec::new(),
            current: None,
            playing: false,
            pos_ms: 0,
            since: Instant::now(),
            changed_unix_ms: unix_ms(),
            device_active: true,
            supports_volume: true,
            volume_percent: Some(DEFAULT_VOLUME_PERCENT),
            queue: None,
            liked: HashSet::new(),
            image_base: CDN.to_owned(),
        }
    }

    pub(super) fn item(&self) -> Option<&Item> {
        self.playlist.get(self.current?)
    }

    /// The position now.
    pub(super) fn position(&self) -> u64 {
        let duration = self.item().map_or(0, |t| t.duration_ms);
        if self.playing {
            let elapsed = u64::try_from(self.since.elapsed().as_millis()).unwrap_or(u64::MAX);
            self.pos_ms.saturating_add(elapsed).min(duration)
        } else {
            self.pos_ms
        }
    }

    /// Loads `index` (nothing when out of range) at position 0.
    pub(super) fn go_to(&mut self, index: Option<usize>) {
        self.current = index.filter(|i| *i < self.playlist.len());
        if self.current.is_none() {
            self.playing = false;
        }
        self.pos_ms = 0;
        self.since = Instant::now();
        self.changed_unix_ms = unix_ms();
    }

    pub(super) fn set_playing(&mut self, playing: bool) {
        if self.current.is_none() || self.playing == playing {
            return;
        }
        self.pos_ms = self.position();
        self.since = Instant::now();
        self.playing = playing;
        self.changed_unix_ms = unix_ms();
    }

    /// The answer of a model route (no scripted reply, no default).
    pub(super) fn answer(&mut self, req: &RecordedRequest) -> Reply {
        match req.route {
            Route::Player => self.player(req, true),
            Route::CurrentlyPlaying => self.player(req, false),
            Route::Play | Route::Pause | Route::Next | Route::Previous => self.control(req.route),
            Route::Volume => self.volume(req),
            Route::Queue => self.queue_reply(),
            Route::LibraryContains | Route::LibrarySave | Route::LibraryRemove => self.library(req),
            _ => Reply::api_error(404, "Service not found"),
        }
    }

    /// `GET /me/player` (`full`) and `GET /me/player/currently-playing`: 204 when no
    /// device is active or nothing is loaded.
    fn player(&self, req: &RecordedRequest, full: bool) -> Reply {
        let (Some(item), true) = (self.item(), self.device_active) else {
            return Reply::no_content();
        };
        let params = parse_form(req.query().unwrap_or_default().as_bytes());
        let param = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v);
        let markets = param("market").is_none();
        let episodes = param("additional_types")
            .is_some_and(|types| types.split(',').any(|t| t.trim() == "episode"));
        let item_json = if item.kind == ItemKind::Episode && !episodes {
            Value::Null
        } else {
            item.json(markets)
        };
        let disallows = if self.playing {
            json!({"resuming": true})
        } else {
            json!({"pausing": true})
        };
        let mut body = json!({
            "actions": {"disallows": disallows},
            "context": {
                "external_urls": {"spotify": "https://open.spotify.com/playlist/fakelist"},
                "href": "https://api.spotify.com/v1/playlists/fakelist",
                "type": "playlist",
                "uri": "spotify:playlist:fakelist",
            },
            "currently_playing_type": item.kind.as_str(),
            "is_playing": self.playing,
            "item": item_json,
            "progress_ms": self.position(),
            "timestamp": self.changed_unix_ms,
        });
        if full {
            body["device"] = self.device_json();
            body["repeat_state"] = "context".into();
            body["shuffle_state"] = false.into();
            body["smart_shuffle"] = false.into();
        }
        Reply::json(200, self.local_images(&body.to_string()))
    }

    fn device_json(&self) -> Value {
        json!({
            "id": "fakedevice0",
            "is_active": true,
            "is_private_session": false,
            "is_restricted": false,
            "name": "Fake speaker",
            "supports_volume": self.supports_volume,
            "type": "Speaker",
            "volume_percent": self.volume_percent,
        })
    }

    /// The controls: 404 `NO_ACTIVE_DEVICE` without an active device, else 204 (the
    /// playlist wraps around both ways; the first item's previous is the last one).
    fn control(&mut self, route: Route) -> Reply {
        if !self.device_active {
            return Reply::no_active_device();
        }
        let n = self.playlist.len();
        match (route, self.current) {
            (Route::Play, _) => self.set_playing(true),
            (Route::Pause, _) => self.set_playing(false),
            (Route::Next, Some(i)) if n > 0 => self.go_to(Some((i + 1) % n)),
            (Route::Previous, Some(i)) if n > 0 => self.go_to(Some((i + n - 1) % n)),
            _ => {}
        }
        Reply::no_content()
    }

    /// `PUT /me/player/volume?volume_percent=N`.
    fn volume(&mut self, req: &RecordedRequest) -> Reply {
        if !req.body.is_empty() {
            return Reply::api_error(400, "volume_percent must be given in the query string");
        }
        let Some(value) = req.query_param("volume_percent") else {
            return Reply::api_error(400, "Required parameter volume_percent missing");
        };
        let volume = match value.trim().parse::<u8>() {
            Ok(v) if v <= 100 => v,
            _ => return Reply::api_error(400, "Invalid volume_percent value: must be 0..100"),
        };
        if !self.device_active {
            return Reply::no_active_device();
        }
        if !self.supports_volume {
            return Reply::volume_control_disallowed();
        }
        self.volume_percent = Some(volume);
        Reply::no_content()
    }

    /// The items after the current one: the test's queue, else the next
    /// [`QUEUE_LEN`] items of the playlist, wrapping around.
    pub(super) fn upcoming(&self) -> Vec<Item> {
        if let Some(queue) = &self.queue {
            return queue.iter().take(QUEUE_LEN).cloned().collect();
        }
        let (Some(i), n) = (self.current, self.playlist.len()) else {
            return Vec::new();
        };
        if !self.device_active || n == 0 {
            return Vec::new();
        }
        (1..=QUEUE_LEN)
            .filter_map(|k| self.playlist.get((i + k) % n).cloned())
            .collect()
    }

    /// `GET /me/player/queue`: always 200 (SPOTIFY-API.md documents no 204 for it):
    /// `{"currently_playing": null, "queue": []}` when nothing plays.
    fn queue_reply(&self) -> Reply {
        let current = if self.device_active {
            self.item().map_or(Value::Null, |item| item.json(true))
        } else {
            Value::Null
        };
        let queue: Vec<Value> = self.upcoming().iter().map(|i| i.json(true)).collect();
        let body = json!({"currently_playing": current, "queue": queue});
        Reply::json(200, self.local_images(&body.to_string()))
    }

    /// `GET /me/library/contains`, `PUT` and `DELETE /me/library`.
    fn library(&mut self, req: &RecordedRequest) -> Reply {
        if !req.body.is_empty() {
            return Reply::api_error(
                400,
                "Request body is not supported: pass uris in the query string",
            );
        }
        let uris = match library_uris(req) {
            Ok(uris) => uris,
            Err(reply) => return reply,
        };
        match req.route {
            Route::LibraryContains => {
                let found: Vec<bool> = uris.iter().map(|u| self.liked.contains(u)).collect();
                Reply::json(200, json!(found).to_string())
            }
            Route::LibrarySave => {
                self.liked.extend(uris);
                Reply::new(200)
            }
            _ => {
                for uri in &uris {
                    self.liked.remove(uri);
                }
                Reply::new(200)
            }
        }
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

/// The `uris` parameter: comma-separated, percent-encoded or not; `Err` is the 400.
fn library_uris(req: &RecordedRequest) -> Result<Vec<String>, Reply> {
    let Some(raw) = req.query_param("uris") else {
        return Err(Reply::api_error(400, "Missing required field: uris"));
    };
    let uris: Vec<String> = raw
        .split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(str::to_owned)
        .collect();
    if uris.is_empty() {
        return Err(Reply::api_error(400, "Missing required field: uris"));
    }
    if uris.len() > MAX_LIBRARY_URIS {
        return Err(Reply::api_error(400, "Too many uris requested"));
    }
    for uri in &uris {
        if !valid_uri(uri) {
            return Err(Reply::api_error(400, &format!("Invalid uri: {uri}")));
        }
    }
    Ok(uris)
}

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

/// A liked-set key: `uri` itself when it is a URI, else `spotify:track:<uri>`.
pub(super) fn liked_key(id_or_uri: &str) -> String {
    if id_or_uri.starts_with("spotify:") {
        id_or_uri.to_owned()
    } else {
        format!("spotify:track:{id_or_uri}")
    }
}
