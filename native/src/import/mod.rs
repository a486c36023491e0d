//! Importing what other trackers recorded. Each source has its own reader, in its own file,
//! that reads the real format into an [`Import`] (runs, experiments, registered models);
//! [`write()`] writes it through the one write path ([`runstore_core::BatchWriter`]) in a single
//! transaction, so a failed import leaves nothing half-written, and skips what was imported
//! before: a run's (and a model version's) source id is kept in its `import.source_id` tag, so
//! importing the same source twice adds nothing.
//!
//! ```
//! use runstore::import::{Import, wandb_csv, write};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let csv = "Step,bright-sun-1 - loss,bright-sun-1 - loss__MIN\n0,1.5,1.5\n1,0.75,0.7\n";
//! let read = wandb_csv::read(csv.as_bytes(), "export.csv", "wandb", 0)?;
//! let mut store = runstore::Store::open_in_memory(0)?;
//! let report = write(&mut store, Import { runs: read.runs, ..Import::default() }, 0)?;
//! assert_eq!((report.runs_added, report.points), (1, 2));
//! assert_eq!(read.skipped.len(), 1); // the __MIN companion, derived from `loss`
//! # Ok(()) }
//! ```

pub mod mlflow;
pub mod tensorboard;
pub mod trackio;
pub mod wandb_csv;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use runstore_core::event::{ArtifactOwner, ArtifactRecord, ModelVersionRecord, Owner, RunRecord};
use runstore_core::{BatchWriter, Context, Event, Id, ParamValue, Point, RunStatus, SeriesKey, Store};
use rusqlite::OptionalExtension as _;
use serde::Serialize;

use crate::{Error, Result, new_id};

/// Told how far a reader has got, as (done, total) in the reader's own unit (bytes of event
/// files, metric rows, runs): for a progress bar.
pub type Progress<'a> = &'a mut dyn FnMut(u64, u64);

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
    /// Files and locations the run produced.
    pub artifacts: Vec<ImportedArtifact>,
}

/// A file (or a location holding files) an imported run produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedArtifact {
    /// Path below the run's artifact location (`model/MLmodel`), or the location itself.
    pub name: String,
    /// `file` for a file read, `location` for a place not read (remote, or gone).
    pub kind: &'static str,
    /// Where it is.
    pub uri: String,
    /// Size in bytes, when read.
    pub size_bytes: Option<i64>,
    /// SHA-256 in hex, when read.
    pub sha256: Option<String>,
}

/// A registered model from another tracker's model registry.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedModel {
    /// Unique name (models unify by name).
    pub name: String,
    /// Description (kept when the model is new here).
    pub description: String,
    /// Created, Unix ms.
    pub created_ms: i64,
    /// Tags.
    pub tags: Vec<(String, String)>,
    /// Versions, oldest first.
    pub versions: Vec<ImportedModelVersion>,
    /// Aliases: name and the source's version number it points at (set when that version is
    /// imported; an alias of the same name moves to it).
    pub aliases: Vec<(String, i64)>,
}

/// One version of an [`ImportedModel`].
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedModelVersion {
    /// Unique among the source's versions (kept in the `import.source_id` tag).
    pub source_id: String,
    /// The source's version number (kept in the `import.version` tag; runstore numbers a
    /// model's versions itself, in the order they are added).
    pub version: i64,
    /// Description.
    pub description: String,
    /// Where the model is (the source's URI).
    pub storage_path: String,
    /// Size in bytes of the model's files, when they were read.
    pub size_bytes: i64,
    /// The source id of the run that produced it, when that run is imported.
    pub run_source_id: Option<String>,
    /// Tags (the `import.*` tags are added).
    pub tags: Vec<(String, String)>,
    /// Created, Unix ms.
    pub created_ms: i64,
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

/// The entries of a folder with their kinds (a link is a link: not followed), in name order.
fn entries(dir: &Path) -> Result<Vec<(PathBuf, std::fs::FileType)>> {
    let listing = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    let mut entries: Vec<(PathBuf, std::fs::FileType)> =
        listing.filter_map(|e| e.ok().and_then(|e| Some((e.path(), e.file_type().ok()?)))).collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(entries)
}

/// Everything one import writes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Import {
    /// Experiments' own data (tags); experiments runs name are created without it.
    pub experiments: Vec<ImportedExperiment>,
    /// Runs.
    pub runs: Vec<ImportedRun>,
    /// Registered models.
    pub models: Vec<ImportedModel>,
}

/// What [`write()`] did.
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
    /// Artifact records written.
    pub artifacts: usize,
    /// Model versions written.
    pub model_versions: usize,
    /// Model versions left out because an earlier import wrote them.
    pub model_versions_present: usize,
}

/// Writes `import` in one transaction; each run goes into the experiment it names, created if
/// missing; runs and model versions whose source id an earlier import wrote are left out.
/// `now_ms` stamps experiments that are new.
pub fn write(store: &mut Store, import: Import, now_ms: i64) -> Result<ImportReport> {
    // One event a point, and a few a run and series: reserved at once, not grown by copying.
    let points: usize = import.runs.iter().flat_map(|r| &r.series).map(|s| s.points.len() + 1).sum();
    let mut writer = Writer {
        store,
        now_ms,
        events: Vec::with_capacity(points + 8 * import.runs.len()),
        experiments: HashMap::new(),
        runs: HashMap::new(),
        versions: HashSet::new(),
    };
    let mut report = ImportReport::default();
    let mut handle = 0;
    for run in import.runs {
        // Written before, or earlier in this same import (a file given twice).
        if writer.runs.contains_key(&run.source_id) {
            report.runs_present += 1;
            continue;
        }
        if let Some(found) = writer.imported_before("run", &run.source_id)? {
            writer.runs.insert(run.source_id, found);
            report.runs_present += 1;
            continue;
        }
        let experiment_id = writer.experiment(&run.experiment)?;
        let id = new_id();
        writer.runs.insert(run.source_id.clone(), id.clone());
        let events = &mut writer.events;
        events.push(Event::Run(Box::new(RunRecord {
            id: id.clone(),
            experiment_id,
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
        report.artifacts += run.artifacts.len();
        events.extend(run.artifacts.into_iter().map(|a| {
            Event::Artifact(Box::new(ArtifactRecord {
                id: new_id(),
                owner: ArtifactOwner::Run(id.clone()),
                name: a.name,
                kind: a.kind.into(),
                uri: a.uri,
                size_bytes: a.size_bytes,
                sha256: a.sha256,
                metadata: None,
                time_ms: run.ended_ms.unwrap_or(run.started_ms),
            }))
        }));
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
    for experiment in import.experiments.into_iter().filter(|e| !e.tags.is_empty()) {
        let id = writer.experiment(&experiment.name)?;
        writer.events.push(Event::Tags { owner: Owner::Experiment(id), tags: experiment.tags });
    }
    for model in import.models {
        writer.model(model, &mut report)?;
    }
    let Writer { store, events, .. } = writer;
    // All or nothing: an event refused (a name that is empty, say) fails the import whole.
    BatchWriter::new().write_whole(store, &events).map_err(|e| Error::Import(format!("writing: {e}")))?;
    Ok(report)
}

/// The events of one import, and the ids they give.
struct Writer<'a> {
    store: &'a mut Store,
    now_ms: i64,
    events: Vec<Event>,
    /// Experiment ids by name.
    experiments: HashMap<String, Id>,
    /// Run ids by source id (written now or before).
    runs: HashMap<String, Id>,
    /// Source ids of the model versions written now.
    versions: HashSet<String>,
}

impl Writer<'_> {
    /// The id of the experiment `name`: found, or created by an event.
    fn experiment(&mut self, name: &str) -> Result<Id> {
        if let Some(id) = self.experiments.get(name) {
            return Ok(id.clone());
        }
        let id = match self.store.experiment(name) {
            Ok(found) => found.id.parse()?,
            Err(runstore_core::Error::NotFound { .. }) => new_id(),
            Err(e) => return Err(e.into()),
        };
        self.events.push(Event::Experiment {
            id: id.clone(),
            name: name.into(),
            description: String::new(),
            time_ms: self.now_ms,
        });
        self.experiments.insert(name.to_owned(), id.clone());
        Ok(id)
    }

    /// The events of a model: the model (found or new; its description and tags kept only
    /// when new here), and the versions not imported before (runstore numbers them in order
    /// after the ones it has), each with the aliases that point at it in the source.
    fn model(&mut self, model: ImportedModel, report: &mut ImportReport) -> Result<()> {
        let found: Option<String> = self
            .store
            .conn()
            .prepare_cached("SELECT id FROM models WHERE name = ?1")
            .and_then(|mut stmt| stmt.query_row([&model.name], |r| r.get(0)).optional())
            .map_err(runstore_core::Error::from)?;
        let (model_id, new) = match found {
            Some(id) => (id.parse()?, false),
            None => (new_id(), true),
        };
        self.events.push(Event::Model {
            id: model_id.clone(),
            name: model.name.clone(),
            description: model.description,
            time_ms: model.created_ms,
        });
        if new && !model.tags.is_empty() {
            self.events.push(Event::Tags { owner: Owner::Model(model_id.clone()), tags: model.tags });
        }
        for v in model.versions {
            if !self.versions.insert(v.source_id.clone())
                || self.imported_before("model_version", &v.source_id)?.is_some()
            {
                report.model_versions_present += 1;
                continue;
            }
            let aliases = model
                .aliases
                .iter()
                .filter(|(_, version)| *version == v.version)
                .map(|(a, _)| a.clone())
                .collect();
            let mut tags = v.tags;
            tags.push(("import.version".into(), v.version.to_string()));
            tags.push(("import.source_id".into(), v.source_id));
            self.events.push(Event::ModelVersion(Box::new(ModelVersionRecord {
                id: new_id(),
                model_name: model.name.clone(),
                new_model_id: model_id.clone(),
                description: v.description,
                storage_path: v.storage_path,
                size_bytes: v.size_bytes,
                sha256: None,
                source_run_id: v.run_source_id.and_then(|run| self.runs.get(&run).cloned()),
                tags,
                aliases,
                time_ms: v.created_ms,
            })));
            report.model_versions += 1;
        }
        Ok(())
    }

    /// The id of what an earlier import wrote from `source_id`, if any.
    fn imported_before(&self, owner_kind: &str, source_id: &str) -> Result<Option<Id>> {
        let found: Option<String> = self
            .store
            .conn()
            .prepare_cached(
                "SELECT owner_id FROM tags WHERE owner_kind = ?1 AND key = 'import.source_id' AND value = ?2 LIMIT 1",
            )
            .and_then(|mut stmt| stmt.query_row([owner_kind, source_id], |r| r.get(0)).optional())
            .map_err(runstore_core::Error::from)?;
        found.map(|id| id.parse().map_err(Into::into)).transpose()
    }
}
