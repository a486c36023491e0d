//! Comparing runs: the params that differ (and those that agree), and metric summaries side
//! by side, with the best run per metric given a direction.

use std::collections::{BTreeMap, BTreeSet};

use crate::read::{RunInfo, SeriesSummary};
use crate::{ParamValue, Result, Store};

/// Whether smaller or larger values of a metric are better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Smaller is better (losses, errors).
    Minimize,
    /// Larger is better (accuracies, rewards).
    Maximize,
}

impl Direction {
    /// Guesses from the key: accuracy, precision, recall, f1, auc, score, reward, iou, map,
    /// bleu are maximised; everything else (losses, errors, perplexity) minimised.
    pub fn guess(key: &str) -> Direction {
        let k = key.to_ascii_lowercase();
        let better_high =
            ["acc", "precision", "recall", "f1", "auc", "score", "reward", "iou", "map", "bleu", "rouge"];
        if better_high.iter().any(|w| k.contains(w)) { Direction::Maximize } else { Direction::Minimize }
    }
}

/// One metric (key, context, label) across the compared runs.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MetricRow {
    /// Metric key.
    pub key: String,
    /// Context labels.
    pub context: BTreeMap<String, String>,
    /// Per-label value name, `""` for the total.
    pub label: String,
    /// Direction used to pick the best run.
    pub direction: Direction,
    /// Summary per run, in the order of [`Comparison::runs`] (`None`: the run lacks it).
    pub summaries: Vec<Option<SeriesSummary>>,
    /// Index of the run with the best value ("best" = min for minimised metrics over the
    /// run's non-NaN values, max for maximised ones).
    pub best: Option<usize>,
}

/// Runs side by side.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Comparison {
    /// The compared runs (metrics not included; see `metrics`).
    pub runs: Vec<RunInfo>,
    /// Params whose values differ between runs (or that some runs lack): key → value per run.
    pub differing: BTreeMap<String, Vec<Option<ParamValue>>>,
    /// Params every run has with the same value.
    pub same: BTreeMap<String, ParamValue>,
    /// Metric summaries, totals first then per-label values.
    pub metrics: Vec<MetricRow>,
}

impl Store {
    /// Compares runs given by id (or unique name). `now_ms` lets crashed runs show as such.
    pub fn compare(&self, runs: &[&str], now_ms: Option<i64>) -> Result<Comparison> {
        let mut infos: Vec<RunInfo> = runs.iter().map(|r| self.run(r, now_ms)).collect::<Result<_>>()?;
        let keys: BTreeSet<String> = infos.iter().flat_map(|r| r.params.keys().cloned()).collect();
        let (mut differing, mut same) = (BTreeMap::new(), BTreeMap::new());
        for key in keys {
            let values: Vec<Option<ParamValue>> = infos.iter().map(|r| r.params.get(&key).cloned()).collect();
            let all_same = values.iter().all(|v| v.is_some() && same_value(v, &values[0]));
            if all_same {
                same.insert(key, values[0].clone().expect("checked"));
            } else {
                differing.insert(key, values);
            }
        }
        let mut series: BTreeMap<(bool, String, String, String), Vec<Option<SeriesSummary>>> =
            BTreeMap::new();
        for (i, run) in infos.iter_mut().enumerate() {
            for m in std::mem::take(&mut run.metrics) {
                let ctx = serde_json::to_string(&m.context)?;
                let slot = series
                    .entry((!m.label.is_empty(), m.key.clone(), ctx, m.label.clone()))
                    .or_insert_with(|| vec![None; runs.len()]);
                slot[i] = Some(m);
            }
        }
        let metrics = series
            .into_iter()
            .map(|((_, key, ctx, label), summaries)| {
                let direction = Direction::guess(&key);
                let score = |s: &SeriesSummary| match direction {
                    Direction::Minimize => s.min,
                    Direction::Maximize => s.max.map(|x| -x),
                };
                let best = summaries
                    .iter()
                    .enumerate()
                    .filter_map(|(i, s)| s.as_ref().and_then(score).map(|v| (i, v)))
                    .min_by(|a, b| a.1.total_cmp(&b.1))
                    .map(|(i, _)| i);
                MetricRow {
                    context: serde_json::from_str(&ctx).unwrap_or_default(),
                    key,
                    label,
                    direction,
                    summaries,
                    best,
                }
            })
            .collect();
        Ok(Comparison { runs: infos, differing, same, metrics })
    }
}

fn same_value(a: &Option<ParamValue>, b: &Option<ParamValue>) -> bool {
    match (a, b) {
        (Some(ParamValue::Float(x)), Some(ParamValue::Float(y))) => x.to_bits() == y.to_bits(),
        _ => a == b,
    }
}
