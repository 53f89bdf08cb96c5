//! [`HttpRequestEncoder`]: request line, header fields and body, whole or streamed.

use super::error::HttpClientError;
use crate::encoder::{EncodeBuf, Encoder};
use crate::error::CodecError;
use crate::http::encoder::{is_token, put_number};
use crate::http::{
    HttpContent, HttpHeaders, HttpPart, HttpRequest, HttpRequestPart, LastHttpContent, Method,
    Version,
};

/// What a client writes: a whole request, or a streamed one piece by piece (a
/// head, then [`HttpContent`]s, then one [`LastHttpContent`]).
///
/// ```
/// use seine_codec::http::{HttpClientRequest, HttpContent, HttpRequest, Method};
///
/// let whole: HttpClientRequest = HttpRequest::new(Method::Get, "/").into();
/// assert!(matches!(whole, HttpClientRequest::Full(_)));
/// let piece: HttpClientRequest = HttpContent::new("abc").into();
/// assert!(matches!(piece, HttpClientRequest::Content(_)));
/// ```
#[derive(Debug)]
pub enum HttpClientRequest {
    /// A request and its whole body (`HttpRequest::body`, possibly empty): sent
    /// with a `Content-Length` computed from the body.
    Full(HttpRequest),
    /// The head of a streamed request (its `body` must be empty): the body follows
    /// as `Content` and `Last`. With a `Content-Length` field the parts are sent
    /// as they are and must add up to it; without, the body is sent chunked.
    Head(HttpRequest),
    /// A piece of the streamed body.
    Content(HttpContent),
    /// The end of the streamed body, with its last bytes and (chunked only)
    /// trailer fields.
    Last(LastHttpContent),
}

impl HttpClientRequest {
    /// The method of a request that starts here (`Full` or `Head`).
    pub fn method(&self) -> Option<&Method> {
        match self {
            HttpClientRequest::Full(r) | HttpClientRequest::Head(r) => Some(&r.method),
            _ => None,
        }
    }
}

impl From<HttpRequest> for HttpClientRequest {
    fn from(r: HttpRequest) -> Self {
        HttpClientRequest::Full(r)
    }
}

impl From<HttpRequestPart> for HttpClientRequest {
    fn from(p: HttpRequestPart) -> Self {
        match p {
            HttpPart::Head(r) => HttpClientRequest::Head(r),
            HttpPart::Content(c) => HttpClientRequest::Content(c),
            HttpPart::Last(l) => HttpClientRequest::Last(l),
        }
    }
}

impl From<HttpContent> for HttpClientRequest {
    fn from(c: HttpContent) -> Self {
        HttpClientRequest::Content(c)
    }
}

impl From<LastHttpContent> for HttpClientRequest {
    fn from(l: LastHttpContent) -> Self {
        HttpClientRequest::Last(l)
    }
}

/// Encodes requests as HTTP/1.1 (or HTTP/1.0 when the request says so).
///
/// Writes the request line and header fields, then the body **without copying
/// it** (its segments are pushed as they are). The framing fields are the
/// encoder's:
///
/// * a [`Full`](HttpClientRequest::Full) request gets `Content-Length` from its
///   body (the caller's value is replaced; none for an empty body unless the
///   method is `POST`, `PUT` or `PATCH`, which send `Content-Length: 0`);
/// * a streamed request ([`Head`](HttpClientRequest::Head)) keeps the caller's
///   `Content-Length`, and then refuses parts that go past it or a `Last` that
///   falls short; without one it is sent with `Transfer-Encoding: chunked`
///   (HTTP/1.1 only), each non-empty part one chunk, trailers after the last.
///
/// Refused with [`HttpClientError::BadRequest`] (nothing written): an HTTP/1.1
/// request without `Host`; a target that is empty or holds a space or control
/// byte; a header name that is not a token or a value with CR, LF or NUL; parts
/// out of order (a body part with no streamed head, a head before the `Last`
/// of the previous one).
///
/// # Examples
///
/// ```
/// use seine_codec::EncodeBuf;
/// use seine_codec::http::{HttpClientRequest, HttpContent, HttpRequest, HttpRequestEncoder, LastHttpContent, Method};
///
/// let mut enc = HttpRequestEncoder::new();
/// let mut out = EncodeBuf::new();
/// let mut req = HttpRequest::new(Method::Put, "/up");
/// req.headers.append("Host", "example.com");
/// enc.encode_request(HttpClientRequest::Head(req), &mut out)?;
/// enc.encode_request(HttpContent::new("hello").into(), &mut out)?;
/// enc.encode_request(LastHttpContent::empty().into(), &mut out)?;
/// let wire = "PUT /up HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
/// assert_eq!(out.len(), wire.len());
/// # Ok::<(), seine_codec::http::HttpClientError>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct HttpRequestEncoder {
    state: Streaming,
}

/// Where the encoder is in a streamed body.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Streaming {
    /// Between requests.
    #[default]
    Idle,
    /// In a chunked body.
    Chunked,
    /// In a body of known length, this many bytes left.
    Length(u64),
}

impl HttpRequestEncoder {
    /// An encoder between requests.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether a streamed request's body has begun and its `Last` not been written.
    ///
    /// ```
    /// assert!(!seine_codec::http::HttpRequestEncoder::new().in_body());
    /// ```
    pub fn in_body(&self) -> bool {
        self.state != Streaming::Idle
    }

    /// Encodes one message of a request into `dst`.
    ///
    /// # Errors
    ///
    /// [`HttpClientError::BadRequest`], see the type's documentation; nothing is
    /// written then and the encoder's state is unchanged.
    pub fn encode_request(
        &mut self,
        msg: HttpClientRequest,
        dst: &mut EncodeBuf,
    ) -> Result<(), HttpClientError> {
        match msg {
            HttpClientRequest::Full(req) => {
                self.idle("a request")?;
                let length = req.body.len() as u64;
                let send_length =
                    length > 0 || matches!(req.method, Method::Post | Method::Put | Method::Patch);
                head(&req, dst, |scratch| {
                    if send_length {
                        scratch.extend_from_slice(b"Content-Length: ");
                        put_number(scratch, length, 10);
                        scratch.extend_from_slice(b"\r\n");
                    }
                })?;
                if length > 0 {
                    dst.push_composite(req.body);
                }
            }
            HttpClientRequest::Head(req) => {
                self.idle("a request head")?;
                if !req.body.is_empty() {
                    return Err(HttpClientError::bad_request(
                        "a streamed head with a body (send it as Full, or the body as Content)",
                    ));
                }
                let length = super::response_head::content_length(&req.headers)
                    .map_err(HttpClientError::bad_request)?;
                let state = match length {
                    Some(n) => Streaming::Length(n),
                    None if req.version == Version::Http10 => {
                        return Err(HttpClientError::bad_request(
                            "an HTTP/1.0 request cannot stream a body without Content-Length",
                        ));
                    }
                    None => Streaming::Chunked,
                };
                head(&req, dst, |scratch| match length {
                    Some(n) => {
                        scratch.extend_from_slice(b"Content-Length: ");
                        put_number(scratch, n, 10);
                        scratch.extend_from_slice(b"\r\n");
                    }
                    None => scratch.extend_from_slice(b"Transfer-Encoding: chunked\r\n"),
                })?;
                self.state = state;
            }
            HttpClientRequest::Content(c) => {
                let data = c.into_data();
                self.body(data, dst)?;
            }
            HttpClientRequest::Last(l) => {
                let (data, trailers) = l.into_data();
                if let Streaming::Length(left) = self.state
                    && left != data.len() as u64
                {
                    return Err(HttpClientError::bad_request(format!(
                        "the body ends {} bytes short of its Content-Length",
                        left.saturating_sub(data.len() as u64)
                    )));
                }
                if !trailers.is_empty() && self.state != Streaming::Chunked {
                    return Err(HttpClientError::bad_request(
                        "trailers need a chunked body (no Content-Length in the head)",
                    ));
                }
                check_fields(&trailers)?;
                self.body(data, dst)?;
                if self.state == Streaming::Chunked {
                    let scratch = dst.scratch();
                    scratch.extend_from_slice(b"0\r\n");
                    for (name, value) in trailers.iter() {
                        scratch.extend_from_slice(name);
                        scratch.extend_from_slice(b": ");
                        scratch.extend_from_slice(value);
                        scratch.extend_from_slice(b"\r\n");
                    }
                    scratch.extend_from_slice(b"\r\n");
                }
                self.state = Streaming::Idle;
            }
        }
        Ok(())
    }

    fn idle(&self, what: &str) -> Result<(), HttpClientError> {
        if self.state == Streaming::Idle {
            Ok(())
        } else {
            Err(HttpClientError::bad_request(format!(
                "{what} before the Last of the streamed request"
            )))
        }
    }

    /// Writes body bytes of the streamed request.
    fn body(
        &mut self,
        data: seine_buffer::CompositeBuf,
        dst: &mut EncodeBuf,
    ) -> Result<(), HttpClientError> {
        let n = data.len() as u64;
        match self.state {
            Streaming::Idle => Err(HttpClientError::bad_request(
                "a body part without a streamed request head",
            )),
            Streaming::Length(left) if n > left => Err(HttpClientError::bad_request(format!(
                "a body part of {n} bytes where {left} are left of the Content-Length"
            ))),
            Streaming::Length(left) => {
                self.state = Streaming::Length(left - n);
                if n > 0 {
                    dst.push_composite(data);
                }
                Ok(())
            }
            Streaming::Chunked => {
                if n > 0 {
                    put_number(dst.scratch(), n, 16);
                    dst.put_slice(b"\r\n");
                    dst.push_composite(data);
                    dst.put_slice(b"\r\n");
                }
                Ok(())
            }
        }
    }
}

/// Checks and writes the request line and header fields (except the framing
/// fields, which `framing` writes), and the empty line.
fn head(
    req: &HttpRequest,
    dst: &mut EncodeBuf,
    framing: impl FnOnce(&mut seine_buffer::BytesMut),
) -> Result<(), HttpClientError> {
    let method = req.method.as_str();
    if method.is_empty() || !method.bytes().all(is_token) {
        return Err(HttpClientError::bad_request(format!(
            "method {method:?} is not a token"
        )));
    }
    if req.uri.is_empty() || req.uri.iter().any(|&b| b <= b' ' || b == 0x7f) {
        return Err(HttpClientError::bad_request(format!(
            "request target {:?} is empty or holds a space or control byte",
            String::from_utf8_lossy(&req.uri)
        )));
    }
    if req.version == Version::Http11 && !req.headers.contains("host") {
        return Err(HttpClientError::bad_request(
            "an HTTP/1.1 request needs a Host field",
        ));
    }
    check_fields(&req.headers)?;
    let scratch = dst.scratch();
    scratch.extend_from_slice(method.as_bytes());
    scratch.extend_from_slice(b" ");
    scratch.extend_from_slice(&req.uri);
    scratch.extend_from_slice(b" ");
    scratch.extend_from_slice(req.version.as_str().as_bytes());
    scratch.extend_from_slice(b"\r\n");
    for (name, value) in req.headers.iter() {
        if name.eq_ignore_ascii_case(b"content-length")
            || name.eq_ignore_ascii_case(b"transfer-encoding")
        {
            continue;
        }
        scratch.extend_from_slice(name);
        scratch.extend_from_slice(b": ");
        scratch.extend_from_slice(value);
        scratch.extend_from_slice(b"\r\n");
    }
    framing(scratch);
    scratch.extend_from_slice(b"\r\n");
    Ok(())
}

fn check_fields(headers: &HttpHeaders) -> Result<(), HttpClientError> {
    for (name, value) in headers.iter() {
        if name.is_empty() || !name.iter().all(|&b| is_token(b)) {
            return Err(HttpClientError::bad_request(format!(
                "header name {:?} is not a token",
                String::from_utf8_lossy(name)
            )));
        }
        if memchr::memchr3(b'\r', b'\n', 0, value).is_some() {
            return Err(HttpClientError::bad_request(format!(
                "the value of header {:?} contains CR, LF or NUL",
                String::from_utf8_lossy(name)
            )));
        }
    }
    Ok(())
}

impl Encoder for HttpRequestEncoder {
    type Item = HttpClientRequest;

    fn encode(&mut self, item: HttpClientRequest, dst: &mut EncodeBuf) -> Result<(), CodecError> {
        self.encode_request(item, dst).map_err(CodecError::from)
    }
}
