//! `runstore demo`.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context as _;
use runstore::demo::{DemoOptions, record_demo};

/// Arguments of `runstore demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// File to create (refused if it exists, unless --force).
    #[arg(long, short, default_value = "demo.db")]
    out: PathBuf,
    /// Replace the file if it exists.
    #[arg(long)]
    force: bool,
    /// Seeds per learning rate.
    #[arg(long, default_value_t = 3)]
    seeds: u32,
    /// Epochs per run.
    #[arg(long, default_value_t = 8)]
    epochs: u32,
    /// Batches per epoch.
    #[arg(long, default_value_t = 60)]
    batches: u32,
    /// Milliseconds to pause after each batch, so runs take real time (0: as fast as possible).
    #[arg(long, default_value_t = 1)]
    pace_ms: u64,
}

pub fn run(args: DemoArgs) -> anyhow::Result<()> {
    if args.force {
        for suffix in ["", "-wal", "-shm"] {
            let p = PathBuf::from(format!("{}{suffix}", args.out.display()));
            if p.exists() {
                std::fs::remove_file(&p).with_context(|| format!("removing {}", p.display()))?;
            }
        }
        let artifacts = PathBuf::from(format!("{}.artifacts", args.out.display()));
        if artifacts.is_dir() {
            std::fs::remove_dir_all(&artifacts)
                .with_context(|| format!("removing {}", artifacts.display()))?;
        }
    } else if args.out.exists() {
        anyhow::bail!("{} exists; choose another --out or pass --force to replace it", args.out.display());
    }
    let options = DemoOptions {
        seeds: args.seeds,
        epochs: args.epochs.max(1),
        batches: args.batches.max(1),
        batch_pause: std::time::Duration::from_millis(args.pace_ms),
        ..DemoOptions::default()
    };
    let started = Instant::now();
    eprintln!("recording the demo experiment into {} ...", args.out.display());
    let summary = record_demo(&args.out, &options)
        .with_context(|| format!("recording the demo into {}", args.out.display()))?;
    eprintln!(
        "recorded {} runs, {} metric points in {:.1} s; artifacts in {}",
        summary.runs,
        summary.points,
        started.elapsed().as_secs_f64(),
        summary.artifacts_dir.display()
    );
    eprintln!("next: runstore info {}", args.out.display());
    Ok(())
}
