//! The byte-to-message building block: implement [`Decoder`], wrap it in
//! [`ByteToMessageDecoder`](crate::ByteToMessageDecoder), add it to a pipeline.

use seine_buffer::CompositeBuf;

use crate::error::CodecError;

/// Cuts messages out of accumulated bytes.
///
/// `decode` is called with everything received and not yet consumed. It returns
/// `Ok(Some(msg))` after consuming (`split_to`, `advance`) the message's bytes,
/// `Ok(None)` when more bytes are needed (consume nothing, or only what it has
/// dealt with), or an error. It is called again until it returns `None`.
pub trait Decoder: 'static {
    /// The message type decoded.
    type Item: 'static;

    /// Decodes one message from `src`, if complete.
    fn decode(&mut self, src: &mut CompositeBuf) -> Result<Option<Self::Item>, CodecError>;

    /// Called when input ends (peer closed its write side, or the channel closed),
    /// repeatedly until it returns `None`. By default, the same as `decode`.
    fn decode_eof(&mut self, src: &mut CompositeBuf) -> Result<Option<Self::Item>, CodecError> {
        self.decode(src)
    }

    /// What the [`ByteToMessageDecoder`](crate::ByteToMessageDecoder) driving this
    /// decoder does after it returned an error. [`AfterError::DecodeOn`] by
    /// default; the frame decoders return [`AfterError::WaitForNextRead`] when
    /// built with `stop_at_first_error(true)`.
    fn after_error(&self) -> AfterError {
        AfterError::DecodeOn
    }
}

/// What happens to the accumulated bytes after a [`Decoder`] returned an error
/// (and the channel stayed open: a handler took the error).
///
/// # Examples
///
/// ```
/// use seine_codec::{AfterError, Decoder, LineDecoder};
///
/// assert_eq!(LineDecoder::new(80).after_error(), AfterError::DecodeOn);
/// let netty = LineDecoder::builder().stop_at_first_error(true).build().unwrap();
/// assert_eq!(netty.after_error(), AfterError::WaitForNextRead);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AfterError {
    /// seine's default: after [`CodecError::CorruptFrame`] or
    /// [`CodecError::DecoderMadeNoProgress`] (the stream is out of sync), or any
    /// error after which the decoder consumed nothing, everything accumulated is
    /// discarded; otherwise decoding goes on at once, in the same read.
    #[default]
    DecodeOn,
    /// Netty's: decoding stops for this read and nothing more is discarded than
    /// what the decoder itself skipped; the bytes after the bad frame are decoded
    /// when the next read arrives (or at end of input).
    WaitForNextRead,
}
