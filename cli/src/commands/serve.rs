//! `runstore serve`.

use std::path::PathBuf;

use anyhow::Context as _;
use runstore::page::{GLUE, Page, WASM};
use runstore::serve::{ServeOptions, bind};

use super::existing_file;

/// Arguments of `runstore serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// runstore files to serve (read-only) and open in the page.
    #[arg(required = true)]
    dbs: Vec<PathBuf>,
    /// Port (0: any free port).
    #[arg(long, short, default_value_t = 8080)]
    port: u16,
    /// Address to listen on; the default serves this machine only. Requests are answered only
    /// when addressed (Host header) to localhost, an IP address or this name, so that no web
    /// page can read the files through DNS rebinding.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Serve the web page from this folder (e.g. `www`, with pkg/ built by scripts/build-web)
    /// instead of the page built into runstore: for working on the page.
    #[arg(long, value_name = "DIR")]
    www: Option<PathBuf>,
}

pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    for db in &args.dbs {
        existing_file(db)?;
    }
    let page = match &args.www {
        Some(dir) => {
            let page = Page::Dir(dir.clone());
            anyhow::ensure!(page.has("index.html"), "{}: no web page there (no index.html)", dir.display());
            if !page.has(WASM) || !page.has(GLUE) {
                eprintln!("warning: {}/pkg is missing: build it with scripts/build-web", dir.display());
            }
            page
        }
        None => crate::page(),
    };
    let served = bind(
        &format!("{}:{}", args.host, args.port),
        ServeOptions { hosts: vec![args.host.clone()], ..ServeOptions::new(page, args.dbs.clone()) },
    )
    .with_context(|| format!("listening on {}:{}", args.host, args.port))?;
    outln!("serving {} file(s):", args.dbs.len());
    let width = served.files().map(|(path, _)| path.len()).max().unwrap_or(0);
    for (path, file) in served.files() {
        outln!("  {path:<width$}  {}", file.display());
    }
    outln!("open {}", served.url());
    outln!("(Ctrl-C to stop)");
    served.run();
    Ok(())
}
