//! The streaming `HttpServerCodec` through `EmbeddedChannel`: request heads, body
//! parts and last parts; read backpressure; 413 and lingering close;
//! `Expect: 100-continue`; bad chunked bodies.

use std::sync::{Arc, Mutex};

use seine_buffer::{Buf, Bytes};
use seine_channel::prelude::*;
use seine_channel::testing::EmbeddedChannel;
use seine_codec::http::{
    HttpError, HttpPart, HttpRequestDecoder, HttpRequestPart, HttpResponse, HttpResponseEncoder,
    HttpServerCodec,
};

/// What the application does with the parts.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// Keeps every part (and so its read credit) until told to drop them.
    Hold,
    /// Answers every head at once with 401, before the body.
    Reject,
}

#[derive(Default)]
struct Seen {
    parts: Vec<HttpRequestPart>,
    log: Vec<String>,
}

struct App {
    mode: Mode,
    seen: Arc<Mutex<Seen>>,
}

impl ChannelHandler for App {}
impl InboundHandler for App {
    type Read = HttpRequestPart;
    type Fire = HttpRequestPart;
    fn channel_read(
        &mut self,
        ctx: &mut InboundContext<'_, HttpRequestPart>,
        part: HttpRequestPart,
    ) {
        let mut seen = self.seen.lock().unwrap();
        match &part {
            HttpPart::Head(req) => {
                seen.log.push(format!("head {} {}", req.method, req.path()));
                if self.mode == Mode::Reject {
                    ctx.write_void(HttpResponse::text(401, "no\n"));
                    ctx.flush();
                }
            }
            HttpPart::Content(c) => seen.log.push(format!("content {}", c.len())),
            HttpPart::Last(l) => {
                let trailers: Vec<String> = l
                    .trailers
                    .iter()
                    .map(|(n, v)| {
                        format!(
                            "{}={}",
                            String::from_utf8_lossy(n),
                            String::from_utf8_lossy(v)
                        )
                    })
                    .collect();
                seen.log
                    .push(format!("last {} {}", l.len(), trailers.join(",")));
                if self.mode == Mode::Hold {
                    let body: usize =
                        seen.parts.iter().map(HttpPart::body_len).sum::<usize>() + l.len();
                    ctx.write_void(HttpResponse::text(200, format!("{body}")));
                    ctx.flush();
                }
            }
        }
        if self.mode == Mode::Hold {
            seen.parts.push(part);
        }
    }
}

fn channel_with(max_body: usize, window: u64, mode: Mode) -> (EmbeddedChannel, Arc<Mutex<Seen>>) {
    let codec = HttpServerCodec::builder()
        .decoder(
            HttpRequestDecoder::builder()
                .max_body_length(max_body)
                .build()
                .unwrap(),
        )
        .encoder(HttpResponseEncoder::builder().date(false).build().unwrap())
        .read_window(window)
        .build_streaming()
        .unwrap();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let ch = EmbeddedChannel::with_handlers([
        ("http", codec.into()),
        (
            "app",
            Handler::inbound(App {
                mode,
                seen: seen.clone(),
            }),
        ),
    ]);
    (ch, seen)
}

fn text(ch: &mut EmbeddedChannel) -> String {
    String::from_utf8(ch.read_outbound_bytes()).unwrap()
}

fn log(seen: &Arc<Mutex<Seen>>) -> Vec<String> {
    std::mem::take(&mut seen.lock().unwrap().log)
}

fn release_all(seen: &Arc<Mutex<Seen>>) {
    seen.lock().unwrap().parts.clear();
}

#[test]
fn content_length_body_arrives_in_parts_without_copies() {
    let (mut ch, seen) = channel_with(1 << 20, 1 << 20, Mode::Hold);
    ch.write_inbound(Bytes::from_static(
        b"PUT /f HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc",
    ))
    .unwrap();
    let piece = Bytes::from_static(b"defg");
    ch.write_inbound(piece.clone()).unwrap();
    ch.write_inbound(Bytes::from_static(b"hij")).unwrap();
    assert_eq!(
        log(&seen),
        ["head PUT /f", "content 3", "content 4", "last 3 "]
    );
    {
        let s = seen.lock().unwrap();
        // The second part is the very bytes received, not a copy.
        let HttpPart::Content(c) = &s.parts[2] else {
            panic!("a content part")
        };
        assert_eq!(c.data().chunk().as_ptr(), piece.as_ptr());
    }
    assert!(text(&mut ch).ends_with("\r\n\r\n10"));
}

#[test]
fn chunked_body_with_trailers_and_a_request_without_body() {
    let (mut ch, seen) = channel_with(1 << 20, 1 << 20, Mode::Hold);
    let wire = b"POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n\
        5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Sum: 11\r\n\r\n\
        GET /n HTTP/1.1\r\nHost: h\r\n\r\n";
    // Byte by byte: every part boundary is exercised; the body bytes add up.
    for b in wire.iter() {
        ch.write_inbound(Bytes::copy_from_slice(&[*b])).unwrap();
    }
    let l = log(&seen);
    assert_eq!(l.first().map(String::as_str), Some("head POST /c"));
    let body: usize = l
        .iter()
        .filter_map(|e| e.strip_prefix("content "))
        .map(|n| n.parse::<usize>().unwrap())
        .sum();
    assert_eq!(body, 11);
    assert!(l.contains(&"last 0 X-Sum=11".to_string()), "{l:?}");
    assert_eq!(&l[l.len() - 2..], ["head GET /n", "last 0 "]);
}

#[test]
fn reading_pauses_above_the_window_and_resumes_when_parts_are_released() {
    let (mut ch, seen) = channel_with(1 << 30, 64 * 1024, Mode::Hold);
    ch.write_inbound(Bytes::from_static(
        b"PUT /big HTTP/1.1\r\nHost: h\r\nContent-Length: 1000000\r\n\r\n",
    ))
    .unwrap();
    ch.run_pending_tasks().unwrap();
    assert!(ch.core().wants_read());
    // 60 KiB held: under the window, reading goes on.
    for _ in 0..60 {
        ch.write_inbound(Bytes::from(vec![b'x'; 1024])).unwrap();
    }
    ch.run_pending_tasks().unwrap();
    assert!(ch.core().wants_read());
    // Over 64 KiB held: auto-read off.
    for _ in 0..8 {
        ch.write_inbound(Bytes::from(vec![b'x'; 1024])).unwrap();
    }
    ch.run_pending_tasks().unwrap();
    assert!(!ch.core().wants_read(), "paused above the window");
    // Releasing part of it, not below half the window: still paused.
    {
        let mut s = seen.lock().unwrap();
        s.parts.drain(1..20);
    }
    ch.run_pending_tasks().unwrap();
    assert!(!ch.core().wants_read());
    // An explicit consume of a held part's credit counts too.
    {
        let mut s = seen.lock().unwrap();
        let parts: Vec<HttpRequestPart> = s.parts.drain(1..).collect();
        for p in parts {
            let HttpPart::Content(c) = p else {
                panic!("content")
            };
            let (data, mut credit) = c.into_parts();
            credit.consume(data.len() as u64);
            assert_eq!(credit.bytes(), 0);
            std::mem::forget(data);
            // The emptied credit drops here: nothing more is released.
        }
    }
    ch.run_pending_tasks().unwrap();
    assert!(
        ch.core().wants_read(),
        "resumed once the parts were consumed"
    );
}

#[test]
fn content_length_over_the_limit_is_413_at_once_and_closes_lingering() {
    let (mut ch, seen) = channel_with(1000, 1 << 20, Mode::Hold);
    let e = ch
        .write_inbound(Bytes::from_static(
            b"PUT /big HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 1073741824\r\n\r\n",
        ))
        .expect_err("the error reaches the tail");
    assert_eq!(e.downcast_ref::<HttpError>().unwrap().status(), 413);
    let out = text(&mut ch);
    assert!(out.starts_with("HTTP/1.1 413 "), "{out}");
    assert!(!out.contains("100 Continue"), "{out}");
    assert!(log(&seen).is_empty(), "the head is not delivered");
    // Lingering: still open, what the client still sends is read and dropped.
    assert!(ch.is_active());
    ch.write_inbound(Bytes::from(vec![b'x'; 1 << 20])).unwrap();
    assert_eq!(text(&mut ch), "");
    assert!(log(&seen).is_empty());
    // The client closes: so does the server.
    ch.close_inbound().unwrap();
    assert!(!ch.is_active());
}

#[test]
fn a_lingering_close_ends_after_the_linger_time() {
    let (mut ch, _seen) = channel_with(10, 1 << 20, Mode::Hold);
    let _ = ch.write_inbound(Bytes::from_static(
        b"PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n",
    ));
    assert!(ch.is_active());
    ch.advance_time(seine_codec::http::DEFAULT_LINGER).unwrap();
    assert!(!ch.is_active());
}

#[test]
fn chunked_body_over_the_limit_is_413_when_the_total_passes_it() {
    let (mut ch, seen) = channel_with(10, 1 << 20, Mode::Hold);
    ch.write_inbound(Bytes::from_static(
        b"PUT /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n",
    ))
    .unwrap();
    assert_eq!(log(&seen), ["head PUT /c", "content 6"]);
    let e = ch
        .write_inbound(Bytes::from_static(b"5\r\nghijk\r\n"))
        .expect_err("413");
    assert!(matches!(
        e.downcast_ref::<HttpError>(),
        Some(HttpError::BodyTooLarge {
            length: 11,
            max: 10
        })
    ));
    let out = text(&mut ch);
    assert!(out.starts_with("HTTP/1.1 413 "), "{out}");
    assert!(ch.is_active(), "lingering");
    ch.close_inbound().unwrap();
    assert!(!ch.is_active());
}

/// Sends a chunked request with `chunks` after the head; returns the error.
fn chunked_error(chunks: &[u8]) -> (HttpError, String) {
    let (mut ch, _seen) = channel_with(1 << 20, 1 << 20, Mode::Hold);
    ch.write_inbound(Bytes::from_static(
        b"PUT /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n",
    ))
    .unwrap();
    let e = ch
        .write_inbound(Bytes::copy_from_slice(chunks))
        .expect_err("refused");
    let e = e.downcast_ref::<HttpError>().expect("an HttpError").clone();
    (e, text(&mut ch))
}

#[test]
fn bad_chunk_size_lines_and_huge_claims() {
    for (chunks, status) in [
        (&b"zz\r\n"[..], 400),
        (b"-5\r\n", 400),
        (b"5 junk\r\n", 400),
        (b"5\nhello", 400),
        (b"3\r\nabcXY", 400),
        // 2^64 and more: not even a number.
        (b"10000000000000000\r\n", 400),
        (b"ffffffffffffffffffffffffffffffff\r\n", 400),
        // 2^64 - 1 and 2^60: numbers, far over the limit, refused before any
        // byte of them is read or allocated.
        (b"ffffffffffffffff\r\n", 413),
        (b"1000000000000000\r\n", 413),
    ] {
        let (e, out) = chunked_error(chunks);
        assert_eq!(
            e.status(),
            status,
            "{:?}: {e}",
            String::from_utf8_lossy(chunks)
        );
        assert!(out.starts_with(&format!("HTTP/1.1 {status} ")), "{out}");
    }
    // A size line that never ends is cut at 4 KiB.
    let (e, _) = chunked_error(&[b'1'; 5000]);
    assert_eq!(e.status(), 400);
}

#[test]
fn continue_is_sent_when_the_body_is_going_to_be_read() {
    let (mut ch, seen) = channel_with(1 << 20, 1 << 20, Mode::Hold);
    ch.write_inbound(Bytes::from_static(
        b"PUT /up HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n",
    ))
    .unwrap();
    assert_eq!(text(&mut ch), "HTTP/1.1 100 Continue\r\n\r\n");
    ch.write_inbound(Bytes::from_static(b"abcd")).unwrap();
    assert_eq!(log(&seen), ["head PUT /up", "last 4 "]);
    assert!(text(&mut ch).starts_with("HTTP/1.1 200 OK\r\n"));
    // An unknown expectation: 417.
    let e = ch
        .write_inbound(Bytes::from_static(
            b"PUT /up HTTP/1.1\r\nHost: h\r\nExpect: coffee\r\nContent-Length: 4\r\n\r\n",
        ))
        .expect_err("417");
    assert_eq!(e.downcast_ref::<HttpError>().unwrap().status(), 417);
    assert!(text(&mut ch).starts_with("HTTP/1.1 417 "));
}

#[test]
fn a_request_answered_before_its_body_gets_no_continue_and_closes() {
    let (mut ch, seen) = channel_with(1 << 20, 1 << 20, Mode::Reject);
    ch.write_inbound(Bytes::from_static(
        b"PUT /up HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n",
    ))
    .unwrap();
    let out = text(&mut ch);
    assert!(out.starts_with("HTTP/1.1 401 "), "{out}");
    assert!(!out.contains("100 Continue"), "{out}");
    assert!(out.contains("Connection: close\r\n"), "{out}");
    assert_eq!(log(&seen), ["head PUT /up"]);
    // Lingering: the body, if the client sends it anyway, is dropped.
    assert!(ch.is_active());
    ch.write_inbound(Bytes::from_static(b"abcd")).unwrap();
    assert!(log(&seen).is_empty());
    ch.close_inbound().unwrap();
    assert!(!ch.is_active());
}

#[test]
fn a_stalled_gigabyte_upload_holds_no_more_than_the_window() {
    // The client announces 1 GiB, sends 8 MiB and stops. The application holds
    // every part: the codec holds nothing itself, and asks to stop reading as
    // soon as the window is full.
    let window = 256 * 1024;
    let (mut ch, seen) = channel_with(1 << 31, window, Mode::Hold);
    ch.write_inbound(Bytes::from_static(
        b"PUT /big HTTP/1.1\r\nHost: h\r\nContent-Length: 1073741824\r\n\r\n",
    ))
    .unwrap();
    let mut paused_at = None;
    for i in 0..128u64 {
        ch.write_inbound(Bytes::from(vec![b'x'; 64 * 1024]))
            .unwrap();
        ch.run_pending_tasks().unwrap();
        if !ch.core().wants_read() {
            paused_at.get_or_insert((i + 1) * 64 * 1024);
            // A transport stops here; only a test can push on.
            break;
        }
    }
    let paused_at = paused_at.expect("reading paused");
    assert!(paused_at <= window + 64 * 1024, "{paused_at}");
    // Nothing buffered in the codec: every byte received was delivered.
    let held: usize = seen
        .lock()
        .unwrap()
        .parts
        .iter()
        .map(HttpPart::body_len)
        .sum();
    assert_eq!(held as u64, paused_at);
    release_all(&seen);
    ch.run_pending_tasks().unwrap();
    assert!(ch.core().wants_read());
    // The client gives up: the truncated request is reported, nothing leaks.
    let e = ch.close_inbound().expect_err("truncated");
    assert!(matches!(
        e.downcast_ref::<HttpError>(),
        Some(HttpError::Truncated { .. })
    ));
}

mod aggregator {
    use super::*;
    use seine_codec::http::{HttpObjectAggregator, HttpRequest};

    struct Echo;
    impl ChannelHandler for Echo {}
    impl InboundHandler for Echo {
        type Read = HttpRequest;
        type Fire = HttpRequest;
        fn channel_read(&mut self, ctx: &mut InboundContext<'_, HttpRequest>, req: HttpRequest) {
            let sum = req.header("x-sum").unwrap_or("-").to_owned();
            let mut body = req.body.to_vec();
            body.extend_from_slice(format!(" sum={sum}").as_bytes());
            ctx.write_void(HttpResponse::ok(body));
        }
    }

    fn channel(max: usize) -> EmbeddedChannel {
        let codec = HttpServerCodec::builder()
            .decoder(
                HttpRequestDecoder::builder()
                    .max_body_length(1 << 30)
                    .build()
                    .unwrap(),
            )
            .encoder(HttpResponseEncoder::builder().date(false).build().unwrap())
            .build_streaming()
            .unwrap();
        EmbeddedChannel::with_handlers([
            ("http", codec.into()),
            ("aggregate", HttpObjectAggregator::new(max).into()),
            ("app", Handler::inbound(Echo)),
        ])
    }

    #[test]
    fn whole_requests_with_trailers_merged() {
        let mut ch = channel(16);
        ch.write_inbound(Bytes::from_static(
            b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n",
        ))
        .unwrap();
        assert_eq!(text(&mut ch), "");
        ch.write_inbound(Bytes::from_static(
            b"2\r\nde\r\n0\r\nX-Sum: 5\r\n\r\nPOST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nfg",
        ))
        .unwrap();
        let out = text(&mut ch);
        assert!(out.contains("\r\n\r\nabcde sum=5HTTP/1.1 200"), "{out}");
        assert!(out.ends_with("\r\n\r\nfg sum=-"), "{out}");
    }

    #[test]
    fn a_declared_length_over_the_limit_is_413_before_100_continue() {
        let mut ch = channel(16);
        let e = ch
            .write_inbound(Bytes::from_static(
                b"PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 17\r\n\r\n",
            ))
            .expect_err("413");
        assert_eq!(e.downcast_ref::<HttpError>().unwrap().status(), 413);
        let out = text(&mut ch);
        assert!(out.starts_with("HTTP/1.1 413 "), "{out}");
        assert!(!out.contains("100 Continue"), "{out}");
        assert!(out.contains("Connection: close\r\n"), "{out}");
        // Lingering until the client closes.
        assert!(ch.is_active());
        ch.write_inbound(Bytes::from(vec![b'x'; 17])).unwrap();
        assert_eq!(text(&mut ch), "");
        ch.close_inbound().unwrap();
        assert!(!ch.is_active());
    }

    #[test]
    fn a_chunked_body_over_the_limit_is_413() {
        let mut ch = channel(16);
        ch.write_inbound(Bytes::from_static(
            b"PUT / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123456789abcdef\r\n",
        ))
        .unwrap();
        assert_eq!(text(&mut ch), "");
        let e = ch
            .write_inbound(Bytes::from_static(b"1\r\nx\r\n"))
            .expect_err("413");
        assert!(matches!(
            e.downcast_ref::<HttpError>(),
            Some(HttpError::BodyTooLarge {
                length: 17,
                max: 16
            })
        ));
        assert!(text(&mut ch).starts_with("HTTP/1.1 413 "));
        ch.close_inbound().unwrap();
        assert!(!ch.is_active());
    }
}
