//! Tabular exports: every point of the selected runs, streamed a chunk at a time.

use crate::chunk::Point;
use crate::read::RunInfo;
use crate::{Result, Store};

/// One point with the names of its run and series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PointRow<'a> {
    /// Run id.
    pub run_id: &'a str,
    /// Experiment name.
    pub experiment: &'a str,
    /// Trial name (`""` without a trial).
    pub trial: &'a str,
    /// Run name.
    pub run: &'a str,
    /// Metric key.
    pub key: &'a str,
    /// Context as canonical JSON.
    pub context: &'a str,
    /// Per-label value name (`""` for the total).
    pub label: &'a str,
    /// The point.
    pub point: Point,
}

impl Store {
    /// Number of points the runs hold (from the summaries), for progress bars.
    pub fn point_count(&self, runs: &[RunInfo]) -> Result<i64> {
        let mut stmt = self
            .conn()
            .prepare_cached("SELECT coalesce(sum(count), 0) FROM metric_series WHERE run_id = ?1")?;
        runs.iter().map(|r| Ok(stmt.query_row([&r.id], |row| row.get::<_, i64>(0))?)).sum()
    }

    /// Calls `f` with every point of `runs`, series by series in step order.
    pub fn for_each_point(
        &self,
        runs: &[RunInfo],
        mut f: impl FnMut(&PointRow<'_>) -> Result<()>,
    ) -> Result<()> {
        let mut series_stmt = self.conn().prepare_cached(
            "SELECT id, key, context, label FROM metric_series WHERE run_id = ?1 ORDER BY key, context, label",
        )?;
        for run in runs {
            let series: Vec<(i64, String, String, String)> = series_stmt
                .query_map([&run.id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                .collect::<Result<_, _>>()?;
            for (id, key, context, label) in &series {
                let points = self.series_points(*id)?;
                for point in points {
                    f(&PointRow {
                        run_id: &run.id,
                        experiment: &run.experiment,
                        trial: run.trial.as_deref().unwrap_or(""),
                        run: &run.name,
                        key,
                        context,
                        label,
                        point,
                    })?;
                }
            }
        }
        Ok(())
    }
}
