//! Command-line parsing and dispatch.

mod demo;
mod format;
mod info;

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
    /// Record a realistic demo experiment (a learning-rate sweep) into a new file.
    #[command(after_help = "Example:\n  runstore demo --out demo.db\n  runstore info demo.db")]
    Demo(demo::DemoArgs),
    /// Show what a runstore file holds: counts, time span, size, experiments, runs, models.
    #[command(
        after_help = "Examples:\n  runstore info demo.db\n  runstore info demo.db --format json | jq .stats.points"
    )]
    Info(info::InfoArgs),
}

/// Output format of commands that print data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    /// Human-readable tables.
    #[default]
    Text,
    /// JSON for scripts (documented in docs/json.md; NaN and infinities as strings).
    Json,
}

/// Runs the parsed command.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Demo(args) => demo::run(args),
        Command::Info(args) => info::run(args),
    }
}

/// A path argument naming an existing runstore file.
pub(crate) fn existing_file(path: &std::path::Path) -> anyhow::Result<()> {
    if !path.exists() {
        anyhow::bail!("{}: no such file", path.display());
    }
    Ok(())
}
