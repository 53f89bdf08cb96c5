//! The errors of seine-codec: [`CodecError`], with the typed reasons of its
//! [`CorruptFrame`](CodecError::CorruptFrame) ([`Corruption`]) and
//! [`InvalidConfig`](CodecError::InvalidConfig) ([`InvalidConfig`]) variants.

use std::fmt;

use crate::http::HttpError;

/// What a codec reports. Converts into [`seine_channel::Error`] and reaches handlers
/// through `exception_caught`.
///
/// # Examples
///
/// ```
/// use seine_codec::{CodecError, InvalidConfig, LengthFieldDecoder};
///
/// let err = LengthFieldDecoder::builder().length_field_length(5).build().unwrap_err();
/// assert_eq!(err, CodecError::InvalidConfig(InvalidConfig::LengthFieldLength { length: 5 }));
/// ```
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
        reason: Corruption,
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
    /// A codec's builder was given parameters that cannot work; nothing was built.
    InvalidConfig(InvalidConfig),
}

/// Why a frame or message is corrupt: the reason of [`CodecError::CorruptFrame`],
/// one variant per kind of defect, with its numbers, so that a handler (or a test)
/// matches on the kind instead of on text. `Display` says it in words.
///
/// # Examples
///
/// ```
/// use seine_buffer::CompositeBuf;
/// use seine_codec::{CodecError, Corruption, Decoder, LengthFieldDecoder};
///
/// let mut decoder = LengthFieldDecoder::builder().length_field_length(8).build().unwrap();
/// let mut src = CompositeBuf::from(u64::MAX.to_be_bytes().to_vec());
/// assert_eq!(
///     decoder.decode(&mut src),
///     Err(CodecError::CorruptFrame { reason: Corruption::NegativeLengthField { value: -1 } })
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Corruption {
    /// An 8-byte length field holds a negative number (it is signed, as in Netty).
    NegativeLengthField {
        /// The field's value.
        value: i64,
    },
    /// The frame length computed from the field is less than the end of the field.
    LengthBelowFieldEnd {
        /// The computed frame length (field + adjustment + end of the field).
        length: i128,
        /// `length_field_offset + length_field_length`.
        end: usize,
        /// The configured `length_adjustment`.
        adjustment: i64,
    },
    /// The frame length computed from the field overflows a 64-bit signed length.
    LengthOverflows {
        /// The computed frame length.
        length: i128,
        /// The configured `length_adjustment`.
        adjustment: i64,
    },
    /// A frame is shorter than the bytes to strip from its front.
    LengthBelowStrip {
        /// The frame's length.
        length: usize,
        /// The configured `initial_bytes_to_strip`.
        strip: usize,
    },
    /// A RESP header line (`*<n>`, `$<n>`, `:<n>`) longer than its limit.
    RespHeaderTooLong {
        /// Where the line starts.
        offset: usize,
        /// The limit, in bytes.
        max: usize,
    },
    /// A RESP line not ended by CRLF.
    RespLineNotCrlf {
        /// Where the line starts.
        offset: usize,
    },
    /// A RESP header line whose number is not a decimal number.
    RespNotANumber {
        /// Where the line starts.
        offset: usize,
    },
    /// A RESP bulk string whose payload is not followed by CRLF.
    RespBulkNotCrlf {
        /// The announced length.
        length: usize,
        /// Where the payload starts.
        offset: usize,
    },
    /// A RESP bulk length below -1 (or -1 in a command).
    RespInvalidBulkLength {
        /// The announced length.
        length: i64,
        /// Where the header starts.
        offset: usize,
    },
    /// A RESP array length below -1.
    RespInvalidArrayLength {
        /// The announced length.
        length: i64,
        /// Where the header starts.
        offset: usize,
    },
    /// A command argument that is not a bulk string (`$`).
    RespExpectedBulk {
        /// The argument's index.
        argument: usize,
        /// Where it starts.
        offset: usize,
        /// The type byte found instead.
        found: u8,
    },
    /// Arrays nested deeper than the configured `max_depth`.
    RespTooDeep {
        /// The configured maximum.
        max: usize,
        /// Where the array too deep starts.
        offset: usize,
    },
    /// A RESP3 type byte (this codec speaks RESP2).
    RespUnsupportedType {
        /// The type byte.
        byte: u8,
        /// Where it is.
        offset: usize,
    },
    /// A byte that starts no RESP value.
    RespUnknownType {
        /// The byte.
        byte: u8,
        /// Where it is.
        offset: usize,
    },
    /// An inline command whose quotes are not balanced (Redis's own words).
    RespUnbalancedQuotes,
    /// An HTTP request the decoder refused.
    Http(HttpError),
    /// A reason given as text, by a decoder outside this crate.
    Other(String),
}

impl fmt::Display for Corruption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Corruption::NegativeLengthField { value } => write!(
                f,
                "negative length field: {value} (an 8-byte length field is signed, as in Netty)"
            ),
            Corruption::LengthBelowFieldEnd {
                length,
                end,
                adjustment,
            } => write!(
                f,
                "adjusted frame length ({length}) is less than the end of the length field \
                 ({end}); check length_adjustment ({adjustment})"
            ),
            Corruption::LengthOverflows { length, adjustment } => write!(
                f,
                "adjusted frame length ({length}) overflows a 64-bit signed length; \
                 check length_adjustment ({adjustment})"
            ),
            Corruption::LengthBelowStrip { length, strip } => write!(
                f,
                "adjusted frame length ({length}) is less than initial_bytes_to_strip ({strip})"
            ),
            Corruption::RespHeaderTooLong { offset, max } => write!(
                f,
                "a header line longer than {max} bytes (no CRLF) at offset {offset}"
            ),
            Corruption::RespLineNotCrlf { offset } => {
                write!(f, "a line not ended by CRLF at offset {offset}")
            }
            Corruption::RespNotANumber { offset } => write!(
                f,
                "a header line at offset {offset} whose length is not a decimal number"
            ),
            Corruption::RespBulkNotCrlf { length, offset } => write!(
                f,
                "bulk string of {length} bytes at offset {offset} not followed by CRLF"
            ),
            Corruption::RespInvalidBulkLength { length, offset } => {
                write!(f, "invalid bulk length {length} at offset {offset}")
            }
            Corruption::RespInvalidArrayLength { length, offset } => {
                write!(f, "invalid array length {length} at offset {offset}")
            }
            Corruption::RespExpectedBulk {
                argument,
                offset,
                found,
            } => {
                write!(
                    f,
                    "expected '$' for argument {argument} at offset {offset}, got "
                )?;
                if *found == b'*' {
                    f.write_str("a nested array (commands are arrays of bulk strings)")
                } else {
                    write!(f, "byte {found:#04x}")
                }
            }
            Corruption::RespTooDeep { max, offset } => {
                write!(f, "arrays nested deeper than {max} at offset {offset}")
            }
            Corruption::RespUnsupportedType { byte, offset } => write!(
                f,
                "RESP3 type {:?} at offset {offset} is not supported (speak RESP2: no HELLO 3)",
                *byte as char
            ),
            Corruption::RespUnknownType { byte, offset } => {
                write!(f, "unknown RESP type byte {byte:#04x} at offset {offset}")
            }
            Corruption::RespUnbalancedQuotes => f.write_str("unbalanced quotes in request"),
            Corruption::Http(e) => fmt::Display::fmt(e, f),
            Corruption::Other(text) => f.write_str(text),
        }
    }
}

/// Why a builder refused its parameters: the reason of
/// [`CodecError::InvalidConfig`]. Netty's constructors refuse the same values
/// (with `IllegalArgumentException`); here nothing panics.
///
/// # Examples
///
/// ```
/// use seine_codec::{CodecError, DelimiterDecoder, InvalidConfig};
///
/// let none: [&[u8]; 0] = [];
/// let err = DelimiterDecoder::builder().delimiters(none).build().unwrap_err();
/// assert_eq!(err, CodecError::InvalidConfig(InvalidConfig::NoDelimiter));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum InvalidConfig {
    /// A length field must be 1, 2, 3, 4 or 8 bytes long.
    LengthFieldLength {
        /// The length given.
        length: usize,
    },
    /// `max_frame_length` must be positive.
    ZeroMaxFrameLength,
    /// The length field must fit in `max_frame_length`.
    LengthFieldBeyondMaxFrameLength {
        /// The configured `length_field_offset`.
        offset: usize,
        /// The configured `length_field_length`.
        length: usize,
        /// The configured `max_frame_length`.
        max: usize,
    },
    /// A delimiter decoder needs at least one delimiter.
    NoDelimiter,
    /// A delimiter must not be empty.
    EmptyDelimiter,
    /// A fixed frame length must be positive.
    ZeroFrameLength,
    /// A streaming HTTP codec's read window must be positive.
    ZeroReadWindow,
}

impl fmt::Display for InvalidConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InvalidConfig::LengthFieldLength { length } => {
                write!(
                    f,
                    "length_field_length must be 1, 2, 3, 4 or 8, not {length}"
                )
            }
            InvalidConfig::ZeroMaxFrameLength => f.write_str("max_frame_length must be positive"),
            InvalidConfig::LengthFieldBeyondMaxFrameLength {
                offset,
                length,
                max,
            } => write!(
                f,
                "the length field (offset {offset} + length {length}) must fit in \
                 max_frame_length ({max}): raise max_frame_length"
            ),
            InvalidConfig::NoDelimiter => f.write_str("at least one delimiter is needed"),
            InvalidConfig::EmptyDelimiter => f.write_str("a delimiter must not be empty"),
            InvalidConfig::ZeroFrameLength => f.write_str("frame_length must be positive"),
            InvalidConfig::ZeroReadWindow => f.write_str("read_window must be positive"),
        }
    }
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
            CodecError::InvalidConfig(reason) => write!(f, "invalid codec configuration: {reason}"),
        }
    }
}

impl std::error::Error for CodecError {}

impl From<InvalidConfig> for CodecError {
    fn from(reason: InvalidConfig) -> Self {
        CodecError::InvalidConfig(reason)
    }
}

impl From<Corruption> for CodecError {
    fn from(reason: Corruption) -> Self {
        CodecError::CorruptFrame { reason }
    }
}
