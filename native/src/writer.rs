//! The writer thread: the only code that touches SQLite while recording.
//!
//! It blocks on the channel for the first command, drains whatever else is queued without
//! blocking, and writes the batch in one transaction when the batch is full, the flush
//! interval has passed, or someone waits for an answer. Transient failures (disk full, I/O
//! error, lock held too long) keep the batch and retry it with backoff: the channel fills up
//! and, in the default [`WhenFull::Wait`](crate::WhenFull) mode, logging waits rather than loses
//! data. Invalid events (a dataset for an unknown run, say) are isolated and reported without
//! holding back the rest.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use runstore_core::{BatchWriter, Event, Id, Reply, RunStatus, Store};

use crate::clock::now_ms;
use crate::{Error, Result};

/// A request to the writer thread.
pub(crate) enum Command {
    /// Write this when convenient.
    Event(Event),
    /// Write this now and answer.
    Call(Event, Sender<Result<Reply>>),
    /// Write everything queued before this and answer.
    Flush(Sender<Result<()>>),
    /// Write everything, then copy the store into a new file at this path.
    Persist(PathBuf, Sender<Result<()>>),
    /// Write everything and stop.
    Shutdown,
}

/// State shared by the handles and the writer thread.
#[derive(Default)]
pub(crate) struct Shared {
    /// Events dropped in [`crate::WhenFull::Drop`] mode, or sent after the writer stopped.
    pub dropped: AtomicU64,
    /// Recent write errors, newest last (at most [`MAX_ERRORS`]).
    pub errors: Mutex<Vec<String>>,
    /// Set when the writer thread has finished.
    pub stopped: AtomicBool,
    /// Set by the guard: give up retrying transient errors at this point.
    pub give_up_at: Mutex<Option<Instant>>,
}

const MAX_ERRORS: usize = 100;

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
        live_runs: HashSet::new(),
        shared,
    };
    let mut last_flush = Instant::now();
    let mut last_heartbeat = Instant::now();
    let mut stopping = false;
    while !stopping {
        let wake = if w.batch.is_empty() {
            last_heartbeat + settings.heartbeat_interval
        } else {
            (last_flush + settings.flush_interval).min(last_heartbeat + settings.heartbeat_interval)
        };
        let mut urgent = false;
        match rx.recv_timeout(wake.saturating_duration_since(Instant::now())) {
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
            w.commit();
            last_flush = Instant::now();
        }
    }
    // Anything still queued behind the shutdown request (a racing sender) is written too.
    let (mut urgent, mut stop) = (false, false);
    while let Ok(cmd) = rx.try_recv() {
        w.take(cmd, &mut urgent, &mut stop);
    }
    w.commit();
    w.shared.stopped.store(true, Ordering::SeqCst);
}

impl Writer {
    fn take(&mut self, cmd: Command, urgent: &mut bool, stopping: &mut bool) {
        match cmd {
            Command::Event(event) => self.push(event),
            Command::Call(event, reply) => {
                self.calls.push((self.batch.len(), reply));
                self.push(event);
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

    /// Writes the batch, retrying transient failures, and answers everyone waiting.
    fn commit(&mut self) {
        let mut pause = Duration::from_millis(10);
        let mut told_flushers = false;
        let failures: Vec<Option<String>> = loop {
            if self.batch.is_empty() {
                break Vec::new();
            }
            match self.batch_writer.write(self.store.conn_mut(), &self.batch) {
                Ok(replies) => {
                    for (i, reply) in self.calls.drain(..) {
                        let _ = reply.send(Ok(replies[i].clone()));
                    }
                    break Vec::new();
                }
                Err(e) if is_transient(&e) => {
                    let message = format!("writing {} events failed, will retry: {e}", self.batch.len());
                    self.shared.record_error(message.clone());
                    if !told_flushers {
                        for reply in self.flushes.drain(..) {
                            let _ = reply.send(Err(Error::WriteFailed(message.clone())));
                        }
                        told_flushers = true;
                    }
                    let give_up = *self.shared.give_up_at.lock().unwrap_or_else(|e| e.into_inner());
                    if give_up.is_some_and(|t| Instant::now() >= t) {
                        let lost = format!("gave up: {} events were not written: {e}", self.batch.len());
                        eprintln!("runstore: {lost}");
                        self.shared.record_error(lost.clone());
                        break vec![Some(lost); self.batch.len()];
                    }
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_secs(1));
                }
                Err(_) => break self.write_one_by_one(),
            }
        };
        let mut first_failure = None;
        for (i, reply) in self.calls.drain(..) {
            let result = match failures.get(i).cloned().flatten() {
                Some(message) => Err(Error::WriteFailed(message)),
                None => Err(Error::WriteFailed("the event was not written".into())),
            };
            let _ = reply.send(result);
        }
        for message in failures.into_iter().flatten() {
            first_failure.get_or_insert_with(|| message.clone());
            self.shared.record_error(message);
        }
        for reply in self.flushes.drain(..) {
            let _ = reply.send(match &first_failure {
                Some(message) => Err(Error::WriteFailed(message.clone())),
                None => Ok(()),
            });
        }
        for (path, reply) in std::mem::take(&mut self.persists) {
            let _ = reply.send(self.persist(&path));
        }
        self.batch.clear();
    }

    /// After a permanent error, writes each event in its own transaction so that only the
    /// invalid ones are lost; answers calls individually. Returns each event's failure.
    fn write_one_by_one(&mut self) -> Vec<Option<String>> {
        let mut failures = Vec::with_capacity(self.batch.len());
        let calls: Vec<_> = self.calls.drain(..).collect();
        let mut calls = calls.into_iter().peekable();
        for (i, event) in self.batch.iter().enumerate() {
            let result = self.batch_writer.write(self.store.conn_mut(), std::slice::from_ref(event));
            let call = calls.next_if(|(at, _)| *at == i);
            match result {
                Ok(mut replies) => {
                    if let Some((_, reply)) = call {
                        let _ = reply.send(Ok(replies.remove(0)));
                    }
                    failures.push(None);
                }
                Err(e) => match call {
                    Some((_, reply)) => {
                        let _ = reply.send(Err(Error::Store(e)));
                        failures.push(None);
                    }
                    None => failures.push(Some(format!("dropped an invalid event: {e}"))),
                },
            }
        }
        failures
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

fn is_transient(e: &runstore_core::Error) -> bool {
    use rusqlite::ErrorCode as C;
    match e {
        runstore_core::Error::Sqlite(rusqlite::Error::SqliteFailure(f, _)) => matches!(
            f.code,
            C::DiskFull
                | C::SystemIoFailure
                | C::DatabaseBusy
                | C::DatabaseLocked
                | C::CannotOpen
                | C::OutOfMemory
        ),
        _ => false,
    }
}
