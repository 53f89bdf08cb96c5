//! Datagram (UDP) channels on the same pipeline as streams.
//!
//! * **Messages.** The head fires one [`DatagramPacket`](seine_channel::DatagramPacket)
//!   per datagram (a `Bytes` slice of a pooled receive block: no copy, no
//!   allocation per datagram) and sends each `DatagramPacket` written as one
//!   datagram.
//! * **Batches.** One `recvmmsg` receives up to [`DatagramOptions::batch`]
//!   datagrams; one `sendmmsg` per flush sends what the read batch wrote, runs of
//!   equal-size datagrams to one peer as one UDP GSO message where the kernel has
//!   `UDP_SEGMENT`. GRO on receive is an option. [`DatagramPath`] says which path
//!   is in use (logged once).
//! * **Backpressure.** The water marks count queued datagrams; a full send
//!   buffer (`EAGAIN`) waits for writability; a datagram the kernel refuses fails
//!   its write alone. Every drop is counted in [`DatagramMetrics`].

mod bootstrap;
mod driver;
mod gso;
mod metrics;
mod mmsg;
mod options;
mod pool;
mod socket;
mod writer;

pub use bootstrap::{DatagramBootstrap, DatagramEndpoint};
pub use metrics::DatagramMetrics;
pub use options::DatagramOptions;
pub use socket::DatagramPath;
