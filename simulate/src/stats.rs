//! Figures: nearest-rank percentiles and the busiest window.

/// The nearest-rank percentile of ascending `sorted`: element `ceil(p * n / 100)`
/// (1-based, at least the first); `None` when empty.
pub fn percentile(sorted: &[u64], p: u32) -> Option<u64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let rank = (p as usize * n).div_ceil(100).clamp(1, n);
    sorted.get(rank - 1).copied()
}

/// The most values of ascending `times` in any window `[t, t + window)`.
pub fn max_in_window(times: &[u64], window: u64) -> usize {
    let mut best = 0;
    let mut start = 0;
    for (end, t) in times.iter().enumerate() {
        while times[start] + window <= *t {
            start += 1;
        }
        best = best.max(end + 1 - start);
    }
    best
}

/// A latency figure: how many, and the median, 95th percentile and maximum in ms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Latencies {
    /// How many were measured.
    pub n: usize,
    /// The median (nearest rank); `None` when `n` is 0.
    pub p50_ms: Option<u64>,
    /// The 95th percentile (nearest rank); `None` when `n` is 0.
    pub p95_ms: Option<u64>,
    /// The largest; `None` when `n` is 0.
    pub max_ms: Option<u64>,
}

impl Latencies {
    /// The figures of `values` (any order).
    pub fn of(values: &[u64]) -> Latencies {
        let mut v = values.to_vec();
        v.sort_unstable();
        Latencies {
            n: v.len(),
            p50_ms: percentile(&v, 50),
            p95_ms: percentile(&v, 95),
            max_ms: v.last().copied(),
        }
    }

    /// `{"n":..,"p50_ms":..,"p95_ms":..,"max_ms":..}` (null values when `n` is 0).
    pub fn to_json(&self) -> String {
        let f = |v: Option<u64>| v.map_or_else(|| "null".to_owned(), |v| v.to_string());
        format!(
            r#"{{"n":{},"p50_ms":{},"p95_ms":{},"max_ms":{}}}"#,
            self.n,
            f(self.p50_ms),
            f(self.p95_ms),
            f(self.max_ms)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows() {
        assert_eq!(max_in_window(&[], 30), 0);
        assert_eq!(
            max_in_window(&[0, 10, 29, 30, 31, 59], 30),
            4,
            "10, 29, 30, 31"
        );
        assert_eq!(max_in_window(&[5, 5, 5], 1), 3);
    }
}
