//! `runstore snapshot`.

use std::path::PathBuf;

use anyhow::Context as _;

use super::existing_file;
use super::format::bytes;

/// Arguments of `runstore snapshot`.
#[derive(Debug, clap::Args)]
pub struct SnapshotArgs {
    /// The (possibly live) runstore file.
    db: PathBuf,
    /// The new file to write.
    #[arg(long, short)]
    out: PathBuf,
}

pub fn run(args: SnapshotArgs) -> anyhow::Result<()> {
    existing_file(&args.db)?;
    runstore::snapshot(&args.db, &args.out)
        .with_context(|| format!("snapshotting {} into {}", args.db.display(), args.out.display()))?;
    let size = std::fs::metadata(&args.out).map(|m| m.len() as i64).unwrap_or(0);
    eprintln!("wrote {} ({}), a consistent copy ready for the browser", args.out.display(), bytes(size));
    Ok(())
}
