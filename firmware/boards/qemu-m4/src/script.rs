//! The board's run: the firmware's [`App`] driven by a simulated clock and a scripted
//! socket, drawn through the band renderer. `no_std`, no alloc, no board crate: the host
//! test (`tests/tests/integration/board.rs`) compiles this same file and runs the same
//! steps, so the board and the desktop draw through one code path.
//!
//! The socket answers the session's requests with real bodies (a token refresh, the seed
//! track with its `available_markets`, an episode with long escaped descriptions, a 204),
//! delivered in uneven chunks through one reused receive buffer of [`RX_BUF`] bytes.
//!
//! | step | what happens | redraw |
//! | --- | --- | --- |
//! | `now_playing` | refresh, then the seed body | full |
//! | `tick_1s`, `tick_2s` | the clock moves on | elapsed time and bar only |
//! | `tick_3s` | the clock moves on; the over-long title starts to scroll | + title |
//! | `episode` | the next poll: the episode body | full |
//! | `episode_tick_1s` | the clock moves on | elapsed time and bar only |
//! | `idle` | the next poll: 204 | full |

use core::convert::Infallible;

use embedded_graphics::pixelcolor::Rgb565;
use embedded_graphics::primitives::Rectangle;
use tonearm_core::session::{
    Action, Credentials, Endpoint, Host, Method, Request, RequestKind, Session, Timing,
};
use tonearm_core::text::bounded;
use tonearm_core::{NowPlayingParser, Secret};
use tonearm_firmware::{
    App, BandError, BandRenderer, BandSink, ChecksumColor, Fnv1a, Profile, Screen, Update,
};

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
pub const SEED_BODY: &[u8] = include_bytes!("../../../../core/tests/fixtures/seed_track.json");
/// A podcast episode with long escaped descriptions (19.7 KB).
pub const EPISODE_BODY: &[u8] =
    include_bytes!("../../../../core/tests/fixtures/episode_long_escaped.json");
/// Flash the bodies take (a real board has none of them).
pub const BODY_BYTES: usize = TOKEN_BODY.len() + SEED_BODY.len() + EPISODE_BODY.len();

/// The sizes the socket delivers, in turn (each at most the buffer): odd sizes split
/// keys, escapes and UTF-8 sequences where a real socket would.
const CHUNKS: [usize; 9] = [512, 61, 1, 300, 7, 512, 129, 33, 2];

/// One step of the run, as the board prints it and the host checks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// The step's name (see the [module docs](self)).
    pub name: &'static str,
    /// The simulated time.
    pub now_ms: u64,
    /// Time since the last response ended (the `--elapsed-ms` of `tonearm render`).
    pub elapsed_ms: u64,
    /// The screen shown.
    pub screen: Screen,
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

/// What the run moved, for the budget lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Requests the session sent.
    pub requests: u32,
    /// Body chunks fed.
    pub chunks: u32,
    /// Body bytes fed.
    pub bytes: u32,
    /// The largest chunk.
    pub max_chunk: usize,
    /// Bands pushed to the display.
    pub bands: u32,
}

/// Why the run stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScriptError {
    /// The session did something else than the script expects next.
    Unexpected(&'static str),
    /// The session sent the request of the wrong kind, method, host or path.
    WrongRequest(&'static str),
    /// A refresh gave no token to persist.
    NoTokenUpdate,
    /// A step redrew the wrong screen, or full when partial was expected (or back).
    WrongRedraw(&'static str),
    /// The band renderer refused the buffer.
    Band,
}

impl core::fmt::Display for ScriptError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ScriptError::Unexpected(at) => write!(f, "unexpected session action at {at}"),
            ScriptError::WrongRequest(at) => write!(f, "unexpected request at {at}"),
            ScriptError::NoTokenUpdate => f.write_str("the refresh gave no token to persist"),
            ScriptError::WrongRedraw(at) => write!(f, "wrong screen or redraw kind at {at}"),
            ScriptError::Band => f.write_str("band buffer smaller than one row"),
        }
    }
}

impl<E> From<BandError<E>> for ScriptError {
    fn from(_: BandError<E>) -> Self {
        ScriptError::Band
    }
}

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

/// The run's state besides the app.
struct Run<'a, 'm, M, F> {
    renderer: BandRenderer<'a, Rgb565>,
    rx: &'a mut [u8],
    mirror: &'m mut M,
    report: F,
    stats: Stats,
    now: u64,
    /// When the last response ended (the origin of `elapsed_ms`).
    received: u64,
    turn: usize,
}

impl<M, F> Run<'_, '_, M, F>
where
    M: BandSink<Rgb565, Error = Infallible>,
    F: FnMut(&Step),
{
    /// Follows the session's schedule (as a shell sleeping until `WaitUntil`) to its
    /// next request, which must be of `kind`.
    fn next_request(
        &mut self,
        app: &mut App<Rgb565>,
        kind: RequestKind,
        at: &'static str,
    ) -> Result<Request, ScriptError> {
        for _ in 0..16 {
            match app.poll(self.now) {
                Action::Send(req) => {
                    self.stats.requests += 1;
                    return check_request(req, kind, at);
                }
                Action::WaitUntil(t) if t > self.now => self.now = t,
                Action::WaitUntil(_) | Action::Wait => break,
            }
        }
        Err(ScriptError::Unexpected(at))
    }

    /// The response to the request just sent: the head after [`LATENCY_MS`], then the
    /// body through the receive buffer, then the end.
    fn respond(&mut self, app: &mut App<Rgb565>, status: u16, body: &'static [u8]) {
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
    }

    /// The clock moves to `now`, where the session must not want the network.
    fn idle_until(
        &mut self,
        app: &mut App<Rgb565>,
        now: u64,
        at: &'static str,
    ) -> Result<(), ScriptError> {
        self.now = now;
        match app.poll(now) {
            Action::WaitUntil(t) if t > now => Ok(()),
            _ => Err(ScriptError::Unexpected(at)),
        }
    }

    /// Redraws what changed, through the band renderer, and reports the step.
    fn draw(
        &mut self,
        app: &mut App<Rgb565>,
        name: &'static str,
        screen: Screen,
        full: bool,
    ) -> Result<(), ScriptError> {
        let mut sink = StepSink {
            hash: Fnv1a::new(),
            bands: 0,
            mirror: &mut *self.mirror,
        };
        let update: Update = app.redraw_banded(self.now, &mut self.renderer, &mut sink)?;
        self.stats.bands += sink.bands;
        let mut hash = sink.hash;
        if update.full != full || app.last_view().screen != screen || update.is_empty() {
            return Err(ScriptError::WrongRedraw(name));
        }
        if !full {
            for r in &update.regions {
                hash.write(&r.top_left.x.to_le_bytes());
                hash.write(&r.top_left.y.to_le_bytes());
                hash.write_u32(r.size.width);
                hash.write_u32(r.size.height);
            }
        }
        (self.report)(&Step {
            name,
            now_ms: self.now,
            elapsed_ms: self.now.saturating_sub(self.received),
            screen,
            full: update.full,
            regions: update.regions.len(),
            pixels: update.pixels(),
            anim_ms: update.anim_ms,
            checksum: hash.finish(),
        });
        Ok(())
    }
}

fn check_request(
    req: Request,
    kind: RequestKind,
    at: &'static str,
) -> Result<Request, ScriptError> {
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
            RequestKind::Control(_) => false,
        };
    if ok {
        Ok(req)
    } else {
        Err(ScriptError::WrongRequest(at))
    }
}

/// Runs the script: `band` is the band buffer (at least one row), `rx` the receive
/// buffer (at most [`RX_BUF`] bytes are used), `mirror` gets every band drawn, `report`
/// every step.
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
    let mut run = Run {
        renderer: BandRenderer::new(band, PROFILE.size()),
        rx: rx.get_mut(..rx_len).unwrap_or_default(),
        mirror,
        report,
        stats: Stats::default(),
        now: 0,
        received: 0,
        turn: 0,
    };
    let mut app = App::<Rgb565>::new(PROFILE, Session::new(credentials(), Timing::default(), 7));
    let poll = RequestKind::Poll(Endpoint::Player);

    // Boot: no access token yet, so a refresh first; persist what it gives.
    run.next_request(&mut app, RequestKind::Refresh, "refresh")?;
    run.respond(&mut app, 200, TOKEN_BODY);
    if app.take_token_update().is_none() {
        return Err(ScriptError::NoTokenUpdate);
    }

    run.next_request(&mut app, poll, "now_playing")?;
    run.respond(&mut app, 200, SEED_BODY);
    run.draw(&mut app, "now_playing", Screen::NowPlaying, true)?;
    for (name, dt) in [("tick_1s", 1_000), ("tick_2s", 2_000), ("tick_3s", 3_000)] {
        run.idle_until(&mut app, run.received + dt, name)?;
        run.draw(&mut app, name, Screen::NowPlaying, false)?;
    }

    run.next_request(&mut app, poll, "episode")?;
    run.respond(&mut app, 200, EPISODE_BODY);
    run.draw(&mut app, "episode", Screen::Episode, true)?;
    run.idle_until(&mut app, run.received + 1_000, "episode_tick_1s")?;
    run.draw(&mut app, "episode_tick_1s", Screen::Episode, false)?;

    run.next_request(&mut app, poll, "idle")?;
    run.respond(&mut app, 204, b"");
    run.draw(&mut app, "idle", Screen::Idle, true)?;

    Ok(run.stats)
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
