//! Charts of a store's metrics, resources: from a request to a [`Chart`].

use super::{BandSpec, Chart, LineSpec, XFormat};
use crate::analysis::{Band, GroupRequest, SeriesRequest, Smoothing, XAxis, smooth};
use crate::event::ResourceKind;
use crate::{Error, Result, RunQuery, Store};

/// A chart of one metric across runs.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartRequest {
    /// Metric key (the total of the series; per-label values are their own charts).
    pub metric: String,
    /// Runs by id or unique name; when empty, the runs matching `filter` (all when `None`).
    pub runs: Vec<String>,
    /// Filter language selection, when `runs` is empty.
    pub filter: Option<String>,
    /// Params to group runs by: one mean line with a band per group.
    pub group_by: Vec<String>,
    /// The band of groups.
    pub band: Band,
    /// Smoothing of each line; the raw line is drawn faintly behind.
    pub smoothing: Smoothing,
    /// The x axis.
    pub x_axis: XAxis,
    /// Logarithmic y axis.
    pub log_y: bool,
    /// Points per line. Default (0): 1000.
    pub budget: usize,
    /// Title; default: the metric key.
    pub title: Option<String>,
}

impl ChartRequest {
    /// A chart of `metric` over all runs, by step, no smoothing.
    pub fn new(metric: &str) -> ChartRequest {
        ChartRequest {
            metric: metric.to_string(),
            runs: Vec::new(),
            filter: None,
            group_by: Vec::new(),
            band: Band::Std,
            smoothing: Smoothing::None,
            x_axis: XAxis::Step,
            log_y: false,
            budget: 0,
            title: None,
        }
    }
}

impl Store {
    /// The chart a request asks for. Errors name what is missing (no runs, no such metric).
    pub fn metric_chart(&self, req: &ChartRequest) -> Result<Chart> {
        let budget = if req.budget == 0 { 1000 } else { req.budget };
        let (x_label, x_format) = match req.x_axis {
            XAxis::Step => ("step".to_string(), XFormat::Number),
            XAxis::Relative => ("time since the run's first point (s)".to_string(), XFormat::Seconds),
            XAxis::WallTime => ("time (UTC)".to_string(), XFormat::Clock),
            XAxis::Epoch => ("epoch".to_string(), XFormat::Number),
        };
        let mut chart = Chart {
            title: req.title.clone().unwrap_or_else(|| req.metric.clone()),
            x_label,
            y_label: req.metric.clone(),
            x_format,
            log_y: req.log_y,
            ..Chart::default()
        };
        let seconds = |x: Vec<f64>| {
            if req.x_axis == XAxis::Relative { x.into_iter().map(|v| v / 1000.0).collect() } else { x }
        };
        if !req.group_by.is_empty() {
            if req.x_axis != XAxis::Step {
                return Err(Error::invalid(
                    "chart",
                    "grouped charts align runs by step; use the step x axis",
                ));
            }
            let groups = self.group(&GroupRequest {
                filter: req.filter.clone(),
                group_by: req.group_by.clone(),
                metric: req.metric.clone(),
                context: None,
                budget,
                band: req.band,
            })?;
            for g in groups {
                let key: Vec<String> = g
                    .key
                    .iter()
                    .map(|(k, v)| format!("{k}={}", v.as_ref().map_or("—".to_string(), |v| v.to_string())))
                    .collect();
                let mean = smooth(&g.x, &g.mean, req.smoothing);
                chart.bands.push(BandSpec {
                    label: format!(
                        "{} ({} run{})",
                        key.join(", "),
                        g.members.len(),
                        if g.members.len() == 1 { "" } else { "s" }
                    ),
                    x: g.x,
                    mean,
                    lower: g.lower,
                    upper: g.upper,
                });
            }
            return Ok(chart);
        }
        let runs = if req.runs.is_empty() {
            self.runs(&RunQuery { filter: req.filter.clone(), with_metrics: true, ..Default::default() })?
        } else {
            req.runs.iter().map(|r| self.run(r, None)).collect::<Result<Vec<_>>>()?
        };
        let experiments: std::collections::BTreeSet<&str> =
            runs.iter().map(|r| r.experiment.as_str()).collect();
        for run in &runs {
            let Some(series) = run.metrics.iter().find(|m| m.key == req.metric && m.label.is_empty()) else {
                continue;
            };
            let mut sreq = SeriesRequest::new(series.series_id);
            sreq.budget = budget;
            sreq.x_axis = req.x_axis;
            let data = self.series_data(&sreq)?;
            let smoothed = smooth(&data.x, &data.y, req.smoothing);
            let label = if experiments.len() > 1 {
                format!("{} / {}", run.experiment, run.name)
            } else {
                run.name.clone()
            };
            let raw = (req.smoothing != Smoothing::None).then(|| data.y.clone());
            chart.lines.push(LineSpec { label, x: seconds(data.x), y: smoothed, raw });
        }
        if chart.lines.is_empty() {
            return Err(Error::invalid(
                "chart",
                format!("none of the {} selected runs has the metric `{}`", runs.len(), req.metric),
            ));
        }
        Ok(chart)
    }

    /// A chart of resource samples of one kind over time: one line per measurement name. Each
    /// run's samples of a measurement are reduced to [`crate::read::RESOURCE_BUDGET`] points
    /// (bucket extremes kept), so a chart of weeks of 1 Hz samples reads and draws little.
    pub fn resource_chart(&self, kind: ResourceKind, run_id: Option<&str>) -> Result<Chart> {
        let series = self.resource_series(kind, run_id, crate::read::RESOURCE_BUDGET)?;
        let Some(t0) = series.iter().filter_map(|s| s.time_ms.first().copied()).min() else {
            return Err(Error::invalid("chart", format!("no {} samples", kind.as_str())));
        };
        let mut lines: Vec<LineSpec> = Vec::new();
        let mut unit = String::new();
        for s in &series {
            let label = format!("{} ({})", s.name, s.unit);
            unit = s.unit.clone();
            let line = match lines.iter_mut().find(|l| l.label == label) {
                Some(l) => l,
                None => {
                    lines.push(LineSpec { label, ..LineSpec::default() });
                    lines.last_mut().expect("pushed")
                }
            };
            line.x.extend(s.time_ms.iter().map(|t| (t - t0) as f64 / 1000.0));
            line.y.extend(&s.values);
        }
        // The runs of one measurement follow each other in time, as their samples did.
        for line in &mut lines {
            let mut points: Vec<(f64, f64)> = line.x.iter().copied().zip(line.y.iter().copied()).collect();
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            (line.x, line.y) = points.into_iter().unzip();
        }
        Ok(Chart {
            title: format!("{} usage", kind.as_str()),
            x_label: "time since the first sample (s)".into(),
            y_label: format!("{} ({unit})", kind.as_str()),
            x_format: XFormat::Seconds,
            log_y: false,
            lines,
            bands: Vec::new(),
        })
    }
}
