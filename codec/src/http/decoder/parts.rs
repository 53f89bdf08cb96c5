//! [`HttpRequestDecoder::decode_part`]: a request streamed as its head, its body's
//! pieces as they arrive, and a last part.

use seine_buffer::CompositeBuf;

use super::{Framing, HttpRequestDecoder, State};
use crate::http::body::{HttpContent, HttpPart, LastHttpContent};
use crate::http::error::HttpError;
use crate::http::request::HttpRequest;

impl HttpRequestDecoder {
    /// Decodes the next part of a streamed request: its head (an [`HttpRequest`]
    /// with an empty body), then the body as it arrives ([`HttpPart::Content`],
    /// not copied), then exactly one [`HttpPart::Last`] (with the trailers of a
    /// chunked body), also for a request without a body. `None` when more input is
    /// needed. The limits are those of whole requests: a `Content-Length` over
    /// `max_body_length` is refused before the head is returned, a chunked body
    /// when its chunk sizes add up to more.
    ///
    /// Use one decoder either for whole requests or for parts, not both.
    ///
    /// # Errors
    ///
    /// As [`decode_request`](Self::decode_request).
    ///
    /// ```
    /// use seine_buffer::CompositeBuf;
    /// use seine_codec::http::{HttpPart, HttpRequestDecoder};
    ///
    /// let mut dec = HttpRequestDecoder::new();
    /// let mut buf = CompositeBuf::from(&b"PUT /f HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhello"[..]);
    /// let Some(HttpPart::Head(head)) = dec.decode_part(&mut buf).unwrap() else { panic!() };
    /// assert_eq!(head.path(), "/f");
    /// let Some(HttpPart::Content(part)) = dec.decode_part(&mut buf).unwrap() else { panic!() };
    /// assert_eq!(part.data(), &b"hello"[..]);
    /// assert!(dec.decode_part(&mut buf).unwrap().is_none());
    /// buf.push("world".into());
    /// let Some(HttpPart::Last(last)) = dec.decode_part(&mut buf).unwrap() else { panic!() };
    /// assert_eq!(last.data(), &b"world"[..]);
    /// ```
    pub fn decode_part(
        &mut self,
        src: &mut CompositeBuf,
    ) -> Result<Option<HttpPart<HttpRequest>>, HttpError> {
        let result = self.step_part(src);
        if result.is_err() {
            self.state = State::Head { scanned: 0 };
        }
        result
    }

    /// At the end of input: the next part if complete, `None` if the input ended
    /// between requests, [`HttpError::Truncated`] inside one.
    ///
    /// # Errors
    ///
    /// As [`decode_part`](Self::decode_part), plus [`HttpError::Truncated`].
    pub fn decode_part_eof(
        &mut self,
        src: &mut CompositeBuf,
    ) -> Result<Option<HttpPart<HttpRequest>>, HttpError> {
        if let Some(part) = self.decode_part(src)? {
            return Ok(Some(part));
        }
        self.truncated(src)
    }

    fn step_part(
        &mut self,
        src: &mut CompositeBuf,
    ) -> Result<Option<HttpPart<HttpRequest>>, HttpError> {
        match &mut self.state {
            State::EmptyBody => {
                self.state = State::Head { scanned: 0 };
                return Ok(Some(HttpPart::Last(LastHttpContent::empty())));
            }
            State::Head { .. } => {
                let Some((req, framing, continue_pending)) = self.head(src)? else {
                    return Ok(None);
                };
                self.state = match framing {
                    Framing::Length { total: 0, .. } => State::EmptyBody,
                    framing => State::Body {
                        req: None,
                        framing,
                        continue_pending,
                    },
                };
                return Ok(Some(HttpPart::Head(req)));
            }
            State::Body { req: Some(_), .. } => {
                return Err(HttpError::bad(
                    "decode_part called inside a request decoded whole",
                ));
            }
            State::Body { req: None, .. } => {}
        }
        let State::Body { framing, .. } = &mut self.state else {
            unreachable!("in a streamed body");
        };
        let part = match framing {
            Framing::Length { left, .. } => match HttpPart::length_piece(src, left) {
                None => return Ok(None),
                Some(content @ HttpPart::Content(_)) => return Ok(Some(content)),
                Some(last) => last,
            },
            Framing::Chunked(c) => {
                let mut data = CompositeBuf::new();
                if !c.decode(src, &mut data)? {
                    if data.is_empty() {
                        return Ok(None);
                    }
                    return Ok(Some(HttpPart::Content(HttpContent::new(data))));
                }
                let mut last = LastHttpContent::new(data);
                last.trailers = c.take_trailers();
                HttpPart::Last(last)
            }
        };
        self.state = State::Head { scanned: 0 };
        Ok(Some(part))
    }
}
