//! The `Channel` handle: `Clone + Send + Sync`, usable from any thread or task.
//! Calls are queued to the channel's event loop and run there in order.

use std::any::Any;
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll, Waker};

use crate::completion::{Completion, CompletionState, PendingTicket};
use crate::core::ChannelCore;
use crate::error::{ChannelError, Error};
use crate::metrics::{ChannelMetrics, MetricsRecorder};
use crate::pipeline::erased::{MsgMeta, meta};
use crate::sync::{Arc, AtomicBool, Mutex, Ordering, lock};

/// A channel's identity, unique in the process.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChannelId(pub u64);

impl fmt::Display for ChannelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}

static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// Where a channel's end is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Addr {
    /// An IP socket address.
    Inet(std::net::SocketAddr),
    /// A Unix domain socket path (empty for an unnamed socket).
    Unix(std::path::PathBuf),
    /// No address (an embedded channel).
    None,
}

impl fmt::Display for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Addr::Inet(a) => write!(f, "{a}"),
            Addr::Unix(p) if p.as_os_str().is_empty() => f.write_str("unix:(unnamed)"),
            Addr::Unix(p) => write!(f, "unix:{}", p.display()),
            Addr::None => f.write_str("embedded"),
        }
    }
}

/// Work queued to the loop by a [`Channel`] handle.
pub(crate) enum Command {
    Write {
        msg: Box<dyn Any + Send>,
        meta: &'static MsgMeta,
        ticket: Arc<PendingTicket>,
        flush: bool,
    },
    Flush,
    Close,
    ShutdownOutput,
    Read,
    SetAutoRead(bool),
    UserEvent(Box<dyn Any + Send>),
    /// A blocking job's output, for the handler in `slot` if it is still the one
    /// of `generation`.
    Deliver {
        slot: u32,
        generation: u32,
        key: u64,
        output: Box<dyn Any + Send>,
    },
    Execute(Box<dyn FnOnce(&mut ChannelCore) + Send>),
}

struct QueueState {
    commands: VecDeque<Command>,
    waker: Option<Waker>,
    closed: bool,
}

/// The multi-producer queue from handles to the loop: no command is lost or
/// reordered, and one pushed after the loop closed it is refused (its completion
/// fails) rather than left behind.
pub(crate) struct CommandQueue {
    state: Mutex<QueueState>,
}

impl CommandQueue {
    pub(crate) fn new() -> Self {
        CommandQueue {
            state: Mutex::new(QueueState {
                commands: VecDeque::new(),
                waker: None,
                closed: false,
            }),
        }
    }

    /// Queues `cmd`, waking the loop; gives it back if the queue is closed.
    pub(crate) fn push(&self, cmd: Command) -> Result<(), Command> {
        let waker = {
            let mut s = lock(&self.state);
            if s.closed {
                return Err(cmd);
            }
            s.commands.push_back(cmd);
            s.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
        Ok(())
    }

    /// Ready when commands wait; registers the loop's waker otherwise.
    pub(crate) fn poll(&self, cx: &mut TaskContext<'_>) -> Poll<()> {
        let mut s = lock(&self.state);
        if !s.commands.is_empty() {
            return Poll::Ready(());
        }
        match &s.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => s.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// Moves every waiting command into `into` (swapping buffers: no allocation
    /// once warm).
    pub(crate) fn drain_into(&self, into: &mut VecDeque<Command>) {
        let mut s = lock(&self.state);
        if into.is_empty() {
            std::mem::swap(into, &mut s.commands);
        } else {
            into.extend(s.commands.drain(..));
        }
    }

    /// Refuses further commands; returns those still waiting.
    pub(crate) fn close(&self) -> VecDeque<Command> {
        let mut s = lock(&self.state);
        s.closed = true;
        s.waker = None;
        std::mem::take(&mut s.commands)
    }
}

/// What a channel's handles share with its loop.
pub(crate) struct ChannelShared {
    id: ChannelId,
    local: Addr,
    peer: Addr,
    active: AtomicBool,
    writable: AtomicBool,
    pub(crate) completions: Arc<CompletionState>,
    pub(crate) queue: CommandQueue,
    pub(crate) metrics: ChannelMetrics,
}

/// A handle to a channel: `Clone + Send + Sync`. Writes and other calls from any
/// thread or task are queued to the channel's event loop and run there in the
/// order they were made; writes made this way are flushed once the queued work
/// has run (use [`Channel::write_and_flush`] or [`Channel::flush`] to be explicit).
///
/// ```
/// use seine_channel::{Addr, Channel};
/// let ch = Channel::new(Addr::None, Addr::None);
/// let ch2 = ch.clone();
/// std::thread::spawn(move || { ch2.write(String::from("from another thread")); })
///     .join()
///     .unwrap();
/// assert_eq!(ch.id(), ch.clone().id());
/// ```
#[derive(Clone)]
pub struct Channel {
    pub(crate) shared: Arc<ChannelShared>,
}

impl Channel {
    /// A new channel identity with these addresses (transports call this; the
    /// handle does nothing until a [`ChannelCore`] is built on it).
    pub fn new(local: Addr, peer: Addr) -> Self {
        Self::with_recorder(local, peer).0
    }

    /// A new channel and the only writer of its transport counters: the transport
    /// that makes the channel keeps the [`MetricsRecorder`]; handlers read the
    /// counters ([`Channel::metrics`]) and add their own ([`ChannelMetrics::counter`]).
    pub fn with_recorder(local: Addr, peer: Addr) -> (Self, MetricsRecorder) {
        let channel = Channel {
            shared: Arc::new(ChannelShared {
                id: ChannelId(NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed)),
                local,
                peer,
                active: AtomicBool::new(false),
                writable: AtomicBool::new(true),
                completions: Arc::new(CompletionState::new()),
                queue: CommandQueue::new(),
                metrics: ChannelMetrics::default(),
            }),
        };
        let recorder = MetricsRecorder::new(channel.clone());
        (channel, recorder)
    }

    /// The channel's id.
    pub fn id(&self) -> ChannelId {
        self.shared.id
    }

    /// The local address.
    pub fn local_addr(&self) -> &Addr {
        &self.shared.local
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> &Addr {
        &self.shared.peer
    }

    /// Whether the channel is connected and not closed.
    pub fn is_active(&self) -> bool {
        self.shared.active.load(Ordering::Acquire)
    }

    /// Whether the outbound buffer is below its high water mark.
    pub fn is_writable(&self) -> bool {
        self.shared.writable.load(Ordering::Acquire)
    }

    /// Whether the channel has closed (or never opened and was dropped).
    pub fn is_closed(&self) -> bool {
        self.shared.completions.is_closed()
    }

    /// Byte and syscall counters.
    pub fn metrics(&self) -> &ChannelMetrics {
        &self.shared.metrics
    }

    /// Writes `msg` from the tail of the pipeline (through every outbound handler).
    /// The message is boxed to cross threads. The completion fails if the channel is
    /// closed or the last outbound handler takes another type.
    pub fn write<M: Any + Send>(&self, msg: M) -> Completion {
        self.write_inner(msg, false)
    }

    /// [`write`](Self::write) and flush.
    pub fn write_and_flush<M: Any + Send>(&self, msg: M) -> Completion {
        self.write_inner(msg, true)
    }

    fn write_inner<M: Any + Send>(&self, msg: M, flush: bool) -> Completion {
        let ticket = Arc::new(PendingTicket::new());
        let cmd = Command::Write {
            msg: Box::new(Some(msg)),
            meta: meta::<M>(),
            ticket: ticket.clone(),
            flush,
        };
        match self.shared.queue.push(cmd) {
            Ok(()) => Completion::pending(self.shared.completions.clone(), ticket),
            Err(_) => Completion::ready(Err(Error::from(ChannelError::Closed))),
        }
    }

    /// Flushes what was written.
    pub fn flush(&self) {
        let _ = self.shared.queue.push(Command::Flush);
    }

    /// Closes the channel after flushing what was written before this call.
    pub fn close(&self) {
        let _ = self.shared.queue.push(Command::Close);
    }

    /// Shuts down the write side after what was written before this call.
    pub fn shutdown_output(&self) {
        let _ = self.shared.queue.push(Command::ShutdownOutput);
    }

    /// Asks for a read (when auto-read is off).
    pub fn read(&self) {
        let _ = self.shared.queue.push(Command::Read);
    }

    /// Turns auto-read on or off.
    pub fn set_auto_read(&self, on: bool) {
        let _ = self.shared.queue.push(Command::SetAutoRead(on));
    }

    /// Fires `event` from the head of the pipeline as a user event.
    pub fn fire_user_event<E: Any + Send>(&self, event: E) {
        let _ = self.shared.queue.push(Command::UserEvent(Box::new(event)));
    }

    /// Runs `f` on the channel's event loop with the channel's core (pipeline
    /// changes from outside, for instance). Dropped unrun if the channel closed.
    pub fn execute<F: FnOnce(&mut ChannelCore) + Send + 'static>(&self, f: F) {
        let _ = self.shared.queue.push(Command::Execute(Box::new(f)));
    }

    /// Resolves once the channel has closed.
    pub fn closed(&self) -> ClosedFuture {
        ClosedFuture {
            ch: self.clone(),
            probe: Completion::pending(
                self.shared.completions.clone(),
                Arc::new(PendingTicket::new()),
            ),
        }
    }

    /// Queues a blocking job's output for the handler that started it.
    pub(crate) fn deliver(
        &self,
        slot: u32,
        generation: u32,
        key: u64,
        output: Box<dyn Any + Send>,
    ) {
        let cmd = Command::Deliver {
            slot,
            generation,
            key,
            output,
        };
        if self.shared.queue.push(cmd).is_err() {
            tracing::trace!(channel = %self.id(), "blocking job finished after the channel closed");
        }
    }

    pub(crate) fn set_active(&self, on: bool) {
        self.shared.active.store(on, Ordering::Release);
    }

    pub(crate) fn set_writable(&self, on: bool) {
        self.shared.writable.store(on, Ordering::Release);
    }
}

/// Resolves once its channel has closed; see [`Channel::closed`].
pub struct ClosedFuture {
    ch: Channel,
    probe: Completion,
}

impl Future for ClosedFuture {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<()> {
        let this = self.get_mut();
        if this.ch.is_closed() {
            return Poll::Ready(());
        }
        // The probe's ticket is never assigned, so it resolves exactly when the
        // channel closes.
        Pin::new(&mut this.probe).poll(cx).map(|_| ())
    }
}

impl fmt::Debug for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Channel")
            .field("id", &self.id())
            .field("local", &self.shared.local)
            .field("peer", &self.shared.peer)
            .field("active", &self.is_active())
            .finish()
    }
}
