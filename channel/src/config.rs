//! Per-channel options.

use crate::outbound::{DEFAULT_HIGH_WATER_MARK, DEFAULT_LOW_WATER_MARK};

/// Options of one channel. `Default` gives Netty's defaults.
///
/// ```
/// use seine_channel::ChannelConfig;
/// let config = ChannelConfig { auto_read: false, ..ChannelConfig::default() };
/// assert_eq!(config.high_water_mark, 64 * 1024);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChannelConfig {
    /// Read whenever input is available (on), or only when a handler asks (off).
    pub auto_read: bool,
    /// Pending outbound bytes under which an unwritable channel becomes writable.
    pub low_water_mark: usize,
    /// Pending outbound bytes over which the channel becomes unwritable.
    pub high_water_mark: usize,
    /// Keep the channel open after the peer shut down its write side (off: close,
    /// after flushing what was written).
    pub allow_half_closure: bool,
    /// Close the channel when an exception reaches the tail of the pipeline.
    pub close_on_exception: bool,
    /// Stop reading while the channel is unwritable (pending outbound bytes above
    /// the high water mark) and resume once they fall below the low one. This is
    /// backpressure from the peer's reading to its writing: a client that pipelines
    /// requests and never reads the responses stops being read once the responses
    /// queue past the high water mark. The check is made between reads, so what
    /// one read batch holds is still answered: up to `max_reads_per_wakeup` reads
    /// of up to the receive buffer's size of pipelined requests (measured: 5,422
    /// queued file responses, each holding an open file, on one connection).
    /// Bounding the work per read batch is the application's (or a flow-control
    /// handler's) job: `http_file_server` answers 16 requests at a time while
    /// writable. On by default; Netty leaves this to the application
    /// (`setAutoRead`).
    pub pause_reads_when_unwritable: bool,
    /// Writes of `Bytes` or `CompositeBuf` shorter than this many bytes are copied
    /// into one buffer as they are queued, so a batch of small messages becomes one
    /// entry and one slice of a `writev` (tiny iovecs cost the kernel and the peer
    /// more than the copy). Larger writes and file regions are never copied. 0 (the
    /// default here, so that [`EmbeddedChannel`](crate::testing::EmbeddedChannel) shows every
    /// write as it was made) turns it off; socket transports turn it on.
    pub merge_writes_below: usize,
}

impl Default for ChannelConfig {
    fn default() -> Self {
        ChannelConfig {
            auto_read: true,
            low_water_mark: DEFAULT_LOW_WATER_MARK,
            high_water_mark: DEFAULT_HIGH_WATER_MARK,
            allow_half_closure: false,
            close_on_exception: true,
            pause_reads_when_unwritable: true,
            merge_writes_below: 0,
        }
    }
}
