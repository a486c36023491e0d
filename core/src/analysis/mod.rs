//! Analysis of stored runs: comparison, chart series with spike-preserving downsampling,
//! smoothing.
//! Everything here runs the same on every target, so the CLI and the browser agree.

mod compare;
mod group;
mod overview;
mod series;
mod smoothing;

pub use compare::{Comparison, Direction, MetricRow};
pub use group::{Band, GroupRequest, GroupSeries};
pub use overview::{MetricOverview, SpanRound};
pub use series::{SeriesData, SeriesRequest, XAxis};
pub use smoothing::{Smoothing, smooth};
