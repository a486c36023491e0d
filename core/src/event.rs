//! What a recorder asks the store to write. Events are plain data: the host stamps times and
//! ids, and [`crate::BatchWriter`] applies a batch of them in one transaction.

use serde_json::Value as Json;

use crate::chunk::Point;
use crate::id::Id;
use crate::param::ParamValue;
use crate::run_status::RunStatus;
use crate::series_key::SeriesKey;

/// The owner of params and tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// An experiment.
    Experiment(Id),
    /// A trial.
    Trial(Id),
    /// A run.
    Run(Id),
    /// A registered model (tags only).
    Model(Id),
    /// A version of a registered model.
    ModelVersion(Id),
}

impl Owner {
    /// The `owner_kind` stored in the params and tags tables.
    pub fn kind(&self) -> &'static str {
        match self {
            Owner::Experiment(_) => "experiment",
            Owner::Trial(_) => "trial",
            Owner::Run(_) => "run",
            Owner::Model(_) => "model",
            Owner::ModelVersion(_) => "model_version",
        }
    }

    /// The owner's id.
    pub fn id(&self) -> &Id {
        match self {
            Owner::Experiment(id)
            | Owner::Trial(id)
            | Owner::Run(id)
            | Owner::Model(id)
            | Owner::ModelVersion(id) => id,
        }
    }
}

/// What an artifact belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArtifactOwner {
    /// An experiment as a whole.
    Experiment(Id),
    /// A trial.
    Trial(Id),
    /// A run.
    Run(Id),
    /// One epoch of a run.
    Epoch {
        /// The run.
        run: Id,
        /// The epoch index.
        epoch: u32,
    },
    /// One batch of an epoch of a run.
    Batch {
        /// The run.
        run: Id,
        /// The epoch index.
        epoch: u32,
        /// The batch index within the epoch.
        batch: u32,
    },
    /// A model version.
    ModelVersion(Id),
}

/// A file or object produced or used somewhere in an experiment.
#[derive(Debug, Clone, PartialEq)]
pub struct ArtifactRecord {
    /// New id for the artifact.
    pub id: Id,
    /// What it belongs to.
    pub owner: ArtifactOwner,
    /// Display name.
    pub name: String,
    /// Kind: `model`, `checkpoint`, `plot`, `log`, `file`, ...
    pub kind: String,
    /// Where it is (path or URI).
    pub uri: String,
    /// Size in bytes, when known.
    pub size_bytes: Option<i64>,
    /// SHA-256 in hex, when known.
    pub sha256: Option<String>,
    /// Any other metadata.
    pub metadata: Option<Json>,
    /// When recorded, Unix ms.
    pub time_ms: i64,
}

/// Whether a dataset was read or written by the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DatasetRole {
    /// Read by the run.
    Input,
    /// Written by the run.
    Output,
}

impl DatasetRole {
    /// `input` or `output`.
    pub fn as_str(self) -> &'static str {
        match self {
            DatasetRole::Input => "input",
            DatasetRole::Output => "output",
        }
    }
}

/// A dataset a run used or produced.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetRecord {
    /// New id.
    pub id: Id,
    /// The run.
    pub run_id: Id,
    /// Input or output.
    pub role: DatasetRole,
    /// Name.
    pub name: String,
    /// Path or URI.
    pub path: Option<String>,
    /// Number of rows, when known.
    pub rows: Option<i64>,
    /// Number of columns, when known.
    pub columns: Option<i64>,
    /// Column names and types.
    pub schema: Option<Json>,
    /// Size in bytes, when known.
    pub size_bytes: Option<i64>,
    /// SHA-256 in hex, when known.
    pub sha256: Option<String>,
    /// When recorded, Unix ms.
    pub time_ms: i64,
}

/// The code a run executed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CodeRecord {
    /// Git commit.
    pub git_commit: Option<String>,
    /// Git branch.
    pub git_branch: Option<String>,
    /// Whether the work tree had uncommitted changes.
    pub git_dirty: Option<bool>,
    /// Repository root.
    pub repo_root: Option<String>,
    /// Program or script that ran.
    pub entrypoint: Option<String>,
    /// Tracked files and their SHA-256: `[{"path": ..., "sha256": ...}]`.
    pub files: Option<Json>,
}

/// The machine and software a run ran on.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EnvironmentRecord {
    /// Operating system name.
    pub os: Option<String>,
    /// Operating system version.
    pub os_version: Option<String>,
    /// Host name.
    pub hostname: Option<String>,
    /// CPU model.
    pub cpu: Option<String>,
    /// Logical CPUs.
    pub cpu_count: Option<i64>,
    /// Total memory in bytes.
    pub memory_bytes: Option<i64>,
    /// GPU description.
    pub gpu: Option<String>,
    /// Language and runtime versions: `{"rustc": "1.95.0", ...}`.
    pub runtimes: Option<Json>,
    /// Installed packages: `{"name": "version", ...}`.
    pub packages: Option<Json>,
}

/// Kinds of system resource samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResourceKind {
    /// Processor use.
    Cpu,
    /// Memory use.
    Ram,
    /// GPU use or memory.
    Gpu,
    /// Disk use or I/O.
    Disk,
    /// Network I/O.
    Net,
}

impl ResourceKind {
    /// The stored name: `cpu`, `ram`, `gpu`, `disk`, `net`.
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::Cpu => "cpu",
            ResourceKind::Ram => "ram",
            ResourceKind::Gpu => "gpu",
            ResourceKind::Disk => "disk",
            ResourceKind::Net => "net",
        }
    }
}

impl std::str::FromStr for ResourceKind {
    type Err = crate::Error;
    fn from_str(s: &str) -> crate::Result<Self> {
        Ok(match s {
            "cpu" => ResourceKind::Cpu,
            "ram" => ResourceKind::Ram,
            "gpu" => ResourceKind::Gpu,
            "disk" => ResourceKind::Disk,
            "net" => ResourceKind::Net,
            _ => {
                return Err(crate::Error::invalid(
                    "resource kind",
                    format!("{s:?} (expected cpu, ram, gpu, disk or net)"),
                ));
            }
        })
    }
}

/// One sample of a system resource.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ResourceSample {
    /// The run being monitored, if any.
    pub run_id: Option<Id>,
    /// When sampled, Unix ms.
    pub time_ms: i64,
    /// What kind of resource.
    pub kind: ResourceKind,
    /// Which measurement: `system_total`, `process_tree`, `gpu0_util`, ...
    pub name: String,
    /// The measured value.
    #[serde(serialize_with = "crate::json::float")]
    pub value: f64,
    /// Unit: `%`, `MiB`, `bytes/s`, ...
    pub unit: String,
}

/// A timed operation (data generation, evaluation, checkpointing, ...).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SpanRecord {
    /// The run, if any.
    pub run_id: Option<Id>,
    /// Operation name.
    pub name: String,
    /// Start, Unix ms.
    pub start_ms: i64,
    /// Duration in milliseconds.
    pub duration_ms: f64,
    /// Attributes: samples generated, memory used, round, chunk, ...
    pub attributes: Json,
}

/// A new version of a registered model.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelVersionRecord {
    /// Id for the version.
    pub id: Id,
    /// Model name; the model is created if it does not exist yet.
    pub model_name: String,
    /// Id to give the model if it has to be created.
    pub new_model_id: Id,
    /// Description of this version.
    pub description: String,
    /// Where the model file is.
    pub storage_path: String,
    /// Size of the model file.
    pub size_bytes: i64,
    /// SHA-256 of the model file.
    pub sha256: Option<String>,
    /// Run that produced it.
    pub source_run_id: Option<Id>,
    /// Tags of the version.
    pub tags: Vec<(String, String)>,
    /// Aliases (`champion`) to point at this version, moved from whichever version of the
    /// model they pointed at, in the same step as the version is numbered.
    pub aliases: Vec<String>,
    /// When registered, Unix ms.
    pub time_ms: i64,
}

/// A run to create.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRecord {
    /// The run's id.
    pub id: Id,
    /// Experiment it belongs to.
    pub experiment_id: Id,
    /// Trial it belongs to, if any.
    pub trial_id: Option<Id>,
    /// Display name.
    pub name: String,
    /// Initial status (`Pending` or `Running`).
    pub status: RunStatus,
    /// Host it runs on.
    pub host: Option<String>,
    /// Process id.
    pub pid: Option<i64>,
    /// How often the recorder promises a heartbeat, ms.
    pub heartbeat_interval_ms: Option<i64>,
    /// When created, Unix ms.
    pub time_ms: i64,
}

/// One thing to write.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Get or create the experiment named `name`. Replies with its id (`id` if new).
    Experiment {
        /// Id to use if the experiment is new.
        id: Id,
        /// Unique name.
        name: String,
        /// Description (set only when creating).
        description: String,
        /// Unix ms.
        time_ms: i64,
    },
    /// Set an experiment's status and, optionally, its results summary.
    ExperimentStatus {
        /// The experiment.
        experiment_id: Id,
        /// Free-form status (`active`, `completed`, ...).
        status: String,
        /// Results summary JSON.
        results: Option<Json>,
        /// Unix ms.
        time_ms: i64,
    },
    /// Get or create the trial `name` of an experiment. Replies with its id.
    Trial {
        /// Id to use if the trial is new.
        id: Id,
        /// The experiment.
        experiment_id: Id,
        /// Name, unique in the experiment.
        name: String,
        /// Description (set only when creating).
        description: String,
        /// Unix ms.
        time_ms: i64,
    },
    /// Create a run.
    Run(Box<RunRecord>),
    /// Change a run's status; a terminal status sets its end time.
    RunStatus {
        /// The run.
        run_id: Id,
        /// New status.
        status: RunStatus,
        /// Error message for failed or killed runs.
        error: Option<String>,
        /// Unix ms.
        time_ms: i64,
    },
    /// Set a run's results summary.
    RunResults {
        /// The run.
        run_id: Id,
        /// Results summary JSON.
        results: Json,
    },
    /// The recording process of a run is alive.
    Heartbeat {
        /// The run.
        run_id: Id,
        /// Unix ms.
        time_ms: i64,
    },
    /// Set params (replacing earlier values of the same keys).
    Params {
        /// Whose params.
        owner: Owner,
        /// Keys and values.
        params: Vec<(String, ParamValue)>,
    },
    /// Set tags (replacing earlier values of the same keys).
    Tags {
        /// Whose tags.
        owner: Owner,
        /// Keys and values.
        tags: Vec<(String, String)>,
    },
    /// An epoch started (`end: false`) or ended (`end: true`).
    Epoch {
        /// The run.
        run_id: Id,
        /// Epoch index.
        epoch: u32,
        /// Whether this marks the end.
        end: bool,
        /// Unix ms.
        time_ms: i64,
    },
    /// A batch started or ended.
    Batch {
        /// The run.
        run_id: Id,
        /// Epoch index.
        epoch: u32,
        /// Batch index within the epoch.
        batch: u32,
        /// Whether this marks the end.
        end: bool,
        /// Unix ms.
        time_ms: i64,
    },
    /// Declare a metric series under a writer-local `handle` that later points refer to.
    Series {
        /// Writer-local handle.
        handle: u64,
        /// Which series.
        series: SeriesKey,
    },
    /// A point of a declared series.
    Point {
        /// Handle from an earlier [`Event::Series`].
        handle: u64,
        /// The point.
        point: Point,
    },
    /// An artifact.
    Artifact(Box<ArtifactRecord>),
    /// A dataset.
    Dataset(Box<DatasetRecord>),
    /// The code of a run (replaces an earlier record).
    Code {
        /// The run.
        run_id: Id,
        /// What was captured.
        code: Box<CodeRecord>,
        /// Unix ms.
        time_ms: i64,
    },
    /// The environment of a run (replaces an earlier record).
    Environment {
        /// The run.
        run_id: Id,
        /// What was captured.
        environment: Box<EnvironmentRecord>,
        /// Unix ms.
        time_ms: i64,
    },
    /// A resource sample.
    Resource(Box<ResourceSample>),
    /// A span.
    Span(Box<SpanRecord>),
    /// Get or create a registered model. Replies with its id.
    Model {
        /// Id to use if new.
        id: Id,
        /// Unique name.
        name: String,
        /// Description (set only when creating).
        description: String,
        /// Unix ms.
        time_ms: i64,
    },
    /// Register a new version of a model. Replies with the version number.
    ModelVersion(Box<ModelVersionRecord>),
    /// Point an alias (`production`) of a model at one of its versions.
    ModelAlias {
        /// The model.
        model_name: String,
        /// Alias name.
        alias: String,
        /// Version number.
        version: i64,
        /// Unix ms.
        time_ms: i64,
    },
}

/// What applying an event produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// Nothing to report.
    Done,
    /// The id of the experiment, trial or model (existing or new).
    Id(Id),
    /// The number given to a new model version.
    Version(i64),
}
