//! A display fed by a hub (`tonearm run --hub mqtt://HOST/ID`): the same app and screens
//! as a display that talks to Spotify, with a mirror session ([`Session::mirror`]) as its
//! source. It holds no Spotify credentials and sends Spotify nothing: it subscribes to the
//! hub's `state`, `cover` and `availability`, and publishes presses on `command`.
//!
//! - [`HubSource`] is the app's source: it applies what arrived ([`Source::take_news`]),
//!   shows `offline` (the last state kept, with its age) when the hub says `offline`, the
//!   broker has been unreachable for [`UNREACHABLE_MS`], or a hub that sends heartbeats
//!   has been silent for [`crate::mqtt::SILENT`] (frozen), and turns presses into
//!   commands (a press while unreachable puts up the control-failed notice).
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
use tonearm_core::hub::HubStateParser;
use tonearm_core::session::{
    Action, Control, ControlRefused, Failure, Notice, Request, Session, Timing, TokenUpdate,
};
use tonearm_core::wall::WallClock;
use tonearm_firmware::{ImageRequest, Source};

use crate::hub::command_text;
use crate::mqtt::{Broker, ClientSetup, Link, LinkEvent, MqttError, is_credentials, topic};
use crate::shell::{NetEvent, Network};

/// The largest MQTT packet a display accepts.
pub const MAX_PACKET: u32 = 8 * 1024;
/// The broker unreachable this long: the display shows `offline`.
pub const UNREACHABLE_MS: u64 = 3_000;
fn silent_ms() -> u64 {
    u64::try_from(crate::mqtt::SILENT.as_millis()).unwrap_or(u64::MAX)
}

/// A cover fetch waits this long for the hub's `cover` message before it fails.
const COVER_WAIT: Duration = Duration::from_secs(10);
/// Covers kept (by URL).
const COVERS: usize = 4;

/// What the network heard, for the source to apply.
#[derive(Default)]
struct Inbox {
    /// State messages, in order (only the last matters; a malformed one is skipped).
    states: VecDeque<Vec<u8>>,
    /// `availability` said this.
    online: Option<bool>,
    /// The broker link is up.
    connected: bool,
    /// The link went down at this monotonic time (the source's clock).
    down_since: Option<u64>,
    /// The link changed (up or down) since the source last looked.
    link_changed: bool,
    /// The hub was last heard from (any message of its) at this monotonic time.
    heard: Option<u64>,
    /// The hub said `online` (it repeats it every heartbeat): its silence counts.
    beats: bool,
    /// Commands to publish.
    outgoing: VecDeque<String>,
    /// The credentials were refused.
    refused: Option<MqttError>,
}

/// The clock the network and the source share (the loop's monotonic ms).
type Clock = Rc<dyn Fn() -> u64>;

/// The app's source; see the [module docs](self).
pub struct HubSource {
    session: Session,
    inbox: Rc<RefCell<Inbox>>,
    parser: HubStateParser,
    /// A malformed message was logged (once until a good one).
    warned: bool,
    /// The last state shown, and whether it shows offline for the hub's silence.
    last: Option<tonearm_core::hub::HubState>,
    silenced: bool,
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
        subscriptions: vec![
            topic(id, "state"),
            topic(id, "cover"),
            topic(id, "availability"),
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
    inbox.borrow_mut().down_since = Some(clock());
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
        session: Session::mirror(Timing::default()),
        inbox,
        parser: HubStateParser::new(),
        warned: false,
        last: None,
        silenced: false,
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
                inbox.down_since = None;
                inbox.link_changed = true;
            }
            LinkEvent::Disconnected(why) => {
                if inbox.connected {
                    log::info!("MQTT broker {} lost: {why}", self.broker.url.address());
                    inbox.down_since = Some(now);
                    inbox.link_changed = true;
                }
                inbox.connected = false;
            }
            LinkEvent::Refused(code) if is_credentials(code) => {
                inbox.refused = Some(MqttError::Refused {
                    broker: self.broker.url.address(),
                    user: self.broker.who(),
                });
            }
            LinkEvent::Refused(code) => log::info!("MQTT broker refused: {code:?}"),
            LinkEvent::Message(m) => {
                inbox.heard = Some(now);
                // A hub that says `online` repeats it every HEARTBEAT (a retained copy
                // counts too: a hub found frozen at connection falls silent as well).
                if m.topic.ends_with("/availability") && m.payload == b"online" {
                    inbox.beats = true;
                }
                let leaf = m
                    .topic
                    .strip_prefix(&format!("tonearm/{}/", self.id))
                    .unwrap_or("");
                match leaf {
                    "state" => {
                        if inbox.states.len() >= 4 {
                            inbox.states.pop_front();
                        }
                        inbox.states.push_back(m.payload);
                    }
                    "availability" => match m.payload.as_slice() {
                        b"online" => inbox.online = Some(true),
                        b"offline" => inbox.online = Some(false),
                        other => log::info!(
                            "availability {:?} ignored",
                            String::from_utf8_lossy(other)
                                .chars()
                                .take(32)
                                .collect::<String>()
                        ),
                    },
                    "cover" => {
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
            (_, Some(heard)) if inbox.beats => heard.saturating_add(silent_ms()),
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
        inbox
            .outgoing
            .push_back(command_text(control, self.session.liked()));
        Ok(())
    }

    fn take_token_update(&mut self) -> Option<TokenUpdate> {
        None
    }

    fn take_quota_save(&mut self, _now_ms: u64, _min_gap_ms: u64) -> Option<QuotaState> {
        None
    }

    fn set_wall_clock(&mut self, now_ms: u64, wall: WallClock) {
        self.session.set_wall_clock(now_ms, wall);
    }

    fn take_news(&mut self, now_ms: u64) -> bool {
        let (states, online, connected, down_since, changed, silent_since) = {
            let mut inbox = self.inbox.borrow_mut();
            let changed = std::mem::take(&mut inbox.link_changed);
            let silent_since = inbox
                .heard
                .filter(|h| inbox.beats && now_ms >= h.saturating_add(silent_ms()));
            (
                std::mem::take(&mut inbox.states),
                inbox.online,
                inbox.connected,
                inbox.down_since,
                changed,
                silent_since,
            )
        };
        let mut news = changed;
        // Heard again after a silence (a frozen hub that goes on) with nothing new to
        // say: what it said last holds again. (After its will, or a broker that was
        // gone, a state message comes anyway.)
        if self.silenced
            && silent_since.is_none()
            && states.is_empty()
            && online == Some(true)
            && connected
            && let Some(last) = self.last.clone()
        {
            self.session.apply_mirror(now_ms, &last);
            self.silenced = false;
            news = true;
        }
        // The newest state that parses wins.
        for msg in states.iter().rev() {
            match self.parser.parse(msg) {
                Ok(state) => {
                    // Applied even when it repeats the last one (a broker's retained copy
                    // after a reconnection): it ends an `offline`.
                    self.session.apply_mirror(now_ms, &state);
                    self.last = Some(state);
                    self.silenced = false;
                    news = true;
                    self.warned = false;
                    break;
                }
                Err(e) => {
                    if !self.warned {
                        log::warn!("a state message ignored ({} bytes): {e}", msg.len());
                        self.warned = true;
                    }
                }
            }
        }
        // Gone: the hub says so, or the broker has been out of reach for a while.
        let lost = match (online, connected, down_since) {
            (Some(false), true, _) => Some(now_ms),
            (_, false, Some(since)) if now_ms >= since.saturating_add(UNREACHABLE_MS) => {
                Some(since)
            }
            (_, true, _) => {
                self.silenced |= silent_since.is_some();
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
