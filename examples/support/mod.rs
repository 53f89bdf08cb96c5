//! What the examples share, so that no example copies it: the command line
//! ([`cli`]: clap, and the flags every server takes; [`edge`]: the shutdown grace
//! and the PROXY protocol), logging ([`init_tracing`]), the access log and the
//! metrics endpoint. Signals and the drain are the transport's
//! (`seine::transport::ShutdownSignals`).
//!
//! An example uses it with `mod support;` and:
//!
//! ```text
//! #[derive(clap::Parser)]
//! // --help (from the doc comments), --version; a flag given twice: the last wins
//! #[command(name = "echo", version, args_override_self = true)]
//! struct Args {
//!     #[command(flatten)]
//!     server: support::ServerArgs<9000>, // --addr HOST:PORT (default 127.0.0.1:9000), --threads N
//!     /// Something of its own, documented here (this line is its --help text).
//!     #[arg(long, value_name = "SECS", default_value_t = 10)]
//!     timeout: u64,
//!     #[command(flatten)]
//!     edge: support::edge::EdgeArgs, // --shutdown-grace SECS, --proxy-protocol
//! }
//!
//! let args: Args = support::start();  // parses (exits 0 on --help) and starts logging
//! let signals = seine::transport::ShutdownSignals::install()?;
//! ... bind, print "listening on ADDR" ...
//! args.edge.run_until_signal(signals, &server, &group); // drains on SIGTERM
//! ```
// Each example uses part of this module.
#![allow(dead_code)]

pub mod access_log;
pub mod cli;
pub mod edge;
pub mod metrics;
pub mod tls;

#[allow(unused_imports)] // a client example (http_get) serves nothing
pub use cli::ServerArgs;

/// Parses the command line into `A` (printing help or the version and exiting 0
/// when asked, or the error and exiting 2 on a bad flag), then starts logging.
pub fn start<A: clap::Parser>() -> A {
    let args = A::parse();
    init_tracing();
    args
}

/// Logs to stderr (stdout carries the `listening on ADDR` line the tests read),
/// filtered by `RUST_LOG` (`RUST_LOG=debug`, `RUST_LOG=seine=trace`); errors only
/// when it is unset.
pub fn init_tracing() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
}

/// Prints `listening on ADDR` on stdout and flushes it: the line a script (or
/// the end-to-end tests) waits for before connecting.
pub fn announce(addr: std::net::SocketAddr) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout();
    writeln!(out, "listening on {addr}")?;
    out.flush()
}
