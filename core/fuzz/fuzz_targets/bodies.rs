//! Token and error bodies: any bytes, any chunking, no panic; a token is never cut.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tonearm_core::{ErrorParser, TokenParser};

fuzz_target!(|data: &[u8]| {
    let Some((&first, body)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(first % 64) + 1;
    let mut tokens = TokenParser::new();
    let mut errors = ErrorParser::new();
    let mut token_ok = true;
    let mut error_ok = true;
    for c in body.chunks(chunk) {
        token_ok &= tokens.feed(c).is_ok();
        error_ok &= errors.feed(c).is_ok();
    }
    if let Ok(t) = tokens.finish() {
        assert!(token_ok);
        // Whatever was kept is exactly what the body said (serde_json refuses a few valid
        // bodies, such as numbers beyond f64: nothing to compare with then).
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) {
            assert_eq!(v["access_token"].as_str(), Some(t.access_token.expose()));
        }
    }
    let _ = errors.finish();
    let _ = error_ok;
});
