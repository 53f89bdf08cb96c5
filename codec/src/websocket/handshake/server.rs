//! [`WebSocketServerProtocolHandler`]: the server's handshake on the HTTP codec.

use std::fmt;
use std::sync::Arc;

use seine_buffer::Bytes;
use seine_channel::{
    ChannelError, ChannelHandler, Handler, InboundContext, InboundHandler, Pipeline,
};

use super::{WebSocketHandshakeComplete, accept_key, valid_key};
use crate::http::{HttpRequest, HttpResponse, Method, Version};
use crate::websocket::codec::WebSocketCodec;
use crate::websocket::config::{Role, WebSocketConfig};
use crate::websocket::deflate::PerMessageDeflate;

/// What adds the application's handlers to an upgraded pipeline (after the
/// WebSocket codec, which fires and accepts [`Message`](crate::websocket::Message)s).
pub type WebSocketAppInit =
    Arc<dyn Fn(&mut Pipeline<'_>) -> Result<(), ChannelError> + Send + Sync>;

/// Upgrades HTTP connections to WebSocket: placed right after an
/// [`HttpServerCodec`](crate::http::HttpServerCodec), it answers an upgrade
/// request for its path and turns the pipeline into a WebSocket pipeline; other
/// requests pass on to the handlers after it.
///
/// * **Checks** (RFC 6455, 4.2.1): `GET`, HTTP/1.1, `Upgrade: websocket`,
///   `Connection: upgrade`, a `Sec-WebSocket-Key` of 16 base64 bytes:
///   otherwise 400; `Sec-WebSocket-Version` other than 13: 426 with
///   `Sec-WebSocket-Version: 13`. Both close the connection.
/// * **Answer**: `101 Switching Protocols` with `Sec-WebSocket-Accept`, the
///   subprotocol chosen, and permessage-deflate if configured (offers are
///   declined otherwise).
/// * **Pipeline**: the handlers after this one are removed (they read HTTP
///   requests), this one is removed, the HTTP codec before it is replaced by a
///   [`WebSocketCodec`], and `app` adds the WebSocket handlers after it. Bytes
///   that arrived after the upgrade request reach the WebSocket codec.
///   A [`WebSocketHandshakeComplete`] user event follows.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use seine_buffer::Bytes;
/// use seine_channel::testing::EmbeddedChannel;
/// use seine_codec::http::HttpServerCodec;
/// use seine_codec::websocket::{WebSocketConfig, WebSocketServerProtocolHandler};
///
/// let upgrade = WebSocketServerProtocolHandler::new("/ws", WebSocketConfig::default(), Arc::new(|_p| Ok(())));
/// let mut ch = EmbeddedChannel::with_handlers([
///     ("http", HttpServerCodec::new().into()),
///     ("upgrade", upgrade.into()),
/// ]);
/// ch.write_inbound(Bytes::from_static(
///     b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
///       Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
/// )).unwrap();
/// let out = String::from_utf8(ch.read_outbound_bytes()).unwrap();
/// assert!(out.starts_with("HTTP/1.1 101 Switching Protocols\r\n"));
/// assert!(out.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
/// assert_eq!(ch.pipeline().names(), ["websocket"]);
/// ```
#[derive(Clone)]
pub struct WebSocketServerProtocolHandler {
    path: Arc<str>,
    config: WebSocketConfig,
    app: WebSocketAppInit,
}

impl fmt::Debug for WebSocketServerProtocolHandler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebSocketServerProtocolHandler")
            .field("path", &self.path)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// A refused handshake: its status and why.
struct Refusal {
    status: u16,
    reason: &'static str,
}

/// What the handshake agreed on.
struct Accepted {
    response: Bytes,
    subprotocol: Option<String>,
    deflate: Option<PerMessageDeflate>,
}

impl WebSocketServerProtocolHandler {
    /// Upgrades requests for `path` (the query string is not compared) with
    /// `config`; `app` adds the application's handlers to each upgraded pipeline.
    pub fn new(path: &str, config: WebSocketConfig, app: WebSocketAppInit) -> Self {
        WebSocketServerProtocolHandler {
            path: path.into(),
            config,
            app,
        }
    }

    fn check(&self, req: &HttpRequest) -> Result<Accepted, Refusal> {
        let refuse = |reason| Refusal {
            status: 400,
            reason,
        };
        if req.method != Method::Get {
            return Err(refuse("a WebSocket handshake is a GET"));
        }
        if req.version != Version::Http11 {
            return Err(refuse("a WebSocket handshake needs HTTP/1.1"));
        }
        if !req.headers.has_token("upgrade", "websocket") {
            return Err(refuse("not a WebSocket handshake (no Upgrade: websocket)"));
        }
        if !req.headers.has_token("connection", "upgrade") {
            return Err(refuse("not a WebSocket handshake (no Connection: upgrade)"));
        }
        if req.header("sec-websocket-version").map(str::trim) != Some("13") {
            return Err(Refusal {
                status: 426,
                reason: "only WebSocket version 13 is supported",
            });
        }
        let key = req.header("sec-websocket-key").map(str::trim).unwrap_or("");
        if !valid_key(key) {
            return Err(refuse("Sec-WebSocket-Key is not 16 bytes in base64"));
        }
        let mut response = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n",
            accept_key(key)
        );
        let offered: Vec<&str> = req
            .headers
            .get_all("sec-websocket-protocol")
            .filter_map(|v| std::str::from_utf8(v).ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        let subprotocol = self
            .config
            .subprotocols
            .iter()
            .find(|p| offered.contains(&p.as_str()))
            .cloned();
        if let Some(p) = &subprotocol {
            response.push_str(&format!("Sec-WebSocket-Protocol: {p}\r\n"));
        }
        let deflate = self.config.deflate.as_ref().and_then(|d| {
            d.accept(
                req.headers
                    .get_all("sec-websocket-extensions")
                    .filter_map(|v| std::str::from_utf8(v).ok()),
            )
        });
        let deflate = deflate.map(|(answer, pmd)| {
            response.push_str(&format!("Sec-WebSocket-Extensions: {answer}\r\n"));
            pmd
        });
        response.push_str("\r\n");
        Ok(Accepted {
            response: response.into(),
            subprotocol,
            deflate,
        })
    }

    /// Turns the pipeline into a WebSocket pipeline (see the type's docs).
    fn upgrade(
        &self,
        ctx: &mut InboundContext<'_, HttpRequest>,
        accepted: Accepted,
    ) -> Result<(), ChannelError> {
        let me = ctx.name().to_owned();
        let names = ctx.pipeline().names();
        let pos = names.iter().position(|n| *n == me).unwrap_or(0);
        let Some(http) = pos.checked_sub(1).map(|i| names[i].clone()) else {
            return Err(ChannelError::NoSuchHandler(
                "an HTTP codec before the WebSocket upgrade handler".into(),
            ));
        };
        for name in names[pos + 1..].iter().rev() {
            ctx.pipeline().remove(name)?;
        }
        ctx.pipeline().remove(&me)?;
        let codec = WebSocketCodec::new(Role::Server, self.config.clone(), accepted.deflate)
            .with_greeting(accepted.response);
        ctx.pipeline().replace(&http, "websocket", codec.into())?;
        (self.app)(&mut ctx.pipeline())?;
        Ok(())
    }
}

impl ChannelHandler for WebSocketServerProtocolHandler {}

impl InboundHandler for WebSocketServerProtocolHandler {
    type Read = HttpRequest;
    type Fire = HttpRequest;

    fn channel_read(&mut self, ctx: &mut InboundContext<'_, HttpRequest>, req: HttpRequest) {
        if req.path() != &*self.path {
            return ctx.fire_read(req);
        }
        match self.check(&req) {
            Err(r) => {
                tracing::debug!(
                    status = r.status,
                    reason = r.reason,
                    "WebSocket handshake refused"
                );
                let mut resp =
                    HttpResponse::text(r.status, format!("{} {}\n", r.status, r.reason)).close();
                if r.status == 426 {
                    resp = resp
                        .with_header("Sec-WebSocket-Version", "13")
                        .with_header("Upgrade", "websocket");
                }
                ctx.write_void(resp);
            }
            Ok(accepted) => {
                let done = WebSocketHandshakeComplete {
                    uri: req.uri_str().to_owned(),
                    subprotocol: accepted.subprotocol.clone(),
                    deflate: accepted.deflate.is_some(),
                };
                if let Err(e) = self.upgrade(ctx, accepted) {
                    tracing::warn!(error = %e, "WebSocket upgrade: the pipeline cannot be changed");
                    ctx.close();
                    return;
                }
                ctx.channel().fire_user_event(done);
            }
        }
    }
}

impl From<WebSocketServerProtocolHandler> for Handler {
    fn from(h: WebSocketServerProtocolHandler) -> Self {
        Handler::inbound(h)
    }
}
