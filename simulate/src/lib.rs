//! Tonearm's day simulator (`tonearm simulate DAY.json`): the real session and app,
//! driven as a shell drives them, on a simulated clock, against a scripted Spotify that
//! lives through the day a file describes (see `docs/days/README.md`).
//!
//! - [`day`]: the day format, validated in one step;
//! - [`config`]: the scheduling keys (defaults, the day's `config`, a config file);
//! - [`spotify`]: the scripted Spotify;
//! - [`sim`]: the run and its figures ([`simulate`], [`Summary`]);
//! - [`stats`]: nearest-rank percentiles and the busiest window.

pub mod config;
pub mod day;
pub mod sim;
pub mod spotify;
pub mod stats;

pub use config::{ConfigError, Sched};
pub use day::{Day, DayError};
pub use sim::{Report, Summary, simulate, simulate_day};
