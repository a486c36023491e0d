//! `runstore export`: runs, metric summaries and points as CSV, JSON or Parquet.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::ValueEnum;
use indicatif::{ProgressBar, ProgressStyle};
use runstore::{RunInfo, RunQuery, Store};

use super::existing_file;
use super::format::{count, csv_record};

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// Comma-separated values (NaN, inf, -inf written as such).
    Csv,
    /// JSON arrays (NaN and infinities as strings, see docs/json.md).
    Json,
    /// Apache Parquet, through polars (in builds with the `dataframe` feature, the default).
    Parquet,
}

/// What to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Table {
    /// Runs with their params (one column per param).
    Runs,
    /// One row per metric series with its summary.
    Summaries,
    /// One row per metric point.
    Points,
    /// All three, as files in the directory given by --out.
    All,
}

/// Arguments of `runstore export`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// The runstore file.
    db: PathBuf,
    /// Output format.
    #[arg(long, value_enum)]
    format: ExportFormat,
    /// Output file (a directory with --table all).
    #[arg(long, short)]
    out: PathBuf,
    /// What to export.
    #[arg(long, value_enum, default_value = "all")]
    table: Table,
    /// Only runs matching this filter.
    #[arg(long, short)]
    filter: Option<String>,
}

pub fn run(args: ExportArgs) -> anyhow::Result<()> {
    existing_file(&args.db)?;
    anyhow::ensure!(
        args.format != ExportFormat::Parquet || cfg!(feature = "dataframe"),
        "this runstore was built without Parquet export (the `dataframe` feature, which needs polars): \
         use --format csv or --format json, or a runstore built with default features \
         (`cargo install --path cli`)"
    );
    let store = Store::open_read_only(&args.db).with_context(|| format!("opening {}", args.db.display()))?;
    let query = RunQuery { filter: args.filter.clone(), with_metrics: true, ..Default::default() };
    let runs = store.runs(&query)?;
    let ext = match args.format {
        ExportFormat::Csv => "csv",
        ExportFormat::Json => "json",
        ExportFormat::Parquet => "parquet",
    };
    let targets: Vec<(Table, PathBuf)> = if args.table == Table::All {
        std::fs::create_dir_all(&args.out).with_context(|| format!("creating {}", args.out.display()))?;
        [(Table::Runs, "runs"), (Table::Summaries, "summaries"), (Table::Points, "points")]
            .into_iter()
            .map(|(t, name)| (t, args.out.join(format!("{name}.{ext}"))))
            .collect()
    } else {
        vec![(args.table, args.out.clone())]
    };
    for (table, path) in targets {
        write_table(&store, &query, &runs, table, args.format, &path)
            .with_context(|| format!("writing {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

fn write_table(
    store: &Store,
    query: &RunQuery,
    runs: &[RunInfo],
    table: Table,
    format: ExportFormat,
    path: &Path,
) -> anyhow::Result<()> {
    if format == ExportFormat::Parquet {
        return parquet(store, query, table, path);
    }
    let mut out = BufWriter::new(std::fs::File::create(path)?);
    match (table, format) {
        (Table::Runs, ExportFormat::Json) => serde_json::to_writer_pretty(&mut out, &strip_metrics(runs))?,
        (Table::Runs, _) => {
            let params: Vec<String> = runs
                .iter()
                .flat_map(|r| r.params.keys().cloned())
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            out.write_all(super::runs::csv(runs, &params, &[]).as_bytes())?;
        }
        (Table::Summaries, ExportFormat::Json) => {
            let rows: Vec<serde_json::Value> = runs
                .iter()
                .flat_map(|r| r.metrics.iter().map(move |m| serde_json::json!({"run": r.name, "summary": m})))
                .collect();
            serde_json::to_writer_pretty(&mut out, &rows)?;
        }
        (Table::Summaries, _) => {
            let head = [
                "run_id",
                "run",
                "key",
                "context",
                "label",
                "count",
                "nan_count",
                "first_step",
                "last_step",
                "last",
                "min",
                "max",
                "mean",
            ];
            out.write_all(csv_record(&head.map(String::from)).as_bytes())?;
            let f = |x: Option<f64>| x.map(|v| v.to_string()).unwrap_or_default();
            let i = |x: Option<i64>| x.map(|v| v.to_string()).unwrap_or_default();
            for r in runs {
                for m in &r.metrics {
                    let cells = [
                        r.id.clone(),
                        r.name.clone(),
                        m.key.clone(),
                        serde_json::to_string(&m.context)?,
                        m.label.clone(),
                        m.count.to_string(),
                        m.nan_count.to_string(),
                        i(m.first_step),
                        i(m.last_step),
                        f(m.last),
                        f(m.min),
                        f(m.max),
                        f(m.mean),
                    ];
                    out.write_all(csv_record(&cells).as_bytes())?;
                }
            }
        }
        (_, _) => points(store, runs, format, &mut out)?,
    }
    out.flush()?;
    Ok(())
}

/// Runs without their metric summaries (those are the summaries table).
fn strip_metrics(runs: &[RunInfo]) -> Vec<RunInfo> {
    runs.iter()
        .cloned()
        .map(|mut r| {
            r.metrics.clear();
            r
        })
        .collect()
}

fn points(store: &Store, runs: &[RunInfo], format: ExportFormat, out: &mut impl Write) -> anyhow::Result<()> {
    let total = store.point_count(runs)? as u64;
    let bar = ProgressBar::new(total).with_style(
        ProgressStyle::with_template(
            "{spinner} exporting [{bar:30}] {human_pos}/{human_len} points · {per_sec} · {eta} left",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    let csv = format == ExportFormat::Csv;
    if csv {
        out.write_all(b"run_id,experiment,trial,run,key,context,label,step,time_ms,epoch,batch,value\n")?;
    } else {
        out.write_all(b"[\n")?;
    }
    let mut n = 0u64;
    let opt = |x: Option<u32>| x.map(|v| v.to_string()).unwrap_or_default();
    store.for_each_point(runs, |p| {
        let io = |e: std::io::Error| runstore_core::Error::invalid("output", e.to_string());
        if csv {
            let cells = [
                p.run_id.to_string(),
                p.experiment.to_string(),
                p.trial.to_string(),
                p.run.to_string(),
                p.key.to_string(),
                p.context.to_string(),
                p.label.to_string(),
                p.point.step.to_string(),
                p.point.time_ms.to_string(),
                opt(p.point.epoch),
                opt(p.point.batch),
                p.point.value.to_string(),
            ];
            out.write_all(csv_record(&cells).as_bytes()).map_err(io)?;
        } else {
            let row = serde_json::json!({
                "run_id": p.run_id, "experiment": p.experiment, "trial": p.trial, "run": p.run, "key": p.key,
                "context": serde_json::from_str::<serde_json::Value>(p.context)?, "label": p.label,
                "step": p.point.step, "time_ms": p.point.time_ms, "epoch": p.point.epoch, "batch": p.point.batch,
                "value": runstore_core::json::Float(p.point.value),
            });
            let sep = if n == 0 { "  " } else { ",\n  " };
            out.write_all(format!("{sep}{row}").as_bytes()).map_err(io)?;
        }
        n += 1;
        if n.is_multiple_of(65_536) {
            bar.set_position(n);
        }
        Ok(())
    })?;
    if !csv {
        out.write_all(b"\n]\n")?;
    }
    bar.finish_and_clear();
    eprintln!("{} points", count(n as i64));
    Ok(())
}

#[cfg(feature = "dataframe")]
fn parquet(store: &Store, query: &RunQuery, table: Table, path: &Path) -> anyhow::Result<()> {
    let mut df = match table {
        Table::Runs => runstore::dataframe::runs(store, query)?,
        Table::Summaries => runstore::dataframe::summaries(store, query)?,
        _ => runstore::dataframe::points(store, query)?,
    };
    runstore::dataframe::write_parquet(&mut df, path)?;
    Ok(())
}

#[cfg(not(feature = "dataframe"))]
fn parquet(_: &Store, _: &RunQuery, _: Table, _: &Path) -> anyhow::Result<()> {
    anyhow::bail!("this runstore was built without the `dataframe` feature, which Parquet export needs")
}
