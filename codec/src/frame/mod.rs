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
//! [`CodecError::TooLongFrame`].
//!
//! # One way to configure them
//!
//! Each decoder and the prepender are made by a builder: `X::builder()`, named
//! setters (Netty's parameter names in snake case), then `build()`, which returns
//! [`CodecError::InvalidConfig`] for parameters
//! that cannot work (nothing panics). The built value has a getter of the same
//! name for each setting. The same concept has the same name on every decoder:
//! `max_frame_length`, `fail_fast`, `strip_delimiter`, and the two options that
//! remove seine's deviations from Netty, `drop_partial_at_eof` and
//! `stop_at_first_error` (or both at once with `netty_exact()`; see
//! [`crate::netty`]).
//!
//! ```
//! use seine_codec::{CodecError, LineDecoder};
//!
//! let decoder = LineDecoder::builder().max_frame_length(80).fail_fast(false).build()?;
//! assert_eq!(decoder.max_frame_length(), 80);
//! assert!(!decoder.fail_fast());
//! # Ok::<(), CodecError>(())
//! ```

pub mod delimiter;
mod delimiter_framing;
pub mod fixed;
pub mod length_field;
pub mod line;
pub mod prepender;

pub use delimiter::{DelimiterDecoder, DelimiterDecoderBuilder};
pub use fixed::{FixedLengthDecoder, FixedLengthDecoderBuilder};
pub use length_field::{LengthFieldDecoder, LengthFieldDecoderBuilder};
pub use line::{LineDecoder, LineDecoderBuilder};
pub use prepender::{LengthFieldPrepender, LengthFieldPrependerBuilder};

use seine_buffer::{Buf, CompositeBuf};

use crate::CodecError;
use crate::decoder::AfterError;

/// Consumes at most `n` bytes of `src`; returns how many it consumed. O(segments).
fn skip(src: &mut CompositeBuf, n: u64) -> usize {
    let k = usize::try_from(n).map_or(src.len(), |n| n.min(src.len()));
    src.advance(k);
    k
}

/// The default `max_frame_length` of the frame decoders' builders: 8 MiB.
pub const DEFAULT_MAX_FRAME_LENGTH: usize = 8 * 1024 * 1024;

/// The options that make a frame decoder behave as Netty's where seine chose
/// otherwise (both off by default); see [`crate::netty`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct NettyOptions {
    /// Drop a partial frame at end of input silently.
    pub(crate) drop_partial_at_eof: bool,
    /// Stop decoding for the read at the first error, keep the rest.
    pub(crate) stop_at_first_error: bool,
}

impl NettyOptions {
    pub(crate) fn after_error(self) -> AfterError {
        if self.stop_at_first_error {
            AfterError::WaitForNextRead
        } else {
            AfterError::DecodeOn
        }
    }
}

/// End of input with no frame left to decode: nothing if `src` is empty, else its
/// bytes (a partial frame) are dropped and reported as
/// [`CodecError::TruncatedFrame`] (or silently, with `drop_partial_at_eof`).
fn truncated(
    src: &mut CompositeBuf,
    netty: NettyOptions,
) -> Result<Option<CompositeBuf>, CodecError> {
    if src.is_empty() {
        return Ok(None);
    }
    let remaining = src.len();
    src.advance(remaining);
    if netty.drop_partial_at_eof {
        return Ok(None);
    }
    Err(CodecError::TruncatedFrame { remaining })
}
