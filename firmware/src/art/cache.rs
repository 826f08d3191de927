//! The cover cache: the last [`CACHE_COVERS`] covers by URL, least recently used out.

use heapless::String;
use tonearm_core::URL_CAP;

use super::{CACHE_COVERS, Cover};
use crate::color::Palette;
use crate::view::art_key;

#[derive(Debug, Clone)]
struct Entry<C> {
    key: u32,
    url: String<URL_CAP>,
    cover: Cover<C>,
    used: u32,
}

/// The last [`CACHE_COVERS`] covers by URL; the least recently used goes first.
#[derive(Debug, Clone)]
pub struct CoverCache<C> {
    entries: heapless::Vec<Entry<C>, CACHE_COVERS>,
    tick: u32,
}

impl<C> Default for CoverCache<C> {
    fn default() -> Self {
        CoverCache {
            entries: heapless::Vec::new(),
            tick: 0,
        }
    }
}

impl<C: Palette> CoverCache<C> {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// Covers held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Bytes of pixels held (at most [`CACHE_COVERS`] art boxes).
    pub fn bytes(&self) -> usize {
        self.entries.iter().map(|e| e.cover.bytes()).sum()
    }

    fn find(&self, url: &str) -> Option<usize> {
        let key = art_key(url);
        self.entries
            .iter()
            .position(|e| e.key == key && e.url.as_str() == url)
    }

    /// The cover of `url`, marked as just used.
    pub fn get(&mut self, url: &str) -> Option<&Cover<C>> {
        let i = self.find(url)?;
        self.tick = self.tick.wrapping_add(1);
        let tick = self.tick;
        let e = self.entries.get_mut(i)?;
        e.used = tick;
        Some(&e.cover)
    }

    /// The cover of `url`, without marking it.
    pub fn peek(&self, url: &str) -> Option<&Cover<C>> {
        self.entries.get(self.find(url)?).map(|e| &e.cover)
    }

    /// Keeps `cover` for `url` (a URL longer than [`URL_CAP`] is not kept), dropping the
    /// least recently used when full.
    pub fn insert(&mut self, url: &str, cover: Cover<C>) {
        let Ok(u) = String::try_from(url) else {
            return;
        };
        self.tick = self.tick.wrapping_add(1);
        let entry = Entry {
            key: art_key(url),
            url: u,
            cover,
            used: self.tick,
        };
        if let Some(i) = self.find(url) {
            if let Some(e) = self.entries.get_mut(i) {
                *e = entry;
            }
            return;
        }
        if self.entries.is_full()
            && let Some(oldest) = self
                .entries
                .iter()
                .enumerate()
                .max_by_key(|(_, e)| self.tick.wrapping_sub(e.used))
                .map(|(i, _)| i)
        {
            self.entries.swap_remove(oldest);
        }
        let _ = self.entries.push(entry);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use embedded_graphics::pixelcolor::Rgb565;
    use embedded_graphics::prelude::*;
    use std::format;

    fn cover(v: u8) -> Cover<Rgb565> {
        Cover::from_rgb(&[v; 4 * 4 * 3], Size::new(4, 4)).unwrap()
    }

    #[test]
    fn cache_is_bounded_and_least_recently_used_goes() {
        let mut cache = CoverCache::new();
        for i in 0..10 {
            cache.insert(&format!("https://i.scdn.co/image/{i}"), cover(i as u8));
            assert!(cache.len() <= CACHE_COVERS);
        }
        assert_eq!(cache.len(), CACHE_COVERS);
        assert_eq!(cache.bytes(), CACHE_COVERS * 16 * 2);
        assert!(cache.peek("https://i.scdn.co/image/5").is_none());
        assert!(cache.peek("https://i.scdn.co/image/6").is_some());
        // Using 6 keeps it; the next insert drops 7, the oldest.
        assert!(cache.get("https://i.scdn.co/image/6").is_some());
        cache.insert("https://i.scdn.co/image/x", cover(1));
        assert!(cache.peek("https://i.scdn.co/image/6").is_some());
        assert!(cache.peek("https://i.scdn.co/image/7").is_none());
        // The same URL again replaces, does not grow.
        cache.insert("https://i.scdn.co/image/x", cover(2));
        assert_eq!(cache.len(), CACHE_COVERS);
        // A URL too long to keep is not kept.
        cache.insert(&"x".repeat(URL_CAP + 1), cover(3));
        assert_eq!(cache.len(), CACHE_COVERS);
    }
}
