//! The emulated board's run: the firmware's [`App`] driving itself ([`App::poll`], the
//! loop every board runs), with a simulated clock that sleeps as the app says and a
//! scripted socket, drawn through the band renderer. `no_std`, no alloc: the board
//! (`firmware/boards/qemu-m4`) and the host test (`tests/tests/integration/board.rs`)
//! both depend on this crate, so the board and the desktop draw through one code path.
//!
//! The socket answers the session's requests in turn with real bodies (a token refresh,
//! the seed track with its `available_markets`, an episode with long escaped
//! descriptions, a 204), delivered in uneven chunks through one reused receive buffer of
//! [`RX_BUF`] bytes; it has no route to an image host (a cover fetch fails, and the
//! placeholder stays). Every draw the app asks for that changes pixels is a [`Step`],
//! named after its screen
//! and its place among that screen's draws: `connecting`, `now_playing` (full), then
//! `now_playing+1`, `+2`, ... as the elapsed time ticks and the over-long title scrolls,
//! `episode` and its ticks, `idle`. The run ends when the idle screen is drawn.

#![no_std]
#![deny(missing_docs)]

use core::convert::Infallible;

use embedded_graphics::pixelcolor::Rgb565;
use embedded_graphics::primitives::Rectangle;
use tonearm_core::session::{
    Credentials, Endpoint, Failure, Features, Host, Method, Request, RequestKind, Session, Timing,
};
use tonearm_core::text::bounded;
use tonearm_core::{NowPlayingParser, Secret};
use tonearm_firmware::{
    App, BandError, BandRenderer, BandSink, ChecksumColor, Do, Fnv1a, Profile, Screen, Update,
};

pub mod expected;

/// The display: 320x240, Rgb565 (an ST7789 or ILI9341 panel).
pub const PROFILE: Profile = Profile::Landscape320x240;
/// The display's width in pixels.
pub const WIDTH: usize = 320;
/// Rows per band: 25 rows of 320 Rgb565 pixels are 16 000 bytes (at most 16 KiB).
pub const BAND_ROWS: usize = 25;
/// Pixels in the band buffer.
pub const BAND_PIXELS: usize = WIDTH * BAND_ROWS;
/// The one receive buffer every body goes through.
pub const RX_BUF: usize = 512;
/// Simulated network latency: the head comes this long after the request, the end
/// twice this long.
pub const LATENCY_MS: u64 = 40;

/// The token refresh's answer (a real shape: the refresh token rotates).
pub const TOKEN_BODY: &[u8] = b"{\n\"access_token\": \"BQD-board-access-token-0123456789abcdef\",\n\"token_type\": \"Bearer\",\n\"expires_in\": 3600,\n\"refresh_token\": \"AQB-board-refresh-token-rotated\",\n\"scope\": \"user-read-currently-playing user-read-playback-state user-modify-playback-state\"\n}";
/// The seed track, with both `available_markets` arrays (4.5 KB).
pub const SEED_BODY: &[u8] = include_bytes!("../../../../../core/tests/fixtures/seed_track.json");
/// A podcast episode with long escaped descriptions (19.7 KB).
pub const EPISODE_BODY: &[u8] =
    include_bytes!("../../../../../core/tests/fixtures/episode_long_escaped.json");
/// Flash the bodies take (a real board has none of them).
pub const BODY_BYTES: usize = TOKEN_BODY.len() + SEED_BODY.len() + EPISODE_BODY.len();

/// The sizes the socket delivers, in turn (each at most the buffer): odd sizes split
/// keys, escapes and UTF-8 sequences where a real socket would.
const CHUNKS: [usize; 9] = [512, 61, 1, 300, 7, 512, 129, 33, 2];

/// One step of the run (one draw), as the board prints it and the host checks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// The screen drawn.
    pub screen: Screen,
    /// Draws of this screen before this one since it appeared (0: its first).
    pub n: u16,
    /// The simulated time.
    pub now_ms: u64,
    /// Time since the last response ended (the `--elapsed-ms` of `tonearm render`).
    pub elapsed_ms: u64,
    /// The whole screen was redrawn.
    pub full: bool,
    /// Regions redrawn.
    pub regions: usize,
    /// Pixels redrawn.
    pub pixels: u64,
    /// The animation time the regions were drawn at.
    pub anim_ms: u64,
    /// A full redraw: the frame checksum (FNV-1a 32 of the Rgb565 LE pixels, as
    /// `tonearm render --checksum` prints it). A partial one: FNV-1a 32 of the redrawn
    /// pixels, region after region, then of each region's x, y, width and height.
    pub checksum: u32,
}

impl Step {
    /// `(screen name, n)`: the step's key in [`expected::EXPECTED`].
    pub fn key(&self) -> (&'static str, u16) {
        (self.screen.name(), self.n)
    }
}

impl core::fmt::Display for Step {
    /// `now_playing` for a screen's first draw, `now_playing+3` for its fourth.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.n {
            0 => f.write_str(self.screen.name()),
            n => write!(f, "{}+{}", self.screen.name(), n),
        }
    }
}

/// What the run moved, for the budget lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Requests the session sent.
    pub requests: u32,
    /// Cover fetches the app asked for (each refused: no route to an image host).
    pub image_fetches: u32,
    /// Body chunks fed.
    pub chunks: u32,
    /// Body bytes fed.
    pub bytes: u32,
    /// The largest chunk.
    pub max_chunk: usize,
    /// Bands pushed to the display.
    pub bands: u32,
    /// Draws (the steps, and the draws that changed nothing).
    pub draws: u32,
    /// Turns of the loop (answers of `App::poll`).
    pub turns: u32,
}

/// Why the run stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScriptError {
    /// The app asked for more requests than the script has answers.
    Unexpected(&'static str),
    /// The app sent a request of the wrong kind, method, host or path.
    WrongRequest(&'static str),
    /// A poll went out before the refreshed tokens were saved.
    NoTokenUpdate,
    /// A screen's first draw was partial.
    WrongRedraw,
    /// The band renderer refused the buffer.
    Band,
    /// The loop did not reach the idle screen within [`MAX_TURNS`].
    TooLong,
}

impl core::fmt::Display for ScriptError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ScriptError::Unexpected(at) => write!(f, "a request beyond the script after {at}"),
            ScriptError::WrongRequest(at) => write!(f, "unexpected request for {at}"),
            ScriptError::NoTokenUpdate => {
                f.write_str("a poll went out before the tokens were saved")
            }
            ScriptError::WrongRedraw => f.write_str("a new screen drawn partly"),
            ScriptError::Band => f.write_str("band buffer smaller than one row"),
            ScriptError::TooLong => f.write_str("the idle screen was never drawn"),
        }
    }
}

impl<E> From<BandError<E>> for ScriptError {
    fn from(_: BandError<E>) -> Self {
        ScriptError::Band
    }
}

/// The most turns of the loop the run may take.
pub const MAX_TURNS: u32 = 2_000;

/// The script: what the socket answers to each request in turn (name, kind, status,
/// body).
const SCRIPT: [(&str, RequestKind, u16, &[u8]); 4] = [
    ("refresh", RequestKind::Refresh, 200, TOKEN_BODY),
    (
        "now_playing",
        RequestKind::Poll(Endpoint::Player),
        200,
        SEED_BODY,
    ),
    (
        "episode",
        RequestKind::Poll(Endpoint::Player),
        200,
        EPISODE_BODY,
    ),
    ("idle", RequestKind::Poll(Endpoint::Player), 204, b""),
];

/// A scripted socket: one response body, handed out in [`CHUNKS`]-sized reads.
struct ScriptedSocket {
    body: &'static [u8],
    pos: usize,
    turn: usize,
}

impl ScriptedSocket {
    fn new(body: &'static [u8], turn: usize) -> Self {
        ScriptedSocket { body, pos: 0, turn }
    }

    /// Like a socket's `recv`: copies the next chunk into `buf`, returns its length
    /// (0 at the end of the body).
    fn recv(&mut self, buf: &mut [u8]) -> usize {
        let want = CHUNKS.get(self.turn % CHUNKS.len()).copied().unwrap_or(1);
        self.turn = self.turn.wrapping_add(1);
        let rest = self.body.get(self.pos..).unwrap_or_default();
        let n = want.min(buf.len()).min(rest.len());
        if let (Some(dst), Some(src)) = (buf.get_mut(..n), rest.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.pos += n;
        n
    }
}

/// Hashes the bands it is given and hands them on to `mirror` (nothing on the board; a
/// frame buffer in the host test).
struct StepSink<'m, M> {
    hash: Fnv1a,
    bands: u32,
    mirror: &'m mut M,
}

impl<M: BandSink<Rgb565, Error = Infallible>> BandSink<Rgb565> for StepSink<'_, M> {
    type Error = Infallible;

    fn push_band(&mut self, area: Rectangle, pixels: &[Rgb565]) -> Result<(), Infallible> {
        for p in pixels {
            p.hash_into(&mut self.hash);
        }
        self.bands += 1;
        self.mirror.push_band(area, pixels)
    }
}

/// A sink that drops the bands (the board has no display attached).
#[derive(Debug, Default)]
pub struct NoDisplay;

impl BandSink<Rgb565> for NoDisplay {
    type Error = Infallible;

    fn push_band(&mut self, _area: Rectangle, _pixels: &[Rgb565]) -> Result<(), Infallible> {
        Ok(())
    }
}

/// The credentials of the scripted account (nothing secret).
fn credentials() -> Credentials {
    Credentials {
        client_id: bounded("tonearm-board").0,
        client_secret: None,
        refresh_token: Secret::new("AQB-board-refresh-token"),
    }
}

/// The board's shell: the I/O around the app, and nothing else.
struct Shell<'a, 'm, M, F> {
    renderer: BandRenderer<'a, Rgb565>,
    rx: &'a mut [u8],
    mirror: &'m mut M,
    report: F,
    stats: Stats,
    now: u64,
    /// When the last response ended (the origin of `elapsed_ms`).
    received: u64,
    turn: usize,
    /// Requests answered so far.
    answered: usize,
    /// Tokens saved since the refresh.
    saved: bool,
    /// The screen of the last draw, and its draws so far.
    last: Option<(Screen, u16)>,
}

impl<M, F> Shell<'_, '_, M, F>
where
    M: BandSink<Rgb565, Error = Infallible>,
    F: FnMut(&Step),
{
    /// Sends `req`: the next answer of the script, the head after [`LATENCY_MS`], then
    /// the body through the receive buffer, then the end.
    fn send(&mut self, app: &mut App<Rgb565>, req: &Request) -> Result<(), ScriptError> {
        let at = SCRIPT
            .get(self.answered.saturating_sub(1))
            .map_or("boot", |s| s.0);
        let Some(&(name, kind, status, body)) = SCRIPT.get(self.answered) else {
            return Err(ScriptError::Unexpected(at));
        };
        check_request(req, kind, name)?;
        if kind != RequestKind::Refresh && !self.saved {
            return Err(ScriptError::NoTokenUpdate);
        }
        self.answered += 1;
        self.stats.requests += 1;
        self.now += LATENCY_MS;
        app.on_head(self.now, status, None);
        let mut socket = ScriptedSocket::new(body, self.turn);
        loop {
            let n = socket.recv(self.rx);
            let Some(chunk) = self.rx.get(..n).filter(|c| !c.is_empty()) else {
                break;
            };
            app.on_body(chunk);
            self.stats.chunks += 1;
            self.stats.bytes += n as u32;
            self.stats.max_chunk = self.stats.max_chunk.max(n);
        }
        self.turn = socket.turn;
        self.now += LATENCY_MS;
        app.on_end(self.now);
        self.received = self.now;
        Ok(())
    }

    /// Draws what changed through the band renderer and reports the step; returns the
    /// screen drawn.
    fn draw(&mut self, app: &mut App<Rgb565>) -> Result<Screen, ScriptError> {
        let mut sink = StepSink {
            hash: Fnv1a::new(),
            bands: 0,
            mirror: &mut *self.mirror,
        };
        let update: Update = app.draw_banded(self.now, &mut self.renderer, &mut sink)?;
        self.stats.bands += sink.bands;
        self.stats.draws += 1;
        let mut hash = sink.hash;
        let screen = app.last_view().screen;
        if update.is_empty() {
            // Something happened that changed nothing on screen (a token arrived).
            return Ok(screen);
        }
        let n = match self.last {
            Some((s, n)) if s == screen => n + 1,
            _ => 0,
        };
        self.last = Some((screen, n));
        if n == 0 && !update.full {
            return Err(ScriptError::WrongRedraw);
        }
        if !update.full {
            for r in &update.regions {
                hash.write(&r.top_left.x.to_le_bytes());
                hash.write(&r.top_left.y.to_le_bytes());
                hash.write_u32(r.size.width);
                hash.write_u32(r.size.height);
            }
        }
        (self.report)(&Step {
            screen,
            n,
            now_ms: self.now,
            elapsed_ms: self.now.saturating_sub(self.received),
            full: update.full,
            regions: update.regions.len(),
            pixels: update.pixels(),
            anim_ms: update.anim_ms,
            checksum: hash.finish(),
        });
        Ok(screen)
    }
}

fn check_request(req: &Request, kind: RequestKind, at: &'static str) -> Result<(), ScriptError> {
    let ok = req.kind == kind
        && match kind {
            RequestKind::Refresh => {
                req.method == Method::Post
                    && req.host == Host::Accounts
                    && req.path == "/api/token"
                    && req
                        .body
                        .starts_with("grant_type=refresh_token&refresh_token=")
            }
            RequestKind::Poll(_) => {
                req.method == Method::Get
                    && req.host == Host::Api
                    && req.path.starts_with("/me/player?")
                    && req
                        .authorization
                        .starts_with("Bearer BQD-board-access-token")
            }
            RequestKind::Control(_) | RequestKind::Library | RequestKind::Queue => false,
        };
    if ok {
        Ok(())
    } else {
        Err(ScriptError::WrongRequest(at))
    }
}

/// Never inlined: the app and the shell live in this function's frame, which is gone
/// before the caller does anything else deep (the board decodes a cover after it; with
/// the two frames stacked the all-fonts image ran out of its 71 KB of stack).
#[inline(never)]
/// Runs the board's loop until the idle screen is drawn: `band` is the band buffer (at
/// least one row), `rx` the receive buffer (at most [`RX_BUF`] bytes are used), `mirror`
/// gets every band drawn, `report` every step.
pub fn run<M, F>(
    band: &mut [Rgb565],
    rx: &mut [u8],
    mirror: &mut M,
    report: F,
) -> Result<Stats, ScriptError>
where
    M: BandSink<Rgb565, Error = Infallible>,
    F: FnMut(&Step),
{
    let rx_len = rx.len().min(RX_BUF);
    let mut shell = Shell {
        renderer: BandRenderer::new(band, PROFILE.size()),
        rx: rx.get_mut(..rx_len).unwrap_or_default(),
        mirror,
        report,
        stats: Stats::default(),
        now: 0,
        received: 0,
        turn: 0,
        answered: 0,
        saved: false,
        last: None,
    };
    let mut session = Session::new(credentials(), Timing::default(), 7);
    // The script answers the player and the token only: no heart, no queue.
    session.set_features(Features {
        like: false,
        up_next: false,
    });
    let mut app = App::<Rgb565>::new(PROFILE, session);
    while shell.stats.turns < MAX_TURNS {
        shell.stats.turns += 1;
        match app.poll(shell.now) {
            Do::Send(req) => shell.send(&mut app, &req)?,
            Do::Fetch(_) => {
                // No route to an image host: the placeholder stays.
                shell.stats.image_fetches += 1;
                app.on_failure(shell.now, Failure::Connect);
            }
            Do::Save(save) => shell.saved |= save.tokens.is_some(),
            // No time of day on this board; the backlight is always on.
            Do::ReadClock | Do::Backlight(_) => {}
            Do::Draw => {
                if shell.draw(&mut app)? == Screen::Idle {
                    return Ok(shell.stats);
                }
            }
            Do::Sleep(t) => shell.now = t,
        }
    }
    Err(ScriptError::TooLong)
}

/// The state sizes the budget lines print: (name, bytes).
pub fn state_sizes() -> [(&'static str, usize); 7] {
    use core::mem::size_of;
    [
        ("NowPlayingParser", size_of::<NowPlayingParser>()),
        ("TokenParser", size_of::<tonearm_core::TokenParser>()),
        ("NowPlaying", size_of::<tonearm_core::NowPlaying>()),
        ("Session", size_of::<Session>()),
        ("Request", size_of::<Request>()),
        ("ViewModel", size_of::<tonearm_firmware::ViewModel>()),
        ("App", size_of::<App<Rgb565>>()),
    ]
}
