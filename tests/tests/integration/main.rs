//! Tonearm's cross-crate tests: one integration-test binary with modules.

mod golden;
mod parse_cli;
mod window;
