//! Queries: everything the seed systems ask of their stores, answered the same way natively
//! and in the browser. Each file adds the `impl Store` methods for one subject.

mod artifacts;
mod experiments;
mod metrics;
mod provenance;
mod registry;
mod resources;
mod run_table;
mod runs;
mod stats;

use std::collections::BTreeMap;

use rusqlite::Connection;

pub use artifacts::ArtifactInfo;
pub use experiments::{ExperimentInfo, TrialInfo};
pub use metrics::{FinalValue, OverviewBucket, SeriesSummary};
pub use provenance::{BatchInfo, CodeInfo, DatasetInfo, EnvironmentInfo, EpochInfo};
pub use registry::{ModelInfo, ModelStats, ModelVersionInfo};
pub use resources::{RESOURCE_BUDGET, ResourceSeries, ResourceStats, SpanInfo, SpanStats};
pub use run_table::{MetricColumn, RunTable};
pub use runs::{MIN_CRASH_AGE_MS, MISSED_HEARTBEATS, RunInfo, RunQuery, RunState};
pub use stats::StoreStats;

use crate::{ParamValue, Result};

/// Params of one owner, by key.
pub(crate) fn load_params(conn: &Connection, kind: &str, id: &str) -> Result<BTreeMap<String, ParamValue>> {
    let mut stmt = conn.prepare_cached(
        "SELECT key, kind, value FROM params WHERE owner_kind = ?1 AND owner_id = ?2 ORDER BY key",
    )?;
    let mut rows = stmt.query((kind, id))?;
    let mut out = BTreeMap::new();
    while let Some(row) = rows.next()? {
        let key: String = row.get(0)?;
        let kind: String = row.get(1)?;
        out.insert(key, ParamValue::from_sql(&kind, row.get_ref(2)?)?);
    }
    Ok(out)
}

/// Tags of one owner, by key.
pub(crate) fn load_tags(conn: &Connection, kind: &str, id: &str) -> Result<BTreeMap<String, String>> {
    let mut stmt = conn
        .prepare_cached("SELECT key, value FROM tags WHERE owner_kind = ?1 AND owner_id = ?2 ORDER BY key")?;
    let rows = stmt.query_map((kind, id), |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A REAL column whose NULL means NaN (see the schema conventions).
pub(crate) fn nan_if_null(v: Option<f64>) -> f64 {
    v.unwrap_or(f64::NAN)
}
