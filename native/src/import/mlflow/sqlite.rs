//! MLflow's SQLite store (`mlflow.db`), read-only with SQL: the tables every MLflow 2.x and 3.x
//! schema has, and the registry's tables where the schema has them.

use std::collections::HashMap;
use std::path::Path;

use runstore_core::{Context, Point};
use rusqlite::{Connection, OpenFlags};

use super::{Progress, Read, add_tag, artifacts, param_value, status};
use crate::import::{
    ImportedExperiment, ImportedModel, ImportedModelVersion, ImportedRun, ImportedSeries, Skipped,
};
use crate::{Error, Result};

/// The tables every MLflow SQLite store has.
const TABLES: [&str; 6] = ["experiments", "experiment_tags", "runs", "params", "tags", "metrics"];

/// Reads the MLflow SQLite store at `path`.
pub(super) fn read(path: &Path, progress: Progress<'_>) -> Result<Read> {
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
    // Relative artifact locations are MLflow's working directory's; the store's folder is the
    // best guess at it.
    let base = path.parent().unwrap_or(Path::new("."));

    let mut experiments: HashMap<String, ImportedExperiment> = HashMap::new();
    let mut stmt = conn
        .prepare(
            "SELECT e.name, t.key, t.value FROM experiment_tags t JOIN experiments e ON e.experiment_id = t.experiment_id
             WHERE e.lifecycle_stage IS NOT 'deleted' ORDER BY e.name, t.key",
        )
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

    let mut series = metric_series(&conn, progress).map_err(sql)?;

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
        let status_name = text(2)?;
        let status = status_name
            .as_deref()
            .and_then(status)
            .ok_or_else(|| fail(format!("run {id} has a status MLflow does not write: {status_name:?}")))?;
        let mut run_tags = tags.remove(&id).unwrap_or_default();
        let artifact_uri = text(8)?.unwrap_or_default();
        add_tag(&mut run_tags, "mlflow.user", text(6)?);
        add_tag(&mut run_tags, "mlflow.source.name", text(7)?);
        add_tag(&mut run_tags, "mlflow.artifact_uri", Some(artifact_uri.clone()));
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
            artifacts: artifacts(&artifact_uri, None, base)?,
        });
    }
    let mut experiments: Vec<ImportedExperiment> = experiments.into_values().collect();
    experiments.sort_by(|a, b| a.name.cmp(&b.name));
    let models = models(&conn, &tables, &mut skipped).map_err(sql)?;
    Ok(Read { experiments, runs, models, skipped })
}

/// A metric row: the point, the value as stored (0 where `is_nan`), `is_nan`.
type Row = (Point, f64, bool);

/// Every metric point by run, each run's series in key order and each series in the order
/// MLflow's client returns a history (step, timestamp, value). The table is read in one scan
/// and sorted here: ordering in SQL walks MLflow's index and looks up every row (3.5× slower).
fn metric_series(
    conn: &Connection,
    progress: Progress<'_>,
) -> rusqlite::Result<HashMap<String, Vec<ImportedSeries>>> {
    let total =
        conn.query_row("SELECT count(*) FROM metrics", [], |r| r.get::<_, i64>(0).map(|n| n as u64))?;
    let mut done = 0u64;
    // Rows of one series mostly come together.
    let mut by_series: HashMap<(String, String), Vec<Row>> = HashMap::new();
    let mut last: Option<(String, String)> = None;
    let mut stmt = conn.prepare("SELECT run_uuid, key, step, timestamp, value, is_nan FROM metrics")?;
    let mut rows = stmt.query([])?;
    let mut current: Vec<Row> = Vec::new();
    while let Some(r) = rows.next()? {
        done += 1;
        if done.is_multiple_of(65_536) {
            progress(done, total.max(done));
        }
        let (run, key) = (r.get_ref(0)?.as_str()?, r.get_ref(1)?.as_str()?);
        if last.as_ref().is_none_or(|(lr, lk)| lr != run || lk != key) {
            if let Some(done) = last.take() {
                by_series.entry(done).or_default().append(&mut current);
            }
            last = Some((run.to_owned(), key.to_owned()));
        }
        let is_nan = r.get::<_, Option<bool>>(5)?.unwrap_or(false);
        let stored = r.get::<_, Option<f64>>(4)?.unwrap_or(f64::NAN);
        let point = Point {
            step: r.get::<_, Option<i64>>(2)?.unwrap_or(0),
            time_ms: r.get(3)?,
            value: if is_nan { f64::NAN } else { stored },
            epoch: None,
            batch: None,
        };
        current.push((point, stored, is_nan));
    }
    if let Some(done) = last {
        by_series.entry(done).or_default().append(&mut current);
    }
    progress(total, total);
    let mut series: HashMap<String, Vec<ImportedSeries>> = HashMap::new();
    for ((run, key), mut points) in by_series {
        points.sort_by(|a, b| {
            (a.0.step, a.0.time_ms)
                .cmp(&(b.0.step, b.0.time_ms))
                .then(a.1.total_cmp(&b.1))
                .then(a.2.cmp(&b.2))
        });
        let points = points.into_iter().map(|(p, ..)| p).collect();
        series.entry(run).or_default().push(ImportedSeries { key, context: Context::none(), points });
    }
    for list in series.values_mut() {
        list.sort_by(|a, b| a.key.cmp(&b.key));
    }
    Ok(series)
}

/// The model registry: models with tags and aliases, versions (deleted ones left out) with
/// tags. Tables a schema lacks (aliases came in MLflow 2.3) read as empty.
fn models(
    conn: &Connection,
    tables: &[String],
    skipped: &mut Vec<Skipped>,
) -> rusqlite::Result<Vec<ImportedModel>> {
    let has = |t: &str| tables.iter().any(|have| have == t);
    if !has("registered_models") || !has("model_versions") {
        return Ok(Vec::new());
    }
    let pairs = |query: &str, table: &str| -> rusqlite::Result<Vec<(String, String, String)>> {
        if !has(table) {
            return Ok(Vec::new());
        }
        conn.prepare(query)?
            .query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get::<_, Option<String>>(2)?.unwrap_or_default()))
            })?
            .collect()
    };
    let model_tags = pairs(
        "SELECT name, key, value FROM registered_model_tags ORDER BY name, key",
        "registered_model_tags",
    )?;
    let aliases = pairs(
        "SELECT name, alias, CAST(version AS TEXT) FROM registered_model_aliases ORDER BY name, alias",
        "registered_model_aliases",
    )?;
    let version_tags = pairs(
        "SELECT name || ' ' || version, key, value FROM model_version_tags ORDER BY name, version, key",
        "model_version_tags",
    )?;
    let mut models: Vec<ImportedModel> = conn
        .prepare("SELECT name, coalesce(description, ''), coalesce(creation_time, 0) FROM registered_models ORDER BY name")?
        .query_map([], |r| {
            Ok(ImportedModel {
                name: r.get(0)?,
                description: r.get(1)?,
                created_ms: r.get(2)?,
                tags: Vec::new(),
                versions: Vec::new(),
                aliases: Vec::new(),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    for model in &mut models {
        model.tags = model_tags
            .iter()
            .filter(|(n, ..)| *n == model.name)
            .map(|(_, k, v)| (k.clone(), v.clone()))
            .collect();
        model.aliases = aliases
            .iter()
            .filter(|(n, ..)| *n == model.name)
            .filter_map(|(_, alias, version)| Some((alias.clone(), version.parse().ok()?)))
            .collect();
    }
    let mut stmt = conn.prepare(
        "SELECT name, version, coalesce(description, ''), coalesce(source, ''), run_id,
                coalesce(creation_time, 0), coalesce(current_stage, ''), coalesce(status, '')
         FROM model_versions ORDER BY name, version",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let (name, version, stage): (String, i64, String) = (r.get(0)?, r.get(1)?, r.get(6)?);
        if stage == "Deleted_Internal" {
            skipped.push(Skipped {
                what: format!("version {version} of model {name:?}"),
                why: "deleted in MLflow".into(),
            });
            continue;
        }
        let Some(model) = models.iter_mut().find(|m| m.name == name) else { continue };
        let created_ms: i64 = r.get(5)?;
        let key = format!("{name} {version}");
        let mut tags: Vec<(String, String)> =
            version_tags.iter().filter(|(n, ..)| *n == key).map(|(_, k, v)| (k.clone(), v.clone())).collect();
        add_tag(&mut tags, "mlflow.stage", Some(stage).filter(|s| s != "None"));
        add_tag(&mut tags, "mlflow.status", Some(r.get(7)?));
        model.versions.push(ImportedModelVersion {
            source_id: format!("mlflow:model:{name}:{version}:{created_ms}"),
            version,
            description: r.get(2)?,
            storage_path: r.get(3)?,
            size_bytes: 0,
            run_source_id: r
                .get::<_, Option<String>>(4)?
                .filter(|id| !id.is_empty())
                .map(|id| format!("mlflow:{id}")),
            tags,
            created_ms,
        });
    }
    Ok(models)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_files_are_refused_with_what_they_lack() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("plain.db");
        Connection::open(&plain).unwrap().execute_batch("CREATE TABLE runs (id TEXT)").unwrap();
        let err = read(&plain, &mut |_, _| {}).unwrap_err().to_string();
        assert!(err.contains("not an MLflow tracking store: no table `experiments`"), "{err}");
        let text = dir.path().join("notes.txt");
        std::fs::write(&text, "hello, this is not a database at all, just some text").unwrap();
        let err = read(&text, &mut |_, _| {}).unwrap_err().to_string();
        assert!(err.contains("notes.txt: not an SQLite database"), "{err}");
    }
}
