//! Runs with their params, tags and metric summaries.

use std::collections::{BTreeMap, HashMap};

use rusqlite::{OptionalExtension, Row};

use super::{SeriesSummary, load_params, load_tags};
use crate::filter::{Filter, Sort, Sql, check_known, referenced};
use crate::json::parse_column;
use crate::{Error, ParamValue, Result, RunStatus, Store};

/// A run's state as a reader should show it: the recorded status, except that a run still
/// `running` whose heartbeat stopped is `crashed` (its process died without finishing it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RunState {
    /// Created, not started.
    Pending,
    /// Running, heartbeat fresh.
    Running,
    /// Finished normally.
    Completed,
    /// Finished with an error.
    Failed,
    /// Stopped from outside.
    Killed,
    /// Recorded as running, but its heartbeat stopped: the process died.
    Crashed,
}

/// A heartbeat older than this many intervals means the process is gone.
pub const MISSED_HEARTBEATS: i64 = 3;

/// ... and never less than this (clock skew between machines, paused laptops).
pub const MIN_CRASH_AGE_MS: i64 = 30_000;

impl RunState {
    /// The state of a run with `status`, last heartbeat `heartbeat_ms` every `interval_ms`,
    /// judged at `now_ms` (no judgement without a clock: `None` keeps `running`).
    pub fn judge(
        status: RunStatus,
        heartbeat_ms: Option<i64>,
        interval_ms: Option<i64>,
        now_ms: Option<i64>,
    ) -> RunState {
        match status {
            RunStatus::Pending => RunState::Pending,
            RunStatus::Completed => RunState::Completed,
            RunStatus::Failed => RunState::Failed,
            RunStatus::Killed => RunState::Killed,
            RunStatus::Running => {
                let limit =
                    interval_ms.map_or(MIN_CRASH_AGE_MS, |i| (i * MISSED_HEARTBEATS).max(MIN_CRASH_AGE_MS));
                match (now_ms, heartbeat_ms) {
                    (Some(now), Some(hb)) if now - hb > limit => RunState::Crashed,
                    _ => RunState::Running,
                }
            }
        }
    }
}

/// Which runs to list.
#[derive(Debug, Clone, Default)]
pub struct RunQuery {
    /// Only runs of this experiment (name or id). Default: all.
    pub experiment: Option<String>,
    /// Only runs of this trial (name, within the experiment, or id). Default: all.
    pub trial: Option<String>,
    /// The reader's clock, Unix ms, to tell crashed runs from running ones. Default: none.
    pub now_ms: Option<i64>,
    /// Load metric summaries too. Default: `false`.
    pub with_metrics: bool,
    /// Only runs matching this filter (see [`crate::filter`]). Default: all.
    pub filter: Option<String>,
    /// Sort by this key (`metrics.val/loss.min`, `-params.lr`, `duration desc`); runs without
    /// it come last. Default: oldest first.
    pub sort: Option<String>,
    /// At most this many runs. Default: all.
    pub limit: Option<usize>,
}

/// A run with everything needed to list and compare it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RunInfo {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Experiment id.
    pub experiment_id: String,
    /// Experiment name.
    pub experiment: String,
    /// Trial id.
    pub trial_id: Option<String>,
    /// Trial name.
    pub trial: Option<String>,
    /// Recorded status.
    pub status: RunStatus,
    /// Status as a reader should show it (crashed runs detected).
    pub state: RunState,
    /// Created, Unix ms.
    pub created_ms: i64,
    /// Started, Unix ms.
    pub started_ms: Option<i64>,
    /// Ended, Unix ms.
    pub ended_ms: Option<i64>,
    /// Last heartbeat, Unix ms.
    pub heartbeat_ms: Option<i64>,
    /// Duration: end (or last heartbeat) minus start, ms.
    pub duration_ms: Option<i64>,
    /// Host.
    pub host: Option<String>,
    /// Process id.
    pub pid: Option<i64>,
    /// Error message of a failed or killed run.
    pub error: Option<String>,
    /// Results summary.
    pub results: Option<serde_json::Value>,
    /// Params.
    pub params: BTreeMap<String, ParamValue>,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// Metric summaries (when asked for).
    pub metrics: Vec<SeriesSummary>,
}

const RUN_SQL: &str = "SELECT r.id, r.name, r.experiment_id, e.name, r.trial_id, t.name, r.status,
        r.created_ms, r.started_ms, r.ended_ms, r.heartbeat_ms, r.heartbeat_interval_ms,
        r.host, r.pid, r.error, r.results_json
 FROM runs r JOIN experiments e ON e.id = r.experiment_id LEFT JOIN trials t ON t.id = r.trial_id";

impl Store {
    /// Runs matching `query`, oldest first.
    pub fn runs(&self, query: &RunQuery) -> Result<Vec<RunInfo>> {
        let experiment = query.experiment.as_deref().map(|e| self.experiment(e).map(|e| e.id)).transpose()?;
        let filter =
            query.filter.as_deref().filter(|f| !f.trim().is_empty()).map(Filter::parse).transpose()?;
        let sort = query.sort.as_deref().filter(|s| !s.trim().is_empty()).map(Sort::parse).transpose()?;
        let mut fields = Vec::new();
        if let Some(f) = &filter {
            referenced(f.expr(), &mut fields);
        }
        if let Some(s) = &sort {
            fields.push(&s.field);
        }
        check_known(self.conn(), &fields)?;

        let mut sql = Sql::new(3, query.now_ms);
        sql.text.push_str(&format!(
            "{RUN_SQL} WHERE (?1 IS NULL OR r.experiment_id = ?1) AND (?2 IS NULL OR t.id = ?2 OR t.name = ?2)"
        ));
        if let Some(f) = &filter {
            sql.text.push_str(" AND ");
            sql.condition(f.expr())?;
        }
        sql.text.push_str(" ORDER BY ");
        if let Some(s) = &sort {
            let key = sql.scalar(&s.field);
            let dir = if s.descending { "DESC" } else { "ASC" };
            sql.text.push_str(&format!("({key}) IS NULL, {key} {dir}, "));
        }
        sql.text.push_str("r.created_ms, r.rowid");
        if let Some(limit) = query.limit {
            sql.text.push_str(&format!(" LIMIT {limit}"));
        }
        let mut params: Vec<rusqlite::types::Value> = vec![
            experiment.map_or(rusqlite::types::Value::Null, rusqlite::types::Value::Text),
            query.trial.clone().map_or(rusqlite::types::Value::Null, rusqlite::types::Value::Text),
        ];
        params.extend(sql.params);
        let mut stmt = self.conn().prepare(&sql.text)?;
        let raws =
            stmt.query_map(rusqlite::params_from_iter(params), raw_run)?.collect::<Result<Vec<_>, _>>()?;
        let mut runs =
            raws.into_iter().map(|raw| finish_run(raw, query.now_ms)).collect::<Result<Vec<_>>>()?;
        self.attach_params_and_tags(&mut runs)?;
        if query.with_metrics {
            let ids: Vec<&str> = runs.iter().map(|r| r.id.as_str()).collect();
            let mut summaries: Vec<Vec<(SeriesSummary, String)>> = vec![Vec::new(); runs.len()];
            self.each_summary(&ids, |at, s, context| summaries[at].push((s, context.to_owned())))?;
            for (run, mut list) in runs.iter_mut().zip(summaries) {
                // The order of `series_summaries`: key, context, label.
                list.sort_by(|(a, ac), (b, bc)| (&a.key, ac, &a.label).cmp(&(&b.key, bc, &b.label)));
                run.metrics = list.into_iter().map(super::metrics::with_context).collect::<Result<_>>()?;
            }
        }
        Ok(runs)
    }

    /// One run by id (or by a unique name), with its metric summaries.
    pub fn run(&self, id_or_name: &str, now_ms: Option<i64>) -> Result<RunInfo> {
        let mut stmt =
            self.conn().prepare_cached(&format!("{RUN_SQL} WHERE r.id = ?1 OR r.name = ?1 LIMIT 2"))?;
        let mut raws = stmt.query_map([id_or_name], raw_run)?.collect::<Result<Vec<_>, _>>()?;
        match raws.len() {
            0 => Err(Error::not_found("run", id_or_name)),
            1 => {
                let mut run = finish_run(raws.remove(0), now_ms)?;
                run.params = load_params(self.conn(), "run", &run.id)?;
                run.tags = load_tags(self.conn(), "run", &run.id)?;
                run.metrics = self.series_summaries(&run.id)?;
                Ok(run)
            }
            _ => Err(Error::invalid("run", format!("name {id_or_name:?} is not unique; use the run id"))),
        }
    }

    /// Whether a run with this id exists.
    pub fn has_run(&self, id: &str) -> Result<bool> {
        Ok(self
            .conn()
            .prepare_cached("SELECT 1 FROM runs WHERE id = ?1")?
            .query_row([id], |_| Ok(()))
            .optional()?
            .is_some())
    }

    /// Whether `n` runs are read faster in one pass over a table than looked up one by one:
    /// more than a few, and a large part of the file's.
    fn read_in_one_pass(&self, n: usize) -> Result<bool> {
        if n <= BULK_ABOVE {
            return Ok(false);
        }
        // The largest rowid, read from one leaf, stands in for the count (a count reads every
        // leaf of an index: 10,000 runs' worth of a file read cold, to decide how to read it).
        let all: Option<i64> =
            self.conn().prepare_cached("SELECT max(rowid) FROM runs")?.query_row([], |r| r.get(0))?;
        Ok(n as i64 * 4 >= all.unwrap_or(0))
    }

    /// Fills in the params and tags of `runs`: with a lookup per run for a few runs, with one
    /// pass over each table for many (10,000 runs cost two scans, not 20,000 queries).
    pub(super) fn attach_params_and_tags(&self, runs: &mut [RunInfo]) -> Result<()> {
        if !self.read_in_one_pass(runs.len())? {
            for run in runs.iter_mut() {
                run.params = load_params(self.conn(), "run", &run.id)?;
                run.tags = load_tags(self.conn(), "run", &run.id)?;
            }
            return Ok(());
        }
        let index = run_index(runs);
        let mut params: Vec<BTreeMap<String, ParamValue>> = vec![BTreeMap::new(); runs.len()];
        let mut stmt = self
            .conn()
            .prepare_cached("SELECT owner_id, key, kind, value FROM params WHERE owner_kind = 'run'")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            if let Some(&at) = row.get_ref(0)?.as_str().ok().and_then(|id| index.get(id)) {
                let kind: String = row.get(2)?;
                params[at].insert(row.get(1)?, ParamValue::from_sql(&kind, row.get_ref(3)?)?);
            }
        }
        let mut tags: Vec<BTreeMap<String, String>> = vec![BTreeMap::new(); runs.len()];
        let mut stmt =
            self.conn().prepare_cached("SELECT owner_id, key, value FROM tags WHERE owner_kind = 'run'")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            if let Some(&at) = row.get_ref(0)?.as_str().ok().and_then(|id| index.get(id)) {
                tags[at].insert(row.get(1)?, row.get(2)?);
            }
        }
        for ((run, p), t) in runs.iter_mut().zip(params).zip(tags) {
            run.params = p;
            run.tags = t;
        }
        Ok(())
    }

    /// Calls `f(position in run_ids, summary, context JSON)` for every series of the runs
    /// `run_ids`, in no particular order (context left empty in the summary: parse the JSON
    /// once per distinct text). One lookup per run, or one pass over every series when these
    /// are many runs and a large part of the file's.
    pub(super) fn each_summary(
        &self,
        run_ids: &[&str],
        mut f: impl FnMut(usize, SeriesSummary, &str),
    ) -> Result<()> {
        if !self.read_in_one_pass(run_ids.len())? {
            let mut stmt = self
                .conn()
                .prepare_cached(&format!("{} WHERE s.run_id = ?1", super::metrics::SUMMARY_SQL))?;
            for (at, id) in run_ids.iter().enumerate() {
                for row in stmt.query_map([id], super::metrics::summary)? {
                    let (summary, context) = row?;
                    f(at, summary, &context);
                }
            }
            return Ok(());
        }
        let index: HashMap<&str, usize> = run_ids.iter().enumerate().map(|(at, id)| (*id, at)).collect();
        let mut stmt = self.conn().prepare_cached(super::metrics::SUMMARY_SQL)?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            if let Some(&at) = row.get_ref(1)?.as_str().ok().and_then(|id| index.get(id)) {
                let (summary, context) = super::metrics::summary(row)?;
                f(at, summary, &context);
            }
        }
        Ok(())
    }
}

/// Up to this many runs, a listing looks each run up; past it, a listing of at least a quarter
/// of the file's runs reads params, tags and series in one pass per table.
const BULK_ABOVE: usize = 32;

/// Each run's position, by id.
fn run_index(runs: &[RunInfo]) -> HashMap<&str, usize> {
    runs.iter().enumerate().map(|(at, run)| (run.id.as_str(), at)).collect()
}

/// The status, state, duration and results of a run read from its row.
fn finish_run(raw: RawRun, now_ms: Option<i64>) -> Result<RunInfo> {
    let status: RunStatus = raw.status.parse()?;
    let mut run = raw.info;
    run.status = status;
    run.state = RunState::judge(status, run.heartbeat_ms, raw.interval_ms, now_ms);
    run.duration_ms = run.started_ms.and_then(|s| run.ended_ms.or(run.heartbeat_ms).map(|e| e - s));
    run.results = parse_column(raw.results)?;
    Ok(run)
}

struct RawRun {
    info: RunInfo,
    status: String,
    interval_ms: Option<i64>,
    results: Option<String>,
}

fn raw_run(r: &Row<'_>) -> rusqlite::Result<RawRun> {
    Ok(RawRun {
        info: RunInfo {
            id: r.get(0)?,
            name: r.get(1)?,
            experiment_id: r.get(2)?,
            experiment: r.get(3)?,
            trial_id: r.get(4)?,
            trial: r.get(5)?,
            status: RunStatus::Pending,
            state: RunState::Pending,
            created_ms: r.get(7)?,
            started_ms: r.get(8)?,
            ended_ms: r.get(9)?,
            heartbeat_ms: r.get(10)?,
            duration_ms: None,
            host: r.get(12)?,
            pid: r.get(13)?,
            error: r.get(14)?,
            results: None,
            params: BTreeMap::new(),
            tags: BTreeMap::new(),
            metrics: Vec::new(),
        },
        status: r.get(6)?,
        interval_ms: r.get(11)?,
        results: r.get(15)?,
    })
}
