//! [`ByteToMessageDecoder`]: the inbound handler that drives a [`Decoder`], and
//! [`ByteToMessageCodec`], the same plus an [`Encoder`] in one pipeline slot.
//!
//! # Writing a custom codec
//!
//! Implement [`Decoder`] (cut messages out of the accumulated bytes) and
//! [`Encoder`] (turn messages into bytes), then put them in a pipeline. Here a
//! protocol of `u32` numbers, each as 4 big-endian bytes:
//!
//! ```
//! use seine_buffer::{Buf, BufMut, Bytes, CompositeBuf};
//! use seine_channel::Handler;
//! use seine_channel::testing::EmbeddedChannel;
//! use seine_codec::{ByteToMessageCodec, CodecError, Decoder, EncodeBuf, Encoder};
//!
//! struct U32Decoder;
//! impl Decoder for U32Decoder {
//!     type Item = u32;
//!     fn decode(&mut self, src: &mut CompositeBuf) -> Result<Option<u32>, CodecError> {
//!         match src.get_u32_at(0) {
//!             Some(n) => {
//!                 src.advance(4); // consume what was decoded
//!                 Ok(Some(n))
//!             }
//!             None => Ok(None), // wait for more bytes
//!         }
//!     }
//! }
//!
//! struct U32Encoder;
//! impl Encoder for U32Encoder {
//!     type Item = u32;
//!     fn encode(&mut self, n: u32, dst: &mut EncodeBuf) -> Result<(), CodecError> {
//!         dst.scratch().put_u32(n); // small: written into the scratch buffer
//!         Ok(())
//!     }
//! }
//!
//! let codec = ByteToMessageCodec::new(U32Decoder, U32Encoder);
//! let mut ch = EmbeddedChannel::with_handlers([("u32", Handler::from(codec))]);
//!
//! // Two reads that cut a number in half.
//! ch.write_inbound(Bytes::from_static(&[0, 0, 0, 7, 0, 0])).unwrap();
//! ch.write_inbound(Bytes::from_static(&[1, 0])).unwrap();
//! assert_eq!(ch.read_inbound::<u32>(), Some(7));
//! assert_eq!(ch.read_inbound::<u32>(), Some(256));
//!
//! ch.write_outbound(42u32);
//! assert_eq!(ch.read_outbound_bytes(), [0, 0, 0, 42]);
//! ```

use std::any::type_name;

use seine_buffer::{Bytes, Cumulation, CumulationStrategy};
use seine_channel::{
    ChannelHandler, Context, Handler, InboundContext, InboundHandler, OutboundBuf, OutboundContext,
    OutboundHandler, Promise,
};

use crate::decoder::{AfterError, Decoder};
use crate::encoder::Encoder;
use crate::error::CodecError;
use crate::message_to_byte::MessageToByteEncoder;

/// How many messages in a row `decode_eof` may return without consuming input
/// before the driver calls it a [`CodecError::DecoderMadeNoProgress`].
const MAX_EOF_MESSAGES_WITHOUT_INPUT: usize = 64;

/// Turns a stream of reads (`Bytes`) into messages with a [`Decoder`] (Netty's
/// `ByteToMessageDecoder`).
///
/// Each read is added to a [`Cumulation`] (adaptive by default: small reads are
/// copied into a merge buffer, reads of 1 KiB or more are kept as segments, so
/// large frames are never copied; see [`with_cumulation`](Self::with_cumulation)).
/// Then [`Decoder::decode`] is called until it returns `None`, and every message is
/// passed on with `fire_read` as soon as it is decoded.
///
/// # Events
///
/// * `channel_read`: accumulate, decode, fire each message.
/// * `channel_read_complete`: if nothing was decoded in this batch and bytes wait,
///   asks for another read (`ctx.read()`, so a channel with auto-read off does not
///   stall on a partial frame), then passes the event on.
/// * `input_closed` and `channel_inactive`: [`Decoder::decode_eof`] runs (once per
///   channel) until it returns `None`, then the event is passed on. Bytes left after
///   that are dropped; the frame decoders report them as
///   [`CodecError::TruncatedFrame`].
/// * `handler_removed`: the bytes still accumulated are passed on to the next
///   handler, each segment as one `Bytes` read (without copying), followed by
///   `channel_read_complete`, so the handler that replaces this one in a protocol
///   upgrade sees them. `Bytes` is what the handler after a removed decoder must
///   read: the pipeline checked that it reads what the decoder read. If a handler
///   removes the decoder while it decodes (from the `fire_read` of a message), the
///   decoder stops at once and the rest goes on this way.
///
/// # Errors
///
/// A decoder error is fired as `exception_caught` (the [`CodecError`] converted
/// into [`seine_channel::Error`]; get it back with `error.downcast_ref::<CodecError>()`).
/// If no handler takes it, the pipeline's tail closes the channel after flushing
/// what was written. What happens to the accumulated bytes, by default
/// ([`AfterError::DecodeOn`]):
///
/// * [`CodecError::CorruptFrame`] and [`CodecError::DecoderMadeNoProgress`]: the
///   stream is out of sync, so everything accumulated is discarded;
/// * any other error after which the decoder consumed nothing: discarded too (those
///   bytes cannot be decoded, and decoding them again would fail again);
/// * otherwise (a [`CodecError::TooLongFrame`] whose bytes the decoder is skipping)
///   the bytes are kept.
///
/// Decoding goes on after an error only if the channel is still open (a handler
/// took the error, or `close_on_exception` is off), and at once only with
/// [`AfterError::DecodeOn`] (the default). A decoder whose
/// [`Decoder::after_error`] is [`AfterError::WaitForNextRead`] gets Netty's
/// behaviour instead: decoding stops for this read, nothing is discarded but what
/// the decoder skipped, and the rest is decoded when the next read arrives.
///
/// A decoder may consume bytes without returning a message (skipping padding or a
/// frame it discards): it is called again as long as it consumes something, as in
/// Netty; `Ok(None)` with nothing consumed means it waits for more input.
///
/// A decoder that returns a message without consuming any input is a bug that would
/// loop forever: the message is dropped, [`CodecError::DecoderMadeNoProgress`] is
/// fired and decoding stops until the next read. (At end of input `decode_eof` may
/// return messages without consuming input, to flush what it holds; after 64 in a
/// row the same error stops it.)
///
/// # Cost
///
/// Per read: what the cumulation strategy copies (nothing for reads of 1 KiB or
/// more by default), plus the decoder's work. Per message: one pipeline hop, and a
/// walk of the handler names to see whether this decoder was removed (a few string
/// comparisons). Allocates nothing per message itself.
///
/// # Examples
///
/// ```
/// use seine_buffer::{Bytes, CompositeBuf, CumulationStrategy};
/// use seine_channel::Handler;
/// use seine_channel::testing::EmbeddedChannel;
/// use seine_codec::{ByteToMessageDecoder, LineDecoder};
///
/// let decoder = ByteToMessageDecoder::with_cumulation(
///     LineDecoder::new(1024),
///     CumulationStrategy::Compose,
/// );
/// let mut ch = EmbeddedChannel::with_handlers([("lines", Handler::from(decoder))]);
/// ch.write_inbound(Bytes::from_static(b"hello\r\nwor")).unwrap();
/// ch.write_inbound(Bytes::from_static(b"ld\n")).unwrap();
/// assert_eq!(ch.read_inbound::<CompositeBuf>().unwrap(), b"hello"[..]);
/// assert_eq!(ch.read_inbound::<CompositeBuf>().unwrap(), b"world"[..]);
/// ```
pub struct ByteToMessageDecoder<D: Decoder> {
    decoder: D,
    cumulation: Cumulation,
    /// Whether a message was fired since the last `channel_read_complete`.
    fired: bool,
    /// Whether `decode_eof` has run.
    eof_done: bool,
}

impl<D: Decoder> ByteToMessageDecoder<D> {
    /// Wraps `decoder` with the default (adaptive) cumulation. Does not allocate.
    ///
    /// # Examples
    ///
    /// ```
    /// use seine_codec::{ByteToMessageDecoder, FixedLengthDecoder};
    /// let handler = ByteToMessageDecoder::new(FixedLengthDecoder::builder().frame_length(4).build().unwrap());
    /// assert_eq!(handler.decoder().frame_length(), 4);
    /// ```
    pub fn new(decoder: D) -> Self {
        Self::with_cumulation(decoder, CumulationStrategy::default())
    }

    /// Wraps `decoder`, accumulating reads with `strategy` (see
    /// [`CumulationStrategy`] for what each copies). Does not allocate.
    ///
    /// # Examples
    ///
    /// ```
    /// use seine_buffer::CumulationStrategy;
    /// use seine_codec::{ByteToMessageDecoder, FixedLengthDecoder};
    /// let handler = ByteToMessageDecoder::with_cumulation(
    ///     FixedLengthDecoder::builder().frame_length(4).build().unwrap(),
    ///     CumulationStrategy::Merge,
    /// );
    /// assert_eq!(handler.cumulation().strategy(), CumulationStrategy::Merge);
    /// ```
    pub fn with_cumulation(decoder: D, strategy: CumulationStrategy) -> Self {
        ByteToMessageDecoder {
            decoder,
            cumulation: Cumulation::new(strategy),
            fired: false,
            eof_done: false,
        }
    }

    /// The decoder. O(1).
    ///
    /// # Examples
    ///
    /// ```
    /// use seine_codec::{ByteToMessageDecoder, LineDecoder};
    /// let handler = ByteToMessageDecoder::new(LineDecoder::new(80));
    /// assert_eq!(handler.decoder().max_frame_length(), 80);
    /// ```
    pub fn decoder(&self) -> &D {
        &self.decoder
    }

    /// The decoder, mutably. O(1).
    ///
    /// # Examples
    ///
    /// ```
    /// use seine_codec::{ByteToMessageDecoder, LineDecoder};
    /// let mut handler = ByteToMessageDecoder::new(LineDecoder::new(80));
    /// let _decoder: &mut LineDecoder = handler.decoder_mut();
    /// ```
    pub fn decoder_mut(&mut self) -> &mut D {
        &mut self.decoder
    }

    /// What is accumulated, with its running [`Cumulation::copied_bytes`]. O(1).
    ///
    /// # Examples
    ///
    /// ```
    /// use seine_codec::{ByteToMessageDecoder, LineDecoder};
    /// let handler = ByteToMessageDecoder::new(LineDecoder::new(80));
    /// assert!(handler.cumulation().is_empty());
    /// assert_eq!(handler.cumulation().copied_bytes(), 0);
    /// ```
    pub fn cumulation(&self) -> &Cumulation {
        &self.cumulation
    }

    /// Unwraps the decoder, dropping what is accumulated. O(1).
    ///
    /// # Examples
    ///
    /// ```
    /// use seine_codec::{ByteToMessageDecoder, FixedLengthDecoder};
    /// let decoder = ByteToMessageDecoder::new(FixedLengthDecoder::builder().frame_length(2).build().unwrap()).into_decoder();
    /// assert_eq!(decoder.frame_length(), 2);
    /// ```
    pub fn into_decoder(self) -> D {
        self.decoder
    }

    /// Whether decoding must stop now: the channel closed (everything accumulated
    /// is dropped) or this handler was removed (`handler_removed` passes it on).
    fn must_stop(&mut self, ctx: &mut Context<'_>) -> bool {
        if ctx.channel().is_closed() {
            self.cumulation.clear();
            return true;
        }
        ctx.is_removed()
    }

    /// Reports `error`; returns whether decoding may go on.
    fn fail(&mut self, ctx: &mut Context<'_>, error: CodecError, before: usize) -> bool {
        if self.decoder.after_error() == AfterError::WaitForNextRead {
            // Netty's: keep what is left for the next read, stop this one.
            ctx.fire_exception(error);
            self.must_stop(ctx);
            return false;
        }
        let progressed = self.cumulation.len() < before;
        let out_of_sync = matches!(
            error,
            CodecError::CorruptFrame { .. } | CodecError::DecoderMadeNoProgress { .. }
        );
        if out_of_sync || !progressed {
            self.cumulation.clear();
        }
        ctx.fire_exception(error);
        !self.must_stop(ctx)
    }

    /// Decodes and fires messages until the decoder needs more input.
    fn call_decode(&mut self, ctx: &mut InboundContext<'_, D::Item>) {
        while !self.cumulation.is_empty() {
            let before = self.cumulation.len();
            match self.decoder.decode(self.cumulation.buf()) {
                Ok(Some(item)) => {
                    if self.cumulation.len() == before {
                        drop(item);
                        let error = CodecError::DecoderMadeNoProgress {
                            decoder: type_name::<D>(),
                        };
                        self.fail(ctx, error, before);
                        return;
                    }
                    self.fired = true;
                    ctx.fire_read(item);
                    if self.must_stop(ctx) {
                        return;
                    }
                }
                // Bytes consumed (skipped) without a message: call again, as Netty
                // does; the loop ends because every turn consumes something.
                Ok(None) if self.cumulation.len() < before => {}
                Ok(None) => {
                    // Waiting for more: a small leftover should not pin the read
                    // it came in (see `Cumulation::settle`).
                    self.cumulation.settle();
                    return;
                }
                Err(error) => {
                    if !self.fail(ctx, error, before) {
                        return;
                    }
                }
            }
        }
    }

    /// End of input: runs `decode_eof` until it returns `None` (once per channel).
    fn decode_eof(&mut self, ctx: &mut InboundContext<'_, D::Item>) {
        if self.eof_done {
            return;
        }
        self.eof_done = true;
        let mut fired = false;
        let mut idle = 0;
        loop {
            let before = self.cumulation.len();
            match self.decoder.decode_eof(self.cumulation.buf()) {
                Ok(Some(item)) => {
                    if self.cumulation.len() == before {
                        idle += 1;
                        if idle > MAX_EOF_MESSAGES_WITHOUT_INPUT {
                            drop(item);
                            let error = CodecError::DecoderMadeNoProgress {
                                decoder: type_name::<D>(),
                            };
                            self.fail(ctx, error, before);
                            break;
                        }
                    } else {
                        idle = 0;
                    }
                    fired = true;
                    ctx.fire_read(item);
                    if ctx.is_removed() {
                        return;
                    }
                }
                Ok(None) => break,
                Err(error) => {
                    let progressed = self.cumulation.len() < before;
                    if !self.fail(ctx, error, before) || !progressed {
                        break;
                    }
                }
            }
        }
        self.cumulation.clear();
        if fired {
            ctx.fire_read_complete();
        }
    }
}

impl<D: Decoder> ChannelHandler for ByteToMessageDecoder<D> {
    /// Passes the accumulated bytes on, one `Bytes` per segment (no copy), then
    /// `channel_read_complete`.
    fn handler_removed(&mut self, ctx: &mut Context<'_>) {
        let rest = self.cumulation.take_all();
        if rest.is_empty() {
            return;
        }
        for segment in rest.into_segments() {
            ctx.fire_message(segment);
        }
        ctx.fire_read_complete();
    }
}

impl<D: Decoder> InboundHandler for ByteToMessageDecoder<D> {
    type Read = Bytes;
    type Fire = D::Item;

    fn channel_read(&mut self, ctx: &mut InboundContext<'_, D::Item>, msg: Bytes) {
        self.cumulation.push(msg);
        self.call_decode(ctx);
    }

    fn channel_read_complete(&mut self, ctx: &mut InboundContext<'_, D::Item>) {
        if !self.fired && !self.cumulation.is_empty() && !ctx.is_auto_read() {
            // A partial frame waits: make sure more input comes with auto-read
            // off (Netty does the same).
            ctx.read();
        }
        self.fired = false;
        ctx.fire_read_complete();
    }

    fn input_closed(&mut self, ctx: &mut InboundContext<'_, D::Item>) {
        self.decode_eof(ctx);
        ctx.fire_input_closed();
    }

    fn channel_inactive(&mut self, ctx: &mut InboundContext<'_, D::Item>) {
        self.decode_eof(ctx);
        ctx.fire_inactive();
    }
}

impl<D: Decoder> From<ByteToMessageDecoder<D>> for Handler {
    fn from(decoder: ByteToMessageDecoder<D>) -> Self {
        Handler::inbound(decoder)
    }
}

/// A [`Decoder`] and an [`Encoder`] in one pipeline slot (Netty's
/// `ByteToMessageCodec`): reads `Bytes` and fires `D::Item` like a
/// [`ByteToMessageDecoder`], accepts `E::Item` and writes [`OutboundBuf`] like a
/// [`MessageToByteEncoder`]. Both halves behave (and cost) exactly as those do.
///
/// # Examples
///
/// ```
/// use seine_buffer::{Bytes, CompositeBuf};
/// use seine_channel::Handler;
/// use seine_channel::testing::EmbeddedChannel;
/// use seine_codec::{ByteToMessageCodec, CodecError, EncodeBuf, Encoder, LineDecoder};
///
/// struct LineEncoder;
/// impl Encoder for LineEncoder {
///     type Item = String;
///     fn encode(&mut self, line: String, dst: &mut EncodeBuf) -> Result<(), CodecError> {
///         dst.put_slice(line.as_bytes());
///         dst.put_slice(b"\r\n");
///         Ok(())
///     }
/// }
///
/// let codec = ByteToMessageCodec::new(LineDecoder::new(1024), LineEncoder);
/// let mut ch = EmbeddedChannel::with_handlers([("lines", Handler::from(codec))]);
/// ch.write_inbound(Bytes::from_static(b"ping\n")).unwrap();
/// assert_eq!(ch.read_inbound::<CompositeBuf>().unwrap(), b"ping"[..]);
/// ch.write_outbound(String::from("pong"));
/// assert_eq!(ch.read_outbound_bytes(), b"pong\r\n");
/// ```
pub struct ByteToMessageCodec<D: Decoder, E: Encoder> {
    decoder: ByteToMessageDecoder<D>,
    encoder: MessageToByteEncoder<E>,
}

impl<D: Decoder, E: Encoder> ByteToMessageCodec<D, E> {
    /// Combines `decoder` (with the default adaptive cumulation) and `encoder`.
    /// Does not allocate.
    ///
    /// # Examples
    ///
    /// ```
    /// use seine_codec::{
    ///     ByteToMessageCodec, CodecError, EncodeBuf, Encoder, FixedLengthDecoder,
    /// };
    ///
    /// /// Writes each `Vec<u8>` as it is.
    /// struct Raw;
    /// impl Encoder for Raw {
    ///     type Item = Vec<u8>;
    ///     fn encode(&mut self, v: Vec<u8>, dst: &mut EncodeBuf) -> Result<(), CodecError> {
    ///         dst.put_slice(&v);
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let decoder = FixedLengthDecoder::builder().frame_length(8).build()?;
    /// let codec = ByteToMessageCodec::new(decoder, Raw);
    /// assert_eq!(codec.decoder().decoder().frame_length(), 8);
    /// # Ok::<(), CodecError>(())
    /// ```
    pub fn new(decoder: D, encoder: E) -> Self {
        Self::from_parts(
            ByteToMessageDecoder::new(decoder),
            MessageToByteEncoder::new(encoder),
        )
    }

    /// Combines two configured handlers (for example a decoder with
    /// [`ByteToMessageDecoder::with_cumulation`]). O(1).
    ///
    /// # Examples
    ///
    /// ```
    /// use seine_buffer::CumulationStrategy;
    /// use seine_codec::{
    ///     ByteToMessageCodec, ByteToMessageDecoder, CodecError, EncodeBuf, Encoder,
    ///     LineDecoder, MessageToByteEncoder,
    /// };
    ///
    /// /// Writes each `Vec<u8>` as it is.
    /// struct Raw;
    /// impl Encoder for Raw {
    ///     type Item = Vec<u8>;
    ///     fn encode(&mut self, v: Vec<u8>, dst: &mut EncodeBuf) -> Result<(), CodecError> {
    ///         dst.put_slice(&v);
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let codec = ByteToMessageCodec::from_parts(
    ///     ByteToMessageDecoder::with_cumulation(LineDecoder::new(80), CumulationStrategy::Merge),
    ///     MessageToByteEncoder::new(Raw),
    /// );
    /// assert_eq!(codec.decoder().cumulation().strategy(), CumulationStrategy::Merge);
    /// ```
    pub fn from_parts(decoder: ByteToMessageDecoder<D>, encoder: MessageToByteEncoder<E>) -> Self {
        ByteToMessageCodec { decoder, encoder }
    }

    /// The decoding half. O(1).
    ///
    /// # Examples
    ///
    /// See [`new`](Self::new).
    pub fn decoder(&self) -> &ByteToMessageDecoder<D> {
        &self.decoder
    }

    /// The encoding half. O(1).
    ///
    /// # Examples
    ///
    /// ```
    /// use seine_codec::{ByteToMessageCodec, CodecError, EncodeBuf, Encoder, LineDecoder};
    ///
    /// /// Writes each `Vec<u8>` as it is.
    /// struct Raw;
    /// impl Encoder for Raw {
    ///     type Item = Vec<u8>;
    ///     fn encode(&mut self, v: Vec<u8>, dst: &mut EncodeBuf) -> Result<(), CodecError> {
    ///         dst.put_slice(&v);
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let codec = ByteToMessageCodec::new(LineDecoder::new(80), Raw);
    /// let _encoder: &Raw = codec.encoder().encoder();
    /// ```
    pub fn encoder(&self) -> &MessageToByteEncoder<E> {
        &self.encoder
    }
}

impl<D: Decoder, E: Encoder> ChannelHandler for ByteToMessageCodec<D, E> {
    fn handler_added(&mut self, ctx: &mut Context<'_>) {
        self.decoder.handler_added(ctx);
    }

    fn handler_removed(&mut self, ctx: &mut Context<'_>) {
        self.decoder.handler_removed(ctx);
    }
}

impl<D: Decoder, E: Encoder> InboundHandler for ByteToMessageCodec<D, E> {
    type Read = Bytes;
    type Fire = D::Item;

    fn channel_read(&mut self, ctx: &mut InboundContext<'_, D::Item>, msg: Bytes) {
        self.decoder.channel_read(ctx, msg);
    }

    fn channel_read_complete(&mut self, ctx: &mut InboundContext<'_, D::Item>) {
        self.decoder.channel_read_complete(ctx);
    }

    fn input_closed(&mut self, ctx: &mut InboundContext<'_, D::Item>) {
        self.decoder.input_closed(ctx);
    }

    fn channel_inactive(&mut self, ctx: &mut InboundContext<'_, D::Item>) {
        self.decoder.channel_inactive(ctx);
    }
}

impl<D: Decoder, E: Encoder> OutboundHandler for ByteToMessageCodec<D, E> {
    type Write = E::Item;
    type Emit = OutboundBuf;

    fn write(
        &mut self,
        ctx: &mut OutboundContext<'_, OutboundBuf>,
        msg: E::Item,
        promise: Promise,
    ) {
        self.encoder.write(ctx, msg, promise);
    }
}

impl<D: Decoder, E: Encoder> From<ByteToMessageCodec<D, E>> for Handler {
    fn from(codec: ByteToMessageCodec<D, E>) -> Self {
        Handler::duplex(codec)
    }
}
