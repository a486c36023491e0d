//! `runstore._runstore.Store`: a runstore file opened for reading. The DataFrames are built
//! in Python (`runstore._frames`) from what this returns.

use std::sync::Mutex;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList};
use runstore_core::analysis::{Band, GroupRequest, Smoothing};
use runstore_core::{Context, RunQuery};

use crate::convert;
use crate::error;

/// A runstore file opened read-only. Readers never block writers (WAL): a file being recorded
/// can be read at any time.
#[pyclass(module = "runstore._runstore", frozen)]
pub struct Store {
    // rusqlite connections are Send but not Sync; reads are serialised (and hold the GIL, so a
    // fork never copies SQLite's locks mid-read).
    store: Mutex<runstore_core::Store>,
    path: String,
}

impl Store {
    fn read<T>(&self, f: impl FnOnce(&runstore_core::Store) -> runstore_core::Result<T>) -> PyResult<T> {
        let store = self.store.lock().unwrap_or_else(|e| e.into_inner());
        f(&store).map_err(error::store)
    }
}

/// Steps, values and times of a series as native-endian int64/float64/int64 bytes.
type PointColumns<'py> = (Bound<'py, PyBytes>, Bound<'py, PyBytes>, Bound<'py, PyBytes>);

fn context(context: Option<&Bound<'_, PyAny>>) -> PyResult<Context> {
    let Some(context) = context.filter(|c| !c.is_none()) else { return Ok(Context::none()) };
    if let Ok(phase) = context.extract::<String>() {
        return Ok(Context::phase(phase));
    }
    let labels: std::collections::BTreeMap<String, String> = context
        .extract()
        .map_err(|_| PyValueError::new_err("context is a phase name or a {str: str} dict"))?;
    Ok(labels.into_iter().fold(Context::none(), |c, (k, v)| c.with(k, v)))
}

#[pymethods]
impl Store {
    /// Opens the runstore file at `path` for reading.
    #[new]
    fn new(path: std::path::PathBuf) -> PyResult<Store> {
        if !path.is_file() {
            return Err(error::RunstoreError::new_err(format!("{}: no such file", path.display())));
        }
        let store = runstore_core::Store::open_read_only(&path)
            .map_err(|e| error::RunstoreError::new_err(format!("{}: {e}", path.display())))?;
        Ok(Store { store: Mutex::new(store), path: path.display().to_string() })
    }

    /// The file.
    #[getter]
    fn path(&self) -> &str {
        &self.path
    }

    /// Runs as dicts (attributes, params, tags, results, metric summaries), filtered with
    /// runstore's filter language and sorted as `runstore runs` does.
    #[pyo3(signature = (*, filter = None, sort = None, experiment = None, limit = None))]
    fn runs<'py>(
        &self,
        py: Python<'py>,
        filter: Option<String>,
        sort: Option<String>,
        experiment: Option<String>,
        limit: Option<usize>,
    ) -> PyResult<Bound<'py, PyList>> {
        let query = RunQuery {
            experiment,
            filter,
            sort,
            limit,
            now_ms: Some(runstore::now_ms()),
            with_metrics: true,
            ..Default::default()
        };
        let runs = self.read(|s| s.runs(&query))?;
        let out = PyList::empty(py);
        for run in &runs {
            out.append(convert::run(py, run)?)?;
        }
        Ok(out)
    }

    /// One run by id or unique name.
    fn run<'py>(&self, py: Python<'py>, id_or_name: &str) -> PyResult<Bound<'py, PyDict>> {
        let mut run = self.read(|s| s.run(id_or_name, Some(runstore::now_ms())))?;
        run.metrics = self.read(|s| s.series_summaries(&run.id))?;
        convert::run(py, &run)
    }

    /// Every point of the series (run, key, context, label) as three native-endian byte
    /// strings: steps (int64), values (float64), times (int64 Unix ms); `None` when the run
    /// has no such series.
    #[pyo3(signature = (run, key, context = None, label = ""))]
    fn points<'py>(
        &self,
        py: Python<'py>,
        run: &str,
        key: &str,
        context: Option<&Bound<'py, PyAny>>,
        label: &str,
    ) -> PyResult<Option<PointColumns<'py>>> {
        let context = self::context(context)?;
        let points = self.read(|s| {
            let run = s.run(run, None)?;
            match s.find_series(&run.id, key, &context, label)? {
                Some(id) => s.series_points(id).map(Some),
                None => Ok(None),
            }
        })?;
        let Some(points) = points else { return Ok(None) };
        let mut steps = Vec::with_capacity(points.len() * 8);
        let mut values = Vec::with_capacity(points.len() * 8);
        let mut times = Vec::with_capacity(points.len() * 8);
        for p in &points {
            steps.extend_from_slice(&p.step.to_ne_bytes());
            values.extend_from_slice(&p.value.to_ne_bytes());
            times.extend_from_slice(&p.time_ms.to_ne_bytes());
        }
        Ok(Some((PyBytes::new(py, &steps), PyBytes::new(py, &values), PyBytes::new(py, &times))))
    }

    /// Summaries of every series of a run.
    fn series_summaries<'py>(&self, py: Python<'py>, run: &str) -> PyResult<Bound<'py, PyList>> {
        let summaries = self.read(|s| {
            let run = s.run(run, None)?;
            s.series_summaries(&run.id)
        })?;
        let out = PyList::empty(py);
        for summary in &summaries {
            out.append(convert::summary(py, summary)?)?;
        }
        Ok(out)
    }

    /// Runs side by side: `{"runs": [...], "differing": {param: [values]}, "same": {...},
    /// "metrics": [{"key", "context", "label", "direction", "summaries", "best"}]}`.
    fn compare<'py>(&self, py: Python<'py>, runs: Vec<String>) -> PyResult<Bound<'py, PyDict>> {
        let refs: Vec<&str> = runs.iter().map(String::as_str).collect();
        let comparison = self.read(|s| s.compare(&refs, Some(runstore::now_ms())))?;
        let out = PyDict::new(py);
        let list = PyList::empty(py);
        for run in &comparison.runs {
            list.append(convert::run(py, run)?)?;
        }
        out.set_item("runs", list)?;
        let differing = PyDict::new(py);
        for (key, values) in &comparison.differing {
            let row = PyList::empty(py);
            for value in values {
                row.append(value.as_ref().map(|v| convert::param(py, v)).transpose()?)?;
            }
            differing.set_item(key, row)?;
        }
        out.set_item("differing", differing)?;
        let same = PyDict::new(py);
        for (key, value) in &comparison.same {
            same.set_item(key, convert::param(py, value)?)?;
        }
        out.set_item("same", same)?;
        let metrics = PyList::empty(py);
        for row in &comparison.metrics {
            let d = PyDict::new(py);
            d.set_item("key", &row.key)?;
            d.set_item("context", &row.context)?;
            d.set_item("label", &row.label)?;
            d.set_item("direction", convert::serde(py, &row.direction)?)?;
            let summaries = PyList::empty(py);
            for summary in &row.summaries {
                summaries.append(summary.as_ref().map(|s| convert::summary(py, s)).transpose()?)?;
            }
            d.set_item("summaries", summaries)?;
            d.set_item("best", row.best)?;
            metrics.append(d)?;
        }
        out.set_item("metrics", metrics)?;
        Ok(out)
    }

    /// Runs grouped by params (all seeds of one learning rate): per group, the mean of a
    /// metric over its members with a band (`"std"`, `"std_err"` or `"min_max"`).
    #[pyo3(signature = (metric, group_by, *, filter = None, band = "std", budget = 1000))]
    fn group<'py>(
        &self,
        py: Python<'py>,
        metric: String,
        group_by: Vec<String>,
        filter: Option<String>,
        band: &str,
        budget: usize,
    ) -> PyResult<Bound<'py, PyList>> {
        let band = match band {
            "std" => Band::Std,
            "std_err" => Band::StdErr,
            "min_max" => Band::MinMax,
            other => {
                return Err(PyValueError::new_err(format!("band is std, std_err or min_max, not {other:?}")));
            }
        };
        let request = GroupRequest { filter, group_by, metric, context: None, budget, band };
        let groups = self.read(|s| s.group(&request))?;
        let out = PyList::empty(py);
        for g in &groups {
            let d = PyDict::new(py);
            let key = PyDict::new(py);
            for (k, v) in &g.key {
                key.set_item(k, v.as_ref().map(|v| convert::param(py, v)).transpose()?)?;
            }
            d.set_item("key", key)?;
            d.set_item("members", &g.members)?;
            d.set_item("x", &g.x)?;
            d.set_item("mean", &g.mean)?;
            d.set_item("lower", &g.lower)?;
            d.set_item("upper", &g.upper)?;
            d.set_item("count", &g.count)?;
            out.append(d)?;
        }
        Ok(out)
    }

    /// The file's overview, as `runstore summary --format json` gives it: stats, resources,
    /// spans, span rounds and metrics.
    fn summary<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let out = PyDict::new(py);
        out.set_item("stats", convert::serde(py, &self.read(|s| s.stats())?)?)?;
        out.set_item("resources", convert::serde(py, &self.read(|s| s.resource_stats())?)?)?;
        out.set_item("spans", convert::serde(py, &self.read(|s| s.span_stats())?)?)?;
        out.set_item("span_rounds", convert::serde(py, &self.read(|s| s.span_rounds())?)?)?;
        let metrics = PyList::empty(py);
        for m in self.read(|s| s.metrics_overview())? {
            let d = PyDict::new(py);
            d.set_item("key", &m.key)?;
            d.set_item("runs", m.runs)?;
            d.set_item("points", m.points)?;
            d.set_item("nan_points", m.nan_points)?;
            d.set_item("runs_ending_nan", m.runs_ending_nan)?;
            d.set_item("direction", convert::serde(py, &m.direction)?)?;
            d.set_item("best_last", m.best_last)?;
            d.set_item("worst_last", m.worst_last)?;
            metrics.append(d)?;
        }
        out.set_item("metrics", metrics)?;
        Ok(out)
    }

    /// Experiments with their trial and run counts.
    fn experiments<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::serde(py, &self.read(|s| s.experiments())?)
    }

    /// Artifacts of a run (files, checkpoints, plots), with sizes and hashes.
    fn artifacts<'py>(&self, py: Python<'py>, run: &str) -> PyResult<Bound<'py, PyAny>> {
        convert::serde(py, &self.read(|s| s.run_artifacts(&s.run(run, None)?.id))?)
    }

    /// Datasets a run read or wrote.
    fn datasets<'py>(&self, py: Python<'py>, run: &str) -> PyResult<Bound<'py, PyAny>> {
        convert::serde(py, &self.read(|s| s.datasets(&s.run(run, None)?.id))?)
    }

    /// The environment a run ran in (OS, host, CPU, GPUs, runtimes, packages), or None.
    fn environment<'py>(&self, py: Python<'py>, run: &str) -> PyResult<Bound<'py, PyAny>> {
        convert::serde(py, &self.read(|s| s.environment(&s.run(run, None)?.id))?)
    }

    /// The code a run executed (git commit, branch, dirty flag, entry point), or None.
    fn code<'py>(&self, py: Python<'py>, run: &str) -> PyResult<Bound<'py, PyAny>> {
        convert::serde(py, &self.read(|s| s.code(&s.run(run, None)?.id))?)
    }

    /// Spans of a run (or of every run), optionally only those named `name`.
    #[pyo3(signature = (run = None, name = None))]
    fn spans<'py>(
        &self,
        py: Python<'py>,
        run: Option<&str>,
        name: Option<&str>,
    ) -> PyResult<Bound<'py, PyAny>> {
        convert::serde(
            py,
            &self.read(|s| {
                let id = run.map(|r| s.run(r, None).map(|r| r.id)).transpose()?;
                s.spans(id.as_deref(), name)
            })?,
        )
    }

    /// Registered models with their versions, aliases and tags.
    fn models<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::serde(py, &self.read(|s| s.models())?)
    }

    /// Versions of model `name`.
    fn model_versions<'py>(&self, py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyAny>> {
        convert::serde(py, &self.read(|s| s.model_versions(name))?)
    }

    /// The version of model `name` that `alias` points at.
    fn model_version<'py>(&self, py: Python<'py>, name: &str, alias: &str) -> PyResult<Bound<'py, PyAny>> {
        convert::serde(py, &self.read(|s| s.model_version_by_alias(name, alias))?)
    }

    fn __repr__(&self) -> String {
        format!("<runstore.Store {:?}>", self.path)
    }
}

/// Smooths `y` (at positions `x`) as TensorBoard (`"ema"`), W&B (`"time_weighted_ema"`) or
/// a running average (`"running_average"`, `window` points) do; NaN and inf pass through.
#[pyfunction]
#[pyo3(signature = (x, y, how = "ema", weight = 0.6, window = 10))]
pub fn smooth(x: Vec<f64>, y: Vec<f64>, how: &str, weight: f64, window: usize) -> PyResult<Vec<f64>> {
    if x.len() != y.len() {
        return Err(PyValueError::new_err(format!("smooth: {} x values for {} y values", x.len(), y.len())));
    }
    let how = match how {
        "none" => Smoothing::None,
        "ema" => Smoothing::Ema { weight },
        "time_weighted_ema" => Smoothing::TimeWeightedEma { weight },
        "running_average" => Smoothing::RunningAverage { window },
        other => {
            return Err(PyValueError::new_err(format!(
                "smoothing is none, ema, time_weighted_ema or running_average, not {other:?}"
            )));
        }
    };
    Ok(runstore_core::analysis::smooth(&x, &y, how))
}
