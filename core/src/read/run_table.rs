//! Runs as a table: one row per run, one column of summaries per kind of metric series. A
//! listing of 10,000 runs × 20 metrics is 20 columns of 10,000 values, not 200,000 summary
//! objects: what a page sorts, filters and charts thousands of runs from.

use std::collections::{BTreeMap, HashMap};

use super::{RunInfo, RunQuery, SeriesSummary};
use crate::{Context, Result, Store};

/// Runs and their metric summaries as columns: `metrics[c].last[i]` is the last value of
/// column `c` in run `runs[i]`, for the first `summarised` runs (the columns' length).
#[derive(Debug, Clone, PartialEq)]
pub struct RunTable {
    /// The runs, in the query's order, with params and tags; their `metrics` are empty.
    pub runs: Vec<RunInfo>,
    /// One column per (key, context, label) that any of the summarised runs logged, sorted
    /// by key, context and label.
    pub metrics: Vec<MetricColumn>,
    /// How many of `runs`, from the first, the columns hold.
    pub summarised: usize,
}

/// The summaries of one kind of series (key, context, label) across a table's runs. Entry `i`
/// of each vector belongs to run `i`; a run without such a series has `series_id` `None` and
/// `None` (or 0 for the counts) everywhere else. Values are as in [`SeriesSummary`].
#[derive(Debug, Clone, PartialEq)]
pub struct MetricColumn {
    /// Metric key.
    pub key: String,
    /// Phase and other labels.
    pub context: BTreeMap<String, String>,
    /// Per-label value name, `""` for the total.
    pub label: String,
    /// File-local series id.
    pub series_id: Vec<Option<i64>>,
    /// Points, NaN included.
    pub count: Vec<i64>,
    /// NaN points.
    pub nan_count: Vec<i64>,
    /// Smallest step.
    pub first_step: Vec<Option<i64>>,
    /// Largest step.
    pub last_step: Vec<Option<i64>>,
    /// Value at the largest step (NaN if it was NaN).
    pub last: Vec<Option<f64>>,
    /// Smallest non-NaN value.
    pub min: Vec<Option<f64>>,
    /// Largest non-NaN value.
    pub max: Vec<Option<f64>>,
    /// Mean of the non-NaN values.
    pub mean: Vec<Option<f64>>,
}

impl MetricColumn {
    fn empty(key: String, label: String, runs: usize) -> MetricColumn {
        MetricColumn {
            key,
            context: BTreeMap::new(),
            label,
            series_id: vec![None; runs],
            count: vec![0; runs],
            nan_count: vec![0; runs],
            first_step: vec![None; runs],
            last_step: vec![None; runs],
            last: vec![None; runs],
            min: vec![None; runs],
            max: vec![None; runs],
            mean: vec![None; runs],
        }
    }

    fn set(&mut self, at: usize, s: &SeriesSummary) {
        self.series_id[at] = Some(s.series_id);
        self.count[at] = s.count;
        self.nan_count[at] = s.nan_count;
        self.first_step[at] = s.first_step;
        self.last_step[at] = s.last_step;
        self.last[at] = s.last;
        self.min[at] = s.min;
        self.max[at] = s.max;
        self.mean[at] = s.mean;
    }
}

impl Store {
    /// Runs matching `query` (its `with_metrics` is ignored) with the metric summaries of the
    /// first `summarise` of them (all when `None`) as columns: a page shows the first screen
    /// of a long listing before it reads the rest with [`Store::metric_columns`].
    pub fn run_table(&self, query: &RunQuery, summarise: Option<usize>) -> Result<RunTable> {
        let runs = self.runs(&RunQuery { with_metrics: false, ..query.clone() })?;
        let summarised = summarise.map_or(runs.len(), |n| n.min(runs.len()));
        let ids: Vec<&str> = runs[..summarised].iter().map(|r| r.id.as_str()).collect();
        let metrics = self.metric_columns(&ids)?;
        Ok(RunTable { runs, metrics, summarised })
    }

    /// The metric summaries of the runs `run_ids` as columns (entry `i` for `run_ids[i]`).
    /// Looks each run up, or reads every series once when these are many of the file's runs.
    pub fn metric_columns(&self, run_ids: &[&str]) -> Result<Vec<MetricColumn>> {
        let mut metrics: Vec<MetricColumn> = Vec::new();
        let mut contexts: Vec<String> = Vec::new();
        // Columns by key, then found among the key's few columns by context and label: no
        // allocation per series.
        let mut by_key: HashMap<String, Vec<usize>> = HashMap::new();
        self.each_summary(run_ids, |at, summary, context| {
            let found = by_key.get(&summary.key).and_then(|columns| {
                columns.iter().copied().find(|&c| contexts[c] == context && metrics[c].label == summary.label)
            });
            let column = found.unwrap_or_else(|| {
                metrics.push(MetricColumn::empty(summary.key.clone(), summary.label.clone(), run_ids.len()));
                contexts.push(context.to_owned());
                by_key.entry(summary.key.clone()).or_default().push(metrics.len() - 1);
                metrics.len() - 1
            });
            metrics[column].set(at, &summary);
        })?;
        for (column, context) in metrics.iter_mut().zip(&contexts) {
            column.context = Context::from_json(context)?.labels().clone();
        }
        let mut order: Vec<usize> = (0..metrics.len()).collect();
        order.sort_by(|&a, &b| {
            (&metrics[a].key, &contexts[a], &metrics[a].label).cmp(&(
                &metrics[b].key,
                &contexts[b],
                &metrics[b].label,
            ))
        });
        let mut slots: Vec<Option<MetricColumn>> = metrics.into_iter().map(Some).collect();
        Ok(order.into_iter().filter_map(|c| slots[c].take()).collect())
    }
}
