//! The playback body (`/me/player` and `/me/player/currently-playing`).

use heapless::{String, Vec};

use super::{Extract, Parser, end_id, put, put_id};
use crate::json::Sink;
use crate::model::{
    ContextKind, Device, Disallows, IMAGES_CAP, Image, Kind, NAME_CAP, NowPlaying, Repeat,
};
use crate::text::push_truncating;

/// Parses a `/me/player` or `/me/player/currently-playing` body into a [`NowPlaying`].
pub type NowPlayingParser = Parser<NowPlayingFields>;

/// Which image list an `images` array fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Which {
    Album,
    Item,
    Show,
}

/// The objects and arrays whose contents we keep, by path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Frame {
    Root,
    Item,
    Album,
    Show,
    Artists,
    Artist,
    Images(Which),
    Image(Which),
    Context,
    Actions,
    Disallows,
    Device,
}

/// What the next value is for (set by a key, cleared by the value).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Field {
    #[default]
    None,
    Timestamp,
    Progress,
    IsPlaying,
    PlayingType,
    Item,
    Context,
    Actions,
    Device,
    Shuffle,
    Repeat,
    ItemType,
    ItemId,
    Title,
    Duration,
    IsLocal,
    Artists,
    Album,
    Show,
    Images(Which),
    AlbumName,
    ShowName,
    Publisher,
    ArtistName,
    Url,
    Width,
    Height,
    ContextType,
    Disallows,
    Flag(u8),
    DeviceName,
    DeviceType,
    Volume,
    Restricted,
    SupportsVolume,
}

// Which values were cut, one bit each, so that a later duplicate key clears its own bit.
const T_TITLE: u16 = 1;
const T_ALBUM: u16 = 1 << 1;
const T_SHOW: u16 = 1 << 2;
const T_PUBLISHER: u16 = 1 << 3;
const T_ARTISTS: u16 = 1 << 4;
const T_IMG_ALBUM: u16 = 1 << 5;
const T_IMG_ITEM: u16 = 1 << 6;
const T_IMG_SHOW: u16 = 1 << 7;
const T_DEVICE_NAME: u16 = 1 << 8;
const T_DEVICE_TYPE: u16 = 1 << 9;
const T_ITEM: u16 =
    T_TITLE | T_ALBUM | T_SHOW | T_PUBLISHER | T_ARTISTS | T_IMG_ALBUM | T_IMG_ITEM | T_IMG_SHOW;

const fn images_bit(w: Which) -> u16 {
    match w {
        Which::Album => T_IMG_ALBUM,
        Which::Item => T_IMG_ITEM,
        Which::Show => T_IMG_SHOW,
    }
}

/// Deepest path we keep: root > item > album > images > image.
const FRAMES: usize = 6;

/// The [`Extract`]or behind [`NowPlayingParser`]. Its size is a constant: about 3.5 KB,
/// most of it the [`NowPlaying`] under construction.
#[derive(Debug, Clone, Default)]
pub struct NowPlayingFields {
    np: NowPlaying,
    album_images: Vec<Image, IMAGES_CAP>,
    item_images: Vec<Image, IMAGES_CAP>,
    playing_type: Option<Kind>,
    item_type: Option<Kind>,
    frames: Vec<Frame, FRAMES>,
    /// Depth inside a container we do not keep (0 when not in one).
    skip: u8,
    field: Field,
    cut: u16,
    /// The string being read was cut: later pieces are dropped.
    full: bool,
    /// Short enum-like strings (`"track"`, `"context"`...) are read here.
    word: String<16>,
    word_over: bool,
    artist: Option<String<NAME_CAP>>,
    artist_cut: bool,
    image: Image,
    image_has_url: bool,
    image_cut: bool,
}

impl NowPlayingFields {
    fn top(&self) -> Option<Frame> {
        self.frames.last().copied()
    }

    fn images(&mut self, w: Which) -> &mut Vec<Image, IMAGES_CAP> {
        match w {
            Which::Album => &mut self.album_images,
            Which::Item => &mut self.item_images,
            Which::Show => &mut self.np.show_images,
        }
    }

    /// A key names the next value; its field is reset so the last duplicate wins.
    fn field_for(&mut self, frame: Frame, key: &[u8]) -> Field {
        let np = &mut self.np;
        match (frame, key) {
            (Frame::Root, b"timestamp") => {
                np.timestamp = None;
                Field::Timestamp
            }
            (Frame::Root, b"progress_ms") => {
                np.progress_ms = None;
                Field::Progress
            }
            (Frame::Root, b"is_playing") => {
                np.is_playing = false;
                Field::IsPlaying
            }
            (Frame::Root, b"currently_playing_type") => {
                self.playing_type = None;
                Field::PlayingType
            }
            (Frame::Root, b"item") => {
                np.id = None;
                np.title = None;
                np.artists.clear();
                np.album = None;
                np.show = None;
                np.publisher = None;
                np.is_local = false;
                np.duration_ms = None;
                np.show_images.clear();
                self.album_images.clear();
                self.item_images.clear();
                self.item_type = None;
                self.cut &= !T_ITEM;
                Field::Item
            }
            (Frame::Root, b"context") => {
                np.context = None;
                Field::Context
            }
            (Frame::Root, b"actions") => {
                np.disallows = Disallows::default();
                Field::Actions
            }
            (Frame::Root, b"device") => {
                np.device = None;
                self.cut &= !(T_DEVICE_NAME | T_DEVICE_TYPE);
                Field::Device
            }
            (Frame::Root, b"shuffle_state") => {
                np.shuffle = None;
                Field::Shuffle
            }
            (Frame::Root, b"repeat_state") => {
                np.repeat = None;
                Field::Repeat
            }
            (Frame::Item, b"type") => {
                self.item_type = None;
                Field::ItemType
            }
            (Frame::Item, b"id") => {
                np.id = None;
                Field::ItemId
            }
            (Frame::Item, b"name") => {
                np.title = None;
                self.cut &= !T_TITLE;
                Field::Title
            }
            (Frame::Item, b"duration_ms") => {
                np.duration_ms = None;
                Field::Duration
            }
            (Frame::Item, b"is_local") => {
                np.is_local = false;
                Field::IsLocal
            }
            (Frame::Item, b"artists") => {
                np.artists.clear();
                self.cut &= !T_ARTISTS;
                Field::Artists
            }
            (Frame::Item, b"album") => {
                np.album = None;
                self.album_images.clear();
                self.cut &= !(T_ALBUM | T_IMG_ALBUM);
                Field::Album
            }
            (Frame::Item, b"show") => {
                np.show = None;
                np.publisher = None;
                np.show_images.clear();
                self.cut &= !(T_SHOW | T_PUBLISHER | T_IMG_SHOW);
                Field::Show
            }
            (Frame::Item, b"images") => self.reset_images(Which::Item),
            (Frame::Album, b"name") => {
                np.album = None;
                self.cut &= !T_ALBUM;
                Field::AlbumName
            }
            (Frame::Album, b"images") => self.reset_images(Which::Album),
            (Frame::Show, b"name") => {
                np.show = None;
                self.cut &= !T_SHOW;
                Field::ShowName
            }
            (Frame::Show, b"publisher") => {
                np.publisher = None;
                self.cut &= !T_PUBLISHER;
                Field::Publisher
            }
            (Frame::Show, b"images") => self.reset_images(Which::Show),
            (Frame::Artist, b"name") => {
                self.artist = None;
                self.artist_cut = false;
                Field::ArtistName
            }
            (Frame::Image(_), b"url") => {
                self.image_has_url = false;
                self.image_cut = false;
                self.image.url.clear();
                Field::Url
            }
            (Frame::Image(_), b"width") => {
                self.image.width = None;
                Field::Width
            }
            (Frame::Image(_), b"height") => {
                self.image.height = None;
                Field::Height
            }
            (Frame::Context, b"type") => {
                np.context = None;
                Field::ContextType
            }
            (Frame::Actions, b"disallows") => {
                np.disallows = Disallows::default();
                Field::Disallows
            }
            (Frame::Disallows, key) => {
                let flag = match key {
                    b"pausing" => 0,
                    b"resuming" => 1,
                    b"skipping_next" => 2,
                    b"skipping_prev" => 3,
                    b"seeking" => 4,
                    _ => return Field::None,
                };
                if let Some(f) = self.flag(flag) {
                    *f = false;
                }
                Field::Flag(flag)
            }
            (Frame::Device, b"name") => {
                if let Some(d) = np.device.as_mut() {
                    d.name.clear();
                }
                self.cut &= !T_DEVICE_NAME;
                Field::DeviceName
            }
            (Frame::Device, b"type") => {
                if let Some(d) = np.device.as_mut() {
                    d.kind.clear();
                }
                self.cut &= !T_DEVICE_TYPE;
                Field::DeviceType
            }
            (Frame::Device, b"volume_percent") => {
                if let Some(d) = np.device.as_mut() {
                    d.volume_percent = None;
                }
                Field::Volume
            }
            (Frame::Device, b"supports_volume") => {
                if let Some(d) = np.device.as_mut() {
                    d.volume_fixed = false;
                }
                Field::SupportsVolume
            }
            (Frame::Device, b"is_restricted") => {
                if let Some(d) = np.device.as_mut() {
                    d.is_restricted = false;
                }
                Field::Restricted
            }
            _ => Field::None,
        }
    }

    fn reset_images(&mut self, w: Which) -> Field {
        self.images(w).clear();
        self.cut &= !images_bit(w);
        Field::Images(w)
    }

    fn flag(&mut self, i: u8) -> Option<&mut bool> {
        let d = &mut self.np.disallows;
        match i {
            0 => Some(&mut d.pausing),
            1 => Some(&mut d.resuming),
            2 => Some(&mut d.skipping_next),
            3 => Some(&mut d.skipping_prev),
            4 => Some(&mut d.seeking),
            _ => None,
        }
    }

    /// A value at the current level has ended.
    #[inline]
    fn value_done(&mut self) {
        self.field = Field::None;
    }

    /// `false` when the container is not one we keep anything of.
    fn begin_container(&mut self, object: bool) -> bool {
        if self.skip > 0 {
            self.skip = self.skip.saturating_add(1);
            return false;
        }
        let frame = match (self.top(), self.field, object) {
            (None, _, true) => Some(Frame::Root),
            (Some(Frame::Root), Field::Item, true) => Some(Frame::Item),
            (Some(Frame::Root), Field::Context, true) => Some(Frame::Context),
            (Some(Frame::Root), Field::Actions, true) => Some(Frame::Actions),
            (Some(Frame::Root), Field::Device, true) => {
                self.np.device = Some(Device::default());
                Some(Frame::Device)
            }
            (Some(Frame::Item), Field::Album, true) => Some(Frame::Album),
            (Some(Frame::Item), Field::Show, true) => Some(Frame::Show),
            (Some(Frame::Actions), Field::Disallows, true) => Some(Frame::Disallows),
            (Some(Frame::Artists), _, true) => {
                self.artist = None;
                self.artist_cut = false;
                Some(Frame::Artist)
            }
            (Some(Frame::Images(w)), _, true) => {
                self.image = Image::default();
                self.image_has_url = false;
                self.image_cut = false;
                Some(Frame::Image(w))
            }
            (Some(Frame::Item), Field::Artists, false) => Some(Frame::Artists),
            (Some(Frame::Item | Frame::Album | Frame::Show), Field::Images(w), false) => {
                Some(Frame::Images(w))
            }
            _ => None,
        };
        self.field = Field::None;
        match frame.map(|f| self.frames.push(f)) {
            Some(Ok(())) => true,
            // Unknown (or, impossibly, too deep for our paths): skip it.
            _ => {
                self.skip = 1;
                false
            }
        }
    }

    fn end_container(&mut self) {
        if self.skip > 0 {
            self.skip -= 1;
            if self.skip == 0 {
                self.value_done();
            }
            return;
        }
        match self.frames.pop() {
            Some(Frame::Artist) => {
                if let Some(name) = self.artist.take()
                    && (self.np.artists.push(name).is_err() || self.artist_cut)
                {
                    self.cut |= T_ARTISTS;
                }
            }
            Some(Frame::Image(w)) if self.image_has_url => {
                let image = core::mem::take(&mut self.image);
                let cut = self.image_cut;
                if self.images(w).push(image).is_err() || cut {
                    self.cut |= images_bit(w);
                }
            }
            _ => {}
        }
        self.value_done();
    }

    fn is_word(field: Field) -> bool {
        matches!(
            field,
            Field::PlayingType | Field::ItemType | Field::ContextType | Field::Repeat
        )
    }
}

impl Sink for NowPlayingFields {
    #[inline]
    fn begin_object(&mut self) -> bool {
        self.begin_container(true)
    }

    #[inline]
    fn end_object(&mut self) {
        self.end_container();
    }

    #[inline]
    fn begin_array(&mut self) -> bool {
        self.begin_container(false)
    }

    #[inline]
    fn end_array(&mut self) {
        self.end_container();
    }

    #[inline]
    fn key(&mut self, key: Option<&[u8]>) {
        if self.skip > 0 {
            return;
        }
        self.field = match (self.top(), key) {
            (Some(frame), Some(key)) => self.field_for(frame, key),
            _ => Field::None,
        };
    }

    #[inline]
    fn begin_string(&mut self) -> bool {
        if self.skip > 0 {
            return false;
        }
        self.full = false;
        let np = &mut self.np;
        match self.field {
            Field::Title => np.title = Some(String::new()),
            Field::ItemId => np.id = Some(String::new()),
            Field::AlbumName => np.album = Some(String::new()),
            Field::ShowName => np.show = Some(String::new()),
            Field::Publisher => np.publisher = Some(String::new()),
            Field::ArtistName => self.artist = Some(String::new()),
            Field::Url => self.image_has_url = true,
            Field::DeviceName | Field::DeviceType => {}
            f if Self::is_word(f) => {
                self.word.clear();
                self.word_over = false;
            }
            _ => return false,
        }
        true
    }

    #[inline]
    fn string_part(&mut self, part: &str) {
        let np = &mut self.np;
        let full = &mut self.full;
        let cut = match self.field {
            Field::Title => np.title.as_mut().map(|s| (put(s, part, full), T_TITLE)),
            Field::AlbumName => np.album.as_mut().map(|s| (put(s, part, full), T_ALBUM)),
            Field::ShowName => np.show.as_mut().map(|s| (put(s, part, full), T_SHOW)),
            Field::Publisher => np
                .publisher
                .as_mut()
                .map(|s| (put(s, part, full), T_PUBLISHER)),
            Field::DeviceName => np
                .device
                .as_mut()
                .map(|d| (put(&mut d.name, part, full), T_DEVICE_NAME)),
            Field::DeviceType => np
                .device
                .as_mut()
                .map(|d| (put(&mut d.kind, part, full), T_DEVICE_TYPE)),
            Field::ArtistName => {
                if let Some(s) = self.artist.as_mut() {
                    self.artist_cut |= !put(s, part, full);
                }
                None
            }
            Field::ItemId => {
                put_id(&mut np.id, part);
                None
            }
            Field::Url => {
                self.image_cut |= !put(&mut self.image.url, part, full);
                None
            }
            f if Self::is_word(f) => {
                self.word_over |= !push_truncating(&mut self.word, part);
                None
            }
            _ => None,
        };
        if let Some((false, bit)) = cut {
            self.cut |= bit;
        }
    }

    #[inline]
    fn end_string(&mut self) {
        let word = if self.word_over {
            ""
        } else {
            self.word.as_str()
        };
        match self.field {
            Field::PlayingType => self.playing_type = Some(Kind::from_api(word)),
            Field::ItemType => self.item_type = Some(Kind::from_api(word)),
            Field::ContextType => self.np.context = Some(ContextKind::from_api(word)),
            Field::Repeat => self.np.repeat = Repeat::from_api(word),
            Field::ItemId => end_id(&mut self.np.id),
            _ => {}
        }
        self.value_done();
    }

    #[inline]
    fn number(&mut self, value: Option<u64>) {
        if self.skip > 0 {
            return;
        }
        let small = |v: Option<u64>| v.and_then(|v| u32::try_from(v).ok());
        match self.field {
            Field::Timestamp => self.np.timestamp = value,
            Field::Progress => self.np.progress_ms = value,
            Field::Duration => self.np.duration_ms = value,
            Field::Width => self.image.width = small(value),
            Field::Height => self.image.height = small(value),
            Field::Volume => {
                if let Some(d) = self.np.device.as_mut() {
                    d.volume_percent = value
                        .filter(|v| *v <= 100)
                        .and_then(|v| u8::try_from(v).ok());
                }
            }
            _ => {}
        }
        self.value_done();
    }

    #[inline]
    fn boolean(&mut self, value: bool) {
        if self.skip > 0 {
            return;
        }
        match self.field {
            Field::IsPlaying => self.np.is_playing = value,
            Field::IsLocal => self.np.is_local = value,
            Field::Shuffle => self.np.shuffle = Some(value),
            Field::Restricted => {
                if let Some(d) = self.np.device.as_mut() {
                    d.is_restricted = value;
                }
            }
            Field::SupportsVolume => {
                if let Some(d) = self.np.device.as_mut() {
                    d.volume_fixed = !value;
                }
            }
            Field::Flag(i) => {
                if let Some(f) = self.flag(i) {
                    *f = value;
                }
            }
            _ => {}
        }
        self.value_done();
    }

    #[inline]
    fn null(&mut self) {
        self.value_done();
    }
}

impl Extract for NowPlayingFields {
    type Output = NowPlaying;

    fn output(&mut self) -> NowPlaying {
        // Field by field rather than `mem::take(&mut self.np)`: a take writes a whole
        // default `NowPlaying` back (the compiler turns that into a 2 KB memset), and the
        // parser calls `reset` right after anyway.
        let np = &mut self.np;
        let kind = self
            .playing_type
            .or(self.item_type)
            .unwrap_or(Kind::Unknown);
        let (images, bit) = if kind == Kind::Episode || self.album_images.is_empty() {
            (core::mem::take(&mut self.item_images), T_IMG_ITEM)
        } else {
            (core::mem::take(&mut self.album_images), T_IMG_ALBUM)
        };
        // Only the cuts of what is kept count (the unused image list's do not).
        let unused = (T_IMG_ALBUM | T_IMG_ITEM) & !bit;
        // Local files and ads have no id of their own, whatever the body says.
        let id = np.id.take().filter(|_| !np.is_local && kind != Kind::Ad);
        NowPlaying {
            kind,
            id,
            is_playing: np.is_playing,
            progress_ms: np.progress_ms,
            duration_ms: np.duration_ms,
            timestamp: np.timestamp,
            title: np.title.take(),
            artists: core::mem::take(&mut np.artists),
            album: np.album.take(),
            show: np.show.take(),
            publisher: np.publisher.take(),
            is_local: np.is_local,
            images,
            show_images: core::mem::take(&mut np.show_images),
            context: np.context,
            disallows: np.disallows,
            device: np.device.take(),
            shuffle: np.shuffle,
            repeat: np.repeat,
            truncated: self.cut & !unused != 0,
        }
    }

    fn reset(&mut self) {
        // Every field named, so that a new one cannot be forgotten here.
        let NowPlayingFields {
            np,
            album_images,
            item_images,
            playing_type,
            item_type,
            frames,
            skip,
            field,
            cut,
            full,
            word,
            word_over,
            artist,
            artist_cut,
            image,
            image_has_url,
            image_cut,
        } = self;
        let NowPlaying {
            kind,
            id,
            is_playing,
            progress_ms,
            duration_ms,
            timestamp,
            title,
            artists,
            album,
            show,
            publisher,
            is_local,
            images,
            show_images,
            context,
            disallows,
            device,
            shuffle,
            repeat,
            truncated,
        } = np;
        *kind = Kind::default();
        *id = None;
        *is_playing = false;
        *progress_ms = None;
        *duration_ms = None;
        *timestamp = None;
        *title = None;
        artists.clear();
        *album = None;
        *show = None;
        *publisher = None;
        *is_local = false;
        images.clear();
        show_images.clear();
        *context = None;
        *disallows = Disallows::default();
        *device = None;
        *shuffle = None;
        *repeat = None;
        *truncated = false;
        album_images.clear();
        item_images.clear();
        *playing_type = None;
        *item_type = None;
        frames.clear();
        *skip = 0;
        *field = Field::None;
        *cut = 0;
        *full = false;
        word.clear();
        *word_over = false;
        *artist = None;
        *artist_cut = false;
        image.url.clear();
        image.width = None;
        image.height = None;
        *image_has_url = false;
        *image_cut = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::Tokenizer;
    use std::format;

    /// `reset` leaves the extractor as `Default` would, whatever the body set (compared by
    /// `Debug`, which shows every field and the contents of every list and string).
    #[test]
    fn reset_is_the_same_as_a_fresh_extractor() {
        let bodies: [&[u8]; 3] = [
            include_bytes!("../../tests/fixtures/seed_track.json"),
            include_bytes!("../../tests/fixtures/player_device_crlf.json"),
            include_bytes!("../../tests/fixtures/episode_long_escaped.json"),
        ];
        let fresh = format!("{:?}", NowPlayingFields::default());
        // Stop at many points of each body, so every field is seen set and half-set.
        for body in bodies {
            reset_at_every_point(body, &fresh);
        }
    }

    fn reset_at_every_point(body: &[u8], fresh: &str) {
        for cut in (0..body.len()).step_by(7).chain([body.len()]) {
            let mut p = NowPlayingParser::new();
            let _ = p.feed(body.get(..cut).unwrap_or_default());
            if cut == body.len() {
                let _ = p.ex.output();
            }
            p.reset();
            assert_eq!(format!("{:?}", p.ex), fresh, "cut at {cut}");
            assert_eq!(format!("{:?}", p.tok), format!("{:?}", Tokenizer::new()));
        }
    }
}
