//! `loadgen --udp`: the echo load generator for datagram echo servers.
//!
//! Each "connection" is a connected UDP socket keeping `inflight` datagrams of
//! `size` bytes outstanding. A load thread drives its sockets in one loop: every
//! burst of new datagrams leaves in one system call, echoes are taken with
//! `recvmmsg` (so the load tool costs less per datagram than the servers it
//! measures), and `poll` waits when a pass found nothing. Where the kernel has
//! them (and unless `--no-gso`), a burst is one UDP GSO message (`UDP_SEGMENT`:
//! the kernel cuts it into datagrams before the server's socket sees them, so the
//! server still receives one datagram at a time) and the socket takes coalesced
//! echoes (`UDP_GRO`); otherwise a burst is one `sendmmsg`. These only make the
//! load tool cheaper, so that it is not the limit of what it measures. Every echoed datagram is
//! verified whole (its sequence number, socket id and pattern). A datagram not
//! echoed is counted lost: when a later one arrives first, or when none arrived
//! for [`LOSS_TIMEOUT`]; its credit is then reused.
//!
//! Datagram layout: sequence number (u64 LE), socket id (u32 LE), then
//! `byte[i] = seq + i` (mod 256). `size` must be at least 12.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use crate::cpu;
use crate::loadgen::{Config, Report, Stats};

/// A socket with datagrams outstanding and nothing heard for this long counts them lost.
pub const LOSS_TIMEOUT: Duration = Duration::from_millis(200);
/// The header: sequence number and socket id.
pub const HEADER: usize = 12;
/// Datagrams per `recvmmsg`.
const RECV_BATCH: usize = 64;
/// Datagrams per GSO message (the kernel's `UDP_MAX_SEGMENTS` is at least 64).
const GSO_MAX_SEGMENTS: usize = 64;
/// Bytes per GSO message, within an IPv4 or IPv6 datagram's payload limit.
const GSO_MAX_BYTES: usize = 65_000;
/// Control-message room per received datagram: one `UDP_GRO` int.
const CTRL: usize = 32;

/// The kernel batching a load socket uses beyond `sendmmsg`/`recvmmsg`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Offload {
    /// A burst leaves as one GSO message (`UDP_SEGMENT` set on the socket).
    pub gso: bool,
    /// Echoes may arrive coalesced (`UDP_GRO` on).
    pub gro: bool,
}

impl std::fmt::Display for Offload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match (self.gso, self.gro) {
            (true, true) => "GSO sends, GRO receives",
            (true, false) => "GSO sends, recvmmsg",
            (false, true) => "sendmmsg, GRO receives",
            (false, false) => "sendmmsg, recvmmsg",
        })
    }
}

fn set_udp_opt(fd: i32, opt: libc::c_int, val: libc::c_int) -> bool {
    // SAFETY: `val` is a live c_int and its size is passed with it.
    let r = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_UDP,
            opt,
            (&val as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    r == 0
}

/// Turns on GSO for `size`-byte datagrams (when two fit in one message) and GRO,
/// where the kernel accepts them.
pub fn enable_offload(fd: i32, size: usize) -> Offload {
    Offload {
        gso: 2 * size <= GSO_MAX_BYTES && set_udp_opt(fd, libc::UDP_SEGMENT, size as libc::c_int),
        gro: set_udp_opt(fd, libc::UDP_GRO, 1),
    }
}

/// Sends the `n` datagrams of `size` bytes laid out back to back in `buf` as GSO
/// messages of up to [`GSO_MAX_SEGMENTS`] on a connected socket whose
/// `UDP_SEGMENT` is `size`. Returns how many datagrams the kernel took.
fn send_gso(fd: i32, buf: &[u8], size: usize, n: usize) -> io::Result<usize> {
    let per = GSO_MAX_SEGMENTS.min(GSO_MAX_BYTES / size).max(1);
    let mut sent = 0;
    while sent < n {
        let k = per.min(n - sent);
        let part = &buf[sent * size..(sent + k) * size];
        // SAFETY: `part` is a live slice of `buf`, its length passed with it.
        let r = unsafe { libc::send(fd, part.as_ptr().cast(), part.len(), libc::MSG_DONTWAIT) };
        if r < 0 {
            let e = io::Error::last_os_error();
            return if sent > 0 && e.kind() == io::ErrorKind::WouldBlock {
                Ok(sent)
            } else {
                Err(e)
            };
        }
        sent += k;
    }
    Ok(sent)
}

/// Writes datagram `seq` of socket `id` into `out` (`out.len()` bytes).
pub fn fill(out: &mut [u8], seq: u64, id: u32) {
    out[..8].copy_from_slice(&seq.to_le_bytes());
    out[8..12].copy_from_slice(&id.to_le_bytes());
    for (i, b) in out[HEADER..].iter_mut().enumerate() {
        *b = (seq as u8).wrapping_add(i as u8);
    }
}

/// The sequence number of a well-formed echo of a `size`-byte datagram of socket
/// `id`, or why it is not one.
pub fn check(d: &[u8], size: usize, id: u32) -> Result<u64, String> {
    if d.len() != size {
        return Err(format!("echo of {} bytes, sent {size}", d.len()));
    }
    let seq = u64::from_le_bytes(d[..8].try_into().expect("8 bytes"));
    let got_id = u32::from_le_bytes(d[8..12].try_into().expect("4 bytes"));
    if got_id != id {
        return Err(format!("echo for socket {got_id} arrived at socket {id}"));
    }
    for (i, &b) in d[HEADER..].iter().enumerate() {
        if b != (seq as u8).wrapping_add(i as u8) {
            return Err(format!("datagram {seq}: byte {} differs", i + HEADER));
        }
    }
    Ok(seq)
}

/// `sendmmsg` of `n` datagrams of `size` bytes laid out back to back in `buf`, on
/// a connected socket. Returns how many the kernel took.
fn send_batch(
    fd: i32,
    buf: &[u8],
    size: usize,
    n: usize,
    iov: &mut Vec<libc::iovec>,
    hdr: &mut Vec<libc::mmsghdr>,
) -> io::Result<usize> {
    iov.clear();
    hdr.clear();
    for i in 0..n {
        iov.push(libc::iovec {
            iov_base: buf[i * size..].as_ptr() as *mut libc::c_void,
            iov_len: size,
        });
    }
    for v in iov.iter_mut() {
        // SAFETY: all-zero is a valid mmsghdr (null pointers, zero lengths).
        let mut h: libc::mmsghdr = unsafe { std::mem::zeroed() };
        h.msg_hdr.msg_iov = v;
        h.msg_hdr.msg_iovlen = 1;
        hdr.push(h);
    }
    // SAFETY: `hdr[i]` points at `iov[i]`, which points at `size` bytes of `buf`
    // (n * size <= buf.len()); both vectors and `buf` outlive the call and are not
    // touched during it; the socket is connected, so no address is given.
    let r = unsafe { libc::sendmmsg(fd, hdr.as_mut_ptr(), n as u32, libc::MSG_DONTWAIT) };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r as usize)
    }
}

/// What one `recvmmsg` slot received.
#[derive(Clone, Copy, Debug, Default)]
struct Got {
    len: usize,
    /// The segment size of a coalesced (GRO) receive; 0 for one datagram.
    seg: usize,
}

/// `recvmmsg` into `buf` cut in slots of `slot` bytes; `got` gets each length and,
/// where `ctrl` (`CTRL` bytes per slot) is given, each GRO segment size. A
/// truncated datagram (larger than its slot) is an error: its bytes are lost.
fn recv_batch(
    fd: i32,
    buf: &mut [u8],
    slot: usize,
    got: &mut [Got],
    mut ctrl: Option<&mut [u8]>,
    iov: &mut Vec<libc::iovec>,
    hdr: &mut Vec<libc::mmsghdr>,
) -> io::Result<usize> {
    let mut n = got.len().min(buf.len() / slot);
    if let Some(c) = ctrl.as_deref() {
        n = n.min(c.len() / CTRL);
    }
    iov.clear();
    hdr.clear();
    for i in 0..n {
        iov.push(libc::iovec {
            iov_base: buf[i * slot..].as_mut_ptr().cast(),
            iov_len: slot,
        });
    }
    for (i, v) in iov.iter_mut().enumerate() {
        // SAFETY: all-zero is a valid mmsghdr.
        let mut h: libc::mmsghdr = unsafe { std::mem::zeroed() };
        h.msg_hdr.msg_iov = v;
        h.msg_hdr.msg_iovlen = 1;
        if let Some(c) = ctrl.as_deref_mut() {
            h.msg_hdr.msg_control = c[i * CTRL..].as_mut_ptr().cast();
            h.msg_hdr.msg_controllen = CTRL as _;
        }
        hdr.push(h);
    }
    // SAFETY: `hdr[i]` points at `iov[i]`, a disjoint `slot`-byte part of `buf`,
    // and (when given) at a disjoint `CTRL`-byte part of `ctrl`, all borrowed
    // mutably for the call; no address is asked for.
    let r = unsafe {
        libc::recvmmsg(
            fd,
            hdr.as_mut_ptr(),
            n as u32,
            libc::MSG_DONTWAIT,
            std::ptr::null_mut(),
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    for (g, h) in got.iter_mut().zip(hdr.iter()).take(r as usize) {
        if h.msg_hdr.msg_flags & libc::MSG_TRUNC != 0 {
            return Err(io::Error::other(format!(
                "an echo larger than the {slot}-byte receive slot was truncated"
            )));
        }
        *g = Got {
            len: h.msg_len as usize,
            seg: gro_segment(&h.msg_hdr),
        };
    }
    Ok(r as usize)
}

/// The `UDP_GRO` segment size in a received header's control data, or 0.
fn gro_segment(m: &libc::msghdr) -> usize {
    if m.msg_control.is_null() {
        return 0;
    }
    // SAFETY: the kernel filled `msg_control` (`msg_controllen` bytes, within the
    // caller's buffer); the CMSG macros stay inside it.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(m);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_UDP && (*c).cmsg_type == libc::UDP_GRO {
                let v = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast::<libc::c_int>());
                return v.max(0) as usize;
            }
            c = libc::CMSG_NXTHDR(m, c);
        }
    }
    0
}

struct Sock {
    s: UdpSocket,
    id: u32,
    /// Datagrams sent so far (the next sequence number).
    sent: u64,
    /// The next sequence number expected back; everything below is done.
    expect: u64,
    sent_at: Box<[Instant]>,
    last_heard: Instant,
    offload: Offload,
}

#[allow(clippy::too_many_arguments)]
fn thread_main(
    mut socks: Vec<Sock>,
    size: usize,
    inflight: usize,
    start: Instant,
    end: Instant,
    limit: Option<u64>,
    deadline: Instant,
) -> Stats {
    let mut st = Stats::default();
    let mut sbuf = vec![0u8; inflight * size];
    // A coalesced echo holds at most the socket's datagrams in flight.
    let gro = socks.iter().any(|s| s.offload.gro);
    let slot = if gro {
        size.max(2048).max((inflight * size).min(65_535))
    } else {
        size.max(2048)
    };
    let mut rbuf = vec![0u8; RECV_BATCH * slot];
    let mut got = [Got::default(); RECV_BATCH];
    let mut ctrl = vec![0u8; if gro { RECV_BATCH * CTRL } else { 0 }];
    let (mut iov, mut hdr) = (Vec::new(), Vec::new());
    let k = inflight as u64;
    let mut pfds: Vec<libc::pollfd> = socks
        .iter()
        .map(|s| libc::pollfd {
            fd: s.s.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    loop {
        let now = Instant::now();
        let done = match limit {
            Some(n) => socks.iter().all(|s| s.expect >= n) || now >= deadline,
            None => now >= end,
        };
        if done {
            if limit.is_some() && now >= deadline {
                st.errors += 1;
                st.error_msgs
                    .push("timed out before every datagram was echoed".into());
            }
            return st;
        }
        let mut progress = false;
        for s in socks.iter_mut() {
            let fd = s.s.as_raw_fd();
            // Send the credits as one burst.
            let outstanding = s.sent - s.expect;
            let cap = limit.map_or(u64::MAX, |n| n - s.sent.min(n));
            let credits = (k - outstanding).min(cap) as usize;
            if credits > 0 {
                for i in 0..credits {
                    fill(&mut sbuf[i * size..(i + 1) * size], s.sent + i as u64, s.id);
                }
                let r = if s.offload.gso {
                    send_gso(fd, &sbuf, size, credits)
                } else {
                    send_batch(fd, &sbuf, size, credits, &mut iov, &mut hdr)
                };
                match r {
                    Ok(n) => {
                        let t = Instant::now();
                        for seq in s.sent..s.sent + n as u64 {
                            s.sent_at[(seq % k) as usize] = t;
                        }
                        if outstanding == 0 {
                            s.last_heard = t;
                        }
                        s.sent += n as u64;
                        progress |= n > 0;
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => {
                        // ECONNREFUSED after an ICMP error: the server is gone.
                        st.errors += 1;
                        st.error_msgs.push(format!("send: {e}"));
                        return st;
                    }
                }
            }
            // Take the echoes.
            loop {
                let c = s.offload.gro.then_some(&mut ctrl[..]);
                match recv_batch(fd, &mut rbuf, slot, &mut got, c, &mut iov, &mut hdr) {
                    Ok(n) => {
                        let t = Instant::now();
                        progress |= n > 0;
                        s.last_heard = t;
                        let counting = limit.is_some() || (t >= start && t < end);
                        for (i, g) in got.iter().enumerate().take(n) {
                            let whole = &rbuf[i * slot..i * slot + g.len];
                            let seg = if g.seg > 0 { g.seg } else { whole.len().max(1) };
                            for d in whole.chunks(seg) {
                                match check(d, size, s.id) {
                                    Ok(seq) if seq >= s.expect && seq < s.sent => {
                                        st.lost += seq - s.expect;
                                        s.expect = seq + 1;
                                        if counting {
                                            st.frames += 1;
                                            let ns = t
                                                .duration_since(s.sent_at[(seq % k) as usize])
                                                .as_nanos();
                                            st.latency.record(ns as u64);
                                        }
                                    }
                                    Ok(_) => {} // a late echo of one already counted lost
                                    Err(m) => {
                                        // As over TCP: a corrupted echo ends the run, status 2.
                                        eprintln!(
                                            "loadgen: echo verification failed on socket {}: \
                                             {m} (the server corrupted the data)",
                                            s.id
                                        );
                                        std::process::exit(2);
                                    }
                                }
                            }
                        }
                        if n < RECV_BATCH {
                            break;
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) => {
                        st.errors += 1;
                        st.error_msgs.push(format!("recvmmsg: {e}"));
                        return st;
                    }
                }
            }
            if s.sent > s.expect && s.last_heard.elapsed() > LOSS_TIMEOUT {
                st.lost += s.sent - s.expect;
                s.expect = s.sent;
            }
        }
        if !progress {
            // SAFETY: `pfds` holds one valid pollfd per socket, all open.
            unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, 1) };
        }
    }
}

/// Runs a UDP echo load as `cfg` says (`cfg.size` bytes per datagram).
pub fn run_udp(cfg: &Config) -> io::Result<Report> {
    if cfg.conns == 0 || cfg.inflight == 0 || cfg.threads == 0 {
        return Err(io::Error::other("conns, inflight and threads must be > 0"));
    }
    if cfg.size < HEADER || cfg.size > 65_507 {
        return Err(io::Error::other(format!(
            "--udp needs --size between {HEADER} and 65507 bytes"
        )));
    }
    let cpu_start_total = cpu::self_cpu_seconds();
    let mut per_thread: Vec<Vec<Sock>> = (0..cfg.threads).map(|_| Vec::new()).collect();
    let bind: SocketAddr = if cfg.addr.is_ipv4() {
        "0.0.0.0:0".parse().expect("an address")
    } else {
        "[::]:0".parse().expect("an address")
    };
    let now = Instant::now();
    for id in 0..cfg.conns {
        let s = UdpSocket::bind(bind)?;
        s.connect(cfg.addr)
            .map_err(|e| io::Error::new(e.kind(), format!("connect {}: {e}", cfg.addr)))?;
        s.set_nonblocking(true)?;
        let offload = if cfg.udp_offload {
            enable_offload(s.as_raw_fd(), cfg.size)
        } else {
            Offload::default()
        };
        if id == 0 {
            eprintln!("loadgen --udp: {offload}");
        }
        per_thread[id % cfg.threads].push(Sock {
            s,
            id: id as u32,
            sent: 0,
            expect: 0,
            sent_at: vec![now; cfg.inflight].into_boxed_slice(),
            last_heard: now,
            offload,
        });
    }
    let t0 = Instant::now();
    let (start, end) = match cfg.frames {
        Some(_) => (t0, t0 + Duration::from_secs(100 * 365 * 86_400)),
        None => (t0 + cfg.warmup, t0 + cfg.warmup + cfg.duration),
    };
    let deadline = t0 + cfg.timeout;
    let joins: Vec<_> = per_thread
        .into_iter()
        .map(|socks| {
            let (size, inflight, limit) = (cfg.size, cfg.inflight, cfg.frames);
            std::thread::spawn(move || {
                thread_main(socks, size, inflight, start, end, limit, deadline)
            })
        })
        .collect();
    crate::loadgen::finish(cfg, (start, end), t0, cpu_start_total, joins)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_filled_datagram_checks_and_a_changed_byte_does_not() {
        let mut d = vec![0u8; 64];
        fill(&mut d, 300, 7);
        assert_eq!(check(&d, 64, 7), Ok(300));
        assert!(check(&d, 64, 8).is_err(), "another socket's echo");
        assert!(check(&d[..63], 64, 7).is_err(), "a short echo");
        d[40] ^= 1;
        assert!(check(&d, 64, 7).unwrap_err().contains("byte 40"));
    }

    /// Receives into 64-byte slots until `want` datagrams (GRO segments counted
    /// one by one) arrived; returns them.
    fn receive(b: &UdpSocket, want: usize, gro: bool) -> Vec<Vec<u8>> {
        let (mut iov, mut hdr) = (Vec::new(), Vec::new());
        let mut rbuf = vec![0u8; 8 * 256];
        let mut got = [Got::default(); 8];
        let mut ctrl = vec![0u8; 8 * CTRL];
        let mut out = Vec::new();
        for _ in 0..1000 {
            let c = gro.then_some(&mut ctrl[..]);
            match recv_batch(
                b.as_raw_fd(),
                &mut rbuf,
                256,
                &mut got,
                c,
                &mut iov,
                &mut hdr,
            ) {
                Ok(n) => {
                    for (i, g) in got.iter().enumerate().take(n) {
                        let whole = &rbuf[i * 256..i * 256 + g.len];
                        let seg = if g.seg > 0 { g.seg } else { whole.len() };
                        out.extend(whole.chunks(seg).map(<[u8]>::to_vec));
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(1))
                }
                Err(e) => panic!("{e}"),
            }
            if out.len() >= want {
                break;
            }
        }
        out
    }

    /// `got` is datagrams 0 to n - 1 of socket 1, each 32 bytes, in order.
    fn assert_echoes(got: &[Vec<u8>], n: usize) {
        assert_eq!(got.len(), n);
        for (i, d) in got.iter().enumerate() {
            assert_eq!(check(d, 32, 1), Ok(i as u64));
        }
    }

    fn pair() -> (UdpSocket, UdpSocket) {
        let a = UdpSocket::bind("127.0.0.1:0").unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").unwrap();
        a.connect(b.local_addr().unwrap()).unwrap();
        b.connect(a.local_addr().unwrap()).unwrap();
        b.set_nonblocking(true).unwrap();
        (a, b)
    }

    fn burst(n: usize, size: usize) -> Vec<u8> {
        let mut buf = vec![0u8; n * size];
        for i in 0..n {
            fill(&mut buf[i * size..(i + 1) * size], i as u64, 1);
        }
        buf
    }

    #[test]
    fn batches_go_out_and_come_back_through_mmsg() {
        let (a, b) = pair();
        let buf = burst(4, 32);
        let (mut iov, mut hdr) = (Vec::new(), Vec::new());
        assert_eq!(
            send_batch(a.as_raw_fd(), &buf, 32, 4, &mut iov, &mut hdr).unwrap(),
            4
        );
        assert_echoes(&receive(&b, 4, false), 4);
    }

    #[test]
    fn a_gso_burst_arrives_as_datagrams_coalesced_or_not() {
        let (a, b) = pair();
        let off = enable_offload(a.as_raw_fd(), 32);
        if !off.gso {
            eprintln!("skipped: this kernel refused UDP_SEGMENT");
            return;
        }
        // 5 datagrams: one GSO message; a receiver without GRO sees 5 datagrams.
        let buf = burst(5, 32);
        assert_eq!(send_gso(a.as_raw_fd(), &buf, 32, 5).unwrap(), 5);
        assert_echoes(&receive(&b, 5, false), 5);
        // A receiver with GRO may take them in one slot; cut by the segment size
        // they are the same 5.
        let (a, b) = pair();
        enable_offload(a.as_raw_fd(), 32);
        let gro = enable_offload(b.as_raw_fd(), 32).gro;
        assert_eq!(send_gso(a.as_raw_fd(), &buf, 32, 5).unwrap(), 5);
        assert_echoes(&receive(&b, 5, gro), 5);
    }

    #[test]
    fn a_datagram_larger_than_its_slot_is_an_error_not_a_short_echo() {
        let (a, b) = pair();
        a.send(&[7u8; 300]).unwrap();
        let (mut iov, mut hdr) = (Vec::new(), Vec::new());
        let mut rbuf = vec![0u8; 256];
        let mut got = [Got::default(); 1];
        for _ in 0..1000 {
            match recv_batch(
                b.as_raw_fd(),
                &mut rbuf,
                256,
                &mut got,
                None,
                &mut iov,
                &mut hdr,
            ) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(1))
                }
                Err(e) => {
                    assert!(e.to_string().contains("truncated"), "{e}");
                    return;
                }
                Ok(n) => panic!("{n} datagrams taken whole"),
            }
        }
        panic!("nothing arrived");
    }
}
