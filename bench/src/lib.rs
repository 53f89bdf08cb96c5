#![deny(missing_docs)]
#![doc(test(attr(deny(warnings))))]
//! seine benchmark suite: the echo load generator's parts, the tokio baseline servers'
//! shared plumbing, and the helpers `bench/run.sh` uses (CPU accounting from `/proc`, a
//! hand-written log-bucket latency histogram, a tiny argument parser and JSON writer).
//!
//! The binaries are the interface: `loadgen` (TCP, or UDP with `--udp`), `tokio_framed`,
//! `tokio_raw`, `tokio_udp_echo`, `idle_conns`,
//! `runstat` and `bench_report`. See `bench/README.md`.

pub mod args;
pub mod cpu;
pub mod hist;
pub mod json;
pub mod loadgen;
pub mod pattern;
pub mod server;
pub mod udp;
