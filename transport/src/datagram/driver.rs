//! The datagram channel driver: one local task per socket, on its loop, owning
//! its [`ChannelCore`] (with a datagram head) and the socket.
//!
//! Each turn it waits for queued work from `Channel` handles, writability (only
//! while flushed datagrams wait) or readability (only while the pipeline wants to
//! read), then runs the work, sends, and receives up to `max_reads_per_wakeup`
//! `recvmmsg` batches, firing one [`DatagramPacket`] per datagram and one
//! `channel_read_complete` per wake-up. Calls follow [`seine_channel::transport`].

use std::io;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use seine_channel::{Channel, ChannelCore, DatagramPacket, MetricsRecorder};
use tokio::io::Interest;
use tokio::net::UdpSocket;
use tracing::Instrument;

use super::metrics::Counters;
use super::mmsg::{Receiver, RecvMeta, kernel_drops};
use super::options::DatagramOptions;
use super::pool::RecvPool;
use super::socket::DatagramPath;
use super::writer::DatagramTransport;
use crate::channel_set::ChannelSet;
use crate::clock;
use crate::driver::Initializer;
use crate::error::TransportError;
use crate::wakeup::{self, Wakeup};

/// How often, at most, the kernel's drop count is read while datagrams keep
/// coming in small batches (a full batch, the sign of a backed-up queue, reads
/// it at once).
const DROP_CHECK_EVERY: Duration = Duration::from_millis(100);

/// What one datagram channel needs to start on its loop.
pub(crate) struct DatagramParams {
    pub(crate) socket: std::net::UdpSocket,
    pub(crate) channel: Channel,
    pub(crate) recorder: MetricsRecorder,
    pub(crate) local: SocketAddr,
    pub(crate) connected: bool,
    pub(crate) init: Initializer,
    pub(crate) opts: Arc<DatagramOptions>,
    pub(crate) path: DatagramPath,
    pub(crate) counters: Arc<Counters>,
    pub(crate) sets: [Arc<ChannelSet>; 2],
    pub(crate) shard: usize,
}

/// Unregisters the channel from its sets however the task ends.
struct Registration {
    channel: Channel,
    sets: Vec<Arc<ChannelSet>>,
    shard: usize,
}

impl Drop for Registration {
    fn drop(&mut self) {
        for set in &self.sets {
            set.unregister(self.shard, &self.channel);
        }
    }
}

/// Runs one datagram socket as a channel until it closes.
pub(crate) async fn run_datagram(p: DatagramParams) {
    let span = tracing::debug_span!("datagram", id = %p.channel.id(), local = %p.local);
    run_inner(p).instrument(span).await
}

async fn run_inner(p: DatagramParams) {
    let mut reg = Registration {
        channel: p.channel.clone(),
        sets: Vec::new(),
        shard: p.shard,
    };
    for set in &p.sets {
        if !set.register(p.shard, &p.channel) {
            tracing::debug!("shutting down: datagram channel closed at once");
            return;
        }
        reg.sets.push(set.clone());
    }
    let socket = match UdpSocket::from_std(p.socket) {
        Ok(s) => Rc::new(s),
        Err(e) => {
            tracing::warn!(error = %e, "cannot register the datagram socket with the loop");
            return;
        }
    };
    let transport = DatagramTransport::new(
        socket.clone(),
        p.channel.clone(),
        p.recorder.clone(),
        p.counters.clone(),
        p.path.gso,
        p.opts.batch,
        p.opts.write_spin,
    );
    let mut core = ChannelCore::new_datagram(
        p.channel.clone(),
        Box::new(transport),
        p.opts.config.clone(),
    );
    if let Err(e) = (p.init)(&mut core.pipeline()) {
        tracing::warn!(error = %e, "datagram channel initializer failed: closing the socket");
        core.close_now(Some(e.into()));
        return;
    }
    core.fire_active();
    let mut reader = Reader {
        recorder: p.recorder.clone(),
        recv: Receiver::new(p.opts.batch),
        pool: RecvPool::new(p.opts.batch.max(1) * p.opts.slot(p.path.gro)),
        meta: Vec::with_capacity(p.opts.batch),
        slot: p.opts.slot(p.path.gro),
        local: p.local,
        connected: p.connected,
        counters: p.counters.clone(),
        kernel_drops: 0,
        drops_checked: None,
    };
    drive(&mut core, &socket, &mut reader, &p.opts).await;
    // What the kernel dropped since the last look is counted before the end.
    reader.count_kernel_drops(socket.as_raw_fd());
    let left = core.outbound().pending_datagrams();
    Counters::add(&p.counters.dropped_at_close, left as u64);
    tracing::trace!("datagram channel closed");
    drop(core);
    drop(reg);
}

async fn drive(
    core: &mut ChannelCore,
    socket: &UdpSocket,
    reader: &mut Reader,
    opts: &DatagramOptions,
) {
    let max_reads = opts.max_reads_per_wakeup.max(1);
    let mut wakeup = Wakeup::default();
    while !core.is_closed() {
        // The turn lives in this block only; it ends, and its clock with it,
        // before the driver awaits again.
        let again = {
            let ev = wakeup::next_turn(
                core,
                &mut wakeup,
                |cx| socket.poll_send_ready(cx),
                |cx| socket.poll_recv_ready(cx),
            )
            .await;
            ev.run(
                core,
                |core| reader.read_batches(core, socket, max_reads),
                fail,
                ["waiting to send", "waiting to receive"],
            )
        };
        if again {
            tokio::task::yield_now().await;
        }
    }
}

fn fail(core: &mut ChannelCore, e: io::Error, context: &'static str) {
    let err = TransportError::from_io(e, context, core.channel().local_addr());
    tracing::debug!(error = %err, "socket error: closing the datagram channel");
    core.fail(err);
}

/// The receive side: `recvmmsg` arrays, the buffer pool, and counters.
struct Reader {
    recorder: MetricsRecorder,
    recv: Receiver,
    pool: RecvPool,
    meta: Vec<RecvMeta>,
    slot: usize,
    local: SocketAddr,
    connected: bool,
    counters: Arc<Counters>,
    /// The socket's drop count when last read.
    kernel_drops: u32,
    /// When the drop count was last read.
    drops_checked: Option<Instant>,
}

impl Reader {
    /// Up to `max_reads` batches, then `read_complete` if anything was fired.
    /// Returns whether more may be waiting (the limit was hit).
    fn read_batches(
        &mut self,
        core: &mut ChannelCore,
        socket: &UdpSocket,
        max_reads: usize,
    ) -> bool {
        let mut fired = false;
        let mut more = false;
        let mut received = 0;
        let mut full = false;
        for round in 0..max_reads {
            if !core.wants_read() {
                break;
            }
            let mut block = self.pool.take();
            let fd = socket.as_raw_fd();
            let (recv, meta, slot) = (&mut self.recv, &mut self.meta, self.slot);
            let res = socket.try_io(Interest::READABLE, || recv.recv(fd, &mut block, slot, meta));
            match res {
                Ok(n) => {
                    Counters::add(&self.counters.recv_calls, 1);
                    received += n;
                    let frozen = block.freeze();
                    fired |= self.fire(core, &frozen);
                    self.pool.hold(frozen);
                    full |= n == self.recv.batch();
                    if n < self.recv.batch() {
                        // Drained: skip the call that would say EAGAIN.
                        let _ = socket.try_io(Interest::READABLE, || {
                            Err::<(), _>(io::ErrorKind::WouldBlock.into())
                        });
                        break;
                    }
                    if round + 1 == max_reads {
                        more = true;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.pool.give_back(block);
                    break;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => self.pool.give_back(block),
                Err(e) => {
                    self.pool.give_back(block);
                    // An ICMP error for an earlier send (port unreachable): the
                    // socket is fine. A connected channel hears about it.
                    tracing::debug!(error = %e, "recvmmsg reported an error");
                    if self.connected {
                        let err =
                            TransportError::from_io(e, "recvmmsg", core.channel().peer_addr());
                        core.fire_exception(err);
                    }
                    break;
                }
            }
        }
        if received > 0 {
            // Drops happen while datagrams wait. The count is read (one system
            // call, instead of a control message per datagram) when a full
            // batch shows a backed-up queue, else at most every
            // DROP_CHECK_EVERY while datagrams come, and when the channel ends.
            let now = clock::now();
            if drops_due(full, self.drops_checked, now) {
                self.drops_checked = Some(now);
                self.count_kernel_drops(socket.as_raw_fd());
            }
        }
        let allocs = self.pool.allocations();
        let seen = self
            .counters
            .pool_allocations
            .load(std::sync::atomic::Ordering::Relaxed);
        if allocs > seen {
            Counters::add(&self.counters.pool_allocations, allocs - seen);
        }
        if fired {
            core.fire_read_complete();
        }
        more
    }

    /// Adds what the kernel dropped at the receive queue since the last look.
    fn count_kernel_drops(&mut self, fd: std::os::fd::RawFd) {
        if let Some(d) = kernel_drops(fd)
            && d != self.kernel_drops
        {
            Counters::add(
                &self.counters.dropped_kernel,
                u64::from(d.wrapping_sub(self.kernel_drops)),
            );
            self.kernel_drops = d;
        }
    }

    /// Fires the datagrams of one `recvmmsg` (slices of `block`, no copy).
    fn fire(&mut self, core: &mut ChannelCore, block: &bytes::Bytes) -> bool {
        let mut fired = false;
        let mut received = 0u64;
        let mut bytes = 0usize;
        for i in 0..self.meta.len() {
            let m = self.meta[i];
            if m.truncated {
                Counters::add(&self.counters.dropped_truncated, 1);
                tracing::debug!(sender = ?m.sender, slot = self.slot, "datagram longer than max_datagram_size: dropped");
                continue;
            }
            let start = i * self.slot;
            let seg = match m.segment {
                Some(s) if s < m.len => {
                    Counters::add(&self.counters.gro_messages, 1);
                    s
                }
                _ => m.len.max(1),
            };
            let mut off = 0;
            loop {
                let end = (off + seg).min(m.len);
                core.fire_datagram(DatagramPacket {
                    content: block.slice(start + off..start + end),
                    sender: m.sender,
                    recipient: Some(self.local),
                });
                received += 1;
                fired = true;
                off = end;
                if off >= m.len {
                    break;
                }
            }
            bytes += m.len;
        }
        Counters::add(&self.counters.received, received);
        if bytes > 0 {
            self.recorder.record_read(bytes);
        }
        fired
    }
}

/// Whether to read the kernel's drop count after a wake-up that received
/// datagrams: after a full batch, the first time, or `DROP_CHECK_EVERY` after
/// the last look.
fn drops_due(full_batch: bool, last: Option<Instant>, now: Instant) -> bool {
    full_batch || last.is_none_or(|t| now.saturating_duration_since(t) >= DROP_CHECK_EVERY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_drop_count_is_read_first_after_full_batches_and_then_periodically() {
        let t0 = Instant::now();
        assert!(drops_due(false, None, t0));
        assert!(!drops_due(false, Some(t0), t0 + Duration::from_millis(99)));
        assert!(drops_due(true, Some(t0), t0 + Duration::from_millis(1)));
        assert!(drops_due(false, Some(t0), t0 + DROP_CHECK_EVERY));
        // A clock that went backwards (another thread's turn) is not a reason.
        assert!(!drops_due(false, Some(t0 + Duration::from_secs(1)), t0));
    }
}
