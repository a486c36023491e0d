//! MLflow's file store (`mlruns/`): a folder per experiment (`meta.yaml`, `tags/`), in it a
//! folder per run (`meta.yaml`, `params/`, `tags/`, `metrics/`, `artifacts/`), one file per
//! key (a key with `/` is a path), a metric's points one line each (`TIMESTAMP VALUE [STEP
//! ...]`); the registry under `models/` (a folder per model, `version-N` per version).
//! Experiments in `.trash/` were deleted in MLflow.

use std::path::{Path, PathBuf};

use runstore_core::{Context, Point, RunStatus};
use serde_json::Value as Yaml;

use super::{Progress, Read, add_tag, artifacts, param_value, status};
use crate::import::{
    ImportedArtifact, ImportedExperiment, ImportedModel, ImportedModelVersion, ImportedRun, ImportedSeries,
    Skipped,
};
use crate::{Error, Result};

/// Reads the file store at `root`.
pub(super) fn read(root: &Path, progress: Progress<'_>) -> Result<Read> {
    let mut read =
        Read { experiments: Vec::new(), runs: Vec::new(), models: Vec::new(), skipped: Vec::new() };
    let mut found_any = false;
    let experiment_dirs = folders(root)?;
    // Progress counts the folders of experiments (runs, mostly) across the store.
    let total = experiment_dirs.iter().map(|d| folders(d).map_or(0, |f| f.len() as u64)).sum::<u64>();
    let mut done = 0u64;
    for dir in experiment_dirs {
        let file_name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if file_name == ".trash" {
            for gone in folders(&dir)? {
                read.skipped.push(Skipped {
                    what: format!("experiment folder {}", gone.display()),
                    why: "deleted in MLflow (in .trash)".into(),
                });
            }
            continue;
        }
        if file_name == "models" && !dir.join("meta.yaml").is_file() {
            read.models = models(&dir, &mut read.skipped)?;
            found_any = true;
            continue;
        }
        if !dir.join("meta.yaml").is_file() {
            continue;
        }
        let meta = meta(&dir.join("meta.yaml"))?;
        let Some(name) = text(&meta, "name") else { continue };
        found_any = true;
        let tags = keyed_files(&dir.join("tags"))?;
        if text(&meta, "lifecycle_stage").as_deref() == Some("deleted") {
            read.skipped
                .push(Skipped { what: format!("experiment {name:?}"), why: "deleted in MLflow".into() });
            continue;
        }
        for run_dir in folders(&dir)? {
            if run_dir.join("meta.yaml").is_file() {
                runs(&run_dir, &name, &mut read)?;
            }
            done += 1;
            progress(done, total.max(done));
        }
        if !tags.is_empty() {
            read.experiments.push(ImportedExperiment { name, tags });
        }
    }
    if !found_any {
        return Err(Error::Import(format!(
            "{}: not an MLflow file store: no experiment folder with a meta.yaml in it",
            root.display()
        )));
    }
    read.runs.sort_by(|a, b| (a.started_ms, &a.source_id).cmp(&(b.started_ms, &b.source_id)));
    read.experiments.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(read)
}

/// The run in `dir` (a folder of an experiment that has a `meta.yaml` with a `run_id`; the
/// experiment's other folders, such as logged models', do not).
fn runs(dir: &Path, experiment: &str, read: &mut Read) -> Result<()> {
    let meta = meta(&dir.join("meta.yaml"))?;
    let Some(id) = text(&meta, "run_id") else { return Ok(()) };
    let mut tags = keyed_files(&dir.join("tags"))?;
    let name = text(&meta, "run_name")
        .filter(|n| !n.is_empty())
        .or_else(|| tags.iter().find(|(k, _)| k == "mlflow.runName").map(|(_, v)| v.clone()))
        .unwrap_or_else(|| id.clone());
    if text(&meta, "lifecycle_stage").as_deref() == Some("deleted") {
        read.skipped.push(Skipped { what: format!("run {id} ({name})"), why: "deleted in MLflow".into() });
        return Ok(());
    }
    // Older stores write the status as MLflow's enum number, newer ones may write its name.
    let status = match int(&meta, "status") {
        Some(1) => Some(RunStatus::Running),
        Some(2) => Some(RunStatus::Pending),
        Some(3) => Some(RunStatus::Completed),
        Some(4) => Some(RunStatus::Failed),
        Some(5) => Some(RunStatus::Killed),
        _ => text(&meta, "status").as_deref().and_then(status),
    }
    .ok_or_else(|| {
        Error::Import(format!("{}: a run status MLflow does not write", dir.join("meta.yaml").display()))
    })?;
    let artifact_uri = text(&meta, "artifact_uri").unwrap_or_default();
    add_tag(&mut tags, "mlflow.user", text(&meta, "user_id"));
    add_tag(&mut tags, "mlflow.source.name", text(&meta, "source_name"));
    add_tag(&mut tags, "mlflow.artifact_uri", Some(artifact_uri.clone()));
    let mut series = Vec::new();
    for (key, file) in keyed_paths(&dir.join("metrics"))? {
        let body = std::fs::read_to_string(&file).map_err(|e| Error::io(&file, e))?;
        let mut points = Vec::new();
        for (n, line) in body.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            points.push(metric_line(line).ok_or_else(|| {
                Error::Import(format!(
                    "{} line {}: not an MLflow metric line (TIMESTAMP VALUE STEP): {line:?}",
                    file.display(),
                    n + 1
                ))
            })?);
        }
        series.push(ImportedSeries { key, context: Context::none(), points });
    }
    read.runs.push(ImportedRun {
        source_id: format!("mlflow:{id}"),
        source: "mlflow",
        experiment: experiment.to_owned(),
        name,
        status,
        started_ms: int(&meta, "start_time").unwrap_or(0),
        ended_ms: int(&meta, "end_time"),
        params: keyed_files(&dir.join("params"))?.into_iter().map(|(k, v)| (k, param_value(v))).collect(),
        tags,
        series,
        artifacts: run_artifacts(&artifact_uri, &id, dir)?,
    });
    Ok(())
}

/// A run's artifacts. Where its location is the store's own folder for it
/// (`…/RUN_ID/artifacts`, MLflow's default), that folder next to `meta.yaml` is the authority,
/// wherever the store was recorded: no folder there (git and copies drop empty ones) is no
/// artifacts. A location elsewhere is read as any other.
fn run_artifacts(uri: &str, run_id: &str, dir: &Path) -> Result<Vec<ImportedArtifact>> {
    let own = dir.join("artifacts");
    if uri.trim_end_matches('/').ends_with(&format!("{run_id}/artifacts")) && !own.is_dir() {
        return Ok(Vec::new());
    }
    artifacts(uri, Some(&own), dir)
}

/// One metric line: `TIMESTAMP VALUE`, `TIMESTAMP VALUE STEP`, or with the dataset's name and
/// digest after the step. Values as Python's `float()` reads them (`nan`, `inf`, `-inf`).
fn metric_line(line: &str) -> Option<Point> {
    let parts: Vec<&str> = line.split(' ').collect();
    if !matches!(parts.len(), 2 | 3 | 5) {
        return None;
    }
    let value = match parts[1].to_ascii_lowercase().as_str() {
        "nan" => f64::NAN,
        "inf" | "infinity" => f64::INFINITY,
        "-inf" | "-infinity" => f64::NEG_INFINITY,
        v => v.parse().ok()?,
    };
    Some(Point {
        time_ms: parts[0].parse().ok()?,
        value,
        step: if parts.len() > 2 { parts[2].parse().ok()? } else { 0 },
        epoch: None,
        batch: None,
    })
}

/// The registry folder: a folder per model, a `version-N` folder per version.
fn models(dir: &Path, skipped: &mut Vec<Skipped>) -> Result<Vec<ImportedModel>> {
    let mut models = Vec::new();
    for model_dir in folders(dir)? {
        if !model_dir.join("meta.yaml").is_file() {
            continue;
        }
        let model_meta = meta(&model_dir.join("meta.yaml"))?;
        let Some(name) = text(&model_meta, "name") else { continue };
        let mut aliases: Vec<(String, i64)> = keyed_files(&model_dir.join("aliases"))?
            .into_iter()
            .filter_map(|(alias, version)| Some((alias, version.trim().parse().ok()?)))
            .collect();
        if let Some(map) = model_meta["aliases"].as_object() {
            for (alias, version) in map {
                if let Some(version) = scalar(version).and_then(|v| v.parse().ok())
                    && !aliases.iter().any(|(a, _)| a == alias)
                {
                    aliases.push((alias.clone(), version));
                }
            }
        }
        let mut versions = Vec::new();
        for version_dir in folders(&model_dir)? {
            let is_version =
                version_dir.file_name().is_some_and(|n| n.to_string_lossy().starts_with("version-"));
            if !is_version || !version_dir.join("meta.yaml").is_file() {
                continue;
            }
            let v = meta(&version_dir.join("meta.yaml"))?;
            let Some(version) = int(&v, "version") else { continue };
            let stage = text(&v, "current_stage").unwrap_or_default();
            if stage == "Deleted_Internal" {
                skipped.push(Skipped {
                    what: format!("version {version} of model {name:?}"),
                    why: "deleted in MLflow".into(),
                });
                continue;
            }
            let created_ms = int(&v, "creation_timestamp").unwrap_or(0);
            let mut tags = keyed_files(&version_dir.join("tags"))?;
            add_tag(&mut tags, "mlflow.stage", Some(stage).filter(|s| s != "None"));
            add_tag(&mut tags, "mlflow.status", text(&v, "status"));
            versions.push(ImportedModelVersion {
                source_id: format!("mlflow:model:{name}:{version}:{created_ms}"),
                version,
                description: text(&v, "description").unwrap_or_default(),
                storage_path: text(&v, "source").unwrap_or_default(),
                size_bytes: 0,
                run_source_id: text(&v, "run_id")
                    .filter(|id| !id.is_empty())
                    .map(|id| format!("mlflow:{id}")),
                tags,
                created_ms,
            });
        }
        versions.sort_by_key(|v| v.version);
        aliases.sort();
        models.push(ImportedModel {
            name,
            description: text(&model_meta, "description").unwrap_or_default(),
            created_ms: int(&model_meta, "creation_timestamp").unwrap_or(0),
            tags: keyed_files(&model_dir.join("tags"))?,
            versions,
            aliases,
        });
    }
    models.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(models)
}

/// A `meta.yaml` file, parsed.
fn meta(path: &Path) -> Result<Yaml> {
    let body = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let doc: Yaml = yaml_serde::from_str(&body)
        .map_err(|e| Error::Import(format!("{}: not YAML ({e})", path.display())))?;
    if !doc.is_object() {
        return Err(Error::Import(format!("{}: not an MLflow meta.yaml (no fields)", path.display())));
    }
    Ok(doc)
}

/// A field as text (numbers as written); `None` when missing or null.
fn text(meta: &Yaml, key: &str) -> Option<String> {
    scalar(&meta[key])
}

/// A scalar as text.
fn scalar(value: &Yaml) -> Option<String> {
    match value {
        Yaml::String(s) => Some(s.clone()),
        Yaml::Number(n) => Some(n.to_string()),
        Yaml::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A field as a whole number (written as one, or as text holding one).
fn int(meta: &Yaml, key: &str) -> Option<i64> {
    meta[key].as_i64().or_else(|| text(meta, key)?.trim().parse().ok())
}

/// Sub-folders of `dir`, in name order (none when `dir` is missing).
fn folders(dir: &Path) -> Result<Vec<PathBuf>> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Ok(Vec::new()) };
    let mut out: Vec<PathBuf> =
        entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_dir()).collect();
    out.sort();
    Ok(out)
}

/// The files under `dir` as MLflow keys (their paths below `dir`, with `/`), in key order.
fn keyed_paths(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let mut files = Vec::new();
    if dir.is_dir() {
        super::walk(dir, &mut files)?;
    }
    let mut keyed: Vec<(String, PathBuf)> = files
        .into_iter()
        .map(|path| {
            let key = path.strip_prefix(dir).unwrap_or(&path);
            let key = key.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
            (key, path)
        })
        .collect();
    keyed.sort();
    Ok(keyed)
}

/// The files under `dir` as MLflow keys and their contents (a param's or tag's value).
fn keyed_files(dir: &Path) -> Result<Vec<(String, String)>> {
    keyed_paths(dir)?
        .into_iter()
        .map(|(key, path)| Ok((key, std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_lines_read_as_mlflow_reads_them() {
        let p = metric_line("1700000000000 0.5 3").unwrap();
        assert_eq!((p.time_ms, p.value, p.step), (1_700_000_000_000, 0.5, 3));
        assert_eq!(metric_line("5 inf 1").unwrap().value, f64::INFINITY);
        assert_eq!(metric_line("5 -inf 1").unwrap().value, f64::NEG_INFINITY);
        assert!(metric_line("5 nan 1").unwrap().value.is_nan());
        assert_eq!(metric_line("5 2.5").unwrap().step, 0, "old stores wrote no step");
        assert_eq!(metric_line("5 2.5 7 train abc123").unwrap().step, 7);
        for bad in ["", "5", "5 x 1", "a 1 2", "5 1 2 3"] {
            assert!(metric_line(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn a_folder_that_is_not_a_file_store_says_so() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("photos")).unwrap();
        let err = read(dir.path(), &mut |_, _| {}).unwrap_err().to_string();
        assert!(err.contains("not an MLflow file store"), "{err}");
    }
}
