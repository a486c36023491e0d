//! The `runstore` command-line tool: record the demo; inspect, filter, compare, chart, merge,
//! export, snapshot, report and serve runstore files. Its own crate, so that the `runstore`
//! library Rust and Python users link carries no CLI parser, progress bars or `anyhow`.

mod commands;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = commands::Cli::parse();
    match commands::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
