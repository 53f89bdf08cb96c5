//! A datagram head: fires `DatagramPacket`, queues one entry per datagram with its
//! recipient, counts datagrams for the water marks, and checks pipeline types.

use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;

use seine_buffer::Bytes;
use seine_channel::prelude::*;
use seine_channel::{
    Addr, ChannelConfig, ChannelCore, DatagramPacket, Error, OutboundBuffer, Transport,
};

type Sent = Rc<RefCell<Vec<(Vec<u8>, Option<SocketAddr>)>>>;

/// Sends up to `budget` datagrams per flush, recording them.
struct Recorder {
    sent: Sent,
    budget: Rc<RefCell<usize>>,
}

impl Transport for Recorder {
    fn flush(&mut self, out: &mut OutboundBuffer) -> Result<(), Error> {
        let mut n = 0;
        while n < *self.budget.borrow() {
            let Some((msg, to)) = out.flushed_datagram(n) else {
                break;
            };
            let bytes = match msg {
                OutboundBuf::Bytes(b) => b.to_vec(),
                OutboundBuf::Composite(c) => c.to_vec(),
                OutboundBuf::File(_) => unreachable!("the head refuses file regions"),
            };
            self.sent.borrow_mut().push((bytes, to));
            n += 1;
        }
        *self.budget.borrow_mut() -= n;
        out.advance_datagrams(n);
        Ok(())
    }
    fn shutdown_output(&mut self) -> Result<(), Error> {
        Ok(())
    }
    fn close(&mut self) {}
}

/// Answers each datagram with its content reversed, to its sender.
struct Reverse;
impl ChannelHandler for Reverse {}
impl InboundHandler for Reverse {
    type Read = DatagramPacket;
    type Fire = DatagramPacket;
    fn channel_read(&mut self, ctx: &mut InboundContext<'_, DatagramPacket>, msg: DatagramPacket) {
        let mut v = msg.content.to_vec();
        v.reverse();
        ctx.write(msg.reply(Bytes::from(v)));
    }
}

fn core(low: usize, high: usize) -> (ChannelCore, Sent, Rc<RefCell<usize>>) {
    let sent: Sent = Rc::default();
    let budget = Rc::new(RefCell::new(usize::MAX));
    let transport = Recorder {
        sent: sent.clone(),
        budget: budget.clone(),
    };
    let config = ChannelConfig {
        low_water_mark: low,
        high_water_mark: high,
        ..ChannelConfig::default()
    };
    let channel = Channel::new(Addr::None, Addr::None);
    let core = ChannelCore::new_datagram(channel, Box::new(transport), config);
    (core, sent, budget)
}

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

#[test]
fn each_datagram_is_answered_to_its_sender_without_merging() {
    let (mut core, sent, _) = core(1, 2);
    core.pipeline()
        .add_last("reverse", Handler::inbound(Reverse))
        .unwrap();
    core.fire_active();
    for (i, port) in [1000u16, 2000, 3000].into_iter().enumerate() {
        core.fire_datagram(DatagramPacket {
            content: Bytes::from(vec![b'a' + i as u8, b'z']),
            sender: Some(addr(port)),
            recipient: Some(addr(53)),
        });
    }
    core.fire_read_complete();
    let sent = sent.borrow();
    assert_eq!(
        *sent,
        [
            (b"za".to_vec(), Some(addr(1000))),
            (b"zb".to_vec(), Some(addr(2000))),
            (b"zc".to_vec(), Some(addr(3000))),
        ]
    );
}

#[test]
fn empty_datagrams_are_sent_not_skipped() {
    let (mut core, sent, _) = core(1, 2);
    core.fire_active();
    let done = core.write(DatagramPacket::new(Bytes::new(), addr(9)));
    assert_eq!(*sent.borrow(), [(Vec::new(), Some(addr(9)))]);
    assert!(matches!(done.result(), Some(Ok(()))));
}

#[test]
fn water_marks_count_datagrams_not_bytes() {
    let (mut core, sent, budget) = core(2, 3);
    core.fire_active();
    *budget.borrow_mut() = 0;
    // Four 1-byte datagrams: 4 > 3 datagrams, unwritable though only 4 bytes wait.
    for _ in 0..3 {
        core.write(DatagramPacket::new(Bytes::from_static(b"x"), addr(1)));
        assert!(core.channel().is_writable());
    }
    core.write(DatagramPacket::new(Bytes::from_static(b"x"), addr(1)));
    assert!(!core.channel().is_writable());
    assert_eq!(core.outbound().pending_datagrams(), 4);
    // Three go out: 1 < 2 pending, writable again.
    *budget.borrow_mut() = 3;
    core.write_pending();
    assert!(core.channel().is_writable());
    assert_eq!(sent.borrow().len(), 3);
}

#[test]
fn a_stream_handler_does_not_fit_a_datagram_head() {
    struct Bytewise;
    impl ChannelHandler for Bytewise {}
    impl InboundHandler for Bytewise {
        type Read = Bytes;
        type Fire = Bytes;
        fn channel_read(&mut self, ctx: &mut InboundContext<'_, Bytes>, msg: Bytes) {
            ctx.fire_read(msg);
        }
    }
    let (mut core, _, _) = core(1, 2);
    let Err(err) = core
        .pipeline()
        .add_last("bytes", Handler::inbound(Bytewise))
        .map(|_| ())
    else {
        panic!("a Bytes reader after a datagram head was accepted");
    };
    assert!(err.to_string().contains("DatagramPacket"), "{err}");
}

#[test]
fn a_connected_channel_accepts_plain_bytes_for_its_peer() {
    let (mut core, sent, _) = core(1, 2);
    core.fire_active();
    core.write(Bytes::from_static(b"hi"));
    assert_eq!(*sent.borrow(), [(b"hi".to_vec(), None)]);
}
