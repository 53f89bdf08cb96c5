//! The errors of seine-codec.

use std::fmt;

/// What a codec reports. Converts into [`seine_channel::Error`] and reaches handlers
/// through `exception_caught`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CodecError {
    /// A frame is longer than the configured maximum; its bytes are discarded.
    TooLongFrame {
        /// The frame's length (as announced or as seen so far).
        length: u64,
        /// The configured maximum.
        max: usize,
    },
    /// The input cannot be framed (a negative or overflowing length, a length
    /// smaller than the header, a malformed message).
    CorruptFrame {
        /// What is wrong, with the numbers.
        reason: String,
    },
    /// Bytes that should be UTF-8 are not.
    InvalidUtf8 {
        /// Where the first invalid byte is.
        valid_up_to: usize,
    },
    /// A decoder returned a message without consuming any input (it would loop
    /// forever).
    DecoderMadeNoProgress {
        /// The decoder's type.
        decoder: &'static str,
    },
    /// The input ended in the middle of a frame.
    TruncatedFrame {
        /// Bytes left undecoded.
        remaining: usize,
    },
    /// A connection that must start with a PROXY protocol header did not, or its
    /// header is malformed.
    InvalidProxyHeader {
        /// What is wrong.
        reason: String,
    },
    /// A PROXY protocol header is longer than the decoder accepts.
    ProxyHeaderTooLong {
        /// The header's length (announced for v2, seen so far for v1).
        length: usize,
        /// The limit.
        max: usize,
    },
    /// A connection did not send its whole PROXY protocol header in time.
    ProxyHeaderTimedOut {
        /// The timeout.
        after: std::time::Duration,
    },
    /// An encoder cannot encode a message (a length that does not fit its field).
    Encode {
        /// What is wrong, with the numbers.
        reason: String,
    },
}

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CodecError::TooLongFrame { length, max } => write!(
                f,
                "frame of {length} bytes exceeds the maximum of {max}; it was discarded \
                 (raise max_frame_length if such frames are legitimate)"
            ),
            CodecError::CorruptFrame { reason } => write!(f, "corrupt frame: {reason}"),
            CodecError::InvalidUtf8 { valid_up_to } => {
                write!(f, "invalid UTF-8 after {valid_up_to} valid bytes")
            }
            CodecError::DecoderMadeNoProgress { decoder } => write!(
                f,
                "decoder `{decoder}` produced a message without consuming input; a decoder \
                 must consume the bytes of every message it returns"
            ),
            CodecError::TruncatedFrame { remaining } => {
                write!(
                    f,
                    "input ended inside a frame ({remaining} bytes left undecoded)"
                )
            }
            CodecError::InvalidProxyHeader { reason } => write!(
                f,
                "invalid PROXY protocol header: {reason} (is the load balancer configured \
                 to send one, e.g. HAProxy's send-proxy-v2?)"
            ),
            CodecError::ProxyHeaderTooLong { length, max } => write!(
                f,
                "PROXY protocol header of {length} bytes exceeds the maximum of {max} \
                 (raise the decoder's max_tlv_size if the balancer sends large TLVs)"
            ),
            CodecError::ProxyHeaderTimedOut { after } => write!(
                f,
                "no complete PROXY protocol header within {after:?}: connection closed"
            ),
            CodecError::Encode { reason } => write!(f, "cannot encode: {reason}"),
        }
    }
}

impl std::error::Error for CodecError {}
