//! Store-wide overviews: every metric across runs, and timed operations by round (the
//! metrics collector's "performance by round" query).

use super::Direction;
use crate::read::nan_if_null;
use crate::{Result, Store};

/// One metric key across all runs.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MetricOverview {
    /// Metric key.
    pub key: String,
    /// Runs that have it.
    pub runs: i64,
    /// Points in all runs.
    pub points: i64,
    /// NaN points in all runs.
    pub nan_points: i64,
    /// Runs whose last value is NaN (diverged).
    pub runs_ending_nan: i64,
    /// Direction used for best/worst.
    pub direction: Direction,
    /// Best last value over runs (non-NaN).
    #[serde(serialize_with = "crate::json::opt_float")]
    pub best_last: Option<f64>,
    /// Worst last value over runs (non-NaN).
    #[serde(serialize_with = "crate::json::opt_float")]
    pub worst_last: Option<f64>,
}

/// Spans of one name in one round.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SpanRound {
    /// Operation name.
    pub name: String,
    /// The `round` attribute (null when spans have none).
    pub round: Option<serde_json::Value>,
    /// Spans.
    pub count: i64,
    /// Mean duration, ms.
    pub mean_ms: f64,
    /// Sum of the `samples_generated` attribute, when present.
    pub samples: Option<f64>,
    /// Mean of the `memory_used_mb` attribute, when present.
    pub mean_memory_mb: Option<f64>,
}

impl Store {
    /// Every metric key (totals, not per-label values) across runs.
    pub fn metrics_overview(&self) -> Result<Vec<MetricOverview>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT key, count(DISTINCT run_id), sum(count), sum(nan_count),
                    sum(count > 0 AND last_value IS NULL), min(last_value), max(last_value)
             FROM metric_series WHERE label = '' GROUP BY key ORDER BY key",
        )?;
        let rows = stmt.query_map([], |r| {
            let key: String = r.get(0)?;
            let direction = Direction::guess(&key);
            let (lo, hi): (Option<f64>, Option<f64>) = (r.get(5)?, r.get(6)?);
            let (best, worst) = match direction {
                Direction::Minimize => (lo, hi),
                Direction::Maximize => (hi, lo),
            };
            Ok(MetricOverview {
                key,
                runs: r.get(1)?,
                points: r.get(2)?,
                nan_points: r.get(3)?,
                runs_ending_nan: r.get(4)?,
                direction,
                best_last: best,
                worst_last: worst,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Span count, mean duration, samples generated and memory used, by name and `round`.
    pub fn span_rounds(&self) -> Result<Vec<SpanRound>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT name, json_extract(attributes_json, '$.round') AS round, count(*), avg(duration_ms),
                    sum(json_extract(attributes_json, '$.samples_generated')),
                    avg(json_extract(attributes_json, '$.memory_used_mb'))
             FROM spans GROUP BY name, round ORDER BY name, round",
        )?;
        let rows = stmt.query_map([], |r| {
            let round: Option<rusqlite::types::Value> = r.get(1)?;
            Ok(SpanRound {
                name: r.get(0)?,
                round: round.map(|v| match v {
                    rusqlite::types::Value::Integer(i) => serde_json::json!(i),
                    rusqlite::types::Value::Real(f) => serde_json::json!(f),
                    rusqlite::types::Value::Text(t) => serde_json::json!(t),
                    _ => serde_json::Value::Null,
                }),
                count: r.get(2)?,
                mean_ms: nan_if_null(r.get(3)?),
                samples: r.get(4)?,
                mean_memory_mb: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
