//! The recording handle and its guard.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Sender, TrySendError};
use runstore_core::event::{ModelVersionRecord, Owner, ResourceKind, ResourceSample};
use runstore_core::{Event, Id, Reply, Store};

use crate::clock::{new_id, now_ms};
use crate::experiment::Experiment;
use crate::options::{RecorderOptions, WhenFull};
use crate::run::Run;
use crate::writer::{self, Command, Settings, Shared};
use crate::{Error, Result};

/// A cheap, cloneable, `Send + Sync` handle that records into one store through one writer
/// thread. Logging never touches SQLite: it puts an event on a bounded channel (waiting when
/// the writer falls behind, unless [`WhenFull::Drop`] was chosen).
///
/// Create it with [`Recorder::open`] or [`Recorder::with_options`]; keep the returned
/// [`RecorderGuard`] alive while recording: dropping it writes what is queued and stops the
/// writer.
#[derive(Clone)]
pub struct Recorder {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub tx: Sender<Command>,
    pub shared: Arc<Shared>,
    pub options: RecorderOptions,
    pub next_handle: AtomicU64,
}

/// Keeps the writer thread alive. Dropping it writes every queued event (waiting at most the
/// shutdown timeout) and joins the thread.
#[must_use = "dropping the guard stops the recorder; keep it alive while recording"]
pub struct RecorderGuard {
    tx: Sender<Command>,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    timeout: Duration,
}

/// A new model version to register (see [`Recorder::register_model_version`]).
#[derive(Debug, Clone, Default)]
pub struct NewModelVersion {
    /// Model name; created if new.
    pub model: String,
    /// Where the model file is.
    pub storage_path: String,
    /// Description of the version.
    pub description: String,
    /// Size in bytes (filled by [`NewModelVersion::from_file`]).
    pub size_bytes: i64,
    /// SHA-256 in hex (filled by [`NewModelVersion::from_file`]).
    pub sha256: Option<String>,
    /// The run that produced it.
    pub source_run: Option<Id>,
    /// Tags.
    pub tags: Vec<(String, String)>,
}

impl NewModelVersion {
    /// A version stored at `path`, with its size and SHA-256 read from the file.
    pub fn from_file(model: &str, path: impl AsRef<std::path::Path>) -> Result<NewModelVersion> {
        let (size, sha) = crate::hash::file_sha256(path.as_ref())?;
        Ok(NewModelVersion {
            model: model.to_string(),
            storage_path: path.as_ref().display().to_string(),
            size_bytes: size as i64,
            sha256: Some(sha),
            ..Default::default()
        })
    }
}

/// Opens a file store, retrying while other processes hold it locked (many processes
/// opening one new file at the same moment).
fn open_store(options: &RecorderOptions) -> Result<Store> {
    let Some(path) = &options.path else {
        return Ok(Store::open_in_memory(now_ms())?);
    };
    let deadline = Instant::now().checked_add(options.store.busy_timeout);
    let mut pause = Duration::from_millis(2);
    loop {
        match Store::open(path, &options.store, now_ms()) {
            Err(e) if e.is_busy() && deadline.is_none_or(|d| Instant::now() < d) => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(100));
            }
            other => return Ok(other?),
        }
    }
}

impl Recorder {
    /// Records into the file at `path` with default options.
    pub fn open(path: impl Into<std::path::PathBuf>) -> Result<(Recorder, RecorderGuard)> {
        Recorder::with_options(RecorderOptions::file(path))
    }

    /// Records into memory; see [`Recorder::persist_to`].
    pub fn in_memory() -> Result<(Recorder, RecorderGuard)> {
        Recorder::with_options(RecorderOptions::in_memory())
    }

    /// Opens (creating and migrating) the store and starts the writer thread.
    pub fn with_options(options: RecorderOptions) -> Result<(Recorder, RecorderGuard)> {
        let store = open_store(&options)?;
        let (tx, rx) = crossbeam_channel::bounded(options.channel_capacity);
        let shared = Arc::new(Shared::default());
        let settings = Settings {
            max_batch: options.max_batch,
            flush_interval: options.flush_interval,
            heartbeat_interval: options.heartbeat_interval,
        };
        let thread_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name("runstore-writer".into())
            .spawn(move || writer::run(store, rx, settings, thread_shared))
            .map_err(|e| Error::WriterStopped(format!("could not start the writer thread: {e}")))?;
        let guard = RecorderGuard {
            tx: tx.clone(),
            shared: shared.clone(),
            thread: Some(thread),
            timeout: options.shutdown_timeout,
        };
        let recorder =
            Recorder { inner: Arc::new(Inner { tx, shared, options, next_handle: AtomicU64::new(0) }) };
        Ok((recorder, guard))
    }

    /// Queues an event.
    pub(crate) fn send(&self, event: Event) {
        send(&self.inner.tx, &self.inner.shared, self.inner.options.when_full, event);
    }

    /// Writes an event now and waits for its answer.
    pub(crate) fn call(&self, event: Event) -> Result<Reply> {
        self.request(|reply| Command::Call(Box::new(event), reply))
    }

    /// Sends a command that carries a reply channel and waits for the answer.
    fn request<T>(&self, command: impl FnOnce(Sender<Result<T>>) -> Command) -> Result<T> {
        let (reply_tx, reply_rx) = crossbeam_channel::bounded(1);
        self.inner
            .tx
            .send(command(reply_tx))
            .map_err(|_| Error::WriterStopped("the guard was dropped".into()))?;
        reply_rx.recv().map_err(|_| Error::WriterStopped("the writer ended before answering".into()))?
    }

    pub(crate) fn new_handle(&self) -> u64 {
        self.inner.next_handle.fetch_add(1, Ordering::Relaxed)
    }

    pub(crate) fn options(&self) -> &RecorderOptions {
        &self.inner.options
    }

    /// A handle on a run another process created and owns (`runstore record` names it in
    /// `RUNSTORE_RUN_ID`): it logs into the run but leaves its status to its owner, so
    /// [`Run::finish`], [`Run::fail`], [`Run::kill`] and dropping it do not end the run.
    /// Whether the run exists is checked when the first event about it is written.
    pub fn attach_run(&self, id: Id) -> Run {
        Run::attached(self.clone(), id)
    }

    /// Gets or creates the experiment `name` (waits for the writer).
    pub fn experiment(&self, name: &str) -> Result<Experiment> {
        self.experiment_with_description(name, "")
    }

    /// Gets or creates the experiment `name`; the description is set only when creating.
    pub fn experiment_with_description(&self, name: &str, description: &str) -> Result<Experiment> {
        let reply = self.call(Event::Experiment {
            id: new_id(),
            name: name.to_string(),
            description: description.to_string(),
            time_ms: now_ms(),
        })?;
        Ok(Experiment::new(self.clone(), expect_id(reply)?, name))
    }

    /// Waits until everything logged before this call is written. `Err` when events were
    /// refused or given up on since the previous flush ([`Error::WriteFailed`]), or at once
    /// while the file cannot be written ([`Error::Unavailable`]: disk full, lock held; what is
    /// queued stays queued and is retried).
    pub fn flush(&self) -> Result<()> {
        self.request(Command::Flush)
    }

    /// Events dropped because the channel was full ([`WhenFull::Drop`]) or the writer had
    /// stopped.
    pub fn dropped(&self) -> u64 {
        self.inner.shared.dropped.load(Ordering::Relaxed)
    }

    /// Events the store refused as invalid (an empty metric key, a dataset of an unknown
    /// run, ...); each refusal is also in [`Recorder::errors`].
    pub fn refused(&self) -> u64 {
        self.inner.shared.refused.load(Ordering::Relaxed)
    }

    /// Events that could not be written because the file kept failing until the guard's
    /// shutdown timeout (or failed for good: a damaged file).
    pub fn lost(&self) -> u64 {
        self.inner.shared.lost.load(Ordering::Relaxed)
    }

    /// Recent write errors, oldest first.
    pub fn errors(&self) -> Vec<String> {
        self.inner.shared.errors.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Copies everything recorded so far into the file at `path` (for an in-memory recorder:
    /// the centralized-storage seed's `persist_to_disk`). A new file is a plain copy; an
    /// existing store file gets what it lacks merged in (see `runstore_core::merge`), so many
    /// simulations can persist into one centralized file, and persisting twice adds nothing.
    pub fn persist_to(&self, path: impl Into<std::path::PathBuf>) -> Result<()> {
        let path = path.into();
        self.request(|reply| Command::Persist(path, reply))
    }

    /// Waits until the writer thread is between two writes and keeps it there until
    /// [`Recorder::resume_writer`]: call it just before `fork()` (Python's
    /// `os.register_at_fork(before=...)`), so that the child does not inherit SQLite's locks
    /// held mid-write. Logging goes on meanwhile (into the channel).
    pub fn pause_writer(&self) {
        self.inner.shared.fork_gate.pause();
    }

    /// Ends a [`Recorder::pause_writer`] (in the parent, just after `fork()`).
    pub fn resume_writer(&self) {
        self.inner.shared.fork_gate.resume();
    }

    /// Records a system resource sample not tied to a run.
    pub fn resource(&self, kind: ResourceKind, name: &str, value: f64, unit: &str) {
        self.send(Event::Resource(Box::new(ResourceSample {
            run_id: None,
            time_ms: now_ms(),
            kind,
            name: name.to_string(),
            value,
            unit: unit.to_string(),
        })));
    }

    /// Gets or creates a registered model (waits for the writer); returns its id.
    pub fn model(&self, name: &str, description: &str) -> Result<Id> {
        expect_id(self.call(Event::Model {
            id: new_id(),
            name: name.to_string(),
            description: description.to_string(),
            time_ms: now_ms(),
        })?)
    }

    /// Sets tags on a registered model.
    pub fn tag_model(&self, model_id: &Id, tags: &[(&str, &str)]) {
        self.send(Event::Tags {
            owner: Owner::Model(model_id.clone()),
            tags: tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        });
    }

    /// Registers a new version of a model (creating the model if needed) and returns its
    /// number: 1 for the first version, then 2, 3, ...
    pub fn register_model_version(&self, version: NewModelVersion) -> Result<i64> {
        let reply = self.call(Event::ModelVersion(Box::new(ModelVersionRecord {
            id: new_id(),
            model_name: version.model,
            new_model_id: new_id(),
            description: version.description,
            storage_path: version.storage_path,
            size_bytes: version.size_bytes,
            sha256: version.sha256,
            source_run_id: version.source_run,
            tags: version.tags,
            aliases: Vec::new(),
            time_ms: now_ms(),
        })))?;
        match reply {
            Reply::Version(v) => Ok(v),
            other => Err(Error::WriteFailed(format!("unexpected reply {other:?}"))),
        }
    }

    /// Points `alias` (e.g. `production`) of a model at one of its versions.
    pub fn set_model_alias(&self, model: &str, alias: &str, version: i64) -> Result<()> {
        self.call(Event::ModelAlias {
            model_name: model.to_string(),
            alias: alias.to_string(),
            version,
            time_ms: now_ms(),
        })
        .map(drop)
    }
}

pub(crate) fn expect_id(reply: Reply) -> Result<Id> {
    match reply {
        Reply::Id(id) => Ok(id),
        other => Err(Error::WriteFailed(format!("unexpected reply {other:?}"))),
    }
}

/// Puts an event on the channel according to the full-channel policy. Only measurements
/// (metric points and resource samples) are ever dropped; structure (runs, series, statuses,
/// params, ...) always waits for room, so what is kept stays consistent.
pub(crate) fn send(tx: &Sender<Command>, shared: &Shared, when_full: WhenFull, event: Event) {
    let droppable = matches!(event, Event::Point { .. } | Event::Resource(_));
    let command = Command::queued(event);
    let sent = match when_full {
        WhenFull::Drop if droppable => match tx.try_send(command) {
            Ok(()) => true,
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => false,
        },
        _ => tx.send(command).is_ok(),
    };
    if !sent {
        shared.dropped.fetch_add(1, Ordering::Relaxed);
    }
}

/// Puts `command` (metric points) on the channel unless it is full, in which case it is
/// handed back so the caller can release a lock it holds (Python's GIL) before waiting with
/// [`send_command`]. In [`WhenFull::Drop`] mode a full channel drops and counts instead.
pub(crate) fn try_send_command(
    tx: &Sender<Command>,
    shared: &Shared,
    when_full: WhenFull,
    command: Command,
    points: u64,
) -> std::result::Result<(), Command> {
    match tx.try_send(command) {
        Ok(()) => Ok(()),
        Err(TrySendError::Full(command)) if when_full == WhenFull::Wait => Err(command),
        Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
            shared.dropped.fetch_add(points, Ordering::Relaxed);
            Ok(())
        }
    }
}

/// Puts `command` (metric points) on the channel, waiting for room unless
/// [`WhenFull::Drop`] was chosen.
pub(crate) fn send_command(
    tx: &Sender<Command>,
    shared: &Shared,
    when_full: WhenFull,
    command: Command,
    points: u64,
) {
    if let Err(command) = try_send_command(tx, shared, when_full, command, points)
        && tx.send(command).is_err()
    {
        shared.dropped.fetch_add(points, Ordering::Relaxed);
    }
}

impl RecorderGuard {
    /// Stops the writer now, writing what is queued. `Err` when anything was lost: the writer
    /// panicked or did not finish within the shutdown timeout, or events were refused as
    /// invalid or given up on (the message lists the recent errors).
    pub fn finish(mut self) -> Result<()> {
        self.stop()?;
        let refused = self.shared.refused.load(Ordering::Relaxed);
        let lost = self.shared.lost.load(Ordering::Relaxed);
        if refused == 0 && lost == 0 {
            return Ok(());
        }
        let errors = self.shared.errors.lock().unwrap_or_else(|e| e.into_inner()).join("; ");
        Err(Error::WriteFailed(format!("{refused} events refused, {lost} not written: {errors}")))
    }

    fn stop(&mut self) -> Result<()> {
        let Some(thread) = self.thread.take() else {
            return Ok(());
        };
        // A timeout too large to add to now means: wait as long as it takes.
        let deadline = Instant::now().checked_add(self.timeout);
        *self.shared.give_up_at.lock().unwrap_or_else(|e| e.into_inner()) = deadline;
        let _ = self.tx.send(Command::Shutdown);
        let wait_until = deadline.and_then(|d| d.checked_add(Duration::from_secs(1)));
        while !thread.is_finished() && wait_until.is_none_or(|t| Instant::now() < t) {
            std::thread::sleep(Duration::from_millis(1));
        }
        if !thread.is_finished() {
            eprintln!(
                "runstore: the writer did not finish within {:?}; giving up on what is queued",
                self.timeout
            );
            return Err(Error::Timeout(self.timeout));
        }
        if thread.join().is_err() {
            eprintln!("runstore: the writer thread panicked; some events may not have been written");
            return Err(Error::WriterPanicked);
        }
        Ok(())
    }
}

impl Drop for RecorderGuard {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}
