//! Grouping runs by params (e.g. all seeds of one learning rate) into one aligned series per
//! group: the mean with a band (± standard deviation, ± standard error, or min–max), and the
//! member runs still listed so a chart can show them on demand.

use std::collections::BTreeMap;

use super::series::{SeriesRequest, XAxis};
use crate::{Error, ParamValue, Result, RunQuery, Store};

/// The band drawn around a group's mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Band {
    /// Mean ± standard deviation (default).
    #[default]
    Std,
    /// Mean ± standard error of the mean.
    StdErr,
    /// From the smallest to the largest member value.
    MinMax,
}

/// What to group and draw.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GroupRequest {
    /// Which runs (filter language; all when `None`).
    pub filter: Option<String>,
    /// Param keys whose values define a group (`["lr"]`); runs lacking one form their own group.
    pub group_by: Vec<String>,
    /// Metric key (the total; context: the first the run has, or `context` if given).
    pub metric: String,
    /// Only series with this context JSON (see [`crate::Context::to_json`]).
    pub context: Option<String>,
    /// Points per member series and per band. Default (0): 1000.
    pub budget: usize,
    /// The band.
    pub band: Band,
}

/// One group's aligned series.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct GroupSeries {
    /// The grouping params' values.
    pub key: BTreeMap<String, Option<ParamValue>>,
    /// Member runs: (id, name).
    pub members: Vec<(String, String)>,
    /// Steps (or step-bin centres when members were downsampled).
    pub x: Vec<f64>,
    /// Mean of the members' finite values at each x (NaN where none is finite).
    #[serde(serialize_with = "crate::json::floats")]
    pub mean: Vec<f64>,
    /// Lower edge of the band.
    #[serde(serialize_with = "crate::json::floats")]
    pub lower: Vec<f64>,
    /// Upper edge of the band.
    #[serde(serialize_with = "crate::json::floats")]
    pub upper: Vec<f64>,
    /// How many members had a finite value at each x.
    pub count: Vec<u32>,
}

/// The grouping params' values of a run.
type GroupKey = BTreeMap<String, Option<ParamValue>>;

/// A member run: id, name, and the series to align.
type Member = (String, String, i64);

impl Store {
    /// Groups runs and aligns their series; groups in order of their key.
    pub fn group(&self, req: &GroupRequest) -> Result<Vec<GroupSeries>> {
        if req.metric.is_empty() {
            return Err(Error::invalid("metric", "empty"));
        }
        let budget = if req.budget == 0 { 1000 } else { req.budget };
        let runs =
            self.runs(&RunQuery { filter: req.filter.clone(), with_metrics: true, ..Default::default() })?;
        let mut groups: BTreeMap<String, (GroupKey, Vec<Member>)> = BTreeMap::new();
        for run in &runs {
            let Some(series) = run.metrics.iter().find(|m| {
                m.key == req.metric
                    && m.label.is_empty()
                    && req
                        .context
                        .as_ref()
                        .is_none_or(|c| serde_json::to_string(&m.context).ok().as_ref() == Some(c))
            }) else {
                continue;
            };
            let key: BTreeMap<String, Option<ParamValue>> =
                req.group_by.iter().map(|k| (k.clone(), run.params.get(k).cloned())).collect();
            let sort_key = serde_json::to_string(&key)?;
            groups.entry(sort_key).or_insert_with(|| (key, Vec::new())).1.push((
                run.id.clone(),
                run.name.clone(),
                series.series_id,
            ));
        }
        if groups.is_empty() {
            return Err(Error::invalid("metric", format!("no selected run has the metric `{}`", req.metric)));
        }
        groups
            .into_values()
            .map(|(key, members)| {
                let data = members
                    .iter()
                    .map(|m| {
                        // Members at twice the bins' resolution (M4 keeps 4 marks in budget / 5 bins),
                        // so that every bin of a dense series gets values.
                        let mut r = SeriesRequest::new(m.2);
                        r.budget = budget * 10;
                        r.x_axis = XAxis::Step;
                        self.series_data(&r)
                    })
                    .collect::<Result<Vec<_>>>()?;
                let columns = align(
                    &data.iter().map(|d| (d.x.as_slice(), d.y.as_slice(), d.exact)).collect::<Vec<_>>(),
                    budget,
                );
                let mut g = GroupSeries {
                    key,
                    members: members.into_iter().map(|(id, name, _)| (id, name)).collect(),
                    x: Vec::with_capacity(columns.len()),
                    mean: Vec::new(),
                    lower: Vec::new(),
                    upper: Vec::new(),
                    count: Vec::new(),
                };
                for (x, values) in columns {
                    let (mean, lower, upper) = band(&values, req.band);
                    g.x.push(x);
                    g.mean.push(mean);
                    g.lower.push(lower);
                    g.upper.push(upper);
                    g.count.push(values.len() as u32);
                }
                Ok(g)
            })
            .collect()
    }
}

/// Aligns member series: at common steps when every member is exact and the steps fit the
/// budget, else in `budget` equal step bins (each member contributing its mean in the bin).
/// Returns (x, finite member values) per column.
fn align(members: &[(&[f64], &[f64], bool)], budget: usize) -> Vec<(f64, Vec<f64>)> {
    let mut steps: Vec<f64> = members.iter().flat_map(|m| m.0.iter().copied()).collect();
    steps.sort_by(f64::total_cmp);
    steps.dedup();
    if members.iter().all(|m| m.2) && steps.len() <= budget {
        let mut columns: Vec<(f64, Vec<f64>)> = steps.iter().map(|&x| (x, Vec::new())).collect();
        for (xs, ys, _) in members {
            for (x, y) in xs.iter().zip(*ys) {
                if y.is_finite() {
                    let i = steps.partition_point(|s| s < x);
                    columns[i].1.push(*y);
                }
            }
        }
        return columns;
    }
    let (lo, hi) = (steps[0], steps[steps.len() - 1]);
    let width = ((hi - lo) / budget as f64).max(1.0);
    let bins = (((hi - lo) / width).floor() as usize + 1).min(budget.max(1));
    let mut columns: Vec<(f64, Vec<f64>)> =
        (0..bins).map(|b| (lo + (b as f64 + 0.5) * width, Vec::new())).collect();
    for (xs, ys, _) in members {
        let mut sums = vec![(0.0, 0u32); bins];
        for (x, y) in xs.iter().zip(*ys) {
            if y.is_finite() {
                let b = (((x - lo) / width) as usize).min(bins - 1);
                sums[b].0 += y;
                sums[b].1 += 1;
            }
        }
        for (b, (sum, n)) in sums.into_iter().enumerate() {
            if n > 0 {
                columns[b].1.push(sum / f64::from(n));
            }
        }
    }
    columns.retain(|c| !c.1.is_empty());
    columns
}

/// Mean and band edges of finite values (NaN for an empty column).
fn band(values: &[f64], band: Band) -> (f64, f64, f64) {
    if values.is_empty() {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    match band {
        Band::MinMax => {
            let min = values.iter().copied().fold(f64::INFINITY, f64::min);
            let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            (mean, min, max)
        }
        Band::Std | Band::StdErr => {
            // Sample standard deviation (n - 1); a single member has no spread.
            let var = if values.len() > 1 {
                values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)
            } else {
                0.0
            };
            let spread = if band == Band::Std { var.sqrt() } else { (var / n).sqrt() };
            (mean, mean - spread, mean + spread)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn bands() {
        let v = [1.0, 2.0, 3.0, 6.0];
        assert_eq!(band(&v, Band::MinMax), (3.0, 1.0, 6.0));
        let (m, lo, hi) = band(&v, Band::Std);
        let sd = ((4.0f64 + 1.0 + 0.0 + 9.0) / 3.0).sqrt();
        assert_eq!((m, lo, hi), (3.0, 3.0 - sd, 3.0 + sd));
        let (_, lo, _) = band(&v, Band::StdErr);
        assert_eq!(lo, 3.0 - sd / 2.0);
        assert_eq!(band(&[5.0], Band::Std), (5.0, 5.0, 5.0));
        assert!(band(&[], Band::Std).0.is_nan());
    }

    #[test]
    fn alignment_by_step_and_by_bins() {
        let (x1, y1) = ([0.0, 1.0, 2.0], [1.0, f64::NAN, 3.0]);
        let (x2, y2) = ([0.0, 2.0, 3.0], [3.0, 5.0, 7.0]);
        let cols = align(&[(&x1, &y1, true), (&x2, &y2, true)], 100);
        assert_eq!(cols, vec![(0.0, vec![1.0, 3.0]), (1.0, vec![]), (2.0, vec![3.0, 5.0]), (3.0, vec![7.0])]);
        let binned = align(&[(&x1, &y1, false), (&x2, &y2, true)], 2);
        assert_eq!(binned.len(), 2);
        assert_eq!(binned[0].1, vec![1.0, 3.0]);
    }
}
