//! The floor under any zero-copy frame: what sharing a buffer costs.
//!
//! A frame split off a received buffer shares its allocation, so it pays one
//! reference-count increment when it is cut and one decrement when it is dropped,
//! both atomic. Whatever else a pipeline does per frame comes on top of this:
//!
//! * `clone_drop`: `Bytes::clone` + drop of a shared buffer (the increment and the
//!   decrement, nothing else);
//! * `split_to_drop`: cut a 68-byte frame off a shared 1 KiB `Bytes` and drop it (what
//!   a length-field decoder and the write that follows pay at the least);
//! * `composite_split_to_drop`: the same through `CompositeBuf`, the type seine's frame
//!   decoders fire.
//!
//! `bench/README.md` compares these with the per-frame user-space CPU of the echo
//! servers (scenario a).

use std::hint::black_box;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use seine_buffer::{Bytes, CompositeBuf};

const FRAME: usize = 68;

fn refcount(c: &mut Criterion) {
    let mut g = c.benchmark_group("refcount");
    let shared = Bytes::from(vec![7u8; 1024]);
    g.bench_function("clone_drop", |b| {
        b.iter(|| drop(black_box(black_box(&shared).clone())))
    });
    g.bench_function("split_to_drop", |b| {
        b.iter_batched_ref(
            || shared.clone(),
            |buf| {
                let frame = buf.split_to(black_box(FRAME));
                drop(black_box(frame));
            },
            BatchSize::SmallInput,
        )
    });
    g.bench_function("composite_split_to_drop", |b| {
        b.iter_batched_ref(
            || CompositeBuf::from(shared.clone()),
            |buf| {
                let frame = buf.split_to(black_box(FRAME));
                drop(black_box(frame));
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group!(benches, refcount);
criterion_main!(benches);
