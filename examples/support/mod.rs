//! What the examples share.

use std::io;

use tokio::signal::unix::{SignalKind, signal};

/// Blocks until the process gets SIGINT (Ctrl-C) or SIGTERM (`kill`, systemd,
/// `docker stop`), the signals a server is asked to stop with.
pub fn wait_for_shutdown_signal() -> io::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let mut term = signal(SignalKind::terminate())?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r,
            _ = term.recv() => Ok(()),
        }
    })
}
