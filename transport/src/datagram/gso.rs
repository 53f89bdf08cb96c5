//! UDP GSO planning: which queued datagrams can leave as one `UDP_SEGMENT`
//! message (the kernel cuts it into datagrams of the segment size).

/// Most segments in one GSO message (the kernel's `UDP_MAX_SEGMENTS` was 64
/// before Linux 6.9).
pub(crate) const MAX_SEGMENTS: usize = 64;
/// Most payload bytes in one GSO message (under the 65,507 an IPv4 datagram can
/// carry, with room to spare).
pub(crate) const MAX_BYTES: usize = 65_000;

/// A run of datagrams being gathered into one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Run {
    /// The first datagram's length: the segment size if the run grows.
    pub(crate) segment: usize,
    /// The last datagram's length (a shorter one ends the run).
    pub(crate) last: usize,
    pub(crate) count: usize,
    pub(crate) bytes: usize,
}

impl Run {
    pub(crate) fn new(len: usize) -> Self {
        Run {
            segment: len,
            last: len,
            count: 1,
            bytes: len,
        }
    }

    /// Whether a datagram of `len` bytes to the same peer can join: the run is
    /// not empty-sized, every datagram so far had the segment size, this one is
    /// no longer, and the run stays within the kernel's limits.
    pub(crate) fn can_join(&self, len: usize) -> bool {
        self.segment > 0
            && len > 0
            && self.last == self.segment
            && len <= self.segment
            && self.segment <= u16::MAX as usize
            && self.count < MAX_SEGMENTS
            && self.bytes + len <= MAX_BYTES
    }

    pub(crate) fn join(&mut self, len: usize) {
        self.last = len;
        self.count += 1;
        self.bytes += len;
    }

    /// The `UDP_SEGMENT` value for this run, if it holds more than one datagram.
    pub(crate) fn segment_option(&self) -> Option<u16> {
        (self.count > 1).then_some(self.segment as u16)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(lens: &[usize]) -> Vec<usize> {
        let mut runs: Vec<Run> = Vec::new();
        for &l in lens {
            match runs.last_mut() {
                Some(r) if r.can_join(l) => r.join(l),
                _ => runs.push(Run::new(l)),
            }
        }
        runs.iter().map(|r| r.count).collect()
    }

    #[test]
    fn equal_sizes_join_and_a_shorter_one_ends_the_run() {
        assert_eq!(plan(&[64, 64, 64, 10, 64, 64]), [4, 2]);
    }

    #[test]
    fn a_longer_datagram_starts_a_new_run() {
        assert_eq!(plan(&[64, 100, 100]), [1, 2]);
    }

    #[test]
    fn empty_datagrams_never_join() {
        assert_eq!(plan(&[0, 0, 5, 0]), [1, 1, 1, 1]);
    }

    #[test]
    fn runs_stop_at_the_kernels_limits() {
        assert_eq!(plan(&[10; 130]), [64, 64, 2]);
        assert_eq!(plan(&[30_000; 3]), [2, 1]);
    }

    #[test]
    fn a_single_datagram_needs_no_segment_option() {
        let r = Run::new(64);
        assert_eq!(r.segment_option(), None);
        let mut r2 = r;
        r2.join(64);
        assert_eq!(r2.segment_option(), Some(64));
    }
}
