//! [`WebSocketConfig`]: limits and options of the WebSocket codec, and [`Role`].

use super::deflate::DeflateConfig;

/// Default maximum payload of one frame: 1 MiB.
pub const DEFAULT_MAX_FRAME_SIZE: usize = 1 << 20;
/// Default maximum size of one message (its fragments joined, inflated): 1 MiB.
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 1 << 20;

/// Default wait for the peer's close frame after ours: 5 s.
pub const DEFAULT_CLOSE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Which end of the connection the codec is: it decides the masking rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Requires masked frames from the client, sends unmasked ones.
    Server,
    /// Masks every frame it sends, refuses masked frames from the server.
    Client,
}

/// The WebSocket codec's limits and options. Defaults: 1 MiB per frame and per
/// message, pings answered automatically, permessage-deflate off (offers are
/// declined), no subprotocol, 5 s to wait for the peer's close frame.
///
/// ```
/// use seine_codec::websocket::WebSocketConfig;
///
/// let config = WebSocketConfig::default()
///     .max_frame_size(64 << 10)
///     .max_message_size(4 << 20)
///     .auto_pong(false);
/// assert_eq!(config.get_max_frame_size(), 64 << 10);
/// assert!(!config.get_auto_pong());
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct WebSocketConfig {
    pub(crate) max_frame_size: usize,
    pub(crate) max_message_size: usize,
    pub(crate) auto_pong: bool,
    pub(crate) deflate: Option<DeflateConfig>,
    pub(crate) subprotocols: Vec<String>,
    pub(crate) close_timeout: std::time::Duration,
}

impl Default for WebSocketConfig {
    fn default() -> Self {
        WebSocketConfig {
            max_frame_size: DEFAULT_MAX_FRAME_SIZE,
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            auto_pong: true,
            deflate: None,
            subprotocols: Vec::new(),
            close_timeout: DEFAULT_CLOSE_TIMEOUT,
        }
    }
}

impl WebSocketConfig {
    /// The largest frame payload accepted; a longer frame is refused from its
    /// header with close code 1009, before any of its payload is buffered.
    pub fn max_frame_size(mut self, max: usize) -> Self {
        self.max_frame_size = max;
        self
    }

    /// The largest message accepted (fragments joined, after inflation): 1009 beyond.
    pub fn max_message_size(mut self, max: usize) -> Self {
        self.max_message_size = max;
        self
    }

    /// Whether a ping is answered with a pong by the codec (on by default). The
    /// ping is fired to the next handler either way.
    pub fn auto_pong(mut self, on: bool) -> Self {
        self.auto_pong = on;
        self
    }

    /// Offers (client) or accepts (server) permessage-deflate with these
    /// parameters; off by default.
    pub fn deflate(mut self, deflate: DeflateConfig) -> Self {
        self.deflate = Some(deflate);
        self
    }

    /// The subprotocols offered (client) or supported (server, in order of
    /// preference: the first the client also offers is chosen).
    pub fn subprotocols<I, S>(mut self, protocols: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.subprotocols = protocols.into_iter().map(Into::into).collect();
        self
    }

    /// How long the codec waits for the peer's close frame after sending its
    /// own before closing the connection anyway (Netty's force-close timeout).
    pub fn close_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.close_timeout = timeout;
        self
    }

    /// The maximum frame payload.
    pub fn get_max_frame_size(&self) -> usize {
        self.max_frame_size
    }

    /// The maximum message size.
    pub fn get_max_message_size(&self) -> usize {
        self.max_message_size
    }

    /// Whether pings are answered automatically.
    pub fn get_auto_pong(&self) -> bool {
        self.auto_pong
    }

    /// The permessage-deflate parameters, if enabled.
    pub fn get_deflate(&self) -> Option<&DeflateConfig> {
        self.deflate.as_ref()
    }
}
