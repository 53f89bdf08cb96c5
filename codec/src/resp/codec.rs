//! [`RespCodec`]: the RESP server codec as one duplex pipeline handler.

use seine_buffer::{Bytes, Cumulation, CumulationStrategy};
use seine_channel::{
    ChannelHandler, Context, Handler, InboundContext, InboundHandler, OutboundBuf, OutboundContext,
    OutboundHandler, Promise,
};

use super::decoder::RespCommandDecoder;
use super::encoder::RespEncoder;
use super::value::{RespCommand, RespValue};
use crate::decoder::Decoder;
use crate::encoder::{EncodeBuf, Encoder};
use crate::error::CodecError;

/// A Redis server's codec in one pipeline slot: reads bytes and fires
/// [`RespCommand`]s, accepts [`RespValue`] replies and writes their bytes.
///
/// * Inbound: received bytes accumulate in a [`Cumulation`] (adaptive by default:
///   small reads are merged, so pipelined commands lie in one segment and their
///   arguments are views of it) and are cut by a [`RespCommandDecoder`].
/// * Outbound: replies are encoded by [`RespEncoder`] (a large bulk string is
///   written without being copied); replies written during a read batch leave in
///   one `writev` when the batch ends.
/// * Bad input: like Redis, the codec answers `-ERR Protocol error: <what>` (after
///   the replies written for the commands before the bad one, at the end of the read
///   batch), closes the channel once that reply is flushed, and fires the
///   [`CodecError`] as an exception. Bytes arriving after that are dropped.
///
/// # Examples
///
/// ```
/// use seine_buffer::Bytes;
/// use seine_channel::prelude::*;
/// use seine_codec::resp::{RespCodec, RespCommand, RespValue};
///
/// struct Pong;
/// impl ChannelHandler for Pong {}
/// impl InboundHandler for Pong {
///     type Read = RespCommand;
///     type Fire = RespCommand;
///     fn channel_read(&mut self, ctx: &mut InboundContext<'_, RespCommand>, cmd: RespCommand) {
///         let reply = if cmd.is("PING") { RespValue::simple("PONG") } else { RespValue::error("ERR unknown") };
///         let _ = ctx.write(reply);
///     }
/// }
///
/// let mut ch = EmbeddedChannel::with_handlers([
///     ("resp", RespCodec::new().into()),
///     ("app", Handler::inbound(Pong)),
/// ]);
/// ch.write_inbound(Bytes::from_static(b"*1\r\n$4\r\nPING\r\nPING\r\n")).unwrap();
/// assert_eq!(ch.read_outbound_bytes(), b"+PONG\r\n+PONG\r\n");
/// ```
pub struct RespCodec {
    decoder: RespCommandDecoder,
    encoder: RespEncoder,
    cumulation: Cumulation,
    out: EncodeBuf,
    failed: bool,
    /// A protocol error to answer once the replies to the commands before it are
    /// written (at the end of the read batch).
    pending_error: Option<CodecError>,
}

impl Default for RespCodec {
    fn default() -> Self {
        Self::new()
    }
}

impl RespCodec {
    /// A codec with [`RespCommandDecoder::new`]'s limits and the adaptive cumulation.
    ///
    /// ```
    /// let handler: seine_channel::Handler = seine_codec::resp::RespCodec::new().into();
    /// ```
    pub fn new() -> Self {
        Self::with_decoder(RespCommandDecoder::new())
    }

    /// A codec with the given decoder (to change its limits).
    ///
    /// ```
    /// use seine_codec::resp::{RespCodec, RespCommandDecoder};
    /// let codec = RespCodec::with_decoder(RespCommandDecoder::new().max_bulk_len(1 << 20));
    /// ```
    pub fn with_decoder(decoder: RespCommandDecoder) -> Self {
        RespCodec {
            decoder,
            encoder: RespEncoder,
            cumulation: Cumulation::default(),
            out: EncodeBuf::new(),
            failed: false,
            pending_error: None,
        }
    }

    /// Sets how received bytes are accumulated.
    ///
    /// ```
    /// use seine_buffer::CumulationStrategy;
    /// let codec = seine_codec::resp::RespCodec::new().cumulation(CumulationStrategy::Merge);
    /// ```
    pub fn cumulation(mut self, strategy: CumulationStrategy) -> Self {
        self.cumulation = Cumulation::new(strategy);
        self
    }

    /// Stops decoding; the error is answered when the read batch ends.
    fn fail(&mut self, error: CodecError) {
        self.failed = true;
        self.cumulation.clear();
        self.pending_error = Some(error);
    }

    /// Answers a protocol error, closes after the flush, reports the error.
    fn answer_error(&mut self, ctx: &mut InboundContext<'_, RespCommand>, error: CodecError) {
        let text = match &error {
            CodecError::CorruptFrame { reason } => format!("ERR Protocol error: {reason}"),
            CodecError::TooLongFrame { length, max } => {
                format!("ERR Protocol error: length {length} exceeds the limit of {max}")
            }
            other => format!("ERR Protocol error: {other}"),
        };
        let mut reply = Vec::with_capacity(text.len() + 3);
        reply.push(b'-');
        reply.extend(text.bytes().filter(|b| *b != b'\r' && *b != b'\n'));
        reply.extend_from_slice(b"\r\n");
        drop(ctx.write(OutboundBuf::Bytes(Bytes::from(reply))));
        ctx.flush();
        ctx.close();
        ctx.fire_exception(error);
    }
}

impl ChannelHandler for RespCodec {
    /// Passes the bytes received but not decoded on to the next handler (one
    /// `Bytes` per segment, not copied), as Netty's decoders do when removed.
    fn handler_removed(&mut self, ctx: &mut Context<'_>) {
        for seg in self.cumulation.take_all().into_segments() {
            ctx.fire_message(seg);
        }
    }
}

impl InboundHandler for RespCodec {
    type Read = Bytes;
    type Fire = RespCommand;

    fn channel_read(&mut self, ctx: &mut InboundContext<'_, RespCommand>, msg: Bytes) {
        if self.failed {
            return;
        }
        self.cumulation.push(msg);
        loop {
            match self.decoder.decode(self.cumulation.buf()) {
                Ok(Some(cmd)) => ctx.fire_read(cmd),
                Ok(None) => break,
                Err(e) => return self.fail(e),
            }
        }
    }

    /// Answers a protocol error found in this batch (after the replies that the
    /// handlers after this one wrote for the commands before it), then passes the
    /// event on.
    fn channel_read_complete(&mut self, ctx: &mut InboundContext<'_, RespCommand>) {
        if let Some(error) = self.pending_error.take() {
            self.answer_error(ctx, error);
        }
        ctx.fire_read_complete();
    }

    fn input_closed(&mut self, ctx: &mut InboundContext<'_, RespCommand>) {
        if !self.failed {
            loop {
                match self.decoder.decode_eof(self.cumulation.buf()) {
                    Ok(Some(cmd)) => ctx.fire_read(cmd),
                    Ok(None) => break,
                    // A client that hangs up mid-command: nothing to answer.
                    Err(e) => {
                        tracing::debug!(error = %e, "input ended inside a RESP command");
                        break;
                    }
                }
            }
        }
        ctx.fire_input_closed();
    }
}

impl OutboundHandler for RespCodec {
    type Write = RespValue;
    type Emit = OutboundBuf;

    fn write(
        &mut self,
        ctx: &mut OutboundContext<'_, OutboundBuf>,
        msg: RespValue,
        promise: Promise,
    ) {
        if let Err(e) = self.encoder.encode(msg, &mut self.out) {
            self.out.take_parts();
            return ctx.fail_promise(promise, e);
        }
        write_parts(ctx, &mut self.out, promise);
    }
}

/// Writes what `out` holds: every part but the last with a completion nobody
/// observes, the last one with `promise` (so it resolves once all went out).
pub(crate) fn write_parts(
    ctx: &mut OutboundContext<'_, OutboundBuf>,
    out: &mut EncodeBuf,
    promise: Promise,
) {
    let mut parts = out.take_parts().into_iter().peekable();
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            return ctx.write(part, promise);
        }
        drop(ctx.write_message(part));
    }
    ctx.complete_promise(promise);
}

impl From<RespCodec> for Handler {
    fn from(codec: RespCodec) -> Self {
        Handler::duplex(codec)
    }
}
