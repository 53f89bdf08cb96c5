//! Responses streamed from a `ChunkedInput` or a file region through
//! `HttpServerCodec`: framing, the pull only while the channel is writable,
//! pipelined responses waiting their turn, inputs that break their promise.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use seine_buffer::{Bytes, FileRegion};
use seine_channel::prelude::*;
use seine_channel::testing::EmbeddedChannel;
use seine_channel::{ChunkedInput, DEFAULT_HIGH_WATER_MARK};
use seine_codec::http::{
    BodyStream, HttpRequest, HttpResponse, HttpResponseEncoder, HttpServerCodec,
};

/// `pieces` pieces of `size` bytes of `b'a' + i`, the number read shared.
struct Pieces {
    size: usize,
    pieces: usize,
    read: Arc<AtomicUsize>,
    /// The length announced (may be wrong on purpose).
    announce: Option<u64>,
}

impl ChunkedInput for Pieces {
    fn next_chunk(&mut self) -> Result<Option<Bytes>, seine_channel::Error> {
        let i = self.read.load(Ordering::SeqCst);
        if i == self.pieces {
            return Ok(None);
        }
        self.read.store(i + 1, Ordering::SeqCst);
        Ok(Some(Bytes::from(vec![b'a' + (i % 26) as u8; self.size])))
    }
    fn is_end(&self) -> bool {
        self.read.load(Ordering::SeqCst) == self.pieces
    }
    fn length(&self) -> Option<u64> {
        self.announce
    }
    fn progress(&self) -> u64 {
        (self.read.load(Ordering::SeqCst) * self.size) as u64
    }
}

/// Answers `/stream` with `pieces` pieces of `size` (announced length: `/sized`
/// right, `/short` one piece too long), `/file` with a chunked region, other
/// paths with their name.
struct App {
    size: usize,
    pieces: usize,
    read: Arc<AtomicUsize>,
    file: Arc<std::fs::File>,
}

impl ChannelHandler for App {}
impl InboundHandler for App {
    type Read = HttpRequest;
    type Fire = HttpRequest;
    fn channel_read(&mut self, ctx: &mut InboundContext<'_, HttpRequest>, req: HttpRequest) {
        let total = (self.size * self.pieces) as u64;
        let input = |announce| Pieces {
            size: self.size,
            pieces: self.pieces,
            read: self.read.clone(),
            announce,
        };
        let resp = match req.path() {
            "/stream" => HttpResponse::ok(BodyStream::new(input(None))),
            "/sized" => HttpResponse::ok(BodyStream::new(input(Some(total)))),
            "/short" => HttpResponse::ok(BodyStream::new(input(Some(total + 1)))),
            "/file" => HttpResponse::ok(
                BodyStream::file(FileRegion::new(self.file.clone(), 2, 5).unwrap()).chunked(),
            ),
            path => HttpResponse::text(200, path.to_owned()),
        };
        ctx.write_void(resp);
        ctx.flush();
    }
}

fn channel(size: usize, pieces: usize) -> (EmbeddedChannel, Arc<AtomicUsize>) {
    let mut f = tempfile::tempfile().unwrap();
    f.write_all(b"0123456789").unwrap();
    let read = Arc::new(AtomicUsize::new(0));
    let codec = HttpServerCodec::builder()
        .encoder(HttpResponseEncoder::builder().date(false).build().unwrap())
        .build()
        .unwrap();
    let ch = EmbeddedChannel::with_handlers([
        ("http", codec.into()),
        (
            "app",
            Handler::inbound(App {
                size,
                pieces,
                read: read.clone(),
                file: Arc::new(f),
            }),
        ),
    ]);
    (ch, read)
}

fn get(ch: &mut EmbeddedChannel, paths: &[&str]) {
    let mut wire = String::new();
    for p in paths {
        wire.push_str(&format!("GET {p} HTTP/1.1\r\nHost: h\r\n\r\n"));
    }
    ch.write_inbound(Bytes::from(wire)).unwrap();
}

fn text(ch: &mut EmbeddedChannel) -> String {
    String::from_utf8(ch.read_outbound_bytes()).unwrap()
}

#[test]
fn unknown_length_goes_chunked() {
    let (mut ch, _) = channel(3, 2);
    get(&mut ch, &["/stream"]);
    assert_eq!(
        text(&mut ch),
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\naaa\r\n3\r\nbbb\r\n0\r\n\r\n"
    );
}

#[test]
fn known_length_goes_with_content_length() {
    let (mut ch, _) = channel(3, 2);
    get(&mut ch, &["/sized"]);
    assert_eq!(
        text(&mut ch),
        "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\naaabbb"
    );
}

#[test]
fn a_file_region_chunked() {
    let (mut ch, _) = channel(3, 2);
    get(&mut ch, &["/file"]);
    assert_eq!(
        text(&mut ch),
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n23456\r\n0\r\n\r\n"
    );
}

#[test]
fn http10_gets_the_body_as_is_and_a_close() {
    let (mut ch, _) = channel(3, 2);
    ch.write_inbound(Bytes::from_static(b"GET /stream HTTP/1.0\r\n\r\n"))
        .unwrap();
    assert_eq!(
        text(&mut ch),
        "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\naaabbb"
    );
    assert!(!ch.is_active());
}

#[test]
fn the_input_is_read_only_while_the_channel_is_writable() {
    let size = 8 * 1024;
    let pieces = 1000; // 8 MB in all
    let (mut ch, read) = channel(size, pieces);
    ch.set_transport_budget(Some(0));
    // A pipelined request behind the stream: answered after it.
    get(&mut ch, &["/stream", "/after"]);
    // The peer reads nothing: what was pulled stays within the high water mark
    // plus one piece.
    let pulled = read.load(Ordering::SeqCst) * size;
    assert!(pulled <= DEFAULT_HIGH_WATER_MARK + size, "{pulled}");
    assert!(read.load(Ordering::SeqCst) > 0);
    // The peer reads: the stream goes on to its end, then the next response.
    let mut out = Vec::new();
    for _ in 0..100_000 {
        ch.set_transport_budget(Some(64 * 1024));
        ch.run_pending_tasks().unwrap();
        out.extend(ch.read_outbound_bytes());
        let in_flight = (read.load(Ordering::SeqCst) * size).saturating_sub(out.len());
        assert!(
            in_flight <= 2 * DEFAULT_HIGH_WATER_MARK + 2 * size,
            "{in_flight}"
        );
        if read.load(Ordering::SeqCst) == pieces && out.ends_with(b"/after") {
            break;
        }
    }
    assert_eq!(read.load(Ordering::SeqCst), pieces);
    let text = String::from_utf8(out).unwrap();
    let body_end = text
        .find("0\r\n\r\nHTTP/1.1 200 OK")
        .expect("the stream ended first");
    assert!(text[body_end..].ends_with("\r\n\r\n/after"));
    assert_eq!(text.matches("\r\n2000\r\n").count(), pieces);
}

#[test]
fn an_input_short_of_its_announced_length_fails_the_write_and_closes() {
    let (mut ch, _) = channel(3, 2);
    let e = ch
        .write_inbound(Bytes::from_static(
            b"GET /short HTTP/1.1\r\nHost: h\r\n\r\nGET /after HTTP/1.1\r\nHost: h\r\n\r\n",
        ))
        .expect_err("the failed write is reported");
    assert!(e.to_string().contains("6 of the 7 bytes"), "{e}");
    let out = text(&mut ch);
    assert_eq!(out, "HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\naaabbb");
    assert!(!ch.is_active());
}

#[test]
fn a_close_during_a_streamed_body_waits_for_its_end() {
    let size = 8 * 1024;
    let pieces = 100;
    let (mut ch, read) = channel(size, pieces);
    ch.set_transport_budget(Some(0));
    get(&mut ch, &["/stream"]);
    assert!(read.load(Ordering::SeqCst) < pieces);
    ch.channel().close();
    ch.run_pending_tasks().unwrap();
    assert!(ch.is_active(), "still writing the body");
    let mut out = Vec::new();
    for _ in 0..10_000 {
        ch.set_transport_budget(Some(64 * 1024));
        ch.run_pending_tasks().unwrap();
        out.extend(ch.read_outbound_bytes());
        if !ch.is_active() {
            break;
        }
    }
    assert!(!ch.is_active(), "closed after the body");
    assert_eq!(read.load(Ordering::SeqCst), pieces);
    assert!(out.ends_with(b"\r\n0\r\n\r\n"));
}
