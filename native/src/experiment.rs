//! Experiments and trials: the levels above runs.

use runstore_core::event::{ArtifactOwner, Owner, RunRecord};
use runstore_core::{Event, Id, ParamValue, RunStatus, flatten};

use crate::Result;
use crate::artifact::ArtifactSpec;
use crate::clock::{new_id, now_ms};
use crate::recorder::{Recorder, expect_id};
use crate::run::Run;

/// An experiment: a named group of trials and runs.
#[derive(Clone)]
pub struct Experiment {
    rec: Recorder,
    id: Id,
    name: String,
}

/// A trial: one configuration of an experiment, run once or several times (seeds).
#[derive(Clone)]
pub struct Trial {
    rec: Recorder,
    id: Id,
    experiment_id: Id,
}

impl Experiment {
    pub(crate) fn new(rec: Recorder, id: Id, name: &str) -> Experiment {
        Experiment { rec, id, name: name.to_string() }
    }

    /// The experiment's id.
    pub fn id(&self) -> &Id {
        &self.id
    }

    /// The experiment's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Gets or creates the trial `name` (waits for the writer).
    pub fn trial(&self, name: &str) -> Result<Trial> {
        let reply = self.rec.call(Event::Trial {
            id: new_id(),
            experiment_id: self.id.clone(),
            name: name.to_string(),
            description: String::new(),
            time_ms: now_ms(),
        })?;
        Ok(Trial { rec: self.rec.clone(), id: expect_id(reply)?, experiment_id: self.id.clone() })
    }

    /// Starts a run directly in the experiment (no trial).
    pub fn start_run(&self, name: &str) -> Run {
        start_run(&self.rec, &self.id, None, name)
    }

    /// Sets experiment params.
    pub fn params<K: Into<String>, V: Into<ParamValue>>(&self, params: impl IntoIterator<Item = (K, V)>) {
        set_params(&self.rec, Owner::Experiment(self.id.clone()), params);
    }

    /// Sets experiment tags.
    pub fn tags(&self, tags: &[(&str, &str)]) {
        set_tags(&self.rec, Owner::Experiment(self.id.clone()), tags);
    }

    /// Sets the experiment's status (`active`, `completed`, ...) and results summary.
    pub fn set_status(&self, status: &str, results: Option<serde_json::Value>) {
        self.rec.send(Event::ExperimentStatus {
            experiment_id: self.id.clone(),
            status: status.to_string(),
            results,
            time_ms: now_ms(),
        });
    }

    /// Records an experiment-level artifact (hashing the file when it is local).
    pub fn artifact(&self, spec: ArtifactSpec) -> Result<Id> {
        spec.record(&self.rec, ArtifactOwner::Experiment(self.id.clone()))
    }
}

impl Trial {
    /// The trial's id.
    pub fn id(&self) -> &Id {
        &self.id
    }

    /// Starts a run of this trial.
    pub fn start_run(&self, name: &str) -> Run {
        start_run(&self.rec, &self.experiment_id, Some(&self.id), name)
    }

    /// Sets the trial's configuration from a JSON object, flattened to dotted keys.
    pub fn config(&self, config: &serde_json::Value) {
        set_params(&self.rec, Owner::Trial(self.id.clone()), flatten("", config));
    }

    /// Records a trial-level artifact.
    pub fn artifact(&self, spec: ArtifactSpec) -> Result<Id> {
        spec.record(&self.rec, ArtifactOwner::Trial(self.id.clone()))
    }
}

fn start_run(rec: &Recorder, experiment_id: &Id, trial_id: Option<&Id>, name: &str) -> Run {
    let id = new_id();
    let opts = rec.options();
    rec.send(Event::Run(Box::new(RunRecord {
        id: id.clone(),
        experiment_id: experiment_id.clone(),
        trial_id: trial_id.cloned(),
        name: name.to_string(),
        status: RunStatus::Running,
        host: crate::capture::hostname(),
        pid: Some(i64::from(std::process::id())),
        // Readers multiply it (a run is crashed after three intervals): keep that in range.
        heartbeat_interval_ms: Some(
            i64::try_from(opts.heartbeat_interval.as_millis()).unwrap_or(i64::MAX).min(1 << 50),
        ),
        time_ms: now_ms(),
    })));
    let run = Run::new(rec.clone(), id);
    if opts.capture_environment {
        run.environment(crate::capture::environment());
    }
    if opts.capture_code
        && let Some(code) = crate::capture::code()
    {
        run.code(code);
    }
    run
}

pub(crate) fn set_params<K: Into<String>, V: Into<ParamValue>>(
    rec: &Recorder,
    owner: Owner,
    params: impl IntoIterator<Item = (K, V)>,
) {
    let params: Vec<(String, ParamValue)> = params.into_iter().map(|(k, v)| (k.into(), v.into())).collect();
    if !params.is_empty() {
        rec.send(Event::Params { owner, params });
    }
}

pub(crate) fn set_tags(rec: &Recorder, owner: Owner, tags: &[(&str, &str)]) {
    rec.send(Event::Tags { owner, tags: tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect() });
}
