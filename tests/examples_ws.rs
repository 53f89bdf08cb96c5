//! End-to-end tests of `examples/ws_chat.rs`: raw WebSocket clients over
//! loopback and seine's own client (always run), Python's `websockets` package
//! and headless Chromium (`#[ignore]`d: `cargo test -- --ignored` after
//! `apt-get install -y python3-websockets chromium`).

mod examples_support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use examples_support::{ExampleServer, TempDir, have};
use seine::codec::websocket::{
    CloseCode, Message, WebSocketClientProtocolHandler, WebSocketConfig, WebSocketHandshakeComplete,
};
use seine::prelude::*;

/// A blocking WebSocket client made of bytes, to send what a library would not.
struct RawClient {
    s: TcpStream,
}

impl RawClient {
    fn connect(srv: &ExampleServer) -> Self {
        let mut s = srv.connect();
        write!(
            s,
            "GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        .unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            s.read_exact(&mut byte).expect("the response head");
            head.push(byte[0]);
        }
        let head = String::from_utf8(head).unwrap();
        assert!(head.starts_with("HTTP/1.1 101 "), "{head}");
        assert!(head.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
        RawClient { s }
    }

    fn send(&mut self, first: u8, payload: &[u8], masked: bool) {
        let key = [9, 8, 7, 6];
        let mut f = vec![first];
        let m = if masked { 0x80 } else { 0 };
        match payload.len() {
            n if n < 126 => f.push(m | n as u8),
            n if n <= 0xffff => {
                f.push(m | 126);
                f.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                f.push(m | 127);
                f.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        if masked {
            f.extend_from_slice(&key);
            f.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        } else {
            f.extend_from_slice(payload);
        }
        self.s.write_all(&f).unwrap();
    }

    fn send_text(&mut self, text: &str) {
        self.send(0x81, text.as_bytes(), true);
    }

    /// The next frame: (first byte, payload); server frames are unmasked.
    fn recv(&mut self) -> (u8, Vec<u8>) {
        let mut h = [0u8; 2];
        self.s.read_exact(&mut h).expect("a frame header");
        assert_eq!(h[1] & 0x80, 0, "server frames are not masked");
        let len = match h[1] & 0x7f {
            126 => {
                let mut b = [0u8; 2];
                self.s.read_exact(&mut b).unwrap();
                u64::from(u16::from_be_bytes(b))
            }
            127 => {
                let mut b = [0u8; 8];
                self.s.read_exact(&mut b).unwrap();
                u64::from_be_bytes(b)
            }
            n => u64::from(n),
        };
        let mut payload = vec![0u8; len as usize];
        self.s.read_exact(&mut payload).unwrap();
        (h[0], payload)
    }

    fn recv_text(&mut self) -> String {
        let (first, payload) = self.recv();
        assert_eq!(first, 0x81, "a text frame");
        String::from_utf8(payload).unwrap()
    }

    /// Reads until the server closes the connection.
    fn expect_eof(&mut self) {
        let mut rest = Vec::new();
        self.s.read_to_end(&mut rest).expect("the server closes");
        assert!(rest.is_empty(), "nothing after the close frame: {rest:?}");
    }
}

fn chat(extra: &[&str]) -> ExampleServer {
    let mut args = vec!["--threads", "2"];
    args.extend_from_slice(extra);
    ExampleServer::start("ws_chat", &args)
}

#[test]
fn the_page_is_served_and_messages_reach_every_client_on_every_loop() {
    let srv = chat(&[]);
    let mut http = srv.connect();
    write!(
        http,
        "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut page = String::new();
    http.read_to_string(&mut page).unwrap();
    assert!(page.starts_with("HTTP/1.1 200 OK\r\n"), "{page}");
    assert!(page.contains("new WebSocket("));

    // Four clients: with two loops, accepted round-robin, they live on both.
    let mut clients: Vec<RawClient> = (0..4).map(|_| RawClient::connect(&srv)).collect();
    // Each client's own message comes back to it once everyone is in the room.
    for (i, c) in clients.iter_mut().enumerate() {
        c.send_text(&format!("hello {i}"));
        let mut got = c.recv_text();
        while got != format!("hello {i}") {
            got = c.recv_text();
        }
    }
    clients[2].send_text("to everyone: é");
    for c in &mut clients {
        let mut got = c.recv_text();
        while got.starts_with("hello ") {
            got = c.recv_text();
        }
        assert_eq!(got, "to everyone: é");
    }
    // A close frame is answered with the same code, then the server closes.
    clients[0].send(0x88, &4321u16.to_be_bytes(), true);
    loop {
        let (first, payload) = clients[0].recv();
        if first == 0x88 {
            assert_eq!(payload, 4321u16.to_be_bytes());
            break;
        }
    }
    clients[0].expect_eof();
}

#[test]
fn an_unmasked_client_frame_is_closed_with_1002() {
    let srv = chat(&[]);
    let mut c = RawClient::connect(&srv);
    c.send(0x81, b"unmasked", false);
    assert_eq!(c.recv(), (0x88, 1002u16.to_be_bytes().to_vec()));
    c.expect_eof();
}

#[test]
fn a_2_pow_63_length_claim_is_closed_with_1002() {
    let srv = chat(&[]);
    let mut c = RawClient::connect(&srv);
    let mut f = vec![0x82, 0x80 | 127];
    f.extend_from_slice(&(1u64 << 63).to_be_bytes());
    f.extend_from_slice(&[1, 2, 3, 4]);
    c.s.write_all(&f).unwrap();
    assert_eq!(c.recv(), (0x88, 1002u16.to_be_bytes().to_vec()));
    c.expect_eof();
}

#[test]
fn invalid_utf8_across_fragments_is_closed_with_1007() {
    let srv = chat(&[]);
    let mut c = RawClient::connect(&srv);
    c.send(0x01, b"ok \xf0\x9f", true);
    c.send(0x00, b"\x98", true);
    c.send(0x00, b"(", true); // breaks the 4-byte character
    assert_eq!(c.recv(), (0x88, 1007u16.to_be_bytes().to_vec()));
    c.expect_eof();
}

/// seine's client side, over a `Bootstrap` connection.
struct Collect {
    tx: mpsc::Sender<Message>,
}

impl ChannelHandler for Collect {}

impl InboundHandler for Collect {
    type Read = Message;
    type Fire = Message;

    fn channel_read(&mut self, _ctx: &mut InboundContext<'_, Message>, msg: Message) {
        let _ = self.tx.send(msg);
    }

    fn user_event(&mut self, ctx: &mut InboundContext<'_, Message>, event: UserEvent) {
        if event.is::<WebSocketHandshakeComplete>() {
            ctx.write_and_flush(Message::text("from seine"));
        }
    }
}

#[test]
fn seines_client_talks_to_the_chat() {
    let srv = chat(&[]);
    let group = EventLoopGroup::new(1).unwrap();
    let (tx, rx) = mpsc::channel();
    let host = srv.addr.to_string();
    let bootstrap = Bootstrap::new(&group).handler(move |p| {
        let ws = WebSocketClientProtocolHandler::new(&host, "/ws", WebSocketConfig::default());
        p.add_last("ws", ws.into())?;
        p.add_last("collect", Handler::inbound(Collect { tx: tx.clone() }))?;
        Ok(())
    });
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let ch = rt.block_on(bootstrap.connect(srv.addr)).unwrap();
    let wait = Duration::from_secs(30);
    assert_eq!(rx.recv_timeout(wait).unwrap(), Message::text("from seine"));
    ch.write_and_flush(Message::close(CloseCode::NORMAL, "done"));
    assert_eq!(
        rx.recv_timeout(wait).unwrap(),
        Message::close(CloseCode::NORMAL, "")
    );
    rt.block_on(ch.closed());
}

/// Under CI a missing tool fails the test; elsewhere the test is skipped, loudly.
fn require(found: bool, what: &str) -> bool {
    if !found {
        assert!(std::env::var_os("CI").is_none(), "{what} is not installed");
        eprintln!("SKIPPED: {what} is not installed");
    }
    found
}

/// A Python interpreter that can import `websockets` (Debian's package installs
/// into /usr/bin/python3, which may not be the first python3 on PATH).
fn python_with_websockets() -> Option<String> {
    ["python3", "/usr/bin/python3"].into_iter().find_map(|py| {
        let ok = Command::new(py)
            .args(["-c", "import websockets"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| py.to_string())
    })
}

const PY_CLIENT: &str = r#"
import asyncio, sys, websockets
URL = sys.argv[1]
async def main():
    async with websockets.connect(URL) as a, websockets.connect(URL) as b:
        offered = a.response_headers.get("Sec-WebSocket-Extensions") if hasattr(a, "response_headers") else a.response.headers.get("Sec-WebSocket-Extensions")
        print("deflate on" if offered else "deflate off")
        await a.send("hello")
        print("echo", await a.recv(), await b.recv())
        await a.send(["fr", "ag", "ments"])
        print("fragments", await a.recv(), await b.recv())
        await a.send(b"\x00\x01binary")
        waiter = await a.ping(b"are you there")
        await asyncio.wait_for(waiter, 10)
        print("pong ok")
        await a.close(code=4001, reason="bye")
        print("close", a.close_code)
        try:
            await b.send("x" * (2 << 20))
            await b.recv()
            print("big accepted")
        except websockets.ConnectionClosed as e:
            print("big", e.rcvd.code if e.rcvd else None)
asyncio.run(main())
"#;

#[test]
#[ignore = "needs python3-websockets"]
fn python_websockets_client() {
    let py = python_with_websockets();
    if !require(py.is_some(), "python3 with the websockets package") {
        return;
    }
    let py = py.unwrap();
    // websockets offers permessage-deflate: declined by default, accepted with
    // --deflate (then the 2 MiB message is refused once inflated past 1 MiB).
    for extra in [&[][..], &["--deflate"][..]] {
        let srv = chat(extra);
        let out = Command::new(&py)
            .args(["-c", PY_CLIENT, &format!("ws://{}/ws", srv.addr)])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{extra:?}: {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let deflate = if extra.is_empty() {
            "deflate off"
        } else {
            "deflate on"
        };
        assert_eq!(
            stdout.lines().collect::<Vec<_>>(),
            [
                deflate,
                "echo hello hello",
                "fragments fragments fragments",
                "pong ok",
                "close 4001",
                "big 1009"
            ],
            "{extra:?}"
        );
    }
}

/// A headless Chromium showing `url`, killed when dropped.
struct Browser {
    child: Child,
    _profile: TempDir,
}

impl Browser {
    fn open(url: &str) -> Self {
        let profile = TempDir::new("chromium");
        let child = Command::new("chromium")
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg(url)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromium starts");
        Browser {
            child,
            _profile: profile,
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
#[ignore = "needs chromium"]
fn chromium_tabs_chat() {
    if !require(have("chromium"), "chromium") {
        return;
    }
    let srv = chat(&[]);
    // An observer in the room sees what the pages say.
    let mut observer = RawClient::connect(&srv);
    let base = format!("http://{}/", srv.addr);
    let _a = Browser::open(&format!("{base}?name=A&ack=1"));
    assert_eq!(observer.recv_text(), "A ready");
    let _b = Browser::open(&format!("{base}?name=B&send=hello-from-B"));
    // B's message reaches everyone; A acknowledges that it received it (the two
    // reach the observer from two loops: in either order).
    let mut got = [observer.recv_text(), observer.recv_text()];
    got.sort();
    assert_eq!(got, ["A got hello-from-B", "hello-from-B"]);
}
