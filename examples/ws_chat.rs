//! A WebSocket chat room: an HTML page at `/`, the WebSocket at `/ws`; every text
//! message a client sends reaches every connected client, whichever event loop
//! its connection lives on.
//!
//! ```text
//! cargo run --release --example ws_chat -- --addr 127.0.0.1:8081
//! open http://127.0.0.1:8081/
//! cargo run --release --example ws_chat -- --help
//! ```
//!
//! The pipeline starts as HTTP and becomes WebSocket on the upgrade request:
//!
//! ```text
//! before:  HttpServerCodec -> WebSocketServerProtocolHandler -> Page
//! after:   WebSocketCodec  -> Chat
//! ```
//!
//! Each connection's `Chat` handler joins the room (a map of channel handles,
//! which are thread-safe) when it is added and leaves it when its channel goes
//! inactive; a text message is written to every handle in the room (a write
//! from another loop is queued to the channel's own loop). Binary messages are
//! ignored. permessage-deflate is off unless `--deflate` is given (offers are
//! declined). `--echo` sends each message back to its sender only (the
//! benchmark's server, `bench/ws.sh`). The page can be driven by its query string (`?name=A&send=hello`
//! sends `hello` once connected; every page answers `NAME got TEXT` to what it
//! receives when `?ack=1`), which the browser test uses.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use seine::channel::{ChannelId, ShutdownRequested};
use seine::codec::http::{HttpRequest, HttpResponse, HttpServerCodec};
use seine::codec::websocket::{
    CloseCode, DeflateConfig, Message, WebSocketConfig, WebSocketServerProtocolHandler,
};
use seine::prelude::*;

mod support;

/// The connected clients, by channel id.
type Room = Arc<Mutex<HashMap<ChannelId, Channel>>>;

const PAGE: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><title>seine chat</title></head>
<body>
<h1>seine chat</h1>
<ul id="log"></ul>
<form id="form"><input id="text" autocomplete="off" autofocus><button>Send</button></form>
<script>
const q = new URLSearchParams(location.search);
const name = q.get("name") || "";
const log = document.getElementById("log");
const show = (t) => { const li = document.createElement("li"); li.textContent = t; log.appendChild(li); };
const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
ws.onopen = () => {
  show("connected");
  if (q.get("ack")) ws.send(name + " ready");
  if (q.get("send")) ws.send(q.get("send"));
};
ws.onmessage = (e) => {
  show(e.data);
  if (q.get("ack") && !e.data.includes(" got ") && !e.data.endsWith(" ready")) ws.send(name + " got " + e.data);
};
ws.onclose = (e) => show("closed " + e.code);
document.getElementById("form").onsubmit = (e) => {
  e.preventDefault();
  const t = document.getElementById("text");
  if (t.value) { ws.send(t.value); t.value = ""; }
};
</script>
</body></html>
"#;

/// Serves the page; other paths are 404.
struct Page;

impl ChannelHandler for Page {}

impl InboundHandler for Page {
    type Read = HttpRequest;
    type Fire = HttpRequest;

    fn channel_read(&mut self, ctx: &mut InboundContext<'_, HttpRequest>, req: HttpRequest) {
        let resp = if req.path() == "/" {
            HttpResponse::ok(PAGE).with_header("Content-Type", "text/html; charset=utf-8")
        } else {
            HttpResponse::text(404, "not found\n")
        };
        ctx.write_void(resp);
    }
}

/// One client in the room.
struct Chat {
    room: Room,
    /// `--echo`: messages go back to their sender only.
    echo: bool,
}

impl ChannelHandler for Chat {
    fn handler_added(&mut self, ctx: &mut Context<'_>) {
        let ch = ctx.channel().clone();
        lock(&self.room).insert(ch.id(), ch);
    }
}

impl InboundHandler for Chat {
    type Read = Message;
    type Fire = Message;

    fn channel_read(&mut self, ctx: &mut InboundContext<'_, Message>, msg: Message) {
        if self.echo {
            if let Message::Text(_) | Message::Binary(_) = msg {
                ctx.write_void(msg); // flushed when the read batch ends
            }
            return;
        }
        let Message::Text(text) = msg else {
            return; // pings are answered by the codec; binary is not chat
        };
        let members: Vec<Channel> = lock(&self.room).values().cloned().collect();
        for member in members {
            member.write_and_flush(Message::Text(text.clone()));
        }
    }

    fn channel_inactive(&mut self, ctx: &mut InboundContext<'_, Message>) {
        lock(&self.room).remove(&ctx.channel().id());
        ctx.fire_inactive();
    }

    fn user_event(&mut self, ctx: &mut InboundContext<'_, Message>, event: UserEvent) {
        if event.is::<ShutdownRequested>() {
            ctx.write_void(Message::close(
                CloseCode::GOING_AWAY,
                "server shutting down",
            ));
            return;
        }
        ctx.fire_user_event(event);
    }

    fn exception_caught(&mut self, ctx: &mut InboundContext<'_, Message>, error: Error) {
        // The codec has sent the close frame with its code already.
        tracing::debug!(%error, "closing");
        ctx.close();
    }
}

fn lock(room: &Room) -> std::sync::MutexGuard<'_, HashMap<ChannelId, Channel>> {
    room.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A WebSocket chat room: an HTML page at `/`, the WebSocket at `/ws`; every
/// text message reaches every connected client.
#[derive(clap::Parser)]
#[command(name = "ws_chat", version, args_override_self = true)]
struct Args {
    #[command(flatten)]
    server: support::ServerArgs<8081>,

    /// Accept permessage-deflate when a client offers it (declined by default).
    #[arg(long)]
    deflate: bool,

    /// Echo mode (benchmarks): each text or binary message goes back to its
    /// sender only, instead of to the room.
    #[arg(long)]
    echo: bool,

    /// The largest message accepted, in bytes (1009 beyond).
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 20)]
    max_message: usize,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Args = support::start();
    let signals = seine::transport::ShutdownSignals::install()?;

    let mut config = WebSocketConfig::default()
        .max_frame_size(args.max_message)
        .max_message_size(args.max_message);
    if args.deflate {
        config = config.deflate(DeflateConfig::default());
    }
    let room: Room = Arc::default();
    let echo = args.echo;
    let upgrade = WebSocketServerProtocolHandler::new(
        "/ws",
        config,
        Arc::new(move |pipeline| {
            let chat = Chat {
                room: room.clone(),
                echo,
            };
            pipeline.add_last("chat", Handler::inbound(chat))?;
            Ok(())
        }),
    );

    let group = EventLoopGroup::new(args.server.threads())?;
    let server = ServerBootstrap::new()
        .group(&group)
        .child_handler(move |pipeline| {
            pipeline.add_last("http", HttpServerCodec::new().into())?;
            pipeline.add_last("upgrade", upgrade.clone().into())?;
            pipeline.add_last("page", Handler::inbound(Page))?;
            Ok(())
        })
        .bind(&args.server.addr)?;
    support::announce(server.local_addr()?)?;

    signals.run_until_signal(&server, std::time::Duration::from_secs(5));
    drop(group);
    Ok(())
}
