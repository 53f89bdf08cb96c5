//! [`Progress`]: a thread-safe observer of a `FileRegion`'s transfer.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// How many bytes of a [`FileRegion`](crate::FileRegion) have been transferred,
/// readable from any thread.
///
/// Obtained from [`FileRegion::with_progress`](crate::FileRegion::with_progress);
/// [`FileRegion::advance`](crate::FileRegion::advance) publishes to it. Cloning is a
/// reference count increment; reading is one atomic load. Regions that never ask
/// for one pay nothing.
///
/// # Examples
///
/// ```
/// # let file = tempfile::tempfile().unwrap(); file.set_len(10).unwrap();
/// let (mut region, progress) = seine_buffer::FileRegion::from_file(file).unwrap().with_progress();
/// region.advance(10);
/// assert_eq!(progress.transferred(), 10);
/// assert!(progress.is_done());
/// ```
#[derive(Clone, Debug)]
pub struct Progress {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    transferred: AtomicU64,
    count: u64,
}

impl Progress {
    pub(crate) fn new(transferred: u64, count: u64) -> Self {
        Progress {
            inner: Arc::new(Inner {
                transferred: AtomicU64::new(transferred),
                count,
            }),
        }
    }

    pub(crate) fn set(&self, transferred: u64) {
        self.inner.transferred.store(transferred, Ordering::Release);
    }

    /// Bytes transferred so far. O(1), one atomic load.
    ///
    /// # Examples
    ///
    /// ```
    /// # let file = tempfile::tempfile().unwrap(); file.set_len(10).unwrap();
    /// let (_region, progress) = seine_buffer::FileRegion::from_file(file).unwrap().with_progress();
    /// assert_eq!(progress.transferred(), 0);
    /// ```
    pub fn transferred(&self) -> u64 {
        self.inner.transferred.load(Ordering::Acquire)
    }

    /// Total bytes of the region. O(1).
    ///
    /// # Examples
    ///
    /// ```
    /// # let file = tempfile::tempfile().unwrap(); file.set_len(10).unwrap();
    /// let (_region, progress) = seine_buffer::FileRegion::from_file(file).unwrap().with_progress();
    /// assert_eq!(progress.count(), 10);
    /// ```
    pub fn count(&self) -> u64 {
        self.inner.count
    }

    /// Whether the whole region has been transferred. O(1), one atomic load.
    ///
    /// # Examples
    ///
    /// ```
    /// # let file = tempfile::tempfile().unwrap(); file.set_len(10).unwrap();
    /// let (_region, progress) = seine_buffer::FileRegion::from_file(file).unwrap().with_progress();
    /// assert!(!progress.is_done());
    /// ```
    pub fn is_done(&self) -> bool {
        self.transferred() == self.inner.count
    }
}
