//! The one place this crate takes its cross-thread primitives from: std normally,
//! loom when built with `--cfg seine_loom` (the loom models in `tests/loom_*.rs`).

#[cfg(seine_loom)]
pub(crate) use loom::sync::{
    Arc, Mutex, MutexGuard,
    atomic::{AtomicBool, AtomicU64, Ordering},
};

#[cfg(not(seine_loom))]
pub(crate) use std::sync::{
    Arc, Mutex, MutexGuard,
    atomic::{AtomicBool, AtomicU64, Ordering},
};

/// Locks `m`, recovering the data if a panicking thread poisoned it: the queue's
/// invariants hold between statements, so a poisoned guard is still consistent.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    #[cfg(seine_loom)]
    {
        m.lock().unwrap()
    }
    #[cfg(not(seine_loom))]
    {
        m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
