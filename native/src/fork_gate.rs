//! Keeps the writer thread out of SQLite while the process forks.
//!
//! A child made by `fork()` gets a copy of every lock as it was at that instant. Were the
//! writer thread inside SQLite then (holding its allocator or file-list mutex), the child's
//! first SQLite call would wait forever. Hosts that fork (Python's multiprocessing) pause the
//! writer just before forking and resume it just after, in the parent.

use std::sync::{Condvar, Mutex, MutexGuard};

#[derive(Default)]
struct State {
    /// The writer is inside SQLite.
    writing: bool,
    /// Holds taken by hosts about to fork; the writer does not start writing while any is.
    paused: usize,
}

/// Whether the writer may touch SQLite now; see the module docs.
#[derive(Default)]
pub(crate) struct ForkGate {
    state: Mutex<State>,
    changed: Condvar,
}

/// Held by the writer while it is inside SQLite.
pub(crate) struct Writing<'a>(&'a ForkGate);

impl ForkGate {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until no fork is pending, then marks the writer inside SQLite until the returned
    /// value is dropped.
    pub fn enter(&self) -> Writing<'_> {
        let mut state = self.lock();
        while state.paused > 0 {
            state = self.changed.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        state.writing = true;
        Writing(self)
    }

    /// Waits until the writer is outside SQLite and keeps it there until [`ForkGate::resume`].
    pub fn pause(&self) {
        let mut state = self.lock();
        state.paused += 1;
        while state.writing {
            state = self.changed.wait(state).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Ends one [`ForkGate::pause`].
    pub fn resume(&self) {
        let mut state = self.lock();
        state.paused = state.paused.saturating_sub(1);
        self.changed.notify_all();
    }
}

impl Drop for Writing<'_> {
    fn drop(&mut self) {
        self.0.lock().writing = false;
        self.0.changed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    #[test]
    fn a_pause_waits_for_the_writer_and_holds_it_out_until_resumed() {
        let gate = Arc::new(ForkGate::default());
        let writing = gate.enter();
        let paused = Arc::new(AtomicBool::new(false));
        let pauser = {
            let (gate, paused) = (gate.clone(), paused.clone());
            std::thread::spawn(move || {
                gate.pause();
                paused.store(true, Ordering::SeqCst);
            })
        };
        std::thread::sleep(Duration::from_millis(50));
        assert!(!paused.load(Ordering::SeqCst), "the pause must wait for the write to end");
        drop(writing);
        pauser.join().unwrap();
        assert!(paused.load(Ordering::SeqCst));

        let entered = Arc::new(AtomicBool::new(false));
        let writer = {
            let (gate, entered) = (gate.clone(), entered.clone());
            std::thread::spawn(move || {
                let _writing = gate.enter();
                entered.store(true, Ordering::SeqCst);
            })
        };
        std::thread::sleep(Duration::from_millis(50));
        assert!(!entered.load(Ordering::SeqCst), "the writer must not start while paused");
        gate.resume();
        writer.join().unwrap();
        assert!(entered.load(Ordering::SeqCst));
    }
}
