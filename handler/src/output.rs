//! Watching the transport's progress on a channel's output: the bytes it actually
//! handed to the socket (copies and `sendfile`), and what is still queued.

use seine_channel::Context;

/// The output's state at the last look.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct OutputWatch {
    written: u64,
    pending: u64,
}

/// Bytes the transport has written on this channel so far, however it wrote them.
pub(crate) fn written_total(ctx: &Context<'_>) -> u64 {
    let m = ctx.channel().metrics().snapshot();
    m.bytes_written_copy + m.bytes_written_sendfile
}

impl OutputWatch {
    /// Looks at the output now without reporting a change.
    pub(crate) fn reset(&mut self, ctx: &Context<'_>) {
        self.written = written_total(ctx);
        self.pending = ctx.pending_outbound_bytes();
    }

    /// Whether the output moved since the last look: the transport wrote bytes, or
    /// less is queued (a transport without counters, such as the embedded one).
    /// New writes alone are not progress.
    pub(crate) fn moved(&mut self, ctx: &Context<'_>) -> bool {
        let written = written_total(ctx);
        let pending = ctx.pending_outbound_bytes();
        let moved = written != self.written || pending < self.pending;
        self.written = written;
        self.pending = pending;
        moved
    }
}
