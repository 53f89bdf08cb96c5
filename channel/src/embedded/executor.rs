//! The embedded channel's executor: tasks and blocking jobs run on the test's
//! thread, when the test says ([`EmbeddedChannel::run_pending_tasks`](super::EmbeddedChannel::run_pending_tasks)).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker};

use crate::executor::{BlockingJob, Executor, LocalTask};

/// A single-threaded executor with no clock of its own: tasks run when polled by
/// [`run_ready`](Self::run_ready), blocking jobs inline in the same call.
#[derive(Clone, Default)]
pub(crate) struct LocalExecutor {
    inner: Rc<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Tasks by id; `None` once finished (the id is then reused).
    tasks: RefCell<Vec<Option<(LocalTask, Waker)>>>,
    free: RefCell<Vec<usize>>,
    /// Spawned since the last run (spawning while a task runs must not touch `tasks`).
    spawned: RefCell<VecDeque<LocalTask>>,
    blocking: RefCell<VecDeque<BlockingJob>>,
    /// Ids of woken tasks; wakers may be called from any thread.
    woken: Arc<Mutex<VecDeque<usize>>>,
}

struct TaskWaker {
    id: usize,
    woken: Arc<Mutex<VecDeque<usize>>>,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let mut w = self.woken.lock().unwrap_or_else(PoisonError::into_inner);
        if !w.contains(&self.id) {
            w.push_back(self.id);
        }
    }
}

impl LocalExecutor {
    /// Polls every task that is new or was woken, and runs blocking jobs, until
    /// none is left to run now. Returns whether anything ran.
    pub(crate) fn run_ready(&self) -> bool {
        let mut ran = false;
        loop {
            let mut progressed = false;
            while let Some(task) = self.inner.spawned.borrow_mut().pop_front() {
                self.admit(task);
            }
            while let Some(job) = self.inner.blocking.borrow_mut().pop_front() {
                job();
                progressed = true;
            }
            loop {
                let next = self
                    .inner
                    .woken
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .pop_front();
                let Some(id) = next else { break };
                progressed = true;
                self.poll_task(id);
                while let Some(task) = self.inner.spawned.borrow_mut().pop_front() {
                    self.admit(task);
                }
            }
            if !progressed {
                return ran;
            }
            ran = true;
        }
    }

    /// How many tasks have not finished.
    pub(crate) fn live_tasks(&self) -> usize {
        self.inner.tasks.borrow().iter().flatten().count()
    }

    fn admit(&self, task: LocalTask) {
        let id = match self.inner.free.borrow_mut().pop() {
            Some(id) => id,
            None => {
                let mut tasks = self.inner.tasks.borrow_mut();
                tasks.push(None);
                tasks.len() - 1
            }
        };
        let waker = Waker::from(Arc::new(TaskWaker {
            id,
            woken: self.inner.woken.clone(),
        }));
        waker.wake_by_ref();
        self.inner.tasks.borrow_mut()[id] = Some((task, waker));
    }

    fn poll_task(&self, id: usize) {
        // Out of the table while it runs: it may spawn, or wake itself.
        let Some((mut task, waker)) = self
            .inner
            .tasks
            .borrow_mut()
            .get_mut(id)
            .and_then(Option::take)
        else {
            return;
        };
        let mut cx = Context::from_waker(&waker);
        match task.as_mut().poll(&mut cx) {
            Poll::Ready(()) => self.inner.free.borrow_mut().push(id),
            Poll::Pending => self.inner.tasks.borrow_mut()[id] = Some((task, waker)),
        }
    }
}

impl Executor for LocalExecutor {
    fn spawn_local(&self, task: LocalTask) {
        self.inner.spawned.borrow_mut().push_back(task);
    }

    fn spawn_blocking(&self, job: BlockingJob) {
        self.inner.blocking.borrow_mut().push_back(job);
    }
}
