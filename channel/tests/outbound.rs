//! Outbound buffer behaviour: water marks, completions, writes from other threads.

use std::cell::RefCell;
use std::rc::Rc;

use seine_buffer::Bytes;
use seine_channel::prelude::*;
use seine_channel::testing::EmbeddedChannel;
use seine_channel::{ChannelConfig, ChannelError};

/// Counts writability changes and records the state seen at each.
struct Watch {
    seen: Rc<RefCell<Vec<bool>>>,
}
impl ChannelHandler for Watch {}
impl InboundHandler for Watch {
    type Read = Bytes;
    type Fire = Bytes;
    fn channel_read(&mut self, ctx: &mut InboundContext<'_, Bytes>, msg: Bytes) {
        ctx.fire_read(msg);
    }
    fn channel_writability_changed(&mut self, ctx: &mut InboundContext<'_, Bytes>) {
        self.seen.borrow_mut().push(ctx.is_writable());
        ctx.fire_writability_changed();
    }
}

#[test]
fn water_marks_fire_once_per_crossing() {
    let config = ChannelConfig {
        low_water_mark: 100,
        high_water_mark: 200,
        ..ChannelConfig::default()
    };
    let seen = Rc::new(RefCell::new(Vec::new()));
    let mut ch = EmbeddedChannel::with_config(config);
    ch.pipeline()
        .add_last("watch", Handler::inbound(Watch { seen: seen.clone() }))
        .unwrap();
    ch.activate();
    ch.set_transport_budget(Some(0));

    let chunk = Bytes::from(vec![7u8; 60]);
    let mut done = Vec::new();
    for _ in 0..4 {
        done.push(ch.write_outbound(chunk.clone()));
    }
    // 240 bytes pending > 200: one change to unwritable, none for more writes.
    assert_eq!(*seen.borrow(), [false]);
    assert!(!ch.is_writable() && !ch.channel().is_writable());
    assert!(done.iter().all(|c| c.result().is_none()));
    done.push(ch.write_outbound(chunk.clone()));
    assert_eq!(seen.borrow().len(), 1);

    // Let 150 bytes out: 150 pending, not under the low mark yet.
    ch.set_transport_budget(Some(150));
    assert_eq!(seen.borrow().len(), 1);
    assert!(matches!(done[0].result(), Some(Ok(()))));
    assert!(matches!(done[1].result(), Some(Ok(()))));
    assert!(done[2].result().is_none(), "only 30 of its 60 bytes left");
    // 60 more: 90 pending < 100: writable again, exactly one event.
    ch.set_transport_budget(Some(60));
    assert_eq!(*seen.borrow(), [false, true]);
    assert!(ch.is_writable());
    ch.set_transport_budget(None);
    assert!(done.iter().all(|c| matches!(c.result(), Some(Ok(())))));
    assert_eq!(ch.read_outbound_bytes().len(), 300);
    assert_eq!(*seen.borrow(), [false, true]);
}

#[test]
fn completions_fail_when_the_channel_closes_first() {
    let mut ch = EmbeddedChannel::new();
    ch.activate();
    ch.set_transport_budget(Some(0));
    let pending = ch.write_outbound(Bytes::from_static(b"stuck"));
    assert!(pending.result().is_none());
    // A forced close (the graceful one would wait for the bytes to leave).
    ch.core().close_now(None);
    let err = pending.result().unwrap().unwrap_err();
    assert!(matches!(
        err.downcast_ref::<ChannelError>(),
        Some(ChannelError::Closed)
    ));
    // Writes after close fail at once.
    let late = ch.write_outbound(Bytes::from_static(b"late"));
    assert!(matches!(late.result(), Some(Err(_))));
}

#[test]
fn a_handler_can_close_without_waiting_for_the_flush() {
    /// Closes on a user event: gracefully (`false`) or at once (`true`).
    struct Closer;
    impl ChannelHandler for Closer {}
    impl InboundHandler for Closer {
        type Read = Bytes;
        type Fire = Bytes;
        fn channel_read(&mut self, ctx: &mut InboundContext<'_, Bytes>, msg: Bytes) {
            ctx.fire_read(msg);
        }
        fn user_event(&mut self, ctx: &mut InboundContext<'_, Bytes>, event: UserEvent) {
            match event.downcast::<bool>() {
                Ok(true) => ctx.close_now(),
                Ok(false) => ctx.close(),
                Err(other) => ctx.fire_user_event(other),
            }
        }
    }
    let mut ch = EmbeddedChannel::with_handlers([("closer", Handler::inbound(Closer))]);
    ch.activate();
    ch.set_transport_budget(Some(0));
    let pending = ch.write_outbound(Bytes::from_static(b"stuck"));
    // The graceful close waits for bytes the peer does not take.
    ch.core().fire_user_event(UserEvent::new(false));
    assert!(ch.is_active() && pending.result().is_none());
    ch.core().fire_user_event(UserEvent::new(true));
    assert!(!ch.is_active());
    let err = pending.result().unwrap().unwrap_err();
    assert!(matches!(
        err.downcast_ref::<ChannelError>(),
        Some(ChannelError::Closed)
    ));
}

#[test]
fn close_flushes_what_was_accepted_first() {
    let mut ch = EmbeddedChannel::new();
    ch.activate();
    let a = ch.write_outbound_unflushed(Bytes::from_static(b"a"));
    let b = ch.write_outbound_unflushed(Bytes::from_static(b"b"));
    ch.close();
    assert!(matches!(a.result(), Some(Ok(()))));
    assert!(matches!(b.result(), Some(Ok(()))));
    assert_eq!(ch.read_outbound_bytes(), b"ab");
    assert!(!ch.is_active());
}

#[test]
fn a_completion_can_be_awaited() {
    let mut ch = EmbeddedChannel::new();
    ch.activate();
    ch.set_transport_budget(Some(0));
    let c = ch.write_outbound(Bytes::from_static(b"xyz"));
    let handle = std::thread::spawn(move || futures_lite_block_on(c));
    std::thread::sleep(std::time::Duration::from_millis(20));
    ch.set_transport_budget(None);
    assert!(handle.join().unwrap().is_ok());
}

/// A minimal executor for one future on this thread (no extra dependency).
fn futures_lite_block_on<F: std::future::Future>(f: F) -> F::Output {
    use std::sync::Arc;
    use std::task::{Context, Poll, Wake, Waker};
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut f = std::pin::pin!(f);
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park();
    }
}

#[test]
fn writes_from_other_threads_arrive_in_order() {
    let mut ch = EmbeddedChannel::new();
    ch.activate();
    let handle = ch.channel().clone();
    let threads: Vec<_> = (0..4u32)
        .map(|t| {
            let h = handle.clone();
            std::thread::spawn(move || {
                (0..250u32)
                    .map(|i| h.write((t, i)))
                    .collect::<Vec<Completion>>()
            })
        })
        .collect();
    let completions: Vec<Completion> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    ch.run_pending_tasks();
    let mut next = [0u32; 4];
    let mut n = 0;
    while let Some((t, i)) = ch.read_outbound::<(u32, u32)>() {
        assert_eq!(i, next[t as usize], "thread {t}'s writes out of order");
        next[t as usize] += 1;
        n += 1;
    }
    assert_eq!(n, 1000);
    assert!(
        completions
            .iter()
            .all(|c| matches!(c.result(), Some(Ok(()))))
    );
    // After close, handle writes fail instead of vanishing.
    ch.close();
    assert!(matches!(handle.write((9u32, 9u32)).result(), Some(Err(_))));
}

#[test]
fn a_zero_length_write_completes_at_once() {
    let mut ch = EmbeddedChannel::new();
    ch.activate();
    ch.set_transport_budget(Some(0));
    let c = ch.write_outbound(Bytes::new());
    assert!(matches!(c.result(), Some(Ok(()))));
}

#[test]
fn the_closed_future_resolves_on_close() {
    let mut ch = EmbeddedChannel::new();
    ch.activate();
    let closed = ch.channel().closed();
    let waiter = std::thread::spawn(move || futures_lite_block_on(closed));
    ch.close();
    waiter.join().unwrap();
    assert!(ch.channel().is_closed());
}

#[test]
fn file_follows_tells_the_transport_a_header_precedes_a_file() {
    use seine_channel::{Addr, ChannelCore, OutboundBuffer, Transport};
    use std::io::Write;
    /// Records `file_follows()` at each flush and accepts nothing.
    struct Peek(Rc<RefCell<Vec<bool>>>);
    impl Transport for Peek {
        fn flush(&mut self, out: &mut OutboundBuffer) -> Result<(), Error> {
            self.0.borrow_mut().push(out.file_follows());
            // What stands before the file: the 19-byte header, and the region itself.
            assert_eq!(out.memory_before_file(), 19);
            assert_eq!(
                out.file_after_memory().map(|f| f.count()),
                out.file_follows().then_some(4)
            );
            Ok(())
        }
        fn shutdown_output(&mut self) -> Result<(), Error> {
            Ok(())
        }
        fn close(&mut self) {}
    }
    let seen = Rc::new(RefCell::new(Vec::new()));
    let mut core = ChannelCore::new(
        Channel::new(Addr::None, Addr::None),
        Box::new(Peek(seen.clone())),
        ChannelConfig::default(),
    );
    core.fire_active();
    core.write(Bytes::from_static(b"HTTP/1.1 200 OK\r\n\r\n"));
    core.flush();
    let mut file = tempfile_in_target();
    file.write_all(b"body").unwrap();
    let region = seine_buffer::FileRegion::from_file(file).unwrap();
    core.write(region);
    core.flush();
    // (`ChannelCore::write` flushes on its own outside a read batch: dedup.)
    let mut seen = seen.borrow().clone();
    seen.dedup();
    assert_eq!(seen, [false, true]);
}

/// A temporary file (unlinked at once) without a dev-dependency.
fn tempfile_in_target() -> std::fs::File {
    let path = std::env::temp_dir().join(format!("seine-outbound-{}", std::process::id()));
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(true)
        .read(true)
        .write(true)
        .open(&path)
        .unwrap();
    std::fs::remove_file(&path).unwrap();
    file
}

#[test]
fn small_writes_merge_into_one_entry_when_asked() {
    use seine_channel::{Addr, ChannelCore, OutboundBuf, OutboundBuffer, Transport};
    /// Each flushed entry: whether it was a file region, and its bytes.
    type Seen = Rc<RefCell<Vec<(bool, Vec<u8>)>>>;
    /// Takes every flushed entry whole, recording what each one was.
    struct Take(Seen);
    impl Transport for Take {
        fn flush(&mut self, out: &mut OutboundBuffer) -> Result<(), Error> {
            while let Some(msg) = out.pop_flushed() {
                let (is_file, bytes) = match msg {
                    OutboundBuf::Bytes(b) => (false, b.to_vec()),
                    OutboundBuf::Composite(c) => (false, c.to_vec()),
                    OutboundBuf::File(_) => (true, Vec::new()),
                };
                self.0.borrow_mut().push((is_file, bytes));
            }
            Ok(())
        }
        fn shutdown_output(&mut self) -> Result<(), Error> {
            Ok(())
        }
        fn close(&mut self) {}
    }
    let got = Rc::new(RefCell::new(Vec::new()));
    let config = ChannelConfig {
        merge_writes_below: 16,
        ..ChannelConfig::default()
    };
    let mut core = ChannelCore::new(
        Channel::new(Addr::None, Addr::None),
        Box::new(Take(got.clone())),
        config,
    );
    core.fire_active();
    // A read batch: writes are not flushed until it ends.
    core.fire_read(Bytes::new());
    let mut done = Vec::new();
    for part in [&b"ab"[..], b"cd", b"ef"] {
        done.push(core.write(Bytes::copy_from_slice(part)));
    }
    let big = vec![7u8; 100];
    done.push(core.write(Bytes::from(big.clone())));
    done.push(core.write(seine_buffer::CompositeBuf::from(Bytes::from_static(b"gh"))));
    let mut file = tempfile_in_target();
    std::io::Write::write_all(&mut file, b"file").unwrap();
    done.push(core.write(seine_buffer::FileRegion::from_file(file).unwrap()));
    done.push(core.write(Bytes::from_static(b"ij")));
    core.fire_read_complete();
    let got = got.borrow();
    let expect: Vec<(bool, Vec<u8>)> = vec![
        (false, b"abcdef".to_vec()),
        (false, big),
        (false, b"gh".to_vec()),
        (true, Vec::new()),
        (false, b"ij".to_vec()),
    ];
    assert_eq!(
        *got, expect,
        "merged in order; large writes and files apart"
    );
    assert!(done.iter().all(|c| matches!(c.result(), Some(Ok(())))));
}

/// Answers each message with a void write, then one observed write: the void
/// writes are flushed at the end of the read batch like any other, in order, and
/// the observed completion still resolves when its bytes (and the void bytes
/// before it) are written.
struct VoidThenObserved {
    completions: Rc<RefCell<Vec<Completion>>>,
}
impl ChannelHandler for VoidThenObserved {}
impl InboundHandler for VoidThenObserved {
    type Read = Bytes;
    type Fire = Bytes;
    fn channel_read(&mut self, ctx: &mut InboundContext<'_, Bytes>, msg: Bytes) {
        ctx.write_void(msg);
        let c = ctx.write(Bytes::from_static(b"|"));
        self.completions.borrow_mut().push(c);
    }
}

#[test]
fn void_writes_are_flushed_in_order_with_observed_ones() {
    let completions = Rc::new(RefCell::new(Vec::new()));
    let mut ch = EmbeddedChannel::with_handlers([(
        "h",
        Handler::inbound(VoidThenObserved {
            completions: completions.clone(),
        }),
    )]);
    ch.activate();
    ch.set_transport_budget(Some(3));
    ch.write_inbound(Bytes::from_static(b"ab")).unwrap();
    ch.write_inbound(Bytes::from_static(b"cd")).unwrap();
    // Only 3 bytes went out: "ab|" — the first completion is done, the second not.
    assert_eq!(ch.read_outbound_bytes(), b"ab|");
    assert!(matches!(completions.borrow()[0].result(), Some(Ok(()))));
    assert!(completions.borrow()[1].result().is_none());
    ch.set_transport_budget(None);
    ch.flush();
    assert_eq!(ch.read_outbound_bytes(), b"cd|");
    assert!(matches!(completions.borrow()[1].result(), Some(Ok(()))));
}

/// Accepts only `String` writes.
struct Strings;
impl ChannelHandler for Strings {}
impl OutboundHandler for Strings {
    type Write = String;
    type Emit = Bytes;
    fn write(&mut self, ctx: &mut OutboundContext<'_, Bytes>, msg: String, promise: Promise) {
        ctx.write(Bytes::from(msg), promise);
    }
}

/// Writes a `u32` (which `Strings` does not accept) with `write_void`.
struct WritesANumber;
impl ChannelHandler for WritesANumber {}
impl InboundHandler for WritesANumber {
    type Read = Bytes;
    type Fire = Bytes;
    fn channel_read(&mut self, ctx: &mut InboundContext<'_, Bytes>, _msg: Bytes) {
        ctx.write_void(42u32);
    }
}

#[test]
fn a_void_write_of_the_wrong_type_is_reported_as_an_exception() {
    let mut ch = EmbeddedChannel::with_handlers([
        ("strings", Handler::outbound(Strings)),
        ("numbers", Handler::inbound(WritesANumber)),
    ]);
    ch.activate();
    // The exception reached the end of the pipeline: `write_inbound` returns it.
    let err = ch.write_inbound(Bytes::from_static(b"go")).unwrap_err();
    assert!(
        matches!(
            err.downcast_ref::<ChannelError>(),
            Some(ChannelError::UnexpectedMessage { .. })
        ),
        "{err}"
    );
    assert_eq!(ch.outbound_len(), 0);
}
