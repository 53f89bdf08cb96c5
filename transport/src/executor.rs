//! The executor seam's tokio side: a channel's tasks run on its event loop's
//! `LocalSet`, blocking work on the runtime's blocking pool.

use seine_channel::{BlockingJob, Executor, LocalTask};

/// Runs tasks with `tokio::task::spawn_local` and blocking jobs with
/// `tokio::task::spawn_blocking`. Used from a channel's event loop only (a
/// `LocalSet` inside a tokio runtime).
pub(crate) struct TokioExecutor;

impl Executor for TokioExecutor {
    fn spawn_local(&self, task: LocalTask) {
        drop(tokio::task::spawn_local(task));
    }

    fn spawn_blocking(&self, job: BlockingJob) {
        drop(tokio::task::spawn_blocking(job));
    }
}
