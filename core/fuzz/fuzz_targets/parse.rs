//! Any bytes, in any chunking: the playback parser never panics and agrees with the
//! `serde_json` oracle (the same one the tests use).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tonearm_core::NowPlayingParser;

use tonearm_oracle as oracle;

fuzz_target!(|data: &[u8]| {
    let Some((&first, body)) = data.split_first() else {
        return;
    };
    // The first byte picks the chunk size: 1..=256 bytes.
    let chunk = usize::from(first) + 1;
    let mut parser = NowPlayingParser::new();
    let mut fed = Ok(());
    for c in body.chunks(chunk) {
        fed = parser.feed(c);
        if fed.is_err() {
            break;
        }
    }
    let got = fed.and_then(|()| parser.finish());
    if oracle::serde_rejects_valid_number(body) {
        return;
    }
    let want = oracle::oracle(body);
    assert_eq!(got.as_ref().ok(), want.as_ref(), "chunk {chunk}: {got:?}");
    if let Err(e) = got {
        assert!(
            e.offset <= body.len(),
            "offset {} past the end {}",
            e.offset,
            body.len()
        );
    }
});
