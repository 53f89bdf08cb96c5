//! Echo load generator for length-prefixed echo servers (4-byte big-endian length +
//! payload), or with `--udp` for datagram echo servers (one datagram per frame). Verifies every echoed byte, reports frames/s, MB/s, per-frame latency
//! percentiles, errors, its own CPU and (with `--server-pid`) the server's CPU.
//! See `bench/README.md`.

use std::net::ToSocketAddrs;
use std::time::Duration;

use seine_bench::args::{Args, die, parse_size};
use seine_bench::cpu;
use seine_bench::json::JsonLine;
use seine_bench::loadgen::{Config, VECTORED_MIN, run};
use seine_bench::udp::run_udp;

const USAGE: &str = "\
usage: loadgen --addr HOST:PORT [options]
  --conns N          connections (default 64)
  --size BYTES       payload bytes per frame: 64, 4k, 1m ... (default 64)
  --inflight N       frames in flight per connection (default 16)
  --warmup SECS      warm-up before the measured window (default 1)
  --duration SECS    measured window (default 5)
  --threads N        load threads, each a current-thread tokio runtime (default 1)
  --frames N         instead of a time window: send exactly N frames per connection,
                     measure all of them, exit when all are echoed (for tests)
  --timeout SECS     give up in --frames mode after this long (default 60)
  --writev-min BYTES frames this large or larger are sent with writev from the pattern
                     instead of being copied into the burst buffer (default 2k)
  --server-pid P[,P] report the CPU time of these server processes (and their children)
  --udp              datagram echo instead: each connection is a connected UDP socket,
                     each frame one datagram of --size bytes (at least 12), sent with
                     sendmmsg and received with recvmmsg; unanswered datagrams are
                     counted lost (reported) and their credits reused
  --json             print one JSON line instead of the human-readable report
exit status: 0 ok, 1 connection errors, 2 usage error or an echoed byte differed";

fn secs(a: &Args, name: &str, default: f64) -> Duration {
    let v: f64 = a.get(name, default).unwrap_or_else(|e| die(&e, USAGE));
    if !(v >= 0.0 && v.is_finite()) {
        die(&format!("--{name} must be >= 0"), USAGE);
    }
    Duration::from_secs_f64(v)
}

fn main() {
    let a = Args::from_env(&["json", "help", "udp"]).unwrap_or_else(|e| die(&e, USAGE));
    if a.flag("help") {
        println!("{USAGE}");
        return;
    }
    let bad = a.unknown(&[
        "addr",
        "conns",
        "size",
        "inflight",
        "warmup",
        "duration",
        "threads",
        "frames",
        "timeout",
        "server-pid",
        "writev-min",
    ]);
    if !bad.is_empty() {
        die(&format!("unknown option(s) {bad:?}"), USAGE);
    }
    let addr_s = a
        .str("addr")
        .unwrap_or_else(|| die("--addr is required", USAGE));
    let addr = addr_s
        .to_socket_addrs()
        .ok()
        .and_then(|mut i| i.next())
        .unwrap_or_else(|| die(&format!("cannot resolve {addr_s:?}"), USAGE));
    let size = parse_size(a.str("size").unwrap_or("64")).unwrap_or_else(|e| die(&e, USAGE));
    let cfg = Config {
        addr,
        conns: a.get("conns", 64).unwrap_or_else(|e| die(&e, USAGE)),
        size,
        inflight: a.get("inflight", 16).unwrap_or_else(|e| die(&e, USAGE)),
        warmup: secs(&a, "warmup", 1.0),
        duration: secs(&a, "duration", 5.0),
        threads: a.get("threads", 1).unwrap_or_else(|e| die(&e, USAGE)),
        frames: a.str("frames").map(|v| {
            v.parse()
                .unwrap_or_else(|e| die(&format!("--frames: {e}"), USAGE))
        }),
        timeout: secs(&a, "timeout", 60.0),
        server_pids: a
            .str("server-pid")
            .map(|p| cpu::parse_pids(p).unwrap_or_else(|e| die(&e, USAGE)))
            .unwrap_or_default(),
        writev_min: VECTORED_MIN,
    };
    let cfg = Config {
        writev_min: parse_size(a.str("writev-min").unwrap_or("2k"))
            .unwrap_or_else(|e| die(&e, USAGE)),
        ..cfg
    };
    if cfg.duration.is_zero() && cfg.frames.is_none() {
        die("--duration must be > 0", USAGE);
    }
    let udp = a.flag("udp");
    let r = match if udp { run_udp(&cfg) } else { run(&cfg) } {
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
    if a.flag("json") {
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
            .str("transport", if udp { "udp" } else { "tcp" })
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
        if udp {
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
