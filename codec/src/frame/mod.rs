//! Frame decoders and encoders: cut a byte stream into frames, and mark frames
//! for the peer to cut, with Netty's parameters and semantics.
//!
//! | seine | Netty | frames by |
//! |---|---|---|
//! | [`LengthFieldDecoder`] | `LengthFieldBasedFrameDecoder` | a length field in a header |
//! | [`LengthFieldPrepender`] | `LengthFieldPrepender` | (encoder) prepends that field |
//! | [`LineDecoder`] | `LineBasedFrameDecoder` | `\n` or `\r\n` |
//! | [`DelimiterDecoder`] | `DelimiterBasedFrameDecoder` | any of several delimiters |
//! | [`FixedLengthDecoder`] | `FixedLengthFrameDecoder` | a fixed size |
//!
//! Every decoder fires [`CompositeBuf`] frames that
//! share memory with the received reads (cut with `split_to`, never copied), and
//! becomes a pipeline handler with `Handler::from(decoder)`, which wraps it in a
//! [`ByteToMessageDecoder`](crate::ByteToMessageDecoder). None of them allocates
//! memory for a length the peer announces: a frame longer than the configured
//! maximum is skipped as its bytes arrive and reported once as
//! [`CodecError::TooLongFrame`](crate::CodecError::TooLongFrame).

pub mod delimiter;
mod delimiter_framing;
pub mod fixed;
pub mod length_field;
pub mod line;
pub mod prepender;

pub use delimiter::DelimiterDecoder;
pub use fixed::FixedLengthDecoder;
pub use length_field::{LengthFieldDecoder, LengthFieldDecoderBuilder};
pub use line::LineDecoder;
pub use prepender::LengthFieldPrepender;

use seine_buffer::{Buf, CompositeBuf};

use crate::CodecError;

/// Consumes at most `n` bytes of `src`; returns how many it consumed. O(segments).
fn skip(src: &mut CompositeBuf, n: u64) -> usize {
    let k = usize::try_from(n).map_or(src.len(), |n| n.min(src.len()));
    src.advance(k);
    k
}

/// End of input with no frame left to decode: nothing if `src` is empty, else its
/// bytes (a partial frame) are dropped and reported as
/// [`CodecError::TruncatedFrame`].
fn truncated(src: &mut CompositeBuf) -> Result<Option<CompositeBuf>, CodecError> {
    if src.is_empty() {
        return Ok(None);
    }
    let remaining = src.len();
    src.advance(remaining);
    Err(CodecError::TruncatedFrame { remaining })
}
