//! Fork safety. A child made by `os.fork()` (multiprocessing's default start method on Linux)
//! inherits copies of every recorder, run and series, but not their writer threads: using
//! one there would queue events nobody writes, or wait forever. So every native handle
//! remembers the process that made it and refuses to work in another ([`crate::error::forked`]),
//! and is forgotten, not dropped, there (dropping could take locks the parent's threads held at
//! the fork). Before a fork the writers are paused between two writes, so the child never
//! inherits SQLite's locks mid-write and can open its own recorder.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use pyo3::prelude::*;

use crate::error;

/// The process this module runs in, updated in a forked child.
static PROCESS: AtomicU32 = AtomicU32::new(0);

/// Recorders of this process, paused around forks.
static RECORDERS: Mutex<Vec<(u64, runstore::Recorder)>> = Mutex::new(Vec::new());

/// The current process id (cheap: no system call after the first).
#[inline]
pub fn current_process() -> u32 {
    match PROCESS.load(Ordering::Relaxed) {
        0 => {
            let pid = std::process::id();
            PROCESS.store(pid, Ordering::Relaxed);
            pid
        }
        pid => pid,
    }
}

/// A native value usable only in the process that made it.
pub struct ProcessBound<T> {
    value: Option<T>,
    made_in: u32,
}

impl<T> ProcessBound<T> {
    /// Binds `value` to this process.
    pub fn new(value: T) -> ProcessBound<T> {
        ProcessBound { value: Some(value), made_in: current_process() }
    }

    /// The value, or the error explaining that this process is a fork.
    #[inline]
    pub fn get(&self, what: &str) -> PyResult<&T> {
        match &self.value {
            Some(value) if self.made_in == current_process() => Ok(value),
            _ => Err(error::forked(what, self.made_in)),
        }
    }

    /// Whether this is the process that made the value.
    pub fn is_home(&self) -> bool {
        self.made_in == current_process()
    }
}

impl<T> Drop for ProcessBound<T> {
    fn drop(&mut self) {
        if !self.is_home() {
            std::mem::forget(self.value.take());
        }
    }
}

/// Registers a recorder to pause around forks; `id` unregisters it.
pub fn register(id: u64, recorder: runstore::Recorder) {
    RECORDERS.lock().unwrap_or_else(|e| e.into_inner()).push((id, recorder));
}

/// Unregisters a recorder (closed or dropped).
pub fn unregister(id: u64) {
    let mut recorders = RECORDERS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(at) = recorders.iter().position(|(i, _)| *i == id) {
        drop(recorders.swap_remove(at));
    }
}

fn recorders() -> Vec<runstore::Recorder> {
    RECORDERS.lock().unwrap_or_else(|e| e.into_inner()).iter().map(|(_, r)| r.clone()).collect()
}

/// `os.register_at_fork(before=...)`: waits until every writer is between two writes.
#[pyfunction]
pub fn _before_fork(py: Python<'_>) {
    let recorders = recorders();
    py.detach(|| recorders.iter().for_each(runstore::Recorder::pause_writer));
}

/// `os.register_at_fork(after_in_parent=...)`: lets the writers go on.
#[pyfunction]
pub fn _after_fork_in_parent() {
    recorders().iter().for_each(runstore::Recorder::resume_writer);
}

/// `os.register_at_fork(after_in_child=...)`: this is a new process, whose inherited
/// recorders have no writer threads.
#[pyfunction]
pub fn _after_fork_in_child() {
    PROCESS.store(std::process::id(), Ordering::Relaxed);
    let mut recorders = RECORDERS.lock().unwrap_or_else(|e| e.into_inner());
    std::mem::forget(std::mem::take(&mut *recorders));
}
