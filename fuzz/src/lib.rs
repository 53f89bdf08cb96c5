#![deny(missing_docs)]
//! The fuzz targets of seine's network-facing decoders, as plain functions of the
//! input bytes: each decodes the input (after a few configuration bytes) cut into
//! reads, and panics if a decoder breaks its contract. The libFuzzer binaries in
//! `fuzz_targets/` (cargo-fuzz) and the stable driver (`fuzz/src/bin/stable_fuzz.rs`,
//! `fuzz/run.sh` without cargo-fuzz) both call them.

pub mod common;
pub mod dns;

use seine_buffer::ByteOrder;
use seine_buffer::Bytes;
use seine_codec::http::{ChunkedDecoder, HttpError, HttpRequestDecoder};
use seine_codec::proxy::{ProxyHeaderParser, V1_MAX_LENGTH};
use seine_codec::resp::{RespCommandDecoder, RespValue, RespValueDecoder};
use seine_codec::{DelimiterDecoder, FixedLengthDecoder, LengthFieldDecoder, LineDecoder};

/// A target: its name (the cargo-fuzz binary's), the function, and seed inputs.
pub struct Target {
    /// The name, as `cargo fuzz run NAME`.
    pub name: &'static str,
    /// Runs one input; panics on a broken contract.
    pub run: fn(&[u8]),
    /// Inputs to start mutating from (a corpus directory adds more).
    pub seeds: &'static [&'static [u8]],
    /// Tokens worth inserting while mutating.
    pub dictionary: &'static [&'static [u8]],
}

/// Every target.
pub const TARGETS: &[Target] = &[
    Target {
        name: "dns",
        run: dns::dns,
        // An A query for www.example.com with RD, and one with an EDNS OPT record.
        seeds: &[
            b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03www\x07example\x03com\x00\x00\x01\x00\x01",
            b"\xab\xcd\x01\x00\x00\x01\x00\x00\x00\x00\x00\x01\x03big\x07example\x03com\x00\x00\x10\x00\x01\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00",
        ],
        dictionary: &[b"\xc0\x0c", b"\x00\x00\x29", b"\x07example\x03com\x00", b"\x00\x01\x00\x01"],
    },
    Target {
        name: "length_field",
        run: length_field,
        seeds: &[b"\x01\x00\x00\x00\x10\x05\x00\x00\x00\x03abc\x00\x00\x00\x01z"],
        dictionary: &[b"\x00\x00\x00\x00", b"\xff\xff\xff\xff", b"\x7f\xff\xff\xff"],
    },
    Target {
        name: "line",
        run: line,
        seeds: &[b"\x10\x03\x01\x00one\r\ntwo\nthree\r"],
        dictionary: &[b"\r\n", b"\n", b"\r"],
    },
    Target {
        name: "delimiter",
        run: delimiter,
        seeds: &[b"\x00\x01\x00\x08\x05\x00;||a;bc||d;e"],
        dictionary: &[b";", b"||", b"\0"],
    },
    Target {
        name: "fixed",
        run: fixed,
        seeds: &[b"\x02\x01\x00ABCDEFGH"],
        dictionary: &[],
    },
    Target {
        name: "http_request",
        run: http_request,
        seeds: &[
            b"\x07\x00\x00GET / HTTP/1.1\r\nHost: a\r\n\r\n",
            b"\x10\x01\x00POST /p?q=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
            b"\x03\x02\x00PUT /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;e=1\r\nhello\r\n0\r\nT: v\r\n\r\n",
            b"\x20\x00\x01GET http://h/ HTTP/1.0\r\nConnection: keep-alive\r\nExpect: 100-continue\r\n\r\n",
        ],
        dictionary: &[
            b"\r\n",
            b"\r\n\r\n",
            b"Content-Length: ",
            b"Transfer-Encoding: chunked\r\n",
            b"Host: ",
            b"HTTP/1.1",
            b"HTTP/1.0",
            b"Expect: 100-continue\r\n",
            b"0\r\n\r\n",
            b"ffffffffffffffff",
            b"Range: bytes=",
        ],
    },
    Target {
        name: "chunked_body",
        run: chunked_body,
        seeds: &[
            b"\x10\x08\x03" as &[u8],
            b"\x10\x08\x035;e=1\r\nhello\r\n10\r\n0123456789abcdef\r\n0\r\nT: v\r\n\r\nNEXT",
            b"\xff\x40\x01a\r\n0123456789\r\n0\r\n\r\n",
            b"\x01\x01\x07ffffffffffffffff\r\n",
            b"\x01\x01\x0710000000000000000\r\n",
        ],
        dictionary: &[
            b"\r\n",
            b"0\r\n\r\n",
            b";ext=1",
            b"ffffffffffffffff",
            b"X-Trailer: v\r\n",
            b"\n",
        ],
    },
    Target {
        name: "resp_command",
        run: resp_command,
        seeds: &[
            b"\x05\x00\x00*2\r\n$3\r\nGET\r\n$1\r\nk\r\nPING\r\n",
            b"\x01\x01\x00SET \"a b\" 'c\\'d' \"\\x41\\n\"\r\n*0\r\n*-1\r\n",
            b"\x40\x02\x00*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$10\r\n0123456789\r\n",
        ],
        dictionary: &[
            b"\r\n", b"*", b"$", b"-1", b"\"", b"'", b"\\x", b"9223372036854775807",
        ],
    },
    Target {
        name: "resp_value",
        run: resp_value,
        seeds: &[
            b"\x05\x00\x00*2\r\n$1\r\na\r\n*1\r\n:5\r\n+OK\r\n-ERR x\r\n$-1\r\n*-1\r\n",
            b"\x01\x01\x00*3\r\n*1\r\n*1\r\n:1\r\n$0\r\n\r\n:-42\r\n",
        ],
        dictionary: &[
            b"\r\n", b"*", b"$", b":", b"+", b"-", b"-1", b"%", b"_", b"9223372036854775807",
        ],
    },
    Target {
        name: "proxy",
        run: proxy,
        seeds: &[
            b"\x01\x07PROXY TCP4 127.0.0.5 10.0.0.1 40000 80\r\nGET /",
            b"\x00\x03PROXY TCP6 ::1 2001:db8::1 1 65535\r\n",
            b"\x00\x05PROXY UNKNOWN x\r\n",
            b"\x04\x10\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x12\x7f\x00\x00\x05\x0a\x00\x00\x01\x9c\x40\x00\x50\x01\x00\x02h2rest",
            b"\x00\x20\r\n\r\n\x00\r\nQUIT\n\x20\x00\x00\x00",
        ],
        dictionary: &[
            b"PROXY ", b"TCP4 ", b"TCP6 ", b"UNKNOWN", b"\r\n", b"\r\n\r\n\x00\r\nQUIT\n", b"\x21\x11",
            b"\x21\x21", b"\x21\x31", b"\x20\x00", b"\x20\x00\x05", b"\xff\xff",
        ],
    },
];

/// `ProxyHeaderParser` (PROXY protocol v1/v2) with an arbitrary TLV limit, the
/// input cut into arbitrary reads (2 configuration bytes): never more buffered or
/// consumed than the limit, the bytes after a header left untouched, and a
/// decoded header encodes back to one that decodes the same.
pub fn proxy(data: &[u8]) {
    let Some((c, stream)) = common::split_config::<2>(data) else {
        return;
    };
    let mut parser = ProxyHeaderParser::with_max_tlv_size(usize::from(c[0]) * 64);
    let limit = parser.max_v2_length().max(V1_MAX_LENGTH);
    let step = usize::from(c[1] % 64) + 1;
    let mut consumed = 0;
    for read in stream.chunks(step) {
        let mut input = Bytes::copy_from_slice(read);
        let result = parser.push(&mut input);
        consumed += read.len() - input.len();
        assert!(parser.buffered() <= limit, "buffered past the limit");
        assert!(consumed <= limit, "consumed past the limit");
        match result {
            Ok(None) => assert!(input.is_empty(), "waiting with input left"),
            Ok(Some(msg)) => {
                assert_eq!(&stream[consumed..consumed + input.len()], &input[..]);
                if let Ok(wire) = msg.encode() {
                    let again = ProxyHeaderParser::default()
                        .push(&mut wire.clone())
                        .expect("re-decodes");
                    assert_eq!(again.as_ref(), Some(&msg));
                }
                return;
            }
            Err(_) => return,
        }
    }
}

/// `LengthFieldDecoder` with an arbitrary configuration (8 bytes).
pub fn length_field(data: &[u8]) {
    let Some((c, stream)) = common::split_config::<8>(data) else {
        return;
    };
    let width = [1, 2, 3, 4, 8][usize::from(c[0] % 5)];
    let offset = usize::from(c[1] % 8);
    let adjustment = i64::from(c[2] as i8) * if c[7] & 8 == 0 { 1 } else { 1 << 40 };
    let strip = usize::from(c[3] % 16);
    let max = offset + width + usize::from(c[4]);
    let decoder = LengthFieldDecoder::builder()
        .max_frame_length(max)
        .length_field_offset(offset)
        .length_field_length(width)
        .length_adjustment(adjustment)
        .initial_bytes_to_strip(strip)
        .byte_order(if c[7] & 1 == 0 {
            ByteOrder::BigEndian
        } else {
            ByteOrder::LittleEndian
        })
        .fail_fast(c[7] & 2 == 0)
        .drop_partial_at_eof(c[7] & 4 != 0)
        .stop_at_first_error(c[7] & 16 != 0)
        .build()
        .expect("a valid configuration");
    common::drive(decoder, stream, c[5], c[6], max);
}

/// `LineDecoder` with an arbitrary configuration (4 bytes).
pub fn line(data: &[u8]) {
    let Some((c, stream)) = common::split_config::<4>(data) else {
        return;
    };
    let max = usize::from(c[0]);
    let decoder = LineDecoder::builder()
        .max_frame_length(max)
        .fail_fast(c[3] & 1 == 0)
        .strip_delimiter(c[3] & 2 == 0)
        .drop_partial_at_eof(c[3] & 4 != 0)
        .build()
        .expect("a valid configuration");
    common::drive(decoder, stream, c[1], c[2], max + 2);
}

/// `DelimiterDecoder` with up to three delimiters taken from the input.
pub fn delimiter(data: &[u8]) {
    let Some((c, rest)) = common::split_config::<6>(data) else {
        return;
    };
    let count = usize::from(c[4] % 3) + 1;
    let mut delimiters = Vec::new();
    let mut rest = rest;
    for &len in c.iter().take(count) {
        let n = usize::from(len % 4) + 1;
        if rest.len() < n {
            return;
        }
        delimiters.push(rest[..n].to_vec());
        rest = &rest[n..];
    }
    let max = usize::from(c[3]) + 1;
    let decoder = DelimiterDecoder::builder()
        .max_frame_length(max)
        .delimiters(&delimiters)
        .fail_fast(c[5] & 1 == 0)
        .strip_delimiter(c[5] & 2 == 0)
        .build()
        .expect("a valid configuration");
    common::drive(decoder, rest, c[5] >> 2, c[4] >> 2, max + 4);
}

/// `FixedLengthDecoder` of 1 to 256 bytes.
pub fn fixed(data: &[u8]) {
    let Some((c, stream)) = common::split_config::<3>(data) else {
        return;
    };
    let length = usize::from(c[0]) + 1;
    let decoder = FixedLengthDecoder::builder()
        .frame_length(length)
        .build()
        .expect("a valid configuration");
    common::drive(decoder, stream, c[1], c[2], length);
}

/// `HttpRequestDecoder` with small limits taken from the input (3 bytes).
pub fn http_request(data: &[u8]) {
    let Some((c, stream)) = common::split_config::<3>(data) else {
        return;
    };
    let max_body = usize::from(c[0]) * 16;
    let max_headers = usize::from(c[1] % 8) + 1;
    let max_header_length = 64 + usize::from(c[2]) * 4;
    let decoder = HttpRequestDecoder::builder()
        .max_body_length(max_body)
        .max_headers(max_headers)
        .max_header_length(max_header_length)
        .build()
        .expect("a valid configuration");
    common::drive_protocol(decoder, stream, c[0] >> 2, c[1] >> 3, |req| {
        assert!(req.body.len() <= max_body, "body over max_body_length");
        assert!(
            req.headers.len() <= max_headers,
            "more headers than max_headers"
        );
        assert!(
            req.uri.len() <= max_header_length,
            "a URI longer than the head limit"
        );
    });
}

/// What a [`ChunkedDecoder`] made of an input: the data, whether the body ended,
/// the error's status if any, and the input left.
#[derive(Debug, PartialEq)]
struct ChunkedOutcome {
    data: Vec<u8>,
    done: bool,
    error: Option<u16>,
    rest: Vec<u8>,
    trailers: usize,
}

/// `ChunkedDecoder` (the chunked coding of request and response bodies) with
/// small limits taken from the input (3 bytes), the body cut into arbitrary
/// reads: never more data than `max_body`, never a trailer section over its
/// limit, nothing consumed after the body's end, and the same outcome (data,
/// end, error status, input left) as decoding the input in one read.
pub fn chunked_body(data: &[u8]) {
    let Some((c, stream)) = common::split_config::<3>(data) else {
        return;
    };
    let max_body = u64::from(c[0]) * 16;
    let max_trailers = 16 + usize::from(c[1]) * 4;
    let step = usize::from(c[2] % 64) + 1;
    let whole = run_chunked(stream, stream.len().max(1), max_body, max_trailers);
    let cut = run_chunked(stream, step, max_body, max_trailers);
    assert_eq!(whole, cut, "the outcome depends on how the input was cut");
}

fn run_chunked(stream: &[u8], step: usize, max_body: u64, max_trailers: usize) -> ChunkedOutcome {
    let mut decoder = ChunkedDecoder::new(max_body, max_trailers);
    let mut src = seine_buffer::CompositeBuf::new();
    let mut out = seine_buffer::CompositeBuf::new();
    let mut outcome = ChunkedOutcome {
        data: Vec::new(),
        done: false,
        error: None,
        rest: Vec::new(),
        trailers: 0,
    };
    let mut fed = 0;
    for read in stream.chunks(step) {
        fed += read.len();
        src.push(Bytes::copy_from_slice(read));
        match decoder.decode(&mut src, &mut out) {
            Ok(done) => {
                assert!(out.len() as u64 <= max_body, "data over max_body");
                assert_eq!(decoder.received(), out.len() as u64, "received miscounted");
                if done {
                    outcome.done = true;
                    // What follows the body is left as it is.
                    src.push(Bytes::copy_from_slice(&stream[fed..]));
                    break;
                }
            }
            Err(e) => {
                if let HttpError::HeadersTooLarge { max, .. } = e {
                    assert_eq!(max, max_trailers);
                }
                outcome.error = Some(e.status());
                break;
            }
        }
    }
    outcome.data = out.to_vec();
    if outcome.done {
        outcome.rest = src.to_vec();
        let trailers = decoder.take_trailers();
        outcome.trailers = trailers.len();
        let bytes: usize = trailers.iter().map(|(n, v)| n.len() + v.len() + 4).sum();
        assert!(bytes <= max_trailers + 2, "trailers over their limit");
    }
    outcome
}

/// `RespCommandDecoder` with small limits taken from the input (3 bytes).
pub fn resp_command(data: &[u8]) {
    let Some((c, stream)) = common::split_config::<3>(data) else {
        return;
    };
    let max_bulk = usize::from(c[0]);
    let max_array = usize::from(c[1] % 16) + 1;
    let max_inline = usize::from(c[2]) + 1;
    let decoder = RespCommandDecoder::builder()
        .max_bulk_length(max_bulk)
        .max_array_length(max_array)
        .max_inline_length(max_inline)
        .build()
        .expect("a valid configuration");
    common::drive_protocol(decoder, stream, c[2] >> 2, c[1] >> 4, |cmd| {
        assert!(!cmd.is_empty(), "an empty command is skipped, not fired");
        let inline = cmd.args().iter().map(|a| a.len()).sum::<usize>() <= max_inline;
        assert!(
            cmd.len() <= max_array || inline,
            "more arguments than max_array_length"
        );
        for arg in cmd.args() {
            assert!(
                arg.len() <= max_bulk.max(max_inline),
                "an argument over the limits"
            );
        }
    });
}

/// `RespValueDecoder` with small limits taken from the input (3 bytes).
pub fn resp_value(data: &[u8]) {
    let Some((c, stream)) = common::split_config::<3>(data) else {
        return;
    };
    let max_bulk = usize::from(c[0]);
    let max_array = usize::from(c[1] % 16) + 1;
    let max_depth = usize::from(c[2] % 8) + 1;
    let decoder = RespValueDecoder::builder()
        .max_bulk_length(max_bulk)
        .max_array_length(max_array)
        .max_depth(max_depth)
        .build()
        .expect("a valid configuration");
    common::drive_protocol(decoder, stream, c[2] >> 3, c[1] >> 4, |value| {
        check_value(value, max_bulk, max_array, max_depth, 0);
    });
}

fn check_value(
    value: &RespValue,
    max_bulk: usize,
    max_array: usize,
    max_depth: usize,
    depth: usize,
) {
    match value {
        RespValue::Bulk(b) => assert!(b.len() <= max_bulk, "bulk over max_bulk_length"),
        RespValue::Array(items) => {
            assert!(depth < max_depth, "arrays nested deeper than max_depth");
            assert!(items.len() <= max_array, "array over max_array_length");
            for item in items {
                check_value(item, max_bulk, max_array, max_depth, depth + 1);
            }
        }
        _ => {}
    }
}
