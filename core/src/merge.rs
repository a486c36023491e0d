//! Merging stores recorded on different machines or by parallel jobs into one.
//!
//! - Experiments unify by name, trials by (experiment, name), models by name.
//! - Runs keep their ids. A run the destination already has is not copied again, so merging
//!   the same file twice adds nothing — unless the source's copy is further along (at least as
//!   many points in every series and rows of every kind as the destination's, a heartbeat no
//!   older, and something new: points, rows, heartbeat, status or results): then the
//!   destination's copy is replaced by it, so persisting a live in-memory recorder again
//!   brings its later points, tags, artifacts and final status. An older copy never overwrites
//!   a newer one, and a finished run never becomes running again.
//! - The source is read in one read transaction: a file being recorded into merges as one
//!   moment of it.
//! - A malformed source (a reference to a missing experiment, trial or model, a series twice)
//!   is refused with an error naming what is wrong, and nothing is written.
//! - Model versions keep their ids; a version whose number is taken in the destination by
//!   another version gets the next free number (aliases follow the version, not the number).
//! - Metric chunks are copied as they are (blobs), with series ids remapped; summaries and
//!   overviews come along, so nothing is recomputed.
//! - Rows are copied in the order they were written, so listings that break ties by
//!   insertion order read the same in the merged file.

use std::collections::HashMap;

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};

use crate::{Error, Result, Store};

/// What a merge did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct MergeReport {
    /// Experiments created in the destination.
    pub experiments_added: u64,
    /// Experiments found in the destination by name.
    pub experiments_unified: u64,
    /// Runs copied.
    pub runs_added: u64,
    /// Runs the destination already had (not copied again).
    pub runs_present: u64,
    /// Runs the destination had an older copy of, replaced by the source's.
    pub runs_updated: u64,
    /// Metric points copied.
    pub points_added: u64,
    /// Model versions copied.
    pub model_versions_added: u64,
    /// Model versions that got a new number because theirs was taken.
    pub model_versions_renumbered: u64,
}

/// Progress of a merge, reported after each run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MergeProgress {
    /// Runs handled so far.
    pub runs_done: u64,
    /// Runs in the source.
    pub runs_total: u64,
    /// Points copied so far.
    pub points_done: u64,
}

/// Reads every row of `sql` (on `src`) as values.
fn rows(src: &Connection, sql: &str, args: impl rusqlite::Params) -> Result<Vec<Vec<Value>>> {
    let mut stmt = src.prepare_cached(sql)?;
    let n = stmt.column_count();
    let rows =
        stmt.query_map(args, |r| (0..n).map(|i| r.get::<_, Value>(i)).collect::<rusqlite::Result<Vec<_>>>())?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// `?1, ?2, ...` for each value.
fn marks(values: &[Value]) -> String {
    (1..=values.len()).map(|i| format!("?{i}")).collect::<Vec<_>>().join(", ")
}

/// Inserts `values` into `table (columns)`, ignoring rows whose key exists.
fn insert(tx: &Transaction<'_>, table: &str, columns: &str, values: &[Value]) -> Result<usize> {
    let marks = vec!["?"; values.len()].join(", ");
    Ok(tx
        .prepare_cached(&format!("INSERT OR IGNORE INTO {table} ({columns}) VALUES ({marks})"))?
        .execute(rusqlite::params_from_iter(values))?)
}

/// The destination's id for `id`, or an error naming the dangling reference.
fn lookup(
    ids: &HashMap<String, String>,
    table: &'static str,
    owner: &Value,
    kind: &str,
    id: &Value,
) -> Result<String> {
    ids.get(&text(id)).cloned().ok_or_else(|| Error::Corrupt {
        table,
        why: format!("{} refers to {kind} {}, which the source does not have", text(owner), text(id)),
    })
}

fn text(v: &Value) -> String {
    match v {
        Value::Text(s) => s.clone(),
        other => format!("{other:?}"),
    }
}

const RUN_COLUMNS: &str = "id, experiment_id, trial_id, name, status, created_ms, started_ms, ended_ms, heartbeat_ms, \
                           heartbeat_interval_ms, host, pid, error, results_json";
const ARTIFACT_COLUMNS: &str = "id, name, kind, uri, size_bytes, sha256, created_ms, experiment_id, trial_id, run_id, \
                                epoch, batch, model_version_id, metadata_json";

impl Store {
    /// Copies into this store everything of `src` it does not have yet (see the module docs),
    /// in one transaction, calling `progress` after each run.
    pub fn merge_from(
        &mut self,
        src: &Store,
        progress: &mut dyn FnMut(MergeProgress),
    ) -> Result<MergeReport> {
        if !self.compatibility().writable {
            return Err(Error::ReadOnly {
                found: self.compatibility().file_version,
                supported: crate::schema::SCHEMA_VERSION,
            });
        }
        if src.compatibility().file_version != self.compatibility().file_version {
            return Err(Error::invalid(
                "merge source",
                format!(
                    "schema version {} differs from the destination's {}; open it with this runstore for writing once to upgrade it",
                    src.compatibility().file_version,
                    self.compatibility().file_version
                ),
            ));
        }
        // The source may be a file another process is recording into: read one moment of it.
        src.in_snapshot(|| self.merge_in_snapshot(src, progress))
    }

    fn merge_in_snapshot(
        &mut self,
        src: &Store,
        progress: &mut dyn FnMut(MergeProgress),
    ) -> Result<MergeReport> {
        let s = src.conn();
        let tx = self.conn_mut().transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut report = MergeReport::default();
        let mut ids: HashMap<String, String> = HashMap::new();

        for row in rows(
            s,
            "SELECT id, name, description, status, created_ms, updated_ms, results_json FROM experiments",
            [],
        )? {
            let existing: Option<String> = tx
                .prepare_cached("SELECT id FROM experiments WHERE name = ?1")?
                .query_row([&row[1]], |r| r.get(0))
                .optional()?;
            match existing {
                Some(id) => {
                    ids.insert(text(&row[0]), id);
                    report.experiments_unified += 1;
                }
                None => {
                    insert(
                        &tx,
                        "experiments",
                        "id, name, description, status, created_ms, updated_ms, results_json",
                        &row,
                    )?;
                    ids.insert(text(&row[0]), text(&row[0]));
                    report.experiments_added += 1;
                }
            }
        }
        for row in rows(s, "SELECT id, experiment_id, name, description, created_ms FROM trials", [])? {
            let exp = lookup(&ids, "trials", &row[0], "experiment", &row[1])?;
            let existing: Option<String> = tx
                .prepare_cached("SELECT id FROM trials WHERE experiment_id = ?1 AND name = ?2")?
                .query_row(params![exp, row[2]], |r| r.get(0))
                .optional()?;
            let id = match existing {
                Some(id) => id,
                None => {
                    insert(
                        &tx,
                        "trials",
                        "id, experiment_id, name, description, created_ms",
                        &[row[0].clone(), Value::Text(exp), row[2].clone(), row[3].clone(), row[4].clone()],
                    )?;
                    text(&row[0])
                }
            };
            ids.insert(text(&row[0]), id);
        }
        let remap = |v: &Value, ids: &HashMap<String, String>| match v {
            Value::Text(t) => Value::Text(ids.get(t).cloned().unwrap_or_else(|| t.clone())),
            other => other.clone(),
        };
        // Params and tags of experiments, trials and models (runs' come with the runs).
        for row in rows(
            s,
            "SELECT owner_kind, owner_id, key, kind, value FROM params WHERE owner_kind IN ('experiment', 'trial')",
            [],
        )? {
            insert(
                &tx,
                "params",
                "owner_kind, owner_id, key, kind, value",
                &[row[0].clone(), remap(&row[1], &ids), row[2].clone(), row[3].clone(), row[4].clone()],
            )?;
        }
        for row in rows(
            s,
            "SELECT owner_kind, owner_id, key, value FROM tags WHERE owner_kind IN ('experiment', 'trial')",
            [],
        )? {
            insert(
                &tx,
                "tags",
                "owner_kind, owner_id, key, value",
                &[row[0].clone(), remap(&row[1], &ids), row[2].clone(), row[3].clone()],
            )?;
        }

        let runs = rows(s, &format!("SELECT {RUN_COLUMNS} FROM runs ORDER BY created_ms, rowid"), [])?;
        let total = runs.len() as u64;
        for (done, mut run) in runs.into_iter().enumerate() {
            let run_id = text(&run[0]);
            let present: bool = tx
                .prepare_cached("SELECT EXISTS (SELECT 1 FROM runs WHERE id = ?1)")?
                .query_row([&run_id], |r| r.get(0))?;
            run[1] = Value::Text(lookup(&ids, "runs", &run[0], "experiment", &run[1])?);
            if run[2] != Value::Null {
                run[2] = Value::Text(lookup(&ids, "runs", &run[0], "trial", &run[2])?);
            }
            if !present {
                tx.prepare_cached(&format!("INSERT INTO runs ({RUN_COLUMNS}) VALUES ({})", marks(&run)))?
                    .execute(rusqlite::params_from_iter(&run))?;
                report.points_added += copy_run(s, &tx, &run_id)?;
                report.runs_added += 1;
            } else if further_along(s, &tx, &run_id)? {
                delete_run_rows(&tx, &run_id)?;
                tx.prepare_cached(&format!(
                    "UPDATE runs SET ({RUN_COLUMNS}) = ({}) WHERE id = ?1",
                    marks(&run)
                ))?
                .execute(rusqlite::params_from_iter(&run))?;
                report.points_added += copy_run(s, &tx, &run_id)?;
                report.runs_updated += 1;
            } else {
                report.runs_present += 1;
            }
            progress(MergeProgress {
                runs_done: done as u64 + 1,
                runs_total: total,
                points_done: report.points_added,
            });
        }

        // Experiment- and trial-level artifacts; run-less samples and spans (skipping exact copies).
        for mut row in rows(
            s,
            &format!(
                "SELECT {ARTIFACT_COLUMNS} FROM artifacts WHERE run_id IS NULL AND model_version_id IS NULL ORDER BY rowid"
            ),
            [],
        )? {
            row[7] = remap(&row[7], &ids);
            row[8] = remap(&row[8], &ids);
            insert(&tx, "artifacts", ARTIFACT_COLUMNS, &row)?;
        }
        for row in rows(
            s,
            "SELECT time_ms, kind, name, value, unit FROM resource_samples WHERE run_id IS NULL ORDER BY rowid",
            [],
        )? {
            tx.prepare_cached(
                "INSERT INTO resource_samples (time_ms, kind, name, value, unit) SELECT ?1, ?2, ?3, ?4, ?5
                 WHERE NOT EXISTS (SELECT 1 FROM resource_samples WHERE run_id IS NULL AND time_ms = ?1 AND kind = ?2 AND name = ?3 AND value IS ?4)",
            )?
            .execute(rusqlite::params_from_iter(&row))?;
        }
        for row in rows(
            s,
            "SELECT name, start_ms, duration_ms, attributes_json FROM spans WHERE run_id IS NULL ORDER BY rowid",
            [],
        )? {
            tx.prepare_cached(
                "INSERT INTO spans (name, start_ms, duration_ms, attributes_json) SELECT ?1, ?2, ?3, ?4
                 WHERE NOT EXISTS (SELECT 1 FROM spans WHERE run_id IS NULL AND name = ?1 AND start_ms = ?2 AND duration_ms = ?3)",
            )?
            .execute(rusqlite::params_from_iter(&row))?;
        }
        merge_registry(s, &tx, &mut report)?;
        tx.commit()?;
        Ok(report)
    }
}

/// Copies a run's own rows; returns the number of points copied.
fn copy_run(s: &Connection, tx: &Transaction<'_>, run_id: &str) -> Result<u64> {
    for row in rows(
        s,
        "SELECT owner_kind, owner_id, key, kind, value FROM params WHERE owner_kind = 'run' AND owner_id = ?1",
        [run_id],
    )? {
        insert(tx, "params", "owner_kind, owner_id, key, kind, value", &row)?;
    }
    for row in rows(
        s,
        "SELECT owner_kind, owner_id, key, value FROM tags WHERE owner_kind = 'run' AND owner_id = ?1",
        [run_id],
    )? {
        insert(tx, "tags", "owner_kind, owner_id, key, value", &row)?;
    }
    for row in rows(s, "SELECT run_id, idx, started_ms, ended_ms FROM epochs WHERE run_id = ?1", [run_id])? {
        insert(tx, "epochs", "run_id, idx, started_ms, ended_ms", &row)?;
    }
    for row in
        rows(s, "SELECT run_id, epoch, idx, started_ms, ended_ms FROM batches WHERE run_id = ?1", [run_id])?
    {
        insert(tx, "batches", "run_id, epoch, idx, started_ms, ended_ms", &row)?;
    }
    const DATASET: &str =
        "id, run_id, role, name, path, rows, columns, schema_json, size_bytes, sha256, created_ms";
    for row in rows(s, &format!("SELECT {DATASET} FROM datasets WHERE run_id = ?1 ORDER BY rowid"), [run_id])?
    {
        insert(tx, "datasets", DATASET, &row)?;
    }
    const CODE: &str =
        "run_id, git_commit, git_branch, git_dirty, repo_root, entrypoint, files_json, captured_ms";
    for row in rows(s, &format!("SELECT {CODE} FROM code_versions WHERE run_id = ?1"), [run_id])? {
        insert(tx, "code_versions", CODE, &row)?;
    }
    const ENV: &str = "run_id, os, os_version, hostname, cpu, cpu_count, memory_bytes, gpu, runtimes_json, packages_json, captured_ms";
    for row in rows(s, &format!("SELECT {ENV} FROM environments WHERE run_id = ?1"), [run_id])? {
        insert(tx, "environments", ENV, &row)?;
    }
    for row in rows(
        s,
        &format!("SELECT {ARTIFACT_COLUMNS} FROM artifacts WHERE run_id = ?1 ORDER BY rowid"),
        [run_id],
    )? {
        insert(tx, "artifacts", ARTIFACT_COLUMNS, &row)?;
    }
    for row in rows(
        s,
        "SELECT run_id, time_ms, kind, name, value, unit FROM resource_samples WHERE run_id = ?1 ORDER BY rowid",
        [run_id],
    )? {
        insert(tx, "resource_samples", "run_id, time_ms, kind, name, value, unit", &row)?;
    }
    for row in rows(
        s,
        "SELECT run_id, name, start_ms, duration_ms, attributes_json FROM spans WHERE run_id = ?1 ORDER BY rowid",
        [run_id],
    )? {
        insert(tx, "spans", "run_id, name, start_ms, duration_ms, attributes_json", &row)?;
    }
    const SERIES: &str = "run_id, key, context, label, count, nan_count, first_step, first_ms, last_step, last_ms, \
                          last_value, min_value, max_value, sum_value";
    let mut points = 0u64;
    for row in
        rows(s, &format!("SELECT id, {SERIES} FROM metric_series WHERE run_id = ?1 ORDER BY id"), [run_id])?
    {
        // A plain INSERT: the id of an ignored insert would be some earlier row's.
        tx.prepare_cached(&format!("INSERT INTO metric_series ({SERIES}) VALUES ({})", marks(&row[1..])))?
            .execute(rusqlite::params_from_iter(&row[1..]))
            .map_err(|e| match e.sqlite_error_code() {
                Some(rusqlite::ErrorCode::ConstraintViolation) => Error::Corrupt {
                    table: "metric_series",
                    why: format!("run {run_id} has the series {} more than once ({e})", text(&row[2])),
                },
                _ => e.into(),
            })?;
        let new_id = tx.last_insert_rowid();
        if let Value::Integer(n) = row[5] {
            points += n as u64;
        }
        let mut chunks = s.prepare_cached(
            "SELECT first_step, last_step, count, data FROM metric_chunks WHERE series_id = ?1 ORDER BY id",
        )?;
        let mut add = tx.prepare_cached("INSERT INTO metric_chunks (series_id, first_step, last_step, count, data) VALUES (?1, ?2, ?3, ?4, ?5)")?;
        let mut rs = chunks.query([&row[0]])?;
        while let Some(c) = rs.next()? {
            use rusqlite::types::ToSqlOutput::Borrowed;
            add.execute(params![
                new_id,
                Borrowed(c.get_ref(0)?),
                Borrowed(c.get_ref(1)?),
                Borrowed(c.get_ref(2)?),
                Borrowed(c.get_ref(3)?)
            ])?;
        }
        const OVERVIEW: &str = "level, bucket, count, nan_count, first_step, first_ms, first_value, last_step, last_ms, \
                                last_value, min_step, min_value, max_step, max_value";
        for mut o in
            rows(s, &format!("SELECT {OVERVIEW} FROM metric_overviews WHERE series_id = ?1"), [&row[0]])?
        {
            o.insert(0, Value::Integer(new_id));
            insert(tx, "metric_overviews", &format!("series_id, {OVERVIEW}"), &o)?;
        }
    }
    Ok(points)
}

fn merge_registry(s: &Connection, tx: &Transaction<'_>, report: &mut MergeReport) -> Result<()> {
    let mut models: HashMap<String, String> = HashMap::new();
    for row in rows(s, "SELECT id, name, description, created_ms, updated_ms FROM models", [])? {
        let existing: Option<String> = tx
            .prepare_cached("SELECT id FROM models WHERE name = ?1")?
            .query_row([&row[1]], |r| r.get(0))
            .optional()?;
        let id = match existing {
            Some(id) => id,
            None => {
                insert(tx, "models", "id, name, description, created_ms, updated_ms", &row)?;
                text(&row[0])
            }
        };
        for tag in
            rows(s, "SELECT key, value FROM tags WHERE owner_kind = 'model' AND owner_id = ?1", [&row[0]])?
        {
            insert(
                tx,
                "tags",
                "owner_kind, owner_id, key, value",
                &[Value::Text("model".into()), Value::Text(id.clone()), tag[0].clone(), tag[1].clone()],
            )?;
        }
        models.insert(text(&row[0]), id);
    }
    const VERSION: &str =
        "id, model_id, version, description, storage_path, size_bytes, sha256, source_run_id, created_ms";
    for mut row in rows(s, &format!("SELECT {VERSION} FROM model_versions ORDER BY model_id, version"), [])? {
        let present: bool = tx
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM model_versions WHERE id = ?1)")?
            .query_row([&row[0]], |r| r.get(0))?;
        if present {
            continue;
        }
        let model = lookup(&models, "model_versions", &row[0], "model", &row[1])?;
        let taken: bool = tx
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM model_versions WHERE model_id = ?1 AND version = ?2)",
            )?
            .query_row(params![model, row[2]], |r| r.get(0))?;
        if taken {
            let next: i64 = tx
                .prepare_cached(
                    "SELECT coalesce(max(version), 0) + 1 FROM model_versions WHERE model_id = ?1",
                )?
                .query_row([&model], |r| r.get(0))?;
            row[2] = Value::Integer(next);
            report.model_versions_renumbered += 1;
        }
        row[1] = Value::Text(model);
        insert(tx, "model_versions", VERSION, &row)?;
        report.model_versions_added += 1;
        for tag in rows(
            s,
            "SELECT owner_kind, owner_id, key, value FROM tags WHERE owner_kind = 'model_version' AND owner_id = ?1",
            [&row[0]],
        )? {
            insert(tx, "tags", "owner_kind, owner_id, key, value", &tag)?;
        }
        for a in rows(
            s,
            &format!("SELECT {ARTIFACT_COLUMNS} FROM artifacts WHERE model_version_id = ?1 ORDER BY rowid"),
            [&row[0]],
        )? {
            insert(tx, "artifacts", ARTIFACT_COLUMNS, &a)?;
        }
    }
    for row in rows(s, "SELECT model_id, alias, version_id, updated_ms FROM model_aliases", [])? {
        let model = lookup(&models, "model_aliases", &row[1], "model", &row[0])?;
        insert(
            tx,
            "model_aliases",
            "model_id, alias, version_id, updated_ms",
            &[Value::Text(model), row[1].clone(), row[2].clone(), row[3].clone()],
        )?;
    }
    Ok(())
}

/// Whether the source's copy of a run the destination has is further along: every series
/// the destination has is in the source with at least as many points, every other kind of row
/// of the run is there at least as often, its heartbeat is no older, a finished run is not
/// running again in it — and something is new (points, rows, heartbeat, status, results).
fn further_along(s: &Connection, tx: &Transaction<'_>, run_id: &str) -> Result<bool> {
    const SERIES: &str = "SELECT key, context, label, count FROM metric_series WHERE run_id = ?1";
    let mut source: HashMap<(String, String, String), i64> = HashMap::new();
    for r in rows(s, SERIES, [run_id])? {
        source.insert((text(&r[0]), text(&r[1]), text(&r[2])), count(&r[3]));
    }
    let (src_points, mut dst_points) = (source.values().sum::<i64>(), 0);
    for r in rows(tx, SERIES, [run_id])? {
        let n = count(&r[3]);
        dst_points += n;
        match source.get(&(text(&r[0]), text(&r[1]), text(&r[2]))) {
            Some(&m) if m >= n => {}
            _ => return Ok(false),
        }
    }
    const RUN: &str = "SELECT
        (SELECT count(*) FROM params WHERE owner_kind = 'run' AND owner_id = ?1),
        (SELECT count(*) FROM tags WHERE owner_kind = 'run' AND owner_id = ?1),
        (SELECT count(*) FROM epochs WHERE run_id = ?1),
        (SELECT count(*) FROM batches WHERE run_id = ?1),
        (SELECT count(*) FROM datasets WHERE run_id = ?1),
        (SELECT count(*) FROM artifacts WHERE run_id = ?1),
        (SELECT count(*) FROM resource_samples WHERE run_id = ?1),
        (SELECT count(*) FROM spans WHERE run_id = ?1),
        (SELECT count(*) FROM code_versions WHERE run_id = ?1) + (SELECT count(*) FROM environments WHERE run_id = ?1),
        coalesce(heartbeat_ms, 0), status, results_json
        FROM runs WHERE id = ?1";
    let (src, dst) = (&rows(s, RUN, [run_id])?[0], &rows(tx, RUN, [run_id])?[0]);
    let (counts, beat, status, results) = (0..9, 9, 10, 11);
    if counts.clone().any(|i| count(&src[i]) < count(&dst[i])) || count(&src[beat]) < count(&dst[beat]) {
        return Ok(false);
    }
    let terminal = |v: &Value| ["completed", "failed", "killed"].contains(&text(v).as_str());
    if terminal(&dst[status]) && !terminal(&src[status]) {
        return Ok(false);
    }
    Ok(src_points > dst_points
        || counts.clone().any(|i| count(&src[i]) > count(&dst[i]))
        || count(&src[beat]) > count(&dst[beat])
        || src[status] != dst[status]
        || src[results] != dst[results])
}

fn count(v: &Value) -> i64 {
    match v {
        Value::Integer(n) => *n,
        _ => 0,
    }
}

/// Deletes everything of a run but its row, before its newer copy is copied in.
fn delete_run_rows(tx: &Transaction<'_>, run_id: &str) -> Result<()> {
    for sql in [
        "DELETE FROM metric_overviews WHERE series_id IN (SELECT id FROM metric_series WHERE run_id = ?1)",
        "DELETE FROM metric_chunks WHERE series_id IN (SELECT id FROM metric_series WHERE run_id = ?1)",
        "DELETE FROM metric_series WHERE run_id = ?1",
        "DELETE FROM params WHERE owner_kind = 'run' AND owner_id = ?1",
        "DELETE FROM tags WHERE owner_kind = 'run' AND owner_id = ?1",
        "DELETE FROM epochs WHERE run_id = ?1",
        "DELETE FROM batches WHERE run_id = ?1",
        "DELETE FROM datasets WHERE run_id = ?1",
        "DELETE FROM code_versions WHERE run_id = ?1",
        "DELETE FROM environments WHERE run_id = ?1",
        "DELETE FROM artifacts WHERE run_id = ?1",
        "DELETE FROM resource_samples WHERE run_id = ?1",
        "DELETE FROM spans WHERE run_id = ?1",
    ] {
        tx.prepare_cached(sql)?.execute([run_id])?;
    }
    Ok(())
}
