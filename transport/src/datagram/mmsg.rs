//! `recvmmsg(2)` and `sendmmsg(2)`: many datagrams per system call, with the
//! control messages UDP GRO/GSO need; the socket's receive-queue drop count.
//!
//! Both keep their `mmsghdr`/`iovec`/address/control arrays between calls (no
//! allocation per batch once warm); the pointers in them are set right before each
//! call and point into memory the caller keeps borrowed for the call.

use std::io;
use std::mem::{size_of, zeroed};
use std::net::SocketAddr;
use std::os::fd::RawFd;

/// `SO_MEMINFO` (asm-generic/socket.h): the socket's memory counters, among them
/// `SK_MEMINFO_DROPS`, the datagrams dropped at its receive queue. Read once in a
/// while by the driver rather than with every datagram (`SO_RXQ_OVFL` would cost
/// a control message per datagram, a few percent of the kernel's receive path).
const SO_MEMINFO: libc::c_int = 55;
/// The counters `SO_MEMINFO` fills (`SK_MEMINFO_VARS`, Linux 4.6+).
const SK_MEMINFO_VARS: usize = 9;

/// The socket's cumulative count of datagrams dropped at its receive queue, or
/// `None` where the kernel does not say (before Linux 4.6).
pub(crate) fn kernel_drops(fd: RawFd) -> Option<u32> {
    let mut info = [0u32; SK_MEMINFO_VARS];
    let mut len = size_of::<[u32; SK_MEMINFO_VARS]>() as libc::socklen_t;
    // SAFETY: `fd` is a socket; the kernel writes at most `len` bytes into `info`
    // and the length it wrote into `len`.
    let r = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            SO_MEMINFO,
            info.as_mut_ptr().cast(),
            &mut len,
        )
    };
    let drops = libc::SK_MEMINFO_DROPS as usize;
    (r == 0 && len as usize >= (drops + 1) * size_of::<u32>()).then(|| info[drops])
}

/// Room for the control messages of one datagram: `UDP_GRO` (an int) received,
/// `UDP_SEGMENT` (a u16) sent. Each takes `CMSG_SPACE(4)` = 24 bytes on 64-bit
/// Linux.
const CMSG_ROOM: usize = 64;

/// A control-message buffer aligned as `cmsghdr` requires.
#[derive(Clone, Copy)]
#[repr(C, align(8))]
struct Cmsg([u8; CMSG_ROOM]);

/// What the kernel said about one received datagram.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct RecvMeta {
    /// Bytes received into the slot (at most the slot's size).
    pub(crate) len: usize,
    /// The sender, if the kernel gave one.
    pub(crate) sender: Option<SocketAddr>,
    /// The datagram was longer than the slot: its tail was cut (`MSG_TRUNC`).
    pub(crate) truncated: bool,
    /// GRO coalesced several datagrams of this size into the slot.
    pub(crate) segment: Option<usize>,
}

/// Reusable `recvmmsg` arrays for up to `batch` datagrams.
pub(crate) struct Receiver {
    hdrs: Vec<libc::mmsghdr>,
    iovs: Vec<libc::iovec>,
    names: Vec<libc::sockaddr_storage>,
    cmsgs: Vec<Cmsg>,
    /// The buffer, slot size and count the headers were last set up for: the
    /// receive pool hands back the same block call after call, and then only
    /// what the kernel wrote is reset.
    prepared: Option<(usize, usize, usize)>,
    /// Headers the last call filled (their lengths and flags to reset).
    filled: usize,
}

impl Receiver {
    pub(crate) fn new(batch: usize) -> Self {
        let batch = batch.max(1);
        Receiver {
            // SAFETY: `mmsghdr`, `iovec` and `sockaddr_storage` are plain C structs
            // for which all-zero bytes are a valid value (null pointers, zero lengths).
            hdrs: (0..batch).map(|_| unsafe { zeroed() }).collect(),
            iovs: (0..batch)
                .map(|_| libc::iovec {
                    iov_base: std::ptr::null_mut(),
                    iov_len: 0,
                })
                .collect(),
            // SAFETY: as above.
            names: (0..batch).map(|_| unsafe { zeroed() }).collect(),
            cmsgs: vec![Cmsg([0; CMSG_ROOM]); batch],
            prepared: None,
            filled: 0,
        }
    }

    /// How many datagrams one call can receive.
    pub(crate) fn batch(&self) -> usize {
        self.hdrs.len()
    }

    /// Receives up to `min(batch, buf.len() / slot)` datagrams with one
    /// `recvmmsg(MSG_DONTWAIT)`, datagram `i` into `buf[i * slot..(i + 1) * slot]`,
    /// and fills `meta` (cleared first) with one entry per datagram received.
    /// `WouldBlock` when nothing is waiting.
    pub(crate) fn recv(
        &mut self,
        fd: RawFd,
        buf: &mut [u8],
        slot: usize,
        meta: &mut Vec<RecvMeta>,
    ) -> io::Result<usize> {
        meta.clear();
        let n = self.hdrs.len().min(buf.len() / slot.max(1));
        if n == 0 {
            return Ok(0);
        }
        let base = buf.as_mut_ptr();
        if self.prepared == Some((base as usize, slot, n)) {
            // The same layout as the last call: only the headers the kernel
            // filled then changed.
            self.hdrs[..self.filled].iter_mut().for_each(reset_lengths);
        } else {
            // SAFETY: `n <= buf.len() / slot`, so `n` slots of `slot` bytes from
            // `base` lie inside `buf`.
            unsafe { self.prepare(base, slot, n) };
        }
        self.filled = 0;
        // SAFETY: the first `n` headers point at `n` iovecs covering disjoint
        // `slot`-byte parts of `buf`, at `names[i]` (with its full size) and at
        // `cmsgs[i]` (CMSG_ROOM bytes); all of them live in `self` or `buf`, which
        // this call borrows mutably until it returns, and the kernel writes only
        // within the lengths given. A null timeout means none.
        let got = unsafe {
            libc::recvmmsg(
                fd,
                self.hdrs.as_mut_ptr(),
                n as libc::c_uint,
                libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
            )
        };
        if got < 0 {
            return Err(io::Error::last_os_error());
        }
        let got = got as usize;
        self.filled = got;
        for i in 0..got {
            let h = &self.hdrs[i];
            let len = (h.msg_len as usize).min(slot);
            let sender = sockaddr_to_std(&self.names[i], h.msg_hdr.msg_namelen);
            let truncated = h.msg_hdr.msg_flags & libc::MSG_TRUNC != 0;
            let segment = parse_recv_cmsgs(&h.msg_hdr);
            meta.push(RecvMeta {
                len,
                sender,
                truncated,
                segment,
            });
        }
        Ok(got)
    }

    /// Points the first `n` headers at `slot`-byte parts of the buffer at
    /// `base`, and at their name and control buffers, with full lengths.
    ///
    /// # Safety
    ///
    /// `base` must point at a buffer of at least `n * slot` bytes.
    unsafe fn prepare(&mut self, base: *mut u8, slot: usize, n: usize) {
        for i in 0..n {
            // SAFETY: `i * slot + slot <= n * slot`, inside the buffer the
            // caller vouches for.
            self.iovs[i].iov_base = unsafe { base.add(i * slot) }.cast();
            self.iovs[i].iov_len = slot;
            let h = &mut self.hdrs[i].msg_hdr;
            h.msg_name = (&raw mut self.names[i]).cast();
            h.msg_iov = &raw mut self.iovs[i];
            h.msg_iovlen = 1;
            h.msg_control = (&raw mut self.cmsgs[i]).cast();
            reset_lengths(&mut self.hdrs[i]);
        }
        self.prepared = Some((base as usize, slot, n));
    }
}

/// Gives a receive header back the full lengths of its name and control
/// buffers, and clears what the kernel reported in it last time.
fn reset_lengths(h: &mut libc::mmsghdr) {
    h.msg_hdr.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    h.msg_hdr.msg_controllen = CMSG_ROOM as _;
    h.msg_hdr.msg_flags = 0;
    h.msg_len = 0;
}

/// Reads `UDP_GRO` from a received header's control data.
fn parse_recv_cmsgs(h: &libc::msghdr) -> Option<usize> {
    let mut segment = None;
    if h.msg_control.is_null() || h.msg_controllen == 0 {
        return segment;
    }
    // SAFETY: `h` was filled by `recvmmsg`: `msg_control` points at our CMSG_ROOM
    // buffer and `msg_controllen` is what the kernel wrote into it, so the CMSG_*
    // macros walk only initialized headers inside that buffer. Each payload is read
    // unaligned, with the size the kernel documents for its type.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(h);
        while !c.is_null() {
            let level = (*c).cmsg_level;
            let ty = (*c).cmsg_type;
            let data = libc::CMSG_DATA(c);
            if level == libc::SOL_UDP && ty == libc::UDP_GRO {
                let v = std::ptr::read_unaligned(data.cast::<libc::c_int>());
                if v > 0 {
                    segment = Some(v as usize);
                }
            }
            c = libc::CMSG_NXTHDR(h, c);
        }
    }
    segment
}

/// A `sockaddr_storage` the kernel filled (`len` bytes) as a `SocketAddr`.
fn sockaddr_to_std(s: &libc::sockaddr_storage, len: libc::socklen_t) -> Option<SocketAddr> {
    let len = len as usize;
    match s.ss_family as libc::c_int {
        libc::AF_INET if len >= size_of::<libc::sockaddr_in>() => {
            // SAFETY: the family says the storage holds a `sockaddr_in`, and
            // `sockaddr_storage` is large and aligned enough for it.
            let a = unsafe { &*(s as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>() };
            let ip = std::net::Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr));
            Some(SocketAddr::from((ip, u16::from_be(a.sin_port))))
        }
        libc::AF_INET6 if len >= size_of::<libc::sockaddr_in6>() => {
            // SAFETY: as above, for `sockaddr_in6`.
            let a = unsafe { &*(s as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>() };
            let ip = std::net::Ipv6Addr::from(a.sin6_addr.s6_addr);
            Some(SocketAddr::V6(std::net::SocketAddrV6::new(
                ip,
                u16::from_be(a.sin6_port),
                a.sin6_flowinfo,
                a.sin6_scope_id,
            )))
        }
        _ => None,
    }
}

/// One message to send: `iovs` slices (gathered into one datagram, or cut into
/// `segment`-byte datagrams by UDP GSO), to `to` (`None`: the connected peer).
pub(crate) struct OutMsg<'a> {
    pub(crate) iovs: &'a [std::io::IoSlice<'a>],
    pub(crate) to: Option<SocketAddr>,
    pub(crate) segment: Option<u16>,
}

/// Reusable `sendmmsg` arrays.
pub(crate) struct Sender {
    hdrs: Vec<libc::mmsghdr>,
    names: Vec<socket2::SockAddr>,
    cmsgs: Vec<Cmsg>,
}

impl Sender {
    pub(crate) fn new() -> Self {
        Sender {
            hdrs: Vec::new(),
            names: Vec::new(),
            cmsgs: Vec::new(),
        }
    }

    /// Sends `msgs` with one `sendmmsg(MSG_DONTWAIT | MSG_NOSIGNAL)`; returns how
    /// many messages the kernel took (from the front). An error means the first
    /// message was not sent (`WouldBlock`: the send buffer is full).
    pub(crate) fn send(&mut self, fd: RawFd, msgs: &[OutMsg<'_>]) -> io::Result<usize> {
        let n = msgs.len();
        if n == 0 {
            return Ok(0);
        }
        self.names.clear();
        for m in msgs {
            // A placeholder keeps names[i] lined up with msgs[i]; unused if `to` is None.
            self.names.push(socket2::SockAddr::from(
                m.to.unwrap_or(SocketAddr::from(([0, 0, 0, 0], 0))),
            ));
        }
        if self.hdrs.len() < n {
            // SAFETY: all-zero is a valid `mmsghdr` (null pointers, zero lengths).
            self.hdrs.resize_with(n, || unsafe { zeroed() });
            self.cmsgs.resize(n, Cmsg([0; CMSG_ROOM]));
        }
        for (i, m) in msgs.iter().enumerate() {
            let h = &mut self.hdrs[i].msg_hdr;
            if m.to.is_some() {
                h.msg_name = self.names[i].as_ptr() as *mut libc::c_void;
                h.msg_namelen = self.names[i].len();
            } else {
                h.msg_name = std::ptr::null_mut();
                h.msg_namelen = 0;
            }
            // `IoSlice` is ABI-compatible with `iovec` on Unix (std documents it).
            h.msg_iov = m.iovs.as_ptr() as *mut libc::iovec;
            h.msg_iovlen = m.iovs.len() as _;
            h.msg_flags = 0;
            match m.segment {
                Some(seg) => {
                    let buf = &mut self.cmsgs[i];
                    h.msg_control = (&raw mut *buf).cast();
                    // SAFETY: CMSG_SPACE/CMSG_LEN only compute sizes.
                    let space = unsafe { libc::CMSG_SPACE(size_of::<u16>() as u32) } as usize;
                    h.msg_controllen = space as _;
                    // SAFETY: `msg_control` points at our aligned CMSG_ROOM buffer and
                    // `msg_controllen` (CMSG_SPACE(2) = 24 bytes) fits in it, so
                    // CMSG_FIRSTHDR returns a header inside it with room for a u16.
                    unsafe {
                        let c = libc::CMSG_FIRSTHDR(h);
                        (*c).cmsg_level = libc::SOL_UDP;
                        (*c).cmsg_type = libc::UDP_SEGMENT;
                        (*c).cmsg_len = libc::CMSG_LEN(size_of::<u16>() as u32) as _;
                        std::ptr::write_unaligned(libc::CMSG_DATA(c).cast::<u16>(), seg);
                    }
                }
                None => {
                    h.msg_control = std::ptr::null_mut();
                    h.msg_controllen = 0;
                }
            }
            self.hdrs[i].msg_len = 0;
        }
        // SAFETY: each of the first `n` headers points at its message's iovec array
        // (borrowed through `msgs` for this call; the kernel only reads it and the
        // bytes it points at), at `names[i]` with its length or at nothing, and at
        // `cmsgs[i]` with a length within it or at nothing. `self` is borrowed
        // mutably for the call, so none of that moves.
        let r = unsafe {
            libc::sendmmsg(
                fd,
                self.hdrs.as_mut_ptr(),
                n as libc::c_uint,
                libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
            )
        };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(r as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::IoSlice;
    use std::net::UdpSocket;
    use std::os::fd::AsRawFd;

    fn pair() -> (UdpSocket, UdpSocket) {
        let a = UdpSocket::bind("127.0.0.1:0").unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").unwrap();
        (a, b)
    }

    #[test]
    fn sendmmsg_then_recvmmsg_moves_a_batch_with_senders() {
        let (a, b) = pair();
        let to = b.local_addr().unwrap();
        let payloads: Vec<Vec<u8>> = (0..5u8).map(|i| vec![i; 10 + i as usize]).collect();
        let slices: Vec<[IoSlice<'_>; 1]> = payloads.iter().map(|p| [IoSlice::new(p)]).collect();
        let msgs: Vec<OutMsg<'_>> = slices
            .iter()
            .map(|s| OutMsg {
                iovs: s,
                to: Some(to),
                segment: None,
            })
            .collect();
        let mut sender = Sender::new();
        assert_eq!(sender.send(a.as_raw_fd(), &msgs).unwrap(), 5);

        let mut rx = Receiver::new(8);
        let mut buf = vec![0u8; 8 * 64];
        let mut meta = Vec::new();
        let got = rx.recv(b.as_raw_fd(), &mut buf, 64, &mut meta).unwrap();
        assert_eq!(got, 5);
        for (i, m) in meta.iter().enumerate() {
            assert_eq!(&buf[i * 64..i * 64 + m.len], &payloads[i][..]);
            assert_eq!(m.sender, Some(a.local_addr().unwrap()));
            assert!(!m.truncated);
        }
        // Nothing more: WouldBlock, not a hang.
        let e = rx.recv(b.as_raw_fd(), &mut buf, 64, &mut meta).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
    }

    #[test]
    fn a_datagram_longer_than_its_slot_is_reported_truncated() {
        let (a, b) = pair();
        a.send_to(&[7u8; 300], b.local_addr().unwrap()).unwrap();
        let mut rx = Receiver::new(2);
        let mut buf = vec![0u8; 2 * 100];
        let mut meta = Vec::new();
        assert_eq!(rx.recv(b.as_raw_fd(), &mut buf, 100, &mut meta).unwrap(), 1);
        assert!(meta[0].truncated);
        assert_eq!(meta[0].len, 100);
    }

    #[test]
    fn calls_into_the_same_buffer_reset_what_the_kernel_wrote_before() {
        let (a, b) = pair();
        let c = UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut rx = Receiver::new(2);
        let mut buf = vec![0u8; 2 * 100];
        let mut meta = Vec::new();
        // First call: one truncated datagram from `a`, one short from `c`.
        a.send_to(&[7u8; 300], b.local_addr().unwrap()).unwrap();
        c.send_to(&[8u8; 5], b.local_addr().unwrap()).unwrap();
        assert_eq!(rx.recv(b.as_raw_fd(), &mut buf, 100, &mut meta).unwrap(), 2);
        assert!(meta[0].truncated && !meta[1].truncated);
        assert_eq!((meta[0].len, meta[1].len), (100, 5));
        // Second call, same buffer (headers reused): the flags, lengths and
        // senders are this call's.
        c.send_to(&[9u8; 40], b.local_addr().unwrap()).unwrap();
        a.send_to(&[6u8; 60], b.local_addr().unwrap()).unwrap();
        assert_eq!(rx.recv(b.as_raw_fd(), &mut buf, 100, &mut meta).unwrap(), 2);
        assert!(!meta[0].truncated && !meta[1].truncated);
        assert_eq!((meta[0].len, meta[1].len), (40, 60));
        assert_eq!(meta[0].sender, Some(c.local_addr().unwrap()));
        assert_eq!(meta[1].sender, Some(a.local_addr().unwrap()));
        assert_eq!(&buf[..40], &[9u8; 40][..]);
        assert_eq!(&buf[100..160], &[6u8; 60][..]);
        // A smaller buffer: set up again, one slot.
        let mut small = vec![0u8; 100];
        a.send_to(&[5u8; 10], b.local_addr().unwrap()).unwrap();
        assert_eq!(
            rx.recv(b.as_raw_fd(), &mut small, 100, &mut meta).unwrap(),
            1
        );
        assert_eq!(&small[..10], &[5u8; 10][..]);
    }

    #[test]
    fn gathered_slices_leave_as_one_datagram_and_ipv6_senders_parse() {
        let Ok(a) = UdpSocket::bind("[::1]:0") else {
            eprintln!("skipped: no IPv6 loopback here");
            return;
        };
        let b = UdpSocket::bind("[::1]:0").unwrap();
        let parts = [IoSlice::new(b"head-"), IoSlice::new(b"tail")];
        let msgs = [OutMsg {
            iovs: &parts,
            to: Some(b.local_addr().unwrap()),
            segment: None,
        }];
        assert_eq!(Sender::new().send(a.as_raw_fd(), &msgs).unwrap(), 1);
        let mut rx = Receiver::new(1);
        let mut buf = vec![0u8; 64];
        let mut meta = Vec::new();
        rx.recv(b.as_raw_fd(), &mut buf, 64, &mut meta).unwrap();
        assert_eq!(&buf[..meta[0].len], b"head-tail");
        assert_eq!(meta[0].sender, Some(a.local_addr().unwrap()));
    }

    #[test]
    fn so_meminfo_reports_the_kernels_drop_count() {
        let (a, b) = pair();
        assert_eq!(kernel_drops(b.as_raw_fd()), Some(0), "nothing dropped yet");
        socket2::SockRef::from(&b).set_recv_buffer_size(1).unwrap();
        let to = b.local_addr().unwrap();
        for _ in 0..64 {
            a.send_to(&[1u8; 1000], to).unwrap();
        }
        let mut rx = Receiver::new(64);
        let mut buf = vec![0u8; 64 * 1024];
        let mut meta = Vec::new();
        let got = rx.recv(b.as_raw_fd(), &mut buf, 1024, &mut meta).unwrap();
        assert!(
            (1..64).contains(&got),
            "a tiny buffer holds few of 64: {got}"
        );
        let drops = kernel_drops(b.as_raw_fd()).expect("Linux 4.6+ reports drops");
        assert_eq!(
            drops as usize + got,
            64,
            "every datagram is received or counted"
        );
    }
}
