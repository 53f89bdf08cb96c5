//! FlowControlHandler: one message per read() demand, whatever one read decoded;
//! a consumer that asks only while writable bounds its work per connection.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use seine_buffer::Bytes;

use seine_channel::prelude::*;
use seine_channel::testing::EmbeddedChannel;
use seine_handler::FlowControlHandler;

/// A duplex "codec": one `u32` per input byte; writes pass through (as a codec's
/// do, deferred while it decodes).
struct PerByte;
impl ChannelHandler for PerByte {}
impl InboundHandler for PerByte {
    type Read = Bytes;
    type Fire = u32;
    fn channel_read(&mut self, ctx: &mut InboundContext<'_, u32>, msg: Bytes) {
        for &b in msg.iter() {
            ctx.fire_read(u32::from(b));
        }
    }
}
impl OutboundHandler for PerByte {
    type Write = OutboundBuf;
    type Emit = OutboundBuf;
    fn write(&mut self, ctx: &mut OutboundContext<'_, OutboundBuf>, msg: OutboundBuf, p: Promise) {
        ctx.write(msg, p);
    }
}

/// Answers each message with `size` bytes; asks for the next only while writable.
struct Answer {
    size: usize,
    answered: Rc<Cell<usize>>,
}
impl ChannelHandler for Answer {}
impl InboundHandler for Answer {
    type Read = u32;
    type Fire = u32;
    fn channel_active(&mut self, ctx: &mut InboundContext<'_, u32>) {
        ctx.read();
        ctx.fire_active();
    }
    fn channel_read(&mut self, ctx: &mut InboundContext<'_, u32>, _msg: u32) {
        self.answered.set(self.answered.get() + 1);
        ctx.write_void(OutboundBuf::from(vec![0u8; self.size]));
        if ctx.is_writable() {
            ctx.read();
        }
    }
    fn channel_writability_changed(&mut self, ctx: &mut InboundContext<'_, u32>) {
        if ctx.is_writable() {
            ctx.read();
        }
        ctx.fire_writability_changed();
    }
}

fn channel(size: usize) -> (EmbeddedChannel, Rc<Cell<usize>>) {
    let answered = Rc::new(Cell::new(0));
    let config = ChannelConfig {
        auto_read: false,
        ..ChannelConfig::default()
    };
    let mut ch = EmbeddedChannel::with_config(config);
    let mut p = ch.pipeline();
    p.add_last("codec", Handler::duplex(PerByte)).unwrap();
    p.add_last(
        "flow",
        Handler::duplex(FlowControlHandler::<u32, OutboundBuf>::new()),
    )
    .unwrap();
    p.add_last(
        "answer",
        Handler::inbound(Answer {
            size,
            answered: answered.clone(),
        }),
    )
    .unwrap();
    ch.activate();
    (ch, answered)
}

#[test]
fn a_burst_in_one_read_is_answered_only_while_writable() {
    let (mut ch, answered) = channel(40_000);
    ch.set_transport_budget(Some(0)); // the peer reads nothing
    ch.write_inbound(Bytes::from(vec![7u8; 5000])).unwrap();
    // Releases asked for during the batch come from a timer due at once.
    ch.advance_time(Duration::ZERO).unwrap();
    // 64 KiB high water mark, 40 KB answers: the second crosses it.
    assert!(answered.get() <= 3, "answered {}", answered.get());
    let in_buffer = ch.core().outbound().pending_bytes();
    assert!(in_buffer <= 3 * 40_000, "{in_buffer}");
    // The peer reads everything: the rest is answered, as it goes.
    ch.set_transport_budget(None);
    ch.advance_time(Duration::ZERO).unwrap();
    assert_eq!(answered.get(), 5000);
}

#[test]
fn small_answers_flow_through_without_waiting() {
    let (mut ch, answered) = channel(10);
    ch.write_inbound(Bytes::from(vec![7u8; 1000])).unwrap();
    ch.advance_time(Duration::ZERO).unwrap();
    assert_eq!(answered.get(), 1000);
    assert_eq!(ch.read_outbound_bytes().len(), 10_000);
}

#[test]
fn one_message_per_read_request() {
    let config = ChannelConfig {
        auto_read: false,
        ..ChannelConfig::default()
    };
    let mut ch = EmbeddedChannel::with_config(config);
    ch.pipeline()
        .add_last(
            "flow",
            Handler::duplex(FlowControlHandler::<u32, u32>::new()),
        )
        .unwrap();
    ch.write_inbound_all([1u32, 2, 3]).unwrap();
    assert_eq!(ch.inbound_len(), 0);
    for want in 1..=3 {
        ch.channel().read();
        ch.run_pending_tasks().unwrap();
        assert_eq!(ch.read_inbound::<u32>(), Some(want));
        assert_eq!(ch.inbound_len(), 0);
    }
    // Nothing held: the next message goes straight on to the one who asked.
    ch.channel().read();
    ch.run_pending_tasks().unwrap();
    ch.write_inbound(4u32).unwrap();
    assert_eq!(ch.read_inbound::<u32>(), Some(4));
    ch.write_inbound(5u32).unwrap();
    assert_eq!(ch.inbound_len(), 0);
}

#[test]
fn with_auto_read_messages_pass_straight_through() {
    let mut ch = EmbeddedChannel::new();
    ch.pipeline()
        .add_last(
            "flow",
            Handler::duplex(FlowControlHandler::<u32, u32>::new()),
        )
        .unwrap();
    ch.write_inbound_all([1u32, 2]).unwrap();
    assert_eq!(ch.inbound_len(), 2);
}

#[test]
fn a_batch_that_brings_no_message_reads_on() {
    let config = ChannelConfig {
        auto_read: false,
        ..ChannelConfig::default()
    };
    let mut ch = EmbeddedChannel::with_config(config);
    ch.pipeline()
        .add_last(
            "flow",
            Handler::duplex(FlowControlHandler::<u32, u32>::new()),
        )
        .unwrap();
    ch.channel().read();
    ch.run_pending_tasks().unwrap();
    ch.core().set_auto_read(false);
    // A batch with no message for us (the decoder holds half a frame).
    ch.write_inbound_all(Vec::<u32>::new()).unwrap();
    assert!(ch.core().wants_read(), "the demand is still open: read on");
}
