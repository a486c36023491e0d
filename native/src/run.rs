//! A run being recorded, and its metric series.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crossbeam_channel::Sender;
use runstore_core::event::{
    ArtifactOwner, CodeRecord, EnvironmentRecord, Owner, ResourceKind, ResourceSample, SpanRecord,
};
use runstore_core::{Context, Event, Id, ParamValue, Point, RunStatus, SeriesKey, flatten};

use crate::Result;
use crate::artifact::{ArtifactSpec, DatasetSpec};
use crate::clock::now_ms;
use crate::experiment::{set_params, set_tags};
use crate::options::WhenFull;
use crate::recorder::{Recorder, send, send_command, try_send_command};
use crate::writer::{Command, Shared};

const NONE: u64 = u64::MAX;

/// The epoch and batch a run is in; points logged meanwhile carry them.
#[derive(Debug)]
struct Position {
    epoch: AtomicU64,
    batch: AtomicU64,
}

fn load(a: &AtomicU64) -> Option<u32> {
    match a.load(Ordering::Relaxed) {
        NONE => None,
        v => Some(v as u32),
    }
}

/// A run being recorded. `Send + Sync`: share it by reference across threads, or hand out
/// [`Series`] handles.
///
/// Finish it with [`Run::finish`], [`Run::fail`] or [`Run::kill`]. Dropped unfinished, it is
/// marked completed, or failed when the thread is panicking (a panic in training code still
/// leaves the run marked failed). A run from [`Recorder::attach_run`] is ended by its owner,
/// never by this handle.
pub struct Run {
    rec: Recorder,
    id: Id,
    position: Arc<Position>,
    series: Mutex<HashMap<SeriesKey, u64>>,
    /// Set once the run's status was written, and from the start for an attached run (whose
    /// status its owner writes).
    finished: AtomicBool,
}

/// One metric series of a run: (key, context, label). Cheap to clone and `Send`; logging a
/// point stamps the time and queues one 56-byte channel slot (on 64-bit targets), nothing
/// more.
#[derive(Clone)]
pub struct Series {
    tx: Sender<Command>,
    shared: Arc<Shared>,
    when_full: WhenFull,
    handle: u64,
    position: Arc<Position>,
}

impl Series {
    /// Logs `value` at `step`, in the run's current epoch and batch.
    #[inline]
    pub fn log(&self, step: i64, value: f64) {
        self.log_point(Point {
            step,
            time_ms: now_ms(),
            value,
            epoch: load(&self.position.epoch),
            batch: load(&self.position.batch),
        });
    }

    /// Logs a point with every field given by the caller.
    #[inline]
    pub fn log_point(&self, point: Point) {
        send(&self.tx, &self.shared, self.when_full, Event::Point { handle: self.handle, point });
    }

    /// A point at `step` stamped `time_ms`, in the run's current epoch and batch: what
    /// [`Series::log`] queues.
    #[inline]
    pub fn point(&self, step: i64, value: f64, time_ms: i64) -> Point {
        Point { step, time_ms, value, epoch: load(&self.position.epoch), batch: load(&self.position.batch) }
    }

    /// Queues `point` unless the channel is full; then hands it back, so that a caller holding
    /// a lock (Python's GIL) can release it before waiting with [`Series::log_point`].
    #[inline]
    pub fn try_log_point(&self, point: Point) -> std::result::Result<(), Point> {
        try_send_command(&self.tx, &self.shared, self.when_full, Command::Point(self.handle, point), 1)
            .map_err(|command| match command {
                Command::Point(_, point) => point,
                _ => unreachable!("the command handed back is the one sent"),
            })
    }

    /// Queues many points as one channel message (arrays logged at once): the writer takes
    /// them as if logged one by one, in order.
    pub fn log_points(&self, points: Vec<Point>) {
        let count = points.len() as u64;
        if count > 0 {
            send_command(&self.tx, &self.shared, self.when_full, Command::Points(self.handle, points), count);
        }
    }

    /// Like [`Series::log_points`], but hands the points back when the channel is full.
    pub fn try_log_points(&self, points: Vec<Point>) -> std::result::Result<(), Vec<Point>> {
        let count = points.len() as u64;
        if count == 0 {
            return Ok(());
        }
        try_send_command(&self.tx, &self.shared, self.when_full, Command::Points(self.handle, points), count)
            .map_err(|command| match command {
                Command::Points(_, points) => points,
                _ => unreachable!("the command handed back is the one sent"),
            })
    }
}

impl Run {
    pub(crate) fn new(rec: Recorder, id: Id) -> Run {
        Run {
            rec,
            id,
            position: Arc::new(Position { epoch: AtomicU64::new(NONE), batch: AtomicU64::new(NONE) }),
            series: Mutex::new(HashMap::new()),
            finished: AtomicBool::new(false),
        }
    }

    pub(crate) fn attached(rec: Recorder, id: Id) -> Run {
        let run = Run::new(rec, id);
        run.finished.store(true, Ordering::SeqCst);
        run
    }

    /// The run's id.
    pub fn id(&self) -> &Id {
        &self.id
    }

    /// Sets one param.
    pub fn param(&self, key: &str, value: impl Into<ParamValue>) {
        set_params(&self.rec, Owner::Run(self.id.clone()), [(key, value)]);
    }

    /// Sets params.
    pub fn params<K: Into<String>, V: Into<ParamValue>>(&self, params: impl IntoIterator<Item = (K, V)>) {
        set_params(&self.rec, Owner::Run(self.id.clone()), params);
    }

    /// Sets params from a nested JSON config, flattened to dotted keys
    /// (`{"optimizer": {"lr": 0.1}}` → `optimizer.lr = 0.1`).
    pub fn config(&self, config: &serde_json::Value) {
        set_params(&self.rec, Owner::Run(self.id.clone()), flatten("", config));
    }

    /// Sets tags.
    pub fn tags(&self, tags: &[(&str, &str)]) {
        set_tags(&self.rec, Owner::Run(self.id.clone()), tags);
    }

    /// The series (key, context) of this run — the total, not a per-label value.
    pub fn series(&self, key: &str, context: &Context) -> Series {
        self.series_labelled(key, context, "")
    }

    /// The per-label series (key, context, label): e.g. the accuracy of one class.
    pub fn series_labelled(&self, key: &str, context: &Context, label: &str) -> Series {
        let series = SeriesKey::new(self.id.clone(), key, context).with_label(label);
        let mut map = self.series.lock().unwrap_or_else(|e| e.into_inner());
        let handle = match map.get(&series) {
            Some(h) => *h,
            None => {
                let h = self.rec.new_handle();
                self.rec.send(Event::Series { handle: h, series: series.clone() });
                map.insert(series, h);
                h
            }
        };
        let inner = &self.rec.inner;
        Series {
            tx: inner.tx.clone(),
            shared: inner.shared.clone(),
            when_full: inner.options.when_full,
            handle,
            position: self.position.clone(),
        }
    }

    /// Logs `value` of metric `key` (no context) at `step`. For hot loops, keep the
    /// [`Series`] from [`Run::series`] instead: it skips the lookup.
    pub fn log(&self, key: &str, step: i64, value: f64) {
        self.series(key, &Context::none()).log(step, value);
    }

    /// Logs a metric with per-label values (the experiment manager's `per_label_val`): the
    /// total under `key`, and each `(label, value)` as the series (key, context, label).
    pub fn log_labelled(
        &self,
        key: &str,
        context: &Context,
        step: i64,
        total: f64,
        per_label: &[(&str, f64)],
    ) {
        self.series(key, context).log(step, total);
        for (label, value) in per_label {
            self.series_labelled(key, context, label).log(step, *value);
        }
    }

    /// Marks the start of an epoch; points logged from now on carry it.
    pub fn start_epoch(&self, epoch: u32) {
        self.position.epoch.store(u64::from(epoch), Ordering::Relaxed);
        self.position.batch.store(NONE, Ordering::Relaxed);
        self.rec.send(Event::Epoch { run_id: self.id.clone(), epoch, end: false, time_ms: now_ms() });
    }

    /// Marks the end of an epoch.
    pub fn end_epoch(&self, epoch: u32) {
        self.position.batch.store(NONE, Ordering::Relaxed);
        self.rec.send(Event::Epoch { run_id: self.id.clone(), epoch, end: true, time_ms: now_ms() });
    }

    /// Marks the start of a batch of the current epoch.
    pub fn start_batch(&self, batch: u32) {
        let epoch = load(&self.position.epoch).unwrap_or(0);
        self.position.batch.store(u64::from(batch), Ordering::Relaxed);
        self.rec.send(Event::Batch { run_id: self.id.clone(), epoch, batch, end: false, time_ms: now_ms() });
    }

    /// Marks the end of a batch of the current epoch.
    pub fn end_batch(&self, batch: u32) {
        let epoch = load(&self.position.epoch).unwrap_or(0);
        self.rec.send(Event::Batch { run_id: self.id.clone(), epoch, batch, end: true, time_ms: now_ms() });
    }

    /// Records a run-level artifact.
    pub fn artifact(&self, spec: ArtifactSpec) -> Result<Id> {
        spec.record(&self.rec, ArtifactOwner::Run(self.id.clone()))
    }

    /// Records an artifact of one epoch.
    pub fn epoch_artifact(&self, epoch: u32, spec: ArtifactSpec) -> Result<Id> {
        spec.record(&self.rec, ArtifactOwner::Epoch { run: self.id.clone(), epoch })
    }

    /// Records an artifact of one batch.
    pub fn batch_artifact(&self, epoch: u32, batch: u32, spec: ArtifactSpec) -> Result<Id> {
        spec.record(&self.rec, ArtifactOwner::Batch { run: self.id.clone(), epoch, batch })
    }

    /// Records a dataset the run reads or writes.
    pub fn dataset(&self, spec: DatasetSpec) -> Result<Id> {
        spec.record(&self.rec, &self.id)
    }

    /// Records (replaces) the code record; captured automatically at start by default.
    pub fn code(&self, code: CodeRecord) {
        self.rec.send(Event::Code { run_id: self.id.clone(), code: Box::new(code), time_ms: now_ms() });
    }

    /// Records (replaces) the environment; captured automatically at start by default.
    pub fn environment(&self, environment: EnvironmentRecord) {
        self.rec.send(Event::Environment {
            run_id: self.id.clone(),
            environment: Box::new(environment),
            time_ms: now_ms(),
        });
    }

    /// Records a resource sample of this run.
    pub fn resource(&self, kind: ResourceKind, name: &str, value: f64, unit: &str) {
        self.rec.send(Event::Resource(Box::new(ResourceSample {
            run_id: Some(self.id.clone()),
            time_ms: now_ms(),
            kind,
            name: name.to_string(),
            value,
            unit: unit.to_string(),
        })));
    }

    /// Records a finished span.
    pub fn span(&self, name: &str, start_ms: i64, duration_ms: f64, attributes: serde_json::Value) {
        self.rec.send(Event::Span(Box::new(SpanRecord {
            run_id: Some(self.id.clone()),
            name: name.to_string(),
            start_ms,
            duration_ms,
            attributes,
        })));
    }

    /// Starts timing an operation; the span is recorded when the timer is finished or dropped.
    pub fn time(&self, name: &str) -> SpanTimer<'_> {
        SpanTimer {
            run: self,
            name: name.to_string(),
            start_ms: now_ms(),
            started: Instant::now(),
            attributes: serde_json::Map::new(),
            done: false,
        }
    }

    /// Sets the run's results summary.
    pub fn results(&self, results: serde_json::Value) {
        self.rec.send(Event::RunResults { run_id: self.id.clone(), results });
    }

    fn end(&self, status: RunStatus, error: Option<String>) {
        if self.finished.swap(true, Ordering::SeqCst) {
            return;
        }
        self.rec.send(Event::RunStatus { run_id: self.id.clone(), status, error, time_ms: now_ms() });
    }

    /// Marks the run completed.
    pub fn finish(self) {
        self.end(RunStatus::Completed, None);
    }

    /// Marks the run failed with an error message.
    pub fn fail(self, error: &str) {
        self.end(RunStatus::Failed, Some(error.to_string()));
    }

    /// Marks the run killed (interrupted or cancelled from outside).
    pub fn kill(self, reason: &str) {
        self.end(RunStatus::Killed, Some(reason.to_string()));
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.end(RunStatus::Failed, Some("the program panicked".into()));
        } else {
            self.end(RunStatus::Completed, None);
        }
    }
}

/// Times an operation of a run; see [`Run::time`].
pub struct SpanTimer<'a> {
    run: &'a Run,
    name: String,
    start_ms: i64,
    started: Instant,
    attributes: serde_json::Map<String, serde_json::Value>,
    done: bool,
}

impl SpanTimer<'_> {
    /// Adds an attribute (samples generated, memory used, round, ...).
    pub fn attribute(&mut self, key: &str, value: impl Into<serde_json::Value>) -> &mut Self {
        self.attributes.insert(key.to_string(), value.into());
        self
    }

    /// Records the span now.
    pub fn finish(mut self) {
        self.record();
    }

    fn record(&mut self) {
        if !self.done {
            self.done = true;
            let duration = self.started.elapsed().as_secs_f64() * 1000.0;
            let attributes = serde_json::Value::Object(std::mem::take(&mut self.attributes));
            self.run.span(&self.name, self.start_ms, duration, attributes);
        }
    }
}

impl Drop for SpanTimer<'_> {
    fn drop(&mut self) {
        self.record();
    }
}
