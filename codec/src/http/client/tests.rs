//! The client codec's rules: RFC 9112 §6.3 body lengths, truncation, limits,
//! request encoding, and the codec in a pipeline.

use std::cell::RefCell;
use std::rc::Rc;

use seine_buffer::{Bytes, CompositeBuf};
use seine_channel::prelude::*;
use seine_channel::testing::EmbeddedChannel;

use super::*;
use crate::encoder::EncodeBuf;
use crate::http::{HttpContent, HttpPart, HttpRequest, LastHttpContent, Method, Version};

/// A part, reduced to what the tests compare.
#[derive(Debug, PartialEq, Eq)]
enum Ev {
    Head(u16),
    Body(Vec<u8>),
    Last(Vec<u8>),
}

fn ev(part: HttpResponsePart) -> Ev {
    match part {
        HttpPart::Head(h) => Ev::Head(h.status),
        HttpPart::Content(c) => Ev::Body(c.data().to_vec()),
        HttpPart::Last(l) => Ev::Last(l.data().to_vec()),
    }
}

/// Heads, and the body bytes of each response joined (parts may split anywhere).
fn merged(events: Vec<Ev>) -> Vec<Ev> {
    let mut out: Vec<Ev> = Vec::new();
    for e in events {
        match (out.last_mut(), e) {
            (Some(Ev::Body(acc)), Ev::Body(b)) => acc.extend(b),
            (Some(Ev::Body(acc)), Ev::Last(b)) => {
                let mut all = std::mem::take(acc);
                all.extend(b);
                *out.last_mut().unwrap() = Ev::Last(all);
            }
            (_, e) => out.push(e),
        }
    }
    out
}

fn decoder(methods: &[Method]) -> HttpResponseDecoder {
    let mut dec = HttpResponseDecoder::new();
    for m in methods {
        dec.expect_response(m);
    }
    dec
}

/// Feeds `wire` in reads of `step` bytes, then ends the input; returns the parts
/// and the error, if any.
fn run(
    dec: &mut HttpResponseDecoder,
    wire: &[u8],
    step: usize,
) -> (Vec<Ev>, Option<HttpClientError>) {
    let mut events = Vec::new();
    let mut buf = CompositeBuf::new();
    for piece in wire.chunks(step.max(1)) {
        buf.push(Bytes::copy_from_slice(piece));
        loop {
            match dec.decode_part(&mut buf) {
                Ok(Some(p)) => events.push(ev(p)),
                Ok(None) => break,
                Err(e) => return (events, Some(e)),
            }
        }
    }
    loop {
        match dec.decode_part_eof(&mut buf) {
            Ok(Some(p)) => events.push(ev(p)),
            Ok(None) => return (events, None),
            Err(e) => return (events, Some(e)),
        }
    }
}

/// `run` at every read size from 1 to the whole input; all must agree.
fn run_all_splits(methods: &[Method], wire: &[u8]) -> (Vec<Ev>, Option<HttpClientError>) {
    let (first, err) = run(&mut decoder(methods), wire, wire.len());
    let first = merged(first);
    for step in 1..wire.len() {
        let (events, e) = run(&mut decoder(methods), wire, step);
        assert_eq!(merged(events), first, "read size {step}");
        assert_eq!(e, err, "read size {step}");
    }
    (first, err)
}

#[test]
fn content_length_bodies_pipelined() {
    let wire = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nabc";
    let (events, err) = run_all_splits(&[Method::Get, Method::Get, Method::Post], wire);
    assert_eq!(err, None);
    assert_eq!(
        events,
        [
            Ev::Head(200),
            Ev::Last(b"hello".to_vec()),
            Ev::Head(404),
            Ev::Last(vec![]),
            Ev::Head(200),
            Ev::Last(b"abc".to_vec()),
        ]
    );
}

#[test]
fn head_204_and_304_responses_have_no_body() {
    // Each announces a length it does not send; the next response follows at once.
    let wire = b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n\
HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n\
HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\nTransfer-Encoding: chunked\r\n\r\n\
HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    let (events, err) =
        run_all_splits(&[Method::Head, Method::Get, Method::Get, Method::Get], wire);
    assert_eq!(err, None);
    assert_eq!(
        events,
        [
            Ev::Head(200),
            Ev::Last(vec![]),
            Ev::Head(204),
            Ev::Last(vec![]),
            Ev::Head(304),
            Ev::Last(vec![]),
            Ev::Head(200),
            Ev::Last(b"ok".to_vec()),
        ]
    );
}

#[test]
fn interim_responses_do_not_answer_the_request() {
    let wire = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nx";
    let mut dec = decoder(&[Method::Put]);
    let (events, err) = run(&mut dec, wire, 7);
    assert_eq!(err, None);
    assert_eq!(
        merged(events),
        [
            Ev::Head(100),
            Ev::Last(vec![]),
            Ev::Head(103),
            Ev::Last(vec![]),
            Ev::Head(201),
            Ev::Last(b"x".to_vec()),
        ]
    );
    assert_eq!(dec.pending_requests(), 0);
    // An interim response alone leaves the request waiting: the end of input
    // then says it got no response.
    let (_, err) = run(
        &mut decoder(&[Method::Get]),
        b"HTTP/1.1 100 Continue\r\n\r\n",
        100,
    );
    assert_eq!(err, Some(HttpClientError::NoResponse { pending: 1 }));
}

#[test]
fn switching_protocols_and_connect_leave_http() {
    for (method, wire) in [
        (
            Method::Get,
            &b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nContent-Length: 99\r\n\r\n\x81\x05hello"[..],
        ),
        (Method::Connect, &b"HTTP/1.1 200 Connection Established\r\n\r\n\x81\x05hello"[..]),
    ] {
        let mut dec = decoder(&[method]);
        let mut buf = CompositeBuf::from(wire.to_vec());
        assert!(matches!(dec.decode_part(&mut buf), Ok(Some(HttpPart::Head(_)))));
        assert!(matches!(dec.decode_part(&mut buf), Ok(Some(HttpPart::Last(l))) if l.is_empty()));
        assert!(dec.is_done());
        assert!(matches!(dec.decode_part(&mut buf), Ok(None)));
        assert!(matches!(dec.decode_part_eof(&mut buf), Ok(None)));
        assert_eq!(buf, b"\x81\x05hello"[..], "the other protocol's bytes are left");
    }
    // A CONNECT refused is an ordinary response with a body.
    let (events, err) = run_all_splits(
        &[Method::Connect],
        b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 2\r\n\r\nno",
    );
    assert_eq!(err, None);
    assert_eq!(events, [Ev::Head(407), Ev::Last(b"no".to_vec())]);
}

#[test]
fn chunked_bodies_in_every_split() {
    let wire = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n\
5;ext=1\r\nhello\r\n10\r\n0123456789abcdef\r\n0\r\nX-Sum: 1\r\n\r\n\
HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nzz\r\n0\r\n\r\n";
    let (events, err) = run_all_splits(&[Method::Get, Method::Get], wire);
    assert_eq!(err, None);
    assert_eq!(
        events,
        [
            Ev::Head(200),
            Ev::Last(b"hello0123456789abcdef".to_vec()),
            Ev::Head(200),
            Ev::Last(b"zz".to_vec()),
        ]
    );
}

#[test]
fn chunked_trailers_arrive_in_the_last_part() {
    let mut dec = decoder(&[Method::Get]);
    let mut buf = CompositeBuf::from(
        &b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n3\r\nabc\r\n0\r\nX-Sum: 7\r\nX-More: a b\r\n\r\n"[..],
    );
    assert!(matches!(
        dec.decode_part(&mut buf),
        Ok(Some(HttpPart::Head(_)))
    ));
    let Ok(Some(HttpPart::Last(last))) = dec.decode_part(&mut buf) else {
        panic!("no Last");
    };
    assert_eq!(last.data(), &b"abc"[..]);
    assert_eq!(last.trailers.get_str("x-sum"), Some("7"));
    assert_eq!(last.trailers.get_str("x-more"), Some("a b"));
    assert!(buf.is_empty());
}

#[test]
fn close_delimited_bodies_end_at_eof() {
    for wire in [
        &b"HTTP/1.0 200 OK\r\n\r\nall of this until the end"[..],
        b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of this until the end",
        // A transfer coding that does not end with chunked: read until close.
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nall of this until the end",
    ] {
        let (events, err) = run_all_splits(&[Method::Get], wire);
        assert_eq!(err, None);
        assert_eq!(
            events,
            [
                Ev::Head(200),
                Ev::Last(b"all of this until the end".to_vec())
            ]
        );
    }
    // A close-delimited body with nothing in it.
    let (events, err) = run_all_splits(&[Method::Get], b"HTTP/1.1 200 OK\r\n\r\n");
    assert_eq!(err, None);
    assert_eq!(events, [Ev::Head(200), Ev::Last(vec![])]);
}

#[test]
fn truncation_is_an_error_never_a_complete_body() {
    for (wire, want) in [
        (
            &b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123"[..],
            HttpClientError::TruncatedBody {
                received: 4,
                expected: Some(10),
            },
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3\r\nab",
            HttpClientError::TruncatedBody {
                received: 7,
                expected: None,
            },
        ),
        (
            // The last chunk arrived, its trailer section did not end.
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n",
            HttpClientError::TruncatedBody {
                received: 5,
                expected: None,
            },
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Le",
            HttpClientError::TruncatedHead { received: 27 },
        ),
        (b"", HttpClientError::NoResponse { pending: 1 }),
    ] {
        let (events, err) = run_all_splits(&[Method::Get], wire);
        assert_eq!(
            err.as_ref(),
            Some(&want),
            "{:?}",
            String::from_utf8_lossy(wire)
        );
        assert!(err.unwrap().is_truncation());
        assert!(
            !events.iter().any(|e| matches!(e, Ev::Last(_))),
            "a truncated response delivered its Last: {events:?}"
        );
    }
}

#[test]
fn a_huge_chunk_claim_streams_what_arrives() {
    // 2^64-1 bytes announced: nothing is reserved for them; what arrives is
    // delivered, the end of input is a truncation.
    let wire = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\nabc";
    let (events, err) = run(&mut decoder(&[Method::Get]), wire, wire.len());
    assert_eq!(merged(events), [Ev::Head(200), Ev::Body(b"abc".to_vec())]);
    assert_eq!(
        err,
        Some(HttpClientError::TruncatedBody {
            received: 3,
            expected: None
        })
    );
    let (_, err) = run(
        &mut decoder(&[Method::Get]),
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1ffffffffffffffff\r\n",
        100,
    );
    assert!(
        matches!(err, Some(HttpClientError::BadResponse { .. })),
        "{err:?}"
    );
}

#[test]
fn bad_responses_are_typed_errors() {
    let bad = |wire: &[u8]| run(&mut decoder(&[Method::Get]), wire, wire.len()).1;
    for wire in [
        &b"HTTP/1.1 200 OK\r\nContent-Length: 12x\r\n\r\n"[..],
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXY",
        b"SSH-2.0-OpenSSH_9.2\r\n",
        b"HTTP/1.1 2000 OK\r\n\r\n",
        b"HTTP/1.1 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
    ] {
        let err = bad(wire);
        assert!(
            matches!(err, Some(HttpClientError::BadResponse { .. })),
            "{:?}: {err:?}",
            String::from_utf8_lossy(wire)
        );
    }
    assert_eq!(
        bad(b"HTTP/2.0 200 OK\r\n\r\n"),
        Some(HttpClientError::UnsupportedVersion)
    );
    let (_, err) = run(
        &mut HttpResponseDecoder::new(),
        b"HTTP/1.1 200 OK\r\n\r\n",
        100,
    );
    assert_eq!(err, Some(HttpClientError::UnsolicitedResponse));
}

#[test]
fn head_limits() {
    let mut dec = HttpResponseDecoder::builder()
        .max_header_length(64)
        .max_headers(2)
        .build()
        .unwrap();
    dec.expect_response(&Method::Get);
    let (_, err) = run(
        &mut dec,
        b"HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n",
        100,
    );
    assert_eq!(err, Some(HttpClientError::TooManyHeaders { max: 2 }));

    // A head that never ends is refused once past the limit, not buffered.
    let mut dec = HttpResponseDecoder::builder()
        .max_header_length(64)
        .build()
        .unwrap();
    dec.expect_response(&Method::Get);
    let mut buf = CompositeBuf::from(&b"HTTP/1.1 200 OK\r\n"[..]);
    let mut err = None;
    for _ in 0..100 {
        buf.push(Bytes::from_static(b"X-Long: aaaaaaaa\r\n"));
        match dec.decode_part(&mut buf) {
            Ok(None) => assert!(buf.len() <= 64 + 18),
            Ok(Some(p)) => panic!("decoded {:?}", ev(p)),
            Err(e) => {
                err = Some(e);
                break;
            }
        }
    }
    assert!(
        matches!(err, Some(HttpClientError::HeadTooLarge { max: 64, .. })),
        "{err:?}"
    );

    // Trailers share the head's limit.
    let mut dec = HttpResponseDecoder::builder()
        .max_header_length(64)
        .build()
        .unwrap();
    dec.expect_response(&Method::Get);
    let mut wire = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n".to_vec();
    wire.extend(std::iter::repeat_n(&b"T: v\r\n"[..], 30).flatten());
    let (_, err) = run(&mut dec, &wire, wire.len());
    assert!(
        matches!(err, Some(HttpClientError::HeadTooLarge { .. })),
        "{err:?}"
    );
}

fn encode(
    enc: &mut HttpRequestEncoder,
    msgs: Vec<HttpClientRequest>,
) -> Result<Vec<u8>, HttpClientError> {
    let mut out = EncodeBuf::new();
    for m in msgs {
        enc.encode_request(m, &mut out)?;
    }
    let mut wire = Vec::new();
    for part in out.take_parts() {
        match part {
            OutboundBuf::Bytes(b) => wire.extend_from_slice(&b),
            OutboundBuf::Composite(c) => wire.extend(c.to_vec()),
            OutboundBuf::File(_) => panic!("no file in a request"),
        }
    }
    Ok(wire)
}

fn request(method: Method, uri: &'static str) -> HttpRequest {
    let mut req = HttpRequest::new(method, uri);
    req.headers.append("Host", "h");
    req
}

#[test]
fn requests_whole_and_streamed() {
    let mut enc = HttpRequestEncoder::new();
    let mut get = request(Method::Get, "/a?b=c");
    get.headers.append("Content-Length", "99"); // replaced by the body's
    let mut post = request(Method::Post, "/p");
    post.body = CompositeBuf::from(&b"data"[..]);
    let wire = encode(
        &mut enc,
        vec![
            get.into(),
            post.into(),
            request(Method::Put, "/empty").into(),
        ],
    )
    .unwrap();
    assert_eq!(
        String::from_utf8(wire).unwrap(),
        "GET /a?b=c HTTP/1.1\r\nHost: h\r\n\r\n\
POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\ndata\
PUT /empty HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n"
    );

    // Streamed chunked, with trailers; empty parts send nothing.
    let wire = encode(
        &mut enc,
        vec![
            HttpClientRequest::Head(request(Method::Put, "/up")),
            HttpContent::new("hello").into(),
            HttpContent::new("").into(),
            HttpContent::new(Bytes::from(vec![b'x'; 17])).into(),
            LastHttpContent::new("!").with_trailer("X-Sum", "9").into(),
        ],
    )
    .unwrap();
    assert_eq!(
        String::from_utf8(wire).unwrap(),
        format!(
            "PUT /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n11\r\n{}\r\n1\r\n!\r\n0\r\nX-Sum: 9\r\n\r\n",
            "x".repeat(17)
        )
    );
    assert!(!enc.in_body());

    // Streamed with a length: parts as they are, checked against it.
    let mut head = request(Method::Put, "/up");
    head.headers.append("Content-Length", "6");
    let wire = encode(
        &mut enc,
        vec![
            HttpClientRequest::Head(head.clone()),
            HttpContent::new("abc").into(),
            LastHttpContent::new("def").into(),
        ],
    )
    .unwrap();
    assert_eq!(
        wire,
        b"PUT /up HTTP/1.1\r\nHost: h\r\nContent-Length: 6\r\n\r\nabcdef"
    );
    assert!(
        encode(
            &mut enc,
            vec![
                HttpClientRequest::Head(head.clone()),
                HttpContent::new("1234567").into()
            ]
        )
        .is_err()
    );
    let mut enc = HttpRequestEncoder::new();
    assert!(
        encode(
            &mut enc,
            vec![
                HttpClientRequest::Head(head),
                LastHttpContent::new("12").into()
            ]
        )
        .is_err()
    );
}

#[test]
fn requests_that_cannot_be_encoded() {
    let mut no_host = HttpRequest::new(Method::Get, "/");
    let bad = |msgs: Vec<HttpClientRequest>| {
        let err = encode(&mut HttpRequestEncoder::new(), msgs).unwrap_err();
        assert!(matches!(err, HttpClientError::BadRequest { .. }), "{err}");
        err.to_string()
    };
    assert!(bad(vec![no_host.clone().into()]).contains("Host"));
    no_host.version = Version::Http10; // HTTP/1.0 needs none
    encode(&mut HttpRequestEncoder::new(), vec![no_host.clone().into()]).unwrap();
    bad(vec![HttpClientRequest::Head(no_host)]); // 1.0 cannot stream unsized
    let mut injected = request(Method::Get, "/");
    injected.headers.append("X", "a\r\nEvil: 1");
    bad(vec![injected.into()]);
    bad(vec![request(Method::Get, "/a b").into()]);
    bad(vec![HttpContent::new("x").into()]);
    bad(vec![LastHttpContent::empty().into()]);
    bad(vec![
        HttpClientRequest::Head(request(Method::Put, "/")),
        request(Method::Get, "/").into(),
    ]);
}

/// Keeps every part it reads (so their credits stay held) and records whether
/// the channel was reading on its own at each read.
struct Keep {
    parts: Rc<RefCell<Vec<HttpResponsePart>>>,
    auto_read: Rc<RefCell<Vec<bool>>>,
}
impl ChannelHandler for Keep {}
impl InboundHandler for Keep {
    type Read = HttpResponsePart;
    type Fire = HttpResponsePart;
    fn channel_read(
        &mut self,
        ctx: &mut InboundContext<'_, HttpResponsePart>,
        part: HttpResponsePart,
    ) {
        self.auto_read.borrow_mut().push(ctx.is_auto_read());
        self.parts.borrow_mut().push(part);
    }
}

#[test]
fn the_codec_queues_methods_and_pauses_reading_for_a_slow_consumer() {
    let parts = Rc::new(RefCell::new(Vec::new()));
    let auto_read = Rc::new(RefCell::new(Vec::new()));
    let codec = HttpClientCodec::builder().read_window(100).build().unwrap();
    let mut ch = EmbeddedChannel::with_handlers([
        ("http", codec.into()),
        (
            "keep",
            Handler::inbound(Keep {
                parts: parts.clone(),
                auto_read: auto_read.clone(),
            }),
        ),
    ]);
    ch.write_outbound(HttpClientRequest::from(request(Method::Head, "/")));
    ch.write_outbound(HttpClientRequest::from(request(Method::Get, "/big")));
    let out = ch.read_outbound_bytes();
    assert_eq!(
        out,
        b"HEAD / HTTP/1.1\r\nHost: h\r\n\r\nGET /big HTTP/1.1\r\nHost: h\r\n\r\n"
    );
    ch.write_inbound(Bytes::from_static(
        b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n",
    ))
    .unwrap();
    for _ in 0..4 {
        ch.write_inbound(Bytes::from(vec![b'b'; 60])).unwrap();
    }
    // Past 100 bytes held, reading was turned off.
    assert_eq!(
        *auto_read.borrow(),
        [true, true, true, true, true, false, false]
    );
    // Consuming the parts turns it back on.
    parts.borrow_mut().clear();
    ch.run_pending_tasks().unwrap();
    ch.write_inbound(Bytes::from(vec![b'b'; 760])).unwrap();
    assert_eq!(auto_read.borrow().last(), Some(&true));
    let parts = parts.borrow();
    assert!(matches!(parts.last(), Some(HttpPart::Last(l)) if l.len() == 760));
}

#[test]
fn the_codec_reports_a_truncated_body_and_closes() {
    let mut ch = EmbeddedChannel::with_handlers([("http", HttpClientCodec::new().into())]);
    ch.write_outbound(HttpClientRequest::from(request(Method::Get, "/")));
    ch.write_inbound(Bytes::from_static(
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
    ))
    .unwrap();
    let err = ch.close_inbound().unwrap_err();
    assert_eq!(
        err.downcast_ref::<HttpClientError>(),
        Some(&HttpClientError::TruncatedBody {
            received: 3,
            expected: Some(10)
        })
    );
    assert!(matches!(
        ch.read_inbound::<HttpResponsePart>(),
        Some(HttpPart::Head(_))
    ));
    assert!(matches!(
        ch.read_inbound::<HttpResponsePart>(),
        Some(HttpPart::Content(_))
    ));
    assert!(ch.read_inbound::<HttpResponsePart>().is_none());
    assert!(!ch.is_active());
}

#[test]
fn the_codec_fails_the_write_of_a_bad_request() {
    let mut ch = EmbeddedChannel::with_handlers([("http", HttpClientCodec::new().into())]);
    let done = ch.write_outbound(HttpClientRequest::from(HttpRequest::new(Method::Get, "/")));
    assert!(done.is_done());
    assert!(done.result().is_some_and(|r| r.is_err()));
    assert!(ch.read_outbound_bytes().is_empty());
    assert_eq!(ch.channel().is_active(), ch.is_active());
}
