//! MLflow tracking stores: the SQLite database (`mlflow.db`, the schema of MLflow 2.x and 3.x)
//! and the file store (`mlruns/`). Both give experiments and their tags, runs (name, status,
//! start and end, user, source), params, tags, every metric point with its step and timestamp,
//! the runs' artifacts (each local file with its size and SHA-256; a location that is not on
//! this machine as one record), and the model registry: registered models with their tags,
//! versions (with their tags, and the run that made them) and aliases.
//!
//! A run keeps its MLflow id in `import.source_id` (`mlflow:RUN_ID`) and its MLflow tags
//! (`mlflow.runName`, `mlflow.user`, ...). Values are MLflow's own: NaN, and ±Inf as each store
//! keeps it (the SQLite store clamps ±Inf to ±1.7976931348623157e308; the file store keeps
//! `inf`). A param becomes a number when the number prints as the same text (`0.01`, `4`);
//! else it stays text (`1e-3`, `True`). Runs deleted in MLflow (or in a deleted experiment) and
//! deleted model versions are left out, and listed.

mod file_store;
mod sqlite;

use std::path::{Path, PathBuf};

use runstore_core::{ParamValue, RunStatus};

use super::{ImportedArtifact, ImportedExperiment, ImportedModel, ImportedRun, Progress, Skipped};
use crate::Result;
use crate::hash::file_sha256;

/// What one MLflow store held.
#[derive(Debug, Clone, PartialEq)]
pub struct Read {
    /// Experiments with tags.
    pub experiments: Vec<ImportedExperiment>,
    /// Runs, oldest first.
    pub runs: Vec<ImportedRun>,
    /// Registered models.
    pub models: Vec<ImportedModel>,
    /// What was left out, with why.
    pub skipped: Vec<Skipped>,
}

/// Reads the MLflow store at `path`: a folder is a file store (`mlruns/`), a file an SQLite
/// store (opened read-only; MLflow may keep using it). `progress` is told the metric rows read
/// (SQLite) or the runs read (file store).
pub fn read(path: &Path, progress: Progress<'_>) -> Result<Read> {
    let mut read =
        if path.is_dir() { file_store::read(path, progress)? } else { sqlite::read(path, progress)? };
    model_sizes(&mut read);
    Ok(read)
}

/// A run's status from MLflow's name for it.
fn status(name: &str) -> Option<RunStatus> {
    Some(match name {
        "FINISHED" => RunStatus::Completed,
        "FAILED" => RunStatus::Failed,
        "KILLED" => RunStatus::Killed,
        "RUNNING" => RunStatus::Running,
        "SCHEDULED" => RunStatus::Pending,
        _ => return None,
    })
}

/// Adds MLflow's run fields as the tags MLflow's client shows them under, unless present.
fn add_tag(tags: &mut Vec<(String, String)>, key: &str, value: Option<String>) {
    if let Some(value) = value.filter(|v| !v.is_empty())
        && !tags.iter().any(|(k, _)| k == key)
    {
        tags.push((key.to_owned(), value));
    }
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

/// A run's artifacts: every file under its artifact location when that is a folder on this
/// machine (`uri` itself, else `moved_to`: where a copied file store keeps them), with size and
/// SHA-256; else the location as one record. `base` resolves relative paths.
fn artifacts(uri: &str, moved_to: Option<&Path>, base: &Path) -> Result<Vec<ImportedArtifact>> {
    let local = local_path(uri).map(|p| base.join(p));
    let Some(dir) = local.into_iter().chain(moved_to.map(Path::to_owned)).find(|p| p.is_dir()) else {
        if uri.is_empty() {
            return Ok(Vec::new());
        }
        return Ok(vec![ImportedArtifact {
            name: "artifacts".into(),
            kind: "location",
            uri: uri.to_owned(),
            size_bytes: None,
            sha256: None,
        }]);
    };
    let mut files = Vec::new();
    walk(&dir, &mut files)?;
    files
        .into_iter()
        .map(|path| {
            let (size, sha) = file_sha256(&path)?;
            let name = path.strip_prefix(&dir).unwrap_or(&path);
            Ok(ImportedArtifact {
                name: name
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/"),
                kind: "file",
                uri: path.display().to_string(),
                size_bytes: Some(size as i64),
                sha256: Some(sha),
            })
        })
        .collect()
}

/// Files under `dir`, in name order. Links to folders are not followed (a link to `.` or
/// `/` would repeat or leave the tree); links to files are read as the files.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for (path, kind) in super::entries(dir)? {
        if kind.is_dir() {
            walk(&path, out)?;
        } else if kind.is_file() || (kind.is_symlink() && path.is_file()) {
            out.push(path);
        }
    }
    Ok(())
}

/// The local path an artifact URI names: `file:///a%20b` or a plain path; `None` for remote
/// schemes (`s3://`, `mlflow-artifacts:/`, `runs:/`, ...).
fn local_path(uri: &str) -> Option<PathBuf> {
    if let Some(rest) = uri.strip_prefix("file://") {
        // `file:///p` and `file://localhost/p` name this machine; another host is not here.
        let path = rest.strip_prefix("localhost").unwrap_or(rest);
        return path.starts_with('/').then(|| PathBuf::from(percent_decoded(path)));
    }
    if let Some(rest) = uri.strip_prefix("file:") {
        return Some(PathBuf::from(percent_decoded(rest)));
    }
    let scheme = uri.split_once(':').map(|(s, _)| s);
    match scheme {
        Some(s) if s.len() > 1 && s.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) => None,
        _ if uri.is_empty() => None,
        _ => Some(PathBuf::from(uri)),
    }
}

/// `%XX` escapes of a URI path decoded.
fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex =
            bytes.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Sizes of model versions whose files are a run's artifacts read here (`runs:/RUN/PATH`).
fn model_sizes(read: &mut Read) {
    for version in read.models.iter_mut().flat_map(|m| m.versions.iter_mut()) {
        let Some(rest) = version.storage_path.strip_prefix("runs:/") else { continue };
        let (run_id, path) = rest.split_once('/').unwrap_or((rest, ""));
        let source_id = format!("mlflow:{run_id}");
        let Some(run) = read.runs.iter().find(|r| r.source_id == source_id) else { continue };
        let prefix = if path.is_empty() { String::new() } else { format!("{}/", path.trim_end_matches('/')) };
        version.size_bytes = run
            .artifacts
            .iter()
            .filter(|a| a.kind == "file" && (a.name.starts_with(&prefix) || a.name == path))
            .filter_map(|a| a.size_bytes)
            .sum();
    }
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
    fn artifact_uris_on_this_machine_are_paths() {
        assert_eq!(local_path("file:///tmp/a%20b/artifacts"), Some(PathBuf::from("/tmp/a b/artifacts")));
        assert_eq!(local_path("file://localhost/tmp/x"), Some(PathBuf::from("/tmp/x")));
        assert_eq!(local_path("file://otherhost/tmp/x"), None);
        assert_eq!(local_path("/srv/mlruns/1/x/artifacts"), Some(PathBuf::from("/srv/mlruns/1/x/artifacts")));
        assert_eq!(local_path("./mlruns/1"), Some(PathBuf::from("./mlruns/1")));
        for remote in ["s3://bucket/a", "mlflow-artifacts:/1/x", "runs:/abc/model", "gs://b/c", ""] {
            assert_eq!(local_path(remote), None, "{remote}");
        }
    }

    #[test]
    fn a_location_not_here_is_one_record_and_files_here_are_hashed() {
        let dir = tempfile::tempdir().unwrap();
        let gone = artifacts("s3://bucket/run/artifacts", None, dir.path()).unwrap();
        assert_eq!(gone.len(), 1);
        assert_eq!(
            (gone[0].kind, gone[0].uri.as_str(), gone[0].size_bytes),
            ("location", "s3://bucket/run/artifacts", None)
        );
        std::fs::create_dir_all(dir.path().join("copied/model")).unwrap();
        std::fs::write(dir.path().join("copied/model/MLmodel"), b"abc").unwrap();
        let moved =
            artifacts("file:///nowhere/artifacts", Some(&dir.path().join("copied")), dir.path()).unwrap();
        assert_eq!(moved.len(), 1, "links to folders (a loop, the root) are not followed");
        assert_eq!(moved[0].name, "model/MLmodel");
        assert_eq!(moved[0].size_bytes, Some(3));
        assert_eq!(
            moved[0].sha256.as_deref(),
            Some("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        );
    }
}
