//! `sendfile(2)` for [`FileRegion`] writes, and the policy that decides when to use it.
//!
//! The writer sends a region with `sendfile_region` (one `sendfile(2)` call per
//! readiness, inside `TcpStream::try_io`) when [`FilePolicy::use_sendfile`] says so,
//! and otherwise (or when `is_unsupported` says the kernel refused) `pread`s it
//! into a reused buffer and writes that. `advise_willneed` asks for readahead of
//! the next send window, so a cold file does not stall the event loop on the disk.
//!
//! # Measurement: sendfile vs pread + write (sets [`SENDFILE_MIN_BYTES`])
//!
//! `transport/examples/sendfile_vs_copy.rs`, 2026-11-24, on the project machine
//! (2 vCPU Xeon VM, Linux 6.18.44, ext4, other builds running, hence `nice -n -20`):
//! a file in the page cache sent again and again over one 127.0.0.1 TCP connection
//! (`TCP_NODELAY`), ~512 MiB per run, median of 7 runs with the two methods
//! interleaved; sender pinned to core 0, reader thread to core 1. "copy" is `pread`
//! into one reused 64 KiB buffer + `write` (what the writer's fallback does).
//! CPU is the sender thread's user + system time (`getrusage(RUSAGE_THREAD)`) per
//! GiB sent, which on loopback includes the kernel's receive processing it runs.
//!
//! ```text
//! cargo build --release -p seine-transport --example sendfile_vs_copy
//! nice -n -20 target/release/examples/sendfile_vs_copy --reps 7 --mib 512
//! ```
//!
//! Reader busy-polling `read()` (the default; the sender's own cost):
//!
//! | size | sendfile GiB/s | copy GiB/s | sendfile CPU ms/GiB | copy CPU ms/GiB | cheaper |
//! |---:|---:|---:|---:|---:|---|
//! | 4 KiB | 1.29 | 1.23 | 733 | 806 | tie (see below) |
//! | 16 KiB | 4.73 | 3.50 | 209 | 284 | sendfile |
//! | 64 KiB | 9.45 | 5.05 | 106 | 198 | sendfile |
//! | 256 KiB | 5.67 | 5.37 | 171 | 186 | sendfile |
//! | 1 MiB | 5.69 | 3.06 | 175 | 327 | sendfile |
//! | 16 MiB | 4.90 | 2.53 | 203 | 392 | sendfile |
//!
//! Repeats of that run moved single cells by up to 2x (a second run: 4 KiB 588 vs
//! 648, 16 KiB 203 vs 272, 64 KiB 119 vs 188, 256 KiB 85 vs 188, 1 MiB 142 vs 190,
//! 16 MiB 190 vs 333 ms/GiB, sendfile vs copy). Over five runs (three with this
//! reader, two with `--splice-drain`) sendfile cost less CPU at 16 KiB in all five
//! (3 to 26% less) and at 64 KiB and more in 19 of 20 cells (up to 2.8x less); at
//! 4 KiB it was a tie (sendfile ahead in three runs by up to 9%, copy in two by up
//! to 16%), and there the copy path can also share one `writev` with a header.
//!
//! With a reader that blocks in `read()` or `splice()` (`--no-spin`), sends wake it
//! with an inter-processor interrupt, which in this VM costs more than the bytes:
//! the sender is ~100% busy for either method and cells swing up to 3x between
//! identical runs, with either method ahead (64 KiB: sendfile 459 vs copy 187
//! ms/GiB in one run; 1 MiB: 484 vs 521 in the next). Those runs measure loopback
//! wake-ups in a VM rather than the two ways of moving bytes, so they do not set
//! the threshold. Not measured here: a real NIC (the probe in [`crate::probe`] tells
//! whether `sendfile` is copy-free there), many connections at once (where the copy
//! path's memory bandwidth adds up), and a cold page cache.
//!
//! That stream measurement put the line at 16 KiB. Responses measured end to end
//! moved it down: a 4 KiB file served over HTTP (`wrk -c64`, header then body,
//! pinned, 4 alternating rounds) ran at 150k req/s and 6.60 µs of server CPU per
//! request with `sendfile` (a `MSG_MORE` header, then the file) against 146k and
//! 6.73 µs with the copy (`pread`, then header and body in one `writev`); a 2 KiB
//! file was 3% faster copied. Hence [`SENDFILE_MIN_BYTES`] = 4 KiB (one page).

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, BorrowedFd};

use nix::errno::Errno;
use nix::fcntl::{PosixFadviseAdvice, posix_fadvise};
use seine_buffer::FileRegion;

/// Regions at least this long are sent with `sendfile(2)` under [`FilePolicy::Auto`];
/// shorter ones are read with `pread` into a reused buffer and written.
///
/// Set from the measurements in this module's docs: from 16 KiB up `sendfile` cost
/// the sender less CPU in every streaming run, and a 4 KiB HTTP response was
/// cheaper with it; a 2 KiB one was cheaper copied.
pub const SENDFILE_MIN_BYTES: u64 = 4 * 1024;

/// The most one `sendfile(2)` call transfers on Linux (`MAX_RW_COUNT`).
const MAX_SENDFILE: usize = 0x7fff_f000;

/// How the transport writes a [`FileRegion`] to a socket: `sendfile(2)` or
/// `pread` into a buffer + write. `Auto` (the default) decides by size.
///
/// # Examples
///
/// ```
/// use seine_transport::sendfile::{FilePolicy, SENDFILE_MIN_BYTES};
///
/// assert_eq!(FilePolicy::default(), FilePolicy::Auto);
/// assert!(FilePolicy::Auto.use_sendfile(SENDFILE_MIN_BYTES));
/// assert!(!FilePolicy::Auto.use_sendfile(SENDFILE_MIN_BYTES - 1));
/// assert!(FilePolicy::ForceSendfile.use_sendfile(1));
/// assert!(!FilePolicy::ForceCopy.use_sendfile(u64::MAX));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum FilePolicy {
    /// `sendfile(2)` for regions of at least [`SENDFILE_MIN_BYTES`], `pread` + write
    /// for smaller ones (where the measured cost of `sendfile` is not repaid).
    #[default]
    Auto,
    /// Always `sendfile(2)` (still falls back to copying where the kernel refuses it).
    ForceSendfile,
    /// Never `sendfile(2)`: always `pread` into a buffer and write it.
    ForceCopy,
}

impl FilePolicy {
    /// Whether a region of `region_len` bytes should be sent with `sendfile(2)`. O(1).
    pub fn use_sendfile(&self, region_len: u64) -> bool {
        match self {
            FilePolicy::Auto => region_len >= SENDFILE_MIN_BYTES,
            FilePolicy::ForceSendfile => true,
            FilePolicy::ForceCopy => false,
        }
    }
}

/// Sends the next `min(region.remaining(), max)` bytes of `region` (from
/// [`FileRegion::current_position`]) to `sock` with ONE `sendfile(2)` call.
///
/// The offset is passed explicitly, so the file's own offset is untouched and clones
/// of the region can share the descriptor. The region is not advanced: the caller
/// calls [`FileRegion::advance`] with the returned count.
///
/// Returns the bytes sent (a short count is normal on a non-blocking socket).
/// `Ok(0)` while `region.remaining() > 0` (and `max > 0`) means the file ended
/// before the region did: it was truncated after the region was made.
///
/// # Errors
///
/// * [`io::ErrorKind::WouldBlock`] when the socket's send buffer is full (use it
///   inside `TcpStream::try_io`, which then clears the readiness);
/// * an error for which [`is_unsupported`] is true when this file/socket pair cannot
///   use `sendfile` (`EINVAL`, `EOPNOTSUPP`, `ENOSYS`): fall back to `pread` + write;
/// * any other OS error as is (`EPIPE`, `ECONNRESET`, `EIO`, ...).
///
/// `EINTR` is retried here.
pub(crate) fn sendfile_region(
    sock: BorrowedFd<'_>,
    region: &FileRegion,
    max: usize,
) -> io::Result<usize> {
    let want = usize::try_from(region.remaining())
        .map_or(max, |r| r.min(max))
        .min(MAX_SENDFILE);
    if want == 0 {
        return Ok(0);
    }
    let mut offset = libc::off_t::try_from(region.current_position()).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "file region position does not fit in off_t",
        )
    })?;
    loop {
        match nix::sys::sendfile::sendfile(sock, region.file().as_fd(), Some(&mut offset), want) {
            Ok(n) => return Ok(n),
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(io::Error::from(e)),
        }
    }
}

/// Whether `e` (from [`sendfile_region`]) means "this file or socket cannot use
/// `sendfile`", so the write should fall back to `pread` + write.
pub(crate) fn is_unsupported(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EINVAL | libc::EOPNOTSUPP | libc::ENOSYS)
    )
}

/// Asks the kernel to start reading `len` bytes of `file` at `offset` into the page
/// cache (`posix_fadvise(POSIX_FADV_WILLNEED)`), so a later `sendfile` of that window
/// does not block the event loop on the disk. Returns at once; errors are ignored
/// (logged at trace level): it is only a hint.
pub(crate) fn advise_willneed(file: &File, offset: u64, len: u64) {
    let (Ok(off), Ok(len)) = (libc::off_t::try_from(offset), libc::off_t::try_from(len)) else {
        tracing::trace!(offset, len, "fadvise(WILLNEED) skipped: range beyond off_t");
        return;
    };
    if let Err(e) = posix_fadvise(file, off, len, PosixFadviseAdvice::POSIX_FADV_WILLNEED) {
        tracing::trace!(offset, len, error = %e, "fadvise(WILLNEED) failed (ignored)");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::os::unix::net::UnixStream;
    use std::sync::Arc;

    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 31 + i / 251) as u8).collect()
    }

    fn temp(data: &[u8]) -> Arc<File> {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(data).unwrap();
        Arc::new(f)
    }

    fn tcp_pair() -> (TcpStream, TcpStream) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let c = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (s, _) = l.accept().unwrap();
        (c, s)
    }

    /// Sends the whole region with `max`-sized calls, as the transport does.
    fn send_all(sock: BorrowedFd<'_>, region: &mut FileRegion, max: usize) -> usize {
        let mut calls = 0;
        while !region.is_done() {
            let n = sendfile_region(sock, region, max).unwrap();
            assert!(n > 0 && n <= max, "n = {n}");
            region.advance(n as u64);
            calls += 1;
        }
        calls
    }

    #[test]
    fn sends_regions_with_offsets_over_loopback_tcp() {
        let data = pattern(300_000);
        let file = temp(&data);
        let (tx, mut rx) = tcp_pair();
        let reader = std::thread::spawn(move || {
            let mut got = Vec::new();
            rx.read_to_end(&mut got).unwrap();
            got
        });
        let ranges = [
            (0u64, 300_000u64),
            (7, 1),
            (4095, 70_001),
            (299_999, 1),
            (5, 0),
        ];
        let mut expected = Vec::new();
        for (pos, count) in ranges {
            let mut region = FileRegion::new(file.clone(), pos, count).unwrap();
            send_all(tx.as_fd(), &mut region, 16_384);
            assert_eq!(region.transferred(), count);
            expected.extend_from_slice(&data[pos as usize..(pos + count) as usize]);
        }
        drop(tx);
        assert_eq!(reader.join().unwrap(), expected);
    }

    #[test]
    fn partial_region_and_shared_file_offset_untouched() {
        let data = pattern(10_000);
        let file = temp(&data);
        let (tx, mut rx) = UnixStream::pair().unwrap();
        let mut region = FileRegion::new(file.clone(), 100, 5_000).unwrap();
        region.advance(1_000);
        let n = sendfile_region(tx.as_fd(), &region, 700).unwrap();
        assert_eq!(n, 700);
        let mut got = vec![0; 700];
        rx.read_exact(&mut got).unwrap();
        assert_eq!(got, &data[1_100..1_800]);
        // sendfile with an explicit offset leaves the descriptor's offset alone.
        let mut f: &File = &file;
        assert_eq!(io::Seek::stream_position(&mut f).unwrap(), 10_000);
        // max = 0 and a finished region send nothing.
        assert_eq!(sendfile_region(tx.as_fd(), &region, 0).unwrap(), 0);
        region.advance(u64::MAX);
        assert_eq!(sendfile_region(tx.as_fd(), &region, 100).unwrap(), 0);
    }

    #[test]
    fn region_past_end_of_truncated_file_returns_zero() {
        let data = pattern(8_192);
        let file = temp(&data);
        let mut region = FileRegion::new(file.clone(), 4_096, 4_096).unwrap();
        file.set_len(6_000).unwrap();
        let (tx, mut rx) = UnixStream::pair().unwrap();
        let mut sent = 0;
        loop {
            let n = sendfile_region(tx.as_fd(), &region, 1 << 20).unwrap();
            if n == 0 {
                break;
            }
            sent += n;
            region.advance(n as u64);
        }
        assert_eq!(sent, 6_000 - 4_096);
        assert!(region.remaining() > 0);
        drop(tx);
        let mut got = Vec::new();
        rx.read_to_end(&mut got).unwrap();
        assert_eq!(got, &data[4_096..6_000]);
    }

    #[test]
    fn full_nonblocking_socket_would_block() {
        let file = temp(&pattern(4 << 20));
        let (tx, _rx) = UnixStream::pair().unwrap();
        tx.set_nonblocking(true).unwrap();
        let mut region = FileRegion::new(file, 0, 4 << 20).unwrap();
        let err = loop {
            match sendfile_region(tx.as_fd(), &region, 1 << 20) {
                Ok(n) => {
                    assert!(n > 0, "socket never filled");
                    region.advance(n as u64);
                }
                Err(e) => break e,
            }
        };
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock, "{err}");
        assert!(!is_unsupported(&err));
        assert!(region.transferred() > 0 && region.remaining() > 0);
    }

    #[test]
    fn unsupported_sink_is_reported_as_unsupported() {
        // sendfile refuses an O_APPEND destination with EINVAL: the caller falls back.
        let file = temp(&pattern(100));
        let sink = tempfile::NamedTempFile::new().unwrap();
        let append = std::fs::OpenOptions::new()
            .append(true)
            .open(sink.path())
            .unwrap();
        let region = FileRegion::new(file, 0, 100).unwrap();
        let err = sendfile_region(append.as_fd(), &region, 100).unwrap_err();
        assert!(is_unsupported(&err), "{err}");
        for errno in [libc::EINVAL, libc::EOPNOTSUPP, libc::ENOSYS] {
            assert!(is_unsupported(&io::Error::from_raw_os_error(errno)));
        }
        for errno in [libc::EAGAIN, libc::EPIPE, libc::EIO] {
            assert!(!is_unsupported(&io::Error::from_raw_os_error(errno)));
        }
        assert!(!is_unsupported(&io::Error::other("x")));
    }

    #[test]
    fn sendfile_to_a_pipe_sink_works_too() {
        let data = pattern(5_000);
        let file = temp(&data);
        let (mut r, w) = std::io::pipe().unwrap();
        let mut region = FileRegion::new(file, 10, 4_000).unwrap();
        send_all(w.as_fd(), &mut region, 4_000);
        drop(w);
        let mut got = Vec::new();
        r.read_to_end(&mut got).unwrap();
        assert_eq!(got, &data[10..4_010]);
    }

    #[test]
    fn advise_willneed_ignores_errors() {
        let file = temp(&pattern(4096));
        advise_willneed(&file, 0, 4096);
        advise_willneed(&file, 0, 0); // 0 = to the end
        advise_willneed(&file, u64::MAX, 1); // beyond off_t: skipped
        let (r, _w) = std::io::pipe().unwrap();
        advise_willneed(&File::from(std::os::fd::OwnedFd::from(r)), 0, 1); // ESPIPE
    }

    #[test]
    fn policy() {
        assert_eq!(FilePolicy::default(), FilePolicy::Auto);
        assert!(FilePolicy::Auto.use_sendfile(SENDFILE_MIN_BYTES));
        assert!(FilePolicy::Auto.use_sendfile(u64::MAX));
        assert!(FilePolicy::ForceSendfile.use_sendfile(0));
        assert!(!FilePolicy::ForceCopy.use_sendfile(u64::MAX));
    }
}
