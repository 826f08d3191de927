//! The fetch policy (sans-IO, like the session): when a cover may be fetched, one at a
//! time, under a ceiling and a backoff, and which failures are final.

extern crate alloc;

use alloc::vec::Vec;

use heapless::String;
use tonearm_core::URL_CAP;
use tonearm_core::session::Failure;

use super::{
    ART_HOLD_MAX_MS, ART_HOLD_MS, ArtError, FAILED_CAP, FETCH_CEILING, FETCH_WINDOW_MS,
    MAX_ATTEMPTS, MAX_IMAGE_BYTES, RETRY_URL_MS,
};
use crate::view::art_key;

/// An image to fetch: the driver's (`Do::Fetch` carries it); the same transport rules as
/// API calls apply (https except loopback, timeouts), the body capped at
/// [`MAX_IMAGE_BYTES`].
pub use crate::driver::ImageRequest;

/// Whether a cover may be fetched now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// Fetch it now.
    Now,
    /// Not before this time.
    At(u64),
    /// Never (it failed for good, or a fetch is in flight).
    Never,
}

#[derive(Debug, Clone, Copy)]
struct Failed {
    key: u32,
    attempts: u8,
    /// `u64::MAX`: never again.
    retry_at_ms: u64,
}

#[derive(Debug, Clone)]
struct Download {
    url: String<URL_CAP>,
    status: u16,
    body: Vec<u8>,
    error: Option<ArtError>,
}

/// The fetch rules (see the [module docs](super)); holds the body of the fetch in flight.
#[derive(Debug, Clone, Default)]
pub struct ArtFetcher {
    in_flight: Option<Download>,
    failed: heapless::Vec<Failed, FAILED_CAP>,
    hold_until_ms: u64,
    hold_ms: u64,
    sent: [u64; FETCH_CEILING],
    sent_count: u64,
}

impl ArtFetcher {
    /// No fetch yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether a fetch is in flight.
    pub fn is_busy(&self) -> bool {
        self.in_flight.is_some()
    }

    /// Fetches started so far.
    pub fn fetches(&self) -> u64 {
        self.sent_count
    }

    /// Whether `url` may be fetched at `now_ms`.
    pub fn want(&self, now_ms: u64, url: &str) -> Want {
        if self.in_flight.is_some() || url.is_empty() || url.len() > URL_CAP {
            return Want::Never;
        }
        let key = art_key(url);
        let mut at = self.hold_until_ms;
        if let Some(f) = self.failed.iter().find(|f| f.key == key) {
            if f.retry_at_ms == u64::MAX {
                return Want::Never;
            }
            at = at.max(f.retry_at_ms);
        }
        if self.sent_count >= FETCH_CEILING as u64 {
            let slot = (self.sent_count % FETCH_CEILING as u64) as usize;
            let oldest = self.sent.get(slot).copied().unwrap_or(0);
            at = at.max(oldest.saturating_add(FETCH_WINDOW_MS));
        }
        if now_ms >= at {
            Want::Now
        } else {
            Want::At(at)
        }
    }

    /// Starts fetching `url` (call only when [`ArtFetcher::want`] says `Now`).
    pub fn start(&mut self, now_ms: u64, url: &str) -> Option<ImageRequest> {
        if self.want(now_ms, url) != Want::Now {
            return None;
        }
        let url: String<URL_CAP> = String::try_from(url).ok()?;
        let slot = (self.sent_count % FETCH_CEILING as u64) as usize;
        if let Some(s) = self.sent.get_mut(slot) {
            *s = now_ms;
        }
        self.sent_count += 1;
        self.in_flight = Some(Download {
            url: url.clone(),
            status: 0,
            body: Vec::new(),
            error: None,
        });
        Some(ImageRequest {
            url,
            max_bytes: MAX_IMAGE_BYTES,
        })
    }

    /// The response's status.
    pub fn on_head(&mut self, status: u16) {
        if let Some(d) = &mut self.in_flight {
            d.status = status;
            if !(200..300).contains(&status) {
                d.error = Some(ArtError::Status(status));
            }
        }
    }

    /// A chunk of the body: kept up to [`MAX_IMAGE_BYTES`], past which the fetch fails.
    pub fn on_body(&mut self, chunk: &[u8]) {
        let Some(d) = &mut self.in_flight else { return };
        if d.error.is_some() {
            return;
        }
        if d.body.len().saturating_add(chunk.len()) > MAX_IMAGE_BYTES {
            d.error = Some(ArtError::TooLarge);
            d.body = Vec::new();
            return;
        }
        if d.body.try_reserve(chunk.len()).is_err() {
            d.error = Some(ArtError::OutOfMemory);
            d.body = Vec::new();
            return;
        }
        d.body.extend_from_slice(chunk);
    }

    /// The response is complete: the URL and the body to decode, or why not (the failure
    /// is already recorded).
    pub fn on_end(&mut self, now_ms: u64) -> Option<(String<URL_CAP>, Vec<u8>)> {
        let d = self.in_flight.take()?;
        match d.error {
            Some(e) => {
                self.record(now_ms, &d.url, e);
                None
            }
            None => Some((d.url, d.body)),
        }
    }

    /// The fetch failed without a complete response.
    pub fn on_failure(&mut self, now_ms: u64, failure: Failure) {
        if let Some(d) = self.in_flight.take() {
            let e = match failure {
                Failure::TooLarge => ArtError::TooLarge,
                f => ArtError::Network(f),
            };
            self.record(now_ms, &d.url, e);
        }
    }

    /// `url` decoded and is shown: it and the backoff are forgotten.
    pub fn succeeded(&mut self, url: &str) {
        let key = art_key(url);
        self.failed.retain(|f| f.key != key);
        self.hold_ms = 0;
        self.hold_until_ms = 0;
    }

    /// `url` failed with `error` at `now_ms`: a global backoff, and that URL never again
    /// or later.
    pub fn record(&mut self, now_ms: u64, url: &str, error: ArtError) {
        self.hold_ms = if self.hold_ms == 0 {
            ART_HOLD_MS
        } else {
            self.hold_ms.saturating_mul(2).min(ART_HOLD_MAX_MS)
        };
        self.hold_until_ms = now_ms.saturating_add(self.hold_ms);
        let key = art_key(url);
        let attempts = self
            .failed
            .iter()
            .find(|f| f.key == key)
            .map_or(0, |f| f.attempts)
            .saturating_add(1);
        let retry_at_ms = if error.is_transient() && attempts < MAX_ATTEMPTS {
            now_ms.saturating_add(RETRY_URL_MS << (attempts - 1).min(8))
        } else {
            u64::MAX
        };
        let rec = Failed {
            key,
            attempts,
            retry_at_ms,
        };
        if let Some(f) = self.failed.iter_mut().find(|f| f.key == key) {
            *f = rec;
        } else {
            if self.failed.is_full() {
                self.failed.remove(0);
            }
            let _ = self.failed.push(rec);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;
    use std::vec;

    #[test]
    fn fetch_rules() {
        let mut f = ArtFetcher::new();
        let a = "https://i.scdn.co/image/a";
        assert_eq!(f.want(0, a), Want::Now);
        let req = f.start(0, a).unwrap();
        assert_eq!((req.url.as_str(), req.max_bytes), (a, MAX_IMAGE_BYTES));
        // One at a time.
        assert_eq!(f.want(0, "https://i.scdn.co/image/b"), Want::Never);
        f.on_head(404);
        f.on_body(b"not found");
        assert!(f.on_end(100).is_none());
        // 404: never again; others after the global hold.
        assert_eq!(f.want(100_000, a), Want::Never);
        assert_eq!(f.want(100, "b"), Want::At(100 + ART_HOLD_MS));
        // A timeout: retried later, at most MAX_ATTEMPTS times.
        let b = "https://i.scdn.co/image/b";
        let mut now = 10_000;
        for attempt in 1..=MAX_ATTEMPTS {
            match f.want(now, b) {
                Want::At(t) => now = t,
                Want::Now => {}
                Want::Never => panic!("attempt {attempt}: never"),
            }
            assert!(f.start(now, b).is_some(), "attempt {attempt}");
            f.on_failure(now, Failure::Timeout);
        }
        assert_eq!(f.want(now + 10_000_000, b), Want::Never);
        // A body over the cap fails, and a success resets the backoff.
        let c = "https://i.scdn.co/image/c";
        now += 1_000_000;
        f.start(now, c).unwrap();
        f.on_head(200);
        f.on_body(&vec![0; MAX_IMAGE_BYTES]);
        f.on_body(&[0]);
        assert!(f.on_end(now).is_none());
        assert_eq!(f.want(now + 10_000_000, c), Want::Never);
        let d = "https://i.scdn.co/image/d";
        now += 1_000_000;
        f.start(now, d).unwrap();
        f.on_head(200);
        f.on_body(b"jpeg");
        let (url, body) = f.on_end(now).unwrap();
        assert_eq!((url.as_str(), body.as_slice()), (d, &b"jpeg"[..]));
        f.succeeded(d);
        assert_eq!(f.want(now, "https://i.scdn.co/image/e"), Want::Now);
    }

    #[test]
    fn no_storm_whatever_happens() {
        // Every fetch fails at once, and the wanted URL changes every 100 ms for an hour:
        // at most FETCH_CEILING in any window.
        let mut f = ArtFetcher::new();
        let mut starts = Vec::new();
        for step in 0..36_000u64 {
            let now = step * 100;
            let url = format!("https://i.scdn.co/image/{}", step % 50);
            if f.start(now, &url).is_some() {
                starts.push(now);
                if step % 2 == 0 {
                    f.on_failure(now, Failure::Connect);
                } else {
                    f.on_head(500);
                    let _ = f.on_end(now);
                }
            }
        }
        for w in starts.windows(FETCH_CEILING + 1) {
            assert!(w[FETCH_CEILING] - w[0] >= FETCH_WINDOW_MS, "{w:?}");
        }
        // The backoff caps at a minute: an hour has at least ~50 and at most ~360 fetches.
        assert!(
            starts.len() <= 360 && starts.len() >= 30,
            "{}",
            starts.len()
        );
    }
}
