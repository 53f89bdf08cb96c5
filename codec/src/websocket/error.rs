//! [`WebSocketError`]: why a WebSocket connection failed, and the close code that
//! says so.

use std::fmt;

use super::close_code::CloseCode;

/// Why the WebSocket codec or a handshake refused the peer's input. Each protocol
/// variant maps to the close code the codec sends before closing
/// ([`close_code`](WebSocketError::close_code)): 1002 for a protocol violation,
/// 1007 for invalid text, 1009 for a frame or message over the limit.
///
/// # Examples
///
/// ```
/// use seine_codec::websocket::{CloseCode, WebSocketError};
///
/// let e = WebSocketError::MessageTooLong { length: 2 << 20, max: 1 << 20 };
/// assert_eq!(e.close_code(), Some(CloseCode::MESSAGE_TOO_BIG));
/// assert!(e.to_string().contains("max_message_size"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WebSocketError {
    /// A client sent a frame without a masking key (servers require one). 1002.
    UnmaskedClientFrame,
    /// A server sent a masked frame (clients must refuse it). 1002.
    MaskedServerFrame,
    /// A control frame (close, ping, pong) with more than 125 payload bytes. 1002.
    ControlFrameTooLong {
        /// The announced payload length.
        length: u64,
    },
    /// A control frame without the FIN bit (control frames cannot be fragmented). 1002.
    FragmentedControlFrame,
    /// A reserved bit is set that no negotiated extension defines. 1002.
    ReservedBits {
        /// The three RSV bits, as the high bits of the first byte (`0x70` mask).
        bits: u8,
    },
    /// An opcode RFC 6455 reserves. 1002.
    UnknownOpcode {
        /// The opcode.
        opcode: u8,
    },
    /// A 64-bit payload length with its most significant bit set (a length of
    /// 2^63 or more, which RFC 6455 forbids). 1002.
    InvalidLength {
        /// The announced length.
        length: u64,
    },
    /// A continuation frame with no fragmented message to continue. 1002.
    UnexpectedContinuation,
    /// A new text or binary frame while a fragmented message is unfinished. 1002.
    ExpectedContinuation,
    /// A close frame with a one-byte payload, a code that may not be sent, or a
    /// reason that is not UTF-8. 1002.
    InvalidClosePayload {
        /// What is wrong.
        reason: String,
    },
    /// A text message (or a close reason) that is not UTF-8, found as soon as
    /// the first invalid byte arrives, even across fragments. 1007.
    InvalidUtf8,
    /// A frame longer than the configured maximum; refused from its header,
    /// before its payload is buffered. 1009.
    FrameTooLong {
        /// The announced payload length.
        length: u64,
        /// The configured `max_frame_size`.
        max: usize,
    },
    /// A message (the sum of its fragments, or its inflated size) longer than the
    /// configured maximum. 1009.
    MessageTooLong {
        /// The length reached.
        length: u64,
        /// The configured `max_message_size`.
        max: usize,
    },
    /// A compressed message that does not inflate. 1007.
    BadCompression {
        /// What the inflater said.
        reason: String,
    },
    /// The handshake failed (a bad request or response, a wrong accept key).
    Handshake {
        /// What is wrong.
        reason: String,
    },
}

impl WebSocketError {
    /// The close code sent to the peer for this error; `None` for a failed
    /// handshake (no WebSocket connection exists yet).
    pub fn close_code(&self) -> Option<CloseCode> {
        use WebSocketError::*;
        Some(match self {
            InvalidUtf8 | BadCompression { .. } => CloseCode::INVALID_PAYLOAD,
            FrameTooLong { .. } | MessageTooLong { .. } => CloseCode::MESSAGE_TOO_BIG,
            Handshake { .. } => return None,
            _ => CloseCode::PROTOCOL_ERROR,
        })
    }

    pub(crate) fn handshake(reason: impl Into<String>) -> Self {
        WebSocketError::Handshake {
            reason: reason.into(),
        }
    }
}

impl fmt::Display for WebSocketError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use WebSocketError::*;
        match self {
            UnmaskedClientFrame => f.write_str("a client frame is not masked"),
            MaskedServerFrame => f.write_str("a server frame is masked"),
            ControlFrameTooLong { length } => {
                write!(f, "a control frame of {length} bytes (at most 125)")
            }
            FragmentedControlFrame => f.write_str("a control frame is fragmented"),
            ReservedBits { bits } => write!(
                f,
                "reserved bits {bits:#04x} are set and no extension defines them"
            ),
            UnknownOpcode { opcode } => write!(f, "reserved opcode {opcode:#x}"),
            InvalidLength { length } => {
                write!(
                    f,
                    "payload length {length} has its most significant bit set"
                )
            }
            UnexpectedContinuation => f.write_str("a continuation frame with nothing to continue"),
            ExpectedContinuation => {
                f.write_str("a new data frame while a fragmented message is unfinished")
            }
            InvalidClosePayload { reason } => write!(f, "invalid close frame: {reason}"),
            InvalidUtf8 => f.write_str("a text message is not valid UTF-8"),
            FrameTooLong { length, max } => write!(
                f,
                "a frame of {length} bytes exceeds max_frame_size ({max}); raise it if this is expected"
            ),
            MessageTooLong { length, max } => write!(
                f,
                "a message of {length} bytes or more exceeds max_message_size ({max}); raise it if this is expected"
            ),
            BadCompression { reason } => {
                write!(f, "a compressed message does not inflate: {reason}")
            }
            Handshake { reason } => write!(f, "WebSocket handshake failed: {reason}"),
        }
    }
}

impl std::error::Error for WebSocketError {}
