//! The `http_response` target: [`HttpResponseDecoder`] with small limits and a
//! queue of request methods taken from the input.

use seine_buffer::Bytes;
use seine_codec::http::{HttpPart, HttpResponseDecoder, Method};

use crate::common;

/// Decodes a response stream (after 3 configuration bytes: the head limit, the
/// field limit and cumulation, the methods of 8 queued requests) cut into reads,
/// checking the decoder's contract: heads within the limits, every response a
/// head, body parts and exactly one `Last`; no body for `HEAD`, 204 and 304; a
/// `Content-Length` body exactly that long; body bytes never more than the input;
/// end of input terminates.
pub fn http_response(data: &[u8]) {
    let Some((c, stream)) = common::split_config::<3>(data) else {
        return;
    };
    let max_header_length = 32 + usize::from(c[0]) * 2;
    let max_headers = usize::from(c[1] % 8) + 1;
    let step = usize::from(c[1] >> 5) * 9 + 1;
    let mut dec = HttpResponseDecoder::builder()
        .max_header_length(max_header_length)
        .max_headers(max_headers)
        .build()
        .expect("a valid configuration");
    let mut methods = Vec::new();
    for bit in 0..8 {
        let m = match (c[2] >> bit) & 1 {
            1 if bit == 7 => Method::Connect,
            1 => Method::Head,
            _ => Method::Get,
        };
        dec.expect_response(&m);
        methods.push(m);
    }
    let mut check = Check::new(methods, max_header_length, max_headers);
    let mut cumulation = common::cumulation_for(c[1] >> 3);
    for read in stream.chunks(step) {
        cumulation.push(Bytes::copy_from_slice(read));
        for _ in 0..1_000_000 {
            let before = cumulation.len();
            match dec.decode_part(cumulation.buf()) {
                Ok(Some(part)) => check.part(part, before - cumulation.len()),
                Ok(None) => break,
                Err(_) => return, // the connection closes
            }
        }
    }
    for _ in 0..1_000_000 {
        match dec.decode_part_eof(cumulation.buf()) {
            Ok(Some(part)) => check.part(part, 0),
            Ok(None) => {
                assert!(!dec.in_response(), "Ok(None) at the end inside a response");
                return;
            }
            Err(e) => {
                assert!(e.is_truncation(), "only truncation at the end: {e}");
                return;
            }
        }
    }
    panic!("decode_part_eof never returned None");
}

/// The contract, followed part by part.
struct Check {
    methods: std::collections::VecDeque<Method>,
    max_header_length: usize,
    max_headers: usize,
    /// In a response: its status, and the length its body must have.
    current: Option<(u16, Option<u64>)>,
    body: u64,
    body_seen_in_input: u64,
}

impl Check {
    fn new(methods: Vec<Method>, max_header_length: usize, max_headers: usize) -> Self {
        Check {
            methods: methods.into(),
            max_header_length,
            max_headers,
            current: None,
            body: 0,
            body_seen_in_input: 0,
        }
    }

    fn part(&mut self, part: seine_codec::http::HttpResponsePart, consumed: usize) {
        match part {
            HttpPart::Head(h) => {
                assert!(self.current.is_none(), "a head inside a response");
                assert!(h.headers.len() <= self.max_headers, "more fields than max");
                assert!(h.reason.len() <= self.max_header_length);
                assert!((100..=999).contains(&h.status));
                let method = if h.status < 200 && h.status != 101 {
                    self.methods.front().cloned()
                } else {
                    self.methods.pop_front()
                }
                .expect("a response with no request waiting");
                let tunnel = method == Method::Connect && (200..300).contains(&h.status);
                let no_body = method == Method::Head
                    || tunnel
                    || h.status < 200
                    || h.status == 204
                    || h.status == 304;
                let length = if no_body {
                    Some(0)
                } else if h.headers.contains("transfer-encoding") {
                    None
                } else {
                    h.content_length()
                };
                self.current = Some((h.status, length));
                self.body = 0;
            }
            HttpPart::Content(c) => {
                assert!(self.current.is_some(), "a body part outside a response");
                assert!(!c.is_empty(), "an empty body part");
                self.body += c.len() as u64;
                self.body_seen_in_input += consumed as u64;
                assert!(
                    self.body <= self.body_seen_in_input,
                    "body bytes from nowhere"
                );
            }
            HttpPart::Last(l) => {
                let (_, length) = self.current.take().expect("a Last outside a response");
                self.body += l.len() as u64;
                if let Some(n) = length {
                    assert_eq!(self.body, n, "a body not the length announced");
                }
            }
        }
    }
}
