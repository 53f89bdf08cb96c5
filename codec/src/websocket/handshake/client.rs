//! [`WebSocketClientProtocolHandler`]: the client's handshake over a fresh
//! connection.

use seine_buffer::Bytes;
use seine_channel::{
    ChannelHandler, Context, Handler, InboundContext, InboundHandler, OutboundBuf, OutboundContext,
    OutboundHandler, Promise,
};

use super::{WebSocketHandshakeComplete, accept_key, new_key};
use crate::error::CodecError;
use crate::websocket::codec::WebSocketCodec;
use crate::websocket::config::{Role, WebSocketConfig};
use crate::websocket::error::WebSocketError;
use crate::websocket::message::Message;

/// The largest response head accepted.
const MAX_HEAD: usize = 16 << 10;

/// Opens a WebSocket over a new connection: writes the upgrade `GET` when the
/// channel is active, checks the `101` answer (`Upgrade`, `Connection`,
/// `Sec-WebSocket-Accept`, the extension and subprotocol agreed), then replaces
/// itself with a client [`WebSocketCodec`] (which masks what it sends) and fires
/// [`WebSocketHandshakeComplete`]. Bytes after the response head reach the codec.
///
/// It reads and writes what the codec does (bytes in, [`Message`]s out and in),
/// so the application's handler sits after it from the start; messages written
/// before the handshake completes fail. A failed handshake fires a
/// [`WebSocketError::Handshake`] and closes the channel.
///
/// ```
/// use seine_channel::testing::EmbeddedChannel;
/// use seine_codec::websocket::{WebSocketClientProtocolHandler, WebSocketConfig};
///
/// let client = WebSocketClientProtocolHandler::new("example.com", "/chat", WebSocketConfig::default());
/// let mut ch = EmbeddedChannel::with_handlers([("ws", client.into())]);
/// let request = String::from_utf8(ch.read_outbound_bytes()).unwrap();
/// assert!(request.starts_with("GET /chat HTTP/1.1\r\nHost: example.com\r\n"));
/// ```
#[derive(Debug)]
pub struct WebSocketClientProtocolHandler {
    host: String,
    uri: String,
    config: WebSocketConfig,
    key: String,
    sent: bool,
    head: Vec<u8>,
    leftover: Option<Bytes>,
    done: bool,
}

impl WebSocketClientProtocolHandler {
    /// A handshake for `uri` (a path and query) on `host` (the `Host` field,
    /// with the port if not the default).
    pub fn new(host: &str, uri: &str, config: WebSocketConfig) -> Self {
        WebSocketClientProtocolHandler {
            host: host.to_owned(),
            uri: uri.to_owned(),
            config,
            key: new_key(),
            sent: false,
            head: Vec::new(),
            leftover: None,
            done: false,
        }
    }

    fn send_request(&mut self, ctx: &mut Context<'_>) {
        if std::mem::replace(&mut self.sent, true) {
            return;
        }
        let mut req = format!(
            "GET {} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {}\r\nSec-WebSocket-Version: 13\r\n",
            self.uri, self.host, self.key
        );
        if !self.config.subprotocols.is_empty() {
            req.push_str(&format!(
                "Sec-WebSocket-Protocol: {}\r\n",
                self.config.subprotocols.join(", ")
            ));
        }
        if let Some(d) = &self.config.deflate {
            req.push_str(&format!(
                "Sec-WebSocket-Extensions: {}\r\n",
                d.client_offer()
            ));
        }
        req.push_str("\r\n");
        ctx.write_void(OutboundBuf::Bytes(req.into()));
        ctx.flush();
    }

    /// Checks a complete response head; the codec to continue with.
    fn check(&self, head: &[u8]) -> Result<(WebSocketCodec, Option<String>), WebSocketError> {
        let bad = |reason: String| WebSocketError::handshake(reason);
        let mut fields = [httparse::EMPTY_HEADER; 64];
        let mut resp = httparse::Response::new(&mut fields);
        match resp.parse(head) {
            Ok(httparse::Status::Complete(_)) => {}
            _ => return Err(bad("the response head is malformed".into())),
        }
        if resp.code != Some(101) {
            return Err(bad(format!(
                "the server answered {} instead of 101",
                resp.code.unwrap_or(0)
            )));
        }
        let values = |name: &str| {
            resp.headers
                .iter()
                .filter(|h| h.name.eq_ignore_ascii_case(name))
                .filter_map(|h| std::str::from_utf8(h.value).ok())
                .collect::<Vec<_>>()
        };
        let has_token = |name: &str, token: &str| {
            values(name)
                .iter()
                .any(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
        };
        if !has_token("upgrade", "websocket") || !has_token("connection", "upgrade") {
            return Err(bad(
                "the 101 lacks Upgrade: websocket or Connection: upgrade".into(),
            ));
        }
        let expected = accept_key(&self.key);
        if values("sec-websocket-accept").first().map(|v| v.trim()) != Some(expected.as_str()) {
            return Err(bad("Sec-WebSocket-Accept does not match the key".into()));
        }
        let subprotocol = values("sec-websocket-protocol")
            .first()
            .map(|v| v.trim().to_owned());
        if let Some(p) = &subprotocol
            && !self.config.subprotocols.contains(p)
        {
            return Err(bad(format!(
                "the server chose subprotocol {p:?}, not offered"
            )));
        }
        let extensions = values("sec-websocket-extensions");
        let deflate = match (extensions.as_slice(), &self.config.deflate) {
            ([], _) => None,
            ([answer], Some(d)) => Some(d.accepted_by_server(answer)?),
            _ => {
                return Err(bad(
                    "the server answered with an extension not offered".into()
                ));
            }
        };
        Ok((
            WebSocketCodec::new(Role::Client, self.config.clone(), deflate),
            subprotocol,
        ))
    }

    fn fail(&mut self, ctx: &mut Context<'_>, error: WebSocketError) {
        self.done = true;
        self.head = Vec::new();
        ctx.close();
        ctx.fire_exception(error);
    }
}

impl ChannelHandler for WebSocketClientProtocolHandler {
    fn handler_added(&mut self, ctx: &mut Context<'_>) {
        if ctx.is_active() {
            self.send_request(ctx);
        }
    }

    /// Passes the bytes after the response head on to the codec.
    fn handler_removed(&mut self, ctx: &mut Context<'_>) {
        if let Some(rest) = self.leftover.take() {
            ctx.fire_message(rest);
        }
    }
}

impl InboundHandler for WebSocketClientProtocolHandler {
    type Read = Bytes;
    type Fire = Message;

    fn channel_active(&mut self, ctx: &mut InboundContext<'_, Message>) {
        self.send_request(ctx);
        ctx.fire_active();
    }

    fn channel_read(&mut self, ctx: &mut InboundContext<'_, Message>, msg: Bytes) {
        if self.done {
            return;
        }
        let searched_from = self.head.len().saturating_sub(3);
        self.head.extend_from_slice(&msg);
        let Some(end) = memchr::memmem::find(&self.head[searched_from..], b"\r\n\r\n")
            .map(|i| searched_from + i + 4)
        else {
            if self.head.len() > MAX_HEAD {
                self.fail(
                    ctx,
                    WebSocketError::handshake("the response head is too long"),
                );
            }
            return;
        };
        let head = std::mem::take(&mut self.head);
        match self.check(&head[..end]) {
            Ok((codec, subprotocol)) => {
                self.done = true;
                if end < head.len() {
                    self.leftover = Some(Bytes::from(head).slice(end..));
                }
                let event = WebSocketHandshakeComplete {
                    uri: self.uri.clone(),
                    subprotocol,
                    deflate: codec.is_deflate(),
                };
                let name = ctx.name().to_owned();
                if let Err(e) = ctx.replace_self(&name, codec.into()) {
                    return self.fail(ctx, WebSocketError::handshake(e.to_string()));
                }
                ctx.channel().fire_user_event(event);
            }
            Err(e) => self.fail(ctx, e),
        }
    }
}

impl OutboundHandler for WebSocketClientProtocolHandler {
    type Write = Message;
    type Emit = OutboundBuf;

    fn write(
        &mut self,
        ctx: &mut OutboundContext<'_, OutboundBuf>,
        _msg: Message,
        promise: Promise,
    ) {
        ctx.fail_promise(
            promise,
            CodecError::Encode {
                reason: "a WebSocket message before the handshake completed (wait for WebSocketHandshakeComplete)".into(),
            },
        );
    }
}

impl From<WebSocketClientProtocolHandler> for Handler {
    fn from(h: WebSocketClientProtocolHandler) -> Self {
        Handler::duplex(h)
    }
}
