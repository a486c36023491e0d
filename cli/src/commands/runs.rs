//! `runstore runs`: list runs, filtered and sorted, as a table, JSON or CSV.

use std::collections::BTreeSet;
use std::path::PathBuf;

use anyhow::Context as _;
use runstore::{RunQuery, Store, now_ms};
use runstore_core::ParamValue;
use runstore_core::read::{RunInfo, SeriesSummary};

use super::format::{csv_record, duration_ms, fit_table, float, terminal_width};
use super::{Format, existing_file};

/// Arguments of `runstore runs`.
#[derive(Debug, clap::Args)]
pub struct RunsArgs {
    /// The runstore file.
    db: PathBuf,
    /// Only runs matching this filter, e.g. 'params.lr = 0.01 and metrics.val/loss.min < 0.3'.
    #[arg(long, short)]
    filter: Option<String>,
    /// Sort key, e.g. metrics.val/loss.min, -params.lr (largest first), 'duration desc'.
    #[arg(long, short, allow_hyphen_values = true)]
    sort: Option<String>,
    /// Only runs of this experiment.
    #[arg(long, short)]
    experiment: Option<String>,
    /// Metric columns as KEY or KEY.AGG (last, min, max, mean, count, best); repeatable.
    /// Default: the last value of every metric.
    #[arg(long, short)]
    metric: Vec<String>,
    /// At most this many runs.
    #[arg(long)]
    limit: Option<usize>,
    /// In tables, show every param (by default only those that differ between the runs).
    #[arg(long)]
    all_params: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

pub fn run(args: RunsArgs) -> anyhow::Result<()> {
    let csv = args.format == Format::Csv;
    existing_file(&args.db)?;
    let store = Store::open_read_only(&args.db).with_context(|| format!("opening {}", args.db.display()))?;
    let runs = store.runs(&RunQuery {
        experiment: args.experiment.clone(),
        filter: args.filter.clone(),
        sort: args.sort.clone(),
        limit: args.limit,
        now_ms: Some(now_ms()),
        with_metrics: true,
        ..Default::default()
    })?;
    if args.format == Format::Json {
        outln!("{}", serde_json::to_string_pretty(&runs)?);
        return Ok(());
    }
    let mut params: Vec<String> =
        runs.iter().flat_map(|r| r.params.keys().cloned()).collect::<BTreeSet<_>>().into_iter().collect();
    if args.format == Format::Table && !args.all_params && runs.len() > 1 {
        params.retain(|p| runs.iter().any(|r| r.params.get(p) != runs[0].params.get(p)));
    }
    let metrics: Vec<(String, String)> = if args.metric.is_empty() {
        let keys: BTreeSet<String> = runs
            .iter()
            .flat_map(|r| r.metrics.iter().filter(|m| m.label.is_empty()).map(|m| m.key.clone()))
            .collect();
        keys.into_iter().map(|k| (k, "last".to_string())).collect()
    } else {
        args.metric.iter().map(|m| split_metric(m)).collect()
    };
    let mut header: Vec<String> =
        ["RUN", "EXPERIMENT", "TRIAL", "STATE", "DURATION"].map(String::from).to_vec();
    header.extend(params.iter().map(|p| format!("params.{p}")));
    header
        .extend(metrics.iter().map(|(k, agg)| if agg == "last" { k.clone() } else { format!("{k}.{agg}") }));
    let rows: Vec<Vec<String>> = runs.iter().map(|r| row(r, &params, &metrics, csv)).collect();
    if csv {
        out!("{}", self::csv(&runs, &params, &metrics));
        return Ok(());
    }
    if runs.is_empty() {
        eprintln!("no runs{}", if args.filter.is_some() { " match the filter" } else { "" });
        return Ok(());
    }
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    out!("{}", fit_table(&header, &rows, terminal_width()));
    Ok(())
}

/// The runs as CSV: id, attributes, the given params and metric (key, aggregate) columns.
pub fn csv(runs: &[RunInfo], params: &[String], metrics: &[(String, String)]) -> String {
    let mut out = String::new();
    let mut head: Vec<String> =
        ["id", "run", "experiment", "trial", "state", "duration"].map(String::from).to_vec();
    head.extend(params.iter().map(|p| format!("params.{p}")));
    head.extend(metrics.iter().map(|(k, agg)| if agg == "last" { k.clone() } else { format!("{k}.{agg}") }));
    out.push_str(&csv_record(&head));
    for r in runs {
        let mut record = vec![r.id.clone()];
        record.extend(row(r, params, metrics, true));
        out.push_str(&csv_record(&record));
    }
    out
}

/// `val/loss.min` → (`val/loss`, `min`); a key without a known aggregate keeps `last`.
fn split_metric(spec: &str) -> (String, String) {
    match spec.rsplit_once('.') {
        Some((key, agg)) if ["last", "min", "max", "mean", "count", "nan_count", "best"].contains(&agg) => {
            (key.into(), agg.into())
        }
        _ => (spec.into(), "last".into()),
    }
}

fn pick(m: &SeriesSummary, agg: &str) -> Option<f64> {
    match agg {
        "best" => match runstore_core::analysis::Direction::guess(&m.key) {
            runstore_core::analysis::Direction::Minimize => m.min,
            runstore_core::analysis::Direction::Maximize => m.max,
        },
        "min" => m.min,
        "max" => m.max,
        "mean" => m.mean,
        "count" => Some(m.count as f64),
        "nan_count" => Some(m.nan_count as f64),
        _ => m.last,
    }
}

fn row(r: &RunInfo, params: &[String], metrics: &[(String, String)], csv: bool) -> Vec<String> {
    let state =
        serde_json::to_value(r.state).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default();
    let duration =
        r.duration_ms.map(|d| if csv { d.to_string() } else { duration_ms(d) }).unwrap_or_default();
    let mut cells =
        vec![r.name.clone(), r.experiment.clone(), r.trial.clone().unwrap_or_default(), state, duration];
    cells.extend(params.iter().map(|p| r.params.get(p).map(param_text).unwrap_or_default()));
    cells.extend(metrics.iter().map(|(key, agg)| {
        r.metrics
            .iter()
            .find(|m| m.label.is_empty() && &m.key == key)
            .and_then(|m| pick(m, agg))
            .map(|v| if csv { v.to_string() } else { float(v) })
            .unwrap_or_default()
    }));
    cells
}

fn param_text(v: &ParamValue) -> String {
    match v {
        ParamValue::Float(x) => float(*x),
        other => other.to_string(),
    }
}
