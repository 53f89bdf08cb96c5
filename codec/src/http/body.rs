//! Streamed messages: a head, then body parts ([`HttpContent`]), then one
//! [`LastHttpContent`] with the trailers: [`HttpPart`].
//!
//! These types do not depend on the side: a server codec fires
//! [`HttpRequestPart`]s (`HttpPart<HttpRequest>`), a client codec can fire
//! `HttpPart<ItsResponseHead>` with the same body types, and both can be written
//! outbound to stream a message's body piece by piece.
//!
//! A part delivered by a decoder carries a [`ReadCredit`]: the bytes it holds count
//! against the connection's read window until the part (or its credit) is dropped
//! or released; see [`ReadCredit`] for the backpressure this gives.

use std::fmt;

use seine_buffer::{Bytes, CompositeBuf};

use super::flow::ReadCredit;
use super::headers::HttpHeaders;
use super::request::HttpRequest;

/// The accessors a body part with `data` and `credit` fields shares
/// ([`HttpContent`] and [`LastHttpContent`]).
macro_rules! data_accessors {
    () => {
        /// The bytes.
        pub fn data(&self) -> &CompositeBuf {
            &self.data
        }

        /// The bytes, to change them (the credit still counts the bytes received).
        pub fn data_mut(&mut self) -> &mut CompositeBuf {
            &mut self.data
        }

        /// The number of bytes.
        pub fn len(&self) -> usize {
            self.data.len()
        }

        /// Whether the part holds no byte.
        pub fn is_empty(&self) -> bool {
            self.data.is_empty()
        }

        /// The read credit the part holds.
        pub fn credit(&self) -> &ReadCredit {
            &self.credit
        }
    };
}

/// One piece of a message body, as it arrived (Netty's `HttpContent`).
///
/// The data is a [`CompositeBuf`] of the received segments, never copied: for a
/// chunked body the chunk framing is stripped, and one chunk may arrive as several
/// parts (whatever each read brought), several small chunks as one part each.
///
/// Dropping the part, or [`into_data`](Self::into_data), releases its read credit;
/// [`into_parts`](Self::into_parts) keeps the credit apart, to release when the
/// data is really consumed (written to disk, say).
///
/// ```
/// use seine_codec::http::HttpContent;
///
/// let part = HttpContent::new("hello");
/// assert_eq!(part.len(), 5);
/// assert_eq!(part.data(), &b"hello"[..]);
/// assert_eq!(part.credit().bytes(), 0); // made here, not by a decoder
/// ```
pub struct HttpContent {
    data: CompositeBuf,
    credit: ReadCredit,
}

impl HttpContent {
    /// A part holding `data` and no read credit (to write a body piece by piece).
    pub fn new(data: impl Into<CompositeBuf>) -> Self {
        HttpContent {
            data: data.into(),
            credit: ReadCredit::none(),
        }
    }

    /// A part holding `data` whose bytes count against a read window until
    /// `credit` is released.
    pub fn with_credit(data: CompositeBuf, credit: ReadCredit) -> Self {
        HttpContent { data, credit }
    }

    data_accessors!();

    /// The bytes; the credit is released (the part counts as consumed).
    pub fn into_data(self) -> CompositeBuf {
        let (data, credit) = self.into_parts();
        credit.release();
        data
    }

    /// The bytes and the credit apart: the credit keeps counting until it is
    /// dropped or released.
    ///
    /// ```
    /// use seine_codec::http::HttpContent;
    /// let (data, credit) = HttpContent::new("abc").into_parts();
    /// assert_eq!(data.len(), 3);
    /// credit.release();
    /// ```
    pub fn into_parts(self) -> (CompositeBuf, ReadCredit) {
        (self.data, self.credit)
    }
}

impl fmt::Debug for HttpContent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpContent")
            .field("len", &self.data.len())
            .field("credit", &self.credit.bytes())
            .finish()
    }
}

impl From<Bytes> for HttpContent {
    fn from(b: Bytes) -> Self {
        HttpContent::new(b)
    }
}

impl From<CompositeBuf> for HttpContent {
    fn from(c: CompositeBuf) -> Self {
        HttpContent::new(c)
    }
}

/// The end of a message body (Netty's `LastHttpContent`): its last bytes (often
/// none) and, for a chunked body, the trailer fields.
///
/// Every streamed message ends with exactly one `LastHttpContent`, also a message
/// without a body, so a handler can finish its work in one place.
///
/// ```
/// use seine_codec::http::LastHttpContent;
///
/// let mut last = LastHttpContent::empty();
/// last.trailers.append("Checksum", "abc");
/// assert!(last.is_empty());
/// assert_eq!(last.trailers.get_str("checksum"), Some("abc"));
/// ```
pub struct LastHttpContent {
    data: CompositeBuf,
    /// Trailer fields (empty unless a chunked body had some).
    pub trailers: HttpHeaders,
    credit: ReadCredit,
}

impl LastHttpContent {
    /// No bytes, no trailers.
    pub fn empty() -> Self {
        Self::new(CompositeBuf::new())
    }

    /// The last `data`, no trailers, no read credit.
    pub fn new(data: impl Into<CompositeBuf>) -> Self {
        LastHttpContent {
            data: data.into(),
            trailers: HttpHeaders::new(),
            credit: ReadCredit::none(),
        }
    }

    /// The last `data` and `trailers`, counted against a read window until
    /// `credit` is released.
    pub fn with_credit(data: CompositeBuf, trailers: HttpHeaders, credit: ReadCredit) -> Self {
        LastHttpContent {
            data,
            trailers,
            credit,
        }
    }

    /// Adds a trailer field.
    ///
    /// ```
    /// let last = seine_codec::http::LastHttpContent::empty().with_trailer("X-Sum", "1");
    /// assert_eq!(last.trailers.get_str("x-sum"), Some("1"));
    /// ```
    pub fn with_trailer(mut self, name: impl Into<Bytes>, value: impl Into<Bytes>) -> Self {
        self.trailers.append(name, value);
        self
    }

    data_accessors!();

    /// The bytes and trailers; the credit is released.
    pub fn into_data(self) -> (CompositeBuf, HttpHeaders) {
        let (data, trailers, credit) = self.into_parts();
        credit.release();
        (data, trailers)
    }

    /// The bytes, the trailers and the credit apart.
    pub fn into_parts(self) -> (CompositeBuf, HttpHeaders, ReadCredit) {
        (self.data, self.trailers, self.credit)
    }
}

impl Default for LastHttpContent {
    fn default() -> Self {
        Self::empty()
    }
}

impl fmt::Debug for LastHttpContent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LastHttpContent")
            .field("len", &self.data.len())
            .field("trailers", &self.trailers.len())
            .field("credit", &self.credit.bytes())
            .finish()
    }
}

/// One message of a streamed HTTP message (Netty's `HttpObject`): the head, then
/// zero or more [`HttpContent`]s, then exactly one [`LastHttpContent`].
///
/// `H` is the head: [`HttpRequest`] (with an empty `body`) on the server side.
///
/// ```
/// use seine_codec::http::{HttpContent, HttpPart, HttpRequest, HttpRequestPart, Method};
///
/// let parts: Vec<HttpRequestPart> = vec![
///     HttpPart::Head(HttpRequest::new(Method::Put, "/up")),
///     HttpPart::Content(HttpContent::new("abc")),
///     HttpPart::Last(Default::default()),
/// ];
/// let body: usize = parts.iter().map(HttpPart::body_len).sum();
/// assert_eq!(body, 3);
/// assert!(parts[2].is_last());
/// ```
#[derive(Debug)]
pub enum HttpPart<H> {
    /// The head (request line or status line, and header fields).
    Head(H),
    /// A piece of the body.
    Content(HttpContent),
    /// The end of the body, with its trailers.
    Last(LastHttpContent),
}

impl<H> HttpPart<H> {
    /// Body bytes in this part (0 for a head).
    pub fn body_len(&self) -> usize {
        match self {
            HttpPart::Head(_) => 0,
            HttpPart::Content(c) => c.len(),
            HttpPart::Last(l) => l.len(),
        }
    }

    /// Whether this part ends the message.
    pub fn is_last(&self) -> bool {
        matches!(self, HttpPart::Last(_))
    }

    /// The next piece of a body with `left` bytes to come (`Content-Length`
    /// framing), taken from `src` without copying: `Content` while bytes remain
    /// after it, `Last` for the piece that ends the body, `None` while `src` is
    /// empty.
    pub(crate) fn length_piece(src: &mut CompositeBuf, left: &mut u64) -> Option<Self> {
        if src.is_empty() {
            return None;
        }
        let n = (*left).min(src.len() as u64);
        let data = src.split_to(n as usize);
        *left -= n;
        Some(match *left {
            0 => HttpPart::Last(LastHttpContent::new(data)),
            _ => HttpPart::Content(HttpContent::new(data)),
        })
    }
}

impl<H> From<HttpContent> for HttpPart<H> {
    fn from(c: HttpContent) -> Self {
        HttpPart::Content(c)
    }
}

impl<H> From<LastHttpContent> for HttpPart<H> {
    fn from(l: LastHttpContent) -> Self {
        HttpPart::Last(l)
    }
}

/// A streamed request, as a server codec in streaming mode fires it.
pub type HttpRequestPart = HttpPart<HttpRequest>;
