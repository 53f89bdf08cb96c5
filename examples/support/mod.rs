//! What the examples share. (Signal handling and the drain are the transport's:
//! `seine::transport::ShutdownSignals`.)

// Each example uses a part of these.
#[allow(dead_code)]
pub mod access_log;
#[allow(dead_code)]
pub mod metrics;
