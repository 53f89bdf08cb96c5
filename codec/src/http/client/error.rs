//! [`HttpClientError`]: why a response could not be decoded, or a request encoded.

use std::fmt;

use crate::error::{CodecError, Corruption};
use crate::http::HttpError;

/// Why the HTTP client codec gave up on a connection. After any of these the
/// input is no longer framed: close the connection.
///
/// A truncated body is always one of these errors, never a body that looks
/// complete: a response whose `Content-Length` or chunked coding was cut by the
/// end of the input ends with [`HttpClientError::TruncatedBody`], not with the
/// last body part.
///
/// # Examples
///
/// ```
/// use seine_codec::http::HttpClientError;
///
/// let e = HttpClientError::TruncatedBody { received: 10, expected: Some(100) };
/// assert!(e.to_string().contains("10 of 100"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HttpClientError {
    /// The response is malformed: a bad status line or header field, an invalid
    /// or conflicting `Content-Length`, a bad chunk.
    BadResponse {
        /// What is wrong.
        reason: String,
    },
    /// The status line and header fields (or a chunked body's trailers) are longer
    /// than the limit.
    HeadTooLarge {
        /// Bytes seen so far.
        size: usize,
        /// The configured `max_header_length`.
        max: usize,
    },
    /// More header fields than the limit.
    TooManyHeaders {
        /// The configured `max_headers`.
        max: usize,
    },
    /// A version other than HTTP/1.0 and HTTP/1.1 in the status line.
    UnsupportedVersion,
    /// A response arrived while no request was waiting for one.
    UnsolicitedResponse,
    /// The input ended inside a response's status line or header fields.
    TruncatedHead {
        /// Bytes of the head received.
        received: usize,
    },
    /// The input ended inside a body framed by `Content-Length` or the chunked
    /// coding.
    TruncatedBody {
        /// Body bytes received (delivered as body parts).
        received: u64,
        /// The `Content-Length`, `None` for a chunked body.
        expected: Option<u64>,
    },
    /// The input ended while requests were still waiting for their responses.
    NoResponse {
        /// How many requests were left unanswered.
        pending: usize,
    },
    /// A request could not be encoded (an invalid header field, a body that does
    /// not match its `Content-Length`, parts out of order).
    BadRequest {
        /// What is wrong.
        reason: String,
    },
}

impl HttpClientError {
    pub(crate) fn bad(reason: impl Into<String>) -> Self {
        HttpClientError::BadResponse {
            reason: reason.into(),
        }
    }

    pub(crate) fn bad_request(reason: impl Into<String>) -> Self {
        HttpClientError::BadRequest {
            reason: reason.into(),
        }
    }

    /// Whether the error says the input ended too early (the peer closed or the
    /// connection broke mid-response), as opposed to malformed input.
    ///
    /// ```
    /// use seine_codec::http::HttpClientError;
    /// assert!(HttpClientError::TruncatedHead { received: 3 }.is_truncation());
    /// assert!(!HttpClientError::UnsupportedVersion.is_truncation());
    /// ```
    pub fn is_truncation(&self) -> bool {
        matches!(
            self,
            HttpClientError::TruncatedHead { .. }
                | HttpClientError::TruncatedBody { .. }
                | HttpClientError::NoResponse { .. }
        )
    }
}

impl From<HttpError> for HttpClientError {
    /// The shared chunked-coding decoder reports in the server's terms; on the
    /// client side they are the same faults of a response.
    fn from(e: HttpError) -> Self {
        match e {
            HttpError::HeadersTooLarge { size, max } => HttpClientError::HeadTooLarge { size, max },
            HttpError::TooManyHeaders { max } => HttpClientError::TooManyHeaders { max },
            HttpError::BadRequest { reason } => HttpClientError::BadResponse { reason },
            HttpError::UnsupportedVersion => HttpClientError::UnsupportedVersion,
            other => HttpClientError::BadResponse {
                reason: other.to_string(),
            },
        }
    }
}

impl fmt::Display for HttpClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpClientError::BadResponse { reason } => write!(f, "bad response: {reason}"),
            HttpClientError::HeadTooLarge { size, max } => write!(
                f,
                "the response head is {size} bytes, over the limit of {max} (raise \
                 max_header_length to accept it)"
            ),
            HttpClientError::TooManyHeaders { max } => write!(
                f,
                "more than {max} header fields in a response (raise max_headers to accept them)"
            ),
            HttpClientError::UnsupportedVersion => {
                f.write_str("response version not supported (only HTTP/1.0 and HTTP/1.1)")
            }
            HttpClientError::UnsolicitedResponse => {
                f.write_str("a response arrived with no request waiting for it")
            }
            HttpClientError::TruncatedHead { received } => write!(
                f,
                "the connection ended inside a response head ({received} bytes of it received)"
            ),
            HttpClientError::TruncatedBody {
                received,
                expected: Some(n),
            } => write!(
                f,
                "the connection ended inside a response body ({received} of {n} bytes received)"
            ),
            HttpClientError::TruncatedBody {
                received,
                expected: None,
            } => write!(
                f,
                "the connection ended inside a chunked response body ({received} bytes \
                 received, no last chunk)"
            ),
            HttpClientError::NoResponse { pending } => write!(
                f,
                "the connection ended with {pending} request(s) unanswered"
            ),
            HttpClientError::BadRequest { reason } => {
                write!(f, "the request cannot be encoded: {reason}")
            }
        }
    }
}

impl std::error::Error for HttpClientError {}

impl From<HttpClientError> for CodecError {
    /// Limits become [`CodecError::TooLongFrame`], truncations
    /// [`CodecError::TruncatedFrame`], request faults [`CodecError::Encode`], the
    /// rest [`CodecError::CorruptFrame`] with [`Corruption::HttpClient`].
    fn from(e: HttpClientError) -> Self {
        match e {
            HttpClientError::HeadTooLarge { size, max } => CodecError::TooLongFrame {
                length: size as u64,
                max,
            },
            HttpClientError::TruncatedHead { received } => CodecError::TruncatedFrame {
                remaining: received,
            },
            HttpClientError::TruncatedBody { received, .. } => CodecError::TruncatedFrame {
                remaining: usize::try_from(received).unwrap_or(usize::MAX),
            },
            HttpClientError::BadRequest { reason } => CodecError::Encode { reason },
            other => CodecError::CorruptFrame {
                reason: Corruption::HttpClient(other),
            },
        }
    }
}
