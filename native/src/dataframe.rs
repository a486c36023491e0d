//! Runs, metric summaries and points as polars DataFrames, and Parquet files of them.
//! Native only, behind the `dataframe` feature (on by default).
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let store = runstore::Store::open_read_only("runs.db")?;
//! let query = runstore::RunQuery { filter: Some("params.lr = 0.01".into()), ..Default::default() };
//! let points = runstore::dataframe::points(&store, &query)?;   // one row per point
//! println!("{points}");
//! # Ok(()) }
//! ```

/// The polars version these DataFrames come from, for code that works with them.
pub use polars;

use std::collections::BTreeSet;
use std::path::Path;

use polars::prelude::*;
use runstore_core::{ParamValue, RunQuery, Store};

use crate::{Error, Result};

fn polars_error(e: PolarsError) -> Error {
    Error::DataFrame(e)
}

fn runs_with_metrics(store: &Store, query: &RunQuery) -> Result<Vec<runstore_core::RunInfo>> {
    let query = RunQuery { with_metrics: true, ..query.clone() };
    Ok(store.runs(&query)?)
}

/// One row per point: run_id, experiment, trial, run, key, context (JSON), label, step,
/// time_ms, epoch, batch, value (NaN and ±Inf kept).
pub fn points(store: &Store, query: &RunQuery) -> Result<DataFrame> {
    let runs = runs_with_metrics(store, query)?;
    let n = store.point_count(&runs)? as usize;
    let (mut run_id, mut experiment, mut trial, mut run) =
        (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
    let (mut key, mut context, mut label) =
        (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
    let (mut step, mut time, mut epoch, mut batch, mut value) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    store.for_each_point(&runs, |p| {
        run_id.push(p.run_id.to_string());
        experiment.push(p.experiment.to_string());
        trial.push(p.trial.to_string());
        run.push(p.run.to_string());
        key.push(p.key.to_string());
        context.push(p.context.to_string());
        label.push(p.label.to_string());
        step.push(p.point.step);
        time.push(p.point.time_ms);
        epoch.push(p.point.epoch);
        batch.push(p.point.batch);
        value.push(p.point.value);
        Ok(())
    })?;
    let height = value.len();
    DataFrame::new(
        height,
        vec![
            Column::new("run_id".into(), run_id),
            Column::new("experiment".into(), experiment),
            Column::new("trial".into(), trial),
            Column::new("run".into(), run),
            Column::new("key".into(), key),
            Column::new("context".into(), context),
            Column::new("label".into(), label),
            Column::new("step".into(), step),
            Column::new("time_ms".into(), time),
            Column::new("epoch".into(), epoch),
            Column::new("batch".into(), batch),
            Column::new("value".into(), value),
        ],
    )
    .map_err(polars_error)
}

/// One row per metric series: run, key, context, label and its summary.
pub fn summaries(store: &Store, query: &RunQuery) -> Result<DataFrame> {
    let runs = runs_with_metrics(store, query)?;
    let rows: Vec<(&runstore_core::RunInfo, &runstore_core::read::SeriesSummary)> =
        runs.iter().flat_map(|r| r.metrics.iter().map(move |m| (r, m))).collect();
    let text = |f: &dyn Fn(&(&runstore_core::RunInfo, &runstore_core::read::SeriesSummary)) -> String| -> Vec<String> {
        rows.iter().map(f).collect()
    };
    let float = |f: &dyn Fn(&runstore_core::read::SeriesSummary) -> Option<f64>| -> Vec<Option<f64>> {
        rows.iter().map(|(_, m)| f(m)).collect()
    };
    DataFrame::new(
        rows.len(),
        vec![
            Column::new("run_id".into(), text(&|(r, _)| r.id.clone())),
            Column::new("run".into(), text(&|(r, _)| r.name.clone())),
            Column::new("key".into(), text(&|(_, m)| m.key.clone())),
            Column::new(
                "context".into(),
                text(&|(_, m)| serde_json::to_string(&m.context).unwrap_or_default()),
            ),
            Column::new("label".into(), text(&|(_, m)| m.label.clone())),
            Column::new("count".into(), rows.iter().map(|(_, m)| m.count).collect::<Vec<i64>>()),
            Column::new("nan_count".into(), rows.iter().map(|(_, m)| m.nan_count).collect::<Vec<i64>>()),
            Column::new(
                "first_step".into(),
                rows.iter().map(|(_, m)| m.first_step).collect::<Vec<Option<i64>>>(),
            ),
            Column::new(
                "last_step".into(),
                rows.iter().map(|(_, m)| m.last_step).collect::<Vec<Option<i64>>>(),
            ),
            Column::new("last".into(), float(&|m| m.last)),
            Column::new("min".into(), float(&|m| m.min)),
            Column::new("max".into(), float(&|m| m.max)),
            Column::new("mean".into(), float(&|m| m.mean)),
        ],
    )
    .map_err(polars_error)
}

/// One row per run: attributes, then one column per param (`params.NAME`: numbers as
/// floats, everything else as text).
pub fn runs(store: &Store, query: &RunQuery) -> Result<DataFrame> {
    let runs = store.runs(query)?;
    let text = |f: &dyn Fn(&runstore_core::RunInfo) -> Option<String>| -> Vec<Option<String>> {
        runs.iter().map(f).collect()
    };
    let mut columns = vec![
        Column::new("run_id".into(), text(&|r| Some(r.id.clone()))),
        Column::new("experiment".into(), text(&|r| Some(r.experiment.clone()))),
        Column::new("trial".into(), text(&|r| r.trial.clone())),
        Column::new("run".into(), text(&|r| Some(r.name.clone()))),
        Column::new(
            "state".into(),
            text(&|r| serde_json::to_value(r.state).ok().and_then(|v| v.as_str().map(String::from))),
        ),
        Column::new("started_ms".into(), runs.iter().map(|r| r.started_ms).collect::<Vec<_>>()),
        Column::new("ended_ms".into(), runs.iter().map(|r| r.ended_ms).collect::<Vec<_>>()),
        Column::new("duration_ms".into(), runs.iter().map(|r| r.duration_ms).collect::<Vec<_>>()),
    ];
    let keys: BTreeSet<&String> = runs.iter().flat_map(|r| r.params.keys()).collect();
    for key in keys {
        let values: Vec<Option<&ParamValue>> = runs.iter().map(|r| r.params.get(key)).collect();
        let name: PlSmallStr = format!("params.{key}").into();
        if values.iter().flatten().all(|v| v.as_f64().is_some()) {
            columns.push(Column::new(
                name,
                values.iter().map(|v| v.and_then(ParamValue::as_f64)).collect::<Vec<_>>(),
            ));
        } else {
            columns
                .push(Column::new(name, values.iter().map(|v| v.map(|v| v.to_string())).collect::<Vec<_>>()));
        }
    }
    DataFrame::new(runs.len(), columns).map_err(polars_error)
}

/// Writes a DataFrame as a Parquet file.
pub fn write_parquet(df: &mut DataFrame, path: &Path) -> Result<()> {
    let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
    ParquetWriter::new(file).finish(df).map_err(polars_error)?;
    Ok(())
}
