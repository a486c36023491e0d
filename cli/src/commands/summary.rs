//! `runstore summary`: the metrics collector's analysis of a file.

use std::path::PathBuf;

use anyhow::Context as _;
use runstore::Store;

use super::format::{bytes, count, duration_ms, fit_table, float, terminal_width, time_ms};
use super::{Format, existing_file};

/// Arguments of `runstore summary`.
#[derive(Debug, clap::Args)]
pub struct SummaryArgs {
    /// The runstore file.
    db: PathBuf,
    /// Output format (table or json).
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

pub fn run(args: SummaryArgs) -> anyhow::Result<()> {
    existing_file(&args.db)?;
    anyhow::ensure!(args.format != Format::Csv, "summary has several tables; use --format json for scripts");
    let store = Store::open_read_only(&args.db).with_context(|| format!("opening {}", args.db.display()))?;
    let stats = store.stats()?;
    let resources = store.resource_stats()?;
    let spans = store.span_stats()?;
    let rounds = store.span_rounds()?;
    let metrics = store.metrics_overview()?;
    if args.format == Format::Json {
        let doc = serde_json::json!({"stats": stats, "resources": resources, "spans": spans, "span_rounds": rounds, "metrics": metrics});
        outln!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(());
    }
    let width = terminal_width();
    outln!("{} ({})", args.db.display(), bytes(stats.size_bytes));
    outln!(
        "  {} runs · {} metric series · {} points ({} NaN) · {} resource samples · {} spans",
        stats.runs,
        count(stats.series),
        count(stats.points),
        count(stats.nan_points),
        count(stats.resource_samples),
        count(stats.spans)
    );
    if let (Some(a), Some(b), Some(d)) = (stats.first_ms, stats.last_ms, stats.duration_ms) {
        outln!("  {} → {} UTC ({})", time_ms(a), time_ms(b), duration_ms(d));
    }
    if !metrics.is_empty() {
        outln!("\nMetrics (last value over runs)");
        let rows: Vec<Vec<String>> = metrics
            .iter()
            .map(|m| {
                let f = |x: Option<f64>| x.map(float).unwrap_or_default();
                vec![
                    m.key.clone(),
                    m.runs.to_string(),
                    count(m.points),
                    m.runs_ending_nan.to_string(),
                    f(m.best_last),
                    f(m.worst_last),
                ]
            })
            .collect();
        out!("{}", fit_table(&["KEY", "RUNS", "POINTS", "ENDED NAN", "BEST", "WORST"], &rows, width));
    }
    if !resources.is_empty() {
        outln!("\nResource usage");
        let rows: Vec<Vec<String>> = resources
            .iter()
            .map(|r| {
                let f = |x: Option<f64>| x.map(float).unwrap_or_default();
                vec![
                    r.kind.as_str().into(),
                    r.name.clone(),
                    f(r.mean),
                    f(r.min),
                    f(r.max),
                    r.unit.clone(),
                    r.count.to_string(),
                ]
            })
            .collect();
        out!("{}", fit_table(&["KIND", "NAME", "MEAN", "MIN", "MAX", "UNIT", "SAMPLES"], &rows, width));
    }
    if !spans.is_empty() {
        outln!("\nTimed operations");
        out!("{}", span_table(&spans, width));
    }
    let by_round: Vec<_> = rounds.iter().filter(|r| r.round.is_some()).collect();
    if !by_round.is_empty() {
        outln!("\nPerformance by round");
        let rows: Vec<Vec<String>> = by_round
            .iter()
            .map(|r| {
                vec![
                    r.name.clone(),
                    r.round.as_ref().map(|v| v.to_string()).unwrap_or_default(),
                    r.count.to_string(),
                    format!("{:.2} ms", r.mean_ms),
                    r.samples.map(|s| count(s as i64)).unwrap_or_default(),
                    r.mean_memory_mb.map(float).unwrap_or_default(),
                ]
            })
            .collect();
        out!("{}", fit_table(&["OPERATION", "ROUND", "COUNT", "MEAN", "SAMPLES", "MEMORY MB"], &rows, width));
    }
    Ok(())
}

/// Spans by name: count, mean, max and total duration.
pub fn span_table(spans: &[runstore_core::read::SpanStats], width: usize) -> String {
    let rows: Vec<Vec<String>> = spans
        .iter()
        .map(|s| {
            vec![
                s.name.clone(),
                s.count.to_string(),
                format!("{:.2} ms", s.mean_ms),
                format!("{:.2} ms", s.max_ms),
                format!("{:.1} ms", s.total_ms),
            ]
        })
        .collect();
    fit_table(&["NAME", "COUNT", "MEAN", "MAX", "TOTAL"], &rows, width)
}
