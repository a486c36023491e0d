//! Importing what other trackers recorded. Each source has its own reader, in its own file,
//! that reads the real format into [`ImportedRun`]s; [`write_runs`] writes them through the one
//! write path ([`runstore_core::BatchWriter`]) in a single transaction, so a failed import
//! leaves nothing half-written, and skips runs imported before: a run's source id is kept in
//! its `import.source_id` tag, so importing the same source twice adds nothing.
//!
//! ```
//! use runstore::import::{wandb_csv, write_runs};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let csv = "Step,bright-sun-1 - loss,bright-sun-1 - loss__MIN\n0,1.5,1.5\n1,0.75,0.7\n";
//! let read = wandb_csv::read(csv.as_bytes(), "export.csv", "wandb", 0)?;
//! let mut store = runstore::Store::open_in_memory(0)?;
//! let report = write_runs(&mut store, &[], read.runs, 0)?;
//! assert_eq!((report.runs_added, report.points), (1, 2));
//! assert_eq!(read.skipped.len(), 1); // the __MIN companion, derived from `loss`
//! # Ok(()) }
//! ```

pub mod mlflow;
pub mod tensorboard;
pub mod wandb_csv;

use runstore_core::event::{Owner, RunRecord};
use std::collections::HashMap;

use runstore_core::{BatchWriter, Context, Event, Id, ParamValue, Point, RunStatus, SeriesKey, Store};
use serde::Serialize;

use crate::{Error, Result, new_id};

/// A run read from another tracker, ready to write.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedRun {
    /// Where it came from, unique among the runs of its kind of source (a file's SHA-256 and
    /// the run's name, a tracker's run id): kept in the run's `import.source_id` tag.
    pub source_id: String,
    /// The kind of source, kept in the `import.source` tag (`wandb-csv`, ...).
    pub source: &'static str,
    /// The experiment it goes into (by name; created if missing).
    pub experiment: String,
    /// Run name.
    pub name: String,
    /// Final status.
    pub status: RunStatus,
    /// Start, Unix ms.
    pub started_ms: i64,
    /// End, Unix ms (`None`: the run had not ended).
    pub ended_ms: Option<i64>,
    /// Params.
    pub params: Vec<(String, ParamValue)>,
    /// Tags (the `import.*` tags are added).
    pub tags: Vec<(String, String)>,
    /// Metric series with their points.
    pub series: Vec<ImportedSeries>,
}

/// One metric series of an imported run.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedSeries {
    /// Metric key.
    pub key: String,
    /// Context (phase and labels).
    pub context: Context,
    /// Points in the order read (NaN and ±Inf kept).
    pub points: Vec<Point>,
}

/// An experiment's own data from another tracker.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedExperiment {
    /// Name (experiments unify by name).
    pub name: String,
    /// Tags.
    pub tags: Vec<(String, String)>,
}

/// Something a reader left out, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// What: `column "loss__MIN" of a.csv`, `12 cells of column "note" of a.csv`.
    pub what: String,
    /// Why.
    pub why: String,
}

/// What [`write_runs`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// Runs written.
    pub runs_added: usize,
    /// Runs left out because an earlier import wrote them (same source id).
    pub runs_present: usize,
    /// Metric series written.
    pub series: usize,
    /// Points written.
    pub points: u64,
}

/// Writes `runs` (and the tags of `experiments`) in one transaction; each run goes into the
/// experiment it names, created if missing; runs whose source id an earlier import wrote are
/// left out. `now_ms` stamps experiments that are new.
pub fn write_runs(
    store: &mut Store,
    experiments: &[ImportedExperiment],
    runs: Vec<ImportedRun>,
    now_ms: i64,
) -> Result<ImportReport> {
    let mut report = ImportReport::default();
    let mut events = Vec::new();
    let mut experiment_ids: HashMap<String, Id> = HashMap::new();
    let mut experiment_id = |store: &Store, events: &mut Vec<Event>, name: &str| -> Result<Id> {
        if let Some(id) = experiment_ids.get(name) {
            return Ok(id.clone());
        }
        let id = match store.experiment(name) {
            Ok(found) => found.id.parse()?,
            Err(runstore_core::Error::NotFound { .. }) => new_id(),
            Err(e) => return Err(e.into()),
        };
        events.push(Event::Experiment {
            id: id.clone(),
            name: name.into(),
            description: String::new(),
            time_ms: now_ms,
        });
        experiment_ids.insert(name.to_owned(), id.clone());
        Ok(id)
    };
    let mut handle = 0;
    for run in runs {
        if imported_before(store, &run.source_id)? {
            report.runs_present += 1;
            continue;
        }
        let experiment_id = experiment_id(store, &mut events, &run.experiment)?;
        let id = new_id();
        events.push(Event::Run(Box::new(RunRecord {
            id: id.clone(),
            experiment_id: experiment_id.clone(),
            trial_id: None,
            name: run.name,
            status: RunStatus::Running,
            host: None,
            pid: None,
            heartbeat_interval_ms: None,
            time_ms: run.started_ms,
        })));
        if !run.params.is_empty() {
            events.push(Event::Params { owner: Owner::Run(id.clone()), params: run.params });
        }
        let mut tags = run.tags;
        tags.push(("import.source".into(), run.source.into()));
        tags.push(("import.source_id".into(), run.source_id));
        events.push(Event::Tags { owner: Owner::Run(id.clone()), tags });
        for series in run.series {
            handle += 1;
            report.series += 1;
            report.points += series.points.len() as u64;
            events.push(Event::Series {
                handle,
                series: SeriesKey {
                    run_id: id.clone(),
                    key: series.key,
                    context: series.context.to_json(),
                    label: String::new(),
                },
            });
            events.extend(series.points.into_iter().map(|point| Event::Point { handle, point }));
        }
        if run.status != RunStatus::Running {
            events.push(Event::RunStatus {
                run_id: id,
                status: run.status,
                error: None,
                time_ms: run.ended_ms.unwrap_or(run.started_ms),
            });
        }
        report.runs_added += 1;
    }
    for experiment in experiments.iter().filter(|e| !e.tags.is_empty()) {
        let id = experiment_id(store, &mut events, &experiment.name)?;
        events.push(Event::Tags { owner: Owner::Experiment(id), tags: experiment.tags.clone() });
    }
    BatchWriter::new()
        .write(store, &events)?
        .all_written()
        .map_err(|e| Error::Import(format!("writing: {e}")))?;
    Ok(report)
}

/// Whether a run with this source id is in the store already.
fn imported_before(store: &Store, source_id: &str) -> Result<bool> {
    let found = store
        .conn()
        .prepare_cached(
            "SELECT 1 FROM tags WHERE owner_kind = 'run' AND key = 'import.source_id' AND value = ?1 LIMIT 1",
        )
        .and_then(|mut stmt| stmt.exists([source_id]))
        .map_err(runstore_core::Error::from)?;
    Ok(found)
}
