//! Property tests: the HTTP request decoder never panics on arbitrary input, and
//! generated requests survive any split into reads (compared against the values
//! they were generated from).

use proptest::prelude::*;
use seine_buffer::{Bytes, CompositeBuf};
use seine_codec::http::{HttpPart, HttpRequest, HttpRequestDecoder};

/// Feeds `data` cut at `cuts`; returns the requests decoded and whether it failed.
fn feed(dec: &mut HttpRequestDecoder, data: &[u8], cuts: &[usize]) -> (Vec<HttpRequest>, bool) {
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (data.len() + 1)).collect();
    points.extend([0, data.len()]);
    points.sort_unstable();
    let mut buf = CompositeBuf::new();
    let mut out = Vec::new();
    for w in points.windows(2) {
        buf.push(Bytes::copy_from_slice(&data[w[0]..w[1]]));
        loop {
            match dec.decode_request(&mut buf) {
                Ok(Some(r)) => out.push(r),
                Ok(None) => break,
                Err(_) => return (out, true),
            }
        }
    }
    match dec.decode_request_eof(&mut buf) {
        Ok(Some(r)) => out.push(r),
        Ok(None) => {}
        Err(_) => return (out, true),
    }
    (out, false)
}

/// As [`feed`], streaming: the parts put back together into requests (checking
/// that each request is a head, content parts, one last part).
fn feed_parts(
    dec: &mut HttpRequestDecoder,
    data: &[u8],
    cuts: &[usize],
) -> (Vec<HttpRequest>, bool) {
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (data.len() + 1)).collect();
    points.extend([0, data.len()]);
    points.sort_unstable();
    let mut buf = CompositeBuf::new();
    let mut out = Vec::new();
    let mut open: Option<HttpRequest> = None;
    let mut take = |part: HttpPart<HttpRequest>, open: &mut Option<HttpRequest>| match part {
        HttpPart::Head(h) => {
            assert!(open.is_none(), "a head inside a request");
            assert!(h.body.is_empty());
            *open = Some(h);
        }
        HttpPart::Content(c) => {
            assert!(!c.is_empty(), "an empty content part");
            open.as_mut()
                .expect("content after a head")
                .body
                .append(&mut c.into_data());
        }
        HttpPart::Last(l) => {
            let mut r = open.take().expect("a last part after a head");
            r.body.append(&mut l.into_data().0);
            out.push(r);
        }
    };
    for w in points.windows(2) {
        buf.push(Bytes::copy_from_slice(&data[w[0]..w[1]]));
        loop {
            match dec.decode_part(&mut buf) {
                Ok(Some(p)) => take(p, &mut open),
                Ok(None) => break,
                Err(_) => return (out, true),
            }
        }
    }
    loop {
        match dec.decode_part_eof(&mut buf) {
            Ok(Some(p)) => take(p, &mut open),
            Ok(None) => break,
            Err(_) => return (out, true),
        }
    }
    assert!(open.is_none(), "a request left open at the end");
    (out, false)
}

#[derive(Debug, Clone)]
struct Req {
    method: &'static str,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    chunks: Option<Vec<usize>>,
}

fn req() -> impl Strategy<Value = Req> {
    (
        prop::sample::select(vec!["GET", "POST", "PUT", "DELETE", "PATCH", "X-CUSTOM"]),
        "/[a-z0-9/._~%-]{0,30}",
        prop::collection::vec(("[A-Za-z][A-Za-z0-9-]{0,12}", "[ -~]{0,20}"), 0..6),
        prop::collection::vec(any::<u8>(), 0..200),
        prop::option::of(prop::collection::vec(1usize..50, 0..6)),
    )
        .prop_map(|(method, path, headers, body, chunks)| Req {
            method,
            path,
            headers: headers
                .into_iter()
                .filter(|(n, _)| {
                    ![
                        "host",
                        "content-length",
                        "transfer-encoding",
                        "expect",
                        "connection",
                    ]
                    .contains(&n.to_ascii_lowercase().as_str())
                })
                .map(|(n, v)| (n, v.trim().to_string()))
                .collect(),
            body,
            chunks,
        })
}

fn wire(r: &Req) -> Vec<u8> {
    let mut w = format!("{} {} HTTP/1.1\r\nHost: test\r\n", r.method, r.path).into_bytes();
    for (n, v) in &r.headers {
        w.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
    }
    match &r.chunks {
        None => {
            w.extend_from_slice(format!("Content-Length: {}\r\n\r\n", r.body.len()).as_bytes());
            w.extend_from_slice(&r.body);
        }
        Some(sizes) => {
            w.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
            let mut rest = &r.body[..];
            for &s in sizes.iter().chain(std::iter::repeat(&64)) {
                if rest.is_empty() {
                    break;
                }
                let n = s.min(rest.len());
                w.extend_from_slice(format!("{n:x}\r\n").as_bytes());
                w.extend_from_slice(&rest[..n]);
                w.extend_from_slice(b"\r\n");
                rest = &rest[n..];
            }
            w.extend_from_slice(b"0\r\n\r\n");
        }
    }
    w
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn never_panics_on_random_bytes(data in prop::collection::vec(any::<u8>(), 0..400), cuts in prop::collection::vec(any::<usize>(), 0..6)) {
        let _ = feed(&mut HttpRequestDecoder::builder().max_header_length(256).max_body_length(128).build().unwrap(), &data, &cuts);
    }

    #[test]
    fn never_panics_on_http_like_bytes(
        prefix in prop::sample::select(vec![
            "GET / HTTP/1.1\r\nHost: h\r\n",
            "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n",
            "",
        ]),
        data in prop::collection::vec(prop::sample::select(&b"\r\n :;0123456789abcdefGHTP/.-,"[..]), 0..300),
        cuts in prop::collection::vec(any::<usize>(), 0..6),
    ) {
        let mut all = prefix.as_bytes().to_vec();
        all.extend_from_slice(&data);
        let _ = feed(&mut HttpRequestDecoder::builder().max_header_length(512).max_body_length(256).build().unwrap(), &all, &cuts);
    }

    #[test]
    fn requests_survive_any_split(reqs in prop::collection::vec(req(), 1..5), cuts in prop::collection::vec(any::<usize>(), 0..8)) {
        let all: Vec<u8> = reqs.iter().flat_map(wire).collect();
        let (got, failed) = feed(&mut HttpRequestDecoder::new(), &all, &cuts);
        prop_assert!(!failed);
        prop_assert_eq!(got.len(), reqs.len());
        for (g, r) in got.iter().zip(&reqs) {
            prop_assert_eq!(g.method.as_str(), r.method);
            prop_assert_eq!(g.uri_str(), r.path.as_str());
            prop_assert_eq!(g.body.to_vec(), r.body.clone());
            for (n, v) in &r.headers {
                prop_assert!(g.headers.get_all(n).any(|x| x == v.as_bytes()), "{} missing", n);
            }
        }
    }

    #[test]
    fn streamed_requests_survive_any_split(reqs in prop::collection::vec(req(), 1..5), cuts in prop::collection::vec(any::<usize>(), 0..8)) {
        let all: Vec<u8> = reqs.iter().flat_map(wire).collect();
        let (whole, _) = feed(&mut HttpRequestDecoder::new(), &all, &cuts);
        let (got, failed) = feed_parts(&mut HttpRequestDecoder::new(), &all, &cuts);
        prop_assert!(!failed);
        prop_assert_eq!(got, whole);
    }

    #[test]
    fn streaming_never_panics_and_agrees_with_whole_requests(
        prefix in prop::sample::select(vec![
            "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n",
            "",
        ]),
        data in prop::collection::vec(prop::sample::select(&b"\r\n :;0123456789abcdefGHTP/.-,"[..]), 0..300),
        cuts in prop::collection::vec(any::<usize>(), 0..6),
    ) {
        let mut all = prefix.as_bytes().to_vec();
        all.extend_from_slice(&data);
        let dec = || HttpRequestDecoder::builder().max_header_length(512).max_body_length(256).build().unwrap();
        let (whole, whole_failed) = feed(&mut dec(), &all, &cuts);
        let (parts, parts_failed) = feed_parts(&mut dec(), &all, &cuts);
        prop_assert_eq!(whole_failed, parts_failed);
        prop_assert_eq!(whole, parts);
    }
}
