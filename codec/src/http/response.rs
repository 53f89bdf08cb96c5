//! [`HttpResponse`] and its [`Body`].

use std::fmt;

use seine_buffer::{Bytes, CompositeBuf, FileRegion};
use seine_channel::ChunkedInput;

use super::headers::HttpHeaders;

/// A response body. Whatever its kind, the encoder writes it without copying
/// (bytes of 64 or more as their own segments, a file region by `sendfile`).
///
/// ```
/// use seine_codec::http::Body;
/// assert_eq!(Body::from("hello").len(), Some(5));
/// assert_eq!(Body::Empty.len(), Some(0));
/// ```
#[derive(Default)]
pub enum Body {
    /// No body (`Content-Length: 0`).
    #[default]
    Empty,
    /// One buffer.
    Bytes(Bytes),
    /// Several buffers sent as one body (gathered with `writev`).
    Composite(CompositeBuf),
    /// A range of a file, sent with `sendfile(2)` where the transport can.
    File(FileRegion),
    /// Buffers sent with `Transfer-Encoding: chunked`, one chunk each (to an
    /// HTTP/1.0 client: as they are, and the connection closes to end the body).
    Chunked(Vec<Bytes>),
    /// A body produced piece by piece: from a [`ChunkedInput`], pulled by
    /// [`HttpServerCodec`](super::HttpServerCodec) only while the channel is
    /// writable, or from a file region; with a `Content-Length` when the length is
    /// known, chunked otherwise (or when asked). See [`BodyStream`].
    Stream(BodyStream),
}

/// A response body streamed from a [`ChunkedInput`] (any source: a generator, a
/// reader, seine-handler's `ChunkedFile`) or a [`FileRegion`].
///
/// * Framing: `Content-Length` when the length is known
///   ([`ChunkedInput::length`], or the region's), `Transfer-Encoding: chunked`
///   when it is not or when [`chunked`](Self::chunked) asks for it (one chunk per
///   piece the input produces; a region is one chunk sent by `sendfile`). To an
///   HTTP/1.0 client a body of unknown length is sent as it is and the connection
///   closes to end it.
/// * Memory: [`HttpServerCodec`](super::HttpServerCodec) asks the input for its
///   next piece only while the channel is writable (below its high water mark),
///   so a body of any size holds the water mark plus one piece. Responses written
///   meanwhile (pipelining) wait for the stream to end. The write's completion
///   resolves when the last piece is written.
/// * Errors: an input that fails, or produces more or fewer bytes than the
///   length it announced, fails the write and closes the connection (the
///   message's framing cannot be kept).
///
/// ```
/// use seine_buffer::Bytes;
/// use seine_codec::http::{BodyStream, HttpResponse};
/// # use seine_channel::{ChunkedInput, Error};
/// # struct Rows(u32);
/// # impl ChunkedInput for Rows {
/// #     fn next_chunk(&mut self) -> Result<Option<Bytes>, Error> {
/// #         self.0 += 1;
/// #         Ok((self.0 <= 3).then(|| Bytes::from(format!("row {}\n", self.0))))
/// #     }
/// #     fn is_end(&self) -> bool { self.0 > 3 }
/// #     fn progress(&self) -> u64 { 0 }
/// # }
///
/// let resp = HttpResponse::ok(BodyStream::new(Rows(0))); // length unknown: chunked
/// assert_eq!(resp.body.len(), None);
/// ```
pub struct BodyStream {
    pub(crate) source: StreamSource,
    pub(crate) force_chunked: bool,
}

pub(crate) enum StreamSource {
    Input(Box<dyn ChunkedInput + Send>),
    File(FileRegion),
}

impl BodyStream {
    /// A body read from `input` (`Send`, as responses may be written from any
    /// thread through a `Channel` handle).
    pub fn new(input: impl ChunkedInput + Send) -> Self {
        Self::from_boxed(Box::new(input))
    }

    /// A body read from a boxed input.
    pub fn from_boxed(input: Box<dyn ChunkedInput + Send>) -> Self {
        BodyStream {
            source: StreamSource::Input(input),
            force_chunked: false,
        }
    }

    /// A body sent from a file region by `sendfile` (with the chunked coding if
    /// asked: [`chunked`](Self::chunked)).
    pub fn file(region: FileRegion) -> Self {
        BodyStream {
            source: StreamSource::File(region),
            force_chunked: false,
        }
    }

    /// Sends the body with `Transfer-Encoding: chunked` even if its length is
    /// known.
    ///
    /// ```
    /// use seine_codec::http::BodyStream;
    /// # let file = tempfile::tempfile().unwrap();
    /// let body = BodyStream::file(seine_buffer::FileRegion::from_file(file).unwrap()).chunked();
    /// assert_eq!(body.len(), None);
    /// ```
    pub fn chunked(mut self) -> Self {
        self.force_chunked = true;
        self
    }

    /// The length sent as `Content-Length`; `None` when the body goes chunked.
    pub fn len(&self) -> Option<u64> {
        if self.force_chunked {
            return None;
        }
        match &self.source {
            StreamSource::Input(i) => i.length(),
            StreamSource::File(f) => Some(f.remaining()),
        }
    }

    /// Whether the body is known to be empty.
    pub fn is_empty(&self) -> bool {
        self.len() == Some(0)
    }
}

impl fmt::Debug for BodyStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match &self.source {
            StreamSource::Input(_) => "input",
            StreamSource::File(_) => "file",
        };
        f.debug_struct("BodyStream")
            .field("source", &what)
            .field("len", &self.len())
            .finish()
    }
}

impl From<BodyStream> for Body {
    fn from(s: BodyStream) -> Self {
        Body::Stream(s)
    }
}

impl Body {
    /// The body's length, `None` for a chunked body.
    ///
    /// ```
    /// use seine_codec::http::Body;
    /// assert_eq!(Body::Chunked(vec![]).len(), None);
    /// ```
    pub fn len(&self) -> Option<u64> {
        match self {
            Body::Empty => Some(0),
            Body::Bytes(b) => Some(b.len() as u64),
            Body::Composite(c) => Some(c.len() as u64),
            Body::File(f) => Some(f.remaining()),
            Body::Chunked(_) => None,
            Body::Stream(s) => s.len(),
        }
    }

    /// Whether the body is known to be empty.
    ///
    /// ```
    /// assert!(seine_codec::http::Body::Empty.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == Some(0)
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Body::Empty => f.write_str("Empty"),
            Body::Bytes(b) => write!(f, "Bytes({} bytes)", b.len()),
            Body::Composite(c) => write!(f, "Composite({} bytes)", c.len()),
            Body::File(r) => write!(f, "File({} bytes at {})", r.count(), r.position()),
            Body::Chunked(c) => write!(f, "Chunked({} chunks)", c.len()),
            Body::Stream(s) => write!(f, "Stream({:?})", s.len()),
        }
    }
}

impl From<Bytes> for Body {
    fn from(b: Bytes) -> Self {
        Body::Bytes(b)
    }
}

impl From<CompositeBuf> for Body {
    fn from(c: CompositeBuf) -> Self {
        Body::Composite(c)
    }
}

impl From<FileRegion> for Body {
    fn from(f: FileRegion) -> Self {
        Body::File(f)
    }
}

impl From<&'static str> for Body {
    fn from(s: &'static str) -> Self {
        Body::Bytes(Bytes::from_static(s.as_bytes()))
    }
}

impl From<&'static [u8]> for Body {
    fn from(s: &'static [u8]) -> Self {
        Body::Bytes(Bytes::from_static(s))
    }
}

impl From<String> for Body {
    fn from(s: String) -> Self {
        Body::Bytes(Bytes::from(s))
    }
}

impl From<Vec<u8>> for Body {
    fn from(v: Vec<u8>) -> Self {
        Body::Bytes(Bytes::from(v))
    }
}

/// A response: status, header fields, body.
///
/// `Content-Length` (or `Transfer-Encoding: chunked`), `Connection` and `Date` are
/// written by the encoder: from the body, from the request's keep-alive state and
/// from the clock. Set `Connection: close` to close the connection after this
/// response.
///
/// # Examples
///
/// ```
/// use seine_codec::http::HttpResponse;
///
/// let resp = HttpResponse::new(404)
///     .with_header("Content-Type", "text/plain")
///     .with_body("not here\n");
/// assert_eq!(resp.status, 404);
/// assert_eq!(resp.reason_phrase(), "Not Found");
/// ```
#[derive(Debug)]
pub struct HttpResponse {
    /// The status code (100 to 999).
    pub status: u16,
    /// A reason phrase to send instead of the standard one.
    pub reason: Option<Bytes>,
    /// Header fields.
    pub headers: HttpHeaders,
    /// The body.
    pub body: Body,
}

impl HttpResponse {
    /// A response with `status`, no headers and no body.
    ///
    /// ```
    /// let resp = seine_codec::http::HttpResponse::new(204);
    /// assert!(resp.body.is_empty());
    /// ```
    pub fn new(status: u16) -> Self {
        HttpResponse {
            status,
            reason: None,
            headers: HttpHeaders::new(),
            body: Body::Empty,
        }
    }

    /// `200 OK` with `body`.
    ///
    /// ```
    /// let resp = seine_codec::http::HttpResponse::ok("hi");
    /// assert_eq!(resp.status, 200);
    /// ```
    pub fn ok(body: impl Into<Body>) -> Self {
        Self::new(200).with_body(body)
    }

    /// `status` with a `text/plain; charset=utf-8` body.
    ///
    /// ```
    /// let resp = seine_codec::http::HttpResponse::text(400, "bad\n");
    /// assert_eq!(resp.headers.get_str("content-type"), Some("text/plain; charset=utf-8"));
    /// ```
    pub fn text(status: u16, body: impl Into<Body>) -> Self {
        Self::new(status)
            .with_header("Content-Type", "text/plain; charset=utf-8")
            .with_body(body)
    }

    /// Adds a header field (after any of the same name).
    ///
    /// ```
    /// let resp = seine_codec::http::HttpResponse::new(200).with_header("X-A", "1");
    /// assert_eq!(resp.headers.get_str("x-a"), Some("1"));
    /// ```
    pub fn with_header(mut self, name: impl Into<Bytes>, value: impl Into<Bytes>) -> Self {
        self.headers.append(name, value);
        self
    }

    /// Sets the body.
    ///
    /// ```
    /// let resp = seine_codec::http::HttpResponse::new(200).with_body(vec![1, 2, 3]);
    /// assert_eq!(resp.body.len(), Some(3));
    /// ```
    pub fn with_body(mut self, body: impl Into<Body>) -> Self {
        self.body = body.into();
        self
    }

    /// Asks for the connection to close after this response (`Connection: close`).
    ///
    /// ```
    /// let resp = seine_codec::http::HttpResponse::new(200).close();
    /// assert!(resp.headers.has_token("connection", "close"));
    /// ```
    pub fn close(mut self) -> Self {
        self.headers.insert("Connection", "close");
        self
    }

    /// The reason phrase that will be sent.
    ///
    /// ```
    /// assert_eq!(seine_codec::http::HttpResponse::new(416).reason_phrase(), "Range Not Satisfiable");
    /// ```
    pub fn reason_phrase(&self) -> &str {
        match &self.reason {
            Some(r) => std::str::from_utf8(r).unwrap_or(""),
            None => reason_phrase(self.status),
        }
    }
}

/// The standard reason phrase of `status` (`""` for unknown codes).
///
/// ```
/// assert_eq!(seine_codec::http::reason_phrase(206), "Partial Content");
/// ```
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Content Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Range Not Satisfiable",
        417 => "Expectation Failed",
        426 => "Upgrade Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    /// Responses are written from any thread through a `Channel` handle.
    #[test]
    fn responses_are_send() {
        fn send<T: Send>() {}
        send::<super::HttpResponse>();
        send::<super::super::HttpRequestPart>();
    }
}
