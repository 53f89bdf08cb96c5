//! [`HttpRequestDecoder`]: HTTP/1.x requests, head and whole body.

use seine_buffer::{Buf, Bytes, CompositeBuf};

use super::chunked::ChunkedDecoder;
use super::error::HttpError;
use super::headers::HttpHeaders;
use super::request::{HttpRequest, Method, Version};
use crate::decoder::Decoder;
use crate::error::CodecError;

mod parts;

/// Default [`HttpRequestDecoder::max_header_length`]: 64 KiB for the request line and
/// headers together.
pub const DEFAULT_MAX_HEADER_LENGTH: usize = 64 * 1024;
/// Default [`HttpRequestDecoder::max_headers`]: 100 fields.
pub const DEFAULT_MAX_HEADERS: usize = 100;
/// Default [`HttpRequestDecoder::max_body_length`]: 8 MiB.
pub const DEFAULT_MAX_BODY_LENGTH: usize = 8 * 1024 * 1024;

/// Header fields parsed on the stack; more than this allocates a `Vec` per request.
const STACK_HEADERS: usize = 100;

/// Decodes HTTP/1.0 and HTTP/1.1 requests, one at a time (pipelined requests
/// follow each other in the input).
///
/// The head is parsed with `httparse` once its end (an empty line) has arrived; the
/// search for that end resumes where it stopped, so a head trickling in byte by byte
/// costs O(head size) in total. The body is framed by `Content-Length` or the
/// chunked coding (RFC 9112) and delivered whole in [`HttpRequest::body`] by
/// [`decode_request`](Self::decode_request), or streamed by
/// [`decode_part`](Self::decode_part): the head, the body's pieces as they arrive,
/// a last part with the trailers.
///
/// # Cost
///
/// The request target and header values are [`Bytes`](seine_buffer::Bytes) views of
/// the received head: not copied when the head lies in one segment, copied once
/// (counted by [`copied_bytes`](Self::copied_bytes)) when it spans several. Body
/// bytes are never copied: a `Content-Length` body is split off the input, a chunked
/// body is the list of its chunks' data.
///
/// # Limits and bad input
///
/// Everything a peer claims is checked before anything is buffered for it:
///
/// * a head longer than [`max_header_length`](HttpRequestDecoderBuilder::max_header_length):
///   [`HttpError::HeadersTooLarge`] (431), or [`HttpError::UriTooLong`] (414) when
///   the request line alone does not fit; more than
///   [`max_headers`](HttpRequestDecoderBuilder::max_headers) fields: [`HttpError::TooManyHeaders`] (431);
/// * a `Content-Length` over [`max_body_length`](HttpRequestDecoderBuilder::max_body_length), or chunks adding
///   up to more: [`HttpError::BodyTooLarge`] (413), before the body is read;
/// * (RFC 9112 §6.3, request smuggling) a `Content-Length` that is not a decimal
///   number, several that differ, `Transfer-Encoding` together with
///   `Content-Length`, `Transfer-Encoding` in an HTTP/1.0 request, `chunked` not last
///   or given twice, a malformed chunk: [`HttpError::BadRequest`] (400); other
///   transfer codings: [`HttpError::UnsupportedTransferEncoding`] (501);
/// * an HTTP/1.1 request without exactly one `Host`: 400; an `Expect` other than
///   `100-continue`: 417; a request line that is not three parts, or input that does
///   not start with a method: 400; HTTP/1.x with x > 1 is read as HTTP/1.1 (RFC 9110
///   §2.5), another major version is 505;
/// * input ending inside a request: [`HttpError::Truncated`] from `decode_eof`.
///
/// After an error the decoder starts over; the connection should be closed (the
/// input is no longer framed).
///
/// # `Expect: 100-continue`
///
/// When an HTTP/1.1 request asks for it and its body has not arrived,
/// [`take_continue`](Self::take_continue) returns `true` once: the server should then
/// write `HTTP/1.1 100 Continue` ([`HttpServerCodec`](super::HttpServerCodec) does).
///
/// # Examples
///
/// ```
/// use seine_buffer::CompositeBuf;
/// use seine_codec::http::{HttpRequestDecoder, Method};
///
/// let mut dec = HttpRequestDecoder::new();
/// let mut buf = CompositeBuf::from(
///     &b"POST /submit HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloGET / HTTP/1.1\r\nHost: x\r\n\r\n"[..],
/// );
/// let post = dec.decode_request(&mut buf).unwrap().unwrap();
/// assert_eq!(post.method, Method::Post);
/// assert_eq!(post.body, b"hello"[..]);
/// let get = dec.decode_request(&mut buf).unwrap().unwrap();
/// assert_eq!(get.path(), "/");
/// assert!(buf.is_empty());
/// ```
#[derive(Clone, Debug)]
pub struct HttpRequestDecoder {
    max_header_length: usize,
    max_headers: usize,
    max_body_length: usize,
    state: State,
    copied: u64,
}

#[derive(Clone, Debug)]
enum State {
    /// Looking for the end of a head; `scanned` bytes hold no end yet.
    Head { scanned: usize },
    /// The head is parsed; the body is being read (into `req` when the request is
    /// delivered whole, streamed when `req` is `None`).
    Body {
        req: Option<Box<HttpRequest>>,
        framing: Framing,
        continue_pending: bool,
    },
    /// A streamed request without a body: its (empty) last part is next.
    EmptyBody,
}

#[derive(Clone, Debug)]
enum Framing {
    /// `Content-Length`: `total` bytes, `left` still to come.
    Length {
        total: u64,
        left: u64,
    },
    Chunked(ChunkedDecoder),
}

impl Framing {
    fn received(&self) -> u64 {
        match self {
            Framing::Length { total, left } => total - left,
            Framing::Chunked(c) => c.received(),
        }
    }
}

/// Configures an [`HttpRequestDecoder`]; made by [`HttpRequestDecoder::builder`].
/// Defaults: as [`HttpRequestDecoder::new`] (64 KiB head, 100 fields, 8 MiB body).
///
/// ```
/// use seine_buffer::CompositeBuf;
/// use seine_codec::CodecError;
/// use seine_codec::http::{HttpError, HttpRequestDecoder};
///
/// let mut dec = HttpRequestDecoder::builder()
///     .max_header_length(64)
///     .max_headers(1)
///     .max_body_length(4)
///     .build()?;
/// assert_eq!(dec.max_body_length(), 4);
/// let mut buf = CompositeBuf::from(&b"PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n"[..]);
/// assert_eq!(dec.decode_request(&mut buf), Err(HttpError::TooManyHeaders { max: 1 }));
/// # Ok::<(), CodecError>(())
/// ```
#[derive(Clone, Debug)]
#[must_use = "call build() to get the decoder"]
pub struct HttpRequestDecoderBuilder {
    max_header_length: usize,
    max_headers: usize,
    max_body_length: usize,
}

impl Default for HttpRequestDecoderBuilder {
    fn default() -> Self {
        HttpRequestDecoderBuilder {
            max_header_length: DEFAULT_MAX_HEADER_LENGTH,
            max_headers: DEFAULT_MAX_HEADERS,
            max_body_length: DEFAULT_MAX_BODY_LENGTH,
        }
    }
}

impl HttpRequestDecoderBuilder {
    /// The longest head (request line + headers, and a chunked body's trailers)
    /// accepted, in bytes; longer is 431 (414 for the request line alone).
    ///
    /// ```
    /// use seine_buffer::CompositeBuf;
    /// use seine_codec::http::HttpRequestDecoder;
    /// let mut dec = HttpRequestDecoder::builder().max_header_length(32).build().unwrap();
    /// let mut buf = CompositeBuf::from(&b"GET / HTTP/1.1\r\nHost: a-long-host-name\r\n\r\n"[..]);
    /// assert_eq!(dec.decode_request(&mut buf).unwrap_err().status(), 431);
    /// ```
    pub fn max_header_length(mut self, max: usize) -> Self {
        self.max_header_length = max;
        self
    }

    /// The largest number of header fields accepted; more is 431.
    pub fn max_headers(mut self, max: usize) -> Self {
        self.max_headers = max;
        self
    }

    /// The largest body accepted, in bytes; larger is 413.
    ///
    /// ```
    /// use seine_buffer::CompositeBuf;
    /// use seine_codec::http::{HttpError, HttpRequestDecoder};
    /// let mut dec = HttpRequestDecoder::builder().max_body_length(4).build().unwrap();
    /// let mut buf = CompositeBuf::from(&b"PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n"[..]);
    /// assert_eq!(dec.decode_request(&mut buf), Err(HttpError::BodyTooLarge { length: 5, max: 4 }));
    /// ```
    pub fn max_body_length(mut self, max: usize) -> Self {
        self.max_body_length = max;
        self
    }

    /// Builds the decoder. Does not allocate.
    ///
    /// # Errors
    ///
    /// None today (every limit is valid); the `Result` keeps one convention
    /// across the codecs' builders.
    pub fn build(self) -> Result<HttpRequestDecoder, CodecError> {
        Ok(HttpRequestDecoder {
            max_header_length: self.max_header_length,
            max_headers: self.max_headers,
            max_body_length: self.max_body_length,
            state: State::Head { scanned: 0 },
            copied: 0,
        })
    }
}

impl Default for HttpRequestDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl HttpRequestDecoder {
    /// A decoder with the default limits: 64 KiB head, 100 fields, 8 MiB body.
    /// Does not allocate.
    ///
    /// ```
    /// let _ = seine_codec::http::HttpRequestDecoder::new();
    /// ```
    pub fn new() -> Self {
        HttpRequestDecoder {
            max_header_length: DEFAULT_MAX_HEADER_LENGTH,
            max_headers: DEFAULT_MAX_HEADERS,
            max_body_length: DEFAULT_MAX_BODY_LENGTH,
            state: State::Head { scanned: 0 },
            copied: 0,
        }
    }

    /// A builder with the defaults of [`new`](Self::new).
    pub fn builder() -> HttpRequestDecoderBuilder {
        HttpRequestDecoderBuilder::default()
    }

    /// The longest head accepted, in bytes.
    pub fn max_header_length(&self) -> usize {
        self.max_header_length
    }

    /// The largest number of header fields accepted.
    pub fn max_headers(&self) -> usize {
        self.max_headers
    }

    /// The largest body accepted, in bytes.
    pub fn max_body_length(&self) -> usize {
        self.max_body_length
    }

    /// Bytes of heads copied because they spanned segments.
    ///
    /// ```
    /// assert_eq!(seine_codec::http::HttpRequestDecoder::new().copied_bytes(), 0);
    /// ```
    pub fn copied_bytes(&self) -> u64 {
        self.copied
    }

    /// Whether the head of a request has been decoded and its body is awaited.
    ///
    /// ```
    /// use seine_buffer::CompositeBuf;
    /// let mut dec = seine_codec::http::HttpRequestDecoder::new();
    /// let mut buf = CompositeBuf::from(&b"PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nab"[..]);
    /// assert!(dec.decode_request(&mut buf).unwrap().is_none());
    /// assert!(dec.in_body());
    /// ```
    pub fn in_body(&self) -> bool {
        matches!(self.state, State::Body { .. })
    }

    /// Returns `true` once per request that asked for `Expect: 100-continue` and
    /// whose body is awaited: the moment to answer `100 Continue`.
    ///
    /// ```
    /// use seine_buffer::CompositeBuf;
    /// let mut dec = seine_codec::http::HttpRequestDecoder::new();
    /// let mut buf = CompositeBuf::from(
    ///     &b"PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"[..],
    /// );
    /// assert!(dec.decode_request(&mut buf).unwrap().is_none());
    /// assert!(dec.take_continue());
    /// assert!(!dec.take_continue());
    /// ```
    pub fn take_continue(&mut self) -> bool {
        match &mut self.state {
            State::Body {
                continue_pending, ..
            } => std::mem::take(continue_pending),
            State::Head { .. } | State::EmptyBody => false,
        }
    }

    /// Decodes one request if complete, with the typed error.
    /// [`Decoder::decode`] is this with the error converted to [`CodecError`].
    ///
    /// # Errors
    ///
    /// See the type's documentation; each [`HttpError`] has its status.
    pub fn decode_request(
        &mut self,
        src: &mut CompositeBuf,
    ) -> Result<Option<HttpRequest>, HttpError> {
        let result = self.step(src);
        if result.is_err() {
            self.state = State::Head { scanned: 0 };
        }
        result
    }

    /// Reads and checks a head, if it has all arrived.
    #[allow(clippy::type_complexity)]
    fn head(
        &mut self,
        src: &mut CompositeBuf,
    ) -> Result<Option<(HttpRequest, Framing, bool)>, HttpError> {
        let State::Head { scanned } = &mut self.state else {
            unreachable!("called in the head state");
        };
        if *scanned == 0 {
            // RFC 9112 §2.2: ignore empty lines before a request line (clients
            // sometimes send a CRLF after a body).
            while matches!(src.get_u8_at(0), Some(b'\r' | b'\n')) {
                src.advance(1);
            }
        }
        let Some(end) = self.find_head_end(src)? else {
            return Ok(None);
        };
        let req = self.parse_head(src, end)?;
        self.state = State::Head { scanned: 0 };
        let (framing, continue_pending) = self.framing(&req)?;
        Ok(Some((req, framing, continue_pending)))
    }

    fn step(&mut self, src: &mut CompositeBuf) -> Result<Option<HttpRequest>, HttpError> {
        match &self.state {
            State::Head { .. } => {
                let Some((req, framing, continue_pending)) = self.head(src)? else {
                    return Ok(None);
                };
                match framing {
                    Framing::Length { total: 0, .. } => return Ok(Some(req)),
                    framing => {
                        self.state = State::Body {
                            req: Some(Box::new(req)),
                            framing,
                            continue_pending,
                        }
                    }
                }
            }
            State::Body { req: Some(_), .. } => {}
            State::Body { req: None, .. } | State::EmptyBody => {
                return Err(HttpError::bad(
                    "decode_request called inside a streamed request",
                ));
            }
        }
        let State::Body {
            req: Some(req),
            framing,
            ..
        } = &mut self.state
        else {
            unreachable!("the head was parsed above");
        };
        let done = match framing {
            Framing::Length { total, left } => {
                // `total` was checked against max_body_length (a usize).
                if (src.len() as u64) < *total {
                    false
                } else {
                    req.body = src.split_to(*total as usize);
                    *left = 0;
                    true
                }
            }
            Framing::Chunked(c) => c.decode(src, &mut req.body)?,
        };
        if !done {
            return Ok(None);
        }
        match std::mem::replace(&mut self.state, State::Head { scanned: 0 }) {
            State::Body { req: Some(req), .. } => Ok(Some(*req)),
            _ => unreachable!("in a body"),
        }
    }

    /// Finds the end of the head (just past its empty line), resuming the search.
    fn find_head_end(&mut self, src: &CompositeBuf) -> Result<Option<usize>, HttpError> {
        let State::Head { scanned } = &mut self.state else {
            unreachable!("called in the head state");
        };
        // A request starts with a method token (after empty lines, RFC 9112 §2.2):
        // anything else (a TLS handshake, binary junk) is refused at once rather
        // than when the head would have been too long or the peer timed out.
        if *scanned == 0
            && let Some(b) = (0..src.len().min(16))
                .filter_map(|at| src.get_u8_at(at))
                .find(|&b| b != b'\r' && b != b'\n')
            && !is_tchar(b)
        {
            return Err(HttpError::bad("the request does not start with a method"));
        }
        let limit = self.max_header_length;
        let (found, i) = match (src.chunk().len() == src.len()).then(|| src.chunk()) {
            // The common case (the head in one read): the scan on a plain slice.
            Some(bytes) => scan_head(
                |from| memchr::memchr(b'\n', bytes.get(from..)?).map(|p| from + p),
                |at| bytes.get(at).copied(),
                src.len(),
                *scanned,
                limit,
            ),
            None => scan_head(
                |from| src.find_byte(b'\n', from),
                |at| src.get_u8_at(at),
                src.len(),
                *scanned,
                limit,
            ),
        };
        *scanned = i;
        match found {
            Some(end) if end <= limit => Ok(Some(end)),
            Some(end) => Err(HttpError::HeadersTooLarge {
                size: end,
                max: limit,
            }),
            None if src.len() > limit => {
                if src.find_byte(b'\n', 0).is_none_or(|lf| lf >= limit) {
                    Err(HttpError::UriTooLong { max: limit })
                } else {
                    Err(HttpError::HeadersTooLarge {
                        size: src.len(),
                        max: limit,
                    })
                }
            }
            None => Ok(None),
        }
    }

    /// Cuts the head (`end` bytes) off `src` and parses it.
    fn parse_head(&mut self, src: &mut CompositeBuf, end: usize) -> Result<HttpRequest, HttpError> {
        if end > src.chunk().len() {
            self.copied += end as u64; // across segments: `copy_to_bytes` copies
        }
        let head = src.copy_to_bytes(end);
        match self.parse_bytes(&head) {
            Err(HttpError::UnsupportedVersion) => self.parse_bytes(&as_http11(&head)?),
            parsed => parsed,
        }
    }

    fn parse_bytes(&mut self, head: &Bytes) -> Result<HttpRequest, HttpError> {
        let mut stack = [httparse::EMPTY_HEADER; STACK_HEADERS];
        let mut heap = Vec::new();
        let storage: &mut [httparse::Header<'_>] = if self.max_headers <= STACK_HEADERS {
            &mut stack[..self.max_headers]
        } else {
            heap.resize(self.max_headers, httparse::EMPTY_HEADER);
            &mut heap
        };
        let mut parsed = httparse::Request::new(storage);
        match parsed.parse(head) {
            Ok(httparse::Status::Complete(n)) if n == head.len() => {}
            Ok(_) => return Err(HttpError::bad("malformed request head")),
            Err(httparse::Error::TooManyHeaders) => {
                return Err(HttpError::TooManyHeaders {
                    max: self.max_headers,
                });
            }
            Err(httparse::Error::Version) => return Err(HttpError::UnsupportedVersion),
            Err(e) => return Err(HttpError::bad(format!("malformed request head: {e}"))),
        }
        let (Some(method), Some(path), Some(version)) =
            (parsed.method, parsed.path, parsed.version)
        else {
            return Err(HttpError::bad("incomplete request line"));
        };
        let mut headers = HttpHeaders::new();
        headers.reserve(parsed.headers.len());
        for h in parsed.headers.iter() {
            headers.append(head.slice_ref(h.name.as_bytes()), head.slice_ref(h.value));
        }
        Ok(HttpRequest {
            method: Method::from_token(method),
            uri: head.slice_ref(path.as_bytes()),
            version: if version == 0 {
                Version::Http10
            } else {
                Version::Http11
            },
            headers,
            body: CompositeBuf::new(),
        })
    }

    /// How the body is framed (RFC 9112 §6), and whether to answer 100 Continue.
    fn framing(&self, req: &HttpRequest) -> Result<(Framing, bool), HttpError> {
        let h = &req.headers;
        let hosts = h.get_all("host").count();
        if hosts > 1 || (hosts == 0 && req.version == Version::Http11) {
            return Err(HttpError::bad(format!(
                "an HTTP/1.1 request needs exactly one Host header, this one has {hosts}"
            )));
        }
        // RFC 9112 §3.2: a Host that is not `host[:port]` is a 400 too (it may be
        // empty: a target without an authority).
        if let Some(host) = h.get("host")
            && !host.iter().all(|&b| is_host_char(b))
        {
            return Err(HttpError::bad(format!(
                "invalid Host {:?}",
                String::from_utf8_lossy(host)
            )));
        }
        let mut length: Option<u64> = None;
        for value in h.get_all("content-length") {
            for part in value.split(|&b| b == b',') {
                let part = part.trim_ascii();
                if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
                    return Err(HttpError::bad(format!(
                        "invalid Content-Length {:?}",
                        String::from_utf8_lossy(value)
                    )));
                }
                let n = part.iter().try_fold(0u64, |n, &d| {
                    n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
                });
                let n = n.ok_or_else(|| HttpError::bad("Content-Length overflows 64 bits"))?;
                match length {
                    Some(prev) if prev != n => {
                        return Err(HttpError::bad(format!(
                            "conflicting Content-Length values {prev} and {n}"
                        )));
                    }
                    _ => length = Some(n),
                }
            }
        }
        let mut chunked = false;
        if h.contains("transfer-encoding") {
            if req.version == Version::Http10 {
                return Err(HttpError::bad("Transfer-Encoding in an HTTP/1.0 request"));
            }
            if length.is_some() {
                return Err(HttpError::bad(
                    "both Content-Length and Transfer-Encoding (a request smuggling pattern)",
                ));
            }
            let codings: Vec<&[u8]> = h
                .get_all("transfer-encoding")
                .flat_map(|v| v.split(|&b| b == b','))
                .map(<[u8]>::trim_ascii)
                .filter(|t| !t.is_empty())
                .collect();
            let is_chunked = |t: &&[u8]| t.eq_ignore_ascii_case(b"chunked");
            let te_value = || {
                h.get_all("transfer-encoding")
                    .map(|v| String::from_utf8_lossy(v).into_owned())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            if !codings.last().is_some_and(is_chunked) {
                return Err(HttpError::bad(format!(
                    "Transfer-Encoding {:?} does not end with chunked",
                    te_value()
                )));
            }
            if !codings.iter().all(is_chunked) {
                return Err(HttpError::UnsupportedTransferEncoding { value: te_value() });
            }
            if codings.len() > 1 {
                return Err(HttpError::bad("chunked applied more than once"));
            }
            chunked = true;
        }
        if let Some(n) = length
            && n > self.max_body_length as u64
        {
            return Err(HttpError::BodyTooLarge {
                length: n,
                max: self.max_body_length,
            });
        }
        let framing = if chunked {
            Framing::Chunked(ChunkedDecoder::new(
                self.max_body_length as u64,
                self.max_header_length,
            ))
        } else {
            let total = length.unwrap_or(0);
            Framing::Length { total, left: total }
        };
        let mut continue_pending = false;
        if let Some(expect) = h.get("expect") {
            if !expect.trim_ascii().eq_ignore_ascii_case(b"100-continue") {
                return Err(HttpError::ExpectationFailed {
                    value: String::from_utf8_lossy(expect).into_owned(),
                });
            }
            continue_pending = req.version == Version::Http11
                && !matches!(framing, Framing::Length { total: 0, .. });
        }
        Ok((framing, continue_pending))
    }
}

impl Decoder for HttpRequestDecoder {
    type Item = HttpRequest;

    fn decode(&mut self, src: &mut CompositeBuf) -> Result<Option<HttpRequest>, CodecError> {
        self.decode_request(src).map_err(CodecError::from)
    }

    fn decode_eof(&mut self, src: &mut CompositeBuf) -> Result<Option<HttpRequest>, CodecError> {
        self.decode_request_eof(src).map_err(CodecError::from)
    }
}

impl HttpRequestDecoder {
    /// At the end of input: the last request if complete; empty lines are ignored;
    /// an unfinished request is [`HttpError::Truncated`].
    ///
    /// # Errors
    ///
    /// As [`decode_request`](Self::decode_request), plus [`HttpError::Truncated`].
    ///
    /// ```
    /// use seine_buffer::CompositeBuf;
    /// use seine_codec::http::{HttpError, HttpRequestDecoder};
    /// let mut dec = HttpRequestDecoder::new();
    /// let mut buf = CompositeBuf::from(&b"GET / HT"[..]);
    /// assert_eq!(dec.decode_request_eof(&mut buf), Err(HttpError::Truncated { received: 8 }));
    /// ```
    pub fn decode_request_eof(
        &mut self,
        src: &mut CompositeBuf,
    ) -> Result<Option<HttpRequest>, HttpError> {
        if let Some(req) = self.decode_request(src)? {
            return Ok(Some(req));
        }
        self.truncated(src)
    }

    /// The end of input where no more could be decoded: fine between requests,
    /// [`HttpError::Truncated`] inside one.
    fn truncated<T>(&mut self, src: &mut CompositeBuf) -> Result<Option<T>, HttpError> {
        let in_body = match &self.state {
            State::Body { framing, .. } => Some(framing.received()),
            State::Head { .. } | State::EmptyBody => None,
        };
        if in_body.is_none() && src.is_empty() {
            return Ok(None);
        }
        let received = usize::try_from(in_body.unwrap_or(0))
            .unwrap_or(usize::MAX)
            .saturating_add(src.len());
        self.state = State::Head { scanned: 0 };
        src.clear();
        Err(HttpError::Truncated { received })
    }
}

/// Looks for the empty line that ends a head, from `start`, in `len` bytes that
/// `find_lf` (the next `\n` at or after an index) and `byte` read. Returns where
/// the head ends (just past the empty line) if found, and where a later search
/// resumes. Gives up once past `limit`.
#[inline]
fn scan_head(
    find_lf: impl Fn(usize) -> Option<usize>,
    byte: impl Fn(usize) -> Option<u8>,
    len: usize,
    start: usize,
    limit: usize,
) -> (Option<usize>, usize) {
    let mut i = start;
    loop {
        let Some(lf) = find_lf(i) else {
            return (None, len);
        };
        match (byte(lf + 1), byte(lf + 2)) {
            (Some(b'\n'), _) => return (Some(lf + 2), i),
            (Some(b'\r'), Some(b'\n')) => return (Some(lf + 3), i),
            (None, _) | (Some(b'\r'), None) => return (None, lf),
            _ => {
                i = lf + 1;
                if i > limit {
                    return (None, i);
                }
            }
        }
    }
}

/// A byte of `uri-host [ ":" port ]` (RFC 3986: unreserved, percent-encoded,
/// sub-delims, and the `:` `[` `]` of ports and IPv6 literals).
fn is_host_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~%!$&'()*+,;=:[]".contains(&b)
}

/// A token character (RFC 9110 §5.6.2), what methods are made of.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// A head that httparse refused for its version, rewritten as HTTP/1.1 when it is
/// HTTP/1.x with x > 1 (RFC 9110 §2.5: process it as the highest minor version
/// supported); otherwise the error to answer: 400 for a request line that is not
/// three parts (a raw space in the target, for instance), 505 for another major
/// version.
fn as_http11(head: &[u8]) -> Result<Bytes, HttpError> {
    let line_end = memchr::memchr(b'\n', head).unwrap_or(head.len());
    let line = head[..line_end]
        .strip_suffix(b"\r")
        .unwrap_or(&head[..line_end]);
    let parts: Vec<&[u8]> = line.split(|&b| b == b' ').collect();
    let [_, _, version] = parts[..] else {
        return Err(HttpError::bad(
            "the request line is not METHOD SP TARGET SP VERSION",
        ));
    };
    match version.strip_prefix(b"HTTP/1.") {
        Some(minor) if !minor.is_empty() && minor.iter().all(u8::is_ascii_digit) => {
            let at = line.len() - minor.len();
            let mut fixed = Vec::with_capacity(head.len() - minor.len() + 1);
            fixed.extend_from_slice(&head[..at]);
            fixed.push(b'1');
            fixed.extend_from_slice(&head[at + minor.len()..]);
            Ok(Bytes::from(fixed))
        }
        _ => Err(HttpError::UnsupportedVersion),
    }
}
