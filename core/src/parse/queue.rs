//! The queue body (`/me/player/queue`): what is playing, by id, and what plays next.
//!
//! The body is `{"currently_playing": <track or episode or null>, "queue": [<up to 20
//! tracks or episodes>]}`, 50 to 100 KB of full items (albums, artists, images, market
//! lists). Of it only the id of `currently_playing` and the first element of `queue`
//! (its type, name and who made it) are kept; every later element is turned down at its
//! `{`, so the tokenizer validates it without reporting anything, and nothing of it is
//! stored.

use heapless::{String, Vec};

use super::{Extract, Parser, end_id, put, put_id};
use crate::json::Sink;
use crate::model::{ItemId, Kind, NAME_CAP, TITLE_CAP};
use crate::text::push_truncating;

/// Parses a `/me/player/queue` body into a [`QueueHead`].
pub type QueueParser = Parser<QueueFields>;

/// What the display keeps of a queue body.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct QueueHead {
    /// The id of `currently_playing`, kept as [`NowPlaying::id`](crate::model::NowPlaying::id)
    /// is (the same checks): it tells which playing item this queue follows. `None` when
    /// nothing is playing, for a local file, or for a null, missing or invalid id.
    pub current_id: Option<ItemId>,
    /// The first element of `queue`; `None` for an empty (or missing) queue, or when that
    /// element has no name (or is not an object).
    pub next: Option<QueuedItem>,
    /// The ids of the first [`UPCOMING_IDS`] queued tracks and episodes, in order (the
    /// library is asked about them with the item playing).
    pub upcoming: Vec<(Kind, ItemId), UPCOMING_IDS>,
}

/// The item that plays next, as far as the display shows it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct QueuedItem {
    /// From its `type`: [`Kind::Track`] or [`Kind::Episode`]; [`Kind::Unknown`] for any
    /// other type, or none.
    pub kind: Kind,
    /// Its name, cut to [`TITLE_CAP`] bytes at a character boundary.
    pub title: String<TITLE_CAP>,
    /// Who made it: for a track its first artist's name, for an episode its show's name
    /// (for an unknown kind, the first artist's name, else the show's); cut to
    /// [`NAME_CAP`] bytes; empty when the body names nobody.
    pub by: String<NAME_CAP>,
}

/// The objects and arrays whose contents we keep, by path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Frame {
    /// The body.
    Root,
    /// `currently_playing`.
    Current,
    /// `queue`.
    Queue,
    /// `queue[0]`.
    Head,
    /// `queue[1..UPCOMING_IDS]`: only their ids and types are kept.
    Later,
    /// `queue[0].artists`.
    Artists,
    /// `queue[0].artists[0]`.
    Artist,
    /// `queue[0].show`.
    Show,
}

/// What the next value is for (set by a key, cleared by the value).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Field {
    #[default]
    None,
    Current,
    CurrentId,
    CurrentLocal,
    Queue,
    Type,
    Name,
    Artists,
    Show,
    ArtistName,
    ShowName,
    /// The id of a queue element (the head or a later one).
    ElementId,
    /// The type of a later queue element.
    LaterType,
}

/// How many queued items' ids a [`QueueHead`] keeps (the library is asked about them
/// together with the item playing, in one request).
pub const UPCOMING_IDS: usize = 4;

/// Deepest path we keep: root > queue > head > artists > artist.
const FRAMES: usize = 5;

/// The [`Extract`]or behind [`QueueParser`]. Its size is a constant (about 650 bytes,
/// most of it the head's title and names), whatever the length of the queue.
#[derive(Debug, Clone, Default)]
pub struct QueueFields {
    current_id: Option<ItemId>,
    /// `currently_playing.is_local`: a local file has no id of its own.
    current_local: bool,
    /// The head's `type`.
    kind: Option<Kind>,
    /// The head's `name`.
    title: Option<String<TITLE_CAP>>,
    /// The head's first artist's name.
    artist: Option<String<NAME_CAP>>,
    /// The head's show's name.
    show: Option<String<NAME_CAP>>,
    /// The queue's first element has begun: the later ones are skipped.
    head_seen: bool,
    /// Queue elements begun.
    elements: u8,
    /// The id and type of the queue element being read.
    element_id: Option<ItemId>,
    element_kind: Option<Kind>,
    /// The ids of the first queued items, in order.
    upcoming: Vec<(Kind, ItemId), UPCOMING_IDS>,
    /// The head's first artist has begun: the later ones are skipped.
    artist_seen: bool,
    frames: Vec<Frame, FRAMES>,
    /// Depth inside a container we do not keep (0 when not in one).
    skip: u8,
    field: Field,
    /// The string being read was cut: later pieces are dropped.
    full: bool,
    /// The head's `type` is read here.
    word: String<16>,
    word_over: bool,
}

impl QueueFields {
    fn top(&self) -> Option<Frame> {
        self.frames.last().copied()
    }

    /// A value starts at the current level: in the queue or in the head's artists, it is
    /// an element, and whatever it is, the first one has now begun.
    #[inline]
    fn element(&mut self) {
        match self.top() {
            Some(Frame::Queue) => {
                self.head_seen = true;
                self.elements = self.elements.saturating_add(1);
            }
            Some(Frame::Artists) => self.artist_seen = true,
            _ => {}
        }
    }

    /// A key names the next value; its field is reset so the last duplicate wins.
    fn field_for(&mut self, frame: Frame, key: &[u8]) -> Field {
        match (frame, key) {
            (Frame::Root, b"currently_playing") => {
                self.current_id = None;
                self.current_local = false;
                Field::Current
            }
            (Frame::Root, b"queue") => {
                self.kind = None;
                self.title = None;
                self.artist = None;
                self.show = None;
                self.head_seen = false;
                self.artist_seen = false;
                self.elements = 0;
                self.upcoming.clear();
                Field::Queue
            }
            (Frame::Head | Frame::Later, b"id") => {
                self.element_id = None;
                Field::ElementId
            }
            (Frame::Later, b"type") => {
                self.element_kind = None;
                Field::LaterType
            }
            (Frame::Current, b"id") => {
                self.current_id = None;
                Field::CurrentId
            }
            (Frame::Current, b"is_local") => {
                self.current_local = false;
                Field::CurrentLocal
            }
            (Frame::Head, b"type") => {
                self.kind = None;
                Field::Type
            }
            (Frame::Head, b"name") => {
                self.title = None;
                Field::Name
            }
            (Frame::Head, b"artists") => {
                self.artist = None;
                self.artist_seen = false;
                Field::Artists
            }
            (Frame::Head, b"show") => {
                self.show = None;
                Field::Show
            }
            (Frame::Artist, b"name") => {
                self.artist = None;
                Field::ArtistName
            }
            (Frame::Show, b"name") => {
                self.show = None;
                Field::ShowName
            }
            _ => Field::None,
        }
    }

    /// `false` when the container is not one we keep anything of.
    fn begin_container(&mut self, object: bool) -> bool {
        if self.skip > 0 {
            self.skip = self.skip.saturating_add(1);
            return false;
        }
        let frame = match (self.top(), self.field, object) {
            (None, _, true) => Some(Frame::Root),
            (Some(Frame::Root), Field::Current, true) => Some(Frame::Current),
            (Some(Frame::Root), Field::Queue, false) => Some(Frame::Queue),
            (Some(Frame::Queue), _, true) if !self.head_seen => Some(Frame::Head),
            (Some(Frame::Queue), _, true) if usize::from(self.elements) < UPCOMING_IDS => {
                Some(Frame::Later)
            }
            (Some(Frame::Head), Field::Artists, false) => Some(Frame::Artists),
            (Some(Frame::Head), Field::Show, true) => Some(Frame::Show),
            (Some(Frame::Artists), _, true) if !self.artist_seen => Some(Frame::Artist),
            _ => None,
        };
        self.element();
        self.field = Field::None;
        match frame.map(|f| self.frames.push(f)) {
            Some(Ok(())) => true,
            // Not kept (a later queue element among them; or, impossibly, too deep for
            // our paths): skipped whole by the tokenizer.
            _ => {
                self.skip = 1;
                false
            }
        }
    }

    fn end_container(&mut self) {
        if self.skip > 0 {
            self.skip -= 1;
        } else {
            let kind = match self.frames.pop() {
                Some(Frame::Head) => self.kind,
                Some(Frame::Later) => self.element_kind.take(),
                // (The head's artists and show: its id stays for its own end.)
                _ => return self.field = Field::None,
            };
            let id = self.element_id.take();
            if let (Some(kind @ (Kind::Track | Kind::Episode)), Some(id)) = (kind, id) {
                let _ = self.upcoming.push((kind, id));
            }
        }
        self.field = Field::None;
    }
}

impl Sink for QueueFields {
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
        self.element();
        self.full = false;
        match self.field {
            Field::CurrentId => self.current_id = Some(String::new()),
            Field::ElementId => self.element_id = Some(String::new()),
            Field::Name => self.title = Some(String::new()),
            Field::ArtistName => self.artist = Some(String::new()),
            Field::ShowName => self.show = Some(String::new()),
            Field::Type | Field::LaterType => {
                self.word.clear();
                self.word_over = false;
            }
            _ => {
                // Not delivered: no `end_string` clears the field.
                self.field = Field::None;
                return false;
            }
        }
        true
    }

    #[inline]
    fn string_part(&mut self, part: &str) {
        let full = &mut self.full;
        match self.field {
            Field::CurrentId => put_id(&mut self.current_id, part),
            Field::ElementId => put_id(&mut self.element_id, part),
            Field::Name => {
                if let Some(s) = self.title.as_mut() {
                    put(s, part, full);
                }
            }
            Field::ArtistName => {
                if let Some(s) = self.artist.as_mut() {
                    put(s, part, full);
                }
            }
            Field::ShowName => {
                if let Some(s) = self.show.as_mut() {
                    put(s, part, full);
                }
            }
            Field::Type | Field::LaterType => {
                self.word_over |= !push_truncating(&mut self.word, part);
            }
            _ => {}
        }
    }

    #[inline]
    fn end_string(&mut self) {
        match self.field {
            Field::CurrentId => end_id(&mut self.current_id),
            Field::ElementId => end_id(&mut self.element_id),
            Field::Type | Field::LaterType => {
                let word = if self.word_over {
                    ""
                } else {
                    self.word.as_str()
                };
                let kind = Some(Kind::from_api(word));
                if self.field == Field::Type {
                    self.kind = kind;
                } else {
                    self.element_kind = kind;
                }
            }
            _ => {}
        }
        self.field = Field::None;
    }

    #[inline]
    fn number(&mut self, _value: Option<u64>) {
        if self.skip > 0 {
            return;
        }
        self.element();
        self.field = Field::None;
    }

    #[inline]
    fn boolean(&mut self, value: bool) {
        if self.skip > 0 {
            return;
        }
        self.element();
        if self.field == Field::CurrentLocal {
            self.current_local = value;
        }
        self.field = Field::None;
    }

    #[inline]
    fn null(&mut self) {
        if self.skip > 0 {
            return;
        }
        self.element();
        self.field = Field::None;
    }
}

impl Extract for QueueFields {
    type Output = QueueHead;

    fn output(&mut self) -> QueueHead {
        let kind = self.kind.unwrap_or(Kind::Unknown);
        let by = match kind {
            Kind::Track => self.artist.take(),
            Kind::Episode => self.show.take(),
            Kind::Ad | Kind::Unknown => self.artist.take().or_else(|| self.show.take()),
        };
        QueueHead {
            // A local file has no id of its own, whatever the body says.
            current_id: self.current_id.take().filter(|_| !self.current_local),
            next: self.title.take().map(|title| QueuedItem {
                kind,
                title,
                by: by.unwrap_or_default(),
            }),
            upcoming: core::mem::take(&mut self.upcoming),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::Tokenizer;
    use std::format;

    /// The parser is ready for the next body after `finish` and `reset`, wherever the last
    /// one stopped (compared by `Debug`, which shows every field).
    #[test]
    fn reset_is_the_same_as_a_fresh_extractor() {
        let body: &[u8] = br#"{"currently_playing":{"id":"abc","is_local":false},"queue":[{"type":"track","name":"N","artists":[{"name":"A"},{"name":"B"}],"show":{"name":"S"}},{"name":"x"}]}"#;
        let fresh = format!("{:?}", QueueFields::default());
        for cut in 0..=body.len() {
            let mut p = QueueParser::new();
            let _ = p.feed(body.get(..cut).unwrap_or_default());
            p.reset();
            assert_eq!(format!("{:?}", p.ex), fresh, "cut at {cut}");
            assert_eq!(format!("{:?}", p.tok), format!("{:?}", Tokenizer::new()));
        }
    }

    /// The next queue elements are entered only for their ids (a `Later` frame, no deeper),
    /// and those past [`UPCOMING_IDS`] are turned down at their `{`; the first element's
    /// fields are never overwritten.
    #[test]
    fn later_elements_are_not_entered() {
        let mut p = QueueParser::new();
        p.feed(br#"{"queue":[{"name":"first","artists":[{"name":"a"}]},{"name":"#)
            .unwrap();
        assert_eq!(p.ex.skip, 0);
        assert_eq!(
            p.ex.frames.as_slice(),
            [Frame::Root, Frame::Queue, Frame::Later]
        );
        p.feed(br#""second","artists":[{"name":"b"}]},{"id":"t3","type":"track"},{"id":"t4","type":"track"},{"name":"#)
            .unwrap();
        assert_eq!(p.ex.skip, 1, "the fifth is not entered");
        assert_eq!(p.ex.frames.as_slice(), [Frame::Root, Frame::Queue]);
        p.feed(br#""fifth","id":"t5","type":"track"}]}"#).unwrap();
        let head = p.finish().unwrap();
        assert_eq!(
            head.next.map(|n| n.title),
            Some(String::try_from("first").unwrap())
        );
        let ids: std::vec::Vec<&str> = head.upcoming.iter().map(|(_, i)| i.as_str()).collect();
        assert_eq!(ids, ["t3", "t4"], "(the first two have no id)");
    }
}
