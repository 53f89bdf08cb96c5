//! [`MessageToByteEncoder`]: the outbound handler that drives an [`Encoder`].

use seine_channel::{
    ChannelHandler, Handler, OutboundBuf, OutboundContext, OutboundHandler, Promise,
};

use crate::encoder::{EncodeBuf, Encoder};

/// Spare scratch capacity under which the encoder reserves a new block.
const MIN_SPARE: usize = 512;
/// Size of the scratch block small messages are encoded into.
const SCRATCH_BLOCK: usize = 8 * 1024;

/// Turns messages into bytes with an [`Encoder`] (Netty's `MessageToByteEncoder`).
///
/// Accepts `E::Item` and writes [`OutboundBuf`] toward the transport. The encoder
/// writes into one [`EncodeBuf`] reused for every message: bytes it produces go into
/// a scratch buffer carved out of 8 KiB blocks (so small messages cost no allocation
/// each), buffers it passes with [`EncodeBuf::push_bytes`] and friends are not
/// copied. The parts are written in order; the write's promise goes with the last
/// part and [`Promise::void`] with the others. A message that encodes to nothing
/// completes its promise at once.
///
/// # Errors
///
/// When [`Encoder::encode`] fails, whatever it wrote is dropped and the write fails
/// with the [`CodecError`](crate::CodecError): its completion does, or, for a void
/// write, the error is fired as `exception_caught` (which closes the channel unless
/// a handler takes it), as Netty does.
///
/// # Examples
///
/// ```
/// use seine_channel::Handler;
/// use seine_channel::testing::EmbeddedChannel;
/// use seine_codec::{CodecError, EncodeBuf, Encoder, MessageToByteEncoder};
///
/// struct Greeting;
/// impl Encoder for Greeting {
///     type Item = &'static str;
///     fn encode(&mut self, name: &'static str, dst: &mut EncodeBuf) -> Result<(), CodecError> {
///         dst.put_slice(b"hello, ");
///         dst.put_slice(name.as_bytes());
///         Ok(())
///     }
/// }
///
/// let mut ch = EmbeddedChannel::with_handlers([
///     ("greet", Handler::from(MessageToByteEncoder::new(Greeting))),
/// ]);
/// let done = ch.write_outbound("world");
/// assert!(matches!(done.result(), Some(Ok(()))));
/// assert_eq!(ch.read_outbound_bytes(), b"hello, world");
/// ```
pub struct MessageToByteEncoder<E: Encoder> {
    encoder: E,
    buf: EncodeBuf,
}

impl<E: Encoder> MessageToByteEncoder<E> {
    /// Wraps `encoder`. Does not allocate (the scratch buffer is allocated with the
    /// first message).
    ///
    /// # Examples
    ///
    /// ```
    /// use seine_codec::{CodecError, EncodeBuf, Encoder, MessageToByteEncoder};
    /// struct Nothing;
    /// impl Encoder for Nothing {
    ///     type Item = ();
    ///     fn encode(&mut self, _: (), _: &mut EncodeBuf) -> Result<(), CodecError> { Ok(()) }
    /// }
    /// let _handler = MessageToByteEncoder::new(Nothing);
    /// ```
    pub fn new(encoder: E) -> Self {
        MessageToByteEncoder {
            encoder,
            buf: EncodeBuf::new(),
        }
    }

    /// The encoder. O(1).
    ///
    /// # Examples
    ///
    /// ```
    /// use seine_codec::{CodecError, EncodeBuf, Encoder, MessageToByteEncoder};
    /// struct Nothing;
    /// impl Encoder for Nothing {
    ///     type Item = ();
    ///     fn encode(&mut self, _: (), _: &mut EncodeBuf) -> Result<(), CodecError> { Ok(()) }
    /// }
    /// let handler = MessageToByteEncoder::new(Nothing);
    /// let _encoder: &Nothing = handler.encoder();
    /// ```
    pub fn encoder(&self) -> &E {
        &self.encoder
    }

    /// The encoder, mutably. O(1).
    ///
    /// # Examples
    ///
    /// ```
    /// use seine_codec::{CodecError, EncodeBuf, Encoder, MessageToByteEncoder};
    /// struct Nothing;
    /// impl Encoder for Nothing {
    ///     type Item = ();
    ///     fn encode(&mut self, _: (), _: &mut EncodeBuf) -> Result<(), CodecError> { Ok(()) }
    /// }
    /// let mut handler = MessageToByteEncoder::new(Nothing);
    /// let _encoder: &mut Nothing = handler.encoder_mut();
    /// ```
    pub fn encoder_mut(&mut self) -> &mut E {
        &mut self.encoder
    }
}

impl<E: Encoder> ChannelHandler for MessageToByteEncoder<E> {}

impl<E: Encoder> OutboundHandler for MessageToByteEncoder<E> {
    type Write = E::Item;
    type Emit = OutboundBuf;

    fn write(
        &mut self,
        ctx: &mut OutboundContext<'_, OutboundBuf>,
        msg: E::Item,
        promise: Promise,
    ) {
        let scratch = self.buf.scratch();
        if scratch.capacity() - scratch.len() < MIN_SPARE {
            // A fresh block shared by the next small messages (the old one stays
            // alive as long as parts cut from it do).
            scratch.reserve(SCRATCH_BLOCK);
        }
        match self.encoder.encode(msg, &mut self.buf) {
            Ok(()) => {
                let mut parts = self.buf.take_parts();
                let Some(last) = parts.pop() else {
                    ctx.complete_promise(promise);
                    return;
                };
                for part in parts {
                    ctx.write(part, Promise::void());
                }
                ctx.write(last, promise);
            }
            Err(error) => {
                drop(self.buf.take_parts());
                ctx.fail_promise(promise, error);
            }
        }
    }
}

impl<E: Encoder> From<MessageToByteEncoder<E>> for Handler {
    fn from(encoder: MessageToByteEncoder<E>) -> Self {
        Handler::outbound(encoder)
    }
}
