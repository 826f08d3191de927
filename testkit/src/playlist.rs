//! Items with durations, and a timeline of them played back to back.

use std::rc::Rc;

use crate::XorShift;

/// An item of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Track {
    /// The title (unique within a day).
    pub title: Rc<str>,
    /// The length in ms.
    pub duration_ms: u64,
}

/// Where a [`Timeline`] is at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct At {
    /// The item's index.
    pub index: usize,
    /// When it started.
    pub start_ms: u64,
    /// The position in it.
    pub progress_ms: u64,
    /// Its length.
    pub duration_ms: u64,
}

/// Items played back to back from time 0, never paused; the last one plays on past its
/// end (its position stops at its length).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeline {
    /// `(start, duration)` of each item.
    items: Vec<(u64, u64)>,
}

impl Timeline {
    /// Items of these lengths (at least one, none of them 0).
    pub fn new(durations: impl IntoIterator<Item = u64>) -> Timeline {
        let mut t = 0;
        let items: Vec<(u64, u64)> = durations
            .into_iter()
            .map(|d| {
                assert!(d > 0, "an item of no length");
                let item = (t, d);
                t += d;
                item
            })
            .collect();
        assert!(!items.is_empty(), "a timeline needs an item");
        Timeline { items }
    }

    /// Items of `duration_ms` each, enough to cover `until_ms`.
    pub fn uniform(duration_ms: u64, until_ms: u64) -> Timeline {
        Timeline::new(std::iter::repeat_n(
            duration_ms,
            (until_ms / duration_ms.max(1) + 1) as usize,
        ))
    }

    /// Items of random lengths in `min_ms .. min_ms + spread_ms` from `rng`, enough to
    /// cover `until_ms`.
    pub fn random(rng: &mut XorShift, min_ms: u64, spread_ms: u64, until_ms: u64) -> Timeline {
        let mut durations = Vec::new();
        let mut t = 0;
        while t < until_ms {
            let d = min_ms + rng.next() % spread_ms;
            durations.push(d);
            t += d;
        }
        Timeline::new(durations)
    }

    /// Where the timeline is at `t`.
    pub fn at(&self, t: u64) -> At {
        let index = self.items.iter().rposition(|(s, _)| *s <= t).unwrap_or(0);
        let (start_ms, duration_ms) = self.items[index];
        At {
            index,
            start_ms,
            progress_ms: (t - start_ms).min(duration_ms),
            duration_ms,
        }
    }

    /// The items as [`Track`]s titled `{prefix}{index}`.
    pub fn tracks(&self, prefix: &str) -> Rc<[Track]> {
        self.items
            .iter()
            .enumerate()
            .map(|(i, (_, d))| Track {
                title: Rc::from(format!("{prefix}{i}")),
                duration_ms: *d,
            })
            .collect::<Vec<_>>()
            .into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_to_back() {
        let t = Timeline::new([100, 50]);
        assert_eq!(
            t.at(0),
            At {
                index: 0,
                start_ms: 0,
                progress_ms: 0,
                duration_ms: 100
            }
        );
        assert_eq!((t.at(99).index, t.at(99).progress_ms), (0, 99));
        assert_eq!((t.at(100).index, t.at(100).progress_ms), (1, 0));
        assert_eq!((t.at(1_000).index, t.at(1_000).progress_ms), (1, 50));
        let u = Timeline::uniform(180_000, 3_600_000);
        assert_eq!(u.at(3_600_000).index, 20);
        assert_eq!(u.at(200_000).progress_ms, 20_000);
        assert_eq!(&*u.tracks("T")[3].title, "T3");
        let r = Timeline::random(&mut XorShift::new(7), 10, 5, 1_000);
        assert!(r.items.iter().all(|(_, d)| (10..15).contains(d)));
        assert!(r.items.last().map(|(s, d)| s + d) >= Some(1_000));
    }
}
