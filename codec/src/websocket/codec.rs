//! [`WebSocketCodec`]: WebSocket frames as one duplex pipeline handler.

use seine_buffer::{Bytes, Cumulation, CumulationStrategy};
use seine_channel::{
    ChannelHandler, Context, Handler, InboundContext, InboundHandler, OutboundBuf, OutboundContext,
    OutboundHandler, Promise, UserEvent,
};

use super::close_code::CloseCode;
use super::config::{Role, WebSocketConfig};
use super::decoder::FrameDecoder;
use super::deflate::PerMessageDeflate;
use super::encoder::{close_code_payload, encode_frame, message_frame};
use super::error::WebSocketError;
use super::frame::{Frame, Opcode};
use super::mask_keys::MaskKeys;
use super::message::{CloseFrame, Message};
use super::utf8::Utf8Validator;
use crate::encoder::EncodeBuf;
use crate::error::CodecError;
use crate::resp::write_parts;

/// A WebSocket connection (RFC 6455) in one pipeline slot, after the handshake:
/// reads bytes and fires [`Message`]s, accepts `Message`s and writes frames.
///
/// * **Messages**: fragments are joined (a text message is checked as UTF-8
///   fragment by fragment, so invalid text fails at its first bad byte); control
///   frames between fragments are fired as they come.
/// * **Masking**: as a [`Role::Server`] it requires masked frames and sends
///   unmasked ones; as a [`Role::Client`] it masks every frame with a random key
///   and refuses masked ones.
/// * **Ping**: answered with a pong carrying the same payload (unless
///   [`auto_pong`](WebSocketConfig::auto_pong) is off), and fired.
/// * **Close**: a close frame from the peer is fired, answered with a close frame
///   carrying the same status code, and the connection is closed once that is
///   flushed. A `Message::Close` written by the application is sent; the
///   connection closes when the peer's close frame arrives, or after
///   [`close_timeout`](WebSocketConfig::close_timeout). Writes after a close
///   frame fail.
/// * **Errors**: a frame or message that breaks the protocol or the limits is
///   answered with a close frame with its code (1002, 1007, 1009), the channel
///   is closed after the flush, and the [`WebSocketError`] is fired as an exception.
/// * **Limits**: [`max_frame_size`](WebSocketConfig::max_frame_size) is checked
///   on the header, before the payload is buffered;
///   [`max_message_size`](WebSocketConfig::max_message_size) as fragments arrive.
///
/// # Examples
///
/// ```
/// use seine_buffer::Bytes;
/// use seine_channel::testing::EmbeddedChannel;
/// use seine_codec::websocket::{Message, WebSocketCodec, WebSocketConfig};
///
/// let codec = WebSocketCodec::server(WebSocketConfig::default());
/// let mut ch = EmbeddedChannel::with_handlers([("ws", codec.into())]);
/// // A masked text frame "Hi" from a client (key 1, 2, 3, 4).
/// ch.write_inbound(Bytes::from_static(&[0x81, 0x82, 1, 2, 3, 4, b'H' ^ 1, b'i' ^ 2])).unwrap();
/// assert_eq!(ch.read_inbound::<Message>(), Some(Message::text("Hi")));
/// ch.write_outbound(Message::text("Hi"));
/// assert_eq!(ch.read_outbound_bytes(), [0x81, 0x02, b'H', b'i']);
/// ```
pub struct WebSocketCodec {
    role: Role,
    config: WebSocketConfig,
    decoder: FrameDecoder,
    cumulation: Cumulation,
    out: EncodeBuf,
    /// The message being joined: its opcode, compressed, and bytes so far.
    partial: Option<(Opcode, bool)>,
    buf: Vec<u8>,
    utf8: Utf8Validator,
    masks: Option<MaskKeys>,
    deflate: Option<PerMessageDeflate>,
    close_sent: bool,
    close_received: bool,
    /// A protocol error ended the connection: input is ignored.
    failed: bool,
    /// Bytes written when the codec is added (the handshake's 101 response).
    greeting: Option<Bytes>,
}

impl WebSocketCodec {
    /// A server-side codec: requires masked frames, sends unmasked ones.
    pub fn server(config: WebSocketConfig) -> Self {
        Self::new(Role::Server, config, None)
    }

    /// A client-side codec: masks what it sends, refuses masked frames.
    pub fn client(config: WebSocketConfig) -> Self {
        Self::new(Role::Client, config, None)
    }

    /// A codec for `role` with a negotiated permessage-deflate (from a handshake).
    pub(crate) fn new(
        role: Role,
        config: WebSocketConfig,
        deflate: Option<PerMessageDeflate>,
    ) -> Self {
        let decoder = FrameDecoder::new(role)
            .with_max_frame_size(config.max_frame_size)
            .with_rsv1(deflate.is_some());
        WebSocketCodec {
            role,
            decoder,
            cumulation: Cumulation::new(CumulationStrategy::default()),
            out: EncodeBuf::new(),
            partial: None,
            buf: Vec::new(),
            utf8: Utf8Validator::default(),
            masks: (role == Role::Client).then(MaskKeys::new),
            deflate,
            close_sent: false,
            close_received: false,
            failed: false,
            greeting: None,
            config,
        }
    }

    /// Writes `greeting` before anything else: on the first read, write or user
    /// event (the handshake handler fires one right after the upgrade; when the
    /// codec is added, the HTTP codec it replaces is still before it).
    pub(crate) fn with_greeting(mut self, greeting: Bytes) -> Self {
        self.greeting = Some(greeting);
        self
    }

    /// Which end this codec is.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Whether permessage-deflate was negotiated.
    pub fn is_deflate(&self) -> bool {
        self.deflate.is_some()
    }

    /// Writes the handshake's response if it is still owed.
    fn send_greeting(&mut self, ctx: &mut Context<'_>) {
        if let Some(greeting) = self.greeting.take() {
            ctx.write_void(OutboundBuf::Bytes(greeting));
            ctx.flush();
        }
    }

    /// Encodes `frame` into `self.out`, masked for a client, compressed when
    /// it is a whole data message and deflate is on.
    fn encode(&mut self, mut frame: Frame) -> Result<(), CodecError> {
        if let Some(d) = &mut self.deflate
            && matches!(frame.opcode, Opcode::Text | Opcode::Binary)
            && frame.fin
            && !frame.rsv1
        {
            frame.payload = d.compress(&frame.payload)?.into();
            frame.rsv1 = true;
        }
        let mask = self.masks.as_mut().map(MaskKeys::next_key);
        encode_frame(frame, mask, &mut self.out);
        Ok(())
    }

    /// Writes a frame the codec makes itself (a pong, a close answer).
    fn send(&mut self, ctx: &mut Context<'_>, frame: Frame) {
        if self.encode(frame).is_ok() {
            for part in self.out.take_parts() {
                ctx.write_void(part);
            }
        }
    }

    /// Ends the connection for a protocol error: close frame with its code,
    /// flush, close, report.
    fn fail(&mut self, ctx: &mut Context<'_>, error: WebSocketError) {
        self.failed = true;
        self.cumulation.clear();
        self.buf = Vec::new();
        if !self.close_sent {
            self.close_sent = true;
            let code = error.close_code().unwrap_or(CloseCode::PROTOCOL_ERROR);
            self.send(
                ctx,
                Frame::new(Opcode::Close, true, close_code_payload(code)),
            );
        }
        ctx.flush();
        ctx.close();
        ctx.fire_exception(error);
    }

    fn on_frame(
        &mut self,
        ctx: &mut InboundContext<'_, Message>,
        frame: Frame,
    ) -> Result<(), WebSocketError> {
        match frame.opcode {
            Opcode::Ping => {
                if self.config.auto_pong && !self.close_sent {
                    self.send(ctx, Frame::new(Opcode::Pong, true, frame.payload.clone()));
                }
                ctx.fire_read(Message::Ping(frame.payload));
            }
            Opcode::Pong => ctx.fire_read(Message::Pong(frame.payload)),
            Opcode::Close => {
                let close = parse_close(&frame.payload)?;
                self.close_received = true;
                self.cumulation.clear();
                if !self.close_sent {
                    self.close_sent = true;
                    let payload = match &close {
                        Some(c) => close_code_payload(c.code),
                        None => Bytes::new(),
                    };
                    self.send(ctx, Frame::new(Opcode::Close, true, payload));
                }
                ctx.fire_read(Message::Close(close));
                ctx.flush();
                ctx.close();
            }
            Opcode::Text | Opcode::Binary => {
                if self.partial.is_some() {
                    return Err(WebSocketError::ExpectedContinuation);
                }
                self.partial = Some((frame.opcode, frame.rsv1));
                self.buf.clear();
                self.utf8.reset();
                self.append(ctx, frame)?;
            }
            Opcode::Continuation => {
                if self.partial.is_none() {
                    return Err(WebSocketError::UnexpectedContinuation);
                }
                self.append(ctx, frame)?;
            }
        }
        Ok(())
    }

    /// Adds a data frame to the message being joined; fires it when complete.
    fn append(
        &mut self,
        ctx: &mut InboundContext<'_, Message>,
        frame: Frame,
    ) -> Result<(), WebSocketError> {
        let Some((opcode, compressed)) = self.partial else {
            return Ok(());
        };
        let max = self.config.max_message_size;
        let length = (self.buf.len() + frame.payload.len()) as u64;
        if length > max as u64 {
            return Err(WebSocketError::MessageTooLong { length, max });
        }
        let single = frame.fin && self.buf.is_empty();
        if !single || compressed {
            self.buf.extend_from_slice(&frame.payload);
            if opcode == Opcode::Text && !compressed {
                self.utf8
                    .feed(&self.buf, frame.fin)
                    .map_err(|()| WebSocketError::InvalidUtf8)?;
            }
        }
        if !frame.fin {
            return Ok(());
        }
        self.partial = None;
        let data: Vec<u8> = if compressed {
            let inflater = self
                .deflate
                .as_mut()
                .ok_or(WebSocketError::ReservedBits { bits: 0x40 })?;
            let data = inflater.decompress(&self.buf, max)?;
            self.buf.clear();
            data
        } else if single {
            if opcode == Opcode::Binary {
                ctx.fire_read(Message::Binary(frame.payload));
                return Ok(());
            }
            // No copy: the payload's buffer was made from a `Vec` by the decoder.
            Vec::from(frame.payload)
        } else {
            std::mem::take(&mut self.buf)
        };
        let msg = match opcode {
            Opcode::Text => {
                Message::Text(String::from_utf8(data).map_err(|_| WebSocketError::InvalidUtf8)?)
            }
            _ => Message::Binary(data.into()),
        };
        ctx.fire_read(msg);
        Ok(())
    }
}

/// Reads a close frame's payload: empty, or a sendable code and a UTF-8 reason.
fn parse_close(payload: &[u8]) -> Result<Option<CloseFrame>, WebSocketError> {
    match payload {
        [] => Ok(None),
        [_] => Err(WebSocketError::InvalidClosePayload {
            reason: "a one-byte payload".into(),
        }),
        [hi, lo, reason @ ..] => {
            let code = CloseCode(u16::from_be_bytes([*hi, *lo]));
            if !code.is_sendable() {
                return Err(WebSocketError::InvalidClosePayload {
                    reason: format!("status code {code} may not be sent"),
                });
            }
            let reason = std::str::from_utf8(reason).map_err(|_| WebSocketError::InvalidUtf8)?;
            Ok(Some(CloseFrame {
                code,
                reason: reason.to_owned(),
            }))
        }
    }
}

/// The timer key of the wait for the peer's close frame.
const CLOSE_TIMER: u64 = 0;

impl ChannelHandler for WebSocketCodec {
    fn timer_fired(&mut self, ctx: &mut Context<'_>, key: u64) {
        if key == CLOSE_TIMER && !self.close_received {
            tracing::debug!("no close frame from the peer in time: closing");
            ctx.close();
        }
    }
}

impl InboundHandler for WebSocketCodec {
    type Read = Bytes;
    type Fire = Message;

    fn channel_read(&mut self, ctx: &mut InboundContext<'_, Message>, msg: Bytes) {
        self.send_greeting(ctx);
        if self.failed || self.close_received {
            return;
        }
        self.cumulation.push(msg);
        while !self.failed && !self.close_received {
            let frame = match self.decoder.decode(self.cumulation.buf()) {
                Ok(Some(frame)) => frame,
                Ok(None) => break,
                Err(e) => return self.fail(ctx, e),
            };
            if let Err(e) = self.on_frame(ctx, frame) {
                return self.fail(ctx, e);
            }
        }
        self.cumulation.settle();
    }

    fn user_event(&mut self, ctx: &mut InboundContext<'_, Message>, event: UserEvent) {
        self.send_greeting(ctx);
        ctx.fire_user_event(event);
    }
}

impl OutboundHandler for WebSocketCodec {
    type Write = Message;
    type Emit = OutboundBuf;

    fn write(
        &mut self,
        ctx: &mut OutboundContext<'_, OutboundBuf>,
        msg: Message,
        promise: Promise,
    ) {
        self.send_greeting(ctx);
        if self.close_sent {
            return ctx.fail_promise(
                promise,
                CodecError::Encode {
                    reason: "a WebSocket message after the close frame".into(),
                },
            );
        }
        let closing = matches!(msg, Message::Close(_));
        if let Err(e) = self.encode(message_frame(msg)) {
            self.out.take_parts();
            return ctx.fail_promise(promise, e);
        }
        write_parts(ctx, &mut self.out, promise);
        if closing {
            self.close_sent = true;
            if self.close_received {
                ctx.close();
            } else {
                ctx.set_timer_after(CLOSE_TIMER, self.config.close_timeout);
            }
        }
    }
}

impl From<WebSocketCodec> for Handler {
    fn from(codec: WebSocketCodec) -> Self {
        Handler::duplex(codec)
    }
}
