//! Running a server until the process is asked to stop (SIGINT, SIGTERM), then
//! draining it.

use std::io;
use std::time::Duration;

use tokio::signal::unix::{Signal, SignalKind, signal};

use crate::bootstrap::Server;

/// SIGINT (Ctrl-C) and SIGTERM (`kill`, systemd, Kubernetes, `docker stop`), the
/// signals a server is asked to stop with.
///
/// Install them *before* binding, so that a signal sent as soon as the server
/// accepts connections is caught (rather than ending the process at once), then
/// hand the server to [`run_until_signal`](Self::run_until_signal):
///
/// ```no_run
/// use std::time::Duration;
/// use seine_transport::{ServerBootstrap, ShutdownSignals};
/// let signals = ShutdownSignals::install()?;
/// let server = ServerBootstrap::new().child_handler(|_| Ok(())).bind("127.0.0.1:8080")?;
/// let outcome = signals.run_until_signal(&server, Duration::from_secs(30));
/// eprintln!("{outcome}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ShutdownSignals {
    rt: tokio::runtime::Runtime,
    interrupt: Signal,
    terminate: Signal,
}

impl std::fmt::Debug for ShutdownSignals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ShutdownSignals")
    }
}

/// How a [`run_until_signal`](ShutdownSignals::run_until_signal) ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShutdownOutcome {
    /// `"SIGINT"` or `"SIGTERM"`.
    pub signal: &'static str,
    /// Connections still open at the grace deadline, closed without finishing.
    pub forced: usize,
}

impl std::fmt::Display for ShutdownOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} received: drained, {} connection(s) forced at the deadline",
            self.signal, self.forced
        )
    }
}

impl ShutdownSignals {
    /// Installs handlers for SIGINT and SIGTERM (tokio's: the process keeps
    /// running when they arrive, and this value records them). Costs one thread-less
    /// tokio runtime.
    ///
    /// # Errors
    /// If the runtime or the handlers cannot be created.
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

    /// Blocks until SIGINT or SIGTERM arrives (or arrived since `install`);
    /// returns its name.
    pub fn wait(&mut self) -> &'static str {
        let (interrupt, terminate) = (&mut self.interrupt, &mut self.terminate);
        self.rt.block_on(async {
            tokio::select! {
                _ = interrupt.recv() => "SIGINT",
                _ = terminate.recv() => "SIGTERM",
            }
        })
    }

    /// Blocks until SIGINT or SIGTERM, then shuts `server` down gracefully: it
    /// stops accepting at once (serving what waits in the listen backlog), tells
    /// every connection [`ShutdownRequested`](seine_channel::ShutdownRequested),
    /// and closes what is left after `grace`. Not from inside an async task or
    /// one of the server's loops.
    pub fn run_until_signal(mut self, server: &Server, grace: Duration) -> ShutdownOutcome {
        let signal = self.wait();
        tracing::info!(signal, grace_s = grace.as_secs_f64(), "shutting down");
        let forced = self.rt.block_on(server.shutdown_gracefully(grace));
        let outcome = ShutdownOutcome { signal, forced };
        tracing::info!(%outcome, "server stopped");
        outcome
    }
}
