//! Events for a busy handler wait in its mailbox; emptied mailboxes are reused,
//! so a request/response exchange does not allocate one each time.

#[path = "support/counting_alloc.rs"]
mod counting_alloc;

use std::cell::RefCell;
use std::rc::Rc;

use counting_alloc::{Counting, allocations_during};
use seine_channel::prelude::*;
use seine_channel::testing::EmbeddedChannel;

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Passes reads on; takes the writes that come back while it is still in
/// `channel_read` (they wait in its mailbox), recording them.
struct Relay {
    written: Rc<RefCell<Vec<u32>>>,
}
impl ChannelHandler for Relay {}
impl InboundHandler for Relay {
    type Read = u32;
    type Fire = u32;
    fn channel_read(&mut self, ctx: &mut InboundContext<'_, u32>, msg: u32) {
        ctx.fire_read(msg);
    }
}
impl OutboundHandler for Relay {
    type Write = u32;
    type Emit = u32;
    fn write(&mut self, ctx: &mut OutboundContext<'_, u32>, msg: u32, promise: Promise) {
        self.written.borrow_mut().push(msg);
        ctx.complete_promise(promise);
    }
}

/// Answers each read with two writes.
struct Answer;
impl ChannelHandler for Answer {}
impl InboundHandler for Answer {
    type Read = u32;
    type Fire = u32;
    fn channel_read(&mut self, ctx: &mut InboundContext<'_, u32>, msg: u32) {
        ctx.write_void(msg * 10);
        ctx.write_void(msg * 10 + 1);
    }
}

#[test]
fn writes_to_a_busy_handler_arrive_in_order_and_reuse_one_mailbox() {
    let written = Rc::new(RefCell::new(Vec::with_capacity(4096)));
    let mut ch = EmbeddedChannel::with_handlers([
        (
            "relay",
            Handler::duplex(Relay {
                written: written.clone(),
            }),
        ),
        ("answer", Handler::inbound(Answer)),
    ]);
    // The first exchange makes the mailbox (and warms everything else up).
    ch.write_inbound(1u32).unwrap();
    assert_eq!(*written.borrow(), [10, 11]);
    let allocs = allocations_during(|| {
        for i in 2..1002u32 {
            ch.write_inbound(i).unwrap();
        }
    });
    let written = written.borrow();
    assert_eq!(written.len(), 2002);
    assert_eq!(written[2000..], [10010, 10011]);
    // Each of the 1,000 exchanges deferred two writes; a mailbox made and
    // dropped each time would be 2,000 allocations.
    assert!(allocs < 50, "{allocs} allocations in 1,000 exchanges");
}
