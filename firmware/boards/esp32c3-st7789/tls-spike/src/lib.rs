//! See tests/spike.rs.
