//! Runs a load tool and reports its CPU time and the server's.
//!
//! `runstat [--server-pid P[,P]] [--out FILE] -- COMMAND ARGS...`
//!
//! The command inherits stdin/stdout/stderr. When it exits, one JSON line goes to `--out`
//! (or stderr): exit status, wall seconds, the command's CPU seconds (user + system of it
//! and its waited-for children, from `wait4`), and the server processes' CPU seconds
//! (`/proc/<pid>/stat`, with descendants; in all and in user space) over the same
//! interval. runstat exits with the command's status.

use std::io::Write;
use std::process::Command;
use std::time::Instant;

use seine_bench::args::{Args, die};
use seine_bench::cpu;
use seine_bench::json::JsonLine;

const USAGE: &str = "usage: runstat [--server-pid P[,P]] [--out FILE] -- COMMAND ARGS...";

fn main() {
    let a = Args::from_env(&["help"]).unwrap_or_else(|e| die(&e, USAGE));
    if a.flag("help") || a.rest.is_empty() {
        die("no command given", USAGE);
    }
    let bad = a.unknown(&["server-pid", "out"]);
    if !bad.is_empty() {
        die(&format!("unknown option(s) {bad:?}"), USAGE);
    }
    let pids = a
        .str("server-pid")
        .map(|p| cpu::parse_pids(p).unwrap_or_else(|e| die(&e, USAGE)))
        .unwrap_or_default();
    let t0 = Instant::now();
    let srv0 = cpu::pids_cpu_times(&pids);
    let child = Command::new(&a.rest[0])
        .args(&a.rest[1..])
        .spawn()
        .unwrap_or_else(|e| die(&format!("{}: {e}", a.rest[0]), USAGE));
    let pid = child.id() as libc::pid_t;
    let (status, client_cpu) = loop {
        // SAFETY: plain out-parameters; `child` is never waited on through std.
        let (r, st, ru) = unsafe {
            let mut st = 0;
            let mut ru: libc::rusage = std::mem::zeroed();
            let r = libc::wait4(pid, &mut st, 0, &mut ru);
            (r, st, ru)
        };
        if r == pid {
            let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
            let code = if libc::WIFEXITED(st) {
                libc::WEXITSTATUS(st)
            } else {
                128 + libc::WTERMSIG(st)
            };
            break (code, tv(ru.ru_utime) + tv(ru.ru_stime));
        }
        if std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
            die("wait4 failed", USAGE);
        }
    };
    let wall = t0.elapsed().as_secs_f64();
    let srv = cpu::pids_cpu_times(&pids).since(srv0);
    let mut j = JsonLine::new();
    j.int("status", status as u64)
        .num("wall_s", wall)
        .num("client_cpu_s", client_cpu)
        .num(
            "server_cpu_s",
            if pids.is_empty() {
                f64::NAN
            } else {
                srv.total()
            },
        )
        .num(
            "server_user_s",
            if pids.is_empty() { f64::NAN } else { srv.user },
        );
    let line = j.finish();
    match a.str("out") {
        Some(path) => {
            if let Err(e) = std::fs::write(path, format!("{line}\n")) {
                eprintln!("runstat: {path}: {e}");
            }
        }
        None => {
            let _ = writeln!(std::io::stderr(), "{line}");
        }
    }
    std::mem::forget(child);
    std::process::exit(status);
}
