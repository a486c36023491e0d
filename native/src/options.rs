//! How a [`crate::Recorder`] records.

use std::path::PathBuf;
use std::time::Duration;

/// What logging does when the writer falls behind and the channel is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WhenFull {
    /// Wait until the writer makes room: nothing is ever lost. Default.
    #[default]
    Wait,
    /// Drop the measurement and count it ([`crate::Recorder::dropped`]): logging a metric
    /// point or resource sample never waits. Structural events (runs, series, params,
    /// statuses, artifacts) still wait, so what is kept stays consistent.
    Drop,
}

/// Where and how a [`crate::Recorder`] records. Build with the methods; every field has a
/// documented default.
#[derive(Debug, Clone)]
pub struct RecorderOptions {
    pub(crate) path: Option<PathBuf>,
    pub(crate) channel_capacity: usize,
    pub(crate) max_batch: usize,
    pub(crate) flush_interval: Duration,
    pub(crate) heartbeat_interval: Duration,
    pub(crate) when_full: WhenFull,
    pub(crate) shutdown_timeout: Duration,
    pub(crate) capture_environment: bool,
    pub(crate) capture_code: bool,
    pub(crate) store: runstore_core::OpenOptions,
}

impl RecorderOptions {
    /// Record into the file at `path` (created if missing).
    pub fn file(path: impl Into<PathBuf>) -> RecorderOptions {
        RecorderOptions { path: Some(path.into()), ..RecorderOptions::in_memory() }
    }

    /// Record into memory; persist later with [`crate::Recorder::persist_to`].
    pub fn in_memory() -> RecorderOptions {
        RecorderOptions {
            path: None,
            channel_capacity: 1 << 18,
            max_batch: 1 << 18,
            flush_interval: Duration::from_millis(500),
            heartbeat_interval: Duration::from_secs(10),
            when_full: WhenFull::Wait,
            shutdown_timeout: Duration::from_secs(60),
            capture_environment: true,
            capture_code: true,
            store: runstore_core::OpenOptions::default(),
        }
    }

    /// Events the channel holds before logging waits (or drops). Default: 262,144 (14 MiB
    /// of slots when full: 56 bytes each on 64-bit targets; an event other than a metric point
    /// also holds a 112-byte boxed event).
    pub fn channel_capacity(mut self, events: usize) -> Self {
        self.channel_capacity = events.max(1);
        self
    }

    /// Most events written in one transaction. Default: 262,144 (28 MiB of events at 112 bytes
    /// each; a batch that large forms only when the writer is behind, and writes in well under
    /// a second).
    pub fn max_batch(mut self, events: usize) -> Self {
        self.max_batch = events.max(1);
        self
    }

    /// Longest time an event waits in memory before it is written. Default: 500 ms.
    pub fn flush_interval(mut self, interval: Duration) -> Self {
        self.flush_interval = interval;
        self
    }

    /// How often running runs are marked alive. Readers show a run whose heartbeat is three
    /// intervals old (and at least 30 s) as crashed. Default: 10 s.
    pub fn heartbeat_interval(mut self, interval: Duration) -> Self {
        self.heartbeat_interval = interval.max(Duration::from_millis(100));
        self
    }

    /// What logging does when the channel is full. Default: [`WhenFull::Wait`].
    pub fn when_full(mut self, when_full: WhenFull) -> Self {
        self.when_full = when_full;
        self
    }

    /// How long dropping the guard waits for the last writes. Default: 60 s.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// Record OS, host, CPU, memory and runtime versions when a run starts. Default: on.
    pub fn capture_environment(mut self, on: bool) -> Self {
        self.capture_environment = on;
        self
    }

    /// Record the git commit, branch and dirty flag of the working directory's repository
    /// when a run starts. Default: on.
    pub fn capture_code(mut self, on: bool) -> Self {
        self.capture_code = on;
        self
    }

    /// How long SQLite waits for another process's lock. Default: 60 s.
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.store.busy_timeout = timeout;
        self
    }
}
