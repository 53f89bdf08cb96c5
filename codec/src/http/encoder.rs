//! [`HttpResponseEncoder`]: status line, headers and body, without copying the body.

use super::date::now_imf_fixdate;
use super::request::{Method, Version};
use super::response::{Body, HttpResponse, StreamSource, reason_phrase};
use crate::encoder::{EncodeBuf, Encoder};
use crate::error::CodecError;

/// What the encoder needs to know of the request a response answers.
///
/// ```
/// use seine_codec::http::{ResponseContext, Version};
/// let ctx = ResponseContext::default();
/// assert!(ctx.keep_alive && !ctx.head && ctx.version == Version::Http11);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResponseContext {
    /// The request was `HEAD`: send the headers only (with the `Content-Length` the
    /// body would have).
    pub head: bool,
    /// The request's version (an HTTP/1.0 client gets `Connection: keep-alive` when
    /// the connection stays open, and no chunked coding).
    pub version: Version,
    /// Whether the request allows the connection to stay open.
    pub keep_alive: bool,
}

impl Default for ResponseContext {
    fn default() -> Self {
        ResponseContext {
            head: false,
            version: Version::Http11,
            keep_alive: true,
        }
    }
}

impl ResponseContext {
    /// The context of `req`'s response.
    ///
    /// ```
    /// use seine_codec::http::{HttpRequest, Method, ResponseContext};
    /// let ctx = ResponseContext::of(&HttpRequest::new(Method::Head, "/"));
    /// assert!(ctx.head);
    /// ```
    pub fn of(req: &super::HttpRequest) -> Self {
        ResponseContext {
            head: req.method == Method::Head,
            version: req.version,
            keep_alive: req.keep_alive(),
        }
    }
}

/// Encodes [`HttpResponse`]s as HTTP/1.1.
///
/// Writes the status line and header fields into the output buffer, then the body
/// **without copying it** ([`EncodeBuf::push_bytes`], [`EncodeBuf::push_composite`],
/// [`EncodeBuf::push_file`] for `sendfile`). It manages the framing fields:
///
/// * `Content-Length` from the body (the caller's value is replaced), or
///   `Transfer-Encoding: chunked` for [`Body::Chunked`]; none for 1xx and 204; for a
///   304, and for a `HEAD` response with an empty body, the caller's
///   `Content-Length` is kept;
/// * `Connection: close` when the response or the request asks for it (the caller
///   must then close: [`encode_response`](Self::encode_response) returns `true`),
///   `Connection: keep-alive` to an HTTP/1.0 client otherwise;
/// * `Date`, unless set (formatted once per second per thread).
///
/// Header names must be tokens and values must not contain CR, LF or NUL (they would
/// let a value inject headers): such a response is refused with
/// [`CodecError::Encode`].
///
/// # Examples
///
/// ```
/// use seine_codec::http::{HttpResponse, HttpResponseEncoder, ResponseContext};
/// use seine_codec::EncodeBuf;
///
/// let mut enc = HttpResponseEncoder::builder().date(false).build().unwrap();
/// let mut out = EncodeBuf::new();
/// let close = enc.encode_response(HttpResponse::ok("hi"), &ResponseContext::default(), &mut out).unwrap();
/// assert!(!close);
/// assert_eq!(out.len(), "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi".len());
/// ```
#[derive(Clone, Debug)]
pub struct HttpResponseEncoder {
    date: bool,
}

/// Configures an [`HttpResponseEncoder`]; made by [`HttpResponseEncoder::builder`].
/// Defaults: as [`HttpResponseEncoder::new`] (`Date` added).
///
/// ```
/// let enc = seine_codec::http::HttpResponseEncoder::builder().date(false).build().unwrap();
/// assert!(!enc.date());
/// ```
#[derive(Clone, Debug)]
#[must_use = "call build() to get the encoder"]
pub struct HttpResponseEncoderBuilder {
    date: bool,
}

impl Default for HttpResponseEncoderBuilder {
    fn default() -> Self {
        HttpResponseEncoderBuilder { date: true }
    }
}

impl HttpResponseEncoderBuilder {
    /// Whether to add a `Date` field to responses that have none (`true` by
    /// default).
    pub fn date(mut self, on: bool) -> Self {
        self.date = on;
        self
    }

    /// Builds the encoder.
    ///
    /// # Errors
    ///
    /// None today; the `Result` keeps one convention across the codecs' builders.
    pub fn build(self) -> Result<HttpResponseEncoder, CodecError> {
        Ok(HttpResponseEncoder { date: self.date })
    }
}

impl Default for HttpResponseEncoder {
    fn default() -> Self {
        Self::new()
    }
}

impl HttpResponseEncoder {
    /// An encoder that adds `Date`.
    ///
    /// ```
    /// let _ = seine_codec::http::HttpResponseEncoder::new();
    /// ```
    pub fn new() -> Self {
        HttpResponseEncoder { date: true }
    }

    /// A builder with the defaults of [`new`](Self::new).
    pub fn builder() -> HttpResponseEncoderBuilder {
        HttpResponseEncoderBuilder::default()
    }

    /// Whether a `Date` field is added to responses that have none.
    ///
    /// ```
    /// assert!(seine_codec::http::HttpResponseEncoder::new().date());
    /// ```
    pub fn date(&self) -> bool {
        self.date
    }

    /// Encodes `resp` as the answer to a request described by `ctx`. Returns whether
    /// the connection must close once it is written.
    ///
    /// A [`Body::Stream`] from an input is read to its end here, into `dst`
    /// ([`HttpServerCodec`](super::HttpServerCodec) pulls it instead, as the channel
    /// can take it).
    ///
    /// # Errors
    ///
    /// [`CodecError::Encode`] for a status outside 100..=999 or an invalid header
    /// field (nothing is written then), or a streamed body whose input failed or
    /// did not produce its announced length.
    pub fn encode_response(
        &mut self,
        resp: HttpResponse,
        ctx: &ResponseContext,
        dst: &mut EncodeBuf,
    ) -> Result<bool, CodecError> {
        let (close, stream) = self.encode_head_and_body(resp, ctx, dst)?;
        if let Some(mut stream) = stream {
            while !stream.write_next(dst)? {}
        }
        Ok(close)
    }

    /// As [`encode_response`](Self::encode_response), but a body streamed from an
    /// input is returned to be pulled piece by piece.
    pub(crate) fn encode_head_and_body(
        &mut self,
        resp: HttpResponse,
        ctx: &ResponseContext,
        dst: &mut EncodeBuf,
    ) -> Result<(bool, Option<OutStream>), CodecError> {
        let status = resp.status;
        if !(100..=999).contains(&status) {
            return Err(encode_error(format!(
                "status {status} is not a 3-digit code"
            )));
        }
        for (name, value) in resp.headers.iter() {
            if name.is_empty() || !name.iter().all(|&b| is_token(b)) {
                return Err(encode_error(format!(
                    "header name {:?} is not a token",
                    String::from_utf8_lossy(name)
                )));
            }
            if memchr::memchr3(b'\r', b'\n', 0, value).is_some() {
                return Err(encode_error(format!(
                    "the value of header {:?} contains CR, LF or NUL",
                    String::from_utf8_lossy(name)
                )));
            }
        }
        let reason = resp
            .reason
            .as_deref()
            .unwrap_or(reason_phrase(status).as_bytes());
        if memchr::memchr3(b'\r', b'\n', 0, reason).is_some() {
            return Err(encode_error(
                "the reason phrase contains CR, LF or NUL".into(),
            ));
        }

        let interim = status < 200;
        let no_body = interim || status == 204 || status == 304;
        let chunked = resp.body.len().is_none();
        let mut close = !interim
            && (!ctx.keep_alive
                || resp.headers.has_token("connection", "close")
                || (chunked && ctx.version == Version::Http10 && !no_body));

        let scratch = dst.scratch();
        scratch.extend_from_slice(b"HTTP/1.1 ");
        put_number(scratch, u64::from(status), 10);
        scratch.extend_from_slice(b" ");
        scratch.extend_from_slice(reason);
        scratch.extend_from_slice(b"\r\n");
        let user_length = resp.headers.get("content-length").cloned();
        for (name, value) in resp.headers.iter() {
            if name.eq_ignore_ascii_case(b"content-length")
                || name.eq_ignore_ascii_case(b"transfer-encoding")
                || name.eq_ignore_ascii_case(b"connection")
            {
                continue;
            }
            scratch.extend_from_slice(name);
            scratch.extend_from_slice(b": ");
            scratch.extend_from_slice(value);
            scratch.extend_from_slice(b"\r\n");
        }
        if interim || status == 204 {
            // No framing fields at all.
        } else if status == 304 || (ctx.head && resp.body.is_empty() && user_length.is_some()) {
            if let Some(len) = &user_length {
                scratch.extend_from_slice(b"Content-Length: ");
                scratch.extend_from_slice(len);
                scratch.extend_from_slice(b"\r\n");
            }
        } else {
            match resp.body.len() {
                Some(n) => {
                    scratch.extend_from_slice(b"Content-Length: ");
                    put_number(scratch, n, 10);
                    scratch.extend_from_slice(b"\r\n");
                }
                None if ctx.version == Version::Http11 => {
                    scratch.extend_from_slice(b"Transfer-Encoding: chunked\r\n")
                }
                None => close = true,
            }
        }
        if close {
            scratch.extend_from_slice(b"Connection: close\r\n");
        } else if ctx.version == Version::Http10 && !interim {
            scratch.extend_from_slice(b"Connection: keep-alive\r\n");
        }
        if self.date && !interim && !resp.headers.contains("date") {
            scratch.extend_from_slice(b"Date: ");
            scratch.extend_from_slice(&now_imf_fixdate());
            scratch.extend_from_slice(b"\r\n");
        }
        scratch.extend_from_slice(b"\r\n");

        if no_body || ctx.head {
            return Ok((close, None));
        }
        let framed = ctx.version == Version::Http11;
        match resp.body {
            Body::Empty => {}
            Body::Bytes(b) => dst.push_bytes(b),
            Body::Composite(c) => dst.push_composite(c),
            Body::File(f) => {
                if f.remaining() > 0 {
                    dst.push_file(f)
                }
            }
            Body::Chunked(chunks) => {
                for chunk in chunks.into_iter().filter(|c| !c.is_empty()) {
                    if framed {
                        put_number(dst.scratch(), chunk.len() as u64, 16);
                        dst.put_slice(b"\r\n");
                    }
                    dst.push_bytes(chunk);
                    if framed {
                        dst.put_slice(b"\r\n");
                    }
                }
                if framed {
                    dst.put_slice(b"0\r\n\r\n");
                }
            }
            Body::Stream(stream) => {
                let length = stream.len();
                let framed = framed && length.is_none();
                match stream.source {
                    StreamSource::File(f) => {
                        let n = f.remaining();
                        if framed && n > 0 {
                            put_number(dst.scratch(), n, 16);
                            dst.put_slice(b"\r\n");
                            dst.push_file(f);
                            dst.put_slice(b"\r\n");
                        } else if n > 0 {
                            dst.push_file(f);
                        }
                        if framed {
                            dst.put_slice(b"0\r\n\r\n");
                        }
                    }
                    StreamSource::Input(input) => {
                        return Ok((
                            close,
                            Some(OutStream {
                                input,
                                framed,
                                length,
                                sent: 0,
                            }),
                        ));
                    }
                }
            }
        }
        Ok((close, None))
    }
}

/// A response body still to be read from its input, piece by piece.
pub(crate) struct OutStream {
    input: Box<dyn seine_channel::ChunkedInput + Send>,
    /// With the chunked coding.
    framed: bool,
    /// The `Content-Length` announced, if any.
    length: Option<u64>,
    sent: u64,
}

impl OutStream {
    /// Writes the input's next piece (framed) into `dst`; returns `true` once the
    /// body has ended (its terminator written).
    pub(crate) fn write_next(&mut self, dst: &mut EncodeBuf) -> Result<bool, CodecError> {
        let chunk = if self.input.is_end() {
            None
        } else {
            self.input.next_chunk().map_err(|e| CodecError::Encode {
                reason: format!("the response body's input failed: {e}"),
            })?
        };
        let Some(chunk) = chunk else {
            if let Some(n) = self.length
                && n != self.sent
            {
                return Err(CodecError::Encode {
                    reason: format!(
                        "the response body's input ended after {} of the {n} bytes announced",
                        self.sent
                    ),
                });
            }
            if self.framed {
                dst.put_slice(b"0\r\n\r\n");
            }
            return Ok(true);
        };
        if chunk.is_empty() {
            return Ok(false);
        }
        self.sent += chunk.len() as u64;
        if let Some(n) = self.length
            && self.sent > n
        {
            return Err(CodecError::Encode {
                reason: format!(
                    "the response body's input produced more than the {n} bytes announced"
                ),
            });
        }
        if self.framed {
            put_number(dst.scratch(), chunk.len() as u64, 16);
            dst.put_slice(b"\r\n");
            dst.push_bytes(chunk);
            dst.put_slice(b"\r\n");
        } else {
            dst.push_bytes(chunk);
        }
        Ok(false)
    }
}

/// Appends `n` in base 10 or 16 (lower-case), without `fmt` (which cost a few
/// hundred instructions per number, on every response).
fn put_number(dst: &mut seine_buffer::BytesMut, mut n: u64, base: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b"0123456789abcdef"[(n % base) as usize];
        n /= base;
        if n == 0 {
            break;
        }
    }
    dst.extend_from_slice(&digits[at..]);
}

fn encode_error(reason: String) -> CodecError {
    CodecError::Encode { reason }
}

fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

impl Encoder for HttpResponseEncoder {
    type Item = HttpResponse;

    /// Encodes as the answer to a keep-alive HTTP/1.1 `GET`
    /// ([`ResponseContext::default`]); use
    /// [`encode_response`](HttpResponseEncoder::encode_response) to say otherwise.
    fn encode(&mut self, item: HttpResponse, dst: &mut EncodeBuf) -> Result<(), CodecError> {
        self.encode_response(item, &ResponseContext::default(), dst)
            .map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::HttpResponse;
    use seine_buffer::{Bytes, FileRegion};
    use seine_channel::OutboundBuf;

    #[test]
    fn numbers_are_written_in_decimal_and_hex() {
        let mut b = seine_buffer::BytesMut::new();
        for (n, base, text) in [
            (0u64, 10, "0"),
            (7, 10, "7"),
            (200, 10, "200"),
            (4096, 10, "4096"),
            (u64::MAX, 10, "18446744073709551615"),
            (0, 16, "0"),
            (255, 16, "ff"),
            (4096, 16, "1000"),
            (u64::MAX, 16, "ffffffffffffffff"),
        ] {
            b.clear();
            put_number(&mut b, n, base);
            assert_eq!(&b[..], text.as_bytes(), "{n} in base {base}");
        }
    }

    fn encode(resp: HttpResponse, ctx: ResponseContext) -> (String, bool, usize) {
        let mut out = EncodeBuf::new();
        let close = HttpResponseEncoder::builder()
            .date(false)
            .build()
            .unwrap()
            .encode_response(resp, &ctx, &mut out)
            .unwrap();
        let parts = out.take_parts();
        let mut text = Vec::new();
        for p in &parts {
            match p {
                OutboundBuf::Bytes(b) => text.extend_from_slice(b),
                OutboundBuf::Composite(c) => text.extend_from_slice(&c.to_vec()),
                OutboundBuf::File(f) => text.extend_from_slice(&f.read_chunk(1 << 20).unwrap()),
            }
        }
        (String::from_utf8(text).unwrap(), close, parts.len())
    }

    const GET: ResponseContext = ResponseContext {
        head: false,
        version: Version::Http11,
        keep_alive: true,
    };

    #[test]
    fn content_length_replaces_the_callers() {
        let resp = HttpResponse::ok("abc").with_header("Content-Length", "99");
        assert_eq!(
            encode(resp, GET).0,
            "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"
        );
    }

    #[test]
    fn head_keeps_headers_drops_body() {
        let resp = HttpResponse::ok("abc");
        let ctx = ResponseContext { head: true, ..GET };
        assert_eq!(
            encode(resp, ctx).0,
            "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n"
        );
        let resp = HttpResponse::new(200).with_header("Content-Length", "1000");
        assert_eq!(
            encode(resp, ctx).0,
            "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
        );
    }

    #[test]
    fn no_body_statuses() {
        let (t, ..) = encode(HttpResponse::new(204).with_body("x"), GET);
        assert_eq!(t, "HTTP/1.1 204 No Content\r\n\r\n");
        let (t, ..) = encode(HttpResponse::new(304).with_header("ETag", "\"a\""), GET);
        assert_eq!(t, "HTTP/1.1 304 Not Modified\r\nETag: \"a\"\r\n\r\n");
        let (t, close, _) = encode(
            HttpResponse::new(100),
            ResponseContext {
                keep_alive: false,
                ..GET
            },
        );
        assert_eq!(t, "HTTP/1.1 100 Continue\r\n\r\n");
        assert!(!close);
    }

    #[test]
    fn connection_management() {
        let (t, close, _) = encode(
            HttpResponse::ok(""),
            ResponseContext {
                keep_alive: false,
                ..GET
            },
        );
        assert!(close);
        assert!(t.contains("Connection: close\r\n"));
        let (t, close, _) = encode(HttpResponse::ok("").close(), GET);
        assert!(close && t.matches("onnection").count() == 1);
        let ten = ResponseContext {
            version: Version::Http10,
            ..GET
        };
        let (t, close, _) = encode(HttpResponse::ok(""), ten);
        assert!(!close && t.contains("Connection: keep-alive\r\n"));
    }

    #[test]
    fn chunked_bodies() {
        let body = Body::Chunked(vec![
            Bytes::from_static(b"abc"),
            Bytes::new(),
            Bytes::from(vec![b'x'; 100]),
        ]);
        let (t, close, _) = encode(HttpResponse::ok(body), GET);
        assert!(!close);
        let x = "x".repeat(100);
        assert_eq!(
            t,
            format!(
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n64\r\n{x}\r\n0\r\n\r\n"
            )
        );
        let ten = ResponseContext {
            version: Version::Http10,
            ..GET
        };
        let (t, close, _) = encode(
            HttpResponse::ok(Body::Chunked(vec![Bytes::from_static(b"ab")])),
            ten,
        );
        assert!(close);
        assert_eq!(t, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nab");
    }

    #[test]
    fn file_body_is_a_separate_part() {
        let mut f = tempfile_with(b"0123456789");
        let region = FileRegion::new(std::sync::Arc::new(f.take().unwrap()), 2, 5).unwrap();
        let (t, _, parts) = encode(HttpResponse::ok(region), GET);
        assert_eq!(t, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n23456");
        assert_eq!(parts, 2);
    }

    fn tempfile_with(data: &[u8]) -> Option<std::fs::File> {
        let path = std::env::temp_dir().join(format!("seine-http-enc-{}", std::process::id()));
        std::fs::write(&path, data).unwrap();
        let f = std::fs::File::open(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        Some(f)
    }

    #[test]
    fn refuses_header_injection() {
        let mut out = EncodeBuf::new();
        let mut enc = HttpResponseEncoder::new();
        for resp in [
            HttpResponse::ok("").with_header("X", "a\r\nSet-Cookie: evil"),
            HttpResponse::ok("").with_header("Bad Name", "v"),
            HttpResponse::ok("").with_header("", "v"),
            HttpResponse::new(99),
            HttpResponse::new(1000),
        ] {
            assert!(enc.encode_response(resp, &GET, &mut out).is_err());
        }
        assert!(out.is_empty());
    }

    #[test]
    fn date_is_added() {
        let mut out = EncodeBuf::new();
        HttpResponseEncoder::new()
            .encode(HttpResponse::ok(""), &mut out)
            .unwrap();
        let b = out.take_parts();
        let OutboundBuf::Bytes(b) = &b[0] else {
            panic!()
        };
        let text = String::from_utf8_lossy(b);
        assert!(
            text.contains("\r\nDate: ") && text.ends_with(" GMT\r\n\r\n"),
            "{text}"
        );
    }
}
