//! `runstore-core`: the schema, migrations, write path and queries of runstore, the
//! experiment-tracking store that keeps every run of a training job or simulation in one
//! SQLite file.
//!
//! This crate is target-agnostic: no threads, no clock, no filesystem assumptions, no
//! wasm-bindgen. The host stamps times and ids into [`Event`]s; [`BatchWriter`] applies them in
//! transactions; [`Store`] answers queries, on a file natively or on bytes on every target.
//! Live recording (a non-blocking handle and a writer thread) is in the `runstore` crate.
//!
//! # Quick start
//!
//! ```
//! use runstore_core::{BatchWriter, Context, Event, Id, Point, RunQuery, RunStatus, SeriesKey, Store};
//! use runstore_core::event::RunRecord;
//!
//! # fn main() -> runstore_core::Result<()> {
//! let now = 1_700_000_000_000;
//! let mut store = Store::open_in_memory(now)?;
//! let mut writer = BatchWriter::new();
//! let (exp, run) = (Id::from_parts(now, 1), Id::from_parts(now, 2));
//! writer.write(&mut store, &[
//!     Event::Experiment { id: exp.clone(), name: "mnist".into(), description: String::new(), time_ms: now },
//!     Event::Run(Box::new(RunRecord {
//!         id: run.clone(), experiment_id: exp, trial_id: None, name: "lr=0.1".into(),
//!         status: RunStatus::Running, host: None, pid: None, heartbeat_interval_ms: None, time_ms: now,
//!     })),
//!     Event::Series { handle: 0, series: SeriesKey::new(run.clone(), "train/loss", &Context::phase("train")) },
//!     Event::Point { handle: 0, point: Point { step: 0, time_ms: now, value: 2.3, epoch: None, batch: None } },
//!     Event::Point { handle: 0, point: Point { step: 1, time_ms: now + 5, value: f64::NAN, epoch: None, batch: None } },
//! ])?.all_written()?;
//!
//! let runs = store.runs(&RunQuery { with_metrics: true, ..Default::default() })?;
//! let loss = &runs[0].metrics[0];
//! assert_eq!((loss.count, loss.nan_count), (2, 1));
//! assert_eq!(loss.min, Some(2.3));
//! assert!(loss.last.unwrap().is_nan()); // a diverging loss is kept, not dropped
//! # Ok(()) }
//! ```

#![cfg_attr(all(test, target_arch = "wasm32"), allow(unused_imports))]

pub mod aggregate;
pub mod analysis;
pub mod chunk;
mod context;
mod error;
pub mod event;
pub mod export;
pub mod filter;
mod id;
pub mod json;
pub mod merge;
mod param;
pub mod plot;
pub mod read;
mod run_status;
pub mod schema;
mod series_key;
pub mod source;
mod store;
mod write;

pub use chunk::Point;
pub use context::Context;
pub use error::{Error, Result};
pub use event::{Event, Reply};
pub use id::Id;
pub use param::{ParamValue, flatten};
pub use read::{RunInfo, RunQuery, RunState};
pub use run_status::RunStatus;
pub use series_key::SeriesKey;
pub use store::{OpenOptions, Store};
pub use write::{BatchOutcome, BatchWriter};

#[cfg(all(test, target_arch = "wasm32"))]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);
