//! Pipeline behaviour through `EmbeddedChannel`: event order, dynamic changes during
//! a read, type checks, re-entrant codecs, errors at the tail.

use std::cell::RefCell;
use std::rc::Rc;

use seine_buffer::Bytes;
use seine_channel::prelude::*;
use seine_channel::testing::EmbeddedChannel;
use seine_channel::{ChannelConfig, ChannelError, Direction};

type Log = Rc<RefCell<Vec<String>>>;

/// Records every inbound event and answers `msg` with `"re:" + msg`.
struct Server {
    log: Log,
}
impl ChannelHandler for Server {
    fn handler_added(&mut self, _ctx: &mut Context<'_>) {
        self.log.borrow_mut().push("added".into());
    }
    fn handler_removed(&mut self, _ctx: &mut Context<'_>) {
        self.log.borrow_mut().push("removed".into());
    }
}
impl InboundHandler for Server {
    type Read = String;
    type Fire = String;
    fn channel_active(&mut self, ctx: &mut InboundContext<'_, String>) {
        self.log.borrow_mut().push("active".into());
        ctx.fire_active();
    }
    fn channel_read(&mut self, ctx: &mut InboundContext<'_, String>, msg: String) {
        self.log.borrow_mut().push(format!("read {msg}"));
        ctx.write(format!("re:{msg}"));
    }
    fn channel_read_complete(&mut self, ctx: &mut InboundContext<'_, String>) {
        self.log.borrow_mut().push("read_complete".into());
        ctx.fire_read_complete();
    }
    fn channel_inactive(&mut self, ctx: &mut InboundContext<'_, String>) {
        self.log.borrow_mut().push("inactive".into());
        ctx.fire_inactive();
    }
}

#[test]
fn request_response_event_order() {
    let log = Log::default();
    let mut ch = EmbeddedChannel::new();
    ch.pipeline()
        .add_last("server", Handler::inbound(Server { log: log.clone() }))
        .unwrap();
    ch.write_inbound_all(["a".to_string(), "b".to_string()])
        .unwrap();
    assert_eq!(ch.read_outbound::<String>().as_deref(), Some("re:a"));
    assert_eq!(ch.read_outbound::<String>().as_deref(), Some("re:b"));
    assert!(!ch.finish());
    assert_eq!(
        *log.borrow(),
        [
            "added",
            "active",
            "read a",
            "read b",
            "read_complete",
            "inactive"
        ]
    );
}

/// A duplex "codec": Bytes in → String out; String written → Bytes out.
struct Utf8Codec;
impl ChannelHandler for Utf8Codec {}
impl InboundHandler for Utf8Codec {
    type Read = Bytes;
    type Fire = String;
    fn channel_read(&mut self, ctx: &mut InboundContext<'_, String>, msg: Bytes) {
        for line in String::from_utf8_lossy(&msg).split(';') {
            ctx.fire_read(line.to_string());
        }
    }
}
impl OutboundHandler for Utf8Codec {
    type Write = String;
    type Emit = Bytes;
    fn write(&mut self, ctx: &mut OutboundContext<'_, Bytes>, msg: String, promise: Promise) {
        ctx.write(Bytes::from(msg + "\n"), promise);
    }
}

#[test]
fn a_codec_receives_the_writes_its_own_reads_caused() {
    let log = Log::default();
    let mut ch = EmbeddedChannel::with_handlers([
        ("codec", Handler::duplex(Utf8Codec)),
        ("server", Handler::inbound(Server { log })),
    ]);
    ch.write_inbound(Bytes::from_static(b"x;y;z")).unwrap();
    assert_eq!(ch.read_outbound_bytes(), b"re:x\nre:y\nre:z\n");
}

/// Passes reads on, and removes itself after the first (a handshake handler).
struct Handshake {
    log: Log,
}
impl ChannelHandler for Handshake {
    fn handler_removed(&mut self, _ctx: &mut Context<'_>) {
        self.log.borrow_mut().push("handshake removed".into());
    }
}
impl InboundHandler for Handshake {
    type Read = String;
    type Fire = String;
    fn channel_read(&mut self, ctx: &mut InboundContext<'_, String>, msg: String) {
        self.log.borrow_mut().push(format!("handshake {msg}"));
        ctx.remove_self();
        ctx.fire_read(msg);
    }
}

/// Passes strings on unchanged, logging them with a tag.
struct Tag {
    tag: &'static str,
    log: Log,
}
impl ChannelHandler for Tag {}
impl InboundHandler for Tag {
    type Read = String;
    type Fire = String;
    fn channel_read(&mut self, ctx: &mut InboundContext<'_, String>, msg: String) {
        self.log.borrow_mut().push(format!("{} {msg}", self.tag));
        ctx.fire_read(msg);
    }
}

#[test]
fn a_handler_removes_itself_during_a_read_batch() {
    let log = Log::default();
    let mut ch = EmbeddedChannel::with_handlers([
        (
            "handshake",
            Handler::inbound(Handshake { log: log.clone() }),
        ),
        (
            "tag",
            Handler::inbound(Tag {
                tag: "t",
                log: log.clone(),
            }),
        ),
    ]);
    ch.write_inbound_all(["1".to_string(), "2".to_string(), "3".to_string()])
        .unwrap();
    assert_eq!(
        *log.borrow(),
        // A handler that removes itself hears `handler_removed` when its callback
        // returns; later reads skip it.
        ["handshake 1", "t 1", "handshake removed", "t 2", "t 3"]
    );
    assert_eq!(ch.pipeline().names(), ["tag"]);
    for want in ["1", "2", "3"] {
        assert_eq!(ch.read_inbound::<String>().as_deref(), Some(want));
    }
}

/// On its first read, adds a tagging handler after itself and replaces itself.
struct Upgrader {
    log: Log,
}
impl ChannelHandler for Upgrader {}
impl InboundHandler for Upgrader {
    type Read = String;
    type Fire = String;
    fn channel_read(&mut self, ctx: &mut InboundContext<'_, String>, msg: String) {
        let log = self.log.clone();
        ctx.pipeline()
            .add_after(
                "upgrader",
                "added",
                Handler::inbound(Tag {
                    tag: "added",
                    log: log.clone(),
                }),
            )
            .unwrap();
        ctx.replace_self(
            "replacement",
            Handler::inbound(Tag {
                tag: "replacement",
                log,
            }),
        )
        .unwrap();
        // The event in flight still goes on from here, through the new neighbours.
        ctx.fire_read(msg);
    }
}

#[test]
fn add_and_replace_during_a_read_apply_to_the_next_event() {
    let log = Log::default();
    let mut ch = EmbeddedChannel::with_handlers([(
        "upgrader",
        Handler::inbound(Upgrader { log: log.clone() }),
    )]);
    ch.write_inbound_all(["a".to_string(), "b".to_string()])
        .unwrap();
    assert_eq!(ch.pipeline().names(), ["replacement", "added"]);
    // The read in flight goes on from the replaced slot to its new neighbours.
    assert_eq!(
        *log.borrow(),
        ["replacement a", "added a", "replacement b", "added b"]
    );
    assert_eq!(ch.read_inbound::<String>().as_deref(), Some("a"));
    assert_eq!(ch.read_inbound::<String>().as_deref(), Some("b"));
}

struct ToLen;
impl ChannelHandler for ToLen {}
impl InboundHandler for ToLen {
    type Read = String;
    type Fire = usize;
    fn channel_read(&mut self, ctx: &mut InboundContext<'_, usize>, msg: String) {
        ctx.fire_read(msg.len());
    }
}

#[test]
fn a_type_mismatch_names_both_handlers_and_types() {
    let mut ch = EmbeddedChannel::new();
    ch.pipeline()
        .add_last("len", Handler::inbound(ToLen))
        .unwrap();
    let err = ch
        .pipeline()
        .add_last(
            "tag",
            Handler::inbound(Tag {
                tag: "t",
                log: Log::default(),
            }),
        )
        .map(|_| ())
        .unwrap_err();
    match &err {
        ChannelError::TypeMismatch {
            direction,
            from,
            from_type,
            to,
            to_type,
        } => {
            assert_eq!(*direction, Direction::Inbound);
            assert_eq!(from, "len");
            assert_eq!(*from_type, "usize");
            assert_eq!(to, "tag");
            assert_eq!(*to_type, "alloc::string::String");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "pipeline type mismatch (inbound): handler `len` passes on `usize` but the next inbound \
         handler `tag` takes `alloc::string::String`; reorder the handlers or add one that \
         converts `usize` into `alloc::string::String`"
    );
    // The pipeline is unchanged; removing `len` would leave nothing to check.
    assert_eq!(ch.pipeline().names(), ["len"]);
    assert!(matches!(
        ch.pipeline()
            .add_last("len", Handler::inbound(ToLen))
            .map(|_| ()),
        Err(ChannelError::DuplicateName(_))
    ));
    assert!(matches!(
        ch.pipeline().remove("nope"),
        Err(ChannelError::NoSuchHandler(_))
    ));
}

#[test]
fn a_socket_pipeline_checks_the_types_at_both_ends() {
    use seine_channel::{Addr, Channel, ChannelCore, OutboundBuffer, Transport};
    struct Null;
    impl Transport for Null {
        fn flush(&mut self, _out: &mut OutboundBuffer) -> Result<(), Error> {
            Ok(())
        }
        fn shutdown_output(&mut self) -> Result<(), Error> {
            Ok(())
        }
        fn close(&mut self) {}
    }
    let mut core = ChannelCore::new(
        Channel::new(Addr::None, Addr::None),
        Box::new(Null),
        ChannelConfig::default(),
    );
    // The head fires `Bytes`: a handler reading `String` cannot come first.
    let err = core
        .pipeline()
        .add_last(
            "tag",
            Handler::inbound(Tag {
                tag: "t",
                log: Log::default(),
            }),
        )
        .map(|_| ())
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("`head` passes on `bytes::bytes::Bytes`"),
        "{err}"
    );
    // An outbound handler next to the head must write a buffer type.
    struct Num;
    impl ChannelHandler for Num {}
    impl OutboundHandler for Num {
        type Write = u32;
        type Emit = u64;
        fn write(&mut self, ctx: &mut OutboundContext<'_, u64>, msg: u32, p: Promise) {
            ctx.write(msg.into(), p);
        }
    }
    let err = core
        .pipeline()
        .add_last("num", Handler::outbound(Num))
        .map(|_| ())
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("handler `head` takes `OutboundBuf"),
        "{err}"
    );
    core.pipeline()
        .add_last("codec", Handler::duplex(Utf8Codec))
        .unwrap();
}

/// Fails every read with an error.
struct Failing;
impl ChannelHandler for Failing {}
impl InboundHandler for Failing {
    type Read = String;
    type Fire = String;
    fn channel_read(&mut self, ctx: &mut InboundContext<'_, String>, msg: String) {
        ctx.write(format!("last words before {msg}"));
        ctx.fire_exception(ChannelError::NoSuchHandler(msg));
    }
}

#[test]
fn an_exception_at_the_tail_closes_after_flushing() {
    let mut ch = EmbeddedChannel::with_handlers([("failing", Handler::inbound(Failing))]);
    let err = ch.write_inbound("boom".to_string()).unwrap_err();
    assert!(
        matches!(err.downcast_ref::<ChannelError>(), Some(ChannelError::NoSuchHandler(n)) if n == "boom")
    );
    assert!(!ch.is_active());
    assert_eq!(
        ch.read_outbound::<String>().as_deref(),
        Some("last words before boom")
    );
}

#[test]
fn an_exception_can_be_caught_and_the_channel_stays_open() {
    struct Catch;
    impl ChannelHandler for Catch {}
    impl InboundHandler for Catch {
        type Read = String;
        type Fire = String;
        fn channel_read(&mut self, ctx: &mut InboundContext<'_, String>, msg: String) {
            ctx.fire_read(msg);
        }
        fn exception_caught(&mut self, ctx: &mut InboundContext<'_, String>, error: Error) {
            ctx.write(format!("caught: {error}"));
        }
    }
    let mut ch = EmbeddedChannel::with_handlers([
        ("failing", Handler::inbound(Failing)),
        ("catch", Handler::inbound(Catch)),
    ]);
    ch.write_inbound("x".to_string()).unwrap();
    assert!(ch.is_active());
    assert_eq!(
        ch.read_outbound::<String>().as_deref(),
        Some("last words before x")
    );
    assert_eq!(
        ch.read_outbound::<String>().as_deref(),
        Some("caught: no handler named `x` in the pipeline")
    );
}

#[test]
fn input_closed_closes_unless_half_closure_is_allowed() {
    let mut ch = EmbeddedChannel::with_handlers([(
        "server",
        Handler::inbound(Server {
            log: Log::default(),
        }),
    )]);
    ch.close_inbound().unwrap();
    assert!(!ch.is_active());

    let config = ChannelConfig {
        allow_half_closure: true,
        ..ChannelConfig::default()
    };
    let mut ch = EmbeddedChannel::with_config(config);
    ch.pipeline()
        .add_last(
            "server",
            Handler::inbound(Server {
                log: Log::default(),
            }),
        )
        .unwrap();
    ch.close_inbound().unwrap();
    assert!(ch.is_active());
    // Still writable after the peer's half-close.
    assert!(matches!(
        ch.write_outbound("late".to_string()).result(),
        Some(Ok(()))
    ));
}

#[test]
fn unhandled_messages_reach_the_tail_and_writes_of_a_wrong_type_fail() {
    let mut ch = EmbeddedChannel::with_handlers([("codec", Handler::duplex(Utf8Codec))]);
    // Writing a u32 where the codec takes String fails the completion.
    let c = ch.write_outbound(7u32);
    let err = c.result().unwrap().unwrap_err();
    assert!(
        matches!(err.downcast_ref::<ChannelError>(), Some(ChannelError::UnexpectedMessage { handler, .. }) if handler == "codec"),
        "{err}"
    );
}

#[test]
fn attributes_are_typed_per_channel() {
    struct Count(u32);
    struct Counter;
    impl ChannelHandler for Counter {}
    impl InboundHandler for Counter {
        type Read = String;
        type Fire = String;
        fn channel_read(&mut self, ctx: &mut InboundContext<'_, String>, msg: String) {
            match ctx.attr_mut::<Count>() {
                Some(c) => c.0 += 1,
                None => {
                    ctx.set_attr(Count(1));
                }
            }
            let n = ctx.attr::<Count>().map_or(0, |c| c.0);
            ctx.fire_read(format!("{msg}{n}"));
        }
    }
    let mut ch = EmbeddedChannel::with_handlers([("counter", Handler::inbound(Counter))]);
    ch.write_inbound_all(["a".to_string(), "b".to_string()])
        .unwrap();
    assert_eq!(ch.read_inbound::<String>().as_deref(), Some("a1"));
    assert_eq!(ch.read_inbound::<String>().as_deref(), Some("b2"));
}

#[test]
fn user_events_and_the_virtual_clock() {
    struct Timeout;
    struct Arm;
    impl ChannelHandler for Arm {}
    impl InboundHandler for Arm {
        type Read = String;
        type Fire = String;
        fn channel_active(&mut self, ctx: &mut InboundContext<'_, String>) {
            ctx.schedule_user_event(std::time::Duration::from_secs(30), Timeout);
            ctx.fire_active();
        }
        fn channel_read(&mut self, ctx: &mut InboundContext<'_, String>, msg: String) {
            ctx.fire_read(msg);
        }
    }
    let mut ch = EmbeddedChannel::with_handlers([("arm", Handler::inbound(Arm))]);
    ch.run_pending_tasks();
    ch.advance_time(std::time::Duration::from_secs(29));
    assert!(ch.take_user_events().is_empty());
    ch.advance_time(std::time::Duration::from_secs(2));
    let events = ch.take_user_events();
    assert_eq!(events.len(), 1);
    assert!(events[0].is::<Timeout>());
}
