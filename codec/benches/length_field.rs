//! Length-field framing throughput: a stream of N frames cut into 64 KiB reads,
//! decoded and re-encoded with a length prefix, no sockets.
//!
//! * `seine_pipeline`: `LengthFieldDecoder` -> echo handler -> `LengthFieldPrepender`
//!   in a real `ChannelCore` (socket head) whose transport only counts the bytes it
//!   is handed; one `channel_read_complete` (and so one flush) per read.
//! * `seine_direct`: the same codec work without the pipeline: `Cumulation` +
//!   `LengthFieldDecoder::decode` + `LengthFieldPrepender::encode_header` +
//!   `CompositeBuf::prepend`.
//! * `tokio_util`: tokio-util's `LengthDelimitedCodec` decoding from a `BytesMut`
//!   (each read appended) and encoding into a `BytesMut` (cleared per read, as a
//!   socket write would drain it). This is the anchor.
//!
//! After criterion's runs, a summary times the three alternately in the same
//! process and prints seine/tokio-util ratios (median of 7 rounds).

use std::time::{Duration, Instant};

use bytes::BytesMut;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
use seine_buffer::{Bytes, CompositeBuf, Cumulation};
use seine_channel::Addr;
use seine_channel::{
    Channel, ChannelConfig, ChannelCore, ChannelHandler, Error, Handler, InboundContext,
    InboundHandler, OutboundBuffer, Transport,
};
use seine_codec::{Decoder, LengthFieldDecoder, LengthFieldPrepender};
use tokio_util::codec::{Decoder as _, Encoder as _, LengthDelimitedCodec};

const READ: usize = 64 * 1024;
const MAX_FRAME: usize = 8 * 1024 * 1024;

/// Frame sizes and how many frames each stream holds (about 4-8 MiB of payload).
const CASES: [(usize, usize, &str); 3] = [
    (64, 65_536, "64B"),
    (4096, 1024, "4KiB"),
    (1024 * 1024, 8, "1MiB"),
];

/// The stream of `n` frames of `size` bytes, each with a 4-byte big-endian length,
/// cut into 64 KiB reads.
fn reads(size: usize, n: usize) -> Vec<Bytes> {
    let mut stream = Vec::with_capacity(n * (size + 4));
    for i in 0..n {
        stream.extend_from_slice(&(size as u32).to_be_bytes());
        stream.extend(std::iter::repeat_n(i as u8, size));
    }
    stream.chunks(READ).map(Bytes::copy_from_slice).collect()
}

/// Takes everything flushed and counts it, as a socket that never blocks.
struct CountingTransport {
    bytes: std::rc::Rc<std::cell::Cell<u64>>,
}

impl Transport for CountingTransport {
    fn flush(&mut self, out: &mut OutboundBuffer) -> Result<(), Error> {
        let mut n = 0;
        while let Some(buf) = out.pop_flushed() {
            n += buf.len() as u64;
        }
        self.bytes.set(self.bytes.get() + n);
        Ok(())
    }
    fn shutdown_output(&mut self) -> Result<(), Error> {
        Ok(())
    }
    fn close(&mut self) {}
}

/// Writes back every frame it reads.
struct Echo;
impl ChannelHandler for Echo {}
impl InboundHandler for Echo {
    type Read = CompositeBuf;
    type Fire = CompositeBuf;
    fn channel_read(&mut self, ctx: &mut InboundContext<'_, CompositeBuf>, msg: CompositeBuf) {
        ctx.write_void(msg);
    }
}

struct SeinePipeline {
    core: ChannelCore,
    written: std::rc::Rc<std::cell::Cell<u64>>,
}

impl SeinePipeline {
    fn new() -> Self {
        let written = std::rc::Rc::new(std::cell::Cell::new(0));
        let transport = CountingTransport {
            bytes: written.clone(),
        };
        let channel = Channel::new(Addr::None, Addr::None);
        let mut core = ChannelCore::new(channel, Box::new(transport), ChannelConfig::default());
        core.pipeline()
            .add_last(
                "decoder",
                Handler::from(
                    LengthFieldDecoder::builder()
                        .max_frame_length(MAX_FRAME)
                        .length_field_offset(0)
                        .length_field_length(4)
                        .length_adjustment(0)
                        .initial_bytes_to_strip(4)
                        .build()
                        .unwrap(),
                ),
            )
            .unwrap()
            .add_last(
                "prepender",
                Handler::from(
                    LengthFieldPrepender::builder()
                        .length_field_length(4)
                        .build()
                        .unwrap(),
                ),
            )
            .unwrap()
            .add_last("echo", Handler::inbound(Echo))
            .unwrap();
        core.fire_active();
        SeinePipeline { core, written }
    }

    fn run(&mut self, reads: &[Bytes]) -> u64 {
        let before = self.written.get();
        for r in reads {
            self.core.fire_read(r.clone());
            self.core.fire_read_complete();
        }
        self.written.get() - before
    }
}

fn seine_direct(reads: &[Bytes]) -> u64 {
    let mut cumulation = Cumulation::default();
    let mut decoder = LengthFieldDecoder::builder()
        .max_frame_length(MAX_FRAME)
        .length_field_offset(0)
        .length_field_length(4)
        .length_adjustment(0)
        .initial_bytes_to_strip(4)
        .build()
        .unwrap();
    let mut prepender = LengthFieldPrepender::builder()
        .length_field_length(4)
        .build()
        .unwrap();
    let mut out = Vec::with_capacity(1024);
    let mut written = 0u64;
    for r in reads {
        cumulation.push(r.clone());
        while let Some(mut frame) = decoder.decode(cumulation.buf()).unwrap() {
            let header = prepender.encode_header(frame.len() as u64).unwrap();
            frame.prepend(header);
            written += frame.len() as u64;
            out.push(frame);
        }
        out.clear(); // the socket write drops the buffers
    }
    written
}

fn tokio_util(reads: &[Bytes]) -> u64 {
    let mut codec = LengthDelimitedCodec::builder()
        .length_field_length(4)
        .max_frame_length(MAX_FRAME)
        .new_codec();
    let mut input = BytesMut::new();
    let mut output = BytesMut::new();
    let mut written = 0u64;
    for r in reads {
        input.extend_from_slice(r);
        while let Some(frame) = codec.decode(&mut input).unwrap() {
            codec.encode(frame.freeze(), &mut output).unwrap();
        }
        written += output.len() as u64;
        output.clear(); // the socket write drains it
    }
    written
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("length_field");
    for (size, n, name) in CASES {
        let reads = reads(size, n);
        let expect = (n * (size + 4)) as u64;
        group.throughput(Throughput::Bytes(expect));
        let mut pipeline = SeinePipeline::new();
        assert_eq!(pipeline.run(&reads), expect);
        assert_eq!(seine_direct(&reads), expect);
        assert_eq!(tokio_util(&reads), expect);
        group.bench_with_input(BenchmarkId::new("seine_pipeline", name), &reads, |b, r| {
            b.iter(|| pipeline.run(r))
        });
        group.bench_with_input(BenchmarkId::new("seine_direct", name), &reads, |b, r| {
            b.iter(|| seine_direct(r))
        });
        group.bench_with_input(BenchmarkId::new("tokio_util", name), &reads, |b, r| {
            b.iter(|| tokio_util(r))
        });
    }
    group.finish();
}

/// Times `f` over `reads` for at least `min` and returns bytes per second.
fn rate(mut f: impl FnMut() -> u64, min: Duration) -> f64 {
    let start = Instant::now();
    let mut bytes = 0u64;
    while start.elapsed() < min {
        bytes += f();
    }
    bytes as f64 / start.elapsed().as_secs_f64()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Alternates the three in one process and prints the ratios to the anchor.
fn summary() {
    println!("\nlength_field summary (median of 7 alternating rounds of 300 ms):");
    println!(
        "{:>6} {:>16} {:>16} {:>16} {:>10} {:>10}",
        "frame", "seine_pipeline", "seine_direct", "tokio_util", "pipe/tok", "direct/tok"
    );
    for (size, n, name) in CASES {
        let reads = reads(size, n);
        let mut pipeline = SeinePipeline::new();
        let (mut p, mut d, mut t) = (Vec::new(), Vec::new(), Vec::new());
        let min = Duration::from_millis(300);
        for _ in 0..7 {
            p.push(rate(|| pipeline.run(&reads), min));
            d.push(rate(|| seine_direct(&reads), min));
            t.push(rate(|| tokio_util(&reads), min));
        }
        let (p, d, t) = (median(p), median(d), median(t));
        let gbs = |x: f64| format!("{:.2} GB/s", x / 1e9);
        println!(
            "{name:>6} {:>16} {:>16} {:>16} {:>10.2} {:>10.2}",
            gbs(p),
            gbs(d),
            gbs(t),
            p / t,
            d / t
        );
        let fps = |x: f64| x / (size + 4) as f64 / 1e6;
        println!(
            "{:>6} {:>13.2} M/s {:>13.2} M/s {:>13.2} M/s   (frames per second)",
            "",
            fps(p),
            fps(d),
            fps(t)
        );
    }
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    if full_run() {
        summary();
    }
}

/// Whether criterion ran everything: not listing, profiling or filtering.
fn full_run() -> bool {
    const WITH_VALUE: [&str; 12] = [
        "--warm-up-time",
        "--measurement-time",
        "--sample-size",
        "--save-baseline",
        "--baseline",
        "--noise-threshold",
        "--confidence-level",
        "--significance-level",
        "--nresamples",
        "--output-format",
        "--color",
        "--plotting-backend",
    ];
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--list" || a.starts_with("--profile-time") || !a.starts_with('-') {
            return false;
        }
        if WITH_VALUE.contains(&a.as_str()) {
            args.next();
        }
    }
    true
}
