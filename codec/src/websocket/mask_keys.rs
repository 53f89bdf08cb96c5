//! Masking keys for a client: unpredictable, from the operating system's random
//! source, fetched 64 keys at a time.

/// A pool of random masking keys.
#[derive(Debug)]
pub(crate) struct MaskKeys {
    pool: [u8; 256],
    next: usize,
}

impl MaskKeys {
    pub(crate) fn new() -> Self {
        MaskKeys {
            pool: [0; 256],
            next: 256,
        }
    }

    /// The next key (one `getrandom` call per 64 keys).
    pub(crate) fn next_key(&mut self) -> [u8; 4] {
        if self.next == self.pool.len() {
            if let Err(e) = getrandom::fill(&mut self.pool) {
                // The kernel's random source does not fail on Linux once booted;
                // if it did, keep going with the previous pool's bytes mixed.
                tracing::warn!(error = %e, "getrandom failed for WebSocket masking keys");
                for (i, b) in self.pool.iter_mut().enumerate() {
                    *b = b.wrapping_mul(31).wrapping_add(i as u8);
                }
            }
            self.next = 0;
        }
        let k = &self.pool[self.next..self.next + 4];
        self.next += 4;
        [k[0], k[1], k[2], k[3]]
    }
}
