//! The writer thread: the only code that touches SQLite while recording.
//!
//! It blocks on the channel for the first command, drains whatever else is queued without
//! blocking, and writes the batch in one transaction when the batch is full, the flush
//! interval has passed, or someone waits for an answer. Transient failures (disk full, I/O
//! error, lock held too long) keep the batch and retry it with backoff: the channel fills up
//! and, in the default [`WhenFull::Wait`](crate::WhenFull) mode, logging waits rather than loses
//! data; requests that wait for an answer get the error at once. Invalid events (a dataset for
//! an unknown run, say) are refused one by one by the store and reported, without holding back
//! the rest of their batch.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use runstore_core::{BatchOutcome, BatchWriter, Event, Id, Point, Reply, RunStatus, Store};

use crate::clock::now_ms;
use crate::fork_gate::ForkGate;
use crate::{Error, Result};

/// A request to the writer thread.
pub(crate) enum Command {
    /// A metric point, written when convenient. The hot path: kept inline and small, so a
    /// channel slot is 56 bytes rather than the 136 an inline `Event` (112 bytes) needs.
    Point(u64, Point),
    /// Many points of one series in one message (arrays logged at once), written when
    /// convenient.
    Points(u64, Vec<Point>),
    /// Write this when convenient.
    Event(Box<Event>),
    /// Write this now and answer.
    Call(Box<Event>, Sender<Result<Reply>>),
    /// Write everything queued before this and answer.
    Flush(Sender<Result<()>>),
    /// Write everything, then copy the store into a new file at this path.
    Persist(PathBuf, Sender<Result<()>>),
    /// Write everything and stop.
    Shutdown,
}

impl Command {
    /// An event to write when convenient: a metric point inline, anything else boxed.
    pub fn queued(event: Event) -> Command {
        match event {
            Event::Point { handle, point } => Command::Point(handle, point),
            other => Command::Event(Box::new(other)),
        }
    }
}

/// State shared by the handles and the writer thread.
#[derive(Default)]
pub(crate) struct Shared {
    /// Events dropped in [`crate::WhenFull::Drop`] mode, or sent after the writer stopped.
    pub dropped: AtomicU64,
    /// Events refused as invalid by the store.
    pub refused: AtomicU64,
    /// Events given up on because the file could not be written.
    pub lost: AtomicU64,
    /// Recent write errors, newest last (at most [`MAX_ERRORS`]).
    pub errors: Mutex<Vec<String>>,
    /// Set when the writer thread has finished.
    pub stopped: AtomicBool,
    /// Set by the guard: give up retrying transient errors at this point.
    pub give_up_at: Mutex<Option<Instant>>,
    /// Keeps the writer out of SQLite while the host forks.
    pub fork_gate: ForkGate,
}

const MAX_ERRORS: usize = 100;
/// Distinct refusal reasons reported per batch.
const MAX_REASONS: usize = 10;

impl Shared {
    pub fn record_error(&self, message: String) {
        let mut errors = self.errors.lock().unwrap_or_else(|e| e.into_inner());
        if errors.len() == MAX_ERRORS {
            errors.remove(0);
        }
        errors.push(message);
    }
}

pub(crate) struct Settings {
    pub max_batch: usize,
    pub flush_interval: Duration,
    pub heartbeat_interval: Duration,
}

struct Writer {
    store: Store,
    batch_writer: BatchWriter,
    batch: Vec<Event>,
    calls: Vec<(usize, Sender<Result<Reply>>)>,
    flushes: Vec<Sender<Result<()>>>,
    persists: Vec<(PathBuf, Sender<Result<()>>)>,
    /// Errors to report to the next flush.
    errors_since_flush: Vec<String>,
    max_batch: usize,
    live_runs: HashSet<Id>,
    shared: Arc<Shared>,
}

/// Runs the writer loop until [`Command::Shutdown`] or until every sender is gone.
pub(crate) fn run(store: Store, rx: Receiver<Command>, settings: Settings, shared: Arc<Shared>) {
    let mut w = Writer {
        store,
        batch_writer: BatchWriter::new(),
        batch: Vec::with_capacity(settings.max_batch.min(1 << 16)),
        calls: Vec::new(),
        flushes: Vec::new(),
        persists: Vec::new(),
        errors_since_flush: Vec::new(),
        max_batch: settings.max_batch,
        live_runs: HashSet::new(),
        shared,
    };
    let mut last_flush = Instant::now();
    let mut last_heartbeat = Instant::now();
    let mut stopping = false;
    while !stopping {
        let heartbeat_due = last_heartbeat.checked_add(settings.heartbeat_interval);
        let wake = if w.batch.is_empty() {
            heartbeat_due
        } else {
            let flush_due = last_flush.checked_add(settings.flush_interval);
            flush_due.into_iter().chain(heartbeat_due).min()
        };
        let mut urgent = false;
        let received = match wake {
            Some(wake) => rx.recv_timeout(wake.saturating_duration_since(Instant::now())),
            None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        match received {
            Ok(cmd) => w.take(cmd, &mut urgent, &mut stopping),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => stopping = true,
        }
        while !urgent && !stopping && w.batch.len() < settings.max_batch {
            match rx.try_recv() {
                Ok(cmd) => w.take(cmd, &mut urgent, &mut stopping),
                Err(_) => break,
            }
        }
        if last_heartbeat.elapsed() >= settings.heartbeat_interval {
            let now = now_ms();
            for run_id in &w.live_runs {
                w.batch.push(Event::Heartbeat { run_id: run_id.clone(), time_ms: now });
            }
            last_heartbeat = Instant::now();
        }
        let due = urgent
            || stopping
            || w.batch.len() >= settings.max_batch
            || (!w.batch.is_empty() && last_flush.elapsed() >= settings.flush_interval);
        if due {
            w.commit(&rx, &mut stopping);
            last_flush = Instant::now();
        }
    }
    // Anything still queued behind the shutdown request (a racing sender) is written too.
    let (mut urgent, mut stop) = (false, false);
    while let Ok(cmd) = rx.try_recv() {
        w.take(cmd, &mut urgent, &mut stop);
    }
    // A retried commit leaves what queued meanwhile in the batch: write that too.
    loop {
        w.commit(&rx, &mut stop);
        if w.batch.is_empty() {
            break;
        }
    }
    // Closing the file is SQLite work too: not while the host forks. The log is moved into
    // the file first, so that the `.db` alone is complete even when a reader (this process's
    // or another's) still has the file open and SQLite leaves the `-wal` behind.
    let shared = w.shared.clone();
    let writing = shared.fork_gate.enter();
    if let Err(e) = w.store.checkpoint() {
        w.shared.record_error(format!("moving the write-ahead log into the file at the end: {e}"));
    }
    drop(w);
    drop(writing);
    shared.stopped.store(true, Ordering::SeqCst);
}

impl Writer {
    fn take(&mut self, cmd: Command, urgent: &mut bool, stopping: &mut bool) {
        match cmd {
            Command::Point(handle, point) => self.batch.push(Event::Point { handle, point }),
            Command::Points(handle, points) => {
                self.batch.extend(points.into_iter().map(|point| Event::Point { handle, point }));
            }
            Command::Event(event) => self.push(*event),
            Command::Call(event, reply) => {
                self.calls.push((self.batch.len(), reply));
                self.push(*event);
                *urgent = true;
            }
            Command::Flush(reply) => {
                self.flushes.push(reply);
                *urgent = true;
            }
            Command::Persist(path, reply) => {
                self.persists.push((path, reply));
                *urgent = true;
            }
            Command::Shutdown => *stopping = true,
        }
    }

    fn push(&mut self, event: Event) {
        match &event {
            Event::Run(run) if run.status == RunStatus::Running => {
                self.live_runs.insert(run.id.clone());
            }
            Event::RunStatus { run_id, status, .. } => {
                if *status == RunStatus::Running {
                    self.live_runs.insert(run_id.clone());
                } else {
                    self.live_runs.remove(run_id);
                }
            }
            _ => {}
        }
        self.batch.push(event);
    }

    /// Writes the batch, retrying failures of the file, and answers everyone waiting.
    ///
    /// While a transient failure (disk full, lock held, I/O error) is retried, the channel is
    /// still read: events queue up behind the batch, and flushes, calls and persists are
    /// answered at once with the error instead of waiting for the disk to recover. Once another
    /// `max_batch` events have queued, the channel is no longer read: logging waits (or drops,
    /// with `WhenFull::Drop`), and so do requests sent after those events.
    fn commit(&mut self, rx: &Receiver<Command>, stopping: &mut bool) {
        let mut pause = Duration::from_millis(10);
        let mut backlog = Vec::new();
        let mut failing: Option<String> = None;
        while !self.batch.is_empty() {
            let written = {
                let _writing = self.shared.fork_gate.enter();
                self.batch_writer.write(&mut self.store, &self.batch)
            };
            match written {
                Ok(outcome) => {
                    self.answer(outcome);
                    break;
                }
                Err(e) if e.is_transient() => {
                    let e = Arc::new(e);
                    if failing.is_none() {
                        let message = format!("writing {} events failed, retrying: {e}", self.batch.len());
                        self.shared.record_error(message.clone());
                        failing = Some(message);
                    }
                    self.refuse_waiting(&e);
                    if self.giving_up() {
                        self.lose(self.batch.len() + backlog.len(), &e.to_string());
                        self.batch.clear();
                        backlog.clear();
                        break;
                    }
                    self.read_while_waiting(rx, pause, &e, &mut backlog, stopping);
                    pause = (pause * 2).min(Duration::from_secs(1));
                }
                Err(e) => {
                    let e = Arc::new(e);
                    self.refuse_waiting(&e);
                    self.lose(self.batch.len(), &e.to_string());
                    self.batch.clear();
                }
            }
        }
        // Errors wait for the next flush that is answered, however many commits come first.
        let summary = (!self.flushes.is_empty() && !self.errors_since_flush.is_empty())
            .then(|| std::mem::take(&mut self.errors_since_flush).join("; "));
        for reply in self.flushes.drain(..) {
            let _ = reply.send(match &summary {
                Some(message) => Err(Error::WriteFailed(message.clone())),
                None => Ok(()),
            });
        }
        for (path, reply) in std::mem::take(&mut self.persists) {
            let shared = self.shared.clone();
            let persisted = {
                let _writing = shared.fork_gate.enter();
                self.persist(&path)
            };
            let _ = reply.send(persisted);
        }
        self.batch.clear();
        for event in backlog {
            self.push(event);
        }
    }

    /// Answers the calls of a written batch, and counts and reports its refused events.
    fn answer(&mut self, mut outcome: BatchOutcome) {
        for (i, reply) in self.calls.drain(..) {
            let _ = reply.send(outcome.take(i).map_err(Error::Store));
        }
        let refused = outcome.refused();
        if refused.is_empty() {
            return;
        }
        self.shared.refused.fetch_add(refused.len() as u64, Ordering::Relaxed);
        let mut by_reason: BTreeMap<String, usize> = BTreeMap::new();
        for (_, e) in refused {
            *by_reason.entry(e.to_string()).or_default() += 1;
        }
        for (reason, n) in by_reason.into_iter().take(MAX_REASONS) {
            let message = format!("refused {n} invalid event{}: {reason}", if n == 1 { "" } else { "s" });
            self.shared.record_error(message.clone());
            self.errors_since_flush.push(message);
        }
    }

    /// Answers everyone waiting on the failing batch with the error: calls (whose events are
    /// taken out of the batch, so nothing they asked for is written later), flushes, persists.
    fn refuse_waiting(&mut self, e: &Arc<runstore_core::Error>) {
        for (i, reply) in std::mem::take(&mut self.calls).into_iter().rev() {
            self.batch.remove(i);
            let _ = reply.send(Err(Error::Unavailable(e.clone())));
        }
        for reply in self.flushes.drain(..) {
            let _ = reply.send(Err(Error::Unavailable(e.clone())));
        }
        for (_, reply) in self.persists.drain(..) {
            let _ = reply.send(Err(Error::Unavailable(e.clone())));
        }
    }

    /// Reads the channel for up to `pause`: events join the backlog (while it has room),
    /// requests are answered with the error at once.
    fn read_while_waiting(
        &mut self,
        rx: &Receiver<Command>,
        pause: Duration,
        e: &Arc<runstore_core::Error>,
        backlog: &mut Vec<Event>,
        stopping: &mut bool,
    ) {
        let until = Instant::now() + pause;
        loop {
            if backlog.len() >= self.max_batch {
                std::thread::sleep(until.saturating_duration_since(Instant::now()));
                return;
            }
            match rx.recv_timeout(until.saturating_duration_since(Instant::now())) {
                Ok(Command::Point(handle, point)) => backlog.push(Event::Point { handle, point }),
                Ok(Command::Points(handle, points)) => {
                    backlog.extend(points.into_iter().map(|point| Event::Point { handle, point }));
                }
                Ok(Command::Event(event)) => backlog.push(*event),
                Ok(Command::Call(_, reply)) => {
                    let _ = reply.send(Err(Error::Unavailable(e.clone())));
                }
                Ok(Command::Flush(reply)) => {
                    let _ = reply.send(Err(Error::Unavailable(e.clone())));
                }
                Ok(Command::Persist(_, reply)) => {
                    let _ = reply.send(Err(Error::Unavailable(e.clone())));
                }
                Ok(Command::Shutdown) => *stopping = true,
                Err(RecvTimeoutError::Timeout) => return,
                Err(RecvTimeoutError::Disconnected) => {
                    *stopping = true;
                    std::thread::sleep(until.saturating_duration_since(Instant::now()));
                    return;
                }
            }
        }
    }

    /// Whether the guard's shutdown deadline has passed.
    fn giving_up(&self) -> bool {
        let give_up = *self.shared.give_up_at.lock().unwrap_or_else(|e| e.into_inner());
        give_up.is_some_and(|t| Instant::now() >= t)
    }

    /// Counts `n` events as lost for `reason`.
    fn lose(&mut self, n: usize, reason: &str) {
        if n == 0 {
            return;
        }
        let message = format!("gave up: {n} events were not written: {reason}");
        eprintln!("runstore: {message}");
        self.shared.lost.fetch_add(n as u64, Ordering::Relaxed);
        self.shared.record_error(message.clone());
        self.errors_since_flush.push(message);
    }

    /// Copies the store into a new file, or merges it into an existing store file (runs
    /// already there are not copied again).
    fn persist(&mut self, path: &std::path::Path) -> Result<()> {
        if path.exists() {
            let mut target = Store::open(path, &Default::default(), now_ms())?;
            target.merge_from(&self.store, &mut |_| {})?;
            return Ok(());
        }
        self.store
            .conn()
            .execute("VACUUM INTO ?1", [path.to_string_lossy()])
            .map_err(|e| Error::Store(e.into()))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The figures the docs state (`Series`, `RecorderOptions::channel_capacity`,
    /// `max_batch`): a queued event takes one channel slot — a `Command` and crossbeam's
    /// 8-byte stamp — whatever its kind; in a batch, an event is an `Event`.
    #[test]
    fn queued_sizes_are_as_documented() {
        assert_eq!(std::mem::size_of::<Event>(), 112);
        assert_eq!(std::mem::size_of::<Command>() + 8, 56);
    }
}
