//! Experiments and their trials.

use std::collections::BTreeMap;

use rusqlite::{OptionalExtension, Row};

use super::{load_params, load_tags};
use crate::json::parse_column;
use crate::{Error, ParamValue, Result, Store};

/// An experiment and how much it holds.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ExperimentInfo {
    /// Id.
    pub id: String,
    /// Unique name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Status (`active`, `completed`, ...).
    pub status: String,
    /// Created, Unix ms.
    pub created_ms: i64,
    /// Last updated, Unix ms.
    pub updated_ms: i64,
    /// Results summary.
    pub results: Option<serde_json::Value>,
    /// Number of trials.
    pub trials: i64,
    /// Number of runs.
    pub runs: i64,
    /// Params.
    pub params: BTreeMap<String, ParamValue>,
    /// Tags.
    pub tags: BTreeMap<String, String>,
}

/// A trial (one configuration) of an experiment.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TrialInfo {
    /// Id.
    pub id: String,
    /// Experiment id.
    pub experiment_id: String,
    /// Name, unique in the experiment.
    pub name: String,
    /// Description.
    pub description: String,
    /// Created, Unix ms.
    pub created_ms: i64,
    /// Number of runs.
    pub runs: i64,
    /// The trial's configuration.
    pub config: BTreeMap<String, ParamValue>,
}

const EXPERIMENT_SQL: &str =
    "SELECT e.id, e.name, e.description, e.status, e.created_ms, e.updated_ms, e.results_json,
        (SELECT count(*) FROM trials t WHERE t.experiment_id = e.id),
        (SELECT count(*) FROM runs r WHERE r.experiment_id = e.id)
 FROM experiments e";

impl Store {
    /// All experiments, by name.
    pub fn experiments(&self) -> Result<Vec<ExperimentInfo>> {
        let mut stmt = self.conn().prepare_cached(&format!("{EXPERIMENT_SQL} ORDER BY e.name"))?;
        let rows = stmt.query_map([], raw_experiment)?.collect::<Result<Vec<_>, _>>()?;
        rows.into_iter().map(|r| self.finish_experiment(r)).collect()
    }

    /// The experiment with this name or id.
    pub fn experiment(&self, name_or_id: &str) -> Result<ExperimentInfo> {
        let raw = self
            .conn()
            .prepare_cached(&format!("{EXPERIMENT_SQL} WHERE e.name = ?1 OR e.id = ?1"))?
            .query_row([name_or_id], raw_experiment)
            .optional()?
            .ok_or_else(|| Error::not_found("experiment", name_or_id))?;
        self.finish_experiment(raw)
    }

    fn finish_experiment(
        &self,
        (mut e, results): (ExperimentInfo, Option<String>),
    ) -> Result<ExperimentInfo> {
        e.results = parse_column(results)?;
        e.params = load_params(self.conn(), "experiment", &e.id)?;
        e.tags = load_tags(self.conn(), "experiment", &e.id)?;
        Ok(e)
    }

    /// Trials of an experiment (name or id), by name.
    pub fn trials(&self, experiment: &str) -> Result<Vec<TrialInfo>> {
        let exp = self.experiment(experiment)?;
        let mut stmt = self.conn().prepare_cached(
            "SELECT t.id, t.experiment_id, t.name, t.description, t.created_ms,
                    (SELECT count(*) FROM runs r WHERE r.trial_id = t.id)
             FROM trials t WHERE t.experiment_id = ?1 ORDER BY t.name",
        )?;
        let trials = stmt
            .query_map([&exp.id], |r| {
                Ok(TrialInfo {
                    id: r.get(0)?,
                    experiment_id: r.get(1)?,
                    name: r.get(2)?,
                    description: r.get(3)?,
                    created_ms: r.get(4)?,
                    runs: r.get(5)?,
                    config: BTreeMap::new(),
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        trials
            .into_iter()
            .map(|mut t| {
                t.config = load_params(self.conn(), "trial", &t.id)?;
                Ok(t)
            })
            .collect()
    }
}

fn raw_experiment(r: &Row<'_>) -> rusqlite::Result<(ExperimentInfo, Option<String>)> {
    Ok((
        ExperimentInfo {
            id: r.get(0)?,
            name: r.get(1)?,
            description: r.get(2)?,
            status: r.get(3)?,
            created_ms: r.get(4)?,
            updated_ms: r.get(5)?,
            results: None,
            trials: r.get(7)?,
            runs: r.get(8)?,
            params: BTreeMap::new(),
            tags: BTreeMap::new(),
        },
        r.get(6)?,
    ))
}
