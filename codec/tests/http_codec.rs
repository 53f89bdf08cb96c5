//! `HttpServerCodec` through `EmbeddedChannel`: keep-alive, pipelining, HEAD,
//! 100-continue, closing, bad requests answered with their status.

use std::io::Write;
use std::sync::Arc;

use seine_buffer::{Bytes, FileRegion};
use seine_channel::prelude::*;
use seine_channel::testing::EmbeddedChannel;
use seine_codec::http::{
    Body, HttpError, HttpRequest, HttpResponse, HttpResponseEncoder, HttpServerCodec,
};

/// Answers `<METHOD> <path> <body length>`; `/file` with a file region; `/close`
/// with `Connection: close`.
struct App {
    file: Option<Arc<std::fs::File>>,
}

impl ChannelHandler for App {}
impl InboundHandler for App {
    type Read = HttpRequest;
    type Fire = HttpRequest;
    fn channel_read(&mut self, ctx: &mut InboundContext<'_, HttpRequest>, req: HttpRequest) {
        let resp = match req.path() {
            "/file" => {
                let file = self.file.clone().expect("a file");
                HttpResponse::ok(FileRegion::new(file, 0, 10).unwrap())
            }
            "/close" => HttpResponse::text(200, "bye\n").close(),
            "/chunked" => HttpResponse::ok(Body::Chunked(vec![
                Bytes::from_static(b"ab"),
                Bytes::from_static(b"cde"),
            ])),
            path => HttpResponse::text(200, format!("{} {} {}", req.method, path, req.body.len())),
        };
        drop(ctx.write(resp));
    }
}

fn channel() -> EmbeddedChannel {
    let mut f = tempfile::tempfile().unwrap();
    f.write_all(b"0123456789").unwrap();
    let codec = HttpServerCodec::builder()
        .encoder(HttpResponseEncoder::builder().date(false).build().unwrap())
        .build()
        .unwrap();
    EmbeddedChannel::with_handlers([
        ("http", codec.into()),
        (
            "app",
            Handler::inbound(App {
                file: Some(Arc::new(f)),
            }),
        ),
    ])
}

fn text(ch: &mut EmbeddedChannel) -> String {
    String::from_utf8(ch.read_outbound_bytes()).unwrap()
}

fn ok(body: &str) -> String {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

#[test]
fn keep_alive_pipelined_requests_answered_in_order() {
    let mut ch = channel();
    ch.write_inbound(Bytes::from_static(
        b"GET /a HTTP/1.1\r\nHost: h\r\n\r\nPOST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nxyzGET /c HTTP/1.1\r\nHost: h\r\n\r\n",
    ))
    .unwrap();
    assert_eq!(
        text(&mut ch),
        [ok("GET /a 0"), ok("POST /b 3"), ok("GET /c 0")].concat()
    );
    assert!(ch.is_active());
    // And again on the same connection.
    ch.write_inbound(Bytes::from_static(b"GET /d HTTP/1.1\r\nHost: h\r\n\r\n"))
        .unwrap();
    assert_eq!(text(&mut ch), ok("GET /d 0"));
    assert!(ch.is_active());
}

#[test]
fn split_at_every_byte_through_the_pipeline() {
    let wire = b"POST /b HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET /c HTTP/1.1\r\nHost: h\r\n\r\n";
    for at in 0..=wire.len() {
        let mut ch = channel();
        ch.write_inbound(Bytes::copy_from_slice(&wire[..at]))
            .unwrap();
        ch.write_inbound(Bytes::copy_from_slice(&wire[at..]))
            .unwrap();
        assert_eq!(
            text(&mut ch),
            [ok("POST /b 3"), ok("GET /c 0")].concat(),
            "split at {at}"
        );
    }
}

#[test]
fn http10_closes_by_default_and_keeps_alive_when_asked() {
    let mut ch = channel();
    ch.write_inbound(Bytes::from_static(
        b"GET /a HTTP/1.0\r\n\r\nGET /ignored HTTP/1.0\r\n\r\n",
    ))
    .unwrap();
    let out = text(&mut ch);
    assert!(out.contains("Connection: close\r\n"), "{out}");
    assert!(!out.contains("/ignored"));
    assert!(!ch.is_active());

    let mut ch = channel();
    ch.write_inbound(Bytes::from_static(
        b"GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    ))
    .unwrap();
    let out = text(&mut ch);
    assert!(out.contains("Connection: keep-alive\r\n"), "{out}");
    assert!(ch.is_active());
}

#[test]
fn connection_close_closes_after_the_response() {
    let mut ch = channel();
    ch.write_inbound(Bytes::from_static(
        b"GET /a HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n",
    ))
    .unwrap();
    let out = text(&mut ch);
    assert!(
        out.starts_with("HTTP/1.1 200 OK\r\n") && out.ends_with("GET /a 0"),
        "{out}"
    );
    assert!(out.contains("Connection: close\r\n"));
    assert!(!ch.is_active());
    // The server's own `Connection: close` too.
    let mut ch = channel();
    ch.write_inbound(Bytes::from_static(
        b"GET /close HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n",
    ))
    .unwrap();
    let out = text(&mut ch);
    assert!(
        out.ends_with("bye\n") && out.matches("HTTP/1.1").count() == 1,
        "{out}"
    );
    assert!(!ch.is_active());
}

#[test]
fn head_gets_headers_only() {
    let mut ch = channel();
    ch.write_inbound(Bytes::from_static(
        b"HEAD /x HTTP/1.1\r\nHost: h\r\n\r\nHEAD /file HTTP/1.1\r\nHost: h\r\n\r\n",
    ))
    .unwrap();
    assert_eq!(
        text(&mut ch),
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 9\r\n\r\n\
         HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"
    );
}

#[test]
fn file_body_is_written_as_a_file_region() {
    let mut ch = channel();
    ch.write_inbound(Bytes::from_static(b"GET /file HTTP/1.1\r\nHost: h\r\n\r\n"))
        .unwrap();
    let head = ch.read_outbound::<OutboundBuf>().unwrap();
    assert!(!head.is_file());
    let body = ch.read_outbound::<OutboundBuf>().unwrap();
    assert!(body.is_file(), "{body:?}");
    assert_eq!(body.len(), 10);
}

#[test]
fn chunked_response() {
    let mut ch = channel();
    ch.write_inbound(Bytes::from_static(
        b"GET /chunked HTTP/1.1\r\nHost: h\r\n\r\n",
    ))
    .unwrap();
    assert_eq!(
        text(&mut ch),
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n3\r\ncde\r\n0\r\n\r\n"
    );
}

#[test]
fn expect_100_continue() {
    let mut ch = channel();
    ch.write_inbound(Bytes::from_static(
        b"PUT /up HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n",
    ))
    .unwrap();
    assert_eq!(text(&mut ch), "HTTP/1.1 100 Continue\r\n\r\n");
    ch.write_inbound(Bytes::from_static(b"ab")).unwrap();
    assert_eq!(text(&mut ch), "");
    ch.write_inbound(Bytes::from_static(b"cd")).unwrap();
    assert_eq!(text(&mut ch), ok("PUT /up 4"));
    // The body sent along with the head: no 100.
    ch.write_inbound(Bytes::from_static(
        b"PUT /up HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nz",
    ))
    .unwrap();
    assert_eq!(text(&mut ch), ok("PUT /up 1"));
}

/// Sends `wire`, expects the pipeline to report an `HttpError` and the channel to
/// answer its status and close.
fn refused(wire: &[u8]) -> (u16, String) {
    let mut ch = channel();
    let e = ch
        .write_inbound(Bytes::copy_from_slice(wire))
        .expect_err("an error reaches the tail");
    let e = e.downcast_ref::<HttpError>().expect("an HttpError").clone();
    let out = text(&mut ch);
    if e.status() == 413 {
        // A body may still be arriving: the close lingers until the client's.
        assert!(ch.is_active());
        ch.close_inbound().unwrap();
    }
    assert!(
        !ch.is_active(),
        "closed after {:?}",
        String::from_utf8_lossy(wire)
    );
    let status_line = format!("HTTP/1.1 {} ", e.status());
    assert!(out.contains(&status_line), "{out:?}");
    assert!(out.contains("Connection: close\r\n"), "{out:?}");
    (e.status(), out)
}

#[test]
fn bad_requests_are_answered_with_their_status_and_closed() {
    let mut big = b"GET / HTTP/1.1\r\nHost: h\r\nX: ".to_vec();
    big.extend(std::iter::repeat_n(b'a', 1 << 20));
    let mut many = b"GET / HTTP/1.1\r\nHost: h\r\n".to_vec();
    for i in 0..10_000 {
        many.extend_from_slice(format!("X{i}: v\r\n").as_bytes());
    }
    many.extend_from_slice(b"\r\n");
    let cases: Vec<(&[u8], u16)> = vec![
        (b"NOT HTTP AT ALL\r\n\r\n", 400),
        (b"GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505),
        (b"GET\r\n\r\n", 400),
        (&big, 431),
        (&many, 431),
        (b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1000000000\r\n\r\n", 413),
        (b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501),
        (b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: h\r\nExpect: magic\r\n\r\n", 417),
        (b"GET / HTTP/3.0\r\nHost: h\r\n\r\n", 505),
    ];
    for (wire, want) in cases {
        let (status, out) = refused(wire);
        assert_eq!(status, want, "{out}");
        assert!(out.starts_with(&format!("HTTP/1.1 {want} ")), "{out}");
    }
}

#[test]
fn bad_request_after_good_ones_is_answered_after_them() {
    let (_, out) =
        refused(b"GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\nBAD\r\n\r\n");
    let statuses: Vec<&str> = out
        .match_indices("HTTP/1.1 ")
        .map(|(i, _)| &out[i + 9..i + 12])
        .collect();
    assert_eq!(statuses, ["200", "200", "400"], "{out}");
}

#[test]
fn truncated_request_at_end_of_input_is_a_400() {
    let mut ch = channel();
    ch.write_inbound(Bytes::from_static(
        b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc",
    ))
    .unwrap();
    let e = ch.close_inbound().expect_err("truncated");
    assert!(matches!(
        e.downcast_ref::<HttpError>(),
        Some(HttpError::Truncated { received: 3 })
    ));
    assert!(text(&mut ch).starts_with("HTTP/1.1 400 Bad Request\r\n"));
}

/// Answers later, through the channel handle, as an application waiting on a
/// database would.
#[derive(Default)]
struct Later {
    body: Option<String>,
}
impl ChannelHandler for Later {
    fn timer_fired(&mut self, ctx: &mut Context<'_>, _key: u64) {
        if let Some(body) = self.body.take() {
            drop(ctx.channel().write_and_flush(HttpResponse::text(200, body)));
        }
    }
}
impl InboundHandler for Later {
    type Read = HttpRequest;
    type Fire = HttpRequest;
    fn channel_read(&mut self, ctx: &mut InboundContext<'_, HttpRequest>, req: HttpRequest) {
        self.body = Some(format!("late {}", req.path()));
        ctx.set_timer_after(0, std::time::Duration::from_millis(10));
    }
}

#[test]
fn error_waits_for_responses_written_later() {
    let codec = HttpServerCodec::builder()
        .encoder(HttpResponseEncoder::builder().date(false).build().unwrap())
        .build()
        .unwrap();
    let mut ch = EmbeddedChannel::with_handlers([
        ("http", codec.into()),
        ("app", Handler::inbound(Later::default())),
    ]);
    let e = ch.write_inbound(Bytes::from_static(
        b"GET /a HTTP/1.1\r\nHost: h\r\n\r\nBAD\r\n\r\n",
    ));
    assert!(e.is_ok(), "the error waits for the response owed: {e:?}");
    assert_eq!(text(&mut ch), "");
    // The deferred error is raised once the response owed is written: during this call.
    let e = ch.advance_time(std::time::Duration::from_millis(20));
    assert!(e.is_err(), "the 400 is reported when it is sent");
    let out = text(&mut ch);
    assert!(out.starts_with(&ok("late /a")), "{out}");
    assert!(
        out[ok("late /a").len()..].starts_with("HTTP/1.1 400 Bad Request\r\n"),
        "{out}"
    );
    assert!(!ch.is_active());
}

#[test]
fn response_with_bad_header_fails_its_write_and_answers_500() {
    struct Bad;
    impl ChannelHandler for Bad {}
    impl InboundHandler for Bad {
        type Read = HttpRequest;
        type Fire = HttpRequest;
        fn channel_read(&mut self, ctx: &mut InboundContext<'_, HttpRequest>, _: HttpRequest) {
            drop(ctx.write(HttpResponse::ok("x").with_header("X", "a\r\nInjected: yes")));
        }
    }
    let mut ch = EmbeddedChannel::with_handlers([
        ("http", HttpServerCodec::new().into()),
        ("app", Handler::inbound(Bad)),
    ]);
    ch.write_inbound(Bytes::from_static(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n"))
        .unwrap();
    let out = text(&mut ch);
    assert!(out.starts_with("HTTP/1.1 500 "), "{out}");
    assert!(!out.contains("Injected"));
    assert!(!ch.is_active());
}
