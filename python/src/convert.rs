//! runstore's read results as Python objects. Floats stay floats (NaN and ±inf included):
//! the JSON forms the CLI and the page use spell them as strings, which Python must not see.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use runstore_core::ParamValue;
use runstore_core::analysis::Direction;
use runstore_core::read::{RunInfo, SeriesSummary};

/// A serde value as Python objects (for records without non-finite floats).
pub fn serde<'py>(py: Python<'py>, value: &impl serde::Serialize) -> PyResult<Bound<'py, PyAny>> {
    Ok(pythonize::pythonize(py, value)?)
}

/// A param value: int, float, bool, str, or the JSON value.
pub fn param<'py>(py: Python<'py>, value: &ParamValue) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        ParamValue::Int(i) => i.into_pyobject(py)?.into_any(),
        ParamValue::Float(f) => f.into_pyobject(py)?.into_any(),
        ParamValue::Bool(b) => b.into_pyobject(py)?.to_owned().into_any(),
        ParamValue::Str(s) => s.into_pyobject(py)?.into_any(),
        ParamValue::Json(j) => serde(py, j)?,
    })
}

/// A run's state (with crashed runs detected) as its lowercase name.
fn state_name(value: &impl serde::Serialize) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

/// A metric summary: key, context, label, count, nan_count, steps, times and the float
/// aggregates (last, min, max, mean, sum).
pub fn summary<'py>(py: Python<'py>, s: &SeriesSummary) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("series_id", s.series_id)?;
    d.set_item("run_id", &s.run_id)?;
    d.set_item("key", &s.key)?;
    d.set_item("context", &s.context)?;
    d.set_item("phase", s.context.get("phase"))?;
    d.set_item("label", &s.label)?;
    d.set_item("count", s.count)?;
    d.set_item("nan_count", s.nan_count)?;
    d.set_item("first_step", s.first_step)?;
    d.set_item("last_step", s.last_step)?;
    d.set_item("first_ms", s.first_ms)?;
    d.set_item("last_ms", s.last_ms)?;
    d.set_item("last", s.last)?;
    d.set_item("min", s.min)?;
    d.set_item("max", s.max)?;
    d.set_item("mean", s.mean)?;
    d.set_item("sum", s.sum)?;
    d.set_item("direction", serde(py, &Direction::guess(&s.key))?)?;
    Ok(d)
}

/// A run: its attributes, params, tags, results and (when loaded) metric summaries.
pub fn run<'py>(py: Python<'py>, r: &RunInfo) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("id", &r.id)?;
    d.set_item("name", &r.name)?;
    d.set_item("experiment_id", &r.experiment_id)?;
    d.set_item("experiment", &r.experiment)?;
    d.set_item("trial_id", &r.trial_id)?;
    d.set_item("trial", &r.trial)?;
    d.set_item("status", state_name(&r.status))?;
    d.set_item("state", state_name(&r.state))?;
    d.set_item("created_ms", r.created_ms)?;
    d.set_item("started_ms", r.started_ms)?;
    d.set_item("ended_ms", r.ended_ms)?;
    d.set_item("heartbeat_ms", r.heartbeat_ms)?;
    d.set_item("duration_ms", r.duration_ms)?;
    d.set_item("host", &r.host)?;
    d.set_item("pid", r.pid)?;
    d.set_item("error", &r.error)?;
    d.set_item("results", r.results.as_ref().map(|j| serde(py, j)).transpose()?)?;
    let params = PyDict::new(py);
    for (k, v) in &r.params {
        params.set_item(k, param(py, v)?)?;
    }
    d.set_item("params", params)?;
    d.set_item("tags", &r.tags)?;
    let metrics = PyList::empty(py);
    for m in &r.metrics {
        metrics.append(summary(py, m)?)?;
    }
    d.set_item("metrics", metrics)?;
    Ok(d)
}
