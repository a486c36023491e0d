//! `runstore info`.

use std::path::PathBuf;

use anyhow::Context as _;
use runstore::{RunQuery, Store, now_ms};

use super::format::{bytes, count, duration_ms, float, printable, table, time_ms};
use super::{Format, existing_file};

/// Arguments of `runstore info`.
#[derive(Debug, clap::Args)]
pub struct InfoArgs {
    /// The runstore file.
    db: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
    /// Most runs listed in text output.
    #[arg(long, default_value_t = 20)]
    max_runs: usize,
}

pub fn run(args: InfoArgs) -> anyhow::Result<()> {
    existing_file(&args.db)?;
    if args.format == Format::Csv {
        anyhow::bail!(
            "info has no CSV form (it is several tables); use --format json, or `runstore runs --format csv`"
        );
    }
    let store = Store::open_read_only(&args.db).with_context(|| format!("opening {}", args.db.display()))?;
    let stats = store.stats()?;
    let experiments = store.experiments()?;
    let runs = store.runs(&RunQuery { now_ms: Some(now_ms()), ..Default::default() })?;
    let models = store.models()?;
    let model_stats = store.model_stats()?;
    let resources = store.resource_stats()?;
    let spans = store.span_stats()?;
    let compat = store.compatibility();

    if args.format == Format::Json {
        let doc = serde_json::json!({
            "file": args.db.display().to_string(),
            "compatibility": compat,
            "stats": stats,
            "experiments": experiments,
            "runs": runs,
            "models": models,
            "model_stats": model_stats,
            "resources": resources,
            "spans": spans,
        });
        outln!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(());
    }

    let mut out = String::new();
    out.push_str(&format!(
        "{}  (runstore schema v{}{}, {})\n",
        args.db.display(),
        compat.file_version,
        if compat.writable { "" } else { ", newer than this runstore: read-only" },
        bytes(stats.size_bytes)
    ));
    let statuses: Vec<String> =
        stats.runs_by_status.iter().map(|(s, n)| format!("{n} {}", printable(s))).collect();
    out.push_str(&format!(
        "  {} experiments · {} trials · {} runs ({})\n",
        stats.experiments,
        stats.trials,
        stats.runs,
        if statuses.is_empty() { "none".into() } else { statuses.join(", ") }
    ));
    out.push_str(&format!(
        "  {} metric series · {} points ({} NaN)\n",
        count(stats.series),
        count(stats.points),
        count(stats.nan_points)
    ));
    out.push_str(&format!(
        "  {} artifacts · {} datasets · {} resource samples · {} spans · {} models ({} versions)\n",
        count(stats.artifacts),
        count(stats.datasets),
        count(stats.resource_samples),
        count(stats.spans),
        stats.models,
        stats.model_versions
    ));
    if let (Some(a), Some(b), Some(d)) = (stats.first_ms, stats.last_ms, stats.duration_ms) {
        out.push_str(&format!("  time span {} → {} UTC ({})\n", time_ms(a), time_ms(b), duration_ms(d)));
    }

    if !experiments.is_empty() {
        out.push_str("\nExperiments\n");
        let rows: Vec<Vec<String>> = experiments
            .iter()
            .map(|e| {
                vec![
                    e.name.clone(),
                    e.status.clone(),
                    e.trials.to_string(),
                    e.runs.to_string(),
                    time_ms(e.created_ms),
                ]
            })
            .collect();
        out.push_str(&table(&["NAME", "STATUS", "TRIALS", "RUNS", "CREATED (UTC)"], &rows, 48));
    }

    if !runs.is_empty() {
        out.push_str(&format!("\nRuns ({} of {})\n", runs.len().min(args.max_runs), runs.len()));
        let rows: Vec<Vec<String>> = runs
            .iter()
            .take(args.max_runs)
            .map(|r| {
                vec![
                    r.experiment.clone(),
                    r.trial.clone().unwrap_or_default(),
                    r.name.clone(),
                    serde_json::to_value(r.state)
                        .ok()
                        .and_then(|v| v.as_str().map(String::from))
                        .unwrap_or_default(),
                    r.duration_ms.map(duration_ms).unwrap_or_default(),
                    r.host.clone().unwrap_or_default(),
                ]
            })
            .collect();
        out.push_str(&table(&["EXPERIMENT", "TRIAL", "RUN", "STATE", "DURATION", "HOST"], &rows, 40));
    }

    if !models.is_empty() {
        out.push_str(&format!(
            "\nModels ({} versions, {} total)\n",
            model_stats.total_versions,
            bytes(model_stats.total_size_bytes)
        ));
        let rows: Vec<Vec<String>> = models
            .iter()
            .map(|m| {
                let aliases: Vec<String> = m.aliases.iter().map(|(a, v)| format!("{a}→v{v}")).collect();
                vec![
                    m.name.clone(),
                    m.versions.to_string(),
                    m.latest.as_ref().map(|v| format!("v{}", v.version)).unwrap_or_default(),
                    aliases.join(", "),
                ]
            })
            .collect();
        out.push_str(&table(&["MODEL", "VERSIONS", "LATEST", "ALIASES"], &rows, 48));
    }

    if !resources.is_empty() {
        out.push_str("\nResources\n");
        let rows: Vec<Vec<String>> = resources
            .iter()
            .map(|r| {
                let f = |x: Option<f64>| x.map(float).unwrap_or_default();
                vec![
                    r.kind.as_str().to_string(),
                    r.name.clone(),
                    r.count.to_string(),
                    f(r.mean),
                    f(r.max),
                    r.unit.clone(),
                ]
            })
            .collect();
        out.push_str(&table(&["KIND", "NAME", "SAMPLES", "MEAN", "MAX", "UNIT"], &rows, 32));
    }

    if !spans.is_empty() {
        out.push_str("\nSpans\n");
        out.push_str(&super::summary::span_table(&spans, super::format::terminal_width()));
    }
    out!("{out}");
    Ok(())
}
