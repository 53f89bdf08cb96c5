//! A fuzz driver that needs neither nightly Rust nor libFuzzer: replays a target's
//! corpus and seeds, then mutates them (bit flips, byte changes, insertions and
//! deletions, dictionary tokens, splices of two inputs) until the time is up.
//! No coverage guidance: libFuzzer (`cargo fuzz run`) searches better where it is
//! installed; this keeps every target exercised on a machine with stable Rust only.
//!
//! ```text
//! stable_fuzz SECONDS TARGET [CORPUS_DIR [ARTIFACT_DIR]]
//! ```
//!
//! A panic is a crash: the input is written to `ARTIFACT_DIR/crash-<hash>` (and
//! printed in hex), and the driver exits with status 1. `SEINE_FUZZ_SEED=N`
//! repeats a run.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use seine_codec_fuzz::{TARGETS, Target};

/// Longest input tried (as `-max_len=4096` for libFuzzer in `run.sh`).
const MAX_LEN: usize = 4096;
/// Inputs kept to mutate from.
const POOL: usize = 512;

/// xorshift64*: small, fast, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

fn mutate(rng: &mut Rng, input: &mut Vec<u8>, pool: &[Vec<u8>], target: &Target) {
    for _ in 0..=rng.below(8) {
        let len = input.len();
        match rng.below(10) {
            0 if len > 0 => {
                let i = rng.below(len);
                input[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                input[i] = rng.next() as u8;
            }
            2 if len > 0 => {
                // An "interesting" byte: a boundary value or a protocol character.
                const BYTES: &[u8] = b"\x00\x01\x7f\x80\xff\r\n :-+*$0123456789\"'\\";
                let i = rng.below(len);
                input[i] = BYTES[rng.below(BYTES.len())];
            }
            3 => {
                let i = rng.below(len + 1);
                let n = rng.below(16) + 1;
                let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                input.splice(i..i, bytes);
            }
            4 if len > 0 => {
                let i = rng.below(len);
                let n = rng.below(len - i) + 1;
                input.drain(i..i + n.min(len - i));
            }
            5 if len > 0 => {
                // Repeat a chunk (many headers, many frames, long lines).
                let i = rng.below(len);
                let n = (rng.below(len - i) + 1).min(64);
                let chunk = input[i..i + n].to_vec();
                for _ in 0..=rng.below(8) {
                    let at = rng.below(input.len() + 1);
                    input.splice(at..at, chunk.iter().copied());
                }
            }
            6 | 7 if !target.dictionary.is_empty() => {
                let token = target.dictionary[rng.below(target.dictionary.len())];
                let i = rng.below(len + 1);
                input.splice(i..i, token.iter().copied());
            }
            8 if !pool.is_empty() => {
                // Splice: our head, another input's tail.
                let other = &pool[rng.below(pool.len())];
                let cut = rng.below(len + 1);
                let from = rng.below(other.len() + 1);
                input.truncate(cut);
                input.extend_from_slice(&other[from..]);
            }
            _ if len > 3 => {
                // Change the configuration bytes at the front.
                let i = rng.below(3);
                input[i] = rng.next() as u8;
            }
            _ => input.push(rng.next() as u8),
        }
    }
    input.truncate(MAX_LEN);
}

fn read_corpus(dir: &Path) -> Vec<Vec<u8>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| std::fs::read(e.ok()?.path()).ok())
        .filter(|b| b.len() <= MAX_LEN)
        .take(POOL)
        .collect()
}

fn crash(target: &Target, input: &[u8], artifacts: &Path) -> ! {
    let mut h = DefaultHasher::new();
    input.hash(&mut h);
    let path = artifacts.join(format!("crash-{:016x}", h.finish()));
    let _ = std::fs::create_dir_all(artifacts);
    let saved = std::fs::write(&path, input).is_ok();
    let hex: String = input.iter().map(|b| format!("{b:02x}")).collect();
    eprintln!(
        "== {}: CRASH on a {}-byte input{}\n== hex: {hex}",
        target.name,
        input.len(),
        if saved {
            format!(", saved to {}", path.display())
        } else {
            String::new()
        }
    );
    std::process::exit(1);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: stable_fuzz SECONDS TARGET [CORPUS_DIR [ARTIFACT_DIR]]";
    let (Some(seconds), Some(name)) = (args.get(1), args.get(2)) else {
        eprintln!("{usage}");
        std::process::exit(2);
    };
    let seconds: u64 = seconds.parse().unwrap_or_else(|_| {
        eprintln!("{usage}");
        std::process::exit(2)
    });
    let Some(target) = TARGETS.iter().find(|t| t.name == name) else {
        let names: Vec<&str> = TARGETS.iter().map(|t| t.name).collect();
        eprintln!("no target {name}; targets: {}", names.join(" "));
        std::process::exit(2);
    };
    let corpus = args.get(3).map(PathBuf::from);
    let artifacts = args
        .get(4)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("artifacts").join(name));
    let seed = std::env::var("SEINE_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        })
        | 1;
    let mut rng = Rng(seed);

    let mut pool: Vec<Vec<u8>> = target.seeds.iter().map(|s| s.to_vec()).collect();
    if let Some(dir) = &corpus {
        pool.extend(read_corpus(dir));
    }
    // Panics are reported by `crash`, once, with the input.
    std::panic::set_hook(Box::new(|info| eprintln!("{info}")));
    let run = |input: &[u8]| std::panic::catch_unwind(|| (target.run)(input)).is_ok();
    for input in &pool {
        if !run(input) {
            crash(target, input, &artifacts);
        }
    }

    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut executions: u64 = 0;
    let mut input = Vec::with_capacity(MAX_LEN);
    while Instant::now() < deadline {
        for _ in 0..64 {
            input.clear();
            input.extend_from_slice(&pool[rng.below(pool.len())]);
            mutate(&mut rng, &mut input, &pool, target);
            if !run(&input) {
                crash(target, &input, &artifacts);
            }
            executions += 1;
            // Drift: keep some mutants to mutate further.
            if rng.below(32) == 0 {
                if pool.len() < POOL {
                    pool.push(input.clone());
                } else {
                    let i = rng.below(POOL - target.seeds.len()) + target.seeds.len();
                    pool[i] = input.clone();
                }
            }
        }
    }
    eprintln!(
        "== {}: {executions} inputs in {seconds} s, no crash (seed {seed})",
        target.name
    );
}
