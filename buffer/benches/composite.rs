//! CompositeBuf against the anchors it replaces, on the work a frame decoder does.
//!
//! The buffer is 64 KiB held as 16 segments of 4 KiB (a cumulation of 16 reads).
//! Each operation is run on:
//!
//! * `composite`: the `CompositeBuf` of 16 segments;
//! * `bytesmut`: the same bytes consolidated into one `BytesMut` (the anchor: what
//!   a merging decoder works on, after paying for the copy);
//! * `chain`: the 16 segments joined with `bytes::buf::Chain` (nested, boxed), doing
//!   what `Buf` allows: `copy_to_bytes` instead of `split_to`, consuming `get_u32`
//!   and walking `chunk()`s to find a byte.
//!
//! `decode` puts it together: peek a 2-byte length at index 0 and cut the frame,
//! until the buffer is empty (`chain`: `get_u16` + `copy_to_bytes`).
//!
//! After criterion's report, the bench prints ns per operation and the ratio to the
//! `bytesmut` anchor, read back from criterion's estimates.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput};
use seine_buffer::{Buf, ByteOrder, Bytes, BytesMut, CompositeBuf};

const SEGMENT: usize = 4 * 1024;
const SEGMENTS: usize = 16;
const TOTAL: usize = SEGMENT * SEGMENTS;
const FRAMES: [usize; 2] = [64, 1024];
const IMPLS: [&str; 3] = ["composite", "bytesmut", "chain"];

/// 64 KiB where every frame of `frame` bytes ends with `\n` and has no other one.
fn data(frame: usize) -> Vec<u8> {
    (0..TOTAL)
        .map(|i| {
            if i % frame == frame - 1 {
                b'\n'
            } else {
                (i % 251) as u8 | 0x80
            }
        })
        .collect()
}

fn segments(data: &[u8]) -> Vec<Bytes> {
    data.chunks(SEGMENT).map(Bytes::copy_from_slice).collect()
}

fn composite(data: &[u8]) -> CompositeBuf {
    segments(data).into_iter().collect()
}

fn bytesmut(data: &[u8]) -> BytesMut {
    BytesMut::from(data)
}

type DynBuf = Box<dyn Buf + Send>;

/// The segments as a left-nested `bytes::buf::Chain` (`Buf::chain`), boxed so its
/// type does not grow.
fn chain(data: &[u8]) -> DynBuf {
    let mut segs = segments(data).into_iter();
    let first: DynBuf = Box::new(segs.next().expect("non-empty"));
    segs.fold(first, |acc, seg| Box::new(acc.chain(seg)))
}

fn split_to(c: &mut Criterion) {
    let mut group = c.benchmark_group("split_to");
    for frame in FRAMES {
        let d = data(frame);
        let n = TOTAL / frame;
        group.throughput(Throughput::Elements(n as u64));
        let id = |name| BenchmarkId::new(name, format!("{frame}B"));
        group.bench_function(id("composite"), |b| {
            b.iter_batched(
                || composite(&d),
                |mut buf| {
                    for _ in 0..n {
                        black_box(buf.split_to(frame));
                    }
                    buf
                },
                BatchSize::SmallInput,
            )
        });
        group.bench_function(id("bytesmut"), |b| {
            b.iter_batched(
                || bytesmut(&d),
                |mut buf| {
                    for _ in 0..n {
                        black_box(buf.split_to(frame));
                    }
                    buf
                },
                BatchSize::SmallInput,
            )
        });
        group.bench_function(id("chain"), |b| {
            b.iter_batched(
                || chain(&d),
                |mut buf| {
                    for _ in 0..n {
                        black_box(buf.copy_to_bytes(frame));
                    }
                    buf
                },
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

/// Reading the big-endian u32 length field at the start of every frame.
fn get_uint_at(c: &mut Criterion) {
    let mut group = c.benchmark_group("get_uint_at");
    for frame in FRAMES {
        let d = data(frame);
        let n = TOTAL / frame;
        group.throughput(Throughput::Elements(n as u64));
        let id = |name| BenchmarkId::new(name, format!("{frame}B"));
        // Absolute, non-consuming reads (what a length-field decoder peeks).
        let buf = composite(&d);
        group.bench_function(id("composite"), |b| {
            b.iter(|| {
                let mut sum = 0u64;
                for i in 0..n {
                    sum += buf
                        .get_uint_at(black_box(i * frame), 4, ByteOrder::BigEndian)
                        .unwrap_or(0);
                }
                sum
            })
        });
        let flat = bytesmut(&d);
        group.bench_function(id("bytesmut"), |b| {
            b.iter(|| {
                let mut sum = 0u64;
                for i in 0..n {
                    let at = black_box(i * frame);
                    let field: [u8; 4] = flat[at..at + 4].try_into().unwrap_or_default();
                    sum += u64::from(u32::from_be_bytes(field));
                }
                sum
            })
        });
        // Chain cannot read at an index: consume the field, then skip the frame.
        group.bench_function(id("chain"), |b| {
            b.iter_batched(
                || chain(&d),
                |mut buf| {
                    let mut sum = 0u64;
                    for _ in 0..n {
                        sum += u64::from(buf.get_u32());
                        buf.advance(frame - 4);
                    }
                    sum
                },
                BatchSize::SmallInput,
            )
        });
    }
    // Fields that straddle each of the 15 segment borders (the slow path).
    let d = data(64);
    let borders: Vec<usize> = (1..SEGMENTS).map(|k| k * SEGMENT - 2).collect();
    group.throughput(Throughput::Elements(borders.len() as u64));
    let buf = composite(&d);
    group.bench_function(BenchmarkId::new("composite", "border"), |b| {
        b.iter(|| {
            borders
                .iter()
                .map(|&at| {
                    buf.get_uint_at(black_box(at), 4, ByteOrder::BigEndian)
                        .unwrap_or(0)
                })
                .sum::<u64>()
        })
    });
    let flat = bytesmut(&d);
    group.bench_function(BenchmarkId::new("bytesmut", "border"), |b| {
        b.iter(|| {
            borders
                .iter()
                .map(|&at| {
                    let at = black_box(at);
                    let field: [u8; 4] = flat[at..at + 4].try_into().unwrap_or_default();
                    u64::from(u32::from_be_bytes(field))
                })
                .sum::<u64>()
        })
    });
    group.finish();
}

/// Finding every `\n` (one per frame).
fn find_byte(c: &mut Criterion) {
    let mut group = c.benchmark_group("find_byte");
    for frame in FRAMES {
        let d = data(frame);
        let n = TOTAL / frame;
        group.throughput(Throughput::Elements(n as u64));
        let id = |name| BenchmarkId::new(name, format!("{frame}B"));
        let buf = composite(&d);
        group.bench_function(id("composite"), |b| {
            b.iter(|| {
                let (mut from, mut found) = (0, 0);
                while let Some(at) = buf.find_byte(b'\n', from) {
                    found += 1;
                    from = at + 1;
                }
                assert_eq!(found, n);
            })
        });
        let flat = bytesmut(&d);
        group.bench_function(id("bytesmut"), |b| {
            b.iter(|| {
                let (mut from, mut found) = (0, 0);
                while let Some(at) = memchr::memchr(b'\n', &flat[from..]) {
                    found += 1;
                    from += at + 1;
                }
                assert_eq!(found, n);
            })
        });
        group.bench_function(id("chain"), |b| {
            b.iter_batched(
                || chain(&d),
                |mut buf| {
                    let mut found = 0;
                    while buf.has_remaining() {
                        let chunk = buf.chunk();
                        match memchr::memchr(b'\n', chunk) {
                            Some(at) => {
                                found += 1;
                                buf.advance(at + 1);
                            }
                            None => {
                                let len = chunk.len();
                                buf.advance(len);
                            }
                        }
                    }
                    assert_eq!(found, n);
                },
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

/// A length-field decoder loop: peek a 2-byte length at index 0, cut the frame.
fn decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode");
    for frame in FRAMES {
        // Every frame: 2-byte big-endian length of the rest, then the payload.
        let mut d = Vec::with_capacity(TOTAL);
        while d.len() < TOTAL {
            d.extend_from_slice(&((frame - 2) as u16).to_be_bytes());
            d.resize(d.len() + frame - 2, 0x5a);
        }
        let n = TOTAL / frame;
        group.throughput(Throughput::Elements(n as u64));
        let id = |name| BenchmarkId::new(name, format!("{frame}B"));
        group.bench_function(id("composite"), |b| {
            b.iter_batched(
                || composite(&d),
                |mut buf| {
                    let mut frames = 0;
                    while let Some(len) = buf.get_uint_at(0, 2, ByteOrder::BigEndian) {
                        black_box(buf.split_to(2 + len as usize));
                        frames += 1;
                    }
                    assert_eq!(frames, n);
                },
                BatchSize::SmallInput,
            )
        });
        group.bench_function(id("bytesmut"), |b| {
            b.iter_batched(
                || bytesmut(&d),
                |mut buf| {
                    let mut frames = 0;
                    while buf.len() >= 2 {
                        let len = u16::from_be_bytes([buf[0], buf[1]]) as usize;
                        black_box(buf.split_to(2 + len));
                        frames += 1;
                    }
                    assert_eq!(frames, n);
                },
                BatchSize::SmallInput,
            )
        });
        group.bench_function(id("chain"), |b| {
            b.iter_batched(
                || chain(&d),
                |mut buf| {
                    let mut frames = 0;
                    while buf.remaining() >= 2 {
                        let len = buf.get_u16() as usize;
                        black_box(buf.copy_to_bytes(len));
                        frames += 1;
                    }
                    assert_eq!(frames, n);
                },
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

/// Where criterion keeps its estimates (same rule as criterion, minus `cargo metadata`).
fn criterion_home() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir).join("criterion");
    }
    PathBuf::from("target/criterion")
}

/// Mean time per iteration in ns, from `estimates.json`.
fn mean_ns(group: &str, function: &str, param: &str) -> Option<f64> {
    let path = criterion_home()
        .join(group)
        .join(function)
        .join(param)
        .join("new/estimates.json");
    let json = std::fs::read_to_string(path).ok()?;
    let mean = &json[json.find("\"mean\"")?..];
    let value = &mean[mean.find("\"point_estimate\":")? + "\"point_estimate\":".len()..];
    let end = value.find([',', '}'])?;
    value[..end].trim().parse().ok()
}

fn print_ratios() {
    println!("\nns per operation, and ratio to the consolidated BytesMut anchor:");
    println!(
        "{:<12} {:<7} {:>10} {:>10} {:>10} {:>9} {:>9}",
        "bench", "frame", "composite", "bytesmut", "chain", "comp/bm", "chain/bm"
    );
    let mut rows: Vec<(&str, String, usize)> = Vec::new();
    for group in ["split_to", "get_uint_at", "find_byte", "decode"] {
        for frame in FRAMES {
            rows.push((group, format!("{frame}B"), TOTAL / frame));
        }
    }
    rows.push(("get_uint_at", "border".to_string(), SEGMENTS - 1));
    for (group, param, ops) in rows {
        let per_op: Vec<Option<f64>> = IMPLS
            .iter()
            .map(|f| mean_ns(group, f, &param).map(|ns| ns / ops as f64))
            .collect();
        let show = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.2}"));
        let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) if b > 0.0 => format!("{:.2}x", a / b),
            _ => "-".to_string(),
        };
        println!(
            "{:<12} {:<7} {:>10} {:>10} {:>10} {:>9} {:>9}",
            group,
            param,
            show(per_op[0]),
            show(per_op[1]),
            show(per_op[2]),
            ratio(per_op[0], per_op[1]),
            ratio(per_op[2], per_op[1]),
        );
    }
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    split_to(&mut c);
    get_uint_at(&mut c);
    find_byte(&mut c);
    decode(&mut c);
    c.final_summary();
    // `cargo test --benches` runs each bench once without measuring: no estimates.
    if !std::env::args().any(|a| a == "--test" || a == "--list") {
        print_ratios();
    }
}
