//! The kit's second mode: a board fed by a hub (`tonearm hub`) over MQTT 5, instead of
//! talking to Spotify. Feature `hub`.
//!
//! A settings record with a hub URL (`tonearm provision --hub mqtt://HOST[:PORT]/ID`;
//! [`tonearm_settings::hub`]) holds no Spotify login: the board subscribes to the hub's
//! `tonearm/<id>/state` and `tonearm/<id>/availability`, shows what the hub shows through
//! a mirror session ([`Session::mirror`]), and publishes presses on `tonearm/<id>/command`.
//! It never asks Spotify anything, so it needs no TLS and no certificate dates: the time
//! of day is asked of SNTP a few times at boot for the clock and the night hours, and the
//! board goes on without it (the hub's own times place the progress).
//!
//! The behaviour is the host's hub-fed display's (`tonearm run --hub`,
//! `display-sim/src/hub_display.rs`), in `no_std` and without alloc:
//!
//! - [`HubSource`] is the app's source: state messages parsed as they arrive (the MQTT
//!   receive buffer of [`MAX_PACKET`] bytes is the only copy of a message), applied in
//!   [`Source::take_news`]; `offline` (the last state kept, with its age) when the hub's
//!   availability says `offline`, the broker has been unreachable for
//!   [`UNREACHABLE_MS`], or a hub that beats (`online` every 2 s) has been silent for
//!   [`SILENT_MS`] (frozen; heard again, its last state shows again); a press becomes a
//!   command ([`command_text`]), or the control-failed notice while the hub is out of
//!   reach;
//! - [`Kit::run_hub`] is the loop: the app's turns, and between them the broker's
//!   packets, awaited together (the client's `poll` is cancel-safe); connections retried
//!   with a backoff from [`BACKOFF_MIN_MS`] to [`BACKOFF_MAX_MS`], keep-alive
//!   [`KEEP_ALIVE_S`] s (the broker drops a silent board after one and a half
//!   keep-alives; the board pings 2.5 s after its last packet and gives a broker 5 s to
//!   answer, so a frozen broker shows `offline` 8 to 11 s after it froze: the same
//!   [`UNREACHABLE_MS`] after the link is known lost, as on the host).
//!
//! # The MQTT client: minimq 0.13
//!
//! Chosen after a spike between the maintained `no_std` MQTT 5 clients (rust-mqtt 0.6,
//! minimq 0.13): minimq is async over `embedded-io-async` 0.7 (so any
//! [`Network::Tcp`], TLS or not, is its transport), keeps time with `embassy-time` 0.5 and
//! its collections in `heapless` 0.9 (all three already the kit's, so it links nothing
//! new but its own code and `serde`'s derive-free core), allocates nothing (the caller
//! owns the receive and transmit buffers: [`Buffers`]), announces its receive buffer as
//! the Maximum Packet Size in CONNECT (so no broker sends a board more than
//! [`MAX_PACKET`]: a 1 MiB retained message never reaches it), sends the keep-alive pings
//! itself inside `Connection::poll`, whose future is cancel-safe (the loop can wait on
//! the broker and on its timers at once), takes a user and password and a last will, and
//! hands the user properties of an inbound PUBLISH to the caller
//! (`InboundPublish::properties`, which the hub's `cover` needs for its `url`).
//! rust-mqtt 0.6 has the same protocol reach but leaves keep-alive pings to the caller
//! (`ping()` between receives), and its receive path is a poll loop over the client that
//! holds the whole client borrowed, so waiting on the broker and on a timer at once needs
//! its `poll_header`/`poll_body` split; minimq needs neither. No client of our own was
//! needed.
//!
//! # Covers
//!
//! With the kit's `art` feature (the app's album art: a JPEG decoder and a global
//! allocator) the board subscribes to `cover` too: the hub's cover (at most [`COVER_MAX`]
//! bytes, its URL in the MQTT 5 user property `url`) is kept in [`Buffers`] and answers
//! the app's fetch of that URL, so nothing is fetched from the image host; a fetch the
//! hub's cover does not answer within [`COVER_WAIT_MS`] fails (the app's art rules back
//! off). Without `art` the board does not subscribe to `cover`: a hub's 7 KiB covers
//! never cross its link.
//!
//! # `mqtts://`
//!
//! Not on boards yet: a hub URL with `mqtts://` shows `config_error` ("mqtts:// hub: TLS
//! to the broker is not in this firmware"). The kit's TLS ([`crate::https`]) is built
//! around one request per connection with its own 21 KiB of buffers; MQTT over it needs
//! the same `embedded-tls` connection kept open as minimq's transport, its buffers beside
//! minimq's, and the broker's CA in the record's trust anchors. A plain `mqtt://` hub on
//! the home network is what the emulated board shows.

use core::cell::RefCell;
use core::fmt::Write as _;
use core::net::IpAddr;

use embassy_futures::select::{Either, select};
use embassy_time::{Duration, Instant, Timer, with_timeout};
use heapless::{Deque, String};
use minimq::{ConfigBuilder, ConnectEvent, Publication, TopicFilter};
use tonearm_core::budget::QuotaState;
use tonearm_core::hub::{HubState, HubStateError, HubStateParser};
use tonearm_core::session::{
    Action, Control, ControlRefused, Failure, Notice, Session, Timing, TokenUpdate,
};
use tonearm_core::wall::{PosixTz, WallClock as Wall};
use tonearm_firmware::{App, BandSink, Do, Palette, Screen, Source};
use tonearm_settings::hub::Hub;

use crate::board::{Backlight, Buttons, Log, Network, WallClock, Watchdog};
use crate::run::{Kit, NET_POLL_MS, now_ms};
use crate::settings::{self as record, Settings};

/// The largest MQTT packet a board accepts, announced to the broker as its Maximum
/// Packet Size (as the host's hub-fed display does): the receive buffer.
pub const MAX_PACKET: usize = 8 * 1024;
/// The transmit buffer: CONNECT (client id, user, password: under 256 bytes),
/// SUBSCRIBE and the commands, with room for minimq's in-flight bookkeeping.
pub const TX_BUF: usize = 1024;
/// The broker unreachable this long: the board shows `offline`.
pub const UNREACHABLE_MS: u64 = 3_000;
/// A hub that said `online` (it repeats it every 2 s, not retained: its heartbeat) and
/// has been silent this long is gone (frozen: its socket open, its will not sent yet,
/// which Debian's mosquitto sends 10.5 to 11 s late): the board shows `offline`. The
/// host's `SILENT`.
pub const SILENT_MS: u64 = 6_000;
/// The MQTT keep-alive, in seconds.
pub const KEEP_ALIVE_S: u16 = 5;
/// The first pause before connecting again.
pub const BACKOFF_MIN_MS: u64 = 1_000;
/// The longest pause before connecting again.
pub const BACKOFF_MAX_MS: u64 = 30_000;
/// A name lookup, a TCP connection, the MQTT handshake or a SUBSCRIBE that takes longer
/// fails (and is retried after the backoff): a broker on the home network answers in
/// milliseconds, and a frozen one (its kernel still accepts connections) is given up on
/// soon.
pub const CONNECT_TIMEOUT_MS: u64 = 5_000;
/// A command's PUBLISH that takes longer drops the connection.
pub const PUBLISH_TIMEOUT_MS: u64 = 5_000;
/// SNTP attempts at boot (the time of day is for the clock and the night hours only).
pub const SNTP_TRIES: u32 = 3;
/// Presses waiting to go out.
pub const COMMANDS: usize = 4;
/// The longest command (`volume:100`, `play_pause`).
pub const COMMAND_MAX: usize = 16;
/// The longest topic (`tonearm/` + a 32-byte id + `/availability`).
pub const TOPIC_MAX: usize = 8 + tonearm_settings::hub::ID_MAX + 13;

/// The largest cover kept (the hub's cap, `tonearm hub`'s `COVER_MAX_BYTES`); feature
/// `art`.
#[cfg(feature = "art")]
pub const COVER_MAX: usize = 7 * 1024;
/// A cover fetch waits this long for the hub's `cover` message before it fails.
#[cfg(feature = "art")]
pub const COVER_WAIT_MS: u64 = 10_000;

/// The MQTT client's buffers (the board keeps them in a static: 9 KiB; with the `art`
/// feature 7 KiB more for the hub's cover).
pub struct Buffers {
    rx: [u8; MAX_PACKET],
    tx: [u8; TX_BUF],
    #[cfg(feature = "art")]
    cover: [u8; COVER_MAX],
}

impl Buffers {
    /// Bytes they take.
    #[cfg(not(feature = "art"))]
    pub const SIZE: usize = MAX_PACKET + TX_BUF;
    /// Bytes they take.
    #[cfg(feature = "art")]
    pub const SIZE: usize = MAX_PACKET + TX_BUF + COVER_MAX;

    /// Zeroed buffers.
    pub const fn new() -> Self {
        Buffers {
            rx: [0; MAX_PACKET],
            tx: [0; TX_BUF],
            #[cfg(feature = "art")]
            cover: [0; COVER_MAX],
        }
    }
}

impl Default for Buffers {
    fn default() -> Self {
        Self::new()
    }
}

/// The command a press sends to the hub (the hub's `command` topic; the same words as
/// `tonearm run --hub` sends). `liked`: whether the item playing is liked (a toggle
/// sends `unlike` for a liked one).
pub fn command_text(control: Control, liked: Option<bool>) -> String<COMMAND_MAX> {
    let mut s = String::new();
    let _ = match control {
        Control::PlayPause => s.push_str("play_pause"),
        Control::Next => s.push_str("next"),
        Control::Previous => s.push_str("previous"),
        Control::ToggleLike if liked == Some(true) => s.push_str("unlike"),
        Control::ToggleLike | Control::SetLiked(true) => s.push_str("like"),
        Control::SetLiked(false) => s.push_str("unlike"),
        Control::VolumeUp => s.push_str("volume_up"),
        Control::VolumeDown => s.push_str("volume_down"),
        Control::SetVolume(n) => {
            write!(s, "volume:{}", n.min(100)).map_err(|_| heapless::CapacityError::default())
        }
    };
    s
}

/// The topics of hub `id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topics {
    /// `tonearm/<id>/state`.
    pub state: String<TOPIC_MAX>,
    /// `tonearm/<id>/availability`.
    pub availability: String<TOPIC_MAX>,
    /// `tonearm/<id>/command`.
    pub command: String<TOPIC_MAX>,
    /// `tonearm/<id>/cover` (subscribed to with the `art` feature only).
    pub cover: String<TOPIC_MAX>,
}

impl Topics {
    /// The topics of `id` (a valid id: [`tonearm_settings::hub::is_id`]; a longer one is
    /// cut, and then matches nothing).
    pub fn new(id: &str) -> Self {
        let topic = |leaf: &str| {
            let mut s = String::new();
            let _ = write!(s, "tonearm/{id}/{leaf}");
            s
        };
        Topics {
            state: topic("state"),
            availability: topic("availability"),
            command: topic("command"),
            cover: topic("cover"),
        }
    }

    /// What a message on `topic` is.
    pub fn leaf(&self, topic: &str) -> Option<Leaf> {
        if topic == self.state.as_str() {
            Some(Leaf::State)
        } else if topic == self.availability.as_str() {
            Some(Leaf::Availability)
        } else {
            None
        }
    }
}

/// The hub's topics a board reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leaf {
    /// `state`: a state message (`docs/hub-state.md`).
    State,
    /// `availability`: `online` / `offline`.
    Availability,
}

/// What a delivered message did (for the log).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivered {
    /// A state, to be shown at the next turn.
    State,
    /// A state message that does not parse (the last good one stays).
    BadState(HubStateError),
    /// The hub is there (`true`) or gone.
    Availability(bool),
    /// An availability that is neither `online` nor `offline`, or another topic.
    Ignored,
}

/// What arrived since the app last looked, and the link's state.
struct Inbox {
    /// The newest state that parsed (shown again when a silent hub is heard again with
    /// nothing new to say), and whether it is yet to be shown. Kept here only: no copy
    /// of a state is made, and none crosses the stack but the parser's answer.
    state: Option<HubState>,
    fresh: bool,
    parser: HubStateParser,
    /// `availability` said this.
    online: Option<bool>,
    /// The broker link is up (connected and subscribed).
    connected: bool,
    /// The link has been down since this monotonic time.
    down_since: Option<u64>,
    /// The link changed since the app last looked.
    link_changed: bool,
    /// The hub was last heard from (any message of its) at this monotonic time.
    heard: Option<u64>,
    /// The hub said `online` (it repeats it every heartbeat): its silence counts.
    beats: bool,
    /// Commands to publish.
    outgoing: Deque<String<COMMAND_MAX>, COMMANDS>,
}

/// The app's source in hub mode; see the [module docs](self). The loop hands it what
/// the broker sends ([`HubSource::deliver`]) and the link's changes; it is shared with
/// the app (which owns it), so what changes goes through a `RefCell` (one task, never
/// borrowed across an `await`).
pub struct HubSource {
    session: Session,
    inbox: RefCell<Inbox>,
    /// `offline` shows for the hub's silence: when it is heard again, its last state
    /// shows again.
    gone: bool,
}

impl HubSource {
    /// A mirror session, `connecting` until the first state; the broker counts as
    /// unreachable since `now_ms` (the boot), so `offline` shows if it stays so.
    pub fn new(now_ms: u64) -> Self {
        HubSource {
            session: Session::mirror(Timing::default()),
            inbox: RefCell::new(Inbox {
                state: None,
                fresh: false,
                parser: HubStateParser::new(),
                online: None,
                connected: false,
                down_since: Some(now_ms),
                link_changed: false,
                heard: None,
                beats: false,
                outgoing: Deque::new(),
            }),
            gone: false,
        }
    }

    /// A message on one of the hub's topics, received at `now_ms`.
    pub fn deliver(&self, leaf: Leaf, payload: &[u8], now_ms: u64) -> Delivered {
        let mut inbox = self.inbox.borrow_mut();
        inbox.heard = Some(now_ms);
        match leaf {
            Leaf::State => match inbox.parser.parse(payload) {
                Ok(state) => {
                    inbox.state = Some(state);
                    inbox.fresh = true;
                    Delivered::State
                }
                Err(e) => Delivered::BadState(e),
            },
            Leaf::Availability => match payload {
                b"online" => {
                    // Repeated every heartbeat (a retained copy counts too: a hub found
                    // frozen at connection falls silent as well).
                    inbox.online = Some(true);
                    inbox.beats = true;
                    Delivered::Availability(true)
                }
                b"offline" => {
                    inbox.online = Some(false);
                    Delivered::Availability(false)
                }
                _ => Delivered::Ignored,
            },
        }
    }

    /// The first connection attempt begins at `now_ms`: the broker counts as unreachable
    /// from here (not from the boot: a board that spent its first seconds on DHCP and the
    /// time of day does not show `offline` before it has tried).
    pub fn start(&self, now_ms: u64) {
        let mut inbox = self.inbox.borrow_mut();
        if !inbox.connected {
            inbox.down_since = Some(now_ms);
        }
    }

    /// Something else of the hub's arrived at `now_ms` (its cover): it is there.
    pub fn heard(&self, now_ms: u64) {
        self.inbox.borrow_mut().heard = Some(now_ms);
    }

    /// The broker link is up (connected, subscribed). What the hub's availability said
    /// is forgotten: the broker hands its retained copy again, after the retained state
    /// (in subscription order), so a will that an `online` has replaced meanwhile does
    /// not keep that state offline.
    pub fn link_up(&self) {
        let mut inbox = self.inbox.borrow_mut();
        inbox.online = None;
        inbox.connected = true;
        inbox.down_since = None;
        inbox.link_changed = true;
    }

    /// The broker link went down at `now_ms`. Commands not sent are dropped (a press
    /// replayed minutes later would surprise).
    pub fn link_down(&self, now_ms: u64) {
        let mut inbox = self.inbox.borrow_mut();
        if inbox.connected {
            inbox.down_since = Some(now_ms);
            inbox.link_changed = true;
        }
        inbox.connected = false;
        inbox.outgoing.clear();
    }

    /// Whether the broker link is up.
    pub fn is_connected(&self) -> bool {
        self.inbox.borrow().connected
    }

    /// The next command to publish.
    pub fn take_command(&self) -> Option<String<COMMAND_MAX>> {
        self.inbox.borrow_mut().outgoing.pop_front()
    }
}

impl Source for HubSource {
    fn session(&self) -> &Session {
        &self.session
    }

    fn poll(&mut self, now_ms: u64) -> Action {
        // Wake when the link has been down, or the hub silent, long enough to show it.
        let inbox = self.inbox.borrow();
        let at = match (inbox.down_since, inbox.heard) {
            (Some(since), _) if !inbox.connected => since.saturating_add(UNREACHABLE_MS),
            (_, Some(heard)) if inbox.beats => heard.saturating_add(SILENT_MS),
            _ => return Action::Wait,
        };
        if now_ms < at {
            Action::WaitUntil(at)
        } else {
            Action::Wait
        }
    }

    fn on_head(&mut self, _now_ms: u64, _status: u16, _retry_after: Option<&str>) {}
    fn on_body(&mut self, _chunk: &[u8]) {}
    fn on_end(&mut self, _now_ms: u64) {}
    fn on_failure(&mut self, _now_ms: u64, _failure: Failure) {}

    fn press(&mut self, now_ms: u64, control: Control) -> Result<(), ControlRefused> {
        let mut inbox = self.inbox.borrow_mut();
        if !inbox.connected || inbox.online == Some(false) {
            drop(inbox);
            self.session.mirror_notice(now_ms, Notice::ControlFailed);
            return Err(ControlRefused::Unavailable);
        }
        let command = command_text(control, self.session.liked());
        if inbox.outgoing.push_back(command).is_err() {
            // Four presses waiting already: this one is not sent.
            drop(inbox);
            self.session.mirror_notice(now_ms, Notice::ControlFailed);
            return Err(ControlRefused::Unavailable);
        }
        Ok(())
    }

    fn take_token_update(&mut self) -> Option<TokenUpdate> {
        None
    }

    fn take_quota_save(&mut self, _now_ms: u64, _min_gap_ms: u64) -> Option<QuotaState> {
        None
    }

    fn set_wall_clock(&mut self, now_ms: u64, wall: Wall) {
        self.session.set_wall_clock(now_ms, wall);
    }

    fn take_news(&mut self, now_ms: u64) -> bool {
        let mut inbox = self.inbox.borrow_mut();
        let mut news = core::mem::take(&mut inbox.link_changed);
        let fresh = core::mem::take(&mut inbox.fresh);
        let silent_since = inbox
            .heard
            .filter(|h| inbox.beats && now_ms >= h.saturating_add(SILENT_MS));
        let (online, connected, down_since) = (inbox.online, inbox.connected, inbox.down_since);
        if let Some(state) = &inbox.state {
            if fresh {
                // Applied even when it repeats the last one (a broker's retained copy
                // after a reconnection): it ends an `offline`.
                self.session.apply_mirror(now_ms, state);
                self.gone = false;
                news = true;
            } else if self.gone && silent_since.is_none() && online == Some(true) && connected {
                // Heard again after a silence (a frozen hub that goes on) with nothing
                // new to say: what it said last holds again. (After its will, or a broker
                // that was gone, a state message comes anyway.)
                self.session.apply_mirror(now_ms, state);
                self.gone = false;
                news = true;
            }
        }
        drop(inbox);
        // Gone: the hub says so, the broker has been out of reach for a while, or a hub
        // that beats has been silent.
        let lost = match (online, connected, down_since) {
            (Some(false), true, _) => Some(now_ms),
            (_, false, Some(since)) if now_ms >= since.saturating_add(UNREACHABLE_MS) => {
                Some(since)
            }
            (_, true, _) => {
                self.gone |= silent_since.is_some();
                silent_since
            }
            _ => None,
        };
        if let Some(since) = lost {
            let before = self.session.generation();
            self.session.mirror_lost(since);
            news |= self.session.generation() != before;
        }
        news
    }
}

/// What the loop keeps beside the app: the time zone, and the hub's cover for the app's
/// fetches (feature `art`: the cover arrives on its own topic with its URL as the MQTT 5
/// user property `url`; a fetch of that URL is answered from it, nothing is fetched from
/// the image host). Without `art` the app never fetches.
struct Ctx<'c> {
    tz: Option<PosixTz>,
    #[cfg(feature = "art")]
    cover: &'c mut [u8; COVER_MAX],
    /// The cover's length (0: none yet) and its URL.
    #[cfg(feature = "art")]
    cover_len: usize,
    #[cfg(feature = "art")]
    cover_url: String<{ tonearm_core::URL_CAP }>,
    /// The app's fetch waiting for its cover: the URL and when it fails.
    #[cfg(feature = "art")]
    pending: Option<(String<{ tonearm_core::URL_CAP }>, u64)>,
    #[cfg(not(feature = "art"))]
    _covers: core::marker::PhantomData<&'c ()>,
}

#[cfg(feature = "art")]
impl Ctx<'_> {
    /// The app asks for the cover at `url`: answered at once when it is the hub's (the
    /// bytes handed over), else when it comes (or a failure after [`COVER_WAIT_MS`]).
    fn fetch<C: Palette>(
        &mut self,
        app: &mut App<C, HubSource>,
        url: &str,
        now: u64,
    ) -> Option<usize> {
        if self.cover_len > 0 && self.cover_url.as_str() == url {
            return Some(self.answer(app, now));
        }
        match String::try_from(url) {
            Ok(u) => self.pending = Some((u, now.saturating_add(COVER_WAIT_MS))),
            Err(_) => app.on_failure(now, Failure::Connect),
        }
        None
    }

    /// The hub's cover arrived (`url` from its user property): kept, and handed to the
    /// fetch that waits for it. `None`: not kept (no URL, or over [`COVER_MAX`]);
    /// `Some(true)`: handed to the app.
    fn cover<C: Palette>(
        &mut self,
        app: &mut App<C, HubSource>,
        url: Option<&str>,
        jpeg: &[u8],
        now: u64,
    ) -> Option<bool> {
        let url = url
            .filter(|u| !u.is_empty())
            .and_then(|u| String::try_from(u).ok())?;
        self.cover.get_mut(..jpeg.len())?.copy_from_slice(jpeg);
        self.cover_len = jpeg.len();
        self.cover_url = url;
        let waited = self
            .pending
            .as_ref()
            .is_some_and(|(u, _)| *u == self.cover_url);
        if waited {
            self.answer(app, now);
        }
        Some(waited)
    }

    /// Fails the waiting fetch past its deadline; the time to wake for it.
    fn expire<C: Palette>(&mut self, app: &mut App<C, HubSource>, now: u64) -> Option<u64> {
        let (_, deadline) = self.pending.as_ref()?;
        if now >= *deadline {
            self.pending = None;
            app.on_failure(now, Failure::Timeout);
            return None;
        }
        Some(*deadline)
    }

    /// Hands the kept cover to the app as a fetch's response; its length.
    fn answer<C: Palette>(&mut self, app: &mut App<C, HubSource>, now: u64) -> usize {
        self.pending = None;
        app.on_head(now, 200, None);
        app.on_body(self.cover.get(..self.cover_len).unwrap_or_default());
        app.on_end(now);
        self.cover_len
    }
}

/// Why a connection to the broker ended or did not begin (logged).
enum LinkError<N, T> {
    /// The broker's name did not resolve.
    Resolve(N),
    /// The TCP connection failed.
    Connect(N),
    /// The MQTT handshake, a subscription or a packet failed (a refused login is
    /// `Peer(Rejected(..))`).
    Mqtt(minimq::Error<T>),
    /// A step took longer than [`CONNECT_TIMEOUT_MS`] or [`PUBLISH_TIMEOUT_MS`].
    Timeout(&'static str),
    /// A command could not be published.
    Publish,
}

impl<N, T> LinkError<N, T> {
    /// The broker refused the login (a wrong user or password).
    fn is_refused_login(&self) -> bool {
        matches!(
            self,
            LinkError::Mqtt(minimq::Error::Peer(minimq::PeerError::Rejected(
                minimq::ReasonCode::BadUsernameOrPassword | minimq::ReasonCode::NotAuthorized
            )))
        )
    }
}

impl<N: core::fmt::Debug, T: core::fmt::Debug> core::fmt::Display for LinkError<N, T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            LinkError::Resolve(e) => write!(f, "name lookup: {e:?}"),
            LinkError::Connect(e) => write!(f, "TCP connection: {e:?}"),
            LinkError::Mqtt(minimq::Error::Disconnected) => f.write_str("disconnected"),
            LinkError::Mqtt(minimq::Error::Peer(minimq::PeerError::Rejected(code))) => {
                write!(f, "the broker refused: {code:?}")
            }
            LinkError::Mqtt(e) => write!(f, "MQTT: {e:?}"),
            LinkError::Timeout(what) => write!(f, "{what}: timed out"),
            LinkError::Publish => f.write_str("a command could not be published"),
        }
    }
}

type TcpError<'n, N> = <<N as Network>::Tcp<'n> as embedded_io_async::ErrorType>::Error;

/// The MQTT client id of a board: `tonearm-board-` and 16 hex digits of `seed` (the MAC
/// address), so two boards on one broker do not throw each other off.
pub fn client_id(seed: u64) -> String<32> {
    let mut s = String::new();
    let _ = write!(s, "tonearm-board-{seed:016x}");
    s
}

/// Connects to the broker and subscribes to the hub's topics. A refused login is retried
/// like an unreachable broker (a board has no one to tell but its log and its `offline`
/// screen; the broker's password file may be fixed at any time).
async fn open<'n, 'm, 'buf, N: Network>(
    net: &'n mut N,
    mq: &'m mut minimq::Session<'buf>,
    hub: &Hub<'_>,
    topics: &Topics,
) -> Result<minimq::Connection<'m, 'buf, N::Tcp<'n>>, LinkError<N::Error, TcpError<'n, N>>> {
    let limit = Duration::from_millis(CONNECT_TIMEOUT_MS);
    let addr = match hub.host.parse::<IpAddr>() {
        Ok(a) => a,
        Err(_) => with_timeout(limit, net.resolve(hub.host))
            .await
            .map_err(|_| LinkError::Timeout("name lookup"))?
            .map_err(LinkError::Resolve)?,
    };
    let tcp = with_timeout(limit, net.connect(addr, hub.port))
        .await
        .map_err(|_| LinkError::Timeout("TCP connection"))?
        .map_err(LinkError::Connect)?;
    let mut conn = with_timeout(limit, mq.connect(tcp))
        .await
        .map_err(|_| LinkError::Timeout("MQTT handshake"))?
        .map_err(LinkError::Mqtt)?;
    if conn.connect_event() == ConnectEvent::Connected {
        // A fresh session (always: no session expiry is asked for): subscribe again.
        let filters = [
            TopicFilter::new(topics.state.as_str()),
            TopicFilter::new(topics.availability.as_str()),
            #[cfg(feature = "art")]
            TopicFilter::new(topics.cover.as_str()),
        ];
        with_timeout(limit, conn.subscribe(&filters, &[]))
            .await
            .map_err(|_| LinkError::Timeout("SUBSCRIBE"))?
            .map_err(LinkError::Mqtt)?;
    }
    Ok(conn)
}

impl<'r, 'b, C, D, B, W, G, L> Kit<'r, 'b, C, D, B, W, G, L>
where
    C: Palette,
    D: BandSink<C> + Backlight,
    B: Buttons,
    W: WallClock,
    G: Watchdog,
    L: Log,
{
    /// Runs a board fed by the hub that `settings` names (see the [module docs](self)):
    /// waits for the network (showing `connecting` with the network's name), asks the
    /// time of day (the board's clock, else SNTP, at most [`SNTP_TRIES`] times), then
    /// runs `app` for ever against the broker, with `bufs` as the MQTT client's buffers;
    /// `seed` (the MAC address) names the client. Halts on `config_error` when the record
    /// names no usable hub (no hub, a bad URL, `mqtts://`).
    pub async fn run_hub<N: Network>(
        &mut self,
        app: &mut App<C, HubSource>,
        net: &mut N,
        bufs: &mut Buffers,
        settings: &Settings<'_>,
        seed: u64,
        sntp_server: &str,
    ) -> ! {
        let hub = match settings.hub() {
            Ok(Some(hub)) => hub,
            Ok(None) => {
                self.halt(Screen::ConfigError, "no hub in the settings")
                    .await
            }
            Err(e) => {
                self.log.line(format_args!("hub: {e}"));
                self.halt(Screen::ConfigError, "bad hub URL").await
            }
        };
        if hub.tls {
            self.halt(
                Screen::ConfigError,
                "mqtts:// hub: TLS to the broker is not in this firmware",
            )
            .await;
        }
        self.show(Screen::Connecting, settings.ssid);
        while !net.is_up() {
            self.watchdog.feed();
            Timer::after(Duration::from_millis(NET_POLL_MS)).await;
        }
        self.log.line(format_args!("network up"));
        self.hub_time(net, sntp_server).await;
        let id = client_id(seed);
        let topics = Topics::new(hub.id);
        self.log.line(format_args!(
            "hub: {hub} as {} (client {id})",
            hub.user.unwrap_or("no user")
        ));
        let Buffers {
            rx,
            tx,
            #[cfg(feature = "art")]
            cover,
        } = bufs;
        let mut ctx = Ctx {
            tz: record::time_zone(settings).ok().flatten(),
            #[cfg(feature = "art")]
            cover,
            #[cfg(feature = "art")]
            cover_len: 0,
            #[cfg(feature = "art")]
            cover_url: String::new(),
            #[cfg(feature = "art")]
            pending: None,
            #[cfg(not(feature = "art"))]
            _covers: core::marker::PhantomData,
        };
        let mut config =
            ConfigBuilder::new(minimq::Buffers::new(rx, tx)).keepalive_interval(KEEP_ALIVE_S);
        config = match config.client_id(&id) {
            Ok(c) => c,
            Err(_) => self.halt(Screen::ConfigError, "MQTT client id").await,
        };
        if let Some(user) = hub.user {
            let password = hub.password.unwrap_or("").as_bytes();
            config = match config.auth(user, password) {
                Ok(c) => c,
                Err(_) => self.halt(Screen::ConfigError, "MQTT login").await,
            };
        }
        let mut mq = minimq::Session::new(config);
        let mut backoff = BACKOFF_MIN_MS;
        let mut next_try = now_ms();
        app.source().start(next_try);
        loop {
            self.hub_turns(app, &mut ctx, Some(next_try)).await;
            let attempt = open(net, &mut mq, &hub, &topics);
            let opened = match select(attempt, self.hub_turns(app, &mut ctx, None)).await {
                Either::First(r) => r,
                Either::Second(()) => continue, // never: the turns run until stopped
            };
            let why = match opened {
                Ok(mut conn) => {
                    backoff = BACKOFF_MIN_MS;
                    app.source().link_up();
                    self.log.line(format_args!("hub: broker connected"));
                    self.hub_connected::<N>(app, &mut conn, &topics, &mut ctx)
                        .await
                }
                Err(e) => e,
            };
            let now = now_ms();
            app.source().link_down(now);
            if why.is_refused_login() {
                self.log.line(format_args!(
                    "hub: {why}: check the board's MQTT user and password (tonearm provision --hub); next try in {backoff} ms"
                ));
            } else {
                self.log.line(format_args!(
                    "hub: broker unreachable ({why}): next try in {backoff} ms"
                ));
            }
            next_try = now.saturating_add(backoff);
            backoff = backoff.saturating_mul(2).min(BACKOFF_MAX_MS);
        }
    }

    /// The time of day from the board's clock, else SNTP (at most [`SNTP_TRIES`]
    /// times); without it the board goes on (no clock on screen, no night hours).
    async fn hub_time<N: Network>(&mut self, net: &mut N, server: &str) {
        for _ in 0..SNTP_TRIES {
            self.watchdog.feed();
            let unix = match self.clock.unix_s() {
                Some(s) => Some(s),
                None => crate::sntp::query(net, server).await,
            };
            if let Some(s) = unix {
                crate::https::set_unix_now(s);
                self.log.line(format_args!("time of day known: {s} (Unix)"));
                return;
            }
            Timer::after(Duration::from_millis(crate::run::SNTP_RETRY_MS)).await;
        }
        self.log.line(format_args!(
            "time of day unknown: no clock, no night hours"
        ));
    }

    /// The app's turns without the broker, until `until` (monotonic ms; `None`: for
    /// ever).
    async fn hub_turns(
        &mut self,
        app: &mut App<C, HubSource>,
        ctx: &mut Ctx<'_>,
        until: Option<u64>,
    ) {
        loop {
            self.watchdog.feed();
            let now = now_ms();
            if until.is_some_and(|u| now >= u) {
                return;
            }
            #[cfg(feature = "art")]
            let cover_wake = ctx.expire(app, now);
            match app.poll(now) {
                Do::Sleep(t) => {
                    let t = until.map_or(t, |u| t.min(u));
                    #[cfg(feature = "art")]
                    let t = cover_wake.map_or(t, |w| t.min(w));
                    self.hub_sleep(app, t).await;
                }
                other => self.hub_do(app, other, ctx),
            }
        }
    }

    /// The app's turns with the broker's packets between them, until the link fails.
    async fn hub_connected<'n, N: Network>(
        &mut self,
        app: &mut App<C, HubSource>,
        conn: &mut minimq::Connection<'_, '_, N::Tcp<'n>>,
        topics: &Topics,
        ctx: &mut Ctx<'_>,
    ) -> LinkError<N::Error, TcpError<'n, N>> {
        let mut warned = false;
        loop {
            self.watchdog.feed();
            while let Some(command) = app.source().take_command() {
                self.log.line(format_args!("hub: command {command}"));
                let publish = conn.publish(Publication::text(topics.command.as_str(), &command));
                match with_timeout(Duration::from_millis(PUBLISH_TIMEOUT_MS), publish).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(_)) => return LinkError::Publish,
                    Err(_) => return LinkError::Timeout("PUBLISH"),
                }
            }
            let now = now_ms();
            #[cfg(feature = "art")]
            let cover_wake = ctx.expire(app, now);
            let until = match app.poll(now) {
                Do::Sleep(t) => t,
                other => {
                    self.hub_do(app, other, ctx);
                    continue;
                }
            };
            #[cfg(feature = "art")]
            let until = cover_wake.map_or(until, |w| until.min(w));
            let got = select(conn.poll(), self.hub_sleep(app, until)).await;
            let message = match got {
                Either::First(Ok(Some(m))) => m,
                Either::First(Ok(None)) | Either::Second(()) => continue,
                Either::First(Err(e)) => return LinkError::Mqtt(e),
            };
            #[cfg(feature = "art")]
            if message.topic() == topics.cover.as_str() {
                let url = message.properties().iter().find_map(|p| match p {
                    Ok(minimq::Property::UserProperty("url", u)) => Some(u),
                    _ => None,
                });
                let jpeg = message.payload();
                app.source().heard(now_ms());
                match ctx.cover(app, url, jpeg, now_ms()) {
                    None => self.log.line(format_args!(
                        "hub: a cover ignored ({} bytes; the url property {})",
                        jpeg.len(),
                        if url.is_some() { "given" } else { "missing" }
                    )),
                    Some(true) => self.log.line(format_args!(
                        "hub: the cover ({} bytes) handed to the app",
                        jpeg.len()
                    )),
                    Some(false) => {}
                }
                continue;
            }
            let Some(leaf) = topics.leaf(message.topic()) else {
                continue;
            };
            match app.source().deliver(leaf, message.payload(), now_ms()) {
                Delivered::BadState(e) => {
                    if !warned {
                        self.log.line(format_args!(
                            "hub: a state message ignored ({} bytes): {e}",
                            message.payload().len()
                        ));
                        warned = true;
                    }
                }
                Delivered::State => warned = false,
                Delivered::Availability(on) => self.log.line(format_args!(
                    "hub: {}",
                    if on { "online" } else { "offline" }
                )),
                Delivered::Ignored => {}
            }
        }
    }

    /// Sleeps until `until`, sampling the buttons; a press goes to the app at once (and
    /// ends the sleep, so its command goes out).
    async fn hub_sleep(&mut self, app: &mut App<C, HubSource>, until: u64) {
        let Some(period) = self.buttons.sample_period_ms() else {
            Timer::at(Instant::from_millis(until)).await;
            return;
        };
        loop {
            let t = now_ms();
            if let Some(control) = self.buttons.sample(t) {
                let _ = app.press(t, control);
                return;
            }
            if t >= until {
                return;
            }
            Timer::after(Duration::from_millis(period.clamp(1, until - t))).await;
        }
    }

    /// Does what the app asked, but sleeping.
    fn hub_do(&mut self, app: &mut App<C, HubSource>, what: Do, ctx: &mut Ctx<'_>) {
        let now = now_ms();
        match what {
            // A mirror sends no request: never asked; a failure, were it asked, rather
            // than a hang.
            Do::Send(_) => app.on_failure(now, Failure::Connect),
            // The hub's cover (feature `art`); without it the app never asks.
            #[cfg(feature = "art")]
            Do::Fetch(req) => {
                if let Some(n) = ctx.fetch(app, req.url.as_str(), now) {
                    self.log
                        .line(format_args!("hub: the cover ({n} bytes) handed to the app"));
                }
            }
            #[cfg(not(feature = "art"))]
            Do::Fetch(_) => app.on_failure(now, Failure::Connect),
            // Nothing to keep: no tokens, no budget.
            Do::Save(_) | Do::Sleep(_) => {}
            Do::ReadClock => {
                if let Some(unix_ms) = crate::https::unix_ms_at(now) {
                    app.set_wall_clock(now, record::wall_clock(unix_ms, ctx.tz.as_ref()));
                }
            }
            Do::Backlight(on) => self.display.set_backlight(on),
            Do::Draw => {
                let _ = app.draw_banded(now, self.renderer, &mut self.display);
                self.log.drawn(now, &app.event_line(now));
            }
        }
    }
}

/// Which mode a record asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The board talks to Spotify itself ([`Kit::run`]).
    Spotify,
    /// The board is fed by a hub ([`Kit::run_hub`]).
    Hub,
}

/// The mode `settings` asks for: [`Mode::Hub`] when it names a hub (a usable one or not:
/// [`Kit::run_hub`] shows what is wrong with it), else [`Mode::Spotify`].
pub fn mode(settings: &Settings<'_>) -> Mode {
    match settings.hub() {
        Ok(None) => Mode::Spotify,
        Ok(Some(_)) | Err(_) => Mode::Hub,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use embedded_graphics::pixelcolor::Rgb565;
    use tonearm_firmware::Profile;

    /// A paused track, as `tonearm hub` publishes it.
    fn paused(seq: u64, title: &str) -> std::string::String {
        format!(
            r#"{{"v":1,"seq":{seq},"screen":"paused","kind":"track","title":"{title}","artists":["Opeth"],"album":"Damnation","show":null,"is_playing":false,"progress_ms":61000,"at_ms":1796402636412,"duration_ms":463000,"device":{{"name":"Kitchen","type":"Speaker","volume_percent":40,"is_restricted":false,"supports_volume":true}},"shuffle":false,"repeat":"off","cover_url":null,"disallows":[],"notice":null,"warnings":[],"login_ends_s":null,"dark":false,"health":{{"state":"good","since_ms":null,"until_ms":null,"reason":null}},"liked":true,"up_next":null}}"#
        )
    }

    fn app() -> App<Rgb565, HubSource> {
        let mut app = App::new(Profile::Square240x240, HubSource::new(0));
        app.set_headless(true);
        app
    }

    /// The screen and title the app shows at `now`.
    fn shows(app: &mut App<Rgb565, HubSource>, now: u64) -> (Screen, std::string::String) {
        // Polled as the loop does (the source's news are taken at each poll).
        let _ = app.poll(now);
        let _ = app.view(now);
        let line = app.event_line(now);
        (line.screen, line.title.as_str().to_owned())
    }

    #[test]
    fn commands_are_the_hosts_words() {
        let table = [
            (Control::PlayPause, None, "play_pause"),
            (Control::Next, None, "next"),
            (Control::Previous, None, "previous"),
            (Control::ToggleLike, Some(true), "unlike"),
            (Control::ToggleLike, Some(false), "like"),
            (Control::ToggleLike, None, "like"),
            (Control::SetLiked(true), None, "like"),
            (Control::SetLiked(false), Some(true), "unlike"),
            (Control::VolumeUp, None, "volume_up"),
            (Control::VolumeDown, None, "volume_down"),
            (Control::SetVolume(42), None, "volume:42"),
            (Control::SetVolume(250), None, "volume:100"),
        ];
        for (control, liked, want) in table {
            assert_eq!(command_text(control, liked).as_str(), want, "{control:?}");
        }
    }

    #[test]
    fn topics_and_client_id() {
        let t = Topics::new("desk");
        assert_eq!(t.state.as_str(), "tonearm/desk/state");
        assert_eq!(t.availability.as_str(), "tonearm/desk/availability");
        assert_eq!(t.command.as_str(), "tonearm/desk/command");
        assert_eq!(t.leaf("tonearm/desk/state"), Some(Leaf::State));
        assert_eq!(
            t.leaf("tonearm/desk/availability"),
            Some(Leaf::Availability)
        );
        assert_eq!(t.leaf("tonearm/desk/cover"), None);
        assert_eq!(t.leaf("tonearm/other/state"), None);
        // The longest id fits.
        let long = "a".repeat(tonearm_settings::hub::ID_MAX);
        let t = Topics::new(&long);
        assert_eq!(
            t.availability.as_str(),
            format!("tonearm/{long}/availability")
        );
        assert_eq!(
            client_id(0x0102_0304_0506_5441).as_str(),
            "tonearm-board-0102030405065441"
        );
    }

    #[test]
    fn connecting_then_the_hubs_state_then_offline_when_it_says_so() {
        let mut app = app();
        assert_eq!(shows(&mut app, 10).0, Screen::Connecting);
        app.source().link_up();
        let msg = paused(1, "Windowpane");
        assert_eq!(
            app.source().deliver(Leaf::State, msg.as_bytes(), 50),
            Delivered::State
        );
        assert_eq!(
            shows(&mut app, 100),
            (Screen::Paused, "Windowpane".to_owned())
        );
        assert_eq!(app.event_line(100).liked, Some(true));
        // A malformed message (or one of another version) changes nothing.
        for bad in [&b"{\"v\":1"[..], b"not json", b"{\"v\":2,\"seq\":1}", b""] {
            assert!(matches!(
                app.source().deliver(Leaf::State, bad, 150),
                Delivered::BadState(_)
            ));
        }
        assert_eq!(shows(&mut app, 200).0, Screen::Paused);
        // The hub's will: offline at once, the last title kept.
        assert_eq!(
            app.source().deliver(Leaf::Availability, b"offline", 250),
            Delivered::Availability(false)
        );
        assert_eq!(
            shows(&mut app, 300),
            (Screen::Offline, "Windowpane".to_owned())
        );
        assert_eq!(
            app.source().deliver(Leaf::Availability, b"maybe", 300),
            Delivered::Ignored
        );
        // Back: online, and its state again (retained): shown again.
        app.source().deliver(Leaf::Availability, b"online", 350);
        app.source()
            .deliver(Leaf::State, paused(2, "In My Time of Need").as_bytes(), 350);
        assert_eq!(
            shows(&mut app, 400),
            (Screen::Paused, "In My Time of Need".to_owned())
        );
    }

    #[test]
    fn the_broker_gone_three_seconds_is_offline_and_a_reconnection_brings_the_state_back() {
        let mut app = app();
        // Unreachable since boot: offline once 3 s have passed, and the app wakes for it.
        assert_eq!(shows(&mut app, 0).0, Screen::Connecting);
        assert_eq!(app.source_poll(1_000), Action::WaitUntil(UNREACHABLE_MS));
        assert_eq!(shows(&mut app, 2_999).0, Screen::Connecting);
        assert_eq!(shows(&mut app, 3_000).0, Screen::Offline);
        app.source().link_up();
        app.source()
            .deliver(Leaf::State, paused(1, "Windowpane").as_bytes(), 3_500);
        assert_eq!(shows(&mut app, 4_000).0, Screen::Paused);
        // The count starts again at the first attempt (a boot that took its time).
        let mut late = self::app();
        late.source().start(60_000);
        assert_eq!(shows(&mut late, 62_999).0, Screen::Connecting);
        assert_eq!(shows(&mut late, 63_000).0, Screen::Offline);
        late.source().link_up();
        late.source().start(70_000);
        assert_eq!(
            shows(&mut late, 80_000).0,
            Screen::Offline,
            "connected: unchanged"
        );
        // Lost at 10 s: still paused for 3 s, then offline with the title.
        app.source().link_down(10_000);
        assert!(!app.source().is_connected());
        assert_eq!(shows(&mut app, 12_999).0, Screen::Paused);
        assert_eq!(
            shows(&mut app, 13_000),
            (Screen::Offline, "Windowpane".to_owned())
        );
        // Reconnected: the broker's retained state ends the offline.
        app.source().link_up();
        app.source()
            .deliver(Leaf::State, paused(1, "Windowpane").as_bytes(), 19_000);
        assert_eq!(shows(&mut app, 20_000).0, Screen::Paused);
    }

    #[test]
    fn a_hub_that_beats_and_falls_silent_is_offline_and_shown_again_when_heard() {
        let mut app = app();
        app.source().link_up();
        // A hub that never said `online`: its silence does not count.
        app.source()
            .deliver(Leaf::State, paused(1, "Windowpane").as_bytes(), 1_000);
        assert_eq!(shows(&mut app, 1_000).0, Screen::Paused);
        assert_eq!(app.source_poll(2_000), Action::Wait);
        assert_eq!(shows(&mut app, 60_000).0, Screen::Paused);
        // It beats: `online` every 2 s; 6 s of silence after the last is offline (the
        // app wakes for it), since it was last heard.
        for t in [61_000, 63_000, 65_000] {
            app.source().deliver(Leaf::Availability, b"online", t);
        }
        assert_eq!(shows(&mut app, 65_000).0, Screen::Paused);
        assert_eq!(
            app.source_poll(66_000),
            Action::WaitUntil(65_000 + SILENT_MS)
        );
        assert_eq!(shows(&mut app, 70_999).0, Screen::Paused);
        assert_eq!(
            shows(&mut app, 71_000),
            (Screen::Offline, "Windowpane".to_owned())
        );
        // Heard again (it went on) with nothing new: its last state shows again.
        app.source().deliver(Leaf::Availability, b"online", 80_000);
        assert_eq!(
            shows(&mut app, 80_000),
            (Screen::Paused, "Windowpane".to_owned())
        );
        // A cover counts as being heard.
        app.source().heard(85_000);
        assert_eq!(shows(&mut app, 90_999).0, Screen::Paused);
        assert_eq!(shows(&mut app, 91_000).0, Screen::Offline);
        // A new state ends the silence too.
        app.source()
            .deliver(Leaf::State, paused(2, "Harvest").as_bytes(), 95_000);
        assert_eq!(
            shows(&mut app, 95_000),
            (Screen::Paused, "Harvest".to_owned())
        );
    }

    #[test]
    fn after_a_reconnection_the_retained_state_shows_before_the_hubs_availability() {
        let mut app = app();
        app.source().link_up();
        app.source()
            .deliver(Leaf::State, paused(1, "Windowpane").as_bytes(), 100);
        app.source().deliver(Leaf::Availability, b"online", 100);
        assert_eq!(shows(&mut app, 100).0, Screen::Paused);
        // The hub's will (a broker shutting down sends it), then the link lost.
        app.source().deliver(Leaf::Availability, b"offline", 1_000);
        assert_eq!(shows(&mut app, 1_000).0, Screen::Offline);
        app.source().link_down(1_100);
        // Reconnected, the hub back before the board: the broker's retained copies come
        // in subscription order, the state before the `online` that replaced the will;
        // the app may look between.
        app.source().link_up();
        app.source()
            .deliver(Leaf::State, paused(1, "Windowpane").as_bytes(), 3_000);
        assert_eq!(
            shows(&mut app, 3_000),
            (Screen::Paused, "Windowpane".to_owned())
        );
        app.source().deliver(Leaf::Availability, b"online", 3_001);
        assert_eq!(shows(&mut app, 3_001).0, Screen::Paused);
        // A hub that stays gone (its will retained): offline once its availability comes.
        app.source().link_down(4_000);
        app.source().link_up();
        app.source()
            .deliver(Leaf::State, paused(1, "Windowpane").as_bytes(), 4_100);
        app.source().deliver(Leaf::Availability, b"offline", 4_100);
        assert_eq!(shows(&mut app, 4_100).0, Screen::Offline);
        // Live, the hub's `online` alone does not bring back an old state: its state
        // follows it.
        app.source().deliver(Leaf::Availability, b"online", 5_000);
        assert_eq!(shows(&mut app, 5_000).0, Screen::Offline);
        app.source()
            .deliver(Leaf::State, paused(2, "Harvest").as_bytes(), 5_001);
        assert_eq!(
            shows(&mut app, 5_001),
            (Screen::Paused, "Harvest".to_owned())
        );
    }

    #[test]
    fn presses_become_commands_while_the_hub_is_there_else_a_notice() {
        let mut app = app();
        // Not connected: refused, the control-failed notice, nothing queued.
        assert_eq!(
            app.press(10, Control::Next),
            Err(ControlRefused::Unavailable)
        );
        assert_eq!(app.source().take_command(), None);
        app.source().link_up();
        app.source()
            .deliver(Leaf::State, paused(1, "Windowpane").as_bytes(), 15);
        let _ = app.poll(20);
        assert_eq!(app.press(30, Control::PlayPause), Ok(()));
        // Liked (the state says so): the heart's toggle unlikes.
        assert_eq!(app.press(31, Control::ToggleLike), Ok(()));
        assert_eq!(app.source().take_command().as_deref(), Some("play_pause"));
        assert_eq!(app.source().take_command().as_deref(), Some("unlike"));
        assert_eq!(app.source().take_command(), None);
        // At most four wait; a fifth is refused.
        for _ in 0..COMMANDS {
            assert_eq!(app.press(40, Control::Next), Ok(()));
        }
        assert_eq!(
            app.press(41, Control::Next),
            Err(ControlRefused::Unavailable)
        );
        // The link lost: what waited is dropped.
        app.source().link_down(50);
        assert_eq!(app.source().take_command(), None);
        // The hub offline (its will): refused too.
        app.source().link_up();
        app.source().deliver(Leaf::Availability, b"offline", 55);
        assert_eq!(
            app.press(60, Control::Next),
            Err(ControlRefused::Unavailable)
        );
    }

    #[test]
    fn the_buffers_are_what_the_docs_say() {
        #[cfg(not(feature = "art"))]
        assert_eq!(Buffers::SIZE, 9 * 1024);
        #[cfg(feature = "art")]
        assert_eq!(Buffers::SIZE, 16 * 1024);
        assert_eq!(size_of::<Buffers>(), Buffers::SIZE);
    }

    trait SourcePoll {
        fn source_poll(&mut self, now: u64) -> Action;
    }

    impl SourcePoll for App<Rgb565, HubSource> {
        /// The source's own wish (what the app's `poll` asks it).
        fn source_poll(&mut self, now: u64) -> Action {
            let mut probe = HubSource::new(0);
            {
                let mine = self.source().inbox.borrow();
                let mut theirs = probe.inbox.borrow_mut();
                theirs.connected = mine.connected;
                theirs.down_since = mine.down_since;
                theirs.heard = mine.heard;
                theirs.beats = mine.beats;
            }
            Source::poll(&mut probe, now)
        }
    }
}
