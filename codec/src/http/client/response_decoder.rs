//! [`HttpResponseDecoder`]: HTTP/1.x responses, streamed as a head and body parts,
//! framed by the message-body-length rules of RFC 9112 §6.3.

use std::collections::VecDeque;

use seine_buffer::{Buf, Bytes, CompositeBuf};

use super::error::HttpClientError;
use super::response_head::{HttpResponseHead, content_length};
use crate::decoder::Decoder;
use crate::error::CodecError;
use crate::http::decoder::scan_head;
use crate::http::{
    ChunkedDecoder, DEFAULT_MAX_HEADER_LENGTH, DEFAULT_MAX_HEADERS, HttpContent, HttpHeaders,
    HttpPart, LastHttpContent, Method, Version,
};

/// A streamed response: an [`HttpResponseHead`], then [`HttpContent`] body parts,
/// then one [`LastHttpContent`], what [`HttpResponseDecoder`] produces and
/// [`HttpClientCodec`](super::HttpClientCodec) fires.
pub type HttpResponsePart = HttpPart<HttpResponseHead>;

/// Header fields parsed on the stack; more than this allocates per response.
const STACK_HEADERS: usize = 100;

/// What the decoder needs to know of the request a response answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sent {
    /// `HEAD`: the response has no body, whatever its fields say.
    Head,
    /// `CONNECT`: a 2xx response turns the connection into a tunnel.
    Connect,
    /// Any other method.
    Other,
}

/// Decodes HTTP/1.0 and HTTP/1.1 responses, as a client reads them: each one as
/// an [`HttpPart::Head`], zero or more [`HttpPart::Content`] and exactly one
/// [`HttpPart::Last`] ([`HttpResponsePart`]). The body is never held whole: each
/// call hands out what the input holds of it, so a download of any size passes
/// through a bounded buffer.
///
/// # Which request a response answers
///
/// Whether a response has a body depends on its request (RFC 9112 §6.3): call
/// [`expect_response`](Self::expect_response) with each request's method as the
/// request is sent (pipelined requests queue up; [`HttpClientCodec`](super::HttpClientCodec)
/// does this for you). A response with no request waiting is
/// [`HttpClientError::UnsolicitedResponse`].
///
/// # Body length (RFC 9112 §6.3)
///
/// In this order:
///
/// 1. a response to `HEAD`, a 1xx, 204 or 304 response has no body (its
///    `Content-Length` describes the resource, not this message);
/// 2. a 1xx other than 101 is interim: it is delivered as a head followed at once
///    by its `Last`, and the same request still awaits its final response (skip
///    heads whose status is below 200 if you do not care for them);
/// 3. 101 (Switching Protocols), or a 2xx answer to `CONNECT`: the connection
///    leaves HTTP after the head; the decoder delivers the head and `Last` and
///    then decodes nothing more (the bytes after it are left in the input, for
///    the protocol that takes over);
/// 4. `Transfer-Encoding` ending with `chunked`: the chunked coding (any
///    `Content-Length` is ignored); other codings are delivered as they are,
///    with the fields saying which; a `Transfer-Encoding` not ending with
///    `chunked`: the body runs until the connection closes;
/// 5. a valid `Content-Length`: that many bytes (an invalid or conflicting one is
///    [`HttpClientError::BadResponse`]);
/// 6. otherwise the body runs until the connection closes (close-delimited).
///
/// # End of input
///
/// [`decode_part_eof`](Self::decode_part_eof) ends a close-delimited body with its
/// `Last`. Anywhere else, an early end is a typed error, never a body that looks
/// complete: [`HttpClientError::TruncatedHead`],
/// [`HttpClientError::TruncatedBody`] (inside a `Content-Length` or chunked body),
/// or [`HttpClientError::NoResponse`] (requests still waiting).
///
/// # Limits and cost
///
/// The status line and header fields together may be at most
/// [`max_header_length`](HttpResponseDecoderBuilder::max_header_length) bytes (64 KiB),
/// with at most [`max_headers`](HttpResponseDecoderBuilder::max_headers) fields (100);
/// a chunked body's trailers have the same byte limit. Longer:
/// [`HttpClientError::HeadTooLarge`] / [`HttpClientError::TooManyHeaders`], before
/// anything more is buffered. Body bytes are not copied: a part's data is split
/// off the input. The head is copied once when it spans segments.
///
/// # Examples
///
/// ```
/// use seine_buffer::CompositeBuf;
/// use seine_codec::http::{HttpPart, HttpResponseDecoder, Method};
///
/// let mut dec = HttpResponseDecoder::new();
/// dec.expect_response(&Method::Head);
/// dec.expect_response(&Method::Get);
/// let mut buf = CompositeBuf::from(
///     &b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel"[..],
/// );
/// // The HEAD response: a head and its end, no body despite Content-Length.
/// assert!(matches!(dec.decode_part(&mut buf), Ok(Some(HttpPart::Head(h))) if h.status == 200));
/// assert!(matches!(dec.decode_part(&mut buf), Ok(Some(HttpPart::Last(_)))));
/// // The GET response: its body as it arrives.
/// assert!(matches!(dec.decode_part(&mut buf), Ok(Some(HttpPart::Head(_)))));
/// assert!(matches!(dec.decode_part(&mut buf), Ok(Some(HttpPart::Content(c))) if c.data() == &b"hel"[..]));
/// assert!(matches!(dec.decode_part(&mut buf), Ok(None)));
/// buf.push(seine_buffer::Bytes::from_static(b"lo"));
/// assert!(matches!(dec.decode_part(&mut buf), Ok(Some(HttpPart::Last(l))) if l.data() == &b"lo"[..]));
/// ```
#[derive(Debug)]
pub struct HttpResponseDecoder {
    max_header_length: usize,
    max_headers: usize,
    sent: VecDeque<Sent>,
    state: State,
    copied: u64,
}

#[derive(Debug)]
enum State {
    /// Looking for the end of a head; `scanned` bytes hold no end yet.
    Head { scanned: usize },
    /// A head was delivered that has no body: its `Last` comes next.
    End { then: After },
    /// A `Content-Length` body with `left` of `length` bytes to come.
    Length { left: u64, length: u64 },
    /// A chunked body (the request side's decoder, with trailers).
    Chunked(ChunkedDecoder),
    /// A body that ends when the input does.
    UntilClose,
    /// The connection left HTTP (101, or a tunnel after `CONNECT`), or a
    /// close-delimited body ended: nothing more is decoded.
    Done,
}

/// Where the decoder goes after a `Last`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum After {
    /// The next response.
    NextHead,
    /// Nowhere: the connection left HTTP.
    Done,
}

/// Configures an [`HttpResponseDecoder`]; made by [`HttpResponseDecoder::builder`].
/// Defaults: as [`HttpResponseDecoder::new`] (64 KiB head, 100 fields).
///
/// ```
/// use seine_buffer::CompositeBuf;
/// use seine_codec::http::{HttpClientError, HttpResponseDecoder, Method};
///
/// let mut dec = HttpResponseDecoder::builder().max_headers(1).build()?;
/// dec.expect_response(&Method::Get);
/// let mut buf = CompositeBuf::from(&b"HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\n\r\n"[..]);
/// assert_eq!(dec.decode_part(&mut buf).unwrap_err(), HttpClientError::TooManyHeaders { max: 1 });
/// # Ok::<(), seine_codec::CodecError>(())
/// ```
#[derive(Clone, Debug)]
#[must_use = "call build() to get the decoder"]
pub struct HttpResponseDecoderBuilder {
    max_header_length: usize,
    max_headers: usize,
}

impl Default for HttpResponseDecoderBuilder {
    fn default() -> Self {
        HttpResponseDecoderBuilder {
            max_header_length: DEFAULT_MAX_HEADER_LENGTH,
            max_headers: DEFAULT_MAX_HEADERS,
        }
    }
}

impl HttpResponseDecoderBuilder {
    /// The longest head (status line and header fields), and the longest trailer
    /// section, accepted in bytes.
    pub fn max_header_length(mut self, max: usize) -> Self {
        self.max_header_length = max;
        self
    }

    /// The largest number of header fields accepted.
    pub fn max_headers(mut self, max: usize) -> Self {
        self.max_headers = max;
        self
    }

    /// Builds the decoder. Does not allocate.
    ///
    /// # Errors
    ///
    /// None today (every limit is valid); the `Result` keeps one convention
    /// across the codecs' builders.
    pub fn build(self) -> Result<HttpResponseDecoder, CodecError> {
        Ok(HttpResponseDecoder {
            max_header_length: self.max_header_length,
            max_headers: self.max_headers,
            sent: VecDeque::new(),
            state: State::Head { scanned: 0 },
            copied: 0,
        })
    }
}

impl Default for HttpResponseDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl HttpResponseDecoder {
    /// A decoder with the default limits: 64 KiB head, 100 fields.
    ///
    /// ```
    /// let _ = seine_codec::http::HttpResponseDecoder::new();
    /// ```
    pub fn new() -> Self {
        HttpResponseDecoder {
            max_header_length: DEFAULT_MAX_HEADER_LENGTH,
            max_headers: DEFAULT_MAX_HEADERS,
            sent: VecDeque::new(),
            state: State::Head { scanned: 0 },
            copied: 0,
        }
    }

    /// A builder with the defaults of [`new`](Self::new).
    pub fn builder() -> HttpResponseDecoderBuilder {
        HttpResponseDecoderBuilder::default()
    }

    /// The longest head accepted, in bytes.
    pub fn max_header_length(&self) -> usize {
        self.max_header_length
    }

    /// The largest number of header fields accepted.
    pub fn max_headers(&self) -> usize {
        self.max_headers
    }

    /// Bytes of heads copied because they spanned segments.
    pub fn copied_bytes(&self) -> u64 {
        self.copied
    }

    /// Records that a request with `method` was sent: the next response without a
    /// request answers it. Call once per request, in the order they are sent.
    ///
    /// ```
    /// use seine_codec::http::{HttpResponseDecoder, Method};
    /// let mut dec = HttpResponseDecoder::new();
    /// dec.expect_response(&Method::Get);
    /// assert_eq!(dec.pending_requests(), 1);
    /// ```
    pub fn expect_response(&mut self, method: &Method) {
        self.sent.push_back(match method {
            Method::Head => Sent::Head,
            Method::Connect => Sent::Connect,
            _ => Sent::Other,
        });
    }

    /// Requests sent whose final response has not begun.
    pub fn pending_requests(&self) -> usize {
        self.sent.len()
    }

    /// Whether a response has begun and its `Last` has not been delivered.
    ///
    /// ```
    /// assert!(!seine_codec::http::HttpResponseDecoder::new().in_response());
    /// ```
    pub fn in_response(&self) -> bool {
        matches!(
            self.state,
            State::End { .. } | State::Length { .. } | State::Chunked(_) | State::UntilClose
        )
    }

    /// Whether the decoder has stopped: after a 101, a 2xx to `CONNECT`, or the end
    /// of a close-delimited body. The input's remaining bytes are not HTTP.
    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Done)
    }

    /// Decodes the next part if the input holds it (a head once complete, body
    /// bytes as soon as any are there), with the typed error. [`Decoder::decode`]
    /// is this with the error converted to [`CodecError`].
    ///
    /// A part without a body (the `Last` of a response that has none) is returned
    /// without consuming input: call again until `Ok(None)`.
    ///
    /// # Errors
    ///
    /// See the type's documentation. After an error the decoder is done
    /// ([`is_done`](Self::is_done)): close the connection.
    pub fn decode_part(
        &mut self,
        src: &mut CompositeBuf,
    ) -> Result<Option<HttpResponsePart>, HttpClientError> {
        let result = self.step(src);
        if result.is_err() {
            self.state = State::Done;
            self.sent.clear();
        }
        result
    }

    /// At the end of input: the last parts (the `Last` of a close-delimited
    /// body), then `Ok(None)`; an unfinished response is an error. Call until it
    /// returns `Ok(None)` or an error.
    ///
    /// # Errors
    ///
    /// As [`decode_part`](Self::decode_part), plus [`HttpClientError::TruncatedHead`],
    /// [`HttpClientError::TruncatedBody`] and [`HttpClientError::NoResponse`].
    ///
    /// ```
    /// use seine_buffer::CompositeBuf;
    /// use seine_codec::http::{HttpClientError, HttpPart, HttpResponseDecoder, Method};
    ///
    /// let mut dec = HttpResponseDecoder::new();
    /// dec.expect_response(&Method::Get);
    /// let mut buf = CompositeBuf::from(&b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"[..]);
    /// assert!(matches!(dec.decode_part_eof(&mut buf), Ok(Some(HttpPart::Head(_)))));
    /// assert!(matches!(dec.decode_part_eof(&mut buf), Ok(Some(HttpPart::Content(_)))));
    /// assert_eq!(
    ///     dec.decode_part_eof(&mut buf).unwrap_err(),
    ///     HttpClientError::TruncatedBody { received: 3, expected: Some(10) },
    /// );
    /// ```
    pub fn decode_part_eof(
        &mut self,
        src: &mut CompositeBuf,
    ) -> Result<Option<HttpResponsePart>, HttpClientError> {
        if let Some(part) = self.decode_part(src)? {
            return Ok(Some(part));
        }
        let error = match &self.state {
            State::Done => return Ok(None),
            State::UntilClose => {
                self.state = State::Done;
                return Ok(Some(HttpPart::Last(LastHttpContent::empty())));
            }
            State::Head { .. } if !src.is_empty() => HttpClientError::TruncatedHead {
                received: src.len(),
            },
            State::Head { .. } if !self.sent.is_empty() => HttpClientError::NoResponse {
                pending: self.sent.len(),
            },
            State::Head { .. } => return Ok(None),
            State::Length { left, length } => HttpClientError::TruncatedBody {
                received: length - left,
                expected: Some(*length),
            },
            State::Chunked(chunked) => HttpClientError::TruncatedBody {
                received: chunked.received(),
                expected: None,
            },
            State::End { .. } => unreachable!("decode_part delivers the Last"),
        };
        self.state = State::Done;
        self.sent.clear();
        src.clear();
        Err(error)
    }

    fn step(
        &mut self,
        src: &mut CompositeBuf,
    ) -> Result<Option<HttpResponsePart>, HttpClientError> {
        match &mut self.state {
            State::Head { .. } => self.head(src),
            State::End { then } => {
                self.state = match then {
                    After::NextHead => State::Head { scanned: 0 },
                    After::Done => State::Done,
                };
                Ok(Some(HttpPart::Last(LastHttpContent::empty())))
            }
            State::Length { left, .. } => {
                let part = HttpPart::length_piece(src, left);
                if part.as_ref().is_some_and(HttpPart::is_last) {
                    self.state = State::Head { scanned: 0 };
                }
                Ok(part)
            }
            State::Chunked(chunked) => {
                let mut data = CompositeBuf::new();
                if chunked.decode(src, &mut data)? {
                    let mut last = LastHttpContent::new(data);
                    last.trailers = chunked.take_trailers();
                    self.state = State::Head { scanned: 0 };
                    return Ok(Some(HttpPart::Last(last)));
                }
                if data.is_empty() {
                    return Ok(None);
                }
                Ok(Some(HttpPart::Content(HttpContent::new(data))))
            }
            State::UntilClose => {
                if src.is_empty() {
                    return Ok(None);
                }
                let data = src.split_to(src.len());
                Ok(Some(HttpPart::Content(HttpContent::new(data))))
            }
            State::Done => Ok(None),
        }
    }

    /// Decodes a head if complete, and sets the body's framing.
    fn head(
        &mut self,
        src: &mut CompositeBuf,
    ) -> Result<Option<HttpResponsePart>, HttpClientError> {
        let State::Head { scanned } = &mut self.state else {
            unreachable!("called in the head state");
        };
        if *scanned == 0 {
            // Tolerate empty lines between messages (a stray CRLF after a body).
            while matches!(src.get_u8_at(0), Some(b'\r' | b'\n')) {
                src.advance(1);
            }
            if !src.is_empty() && src.len() >= 5 && !starts_with_http(src) {
                return Err(HttpClientError::bad(
                    "the response does not start with \"HTTP/\"",
                ));
            }
        }
        let limit = self.max_header_length;
        let (found, i) = scan_head(
            |from| src.find_byte(b'\n', from),
            |at| src.get_u8_at(at),
            src.len(),
            *scanned,
            limit,
        );
        *scanned = i;
        let end = match found {
            Some(end) if end <= limit => end,
            Some(end) => {
                return Err(HttpClientError::HeadTooLarge {
                    size: end,
                    max: limit,
                });
            }
            None if src.len() > limit => {
                return Err(HttpClientError::HeadTooLarge {
                    size: src.len(),
                    max: limit,
                });
            }
            None => return Ok(None),
        };
        if end > src.chunk().len() {
            self.copied += end as u64;
        }
        let bytes = src.copy_to_bytes(end);
        let head = self.parse(&bytes)?;
        let Some(&sent) = self.sent.front() else {
            return Err(HttpClientError::UnsolicitedResponse);
        };
        let status = head.status;
        self.state = if (100..200).contains(&status) && status != 101 {
            // Interim: the request still waits for its final response.
            State::End {
                then: After::NextHead,
            }
        } else {
            self.sent.pop_front();
            if status == 101 || (sent == Sent::Connect && (200..300).contains(&status)) {
                State::End { then: After::Done }
            } else if sent == Sent::Head || status < 200 || status == 204 || status == 304 {
                State::End {
                    then: After::NextHead,
                }
            } else {
                body_framing(&head.headers, self.max_header_length)?
            }
        };
        Ok(Some(HttpPart::Head(head)))
    }

    fn parse(&self, head: &Bytes) -> Result<HttpResponseHead, HttpClientError> {
        let mut stack = [httparse::EMPTY_HEADER; STACK_HEADERS];
        let mut heap = Vec::new();
        let storage: &mut [httparse::Header<'_>] = if self.max_headers <= STACK_HEADERS {
            &mut stack[..self.max_headers]
        } else {
            heap.resize(self.max_headers, httparse::EMPTY_HEADER);
            &mut heap
        };
        let mut parsed = httparse::Response::new(storage);
        match parsed.parse(head) {
            Ok(httparse::Status::Complete(n)) if n == head.len() => {}
            Ok(_) => return Err(HttpClientError::bad("malformed response head")),
            Err(httparse::Error::TooManyHeaders) => {
                return Err(HttpClientError::TooManyHeaders {
                    max: self.max_headers,
                });
            }
            Err(httparse::Error::Version) => return Err(HttpClientError::UnsupportedVersion),
            Err(e) => {
                return Err(HttpClientError::bad(format!(
                    "malformed response head: {e}"
                )));
            }
        }
        let (Some(version), Some(status)) = (parsed.version, parsed.code) else {
            return Err(HttpClientError::bad("incomplete status line"));
        };
        if !(100..=999).contains(&status) {
            return Err(HttpClientError::bad(format!(
                "status {status} is not a 3-digit code"
            )));
        }
        let mut headers = HttpHeaders::new();
        headers.reserve(parsed.headers.len());
        for h in parsed.headers.iter() {
            headers.append(head.slice_ref(h.name.as_bytes()), head.slice_ref(h.value));
        }
        Ok(HttpResponseHead {
            status,
            reason: parsed
                .reason
                .map_or_else(Bytes::new, |r| head.slice_ref(r.as_bytes())),
            version: if version == 0 {
                Version::Http10
            } else {
                Version::Http11
            },
            headers,
        })
    }
}

/// Whether the input starts with `HTTP/` (it has at least 5 bytes).
fn starts_with_http(src: &CompositeBuf) -> bool {
    let mut first = [0u8; 5];
    src.copy_to_slice_at(0, &mut first);
    &first == b"HTTP/"
}

/// Items 4 to 7 of RFC 9112 §6.3, for a response that may have a body.
fn body_framing(headers: &HttpHeaders, max_trailers: usize) -> Result<State, HttpClientError> {
    if headers.contains("transfer-encoding") {
        let last = headers
            .get_all("transfer-encoding")
            .flat_map(|v| v.split(|&b| b == b','))
            .map(<[u8]>::trim_ascii)
            .filter(|t| !t.is_empty())
            .last();
        return Ok(match last {
            Some(t) if t.eq_ignore_ascii_case(b"chunked") => {
                State::Chunked(ChunkedDecoder::new(u64::MAX, max_trailers))
            }
            _ => State::UntilClose,
        });
    }
    match content_length(headers).map_err(HttpClientError::bad)? {
        Some(0) => Ok(State::End {
            then: After::NextHead,
        }),
        Some(length) => Ok(State::Length {
            left: length,
            length,
        }),
        None => Ok(State::UntilClose),
    }
}

impl Decoder for HttpResponseDecoder {
    type Item = HttpResponsePart;

    fn decode(&mut self, src: &mut CompositeBuf) -> Result<Option<HttpResponsePart>, CodecError> {
        self.decode_part(src).map_err(CodecError::from)
    }

    fn decode_eof(
        &mut self,
        src: &mut CompositeBuf,
    ) -> Result<Option<HttpResponsePart>, CodecError> {
        self.decode_part_eof(src).map_err(CodecError::from)
    }
}
