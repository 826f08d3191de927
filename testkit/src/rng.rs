//! A deterministic xorshift64 stream (Marsaglia's 13/7/17), for randomized tests, track
//! lengths and faults: the same seed gives the same run everywhere.

/// The stream; the seed must not be 0 (it would stay 0).
#[derive(Debug, Clone)]
pub struct XorShift(u64);

impl XorShift {
    /// A stream from `seed` (non-zero).
    pub fn new(seed: u64) -> Self {
        XorShift(seed)
    }

    /// The next value.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::XorShift;

    #[test]
    fn known_values_and_no_short_cycle() {
        let mut r = XorShift::new(1);
        // 1 -> 1 ^ 1<<13 = 0x2001; ^ >>7 = 0x2001 ^ 0x40 = 0x2041; ^ <<17.
        assert_eq!(r.next(), 0x2041 ^ (0x2041 << 17));
        let mut seen = std::collections::HashSet::new();
        let mut r = XorShift::new(0x5eed);
        assert!((0..10_000).all(|_| seen.insert(r.next())));
    }
}
