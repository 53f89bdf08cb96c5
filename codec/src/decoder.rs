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
}
