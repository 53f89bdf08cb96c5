//! Cost of one message hop between pass-through handlers.
//!
//! A pipeline of N pass-through inbound handlers (Bytes in, Bytes out) followed
//! by a sink; each iteration fires one `Bytes` from the head. The per-hop figure
//! is (time(N) - time(0)) / N, so the fixed cost of entering the pipeline and the
//! sink is not counted as hops. The run prints the figures at the end.

use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use seine_buffer::Bytes;
use seine_channel::prelude::*;
use seine_channel::{Addr, ChannelConfig, ChannelCore, OutboundBuffer, Transport};

struct Null;
impl Transport for Null {
    fn flush(&mut self, out: &mut OutboundBuffer) -> Result<(), Error> {
        while out.pop_flushed().is_some() {}
        Ok(())
    }
    fn shutdown_output(&mut self) -> Result<(), Error> {
        Ok(())
    }
    fn close(&mut self) {}
}

struct Pass;
impl ChannelHandler for Pass {}
impl InboundHandler for Pass {
    type Read = Bytes;
    type Fire = Bytes;
    #[inline]
    fn channel_read(&mut self, ctx: &mut InboundContext<'_, Bytes>, msg: Bytes) {
        ctx.fire_read(msg);
    }
}

struct Sink(u64);
impl ChannelHandler for Sink {}
impl InboundHandler for Sink {
    type Read = Bytes;
    type Fire = Bytes;
    #[inline]
    fn channel_read(&mut self, _ctx: &mut InboundContext<'_, Bytes>, msg: Bytes) {
        self.0 += msg.len() as u64;
    }
}

fn core_with(n: usize) -> ChannelCore {
    let mut core = ChannelCore::new(
        Channel::new(Addr::None, Addr::None),
        Box::new(Null),
        ChannelConfig::default(),
    );
    {
        let mut p = core.pipeline();
        for i in 0..n {
            p.add_last(&format!("pass{i}"), Handler::inbound(Pass))
                .unwrap();
        }
        p.add_last("sink", Handler::inbound(Sink(0))).unwrap();
    }
    core.fire_active();
    core
}

fn ns_per_message(n: usize, iters: u64) -> f64 {
    let mut core = core_with(n);
    let msg = Bytes::from_static(b"0123456789abcdef");
    let start = Instant::now();
    for _ in 0..iters {
        core.fire_read(std::hint::black_box(msg.clone()));
    }
    start.elapsed().as_nanos() as f64 / iters as f64
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("pipeline_hop");
    g.measurement_time(Duration::from_secs(2));
    g.warm_up_time(Duration::from_millis(500));
    for n in [0usize, 1, 4, 16] {
        g.bench_with_input(BenchmarkId::new("handlers", n), &n, |b, &n| {
            let mut core = core_with(n);
            let msg = Bytes::from_static(b"0123456789abcdef");
            b.iter(|| core.fire_read(std::hint::black_box(msg.clone())));
        });
    }
    g.finish();

    // A summary with the per-hop figure: median of 7 runs of 2M messages each.
    let median = |n: usize| {
        let mut v: Vec<f64> = (0..7).map(|_| ns_per_message(n, 2_000_000)).collect();
        v.sort_by(f64::total_cmp);
        v[3]
    };
    let base = median(0);
    println!("\npipeline hop summary (median of 7 x 2M messages)");
    println!("entering the pipeline + sink: {base:.2} ns/message");
    for n in [1usize, 4, 16] {
        let t = median(n);
        println!(
            "{n:>2} pass-through handlers: {t:.2} ns/message, {:.2} ns per hop",
            (t - base) / n as f64
        );
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
