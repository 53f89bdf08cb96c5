//! Which writes are copied (the transport's docs say it): with
//! `merge_writes_below` on, as socket channels have it, writes shorter than the
//! threshold are copied into one buffer as they are queued; a write at or above
//! it reaches the transport as the same memory, not a copy.

use seine_buffer::Bytes;
use seine_channel::prelude::*;
use seine_channel::testing::EmbeddedChannel;

/// On each read, writes the messages it was given, all in one read batch (one
/// flush at its end).
struct WriteAll(Vec<Bytes>);

impl ChannelHandler for WriteAll {}

impl InboundHandler for WriteAll {
    type Read = Bytes;
    type Fire = Bytes;

    fn channel_read(&mut self, ctx: &mut InboundContext<'_, Bytes>, _msg: Bytes) {
        for m in self.0.drain(..) {
            ctx.write(m);
        }
    }
}

/// Runs `writes` through a channel merging writes under `merge_writes_below`;
/// returns what reached the transport.
fn written(merge_writes_below: usize, writes: Vec<Bytes>) -> Vec<Bytes> {
    let mut ch = EmbeddedChannel::with_config(ChannelConfig {
        merge_writes_below,
        ..ChannelConfig::default()
    });
    ch.pipeline()
        .add_last("w", Handler::inbound(WriteAll(writes)))
        .unwrap();
    ch.activate();
    ch.write_inbound(Bytes::from_static(b"go")).unwrap();
    let mut out = Vec::new();
    while let Some(b) = ch.read_outbound::<Bytes>() {
        out.push(b);
    }
    out
}

#[test]
fn small_writes_are_merged_large_ones_are_passed_on_uncopied() {
    let large = Bytes::from(vec![7u8; 512]);
    let large_ptr = large.as_ptr();
    // One flush: two small writes, a large one, a small one.
    let out = written(
        512,
        vec![
            Bytes::from_static(b"ab"),
            Bytes::from_static(b"cd"),
            large,
            Bytes::from_static(b"ef"),
        ],
    );
    assert_eq!(out.len(), 3, "{out:?}");
    assert_eq!(
        out[0], "abcd",
        "two small writes merged into one buffer (a copy)"
    );
    assert_eq!(out[1].len(), 512);
    assert_eq!(
        out[1].as_ptr(),
        large_ptr,
        "a write of 512 bytes is not copied"
    );
    assert_eq!(out[2], "ef");
}

#[test]
fn nothing_is_merged_with_merging_off() {
    let small = Bytes::from(vec![1u8; 2]);
    let ptr = small.as_ptr();
    let out = written(0, vec![small, Bytes::from_static(b"cd")]);
    assert_eq!(out.len(), 2);
    assert_eq!(out[0].as_ptr(), ptr, "not copied");
    assert_eq!(out[1], "cd");
}
