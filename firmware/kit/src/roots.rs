//! The root CAs every board trusts for Spotify's hosts, built in from `roots/*.der` (see
//! `roots/README.md`): roots, not leaf fingerprints, so a renewed server certificate
//! still verifies. A board adds up to two anchors of its own through the settings record
//! (`tonearm provision --trust-root FILE`); see [`crate::https::Anchors`].
include!(concat!(env!("OUT_DIR"), "/roots.rs"));
