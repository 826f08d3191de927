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

use core::fmt::Write as _;
use core::net::IpAddr;

use embassy_futures::select::{Either, select};
use embassy_time::{Duration, Instant, Timer, with_timeout};
use heapless::String;
use minimq::{ConfigBuilder, ConnectEvent, Publication, TopicFilter};
use tonearm_core::session::Failure;
use tonearm_core::wall::PosixTz;
use tonearm_firmware::{App, BandSink, Do, Palette, Screen};
use tonearm_settings::hub::Hub;

pub use tonearm_firmware::hub::{
    COMMAND_MAX, COMMANDS, Delivered, HubSource, Leaf, SILENT_MS, UNREACHABLE_MS, command_text,
};

use crate::board::{Backlight, Buttons, Log, Network, WallClock, Watchdog};
use crate::run::{Kit, NET_POLL_MS, now_ms};
use crate::settings::{self as record, Settings};

/// The largest MQTT packet a board accepts, announced to the broker as its Maximum
/// Packet Size (as the host's hub-fed display does): the receive buffer.
pub const MAX_PACKET: usize = 8 * 1024;
/// The transmit buffer: CONNECT (client id, user, password: under 256 bytes),
/// SUBSCRIBE and the commands, with room for minimq's in-flight bookkeeping.
pub const TX_BUF: usize = 1024;
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
    fn the_buffers_are_what_the_docs_say() {
        #[cfg(not(feature = "art"))]
        assert_eq!(Buffers::SIZE, 9 * 1024);
        #[cfg(feature = "art")]
        assert_eq!(Buffers::SIZE, 16 * 1024);
        assert_eq!(size_of::<Buffers>(), Buffers::SIZE);
    }
}
