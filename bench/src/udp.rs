//! `loadgen --udp`: the echo load generator for datagram echo servers.
//!
//! Each "connection" is a connected UDP socket keeping `inflight` datagrams of
//! `size` bytes outstanding. A load thread drives its sockets in one loop: every
//! burst of new datagrams leaves in one `sendmmsg`, echoes are taken with
//! `recvmmsg` (so the load tool costs less per datagram than the servers it
//! measures), and `poll` waits when a pass found nothing. Every echoed datagram is
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

/// `recvmmsg` into `buf` cut in slots of `slot` bytes; `lens` gets each length.
fn recv_batch(
    fd: i32,
    buf: &mut [u8],
    slot: usize,
    lens: &mut [usize],
    iov: &mut Vec<libc::iovec>,
    hdr: &mut Vec<libc::mmsghdr>,
) -> io::Result<usize> {
    let n = lens.len().min(buf.len() / slot);
    iov.clear();
    hdr.clear();
    for i in 0..n {
        iov.push(libc::iovec {
            iov_base: buf[i * slot..].as_mut_ptr().cast(),
            iov_len: slot,
        });
    }
    for v in iov.iter_mut() {
        // SAFETY: all-zero is a valid mmsghdr.
        let mut h: libc::mmsghdr = unsafe { std::mem::zeroed() };
        h.msg_hdr.msg_iov = v;
        h.msg_hdr.msg_iovlen = 1;
        hdr.push(h);
    }
    // SAFETY: `hdr[i]` points at `iov[i]`, a disjoint `slot`-byte part of `buf`
    // (borrowed mutably for the call); no address or control buffer is asked for.
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
    for (i, l) in lens.iter_mut().enumerate().take(r as usize) {
        *l = hdr[i].msg_len as usize;
    }
    Ok(r as usize)
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
    let slot = size.max(2048);
    let mut rbuf = vec![0u8; RECV_BATCH * slot];
    let mut lens = [0usize; RECV_BATCH];
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
                match send_batch(fd, &sbuf, size, credits, &mut iov, &mut hdr) {
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
                        st.error_msgs.push(format!("sendmmsg: {e}"));
                        return st;
                    }
                }
            }
            // Take the echoes.
            loop {
                match recv_batch(fd, &mut rbuf, slot, &mut lens, &mut iov, &mut hdr) {
                    Ok(n) => {
                        let t = Instant::now();
                        progress |= n > 0;
                        s.last_heard = t;
                        let counting = limit.is_some() || (t >= start && t < end);
                        for (i, &len) in lens.iter().enumerate().take(n) {
                            match check(&rbuf[i * slot..i * slot + len], size, s.id) {
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
                                        "loadgen: echo verification failed on socket {}: {m} \
                                         (the server corrupted the data)",
                                        s.id
                                    );
                                    std::process::exit(2);
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
        per_thread[id % cfg.threads].push(Sock {
            s,
            id: id as u32,
            sent: 0,
            expect: 0,
            sent_at: vec![now; cfg.inflight].into_boxed_slice(),
            last_heard: now,
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

    #[test]
    fn batches_go_out_and_come_back_through_mmsg() {
        let a = UdpSocket::bind("127.0.0.1:0").unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").unwrap();
        a.connect(b.local_addr().unwrap()).unwrap();
        b.connect(a.local_addr().unwrap()).unwrap();
        let mut buf = vec![0u8; 4 * 32];
        for i in 0..4 {
            fill(&mut buf[i * 32..(i + 1) * 32], i as u64, 1);
        }
        let (mut iov, mut hdr) = (Vec::new(), Vec::new());
        assert_eq!(
            send_batch(a.as_raw_fd(), &buf, 32, 4, &mut iov, &mut hdr).unwrap(),
            4
        );
        let mut rbuf = vec![0u8; 8 * 64];
        let mut lens = [0usize; 8];
        b.set_nonblocking(true).unwrap();
        let mut got = 0;
        for _ in 0..1000 {
            match recv_batch(
                b.as_raw_fd(),
                &mut rbuf[got * 64..],
                64,
                &mut lens[got..],
                &mut iov,
                &mut hdr,
            ) {
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(1))
                }
                Err(e) => panic!("{e}"),
            }
            if got == 4 {
                break;
            }
        }
        assert_eq!(got, 4);
        for i in 0..4 {
            assert_eq!(check(&rbuf[i * 64..i * 64 + lens[i]], 32, 1), Ok(i as u64));
        }
    }
}
