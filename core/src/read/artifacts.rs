//! Artifacts at every level: experiment, trial, run, epoch, batch, model version.

use crate::event::ArtifactOwner;
use crate::json::parse_column;
use crate::{Result, Store};

/// An artifact as stored.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ArtifactInfo {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Kind (`model`, `plot`, ...).
    pub kind: String,
    /// Path or URI.
    pub uri: String,
    /// Size in bytes.
    pub size_bytes: Option<i64>,
    /// SHA-256 in hex.
    pub sha256: Option<String>,
    /// Recorded, Unix ms.
    pub created_ms: i64,
    /// Owning experiment (experiment-level artifacts).
    pub experiment_id: Option<String>,
    /// Owning trial.
    pub trial_id: Option<String>,
    /// Owning run (run-, epoch- and batch-level artifacts).
    pub run_id: Option<String>,
    /// Epoch (epoch- and batch-level artifacts).
    pub epoch: Option<i64>,
    /// Batch (batch-level artifacts).
    pub batch: Option<i64>,
    /// Owning model version.
    pub model_version_id: Option<String>,
    /// Other metadata.
    pub metadata: Option<serde_json::Value>,
}

impl Store {
    /// The artifacts attached exactly at `owner`'s level: `Run` gives the run's own artifacts,
    /// not its epochs'; `Epoch` gives that epoch's, not its batches'.
    pub fn artifacts(&self, owner: &ArtifactOwner) -> Result<Vec<ArtifactInfo>> {
        let (cond, a, b, c): (&str, &str, Option<u32>, Option<u32>) = match owner {
            ArtifactOwner::Experiment(id) => ("experiment_id = ?1", id.as_str(), None, None),
            ArtifactOwner::Trial(id) => ("trial_id = ?1", id.as_str(), None, None),
            ArtifactOwner::Run(id) => ("run_id = ?1 AND epoch IS NULL", id.as_str(), None, None),
            ArtifactOwner::Epoch { run, epoch } => {
                ("run_id = ?1 AND epoch = ?2 AND batch IS NULL", run.as_str(), Some(*epoch), None)
            }
            ArtifactOwner::Batch { run, epoch, batch } => {
                ("run_id = ?1 AND epoch = ?2 AND batch = ?3", run.as_str(), Some(*epoch), Some(*batch))
            }
            ArtifactOwner::ModelVersion(id) => ("model_version_id = ?1", id.as_str(), None, None),
        };
        let mut args: Vec<rusqlite::types::Value> = vec![a.to_string().into()];
        args.extend(b.map(|x| i64::from(x).into()));
        args.extend(c.map(|x| i64::from(x).into()));
        self.artifacts_where(cond, args)
    }

    /// Every artifact of a run, at run, epoch and batch level.
    pub fn run_artifacts(&self, run_id: &str) -> Result<Vec<ArtifactInfo>> {
        self.artifacts_where("run_id = ?1", vec![run_id.to_string().into()])
    }

    fn artifacts_where(&self, cond: &str, args: Vec<rusqlite::types::Value>) -> Result<Vec<ArtifactInfo>> {
        let mut stmt = self.conn().prepare_cached(&format!(
            "SELECT id, name, kind, uri, size_bytes, sha256, created_ms, experiment_id, trial_id,
                    run_id, epoch, batch, model_version_id, metadata_json
             FROM artifacts WHERE {cond} ORDER BY created_ms, rowid"
        ))?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(args), |r| {
                Ok((
                    ArtifactInfo {
                        id: r.get(0)?,
                        name: r.get(1)?,
                        kind: r.get(2)?,
                        uri: r.get(3)?,
                        size_bytes: r.get(4)?,
                        sha256: r.get(5)?,
                        created_ms: r.get(6)?,
                        experiment_id: r.get(7)?,
                        trial_id: r.get(8)?,
                        run_id: r.get(9)?,
                        epoch: r.get(10)?,
                        batch: r.get(11)?,
                        model_version_id: r.get(12)?,
                        metadata: None,
                    },
                    r.get::<_, Option<String>>(13)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(mut a, meta)| {
                a.metadata = parse_column(meta)?;
                Ok(a)
            })
            .collect()
    }
}
