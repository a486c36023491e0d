//! Metric series: summaries (read from the series rows, never the points), full points,
//! overview buckets, and the final value of a metric per run.

use rusqlite::{OptionalExtension, Row};

use super::nan_if_null;
use crate::chunk::{self, Point};
use crate::{Context, Error, Result, Store};

/// The summary of one series, maintained at write time.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SeriesSummary {
    /// File-local series id.
    pub series_id: i64,
    /// Run id.
    pub run_id: String,
    /// Metric key.
    pub key: String,
    /// Phase and other labels.
    pub context: std::collections::BTreeMap<String, String>,
    /// Per-label value name, `""` for the total.
    pub label: String,
    /// Points, NaN included.
    pub count: i64,
    /// NaN points.
    pub nan_count: i64,
    /// Smallest step.
    pub first_step: Option<i64>,
    /// Largest step.
    pub last_step: Option<i64>,
    /// Time of the first point, Unix ms.
    pub first_ms: Option<i64>,
    /// Time of the last point, Unix ms.
    pub last_ms: Option<i64>,
    /// Value at the largest step (NaN if it was NaN).
    #[serde(serialize_with = "crate::json::opt_float")]
    pub last: Option<f64>,
    /// Smallest non-NaN value.
    #[serde(serialize_with = "crate::json::opt_float")]
    pub min: Option<f64>,
    /// Largest non-NaN value.
    #[serde(serialize_with = "crate::json::opt_float")]
    pub max: Option<f64>,
    /// Mean of the non-NaN values.
    #[serde(serialize_with = "crate::json::opt_float")]
    pub mean: Option<f64>,
    /// Sum of the non-NaN values.
    #[serde(serialize_with = "crate::json::opt_float")]
    pub sum: Option<f64>,
}

/// One overview bucket: count, NaN count, first, last, min and max of the points whose step
/// falls in `[bucket × width, (bucket + 1) × width)`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct OverviewBucket {
    /// Level (width = 64 × 8^level steps).
    pub level: i64,
    /// Bucket index.
    pub bucket: i64,
    /// Points.
    pub count: i64,
    /// NaN points.
    pub nan_count: i64,
    /// Step of the first point.
    pub first_step: i64,
    /// Value of the first point.
    #[serde(serialize_with = "crate::json::float")]
    pub first_value: f64,
    /// Step of the last point.
    pub last_step: i64,
    /// Value of the last point.
    #[serde(serialize_with = "crate::json::float")]
    pub last_value: f64,
    /// Step and value of the smallest non-NaN value.
    pub min: Option<(i64, f64)>,
    /// Step and value of the largest non-NaN value.
    pub max: Option<(i64, f64)>,
}

/// The final (last-step) value of a metric in one run.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FinalValue {
    /// Run id.
    pub run_id: String,
    /// Run name.
    pub run_name: String,
    /// Experiment name.
    pub experiment: String,
    /// Step of the value.
    pub step: Option<i64>,
    /// The value (NaN if the run diverged).
    #[serde(serialize_with = "crate::json::opt_float")]
    pub value: Option<f64>,
}

pub(super) const SUMMARY_SQL: &str = "SELECT s.id, s.run_id, s.key, s.context, s.label, s.count, s.nan_count,
        s.first_step, s.last_step, s.first_ms, s.last_ms, s.last_value, s.min_value, s.max_value, s.sum_value
 FROM metric_series s";

pub(super) fn summary(r: &Row<'_>) -> rusqlite::Result<(SeriesSummary, String)> {
    let count: i64 = r.get(5)?;
    let nan_count: i64 = r.get(6)?;
    let valid = count - nan_count;
    let sum: Option<f64> = r.get(14)?;
    let sum = (valid > 0).then(|| nan_if_null(sum));
    Ok((
        SeriesSummary {
            series_id: r.get(0)?,
            run_id: r.get(1)?,
            key: r.get(2)?,
            context: Default::default(),
            label: r.get(4)?,
            count,
            nan_count,
            first_step: r.get(7)?,
            last_step: r.get(8)?,
            first_ms: r.get(9)?,
            last_ms: r.get(10)?,
            last: (count > 0).then(|| r.get::<_, Option<f64>>(11).map(nan_if_null)).transpose()?,
            min: r.get(12)?,
            max: r.get(13)?,
            mean: sum.map(|s| s / valid as f64),
            sum,
        },
        r.get(3)?,
    ))
}

pub(super) fn with_context((mut s, ctx): (SeriesSummary, String)) -> Result<SeriesSummary> {
    s.context = Context::from_json(&ctx)?.labels().clone();
    Ok(s)
}

impl Store {
    /// Summaries of every series of a run, by key, context and label.
    pub fn series_summaries(&self, run_id: &str) -> Result<Vec<SeriesSummary>> {
        let mut stmt = self.conn().prepare_cached(&format!(
            "{SUMMARY_SQL} WHERE s.run_id = ?1 ORDER BY s.key, s.context, s.label"
        ))?;
        let rows = stmt.query_map([run_id], summary)?.collect::<Result<Vec<_>, _>>()?;
        rows.into_iter().map(with_context).collect()
    }

    /// Summaries of every series of every run of an experiment (name or id): the experiment
    /// manager's `get_experiment_metrics`.
    pub fn experiment_metrics(&self, experiment: &str) -> Result<Vec<SeriesSummary>> {
        let exp = self.experiment(experiment)?;
        let mut stmt = self.conn().prepare_cached(&format!(
            "{SUMMARY_SQL} JOIN runs r ON r.id = s.run_id WHERE r.experiment_id = ?1
             ORDER BY r.created_ms, s.run_id, s.key, s.context, s.label"
        ))?;
        let rows = stmt.query_map([&exp.id], summary)?.collect::<Result<Vec<_>, _>>()?;
        rows.into_iter().map(with_context).collect()
    }

    /// The id of the series (run, key, context, label), if it exists.
    pub fn find_series(
        &self,
        run_id: &str,
        key: &str,
        context: &Context,
        label: &str,
    ) -> Result<Option<i64>> {
        Ok(self
            .conn()
            .prepare_cached(
                "SELECT id FROM metric_series WHERE run_id = ?1 AND key = ?2 AND context = ?3 AND label = ?4",
            )?
            .query_row((run_id, key, context.to_json(), label), |r| r.get(0))
            .optional()?)
    }

    /// Every point of a series, ordered by step (points at equal steps in the order written).
    pub fn series_points(&self, series_id: i64) -> Result<Vec<Point>> {
        let mut stmt = self
            .conn()
            .prepare_cached("SELECT data FROM metric_chunks WHERE series_id = ?1 ORDER BY first_step, id")?;
        let mut rows = stmt.query([series_id])?;
        let mut points = Vec::new();
        while let Some(row) = rows.next()? {
            let data = row
                .get_ref(0)?
                .as_blob()
                .map_err(|e| Error::Corrupt { table: "metric_chunks", why: e.to_string() })?;
            chunk::decode_into(data, &mut points)?;
        }
        if !points.is_sorted_by_key(|p| p.step) {
            points.sort_by_key(|p| p.step);
        }
        Ok(points)
    }

    /// The overview buckets of a series at `level`, by bucket.
    pub fn overview(&self, series_id: i64, level: usize) -> Result<Vec<OverviewBucket>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT level, bucket, count, nan_count, first_step, first_value, last_step, last_value,
                    min_step, min_value, max_step, max_value
             FROM metric_overviews WHERE series_id = ?1 AND level = ?2 ORDER BY bucket",
        )?;
        let rows = stmt.query_map((series_id, level as i64), |r| {
            let min_step: Option<i64> = r.get(8)?;
            let max_step: Option<i64> = r.get(10)?;
            Ok(OverviewBucket {
                level: r.get(0)?,
                bucket: r.get(1)?,
                count: r.get(2)?,
                nan_count: r.get(3)?,
                first_step: r.get(4)?,
                first_value: nan_if_null(r.get(5)?),
                last_step: r.get(6)?,
                last_value: nan_if_null(r.get(7)?),
                min: min_step.map(|s| r.get::<_, f64>(9).map(|v| (s, v))).transpose()?,
                max: max_step.map(|s| r.get::<_, f64>(11).map(|v| (s, v))).transpose()?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The value at the last step of metric `key` (total, any context unless given) in every
    /// run that has it: "final loss per run/simulation".
    pub fn final_values(&self, key: &str, context: Option<&Context>) -> Result<Vec<FinalValue>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT r.id, r.name, e.name, s.last_step, s.last_value, s.count
             FROM metric_series s JOIN runs r ON r.id = s.run_id JOIN experiments e ON e.id = r.experiment_id
             WHERE s.key = ?1 AND s.label = '' AND (?2 IS NULL OR s.context = ?2)
             ORDER BY e.name, r.created_ms, r.id, s.context",
        )?;
        let rows = stmt.query_map((key, context.map(Context::to_json)), |r| {
            let count: i64 = r.get(5)?;
            Ok(FinalValue {
                run_id: r.get(0)?,
                run_name: r.get(1)?,
                experiment: r.get(2)?,
                step: r.get(3)?,
                value: (count > 0).then(|| r.get::<_, Option<f64>>(4).map(nan_if_null)).transpose()?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
