//! Message-to-message handlers: [`MessageToMessageDecoder`] (inbound) and
//! [`MessageToMessageEncoder`] (outbound), both driven by a [`Convert`] that turns
//! one message into zero or more of another type.

use std::marker::PhantomData;

use seine_channel::{
    ChannelHandler, Handler, InboundContext, InboundHandler, OutboundContext, OutboundHandler,
    Promise,
};

use crate::error::CodecError;

/// Turns one message into zero or more messages of another type: the work of a
/// [`MessageToMessageDecoder`] or [`MessageToMessageEncoder`].
///
/// `convert` pushes its output into `out` (a vector the handler reuses, so a
/// conversion allocates nothing for it after the first message). A closure does the
/// same through [`FnConvert`] ([`MessageToMessageDecoder::from_fn`]).
///
/// # Examples
///
/// ```
/// use seine_codec::{CodecError, Convert};
///
/// /// Splits a sentence into words.
/// struct Words;
/// impl Convert for Words {
///     type In = String;
///     type Out = String;
///     fn convert(&mut self, msg: String, out: &mut Vec<String>) -> Result<(), CodecError> {
///         out.extend(msg.split_whitespace().map(str::to_owned));
///         Ok(())
///     }
/// }
///
/// let mut out = Vec::new();
/// Words.convert("a b  c".into(), &mut out).unwrap();
/// assert_eq!(out, ["a", "b", "c"]);
/// ```
pub trait Convert: 'static {
    /// The message type received.
    type In: 'static;
    /// The message type produced.
    type Out: 'static;

    /// Converts `msg`, pushing zero or more messages into `out`.
    fn convert(&mut self, msg: Self::In, out: &mut Vec<Self::Out>) -> Result<(), CodecError>;
}

/// A closure as a [`Convert`]: made by [`FnConvert::new`],
/// [`MessageToMessageDecoder::from_fn`] and [`MessageToMessageEncoder::from_fn`].
///
/// # Examples
///
/// ```
/// use seine_codec::{Convert, FnConvert};
///
/// let mut double = FnConvert::new(|n: u32, out: &mut Vec<u64>| {
///     out.push(u64::from(n) * 2);
///     Ok(())
/// });
/// let mut out = Vec::new();
/// double.convert(21, &mut out).unwrap();
/// assert_eq!(out, [42]);
/// ```
pub struct FnConvert<F, I, O> {
    f: F,
    _types: PhantomData<fn(I) -> O>,
}

impl<F, I, O> FnConvert<F, I, O>
where
    F: FnMut(I, &mut Vec<O>) -> Result<(), CodecError> + 'static,
    I: 'static,
    O: 'static,
{
    /// Wraps `f`. O(1).
    ///
    /// # Examples
    ///
    /// See [`FnConvert`].
    pub fn new(f: F) -> Self {
        FnConvert {
            f,
            _types: PhantomData,
        }
    }
}

impl<F, I, O> Convert for FnConvert<F, I, O>
where
    F: FnMut(I, &mut Vec<O>) -> Result<(), CodecError> + 'static,
    I: 'static,
    O: 'static,
{
    type In = I;
    type Out = O;

    fn convert(&mut self, msg: I, out: &mut Vec<O>) -> Result<(), CodecError> {
        (self.f)(msg, out)
    }
}

/// An inbound handler that converts each message it reads into zero or more
/// messages it passes on (Netty's `MessageToMessageDecoder`).
///
/// Reads `C::In`, fires `C::Out`. The output vector is reused; each converted
/// message is one pipeline hop. A conversion error is fired as `exception_caught`
/// (the message is dropped, along with anything it produced before failing).
///
/// # Examples
///
/// ```
/// use seine_channel::Handler;
/// use seine_channel::testing::EmbeddedChannel;
/// use seine_codec::{CodecError, Corruption, MessageToMessageDecoder};
///
/// let parse = MessageToMessageDecoder::from_fn(|line: String, out: &mut Vec<u64>| {
///     let n = line.trim().parse().map_err(|e| CodecError::CorruptFrame {
///         reason: Corruption::Other(format!("not a number: {e}")),
///     })?;
///     out.push(n);
///     Ok(())
/// });
/// let mut ch = EmbeddedChannel::with_handlers([("parse", Handler::from(parse))]);
/// ch.write_inbound(String::from("42\n")).unwrap();
/// assert_eq!(ch.read_inbound::<u64>(), Some(42));
/// assert!(ch.write_inbound(String::from("x")).is_err());
/// ```
pub struct MessageToMessageDecoder<C: Convert> {
    convert: C,
    out: Vec<C::Out>,
}

impl<C: Convert> MessageToMessageDecoder<C> {
    /// Wraps `convert`. Does not allocate.
    ///
    /// # Examples
    ///
    /// ```
    /// use seine_codec::{MessageToMessageDecoder, StringDecoder};
    /// let _handler = MessageToMessageDecoder::new(StringDecoder::new());
    /// ```
    pub fn new(convert: C) -> Self {
        MessageToMessageDecoder {
            convert,
            out: Vec::new(),
        }
    }

    /// The converter. O(1).
    ///
    /// # Examples
    ///
    /// ```
    /// use seine_codec::{MessageToMessageDecoder, StringDecoder};
    /// let handler = MessageToMessageDecoder::new(StringDecoder::new());
    /// let _convert: &StringDecoder = handler.converter();
    /// ```
    pub fn converter(&self) -> &C {
        &self.convert
    }
}

impl<F, I, O> MessageToMessageDecoder<FnConvert<F, I, O>>
where
    F: FnMut(I, &mut Vec<O>) -> Result<(), CodecError> + 'static,
    I: 'static,
    O: 'static,
{
    /// A decoder running the closure `f` on each message. Does not allocate.
    ///
    /// # Examples
    ///
    /// See [`MessageToMessageDecoder`].
    pub fn from_fn(f: F) -> Self {
        Self::new(FnConvert::new(f))
    }
}

impl<C: Convert> ChannelHandler for MessageToMessageDecoder<C> {}

impl<C: Convert> InboundHandler for MessageToMessageDecoder<C> {
    type Read = C::In;
    type Fire = C::Out;

    fn channel_read(&mut self, ctx: &mut InboundContext<'_, C::Out>, msg: C::In) {
        let mut out = std::mem::take(&mut self.out);
        match self.convert.convert(msg, &mut out) {
            Ok(()) => {
                for m in out.drain(..) {
                    ctx.fire_read(m);
                }
            }
            Err(error) => {
                out.clear();
                ctx.fire_exception(error);
            }
        }
        self.out = out;
    }
}

impl<C: Convert> From<MessageToMessageDecoder<C>> for Handler {
    fn from(decoder: MessageToMessageDecoder<C>) -> Self {
        Handler::inbound(decoder)
    }
}

/// An outbound handler that converts each message written into zero or more
/// messages it writes on (Netty's `MessageToMessageEncoder`).
///
/// Accepts `C::In`, writes `C::Out`. The write's promise goes with the last message
/// produced, [`Promise::void`] with the others; a message converted into nothing
/// completes its promise at once. A conversion error fails the write: its
/// completion, or, for a void write, `exception_caught` (as Netty does).
///
/// # Examples
///
/// ```
/// use seine_buffer::Bytes;
/// use seine_channel::Handler;
/// use seine_channel::testing::EmbeddedChannel;
/// use seine_codec::MessageToMessageEncoder;
///
/// let to_bytes = MessageToMessageEncoder::from_fn(|n: u16, out: &mut Vec<Bytes>| {
///     out.push(Bytes::copy_from_slice(&n.to_be_bytes()));
///     Ok(())
/// });
/// let mut ch = EmbeddedChannel::with_handlers([("enc", Handler::from(to_bytes))]);
/// let _ = ch.write_outbound(258u16);
/// assert_eq!(ch.read_outbound_bytes(), [1, 2]);
/// ```
pub struct MessageToMessageEncoder<C: Convert> {
    convert: C,
    out: Vec<C::Out>,
}

impl<C: Convert> MessageToMessageEncoder<C> {
    /// Wraps `convert`. Does not allocate.
    ///
    /// # Examples
    ///
    /// ```
    /// use seine_codec::{MessageToMessageEncoder, StringEncoder};
    /// let _handler = MessageToMessageEncoder::new(StringEncoder::new());
    /// ```
    pub fn new(convert: C) -> Self {
        MessageToMessageEncoder {
            convert,
            out: Vec::new(),
        }
    }

    /// The converter. O(1).
    ///
    /// # Examples
    ///
    /// ```
    /// use seine_codec::{MessageToMessageEncoder, StringEncoder};
    /// let handler = MessageToMessageEncoder::new(StringEncoder::new());
    /// let _convert: &StringEncoder = handler.converter();
    /// ```
    pub fn converter(&self) -> &C {
        &self.convert
    }
}

impl<F, I, O> MessageToMessageEncoder<FnConvert<F, I, O>>
where
    F: FnMut(I, &mut Vec<O>) -> Result<(), CodecError> + 'static,
    I: 'static,
    O: 'static,
{
    /// An encoder running the closure `f` on each message written. Does not
    /// allocate.
    ///
    /// # Examples
    ///
    /// See [`MessageToMessageEncoder`].
    pub fn from_fn(f: F) -> Self {
        Self::new(FnConvert::new(f))
    }
}

impl<C: Convert> ChannelHandler for MessageToMessageEncoder<C> {}

impl<C: Convert> OutboundHandler for MessageToMessageEncoder<C> {
    type Write = C::In;
    type Emit = C::Out;

    fn write(&mut self, ctx: &mut OutboundContext<'_, C::Out>, msg: C::In, promise: Promise) {
        let mut out = std::mem::take(&mut self.out);
        match self.convert.convert(msg, &mut out) {
            Ok(()) => match out.pop() {
                Some(last) => {
                    for m in out.drain(..) {
                        ctx.write(m, Promise::void());
                    }
                    ctx.write(last, promise);
                }
                None => ctx.complete_promise(promise),
            },
            Err(error) => {
                out.clear();
                ctx.fail_promise(promise, error);
            }
        }
        self.out = out;
    }
}

impl<C: Convert> From<MessageToMessageEncoder<C>> for Handler {
    fn from(encoder: MessageToMessageEncoder<C>) -> Self {
        Handler::outbound(encoder)
    }
}
