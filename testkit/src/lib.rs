//! Tonearm's test kit: one scripted Spotify and one test canvas, shared by the core's
//! session tests, the firmware's app tests, the session bench and `tonearm simulate`.
//!
//! The script speaks HTTP only: it reads a small description of a request ([`Call`]:
//! host, method, path) and gives an [`Answer`] (status, `Retry-After`, body bytes). It
//! knows nothing of `tonearm-core`'s types, so the core's own tests can use it without
//! cargo building the core twice (a dev-dependency cycle would make `tonearm_core::X` of
//! the test and of the kit two different types).
//!
//! - [`answer`]: [`Answer`] and the bodies Spotify sends (tokens, errors, the quota 429);
//! - [`body`]: player bodies ([`TrackBody`], the minimal one the tests feed; the full
//!   Web API body is the [`player`]'s);
//! - [`playlist`]: items with durations back to back ([`Timeline`]) and [`Track`];
//! - [`player`]: the scripted player ([`Spotify`]): a list that plays through, controls,
//!   the quota, answering every [`Call`];
//! - [`rng`]: the deterministic xorshift stream of the randomized tests and benches;
//! - `canvas` (feature `canvas`): a frame buffer that records what was drawn;
//! - [`corpus`]: the build scripts' search for the shared API corpus.

#[cfg(feature = "script")]
pub mod answer;
#[cfg(feature = "script")]
pub mod body;
#[cfg(feature = "canvas")]
pub mod canvas;
pub mod corpus;
#[cfg(feature = "script")]
pub mod player;
#[cfg(feature = "script")]
pub mod playlist;
pub mod rng;

#[cfg(feature = "script")]
pub use answer::Answer;
#[cfg(feature = "script")]
pub use body::TrackBody;
#[cfg(feature = "canvas")]
pub use canvas::Canvas;
#[cfg(feature = "script")]
pub use player::{Call, Host, RequestClass, Skip, Spotify, State};
#[cfg(feature = "script")]
pub use playlist::{At, Timeline, Track};
pub use rng::XorShift;
