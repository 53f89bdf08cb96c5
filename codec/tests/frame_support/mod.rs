//! Helpers shared by the frame and building-block tests: run reads through a
//! decoder in an `EmbeddedChannel` and record what came out, in order.
#![allow(dead_code)]

use std::cell::RefCell;
use std::rc::Rc;

use seine_buffer::{Bytes, CompositeBuf};
use seine_channel::testing::EmbeddedChannel;
use seine_channel::{
    ChannelConfig, ChannelHandler, Error, Handler, InboundContext, InboundHandler,
};
use seine_codec::CodecError;

/// What reached the recorder, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ev {
    /// A decoded frame's bytes.
    Frame(Vec<u8>),
    /// A codec error.
    Err(CodecError),
}

/// Shorthand for `Ev::Frame`.
pub fn frame(bytes: &[u8]) -> Ev {
    Ev::Frame(bytes.to_vec())
}

/// Shorthand for a too-long error.
pub fn too_long(length: u64, max: usize) -> Ev {
    Ev::Err(CodecError::TooLongFrame { length, max })
}

/// Records frames and errors; takes the errors (keeping the channel open) when
/// `catch` is set, passes them on otherwise.
pub struct Recorder {
    pub log: Rc<RefCell<Vec<Ev>>>,
    pub catch: bool,
}

impl ChannelHandler for Recorder {}

impl InboundHandler for Recorder {
    type Read = CompositeBuf;
    type Fire = CompositeBuf;

    fn channel_read(&mut self, _ctx: &mut InboundContext<'_, CompositeBuf>, msg: CompositeBuf) {
        self.log.borrow_mut().push(Ev::Frame(msg.to_vec()));
    }

    fn exception_caught(&mut self, ctx: &mut InboundContext<'_, CompositeBuf>, error: Error) {
        let codec = error
            .downcast_ref::<CodecError>()
            .cloned()
            .unwrap_or_else(|| panic!("not a codec error: {error}"));
        self.log.borrow_mut().push(Ev::Err(codec));
        if !self.catch {
            ctx.fire_exception(error);
        }
    }
}

/// A channel with `decoder` then a recorder.
pub fn channel(decoder: Handler, catch: bool) -> (EmbeddedChannel, Rc<RefCell<Vec<Ev>>>) {
    let log = Rc::new(RefCell::new(Vec::new()));
    let mut ch = EmbeddedChannel::with_config(ChannelConfig::default());
    ch.pipeline().add_last("decoder", decoder).unwrap();
    ch.pipeline()
        .add_last(
            "recorder",
            Handler::inbound(Recorder {
                log: log.clone(),
                catch,
            }),
        )
        .unwrap();
    ch.activate();
    (ch, log)
}

/// Feeds `reads` (one `write_inbound` each) to a fresh channel whose recorder takes
/// every error, and returns the events in order. Input is not closed.
pub fn run(decoder: Handler, reads: &[&[u8]]) -> Vec<Ev> {
    let (mut ch, log) = channel(decoder, true);
    for r in reads {
        ch.write_inbound(Bytes::copy_from_slice(r)).unwrap();
    }
    assert!(
        ch.is_active(),
        "the channel stays open when errors are taken"
    );
    log.take()
}

/// `data` cut at every single position into two reads, plus one read and one
/// read per byte.
pub fn splits(data: &[u8]) -> Vec<Vec<&[u8]>> {
    let mut out = vec![vec![data], data.chunks(1).collect()];
    for i in 1..data.len() {
        out.push(vec![&data[..i], &data[i..]]);
    }
    out
}

/// Asserts that `data`, however it is cut into reads, decodes into `want`.
pub fn assert_every_split(make: impl Fn() -> Handler, data: &[u8], want: &[Ev]) {
    for reads in splits(data) {
        let got = run(make(), &reads);
        let sizes: Vec<usize> = reads.iter().map(|r| r.len()).collect();
        assert_eq!(got, want, "reads of sizes {sizes:?}");
    }
}
