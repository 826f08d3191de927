//! The seams a board fills: small traits, each with its invariants, taken by the kit as
//! parameters (never through globals). What a board already has a standard trait for is
//! taken through that trait:
//!
//! | seam | trait |
//! | --- | --- |
//! | the network stack | [`Network`] (an `embassy_net::Stack` has one: `tonearm_kit::embassy::EmbassyNet`, feature `embassy-net`) |
//! | the settings' flash | `embedded_storage::nor_flash::NorFlash` (through `tonearm_settings::Store`) |
//! | the display | `tonearm_firmware::BandSink` and [`Backlight`] |
//! | the buttons | [`Buttons`] ([`crate::buttons::PinButtons`] over `embedded-hal` pins) |
//! | the RNG | `rand_core::RngCore + rand_core::CryptoRng` (0.6, embedded-tls's) |
//! | the wall clock | [`WallClock`] (none: SNTP, [`NoWallClock`]) |
//! | the watchdog | [`Watchdog`] |
//! | the log and the event lines | [`Log`] |

use core::fmt;
use core::net::IpAddr;

/// A network stack: name resolution, TCP connections and single UDP exchanges.
///
/// Invariants an implementation MUST keep:
///
/// - every method returns (`Ok` or `Err`) once the network cannot make progress: a
///   lookup or a connection attempt times out on its own (the kit also bounds each
///   request as a whole, but a method that never returns would stall the loop until the
///   watchdog fires);
/// - [`Network::connect`] hands out a connection that owns its buffers for as long as it
///   lives; at most one lives at a time (the kit never asks for a second one while the
///   first exists), so an implementation may keep one set of buffers;
/// - a dropped connection is closed (or aborted) without blocking;
/// - [`Network::exchange_udp`] sends `request` once and returns the first datagram that
///   comes back from `addr:port`, or an error; the kit bounds it with its own timeout
///   (the future is dropped when it fires, which MUST be safe).
#[allow(
    async_fn_in_trait,
    reason = "single-threaded executors: no Send bound wanted"
)]
pub trait Network {
    /// What failed (logged with `Debug`; never carries a secret).
    type Error: fmt::Debug;
    /// A TCP connection.
    type Tcp<'a>: embedded_io_async::Read + embedded_io_async::Write
    where
        Self: 'a;

    /// Whether the link is up and the stack has an address (DHCP done).
    fn is_up(&self) -> bool;

    /// The first IPv4 (or IPv6) address of `host`.
    async fn resolve(&mut self, host: &str) -> Result<IpAddr, Self::Error>;

    /// A TCP connection to `addr:port`.
    async fn connect(&mut self, addr: IpAddr, port: u16) -> Result<Self::Tcp<'_>, Self::Error>;

    /// Sends one datagram to `addr:port` and receives the first answer into `reply`;
    /// returns its length.
    async fn exchange_udp(
        &mut self,
        addr: IpAddr,
        port: u16,
        request: &[u8],
        reply: &mut [u8],
    ) -> Result<usize, Self::Error>;
}

/// The display's backlight.
///
/// Implementations MUST NOT block for long (a PWM duty change); turning it on again
/// after off MUST restore the same brightness.
pub trait Backlight {
    /// On (`true`) or off.
    fn set_backlight(&mut self, on: bool);
}

/// The buttons, sampled by the loop while it waits (every
/// [`Buttons::sample_period_ms`]).
///
/// Invariants: `now_ms` is monotonic; [`Buttons::sample`] MUST NOT block and reports a
/// press once (debouncing is the implementation's: [`crate::buttons::PinButtons`] does it
/// with [`crate::debounce`]).
pub trait Buttons {
    /// The control a completed press asks for, if one completed by `now_ms`.
    fn sample(&mut self, now_ms: u64) -> Option<tonearm_core::session::Control>;

    /// How often the loop samples while it waits (default every
    /// [`crate::run::BUTTON_SAMPLE_MS`]); `None`: never (a board without buttons: the loop
    /// then sleeps until the app's next deadline, and [`Buttons::sample`] is not called).
    fn sample_period_ms(&self) -> Option<u64> {
        Some(crate::run::BUTTON_SAMPLE_MS)
    }
}

/// A board without buttons.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoButtons;

impl Buttons for NoButtons {
    fn sample(&mut self, _now_ms: u64) -> Option<tonearm_core::session::Control> {
        None
    }
    fn sample_period_ms(&self) -> Option<u64> {
        None
    }
}

/// A clock of the time of day that the board has without the network (a battery-backed
/// RTC). Boards without one use [`NoWallClock`]: the kit asks SNTP.
///
/// Invariants: the answer MUST be UTC Unix time, and `None` rather than a guess (TLS
/// checks certificate dates against it).
pub trait WallClock {
    /// Unix time in seconds, if known.
    fn unix_s(&mut self) -> Option<u64>;
}

/// No clock of the board's own: the time comes from SNTP.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoWallClock;

impl WallClock for NoWallClock {
    fn unix_s(&mut self) -> Option<u64> {
        None
    }
}

/// The watchdog: the loop feeds it at least every few seconds (each turn, and while it
/// waits for the network), so a board whose loop hangs is reset.
///
/// Implementations MUST NOT block. A board without one uses `()`.
pub trait Watchdog {
    /// Restarts the countdown.
    fn feed(&mut self);
}

impl Watchdog for () {
    fn feed(&mut self) {}
}

/// Where the kit's log lines and the app's event lines go (a UART, RTT, a USB console).
///
/// The kit never passes a secret (tokens, the Wi-Fi password) to either method.
pub trait Log {
    /// One line of the log, without its line ending.
    fn line(&mut self, args: fmt::Arguments<'_>);

    /// The app drew a frame (or would have, while dark) at `now_ms`: a board that prints
    /// the event lines of `docs/events.md` prints `app.event_line(now_ms)` here. Default:
    /// nothing.
    fn drawn(&mut self, now_ms: u64, event: &tonearm_firmware::events::EventLine) {
        let _ = (now_ms, event);
    }
}

/// Logs to nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoLog;

impl Log for NoLog {
    fn line(&mut self, _args: fmt::Arguments<'_>) {}
}
