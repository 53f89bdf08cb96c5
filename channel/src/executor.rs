//! The executor seam: what a channel needs of a runtime, and nothing more.
//!
//! seine-channel uses no runtime. A handler that needs one (a task awaiting a
//! completion, blocking work such as opening a file) asks its context
//! ([`Context::spawn`](crate::Context::spawn),
//! [`Context::spawn_blocking`](crate::Context::spawn_blocking)), and the context
//! hands the work to the [`Executor`] its transport provides
//! ([`Transport::executor`](crate::Transport::executor)). seine-transport implements it
//! on tokio; [`EmbeddedChannel`](crate::testing::EmbeddedChannel) runs tasks itself,
//! on its virtual clock. A second transport (io_uring) implements the same trait.

use std::future::Future;
use std::pin::Pin;

/// A task that runs on the channel's event loop (need not be `Send`).
pub type LocalTask = Pin<Box<dyn Future<Output = ()> + 'static>>;

/// Blocking work, run off the event loop (a thread pool). Its result comes back to
/// the channel through the channel's queue, so it is `Send`.
pub type BlockingJob = Box<dyn FnOnce() + Send + 'static>;

/// Runs a channel's tasks and blocking work. Implemented by transports.
///
/// ```
/// use std::cell::RefCell;
/// use seine_channel::{BlockingJob, Executor, LocalTask};
///
/// /// Runs blocking work at once on the calling thread, and keeps tasks for later.
/// #[derive(Default)]
/// struct Inline { tasks: RefCell<Vec<LocalTask>> }
/// impl Executor for Inline {
///     fn spawn_local(&self, task: LocalTask) {
///         self.tasks.borrow_mut().push(task);
///     }
///     fn spawn_blocking(&self, job: BlockingJob) {
///         job();
///     }
/// }
/// let ex = Inline::default();
/// ex.spawn_local(Box::pin(async {}));
/// assert_eq!(ex.tasks.borrow().len(), 1);
/// ```
pub trait Executor {
    /// Runs `task` on the channel's event loop, concurrently with the channel.
    fn spawn_local(&self, task: LocalTask);

    /// Runs `job` where blocking is allowed (never on the event loop itself).
    fn spawn_blocking(&self, job: BlockingJob);
}
