//! `runstore`: record every run of a training job or simulation into one SQLite file, live and
//! without slowing the job down.
//!
//! A [`Recorder`] is a cheap, cloneable handle; logging a point puts a small event on a
//! bounded channel and returns. One writer thread drains the channel and writes batches in
//! single transactions (WAL mode, so several processes can record into one file and readers
//! never block). Everything is read back with [`runstore_core::Store`].
//!
//! # Quick start
//!
//! ```
//! use runstore::{Context, Recorder, Store};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = tempfile::tempdir()?;
//! # let path = dir.path().join("runs.db");
//! let (rec, guard) = Recorder::open(&path)?;           // keep `guard` alive while recording
//! let exp = rec.experiment("mnist")?;
//! let run = exp.trial("lr=0.01")?.start_run("seed-0");
//! run.params([("lr", 0.01), ("momentum", 0.9)]);
//! let loss = run.series("train/loss", &Context::phase("train"));
//! for step in 0..1000 {
//!     loss.log(step, 1.0 / (step as f64 + 1.0));     // well under a microsecond
//! }
//! run.finish();
//! drop(guard);                                         // writes what is queued, joins
//!
//! let store = Store::open_read_only(&path)?;
//! let runs = store.runs(&runstore::RunQuery { with_metrics: true, ..Default::default() })?;
//! assert_eq!(runs[0].metrics[0].count, 1000);
//! # Ok(()) }
//! ```

mod artifact;
pub mod capture;
mod clock;
#[cfg(feature = "dataframe")]
pub mod dataframe;
pub mod demo;
mod error;
mod experiment;
mod fork_gate;
mod gpu;
pub mod hash;
pub mod import;
mod monitor;
mod options;
pub mod page;
pub mod png;
mod recorder;
pub mod report;
mod run;
pub mod serve;
mod snapshot;
mod writer;

pub use artifact::{ArtifactSpec, DatasetSpec};
pub use clock::{new_id, now_ms};
pub use error::{Error, Result};
pub use experiment::{Experiment, Trial};
pub use monitor::ResourceMonitor;
pub use options::{RecorderOptions, WhenFull};
pub use recorder::{NewModelVersion, Recorder, RecorderGuard};
pub use run::{Run, Series, SpanTimer};
pub use runstore_core::event::{CodeRecord, EnvironmentRecord, ResourceKind};
pub use runstore_core::{Context, Id, ParamValue, Point, RunInfo, RunQuery, RunState, RunStatus, Store};
pub use snapshot::snapshot;
