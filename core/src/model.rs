//! The parsed playback state, in fixed-capacity types.
//!
//! Capacities are chosen on purpose (see each constant): large enough for what Spotify
//! sends in everyday use, small enough that the whole [`NowPlaying`] stays a few KiB on a
//! microcontroller. A value that does not fit is cut at a UTF-8 character boundary (the
//! kept part is a prefix of the original) and [`NowPlaying::truncated`] is set.

use heapless::{String, Vec};

/// Bytes kept of a track or episode title: 85 CJK characters or 256 ASCII ones.
/// Titles over 300 characters exist; the screens cut long titles with an ellipsis anyway.
pub const TITLE_CAP: usize = 256;
/// Bytes kept of an artist, album, show or publisher name.
pub const NAME_CAP: usize = 128;
/// Artists kept of a track (the screens show at most three or four).
pub const ARTISTS_CAP: usize = 6;
/// Images kept of a list (Spotify sends three: 640, 300 and 64 px).
pub const IMAGES_CAP: usize = 4;
/// Bytes kept of an image URL (Spotify's are 64 bytes).
pub const URL_CAP: usize = 128;
/// Bytes kept of a device name.
pub const DEVICE_NAME_CAP: usize = 64;
/// Bytes kept of a device type (`Computer`, `Smartphone`, `CastVideo`, ...).
pub const DEVICE_TYPE_CAP: usize = 24;
/// Bytes of a track's or episode's Spotify id. Spotify's ids are 22 base-62 characters
/// (`4uLU6hMCjMI75M1A2tKUQC`); the cap leaves room for the longer ids of test servers.
/// A longer id is not cut but dropped: a cut id would name another item.
pub const ITEM_ID_CAP: usize = 32;

/// A track's or episode's Spotify id: 1 to [`ITEM_ID_CAP`] ASCII letters and digits
/// (see [`item_id`]).
pub type ItemId = String<ITEM_ID_CAP>;

/// Bytes of a [`NowPlaying::uri`]: `spotify:episode:` and an id of [`ITEM_ID_CAP`] bytes.
pub const URI_CAP: usize = 48;
const _: () = assert!(URI_CAP >= "spotify:episode:".len() + ITEM_ID_CAP);

/// `s` as an [`ItemId`] when it is one: 1 to [`ITEM_ID_CAP`] ASCII letters and digits
/// (anything else, `None`: an id is never cut or cleaned up).
pub fn item_id(s: &str) -> Option<ItemId> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    // `try_from` fails when it does not fit: too long.
    ItemId::try_from(s).ok()
}

/// What is playing, from `currently_playing_type` (or, in older bodies without it,
/// from `item.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Kind {
    /// A music track (also a local file).
    Track,
    /// A podcast episode or an audiobook chapter.
    Episode,
    /// An advertisement (`item` is null).
    Ad,
    /// Anything else, including a missing or unrecognised type.
    #[default]
    Unknown,
}

impl Kind {
    /// The snake_case name used in JSON output.
    pub const fn as_str(self) -> &'static str {
        match self {
            Kind::Track => "track",
            Kind::Episode => "episode",
            Kind::Ad => "ad",
            Kind::Unknown => "unknown",
        }
    }

    /// Maps a `currently_playing_type` / `item.type` value; unrecognised values are `Unknown`.
    pub fn from_api(s: &str) -> Kind {
        match s {
            "track" => Kind::Track,
            "episode" => Kind::Episode,
            "ad" => Kind::Ad,
            _ => Kind::Unknown,
        }
    }
}

/// The repeat mode of a `/me/player` body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Repeat {
    /// No repeat.
    Off,
    /// Repeat the current track.
    Track,
    /// Repeat the context (album, playlist...).
    Context,
}

impl Repeat {
    /// The API's name of this mode.
    pub const fn as_str(self) -> &'static str {
        match self {
            Repeat::Off => "off",
            Repeat::Track => "track",
            Repeat::Context => "context",
        }
    }

    /// Maps a `repeat_state` value; unknown values give `None`.
    pub fn from_api(s: &str) -> Option<Repeat> {
        match s {
            "off" => Some(Repeat::Off),
            "track" => Some(Repeat::Track),
            "context" => Some(Repeat::Context),
            _ => None,
        }
    }
}

/// The kind of `context` playback came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum ContextKind {
    /// An album.
    Album,
    /// An artist.
    Artist,
    /// A playlist.
    Playlist,
    /// A podcast show.
    Show,
    /// The user's collection (Liked Songs).
    Collection,
    /// Any other context type.
    Other,
}

impl ContextKind {
    /// Maps a `context.type` value.
    pub fn from_api(s: &str) -> ContextKind {
        match s {
            "album" => ContextKind::Album,
            "artist" => ContextKind::Artist,
            "playlist" => ContextKind::Playlist,
            "show" => ContextKind::Show,
            "collection" => ContextKind::Collection,
            _ => ContextKind::Other,
        }
    }

    /// The snake_case name of this kind.
    pub const fn as_str(self) -> &'static str {
        match self {
            ContextKind::Album => "album",
            ContextKind::Artist => "artist",
            ContextKind::Playlist => "playlist",
            ContextKind::Show => "show",
            ContextKind::Collection => "collection",
            ContextKind::Other => "other",
        }
    }
}

/// The `actions.disallows` flags the display uses. A flag is `true` only when the body
/// says `true`; missing, `false` and `null` all mean "allowed".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Disallows {
    /// Pausing is not allowed.
    pub pausing: bool,
    /// Resuming is not allowed.
    pub resuming: bool,
    /// Skipping to the next item is not allowed.
    pub skipping_next: bool,
    /// Skipping to the previous item is not allowed.
    pub skipping_prev: bool,
    /// Seeking is not allowed.
    pub seeking: bool,
}

/// One image of a list (album art, episode or show art).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Image {
    /// The image URL (cut if longer than [`URL_CAP`], which sets `truncated`).
    pub url: String<URL_CAP>,
    /// Width in pixels, when the API gives one.
    pub width: Option<u32>,
    /// Height in pixels, when the API gives one.
    pub height: Option<u32>,
}

/// The playback device of a `/me/player` body.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Device {
    /// The device name ("Kitchen speaker"); empty if the body gave none.
    pub name: String<DEVICE_NAME_CAP>,
    /// The device type as the API spells it (`Computer`, `Smartphone`, `Speaker`, ...).
    pub kind: String<DEVICE_TYPE_CAP>,
    /// The volume, 0 to 100; `None` when the API says null (restricted devices).
    pub volume_percent: Option<u8>,
    /// The device accepts no Web API commands (`is_restricted`): controls are unavailable.
    pub is_restricted: bool,
    /// The device's volume cannot be set (`supports_volume: false`); a missing key counts
    /// as settable.
    pub volume_fixed: bool,
}

/// Everything the display knows about what is playing, from one response body.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct NowPlaying {
    /// What is playing.
    pub kind: Kind,
    /// The track's or episode's Spotify id (`item.id`), for the library and the queue.
    /// `None` for local files, ads, a null or missing id, or an id that is not 1 to
    /// [`ITEM_ID_CAP`] ASCII letters and digits (never cut: see [`item_id`]).
    pub id: Option<ItemId>,
    /// `true` while playing, `false` when paused (or missing).
    pub is_playing: bool,
    /// Progress into the item when the state was captured; `None` when null or missing.
    pub progress_ms: Option<u64>,
    /// The item's duration; `None` for ads and when missing.
    pub duration_ms: Option<u64>,
    /// When the playback state last changed (ms since the epoch, the server's clock).
    pub timestamp: Option<u64>,
    /// Track or episode title.
    pub title: Option<String<TITLE_CAP>>,
    /// Artist names of a track, in order (empty for episodes and ads).
    pub artists: Vec<String<NAME_CAP>, ARTISTS_CAP>,
    /// Album name of a track.
    pub album: Option<String<NAME_CAP>>,
    /// Show name of an episode.
    pub show: Option<String<NAME_CAP>>,
    /// Publisher of an episode's show (not always sent).
    pub publisher: Option<String<NAME_CAP>>,
    /// A local file (no ids, no art).
    pub is_local: bool,
    /// The item's own images: the album's for a track, the episode's for an episode.
    pub images: Vec<Image, IMAGES_CAP>,
    /// For an episode, the show's images (a fallback when the episode has none).
    pub show_images: Vec<Image, IMAGES_CAP>,
    /// The kind of context playback came from, when there is one.
    pub context: Option<ContextKind>,
    /// The `actions.disallows` flags.
    pub disallows: Disallows,
    /// The device, in a `/me/player` body.
    pub device: Option<Device>,
    /// Shuffle state, in a `/me/player` body.
    pub shuffle: Option<bool>,
    /// Repeat state, in a `/me/player` body.
    pub repeat: Option<Repeat>,
    /// Some value did not fit its capacity and was cut (or a list was cut short).
    pub truncated: bool,
}

impl NowPlaying {
    /// The images to show: the item's own, or for an episode without any, the show's.
    pub fn art_images(&self) -> &[Image] {
        if self.images.is_empty() && self.kind == Kind::Episode {
            &self.show_images
        } else {
            &self.images
        }
    }

    /// The best image for a box `min_width` pixels wide: the smallest image at least that
    /// wide; if none is, the widest with a known width; if no width is known, the last
    /// listed (Spotify lists widest first). `None` when there is no image.
    pub fn pick_image(&self, min_width: u32) -> Option<&Image> {
        pick_image(self.art_images(), min_width)
    }

    /// The item's Spotify URI, `spotify:track:<id>` or `spotify:episode:<id>` by
    /// [`NowPlaying::kind`]; `None` without an id, for local files, ads and unknown kinds.
    pub fn uri(&self) -> Option<String<URI_CAP>> {
        let prefix = match self.kind {
            Kind::Track => "spotify:track:",
            Kind::Episode => "spotify:episode:",
            Kind::Ad | Kind::Unknown => return None,
        };
        let id = self.id.as_ref().filter(|_| !self.is_local)?;
        let mut uri = String::new();
        // Cannot fail: the longest prefix (16 bytes) and ITEM_ID_CAP make URI_CAP.
        uri.push_str(prefix).ok()?;
        uri.push_str(id).ok()?;
        Some(uri)
    }
}

/// See [`NowPlaying::pick_image`].
pub fn pick_image(images: &[Image], min_width: u32) -> Option<&Image> {
    let big_enough = images
        .iter()
        .filter(|i| i.width.is_some_and(|w| w >= min_width))
        .min_by_key(|i| i.width);
    big_enough
        .or_else(|| {
            images
                .iter()
                .filter(|i| i.width.is_some())
                .max_by_key(|i| i.width)
        })
        .or_else(|| images.last())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn img(url: &str, w: Option<u32>) -> Image {
        Image {
            url: crate::text::bounded(url).0,
            width: w,
            height: w,
        }
    }

    #[test]
    fn pick_image_table() {
        let spotify = [
            img("640", Some(640)),
            img("300", Some(300)),
            img("64", Some(64)),
        ];
        let unsized_ = [img("a", None), img("b", None)];
        let small = [img("32", Some(32)), img("48", Some(48))];
        let mixed = [img("a", None), img("300", Some(300))];
        let table: &[(&[Image], u32, Option<&str>)] = &[
            (&spotify, 64, Some("64")),
            (&spotify, 65, Some("300")),
            (&spotify, 300, Some("300")),
            (&spotify, 1000, Some("640")),
            (&unsized_, 64, Some("b")),
            (&small, 64, Some("48")),
            (&mixed, 64, Some("300")),
            (&[], 64, None),
        ];
        for (images, min, want) in table {
            assert_eq!(
                pick_image(images, *min).map(|i| i.url.as_str()),
                *want,
                "{min}"
            );
        }
    }

    #[test]
    fn episode_falls_back_to_show_images() {
        let mut np = NowPlaying {
            kind: Kind::Episode,
            ..Default::default()
        };
        let _ = np.show_images.push(img("show", Some(300)));
        assert_eq!(np.pick_image(64).map(|i| i.url.as_str()), Some("show"));
        let _ = np.images.push(img("ep", Some(300)));
        assert_eq!(np.pick_image(64).map(|i| i.url.as_str()), Some("ep"));
        np.kind = Kind::Track;
        np.images.clear();
        assert_eq!(np.pick_image(64), None);
    }
}
