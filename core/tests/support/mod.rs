//! Test-only helpers shared by the integration tests of `tonearm-core`.
pub mod oracle;
