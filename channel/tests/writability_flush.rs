//! Writes made by a handler reacting to `channel_writability_changed` during a
//! flush are flushed too (end of a top-level call loops while writes are pending).

use seine_buffer::Bytes;
use seine_channel::prelude::*;
use seine_channel::testing::EmbeddedChannel;

/// Writes one more message each time the channel becomes writable.
struct OnWritable(usize);
impl ChannelHandler for OnWritable {}
impl InboundHandler for OnWritable {
    type Read = Bytes;
    type Fire = Bytes;
    fn channel_read(&mut self, _ctx: &mut InboundContext<'_, Bytes>, _msg: Bytes) {}
    fn channel_writability_changed(&mut self, ctx: &mut InboundContext<'_, Bytes>) {
        if ctx.is_writable() && self.0 > 0 {
            self.0 -= 1;
            ctx.write_void(OutboundBuf::from(vec![1u8; 100 * 1024]));
        }
    }
}

#[test]
fn writes_made_on_writability_are_flushed() {
    let mut ch = EmbeddedChannel::with_handlers([("w", Handler::inbound(OnWritable(3)))]);
    ch.set_transport_budget(Some(0));
    ch.write_outbound(OutboundBuf::from(vec![0u8; 100 * 1024]));
    assert!(!ch.is_writable());
    // The peer reads everything: each drain makes the channel writable, the
    // handler writes again, and that write leaves too, with no other call.
    ch.set_transport_budget(None);
    assert_eq!(ch.core().outbound().pending_bytes(), 0);
    assert_eq!(ch.read_outbound_bytes().len(), 4 * 100 * 1024);
}
