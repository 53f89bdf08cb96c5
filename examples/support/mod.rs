//! What the examples share.

use std::io;

use tokio::signal::unix::{Signal, SignalKind, signal};

/// SIGINT (Ctrl-C) and SIGTERM (`kill`, systemd, `docker stop`), the signals a
/// server is asked to stop with. Created before the server starts listening, so
/// that a signal sent as soon as it accepts connections is not the default
/// action's (an abrupt exit).
pub struct ShutdownSignals {
    rt: tokio::runtime::Runtime,
    interrupt: Signal,
    terminate: Signal,
}

impl ShutdownSignals {
    /// Installs the handlers.
    pub fn install() -> io::Result<Self> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (interrupt, terminate) = {
            let _in_runtime = rt.enter();
            (
                signal(SignalKind::interrupt())?,
                signal(SignalKind::terminate())?,
            )
        };
        Ok(ShutdownSignals {
            rt,
            interrupt,
            terminate,
        })
    }

    /// Blocks until one of the signals arrives.
    pub fn wait(mut self) {
        self.rt.block_on(async {
            tokio::select! {
                _ = self.interrupt.recv() => {}
                _ = self.terminate.recv() => {}
            }
        });
    }
}
