//! `runstore.Run`: a run being recorded from Python.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::{Duration, Instant};

use pyo3::exceptions::{PyKeyboardInterrupt, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString, PyType};
use runstore::{ArtifactSpec, Context, DatasetSpec, Point, ResourceMonitor, now_ms};

use crate::array::numbers;
use crate::error::{self, RunstoreError};
use crate::fork::ProcessBound;
use crate::recorder::{ModelFile, Recorder};
use crate::values::{self, metric_value};

/// Points per channel message when arrays are logged.
const BLOCK: usize = 4096;

/// One metric series of a run, cached per key so that logging it again is one dict lookup.
#[pyclass(module = "runstore._runstore", frozen)]
pub struct SeriesHandle {
    series: ProcessBound<runstore::Series>,
}

/// A run being recorded. Made by `runstore.init()`; use it as a context manager, or end it
/// with `finish()`, `fail(message)` or `kill(reason)`. Safe to share between threads.
#[pyclass(module = "runstore._runstore", frozen, weakref)]
pub struct Run {
    recorder: Py<Recorder>,
    native: ProcessBound<Native>,
    id: String,
    name: String,
    attached: bool,
    ended: AtomicBool,
    next_step: AtomicI64,
    /// Series without labels, per phase: `{key: SeriesHandle}` dicts.
    by_phase: Mutex<HashMap<Option<String>, Py<PyDict>>>,
}

/// The native parts of a run: usable only in the process that made them (see `fork`).
struct Native {
    run: Mutex<Option<runstore::Run>>,
    /// Per-label series: (key, phase, label) → series.
    labelled: Mutex<HashMap<LabelledKey, runstore::Series>>,
    monitor: Mutex<Option<ResourceMonitor>>,
}

/// (key, phase, label) of a per-label series.
type LabelledKey = (String, Option<String>, String);

fn context(phase: Option<&str>) -> Context {
    phase.map_or_else(Context::none, Context::phase)
}

impl Run {
    pub(crate) fn new(
        recorder: Py<Recorder>,
        rec: &runstore::Recorder,
        native: runstore::Run,
        name: String,
        attached: bool,
        monitor_interval: Option<f64>,
    ) -> PyResult<Run> {
        let monitor = match monitor_interval {
            Some(seconds) => {
                let interval =
                    Duration::try_from_secs_f64(seconds).ok().filter(|d| !d.is_zero()).ok_or_else(|| {
                        PyValueError::new_err("the monitor interval must be a positive number of seconds")
                    })?;
                Some(ResourceMonitor::start(rec, Some(native.id()), interval))
            }
            None => None,
        };
        Ok(Run {
            recorder,
            id: native.id().to_string(),
            native: ProcessBound::new(Native {
                run: Mutex::new(Some(native)),
                labelled: Mutex::new(HashMap::new()),
                monitor: Mutex::new(monitor),
            }),
            name,
            attached,
            ended: AtomicBool::new(false),
            next_step: AtomicI64::new(0),
            by_phase: Mutex::new(HashMap::new()),
        })
    }

    /// The native run, while it is open and in its own process.
    fn with_run<T>(&self, f: impl FnOnce(&runstore::Run) -> T) -> PyResult<T> {
        let run = self.native.get("run")?.run.lock().unwrap_or_else(|e| e.into_inner());
        match run.as_ref() {
            Some(run) => Ok(f(run)),
            None => Err(RunstoreError::new_err(format!(
                "run {} has ended; start another with runstore.init()",
                self.id
            ))),
        }
    }

    /// `f` on the native run, after checking that the run is open and in its own process.
    fn with_open_run<T>(&self, f: impl FnOnce(&runstore::Run) -> T) -> PyResult<T> {
        self.check_open()?;
        self.with_run(f)
    }

    #[inline]
    fn check_open(&self) -> PyResult<()> {
        self.native.get("run")?;
        if self.ended.load(Ordering::Relaxed) {
            return Err(RunstoreError::new_err(format!(
                "run {} has ended; start another with runstore.init()",
                self.id
            )));
        }
        Ok(())
    }

    /// The step of a call: the one given (later calls continue after it), or the next one.
    fn take_step(&self, step: Option<i64>) -> i64 {
        match step {
            Some(step) => {
                self.next_step.store(step.saturating_add(1), Ordering::Relaxed);
                step
            }
            None => self.next_step.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// The `{key: SeriesHandle}` cache of a phase.
    fn phase_cache<'py>(&self, py: Python<'py>, phase: Option<&str>) -> Bound<'py, PyDict> {
        let key = phase.map(str::to_string);
        if let Some(dict) = self.by_phase.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return dict.bind(py).clone();
        }
        // Made outside the lock: allocating a Python object may run arbitrary code (GC).
        let fresh = PyDict::new(py);
        let mut caches = self.by_phase.lock().unwrap_or_else(|e| e.into_inner());
        caches.entry(key).or_insert_with(|| fresh.clone().unbind()).bind(py).clone()
    }

    /// The series `key` of `phase`, from the cache or declared now.
    fn series<'py>(
        &self,
        cache: &Bound<'py, PyDict>,
        key: &Bound<'py, PyString>,
        phase: Option<&str>,
    ) -> PyResult<Bound<'py, SeriesHandle>> {
        if let Some(handle) = cache.get_item(key)? {
            return Ok(handle.cast_into::<SeriesHandle>()?);
        }
        let name = key.to_cow()?;
        if name.is_empty() {
            return Err(PyValueError::new_err("metric keys must not be empty"));
        }
        let series = self.with_run(|run| run.series(&name, &context(phase)))?;
        let handle = Bound::new(key.py(), SeriesHandle { series: ProcessBound::new(series) })?;
        cache.set_item(key, &handle)?;
        Ok(handle)
    }

    /// Reads a (nested) metric dict into `out`, checking every value before anything is sent.
    fn collect<'py>(
        &self,
        cache: &Bound<'py, PyDict>,
        data: &Bound<'py, PyDict>,
        prefix: Option<&str>,
        phase: Option<&str>,
        out: &mut Vec<(Bound<'py, SeriesHandle>, f64)>,
    ) -> PyResult<()> {
        let py = data.py();
        for (key, value) in data.iter() {
            let key = values::metric_key(&key)?;
            let key = match prefix {
                None => key.clone(),
                Some(prefix) => PyString::new(py, &format!("{prefix}/{}", key.to_cow()?)),
            };
            if let Ok(nested) = value.cast::<PyDict>() {
                let prefix = key.to_cow()?.into_owned();
                self.collect(cache, nested, Some(&prefix), phase, out)?;
                continue;
            }
            let number = metric_value(&value, &KeyName(&key))?;
            out.push((self.series(cache, &key, phase)?, number));
        }
        Ok(())
    }

    fn end(&self, py: Python<'_>, how: End) -> PyResult<()> {
        self.native.get("run")?;
        if self.ended.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        let native = self.native.get("run")?;
        let monitor = native.monitor.lock().unwrap_or_else(|e| e.into_inner()).take();
        py.detach(move || drop(monitor));
        let run = native.run.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(run) = run {
            match how {
                End::Completed => run.finish(),
                End::Failed(message) => run.fail(&message),
                End::Killed(reason) => run.kill(&reason),
            }
        }
        let rec = self.recorder.get().native()?.clone();
        py.detach(move || rec.flush()).map_err(error::recording)
    }
}

enum End {
    Completed,
    Failed(String),
    Killed(String),
}

/// A metric key for error messages.
struct KeyName<'a, 'py>(&'a Bound<'py, PyString>);

impl std::fmt::Display for KeyName<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.to_string_lossy())
    }
}

#[pymethods]
impl Run {
    /// The run's id (a ULID).
    #[getter]
    fn id(&self) -> &str {
        &self.id
    }

    /// The run's name ("" for a run joined through RUNSTORE_RUN_ID).
    #[getter]
    fn name(&self) -> &str {
        &self.name
    }

    /// The file the run is recorded in.
    #[getter]
    fn path(&self) -> String {
        self.recorder.get().path_str().to_string()
    }

    /// Whether this run was joined (RUNSTORE_RUN_ID) rather than started here: its status is
    /// left to the process that started it.
    #[getter]
    fn attached(&self) -> bool {
        self.attached
    }

    /// Whether the run has ended (finish, fail or kill).
    #[getter]
    fn ended(&self) -> bool {
        self.ended.load(Ordering::Relaxed)
    }

    /// The step the next `log()` without `step` gets.
    #[getter(step)]
    fn next_step(&self) -> i64 {
        self.next_step.load(Ordering::Relaxed)
    }

    /// Logs metrics: `run.log({"train/loss": 0.31, "lr": 1e-3}, step=None, epoch=None,
    /// phase=None)`. Without `step`, steps count up from 0 by one per call (a given step
    /// continues from there). Nested dicts flatten with "/". Values are ints, floats (NaN and
    /// ±inf kept), numpy scalars or 0-d tensors; anything else raises `TypeError` naming the
    /// key, and then nothing of the call is logged.
    #[pyo3(signature = (data, step = None, *, epoch = None, phase = None))]
    fn log(
        &self,
        py: Python<'_>,
        data: &Bound<'_, PyDict>,
        step: Option<i64>,
        epoch: Option<u32>,
        phase: Option<&str>,
    ) -> PyResult<()> {
        self.check_open()?;
        let cache = self.phase_cache(py, phase);
        let mut values = Vec::with_capacity(data.len());
        self.collect(&cache, data, None, phase, &mut values)?;
        let step = self.take_step(step);
        let time_ms = now_ms();
        let mut waiting: Vec<(runstore::Series, Point)> = Vec::new();
        for (handle, value) in &values {
            let series = handle.get().series.get("run")?;
            let mut point = series.point(step, *value, time_ms);
            if epoch.is_some() {
                point.epoch = epoch;
            }
            if waiting.is_empty() {
                if let Err(point) = series.try_log_point(point) {
                    waiting.push((series.clone(), point));
                }
            } else {
                waiting.push((series.clone(), point));
            }
        }
        if !waiting.is_empty() {
            // The writer is behind: wait for room without holding the GIL.
            py.detach(move || waiting.into_iter().for_each(|(series, point)| series.log_point(point)));
        }
        Ok(())
    }

    /// Logs many points of one metric at once: `run.log_many("train/loss", steps, values)`
    /// with numpy arrays (read in place when int64/float64 and contiguous) or sequences;
    /// `steps=None` continues the run's step count. Handed to the writer in blocks of 4096
    /// points. Returns the number of points.
    #[pyo3(signature = (key, steps, values, *, epoch = None, phase = None))]
    fn log_many(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        steps: &Bound<'_, PyAny>,
        values: &Bound<'_, PyAny>,
        epoch: Option<u32>,
        phase: Option<&str>,
    ) -> PyResult<usize> {
        self.check_open()?;
        let key = values::metric_key(key)?;
        let values = numbers::<f64>(values, "values")?;
        let values = values.as_slice();
        let steps = if steps.is_none() { None } else { Some(numbers::<i64>(steps, "steps")?) };
        let first = match &steps {
            Some(steps) if steps.as_slice().len() != values.len() => {
                return Err(PyValueError::new_err(format!(
                    "log_many({:?}): {} steps for {} values",
                    key.to_string_lossy(),
                    steps.as_slice().len(),
                    values.len()
                )));
            }
            Some(_) => 0,
            None => self.next_step.fetch_add(values.len() as i64, Ordering::Relaxed),
        };
        if values.is_empty() {
            return Ok(0);
        }
        if let Some(steps) = &steps
            && let Some(last) = steps.as_slice().last()
        {
            self.next_step.fetch_max(last.saturating_add(1), Ordering::Relaxed);
        }
        let cache = self.phase_cache(py, phase);
        let handle = self.series(&cache, key, phase)?;
        let series = handle.get().series.get("run")?;
        let time_ms = now_ms();
        for (block, chunk) in values.chunks(BLOCK).enumerate() {
            let start = block * BLOCK;
            let points: Vec<Point> = chunk
                .iter()
                .enumerate()
                .map(|(i, &value)| {
                    let step = match &steps {
                        Some(steps) => steps.as_slice()[start + i],
                        None => first + (start + i) as i64,
                    };
                    let mut point = series.point(step, value, time_ms);
                    if epoch.is_some() {
                        point.epoch = epoch;
                    }
                    point
                })
                .collect();
            if let Err(points) = series.try_log_points(points) {
                py.detach(|| series.log_points(points));
            }
        }
        Ok(values.len())
    }

    /// Logs a metric with per-label values (the accuracy of each class, say):
    /// `run.log_labelled("val/acc", 0.91, {"cat": 0.95, "dog": 0.87}, step=None, phase=None)`.
    #[pyo3(signature = (key, total, per_label, step = None, *, phase = None))]
    fn log_labelled(
        &self,
        py: Python<'_>,
        key: &str,
        total: &Bound<'_, PyAny>,
        per_label: &Bound<'_, PyDict>,
        step: Option<i64>,
        phase: Option<&str>,
    ) -> PyResult<()> {
        self.check_open()?;
        if key.is_empty() {
            return Err(PyValueError::new_err("metric keys must not be empty"));
        }
        let total = metric_value(total, &key)?;
        let mut labels = Vec::with_capacity(per_label.len());
        for (label, value) in per_label.iter() {
            let label: String = label.str()?.to_cow()?.into_owned();
            let value = metric_value(&value, &format!("{key}[{label}]"))?;
            labels.push((label, value));
        }
        let step = self.take_step(step);
        let time_ms = now_ms();
        let mut points = Vec::with_capacity(labels.len() + 1);
        {
            let mut cache = self.native.get("run")?.labelled.lock().unwrap_or_else(|e| e.into_inner());
            for (label, value) in std::iter::once((String::new(), total)).chain(labels) {
                let id = (key.to_string(), phase.map(str::to_string), label);
                let series = match cache.get(&id) {
                    Some(series) => series.clone(),
                    None => {
                        let series = self.with_run(|run| run.series_labelled(key, &context(phase), &id.2))?;
                        cache.insert(id, series.clone());
                        series
                    }
                };
                let point = series.point(step, value, time_ms);
                points.push((series, point));
            }
        }
        py.detach(move || points.into_iter().for_each(|(series, point)| series.log_point(point)));
        Ok(())
    }

    /// Sets params: `run.log_params({"lr": 0.01, "optimizer": {"name": "adam"}})`; nested
    /// dicts flatten with "." (`optimizer.name`). Values: numbers, bools, text, or JSON-like.
    fn log_params(&self, params: &Bound<'_, PyDict>) -> PyResult<()> {
        self.check_open()?;
        let mut flat = Vec::new();
        flatten_params(params, "", &mut flat)?;
        self.with_run(|run| run.params(flat))
    }

    /// Sets tags: `run.set_tags({"team": "vision"})` (values are converted with `str()`).
    fn set_tags(&self, tags: &Bound<'_, PyDict>) -> PyResult<()> {
        let tags = values::string_pairs(Some(tags))?;
        let pairs: Vec<(&str, &str)> = tags.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        self.with_open_run(|run| run.tags(&pairs))
    }

    /// Sets the run's results summary (a JSON-like dict: final accuracy, best epoch, ...).
    fn log_results(&self, results: &Bound<'_, PyAny>) -> PyResult<()> {
        let results = values::json(results)?;
        self.with_open_run(|run| run.results(results))
    }

    /// Marks the start of an epoch: points logged from now on carry it.
    fn start_epoch(&self, epoch: u32) -> PyResult<()> {
        self.with_open_run(|run| run.start_epoch(epoch))
    }

    /// Marks the end of an epoch.
    fn end_epoch(&self, epoch: u32) -> PyResult<()> {
        self.with_open_run(|run| run.end_epoch(epoch))
    }

    /// Marks the start of a batch of the current epoch.
    fn start_batch(&self, batch: u32) -> PyResult<()> {
        self.with_open_run(|run| run.start_batch(batch))
    }

    /// Marks the end of a batch of the current epoch.
    fn end_batch(&self, batch: u32) -> PyResult<()> {
        self.with_open_run(|run| run.end_batch(batch))
    }

    /// Records an artifact: a local file (its size and SHA-256 computed natively) or a URI
    /// (`s3://...`). `epoch`/`batch` attach it to one epoch or batch. Returns its id.
    #[pyo3(signature = (path, *, name = None, kind = "file", metadata = None, epoch = None, batch = None))]
    #[allow(clippy::too_many_arguments)]
    fn log_artifact(
        &self,
        py: Python<'_>,
        path: &Bound<'_, PyAny>,
        name: Option<&str>,
        kind: &str,
        metadata: Option<&Bound<'_, PyAny>>,
        epoch: Option<u32>,
        batch: Option<u32>,
    ) -> PyResult<String> {
        self.check_open()?;
        let location: String = path.str()?.to_cow()?.into_owned();
        let is_uri = location.contains("://");
        let default_name = std::path::Path::new(&location)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| location.clone());
        let name = name.map(str::to_string).unwrap_or(default_name);
        let mut spec = if is_uri {
            ArtifactSpec::uri(&name, kind, &location)
        } else {
            ArtifactSpec::file(&name, kind, &location)
        };
        if let Some(metadata) = metadata {
            spec = spec.metadata(values::json(metadata)?);
        }
        let run = &self.native.get("run")?.run;
        py.detach(|| {
            let run = run.lock().unwrap_or_else(|e| e.into_inner());
            let Some(run) = run.as_ref() else {
                return Err(runstore::Error::WriterStopped("the run has ended".into()));
            };
            match (epoch, batch) {
                (Some(epoch), Some(batch)) => run.batch_artifact(epoch, batch, spec),
                (Some(epoch), None) => run.epoch_artifact(epoch, spec),
                (None, None) => run.artifact(spec),
                (None, Some(_)) => {
                    Err(runstore::Error::WriteFailed("an artifact of a batch needs its epoch".into()))
                }
            }
        })
        .map(|id| id.to_string())
        .map_err(error::recording)
    }

    /// Records a dataset the run reads (`role="input"`) or writes (`"output"`): a pandas or
    /// polars DataFrame (rows, columns, schema and a content hash are taken from it), and/or
    /// a `path` (a local file is hashed natively). Returns its id.
    #[pyo3(signature = (name, data = None, *, path = None, role = "input"))]
    fn log_dataset(
        &self,
        py: Python<'_>,
        name: &str,
        data: Option<&Bound<'_, PyAny>>,
        path: Option<std::path::PathBuf>,
        role: &str,
    ) -> PyResult<String> {
        self.check_open()?;
        let mut spec = match role {
            "input" => DatasetSpec::input(name),
            "output" => DatasetSpec::output(name),
            other => {
                return Err(PyValueError::new_err(format!(
                    "role must be \"input\" or \"output\", not {other:?}"
                )));
            }
        };
        if let Some(data) = data {
            let described = py.import("runstore._datasets")?.call_method1("describe", (data,))?;
            let rows: i64 = described.get_item("rows")?.extract()?;
            let columns: i64 = described.get_item("columns")?.extract()?;
            spec =
                spec.shape(rows, columns).schema(values::json(&described.get_item("schema")?)?).content_hash(
                    described.get_item("sha256")?.extract::<String>()?,
                    described.get_item("size_bytes")?.extract()?,
                );
        }
        if let Some(path) = path {
            spec = if path.is_file() { spec.file(path) } else { spec.location(path) };
        }
        let run = &self.native.get("run")?.run;
        py.detach(|| {
            let run = run.lock().unwrap_or_else(|e| e.into_inner());
            match run.as_ref() {
                Some(run) => run.dataset(spec),
                None => Err(runstore::Error::WriterStopped("the run has ended".into())),
            }
        })
        .map(|id| id.to_string())
        .map_err(error::recording)
    }

    /// Times a block as a span: `with run.time("generate", round=3) as span: ...`; keyword
    /// arguments (and `span.set(key, value)`) become its attributes.
    #[pyo3(signature = (name, **attributes))]
    fn time(slf: &Bound<'_, Self>, name: &str, attributes: Option<&Bound<'_, PyDict>>) -> PyResult<Span> {
        slf.get().check_open()?;
        let mut map = serde_json::Map::new();
        if let Some(attributes) = attributes {
            for (k, v) in attributes.iter() {
                map.insert(k.str()?.to_cow()?.into_owned(), values::json(&v)?);
            }
        }
        Ok(Span {
            run: slf.clone().unbind(),
            name: name.to_string(),
            start_ms: now_ms(),
            started: Instant::now(),
            attributes: Mutex::new(map),
            done: AtomicBool::new(false),
        })
    }

    /// Registers a version of model `name` from the file at `path`, produced by this run;
    /// returns its number. `aliases` (e.g. ["production"]) then point at it.
    #[pyo3(signature = (name, path, *, description = "", tags = None, aliases = Vec::new()))]
    fn register_model(
        &self,
        py: Python<'_>,
        name: &str,
        path: std::path::PathBuf,
        description: &str,
        tags: Option<&Bound<'_, PyDict>>,
        aliases: Vec<String>,
    ) -> PyResult<i64> {
        self.check_open()?;
        let rec = self.recorder.get().native()?.clone();
        let version = ModelFile::new(name, path, description, tags, aliases, Some(&self.id))?;
        version.register(py, rec)
    }

    /// Waits until everything logged so far is written.
    fn flush(&self, py: Python<'_>) -> PyResult<()> {
        let rec = self.recorder.get().native()?.clone();
        py.detach(move || rec.flush()).map_err(error::recording)
    }

    /// Marks the run completed and waits until everything logged is written.
    fn finish(&self, py: Python<'_>) -> PyResult<()> {
        self.end(py, End::Completed)
    }

    /// Marks the run failed with `message`, and waits until everything logged is written.
    fn fail(&self, py: Python<'_>, message: &str) -> PyResult<()> {
        self.end(py, End::Failed(message.to_string()))
    }

    /// Marks the run killed (interrupted, cancelled) with `reason`.
    #[pyo3(signature = (reason = "interrupted"))]
    fn kill(&self, py: Python<'_>, reason: &str) -> PyResult<()> {
        self.end(py, End::Killed(reason.to_string()))
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// Ends the run: completed, failed with the exception's message, or killed by Ctrl-C.
    #[pyo3(signature = (exc_type = None, exc_value = None, _traceback = None))]
    fn __exit__(
        &self,
        py: Python<'_>,
        exc_type: Option<&Bound<'_, PyType>>,
        exc_value: Option<&Bound<'_, PyAny>>,
        _traceback: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<bool> {
        let ended = match exc_type {
            None => self.end(py, End::Completed),
            Some(kind) if kind.is_subclass_of::<PyKeyboardInterrupt>()? => {
                self.end(py, End::Killed("KeyboardInterrupt".into()))
            }
            Some(kind) => self.end(py, End::Failed(describe_exception(kind, exc_value))),
        };
        match ended {
            // An exception on its way out is the one to show; a failed write only warns.
            Err(e) if exc_type.is_some() => {
                eprintln!("runstore: while ending run {}: {e}", self.id);
                Ok(false)
            }
            Err(e) => Err(e),
            Ok(()) => Ok(false),
        }
    }

    fn __repr__(&self) -> String {
        format!("<runstore.Run {} {:?}>", self.id, self.name)
    }
}

/// `ValueError: bad input` for an exception type and value.
pub fn describe_exception(kind: &Bound<'_, PyType>, value: Option<&Bound<'_, PyAny>>) -> String {
    let name = kind.qualname().map(|n| n.to_string()).unwrap_or_else(|_| "Exception".into());
    let message =
        value.and_then(|v| v.str().ok()).map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    if message.is_empty() { name } else { format!("{name}: {message}") }
}

fn flatten_params(
    dict: &Bound<'_, PyDict>,
    prefix: &str,
    out: &mut Vec<(String, runstore_core::ParamValue)>,
) -> PyResult<()> {
    for (key, value) in dict.iter() {
        let key = key.cast::<PyString>().map_err(|_| PyTypeError::new_err("param keys are str"))?.to_cow()?;
        let key = if prefix.is_empty() { key.into_owned() } else { format!("{prefix}.{key}") };
        if let Ok(nested) = value.cast::<PyDict>() {
            flatten_params(nested, &key, out)?;
        } else {
            let value = values::param_value(&value, &key)?;
            out.push((key, value));
        }
    }
    Ok(())
}

/// A timed block of a run; see `Run.time`.
#[pyclass(module = "runstore._runstore", frozen)]
pub struct Span {
    run: Py<Run>,
    name: String,
    start_ms: i64,
    started: Instant,
    attributes: Mutex<serde_json::Map<String, serde_json::Value>>,
    done: AtomicBool,
}

#[pymethods]
impl Span {
    /// Sets an attribute of the span (samples generated, memory used, ...).
    fn set(&self, key: &str, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let value = values::json(value)?;
        self.attributes.lock().unwrap_or_else(|e| e.into_inner()).insert(key.to_string(), value);
        Ok(())
    }

    /// Records the span now (done by leaving the `with` block).
    fn end(&self, py: Python<'_>) -> PyResult<()> {
        if self.done.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        let duration = self.started.elapsed().as_secs_f64() * 1000.0;
        let attributes = std::mem::take(&mut *self.attributes.lock().unwrap_or_else(|e| e.into_inner()));
        let run = self.run.bind(py).get();
        run.with_run(|run| {
            run.span(&self.name, self.start_ms, duration, serde_json::Value::Object(attributes))
        })
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (exc_type = None, exc_value = None, _traceback = None))]
    fn __exit__(
        &self,
        py: Python<'_>,
        exc_type: Option<&Bound<'_, PyType>>,
        exc_value: Option<&Bound<'_, PyAny>>,
        _traceback: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<bool> {
        if let Some(kind) = exc_type {
            let error = describe_exception(kind, exc_value);
            self.attributes.lock().unwrap_or_else(|e| e.into_inner()).insert("error".into(), error.into());
        }
        self.end(py)?;
        Ok(false)
    }
}
