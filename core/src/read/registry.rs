//! The model registry: models, versions, aliases, tags.

use std::collections::BTreeMap;

use rusqlite::{OptionalExtension, Row};

use super::load_tags;
use crate::{Error, Result, Store};

/// A version of a registered model.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ModelVersionInfo {
    /// Id.
    pub id: String,
    /// Model name.
    pub model: String,
    /// Version number (1, 2, ...).
    pub version: i64,
    /// Description.
    pub description: String,
    /// Where the model file is.
    pub storage_path: String,
    /// Size, bytes.
    pub size_bytes: i64,
    /// SHA-256 in hex.
    pub sha256: Option<String>,
    /// Run that produced it.
    pub source_run_id: Option<String>,
    /// Registered, Unix ms.
    pub created_ms: i64,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// Aliases pointing at this version.
    pub aliases: Vec<String>,
}

/// A registered model with its latest version.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ModelInfo {
    /// Id.
    pub id: String,
    /// Unique name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Created, Unix ms.
    pub created_ms: i64,
    /// Last updated, Unix ms.
    pub updated_ms: i64,
    /// Number of versions.
    pub versions: i64,
    /// The highest version.
    pub latest: Option<ModelVersionInfo>,
    /// Alias → version number.
    pub aliases: BTreeMap<String, i64>,
    /// Model-level tags.
    pub tags: BTreeMap<String, String>,
}

/// Totals over the registry (the registry's "model statistics" query).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ModelStats {
    /// Models.
    pub total_models: i64,
    /// Versions.
    pub total_versions: i64,
    /// Sum of version sizes, bytes.
    pub total_size_bytes: i64,
    /// Mean version size, bytes.
    pub avg_size_bytes: Option<f64>,
}

const VERSION_SQL: &str = "SELECT v.id, m.name, v.version, v.description, v.storage_path, v.size_bytes,
        v.sha256, v.source_run_id, v.created_ms
 FROM model_versions v JOIN models m ON m.id = v.model_id";

fn raw_version(r: &Row<'_>) -> rusqlite::Result<ModelVersionInfo> {
    Ok(ModelVersionInfo {
        id: r.get(0)?,
        model: r.get(1)?,
        version: r.get(2)?,
        description: r.get(3)?,
        storage_path: r.get(4)?,
        size_bytes: r.get(5)?,
        sha256: r.get(6)?,
        source_run_id: r.get(7)?,
        created_ms: r.get(8)?,
        tags: BTreeMap::new(),
        aliases: Vec::new(),
    })
}

impl Store {
    /// Every model with its latest version, by name.
    pub fn models(&self) -> Result<Vec<ModelInfo>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT m.id, m.name, m.description, m.created_ms, m.updated_ms,
                    (SELECT count(*) FROM model_versions v WHERE v.model_id = m.id)
             FROM models m ORDER BY m.name",
        )?;
        let models = stmt
            .query_map([], |r| {
                Ok(ModelInfo {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    description: r.get(2)?,
                    created_ms: r.get(3)?,
                    updated_ms: r.get(4)?,
                    versions: r.get(5)?,
                    latest: None,
                    aliases: BTreeMap::new(),
                    tags: BTreeMap::new(),
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        models
            .into_iter()
            .map(|mut m| {
                m.latest = self.model_versions(&m.name)?.pop();
                m.aliases = self.aliases_of(&m.id)?;
                m.tags = load_tags(self.conn(), "model", &m.id)?;
                Ok(m)
            })
            .collect()
    }

    fn aliases_of(&self, model_id: &str) -> Result<BTreeMap<String, i64>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT a.alias, v.version FROM model_aliases a JOIN model_versions v ON v.id = a.version_id
             WHERE a.model_id = ?1 ORDER BY a.alias",
        )?;
        let rows = stmt.query_map([model_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn finish_version(&self, mut v: ModelVersionInfo) -> Result<ModelVersionInfo> {
        v.tags = load_tags(self.conn(), "model_version", &v.id)?;
        let mut stmt = self
            .conn()
            .prepare_cached("SELECT alias FROM model_aliases WHERE version_id = ?1 ORDER BY alias")?;
        v.aliases = stmt.query_map([&v.id], |r| r.get(0))?.collect::<Result<_, _>>()?;
        Ok(v)
    }

    /// Versions of a model, oldest first.
    pub fn model_versions(&self, model: &str) -> Result<Vec<ModelVersionInfo>> {
        let mut stmt =
            self.conn().prepare_cached(&format!("{VERSION_SQL} WHERE m.name = ?1 ORDER BY v.version"))?;
        let rows = stmt.query_map([model], raw_version)?.collect::<Result<Vec<_>, _>>()?;
        rows.into_iter().map(|v| self.finish_version(v)).collect()
    }

    /// The version an alias of a model points at (`production` → version 3).
    pub fn model_version_by_alias(&self, model: &str, alias: &str) -> Result<ModelVersionInfo> {
        let v = self
            .conn()
            .prepare_cached(&format!(
                "{VERSION_SQL} JOIN model_aliases a ON a.version_id = v.id WHERE m.name = ?1 AND a.alias = ?2"
            ))?
            .query_row((model, alias), raw_version)
            .optional()?
            .ok_or_else(|| Error::not_found("model alias", format!("{model}@{alias}")))?;
        self.finish_version(v)
    }

    /// Versions carrying tag `key` = `value`, by model and version.
    pub fn models_by_tag(&self, key: &str, value: &str) -> Result<Vec<ModelVersionInfo>> {
        let mut stmt = self.conn().prepare_cached(&format!(
            "{VERSION_SQL} JOIN tags t ON t.owner_kind = 'model_version' AND t.owner_id = v.id
             WHERE t.key = ?1 AND t.value = ?2 ORDER BY m.name, v.version"
        ))?;
        let rows = stmt.query_map((key, value), raw_version)?.collect::<Result<Vec<_>, _>>()?;
        rows.into_iter().map(|v| self.finish_version(v)).collect()
    }

    /// Totals over the registry.
    pub fn model_stats(&self) -> Result<ModelStats> {
        Ok(self.conn().query_row(
            "SELECT count(DISTINCT m.id), count(v.id), coalesce(sum(v.size_bytes), 0), avg(v.size_bytes)
             FROM models m LEFT JOIN model_versions v ON v.model_id = m.id",
            [],
            |r| {
                Ok(ModelStats {
                    total_models: r.get(0)?,
                    total_versions: r.get(1)?,
                    total_size_bytes: r.get(2)?,
                    avg_size_bytes: r.get(3)?,
                })
            },
        )?)
    }
}
