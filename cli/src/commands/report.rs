//! `runstore report`.

use std::path::PathBuf;

use anyhow::Context as _;
use runstore::page::{Page, WASM};
use runstore::report::build_report;

use super::existing_file;

/// Arguments of `runstore report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// runstore files to put in the report.
    #[arg(required = true)]
    dbs: Vec<PathBuf>,
    /// The HTML file to write.
    #[arg(long, short)]
    out: PathBuf,
    /// Take the web page from this folder (e.g. `www`, with pkg/ built by scripts/build-web)
    /// instead of the page built into runstore: for working on the page.
    #[arg(long, value_name = "DIR")]
    www: Option<PathBuf>,
    /// Replace `out` if it exists.
    #[arg(long)]
    force: bool,
}

pub fn run(args: ReportArgs) -> anyhow::Result<()> {
    for db in &args.dbs {
        existing_file(db)?;
    }
    let page = match &args.www {
        Some(dir) => Page::Dir(dir.clone()),
        None => crate::page(),
    };
    anyhow::ensure!(
        page.has(WASM),
        "{page}/{WASM} is missing: build the page with scripts/build-web (or leave out --www to use the page built into runstore)"
    );
    anyhow::ensure!(
        args.force || !args.out.exists(),
        "{} exists; pass --force to replace it",
        args.out.display()
    );
    let (html, summary) = build_report(&page, &args.dbs)?;
    let tmp = args.out.with_extension("html.partial");
    std::fs::write(&tmp, &html).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, &args.out).with_context(|| format!("writing {}", args.out.display()))?;
    let mib = |b: usize| b as f64 / 1_048_576.0;
    outln!(
        "wrote {} ({:.1} MiB: {:.1} MiB of data, {:.1} MiB of wasm) — open it in a browser, no server needed",
        args.out.display(),
        mib(summary.html_bytes),
        mib(summary.data_bytes),
        mib(summary.wasm_bytes)
    );
    if summary.data_bytes > 256 << 20 {
        eprintln!(
            "note: browsers load reports over ~300 MiB slowly; `runstore serve` reads big files lazily instead"
        );
    }
    Ok(())
}
