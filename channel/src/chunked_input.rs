//! [`ChunkedInput`]: a source of chunks that a writer pulls one at a time, as the
//! channel can take them.
//!
//! The trait lives here, below the crates that use it: seine-handler's
//! `ChunkedWriteHandler` (which also has the implementations: `ChunkedFile`,
//! `ChunkedStream`, `ChunkedGenerator`, re-exporting this trait as
//! `seine_handler::ChunkedInput`) and seine-codec's HTTP response bodies.

use seine_buffer::Bytes;

use crate::Error;

/// A source of chunks, read one at a time on the channel's loop.
///
/// ```
/// use seine_buffer::Bytes;
/// use seine_channel::{ChunkedInput, Error};
///
/// /// Three chunks of "ab".
/// struct Three(u64);
/// impl ChunkedInput for Three {
///     fn next_chunk(&mut self) -> Result<Option<Bytes>, Error> {
///         if self.is_end() {
///             return Ok(None);
///         }
///         self.0 += 2;
///         Ok(Some(Bytes::from_static(b"ab")))
///     }
///     fn is_end(&self) -> bool {
///         self.0 == 6
///     }
///     fn length(&self) -> Option<u64> {
///         Some(6)
///     }
///     fn progress(&self) -> u64 {
///         self.0
///     }
/// }
///
/// let mut input = Three(0);
/// let mut n = 0;
/// while let Some(chunk) = input.next_chunk().unwrap() {
///     n += chunk.len();
/// }
/// assert_eq!(n, 6);
/// ```
pub trait ChunkedInput: 'static {
    /// The next chunk, or `None` at the end. Called only while the channel is
    /// writable, so the memory held is bounded by the water marks plus one chunk.
    ///
    /// # Errors
    /// Whatever reading the source failed with; the write then fails with it.
    fn next_chunk(&mut self) -> Result<Option<Bytes>, Error>;

    /// Whether no chunk is left (after the last one was returned, or before a
    /// source that knows its length is read at all).
    fn is_end(&self) -> bool;

    /// Bytes in all, if known.
    fn length(&self) -> Option<u64> {
        None
    }

    /// Bytes produced so far.
    fn progress(&self) -> u64;
}
