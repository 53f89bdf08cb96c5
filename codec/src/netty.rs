//! # Differences from Netty
//!
//! seine's frame decoders take Netty's parameters and follow its semantics, but
//! by default they differ from Netty 4.1 in a few places, chosen on purpose. Each
//! deviation below says which option removes it. With the options on, a decoder
//! reproduces Netty's observable behaviour: the same frames at the same writes
//! (which `write_inbound`, or which read of a socket, delivers each frame), and
//! the same errors (`TooLongFrameException` is [`CodecError::TooLongFrame`],
//! `CorruptedFrameException` is [`CodecError::CorruptFrame`]).
//!
//! ```
//! use seine_codec::{DelimiterDecoder, FixedLengthDecoder, LengthFieldDecoder, LineDecoder};
//!
//! // Netty's behaviour, everywhere:
//! let length_field = LengthFieldDecoder::builder().length_field_length(2).netty_exact().build()?;
//! let line = LineDecoder::builder().max_frame_length(8192).netty_exact().build()?;
//! let delimiter = DelimiterDecoder::builder().nul_delimiter().netty_exact().build()?;
//! let fixed = FixedLengthDecoder::builder().frame_length(3).netty_exact().build()?;
//! assert!(length_field.stop_at_first_error() && length_field.drop_partial_at_eof());
//! assert!(!line.stop_at_first_error() && line.drop_partial_at_eof());
//! # let _ = (delimiter, fixed);
//! # Ok::<(), seine_codec::CodecError>(())
//! ```
//!
//! ## Deviations, and the option that removes each
//!
//! | seine by default | Netty 4.1 | option |
//! |---|---|---|
//! | At end of input, bytes left that make no whole frame are reported as [`CodecError::TruncatedFrame`] (all four decoders). | Dropped silently. | `drop_partial_at_eof(true)` |
//! | With `fail_fast(false)`, a too-long frame cut short by the end of input is reported as [`CodecError::TooLongFrame`]. | Dropped silently. | `drop_partial_at_eof(true)` |
//! | After a [`CodecError::TooLongFrame`] or [`CodecError::CorruptFrame`] of the length-field or delimiter decoder, the frames after it in the same read are decoded and delivered in that read. | The decoder throws: decoding stops for that read; the bytes after the bad frame are decoded when the next read arrives (or at end of input). | `stop_at_first_error(true)` |
//! | After a [`CodecError::CorruptFrame`] (and after any error that consumed nothing), everything accumulated is discarded: the stream is out of sync. | Only what the decoder skipped is gone (for the length-field decoder, the header up to the end of the length field); the rest is decoded at the next read. | `stop_at_first_error(true)` |
//! | An error no handler takes closes the channel (after flushing what was written). | Logged at the tail; the channel stays open. | `ChannelConfig::close_on_exception = false` (seine-channel) |
//!
//! `netty_exact()` on each builder turns on the options that apply to it:
//! `drop_partial_at_eof` everywhere, and `stop_at_first_error` on the
//! length-field decoder and on the delimiter decoder, **except** when its
//! delimiters are exactly `"\r\n"` and `"\n"`: Netty's
//! `DelimiterBasedFrameDecoder` then hands over to its `LineBasedFrameDecoder`,
//! which, like [`LineDecoder`](crate::LineDecoder), *fires* its errors instead of
//! throwing them, so decoding goes on in the same read there too. The fixed-length
//! decoder reports no error but the truncated frame.
//!
//! [`AfterError`](crate::AfterError) is how the options reach the
//! [`ByteToMessageDecoder`](crate::ByteToMessageDecoder) driving a decoder; a custom
//! [`Decoder`](crate::Decoder) chooses Netty's error handling by returning
//! [`AfterError::WaitForNextRead`](crate::AfterError::WaitForNextRead) from
//! [`Decoder::after_error`](crate::Decoder::after_error).
//!
//! ## Netty behaviours seine does not reproduce (no option)
//!
//! These are defects in Netty that an option would only preserve; the frames
//! differ only on input that hits them.
//!
//! * **Length field, a frame shorter than `initial_bytes_to_strip`.** Netty keeps
//!   the frame length it cached and fails every later frame with
//!   `CorruptedFrameException`; seine skips that frame and decodes the next one.
//! * **Delimiter, skipping a too-long frame.** Netty drops the bytes at the end of
//!   a read that may be the start of a multi-byte delimiter cut by the read, and so
//!   misses that delimiter and swallows the next frame; seine keeps them. Netty
//!   also counts them toward the frame's length, refusing a frame of exactly
//!   `max_frame_length` bytes whose delimiter is cut between reads; seine does not.
//! * **Delimiter, `fail_fast(false)`.** The length in the error: Netty reports the
//!   part skipped before the last read, seine the whole frame's length.
//! * **Line, a `\r` at the end of a read.** Netty counts it as part of the line, so
//!   a line of exactly `max_frame_length` bytes whose `\r\n` is cut between two
//!   reads is refused; seine accepts it.
//! * **Error values.** seine's errors are typed values with numbers
//!   ([`CodecError`]) where Netty's exceptions carry text.
//!
//! [`CodecError`]: crate::CodecError
//! [`CodecError::TooLongFrame`]: crate::CodecError::TooLongFrame
//! [`CodecError::CorruptFrame`]: crate::CodecError::CorruptFrame
//! [`CodecError::TruncatedFrame`]: crate::CodecError::TruncatedFrame
