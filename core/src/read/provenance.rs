//! Where a run's results came from: datasets, code, environment, epochs and batches.

use rusqlite::OptionalExtension;

use crate::json::parse_column;
use crate::{Result, Store};

/// A dataset read or written by a run.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DatasetInfo {
    /// Id.
    pub id: String,
    /// Run id.
    pub run_id: String,
    /// `input` or `output`.
    pub role: String,
    /// Name.
    pub name: String,
    /// Path or URI.
    pub path: Option<String>,
    /// Rows.
    pub rows: Option<i64>,
    /// Columns.
    pub columns: Option<i64>,
    /// Column schema.
    pub schema: Option<serde_json::Value>,
    /// Size in bytes.
    pub size_bytes: Option<i64>,
    /// SHA-256 in hex.
    pub sha256: Option<String>,
    /// Recorded, Unix ms.
    pub created_ms: i64,
}

/// The code a run executed.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CodeInfo {
    /// Git commit.
    pub git_commit: Option<String>,
    /// Git branch.
    pub git_branch: Option<String>,
    /// Uncommitted changes present.
    pub git_dirty: Option<bool>,
    /// Repository root.
    pub repo_root: Option<String>,
    /// Entry point.
    pub entrypoint: Option<String>,
    /// Tracked files with hashes.
    pub files: Option<serde_json::Value>,
    /// Captured, Unix ms.
    pub captured_ms: i64,
}

/// The machine and software of a run.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EnvironmentInfo {
    /// OS name.
    pub os: Option<String>,
    /// OS version.
    pub os_version: Option<String>,
    /// Host name.
    pub hostname: Option<String>,
    /// CPU model.
    pub cpu: Option<String>,
    /// Logical CPUs.
    pub cpu_count: Option<i64>,
    /// Memory, bytes.
    pub memory_bytes: Option<i64>,
    /// GPU.
    pub gpu: Option<String>,
    /// Runtime versions.
    pub runtimes: Option<serde_json::Value>,
    /// Packages.
    pub packages: Option<serde_json::Value>,
    /// Captured, Unix ms.
    pub captured_ms: i64,
}

/// An epoch of a run.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EpochInfo {
    /// Index.
    pub epoch: i64,
    /// Started, Unix ms.
    pub started_ms: i64,
    /// Ended, Unix ms.
    pub ended_ms: Option<i64>,
    /// Number of batches recorded.
    pub batches: i64,
}

/// A batch of an epoch.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct BatchInfo {
    /// Epoch index.
    pub epoch: i64,
    /// Batch index.
    pub batch: i64,
    /// Started, Unix ms.
    pub started_ms: i64,
    /// Ended, Unix ms.
    pub ended_ms: Option<i64>,
}

impl Store {
    /// Datasets of a run.
    pub fn datasets(&self, run_id: &str) -> Result<Vec<DatasetInfo>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT id, run_id, role, name, path, rows, columns, schema_json, size_bytes, sha256, created_ms
             FROM datasets WHERE run_id = ?1 ORDER BY created_ms, rowid",
        )?;
        let rows = stmt
            .query_map([run_id], |r| {
                Ok((
                    DatasetInfo {
                        id: r.get(0)?,
                        run_id: r.get(1)?,
                        role: r.get(2)?,
                        name: r.get(3)?,
                        path: r.get(4)?,
                        rows: r.get(5)?,
                        columns: r.get(6)?,
                        schema: None,
                        size_bytes: r.get(8)?,
                        sha256: r.get(9)?,
                        created_ms: r.get(10)?,
                    },
                    r.get::<_, Option<String>>(7)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(mut d, schema)| {
                d.schema = parse_column(schema)?;
                Ok(d)
            })
            .collect()
    }

    /// The code record of a run.
    pub fn code(&self, run_id: &str) -> Result<Option<CodeInfo>> {
        let raw = self
            .conn()
            .prepare_cached(
                "SELECT git_commit, git_branch, git_dirty, repo_root, entrypoint, files_json, captured_ms
                 FROM code_versions WHERE run_id = ?1",
            )?
            .query_row([run_id], |r| {
                Ok((
                    CodeInfo {
                        git_commit: r.get(0)?,
                        git_branch: r.get(1)?,
                        git_dirty: r.get(2)?,
                        repo_root: r.get(3)?,
                        entrypoint: r.get(4)?,
                        files: None,
                        captured_ms: r.get(6)?,
                    },
                    r.get::<_, Option<String>>(5)?,
                ))
            })
            .optional()?;
        raw.map(|(mut c, files)| {
            c.files = parse_column(files)?;
            Ok(c)
        })
        .transpose()
    }

    /// The environment record of a run.
    pub fn environment(&self, run_id: &str) -> Result<Option<EnvironmentInfo>> {
        let raw = self
            .conn()
            .prepare_cached(
                "SELECT os, os_version, hostname, cpu, cpu_count, memory_bytes, gpu, runtimes_json,
                        packages_json, captured_ms
                 FROM environments WHERE run_id = ?1",
            )?
            .query_row([run_id], |r| {
                Ok((
                    EnvironmentInfo {
                        os: r.get(0)?,
                        os_version: r.get(1)?,
                        hostname: r.get(2)?,
                        cpu: r.get(3)?,
                        cpu_count: r.get(4)?,
                        memory_bytes: r.get(5)?,
                        gpu: r.get(6)?,
                        runtimes: None,
                        packages: None,
                        captured_ms: r.get(9)?,
                    },
                    r.get::<_, Option<String>>(7)?,
                    r.get::<_, Option<String>>(8)?,
                ))
            })
            .optional()?;
        raw.map(|(mut e, runtimes, packages)| {
            e.runtimes = parse_column(runtimes)?;
            e.packages = parse_column(packages)?;
            Ok(e)
        })
        .transpose()
    }

    /// Epochs of a run, with how many batches each recorded.
    pub fn epochs(&self, run_id: &str) -> Result<Vec<EpochInfo>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT e.idx, e.started_ms, e.ended_ms,
                    (SELECT count(*) FROM batches b WHERE b.run_id = e.run_id AND b.epoch = e.idx)
             FROM epochs e WHERE e.run_id = ?1 ORDER BY e.idx",
        )?;
        let rows = stmt.query_map([run_id], |r| {
            Ok(EpochInfo { epoch: r.get(0)?, started_ms: r.get(1)?, ended_ms: r.get(2)?, batches: r.get(3)? })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Batches of one epoch of a run.
    pub fn batches(&self, run_id: &str, epoch: u32) -> Result<Vec<BatchInfo>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT epoch, idx, started_ms, ended_ms FROM batches WHERE run_id = ?1 AND epoch = ?2 ORDER BY idx",
        )?;
        let rows = stmt.query_map((run_id, epoch), |r| {
            Ok(BatchInfo { epoch: r.get(0)?, batch: r.get(1)?, started_ms: r.get(2)?, ended_ms: r.get(3)? })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
