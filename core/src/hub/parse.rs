//! Reading a state message back: [`HubStateParser`], on the streaming tokenizer.
//!
//! Every key of version 1 is read where it is expected and with the type it must have; a
//! value of another type counts as absent, unknown keys are skipped (a later version may
//! add some), and texts longer than the model keeps are cut at character boundaries.
//! A message without `"v":1`, `seq`, `screen` or `health.state` is refused as a whole.

use core::fmt;

use heapless::String;

use super::{
    HubHealth, HubPlayback, HubState, SCREEN_CAP, disallow_flag, notice_from, problem_from,
};
use crate::json::{JsonError, Sink};
use crate::model::{Device, Image, Kind, NAME_CAP, NowPlaying, Repeat, TITLE_CAP, URL_CAP};
use crate::parse::{Extract, Parser, QueuedItem};
use crate::text::push_truncating;

/// Parses a state message into a [`HubState`] (or why it is refused).
pub type HubStateParser = Parser<HubFields>;

/// Why a well-formed JSON message is not a state this crate reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HubStateError {
    /// Not JSON, or cut short.
    Json(JsonError),
    /// `v` is missing or not [`STATE_VERSION`](super::STATE_VERSION): a hub of another
    /// version (update the display and the hub together).
    Version,
    /// `seq`, `screen` or `health.state` is missing or of the wrong type.
    Incomplete,
}

impl fmt::Display for HubStateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HubStateError::Json(e) => write!(f, "not a state message: {e}"),
            HubStateError::Version => f.write_str(
                "a state message of another version: update the hub and the display together",
            ),
            HubStateError::Incomplete => {
                f.write_str("a state message without seq, screen or health.state")
            }
        }
    }
}

impl core::error::Error for HubStateError {}

impl HubStateParser {
    /// Parses one whole message.
    pub fn parse(&mut self, message: &[u8]) -> Result<HubState, HubStateError> {
        self.reset();
        self.feed(message).map_err(HubStateError::Json)?;
        self.finish().map_err(HubStateError::Json)?
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Frame {
    Root,
    Artists,
    Device,
    Disallows,
    Warnings,
    Health,
    UpNext,
}

/// What the next value is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Field {
    #[default]
    None,
    V,
    Seq,
    Screen,
    Kind,
    Title,
    Artists,
    Album,
    Show,
    IsPlaying,
    Progress,
    At,
    Duration,
    Device,
    Shuffle,
    Repeat,
    Cover,
    Disallows,
    Notice,
    Warnings,
    LoginEnds,
    Dark,
    Health,
    Liked,
    UpNext,
    DevName,
    DevType,
    DevVolume,
    DevRestricted,
    DevSupportsVolume,
    State,
    Since,
    Until,
    Reason,
    NextKind,
    NextTitle,
    NextBy,
    /// An element of `artists`, `disallows` or `warnings`.
    Element,
}

/// The [`Extract`]or behind [`HubStateParser`]; a constant size (about 2 KiB, most of it
/// the item's texts).
#[derive(Debug, Clone, Default)]
pub struct HubFields {
    v: Option<u64>,
    seq: Option<u64>,
    screen: Option<String<SCREEN_CAP>>,
    kind: Option<Kind>,
    np: NowPlaying,
    device: Option<Device>,
    cover: Option<String<URL_CAP>>,
    at_ms: Option<u64>,
    notice: Option<crate::session::Notice>,
    login_ends_s: Option<u64>,
    dark: bool,
    state: Option<String<16>>,
    since_ms: Option<u64>,
    until_ms: Option<u64>,
    reason: Option<String<24>>,
    liked: Option<bool>,
    up_next: Option<QueuedItem>,
    frames: heapless::Vec<Frame, 3>,
    skip: u8,
    field: Field,
    full: bool,
    /// Enumerated words (`kind`, `repeat`, `notice`, names in arrays) are read here.
    word: String<32>,
    word_over: bool,
}

/// Appends a piece of a kept text; the pieces after the first cut are dropped.
fn put<const N: usize>(s: &mut String<N>, part: &str, full: &mut bool) {
    if !*full && !push_truncating(s, part) {
        *full = true;
    }
}

impl HubFields {
    fn top(&self) -> Option<Frame> {
        self.frames.last().copied()
    }

    fn field_for(&mut self, frame: Frame, key: &[u8]) -> Field {
        match (frame, key) {
            (Frame::Root, b"v") => Field::V,
            (Frame::Root, b"seq") => Field::Seq,
            (Frame::Root, b"screen") => Field::Screen,
            (Frame::Root, b"kind") => Field::Kind,
            (Frame::Root, b"title") => {
                self.np.title = None;
                Field::Title
            }
            (Frame::Root, b"artists") => {
                self.np.artists.clear();
                Field::Artists
            }
            (Frame::Root, b"album") => {
                self.np.album = None;
                Field::Album
            }
            (Frame::Root, b"show") => {
                self.np.show = None;
                Field::Show
            }
            (Frame::Root, b"is_playing") => Field::IsPlaying,
            (Frame::Root, b"progress_ms") => {
                self.np.progress_ms = None;
                Field::Progress
            }
            (Frame::Root, b"at_ms") => {
                self.at_ms = None;
                Field::At
            }
            (Frame::Root, b"duration_ms") => {
                self.np.duration_ms = None;
                Field::Duration
            }
            (Frame::Root, b"device") => {
                self.device = None;
                Field::Device
            }
            (Frame::Root, b"shuffle") => {
                self.np.shuffle = None;
                Field::Shuffle
            }
            (Frame::Root, b"repeat") => {
                self.np.repeat = None;
                Field::Repeat
            }
            (Frame::Root, b"cover_url") => {
                self.cover = None;
                Field::Cover
            }
            (Frame::Root, b"disallows") => {
                self.np.disallows = Default::default();
                Field::Disallows
            }
            (Frame::Root, b"notice") => {
                self.notice = None;
                Field::Notice
            }
            (Frame::Root, b"warnings") => Field::Warnings,
            (Frame::Root, b"login_ends_s") => {
                self.login_ends_s = None;
                Field::LoginEnds
            }
            (Frame::Root, b"dark") => Field::Dark,
            (Frame::Root, b"health") => {
                self.state = None;
                self.since_ms = None;
                self.until_ms = None;
                self.reason = None;
                Field::Health
            }
            (Frame::Root, b"liked") => {
                self.liked = None;
                Field::Liked
            }
            (Frame::Root, b"up_next") => {
                self.up_next = None;
                Field::UpNext
            }
            (Frame::Device, b"name") => Field::DevName,
            (Frame::Device, b"type") => Field::DevType,
            (Frame::Device, b"volume_percent") => Field::DevVolume,
            (Frame::Device, b"is_restricted") => Field::DevRestricted,
            (Frame::Device, b"supports_volume") => Field::DevSupportsVolume,
            (Frame::Health, b"state") => Field::State,
            (Frame::Health, b"since_ms") => Field::Since,
            (Frame::Health, b"until_ms") => Field::Until,
            (Frame::Health, b"reason") => Field::Reason,
            (Frame::UpNext, b"kind") => Field::NextKind,
            (Frame::UpNext, b"title") => Field::NextTitle,
            (Frame::UpNext, b"by") => Field::NextBy,
            _ => Field::None,
        }
    }

    fn begin_container(&mut self, object: bool) -> bool {
        if self.skip > 0 {
            self.skip = self.skip.saturating_add(1);
            return false;
        }
        let frame = match (self.top(), self.field, object) {
            (None, _, true) => Some(Frame::Root),
            (Some(Frame::Root), Field::Artists, false) => Some(Frame::Artists),
            (Some(Frame::Root), Field::Disallows, false) => Some(Frame::Disallows),
            (Some(Frame::Root), Field::Warnings, false) => Some(Frame::Warnings),
            (Some(Frame::Root), Field::Device, true) => {
                self.device = Some(Device::default());
                Some(Frame::Device)
            }
            (Some(Frame::Root), Field::Health, true) => Some(Frame::Health),
            (Some(Frame::Root), Field::UpNext, true) => {
                self.up_next = Some(QueuedItem::default());
                Some(Frame::UpNext)
            }
            _ => None,
        };
        self.field = Field::None;
        match frame.map(|f| self.frames.push(f)) {
            Some(Ok(())) => true,
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
            self.frames.pop();
        }
        self.field = Field::None;
    }

    /// A value starts: inside an array it is an element.
    fn value(&mut self) {
        if matches!(
            self.top(),
            Some(Frame::Artists | Frame::Disallows | Frame::Warnings)
        ) {
            self.field = Field::Element;
        }
    }

    fn number_for(&mut self, n: Option<u64>) {
        match self.field {
            Field::V => self.v = n,
            Field::Seq => self.seq = n,
            Field::Progress => self.np.progress_ms = n,
            Field::At => self.at_ms = n,
            Field::Duration => self.np.duration_ms = n,
            Field::LoginEnds => self.login_ends_s = n,
            Field::Since => self.since_ms = n,
            Field::Until => self.until_ms = n,
            Field::DevVolume => {
                if let Some(d) = self.device.as_mut() {
                    d.volume_percent = n.filter(|v| *v <= 100).and_then(|v| u8::try_from(v).ok());
                }
            }
            _ => {}
        }
    }

    fn end_word(&mut self) {
        let top = self.top();
        let word = if self.word_over {
            String::<32>::new()
        } else {
            self.word.clone()
        };
        let w = word.as_str();
        match (self.field, top) {
            (Field::Kind, _) => self.kind = Some(Kind::from_api(w)),
            (Field::Repeat, _) => self.np.repeat = Repeat::from_api(w),
            (Field::Notice, _) => self.notice = notice_from(w),
            (Field::NextKind, _) => {
                if let Some(q) = self.up_next.as_mut() {
                    q.kind = Kind::from_api(w);
                }
            }
            (Field::Element, Some(Frame::Disallows)) => {
                if let Some(flag) = disallow_flag(&mut self.np.disallows, w) {
                    *flag = true;
                }
            }
            // Only `login_expires` is known; its date comes in `login_ends_s`.
            (Field::Element, Some(Frame::Warnings)) => {}
            (Field::State, _) => self.state = Some(crate::text::bounded(w).0),
            (Field::Reason, _) => self.reason = Some(crate::text::bounded(w).0),
            _ => {}
        }
    }
}

impl Sink for HubFields {
    fn begin_object(&mut self) -> bool {
        self.value();
        self.begin_container(true)
    }

    fn end_object(&mut self) {
        self.end_container();
    }

    fn begin_array(&mut self) -> bool {
        self.value();
        self.begin_container(false)
    }

    fn end_array(&mut self) {
        self.end_container();
    }

    fn key(&mut self, key: Option<&[u8]>) {
        if self.skip > 0 {
            return;
        }
        self.field = match (self.top(), key) {
            (Some(frame), Some(key)) => self.field_for(frame, key),
            _ => Field::None,
        };
    }

    fn begin_string(&mut self) -> bool {
        if self.skip > 0 {
            return false;
        }
        self.value();
        self.full = false;
        self.word.clear();
        self.word_over = false;
        let top = self.top();
        match (self.field, top) {
            (Field::Screen, _) => self.screen = Some(String::new()),
            (Field::Title, _) => self.np.title = Some(String::new()),
            (Field::Album, _) => self.np.album = Some(String::new()),
            (Field::Show, _) => self.np.show = Some(String::new()),
            (Field::Cover, _) => self.cover = Some(String::new()),
            (Field::Element, Some(Frame::Artists)) => {
                if self.np.artists.push(String::new()).is_err() {
                    self.np.truncated = true;
                    self.field = Field::None;
                    return false;
                }
            }
            (Field::DevName | Field::DevType | Field::NextTitle | Field::NextBy, _) => {}
            (Field::Kind | Field::Repeat | Field::Notice | Field::NextKind, _)
            | (Field::State | Field::Reason, _)
            | (Field::Element, Some(Frame::Disallows | Frame::Warnings)) => {}
            _ => {
                self.field = Field::None;
                return false;
            }
        }
        true
    }

    fn string_part(&mut self, part: &str) {
        let full = &mut self.full;
        match self.field {
            Field::Screen => {
                if let Some(s) = self.screen.as_mut() {
                    put(s, part, full);
                }
            }
            Field::Title => {
                if let Some(s) = self.np.title.as_mut() {
                    put::<TITLE_CAP>(s, part, full);
                }
            }
            Field::Album => {
                if let Some(s) = self.np.album.as_mut() {
                    put::<NAME_CAP>(s, part, full);
                }
            }
            Field::Show => {
                if let Some(s) = self.np.show.as_mut() {
                    put::<NAME_CAP>(s, part, full);
                }
            }
            Field::Cover => {
                // A URL that does not fit is dropped, never cut (it would name another image).
                if let Some(s) = self.cover.as_mut()
                    && s.push_str(part).is_err()
                {
                    self.cover = None;
                    self.field = Field::None;
                }
            }
            Field::Element if self.frames.last() == Some(&Frame::Artists) => {
                if let Some(s) = self.np.artists.last_mut() {
                    put(s, part, full);
                }
            }
            Field::DevName => {
                if let Some(d) = self.device.as_mut() {
                    put(&mut d.name, part, full);
                }
            }
            Field::DevType => {
                if let Some(d) = self.device.as_mut() {
                    put(&mut d.kind, part, full);
                }
            }
            Field::NextTitle => {
                if let Some(q) = self.up_next.as_mut() {
                    put(&mut q.title, part, full);
                }
            }
            Field::NextBy => {
                if let Some(q) = self.up_next.as_mut() {
                    put(&mut q.by, part, full);
                }
            }
            _ => {
                self.word_over |= !push_truncating(&mut self.word, part);
            }
        }
        if self.full {
            self.np.truncated = true;
        }
    }

    fn end_string(&mut self) {
        self.end_word();
        self.field = Field::None;
    }

    fn number(&mut self, value: Option<u64>) {
        if self.skip > 0 {
            return;
        }
        self.value();
        self.number_for(value);
        self.field = Field::None;
    }

    fn boolean(&mut self, value: bool) {
        if self.skip > 0 {
            return;
        }
        self.value();
        match self.field {
            Field::IsPlaying => self.np.is_playing = value,
            Field::Shuffle => self.np.shuffle = Some(value),
            Field::Dark => self.dark = value,
            Field::Liked => self.liked = Some(value),
            Field::DevRestricted => {
                if let Some(d) = self.device.as_mut() {
                    d.is_restricted = value;
                }
            }
            Field::DevSupportsVolume => {
                if let Some(d) = self.device.as_mut() {
                    d.volume_fixed = !value;
                }
            }
            _ => {}
        }
        self.field = Field::None;
    }

    fn null(&mut self) {
        if self.skip > 0 {
            return;
        }
        self.value();
        self.field = Field::None;
    }
}

impl Extract for HubFields {
    type Output = Result<HubState, HubStateError>;

    fn output(&mut self) -> Self::Output {
        let f = core::mem::take(self);
        if f.v != Some(super::STATE_VERSION) {
            return Err(HubStateError::Version);
        }
        let (Some(seq), Some(screen), Some(state)) = (f.seq, f.screen, f.state) else {
            return Err(HubStateError::Incomplete);
        };
        let health = match state.as_str() {
            "good" => HubHealth::Good,
            "stale" => HubHealth::Stale {
                since_ms: f.since_ms,
            },
            "offline" => HubHealth::Offline {
                since_ms: f.since_ms,
            },
            "rate_limited" => HubHealth::RateLimited {
                until_ms: f.until_ms,
            },
            "quota_exceeded" => HubHealth::QuotaExceeded {
                until_ms: f.until_ms,
            },
            "login_needed" if f.reason.as_deref() == Some("login_expired") => {
                HubHealth::LoginExpired
            }
            "login_needed" => HubHealth::LoginNeeded,
            "config_error" => HubHealth::ConfigError(
                f.reason
                    .as_deref()
                    .and_then(problem_from)
                    .unwrap_or(crate::session::ConfigProblem::InvalidClient),
            ),
            _ => return Err(HubStateError::Incomplete),
        };
        let playback = match f.kind {
            Some(kind) => {
                let mut np = f.np;
                np.kind = kind;
                np.device = f.device;
                if let Some(url) = f.cover.filter(|u| !u.is_empty()) {
                    let _ = np.images.push(Image {
                        url,
                        width: None,
                        height: None,
                    });
                }
                HubPlayback::Item(np)
            }
            None if screen.as_str() == "connecting" => HubPlayback::Unknown,
            None => HubPlayback::Nothing,
        };
        let up_next = f.up_next.filter(|q| !q.title.is_empty());
        Ok(HubState {
            seq,
            screen,
            at_ms: f.at_ms.filter(|_| matches!(playback, HubPlayback::Item(_))),
            playback,
            notice: f.notice,
            login_ends_s: f.login_ends_s,
            dark: f.dark,
            health,
            liked: f.liked,
            up_next,
        })
    }

    fn reset(&mut self) {
        *self = Self::default();
    }
}
