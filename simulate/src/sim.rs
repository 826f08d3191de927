//! The simulation: the real [`App`] (and so the real session) on the 320x240 profile,
//! driven exactly as a shell drives it, against the scripted [`Spotify`], on a simulated
//! clock that jumps from one thing that happens to the next.
//!
//! Every request takes [`RTT_MS`]: Spotify sees it when it is sent (a control applies
//! then) and the answer arrives [`RTT_MS`] later.

use std::rc::Rc;

use embedded_graphics::pixelcolor::Rgb565;
use tonearm_core::Secret;
use tonearm_core::budget::QuotaState;
use tonearm_core::session::{
    Control, ControlRefused, Credentials, Features, Playback, Session, WAKE_MS,
};
use tonearm_core::text::bounded;
use tonearm_core::wall::{NightHours, WallClock};
use tonearm_firmware::events::EventLine;
use tonearm_firmware::{App, Do, Profile, Screen};

use crate::config::Sched;
use crate::day::{Action, DAY_MS, Day};
use crate::spotify::{Reply, RequestClass, Spotify, State, call, class_of};
use crate::stats::{Latencies, max_in_window};

/// The simulated round trip of every request, in ms.
pub const RTT_MS: u64 = 150;
/// A change whose state lasted this long at Spotify and was never shown is "missed"
/// (shorter: "superseded").
pub const MISSED_AFTER_MS: u64 = 60_000;
/// The jitter seed of the simulated device (fixed: a run is deterministic).
pub const SEED: u64 = 0x7043_a5e1_0000_0001;

/// What kind of change happened at Spotify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// A track ended by itself: the next began, or the list ended.
    Natural,
    /// A skip, pause, resume or stop on another device, or a `play` while something was
    /// loaded.
    Outside,
    /// A `play` when nothing was loaded.
    Start,
    /// Caused by a press on the display (not measured).
    Press,
}

/// What became of a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The screen showed the new state this long after the change.
    Shown {
        /// The latency in ms.
        latency_ms: u64,
    },
    /// Never shown; the state lasted at least [`MISSED_AFTER_MS`].
    Missed,
    /// Never shown; the state lasted less.
    Superseded,
    /// The screen was dark (night hours) or a quota hold was in force: not measured.
    Excluded,
    /// A change caused by a press: not measured.
    Unmeasured,
}

/// One change at Spotify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeRecord {
    /// When (ms since 00:00 of the first day).
    pub t_ms: u64,
    /// What kind.
    pub kind: ChangeKind,
    /// The state it made.
    pub state: State,
    /// How long that state lasted at Spotify (to the next change or the end).
    pub lasted_ms: u64,
    /// What became of it.
    pub outcome: Outcome,
}

/// One request the app sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestRecord {
    /// When it was sent (ms since 00:00 of the first day).
    pub t_ms: u64,
    /// What for.
    pub class: RequestClass,
    /// The answer's status.
    pub status: u16,
    /// The screen was dark when it was sent.
    pub dark: bool,
    /// Night hours were in force when it was sent.
    pub night: bool,
    /// It was sent after a quota answer while Spotify's quota was still in force.
    pub in_hold: bool,
}

/// One press on the display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PressRecord {
    /// When (ms since 00:00 of the first day).
    pub t_ms: u64,
    /// Which button.
    pub control: Control,
    /// What the app said.
    pub result: Result<(), ControlRefused>,
}

/// The figures of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// All requests to Spotify, 429s included.
    pub requests: usize,
    /// `GET /me/player`, `/me/player/currently-playing`.
    pub player: usize,
    /// `POST /api/token`.
    pub token: usize,
    /// Requests made for a press.
    pub control: usize,
    /// `GET /me/library/contains` (is it liked; the heart).
    pub library: usize,
    /// `GET /me/player/queue` (what plays next).
    pub queue: usize,
    /// `PUT /me/player/volume`.
    pub volume: usize,
    /// Everything else the app asks by itself.
    pub other: usize,
    /// The most requests in any window `[t, t + 30 s)`.
    pub max_in_30s: usize,
    /// The most requests in any window `[t, t + 24 h)`.
    pub max_in_24h: usize,
    /// Tracks ending by themselves.
    pub natural: Latencies,
    /// Changes made on another device.
    pub outside: Latencies,
    /// Starts from nothing loaded.
    pub start: Latencies,
    /// Never shown; lasted at least a minute.
    pub missed: usize,
    /// Never shown; lasted less.
    pub superseded: usize,
    /// Dark screen (night) or quota hold: not measured.
    pub excluded: usize,
    /// The sum over every hold of the time from its first quota answer to the next
    /// request (or the end).
    pub quota_hold_ms: u64,
    /// Requests sent after a quota answer while Spotify's quota was still in force.
    pub requests_in_hold: usize,
    /// Presses on the display.
    pub presses: usize,
    /// Days simulated.
    pub days: usize,
    /// The configured daily budget (0: none).
    pub daily_requests: u32,
}

impl Summary {
    /// The summary line: one JSON object.
    pub fn to_json(&self) -> String {
        format!(
            concat!(
                r#"{{"requests":{},"requests_by_kind":{{"player":{},"token":{},"control":{},"library":{},"queue":{},"volume":{},"other":{}}},"#,
                r#""max_in_30s":{},"natural":{},"outside":{},"start":{},"missed":{},"superseded":{},"#,
                r#""excluded":{},"quota_hold_ms":{},"requests_in_hold":{},"max_in_24h":{},"presses":{},"#,
                r#""days":{},"daily_requests":{}}}"#
            ),
            self.requests,
            self.player,
            self.token,
            self.control,
            self.library,
            self.queue,
            self.volume,
            self.other,
            self.max_in_30s,
            self.natural.to_json(),
            self.outside.to_json(),
            self.start.to_json(),
            self.missed,
            self.superseded,
            self.excluded,
            self.quota_hold_ms,
            self.requests_in_hold,
            self.max_in_24h,
            self.presses,
            self.days,
            self.daily_requests,
        )
    }
}

/// Everything a run produced.
#[derive(Debug, Clone)]
pub struct Report {
    /// The figures.
    pub summary: Summary,
    /// The event lines (`--events`), when asked for.
    pub event_lines: Vec<String>,
    /// Every request, in order.
    pub requests: Vec<RequestRecord>,
    /// Every change at Spotify, in order.
    pub changes: Vec<ChangeRecord>,
    /// Every press, in order.
    pub presses: Vec<PressRecord>,
}

/// Simulates `days`, one after the other (day `i` is the `i`-th calendar day after the
/// first one's date, whatever its own says), with one app carried through, under `sched`.
/// `events`: collect the event lines.
pub fn simulate(days: &[Day], sched: &Sched, events: bool) -> Report {
    let mut r = Runner::new(days, sched, events);
    r.run();
    r.finish()
}

/// Simulates one day with its own scheduling config (defaults, then the day's `config`).
pub fn simulate_day(day: &Day, events: bool) -> Report {
    simulate(std::slice::from_ref(day), &day.sched(), events)
}

struct Flight {
    arrive: u64,
    reply: Reply,
}

struct Runner {
    app: App<Rgb565>,
    sp: Spotify,
    now: u64,
    end: u64,
    unix_at_zero_ms: u64,
    utc_offset_s: i32,
    night: Option<NightHours>,
    blank_after_ms: u64,
    daily_requests: u32,
    days: usize,
    script: Vec<(u64, Action)>,
    cursor: usize,
    flight: Option<Flight>,
    session_wake: u64,
    next_minute: u64,
    wakes: Vec<u64>,
    changes: Vec<ChangeRecord>,
    pending: Vec<usize>,
    requests: Vec<RequestRecord>,
    presses: Vec<PressRecord>,
    hold_start: Option<u64>,
    hold_ms: u64,
    events: bool,
    lines: Vec<String>,
    last_line: Option<EventLine>,
}

impl Runner {
    fn new(days: &[Day], sched: &Sched, events: bool) -> Runner {
        let first = days.first();
        let unix_at_zero_ms = first.map_or(0, Day::midnight_unix_ms);
        let utc_offset_s = first.map_or(0, |d| d.utc_offset_min * 60);
        let script = days
            .iter()
            .enumerate()
            .flat_map(|(i, d)| {
                d.events
                    .iter()
                    .map(move |e| (i as u64 * DAY_MS + e.at_ms, e.action.clone()))
            })
            .collect();
        let creds = Credentials {
            client_id: bounded("simulated-client-id").0,
            client_secret: None,
            refresh_token: Secret::new("simulated-refresh-token"),
        };
        let timing = sched.timing();
        let mut session = Session::new(creds, timing, SEED);
        session.set_budget(sched.daily_requests, QuotaState::default());
        session.set_night(sched.night);
        session.set_features(Features {
            like: sched.like,
            up_next: sched.up_next,
        });
        let mut app = App::new(Profile::Landscape320x240, session);
        // What is shown is read at each event (`observe`), not drawn frame by frame.
        app.set_headless(true);
        app.set_wall_clock(
            0,
            WallClock {
                unix_ms: unix_at_zero_ms,
                utc_offset_s,
            },
        );
        Runner {
            app,
            sp: Spotify::new(unix_at_zero_ms),
            now: 0,
            end: days.len() as u64 * DAY_MS,
            unix_at_zero_ms,
            utc_offset_s,
            night: sched.night,
            blank_after_ms: timing.blank_after_ms,
            daily_requests: sched.daily_requests,
            days: days.len(),
            script,
            cursor: 0,
            flight: None,
            session_wake: 0,
            next_minute: 60_000,
            wakes: Vec::new(),
            changes: Vec::new(),
            pending: Vec::new(),
            requests: Vec::new(),
            presses: Vec::new(),
            hold_start: None,
            hold_ms: 0,
            events,
            lines: Vec::new(),
            last_line: None,
        }
    }

    fn run(&mut self) {
        while self.now < self.end {
            self.step();
            self.now = self.next_time();
        }
    }

    /// Everything that happens at `now`, in order: the answer in flight arrives, the wall
    /// clock ticks, tracks end, the script acts, the app asks, the screen updates.
    fn step(&mut self) {
        let now = self.now;
        if let Some(f) = self.flight.take_if(|f| f.arrive <= now) {
            self.deliver(f);
        }
        if self.next_minute <= now {
            self.app.set_wall_clock(
                now,
                WallClock {
                    unix_ms: self.unix_at_zero_ms + now,
                    utc_offset_s: self.utc_offset_s,
                },
            );
            self.next_minute = (now / 60_000 + 1) * 60_000;
        }
        while let Some(t) = self.sp.next_end().filter(|t| *t <= now) {
            self.sp.end_track(t);
            self.record_change(t, ChangeKind::Natural);
        }
        while let Some((at, action)) = self.script.get(self.cursor).cloned() {
            if at > now {
                break;
            }
            self.cursor += 1;
            self.act(action);
        }
        if self.flight.is_none() {
            self.ask();
        }
        self.observe();
    }

    fn deliver(&mut self, f: Flight) {
        let now = self.now;
        self.app
            .on_head(now, f.reply.status, f.reply.retry_after.as_deref());
        if !f.reply.body.is_empty() {
            self.app.on_body(&f.reply.body);
        }
        self.app.on_end(now);
        if f.reply.quota && self.hold_start.is_none() {
            self.hold_start = Some(now);
        }
    }

    fn ask(&mut self) {
        let now = self.now;
        loop {
            let req = match self.app.poll(now) {
                Do::Send(req) => req,
                // What a shell persists (nothing is written here).
                Do::Save(_) => continue,
                Do::ReadClock => {
                    self.app.set_wall_clock(
                        now,
                        WallClock {
                            unix_ms: self.unix_at_zero_ms + now,
                            utc_offset_s: self.utc_offset_s,
                        },
                    );
                    continue;
                }
                // Headless: none of these is asked for (a cover would have no image
                // host to come from here).
                Do::Fetch(_) => {
                    self.app
                        .on_failure(now, tonearm_core::session::Failure::Connect);
                    continue;
                }
                Do::Draw | Do::Backlight(_) => continue,
                Do::Sleep(t) => {
                    self.session_wake = t;
                    return;
                }
            };
            {
                let class = class_of(&req);
                let in_hold = self.hold_start.is_some() && self.sp.quota_active(now);
                if let Some(start) = self.hold_start.take() {
                    self.hold_ms += now - start;
                }
                let before = self.sp.state();
                let reply = self.sp.answer(now, &call(&req));
                if self.sp.state() != before {
                    self.record_change(now, ChangeKind::Press);
                }
                self.requests.push(RequestRecord {
                    t_ms: now,
                    class,
                    status: reply.status,
                    dark: self.app.session().is_dark(now),
                    night: self.is_night(now),
                    in_hold,
                });
                self.flight = Some(Flight {
                    arrive: now + RTT_MS,
                    reply,
                });
            }
            return;
        }
    }

    fn act(&mut self, action: Action) {
        let now = self.now;
        let before = self.sp.state();
        let kind = match action {
            Action::Play(list) => {
                let kind = if before == State::Nothing {
                    ChangeKind::Start
                } else {
                    ChangeKind::Outside
                };
                self.sp.play(now, Rc::clone(&list));
                kind
            }
            Action::Skip(s) => {
                self.sp.skip(now, s);
                ChangeKind::Outside
            }
            Action::Pause => {
                self.sp.pause(now);
                ChangeKind::Outside
            }
            Action::Resume => {
                self.sp.resume(now);
                ChangeKind::Outside
            }
            Action::Stop => {
                self.sp.stop(now);
                ChangeKind::Outside
            }
            Action::Press(control) => {
                let result = self.app.press(now, control);
                self.presses.push(PressRecord {
                    t_ms: now,
                    control,
                    result,
                });
                // The wake-up (if it was one) ends then: the screen may go dark again.
                self.wakes.push(now + WAKE_MS);
                return;
            }
            Action::QuotaExceeded { retry_after_s } => {
                self.sp.quota_exceeded(now, retry_after_s);
                return;
            }
        };
        if self.sp.state() != before {
            self.record_change(now, kind);
        }
    }

    fn record_change(&mut self, t: u64, kind: ChangeKind) {
        if let Some(last) = self.changes.last_mut() {
            last.lasted_ms = t - last.t_ms;
        }
        let blind = self.blind(t);
        let outcome = match kind {
            ChangeKind::Press => Outcome::Unmeasured,
            _ if blind => Outcome::Excluded,
            _ => Outcome::Missed, // until shown; settled at the end
        };
        if !blind {
            self.pending.push(self.changes.len());
        }
        self.changes.push(ChangeRecord {
            t_ms: t,
            kind,
            state: self.sp.state(),
            lasted_ms: 0,
            outcome,
        });
    }

    fn is_night(&self, now: u64) -> bool {
        let session = self.app.session();
        match (self.night, session.local_time(now)) {
            (Some(n), Some(t)) => n.contains(t.minute_of_day()),
            _ => false,
        }
    }

    /// No change can be shown now: the screen is dark for the night (not woken), or a
    /// quota hold is in force (at Spotify or in the session).
    fn blind(&self, now: u64) -> bool {
        let session = self.app.session();
        (session.is_dark(now) && self.is_night(now))
            || self.sp.quota_active(now)
            || session.quota_until(now).is_some()
    }

    fn observe(&mut self) {
        let now = self.now;
        // What would be shown (nothing is drawn: no layout, no pixels).
        self.app.view(now);
        if self.blind(now) {
            for i in self.pending.drain(..) {
                if let Some(c) = self.changes.get_mut(i)
                    && c.kind != ChangeKind::Press
                {
                    c.outcome = Outcome::Excluded;
                }
            }
        } else if !self.pending.is_empty() {
            let vm = self.app.last_view();
            let showing = match vm.screen {
                Screen::NowPlaying | Screen::Paused => Some(State::Item {
                    title: Rc::from(vm.title.as_str()),
                    playing: vm.screen == Screen::NowPlaying,
                }),
                Screen::Idle => Some(State::Nothing),
                _ => None,
            };
            let found = showing.and_then(|s| {
                self.pending
                    .iter()
                    .rposition(|i| self.changes.get(*i).is_some_and(|c| c.state == s))
            });
            if let Some(pos) = found {
                // This one is on screen; the ones before it never will be.
                for (k, i) in self.pending.drain(..=pos).enumerate() {
                    if let Some(c) = self.changes.get_mut(i)
                        && k == pos
                        && c.kind != ChangeKind::Press
                    {
                        c.outcome = Outcome::Shown {
                            latency_ms: now - c.t_ms,
                        };
                    }
                }
            }
        }
        if self.events {
            let line = self.app.event_line(now);
            if self.last_line.as_ref().is_none_or(|l| l.differs(&line)) {
                let mut s = String::new();
                let _ = line.write_json(now, &mut s);
                self.lines.push(s);
                self.last_line = Some(line);
            }
        }
    }

    /// The next moment something can happen.
    fn next_time(&mut self) -> u64 {
        let now = self.now;
        let mut next = self.end.min(self.next_minute);
        next = next.min(match &self.flight {
            Some(f) => f.arrive,
            None => self.session_wake,
        });
        if let Some(t) = self.sp.next_end() {
            next = next.min(t);
        }
        if let Some((at, _)) = self.script.get(self.cursor) {
            next = next.min(*at);
        }
        self.wakes.retain(|w| *w > now);
        if let Some(w) = self.wakes.iter().min() {
            next = next.min(*w);
        }
        if let Playback::Nothing { since_ms } = self.app.session().playback() {
            let blank = since_ms.saturating_add(self.blank_after_ms);
            if blank > now {
                next = next.min(blank);
            }
        }
        next.max(now + 1)
    }

    fn finish(mut self) -> Report {
        let end = self.end;
        if let Some(start) = self.hold_start.take() {
            self.hold_ms += end.saturating_sub(start);
        }
        if let Some(last) = self.changes.last_mut() {
            last.lasted_ms = end - last.t_ms;
        }
        let mut lat: [Vec<u64>; 3] = Default::default();
        let (mut missed, mut superseded, mut excluded) = (0, 0, 0);
        for c in &mut self.changes {
            let slot = match c.kind {
                ChangeKind::Natural => 0,
                ChangeKind::Outside => 1,
                ChangeKind::Start => 2,
                ChangeKind::Press => continue,
            };
            match c.outcome {
                Outcome::Shown { latency_ms } => lat[slot].push(latency_ms),
                Outcome::Excluded => excluded += 1,
                Outcome::Missed | Outcome::Superseded => {
                    if c.lasted_ms >= MISSED_AFTER_MS {
                        c.outcome = Outcome::Missed;
                        missed += 1;
                    } else {
                        c.outcome = Outcome::Superseded;
                        superseded += 1;
                    }
                }
                Outcome::Unmeasured => {}
            }
        }
        let times: Vec<u64> = self.requests.iter().map(|r| r.t_ms).collect();
        let count = |c: RequestClass| self.requests.iter().filter(|r| r.class == c).count();
        let summary = Summary {
            requests: self.requests.len(),
            player: count(RequestClass::Player),
            token: count(RequestClass::Token),
            control: count(RequestClass::Control),
            library: count(RequestClass::Library),
            queue: count(RequestClass::Queue),
            volume: count(RequestClass::Volume),
            other: count(RequestClass::Other),
            max_in_30s: max_in_window(&times, 30_000),
            max_in_24h: max_in_window(&times, DAY_MS),
            natural: Latencies::of(&lat[0]),
            outside: Latencies::of(&lat[1]),
            start: Latencies::of(&lat[2]),
            missed,
            superseded,
            excluded,
            quota_hold_ms: self.hold_ms,
            requests_in_hold: self.requests.iter().filter(|r| r.in_hold).count(),
            presses: self.presses.len(),
            days: self.days,
            daily_requests: self.daily_requests,
        };
        Report {
            summary,
            event_lines: self.lines,
            requests: self.requests,
            changes: self.changes,
            presses: self.presses,
        }
    }
}
