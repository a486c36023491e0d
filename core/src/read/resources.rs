//! Resource samples and spans: the metrics collector's queries.

use super::nan_if_null;
use crate::event::{ResourceKind, ResourceSample};
use crate::{Result, Store};

/// Average, min and max of one resource measurement (the collector's "average CPU" query).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ResourceStats {
    /// Kind.
    pub kind: ResourceKind,
    /// Measurement name.
    pub name: String,
    /// Unit.
    pub unit: String,
    /// Samples.
    pub count: i64,
    /// Mean value.
    #[serde(serialize_with = "crate::json::opt_float")]
    pub mean: Option<f64>,
    /// Smallest value.
    #[serde(serialize_with = "crate::json::opt_float")]
    pub min: Option<f64>,
    /// Largest value.
    #[serde(serialize_with = "crate::json::opt_float")]
    pub max: Option<f64>,
    /// First sample, Unix ms.
    pub first_ms: i64,
    /// Last sample, Unix ms.
    pub last_ms: i64,
}

/// A recorded span.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SpanInfo {
    /// Run id.
    pub run_id: Option<String>,
    /// Operation name.
    pub name: String,
    /// Start, Unix ms.
    pub start_ms: i64,
    /// Duration, ms.
    pub duration_ms: f64,
    /// Attributes.
    pub attributes: serde_json::Value,
}

/// Duration statistics of the spans of one name.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SpanStats {
    /// Operation name.
    pub name: String,
    /// Number of spans.
    pub count: i64,
    /// Total duration, ms.
    pub total_ms: f64,
    /// Mean duration, ms.
    pub mean_ms: f64,
    /// Shortest, ms.
    pub min_ms: f64,
    /// Longest, ms.
    pub max_ms: f64,
}

impl Store {
    /// Resource samples of one kind (the collector's `query_resource_metrics(metric_type)`),
    /// optionally of one measurement name and one run, by time.
    pub fn resource_samples(
        &self,
        kind: ResourceKind,
        name: Option<&str>,
        run_id: Option<&str>,
    ) -> Result<Vec<ResourceSample>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT run_id, time_ms, name, value, unit FROM resource_samples
             WHERE kind = ?1 AND (?2 IS NULL OR name = ?2) AND (?3 IS NULL OR run_id = ?3)
             ORDER BY time_ms",
        )?;
        let rows = stmt.query_map((kind.as_str(), name, run_id), |r| {
            let run_id: Option<String> = r.get(0)?;
            Ok((run_id, r.get(1)?, r.get(2)?, r.get::<_, Option<f64>>(3)?, r.get(4)?))
        })?;
        rows.map(|row| {
            let (run_id, time_ms, name, value, unit) = row?;
            Ok(ResourceSample {
                run_id: run_id.map(|s| s.parse()).transpose()?,
                time_ms,
                kind,
                name,
                value: nan_if_null(value),
                unit,
            })
        })
        .collect()
    }

    /// Mean, min and max of every resource measurement.
    pub fn resource_stats(&self) -> Result<Vec<ResourceStats>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT kind, name, max(unit), count(*), avg(value), min(value), max(value), min(time_ms), max(time_ms)
             FROM resource_samples GROUP BY kind, name ORDER BY kind, name",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                ResourceStats {
                    kind: ResourceKind::Cpu,
                    name: r.get(1)?,
                    unit: r.get(2)?,
                    count: r.get(3)?,
                    mean: r.get(4)?,
                    min: r.get(5)?,
                    max: r.get(6)?,
                    first_ms: r.get(7)?,
                    last_ms: r.get(8)?,
                },
            ))
        })?;
        rows.map(|row| {
            let (kind, mut stats) = row?;
            stats.kind = kind.parse()?;
            Ok(stats)
        })
        .collect()
    }

    /// Spans, optionally of one run and one name, by start time.
    pub fn spans(&self, run_id: Option<&str>, name: Option<&str>) -> Result<Vec<SpanInfo>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT run_id, name, start_ms, duration_ms, attributes_json FROM spans
             WHERE (?1 IS NULL OR run_id = ?1) AND (?2 IS NULL OR name = ?2) ORDER BY start_ms, id",
        )?;
        let rows = stmt.query_map((run_id, name), |r| {
            Ok((
                SpanInfo {
                    run_id: r.get(0)?,
                    name: r.get(1)?,
                    start_ms: r.get(2)?,
                    duration_ms: r.get(3)?,
                    attributes: serde_json::Value::Null,
                },
                r.get::<_, String>(4)?,
            ))
        })?;
        rows.map(|row| {
            let (mut span, attrs) = row?;
            span.attributes = serde_json::from_str(&attrs)?;
            Ok(span)
        })
        .collect()
    }

    /// Count and duration statistics of spans by name.
    pub fn span_stats(&self) -> Result<Vec<SpanStats>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT name, count(*), sum(duration_ms), avg(duration_ms), min(duration_ms), max(duration_ms)
             FROM spans GROUP BY name ORDER BY name",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(SpanStats {
                name: r.get(0)?,
                count: r.get(1)?,
                total_ms: r.get(2)?,
                mean_ms: r.get(3)?,
                min_ms: r.get(4)?,
                max_ms: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
