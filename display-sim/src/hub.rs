//! `tonearm hub`: one session polls Spotify (the same core, budget and rules as `run`) and
//! publishes what it shows over MQTT, for any number of displays and for Home Assistant.
//!
//! The hub is the desktop loop with [`Publisher`] as its output: at every pause of the
//! loop the publisher looks at the session ([`Output::observe`]) and publishes the state
//! when it changed ([`HubState::same_as`]: a progress that moved as interpolated is no
//! change); commands from the broker come back as button presses. Topics, under
//! `tonearm/<id>/`:
//!
//! - `state`: the state message (`docs/hub-state.md`), retained;
//! - `cover`: the cover as a JPEG of at most [`COVER_MAX_BYTES`] (scaled and re-encoded
//!   from the one the hub fetched, so it fits a display's 8 KiB packets), retained, with
//!   the MQTT 5 user property `url` naming the `cover_url` it shows;
//! - `availability`: `online`, and `offline` as the last will, retained; `online` again
//!   every [`crate::mqtt::HEARTBEAT`], not retained (a frozen hub falls silent at once;
//!   its will can take 11 s to come);
//! - `command`: `play_pause`, `next`, `previous`, `like`, `unlike`, `volume_up`,
//!   `volume_down`, `volume:NN`; a retained one is ignored and cleared.
//!
//! Home Assistant's MQTT discovery (one retained config per entity) goes out at every
//! connection and whenever `homeassistant/status` says `online`. No token, secret or
//! `Authorization` value is ever published: the state message has no field for one.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::time::{Duration, Instant};

use embedded_graphics::prelude::PixelColor;
use embedded_graphics_simulator::SimulatorDisplay;
use serde_json::json;
use tonearm_core::hub::{HubState, STATE_CAP};
use tonearm_core::session::{Control, Request, Session};
use tonearm_firmware::ImageRequest;
use tonearm_firmware::art::{DecodeLimits, decode_rgb, scale_box};
use tonearm_firmware::events::EventLine;

use crate::mqtt::{
    Broker, ClientSetup, Link, LinkEvent, Message, MqttError, is_credentials, topic,
};
use crate::shell::{NetEvent, Network, Output, ShellError, UiEvent};

/// The most bytes a published cover takes (a display accepts packets of 8 KiB; the topic
/// and the `url` property ride along).
pub const COVER_MAX_BYTES: usize = 7 * 1024;
/// The sizes tried for the published cover, largest first (each at falling qualities).
const COVER_SIDES: [u32; 8] = [300, 240, 184, 160, 120, 96, 64, 48];
const COVER_QUALITIES: [u8; 3] = [80, 65, 50];
/// How long the hub waits at start for the broker's first answer (a refusal of the
/// credentials ends it; an unreachable broker is retried in the background).
const FIRST_ANSWER: Duration = Duration::from_secs(5);

/// The commands a hub takes, as published on `command`.
pub fn parse_command(payload: &[u8]) -> Option<Control> {
    let text = std::str::from_utf8(payload).ok()?;
    Some(match text {
        "play_pause" => Control::PlayPause,
        "next" => Control::Next,
        "previous" => Control::Previous,
        "like" => Control::SetLiked(true),
        "unlike" => Control::SetLiked(false),
        "volume_up" => Control::VolumeUp,
        "volume_down" => Control::VolumeDown,
        _ => {
            let n = text.strip_prefix("volume:")?;
            // Digits only: no sign, no spaces.
            if n.is_empty() || n.len() > 3 || !n.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let n: u8 = n.parse().ok().filter(|n| *n <= 100)?;
            Control::SetVolume(n)
        }
    })
}

/// Scales and re-encodes a cover so that it fits [`COVER_MAX_BYTES`]: the largest of
/// [`COVER_SIDES`] at the best quality that fits. `None` when it does not decode.
pub fn small_cover(jpeg: &[u8]) -> Option<Vec<u8>> {
    let (rgb, w, h) = decode_rgb(jpeg, DecodeLimits::DESKTOP).ok()?;
    for side in COVER_SIDES {
        let side = side.min(w.max(h));
        let mut scaled = Vec::new();
        scale_box(&rgb, w, h, side, side, &mut scaled).ok()?;
        for q in COVER_QUALITIES {
            let mut out = Vec::new();
            let s = u16::try_from(side).ok()?;
            jpeg_encoder::Encoder::new(&mut out, q)
                .encode(&scaled, s, s, jpeg_encoder::ColorType::Rgb)
                .ok()?;
            if out.len() <= COVER_MAX_BYTES {
                return Some(out);
            }
        }
    }
    None
}

/// The Home Assistant discovery configs: `(topic, payload)`, one per entity.
pub fn discovery(id: &str) -> Vec<(String, String)> {
    let node = format!("tonearm_{id}");
    let device = json!({
        "identifiers": [node],
        "name": format!("Tonearm {id}"),
        "model": "Tonearm hub",
        "manufacturer": "Tonearm",
        "sw_version": env!("CARGO_PKG_VERSION"),
    });
    let avail = topic(id, "availability");
    let state = topic(id, "state");
    let base = |name: &str, object: &str| {
        json!({
            "name": name,
            "unique_id": format!("{node}_{object}"),
            "object_id": format!("{node}_{object}"),
            "device": device,
            "availability_topic": avail,
            "payload_available": "online",
            "payload_not_available": "offline",
        })
    };
    let mut out = Vec::new();
    let mut add =
        |component: &str, object: &str, mut v: serde_json::Value, extra: serde_json::Value| {
            if let (Some(m), Some(e)) = (v.as_object_mut(), extra.as_object()) {
                m.extend(e.clone());
            }
            out.push((
                format!("homeassistant/{component}/{node}/{object}/config"),
                v.to_string(),
            ));
        };
    for (object, name, template, icon) in [
        (
            "title",
            "Title",
            "{{ value_json.title or '' }}",
            "mdi:music",
        ),
        (
            "artist",
            "Artist",
            "{{ (value_json.artists or []) | join(', ') if value_json.artists else (value_json.show or '') }}",
            "mdi:account-music",
        ),
        (
            "album",
            "Album",
            "{{ value_json.album or '' }}",
            "mdi:album",
        ),
        (
            "device",
            "Device",
            "{{ value_json.device.name if value_json.device else '' }}",
            "mdi:speaker",
        ),
    ] {
        add(
            "sensor",
            object,
            base(name, object),
            json!({"state_topic": state, "value_template": template, "icon": icon}),
        );
    }
    add(
        "binary_sensor",
        "playing",
        base("Playing", "playing"),
        json!({
            "state_topic": state,
            "value_template": "{{ 'ON' if value_json.is_playing else 'OFF' }}",
            "payload_on": "ON",
            "payload_off": "OFF",
            "icon": "mdi:play",
        }),
    );
    add(
        "image",
        "cover",
        base("Cover", "cover"),
        json!({"image_topic": topic(id, "cover"), "content_type": "image/jpeg"}),
    );
    for (object, name, payload, icon) in [
        ("play_pause", "Play/pause", "play_pause", "mdi:play-pause"),
        ("next", "Next", "next", "mdi:skip-next"),
        ("previous", "Previous", "previous", "mdi:skip-previous"),
    ] {
        add(
            "button",
            object,
            base(name, object),
            json!({"command_topic": topic(id, "command"), "payload_press": payload, "icon": icon}),
        );
    }
    out
}

/// Covers the hub's app fetched: the network tees image bodies here.
#[derive(Debug, Default)]
pub struct CoverTap {
    /// The last cover fetched whole: its URL and JPEG.
    pub fetched: Option<(String, Vec<u8>)>,
    current: Option<(String, Vec<u8>, u16)>,
}

/// The hub's network: Spotify through `inner`, with image bodies teed to a [`CoverTap`].
pub struct TeeNetwork<N> {
    inner: N,
    tap: Rc<RefCell<CoverTap>>,
}

impl<N: Network> TeeNetwork<N> {
    /// Wraps `inner`.
    pub fn new(inner: N, tap: Rc<RefCell<CoverTap>>) -> Self {
        TeeNetwork { inner, tap }
    }
}

impl<N: Network> Network for TeeNetwork<N> {
    fn start(&mut self, req: Request, now_ms: u64) {
        self.tap.borrow_mut().current = None;
        self.inner.start(req, now_ms);
    }

    fn start_image(&mut self, req: ImageRequest, now_ms: u64) {
        self.tap.borrow_mut().current = Some((req.url.as_str().to_owned(), Vec::new(), 0));
        self.inner.start_image(req, now_ms);
    }

    fn next_event(&mut self, timeout: Duration) -> Option<NetEvent> {
        let ev = self.inner.next_event(timeout)?;
        let mut tap = self.tap.borrow_mut();
        match &ev {
            NetEvent::Head { status, .. } => {
                if let Some(c) = tap.current.as_mut() {
                    c.2 = *status;
                }
            }
            NetEvent::Body(chunk) => {
                if let Some(c) = tap.current.as_mut() {
                    c.1.extend_from_slice(chunk);
                }
            }
            NetEvent::End => {
                if let Some((url, body, 200)) = tap.current.take() {
                    tap.fetched = Some((url, body));
                }
            }
            NetEvent::Failure(_) => tap.current = None,
        }
        Some(ev)
    }
}

/// Publishes the hub's state; the output of `tonearm hub`'s loop (see the
/// [module docs](self)).
pub struct Publisher {
    link: Link,
    broker: Broker,
    id: String,
    seq: u64,
    last: Option<HubState>,
    last_json: Option<String>,
    /// The cover published (or to publish): its URL and small JPEG.
    cover: Option<(String, Vec<u8>)>,
    /// Small covers made lately (an album comes back), newest last.
    covers: VecDeque<(String, Vec<u8>)>,
    tap: Rc<RefCell<CoverTap>>,
    connected: bool,
    fatal: Option<MqttError>,
    /// Commands taken, waiting to be handed to the loop as presses.
    presses: VecDeque<Control>,
    liked: Option<bool>,
    /// `--events`-style summary for `-v`: messages and bytes published.
    published: (u64, u64),
    /// The last heartbeat (see [`crate::mqtt::HEARTBEAT`]).
    beat: Instant,
}

impl Publisher {
    /// Connects to `broker` as hub `id`. Waits up to a few seconds for the broker's first
    /// answer: refused credentials are an error; an unreachable broker is retried in the
    /// background (logged at `-v`).
    pub fn start(broker: Broker, id: &str, tap: Rc<RefCell<CoverTap>>) -> Result<Self, MqttError> {
        let setup = ClientSetup {
            client_id: format!("tonearm-hub-{id}"),
            will: Some((topic(id, "availability"), "offline".to_owned())),
            // Commands are a few bytes: a huge message on the hub's topics (retained, say)
            // is dropped by the broker rather than sent to throw the hub off every time
            // it connects.
            max_packet: Some(crate::hub_display::MAX_PACKET),
            subscriptions: vec![topic(id, "command"), "homeassistant/status".to_owned()],
        };
        let link = Link::start(&broker, &setup)?;
        let mut p = Publisher {
            link,
            broker,
            id: id.to_owned(),
            seq: 0,
            last: None,
            last_json: None,
            cover: None,
            covers: VecDeque::new(),
            tap,
            connected: false,
            fatal: None,
            presses: VecDeque::new(),
            liked: None,
            published: (0, 0),
            beat: Instant::now(),
        };
        let deadline = Instant::now() + FIRST_ANSWER;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match p.link.next(left) {
                Some(ev @ LinkEvent::Connected) => {
                    p.handle(ev);
                    break;
                }
                Some(ev @ LinkEvent::Refused(_)) => {
                    p.handle(ev);
                    break;
                }
                Some(LinkEvent::Disconnected(why)) => {
                    log::info!(
                        "the MQTT broker {} cannot be reached ({why}): trying again in the background",
                        p.broker.url.address()
                    );
                    break;
                }
                Some(ev) => p.handle(ev),
                None => break,
            }
        }
        match p.fatal.take() {
            Some(e) => Err(e),
            None => Ok(p),
        }
    }

    /// A fatal problem that ended the loop (refused credentials after a restart of the
    /// broker), if any.
    pub fn take_fatal(&mut self) -> Option<MqttError> {
        self.fatal.take()
    }

    /// Says `offline` and disconnects (the last will is for crashes).
    pub fn finish(&mut self) {
        self.link
            .publish(&topic(&self.id, "availability"), true, b"offline".to_vec());
        self.link.disconnect();
        // Let the client thread send both.
        std::thread::sleep(Duration::from_millis(200));
        log::info!(
            "published {} messages, {} bytes",
            self.published.0,
            self.published.1
        );
    }

    /// Publishes now, when connected; nothing is queued while the broker is away (what
    /// is retained goes out again at the next connection, in [`Publisher::announce`]).
    fn publish(&mut self, leaf: &str, retain: bool, payload: Vec<u8>) {
        if !self.connected {
            return;
        }
        self.published.0 += 1;
        self.published.1 += payload.len() as u64;
        self.link.publish(&topic(&self.id, leaf), retain, payload);
    }

    /// Everything retained, again (a restarted broker may have lost it all).
    fn announce(&mut self) {
        self.publish("availability", true, b"online".to_vec());
        self.publish_discovery();
        if let Some(json) = self.last_json.clone() {
            self.publish("state", true, json.into_bytes());
        }
        self.publish_cover();
    }

    fn publish_discovery(&mut self) {
        if !self.connected {
            return;
        }
        for (t, payload) in discovery(&self.id) {
            self.published.0 += 1;
            self.published.1 += payload.len() as u64;
            self.link.publish(&t, true, payload.into_bytes());
        }
    }

    fn publish_cover(&mut self) {
        if !self.connected {
            return;
        }
        if let Some((url, jpeg)) = &self.cover {
            self.published.0 += 1;
            self.published.1 += jpeg.len() as u64;
            self.link
                .publish_with_url(&topic(&self.id, "cover"), true, jpeg.clone(), url);
        }
    }

    /// `online` again, not retained, every [`crate::mqtt::HEARTBEAT`] while connected: a
    /// frozen hub (its socket open, its will not sent yet) falls silent, and its displays
    /// see it.
    fn heartbeat(&mut self) {
        if self.connected && self.beat.elapsed() >= crate::mqtt::HEARTBEAT {
            self.beat = Instant::now();
            self.link
                .publish(&topic(&self.id, "availability"), false, b"online".to_vec());
        }
    }

    /// Handles what the broker said; a command becomes a press.
    fn handle(&mut self, ev: LinkEvent) {
        match ev {
            LinkEvent::Connected => {
                log::info!("MQTT broker {} connected", self.broker.url.address());
                self.connected = true;
                self.announce();
            }
            LinkEvent::Disconnected(why) => {
                if self.connected {
                    log::info!("MQTT broker {} lost: {why}", self.broker.url.address());
                }
                self.connected = false;
            }
            LinkEvent::Refused(code) if is_credentials(code) => {
                self.fatal = Some(MqttError::Refused {
                    broker: self.broker.url.address(),
                    user: self.broker.who(),
                });
            }
            LinkEvent::Refused(code) => {
                log::info!(
                    "MQTT broker {} refused: {code:?}",
                    self.broker.url.address()
                );
            }
            LinkEvent::Message(m) => self.message(m),
        }
    }

    fn message(&mut self, m: Message) {
        if m.topic == "homeassistant/status" {
            if m.payload == b"online" {
                log::info!("Home Assistant is online: discovery again");
                self.publish_discovery();
            }
            return;
        }
        if m.payload.is_empty() {
            // Our own clearing of a retained command (or nothing at all).
            return;
        }
        if m.retain {
            // A command kept by the broker is an old press: never replayed.
            log::info!("a retained command on {} ignored and cleared", m.topic);
            self.link.publish(&m.topic, true, Vec::new());
            return;
        }
        match parse_command(&m.payload) {
            Some(control) => self.presses.push_back(control),
            None => log::info!(
                "unknown command ignored: {:?}",
                String::from_utf8_lossy(&m.payload)
                    .chars()
                    .take(64)
                    .collect::<String>()
            ),
        }
    }

    /// A cover the app fetched: made small and published when it is the current one.
    fn take_cover(&mut self) {
        let fetched = self.tap.borrow_mut().fetched.take();
        if let Some((url, jpeg)) = fetched
            && !self.covers.iter().any(|(u, _)| *u == url)
        {
            match small_cover(&jpeg) {
                Some(small) => {
                    if self.covers.len() == 8 {
                        self.covers.pop_front();
                    }
                    self.covers.push_back((url, small));
                }
                None => log::info!("cover {url}: cannot decode it"),
            }
        }
        let want = self
            .last
            .as_ref()
            .and_then(HubState::cover_url)
            .map(str::to_owned);
        let want = want.as_deref();
        if want.is_none() && self.cover.is_some() {
            // No cover now (an ad, a local file, nothing): none retained either (Home
            // Assistant's image would show the last album's).
            self.cover = None;
            self.publish("cover", true, Vec::new());
        }
        if let Some(url) = want
            && self.cover.as_ref().is_none_or(|(u, _)| u != url)
            && let Some(found) = self.covers.iter().find(|(u, _)| u == url).cloned()
        {
            self.cover = Some(found);
            self.publish_cover();
        }
    }
}

impl<C: PixelColor> Output<C> for Publisher {
    fn present(&mut self, _display: &SimulatorDisplay<C>, _blank: bool) -> Result<(), ShellError> {
        Ok(())
    }

    fn wait(&mut self, timeout: Duration) -> Option<UiEvent> {
        let deadline = Instant::now() + timeout;
        loop {
            if crate::interrupted() || self.fatal.is_some() {
                return Some(UiEvent::Quit);
            }
            if let Some(control) = self.presses.pop_front() {
                // Not a press on the hub's (unseen) screen: night hours or the idle blank
                // must not swallow it.
                return Some(UiEvent::Command(control));
            }
            self.heartbeat();
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            if let Some(ev) = self.link.next(left.min(Duration::from_millis(200))) {
                self.handle(ev);
            }
        }
    }

    fn max_block(&self) -> Duration {
        Duration::from_millis(100)
    }

    fn observe(
        &mut self,
        now_ms: u64,
        session: &Session,
        event: &EventLine,
    ) -> Result<(), ShellError> {
        let state = HubState::from_session(session, now_ms, event.screen.name(), self.seq + 1);
        self.liked = state.liked;
        let unix = session
            .unix_ms(now_ms)
            .unwrap_or_else(|| crate::token_store::now_epoch_s() * 1000);
        let changed = self.last.as_ref().is_none_or(|l| !state.same_as(l, unix));
        if changed {
            let mut json = heapless::String::<STATE_CAP>::new();
            if state.write_json(&mut json).is_ok() {
                self.seq += 1;
                log::debug!("state {} ({} bytes)", self.seq, json.len());
                self.publish("state", true, json.as_bytes().to_vec());
                self.last_json = Some(json.as_str().to_owned());
                self.last = Some(state);
            }
        }
        self.take_cover();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_exact_and_lower_case() {
        assert_eq!(parse_command(b"play_pause"), Some(Control::PlayPause));
        assert_eq!(parse_command(b"next"), Some(Control::Next));
        assert_eq!(parse_command(b"previous"), Some(Control::Previous));
        assert_eq!(parse_command(b"like"), Some(Control::SetLiked(true)));
        assert_eq!(parse_command(b"unlike"), Some(Control::SetLiked(false)));
        assert_eq!(parse_command(b"volume_up"), Some(Control::VolumeUp));
        assert_eq!(parse_command(b"volume_down"), Some(Control::VolumeDown));
        assert_eq!(parse_command(b"volume:0"), Some(Control::SetVolume(0)));
        assert_eq!(parse_command(b"volume:100"), Some(Control::SetVolume(100)));
        for bad in [
            &b"PLAY_PAUSE"[..],
            b"play_pause\n",
            b" next",
            b"volume:101",
            b"volume:-1",
            b"volume:+5",
            b"volume:",
            b"volume:0050",
            b"\xff\xfe",
            b"",
        ] {
            assert_eq!(parse_command(bad), None, "{bad:?}");
        }
    }

    /// The words the displays (host and boards: one `command_text`) publish are the words
    /// the hub takes.
    #[test]
    fn presses_become_the_commands_the_hub_takes() {
        use tonearm_firmware::hub::command_text;
        for c in [
            Control::PlayPause,
            Control::Next,
            Control::Previous,
            Control::VolumeUp,
            Control::VolumeDown,
            Control::SetVolume(42),
            Control::SetLiked(true),
            Control::SetLiked(false),
        ] {
            assert_eq!(
                parse_command(command_text(c, None).as_bytes()),
                Some(c),
                "{c:?}"
            );
        }
        assert_eq!(command_text(Control::ToggleLike, Some(true)), "unlike");
        assert_eq!(command_text(Control::ToggleLike, Some(false)), "like");
    }

    #[test]
    fn discovery_has_every_entity_with_its_keys() {
        let d = discovery("kitchen");
        let topics: Vec<&str> = d.iter().map(|(t, _)| t.as_str()).collect();
        for t in [
            "homeassistant/sensor/tonearm_kitchen/title/config",
            "homeassistant/sensor/tonearm_kitchen/artist/config",
            "homeassistant/sensor/tonearm_kitchen/album/config",
            "homeassistant/sensor/tonearm_kitchen/device/config",
            "homeassistant/binary_sensor/tonearm_kitchen/playing/config",
            "homeassistant/image/tonearm_kitchen/cover/config",
            "homeassistant/button/tonearm_kitchen/play_pause/config",
            "homeassistant/button/tonearm_kitchen/next/config",
            "homeassistant/button/tonearm_kitchen/previous/config",
        ] {
            assert!(topics.contains(&t), "{t} missing");
        }
        assert!(!topics.iter().any(|t| t.contains("media_player")));
        for (t, payload) in &d {
            let v: serde_json::Value = serde_json::from_str(payload).unwrap();
            assert!(v["name"].is_string() && v["unique_id"].is_string(), "{t}");
            assert_eq!(v["availability_topic"], "tonearm/kitchen/availability");
            assert_eq!(v["device"]["identifiers"][0], "tonearm_kitchen");
            assert!(v["device"]["sw_version"].is_string());
            if t.contains("/button/") {
                assert_eq!(v["command_topic"], "tonearm/kitchen/command");
                assert!(v["payload_press"].is_string());
            }
        }
    }

    #[test]
    fn covers_are_made_to_fit_a_display_packet() {
        // A 640 px cover with fine grain: far over the cap as it is.
        let mut rgb = tonearm_firmware::art::pattern_rgb(0x0012_3456, 640);
        let mut x: u32 = 1;
        for b in &mut rgb {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            *b = b.saturating_add((x % 24) as u8);
        }
        let mut big = Vec::new();
        jpeg_encoder::Encoder::new(&mut big, 90)
            .encode(&rgb, 640, 640, jpeg_encoder::ColorType::Rgb)
            .unwrap();
        assert!(big.len() > 4 * COVER_MAX_BYTES, "{}", big.len());
        let small = small_cover(&big).unwrap();
        assert!(small.len() <= COVER_MAX_BYTES, "{}", small.len());
        let (_, w, h) = decode_rgb(&small, DecodeLimits::MEDIUM).unwrap();
        assert_eq!(w, h);
        assert!(w >= 96, "{w}");
        assert_eq!(small_cover(b"not a jpeg"), None);
    }
}
