//! W&B and trackio CSV exports: a panel's "Export CSV" (`Step`, then `RUN - METRIC` columns,
//! each perhaps with `__MIN`/`__MAX` companions), a run's history (`_step`, `_runtime`,
//! `_timestamp`, then one column per metric) or trackio's (`step`, `timestamp`, metrics).
//! Empty cells are steps a metric was not logged at; `NaN`, `inf`, `-inf` are kept as values.

use std::collections::BTreeMap;

use runstore_core::{Context, Point, RunStatus};
use sha2::{Digest, Sha256};

use super::{ImportedRun, ImportedSeries, Skipped};
use crate::{Error, Result};

/// The names a step column goes by: W&B panels, W&B histories, trackio.
const STEP_COLUMNS: [&str; 3] = ["Step", "_step", "step"];
/// The names a time column (Unix seconds) goes by.
const TIME_COLUMNS: [&str; 2] = ["_timestamp", "timestamp"];

/// What one file held.
#[derive(Debug, Clone, PartialEq)]
pub struct Read {
    /// Its runs: one per `RUN - ` prefix of a panel export, else one named after the file.
    pub runs: Vec<ImportedRun>,
    /// Columns and cells left out, with why.
    pub skipped: Vec<Skipped>,
}

/// One metric column: whose, which, where.
struct Column {
    run: String,
    key: String,
    index: usize,
    points: Vec<Point>,
    bad_cells: usize,
}

/// Reads the export `bytes` as runs of the experiment `experiment`; `name` (the file's name) is
/// used in messages and as the run name when the columns do not name runs. `now_ms` stamps
/// points when the file has no time column.
pub fn read(bytes: &[u8], name: &str, experiment: &str, now_ms: i64) -> Result<Read> {
    let fail = |why: String| Error::Import(format!("{name}: {why}"));
    let mut reader = csv::ReaderBuilder::new().from_reader(bytes);
    let headers: Vec<String> =
        reader
            .headers()
            .map_err(|e| fail(format!("not a CSV file ({e})")))?
            .iter()
            .enumerate()
            .map(|(i, h)| {
                if i == 0 { h.trim_start_matches('\u{feff}').trim().to_owned() } else { h.trim().to_owned() }
            })
            .collect();
    let step_at = headers.iter().position(|h| STEP_COLUMNS.contains(&h.as_str())).ok_or_else(|| {
        fail(format!(
            "no step column (a W&B or trackio export has one named {}); its columns: {}",
            STEP_COLUMNS.join(", "),
            headers.join(", ")
        ))
    })?;
    let time_at = headers.iter().position(|h| TIME_COLUMNS.contains(&h.as_str()));
    let default_run = name.rsplit('/').next().unwrap_or(name).trim_end_matches(".csv").to_owned();
    let mut skipped = Vec::new();
    let mut columns: Vec<Column> = Vec::new();
    for (index, header) in headers.iter().enumerate() {
        if index == step_at || Some(index) == time_at {
            continue;
        }
        let skip = |why: &str| Skipped { what: format!("column {header:?} of {name}"), why: why.into() };
        if header.is_empty() {
            skipped.push(skip("no name (a table's index)"));
        } else if header.ends_with("__MIN") || header.ends_with("__MAX") {
            skipped.push(skip("W&B's min/max companion of a metric, derived from it"));
        } else if header.starts_with('_') {
            skipped.push(skip("W&B's own bookkeeping"));
        } else {
            let (run, key) = match header.rsplit_once(" - ") {
                Some((run, key)) if !run.is_empty() && !key.is_empty() => (run.to_owned(), key.to_owned()),
                _ => (default_run.clone(), header.clone()),
            };
            if columns.iter().any(|c| c.run == run && c.key == key) {
                skipped.push(skip("repeats an earlier column"));
            } else {
                columns.push(Column { run, key, index, points: Vec::new(), bad_cells: 0 });
            }
        }
    }
    let (mut rows_without_step, mut first_ms, mut last_ms) = (0usize, i64::MAX, i64::MIN);
    for (line, record) in reader.records().enumerate() {
        let record = record.map_err(|e| fail(format!("row {}: {e}", line + 2)))?;
        let Some(step) = record.get(step_at).and_then(parse_step) else {
            rows_without_step += 1;
            continue;
        };
        let time_ms = time_at.and_then(|at| record.get(at)).and_then(parse_seconds).unwrap_or(now_ms);
        first_ms = first_ms.min(time_ms);
        last_ms = last_ms.max(time_ms);
        for column in &mut columns {
            let cell = record.get(column.index).unwrap_or("").trim();
            if cell.is_empty() {
                continue;
            }
            match cell.parse::<f64>() {
                Ok(value) => column.points.push(Point { step, time_ms, value, epoch: None, batch: None }),
                Err(_) => column.bad_cells += 1,
            }
        }
    }
    if rows_without_step > 0 {
        skipped.push(Skipped {
            what: format!("{rows_without_step} rows of {name}"),
            why: "no whole number in the step column".into(),
        });
    }
    for c in columns.iter().filter(|c| c.bad_cells > 0) {
        let header = &headers[c.index];
        skipped.push(Skipped {
            what: format!("{} cells of column {header:?} of {name}", c.bad_cells),
            why: "not numbers".into(),
        });
    }
    let digest = Sha256::digest(bytes);
    let file_id: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    let (started_ms, ended_ms) = if first_ms <= last_ms { (first_ms, last_ms) } else { (now_ms, now_ms) };
    let mut runs: BTreeMap<String, Vec<ImportedSeries>> = BTreeMap::new();
    let mut order = Vec::new();
    for c in columns {
        if !runs.contains_key(&c.run) {
            order.push(c.run.clone());
        }
        runs.entry(c.run).or_default().push(ImportedSeries {
            key: c.key,
            context: Context::none(),
            points: c.points,
        });
    }
    let runs = order
        .into_iter()
        .map(|run| ImportedRun {
            source_id: format!("{file_id}:{run}"),
            source: "wandb-csv",
            experiment: experiment.to_owned(),
            series: runs.remove(&run).unwrap_or_default(),
            name: run,
            status: RunStatus::Completed,
            started_ms,
            ended_ms: Some(ended_ms),
            params: Vec::new(),
            tags: vec![("import.file".into(), name.into())],
            artifacts: Vec::new(),
        })
        .collect();
    Ok(Read { runs, skipped })
}

/// A step: a whole number, written as `12` or `12.0`.
fn parse_step(cell: &str) -> Option<i64> {
    let cell = cell.trim();
    cell.parse::<i64>().ok().or_else(|| {
        let x: f64 = cell.parse().ok()?;
        (x.fract() == 0.0 && x.abs() < 9.0e15).then_some(x as i64)
    })
}

/// Unix seconds (W&B's `_timestamp`, fractional) as Unix ms; values past year 5000 in seconds
/// are taken as ms already.
fn parse_seconds(cell: &str) -> Option<i64> {
    let x: f64 = cell.trim().parse().ok().filter(|x: &f64| x.is_finite())?;
    Some(if x.abs() > 1.0e11 { x as i64 } else { (x * 1000.0).round() as i64 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panel_export_is_one_run_per_prefix_and_companions_are_skipped() {
        let csv = "\u{feff}\"Step\",\"a-1 - train/loss\",\"a-1 - train/loss__MIN\",\"a-1 - train/loss__MAX\",\"b-2 - train/loss\"\n\
                   0,1.5,1.4,1.6,2\n1,,,,NaN\n2,inf,,,-inf\n3,oops,,,0.25\n";
        let read = read(csv.as_bytes(), "panel.csv", "e", 7).unwrap();
        let names: Vec<_> = read.runs.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["a-1", "b-2"]);
        let a = &read.runs[0].series[0];
        assert_eq!(a.key, "train/loss");
        assert_eq!(
            a.points.iter().map(|p| (p.step, p.value)).collect::<Vec<_>>(),
            [(0, 1.5), (2, f64::INFINITY)]
        );
        let b: Vec<_> = read.runs[1].series[0].points.iter().map(|p| p.value).collect();
        assert!(b[0] == 2.0 && b[1].is_nan() && b[2] == f64::NEG_INFINITY && b[3] == 0.25);
        assert!(
            read.runs[0].series[0].points.iter().all(|p| p.time_ms == 7),
            "no time column: the import's time"
        );
        let why: Vec<_> = read.skipped.iter().map(|s| s.what.as_str()).collect();
        assert_eq!(why.len(), 3, "{why:?}");
        assert!(why.iter().any(|w| w.starts_with("1 cells of column \"a-1 - train/loss\"")), "{why:?}");
        assert_ne!(read.runs[0].source_id, read.runs[1].source_id);
    }

    #[test]
    fn a_history_export_is_one_run_with_its_times() {
        let csv = ",_step,_runtime,_timestamp,loss,acc\n0,0,1.5,1750000000.25,0.9,\n1,1,2.5,1750000001.5,0.8,0.5\n2,2.0,3,1750000002,,0.75\n";
        let read = read(csv.as_bytes(), "runs/history.csv", "e", 0).unwrap();
        assert_eq!(read.runs.len(), 1);
        let run = &read.runs[0];
        assert_eq!(run.name, "history");
        assert_eq!((run.started_ms, run.ended_ms), (1_750_000_000_250, Some(1_750_000_002_000)));
        let keys: Vec<_> = run.series.iter().map(|s| (s.key.as_str(), s.points.len())).collect();
        assert_eq!(keys, [("loss", 2), ("acc", 2)]);
        assert_eq!(run.series[1].points[1].step, 2, "a step written 2.0 is step 2");
        assert_eq!(read.skipped.len(), 2, "the index and _runtime: {:?}", read.skipped);
    }

    #[test]
    fn no_step_column_is_an_error_naming_the_file_and_its_columns() {
        let err = read(b"time,loss\n0,1\n", "x.csv", "e", 0).unwrap_err().to_string();
        assert!(err.contains("x.csv: no step column") && err.contains("time, loss"), "{err}");
        let err = read(b"Step,a\n0,1,2\n", "ragged.csv", "e", 0).unwrap_err().to_string();
        assert!(err.contains("ragged.csv: row 2"), "{err}");
    }
}
