//! Tonearm's cross-crate tests: one integration-test binary with modules.

mod board;
mod board_hub;
mod demo;
mod features;
mod golden;
mod hub;
mod login;
mod parse_cli;
mod provision;
mod quota_live;
mod run_live;
mod simulate;
mod window;
