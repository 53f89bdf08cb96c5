//! How a timeout handler closes the channel.

use seine_channel::Context;

/// How a handler that gives up on a peer closes the channel.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CloseMode {
    /// Drop what is still queued and send a FIN ([`Context::close_now`]). The
    /// kernel keeps trying to deliver what the socket already holds.
    #[default]
    Fin,
    /// Drop what is queued and send a reset (`SO_LINGER` 0,
    /// [`Context::close_with_reset`]): the kernel frees the unsent data at once
    /// (nginx's `reset_timedout_connection`).
    Reset,
}

impl CloseMode {
    /// Closes the channel this way.
    pub fn close(self, ctx: &mut Context<'_>) {
        match self {
            CloseMode::Fin => ctx.close_now(),
            CloseMode::Reset => ctx.close_with_reset(),
        }
    }
}
