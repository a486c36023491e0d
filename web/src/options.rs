//! Options objects JS passes in, as Rust types (camelCase fields, all optional).

use runstore_core::analysis::{Band, Smoothing, XAxis};
use serde::Deserialize;

/// `store.series(id, options)`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SeriesOptions {
    /// Smallest step.
    pub from_step: Option<f64>,
    /// Largest step.
    pub to_step: Option<f64>,
    /// Most points (default 2000).
    pub budget: Option<usize>,
    /// `step`, `wall_time`, `relative` or `epoch`.
    pub x_axis: Option<XAxis>,
    /// `{kind: "ema", weight: 0.6}`, `{kind: "time_weighted_ema", weight}`,
    /// `{kind: "running_average", window}`.
    pub smoothing: Option<Smoothing>,
}

/// `store.chartSvg(options)` and `store.groups(options)`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ChartOptions {
    /// Metric key.
    pub metric: String,
    /// Run ids or unique names.
    pub runs: Vec<String>,
    /// Filter language selection (when `runs` is empty).
    pub filter: Option<String>,
    /// Params to group by.
    pub group_by: Vec<String>,
    /// `std`, `std_err` or `min_max`.
    pub band: Option<Band>,
    /// As in [`SeriesOptions`].
    pub smoothing: Option<Smoothing>,
    /// As in [`SeriesOptions`].
    pub x_axis: Option<XAxis>,
    /// Logarithmic y axis.
    pub log_y: bool,
    /// Points per line.
    pub budget: Option<usize>,
    /// Title.
    pub title: Option<String>,
    /// Width in pixels (default 800).
    pub width: Option<u32>,
    /// Height in pixels (default 480).
    pub height: Option<u32>,
}

/// `store.resources(kind, options)`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ResourceOptions {
    /// Most points per measurement (default 2000): longer ones keep the first, min, max and
    /// last sample of each time bucket.
    pub budget: Option<usize>,
    /// Only the samples of this run (default: every run and the host).
    pub run_id: Option<String>,
}
