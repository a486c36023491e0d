//! Counts, time span and size of a store (the collector's `get_summary_stats`).

use std::collections::BTreeMap;

use crate::{Result, Store};

/// What a store holds, in numbers.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StoreStats {
    /// Schema version of the file.
    pub schema_version: i64,
    /// Experiments.
    pub experiments: i64,
    /// Trials.
    pub trials: i64,
    /// Runs.
    pub runs: i64,
    /// Runs by recorded status.
    pub runs_by_status: BTreeMap<String, i64>,
    /// Metric series (per-label series included).
    pub series: i64,
    /// Metric points.
    pub points: i64,
    /// Points whose value is NaN.
    pub nan_points: i64,
    /// Resource samples.
    pub resource_samples: i64,
    /// Spans.
    pub spans: i64,
    /// Artifacts.
    pub artifacts: i64,
    /// Datasets.
    pub datasets: i64,
    /// Registered models.
    pub models: i64,
    /// Model versions.
    pub model_versions: i64,
    /// Earliest recorded time (run starts, points, samples), Unix ms.
    pub first_ms: Option<i64>,
    /// Latest recorded time, Unix ms.
    pub last_ms: Option<i64>,
    /// `last_ms - first_ms`.
    pub duration_ms: Option<i64>,
    /// Size of the database (pages × page size), bytes.
    pub size_bytes: i64,
}

impl Store {
    /// Counts, time span and size.
    pub fn stats(&self) -> Result<StoreStats> {
        let c = self.conn();
        let count = |table: &str| -> Result<i64> {
            Ok(c.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?)
        };
        // The series in one pass: in a file of 200,000 series this is most of the work.
        let (series, points, nan_points, series_first, series_last): (i64, i64, i64, Option<i64>, Option<i64>) =
            c.query_row(
                "SELECT count(*), coalesce(sum(count), 0), coalesce(sum(nan_count), 0), min(first_ms), max(last_ms)
                 FROM metric_series",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )?;
        let mut runs_by_status = BTreeMap::new();
        let mut stmt = c.prepare("SELECT status, count(*) FROM runs GROUP BY status")?;
        for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))? {
            let (s, n) = row?;
            runs_by_status.insert(s, n);
        }
        let (first_ms, last_ms): (Option<i64>, Option<i64>) = c.query_row(
            "SELECT min(t0), max(t1) FROM (
                 SELECT min(created_ms) AS t0, max(coalesce(ended_ms, heartbeat_ms, created_ms)) AS t1 FROM runs
                 UNION ALL SELECT ?1, ?2
                 UNION ALL SELECT min(time_ms), max(time_ms) FROM resource_samples
                 UNION ALL SELECT min(start_ms), max(start_ms + duration_ms) FROM spans)",
            (series_first, series_last),
            |r| Ok((r.get(0)?, r.get::<_, Option<f64>>(1)?.map(|x| x as i64))),
        )?;
        let size_bytes: i64 = c.query_row(
            "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
            [],
            |r| r.get(0),
        )?;
        Ok(StoreStats {
            schema_version: self.compatibility().file_version,
            experiments: count("experiments")?,
            trials: count("trials")?,
            runs: count("runs")?,
            runs_by_status,
            series,
            points,
            nan_points,
            resource_samples: count("resource_samples")?,
            spans: count("spans")?,
            artifacts: count("artifacts")?,
            datasets: count("datasets")?,
            models: count("models")?,
            model_versions: count("model_versions")?,
            first_ms,
            last_ms,
            duration_ms: first_ms.zip(last_ms).map(|(a, b)| b - a),
            size_bytes,
        })
    }
}
