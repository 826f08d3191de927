//! A display fed by a hub (`tonearm run --hub mqtt://HOST/ID`): the same app and screens
//! as a display that talks to Spotify, with a mirror session ([`Session::mirror`]) as its
//! source. It holds no Spotify credentials and sends Spotify nothing: it subscribes to the
//! hub's `state`, `cover` and `availability`, and publishes presses on `command`.
//!
//! - [`HubSource`] is the app's source: every rule (what shows when, `offline` after the
//!   hub's will, 3 s without the broker or 6 s of a beating hub's silence, presses as
//!   commands) is the shared no_std `tonearm_firmware::hub::HubSource` the boards run
//!   too; this one only hands it what the network heard.
//! - [`HubNetwork`] is the app's network: it waits on the broker's messages between
//!   frames, and answers the app's cover fetches from the hub's `cover` messages (nothing
//!   is fetched from the image host: a hub-fed display needs no TLS at all).
//!
//! It connects with MQTT 5 and announces a Maximum Packet Size of [`MAX_PACKET`]: the
//! broker sends it nothing larger (a huge retained message on `state` never reaches it).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::time::Duration;

use tonearm_core::budget::QuotaState;
use tonearm_core::session::{
    Action, Control, ControlRefused, Failure, Request, Session, TokenUpdate,
};
use tonearm_core::wall::WallClock;
use tonearm_firmware::hub::{Delivered, HubSource as Feed, Leaf};
use tonearm_firmware::{ImageRequest, Source};

use crate::mqtt::{Broker, ClientSetup, Link, LinkEvent, MqttError, is_credentials, topic};
use crate::shell::{NetEvent, Network};

/// The largest MQTT packet a display accepts.
pub const MAX_PACKET: u32 = 8 * 1024;
/// A cover fetch waits this long for the hub's `cover` message before it fails.
const COVER_WAIT: Duration = Duration::from_secs(10);
/// Covers kept (by URL).
const COVERS: usize = 4;

/// What the network heard, for the source to hand to the shared [`Feed`] at the app's
/// next poll (the app owns the source; the network cannot reach it).
#[derive(Default)]
struct Inbox {
    /// The link's changes and the hub's messages, in order (stamped when they arrived).
    events: VecDeque<(u64, Heard)>,
    /// Commands to publish.
    outgoing: VecDeque<String>,
    /// The broker link is up (for the network's own decisions).
    connected: bool,
    /// The credentials were refused.
    refused: Option<MqttError>,
}

/// One thing heard.
enum Heard {
    Up,
    Down,
    Message(Leaf, Vec<u8>),
    /// A cover: the hub is there.
    Cover,
}

/// The clock the network and the source share (the loop's monotonic ms).
type Clock = Rc<dyn Fn() -> u64>;

/// The app's source: the shared no_std [`Feed`] (every rule of a hub-fed display, the
/// kit's too), fed from what the network heard; see the [module docs](self).
pub struct HubSource {
    feed: Feed,
    inbox: Rc<RefCell<Inbox>>,
    /// A malformed message was logged (once until a good one).
    warned: bool,
}

/// The app's network; see the [module docs](self).
pub struct HubNetwork {
    link: Link,
    id: String,
    broker: Broker,
    inbox: Rc<RefCell<Inbox>>,
    clock: Clock,
    covers: VecDeque<(String, Vec<u8>)>,
    /// The cover fetch in flight: its URL and deadline.
    pending: Option<(String, std::time::Instant)>,
    /// The response being handed out.
    events: VecDeque<NetEvent>,
}

/// Connects to `broker` for hub `id`; the clock is the loop's (monotonic ms). Waits up to
/// a few seconds for the broker's first answer: refused credentials are an error.
pub fn start(
    broker: Broker,
    id: &str,
    clock: impl Fn() -> u64 + 'static,
) -> Result<(HubSource, HubNetwork), MqttError> {
    let setup = ClientSetup {
        client_id: format!(
            "tonearm-display-{}-{:x}",
            std::process::id(),
            crate::token_store::now_epoch_s() & 0xffff
        ),
        will: None,
        max_packet: Some(MAX_PACKET),
        // Availability first: the broker sends the retained messages in this order, so
        // a dead hub's will is known before its last state is shown again.
        subscriptions: vec![
            topic(id, "availability"),
            topic(id, "state"),
            topic(id, "cover"),
        ],
    };
    let link = Link::start(&broker, &setup)?;
    let inbox = Rc::new(RefCell::new(Inbox::default()));
    let clock: Clock = Rc::new(clock);
    let mut net = HubNetwork {
        link,
        id: id.to_owned(),
        broker,
        inbox: Rc::clone(&inbox),
        clock: Rc::clone(&clock),
        covers: VecDeque::new(),
        pending: None,
        events: VecDeque::new(),
    };
    // The first answer: connected, refused or unreachable.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
        let Some(ev) = net.link.next(left) else { break };
        let first = !matches!(ev, LinkEvent::Message(_));
        net.take(ev);
        if let Some(e) = net.inbox.borrow_mut().refused.take() {
            return Err(e);
        }
        if first {
            break;
        }
    }
    let source = HubSource {
        feed: Feed::new(clock()),
        inbox,
        warned: false,
    };
    Ok((source, net))
}

impl HubNetwork {
    /// Takes one event of the link.
    fn take(&mut self, ev: LinkEvent) {
        let now = (self.clock)();
        let mut inbox = self.inbox.borrow_mut();
        match ev {
            LinkEvent::Connected => {
                log::info!("MQTT broker {} connected", self.broker.url.address());
                inbox.connected = true;
                // Accepted after all (a refusal earlier was the broker's mistake).
                inbox.refused = None;
                inbox.events.push_back((now, Heard::Up));
            }
            LinkEvent::Disconnected(why) => {
                if inbox.connected {
                    log::info!("MQTT broker {} lost: {why}", self.broker.url.address());
                }
                inbox.connected = false;
                inbox.events.push_back((now, Heard::Down));
            }
            LinkEvent::Refused(code) if is_credentials(code) => {
                inbox.refused = Some(MqttError::Refused {
                    broker: self.broker.url.address(),
                    user: self.broker.who(),
                });
            }
            LinkEvent::Refused(code) => log::info!("MQTT broker refused: {code:?}"),
            LinkEvent::Message(m) => {
                let leaf = m
                    .topic
                    .strip_prefix(&format!("tonearm/{}/", self.id))
                    .unwrap_or("");
                match leaf {
                    "state" => inbox
                        .events
                        .push_back((now, Heard::Message(Leaf::State, m.payload))),
                    "availability" => inbox
                        .events
                        .push_back((now, Heard::Message(Leaf::Availability, m.payload))),
                    "cover" => {
                        inbox.events.push_back((now, Heard::Cover));
                        drop(inbox);
                        self.cover(m.url, m.payload);
                    }
                    _ => {}
                }
            }
        }
    }

    fn cover(&mut self, url: Option<String>, jpeg: Vec<u8>) {
        let Some(url) = url.filter(|u| !u.is_empty()) else {
            log::info!("a cover without its url property ignored");
            return;
        };
        self.covers.retain(|(u, _)| *u != url);
        if self.covers.len() == COVERS {
            self.covers.pop_front();
        }
        self.covers.push_back((url, jpeg));
        self.answer_pending();
    }

    /// Answers the cover fetch in flight from the covers at hand.
    fn answer_pending(&mut self) {
        let Some((url, _)) = &self.pending else {
            return;
        };
        if let Some((_, jpeg)) = self.covers.iter().find(|(u, _)| u == url) {
            self.events.push_back(NetEvent::Head {
                status: 200,
                retry_after: None,
            });
            self.events.push_back(NetEvent::Body(jpeg.clone()));
            self.events.push_back(NetEvent::End);
            self.pending = None;
        }
    }

    /// Publishes what the source queued.
    fn send_commands(&mut self) {
        let out: Vec<String> = self.inbox.borrow_mut().outgoing.drain(..).collect();
        for c in out {
            log::info!("command {c}");
            self.link
                .publish(&topic(&self.id, "command"), false, c.into_bytes());
        }
    }
}

impl Network for HubNetwork {
    fn start(&mut self, req: Request, _now_ms: u64) {
        // A mirror never asks; were it to, the answer is a failure, not a hang.
        log::info!("a hub-fed display sends no request ({})", req.path);
        self.events.push_back(NetEvent::Failure(Failure::Connect));
    }

    fn start_image(&mut self, req: ImageRequest, _now_ms: u64) {
        self.pending = Some((
            req.url.as_str().to_owned(),
            std::time::Instant::now() + COVER_WAIT,
        ));
        self.answer_pending();
    }

    fn next_event(&mut self, timeout: Duration) -> Option<NetEvent> {
        self.send_commands();
        if let Some(ev) = self.events.pop_front() {
            return Some(ev);
        }
        if let Some(ev) = self.link.next(timeout) {
            self.take(ev);
        }
        if let Some((_, deadline)) = &self.pending
            && std::time::Instant::now() >= *deadline
        {
            self.pending = None;
            return Some(NetEvent::Failure(Failure::Timeout));
        }
        self.events.pop_front()
    }

    fn brings_news(&self) -> bool {
        true
    }

    fn wait_news(&mut self, timeout: Duration) -> bool {
        self.send_commands();
        match self.link.next(timeout) {
            Some(ev) => {
                self.take(ev);
                true
            }
            None => false,
        }
    }
}

impl HubSource {
    /// Whether the broker refused the credentials (the display stops with this).
    pub fn take_refused(&self) -> Option<MqttError> {
        self.inbox.borrow_mut().refused.take()
    }

    /// Hands the feed what was heard, and the network the commands to publish.
    fn hand_over(&mut self) {
        let events: Vec<(u64, Heard)> = self.inbox.borrow_mut().events.drain(..).collect();
        for (at, heard) in events {
            match heard {
                Heard::Up => self.feed.link_up(),
                Heard::Down => self.feed.link_down(at),
                Heard::Cover => self.feed.heard(at),
                Heard::Message(leaf, payload) => match self.feed.deliver(leaf, &payload, at) {
                    Delivered::BadState(e) => {
                        if !self.warned {
                            log::warn!("a state message ignored ({} bytes): {e}", payload.len());
                            self.warned = true;
                        }
                    }
                    Delivered::State => self.warned = false,
                    Delivered::Availability(_) => {}
                    Delivered::Ignored => log::info!(
                        "availability {:?} ignored",
                        String::from_utf8_lossy(&payload)
                            .chars()
                            .take(32)
                            .collect::<String>()
                    ),
                },
            }
        }
        let mut inbox = self.inbox.borrow_mut();
        while let Some(c) = self.feed.take_command() {
            inbox.outgoing.push_back(c.as_str().to_owned());
        }
    }
}

impl Source for HubSource {
    fn session(&self) -> &Session {
        self.feed.session()
    }

    fn poll(&mut self, now_ms: u64) -> Action {
        self.feed.poll(now_ms)
    }

    fn on_head(&mut self, _now_ms: u64, _status: u16, _retry_after: Option<&str>) {}
    fn on_body(&mut self, _chunk: &[u8]) {}
    fn on_end(&mut self, _now_ms: u64) {}
    fn on_failure(&mut self, _now_ms: u64, _failure: Failure) {}

    fn press(&mut self, now_ms: u64, control: Control) -> Result<(), ControlRefused> {
        self.hand_over();
        let result = self.feed.press(now_ms, control);
        self.hand_over();
        result
    }

    fn take_token_update(&mut self) -> Option<TokenUpdate> {
        None
    }

    fn take_quota_save(&mut self, _now_ms: u64, _min_gap_ms: u64) -> Option<QuotaState> {
        None
    }

    fn set_wall_clock(&mut self, now_ms: u64, wall: WallClock) {
        self.feed.set_wall_clock(now_ms, wall);
    }

    fn take_news(&mut self, now_ms: u64) -> bool {
        self.hand_over();
        self.feed.take_news(now_ms)
    }
}
