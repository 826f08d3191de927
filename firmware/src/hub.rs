//! A display fed by a hub (`tonearm hub`): [`HubSource`], the app's source that shows what
//! the hub publishes through a mirror session ([`Session::mirror`]), for every shell that
//! receives the hub's MQTT messages (the desktop's `tonearm run --hub`, the kit's hub mode
//! on a board). The shell only hands it what the broker delivers and how the link
//! stands; every rule lives here, once:
//!
//! - `connecting` until the first state; each state message parsed as it arrives (the
//!   shell's receive buffer is its only copy) and shown at the app's next poll
//!   ([`Source::take_news`]);
//! - `offline`, the last state kept with how long the hub has been gone, when the hub's
//!   availability says `offline` (its will), the broker has been unreachable for
//!   [`UNREACHABLE_MS`], or a hub that said `online` (it repeats it every 2 s, not
//!   retained: its heartbeat) has been silent for [`SILENT_MS`] (frozen: its will can
//!   come 11 s late); heard again with nothing new to say, its last state shows again;
//! - a press becomes a command word ([`command_text`], the words `tonearm hub` takes),
//!   or the control-failed notice while the hub is out of reach.
//!
//! `no_std`, no alloc: a board and the desktop run the same code.

use core::cell::RefCell;
use core::fmt::Write as _;

use heapless::{Deque, String};
use tonearm_core::budget::QuotaState;
use tonearm_core::hub::{HubState, HubStateError, HubStateParser};
use tonearm_core::session::{
    Action, Control, ControlRefused, Failure, Notice, Session, Timing, TokenUpdate,
};
use tonearm_core::wall::WallClock as Wall;

use crate::driver::Source;

/// The broker unreachable this long: the display shows `offline`.
pub const UNREACHABLE_MS: u64 = 3_000;
/// A hub that said `online` (it repeats it every 2 s, not retained: its heartbeat) and
/// has been silent this long is gone (frozen: its socket open, its will not sent yet,
/// which Debian's mosquitto sends 10.5 to 11.3 s late): the display shows `offline`.
pub const SILENT_MS: u64 = 6_000;
/// Presses waiting to go out.
pub const COMMANDS: usize = 4;
/// The longest command (`volume:100`, `play_pause`).
pub const COMMAND_MAX: usize = 16;

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
        // Out of reach: no link, the hub's will, or a beating hub fallen silent (a
        // command would wait in a frozen hub's socket and run minutes later).
        let silent = inbox.beats
            && inbox
                .heard
                .is_some_and(|h| now_ms >= h.saturating_add(SILENT_MS));
        if !inbox.connected || inbox.online == Some(false) || silent {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{App, Profile, Screen};
    use embedded_graphics::pixelcolor::Rgb565;

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
        // A press to a silent (frozen) hub is not queued to run minutes later: refused,
        // with the control-failed notice.
        assert_eq!(
            app.press(72_000, Control::Next),
            Err(ControlRefused::Unavailable)
        );
        assert_eq!(app.source().take_command(), None);
        assert_eq!(
            app.session().status(72_000).notice,
            Some(Notice::ControlFailed)
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
