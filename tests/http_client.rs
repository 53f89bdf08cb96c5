//! `HttpClientCodec` over TCP through `Bootstrap`, against seine's own
//! `HttpServerCodec`: pipelined requests (a `HEAD` among them, a streamed chunked
//! upload, a whole one) answered in order, and read backpressure: a consumer
//! that holds the body parts stops the reading within the window, and releasing
//! them (from the test's thread) resumes it.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use seine_buffer::{Bytes, CompositeBuf};
use seine_channel::prelude::*;
use seine_codec::http::{
    DEFAULT_READ_WINDOW, HttpClientCodec, HttpClientRequest, HttpContent, HttpPart, HttpRequest,
    HttpResponse, HttpResponsePart, HttpServerCodec, LastHttpContent, Method,
};
use seine_transport::{Bootstrap, EventLoopGroup, Server, ServerBootstrap};

const LIMIT: Duration = Duration::from_secs(30);
const BIG: usize = 8 << 20;

/// Answers `METHOD PATH BODY-LENGTH`, or 8 MiB for `/big`.
struct Answer;
impl ChannelHandler for Answer {}
impl InboundHandler for Answer {
    type Read = HttpRequest;
    type Fire = HttpRequest;
    fn channel_read(&mut self, ctx: &mut InboundContext<'_, HttpRequest>, req: HttpRequest) {
        if req.path() == "/big" {
            return ctx.write_void(HttpResponse::ok(Bytes::from(vec![7u8; BIG])));
        }
        let text = format!("{} {} {}", req.method, req.path(), req.body.len());
        ctx.write_void(HttpResponse::text(200, text));
    }
}

fn server(group: &EventLoopGroup) -> Server {
    ServerBootstrap::new()
        .group(group)
        .child_handler(|p| {
            p.add_last("http", HttpServerCodec::new().into())?;
            p.add_last("answer", Handler::inbound(Answer))?;
            Ok(())
        })
        .bind("127.0.0.1:0")
        .unwrap()
}

/// Keeps every part it reads (their credits held until the test drops them).
struct Keep(Arc<Mutex<Vec<HttpResponsePart>>>);
impl ChannelHandler for Keep {}
impl InboundHandler for Keep {
    type Read = HttpResponsePart;
    type Fire = HttpResponsePart;
    fn channel_read(&mut self, _: &mut InboundContext<'_, HttpResponsePart>, p: HttpResponsePart) {
        self.0.lock().unwrap().push(p);
    }
}

async fn client(
    group: &EventLoopGroup,
    server: &Server,
    parts: &Arc<Mutex<Vec<HttpResponsePart>>>,
) -> Channel {
    let parts = parts.clone();
    Bootstrap::new(group)
        .handler(move |p| {
            p.add_last("http", HttpClientCodec::new().into())?;
            p.add_last("keep", Handler::inbound(Keep(parts.clone())))?;
            Ok(())
        })
        .connect(server.local_addr().unwrap())
        .await
        .unwrap()
}

fn request(method: Method, path: &'static str) -> HttpRequest {
    let mut req = HttpRequest::new(method, path);
    req.headers.append("Host", "test");
    req
}

/// Waits (bounded) until `done` holds.
async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < LIMIT, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn lasts(parts: &Mutex<Vec<HttpResponsePart>>) -> usize {
    parts.lock().unwrap().iter().filter(|p| p.is_last()).count()
}

#[tokio::test]
async fn pipelined_requests_are_answered_in_order() {
    let group = EventLoopGroup::new(2).unwrap();
    let server = server(&group);
    let parts = Arc::new(Mutex::new(Vec::new()));
    let ch = client(&group, &server, &parts).await;

    ch.write(HttpClientRequest::from(request(Method::Get, "/a")));
    ch.write(HttpClientRequest::from(request(Method::Head, "/b")));
    ch.write(HttpClientRequest::Head(request(Method::Put, "/c")));
    for piece in ["hello", " ", "streamed"] {
        ch.write(HttpClientRequest::from(HttpContent::new(piece)));
    }
    ch.write(HttpClientRequest::from(LastHttpContent::new("!")));
    let mut post = request(Method::Post, "/d");
    post.body = CompositeBuf::from(&b"data"[..]);
    ch.write_and_flush(HttpClientRequest::from(post));

    until("four responses", || lasts(&parts) == 4).await;
    let mut responses: Vec<(u16, Option<u64>, Vec<u8>)> = Vec::new();
    for part in parts.lock().unwrap().drain(..) {
        match part {
            HttpPart::Head(h) => responses.push((h.status, h.content_length(), Vec::new())),
            HttpPart::Content(c) => responses.last_mut().unwrap().2.extend(c.data().to_vec()),
            HttpPart::Last(l) => responses.last_mut().unwrap().2.extend(l.data().to_vec()),
        }
    }
    let body = |i: usize| String::from_utf8(responses[i].2.clone()).unwrap();
    assert_eq!(responses.len(), 4);
    assert_eq!(body(0), "GET /a 0");
    // The HEAD response announces the length of a GET's body and carries none.
    assert_eq!(responses[1].1, Some("HEAD /b 0".len() as u64));
    assert_eq!(body(1), "");
    assert_eq!(body(2), "PUT /c 15");
    assert_eq!(body(3), "POST /d 4");

    ch.close();
    ch.closed().await;
    server.shutdown_gracefully(Duration::from_secs(1)).await;
    group.shutdown_gracefully(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn a_consumer_that_holds_the_body_pauses_the_reading() {
    let group = EventLoopGroup::new(2).unwrap();
    let server = server(&group);
    let parts = Arc::new(Mutex::new(Vec::new()));
    let ch = client(&group, &server, &parts).await;
    ch.write_and_flush(HttpClientRequest::from(request(Method::Get, "/big")));

    let held = |parts: &Mutex<Vec<HttpResponsePart>>| -> usize {
        parts.lock().unwrap().iter().map(HttpPart::body_len).sum()
    };
    until("the window to fill", || {
        held(&parts) as u64 > DEFAULT_READ_WINDOW
    })
    .await;
    // Give the client every chance to read on: it must not, beyond the window
    // and what the read that crossed it brought.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let at_pause = held(&parts);
    assert!(
        (at_pause as u64) < DEFAULT_READ_WINDOW + (1 << 20),
        "{at_pause} bytes held with a {DEFAULT_READ_WINDOW}-byte window"
    );
    assert!(at_pause < BIG);

    // Release what is held, again and again: the rest arrives.
    let mut total = 0;
    let start = Instant::now();
    loop {
        let taken: Vec<HttpResponsePart> = std::mem::take(&mut *parts.lock().unwrap());
        let last = taken.iter().any(HttpPart::is_last);
        total += taken.iter().map(HttpPart::body_len).sum::<usize>();
        drop(taken);
        if last {
            break;
        }
        assert!(start.elapsed() < LIMIT, "stuck at {total} bytes");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert_eq!(total, BIG);

    ch.close();
    ch.closed().await;
    server.shutdown_gracefully(Duration::from_secs(1)).await;
    group.shutdown_gracefully(Duration::from_secs(1)).await;
}
