//! WebSocket (RFC 6455) for servers and clients, with permessage-deflate
//! (RFC 7692) as an option.
//!
//! ```text
//! server, before:  HttpServerCodec ─▶ WebSocketServerProtocolHandler ─▶ your HTTP handlers
//! server, after:   WebSocketCodec  ─▶ your WebSocket handlers (added by the app init)
//! client:          WebSocketClientProtocolHandler ─▶ your handler
//!                  (replaced by a client WebSocketCodec once the 101 is checked)
//! ```
//!
//! * [`WebSocketServerProtocolHandler`] answers the upgrade request on the HTTP
//!   codec and swaps the pipeline's HTTP handlers for a [`WebSocketCodec`]: the
//!   dynamic pipeline at work.
//! * [`WebSocketCodec`] fires and accepts [`Message`]s: masking, fragments,
//!   control frames between them, ping/pong, the close handshake, UTF-8 checks
//!   across fragments, frame and message limits (1 MiB each by default). Each
//!   refusal is a typed [`WebSocketError`] with its close code.
//! * [`FrameDecoder`] and [`encode_frame`] are the frame layer without a pipeline.
//! * [`DeflateConfig`] turns permessage-deflate on (off by default: offers are
//!   declined).

mod close_code;
mod codec;
mod config;
mod decoder;
mod deflate;
mod encoder;
mod error;
mod frame;
mod handshake;
mod mask_keys;
mod message;
mod utf8;

pub use close_code::CloseCode;
pub use codec::WebSocketCodec;
pub use config::{
    DEFAULT_CLOSE_TIMEOUT, DEFAULT_MAX_FRAME_SIZE, DEFAULT_MAX_MESSAGE_SIZE, Role, WebSocketConfig,
};
pub use decoder::FrameDecoder;
pub use deflate::DeflateConfig;
pub use encoder::encode_frame;
pub use error::WebSocketError;
pub use frame::{Frame, Opcode};
pub use handshake::{
    WebSocketAppInit, WebSocketClientProtocolHandler, WebSocketHandshakeComplete,
    WebSocketServerProtocolHandler, accept_key,
};
pub use message::{CloseFrame, Message};
