//! The root CAs the board trusts, built in from `roots/*.der` (see `roots/README.md`).
//! Roots, not leaf fingerprints: a renewed server certificate still verifies.
include!(concat!(env!("OUT_DIR"), "/roots.rs"));
