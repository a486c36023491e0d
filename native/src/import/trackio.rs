//! trackio's own databases: one SQLite file per project (`PROJECT.db` in `TRACKIO_DIR`,
//! `~/.cache/huggingface/trackio` by default). Each row of its `metrics` table is one `log()`
//! call: a run, a step, an ISO 8601 timestamp and the logged values as JSON (NaN and ±Inf as
//! the strings trackio writes for them, `"NaN"`, `"Infinity"`, `"-Infinity"`). A run's
//! `configs` row becomes its params (trackio's own `_Username` and `_Group` become tags).
//! Values that are not numbers (media, tables, text) and system metrics are left out, and
//! listed. A project is an experiment of the same name.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use runstore_core::{Context, ParamValue, Point, RunStatus};
use rusqlite::{Connection, OpenFlags, OptionalExtension as _};
use serde_json::Value;

use super::{ImportedRun, ImportedSeries, Progress, Skipped};
use crate::{Error, Result};

/// What trackio's databases held.
#[derive(Debug, Clone, PartialEq)]
pub struct Read {
    /// One run per trackio run, in the order of their first row.
    pub runs: Vec<ImportedRun>,
    /// What was left out, with why.
    pub skipped: Vec<Skipped>,
    /// Project databases read.
    pub files: usize,
}

/// Reads a project database, or every project database (`*.db`) in a folder (`TRACKIO_DIR`).
/// Runs go into the experiment `experiment`, or one named after their project; `progress` is
/// told the metric rows read (of each project in turn).
pub fn read(path: &Path, experiment: Option<&str>, progress: Progress<'_>) -> Result<Read> {
    let files: Vec<PathBuf> = if path.is_dir() {
        let entries = std::fs::read_dir(path).map_err(|e| Error::io(path, e))?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "db"))
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(Error::Import(format!(
                "{}: no trackio project databases (PROJECT.db) in it",
                path.display()
            )));
        }
        files
    } else {
        vec![path.to_owned()]
    };
    let mut read = Read { runs: Vec::new(), skipped: Vec::new(), files: files.len() };
    for file in files {
        project(&file, experiment, &mut read, progress)?;
    }
    Ok(read)
}

/// The runs of one project database.
fn project(path: &Path, experiment: Option<&str>, read: &mut Read, progress: Progress<'_>) -> Result<()> {
    let shown = path.display().to_string();
    let fail = |why: String| Error::Import(format!("{shown}: {why}"));
    let sql = |e: rusqlite::Error| fail(format!("reading: {e}"));
    let conn =
        Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .map_err(|e| fail(format!("cannot open ({e})")))?;
    let columns = |table: &str| -> Result<Vec<String>> {
        conn.prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .map_err(|e| fail(format!("not an SQLite database ({e})")))
    };
    let metric_columns = columns("metrics")?;
    let has = |c: &str| metric_columns.iter().any(|have| have == c);
    if !(has("run_name") && has("step") && has("metrics") && has("timestamp")) {
        return Err(fail(
            "not a trackio project database: no table `metrics` with run_name, step, timestamp and metrics"
                .into(),
        ));
    }
    // Newer databases tell runs apart by id (a name can be reused); older ones by name.
    let run_key = if has("run_id") { "run_id" } else { "run_name" };
    let project_name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let experiment = experiment.unwrap_or(&project_name).to_owned();

    let mut runs: Vec<(String, ImportedRun, BTreeMap<String, usize>)> = Vec::new();
    let mut run_at: HashMap<String, usize> = HashMap::new();
    let mut left_out: BTreeMap<String, usize> = BTreeMap::new();
    let total = conn
        .query_row("SELECT count(*) FROM metrics", [], |r| r.get::<_, i64>(0).map(|n| n as u64))
        .map_err(sql)?;
    let mut done = 0u64;
    let mut stmt = conn
        .prepare(&format!(
            "SELECT {run_key}, run_name, step, CAST(round({UNIX_SECONDS} * 1000) AS INTEGER), metrics
             FROM metrics ORDER BY timestamp, id"
        ))
        .map_err(sql)?;
    let mut rows = stmt.query([]).map_err(sql)?;
    while let Some(row) = rows.next().map_err(sql)? {
        done += 1;
        if done.is_multiple_of(65_536) {
            progress(done, total.max(done));
        }
        let key: String = row.get(0).map_err(sql)?;
        let step: i64 = row.get(2).map_err(sql)?;
        let time_ms: i64 = row.get::<_, Option<i64>>(3).map_err(sql)?.unwrap_or(0);
        let at = match run_at.get(&key) {
            Some(&at) => at,
            None => {
                let name: String = row.get(1).map_err(sql)?;
                // The first row's time tells apart runs of the same name in copies of a project
                // made on different machines (older databases have no run ids).
                let source_id = format!("trackio:{project_name}:{key}:{time_ms}");
                runs.push((key.clone(), new_run(source_id, name, &experiment), BTreeMap::new()));
                run_at.insert(key, runs.len() - 1);
                runs.len() - 1
            }
        };
        let (_, run, series_at) = &mut runs[at];
        run.started_ms = run.started_ms.min(time_ms);
        run.ended_ms = Some(run.ended_ms.map_or(time_ms, |e| e.max(time_ms)));
        // orjson's bytes: a BLOB, or TEXT in older databases.
        let json = row.get_ref(4).map_err(sql)?.as_bytes().unwrap_or_default();
        let Ok(Value::Object(values)) = serde_json::from_slice::<Value>(json) else {
            *left_out
                .entry(format!("rows of run {:?} whose values are not a JSON object", run.name))
                .or_default() += 1;
            continue;
        };
        for (metric, value) in values {
            let Some(value) = number(&value) else {
                *left_out.entry(format!("values of {metric:?}")).or_default() += 1;
                continue;
            };
            let point = Point { step, time_ms, value, epoch: None, batch: None };
            match series_at.get(&metric) {
                Some(&i) => run.series[i].points.push(point),
                None => {
                    series_at.insert(metric.clone(), run.series.len());
                    run.series.push(ImportedSeries {
                        key: metric,
                        context: Context::none(),
                        points: vec![point],
                    });
                }
            }
        }
    }
    drop(rows);
    progress(total, total);
    for (what, n) in left_out {
        read.skipped.push(Skipped { what: format!("{n} {what} in {shown}"), why: "not numbers".into() });
    }
    let config_columns = columns("configs")?;
    let config_key = if config_columns.iter().any(|c| c == "run_id") { "run_id" } else { "run_name" };
    let mut config = (!config_columns.is_empty())
        .then(|| conn.prepare(&format!("SELECT config FROM configs WHERE {config_key} = ?1")))
        .transpose()
        .map_err(sql)?;
    for (key, mut run, _) in runs {
        let lookup = if config_key == "run_id" { &key } else { &run.name };
        if let Some(stmt) = config.as_mut()
            && let Some(json) = stmt
                .query_row([lookup], |r| Ok(r.get_ref(0)?.as_bytes().unwrap_or_default().to_vec()))
                .optional()
                .map_err(sql)?
        {
            params(&json, &mut run);
        }
        read.runs.push(run);
    }
    if let Some(n) = conn
        .query_row("SELECT count(*) FROM system_metrics", [], |r| r.get::<_, i64>(0))
        .ok()
        .filter(|&n| n > 0)
    {
        read.skipped.push(Skipped {
            what: format!("{n} rows of system metrics in {shown}"),
            why: "trackio's GPU/CPU samples are not imported".into(),
        });
    }
    Ok(())
}

/// A row's time in Unix seconds: trackio writes ISO 8601 with an offset; older versions wrote
/// local time without one.
const UNIX_SECONDS: &str = "CASE WHEN timestamp GLOB '*[+-][0-9][0-9]:[0-9][0-9]' OR timestamp GLOB '*Z'
     THEN unixepoch(timestamp, 'subsec') ELSE unixepoch(timestamp, 'subsec', 'utc') END";

/// An empty run.
fn new_run(source_id: String, name: String, experiment: &str) -> ImportedRun {
    ImportedRun {
        source_id,
        source: "trackio",
        experiment: experiment.to_owned(),
        name,
        status: RunStatus::Completed,
        started_ms: i64::MAX,
        ended_ms: None,
        params: Vec::new(),
        tags: Vec::new(),
        series: Vec::new(),
        artifacts: Vec::new(),
    }
}

/// A logged value as trackio reads it back: a number, or NaN/±Inf from its strings.
fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => match s.as_str() {
            "NaN" => Some(f64::NAN),
            "Infinity" => Some(f64::INFINITY),
            "-Infinity" => Some(f64::NEG_INFINITY),
            _ => None,
        },
        _ => None,
    }
}

/// A run's config (JSON) as params; trackio's own `_Username` and `_Group` as tags.
fn params(json: &[u8], run: &mut ImportedRun) {
    let Ok(Value::Object(config)) = serde_json::from_slice::<Value>(json) else { return };
    for (key, value) in config {
        match key.as_str() {
            "_Username" | "_Group" => {
                if let Value::String(s) = value {
                    run.tags.push((format!("trackio.{}", key[1..].to_lowercase()), s));
                }
            }
            k if k.starts_with('_') => {}
            _ => {
                let param = match number(&value) {
                    Some(_) if value.is_i64() => ParamValue::Int(value.as_i64().unwrap_or_default()),
                    Some(x) => ParamValue::Float(x),
                    None => match value {
                        Value::Bool(b) => ParamValue::Bool(b),
                        Value::String(s) => ParamValue::Str(s),
                        other => ParamValue::Json(other),
                    },
                };
                run.params.push((key, param));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trackios_strings_for_nan_and_inf_are_numbers() {
        assert!(number(&Value::from("NaN")).unwrap().is_nan());
        assert_eq!(number(&Value::from("Infinity")), Some(f64::INFINITY));
        assert_eq!(number(&Value::from("-Infinity")), Some(f64::NEG_INFINITY));
        assert_eq!(number(&serde_json::json!(0.1)), Some(0.1));
        for not in [Value::from("cat.png"), Value::Bool(true), serde_json::json!({"_type": "image"})] {
            assert_eq!(number(&not), None, "{not}");
        }
    }

    #[test]
    fn other_databases_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mlflow_like = dir.path().join("mlflow.db");
        Connection::open(&mlflow_like)
            .unwrap()
            .execute_batch("CREATE TABLE metrics (key TEXT, value REAL, step INTEGER, timestamp INTEGER)")
            .unwrap();
        let err = read(&mlflow_like, None, &mut |_, _| {}).unwrap_err().to_string();
        assert!(err.contains("not a trackio project database"), "{err}");
    }
}
