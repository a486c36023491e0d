//! `runstore merge`.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};
use runstore::{Store, now_ms};
use runstore_core::merge::MergeReport;

use super::existing_file;
use super::format::count;

/// Arguments of `runstore merge`.
#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// Files to merge.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// The file to merge into (created if missing).
    #[arg(long, short)]
    out: PathBuf,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: MergeArgs) -> anyhow::Result<()> {
    let out_canonical = std::fs::canonicalize(&args.out).ok();
    let mut sources = Vec::new();
    for input in &args.inputs {
        existing_file(input)?;
        if out_canonical.is_some() && std::fs::canonicalize(input).ok() == out_canonical {
            anyhow::bail!("{} is also the output; merge other files into it", input.display());
        }
        sources.push(Store::open_read_only(input).with_context(|| format!("opening {}", input.display()))?);
    }
    let mut dst = Store::open(&args.out, &Default::default(), now_ms())
        .with_context(|| format!("opening {} for writing", args.out.display()))?;
    let total: u64 = sources
        .iter()
        .map(|s| {
            s.conn().query_row("SELECT count(*) FROM runs", [], |r| r.get::<_, i64>(0)).unwrap_or(0) as u64
        })
        .sum();
    let bar = ProgressBar::new(total).with_style(
        ProgressStyle::with_template(
            "{spinner} merging [{bar:30}] {pos}/{len} runs · {msg} · {elapsed_precise}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    let started = Instant::now();
    let mut report = MergeReport::default();
    let mut base = 0;
    for (input, src) in args.inputs.iter().zip(&sources) {
        let done_before = report.points_added;
        let r = dst
            .merge_from(src, &mut |p| {
                bar.set_position(base + p.runs_done);
                let points = done_before + p.points_done;
                let rate = points as f64 / started.elapsed().as_secs_f64().max(1e-3);
                bar.set_message(format!("{} points ({}/s)", count(points as i64), count(rate as i64)));
            })
            .with_context(|| format!("merging {}", input.display()))?;
        base += r.runs_added + r.runs_present;
        report.experiments_added += r.experiments_added;
        report.experiments_unified += r.experiments_unified;
        report.runs_added += r.runs_added;
        report.runs_present += r.runs_present;
        report.points_added += r.points_added;
        report.model_versions_added += r.model_versions_added;
        report.model_versions_renumbered += r.model_versions_renumbered;
    }
    bar.finish_and_clear();
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        eprintln!(
            "merged {} files into {} in {:.1} s: {} runs added ({} already there, {} replaced by a further-along copy), \
             {} points, {} experiments added \
             ({} unified by name), {} model versions added ({} renumbered)",
            args.inputs.len(),
            args.out.display(),
            started.elapsed().as_secs_f64(),
            report.runs_added,
            report.runs_present,
            report.runs_updated,
            count(report.points_added as i64),
            report.experiments_added,
            report.experiments_unified,
            report.model_versions_added,
            report.model_versions_renumbered
        );
    }
    Ok(())
}
