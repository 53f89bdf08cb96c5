//! [`StringDecoder`] (bytes to `String`) and [`StringEncoder`] (`String` to bytes).
//!
//! Both are UTF-8 only (Netty's take a charset). Put a frame decoder before the
//! string decoder: it decodes each message it receives as one string.

use std::marker::PhantomData;

use seine_buffer::{Bytes, CompositeBuf};
use seine_channel::Handler;

use crate::error::CodecError;
use crate::message_to_message::{Convert, MessageToMessageDecoder, MessageToMessageEncoder};

/// Decodes each message (a frame) into a `String` (Netty's `StringDecoder`, UTF-8).
///
/// Reads `M`, by default [`CompositeBuf`] (what the frame decoders fire); use
/// [`accepting`](Self::accepting) for `Bytes` or another `Into<CompositeBuf>`
/// type. Copies the bytes once (a `String` owns contiguous memory), validating
/// them as UTF-8; invalid input is reported as [`CodecError::InvalidUtf8`] and the
/// message dropped (the channel closes unless a handler takes the error).
///
/// As a pipeline handler it is a [`MessageToMessageDecoder`] (`Handler::from`).
///
/// # Examples
///
/// ```
/// use seine_buffer::Bytes;
/// use seine_channel::Handler;
/// use seine_channel::testing::EmbeddedChannel;
/// use seine_codec::{CodecError, LineDecoder, StringDecoder};
///
/// let mut ch = EmbeddedChannel::with_handlers([
///     ("frames", Handler::from(LineDecoder::new(1024))),
///     ("strings", Handler::from(StringDecoder::new())),
/// ]);
/// ch.write_inbound(Bytes::from_static("héllo\n".as_bytes())).unwrap();
/// assert_eq!(ch.read_inbound::<String>().as_deref(), Some("héllo"));
///
/// let err = ch.write_inbound(Bytes::from_static(b"ab\xff\n")).unwrap_err();
/// assert_eq!(err.downcast_ref(), Some(&CodecError::InvalidUtf8 { valid_up_to: 2 }));
/// ```
pub struct StringDecoder<M = CompositeBuf> {
    _in: PhantomData<fn(M)>,
}

impl StringDecoder {
    /// A decoder of [`CompositeBuf`] messages. O(1).
    ///
    /// # Examples
    ///
    /// See [`StringDecoder`].
    pub fn new() -> Self {
        StringDecoder { _in: PhantomData }
    }
}

impl Default for StringDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl<M> StringDecoder<M> {
    /// The same decoder reading `N` messages instead (`Bytes`, for one). O(1).
    ///
    /// # Examples
    ///
    /// ```
    /// use seine_buffer::Bytes;
    /// use seine_channel::Handler;
    /// use seine_channel::testing::EmbeddedChannel;
    /// use seine_codec::StringDecoder;
    ///
    /// let decoder = StringDecoder::new().accepting::<Bytes>();
    /// let mut ch = EmbeddedChannel::with_handlers([("s", Handler::from(decoder))]);
    /// ch.write_inbound(Bytes::from_static(b"hi")).unwrap();
    /// assert_eq!(ch.read_inbound::<String>().as_deref(), Some("hi"));
    /// ```
    pub fn accepting<N: Into<CompositeBuf> + 'static>(self) -> StringDecoder<N> {
        StringDecoder { _in: PhantomData }
    }
}

/// Decodes `buf` as UTF-8 into a new `String`: copies `buf.len()` bytes once.
fn utf8_string(buf: &CompositeBuf) -> Result<String, CodecError> {
    let invalid = |e: std::str::Utf8Error| CodecError::InvalidUtf8 {
        valid_up_to: e.valid_up_to(),
    };
    match buf.segment_count() {
        0 => Ok(String::new()),
        1 => std::str::from_utf8(&buf.segments()[0])
            .map(str::to_owned)
            .map_err(invalid),
        _ => String::from_utf8(buf.to_vec()).map_err(|e| invalid(e.utf8_error())),
    }
}

impl<M: Into<CompositeBuf> + 'static> Convert for StringDecoder<M> {
    type In = M;
    type Out = String;

    fn convert(&mut self, msg: M, out: &mut Vec<String>) -> Result<(), CodecError> {
        out.push(utf8_string(&msg.into())?);
        Ok(())
    }
}

impl<M: Into<CompositeBuf> + 'static> From<StringDecoder<M>> for Handler {
    fn from(decoder: StringDecoder<M>) -> Self {
        Handler::from(MessageToMessageDecoder::new(decoder))
    }
}

/// Encodes each `String` written as its UTF-8 bytes (Netty's `StringEncoder`).
///
/// Writes `O`, by default [`Bytes`]; use [`emitting`](Self::emitting) for
/// [`CompositeBuf`] or [`OutboundBuf`](seine_channel::OutboundBuf) (to sit after a
/// [`LengthFieldPrepender`](crate::LengthFieldPrepender) that accepts that type).
/// Does not copy: the string's buffer becomes the `Bytes` (O(1)).
///
/// As a pipeline handler it is a [`MessageToMessageEncoder`] (`Handler::from`).
///
/// # Examples
///
/// ```
/// use seine_channel::Handler;
/// use seine_channel::testing::EmbeddedChannel;
/// use seine_codec::StringEncoder;
///
/// let mut ch = EmbeddedChannel::with_handlers([("s", Handler::from(StringEncoder::new()))]);
/// let _ = ch.write_outbound(String::from("héllo"));
/// assert_eq!(ch.read_outbound_bytes(), "héllo".as_bytes());
/// ```
pub struct StringEncoder<O = Bytes> {
    _out: PhantomData<fn() -> O>,
}

impl StringEncoder {
    /// An encoder writing [`Bytes`]. O(1).
    ///
    /// # Examples
    ///
    /// See [`StringEncoder`].
    pub fn new() -> Self {
        StringEncoder { _out: PhantomData }
    }
}

impl Default for StringEncoder {
    fn default() -> Self {
        Self::new()
    }
}

impl<O> StringEncoder<O> {
    /// The same encoder writing `P` messages instead. O(1).
    ///
    /// # Examples
    ///
    /// ```
    /// use seine_buffer::CompositeBuf;
    /// use seine_channel::Handler;
    /// use seine_channel::testing::EmbeddedChannel;
    /// use seine_codec::{LengthFieldPrepender, StringEncoder};
    ///
    /// let mut ch = EmbeddedChannel::with_handlers([
    ///     ("prepender", Handler::from(LengthFieldPrepender::builder().length_field_length(1).build().unwrap())),
    ///     ("strings", Handler::from(StringEncoder::new().emitting::<CompositeBuf>())),
    /// ]);
    /// let _ = ch.write_outbound(String::from("hi"));
    /// assert_eq!(ch.read_outbound_bytes(), b"\x02hi");
    /// ```
    pub fn emitting<P: From<Bytes> + 'static>(self) -> StringEncoder<P> {
        StringEncoder { _out: PhantomData }
    }
}

impl<O: From<Bytes> + 'static> Convert for StringEncoder<O> {
    type In = String;
    type Out = O;

    fn convert(&mut self, msg: String, out: &mut Vec<O>) -> Result<(), CodecError> {
        out.push(O::from(Bytes::from(msg.into_bytes())));
        Ok(())
    }
}

impl<O: From<Bytes> + 'static> From<StringEncoder<O>> for Handler {
    fn from(encoder: StringEncoder<O>) -> Self {
        Handler::from(MessageToMessageEncoder::new(encoder))
    }
}
