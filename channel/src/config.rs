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
}

impl Default for ChannelConfig {
    fn default() -> Self {
        ChannelConfig {
            auto_read: true,
            low_water_mark: DEFAULT_LOW_WATER_MARK,
            high_water_mark: DEFAULT_HIGH_WATER_MARK,
            allow_half_closure: false,
            close_on_exception: true,
        }
    }
}
