//! Echo load generator for length-prefixed echo servers (4-byte big-endian length +
//! payload). Verifies every echoed byte, reports frames/s, MB/s, per-frame latency
//! percentiles, errors, its own CPU and (with `--server-pid`) the server's CPU.
//! See `bench/README.md`.

use std::net::ToSocketAddrs;
use std::time::Duration;

use clap::Parser;
use seine_bench::args::{die, parse_size};
use seine_bench::cpu;
use seine_bench::json::JsonLine;
use seine_bench::loadgen::{Config, run};
use seine_bench::udp::run_udp;

/// Echo load generator for length-prefixed echo servers (a 4-byte big-endian
/// length, then the payload). Verifies every echoed byte; reports frames/s, MB/s,
/// latency percentiles, errors, its own CPU and, with --server-pid, the server's.
///
/// Exit status: 0 ok, 1 connection errors, 2 usage error or an echoed byte differed.
#[derive(Parser)]
#[command(name = "loadgen", version, args_override_self = true)]
struct Args {
    /// The echo server to load.
    #[arg(long, value_name = "HOST:PORT")]
    addr: String,

    /// Connections.
    #[arg(long, value_name = "N", default_value_t = 64)]
    conns: usize,

    /// Payload bytes per frame: 64, 4k, 1m ... (powers of 1024).
    #[arg(long, value_name = "BYTES", default_value = "64", value_parser = parse_size)]
    size: usize,

    /// Frames in flight per connection.
    #[arg(long, value_name = "N", default_value_t = 16)]
    inflight: usize,

    /// Warm-up before the measured window, in seconds.
    #[arg(long, value_name = "SECS", default_value = "1", value_parser = seconds)]
    warmup: Duration,

    /// The measured window, in seconds.
    #[arg(long, value_name = "SECS", default_value = "5", value_parser = seconds)]
    duration: Duration,

    /// Load threads, each a current-thread tokio runtime.
    #[arg(long, value_name = "N", default_value_t = 1)]
    threads: usize,

    /// Instead of a time window: send exactly N frames per connection, measure all
    /// of them, exit when all are echoed (for tests).
    #[arg(long, value_name = "N")]
    frames: Option<u64>,

    /// Give up in --frames mode after this many seconds.
    #[arg(long, value_name = "SECS", default_value = "60", value_parser = seconds)]
    timeout: Duration,

    /// Frames this large or larger are sent with writev from the pattern instead
    /// of being copied into the burst buffer.
    #[arg(long, value_name = "BYTES", default_value = "2k", value_parser = parse_size)]
    writev_min: usize,

    /// Report the CPU time of these server processes (and their children).
    #[arg(long, value_name = "P[,P]", value_parser = pids)]
    server_pid: Option<Pids>,

    /// Print one JSON line instead of the human-readable report.
    #[arg(long)]
    json: bool,

    /// Datagram echo instead: each connection is a connected UDP socket, each frame
    /// one datagram of --size bytes (at least 12), sent with sendmmsg and received
    /// with recvmmsg; unanswered datagrams are counted lost (reported) and their
    /// credits reused.
    #[arg(long)]
    udp: bool,

    /// With --udp: send every burst with sendmmsg, one datagram per message,
    /// instead of as UDP GSO messages, and take no coalesced (GRO) echoes. By
    /// default both are used where the kernel has them (the server's socket still
    /// receives one datagram at a time); they only make the load tool cheaper.
    #[arg(long)]
    no_gso: bool,
}

/// `--server-pid`'s process ids.
#[derive(Clone)]
struct Pids(Vec<u32>);

fn pids(v: &str) -> Result<Pids, String> {
    cpu::parse_pids(v).map(Pids)
}

/// A number of seconds, fractions allowed, not negative.
fn seconds(v: &str) -> Result<Duration, String> {
    let s: f64 = v.parse().map_err(|e| format!("{v:?}: {e}"))?;
    if !(s >= 0.0 && s.is_finite()) {
        return Err(format!("{v:?} must be >= 0"));
    }
    Ok(Duration::from_secs_f64(s))
}

fn main() {
    let a = Args::parse();
    let usage = "see loadgen --help";
    let addr = a
        .addr
        .to_socket_addrs()
        .ok()
        .and_then(|mut i| i.next())
        .unwrap_or_else(|| die(&format!("cannot resolve {:?}", a.addr), usage));
    let cfg = Config {
        addr,
        conns: a.conns,
        size: a.size,
        inflight: a.inflight,
        warmup: a.warmup,
        duration: a.duration,
        threads: a.threads,
        frames: a.frames,
        timeout: a.timeout,
        server_pids: a.server_pid.clone().map(|p| p.0).unwrap_or_default(),
        writev_min: a.writev_min,
        udp_offload: !a.no_gso,
    };
    if cfg.duration.is_zero() && cfg.frames.is_none() {
        die("--duration must be > 0", usage);
    }
    let r = match if a.udp { run_udp(&cfg) } else { run(&cfg) } {
        Ok(r) => r,
        Err(e) => {
            eprintln!("loadgen: {e}");
            std::process::exit(1);
        }
    };
    let w = r.window_s.max(1e-9);
    let fps = r.frames as f64 / w;
    let mbps = r.frames as f64 * cfg.size as f64 / w / 1e6;
    let us = |q: f64| r.latency.quantile(q) as f64 / 1e3;
    let per_frame_us = |cpu_s: f64| {
        if r.frames > 0 {
            cpu_s * 1e6 / r.frames as f64
        } else {
            f64::NAN
        }
    };
    if a.json {
        let mut j = JsonLine::new();
        j.str("addr", &addr.to_string())
            .int("conns", cfg.conns as u64)
            .int("size", cfg.size as u64)
            .int("inflight", cfg.inflight as u64)
            .int("threads", cfg.threads as u64)
            .num("window_s", w)
            .int("frames", r.frames)
            .num("frames_per_s", fps)
            .num("mb_per_s", mbps)
            .num("p50_us", us(0.5))
            .num("p99_us", us(0.99))
            .num("p999_us", us(0.999))
            .num("max_us", r.latency.max() as f64 / 1e3)
            .int("errors", r.errors)
            .str("transport", if a.udp { "udp" } else { "tcp" })
            .int("lost", r.lost)
            .num("loadgen_cpu_s", r.loadgen_cpu_s)
            .num("loadgen_cpu_total_s", r.loadgen_cpu_total_s)
            .num("loadgen_cpu_us_per_frame", per_frame_us(r.loadgen_cpu_s));
        let (total, user) = r
            .server_cpu
            .map_or((f64::NAN, f64::NAN), |c| (c.total(), c.user));
        j.num("server_cpu_s", total)
            .num("server_user_s", user)
            .num("server_cpu_us_per_frame", per_frame_us(total));
        println!("{}", j.finish());
    } else {
        println!(
            "loadgen {addr}: {} conns x {} in flight, {} B frames, {} thread(s), {:.2} s measured",
            cfg.conns, cfg.inflight, cfg.size, cfg.threads, w
        );
        println!(
            "  throughput  {fps:>12.0} frames/s   {mbps:>10.1} MB/s   ({} frames)",
            r.frames
        );
        println!(
            "  latency     p50 {:.1} us   p99 {:.1} us   p999 {:.1} us   max {:.1} us",
            us(0.5),
            us(0.99),
            us(0.999),
            r.latency.max() as f64 / 1e3
        );
        println!("  errors      {}", r.errors);
        if a.udp {
            println!("  lost        {} datagrams", r.lost);
        }
        println!(
            "  loadgen CPU {:.3} s in the window ({:.0}% of one core, {:.3} us/frame), {:.3} s in all",
            r.loadgen_cpu_s,
            100.0 * r.loadgen_cpu_s / w,
            per_frame_us(r.loadgen_cpu_s),
            r.loadgen_cpu_total_s
        );
        if let Some(c) = r.server_cpu {
            let s = c.total();
            println!(
                "  server CPU  {s:.3} s in the window ({:.0}% of one core, {:.3} us/frame: \
                 {:.3} user, {:.3} system)",
                100.0 * s / w,
                per_frame_us(s),
                per_frame_us(c.user),
                per_frame_us(c.system)
            );
        }
    }
    for m in &r.error_msgs {
        eprintln!("loadgen: error: {m}");
    }
    if r.errors > 0 {
        std::process::exit(1);
    }
}
