//! FlushConsolidationHandler, ChunkedWriteHandler and TrafficShapingHandler on the
//! embedded channel: flush counts, memory bounded by the water marks, paced
//! slices at their scheduled times.

use std::io::Write as _;
use std::time::Duration;

use seine_buffer::{Bytes, FileRegion};
use seine_channel::prelude::*;
use seine_channel::testing::EmbeddedChannel;
use seine_handler::{
    ChunkedFile, ChunkedGenerator, ChunkedStream, ChunkedWrite, ChunkedWriteHandler,
    FlushConsolidationHandler, GlobalTrafficShaper, Rate, TrafficShapingHandler,
};

/// Counts the flushes that pass it toward the transport.
struct FlushCounter(std::rc::Rc<std::cell::Cell<usize>>);
impl ChannelHandler for FlushCounter {}
impl OutboundHandler for FlushCounter {
    type Write = OutboundBuf;
    type Emit = OutboundBuf;
    fn write(&mut self, ctx: &mut OutboundContext<'_, OutboundBuf>, m: OutboundBuf, p: Promise) {
        ctx.write(m, p);
    }
    fn flush(&mut self, ctx: &mut OutboundContext<'_, OutboundBuf>) {
        self.0.set(self.0.get() + 1);
        ctx.flush();
    }
}

/// Writes and flushes every read.
struct Eager;
impl ChannelHandler for Eager {}
impl InboundHandler for Eager {
    type Read = Bytes;
    type Fire = Bytes;
    fn channel_read(&mut self, ctx: &mut InboundContext<'_, Bytes>, msg: Bytes) {
        ctx.write_and_flush(OutboundBuf::from(msg));
    }
}

fn flushes(explicit_after: u32, msgs: usize) -> usize {
    let count = std::rc::Rc::new(std::cell::Cell::new(0));
    let mut ch = EmbeddedChannel::with_handlers([
        ("count", Handler::outbound(FlushCounter(count.clone()))),
        (
            "flush",
            Handler::duplex(FlushConsolidationHandler::new(explicit_after)),
        ),
        ("eager", Handler::inbound(Eager)),
    ]);
    count.set(0);
    ch.write_inbound_all((0..msgs).map(|i| Bytes::from(vec![i as u8])))
        .unwrap();
    assert_eq!(ch.read_outbound_bytes().len(), msgs);
    count.get()
}

#[test]
fn flushes_in_a_read_batch_are_consolidated() {
    // 100 flushes in one batch: one at its end (the core's end-of-batch flush
    // carries nothing more).
    assert!(flushes(256, 100) <= 2, "{}", flushes(256, 100));
    // Every 10th passes, and the end.
    let n = flushes(10, 100);
    assert!((10..=12).contains(&n), "{n}");
}

#[test]
fn flushes_outside_a_batch_wait_for_the_loop_when_asked() {
    let count = std::rc::Rc::new(std::cell::Cell::new(0));
    let mut ch = EmbeddedChannel::with_handlers([
        ("count", Handler::outbound(FlushCounter(count.clone()))),
        (
            "flush",
            Handler::duplex(FlushConsolidationHandler::new(256).consolidate_when_no_read(true)),
        ),
    ]);
    count.set(0);
    for _ in 0..5 {
        ch.write_outbound(OutboundBuf::from(&b"x"[..]));
    }
    assert_eq!(count.get(), 0);
    ch.advance_time(Duration::ZERO).unwrap();
    assert_eq!(count.get(), 1);
    assert_eq!(ch.read_outbound_bytes(), b"xxxxx");
}

fn chunked_channel() -> EmbeddedChannel {
    EmbeddedChannel::with_handlers([("chunked", Handler::duplex(ChunkedWriteHandler::new()))])
}

#[test]
fn a_chunked_input_is_read_only_while_the_channel_is_writable() {
    let mut ch = chunked_channel();
    ch.set_transport_budget(Some(0));
    let body = ChunkedStream::new(std::io::repeat(1).take(10 << 20), 8192);
    let done = ch.write_outbound(ChunkedWrite::input(body));
    // High water mark 64 KiB: reading stopped just past it.
    let pending = ch.core().outbound().pending_bytes();
    assert!(
        pending > 64 * 1024 && pending <= 64 * 1024 + 8192,
        "{pending}"
    );
    assert!(!done.is_done());
    ch.set_transport_budget(None);
    ch.run_pending_tasks().unwrap();
    assert!(matches!(done.result(), Some(Ok(()))));
    assert_eq!(ch.read_outbound_bytes().len(), 10 << 20);
}

use std::io::Read as _;

#[test]
fn buffers_keep_their_order_around_inputs() {
    let mut ch = chunked_channel();
    ch.write_outbound_unflushed(ChunkedWrite::from(Bytes::from_static(b"<")));
    let mut parts = vec![Bytes::from_static(b"b"), Bytes::from_static(b"a")];
    ch.write_outbound_unflushed(ChunkedWrite::input(ChunkedGenerator::new(move || {
        parts.pop().map(Ok)
    })));
    ch.write_outbound_unflushed(ChunkedWrite::from(Bytes::from_static(b">")));
    ch.flush();
    assert_eq!(ch.read_outbound_bytes(), b"<ab>");
}

#[test]
fn a_failing_input_fails_its_write_only() {
    let mut ch = chunked_channel();
    let bad = ch.write_outbound(ChunkedWrite::input(ChunkedGenerator::new(|| {
        Some(Err(std::io::Error::other("disk on fire").into()))
    })));
    assert!(matches!(bad.result(), Some(Err(_))));
    let good = ch.write_outbound(ChunkedWrite::from(Bytes::from_static(b"ok")));
    assert!(matches!(good.result(), Some(Ok(()))));
    assert_eq!(ch.read_outbound_bytes(), b"ok");
}

#[test]
fn file_regions_become_chunks_behind_a_codec() {
    let mut file = tempfile::tempfile().unwrap();
    let data: Vec<u8> = (0..100_000u32).map(|i| i as u8).collect();
    file.write_all(&data).unwrap();
    let region = FileRegion::from_file(file).unwrap();
    let handler =
        ChunkedWriteHandler::<Bytes, OutboundBuf>::with_types().files_as_chunks(16 * 1024);
    let mut ch = EmbeddedChannel::with_handlers([("chunked", Handler::duplex(handler))]);
    let done = ch.write_outbound(OutboundBuf::from(region));
    assert!(matches!(done.result(), Some(Ok(()))));
    let mut got = Vec::new();
    let mut chunks = 0;
    while let Some(b) = ch.read_outbound::<OutboundBuf>() {
        assert!(!b.is_file(), "a file region reached the transport");
        let OutboundBuf::Bytes(b) = b else { panic!() };
        assert!(b.len() <= 16 * 1024);
        got.extend_from_slice(&b);
        chunks += 1;
    }
    assert_eq!(got, data);
    assert_eq!(chunks, 7);
    // And as a plain input.
    let f = tempfile::tempfile().unwrap();
    f.set_len(10).unwrap();
    let mut c = ChunkedFile::from(FileRegion::from_file(f).unwrap());
    use seine_handler::ChunkedInput;
    assert_eq!(c.next_chunk().unwrap().unwrap().len(), 10);
    assert!(c.is_end());
}

#[test]
fn a_shaped_write_leaves_at_the_rate_in_slices() {
    // 100 KiB/s: slices of 5 KiB every 50 ms.
    let shaper = TrafficShapingHandler::per_channel(Rate::UNLIMITED, "100k".parse().unwrap());
    let mut ch = EmbeddedChannel::with_handlers([("shaper", Handler::duplex(shaper))]);
    let done = ch.write_outbound(OutboundBuf::from(vec![0u8; 100 * 1024]));
    let mut sent = ch.read_outbound_bytes().len();
    assert_eq!(sent, 5 * 1024);
    for step in 1..20 {
        ch.advance_time(Duration::from_millis(50)).unwrap();
        sent += ch.read_outbound_bytes().len();
        assert_eq!(sent, (step + 1) * 5 * 1024);
    }
    assert!(matches!(done.result(), Some(Ok(()))));
}

#[test]
fn a_shaped_file_region_is_split_into_sub_regions() {
    let mut file = tempfile::tempfile().unwrap();
    file.write_all(&vec![3u8; 64 * 1024]).unwrap();
    let region = FileRegion::from_file(file).unwrap();
    let shaper = TrafficShapingHandler::per_channel(Rate::UNLIMITED, "320k".parse().unwrap());
    let mut ch = EmbeddedChannel::with_handlers([("shaper", Handler::duplex(shaper))]);
    ch.write_outbound(OutboundBuf::from(region));
    ch.advance_time(Duration::from_millis(150)).unwrap();
    let mut regions = 0;
    while let Some(b) = ch.read_outbound::<OutboundBuf>() {
        assert!(b.is_file());
        assert_eq!(b.len(), 16 * 1024);
        regions += 1;
    }
    assert_eq!(regions, 4); // at 0, 50, 100 and 150 ms
}

#[test]
fn a_global_shaper_shares_its_rate() {
    let global = GlobalTrafficShaper::new(Rate::UNLIMITED, Rate::new(20_000));
    let mut a = EmbeddedChannel::with_handlers([(
        "s",
        Handler::duplex(TrafficShapingHandler::global(&global)),
    )]);
    let mut b = EmbeddedChannel::with_handlers([(
        "s",
        Handler::duplex(TrafficShapingHandler::global(&global)),
    )]);
    a.write_outbound(OutboundBuf::from(vec![0u8; 2000]));
    b.write_outbound(OutboundBuf::from(vec![0u8; 2000]));
    // One slice of 1000 bytes between them now, not one each.
    assert_eq!(
        a.read_outbound_bytes().len() + b.read_outbound_bytes().len(),
        1000
    );
}

#[test]
fn a_shaped_read_pauses_reading_and_passes_the_bytes_on() {
    let shaper = TrafficShapingHandler::per_channel(Rate::new(1000), Rate::UNLIMITED);
    let mut ch = EmbeddedChannel::with_handlers([("shaper", Handler::duplex(shaper))]);
    ch.write_inbound(Bytes::from(vec![0u8; 1000])).unwrap();
    ch.write_inbound(Bytes::from(vec![0u8; 1000])).unwrap();
    assert_eq!(ch.inbound_len(), 2, "never dropped");
    ch.run_pending_tasks().unwrap();
    assert!(!ch.core().wants_read(), "reading is paused");
    ch.advance_time(Duration::from_millis(1000)).unwrap();
    assert!(ch.core().wants_read(), "and resumes on time");
}
