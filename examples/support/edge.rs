//! The flags of a server that runs behind a load balancer and is restarted one
//! process at a time, for `#[command(flatten)]`, and the calls they lead to.

use std::time::Duration;

use seine::codec::proxy::HAProxyMessageDecoder;
use seine::transport::{EventLoopGroup, Server, ShutdownSignals};

/// `--shutdown-grace SECS` and `--proxy-protocol`.
#[derive(clap::Args, Clone, Debug)]
pub struct EdgeArgs {
    /// Seconds connections get to finish after SIGTERM/SIGINT (new connections are
    /// refused at once); those still open then are closed and counted.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub shutdown_grace: u64,

    /// Require a PROXY protocol header (v1 or v2, HAProxy's send-proxy-v2) first on
    /// every connection, and use the client address it carries.
    #[arg(long)]
    pub proxy_protocol: bool,
}

impl EdgeArgs {
    /// The PROXY protocol decoder to put first in the pipeline, if asked for: a
    /// connection without a whole header after `timeout` is closed.
    pub fn proxy_decoder(&self, timeout: Duration) -> Option<HAProxyMessageDecoder> {
        self.proxy_protocol
            .then(|| HAProxyMessageDecoder::new().with_timeout(timeout))
    }

    /// The grace period.
    pub fn grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace)
    }

    /// Blocks until SIGINT or SIGTERM, drains `server` within the grace period
    /// (printing how many connections had to be forced), then stops the loops.
    pub fn run_until_signal(
        &self,
        signals: ShutdownSignals,
        server: &Server,
        group: &EventLoopGroup,
    ) {
        let outcome = signals.run_until_signal(server, self.grace());
        eprintln!("{outcome}");
        group.shutdown_gracefully_blocking(Duration::from_secs(1));
    }
}
