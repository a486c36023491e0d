//! `runstore serve`.

use std::path::PathBuf;

use anyhow::Context as _;
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
    /// Folder of the web page (built by scripts/build-web).
    #[arg(long, default_value = "www")]
    www: PathBuf,
}

pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    for db in &args.dbs {
        existing_file(db)?;
    }
    anyhow::ensure!(
        args.www.join("index.html").is_file(),
        "{}: no web page there; run from the repository root or pass --www DIR",
        args.www.display()
    );
    if !args.www.join("pkg").is_dir() {
        eprintln!("warning: {}/pkg is missing: build it with scripts/build-web", args.www.display());
    }
    let served = bind(
        &format!("{}:{}", args.host, args.port),
        ServeOptions { hosts: vec![args.host.clone()], ..ServeOptions::new(&args.www, args.dbs.clone()) },
    )
    .with_context(|| format!("listening on {}:{}", args.host, args.port))?;
    println!("serving {} file(s):", args.dbs.len());
    let width = served.files().map(|(path, _)| path.len()).max().unwrap_or(0);
    for (path, file) in served.files() {
        println!("  {path:<width$}  {}", file.display());
    }
    println!("open {}", served.url());
    println!("(Ctrl-C to stop)");
    served.run();
    Ok(())
}
