//! The live session: tokens, the polling schedule, backoff, rate limits and controls, as
//! a state machine that does no I/O ("sans-IO", as in quinn-proto or rustls).
//!
//! A shell drives it:
//!
//! 1. [`Session::poll`] with the monotonic time says what to do: send a [`Request`] now, or
//!    wait until a given time (or until something happens: a button, a response).
//! 2. The shell performs the request and reports the response: [`Session::on_head`] with
//!    the status and `Retry-After`, [`Session::on_body`] with each chunk as it arrives (it
//!    goes straight into the streaming parsers), then [`Session::on_end`]; or
//!    [`Session::on_failure`] for a timeout or a connection error.
//! 3. [`Session::take_token_update`] hands out refreshed tokens to persist at once, and
//!    the state to show is read with [`Session::playback`] and [`Session::status`].
//!
//! Every rule is a pure function of the time it is told and its state: it never reads a
//! clock. `now_ms` MUST be monotonic (it may stand still, never go back); a `u64` of
//! milliseconds does not wrap in any device's life.
//!
//! The code is split by concern: the vocabulary a shell speaks (requests, actions,
//! status), the machine ([`Session`] and its handlers), request encoding, and the
//! schedule (pacing, backoff, the night cap).

mod extras;
mod machine;
mod mirror;
mod request;
mod schedule;
mod vocab;

pub use crate::parse::{ACCESS_TOKEN_CAP, REFRESH_TOKEN_CAP};
pub use machine::Session;
pub use request::parse_retry_after;
pub use vocab::{
    AUTHORIZATION_CAP, Action, AuthMode, BODY_CAP, CEILING_REQUESTS, CEILING_WINDOW_MS,
    CLIENT_ID_CAP, CLIENT_SECRET_CAP, ConfigProblem, Control, ControlCommand, ControlRefused,
    Credentials, Endpoint, Failure, Features, Health, Host, LOGIN_DAYS, LOGIN_WARN_DAYS, Method,
    NIGHT_POLL_MS, Notice, PLAYER_QUERY, PREMIUM_PROBE_MS, Playback, QUOTA_RETRY_AFTER_MS, Request,
    RequestKind, Status, Timing, TokenUpdate, VOLUME_COALESCE_MS, VOLUME_SHOWN_MS, VOLUME_STEP,
    WAKE_MS,
};
