//! Test-only helpers shared by the integration tests of `tonearm-core`.
pub use tonearm_oracle as oracle;
