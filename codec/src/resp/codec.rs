//! [`RespCodec`]: the RESP server codec as one duplex pipeline handler.

use seine_buffer::{Bytes, BytesMut, CompositeBuf, Cumulation, CumulationStrategy};
use seine_channel::{
    ChannelHandler, Context, Handler, InboundContext, InboundHandler, OutboundBuf, OutboundContext,
    OutboundHandler, Promise,
};

use super::decoder::RespCommandDecoder;
use super::encoder::{Sink, check, encode_into};
use super::value::{RespCommand, RespValue};
use crate::decoder::Decoder;
use crate::encoder::EncodeBuf;
use crate::error::CodecError;

/// Replies of at least this many bytes leave at once instead of waiting for the
/// flush, so the outbound buffer (and its water marks) see them.
const EMIT_AT: usize = 64 * 1024;

/// Bulk strings shorter than this are copied into the reply buffer; longer ones
/// are written as their own segments.
const COPY_BELOW: usize = 64;

/// Replies written since the last flush, gathered into one write: produced bytes in
/// `scratch`, large bulk strings (uncopied) and sealed scratch pieces in `parts`.
#[derive(Default)]
struct Replies {
    scratch: BytesMut,
    parts: CompositeBuf,
    /// The promise of the last reply gathered. The earlier ones are not passed on:
    /// write completions resolve in order, so they resolve with this one.
    promise: Option<Promise>,
}

impl Sink for Replies {
    #[inline]
    fn put(&mut self, src: &[u8]) {
        self.scratch.extend_from_slice(src);
    }

    #[inline]
    fn push(&mut self, b: &Bytes) {
        if b.len() < COPY_BELOW {
            self.scratch.extend_from_slice(b);
        } else {
            self.seal();
            self.parts.push(b.clone());
        }
    }
}

impl Replies {
    fn seal(&mut self) {
        if !self.scratch.is_empty() {
            self.parts.push(self.scratch.split().freeze());
        }
    }

    fn len(&self) -> usize {
        self.parts.len() + self.scratch.len()
    }

    /// Room for the next replies without reallocating on every one (the buffer is
    /// reclaimed, not reallocated, once the previous writes have gone out).
    #[inline]
    fn reserve(&mut self) {
        if self.scratch.capacity() - self.scratch.len() < 512 {
            self.scratch.reserve(8 * 1024);
        }
    }

    /// Everything gathered, as one buffer (no copy), with the last promise.
    fn take(&mut self) -> Option<(OutboundBuf, Option<Promise>)> {
        if self.len() == 0 {
            return None;
        }
        let buf = if self.parts.is_empty() {
            OutboundBuf::Bytes(self.scratch.split().freeze())
        } else {
            self.seal();
            OutboundBuf::Composite(std::mem::take(&mut self.parts))
        };
        Some((buf, self.promise.take()))
    }
}

/// A Redis server's codec in one pipeline slot: reads bytes and fires
/// [`RespCommand`]s, accepts [`RespValue`] replies and writes their bytes.
///
/// * Inbound: received bytes accumulate in a [`Cumulation`] (adaptive by default:
///   small reads are merged, so pipelined commands lie in one segment and their
///   arguments are views of it) and are cut by a [`RespCommandDecoder`].
/// * Outbound: replies are encoded as [`RespEncoder`](super::RespEncoder) does
///   (a bulk string of 64 bytes or more is written without being copied) into one
///   buffer that is written when the channel flushes (at the end of the read
///   batch, for replies written while reading) or when it reaches 64 KiB: a
///   pipelined batch of replies is one write, not one per reply. Each reply's
///   completion resolves when the write holding it does.
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
/// use seine_channel::testing::EmbeddedChannel;
/// use seine_codec::resp::{RespCodec, RespCommand, RespValue};
///
/// struct Pong;
/// impl ChannelHandler for Pong {}
/// impl InboundHandler for Pong {
///     type Read = RespCommand;
///     type Fire = RespCommand;
///     fn channel_read(&mut self, ctx: &mut InboundContext<'_, RespCommand>, cmd: RespCommand) {
///         let reply = if cmd.is("PING") { RespValue::simple("PONG") } else { RespValue::error("ERR unknown") };
///         ctx.write_void(reply);
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
    cumulation: Cumulation,
    replies: Replies,
    failed: bool,
    /// A protocol error to answer once the replies to the commands before it are
    /// written (at the end of the read batch).
    pending_error: Option<CodecError>,
}

/// Configures a [`RespCodec`]; made by [`RespCodec::builder`]. Defaults: as
/// [`RespCodec::new`].
///
/// ```
/// use seine_buffer::CumulationStrategy;
/// use seine_codec::CodecError;
/// use seine_codec::resp::{RespCodec, RespCommandDecoder};
///
/// let codec = RespCodec::builder()
///     .decoder(RespCommandDecoder::builder().max_bulk_length(1 << 20).build()?)
///     .cumulation(CumulationStrategy::Merge)
///     .build()?;
/// assert_eq!(codec.decoder().max_bulk_length(), 1 << 20);
/// assert_eq!(codec.cumulation(), CumulationStrategy::Merge);
/// # Ok::<(), CodecError>(())
/// ```
#[derive(Debug, Default)]
#[must_use = "call build() to get the codec"]
pub struct RespCodecBuilder {
    decoder: Option<RespCommandDecoder>,
    cumulation: CumulationStrategy,
}

impl RespCodecBuilder {
    /// The command decoder (to change its limits).
    pub fn decoder(mut self, decoder: RespCommandDecoder) -> Self {
        self.decoder = Some(decoder);
        self
    }

    /// How received bytes are accumulated (adaptive by default).
    pub fn cumulation(mut self, strategy: CumulationStrategy) -> Self {
        self.cumulation = strategy;
        self
    }

    /// Builds the codec.
    ///
    /// # Errors
    ///
    /// None today; the `Result` keeps one convention across the codecs' builders.
    pub fn build(self) -> Result<RespCodec, CodecError> {
        Ok(RespCodec::from_parts(
            self.decoder.unwrap_or_default(),
            self.cumulation,
        ))
    }
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
    /// let _handler: seine_channel::Handler = seine_codec::resp::RespCodec::new().into();
    /// ```
    pub fn new() -> Self {
        Self::from_parts(RespCommandDecoder::new(), CumulationStrategy::default())
    }

    /// A codec with the given decoder (to change its limits) and the default
    /// cumulation: the same as `RespCodec::builder().decoder(decoder).build()`,
    /// which cannot fail.
    ///
    /// ```
    /// use seine_codec::resp::{RespCodec, RespCommandDecoder};
    /// let decoder = RespCommandDecoder::builder().max_bulk_length(1 << 20).build().unwrap();
    /// let codec = RespCodec::with_decoder(decoder);
    /// assert_eq!(codec.decoder().max_bulk_length(), 1 << 20);
    /// ```
    pub fn with_decoder(decoder: RespCommandDecoder) -> Self {
        Self::from_parts(decoder, CumulationStrategy::default())
    }

    /// A builder with the defaults of [`new`](Self::new).
    pub fn builder() -> RespCodecBuilder {
        RespCodecBuilder::default()
    }

    fn from_parts(decoder: RespCommandDecoder, cumulation: CumulationStrategy) -> Self {
        RespCodec {
            decoder,
            cumulation: Cumulation::new(cumulation),
            replies: Replies::default(),
            failed: false,
            pending_error: None,
        }
    }

    /// The command decoder (its limits).
    pub fn decoder(&self) -> &RespCommandDecoder {
        &self.decoder
    }

    /// How received bytes are accumulated.
    pub fn cumulation(&self) -> CumulationStrategy {
        self.cumulation.strategy()
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
        let text: Vec<u8> = text
            .bytes()
            .filter(|b| *b != b'\r' && *b != b'\n')
            .collect();
        encode_into(&RespValue::Error(Bytes::from(text)), &mut self.replies);
        self.emit(ctx);
        ctx.flush();
        ctx.close();
        ctx.fire_exception(error);
    }

    /// Writes the gathered replies from this handler's position.
    fn emit(&mut self, ctx: &mut Context<'_>) {
        if let Some((buf, _promise)) = self.replies.take() {
            // A new write after the gathered ones: their completions resolve with it.
            ctx.write_void(buf);
        }
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
        // A partial command left: copy it out of the read if small.
        self.cumulation.settle();
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
        if let Err(e) = check(&msg) {
            return ctx.fail_promise(promise, e);
        }
        self.replies.reserve();
        encode_into(&msg, &mut self.replies);
        self.replies.promise = Some(promise);
        if self.replies.len() >= EMIT_AT {
            self.emit_out(ctx);
        }
    }

    fn flush(&mut self, ctx: &mut OutboundContext<'_, OutboundBuf>) {
        self.emit_out(ctx);
        ctx.flush();
    }

    fn close(&mut self, ctx: &mut OutboundContext<'_, OutboundBuf>) {
        self.emit_out(ctx);
        ctx.close();
    }

    fn shutdown_output(&mut self, ctx: &mut OutboundContext<'_, OutboundBuf>) {
        self.emit_out(ctx);
        ctx.shutdown_output();
    }
}

impl RespCodec {
    /// Writes the gathered replies with the last reply's promise.
    fn emit_out(&mut self, ctx: &mut OutboundContext<'_, OutboundBuf>) {
        match self.replies.take() {
            Some((buf, Some(promise))) => ctx.write(buf, promise),
            Some((buf, None)) => ctx.write_void(buf),
            None => {}
        }
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
        ctx.write_void(part);
    }
    ctx.complete_promise(promise);
}

impl From<RespCodec> for Handler {
    fn from(codec: RespCodec) -> Self {
        Handler::duplex(codec)
    }
}
