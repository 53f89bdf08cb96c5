//! [`ChunkedWriteHandler`]: writes [`ChunkedInput`]s one chunk at a time, only
//! while the channel is writable (Netty's `ChunkedWriteHandler`).
//!
//! A large body produced on the loop (a file read with `pread`, a stream, a
//! generator) would otherwise sit in memory whole. Queued behind this handler it
//! is read one chunk per write, and reading pauses whenever the outbound buffer is
//! over its high water mark, until the transport drains it: memory stays within the
//! water marks plus one chunk. Other buffers pass in order with the inputs.
//!
//! With [`files_as_chunks`](ChunkedWriteHandler::files_as_chunks), every
//! [`FileRegion`] that reaches the handler becomes a
//! [`ChunkedFile`]: how files reach handlers that need their bytes (TLS,
//! compression) rather than `sendfile`.
//!
//! The write's completion resolves with its last chunk (or fails with the input's
//! error, or the channel's close).
//!
//! ```
//! use seine_buffer::Bytes;
//! use seine_channel::testing::EmbeddedChannel;
//! use seine_channel::{Handler};
//! use seine_handler::{ChunkedStream, ChunkedWrite, ChunkedWriteHandler};
//!
//! let mut ch = EmbeddedChannel::with_handlers([(
//!     "chunked",
//!     Handler::duplex(ChunkedWriteHandler::new()),
//! )]);
//! let body = ChunkedStream::new(std::io::Cursor::new(vec![7u8; 100_000]), 8192);
//! let done = ch.write_outbound(ChunkedWrite::input(body));
//! assert!(done.is_done());
//! assert_eq!(ch.read_outbound_bytes().len(), 100_000);
//! ```

use std::collections::VecDeque;
use std::marker::PhantomData;

use seine_buffer::{Bytes, CompositeBuf, FileRegion};
use seine_channel::{
    ChannelError, ChannelHandler, Context, InboundContext, InboundHandler, OutboundBuf,
    OutboundContext, OutboundHandler, Promise,
};

use crate::chunked_input::{ChunkedFile, ChunkedInput, DEFAULT_CHUNK_SIZE};

/// What a [`ChunkedWriteHandler`] accepts: a buffer, or an input to write in chunks.
pub enum ChunkedWrite {
    /// Written as it is (unless it is a file region and files are chunked).
    Buf(OutboundBuf),
    /// Read and written one chunk at a time.
    Input(Box<dyn ChunkedInput>),
}

impl ChunkedWrite {
    /// An input to write in chunks.
    pub fn input(input: impl ChunkedInput) -> Self {
        ChunkedWrite::Input(Box::new(input))
    }
}

impl From<OutboundBuf> for ChunkedWrite {
    fn from(b: OutboundBuf) -> Self {
        ChunkedWrite::Buf(b)
    }
}

impl From<Bytes> for ChunkedWrite {
    fn from(b: Bytes) -> Self {
        ChunkedWrite::Buf(b.into())
    }
}

impl From<CompositeBuf> for ChunkedWrite {
    fn from(b: CompositeBuf) -> Self {
        ChunkedWrite::Buf(b.into())
    }
}

impl From<FileRegion> for ChunkedWrite {
    fn from(f: FileRegion) -> Self {
        ChunkedWrite::Buf(f.into())
    }
}

impl From<Box<dyn ChunkedInput>> for ChunkedWrite {
    fn from(i: Box<dyn ChunkedInput>) -> Self {
        ChunkedWrite::Input(i)
    }
}

/// Writes chunked inputs as the channel can take them; see the [module docs](self).
/// Duplex (it resumes on writability changes) with `I` read and passed on (the
/// transport's `Bytes` by default) and `W` accepted: [`ChunkedWrite`] by default,
/// or [`OutboundBuf`] behind a codec (with
/// [`files_as_chunks`](Self::files_as_chunks), to turn its files into chunks).
pub struct ChunkedWriteHandler<I = Bytes, W = ChunkedWrite> {
    queue: VecDeque<(ChunkedWrite, Promise)>,
    file_chunk: Option<usize>,
    _types: PhantomData<fn(I, W)>,
}

impl ChunkedWriteHandler {
    /// A handler accepting [`ChunkedWrite`]s.
    pub fn new() -> Self {
        Self::with_types()
    }
}

impl Default for ChunkedWriteHandler {
    fn default() -> Self {
        Self::new()
    }
}

impl<I: 'static, W: Into<ChunkedWrite> + 'static> ChunkedWriteHandler<I, W> {
    /// A handler reading `I` and accepting `W`:
    /// `ChunkedWriteHandler::<Bytes, OutboundBuf>::with_types()` behind a codec.
    pub fn with_types() -> Self {
        ChunkedWriteHandler {
            queue: VecDeque::new(),
            file_chunk: None,
            _types: PhantomData,
        }
    }

    /// Reads file regions in chunks of `chunk_size` bytes (0: the default 8 KiB)
    /// instead of passing them to the transport's `sendfile`.
    pub fn files_as_chunks(mut self, chunk_size: usize) -> Self {
        self.file_chunk = Some(if chunk_size == 0 {
            DEFAULT_CHUNK_SIZE
        } else {
            chunk_size
        });
        self
    }

    /// Writes queued in the handler (inputs not finished included).
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    fn convert(&self, msg: W) -> ChunkedWrite {
        match (msg.into(), self.file_chunk) {
            (ChunkedWrite::Buf(OutboundBuf::File(f)), Some(size)) => {
                ChunkedWrite::input(ChunkedFile::new(f, size))
            }
            (m, _) => m,
        }
    }

    /// Writes what the channel can take now, then flushes.
    fn write_ready(&mut self, ctx: &mut OutboundContext<'_, OutboundBuf>) {
        let mut wrote = false;
        while ctx.is_writable() && !ctx.is_closing() {
            let Some((front, _)) = self.queue.front_mut() else {
                break;
            };
            let chunk = match front {
                ChunkedWrite::Buf(_) => None,
                ChunkedWrite::Input(input) => Some(input.next_chunk().map(|c| (c, input.is_end()))),
            };
            wrote = true;
            match chunk {
                None => {
                    let (ChunkedWrite::Buf(buf), promise) = self.queue.pop_front().expect("front")
                    else {
                        unreachable!("the front is a buffer")
                    };
                    pass(ctx, buf, promise);
                }
                Some(Ok((Some(chunk), false))) => pass(ctx, chunk.into(), Promise::void()),
                Some(Ok((Some(chunk), true))) => {
                    let (_, promise) = self.queue.pop_front().expect("front");
                    pass(ctx, chunk.into(), promise);
                }
                Some(Ok((None, _))) => {
                    let (_, promise) = self.queue.pop_front().expect("front");
                    ctx.complete_promise(promise);
                }
                Some(Err(e)) => {
                    let (_, promise) = self.queue.pop_front().expect("front");
                    tracing::debug!(error = %e, "a chunked input failed");
                    ctx.fail_promise(promise, e);
                }
            }
        }
        if wrote {
            ctx.flush();
        }
    }

    fn fail_all(&mut self, ctx: &mut Context<'_>) {
        while let Some((_, promise)) = self.queue.pop_front() {
            ctx.fail_promise(promise, ChannelError::Closed);
        }
    }
}

/// Writes `buf` toward the transport with `promise`.
fn pass(ctx: &mut OutboundContext<'_, OutboundBuf>, buf: OutboundBuf, promise: Promise) {
    ctx.write(buf, promise);
}

impl<I: 'static, W: Into<ChunkedWrite> + 'static> ChannelHandler for ChunkedWriteHandler<I, W> {
    fn handler_removed(&mut self, ctx: &mut Context<'_>) {
        self.fail_all(ctx);
    }
}

impl<I: 'static, W: Into<ChunkedWrite> + 'static> InboundHandler for ChunkedWriteHandler<I, W> {
    type Read = I;
    type Fire = I;

    fn channel_read(&mut self, ctx: &mut InboundContext<'_, I>, msg: I) {
        ctx.fire_read(msg);
    }

    fn channel_writability_changed(&mut self, ctx: &mut InboundContext<'_, I>) {
        if ctx.is_writable() && !self.queue.is_empty() {
            // A flush from the tail (through the channel's queue: no allocation)
            // reaches `flush` below, which writes with the outbound context.
            ctx.channel().flush();
        }
        ctx.fire_writability_changed();
    }

    fn channel_inactive(&mut self, ctx: &mut InboundContext<'_, I>) {
        self.fail_all(ctx);
        ctx.fire_inactive();
    }
}

impl<I: 'static, W: Into<ChunkedWrite> + 'static> OutboundHandler for ChunkedWriteHandler<I, W> {
    type Write = W;
    type Emit = OutboundBuf;

    fn write(&mut self, ctx: &mut OutboundContext<'_, OutboundBuf>, msg: W, promise: Promise) {
        match self.convert(msg) {
            // Nothing waits: a buffer goes straight on.
            ChunkedWrite::Buf(buf) if self.queue.is_empty() => ctx.write(buf, promise),
            other => self.queue.push_back((other, promise)),
        }
    }

    fn flush(&mut self, ctx: &mut OutboundContext<'_, OutboundBuf>) {
        if self.queue.is_empty() {
            return ctx.flush();
        }
        self.write_ready(ctx);
    }
}
