//! `runstore plot`: a metric (or resource usage) as a PNG or SVG chart.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::ValueEnum;
use runstore::Store;
use runstore_core::analysis::{Band, Smoothing, XAxis};
use runstore_core::plot::{ChartRequest, render_svg};

use super::existing_file;

/// The x axis of `plot`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum X {
    /// Steps.
    Step,
    /// Seconds since each run's first point.
    Relative,
    /// Wall-clock time (UTC).
    Time,
    /// Fractional epochs.
    Epoch,
}

/// Bands of grouped charts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BandArg {
    /// Mean ± standard deviation.
    Std,
    /// Mean ± standard error.
    Stderr,
    /// Min to max.
    Minmax,
}

/// Arguments of `runstore plot`.
#[derive(Debug, clap::Args)]
pub struct PlotArgs {
    /// The runstore file.
    db: PathBuf,
    /// Metric key to draw, e.g. val/loss.
    #[arg(long, short, required_unless_present = "resource")]
    metric: Option<String>,
    /// Draw resource usage of this kind instead (cpu, ram, gpu, disk, net): of one run with
    /// --runs RUN (the process tree `runstore record` watched, its GPUs), else of every sample.
    #[arg(long, conflicts_with_all = ["metric", "group_by", "smooth", "filter"])]
    resource: Option<String>,
    /// Runs by id or unique name (repeatable); default: the runs matching --filter, or all.
    #[arg(long, short)]
    runs: Vec<String>,
    /// Filter language selection of runs.
    #[arg(long, short, conflicts_with = "runs")]
    filter: Option<String>,
    /// Group runs by these params (repeatable): mean line and band per group.
    #[arg(long, short)]
    group_by: Vec<String>,
    /// Band of grouped charts.
    #[arg(long, value_enum, default_value = "std")]
    band: BandArg,
    /// Smoothing: a weight like 0.6 (TensorBoard's EMA), ema:0.6, twema:0.6 (W&B's
    /// time-weighted EMA) or avg:5 (running average of 5 points). The raw line stays, faint.
    #[arg(long, short)]
    smooth: Option<String>,
    /// The x axis.
    #[arg(long, value_enum, default_value = "step")]
    x: X,
    /// Logarithmic y axis.
    #[arg(long)]
    log_y: bool,
    /// Points per line.
    #[arg(long, default_value_t = 1000)]
    budget: usize,
    /// Title (default: the metric).
    #[arg(long)]
    title: Option<String>,
    /// Output file: .png or .svg.
    #[arg(long, short)]
    out: PathBuf,
    /// Width in pixels.
    #[arg(long, default_value_t = 1000)]
    width: u32,
    /// Height in pixels.
    #[arg(long, default_value_t = 600)]
    height: u32,
}

/// Parses `--smooth`.
fn smoothing(spec: &str) -> anyhow::Result<Smoothing> {
    let (kind, value) = spec.split_once(':').unwrap_or(("ema", spec));
    let number =
        |v: &str| v.parse::<f64>().with_context(|| format!("--smooth {spec:?}: {v:?} is not a number"));
    Ok(match kind {
        "ema" | "tb" => Smoothing::Ema { weight: check_weight(number(value)?)? },
        "twema" | "wandb" => Smoothing::TimeWeightedEma { weight: check_weight(number(value)?)? },
        "avg" | "running" => Smoothing::RunningAverage {
            window: value
                .parse()
                .with_context(|| format!("--smooth {spec:?}: the window is a whole number of points"))?,
        },
        other => anyhow::bail!("--smooth {spec:?}: unknown kind {other:?} (use ema:W, twema:W or avg:N)"),
    })
}

fn check_weight(w: f64) -> anyhow::Result<f64> {
    anyhow::ensure!((0.0..1.0).contains(&w), "smoothing weights are in [0, 1), e.g. 0.6");
    Ok(w)
}

pub fn run(args: PlotArgs) -> anyhow::Result<()> {
    existing_file(&args.db)?;
    let ext = args.out.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    anyhow::ensure!(
        matches!(ext.as_deref(), Some("png" | "svg")),
        "{}: the output must end in .png or .svg",
        args.out.display()
    );
    let store = Store::open_read_only(&args.db).with_context(|| format!("opening {}", args.db.display()))?;
    let chart = match (&args.resource, &args.metric) {
        (Some(kind), _) => {
            let run = match args.runs.as_slice() {
                [] => None,
                [run] => Some(store.run(run, None)?),
                _ => anyhow::bail!(
                    "--resource draws one run (--runs RUN) or every sample, not {} runs",
                    args.runs.len()
                ),
            };
            let mut chart = store.resource_chart(kind.parse()?, run.as_ref().map(|r| r.id.as_str()))?;
            if let Some(run) = run {
                chart.title = format!("{} of run {}", chart.title, run.name);
            }
            if let Some(title) = &args.title {
                chart.title = title.clone();
            }
            chart
        }
        (None, Some(metric)) => {
            let mut req = ChartRequest::new(metric);
            req.runs = args.runs.clone();
            req.filter = args.filter.clone();
            req.group_by = args.group_by.clone();
            req.band = match args.band {
                BandArg::Std => Band::Std,
                BandArg::Stderr => Band::StdErr,
                BandArg::Minmax => Band::MinMax,
            };
            req.smoothing = args.smooth.as_deref().map(smoothing).transpose()?.unwrap_or(Smoothing::None);
            req.x_axis = match args.x {
                X::Step => XAxis::Step,
                X::Relative => XAxis::Relative,
                X::Time => XAxis::WallTime,
                X::Epoch => XAxis::Epoch,
            };
            req.log_y = args.log_y;
            req.budget = args.budget;
            req.title = args.title.clone();
            store.metric_chart(&req)?
        }
        (None, None) => unreachable!("clap requires --metric or --resource"),
    };
    if ext.as_deref() == Some("svg") {
        let svg = render_svg(&chart, args.width, args.height)?;
        std::fs::write(&args.out, svg).with_context(|| format!("writing {}", args.out.display()))?;
    } else {
        runstore::png::render_png(&chart, args.width, args.height, &args.out)?;
    }
    let lines = chart.lines.len() + chart.bands.len();
    eprintln!("wrote {} ({lines} {})", args.out.display(), if lines == 1 { "line" } else { "lines" });
    Ok(())
}
