//! Stopping a server on SIGINT or SIGTERM: the signal handlers, then the drain
//! ([`wait_then_drain`]). Kept apart from the rest of the support module: this
//! is the part a transport-level shutdown call replaces.

use std::io;
use std::time::Duration;

use seine::transport::{EventLoopGroup, Server};
use tokio::signal::unix::{Signal, SignalKind, signal};

/// Blocks until SIGINT or SIGTERM, then stops: the server (if any) stops
/// accepting and closes its connections within 5 s, then the loops stop within
/// 1 s.
pub fn wait_then_drain(signals: ShutdownSignals, server: Option<&Server>, group: &EventLoopGroup) {
    signals.wait();
    eprintln!("shutting down");
    if let Some(server) = server {
        server.shutdown_gracefully_blocking(Duration::from_secs(5));
    }
    group.shutdown_gracefully_blocking(Duration::from_secs(1));
}

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
