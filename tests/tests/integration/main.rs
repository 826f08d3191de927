//! Tonearm's cross-crate tests: one integration-test binary with modules.

mod parse_cli;
mod golden;
