//! [`HttpError`]: why a request was refused, and the status that says so.

use std::fmt;

use crate::error::{CodecError, Corruption};

/// Why the HTTP request decoder refused a request. Each variant maps to the status
/// the server answers with ([`HttpError::status`]); [`HttpServerCodec`](super::HttpServerCodec)
/// sends that status with `Connection: close` and closes the connection.
///
/// # Examples
///
/// ```
/// use seine_codec::http::HttpError;
///
/// let e = HttpError::BodyTooLarge { length: 10 << 20, max: 8 << 20 };
/// assert_eq!(e.status(), 413);
/// assert!(e.to_string().contains("max_body_length"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HttpError {
    /// The request is malformed: a bad request line or header, an invalid or
    /// conflicting `Content-Length`, both `Content-Length` and `Transfer-Encoding`,
    /// a bad chunk, a missing `Host`. 400.
    BadRequest {
        /// What is wrong.
        reason: String,
    },
    /// The request line alone is longer than the head limit. 414.
    UriTooLong {
        /// The configured `max_header_length`.
        max: usize,
    },
    /// The request head (request line, headers, or a chunked body's trailers) is
    /// longer than the limit. 431.
    HeadersTooLarge {
        /// Bytes seen so far.
        size: usize,
        /// The configured `max_header_length`.
        max: usize,
    },
    /// More header fields than the limit. 431.
    TooManyHeaders {
        /// The configured `max_headers`.
        max: usize,
    },
    /// The body is (or is announced to be) larger than the limit. 413.
    BodyTooLarge {
        /// The announced `Content-Length`, or the body bytes counted so far.
        length: u64,
        /// The configured `max_body_length`.
        max: usize,
    },
    /// A transfer coding other than `chunked` (which is all this decoder decodes). 501.
    UnsupportedTransferEncoding {
        /// The `Transfer-Encoding` value.
        value: String,
    },
    /// An `Expect` value other than `100-continue`. 417.
    ExpectationFailed {
        /// The `Expect` value.
        value: String,
    },
    /// An HTTP version other than 1.0 and 1.1. 505.
    UnsupportedVersion,
    /// The input ended inside a request (its head or its body). 400.
    Truncated {
        /// Bytes of the unfinished request received.
        received: usize,
    },
}

impl HttpError {
    /// The response status for this error.
    ///
    /// ```
    /// use seine_codec::http::HttpError;
    /// assert_eq!(HttpError::TooManyHeaders { max: 100 }.status(), 431);
    /// assert_eq!(HttpError::UnsupportedVersion.status(), 505);
    /// ```
    pub fn status(&self) -> u16 {
        match self {
            HttpError::BadRequest { .. } | HttpError::Truncated { .. } => 400,
            HttpError::UriTooLong { .. } => 414,
            HttpError::HeadersTooLarge { .. } | HttpError::TooManyHeaders { .. } => 431,
            HttpError::BodyTooLarge { .. } => 413,
            HttpError::UnsupportedTransferEncoding { .. } => 501,
            HttpError::ExpectationFailed { .. } => 417,
            HttpError::UnsupportedVersion => 505,
        }
    }

    pub(crate) fn bad(reason: impl Into<String>) -> Self {
        HttpError::BadRequest {
            reason: reason.into(),
        }
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpError::BadRequest { reason } => write!(f, "bad request: {reason}"),
            HttpError::UriTooLong { max } => write!(
                f,
                "the request line is longer than {max} bytes (raise max_header_length to accept it)"
            ),
            HttpError::HeadersTooLarge { size, max } => write!(
                f,
                "the request head is {size} bytes, over the limit of {max} (raise \
                 max_header_length to accept it)"
            ),
            HttpError::TooManyHeaders { max } => write!(
                f,
                "more than {max} header fields (raise max_headers to accept them)"
            ),
            HttpError::BodyTooLarge { length, max } => write!(
                f,
                "a request body of {length} bytes exceeds the limit of {max} (raise \
                 max_body_length to accept it)"
            ),
            HttpError::UnsupportedTransferEncoding { value } => write!(
                f,
                "transfer coding {value:?} is not supported (only chunked)"
            ),
            HttpError::ExpectationFailed { value } => {
                write!(f, "expectation {value:?} cannot be met (only 100-continue)")
            }
            HttpError::UnsupportedVersion => {
                f.write_str("HTTP version not supported (only HTTP/1.0 and HTTP/1.1)")
            }
            HttpError::Truncated { received } => write!(
                f,
                "input ended inside a request ({received} bytes of it received)"
            ),
        }
    }
}

impl std::error::Error for HttpError {}

impl From<HttpError> for CodecError {
    /// Limits become [`CodecError::TooLongFrame`], the rest
    /// [`CodecError::CorruptFrame`] with [`Corruption::Http`] (or
    /// [`CodecError::TruncatedFrame`]).
    fn from(e: HttpError) -> Self {
        match e {
            HttpError::HeadersTooLarge { size, max } => CodecError::TooLongFrame {
                length: size as u64,
                max,
            },
            HttpError::BodyTooLarge { length, max } => CodecError::TooLongFrame { length, max },
            HttpError::Truncated { received } => CodecError::TruncatedFrame {
                remaining: received,
            },
            other => CodecError::CorruptFrame {
                reason: Corruption::Http(other),
            },
        }
    }
}
