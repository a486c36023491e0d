//! MLflow tracking stores kept in SQLite (`mlflow.db`; the schema of MLflow 2.x and 3.x):
//! experiments and their tags, runs (name, status, start and end, user, source, artifact
//! location), params, tags, and every metric point with its step and timestamp. A run keeps its
//! MLflow id in `import.source_id` (`mlflow:RUN_ID`) and its MLflow tags (`mlflow.runName`,
//! `mlflow.user`, ...). Values are MLflow's: NaN where it marks `is_nan`, and ±Inf as MLflow
//! stores and its client returns them, ±1.7976931348623157e308. A param becomes a number when
//! the number prints as the same text (`0.01`, `4`); else it stays text (`1e-3`, `True`).
//! Runs deleted in MLflow (or in a deleted experiment) are left out, and listed.

use std::collections::HashMap;
use std::path::Path;

use runstore_core::{Context, ParamValue, Point, RunStatus};
use rusqlite::{Connection, OpenFlags};

use super::{ImportedExperiment, ImportedRun, ImportedSeries, Skipped};
use crate::{Error, Result};

/// What one MLflow store held.
#[derive(Debug, Clone, PartialEq)]
pub struct Read {
    /// Experiments with tags.
    pub experiments: Vec<ImportedExperiment>,
    /// Runs, oldest first.
    pub runs: Vec<ImportedRun>,
    /// Runs left out, with why.
    pub skipped: Vec<Skipped>,
}

/// The tables (and the run table's id column) every MLflow SQLite store has.
const TABLES: [&str; 6] = ["experiments", "experiment_tags", "runs", "params", "tags", "metrics"];

/// Reads the MLflow SQLite store at `path` (opened read-only; MLflow may keep using it).
pub fn read_sqlite(path: &Path) -> Result<Read> {
    let shown = path.display().to_string();
    let fail = |why: String| Error::Import(format!("{shown}: {why}"));
    let conn =
        Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .map_err(|e| fail(format!("cannot open ({e})")))?;
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .map_err(|e| fail(format!("not an SQLite database ({e})")))?;
    if let Some(missing) = TABLES.iter().find(|t| !tables.iter().any(|have| have == *t)) {
        return Err(fail(format!("not an MLflow tracking store: no table `{missing}`")));
    }
    let sql = |e: rusqlite::Error| fail(format!("reading: {e}"));

    let mut experiments: HashMap<String, ImportedExperiment> = HashMap::new();
    let mut stmt = conn
        .prepare("SELECT e.name, t.key, t.value FROM experiment_tags t JOIN experiments e ON e.experiment_id = t.experiment_id ORDER BY e.name, t.key")
        .map_err(sql)?;
    for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?))).map_err(sql)? {
        let (name, key, value) = row.map_err(sql)?;
        experiments
            .entry(name.clone())
            .or_insert_with(|| ImportedExperiment { name, tags: Vec::new() })
            .tags
            .push((key, value));
    }
    let by_run = |query: &str| -> Result<HashMap<String, Vec<(String, String)>>> {
        let mut out: HashMap<String, Vec<(String, String)>> = HashMap::new();
        let mut stmt = conn.prepare(query).map_err(sql)?;
        for row in stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get(1)?, r.get::<_, Option<String>>(2)?)))
            .map_err(sql)?
        {
            let (run, key, value) = row.map_err(sql)?;
            out.entry(run).or_default().push((key, value.unwrap_or_default()));
        }
        Ok(out)
    };
    let mut params = by_run("SELECT run_uuid, key, value FROM params ORDER BY run_uuid, key")?;
    let mut tags = by_run("SELECT run_uuid, key, value FROM tags ORDER BY run_uuid, key")?;

    // Every point, in the order MLflow's client returns a history: step, timestamp, value.
    let mut series: HashMap<String, Vec<ImportedSeries>> = HashMap::new();
    let mut stmt = conn
        .prepare("SELECT run_uuid, key, step, timestamp, value, is_nan FROM metrics ORDER BY run_uuid, key, step, timestamp, value, is_nan")
        .map_err(sql)?;
    let mut rows = stmt.query([]).map_err(sql)?;
    while let Some(r) = rows.next().map_err(sql)? {
        let run: String = r.get(0).map_err(sql)?;
        let key: String = r.get(1).map_err(sql)?;
        let is_nan: bool = r.get::<_, Option<bool>>(5).map_err(sql)?.unwrap_or(false);
        let value: f64 =
            if is_nan { f64::NAN } else { r.get::<_, Option<f64>>(4).map_err(sql)?.unwrap_or(f64::NAN) };
        let point = Point {
            step: r.get::<_, Option<i64>>(2).map_err(sql)?.unwrap_or(0),
            time_ms: r.get(3).map_err(sql)?,
            value,
            epoch: None,
            batch: None,
        };
        let list = series.entry(run).or_default();
        match list.last_mut() {
            Some(last) if last.key == key => last.points.push(point),
            _ => list.push(ImportedSeries { key, context: Context::none(), points: vec![point] }),
        }
    }

    let mut runs = Vec::new();
    let mut skipped = Vec::new();
    let mut stmt = conn
        .prepare(
            "SELECT r.run_uuid, r.name, r.status, r.start_time, r.end_time, r.lifecycle_stage, r.user_id,
                    r.source_name, r.artifact_uri, e.name, e.lifecycle_stage
             FROM runs r JOIN experiments e ON e.experiment_id = r.experiment_id
             ORDER BY r.start_time, r.run_uuid",
        )
        .map_err(sql)?;
    let mut rows = stmt.query([]).map_err(sql)?;
    while let Some(r) = rows.next().map_err(sql)? {
        let text = |i: usize| r.get::<_, Option<String>>(i).map_err(sql);
        let id = text(0)?.unwrap_or_default();
        let name = text(1)?.filter(|n| !n.is_empty()).unwrap_or_else(|| id.clone());
        let experiment = text(9)?.unwrap_or_default();
        if text(5)?.as_deref() == Some("deleted") || text(10)?.as_deref() == Some("deleted") {
            skipped.push(Skipped {
                what: format!("run {id} ({name}) of {shown}"),
                why: "deleted in MLflow".into(),
            });
            continue;
        }
        let status = match text(2)?.as_deref() {
            Some("FINISHED") => RunStatus::Completed,
            Some("FAILED") => RunStatus::Failed,
            Some("KILLED") => RunStatus::Killed,
            Some("RUNNING") => RunStatus::Running,
            Some("SCHEDULED") => RunStatus::Pending,
            other => return Err(fail(format!("run {id} has a status MLflow does not write: {other:?}"))),
        };
        let mut run_tags = tags.remove(&id).unwrap_or_default();
        let mut add = |key: &str, value: Option<String>| {
            if let Some(value) = value.filter(|v| !v.is_empty())
                && !run_tags.iter().any(|(k, _)| k == key)
            {
                run_tags.push((key.to_owned(), value));
            }
        };
        add("mlflow.user", text(6)?);
        add("mlflow.source.name", text(7)?);
        add("mlflow.artifact_uri", text(8)?);
        let started_ms = r.get::<_, Option<i64>>(3).map_err(sql)?.unwrap_or(0);
        runs.push(ImportedRun {
            source_id: format!("mlflow:{id}"),
            source: "mlflow",
            experiment,
            name,
            status,
            started_ms,
            ended_ms: r.get(4).map_err(sql)?,
            params: params
                .remove(&id)
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, param_value(v)))
                .collect(),
            tags: run_tags,
            series: series.remove(&id).unwrap_or_default(),
        });
    }
    let mut experiments: Vec<ImportedExperiment> = experiments.into_values().collect();
    experiments.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Read { experiments, runs, skipped })
}

/// A param's text as a number when the number prints as the same text, else the text.
fn param_value(text: String) -> ParamValue {
    if let Ok(i) = text.parse::<i64>()
        && i.to_string() == text
    {
        return ParamValue::Int(i);
    }
    if let Ok(x) = text.parse::<f64>()
        && x.is_finite()
        && format!("{x}") == text
    {
        return ParamValue::Float(x);
    }
    ParamValue::Str(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_become_numbers_only_when_nothing_is_lost() {
        assert_eq!(param_value("4".into()), ParamValue::Int(4));
        assert_eq!(param_value("0.01".into()), ParamValue::Float(0.01));
        for text in ["1e-3", "True", "04", "0.10", "nan", "adam", ""] {
            assert_eq!(param_value(text.into()), ParamValue::Str(text.into()), "{text}");
        }
    }

    #[test]
    fn other_files_are_refused_with_what_they_lack() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("plain.db");
        Connection::open(&plain).unwrap().execute_batch("CREATE TABLE runs (id TEXT)").unwrap();
        let err = read_sqlite(&plain).unwrap_err().to_string();
        assert!(err.contains("not an MLflow tracking store: no table `experiments`"), "{err}");
        let text = dir.path().join("notes.txt");
        std::fs::write(&text, "hello, this is not a database at all, just some text").unwrap();
        let err = read_sqlite(&text).unwrap_err().to_string();
        assert!(err.contains("notes.txt: not an SQLite database"), "{err}");
    }
}
