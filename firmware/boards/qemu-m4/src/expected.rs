//! The checksums the board must draw, one per step of `script.rs`. The board checks its
//! run against this table and the host test (`tests/tests/integration/board.rs`) checks
//! the desktop's drawing against it, so the two agree. Regenerate only with
//! `TONEARM_BLESS=1 cargo test -p tonearm-tests --test integration board`, after looking
//! at why a screen changed.

/// (step, checksum).
pub const EXPECTED: [(&str, u32); 7] = [
    ("now_playing", 0xe35e1ac3),
    ("tick_1s", 0xea509598),
    ("tick_2s", 0x0845f382),
    ("tick_3s", 0xeabc84a7),
    ("episode", 0xaabea869),
    ("episode_tick_1s", 0xfd572a78),
    ("idle", 0x4f5402b2),
];
