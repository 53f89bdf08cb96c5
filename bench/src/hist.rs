//! An HDR-style log-bucket histogram of `u64` values (nanoseconds here).
//!
//! Values below 256 get their own bucket; above, every power-of-two range is split into
//! 128 linear sub-buckets, so a reported quantile is within 0.4% (half a bucket) of the
//! true value. Recording is a `leading_zeros`, a shift and an increment: no allocation.

const SUB_BITS: u32 = 8; // 2^8 = 256 exact low values, 128 sub-buckets per octave above
const HALF: usize = 1 << (SUB_BITS - 1);
const BUCKETS: usize = (64 - SUB_BITS as usize + 1) * HALF + HALF;

/// Log-bucket histogram; see the module docs for the precision.
#[derive(Clone)]
pub struct Histogram {
    counts: Box<[u64]>,
    total: u64,
    max: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Self::new()
    }
}

#[inline]
fn index(v: u64) -> usize {
    if v < (1 << SUB_BITS) {
        return v as usize;
    }
    let msb = 63 - v.leading_zeros(); // >= SUB_BITS
    let shift = msb - SUB_BITS + 1; // >= 1
    let top = (v >> shift) as usize; // in [HALF, 2*HALF)
    shift as usize * HALF + top
}

/// (lowest value, width) of bucket `i`.
fn bucket_range(i: usize) -> (u64, u64) {
    if i < (1 << SUB_BITS) {
        return (i as u64, 1);
    }
    let shift = (i / HALF - 1) as u32;
    let top = (i % HALF + HALF) as u64;
    (top << shift, 1u64 << shift)
}

impl std::fmt::Debug for Histogram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Histogram({} values, max {})", self.total, self.max)
    }
}

impl Histogram {
    /// An empty histogram (about 58 KiB of counters).
    pub fn new() -> Self {
        Histogram {
            counts: vec![0; BUCKETS].into_boxed_slice(),
            total: 0,
            max: 0,
        }
    }

    /// Records one value.
    #[inline]
    pub fn record(&mut self, v: u64) {
        self.counts[index(v)] += 1;
        self.total += 1;
        if v > self.max {
            self.max = v;
        }
    }

    /// Records `n` copies of a value.
    #[inline]
    pub fn record_n(&mut self, v: u64, n: u64) {
        self.counts[index(v)] += n;
        self.total += n;
        if v > self.max {
            self.max = v;
        }
    }

    /// Number of recorded values.
    pub fn len(&self) -> u64 {
        self.total
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// Largest recorded value (exact).
    pub fn max(&self) -> u64 {
        self.max
    }

    /// Adds another histogram's counts into this one.
    pub fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(other.counts.iter()) {
            *a += *b;
        }
        self.total += other.total;
        self.max = self.max.max(other.max);
    }

    /// The value at quantile `q` (0..=1): the midpoint of the bucket holding the
    /// `ceil(q * len)`-th smallest value, capped at the exact maximum. 0 when empty.
    pub fn quantile(&self, q: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                let (lo, w) = bucket_range(i);
                return (lo + w / 2).min(self.max);
            }
        }
        self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_contiguous_and_cover_u64() {
        let mut prev_end = 0u64;
        for i in 0..index(u64::MAX) + 1 {
            let (lo, w) = bucket_range(i);
            assert_eq!(lo, prev_end, "bucket {i}");
            prev_end = lo.wrapping_add(w);
        }
        assert!(index(u64::MAX) < BUCKETS);
        for v in [
            0,
            1,
            255,
            256,
            257,
            511,
            512,
            1000,
            123_456_789,
            u64::MAX / 3,
        ] {
            let (lo, w) = bucket_range(index(v));
            assert!(lo <= v && v - lo < w, "{v}");
        }
    }

    #[test]
    fn quantiles_are_within_half_a_percent() {
        let mut h = Histogram::new();
        for v in 1..=100_000u64 {
            h.record(v * 10);
        }
        for (q, want) in [(0.5, 500_000.0), (0.99, 990_000.0), (0.999, 999_000.0)] {
            let got = h.quantile(q) as f64;
            assert!((got - want).abs() / want < 0.005, "q{q}: {got} vs {want}");
        }
        assert_eq!(h.quantile(1.0), 1_000_000);
        let mut g = Histogram::new();
        g.record_n(7, 3);
        g.merge(&h);
        assert_eq!(g.len(), 100_003);
        assert_eq!(g.quantile(0.0), 7);
    }
}
