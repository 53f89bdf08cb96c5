//! [`HttpResponseHead`]: a decoded status line and its header fields.

use seine_buffer::Bytes;

use crate::http::{HttpHeaders, Version};

/// The head of a response as the client decodes it: status line and header
/// fields. The body follows as [`HttpContent`](crate::http::HttpContent) parts and
/// one [`LastHttpContent`](crate::http::LastHttpContent) (see
/// [`HttpResponseDecoder`](super::HttpResponseDecoder)).
///
/// The reason phrase and the header fields are [`Bytes`] views of the received
/// head (copied once only when the head arrived split across reads).
///
/// # Examples
///
/// ```
/// use seine_codec::http::HttpResponseHead;
///
/// let mut head = HttpResponseHead::new(206);
/// head.headers.append("Content-Length", "10");
/// head.headers.append("Connection", "close");
/// assert_eq!(head.content_length(), Some(10));
/// assert!(!head.keep_alive());
/// assert!(head.is_success());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpResponseHead {
    /// The status code (100 to 999).
    pub status: u16,
    /// The reason phrase as sent (may be empty).
    pub reason: Bytes,
    /// The response's version.
    pub version: Version,
    /// The header fields.
    pub headers: HttpHeaders,
}

impl HttpResponseHead {
    /// A head with `status`, an empty reason, HTTP/1.1 and no field.
    pub fn new(status: u16) -> Self {
        HttpResponseHead {
            status,
            reason: Bytes::new(),
            version: Version::Http11,
            headers: HttpHeaders::new(),
        }
    }

    /// Whether the status is 2xx.
    ///
    /// ```
    /// assert!(!seine_codec::http::HttpResponseHead::new(404).is_success());
    /// ```
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The reason phrase as text (lossy for non-UTF-8 bytes).
    ///
    /// ```
    /// assert_eq!(seine_codec::http::HttpResponseHead::new(200).reason_str(), "");
    /// ```
    pub fn reason_str(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.reason)
    }

    /// The `Content-Length` when it is one decimal number (or a list of equal
    /// ones); `None` when absent or invalid.
    ///
    /// ```
    /// let mut head = seine_codec::http::HttpResponseHead::new(200);
    /// head.headers.append("Content-Length", "42, 42");
    /// assert_eq!(head.content_length(), Some(42));
    /// ```
    pub fn content_length(&self) -> Option<u64> {
        content_length(&self.headers).ok().flatten()
    }

    /// Whether the server lets the connection stay open after this response:
    /// HTTP/1.1 unless `Connection: close`, HTTP/1.0 only with
    /// `Connection: keep-alive`. (A close-delimited body closes it anyway.)
    ///
    /// ```
    /// let head = seine_codec::http::HttpResponseHead::new(200);
    /// assert!(head.keep_alive());
    /// ```
    pub fn keep_alive(&self) -> bool {
        match self.version {
            Version::Http11 => !self.headers.has_token("connection", "close"),
            Version::Http10 => self.headers.has_token("connection", "keep-alive"),
        }
    }
}

/// The `Content-Length` of `headers`: `Ok(None)` when absent, an error text when
/// it is not a decimal number or when values differ (RFC 9112 §6.3 item 5).
pub(crate) fn content_length(headers: &HttpHeaders) -> Result<Option<u64>, String> {
    let mut length: Option<u64> = None;
    for value in headers.get_all("content-length") {
        for part in value.split(|&b| b == b',') {
            let part = part.trim_ascii();
            if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
                return Err(format!(
                    "invalid Content-Length {:?}",
                    String::from_utf8_lossy(value)
                ));
            }
            let n = part
                .iter()
                .try_fold(0u64, |n, &d| {
                    n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
                })
                .ok_or_else(|| "Content-Length overflows 64 bits".to_string())?;
            match length {
                Some(prev) if prev != n => {
                    return Err(format!("conflicting Content-Length values {prev} and {n}"));
                }
                _ => length = Some(n),
            }
        }
    }
    Ok(length)
}
