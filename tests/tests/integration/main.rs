//! Tonearm's cross-crate tests: one integration-test binary with modules.

mod board;
mod golden;
mod parse_cli;
mod run_live;
mod window;
mod demo;
