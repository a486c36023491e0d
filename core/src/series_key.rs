//! The identity of a metric series.

use crate::Id;

/// What names a metric series: its run, metric key (`train/loss`), canonical context JSON
/// (see [`crate::Context::to_json`]) and per-label value name (`""` for the total). The same
/// type names a series when it is declared for writing and when it is looked up for reading.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SeriesKey {
    /// The run the series belongs to.
    pub run_id: Id,
    /// Metric key, e.g. `train/loss`.
    pub key: String,
    /// Canonical context JSON, e.g. `{"phase":"train"}`.
    pub context: String,
    /// Per-label value name (`class_3`), or `""` for the total.
    pub label: String,
}

impl SeriesKey {
    /// The total (unlabelled) series `key` of `run_id` in `context`.
    pub fn new(run_id: Id, key: impl Into<String>, context: &crate::Context) -> SeriesKey {
        SeriesKey { run_id, key: key.into(), context: context.to_json(), label: String::new() }
    }

    /// The same series' per-label value `label`.
    pub fn with_label(mut self, label: impl Into<String>) -> SeriesKey {
        self.label = label.into();
        self
    }
}
