//! Command-line parsing and dispatch.

mod compare;
mod demo;
mod export;
mod format;
mod import;
mod info;
mod merge;
mod plot;
mod record;
mod report;
mod runs;
mod serve;
mod snapshot;
mod summary;

use clap::{Parser, Subcommand, ValueEnum};

/// runstore: record every run of a training job or simulation into one SQLite file, then
/// search, compare and chart runs anywhere.
#[derive(Debug, Parser)]
#[command(name = "runstore", version, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Record any program as a run: its exit (completed, failed, killed), its process tree's
    /// CPU, memory, disk and GPUs, its output, and the metrics it writes as JSON lines, logs
    /// through the Python package, or prints.
    #[command(
        after_help = "Examples:\n  runstore record --db runs.db --param lr=0.01 -- python train.py --lr 0.01\n  runstore record -e sims --name seed-3 --config sim.yaml -- ./simulate --seed 3\n  runstore record --parse-key-values -- ./train.sh        (logs `loss=0.31 acc=0.9` from its output)\n\nThe program gets RUNSTORE_SINK, a named pipe any of its processes can write JSON lines to:\n  echo '{\"key\": \"train/loss\", \"value\": 0.31, \"step\": 10}' > \"$RUNSTORE_SINK\"\n(also {\"params\": {...}}, {\"tags\": {...}}, {\"results\": {...}}, {\"artifact\": \"path\"}); RUNSTORE_SOCKET, a Unix\nsocket taking the same lines, one connection per writer; and RUNSTORE_DB and RUNSTORE_RUN_ID:\nrunstore.init() in Python joins this run. Its stdout and stderr are shown and kept as artifacts\n(DB.artifacts/RUN_ID/); Ctrl-C and SIGTERM are forwarded to its process group (a second\nCtrl-C kills it). runstore record exits with the program's code (128 + the signal when a\nsignal ended it)."
    )]
    Record(record::RecordArgs),
    /// Record a realistic demo experiment (a learning-rate sweep) into a new file.
    #[command(after_help = "Example:\n  runstore demo --out demo.db\n  runstore info demo.db")]
    Demo(demo::DemoArgs),
    /// Show what a runstore file holds: counts, time span, size, experiments, runs, models.
    #[command(
        after_help = "Examples:\n  runstore info demo.db\n  runstore info demo.db --format json | jq .stats.points"
    )]
    Info(info::InfoArgs),
    /// List runs with their params and metric summaries; filter and sort them.
    #[command(
        after_help = "Examples:\n  runstore runs demo.db\n  runstore runs demo.db --filter 'params.lr = 0.01 and metrics.val/loss.min < 0.3' --sort metrics.val/loss.min\n  runstore runs demo.db --filter 'state = \"failed\" or metrics.train/loss.nan_count > 0'\n  runstore runs demo.db --metric val/loss.min --metric val/accuracy.max --format csv > runs.csv\n\nFilter language: params.NAME, tags.NAME, metrics.KEY[.last|.min|.max|.mean|.count|.nan_count],\nattributes name, status, state, experiment, trial, host, start, end, duration (90s, 5m);\n= != < <= > >= in (...) like is null; and, or, not, parentheses."
    )]
    Runs(runs::RunsArgs),
    /// Compare runs side by side: the params that differ, metric summaries, the best run.
    #[command(
        after_help = "Examples:\n  runstore compare demo.db 'lr=0.1 seed=0' 'lr=0.01 seed=0'\n  runstore compare demo.db 01JXT21Q... 01JXT21R... --all --format json"
    )]
    Compare(compare::CompareArgs),
    /// Copy a file that may be being recorded into right now into a consistent,
    /// self-contained file that the browser page can open.
    #[command(after_help = "Example:\n  runstore snapshot runs.db -o runs-export.db")]
    Snapshot(snapshot::SnapshotArgs),
    /// Combine files recorded on different machines or by parallel jobs into one.
    #[command(
        after_help = "Examples:\n  runstore merge node1.db node2.db -o all.db\n  runstore merge jobs/*.db -o all.db   (all.db may exist: what it lacks is added)\n\nRuns keep their ids; a run already in the output is not copied again, so merging a file\ntwice adds nothing. Experiments, trials and models with the same name unify; a model version\nwhose number is taken gets the next free one (aliases follow the version)."
    )]
    Merge(merge::MergeArgs),
    /// Import runs from other trackers (MLflow stores, TensorBoard logs, trackio databases, W&B and trackio CSV exports) into a runstore file.
    #[command(
        after_help = "Examples:\n  runstore import mlflow mlflow.db -o runs.db\n  runstore import mlflow mlruns/ -o runs.db\n  runstore import tensorboard logs/ -o runs.db\n  runstore import trackio ~/.cache/huggingface/trackio -o runs.db\n  runstore import wandb-csv wandb_export.csv -o runs.db\n  runstore import wandb-csv history-*.csv --experiment sweep-3 --json\n\nEvery source is read and checked before anything is written, and everything is written in one\ntransaction. Importing the same source again adds nothing: each run (and model version) keeps\nwhere it came from in its tags (import.source, import.source_id)."
    )]
    Import(import::ImportArgs),
    /// Draw a metric across runs (or resource usage) as a PNG or SVG chart.
    #[command(
        after_help = "Examples:\n  runstore plot demo.db --metric val/loss -o val-loss.png\n  runstore plot demo.db --metric train/loss --group-by lr --smooth 0.6 --log-y -o loss.svg\n  runstore plot demo.db --metric val/accuracy --filter 'params.lr = 0.1' --x relative -o acc.png\n  runstore plot demo.db --resource cpu -o cpu.png"
    )]
    Plot(plot::PlotArgs),
    /// Analyse a file: counts, time span, size, metrics overview, resource usage, timed
    /// operations and performance by round.
    #[command(after_help = "Examples:\n  runstore summary demo.db\n  runstore summary demo.db --format json")]
    Summary(summary::SummaryArgs),
    /// Export runs, metric summaries and points as CSV, JSON or Parquet.
    #[command(
        after_help = "Examples:\n  runstore export demo.db --format parquet -o demo-tables/      (runs, summaries, points)\n  runstore export demo.db --format csv --table points --filter 'params.lr = 0.1' -o points.csv\n  python -c \"import pandas as pd; print(pd.read_parquet('demo-tables/points.parquet'))\""
    )]
    Export(export::ExportArgs),
    /// Serve the web page and files on localhost, and print the URL that opens them.
    #[command(
        after_help = "Examples:\n  runstore serve demo.db\n  runstore serve node1.db node2.db --port 9000\n\nThe files are served read-only, with HTTP range requests, under /files/NAME."
    )]
    Serve(serve::ServeArgs),
    /// Write ONE self-contained HTML file (page, wasm and data inlined) that opens from disk
    /// with no server and no network.
    #[command(
        after_help = "Examples:\n  runstore report demo.db -o report.html\n  runstore report node1.db node2.db -o sweep.html --force"
    )]
    Report(report::ReportArgs),
}

/// Output format of commands that print data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    /// Human-readable tables, fitted to the terminal.
    #[default]
    #[value(alias = "text")]
    Table,
    /// JSON for scripts (documented in docs/json.md; NaN and infinities as strings).
    Json,
    /// CSV, one row per item, for spreadsheets and pandas.
    Csv,
}

/// Runs the parsed command; the exit code is the command's (`record` ends with its program's).
pub fn run(cli: Cli) -> anyhow::Result<u8> {
    let done = match cli.command {
        Command::Record(args) => return record::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Info(args) => info::run(args),
        Command::Runs(args) => runs::run(args),
        Command::Compare(args) => compare::run(args),
        Command::Snapshot(args) => snapshot::run(args),
        Command::Merge(args) => merge::run(args),
        Command::Import(args) => import::run(args),
        Command::Plot(args) => plot::run(args),
        Command::Summary(args) => summary::run(args),
        Command::Export(args) => export::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Report(args) => report::run(args),
    };
    done.map(|()| 0)
}

/// A path argument naming an existing runstore file.
pub(crate) fn existing_file(path: &std::path::Path) -> anyhow::Result<()> {
    if !path.exists() {
        anyhow::bail!("{}: no such file", path.display());
    }
    Ok(())
}
