//! The decode loop of the decoders that cut frames at delimiters
//! ([`LineDecoder`](super::LineDecoder), [`DelimiterDecoder`](super::DelimiterDecoder)):
//! finding, stripping, and skipping too-long frames (fail-fast or not), in one place.
//! Each decoder supplies only how its delimiters are found ([`Finder`]).

use seine_buffer::{Buf, CompositeBuf};

use super::NettyOptions;
use crate::error::CodecError;

/// How one delimiter-framed decoder finds its frames.
pub(super) trait Finder {
    /// The first frame at or after `from`: `(frame length, delimiter length)`.
    fn find(&self, src: &CompositeBuf, from: usize) -> Option<(usize, usize)>;

    /// Where the next search may resume when `find` found nothing: no delimiter
    /// starts before it.
    fn resume_from(&self, src: &CompositeBuf) -> usize;

    /// Bytes at the end of `src` that may start a delimiter cut by the read (kept
    /// when skipping, not counted in a frame's length yet).
    fn tail_to_keep(&self, src: &CompositeBuf) -> usize;
}

/// A delimiter-framed decoder's settings and skip state.
#[derive(Clone, Debug)]
pub(super) struct Delimited {
    pub(super) max_length: usize,
    pub(super) strip_delimiter: bool,
    pub(super) fail_fast: bool,
    pub(super) netty: NettyOptions,
    pub(super) discarding: bool,
    /// Bytes of the too-long frame skipped so far.
    discarded: u64,
    /// Where the search resumes (no delimiter starts before it).
    offset: usize,
}

impl Delimited {
    /// Frames of at most `max_length` bytes, delimiters stripped or not, failing
    /// fast or not.
    pub(super) fn new(
        max_length: usize,
        strip_delimiter: bool,
        fail_fast: bool,
        netty: NettyOptions,
    ) -> Self {
        Delimited {
            max_length,
            strip_delimiter,
            fail_fast,
            netty,
            discarding: false,
            discarded: 0,
            offset: 0,
        }
    }

    fn too_long(&self, length: u64) -> CodecError {
        CodecError::TooLongFrame {
            length,
            max: self.max_length,
        }
    }

    /// The next frame, resuming the search where the last one stopped.
    fn next(&mut self, src: &CompositeBuf, finder: &impl Finder) -> Option<(usize, usize)> {
        let found = finder.find(src, self.offset.min(src.len()));
        self.offset = match found {
            Some(_) => 0,
            None => finder.resume_from(src),
        };
        found
    }

    /// Skips all of `src` but what may start a delimiter.
    fn skip_all_but_tail(&mut self, src: &mut CompositeBuf, finder: &impl Finder) {
        let n = src.len() - finder.tail_to_keep(src);
        src.advance(n);
        self.discarded += n as u64;
        self.offset = 0;
    }

    /// The next complete frame, skipping (and reporting) too-long ones.
    pub(super) fn decode(
        &mut self,
        src: &mut CompositeBuf,
        finder: &impl Finder,
    ) -> Result<Option<CompositeBuf>, CodecError> {
        loop {
            let found = self.next(src, finder);
            if self.discarding {
                let Some((length, delimiter)) = found else {
                    self.skip_all_but_tail(src, finder);
                    return Ok(None);
                };
                let total = self.discarded + length as u64;
                src.advance(length + delimiter);
                self.discarded = 0;
                self.discarding = false;
                if !self.fail_fast {
                    return Err(self.too_long(total));
                }
                continue;
            }
            return match found {
                Some((length, delimiter)) if length > self.max_length => {
                    src.advance(length + delimiter);
                    Err(self.too_long(length as u64))
                }
                Some((length, delimiter)) => {
                    if self.strip_delimiter {
                        let frame = src.split_to(length);
                        src.advance(delimiter);
                        Ok(Some(frame))
                    } else {
                        Ok(Some(src.split_to(length + delimiter)))
                    }
                }
                None => {
                    let length = src.len() - finder.tail_to_keep(src);
                    if length <= self.max_length {
                        return Ok(None);
                    }
                    self.discarding = true;
                    self.discarded = 0;
                    self.skip_all_but_tail(src, finder);
                    if self.fail_fast {
                        Err(self.too_long(length as u64))
                    } else {
                        Ok(None)
                    }
                }
            };
        }
    }

    /// End of input: the complete frames first; then a too-long frame still being
    /// skipped is dropped and reported now unless fail-fast already did, and other
    /// leftover bytes are a [`CodecError::TruncatedFrame`].
    pub(super) fn decode_eof(
        &mut self,
        src: &mut CompositeBuf,
        finder: &impl Finder,
    ) -> Result<Option<CompositeBuf>, CodecError> {
        if let Some(frame) = self.decode(src, finder)? {
            return Ok(Some(frame));
        }
        self.offset = 0;
        if std::mem::take(&mut self.discarding) {
            let length = std::mem::take(&mut self.discarded) + src.len() as u64;
            src.advance(src.len());
            return if self.fail_fast || self.netty.drop_partial_at_eof {
                Ok(None)
            } else {
                Err(self.too_long(length))
            };
        }
        super::truncated(src, self.netty)
    }
}
