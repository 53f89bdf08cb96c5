//! `HttpRequestDecoder` on its own: pipelined requests split at every byte, chunked
//! bodies, every limit, malformed input and the request-smuggling rules.

use seine_buffer::{Bytes, CompositeBuf};
use seine_codec::http::{HttpError, HttpRequest, HttpRequestDecoder, Method, Version};

const PIPELINE: &[u8] = b"GET /a?x=1 HTTP/1.1\r\nHost: h\r\nAccept: */*\r\n\r\n\
POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world\
PUT /c HTTP/1.1\r\nhost: h\r\nTransfer-Encoding: chunked\r\n\r\n\
5;ext=1\r\nchunk\r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n\
\r\nHEAD /d HTTP/1.0\r\n\r\n";

fn check(reqs: &[HttpRequest]) {
    assert_eq!(reqs.len(), 4);
    assert_eq!(
        (reqs[0].method.clone(), reqs[0].path(), reqs[0].query()),
        (Method::Get, "/a", Some("x=1"))
    );
    assert_eq!(reqs[0].header("accept"), Some("*/*"));
    assert!(reqs[0].body.is_empty());
    assert_eq!(reqs[1].method, Method::Post);
    assert_eq!(reqs[1].body, b"hello world"[..]);
    assert_eq!(reqs[2].method, Method::Put);
    assert_eq!(reqs[2].body, b"chunk0123456789"[..]);
    assert_eq!(reqs[3].method, Method::Head);
    assert_eq!(reqs[3].version, Version::Http10);
    assert!(!reqs[3].keep_alive());
    assert!(reqs[0].keep_alive());
}

fn decode_pieces(pieces: &[&[u8]]) -> Vec<HttpRequest> {
    let mut dec = HttpRequestDecoder::new();
    let mut buf = CompositeBuf::new();
    let mut out = Vec::new();
    for p in pieces {
        buf.push(Bytes::copy_from_slice(p));
        while let Some(req) = dec.decode_request(&mut buf).unwrap() {
            out.push(req);
        }
    }
    assert_eq!(dec.decode_request_eof(&mut buf), Ok(None));
    out
}

#[test]
fn pipelined_requests_split_at_every_byte_boundary() {
    for at in 0..=PIPELINE.len() {
        check(&decode_pieces(&[&PIPELINE[..at], &PIPELINE[at..]]));
    }
}

#[test]
fn pipelined_requests_one_byte_per_read() {
    let pieces: Vec<&[u8]> = PIPELINE.chunks(1).collect();
    check(&decode_pieces(&pieces));
}

#[test]
fn pipelined_requests_in_three_segments() {
    // All pieces pushed before decoding: the decoder sees multi-segment composites.
    for a in (0..=PIPELINE.len()).step_by(7) {
        for b in (a..=PIPELINE.len()).step_by(5) {
            let mut dec = HttpRequestDecoder::new();
            let mut buf: CompositeBuf = [&PIPELINE[..a], &PIPELINE[a..b], &PIPELINE[b..]]
                .into_iter()
                .map(Bytes::copy_from_slice)
                .collect();
            let mut out = Vec::new();
            while let Some(req) = dec.decode_request(&mut buf).unwrap() {
                out.push(req);
            }
            check(&out);
        }
    }
}

#[test]
fn one_segment_requests_are_zero_copy() {
    let wire = Bytes::from_static(
        b"POST /x HTTP/1.1\r\nHost: h\r\nX-Id: 42\r\nContent-Length: 3\r\n\r\nabc",
    );
    let mut buf = CompositeBuf::from(wire.clone());
    let mut dec = HttpRequestDecoder::new();
    let req = dec.decode_request(&mut buf).unwrap().unwrap();
    let within = |p: *const u8| wire.as_ptr_range().contains(&p);
    assert!(within(req.headers.get("x-id").unwrap().as_ptr()));
    assert!(within(req.uri.as_ptr()));
    assert!(within(req.body.segments()[0].as_ptr()));
    assert_eq!(dec.copied_bytes(), 0);
    // A head split over two segments is copied once.
    let mut buf: CompositeBuf = [
        Bytes::from_static(b"GET / HTTP/1.1\r\nHo"),
        Bytes::from_static(b"st: h\r\n\r\n"),
    ]
    .into_iter()
    .collect();
    assert!(dec.decode_request(&mut buf).unwrap().is_some());
    assert_eq!(dec.copied_bytes(), 27);
}

fn err(wire: &[u8]) -> HttpError {
    err_with(HttpRequestDecoder::new(), wire)
}

fn err_with(mut dec: HttpRequestDecoder, wire: &[u8]) -> HttpError {
    let mut buf = CompositeBuf::from(wire.to_vec());
    match dec.decode_request(&mut buf) {
        Err(e) => e,
        Ok(r) => match dec.decode_request_eof(&mut buf) {
            Err(e) => e,
            Ok(r2) => panic!(
                "{:?} decoded as {r:?} / {r2:?}",
                String::from_utf8_lossy(wire)
            ),
        },
    }
}

fn status(wire: &[u8]) -> u16 {
    err(wire).status()
}

#[test]
fn header_limits() {
    // A 1 MiB header line: refused as soon as the limit is passed.
    let mut wire = b"GET / HTTP/1.1\r\nHost: h\r\nX-Big: ".to_vec();
    wire.extend(std::iter::repeat_n(b'a', 1 << 20));
    assert!(matches!(
        err(&wire),
        HttpError::HeadersTooLarge { max: 65536, .. }
    ));
    assert_eq!(status(&wire), 431);
    // 10 000 header fields.
    let mut wire = b"GET / HTTP/1.1\r\nHost: h\r\n".to_vec();
    for i in 0..10_000 {
        wire.extend_from_slice(format!("X{i}: v\r\n").as_bytes());
    }
    wire.extend_from_slice(b"\r\n");
    let e = err_with(
        HttpRequestDecoder::builder()
            .max_header_length(1 << 20)
            .build()
            .unwrap(),
        &wire,
    );
    assert_eq!(e, HttpError::TooManyHeaders { max: 100 });
    assert_eq!(e.status(), 431);
    assert_eq!(status(&wire), 431); // over the size limit too
    // A request line longer than the limit.
    let mut wire = b"GET /".to_vec();
    wire.extend(std::iter::repeat_n(b'a', 70_000));
    assert_eq!(err(&wire), HttpError::UriTooLong { max: 65536 });
    assert_eq!(status(&wire), 414);
    // Exactly at the limit is fine.
    let head = b"GET / HTTP/1.1\r\nHost: h\r\n\r\n";
    let mut dec = HttpRequestDecoder::builder()
        .max_header_length(head.len())
        .build()
        .unwrap();
    assert!(
        dec.decode_request(&mut CompositeBuf::from(&head[..]))
            .unwrap()
            .is_some()
    );
    let mut dec = HttpRequestDecoder::builder()
        .max_header_length(head.len() - 1)
        .build()
        .unwrap();
    assert!(
        dec.decode_request(&mut CompositeBuf::from(&head[..]))
            .is_err()
    );
}

#[test]
fn body_limits_are_checked_before_buffering() {
    let e = err(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 18446744073709551615\r\n\r\n");
    assert_eq!(
        e,
        HttpError::BodyTooLarge {
            length: u64::MAX,
            max: 8 << 20
        }
    );
    assert_eq!(e.status(), 413);
    let dec = HttpRequestDecoder::builder()
        .max_body_length(10)
        .build()
        .unwrap();
    let e = err_with(
        dec,
        b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n01234\r\n6\r\n",
    );
    assert_eq!(
        e,
        HttpError::BodyTooLarge {
            length: 11,
            max: 10
        }
    );
    // A huge chunk size is refused from its size line.
    let e =
        err(b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffff\r\n");
    assert_eq!(e.status(), 413);
}

#[test]
fn malformed_requests() {
    let cases: &[(&[u8], u16)] = &[
        (b"GET\r\n\r\n", 400),
        (b"GET / HTTP/1.1 extra\r\nHost: h\r\n\r\n", 400),
        (b"G(T / HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        (b"GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        (b"GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505),
        (b"GET /with space HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        (b"GET / FTP/1.1\r\nHost: h\r\n\r\n", 505),
        (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost h\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n folded\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a b/c\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: user@h\r\n\r\n", 400),
        (
            b"GET / HTTP/1.1\r\nHost: h\r\nExpect: the-unexpected\r\n\r\n",
            417,
        ),
    ];
    for (wire, want) in cases {
        assert_eq!(status(wire), *want, "{:?}", String::from_utf8_lossy(wire));
    }
    // Hosts with ports, IPv6 literals and the empty Host (no authority) are fine.
    for host in ["example.com:8080", "[::1]:80", "xn--bcher-kva.example", ""] {
        let wire = format!("GET / HTTP/1.1\r\nHost: {host}\r\n\r\n");
        let mut dec = HttpRequestDecoder::new();
        let req = dec
            .decode_request(&mut CompositeBuf::from(wire.into_bytes()))
            .unwrap();
        assert!(req.is_some(), "{host:?}");
    }
    // A higher HTTP/1 minor version is read as HTTP/1.1 (RFC 9110 §2.5).
    let mut dec = HttpRequestDecoder::new();
    let req = dec
        .decode_request(&mut CompositeBuf::from(
            &b"GET /x HTTP/1.2\r\nHost: h\r\n\r\n"[..],
        ))
        .unwrap()
        .unwrap();
    assert_eq!(
        (req.version, req.path(), req.header("host")),
        (Version::Http11, "/x", Some("h"))
    );
    // Input that cannot be a request is refused before its end arrives.
    let mut dec = HttpRequestDecoder::new();
    let e = dec
        .decode_request(&mut CompositeBuf::from(&b"\r\n\x16\x03\x01\x02\x00"[..]))
        .unwrap_err();
    assert_eq!(e.status(), 400);
    // HTTP/1.0 needs no Host.
    let mut dec = HttpRequestDecoder::new();
    assert!(
        dec.decode_request(&mut CompositeBuf::from(&b"GET / HTTP/1.0\r\n\r\n"[..]))
            .unwrap()
            .is_some()
    );
}

#[test]
fn content_length_rules() {
    let post = |cl: &str| format!("POST / HTTP/1.1\r\nHost: h\r\n{cl}\r\n\r\nabcde").into_bytes();
    for bad in [
        "Content-Length: -1",
        "Content-Length: +5",
        "Content-Length: 5x",
        "Content-Length: five",
        "Content-Length: 0x5",
        "Content-Length: ",
        "Content-Length: 5, 6",
        "Content-Length: 5\r\nContent-Length: 4",
        "Content-Length: 99999999999999999999999",
        "Content-Length: 5\r\nTransfer-Encoding: chunked",
        "Transfer-Encoding: chunked\r\nContent-Length: 5",
    ] {
        let e = err(&post(bad));
        assert_eq!(e.status(), 400, "{bad:?}: {e}");
    }
    // Identical duplicates are one length.
    for ok in [
        "Content-Length: 5, 5",
        "Content-Length: 5\r\nContent-Length: 5",
        "Content-Length:  5 ",
    ] {
        let mut dec = HttpRequestDecoder::new();
        let req = dec
            .decode_request(&mut CompositeBuf::from(post(ok)))
            .unwrap()
            .unwrap();
        assert_eq!(req.body, b"abcde"[..], "{ok:?}");
    }
}

#[test]
fn transfer_encoding_rules() {
    let req = |te: &str, version: &str| {
        format!("POST / {version}\r\nHost: h\r\n{te}\r\n\r\n0\r\n\r\n").into_bytes()
    };
    for (te, want) in [
        ("Transfer-Encoding: gzip", 400),
        ("Transfer-Encoding: chunked, gzip", 400),
        ("Transfer-Encoding: gzip, chunked", 501),
        ("Transfer-Encoding: chunked, chunked", 400),
        (
            "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked",
            400,
        ),
        ("Transfer-Encoding: ", 400),
        ("Transfer-Encoding: xchunked", 400),
    ] {
        assert_eq!(status(&req(te, "HTTP/1.1")), want, "{te:?}");
    }
    assert_eq!(status(&req("Transfer-Encoding: chunked", "HTTP/1.0")), 400);
    let mut dec = HttpRequestDecoder::new();
    let got = dec
        .decode_request(&mut CompositeBuf::from(req(
            "Transfer-Encoding: CHUNKED",
            "HTTP/1.1",
        )))
        .unwrap();
    assert!(got.unwrap().body.is_empty());
}

#[test]
fn bad_chunks() {
    let chunked = |body: &str| {
        format!("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n{body}")
            .into_bytes()
    };
    for body in [
        "x\r\n",
        "-1\r\n",
        "+1\r\nx\r\n",
        "0x1\r\nx\r\n",
        "1 1\r\n",
        "1\nx\r\n",
        "3\r\nabcde\r\n",
        "10000000000000000\r\n",
        "0\r\nbad trailer\r\n\r\n",
    ] {
        assert_eq!(status(&chunked(body)), 400, "{body:?}");
    }
}

#[test]
fn truncated_at_eof() {
    let cases: &[(&[u8], usize)] = &[
        (b"GET / HTTP/1.1\r\nHost:", 21),
        (
            b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n12345",
            5,
        ),
        (
            b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
            2,
        ),
        (
            b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n",
            5,
        ),
        (
            b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n",
            0,
        ),
    ];
    for (wire, received) in cases {
        let e = err(wire);
        assert_eq!(
            e,
            HttpError::Truncated {
                received: *received
            },
            "{:?}",
            String::from_utf8_lossy(wire)
        );
        assert_eq!(e.status(), 400);
    }
    // Blank lines at the end are not a request.
    let mut dec = HttpRequestDecoder::new();
    assert_eq!(
        dec.decode_request_eof(&mut CompositeBuf::from(&b"\r\n\r\n"[..])),
        Ok(None)
    );
}

#[test]
fn decoder_trait_maps_errors() {
    use seine_codec::{CodecError, Decoder};
    let mut dec = HttpRequestDecoder::builder()
        .max_body_length(1)
        .build()
        .unwrap();
    let mut buf =
        CompositeBuf::from(&b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\n"[..]);
    assert_eq!(
        dec.decode(&mut buf),
        Err(CodecError::TooLongFrame { length: 2, max: 1 })
    );
    let mut buf = CompositeBuf::from(&b"BAD\r\n\r\n"[..]);
    assert!(matches!(
        dec.decode(&mut buf),
        Err(CodecError::CorruptFrame { .. })
    ));
}
