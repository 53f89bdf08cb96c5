//! Write completions that allocate nothing unless awaited.
//!
//! Every write is numbered with a *ticket* when it enters the pipeline. The
//! outbound buffer writes entries in order, so "ticket `t` is done" is one number
//! per channel: the highest ticket whose bytes all reached the socket. A
//! [`Completion`] is that number plus a reference to the channel's shared state;
//! making one allocates nothing, and nothing is stored per write. Waiting on one
//! registers a waker (the only allocation, and only for writes someone awaits).
//! The reference is an `Arc` clone (two atomic operations per write): a handler
//! that never looks at its writes' outcome writes with
//! [`Context::write_void`](crate::Context::write_void) (Netty's
//! `voidPromise()`), which makes no `Completion` at all.
//!
//! An outbound handler receives the write's [`Promise`] (the ticket) and passes it
//! on with the message it writes. A handler that turns one message into several
//! passes the promise with the last and [`Promise::void`] with the others; one that
//! drops a message resolves its promise itself (`ctx.fail_promise`,
//! `ctx.complete_promise`). Handlers that reorder writes make earlier completions
//! resolve when a later write finishes: keep writes in order.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use crate::error::{ChannelError, Error};
use crate::sync::{Arc, AtomicU64, Mutex, Ordering, lock};

/// The ticket of one write, passed with the message through outbound handlers.
///
/// Not `Clone`: a promise belongs to one message. [`Promise::void`] is the promise of
/// a write nobody can observe.
#[derive(Debug, PartialEq, Eq)]
pub struct Promise {
    pub(crate) ticket: u64,
}

impl Promise {
    /// The promise of a write whose completion nobody observes.
    pub const fn void() -> Self {
        Promise { ticket: 0 }
    }

    /// Whether this is [`Promise::void`].
    pub fn is_void(&self) -> bool {
        self.ticket == 0
    }

    pub(crate) fn take_ticket(self) -> u64 {
        self.ticket
    }
}

/// Shared by the event loop (which resolves) and every [`Completion`] (which
/// observe, from any thread).
///
/// One atomic word holds the highest written ticket and three flags, so that a
/// waiter registering and the loop resolving always order through read-modify-write
/// operations on the same word: either the waiter's `fetch_or(WAITERS)` sees the
/// resolution, or the loop's update sees `WAITERS` and wakes it.
pub(crate) struct CompletionState {
    state: AtomicU64,
    close_cause: Mutex<Option<Error>>,
    explicit: Mutex<HashMap<u64, Result<(), Error>>>,
    waiters: Mutex<Vec<Waker>>,
}

const WAITERS: u64 = 1 << 63;
const CLOSED: u64 = 1 << 62;
const EXPLICIT: u64 = 1 << 61;
const TICKET: u64 = EXPLICIT - 1;

impl CompletionState {
    pub(crate) fn new() -> Self {
        CompletionState {
            state: AtomicU64::new(0),
            close_cause: Mutex::new(None),
            explicit: Mutex::new(HashMap::new()),
            waiters: Mutex::new(Vec::new()),
        }
    }

    /// Every ticket up to `ticket` has been written. Called by the loop.
    pub(crate) fn complete_through(&self, ticket: u64) {
        let ticket = ticket & TICKET;
        let prev = self
            .state
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |s| {
                (ticket > s & TICKET).then_some((s & !(TICKET | WAITERS)) | ticket)
            });
        if let Ok(prev) = prev {
            self.wake_if(prev);
        }
    }

    /// Resolves one ticket out of order (a handler dropped or failed a message).
    pub(crate) fn resolve(&self, ticket: u64, result: Result<(), Error>) {
        if ticket == 0 {
            return;
        }
        lock(&self.explicit).insert(ticket, result);
        let prev = self
            .state
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |s| {
                Some((s | EXPLICIT) & !WAITERS)
            });
        if let Ok(prev) = prev {
            self.wake_if(prev);
        }
    }

    /// The channel closed: every ticket not yet done fails with `cause`.
    pub(crate) fn close(&self, cause: Option<Error>) {
        {
            let mut c = lock(&self.close_cause);
            if c.is_none() {
                *c = cause;
            }
        }
        let prev = self
            .state
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |s| {
                Some((s | CLOSED) & !WAITERS)
            });
        if let Ok(prev) = prev {
            self.wake_if(prev);
        }
    }

    /// Wakes waiters after something they wait on changed outside the state word
    /// (a pending ticket was assigned).
    pub(crate) fn notify(&self) {
        let prev = self.state.fetch_and(!WAITERS, Ordering::AcqRel);
        self.wake_if(prev);
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.state.load(Ordering::Acquire) & CLOSED != 0
    }

    fn wake_if(&self, prev: u64) {
        if prev & WAITERS != 0 {
            let waiters = std::mem::take(&mut *lock(&self.waiters));
            for w in waiters {
                w.wake();
            }
        }
    }

    fn closed_error(&self) -> Error {
        lock(&self.close_cause)
            .clone()
            .unwrap_or_else(|| Error::from(ChannelError::Closed))
    }

    /// The status of `ticket` given state word `s`, if known.
    fn status_in(&self, ticket: u64, s: u64) -> Option<Result<(), Error>> {
        if s & EXPLICIT != 0
            && let Some(r) = lock(&self.explicit).get(&ticket)
        {
            return Some(r.clone());
        }
        if s & TICKET >= ticket {
            return Some(Ok(()));
        }
        (s & CLOSED != 0).then(|| Err(self.closed_error()))
    }

    fn status(&self, ticket: u64) -> Option<Result<(), Error>> {
        self.status_in(ticket, self.state.load(Ordering::Acquire))
    }

    /// Registers `waker`; returns the state word as of registration (after which
    /// any change wakes the waker).
    fn register(&self, waker: &Waker) -> u64 {
        let mut w = lock(&self.waiters);
        if !w.iter().any(|x| x.will_wake(waker)) {
            w.push(waker.clone());
        }
        self.state.fetch_or(WAITERS, Ordering::AcqRel)
    }
}

/// A ticket handed out before the loop numbered the write (writes made through the
/// `Channel` handle from other threads).
pub(crate) struct PendingTicket {
    ticket: AtomicU64,
}

impl PendingTicket {
    pub(crate) fn new() -> Self {
        PendingTicket {
            ticket: AtomicU64::new(0),
        }
    }

    pub(crate) fn assign(&self, ticket: u64, state: &CompletionState) {
        self.ticket.store(ticket, Ordering::Release);
        state.notify();
    }
}

enum Repr {
    Ready(Option<Result<(), Error>>),
    Ticket(Arc<CompletionState>, u64),
    Pending(Arc<CompletionState>, Arc<PendingTicket>),
}

/// The outcome of one write: `Ok` once all its bytes were written to the socket (or
/// handed to the test transport), `Err` if the write failed or the channel closed
/// first.
///
/// A `Completion` is a future, and can also be polled without waiting
/// ([`Completion::result`]). Dropping it costs nothing and does not cancel the
/// write (`ctx.write(msg);` is the usual call); making one allocates nothing.
pub struct Completion(Repr);

impl Completion {
    pub(crate) fn ticket(state: Arc<CompletionState>, ticket: u64) -> Self {
        Completion(Repr::Ticket(state, ticket))
    }

    pub(crate) fn pending(state: Arc<CompletionState>, pending: Arc<PendingTicket>) -> Self {
        Completion(Repr::Pending(state, pending))
    }

    /// A completion that is already resolved.
    pub fn ready(result: Result<(), Error>) -> Self {
        Completion(Repr::Ready(Some(result)))
    }

    /// The outcome if known now, without waiting.
    pub fn result(&self) -> Option<Result<(), Error>> {
        match &self.0 {
            Repr::Ready(r) => r.clone(),
            Repr::Ticket(state, t) => state.status(*t),
            Repr::Pending(state, p) => {
                Self::pending_status(state, p, state.state.load(Ordering::Acquire))
            }
        }
    }

    fn pending_status(
        state: &CompletionState,
        p: &PendingTicket,
        s: u64,
    ) -> Option<Result<(), Error>> {
        match p.ticket.load(Ordering::Acquire) {
            0 => (s & CLOSED != 0).then(|| Err(state.closed_error())),
            t => state.status_in(t, s),
        }
    }

    /// Whether the outcome is known.
    pub fn is_done(&self) -> bool {
        self.result().is_some()
    }
}

impl Future for Completion {
    type Output = Result<(), Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let Repr::Ready(r) = &mut this.0 {
            return Poll::Ready(r.take().unwrap_or(Ok(())));
        }
        if let Some(r) = this.result() {
            return Poll::Ready(r);
        }
        let r = match &this.0 {
            Repr::Ticket(state, t) => {
                let s = state.register(cx.waker());
                state.status_in(*t, s)
            }
            Repr::Pending(state, p) => {
                let s = state.register(cx.waker());
                Self::pending_status(state, p, s)
            }
            Repr::Ready(_) => unreachable!("handled above"),
        };
        match r {
            Some(r) => Poll::Ready(r),
            None => Poll::Pending,
        }
    }
}

impl fmt::Debug for Completion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Completion").field(&self.result()).finish()
    }
}
