//! Measures `sendfile(2)` against `pread` into a reused buffer + `write(2)` over a
//! loopback TCP connection, for a file in the (hot) page cache.
//!
//! The sender (this thread) is pinned to core 0 and a reader thread that drains the
//! socket to core 1 (when there are two cores). For each file size, each method sends
//! the file many times (about `--mib` MiB per run); a run is repeated `--reps` times,
//! the methods interleaved, and the median is reported: throughput, and the sender
//! thread's CPU time (`getrusage(RUSAGE_THREAD)`, user + system) per GiB sent.
//!
//! By default the reader busy-polls a non-blocking socket with `read()`, so it never
//! sleeps and the sender never pays for waking it: on loopback in a VM those
//! wake-ups (IPIs) otherwise dominate and swing the sender's cost by 3x from run to
//! run. `--no-spin` makes the reader block; `--splice-drain` makes it splice to
//! `/dev/null` instead of copying. Other options: `--size-kib N` (one size),
//! `--only sendfile|copy` (for a profiler), `--verbose` (every sample).
//!
//! ```text
//! cargo build --release -p seine-transport --example sendfile_vs_copy
//! nice -n -20 target/release/examples/sendfile_vs_copy [--reps 5] [--mib 512] [--chunk-kib 64]
//! ```
//!
//! The result sets `SENDFILE_MIN_BYTES` in `transport/src/sendfile.rs`.

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::os::unix::fs::FileExt;
use std::sync::mpsc;
use std::time::{Duration, Instant};

const SIZES: [usize; 6] = [4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20, 16 << 20];

#[derive(Clone, Copy, PartialEq)]
enum Method {
    Sendfile,
    Copy,
}

struct Sample {
    wall: Duration,
    reader: Duration,
    user: Duration,
    sys: Duration,
}

/// Pins the calling thread to `cpu`; returns whether it worked.
fn pin(cpu: usize) -> bool {
    // SAFETY: cpu_set_t is a plain bit array; all-zero is the empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `cpu` is below CPU_SETSIZE (we only pass 0 and 1); `set` is valid.
    unsafe { libc::CPU_SET(cpu, &mut set) };
    // SAFETY: pid 0 is the calling thread; `set` is a valid cpu_set_t of the size given.
    unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) == 0 }
}

/// CPU time of the calling thread: (user, system).
fn thread_cpu() -> (Duration, Duration) {
    // SAFETY: rusage is plain data; all-zero is valid.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `ru` is a valid, writable rusage; RUSAGE_THREAD is supported since Linux 2.6.26.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut ru) };
    assert_eq!(rc, 0, "getrusage: {}", io::Error::last_os_error());
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    (tv(ru.ru_utime), tv(ru.ru_stime))
}

fn send_sendfile(sock: &TcpStream, file: &File, size: usize) -> io::Result<()> {
    let mut offset: libc::off_t = 0;
    while (offset as usize) < size {
        let left = size - offset as usize;
        match nix::sys::sendfile::sendfile(sock.as_fd(), file.as_fd(), Some(&mut offset), left) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

fn send_copy(mut sock: &TcpStream, file: &File, size: usize, buf: &mut [u8]) -> io::Result<()> {
    let mut offset = 0;
    while offset < size {
        let n = buf.len().min(size - offset);
        file.read_exact_at(&mut buf[..n], offset as u64)?;
        sock.write_all(&buf[..n])?;
        offset += n;
    }
    Ok(())
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Measures sendfile(2) against pread + write(2) over loopback TCP, for a file
/// in the page cache.
#[derive(clap::Parser)]
#[command(name = "sendfile_vs_copy", version)]
struct Args {
    /// Runs per method and size (the median is reported).
    #[arg(long, value_name = "N", default_value_t = 5)]
    reps: usize,

    /// MiB sent per run.
    #[arg(long, value_name = "MIB", default_value_t = 512)]
    mib: usize,

    /// The copy method's read buffer, in KiB.
    #[arg(long, value_name = "KIB", default_value_t = 64)]
    chunk_kib: usize,

    /// Print every sample.
    #[arg(long)]
    verbose: bool,

    /// The reader splices to /dev/null instead of reading (it then copies nothing).
    #[arg(long)]
    splice_drain: bool,

    /// The reader blocks in read() instead of busy-polling.
    #[arg(long)]
    no_spin: bool,

    /// Only this file size, in KiB (for profiling one case; 0: all sizes).
    #[arg(long, value_name = "KIB", default_value_t = 0)]
    size_kib: usize,

    /// Only one method (for a profiler); the other column is NaN.
    #[arg(long, value_name = "METHOD", value_parser = ["sendfile", "copy"])]
    only: Option<String>,
}

fn main() -> io::Result<()> {
    let args: Args = clap::Parser::parse();
    let reps = args.reps;
    let mib_per_run = args.mib;
    let chunk = args.chunk_kib << 10;
    let verbose = args.verbose;
    let splice_drain = args.splice_drain;
    let spin = !args.no_spin;
    let sizes = match args.size_kib {
        0 => SIZES.to_vec(),
        kib => vec![kib << 10],
    };

    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let pinned = cores >= 2 && pin(0);

    // One file of the largest size, written and then read once: hot page cache.
    // `--only sendfile|copy`: one method (for profiling); the other column is NaN.
    let only = args.only.as_deref().map(|m| match m {
        "sendfile" => Method::Sendfile,
        _ => Method::Copy,
    });
    let max = *sizes.iter().max().unwrap();
    let mut file = tempfile::tempfile()?;
    let data: Vec<u8> = (0..max).map(|i| (i * 131 + i / 4093) as u8).collect();
    file.write_all(&data)?;
    file.sync_all()?;
    let mut warm = vec![0u8; max];
    file.read_exact_at(&mut warm, 0)?;

    let listener = TcpListener::bind("127.0.0.1:0")?;
    let sender = TcpStream::connect(listener.local_addr()?)?;
    let (receiver, _) = listener.accept()?;
    sender.set_nodelay(true)?;
    receiver.set_nodelay(true)?;

    // The reader: told how many bytes to expect, drains them, says when done.
    let (want_tx, want_rx) = mpsc::channel::<u64>();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let (rcpu_tx, rcpu_rx) = mpsc::channel::<Duration>();
    let reader = std::thread::spawn(move || -> io::Result<()> {
        if pinned {
            pin(1);
        }
        let mut receiver = receiver;
        // Busy-polling: the reader never sleeps, so the sender never pays for waking
        // it (an IPI, costly in a VM); the sender's cost is then its own.
        receiver.set_nonblocking(spin)?;
        let mut buf = vec![0u8; 256 << 10];
        let (pipe_r, pipe_w) = nix::unistd::pipe()?;
        let null = File::options().write(true).open("/dev/null")?;
        let flags = nix::fcntl::SpliceFFlags::SPLICE_F_MOVE;
        for mut want in want_rx {
            let (u0, s0) = thread_cpu();
            while want > 0 {
                let n = if splice_drain {
                    // socket -> pipe -> /dev/null: the reader copies nothing.
                    match nix::fcntl::splice(&receiver, None, &pipe_w, None, 1 << 16, flags) {
                        Err(nix::errno::Errno::EAGAIN) if spin => continue,
                        r => r?,
                    }
                } else {
                    match receiver.read(&mut buf) {
                        Err(e) if spin && e.kind() == io::ErrorKind::WouldBlock => continue,
                        r => r?,
                    }
                };
                let mut left = if splice_drain { n } else { 0 };
                while left > 0 {
                    left -= nix::fcntl::splice(&pipe_r, None, &null, None, left, flags)?;
                }
                if n == 0 {
                    return Err(io::ErrorKind::UnexpectedEof.into());
                }
                want -= n as u64;
            }
            let (u1, s1) = thread_cpu();
            rcpu_tx.send(u1 - u0 + s1 - s0).unwrap();
            done_tx.send(()).unwrap();
        }
        Ok(())
    });

    let mut buf = vec![0u8; chunk];
    let mut run = |method: Method, size: usize| -> io::Result<Sample> {
        let iters = ((mib_per_run << 20) / size).max(1);
        want_tx.send((iters * size) as u64).unwrap();
        let (u0, s0) = thread_cpu();
        let t0 = Instant::now();
        for _ in 0..iters {
            match method {
                Method::Sendfile => send_sendfile(&sender, &file, size)?,
                Method::Copy => send_copy(&sender, &file, size, &mut buf)?,
            }
        }
        done_rx.recv().unwrap();
        let wall = t0.elapsed();
        let (u1, s1) = thread_cpu();
        Ok(Sample {
            wall,
            reader: rcpu_rx.recv().unwrap(),
            user: u1 - u0,
            sys: s1 - s0,
        })
    };

    println!(
        "# sendfile vs pread+write, 127.0.0.1 TCP, hot page cache; {cores} cores, sender/reader pinned: {pinned}"
    );
    println!(
        "# {reps} reps (median), ~{mib_per_run} MiB per run, copy chunk {} KiB, reader drains with {}",
        chunk >> 10,
        if splice_drain {
            "splice to /dev/null"
        } else {
            "read()"
        }
    );
    println!(
        "| size | sendfile GiB/s | copy GiB/s | sendfile sender CPU ms/GiB | copy sender CPU ms/GiB | reader CPU ms/GiB (sendfile / copy) | faster | cheaper |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---|---|");
    let mut crossover_tput = None;
    let mut crossover_cpu = None;
    for size in sizes {
        // Warm-up, not measured.
        if only.is_none() {
            run(Method::Sendfile, size)?;
            run(Method::Copy, size)?;
        }
        let mut res = [
            (Vec::new(), Vec::new(), Vec::new()),
            (Vec::new(), Vec::new(), Vec::new()),
        ];
        for rep in 0..reps {
            // Alternate which goes first, so drift does not favour one.
            let order = if rep % 2 == 0 {
                [Method::Sendfile, Method::Copy]
            } else {
                [Method::Copy, Method::Sendfile]
            };
            for m in order {
                if only.is_some_and(|o| o != m) {
                    continue;
                }
                let s = run(m, size)?;
                let gib = (((mib_per_run << 20) / size).max(1) * size) as f64 / (1u64 << 30) as f64;
                let slot = &mut res[(m == Method::Copy) as usize];
                slot.0.push(gib / s.wall.as_secs_f64());
                slot.1.push((s.user + s.sys).as_secs_f64() * 1e3 / gib);
                slot.2.push(s.reader.as_secs_f64() * 1e3 / gib);
            }
        }
        if verbose {
            for (name, r) in [("sendfile", &res[0]), ("copy", &res[1])] {
                let f = |v: &Vec<f64>| {
                    v.iter()
                        .map(|x| format!("{x:.2}"))
                        .collect::<Vec<_>>()
                        .join(" ")
                };
                eprintln!(
                    "{} KiB {name}: GiB/s [{}] sender CPU ms/GiB [{}] reader [{}]",
                    size >> 10,
                    f(&r.0),
                    f(&r.1),
                    f(&r.2)
                );
            }
        }
        let [sf, cp] = res.map(|(t, c, s)| (median(t), median(c), median(s)));
        let faster = if sf.0 >= cp.0 { "sendfile" } else { "copy" };
        let cheaper = if sf.1 <= cp.1 { "sendfile" } else { "copy" };
        if faster == "sendfile" {
            crossover_tput.get_or_insert(size);
        } else {
            crossover_tput = None;
        }
        if cheaper == "sendfile" {
            crossover_cpu.get_or_insert(size);
        } else {
            crossover_cpu = None;
        }
        println!(
            "| {} KiB | {:.2} | {:.2} | {:.0} | {:.0} | {:.0} / {:.0} | {faster} | {cheaper} |",
            size >> 10,
            sf.0,
            cp.0,
            sf.1,
            cp.1,
            sf.2,
            cp.2
        );
    }
    let show = |c: Option<usize>| c.map_or("none".to_string(), |s| format!("{} KiB", s >> 10));
    println!(
        "crossover (smallest size from which sendfile stays ahead): throughput {}, sender CPU {}",
        show(crossover_tput),
        show(crossover_cpu)
    );
    drop(want_tx);
    drop(sender);
    reader.join().unwrap()?;
    Ok(())
}
