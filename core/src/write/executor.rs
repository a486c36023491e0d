//! The write path's SQLite executor: applies entity events and writes what the planner
//! handed out, inside the batch's transaction. Every statement is relative (counts add up,
//! min/max compare), so several processes may each run their own writer on one file.

use rusqlite::{Connection, OptionalExtension, params};

use super::planner::{ChunkWrite, OverviewPart, SeriesPlan};
use crate::aggregate::Aggregate;
use crate::event::{ArtifactOwner, Event, Reply};
use crate::{Error, Id, Result, SeriesKey};

/// Writes a batch's series plan; returns the rows new open chunks were written to, by handle.
pub(crate) fn write_series(conn: &Connection, plan: &SeriesPlan) -> Result<Vec<(u64, i64)>> {
    for chunk in &plan.sealed {
        write_chunk(conn, chunk)?;
    }
    let mut rows = Vec::new();
    for chunk in &plan.open {
        if let Some(row) = write_chunk(conn, chunk)? {
            rows.push((chunk.handle, row));
        }
    }
    for (series_id, summary) in &plan.summaries {
        write_summary(conn, *series_id, summary)?;
    }
    for part in &plan.overviews {
        write_overview(conn, part)?;
    }
    Ok(rows)
}

/// The id of `series` in the file, creating its row if needed. Refused when its run does not
/// exist.
pub(crate) fn resolve_series(conn: &Connection, series: &SeriesKey) -> Result<i64> {
    let SeriesKey { run_id, key, context, label } = series;
    let found: Option<i64> = conn
        .prepare_cached(
            "SELECT id FROM metric_series WHERE run_id = ?1 AND key = ?2 AND context = ?3 AND label = ?4",
        )?
        .query_row(params![run_id, key, context, label], |r| r.get(0))
        .optional()?;
    if let Some(id) = found {
        return Ok(id);
    }
    require_run(conn, run_id)?;
    conn.prepare_cached("INSERT INTO metric_series (run_id, key, context, label) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![run_id, key, context, label])?;
    Ok(conn.last_insert_rowid())
}

/// Writes one chunk row; returns its id when it is new.
fn write_chunk(conn: &Connection, chunk: &ChunkWrite) -> Result<Option<i64>> {
    let ChunkWrite { series_id, row, first_step, last_step, count, data, .. } = chunk;
    match row {
        Some(row) => {
            conn.prepare_cached(
                "UPDATE metric_chunks SET first_step = ?2, last_step = ?3, count = ?4, data = ?5 WHERE id = ?1",
            )?
            .execute(params![row, first_step, last_step, count, data])?;
            Ok(None)
        }
        None => {
            conn.prepare_cached(
                "INSERT INTO metric_chunks (series_id, first_step, last_step, count, data) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![series_id, first_step, last_step, count, data])?;
            Ok(Some(conn.last_insert_rowid()))
        }
    }
}

fn write_summary(conn: &Connection, series_id: i64, a: &Aggregate) -> Result<()> {
    // SET expressions all see the old row, so each CASE compares with the stored values.
    conn.prepare_cached(
        "UPDATE metric_series SET
            count = count + ?2,
            nan_count = nan_count + ?3,
            first_ms = CASE WHEN first_step IS NULL OR ?4 < first_step THEN ?5 ELSE first_ms END,
            first_step = CASE WHEN first_step IS NULL OR ?4 < first_step THEN ?4 ELSE first_step END,
            last_value = CASE WHEN last_step IS NULL OR ?6 >= last_step THEN ?8 ELSE last_value END,
            last_ms = CASE WHEN last_step IS NULL OR ?6 >= last_step THEN ?7 ELSE last_ms END,
            last_step = CASE WHEN last_step IS NULL OR ?6 >= last_step THEN ?6 ELSE last_step END,
            min_value = CASE WHEN ?9 IS NOT NULL AND (min_value IS NULL OR ?9 < min_value) THEN ?9 ELSE min_value END,
            max_value = CASE WHEN ?10 IS NOT NULL AND (max_value IS NULL OR ?10 > max_value) THEN ?10 ELSE max_value END,
            sum_value = CASE
                WHEN ?11 = 0 THEN sum_value
                WHEN count - nan_count > 0 AND sum_value IS NULL THEN NULL
                ELSE coalesce(sum_value, 0) + ?12 END
         WHERE id = ?1",
    )?
    .execute(params![
        series_id,
        a.count,
        a.nan_count,
        a.first.step,
        a.first.time_ms,
        a.last.step,
        a.last.time_ms,
        a.last.value,
        a.min.map(|m| m.value),
        a.max.map(|m| m.value),
        a.count - a.nan_count,
        a.sum,
    ])?;
    Ok(())
}

fn write_overview(conn: &Connection, part: &OverviewPart) -> Result<()> {
    let a = &part.agg;
    conn.prepare_cached(
        "INSERT INTO metric_overviews (series_id, level, bucket, count, nan_count,
             first_step, first_ms, first_value, last_step, last_ms, last_value,
             min_step, min_value, max_step, max_value)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
         ON CONFLICT (series_id, level, bucket) DO UPDATE SET
             count = count + excluded.count,
             nan_count = nan_count + excluded.nan_count,
             first_value = CASE WHEN excluded.first_step < first_step THEN excluded.first_value ELSE first_value END,
             first_ms = CASE WHEN excluded.first_step < first_step THEN excluded.first_ms ELSE first_ms END,
             first_step = min(first_step, excluded.first_step),
             last_value = CASE WHEN excluded.last_step >= last_step THEN excluded.last_value ELSE last_value END,
             last_ms = CASE WHEN excluded.last_step >= last_step THEN excluded.last_ms ELSE last_ms END,
             last_step = max(last_step, excluded.last_step),
             min_step = CASE WHEN excluded.min_value < min_value OR min_value IS NULL THEN excluded.min_step ELSE min_step END,
             min_value = CASE WHEN excluded.min_value < min_value OR min_value IS NULL THEN excluded.min_value ELSE min_value END,
             max_step = CASE WHEN excluded.max_value > max_value OR max_value IS NULL THEN excluded.max_step ELSE max_step END,
             max_value = CASE WHEN excluded.max_value > max_value OR max_value IS NULL THEN excluded.max_value ELSE max_value END",
    )?
    .execute(params![
        part.series_id,
        part.level as i64,
        part.bucket,
        a.count,
        a.nan_count,
        a.first.step,
        a.first.time_ms,
        a.first.value,
        a.last.step,
        a.last.time_ms,
        a.last.value,
        a.min.map(|m| m.step),
        a.min.map(|m| m.value),
        a.max.map(|m| m.step),
        a.max.map(|m| m.value),
    ])?;
    Ok(())
}

fn json_text(v: &Option<serde_json::Value>) -> Option<String> {
    v.as_ref().map(|j| j.to_string())
}

fn require_run(conn: &Connection, run_id: &Id) -> Result<()> {
    let exists: bool = conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM runs WHERE id = ?1)")?
        .query_row([run_id], |r| r.get(0))?;
    if exists { Ok(()) } else { Err(Error::not_found("run", run_id.as_str())) }
}

/// Applies one event that is not about metric points.
pub(crate) fn apply_entity(conn: &Connection, event: &Event) -> Result<Reply> {
    match event {
        Event::Experiment { id, name, description, time_ms } => {
            conn.prepare_cached(
                "INSERT OR IGNORE INTO experiments (id, name, description, created_ms, updated_ms)
                 VALUES (?1, ?2, ?3, ?4, ?4)",
            )?
            .execute(params![id, name, description, time_ms])?;
            let id: String = conn
                .prepare_cached("SELECT id FROM experiments WHERE name = ?1")?
                .query_row([name], |r| r.get(0))?;
            Ok(Reply::Id(id.parse()?))
        }
        Event::ExperimentStatus { experiment_id, status, results, time_ms } => {
            let n = conn
                .prepare_cached(
                    "UPDATE experiments SET status = ?2, results_json = coalesce(?3, results_json),
                     updated_ms = ?4 WHERE id = ?1",
                )?
                .execute(params![experiment_id, status, json_text(results), time_ms])?;
            if n == 0 {
                return Err(Error::not_found("experiment", experiment_id.as_str()));
            }
            Ok(Reply::Done)
        }
        Event::Trial { id, experiment_id, name, description, time_ms } => {
            conn.prepare_cached(
                "INSERT OR IGNORE INTO trials (id, experiment_id, name, description, created_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![id, experiment_id, name, description, time_ms])?;
            let id: String = conn
                .prepare_cached("SELECT id FROM trials WHERE experiment_id = ?1 AND name = ?2")?
                .query_row(params![experiment_id, name], |r| r.get(0))?;
            Ok(Reply::Id(id.parse()?))
        }
        Event::Run(run) => {
            let started = (run.status != crate::RunStatus::Pending).then_some(run.time_ms);
            conn.prepare_cached(
                "INSERT INTO runs (id, experiment_id, trial_id, name, status, created_ms, started_ms,
                     heartbeat_ms, heartbeat_interval_ms, host, pid)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?6, ?8, ?9, ?10)",
            )?
            .execute(params![
                run.id,
                run.experiment_id,
                run.trial_id,
                run.name,
                run.status.as_str(),
                run.time_ms,
                started,
                run.heartbeat_interval_ms,
                run.host,
                run.pid
            ])?;
            Ok(Reply::Done)
        }
        Event::RunStatus { run_id, status, error, time_ms } => {
            let n = conn
                .prepare_cached(
                    "UPDATE runs SET status = ?2,
                         started_ms = CASE WHEN ?2 != 'pending' THEN coalesce(started_ms, ?4) ELSE started_ms END,
                         ended_ms = CASE WHEN ?2 IN ('completed', 'failed', 'killed') THEN ?4 ELSE NULL END,
                         heartbeat_ms = max(coalesce(heartbeat_ms, 0), ?4),
                         error = coalesce(?3, error)
                     WHERE id = ?1",
                )?
                .execute(params![run_id, status.as_str(), error, time_ms])?;
            if n == 0 {
                return Err(Error::not_found("run", run_id.as_str()));
            }
            Ok(Reply::Done)
        }
        Event::RunResults { run_id, results } => {
            let n = conn
                .prepare_cached("UPDATE runs SET results_json = ?2 WHERE id = ?1")?
                .execute(params![run_id, results.to_string()])?;
            if n == 0 {
                return Err(Error::not_found("run", run_id.as_str()));
            }
            Ok(Reply::Done)
        }
        Event::Heartbeat { run_id, time_ms } => {
            conn.prepare_cached(
                "UPDATE runs SET heartbeat_ms = max(coalesce(heartbeat_ms, 0), ?2) WHERE id = ?1",
            )?
            .execute(params![run_id, time_ms])?;
            Ok(Reply::Done)
        }
        Event::Params { owner, params: ps } => {
            let mut stmt = conn.prepare_cached(
                "INSERT OR REPLACE INTO params (owner_kind, owner_id, key, kind, value) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for (key, value) in ps {
                stmt.execute(params![owner.kind(), owner.id(), key, value.kind(), value.to_sql_value()])?;
            }
            Ok(Reply::Done)
        }
        Event::Tags { owner, tags } => {
            let mut stmt = conn.prepare_cached(
                "INSERT OR REPLACE INTO tags (owner_kind, owner_id, key, value) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for (key, value) in tags {
                stmt.execute(params![owner.kind(), owner.id(), key, value])?;
            }
            Ok(Reply::Done)
        }
        Event::Epoch { run_id, epoch, end, time_ms } => {
            let sql = if *end {
                "INSERT INTO epochs (run_id, idx, started_ms, ended_ms) VALUES (?1, ?2, ?3, ?3)
                 ON CONFLICT (run_id, idx) DO UPDATE SET ended_ms = excluded.ended_ms"
            } else {
                "INSERT OR IGNORE INTO epochs (run_id, idx, started_ms) VALUES (?1, ?2, ?3)"
            };
            conn.prepare_cached(sql)?.execute(params![run_id, epoch, time_ms])?;
            Ok(Reply::Done)
        }
        Event::Batch { run_id, epoch, batch, end, time_ms } => {
            let sql = if *end {
                "INSERT INTO batches (run_id, epoch, idx, started_ms, ended_ms) VALUES (?1, ?2, ?3, ?4, ?4)
                 ON CONFLICT (run_id, epoch, idx) DO UPDATE SET ended_ms = excluded.ended_ms"
            } else {
                "INSERT OR IGNORE INTO batches (run_id, epoch, idx, started_ms) VALUES (?1, ?2, ?3, ?4)"
            };
            conn.prepare_cached(sql)?.execute(params![run_id, epoch, batch, time_ms])?;
            Ok(Reply::Done)
        }
        Event::Artifact(a) => {
            let (exp, trial, run, epoch, batch, version) = match &a.owner {
                ArtifactOwner::Experiment(id) => (Some(id), None, None, None, None, None),
                ArtifactOwner::Trial(id) => (None, Some(id), None, None, None, None),
                ArtifactOwner::Run(id) => (None, None, Some(id), None, None, None),
                ArtifactOwner::Epoch { run, epoch } => (None, None, Some(run), Some(*epoch), None, None),
                ArtifactOwner::Batch { run, epoch, batch } => {
                    (None, None, Some(run), Some(*epoch), Some(*batch), None)
                }
                ArtifactOwner::ModelVersion(id) => (None, None, None, None, None, Some(id)),
            };
            conn.prepare_cached(
                "INSERT INTO artifacts (id, name, kind, uri, size_bytes, sha256, created_ms,
                     experiment_id, trial_id, run_id, epoch, batch, model_version_id, metadata_json)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            )?
            .execute(params![
                a.id,
                a.name,
                a.kind,
                a.uri,
                a.size_bytes,
                a.sha256,
                a.time_ms,
                exp,
                trial,
                run,
                epoch,
                batch,
                version,
                json_text(&a.metadata)
            ])?;
            Ok(Reply::Done)
        }
        Event::Dataset(d) => {
            require_run(conn, &d.run_id)?;
            conn.prepare_cached(
                "INSERT INTO datasets (id, run_id, role, name, path, rows, columns, schema_json,
                     size_bytes, sha256, created_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?
            .execute(params![
                d.id,
                d.run_id,
                d.role.as_str(),
                d.name,
                d.path,
                d.rows,
                d.columns,
                json_text(&d.schema),
                d.size_bytes,
                d.sha256,
                d.time_ms
            ])?;
            Ok(Reply::Done)
        }
        Event::Code { run_id, code, time_ms } => {
            require_run(conn, run_id)?;
            conn.prepare_cached(
                "INSERT OR REPLACE INTO code_versions (run_id, git_commit, git_branch, git_dirty,
                     repo_root, entrypoint, files_json, captured_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                run_id,
                code.git_commit,
                code.git_branch,
                code.git_dirty,
                code.repo_root,
                code.entrypoint,
                json_text(&code.files),
                time_ms
            ])?;
            Ok(Reply::Done)
        }
        Event::Environment { run_id, environment: e, time_ms } => {
            require_run(conn, run_id)?;
            conn.prepare_cached(
                "INSERT OR REPLACE INTO environments (run_id, os, os_version, hostname, cpu, cpu_count,
                     memory_bytes, gpu, runtimes_json, packages_json, captured_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?
            .execute(params![
                run_id,
                e.os,
                e.os_version,
                e.hostname,
                e.cpu,
                e.cpu_count,
                e.memory_bytes,
                e.gpu,
                json_text(&e.runtimes),
                json_text(&e.packages),
                time_ms
            ])?;
            Ok(Reply::Done)
        }
        Event::Resource(s) => {
            conn.prepare_cached(
                "INSERT INTO resource_samples (run_id, time_ms, kind, name, value, unit)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![s.run_id, s.time_ms, s.kind.as_str(), s.name, s.value, s.unit])?;
            Ok(Reply::Done)
        }
        Event::Span(s) => {
            conn.prepare_cached(
                "INSERT INTO spans (run_id, name, start_ms, duration_ms, attributes_json)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                s.run_id,
                s.name,
                s.start_ms,
                s.duration_ms,
                s.attributes.to_string()
            ])?;
            Ok(Reply::Done)
        }
        Event::Model { id, name, description, time_ms } => {
            Ok(Reply::Id(ensure_model(conn, id, name, description, *time_ms)?))
        }
        Event::ModelVersion(v) => {
            let model_id = ensure_model(conn, &v.new_model_id, &v.model_name, "", v.time_ms)?;
            let version: i64 = conn
                .prepare_cached(
                    "SELECT coalesce(max(version), 0) + 1 FROM model_versions WHERE model_id = ?1",
                )?
                .query_row([&model_id], |r| r.get(0))?;
            conn.prepare_cached(
                "INSERT INTO model_versions (id, model_id, version, description, storage_path,
                     size_bytes, sha256, source_run_id, created_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![
                v.id,
                model_id,
                version,
                v.description,
                v.storage_path,
                v.size_bytes,
                v.sha256,
                v.source_run_id,
                v.time_ms
            ])?;
            conn.prepare_cached("UPDATE models SET updated_ms = ?2 WHERE id = ?1")?
                .execute(params![model_id, v.time_ms])?;
            let mut tag = conn.prepare_cached(
                "INSERT OR REPLACE INTO tags (owner_kind, owner_id, key, value) VALUES ('model_version', ?1, ?2, ?3)",
            )?;
            for (k, val) in &v.tags {
                tag.execute(params![v.id, k, val])?;
            }
            let mut alias = conn.prepare_cached(
                "INSERT OR REPLACE INTO model_aliases (model_id, alias, version_id, updated_ms) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for name in &v.aliases {
                alias.execute(params![model_id, name, v.id, v.time_ms])?;
            }
            Ok(Reply::Version(version))
        }
        Event::ModelAlias { model_name, alias, version, time_ms } => {
            let found: Option<(String, String)> = conn
                .prepare_cached(
                    "SELECT m.id, v.id FROM models m JOIN model_versions v ON v.model_id = m.id
                     WHERE m.name = ?1 AND v.version = ?2",
                )?
                .query_row(params![model_name, version], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            let (model_id, version_id) =
                found.ok_or_else(|| Error::not_found("model version", format!("{model_name} v{version}")))?;
            conn.prepare_cached(
                "INSERT OR REPLACE INTO model_aliases (model_id, alias, version_id, updated_ms) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![model_id, alias, version_id, time_ms])?;
            Ok(Reply::Done)
        }
        Event::Point { .. } | Event::Series { .. } => unreachable!("planned by the planner"),
    }
}

fn ensure_model(conn: &Connection, id: &Id, name: &str, description: &str, time_ms: i64) -> Result<Id> {
    conn.prepare_cached(
        "INSERT OR IGNORE INTO models (id, name, description, created_ms, updated_ms) VALUES (?1, ?2, ?3, ?4, ?4)",
    )?
    .execute(params![id, name, description, time_ms])?;
    let id: String =
        conn.prepare_cached("SELECT id FROM models WHERE name = ?1")?.query_row([name], |r| r.get(0))?;
    id.parse()
}
