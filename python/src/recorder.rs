//! `runstore._runstore.Recorder`: one file, one writer thread, shared by every run of this
//! process that records into that file.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use pyo3::prelude::*;
use pyo3::types::PyDict;
use runstore::{NewModelVersion, RecorderGuard, RecorderOptions};

use crate::environment::Provenance;
use crate::error;
use crate::fork::{self, ProcessBound};
use crate::run::Run;
use crate::values;

static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// The writer of one runstore file. Made by `runstore.init`; most code never sees it.
#[pyclass(module = "runstore._runstore", frozen)]
pub struct Recorder {
    id: u64,
    path: String,
    recorder: ProcessBound<runstore::Recorder>,
    guard: ProcessBound<Mutex<Option<RecorderGuard>>>,
}

/// A model version to register from a file (`register_model` of a recorder or a run).
pub(crate) struct ModelFile {
    name: String,
    path: std::path::PathBuf,
    description: String,
    tags: Vec<(String, String)>,
    aliases: Vec<String>,
    source_run: Option<runstore_core::Id>,
}

impl ModelFile {
    pub(crate) fn new(
        name: &str,
        path: std::path::PathBuf,
        description: &str,
        tags: Option<&Bound<'_, PyDict>>,
        aliases: Vec<String>,
        source_run: Option<&str>,
    ) -> PyResult<ModelFile> {
        let source_run = source_run
            .map(str::parse::<runstore_core::Id>)
            .transpose()
            .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
        Ok(ModelFile {
            name: name.to_string(),
            path,
            description: description.to_string(),
            tags: values::string_pairs(tags)?,
            aliases,
            source_run,
        })
    }

    /// Hashes the file and registers the version (GIL released), then points the aliases at
    /// it; returns the version's number.
    pub(crate) fn register(self, py: Python<'_>, rec: runstore::Recorder) -> PyResult<i64> {
        py.detach(move || -> runstore::Result<i64> {
            let mut version = NewModelVersion::from_file(&self.name, &self.path)?;
            version.description = self.description;
            version.tags = self.tags;
            version.source_run = self.source_run;
            let number = rec.register_model_version(version)?;
            for alias in &self.aliases {
                rec.set_model_alias(&self.name, alias, number)?;
            }
            Ok(number)
        })
        .map_err(error::recording)
    }
}

impl Recorder {
    pub(crate) fn native(&self) -> PyResult<&runstore::Recorder> {
        self.recorder.get("recorder")
    }

    pub(crate) fn path_str(&self) -> &str {
        &self.path
    }
}

#[pymethods]
impl Recorder {
    /// Opens (creating and migrating) the runstore file at `path` and starts its writer
    /// thread. `flush_interval` (seconds, default 0.5) bounds how long a logged point waits
    /// before it is written.
    #[new]
    #[pyo3(signature = (path, *, flush_interval = 0.5))]
    fn new(py: Python<'_>, path: std::path::PathBuf, flush_interval: f64) -> PyResult<Recorder> {
        let interval = Duration::try_from_secs_f64(flush_interval).map_err(|_| {
            pyo3::exceptions::PyValueError::new_err("flush_interval must be a non-negative number of seconds")
        })?;
        let options = RecorderOptions::file(&path)
            .flush_interval(interval)
            .capture_environment(false)
            .capture_code(false);
        let (recorder, guard) = py
            .detach(|| runstore::Recorder::with_options(options))
            .map_err(|e| error::RunstoreError::new_err(format!("{}: {e}", path.display())))?;
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        fork::register(id, recorder.clone());
        Ok(Recorder {
            id,
            path: path.display().to_string(),
            recorder: ProcessBound::new(recorder),
            guard: ProcessBound::new(Mutex::new(Some(guard))),
        })
    }

    /// The file this recorder writes.
    #[getter]
    fn path(&self) -> &str {
        &self.path
    }

    /// Whether this recorder was made in this process (not inherited through a fork) and is
    /// still open.
    #[getter]
    fn usable(&self) -> bool {
        self.recorder.is_home()
            && self
                .guard
                .get("recorder")
                .map(|g| g.lock().map(|g| g.is_some()).unwrap_or(false))
                .unwrap_or(false)
    }

    /// Starts a run in experiment `experiment` (and trial `trial`), capturing provenance.
    #[pyo3(signature = (experiment, name, *, trial = None, provenance = None, monitor_interval = None))]
    fn start_run(
        slf: &Bound<'_, Self>,
        experiment: &str,
        name: &str,
        trial: Option<&str>,
        provenance: Option<&Bound<'_, PyDict>>,
        monitor_interval: Option<f64>,
    ) -> PyResult<Run> {
        let py = slf.py();
        let rec = slf.get().native()?.clone();
        let provenance = provenance.map(Provenance::from_py).transpose()?;
        let (experiment, trial, name_owned) =
            (experiment.to_string(), trial.map(str::to_string), name.to_string());
        let native = py
            .detach(move || -> runstore::Result<runstore::Run> {
                let experiment = rec.experiment(&experiment)?;
                Ok(match trial {
                    Some(trial) => experiment.trial(&trial)?.start_run(&name_owned),
                    None => experiment.start_run(&name_owned),
                })
            })
            .map_err(error::recording)?;
        if let Some(provenance) = provenance {
            provenance.record(&native);
        }
        Run::new(slf.clone().unbind(), slf.get().native()?, native, name.to_string(), false, monitor_interval)
    }

    /// A handle on the run `run_id` that another process created and owns (`runstore record`
    /// names it in RUNSTORE_RUN_ID): it logs into the run and leaves its status to its owner.
    #[pyo3(signature = (run_id, *, monitor_interval = None))]
    fn attach_run(slf: &Bound<'_, Self>, run_id: &str, monitor_interval: Option<f64>) -> PyResult<Run> {
        let rec = slf.get().native()?;
        let id = run_id
            .parse::<runstore_core::Id>()
            .map_err(|e| pyo3::exceptions::PyValueError::new_err(format!("run id {run_id:?}: {e}")))?;
        let native = rec.attach_run(id);
        Run::new(slf.clone().unbind(), rec, native, String::new(), true, monitor_interval)
    }

    /// Waits until everything logged so far is written. Raises `RunstoreError` when earlier
    /// events were refused or could not be written.
    fn flush(&self, py: Python<'_>) -> PyResult<()> {
        let rec = self.native()?.clone();
        py.detach(move || rec.flush()).map_err(error::recording)
    }

    /// Writes what is queued, stops the writer thread and releases the file. Raises
    /// `RunstoreError` when anything could not be written. Closing twice does nothing.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let guard = self.guard.get("recorder")?.lock().unwrap_or_else(|e| e.into_inner()).take();
        fork::unregister(self.id);
        match guard {
            Some(guard) => py.detach(move || guard.finish()).map_err(error::recording),
            None => Ok(()),
        }
    }

    /// Counters of what did not reach the file: `dropped`, `refused`, `lost`, and the recent
    /// `errors`.
    fn health<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let rec = self.native()?;
        let out = PyDict::new(py);
        out.set_item("dropped", rec.dropped())?;
        out.set_item("refused", rec.refused())?;
        out.set_item("lost", rec.lost())?;
        out.set_item("errors", rec.errors())?;
        Ok(out)
    }

    /// Registers a new version of model `name` from the file at `path` (size and SHA-256 read
    /// natively) and returns its number (1, 2, ...); `aliases` then point at it.
    #[pyo3(signature = (name, path, *, description = "", tags = None, aliases = Vec::new(), source_run = None))]
    #[allow(clippy::too_many_arguments)]
    fn register_model(
        &self,
        py: Python<'_>,
        name: &str,
        path: std::path::PathBuf,
        description: &str,
        tags: Option<&Bound<'_, PyDict>>,
        aliases: Vec<String>,
        source_run: Option<&str>,
    ) -> PyResult<i64> {
        let version = ModelFile::new(name, path, description, tags, aliases, source_run)?;
        version.register(py, self.native()?.clone())
    }

    /// Points `alias` (e.g. "production") of model `name` at `version`.
    fn set_model_alias(&self, py: Python<'_>, name: &str, alias: &str, version: i64) -> PyResult<()> {
        let rec = self.native()?.clone();
        let (name, alias) = (name.to_string(), alias.to_string());
        py.detach(move || rec.set_model_alias(&name, &alias, version)).map_err(error::recording)
    }

    /// Sets tags on model `name` (created if new).
    fn tag_model(&self, py: Python<'_>, name: &str, tags: &Bound<'_, PyDict>) -> PyResult<()> {
        let rec = self.native()?.clone();
        let tags = values::string_pairs(Some(tags))?;
        let name = name.to_string();
        py.detach(move || -> runstore::Result<()> {
            let id = rec.model(&name, "")?;
            let pairs: Vec<(&str, &str)> = tags.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            rec.tag_model(&id, &pairs);
            Ok(())
        })
        .map_err(error::recording)
    }

    fn __repr__(&self) -> String {
        format!("<runstore.Recorder {:?}>", self.path)
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        if self.recorder.is_home() {
            fork::unregister(self.id);
        }
    }
}
