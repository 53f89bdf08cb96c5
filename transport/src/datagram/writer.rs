//! The [`Transport`] of a datagram channel: flushed datagrams leave in
//! `sendmmsg` batches, runs of equal-size datagrams to one peer as UDP GSO
//! messages; a full send buffer waits for writability; a datagram the kernel
//! refuses fails alone (counted), never the channel.

use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::rc::Rc;
use std::sync::Arc;

use seine_buffer::Buf;
use seine_channel::{Channel, Error, MetricsRecorder, OutboundBuf, OutboundBuffer, Transport};
use smallvec::SmallVec;
use tokio::io::Interest;
use tokio::net::UdpSocket;

use super::gso::Run;
use super::metrics::Counters;
use super::mmsg::{OutMsg, Sender};
use crate::error::TransportError;

/// Most slices gathered into one `sendmmsg` (kept on the stack).
const MAX_IOVS: usize = 256;

pub(crate) struct DatagramTransport {
    socket: Rc<UdpSocket>,
    channel: Channel,
    recorder: MetricsRecorder,
    counters: Arc<Counters>,
    sender: Sender,
    gso: bool,
    batch: usize,
    spins: usize,
}

/// One planned message: slices `iovs[first..first + len]`, for `datagrams`
/// queued datagrams.
struct Planned {
    first: usize,
    len: usize,
    to: Option<SocketAddr>,
    run: Run,
}

impl DatagramTransport {
    pub(crate) fn new(
        socket: Rc<UdpSocket>,
        channel: Channel,
        recorder: MetricsRecorder,
        counters: Arc<Counters>,
        gso: bool,
        batch: usize,
        spins: usize,
    ) -> Self {
        DatagramTransport {
            socket,
            channel,
            recorder,
            counters,
            sender: Sender::new(),
            gso,
            batch: batch.max(1),
            spins: spins.max(1),
        }
    }

    /// One `sendmmsg` of the flushed datagrams at the front. `Ok(true)`: go on;
    /// `Ok(false)`: the socket is full (or nothing is left).
    fn send_some(&mut self, out: &mut OutboundBuffer) -> Result<bool, Error> {
        let mut iovs: SmallVec<[IoSlice<'_>; MAX_IOVS]> = SmallVec::new();
        let mut plan: SmallVec<[Planned; 64]> = SmallVec::new();
        let mut flat = None;
        let mut i = 0;
        while plan.len() < self.batch.min(64) {
            let Some((msg, to)) = out.flushed_datagram(i) else {
                break;
            };
            let len = msg.len();
            let single = matches!(msg, OutboundBuf::Bytes(_));
            if let Some(last) = plan.last_mut()
                && self.gso
                && single
                && last.to == to
                && last.len == last.run.count
                && last.run.can_join(len)
                && iovs.len() < MAX_IOVS
            {
                if let OutboundBuf::Bytes(b) = msg {
                    iovs.push(IoSlice::new(b));
                }
                last.len += 1;
                last.run.join(len);
                i += 1;
                continue;
            }
            let first = iovs.len();
            match msg {
                OutboundBuf::Bytes(b) => {
                    if iovs.len() == MAX_IOVS {
                        break;
                    }
                    iovs.push(IoSlice::new(b));
                }
                OutboundBuf::Composite(c) => {
                    let segs = c.segment_count().max(1);
                    if iovs.len() + segs > MAX_IOVS {
                        if plan.is_empty() {
                            // Larger than one gather: copy it into one buffer (rare).
                            flat = Some((c.to_vec(), to));
                        }
                        break;
                    }
                    let before = iovs.len();
                    iovs.resize(before + segs, IoSlice::new(&[]));
                    let k = c.chunks_vectored(&mut iovs[before..]);
                    iovs.truncate(before + k);
                }
                OutboundBuf::File(_) => {
                    // The head refuses file regions on datagram channels.
                    unreachable!("a file region in a datagram channel's buffer")
                }
            }
            plan.push(Planned {
                first,
                len: iovs.len() - first,
                to,
                run: Run::new(len),
            });
            i += 1;
        }
        if let Some((bytes, to)) = flat {
            drop(iovs);
            return self.send_flat(out, &bytes, to);
        }
        if plan.is_empty() {
            return Ok(false);
        }
        let msgs: SmallVec<[OutMsg<'_>; 64]> = plan
            .iter()
            .map(|p| OutMsg {
                iovs: &iovs[p.first..p.first + p.len],
                to: p.to,
                segment: p.run.segment_option(),
            })
            .collect();
        let fd = self.socket.as_raw_fd();
        let sender = &mut self.sender;
        let res = self
            .socket
            .try_io(Interest::WRITABLE, || sender.send(fd, &msgs));
        Counters::add(&self.counters.send_calls, 1);
        match res {
            Ok(k) => {
                let datagrams: usize = plan[..k].iter().map(|p| p.run.count).sum();
                let bytes: usize = plan[..k].iter().map(|p| p.run.bytes).sum();
                let gso = plan[..k].iter().filter(|p| p.run.count > 1).count();
                drop(msgs);
                drop(iovs);
                out.advance_datagrams(datagrams);
                Counters::add(&self.counters.sent, datagrams as u64);
                Counters::add(&self.counters.gso_messages, gso as u64);
                self.recorder.record_copy_write(bytes);
                Ok(true)
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(false),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(true),
            Err(e) => {
                let gso_failed = plan[0].run.count > 1;
                drop(msgs);
                drop(iovs);
                if gso_failed && is_gso_refusal(&e) {
                    tracing::info!(error = %e, "UDP GSO refused on this path: sending one datagram per message from now on");
                    self.gso = false;
                    return Ok(true);
                }
                self.fail_front(out, e);
                Ok(true)
            }
        }
    }

    /// Sends one datagram from a flat copy (a composite with too many segments).
    fn send_flat(
        &mut self,
        out: &mut OutboundBuffer,
        flat: &[u8],
        to: Option<SocketAddr>,
    ) -> Result<bool, Error> {
        let iov = [IoSlice::new(flat)];
        let msgs = [OutMsg {
            iovs: &iov,
            to,
            segment: None,
        }];
        let fd = self.socket.as_raw_fd();
        let sender = &mut self.sender;
        let res = self
            .socket
            .try_io(Interest::WRITABLE, || sender.send(fd, &msgs));
        Counters::add(&self.counters.send_calls, 1);
        match res {
            Ok(_) => {
                out.advance_datagrams(1);
                Counters::add(&self.counters.sent, 1);
                self.recorder.record_copy_write(flat.len());
                Ok(true)
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(false),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(true),
            Err(e) => {
                self.fail_front(out, e);
                Ok(true)
            }
        }
    }

    /// The kernel refused the front datagram: fail its write, count it, go on.
    fn fail_front(&mut self, out: &mut OutboundBuffer, e: io::Error) {
        let to = out
            .flushed_datagram(0)
            .and_then(|(_, to)| to)
            .map_or_else(|| self.channel.peer_addr().to_string(), |a| a.to_string());
        tracing::debug!(error = %e, to = %to, "datagram not sent: dropped");
        let err = TransportError::from_io(e, "sendmmsg", to);
        out.fail_front(err.into());
        Counters::add(&self.counters.dropped_send_failed, 1);
    }
}

/// Errors that mean "not with GSO here" (a device without checksum offload says
/// EIO; a segment over the path MTU says EINVAL).
fn is_gso_refusal(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EIO | libc::EINVAL | libc::EOPNOTSUPP | libc::ENOPROTOOPT)
    )
}

impl Transport for DatagramTransport {
    /// The loop's clock: one read per driver turn ([`crate::clock`]).
    fn now(&self) -> std::time::Instant {
        crate::clock::now()
    }

    fn flush(&mut self, out: &mut OutboundBuffer) -> Result<(), Error> {
        let mut spins = self.spins;
        while out.has_flushed() && spins > 0 {
            spins -= 1;
            if !self.send_some(out)? {
                break;
            }
        }
        Ok(())
    }

    fn shutdown_output(&mut self) -> Result<(), Error> {
        // A datagram socket has no write side to shut: nothing to tell the peer.
        Ok(())
    }

    fn close(&mut self) {
        // The socket closes when the driver drops it, after the channel reports closed.
    }
}
