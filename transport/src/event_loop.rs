//! Event loops: threads that each run a current-thread tokio runtime with a
//! `LocalSet`, and the channels pinned to them.
//!
//! Every channel lives on one loop for its whole life; its initializer, handlers
//! and driver run there, so handlers need not be `Send`. Work reaches a loop from
//! other threads through its job queue ([`EventLoop::execute`]); a
//! [`Channel`](seine_channel::Channel) handle queues to its channel directly.

use std::future::Future;
use std::io;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{JoinHandle, ThreadId};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use crate::channel_set::{ChannelSet, close_all};
use crate::error::TransportError;
use crate::metrics::ServerMetrics;

type Job = Box<dyn FnOnce() + Send>;

enum Msg {
    Run(Job),
    Stop,
}

/// One event loop of a group: a handle to queue work onto its thread. Cloning is
/// O(1); the handle is `Send + Sync`.
///
/// ```
/// let group = seine_transport::EventLoopGroup::new(1).unwrap();
/// let (tx, rx) = std::sync::mpsc::channel();
/// group.next().execute(move || tx.send(std::thread::current().name().map(String::from)).unwrap())
///     .unwrap();
/// assert_eq!(rx.recv().unwrap().as_deref(), Some("seine-loop-0"));
/// ```
#[derive(Clone, Debug)]
pub struct EventLoop {
    index: usize,
    tx: mpsc::UnboundedSender<Msg>,
    thread: ThreadId,
}

impl std::fmt::Debug for Msg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Msg::Run(_) => "Run",
            Msg::Stop => "Stop",
        })
    }
}

impl EventLoop {
    /// The loop's position in its group.
    pub fn index(&self) -> usize {
        self.index
    }

    /// Whether the calling thread is this loop's thread.
    pub fn in_loop(&self) -> bool {
        std::thread::current().id() == self.thread
    }

    /// Runs `f` on the loop's thread, inside its `LocalSet` (so `f` may call
    /// `tokio::task::spawn_local`). Queued behind earlier jobs; one allocation.
    ///
    /// # Errors
    /// [`TransportError::Shutdown`] if the loop has stopped.
    pub fn execute<F: FnOnce() + Send + 'static>(&self, f: F) -> Result<(), TransportError> {
        self.tx
            .send(Msg::Run(Box::new(f)))
            .map_err(|_| TransportError::Shutdown)
    }

    /// Spawns the future `make()` returns as a local task on the loop (the future
    /// need not be `Send`; `make` must be).
    ///
    /// # Errors
    /// [`TransportError::Shutdown`] if the loop has stopped.
    pub fn spawn<F, Fut>(&self, make: F) -> Result<(), TransportError>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        self.execute(move || {
            tokio::task::spawn_local(make());
        })
    }

    /// Runs `make()` on the loop and returns its output.
    pub(crate) async fn run<F, Fut, T>(&self, make: F) -> Result<T, TransportError>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = T> + 'static,
        T: Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        self.spawn(move || async move {
            let _ = tx.send(make().await);
        })?;
        rx.await.map_err(|_| TransportError::Shutdown)
    }

    fn stop(&self) {
        let _ = self.tx.send(Msg::Stop);
    }
}

async fn run_jobs(mut rx: mpsc::UnboundedReceiver<Msg>) {
    while let Some(msg) = rx.recv().await {
        match msg {
            Msg::Run(job) => job(),
            Msg::Stop => break,
        }
    }
}

/// A set of event loops (Netty's `EventLoopGroup`). Cloning is O(1) and shares the
/// loops; they stop when the last clone is dropped (without waiting for channels)
/// or at [`shutdown_gracefully`](Self::shutdown_gracefully).
///
/// Each loop is a thread running a current-thread tokio runtime (I/O and timers
/// enabled) and a `LocalSet`. Channels are spread over the loops round robin
/// ([`next`](Self::next)).
///
/// ```
/// use seine_transport::EventLoopGroup;
/// let group = EventLoopGroup::new(2).unwrap();
/// assert_eq!(group.len(), 2);
/// assert_ne!(group.next().index(), group.next().index());
/// ```
#[derive(Clone)]
pub struct EventLoopGroup {
    inner: Arc<GroupInner>,
}

struct GroupInner {
    loops: Vec<EventLoop>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    next: AtomicUsize,
    channels: Arc<ChannelSet>,
    stopped: AtomicBool,
}

impl Drop for GroupInner {
    fn drop(&mut self) {
        for l in &self.loops {
            l.stop();
        }
    }
}

impl std::fmt::Debug for EventLoopGroup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventLoopGroup")
            .field("loops", &self.inner.loops.len())
            .finish()
    }
}

impl EventLoopGroup {
    /// `n` loops on `n` new threads (`seine-loop-0`, ...). `n = 0` means
    /// [`default_threads`](Self::default_threads).
    ///
    /// # Errors
    /// [`TransportError::Io`] if a thread or its runtime cannot be created (too many
    /// threads, or `RLIMIT_NPROC`).
    pub fn new(n: usize) -> Result<Self, TransportError> {
        let n = if n == 0 { Self::default_threads() } else { n };
        let mut loops = Vec::with_capacity(n);
        let mut threads = Vec::with_capacity(n);
        for index in 0..n {
            let (l, t) = spawn_loop(index).map_err(|source| TransportError::Io {
                context: "starting an event loop thread",
                addr: String::new(),
                source,
            })?;
            loops.push(l);
            threads.push(t);
        }
        Ok(Self::from_loops(loops, threads))
    }

    /// The default number of loops: `std::thread::available_parallelism()`, which
    /// honours the CPU affinity mask (`taskset -c 0` gives 1).
    pub fn default_threads() -> usize {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    }

    /// A group of one loop: the calling thread, which must be running a
    /// current-thread tokio runtime inside a `LocalSet` (for instance
    /// `LocalSet::run_until` under `#[tokio::main(flavor = "current_thread")]`).
    /// Channels then run on the caller's thread, interleaved with its own tasks.
    ///
    /// # Panics
    /// If called outside a `LocalSet` (as `tokio::task::spawn_local` does).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let local = tokio::task::LocalSet::new();
    /// local.run_until(async {
    ///     let group = seine_transport::EventLoopGroup::current();
    ///     assert_eq!(group.len(), 1);
    ///     assert!(group.next().in_loop());
    /// }).await;
    /// # }
    /// ```
    pub fn current() -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::task::spawn_local(run_jobs(rx));
        let l = EventLoop {
            index: 0,
            tx,
            thread: std::thread::current().id(),
        };
        Self::from_loops(vec![l], Vec::new())
    }

    fn from_loops(loops: Vec<EventLoop>, threads: Vec<JoinHandle<()>>) -> Self {
        let channels = ChannelSet::new(loops.len());
        EventLoopGroup {
            inner: Arc::new(GroupInner {
                loops,
                threads: Mutex::new(threads),
                next: AtomicUsize::new(0),
                channels,
                stopped: AtomicBool::new(false),
            }),
        }
    }

    /// How many loops the group has.
    pub fn len(&self) -> usize {
        self.inner.loops.len()
    }

    /// Always `false`: a group has at least one loop.
    pub fn is_empty(&self) -> bool {
        self.inner.loops.is_empty()
    }

    /// The next loop, round robin. O(1).
    pub fn next(&self) -> EventLoop {
        let i = self.inner.next.fetch_add(1, Ordering::Relaxed) % self.inner.loops.len();
        self.inner.loops[i].clone()
    }

    /// The loop at `index`.
    pub fn get(&self, index: usize) -> Option<&EventLoop> {
        self.inner.loops.get(index)
    }

    /// Every loop, in order.
    pub fn loops(&self) -> &[EventLoop] {
        &self.inner.loops
    }

    /// Totals over every channel that ran on this group (servers' and clients').
    pub fn metrics(&self) -> ServerMetrics {
        self.inner.channels.metrics()
    }

    pub(crate) fn channels(&self) -> &Arc<ChannelSet> {
        &self.inner.channels
    }

    /// Whether [`shutdown_gracefully`](Self::shutdown_gracefully) has started.
    pub fn is_shutdown(&self) -> bool {
        self.inner.stopped.load(Ordering::Acquire)
    }

    /// Shuts the group down: every channel on it (servers' children and clients) is
    /// closed through its `Channel` handle, which flushes what was written first;
    /// channels still open after `grace` are closed at once (pending writes fail);
    /// then the loops stop and their threads are joined. Listening sockets of
    /// servers on the group stop with their loop. Returns how many channels had to
    /// be forced.
    ///
    /// Await it from any runtime, or from no runtime with
    /// [`shutdown_gracefully_blocking`](Self::shutdown_gracefully_blocking).
    pub async fn shutdown_gracefully(&self, grace: Duration) -> usize {
        if self.inner.stopped.swap(true, Ordering::AcqRel) {
            return 0;
        }
        let set = self.inner.channels.clone();
        let forced = self.inner.loops[0]
            .run(move || close_all(set, grace))
            .await
            .unwrap_or(0);
        self.stop_and_join();
        forced
    }

    /// [`shutdown_gracefully`](Self::shutdown_gracefully), blocking the calling
    /// thread. Do not call it from one of the group's own loops (it would wait for
    /// itself), nor from inside an async task.
    pub fn shutdown_gracefully_blocking(&self, grace: Duration) -> usize {
        block_on(self.shutdown_gracefully(grace))
    }

    fn stop_and_join(&self) {
        for l in &self.inner.loops {
            l.stop();
        }
        let me = std::thread::current().id();
        let threads = std::mem::take(
            &mut *self
                .inner
                .threads
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        for t in threads {
            if t.thread().id() != me {
                let _ = t.join();
            }
        }
    }
}

fn spawn_loop(index: usize) -> io::Result<(EventLoop, JoinHandle<()>)> {
    let (tx, rx) = mpsc::unbounded_channel();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let handle = std::thread::Builder::new()
        .name(format!("seine-loop-{index}"))
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                    return;
                }
            };
            let _ = ready_tx.send(Ok(()));
            let local = tokio::task::LocalSet::new();
            local.block_on(&rt, run_jobs(rx));
            // Drop the remaining tasks (channels close) while the runtime lives.
            let _enter = rt.enter();
            drop(local);
        })?;
    ready_rx
        .recv()
        .map_err(|_| io::Error::other("event loop thread exited while starting"))??;
    let thread = handle.thread().id();
    Ok((EventLoop { index, tx, thread }, handle))
}

/// Runs `f` to completion on the calling thread, parking between polls. For
/// futures that need no runtime (oneshot receivers, `Channel::closed`).
pub(crate) fn block_on<F: Future>(f: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut f = pin!(f);
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_run_on_their_loop_and_stop_at_shutdown() {
        let group = EventLoopGroup::new(2).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        for _ in 0..4 {
            let tx = tx.clone();
            let l = group.next();
            let i = l.index();
            l.execute(move || {
                let name = std::thread::current().name().unwrap().to_owned();
                tx.send((i, name)).unwrap();
            })
            .unwrap();
        }
        let mut got: Vec<_> = (0..4).map(|_| rx.recv().unwrap()).collect();
        got.sort();
        assert_eq!(got[0], (0, "seine-loop-0".to_owned()));
        assert_eq!(got[3], (1, "seine-loop-1".to_owned()));
        assert_eq!(
            group.shutdown_gracefully_blocking(Duration::from_secs(1)),
            0
        );
        assert!(matches!(
            group.next().execute(|| {}),
            Err(TransportError::Shutdown)
        ));
    }

    #[test]
    fn default_threads_is_positive() {
        assert!(EventLoopGroup::default_threads() >= 1);
    }
}
