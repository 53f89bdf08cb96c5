//! CPU and memory accounting from `/proc` and `getrusage`.
//!
//! Server CPU is `utime + stime` of `/proc/<pid>/stat` (clock ticks, all threads of the
//! process, including threads that already exited), diffed over the measured window.
//! A server given as a pid also counts its descendants (nginx: master + worker).

use std::fs;
use std::io;
use std::time::Duration;

fn clk_tck() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 { t as f64 } else { 100.0 }
}

/// The fields after the `(comm)` of `/proc/<pid>/stat` (field 3 is index 0).
fn stat_fields(pid: u32) -> io::Result<Vec<String>> {
    let s = fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let close = s
        .rfind(')')
        .ok_or_else(|| io::Error::other("malformed /proc stat"))?;
    Ok(s[close + 1..]
        .split_whitespace()
        .map(str::to_string)
        .collect())
}

/// CPU time split into user space and the kernel, in seconds.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CpuTimes {
    /// Time spent in user space (`utime`).
    pub user: f64,
    /// Time spent in the kernel on the process's behalf (`stime`): syscalls, and on
    /// loopback also the TCP receive processing a send triggers.
    pub system: f64,
}

impl CpuTimes {
    /// `user + system`.
    pub fn total(self) -> f64 {
        self.user + self.system
    }

    /// The CPU time from `earlier` to `self`.
    pub fn since(self, earlier: CpuTimes) -> CpuTimes {
        CpuTimes {
            user: self.user - earlier.user,
            system: self.system - earlier.system,
        }
    }
}

/// CPU time (user and system) consumed so far by process `pid`.
pub fn process_cpu_times(pid: u32) -> io::Result<CpuTimes> {
    let f = stat_fields(pid)?;
    // utime is field 14, stime field 15 (1-based); index 0 here is field 3.
    let ticks = |i: usize| -> io::Result<f64> {
        f.get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .map(|v| v as f64)
            .ok_or_else(|| io::Error::other("malformed /proc stat"))
    };
    Ok(CpuTimes {
        user: ticks(11)? / clk_tck(),
        system: ticks(12)? / clk_tck(),
    })
}

/// Parent pid of `pid`.
pub fn parent_pid(pid: u32) -> io::Result<u32> {
    let f = stat_fields(pid)?;
    f.get(1)
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| io::Error::other("malformed /proc stat"))
}

/// `pid` and all its live descendants.
pub fn process_tree(pid: u32) -> Vec<u32> {
    let mut all: Vec<(u32, u32)> = Vec::new();
    if let Ok(rd) = fs::read_dir("/proc") {
        for e in rd.flatten() {
            if let Some(p) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok())
                && let Ok(pp) = parent_pid(p)
            {
                all.push((p, pp));
            }
        }
    }
    let mut out = vec![pid];
    let mut i = 0;
    while i < out.len() {
        let parent = out[i];
        for &(p, pp) in &all {
            if pp == parent && !out.contains(&p) {
                out.push(p);
            }
        }
        i += 1;
    }
    out
}

/// Parses `"12,34"` into pids and expands each to its process tree.
pub fn parse_pids(s: &str) -> Result<Vec<u32>, String> {
    let mut out = Vec::new();
    for part in s.split(',').filter(|p| !p.is_empty()) {
        let pid: u32 = part
            .trim()
            .parse()
            .map_err(|e| format!("pid {part:?}: {e}"))?;
        for p in process_tree(pid) {
            if !out.contains(&p) {
                out.push(p);
            }
        }
    }
    Ok(out)
}

/// Summed CPU time of `pids`; processes that vanished count as 0.
pub fn pids_cpu_times(pids: &[u32]) -> CpuTimes {
    pids.iter()
        .map(|&p| process_cpu_times(p).unwrap_or_default())
        .fold(CpuTimes::default(), |a, b| CpuTimes {
            user: a.user + b.user,
            system: a.system + b.system,
        })
}

/// Resident set size (`VmRSS`) of `pid` in bytes.
pub fn vm_rss_bytes(pid: u32) -> io::Result<u64> {
    let s = fs::read_to_string(format!("/proc/{pid}/status"))?;
    for line in s.lines() {
        if let Some(rest) = line.strip_prefix("VmRSS:") {
            let kb: u64 = rest
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse()
                .map_err(io::Error::other)?;
            return Ok(kb * 1024);
        }
    }
    Err(io::Error::other("no VmRSS line"))
}

/// `VmRSS` of `pid` and all its descendants (a server with worker processes, as
/// nginx's master and workers), in bytes. Processes that vanish count as 0.
pub fn tree_rss_bytes(pid: u32) -> io::Result<u64> {
    let mut total = vm_rss_bytes(pid)?;
    let mut todo = child_pids(pid);
    while let Some(p) = todo.pop() {
        total += vm_rss_bytes(p).unwrap_or(0);
        todo.extend(child_pids(p));
    }
    Ok(total)
}

/// The children of `pid`, from every thread's `children` list.
fn child_pids(pid: u32) -> Vec<u32> {
    let Ok(tasks) = fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for t in tasks.flatten() {
        if let Ok(s) = fs::read_to_string(t.path().join("children")) {
            out.extend(s.split_whitespace().filter_map(|x| x.parse::<u32>().ok()));
        }
    }
    out
}

fn tv(t: libc::timeval) -> f64 {
    t.tv_sec as f64 + t.tv_usec as f64 / 1e6
}

fn rusage(who: libc::c_int) -> f64 {
    // SAFETY: getrusage writes a plain struct; zeroed is a valid initial value.
    unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        if libc::getrusage(who, &mut ru) != 0 {
            return 0.0;
        }
        tv(ru.ru_utime) + tv(ru.ru_stime)
    }
}

/// CPU seconds (user + system, all threads) consumed so far by this process.
pub fn self_cpu_seconds() -> f64 {
    rusage(libc::RUSAGE_SELF)
}

/// CPU seconds of this process's waited-for children.
pub fn children_cpu_seconds() -> f64 {
    rusage(libc::RUSAGE_CHILDREN)
}

/// Raises `RLIMIT_NOFILE`'s soft limit to `want` (or the hard limit); returns the new soft limit.
pub fn raise_nofile(want: u64) -> u64 {
    // SAFETY: plain struct in/out.
    unsafe {
        let mut rl: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl) != 0 {
            return 0;
        }
        if rl.rlim_cur < want {
            rl.rlim_cur = want.min(rl.rlim_max);
            libc::setrlimit(libc::RLIMIT_NOFILE, &rl);
            libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl);
        }
        rl.rlim_cur
    }
}

/// Machine-wide busy fraction (0..=1 of all cores) over `window`, from `/proc/stat`.
pub fn machine_busy(window: Duration) -> io::Result<f64> {
    fn sample() -> io::Result<(u64, u64)> {
        let s = fs::read_to_string("/proc/stat")?;
        let line = s.lines().next().unwrap_or("");
        let v: Vec<u64> = line
            .split_whitespace()
            .skip(1)
            .filter_map(|x| x.parse().ok())
            .collect();
        let total: u64 = v.iter().take(8).sum();
        let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
        Ok((total, idle))
    }
    let (t0, i0) = sample()?;
    std::thread::sleep(window);
    let (t1, i1) = sample()?;
    let dt = t1.saturating_sub(t0).max(1);
    Ok(1.0 - i1.saturating_sub(i0) as f64 / dt as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_cpu_and_rss_are_readable() {
        let pid = std::process::id();
        // Work until the kernel's clock-tick accounting shows some (it counts
        // in 10 ms steps, so a fixed amount of work could still read 0).
        let mut x = 0u64;
        let mut t = process_cpu_times(pid).unwrap();
        for _ in 0..100_000 {
            if t.user > 0.0 {
                break;
            }
            for i in 0..100_000u64 {
                x = x.wrapping_mul(31).wrapping_add(i);
            }
            std::hint::black_box(x);
            t = process_cpu_times(pid).unwrap();
        }
        assert!(t.user > 0.0 && t.system >= 0.0, "{t:?}");
        assert_eq!(t.total(), t.user + t.system);
        assert!(self_cpu_seconds() > 0.0);
        assert!(vm_rss_bytes(pid).unwrap() > 0);
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        // Once exec'd, the child has its own resident pages.
        for _ in 0..500 {
            if vm_rss_bytes(child.id()).unwrap_or(0) > 0 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let own = vm_rss_bytes(pid).unwrap();
        let tree = tree_rss_bytes(pid).unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(tree > own, "a child's RSS is counted: {tree} vs {own}");
        assert!(process_tree(pid).contains(&pid));
    }
}
