//! [`LoggingHandler`]: a `tracing` event for every pipeline event that passes
//! (Netty's `LoggingHandler`), at a level you choose; at `TRACE`, buffers are
//! also hex-dumped (the first [`HEX_DUMP_LIMIT`] bytes).
//!
//! Events carry the channel id and the handler's name, so that a subscriber can
//! filter one connection. Messages are described by [`Loggable`], implemented for
//! the buffer types and for `String`; implement it for your own messages.
//!
//! ```
//! use seine_buffer::Bytes;
//! use seine_channel::testing::EmbeddedChannel;
//! use seine_channel::{Handler};
//! use seine_handler::LoggingHandler;
//!
//! let mut ch = EmbeddedChannel::with_handlers([(
//!     "log",
//!     Handler::duplex(LoggingHandler::new(tracing::Level::DEBUG)),
//! )]);
//! ch.write_inbound(Bytes::from_static(b"ping")).unwrap(); // logs READ 4B, READ COMPLETE
//! assert_eq!(ch.read_inbound::<Bytes>().unwrap(), "ping");
//! ```

use std::fmt::{self, Write as _};
use std::marker::PhantomData;

use seine_buffer::{Buf, Bytes, CompositeBuf};
use seine_channel::{
    ChannelHandler, Context, Error, InboundContext, InboundHandler, OutboundBuf, OutboundContext,
    OutboundHandler, Promise, UserEvent,
};
use tracing::Level;

/// Bytes of a buffer shown in a hex dump.
pub const HEX_DUMP_LIMIT: usize = 1024;

/// How a [`LoggingHandler`] describes a message.
pub trait Loggable: 'static {
    /// A one-line summary (type and size).
    fn summary(&self, f: &mut String);

    /// The bytes to hex-dump at `TRACE` (the first ones are enough), if any.
    fn dump(&self) -> Option<&[u8]> {
        None
    }
}

impl Loggable for Bytes {
    fn summary(&self, f: &mut String) {
        let _ = write!(f, "Bytes({}B)", self.len());
    }
    fn dump(&self) -> Option<&[u8]> {
        Some(self)
    }
}

impl Loggable for CompositeBuf {
    fn summary(&self, f: &mut String) {
        let _ = write!(f, "CompositeBuf({}B)", self.len());
    }
    fn dump(&self) -> Option<&[u8]> {
        Some(self.chunk())
    }
}

impl Loggable for OutboundBuf {
    fn summary(&self, f: &mut String) {
        let kind = match self {
            OutboundBuf::Bytes(_) => "Bytes",
            OutboundBuf::Composite(_) => "CompositeBuf",
            OutboundBuf::File(_) => "FileRegion",
        };
        let _ = write!(f, "{kind}({}B)", self.len());
    }
    fn dump(&self) -> Option<&[u8]> {
        match self {
            OutboundBuf::Bytes(b) => Some(b),
            OutboundBuf::Composite(c) => Some(c.chunk()),
            OutboundBuf::File(_) => None,
        }
    }
}

impl Loggable for String {
    fn summary(&self, f: &mut String) {
        let _ = write!(f, "{self:?}");
    }
}

/// Logs every event; see the [module docs](self). Duplex with `I` read and `O`
/// written (the transport's types by default, as it usually sits first);
/// [`with_types`](Self::with_types) places it elsewhere.
pub struct LoggingHandler<I = Bytes, O = OutboundBuf> {
    level: Level,
    line: String,
    _types: PhantomData<fn(I, O)>,
}

impl LoggingHandler {
    /// Logs at `level` (at `TRACE` with hex dumps).
    pub fn new(level: Level) -> Self {
        LoggingHandler {
            level,
            line: String::new(),
            _types: PhantomData,
        }
    }
}

impl<I: Loggable, O: Loggable> LoggingHandler<I, O> {
    /// The same handler for a position where it reads `I2` and writes `O2`.
    pub fn with_types<I2: Loggable, O2: Loggable>(self) -> LoggingHandler<I2, O2> {
        LoggingHandler {
            level: self.level,
            line: self.line,
            _types: PhantomData,
        }
    }

    fn enabled(&self) -> bool {
        match self.level {
            Level::ERROR => tracing::enabled!(Level::ERROR),
            Level::WARN => tracing::enabled!(Level::WARN),
            Level::INFO => tracing::enabled!(Level::INFO),
            Level::DEBUG => tracing::enabled!(Level::DEBUG),
            _ => tracing::enabled!(Level::TRACE),
        }
    }

    fn log(&mut self, ctx: &Context<'_>, event: &str, msg: Option<&dyn Loggable>) {
        if !self.enabled() {
            return;
        }
        self.line.clear();
        self.line.push_str(event);
        if let Some(m) = msg {
            self.line.push(' ');
            m.summary(&mut self.line);
            if self.level == Level::TRACE
                && let Some(bytes) = m.dump()
            {
                hex_dump(&mut self.line, &bytes[..bytes.len().min(HEX_DUMP_LIMIT)]);
            }
        }
        let id = ctx.channel().id().0;
        let name = ctx.name();
        let line = &self.line;
        match self.level {
            Level::ERROR => tracing::error!(channel = id, handler = name, "{line}"),
            Level::WARN => tracing::warn!(channel = id, handler = name, "{line}"),
            Level::INFO => tracing::info!(channel = id, handler = name, "{line}"),
            Level::DEBUG => tracing::debug!(channel = id, handler = name, "{line}"),
            _ => tracing::trace!(channel = id, handler = name, "{line}"),
        }
    }
}

/// Appends a classic 16-bytes-per-row dump of `bytes` to `out`.
pub fn hex_dump(out: &mut String, bytes: &[u8]) {
    for (row, chunk) in bytes.chunks(16).enumerate() {
        let _ = write!(out, "\n{:08x} ", row * 16);
        for i in 0..16 {
            match chunk.get(i) {
                Some(b) => {
                    let _ = write!(out, " {b:02x}");
                }
                None => out.push_str("   "),
            }
        }
        out.push_str("  |");
        out.extend(chunk.iter().map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                b as char
            } else {
                '.'
            }
        }));
        out.push('|');
    }
}

impl<I: Loggable, O: Loggable> ChannelHandler for LoggingHandler<I, O> {
    fn handler_added(&mut self, ctx: &mut Context<'_>) {
        self.log(ctx, "ADDED", None);
    }
}

impl<I: Loggable, O: Loggable> InboundHandler for LoggingHandler<I, O> {
    type Read = I;
    type Fire = I;

    fn channel_read(&mut self, ctx: &mut InboundContext<'_, I>, msg: I) {
        self.log(ctx, "READ", Some(&msg));
        ctx.fire_read(msg);
    }

    fn channel_read_complete(&mut self, ctx: &mut InboundContext<'_, I>) {
        self.log(ctx, "READ COMPLETE", None);
        ctx.fire_read_complete();
    }

    fn channel_active(&mut self, ctx: &mut InboundContext<'_, I>) {
        self.log(ctx, "ACTIVE", None);
        ctx.fire_active();
    }

    fn channel_inactive(&mut self, ctx: &mut InboundContext<'_, I>) {
        self.log(ctx, "INACTIVE", None);
        ctx.fire_inactive();
    }

    fn input_closed(&mut self, ctx: &mut InboundContext<'_, I>) {
        self.log(ctx, "INPUT CLOSED", None);
        ctx.fire_input_closed();
    }

    fn channel_writability_changed(&mut self, ctx: &mut InboundContext<'_, I>) {
        let e = if ctx.is_writable() {
            "WRITABLE"
        } else {
            "UNWRITABLE"
        };
        self.log(ctx, e, None);
        ctx.fire_writability_changed();
    }

    fn user_event(&mut self, ctx: &mut InboundContext<'_, I>, event: UserEvent) {
        self.log(ctx, "USER EVENT", None);
        ctx.fire_user_event(event);
    }

    fn exception_caught(&mut self, ctx: &mut InboundContext<'_, I>, error: Error) {
        if self.enabled() {
            let line = format!("EXCEPTION {error}");
            self.log(ctx, &line, None);
        }
        ctx.fire_exception(error);
    }
}

impl<I: Loggable, O: Loggable> OutboundHandler for LoggingHandler<I, O> {
    type Write = O;
    type Emit = O;

    fn write(&mut self, ctx: &mut OutboundContext<'_, O>, msg: O, promise: Promise) {
        self.log(ctx, "WRITE", Some(&msg));
        ctx.write(msg, promise);
    }

    fn flush(&mut self, ctx: &mut OutboundContext<'_, O>) {
        self.log(ctx, "FLUSH", None);
        ctx.flush();
    }

    fn read(&mut self, ctx: &mut OutboundContext<'_, O>) {
        self.log(ctx, "READ REQUEST", None);
        ctx.read();
    }

    fn close(&mut self, ctx: &mut OutboundContext<'_, O>) {
        self.log(ctx, "CLOSE", None);
        ctx.close();
    }

    fn shutdown_output(&mut self, ctx: &mut OutboundContext<'_, O>) {
        self.log(ctx, "SHUTDOWN OUTPUT", None);
        ctx.shutdown_output();
    }
}

impl<I, O> fmt::Debug for LoggingHandler<I, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoggingHandler")
            .field("level", &self.level)
            .finish()
    }
}
