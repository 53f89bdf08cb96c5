//! The echo load generator's engine: one hand-written future per connection on a
//! current-thread tokio runtime per load thread.
//!
//! Each connection keeps `inflight` frames outstanding. Whenever echoed frames free
//! credits, the whole burst of new frames goes out in one write (copied into a reused
//! buffer for small frames, borrowed from the pattern with `writev` for large ones);
//! reads go into a reused buffer and are verified byte by byte as they stream in
//! ([`crate::pattern::Verifier`]). Reading and writing are polled in the same task, so
//! a large burst that fills the socket never stops the echoes from being drained.
//! Nothing is allocated per frame. Latency is per frame, from the instant its burst was
//! handed to the kernel to the instant the read that completed it returned.

use std::cell::RefCell;
use std::future::Future;
use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::cpu;
use crate::hist::Histogram;
use crate::pattern::{LEN_PREFIX, Pattern, SEQ_HDR, Verifier};

/// Default for [`Config::writev_min`].
pub const VECTORED_MIN: usize = 2 * 1024;
const READ_BUF: usize = 256 * 1024;
const SMALL_READ_BUF: usize = 64 * 1024;
const IOV_FRAMES: usize = 32;

/// What to run.
#[derive(Clone, Debug)]
pub struct Config {
    /// Echo server address.
    pub addr: SocketAddr,
    /// Connections (spread round-robin over the threads).
    pub conns: usize,
    /// Payload bytes per frame (the wire adds a 4-byte length prefix).
    pub size: usize,
    /// Frames outstanding per connection.
    pub inflight: usize,
    /// Time before the measured window.
    pub warmup: Duration,
    /// Length of the measured window.
    pub duration: Duration,
    /// Load threads, each a current-thread runtime.
    pub threads: usize,
    /// When set: every connection sends exactly this many frames, everything is
    /// measured, and the run ends when all are echoed (no timing dependence).
    pub frames: Option<u64>,
    /// Give up after this long (frames mode), reporting an error.
    pub timeout: Duration,
    /// Server processes (and their descendants) whose CPU time is reported.
    pub server_pids: Vec<u32>,
    /// Frames at least this large are written with `writev` straight from the pattern;
    /// smaller ones are copied into one buffer per burst.
    pub writev_min: usize,
    /// `--udp`: send bursts as UDP GSO messages and take coalesced (GRO) echoes
    /// where the kernel has them (`loadgen --no-gso` turns this off).
    pub udp_offload: bool,
}

/// Results of a run.
#[derive(Debug)]
pub struct Report {
    /// Length of the measured window in seconds.
    pub window_s: f64,
    /// Frames echoed and verified within the window.
    pub frames: u64,
    /// Per-frame latency in nanoseconds.
    pub latency: Histogram,
    /// Connections that failed (I/O error, early EOF, timeout).
    pub errors: u64,
    /// The first few error messages.
    pub error_msgs: Vec<String>,
    /// This process's CPU seconds within the window.
    pub loadgen_cpu_s: f64,
    /// This process's CPU seconds over the whole run.
    pub loadgen_cpu_total_s: f64,
    /// The server's CPU time within the window (`None` without server pids).
    pub server_cpu: Option<cpu::CpuTimes>,
    /// Datagrams sent and never echoed (`--udp`; always 0 over TCP).
    pub lost: u64,
}

#[derive(Default)]
pub(crate) struct Stats {
    pub(crate) frames: u64,
    /// Frames sent and never answered (datagrams; always 0 over TCP).
    pub(crate) lost: u64,
    pub(crate) latency: Histogram,
    pub(crate) errors: u64,
    pub(crate) error_msgs: Vec<String>,
}

struct Shared {
    size: usize,
    inflight: usize,
    start: Instant,
    end: Instant,
    stats: RefCell<Stats>,
}

#[derive(Debug)]
enum ConnError {
    Io(io::Error),
    Eof,
}

impl std::fmt::Display for ConnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConnError::Io(e) => write!(f, "{e}"),
            ConnError::Eof => write!(f, "the server closed the connection"),
        }
    }
}

struct Conn {
    stream: TcpStream,
    pat: Pattern,
    ver: Verifier,
    shared: Rc<Shared>,
    /// Frames handed to the writer so far.
    sent: u64,
    /// Frames to send in all (`u64::MAX`: until the run ends).
    limit: u64,
    /// Send instant of frame `seq`, at `seq % inflight`.
    sent_at: Box<[Instant]>,
    vectored: bool,
    /// Small frames: the current burst and how much of it is written.
    wbuf: Vec<u8>,
    wpos: usize,
    /// Large frames: the current burst `[vfirst, vfirst + vcount)`, bytes written.
    vfirst: u64,
    vcount: u64,
    voff: usize,
    rbuf: Box<[u8]>,
}

impl Conn {
    fn writing(&self) -> bool {
        if self.vectored {
            self.vcount > 0
        } else {
            self.wpos < self.wbuf.len()
        }
    }

    /// Queues as many new frames as there are credits, as one burst.
    fn start_burst(&mut self) {
        let outstanding = self.sent - self.ver.completed();
        let credits = (self.shared.inflight as u64 - outstanding).min(self.limit - self.sent);
        if credits == 0 {
            return;
        }
        let now = Instant::now();
        let k = self.shared.inflight as u64;
        for seq in self.sent..self.sent + credits {
            self.sent_at[(seq % k) as usize] = now;
        }
        if self.vectored {
            self.vfirst = self.sent;
            self.vcount = credits;
            self.voff = 0;
        } else {
            self.wbuf.clear();
            self.wpos = 0;
            for seq in self.sent..self.sent + credits {
                self.pat.write_frame(seq, &mut self.wbuf);
            }
        }
        self.sent += credits;
    }

    /// Writes until the burst is done or the socket is full. `Ready(Ok(true))`: wrote something.
    fn poll_write(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<bool>> {
        let mut wrote = false;
        while self.writing() {
            let res = if self.vectored {
                self.poll_write_vectored(cx)
            } else {
                Pin::new(&mut self.stream).poll_write(cx, &self.wbuf[self.wpos..])
            };
            match res {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => {
                    wrote = true;
                    if self.vectored {
                        self.voff += n;
                        if self.voff == self.vcount as usize * (LEN_PREFIX + self.shared.size) {
                            self.vcount = 0;
                        }
                    } else {
                        self.wpos += n;
                    }
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending if wrote => return Poll::Ready(Ok(true)),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(wrote))
    }

    fn poll_write_vectored(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let frame_len = LEN_PREFIX + self.shared.size;
        let first = self.voff / frame_len;
        let mut within = self.voff % frame_len;
        let last = (self.vcount as usize).min(first + IOV_FRAMES);
        let mut prefixes = [[0u8; LEN_PREFIX + SEQ_HDR]; IOV_FRAMES];
        let mut plens = [0usize; IOV_FRAMES];
        for (i, f) in (first..last).enumerate() {
            let (p, plen) = self.pat.prefix(self.vfirst + f as u64);
            prefixes[i] = p;
            plens[i] = plen;
        }
        let mut iov: [IoSlice<'_>; 2 * IOV_FRAMES] = [IoSlice::new(&[]); 2 * IOV_FRAMES];
        let mut n = 0;
        for (i, f) in (first..last).enumerate() {
            let body = self.pat.body(self.vfirst + f as u64);
            let plen = plens[i];
            if within < plen {
                iov[n] = IoSlice::new(&prefixes[i][within..plen]);
                iov[n + 1] = IoSlice::new(body);
                n += 2;
            } else {
                iov[n] = IoSlice::new(&body[within - plen..]);
                n += 1;
            }
            within = 0;
        }
        Pin::new(&mut self.stream).poll_write_vectored(cx, &iov[..n])
    }

    /// Verifies `n` freshly read bytes and accounts the frames they complete.
    fn on_data(&mut self, n: usize) {
        let now = Instant::now();
        let shared = &*self.shared;
        let in_window = now >= shared.start && now < shared.end;
        let mut stats = shared.stats.borrow_mut();
        let stats = &mut *stats;
        let k = shared.inflight as u64;
        let sent_at = &self.sent_at;
        let mut frames = 0u64;
        let res = self.ver.feed(&self.pat, &self.rbuf[..n], self.sent, |seq| {
            if in_window {
                let ns = now
                    .saturating_duration_since(sent_at[(seq % k) as usize])
                    .as_nanos() as u64;
                stats.latency.record(ns);
                frames += 1;
            }
        });
        stats.frames += frames;
        if let Err(m) = res {
            eprintln!("loadgen: {m}");
            eprintln!(
                "loadgen: FAILED: the echo server returned data that differs from what was sent"
            );
            std::process::exit(2);
        }
    }
}

impl Future for Conn {
    type Output = Result<(), ConnError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        // Bounded so that one busy connection cannot starve the others.
        for _ in 0..64 {
            let mut progress = false;
            if !this.writing() {
                this.start_burst();
            }
            if this.writing() {
                match this.poll_write(cx) {
                    Poll::Ready(Ok(w)) => progress |= w,
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(ConnError::Io(e))),
                    Poll::Pending => {}
                }
            }
            let mut rb = ReadBuf::new(&mut this.rbuf);
            match Pin::new(&mut this.stream).poll_read(cx, &mut rb) {
                Poll::Ready(Ok(())) => {
                    let n = rb.filled().len();
                    if n == 0 {
                        return Poll::Ready(if this.ver.completed() >= this.limit {
                            Ok(())
                        } else {
                            Err(ConnError::Eof)
                        });
                    }
                    this.on_data(n);
                    progress = true;
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(ConnError::Io(e))),
                Poll::Pending => {}
            }
            if this.ver.completed() >= this.limit {
                return Poll::Ready(Ok(()));
            }
            if !progress {
                return Poll::Pending;
            }
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

async fn thread_main(
    streams: Vec<(u64, std::net::TcpStream)>,
    shared: Rc<Shared>,
    frames: Option<u64>,
    timeout: Duration,
    writev_min: usize,
) {
    let mut handles = Vec::new();
    for (id, s) in streams {
        let stream = match TcpStream::from_std(s) {
            Ok(s) => s,
            Err(e) => {
                let mut st = shared.stats.borrow_mut();
                st.errors += 1;
                st.error_msgs
                    .push(format!("connection {id}: register: {e}"));
                continue;
            }
        };
        let vectored = shared.size >= writev_min;
        let conn = Conn {
            stream,
            pat: Pattern::new(id, shared.size),
            ver: Verifier::new(),
            shared: shared.clone(),
            sent: 0,
            limit: frames.unwrap_or(u64::MAX),
            sent_at: vec![Instant::now(); shared.inflight].into_boxed_slice(),
            vectored,
            wbuf: Vec::with_capacity(if vectored {
                0
            } else {
                shared.inflight * (LEN_PREFIX + shared.size)
            }),
            wpos: 0,
            vfirst: 0,
            vcount: 0,
            voff: 0,
            rbuf: vec![0u8; if vectored { READ_BUF } else { SMALL_READ_BUF }].into_boxed_slice(),
        };
        let sh = shared.clone();
        handles.push(tokio::task::spawn_local(async move {
            if let Err(e) = conn.await {
                let mut st = sh.stats.borrow_mut();
                st.errors += 1;
                if st.error_msgs.len() < 5 {
                    st.error_msgs.push(format!("connection {id}: {e}"));
                }
            }
        }));
    }
    if frames.is_some() {
        let all = async {
            for h in handles {
                let _ = h.await;
            }
        };
        if tokio::time::timeout(timeout, all).await.is_err() {
            let mut st = shared.stats.borrow_mut();
            st.errors += 1;
            st.error_msgs
                .push(format!("timed out after {timeout:?} waiting for echoes"));
        }
    } else {
        tokio::time::sleep_until(shared.end.into()).await;
    }
}

/// Connects, runs the load, and reports. Verification failures exit the process (status 2).
pub fn run(cfg: &Config) -> io::Result<Report> {
    if cfg.conns == 0 || cfg.inflight == 0 || cfg.threads == 0 {
        return Err(io::Error::other("conns, inflight and threads must be > 0"));
    }
    if cfg.size > u32::MAX as usize {
        return Err(io::Error::other(
            "frame size must fit the 4-byte length prefix",
        ));
    }
    let cpu_start_total = cpu::self_cpu_seconds();
    let mut per_thread: Vec<Vec<(u64, std::net::TcpStream)>> =
        (0..cfg.threads).map(|_| Vec::new()).collect();
    for id in 0..cfg.conns {
        let s = std::net::TcpStream::connect(cfg.addr)
            .map_err(|e| io::Error::new(e.kind(), format!("connect {}: {e}", cfg.addr)))?;
        s.set_nodelay(true)?;
        s.set_nonblocking(true)?;
        per_thread[id % cfg.threads].push((id as u64, s));
    }
    let t0 = Instant::now();
    let (start, end) = match cfg.frames {
        Some(_) => (t0, t0 + Duration::from_secs(100 * 365 * 86_400)),
        None => (t0 + cfg.warmup, t0 + cfg.warmup + cfg.duration),
    };
    let mut joins = Vec::new();
    for streams in per_thread {
        let (size, inflight, frames, timeout, writev_min) = (
            cfg.size,
            cfg.inflight,
            cfg.frames,
            cfg.timeout,
            cfg.writev_min,
        );
        joins.push(std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("tokio runtime");
            let shared = Rc::new(Shared {
                size,
                inflight,
                start,
                end,
                stats: RefCell::new(Stats::default()),
            });
            let local = tokio::task::LocalSet::new();
            local.block_on(
                &rt,
                thread_main(streams, shared.clone(), frames, timeout, writev_min),
            );
            drop(local);
            Rc::try_unwrap(shared)
                .ok()
                .map(|s| s.stats.into_inner())
                .unwrap_or_default()
        }));
    }
    finish(cfg, (start, end), t0, cpu_start_total, joins)
}

/// Waits out the measured window (timed runs; a `--frames` run ends when its
/// threads do), joins the load threads and assembles the report, with this
/// process's and the servers' CPU over the window. Shared by the TCP and UDP load.
pub(crate) fn finish(
    cfg: &Config,
    (start, end): (Instant, Instant),
    t0: Instant,
    cpu_start_total: f64,
    joins: Vec<std::thread::JoinHandle<Stats>>,
) -> io::Result<Report> {
    // The window's CPU samples are taken by this (otherwise sleeping) thread.
    let sleep_until = |t: Instant| {
        let now = Instant::now();
        if t > now {
            std::thread::sleep(t - now);
        }
    };
    let timed = cfg.frames.is_none();
    if timed {
        sleep_until(start);
    }
    let (self0, srv0) = (
        cpu::self_cpu_seconds(),
        cpu::pids_cpu_times(&cfg.server_pids),
    );
    if timed {
        sleep_until(end);
    }
    // Timed runs end at `end`; frames runs when the threads are done (sampled below).
    let window_end = timed.then(|| {
        (
            cpu::self_cpu_seconds(),
            cpu::pids_cpu_times(&cfg.server_pids),
        )
    });
    let mut total = Stats::default();
    for j in joins {
        let st = j
            .join()
            .map_err(|_| io::Error::other("load thread panicked"))?;
        total.frames += st.frames;
        total.lost += st.lost;
        total.latency.merge(&st.latency);
        total.errors += st.errors;
        total.error_msgs.extend(st.error_msgs);
    }
    let (self1, srv1, window_s) = match window_end {
        Some((s, v)) => (s, v, cfg.duration.as_secs_f64()),
        None => (
            cpu::self_cpu_seconds(),
            cpu::pids_cpu_times(&cfg.server_pids),
            t0.elapsed().as_secs_f64(),
        ),
    };
    total.error_msgs.truncate(5);
    Ok(Report {
        window_s,
        frames: total.frames,
        latency: total.latency,
        errors: total.errors,
        error_msgs: total.error_msgs,
        loadgen_cpu_s: self1 - self0,
        loadgen_cpu_total_s: cpu::self_cpu_seconds() - cpu_start_total,
        server_cpu: (!cfg.server_pids.is_empty()).then(|| srv1.since(srv0)),
        lost: total.lost,
    })
}
