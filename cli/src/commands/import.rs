//! `runstore import`: runs from other trackers' stores and exports into a runstore file.

use std::io::Read as _;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};
use runstore::import::{Import, ImportReport, Skipped, mlflow, tensorboard, trackio, wandb_csv, write};
use runstore::{Store, now_ms};

use super::existing_file;
use super::format::count;

/// Arguments of `runstore import`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    #[command(subcommand)]
    source: Source,
}

/// What to import.
#[derive(Debug, clap::Subcommand)]
enum Source {
    /// CSV exported from W&B (a panel's "Export CSV", or a run's history) or trackio: a step
    /// column (Step, _step or step) and one column per metric (`RUN - METRIC` in panel exports).
    WandbCsv(WandbCsvArgs),
    /// An MLflow tracking store, SQLite (mlflow.db) or file store (mlruns/): experiments, runs,
    /// params, tags, every metric point as MLflow's client reads it, the runs' artifacts (local
    /// files with size and SHA-256) and the model registry.
    Mlflow(MlflowArgs),
    /// TensorBoard logs: every folder under LOGDIR with event files (events.out.tfevents.*) is
    /// a run; its scalars (TF1 simple values and TF2 scalar tensors) with step and wall time,
    /// and its HParams as params.
    Tensorboard(TensorboardArgs),
    /// trackio's own database: a project's PROJECT.db, or the folder holding them
    /// (TRACKIO_DIR, ~/.cache/huggingface/trackio by default); each project an experiment.
    Trackio(TrackioArgs),
}

/// Arguments of `runstore import trackio`.
#[derive(Debug, clap::Args)]
struct TrackioArgs {
    /// A project database (PROJECT.db) or the folder of them.
    path: PathBuf,
    /// The runstore file to import into (created if missing; runs imported before are not
    /// added again).
    #[arg(long, short, default_value = "runs.db")]
    out: PathBuf,
    /// The experiment the runs go into (default: one per project, named after it).
    #[arg(long, short)]
    experiment: Option<String>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

/// Arguments of `runstore import tensorboard`.
#[derive(Debug, clap::Args)]
struct TensorboardArgs {
    /// The log directory (what `tensorboard --logdir` is given).
    logdir: PathBuf,
    /// The runstore file to import into (created if missing; runs imported before are not
    /// added again).
    #[arg(long, short, default_value = "runs.db")]
    out: PathBuf,
    /// The experiment the runs go into.
    #[arg(long, short, default_value = "tensorboard")]
    experiment: String,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

/// Arguments of `runstore import mlflow`.
#[derive(Debug, clap::Args)]
struct MlflowArgs {
    /// The store: the SQLite file (sqlite:///mlflow.db) or the folder (file:./mlruns) that
    /// MLflow's tracking URI names.
    store: PathBuf,
    /// The runstore file to import into (created if missing; runs imported before are not
    /// added again).
    #[arg(long, short, default_value = "runs.db")]
    out: PathBuf,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

/// Arguments of `runstore import wandb-csv`.
#[derive(Debug, clap::Args)]
struct WandbCsvArgs {
    /// The CSV files.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// The runstore file to import into (created if missing; runs imported before are not
    /// added again).
    #[arg(long, short, default_value = "runs.db")]
    out: PathBuf,
    /// The experiment the runs go into.
    #[arg(long, short, default_value = "wandb")]
    experiment: String,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

/// Everything an import reports: what it wrote and what it left out.
#[derive(serde::Serialize)]
struct Summary {
    #[serde(flatten)]
    written: ImportReport,
    files: usize,
    skipped: Vec<Skipped>,
}

pub fn run(args: ImportArgs) -> anyhow::Result<()> {
    match args.source {
        Source::WandbCsv(args) => wandb(args),
        Source::Mlflow(args) => mlflow(args),
        Source::Tensorboard(args) => tensorboard(args),
        Source::Trackio(args) => trackio(args),
    }
}

fn trackio(args: TrackioArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    existing_file(&args.path)?;
    let bar = Reading::new(&args.path);
    let read =
        trackio::read(&args.path, args.experiment.as_deref(), &mut |done, total| bar.update(done, total))?;
    let import = Import { runs: read.runs, ..Import::default() };
    write_and_report(import, read.files, read.skipped, &args.out, args.json, started, Some(bar))
}

fn tensorboard(args: TensorboardArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    existing_file(&args.logdir)?;
    let bar = Reading::new(&args.logdir);
    let read = tensorboard::read(&args.logdir, &args.experiment, &mut |done, total| bar.update(done, total))?;
    let import = Import { runs: read.runs, ..Import::default() };
    write_and_report(import, read.files, read.skipped, &args.out, args.json, started, Some(bar))
}

fn mlflow(args: MlflowArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    existing_file(&args.store)?;
    let bar = Reading::new(&args.store);
    let read = mlflow::read(&args.store, &mut |done, total| bar.update(done, total))?;
    let import = Import { experiments: read.experiments, runs: read.runs, models: read.models };
    write_and_report(import, 1, read.skipped, &args.out, args.json, started, Some(bar))
}

fn wandb(args: WandbCsvArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let now = now_ms();
    // Every file is read and checked before anything is written: a bad one leaves the output
    // as it was.
    let total: u64 = args
        .files
        .iter()
        .map(|f| existing_file(f).map(|()| std::fs::metadata(f).map_or(0, |m| m.len())))
        .sum::<anyhow::Result<u64>>()?;
    let bar = ProgressBar::new(total).with_style(
        ProgressStyle::with_template("{spinner} reading [{bar:30}] {bytes}/{total_bytes} · {msg}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    let (mut runs, mut skipped) = (Vec::new(), Vec::new());
    for file in &args.files {
        bar.set_message(file.display().to_string());
        let mut bytes = Vec::new();
        std::fs::File::open(file)
            .and_then(|f| bar.wrap_read(f).read_to_end(&mut bytes))
            .with_context(|| format!("reading {}", file.display()))?;
        let read = wandb_csv::read(&bytes, &file.display().to_string(), &args.experiment, now)?;
        runs.extend(read.runs);
        skipped.extend(read.skipped);
    }
    bar.finish_and_clear();
    let import = Import { runs, ..Import::default() };
    write_and_report(import, args.files.len(), skipped, &args.out, args.json, started, None)
}

/// Writes what was read into `out` in one transaction (`bar`, if any, spinning meanwhile),
/// then reports it.
fn write_and_report(
    import: Import,
    files: usize,
    skipped: Vec<Skipped>,
    out: &std::path::Path,
    json: bool,
    started: Instant,
    bar: Option<Reading>,
) -> anyhow::Result<()> {
    let now = now_ms();
    if let Some(bar) = &bar {
        bar.writing(out);
    }
    let mut store = Store::open(out, &Default::default(), now)
        .with_context(|| format!("opening {} for writing", out.display()))?;
    let written =
        write(&mut store, import, now).with_context(|| format!("importing into {}", out.display()))?;
    drop(bar);
    report(Summary { written, files, skipped }, out, json, started)
}

/// A bar over a reader's progress (bytes, rows or runs, as the reader counts), then a spinner
/// while the one transaction is written.
struct Reading(ProgressBar);

impl Reading {
    fn new(source: &std::path::Path) -> Reading {
        let bar = ProgressBar::new(0).with_message(source.display().to_string()).with_style(
            ProgressStyle::with_template("{spinner} reading {msg} [{bar:30}] {percent}% · {eta} left")
                .expect("valid template")
                .progress_chars("=> "),
        );
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        Reading(bar)
    }

    fn update(&self, done: u64, total: u64) {
        self.0.set_length(total);
        self.0.set_position(done);
    }

    fn writing(&self, out: &std::path::Path) {
        self.0.set_style(ProgressStyle::with_template("{spinner} {msg}").expect("valid template"));
        self.0.set_message(format!("writing into {}", out.display()));
    }
}

/// Cleared when done, and when the import fails (before its error is printed).
impl Drop for Reading {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}

/// Prints what an import did: a line and what it left out, or JSON.
fn report(summary: Summary, out: &std::path::Path, json: bool, started: Instant) -> anyhow::Result<()> {
    if json {
        outln!("{}", serde_json::to_string_pretty(&summary)?);
        return Ok(());
    }
    let w = &summary.written;
    let mut also = String::new();
    if w.artifacts > 0 {
        also += &format!(", {} artifacts", w.artifacts);
    }
    if w.model_versions + w.model_versions_present > 0 {
        also +=
            &format!(", {} model versions ({} imported before)", w.model_versions, w.model_versions_present);
    }
    eprintln!(
        "imported {} runs ({} imported before, left as they were), {} series, {} points{also} from {} file{} into {} in {:.1} s",
        w.runs_added,
        w.runs_present,
        w.series,
        count(w.points as i64),
        summary.files,
        if summary.files == 1 { "" } else { "s" },
        out.display(),
        started.elapsed().as_secs_f64()
    );
    for s in &summary.skipped {
        eprintln!("  skipped {}: {}", s.what, s.why);
    }
    Ok(())
}
