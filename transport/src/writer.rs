//! The write side of a socket channel: [`StreamTransport`], the
//! [`Transport`](seine_channel::Transport) the pipeline's head calls.
//!
//! * Memory entries (`Bytes`, `CompositeBuf`) are gathered with
//!   [`OutboundBuffer::io_slices`] into one reused `IoSlice` array per loop thread
//!   (up to `IOV_MAX` slices and the channel's write budget) and written with one
//!   `writev` per call. Slices of 512 bytes or more are never copied. Two copies
//!   are made on purpose, of small bytes only: writes under
//!   [`MERGE_WRITES_BELOW`](crate::MERGE_WRITES_BELOW) are merged into one buffer
//!   as they are queued (`ChannelConfig::merge_writes_below`), and a run of two
//!   or more slices under 512 bytes is copied into one staging slice before the
//!   `writev` ([`COALESCE_BELOW`]): a `writev` of many tiny slices costs more
//!   than copying them.
//! * A [`FileRegion`](seine_buffer::FileRegion) at the front goes out with
//!   `sendfile(2)` (chosen by the [`FilePolicy`](crate::FilePolicy)); where the kernel
//!   refuses (`EINVAL`, `EOPNOTSUPP`) or the policy says so, it is read with `pread`
//!   into a reused per-thread buffer and written (one copy). One `sendfile` call
//!   sends at most 2 MiB. A TCP socket is corked (`TCP_CORK`, nginx's
//!   `tcp_nopush`) only while a file region of more than 2 MiB goes out (more than
//!   one `sendfile` call: full segments between the calls), the cork taken off
//!   when no file region is left at the front; a smaller region leaves in one
//!   call, after its header (`MSG_MORE`), uncorked. Regions under
//!   [`SENDFILE_MIN_BYTES`](crate::sendfile::SENDFILE_MIN_BYTES) (4 KiB) are read
//!   and copied, by the default [`FilePolicy`](crate::FilePolicy).
//! * Each call loops until the socket is full (`WouldBlock`, or a short write, after
//!   which readiness is cleared without another syscall), everything is written, or
//!   the spin limit is reached (fairness between channels).

use std::cell::RefCell;
use std::io::{self, IoSlice};
use std::os::fd::AsFd;
use std::os::unix::fs::FileExt;
use std::rc::Rc;
use std::sync::Arc;

use seine_buffer::BufferError;
use seine_channel::{Channel, Error, MetricsRecorder, OutboundBuffer, Transport};
use tokio::io::Interest;

use crate::error::TransportError;
use crate::ktls::{self, RecordLayer};
use crate::options::ChannelOptions;
use crate::sendfile::{advise_willneed, is_unsupported, sendfile_region};
use crate::socket_stream::SocketStream;

/// Linux's `IOV_MAX`: the most slices one `writev` takes.
pub(crate) const IOV_MAX: usize = 1024;

/// Bytes of a file region read per `pread` when it is copied.
const COPY_CHUNK: usize = 64 * 1024;

/// How far ahead of the send position the kernel is asked to read a file
/// (`posix_fadvise(WILLNEED)`), so `sendfile` does not block the loop on the disk.
const READAHEAD_WINDOW: u64 = 4 * 1024 * 1024;

/// The most one `sendfile` call is asked to send (nginx's `sendfile_max_chunk`
/// default). On loopback a reader that keeps up lets one uncapped call run until
/// the whole region is sent, which holds the event loop (and every other channel
/// on it) for as long: a 1 GiB download was one 0.5 s call. Capped, the writer
/// counts each call against its spin limit, and the read-ahead window moves with
/// the position.
const SENDFILE_MAX_CHUNK: usize = 2 * 1024 * 1024;

thread_local! {
    /// The loop thread's gather array. Every element is an empty slice at rest.
    static IOVECS: RefCell<Box<[IoSlice<'static>]>> =
        RefCell::new(vec![IoSlice::new(&[]); IOV_MAX].into_boxed_slice());
    /// The loop thread's buffer for runs of small slices merged before a write.
    static STAGING: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    /// The loop thread's buffer for copied file chunks.
    static COPY_BUF: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// What copying one chunk of a file region did.
enum Copy {
    Shrank,
    /// The write's result, and how many bytes it was offered.
    Wrote(io::Result<usize>, usize),
    ReadErr(io::Error),
}

/// What one write call achieved.
enum Progress {
    /// The socket accepted everything offered; more may follow.
    More,
    /// The socket is full (readiness cleared): wait for it to become writable.
    Full,
}

pub(crate) struct StreamTransport<S> {
    stream: Rc<S>,
    channel: Channel,
    recorder: MetricsRecorder,
    opts: Arc<ChannelOptions>,
    sendfile_ok: bool,
    /// (file identity, position) up to which `WILLNEED` was advised.
    advised: Option<(usize, u64)>,
    /// `TCP_CORK` is on: set while a file region is sent with `sendfile`, so that
    /// each capped call does not push its last, partial segment (nginx's
    /// `tcp_nopush`); cleared (which pushes what is held) once no file region is
    /// at the front.
    corked: bool,
    /// False once the socket refused `TCP_CORK` (a Unix socket): not asked again.
    cork_ok: bool,
    /// Whether the kernel runs the TLS record layer (kTLS), shared with the reader.
    record_layer: RecordLayer,
}

impl<S: SocketStream> StreamTransport<S> {
    pub(crate) fn new(
        stream: Rc<S>,
        channel: Channel,
        recorder: MetricsRecorder,
        opts: Arc<ChannelOptions>,
        record_layer: RecordLayer,
    ) -> Self {
        StreamTransport {
            record_layer,
            stream,
            channel,
            recorder,
            opts,
            sendfile_ok: true,
            advised: None,
            corked: false,
            cork_ok: true,
        }
    }

    /// Sets or clears `TCP_CORK`. A socket that refuses it is not asked again.
    fn set_cork(&mut self, on: bool) {
        match socket2::SockRef::from(&*self.stream).set_tcp_cork(on) {
            Ok(()) => self.corked = on,
            Err(e) => {
                tracing::debug!(error = %e, "TCP_CORK refused: file bodies are sent uncorked");
                self.cork_ok = false;
                self.corked = false;
            }
        }
    }

    fn error(&self, e: io::Error, context: &'static str) -> Error {
        let err = TransportError::from_io(e, context, self.channel.peer_addr());
        if err.is_connection_reset() {
            tracing::debug!(error = %err, "peer went away during a write");
        } else {
            tracing::debug!(error = %err, "write failed");
        }
        Error::from(err)
    }

    /// One `writev` of the flushed memory entries at the front; `sendmsg` with
    /// `MSG_MORE` when a file region follows them, so the kernel holds a response
    /// header back until the `sendfile` body joins it in full segments.
    ///
    /// A small file region that will be copied anyway (below the sendfile
    /// threshold) is read first and sent in the same `writev` as the memory before
    /// it: header and body in one call instead of three (`sendmsg`, `pread`,
    /// `writev`).
    fn write_memory(&mut self, out: &mut OutboundBuffer) -> Result<Progress, Error> {
        let budget = self.opts.write_budget.max(1);
        let stream = &*self.stream;
        let next_file = out.file_after_memory();
        let inline = next_file.and_then(|f| {
            let copied = !(self.sendfile_ok && self.opts.file_policy.use_sendfile(f.remaining()));
            (copied && f.remaining() as usize <= COPY_CHUNK).then_some(f)
        });
        let more = next_file.is_some() && inline.is_none();
        let shared: &OutboundBuffer = out;
        let (res, offered) = COPY_BUF.with(|cell| {
            let mut guard = cell.try_borrow_mut().ok();
            // Read the small region whole; anything short (a file that shrank) is
            // left to `write_file`, which reports it.
            let body: Option<&[u8]> = match (inline, guard.as_mut()) {
                (Some(region), Some(buf)) => read_whole(region, buf),
                _ => None,
            };
            gather(shared, budget, body, |slices| {
                match slices {
                    _ if more => {
                        stream.try_io(Interest::WRITABLE, || send_more(stream.as_fd(), slices))
                    }
                    // One slice (a response merged whole, TLS records): `write`,
                    // which the kernel takes with less work than a `writev`.
                    [one] => stream.try_write(one),
                    _ => stream.try_write_vectored(slices),
                }
            })
        });
        self.finish_write(out, res, offered, "writev")
    }

    /// Accounts for a write of `offered` bytes from the front of `out` (memory or a
    /// copied file chunk): advances, and tells whether the socket is full.
    fn finish_write(
        &self,
        out: &mut OutboundBuffer,
        res: io::Result<usize>,
        offered: usize,
        context: &'static str,
    ) -> Result<Progress, Error> {
        let stream = &*self.stream;
        match res {
            Ok(n) => {
                self.recorder.record_copy_write(n);
                out.advance(n);
                if n < offered {
                    stream.clear_write_ready();
                    Ok(Progress::Full)
                } else {
                    Ok(Progress::More)
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(Progress::Full),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(Progress::More),
            Err(e) => Err(self.error(e, context)),
        }
    }

    /// Sends (part of) the file region at the front.
    fn write_file(&mut self, out: &mut OutboundBuffer) -> Result<Progress, Error> {
        let region = out.front_file().expect("front is a file region");
        let remaining = region.remaining();
        if self.sendfile_ok && self.opts.file_policy.use_sendfile(remaining) {
            let key = Arc::as_ptr(region.file()) as usize;
            let pos = region.current_position();
            let advised_to = match self.advised {
                Some((k, end)) if k == key && end > pos => end,
                _ => pos,
            };
            if remaining > SENDFILE_MAX_CHUNK as u64 && advised_to < pos + READAHEAD_WINDOW / 2 {
                let end = (region.position() + region.count()).min(pos + READAHEAD_WINDOW);
                if end > advised_to {
                    advise_willneed(region.file(), advised_to, end - advised_to);
                }
                self.advised = Some((key, end));
            }
            if !self.corked && self.cork_ok && remaining > SENDFILE_MAX_CHUNK as u64 {
                self.set_cork(true);
            }
            let stream = &*self.stream;
            let res = stream.try_io(Interest::WRITABLE, || {
                sendfile_region(stream.as_fd(), region, SENDFILE_MAX_CHUNK)
            });
            return match res {
                Ok(0) => {
                    let err = Error::from(BufferError::FileShrank {
                        position: pos,
                        expected: remaining,
                        available: 0,
                    });
                    out.fail_front(err.clone());
                    Err(err)
                }
                Ok(n) => {
                    self.recorder.record_sendfile(n);
                    out.advance(n);
                    // A short count is a full socket or a file that ended early;
                    // only the next call can tell (EAGAIN, or 0 for the file).
                    Ok(Progress::More)
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(Progress::Full),
                Err(e) if is_unsupported(&e) => {
                    tracing::debug!(error = %e, "sendfile refused here: copying file regions instead");
                    self.sendfile_ok = false;
                    Ok(Progress::More)
                }
                Err(e) => Err(self.error(e, "sendfile")),
            };
        }
        self.copy_file(out)
    }

    /// `pread` a chunk of the front file region into the thread's buffer and write it.
    fn copy_file(&mut self, out: &mut OutboundBuffer) -> Result<Progress, Error> {
        let region = out.front_file().expect("front is a file region");
        let remaining = region.remaining();
        let pos = region.current_position();
        let want = usize::try_from(remaining).map_or(COPY_CHUNK, |r| r.min(COPY_CHUNK));
        let stream = &*self.stream;
        let outcome = COPY_BUF.with(|cell| {
            let mut local = Vec::new();
            let mut guard = cell.try_borrow_mut();
            let buf = match guard.as_mut() {
                Ok(b) => &mut **b,
                Err(_) => &mut local,
            };
            if buf.len() < want {
                buf.resize(want, 0);
            }
            let read = loop {
                match region.file().read_at(&mut buf[..want], pos) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    r => break r,
                }
            };
            match read {
                Ok(0) => Copy::Shrank,
                Ok(got) => {
                    Copy::Wrote(stream.try_write_vectored(&[IoSlice::new(&buf[..got])]), got)
                }
                Err(e) => Copy::ReadErr(e),
            }
        });
        match outcome {
            Copy::Shrank => {
                let err = Error::from(BufferError::FileShrank {
                    position: pos,
                    expected: remaining,
                    available: 0,
                });
                out.fail_front(err.clone());
                Err(err)
            }
            Copy::Wrote(res, got) => self.finish_write(out, res, got, "write of a file region"),
            Copy::ReadErr(e) => {
                let err = Error::from(BufferError::Io {
                    op: "pread",
                    source: e,
                });
                out.fail_front(err.clone());
                Err(err)
            }
        }
    }
}

/// Reads all of `region`'s remaining bytes into `buf` (one `pread`, looping on a
/// short read); `None` if the file ended first or the read failed (the regular
/// file path then reports it).
fn read_whole<'b>(region: &seine_buffer::FileRegion, buf: &'b mut Vec<u8>) -> Option<&'b [u8]> {
    let want = usize::try_from(region.remaining()).ok()?;
    if buf.len() < want {
        buf.resize(want, 0);
    }
    let mut got = 0;
    while got < want {
        match region
            .file()
            .read_at(&mut buf[got..want], region.current_position() + got as u64)
        {
            Ok(0) => return None,
            Ok(k) => got += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
    Some(&buf[..want])
}

/// `sendmsg(slices, MSG_MORE | MSG_NOSIGNAL)`: a gathered write that tells the
/// kernel more data follows at once.
fn send_more(fd: std::os::fd::BorrowedFd<'_>, slices: &[IoSlice<'_>]) -> io::Result<usize> {
    use nix::sys::socket::{MsgFlags, SockaddrStorage, sendmsg};
    use std::os::fd::AsRawFd;
    sendmsg::<SockaddrStorage>(
        fd.as_raw_fd(),
        slices,
        &[],
        // nix has no MSG_MORE constant; libc's value, with MSG_NOSIGNAL.
        MsgFlags::from_bits_retain(libc::MSG_MORE | libc::MSG_NOSIGNAL),
        None,
    )
    .map_err(io::Error::from)
}

/// Slices shorter than this are copied into one staging buffer when two or more
/// of them stand together: a run of tiny iovecs (a 4-byte length header and a
/// 64-byte frame, over and over) costs the kernel and the receiver more, fragment
/// by fragment, than one small copy. Measured on the 64-byte echo: `writev` of 32
/// such slices took 7 us per call under strace where one contiguous `send` of the
/// same bytes took 5 us, and the peer spent twice the CPU reading them.
const COALESCE_BELOW: usize = 512;

/// Fills the thread's gather array from `out` and hands the filled part to `write`
/// (runs of small slices merged through the staging buffer, see
/// [`COALESCE_BELOW`]); returns its result and the bytes offered.
fn gather<R>(
    out: &OutboundBuffer,
    budget: usize,
    extra: Option<&[u8]>,
    write: impl FnOnce(&[IoSlice<'_>]) -> R,
) -> (R, usize) {
    IOVECS.with(|cell| {
        STAGING.with(|st| match (cell.try_borrow_mut(), st.try_borrow_mut()) {
            (Ok(mut arr), Ok(mut staging)) => {
                let arr: &mut [IoSlice<'static>] = &mut arr;
                // SAFETY: `IoSlice<'_>` and `IoSlice<'static>` have the same layout.
                // The elements written here borrow `out` and `staging`, both of which
                // outlive this block; every one of them is reset to an empty
                // `'static` slice below, before this borrow of the array ends, so at
                // rest the array holds only `'static` slices again. Nothing reads the
                // elements in between except `write`, within this block.
                let arr: &mut [IoSlice<'_>] =
                    unsafe { std::slice::from_raw_parts_mut(arr.as_mut_ptr().cast(), arr.len()) };
                let (n, mut bytes) = out.io_slices(arr, budget);
                let mut m = coalesce(&mut arr[..n], &mut staging);
                // The extra slice (a small file body) only directly after every
                // memory entry: `io_slices` stopped at the file, not at a limit.
                if let Some(extra) = extra
                    && m < arr.len()
                    && bytes < budget
                    && bytes == out.memory_before_file()
                {
                    arr[m] = IoSlice::new(extra);
                    m += 1;
                    bytes += extra.len();
                }
                let r = write(&arr[..m]);
                for s in &mut arr[..n.max(m)] {
                    *s = IoSlice::new(&[]);
                }
                (r, bytes)
            }
            _ => {
                // Re-entered on this thread (not expected): a small array of its own.
                let mut arr = [IoSlice::new(&[]); 64];
                let (n, bytes) = out.io_slices(&mut arr, budget);
                (write(&arr[..n]), bytes)
            }
        })
    })
}

/// Merges every run of two or more consecutive slices shorter than
/// [`COALESCE_BELOW`] into one slice of `staging` (a copy of those bytes only);
/// compacts `iov` in place and returns how many slices it now holds. Order and
/// content are unchanged.
fn coalesce<'a>(iov: &mut [IoSlice<'a>], staging: &'a mut Vec<u8>) -> usize {
    let small = |s: &IoSlice<'_>| s.len() < COALESCE_BELOW;
    // Pass 1: copy each run into `staging`, remembering (first, end, offset).
    let mut runs: smallvec::SmallVec<[(usize, usize, usize); 8]> = smallvec::SmallVec::new();
    staging.clear();
    let mut i = 0;
    while i < iov.len() {
        if !small(&iov[i]) || i + 1 == iov.len() || !small(&iov[i + 1]) {
            i += 1;
            continue;
        }
        let (first, offset) = (i, staging.len());
        while i < iov.len() && small(&iov[i]) {
            staging.extend_from_slice(&iov[i]);
            i += 1;
        }
        runs.push((first, i, offset));
    }
    if runs.is_empty() {
        return iov.len();
    }
    // Pass 2: compact, each run becoming one slice of `staging`.
    let staging: &'a Vec<u8> = staging;
    let (mut read, mut write) = (0, 0);
    for (k, &(first, end, offset)) in runs.iter().enumerate() {
        while read < first {
            iov[write] = iov[read];
            read += 1;
            write += 1;
        }
        let stop = runs.get(k + 1).map_or(staging.len(), |next| next.2);
        iov[write] = IoSlice::new(&staging[offset..stop]);
        write += 1;
        read = end;
    }
    while read < iov.len() {
        iov[write] = iov[read];
        read += 1;
        write += 1;
    }
    write
}

impl<S: SocketStream> Transport for StreamTransport<S> {
    /// The loop's clock: one read per driver turn ([`crate::clock`]).
    fn now(&self) -> std::time::Instant {
        crate::clock::now()
    }

    fn flush(&mut self, out: &mut OutboundBuffer) -> Result<(), Error> {
        let mut spins = self.opts.write_spin.max(1);
        while out.has_flushed() && spins > 0 {
            spins -= 1;
            let progress = if out.front_file().is_some() {
                self.write_file(out)?
            } else {
                self.write_memory(out)?
            };
            if let Progress::Full = progress {
                break;
            }
        }
        if self.corked && out.front_file().is_none() {
            // The file is sent (or the channel moved on to memory): push the
            // last partial segment now rather than after the kernel's 200 ms.
            self.set_cork(false);
        }
        Ok(())
    }

    fn executor(&self) -> Option<&dyn seine_channel::Executor> {
        Some(&crate::executor::TokioExecutor)
    }

    fn shutdown_output(&mut self) -> Result<(), Error> {
        if self.record_layer.is_offloaded() {
            // The TLS handler's graceful close: close_notify before the FIN. A
            // send buffer too full for two bytes leaves the peer a bare FIN
            // (which it reports as a truncation, as it should).
            if let Err(e) = ktls::send_close_notify(self.stream.as_fd()) {
                tracing::debug!(error = %e, "kTLS: close_notify not sent");
            }
        }
        socket2::SockRef::from(&*self.stream)
            .shutdown(std::net::Shutdown::Write)
            .map_err(|e| self.error(e, "shutdown(SHUT_WR)"))
    }

    fn close(&mut self) {
        // The socket closes when the driver drops its last handle to it, right after
        // the channel reports closed.
    }

    fn offload_tls(
        &mut self,
        setup: &mut dyn FnMut(std::os::fd::BorrowedFd<'_>) -> io::Result<()>,
    ) -> io::Result<()> {
        if self.record_layer.is_offloaded() {
            return Err(io::ErrorKind::AlreadyExists.into());
        }
        setup(self.stream.as_fd())?;
        self.record_layer.set_offloaded();
        tracing::debug!("kTLS: the kernel runs the TLS record layer");
        Ok(())
    }

    fn abort(&mut self) {
        // A linger of zero makes the close send a reset and drop unsent data.
        let sock = socket2::SockRef::from(&*self.stream);
        if let Err(e) = sock.set_linger(Some(std::time::Duration::ZERO)) {
            tracing::debug!(error = %e, "SO_LINGER 0 refused: the close sends a FIN");
        }
    }
}

#[cfg(test)]
mod coalesce_tests {
    use super::*;

    fn run(parts: &[Vec<u8>]) -> (usize, Vec<u8>, Vec<usize>) {
        let mut iov: Vec<IoSlice<'_>> = parts.iter().map(|p| IoSlice::new(p)).collect();
        let mut staging = Vec::new();
        let n = coalesce(&mut iov, &mut staging);
        let joined: Vec<u8> = iov[..n].iter().flat_map(|s| s.iter().copied()).collect();
        let lens = iov[..n].iter().map(|s| s.len()).collect();
        (n, joined, lens)
    }

    #[test]
    fn runs_of_small_slices_merge_and_large_ones_stay() {
        let big = vec![9u8; 4096];
        let parts: Vec<Vec<u8>> = vec![
            vec![1; 4],
            vec![2; 64],
            vec![3; 4],
            vec![4; 64],
            big.clone(),
            vec![5; 4],
            big.clone(),
            vec![6; 10],
            vec![7; 10],
        ];
        let (n, joined, lens) = run(&parts);
        assert_eq!(joined, parts.concat(), "content and order unchanged");
        // [4+64+4+64], big, [4] alone stays, big, [10+10]
        assert_eq!(lens, [136, 4096, 4, 4096, 20]);
        assert_eq!(n, 5);
    }

    #[test]
    fn nothing_to_merge_leaves_the_slices_alone() {
        let parts: Vec<Vec<u8>> = vec![vec![1; 4], vec![2; 4096], vec![3; 4]];
        let (n, joined, lens) = run(&parts);
        assert_eq!((n, lens), (3, vec![4, 4096, 4]));
        assert_eq!(joined, parts.concat());
    }

    #[test]
    fn all_small_becomes_one_slice() {
        let parts: Vec<Vec<u8>> = (0..1000u32)
            .map(|i| vec![i as u8; 1 + (i % 7) as usize])
            .collect();
        let (n, joined, _) = run(&parts);
        assert_eq!(n, 1);
        assert_eq!(joined, parts.concat());
    }
}
