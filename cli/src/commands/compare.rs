//! `runstore compare`: runs side by side.

use std::path::PathBuf;

use anyhow::Context as _;
use runstore::{Store, now_ms};
use runstore_core::ParamValue;

use super::format::{csv_record, fit_table, float, terminal_width};
use super::{Format, existing_file};

/// Arguments of `runstore compare`.
#[derive(Debug, clap::Args)]
pub struct CompareArgs {
    /// The runstore file.
    db: PathBuf,
    /// Runs to compare: ids or unique names (two or more).
    #[arg(required = true, num_args = 2..)]
    runs: Vec<String>,
    /// Also list the params on which all runs agree.
    #[arg(long)]
    all: bool,
    /// Include per-label values (per-class accuracy, ...).
    #[arg(long)]
    labels: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

pub fn run(args: CompareArgs) -> anyhow::Result<()> {
    existing_file(&args.db)?;
    let store = Store::open_read_only(&args.db).with_context(|| format!("opening {}", args.db.display()))?;
    let names: Vec<&str> = args.runs.iter().map(String::as_str).collect();
    let cmp = store.compare(&names, Some(now_ms()))?;
    if args.format == Format::Json {
        outln!("{}", serde_json::to_string_pretty(&cmp)?);
        return Ok(());
    }
    let mut header = vec!["".to_string()];
    header.extend(cmp.runs.iter().map(|r| r.name.clone()));
    let value = |v: &Option<ParamValue>| match v {
        Some(ParamValue::Float(x)) => float(*x),
        Some(v) => v.to_string(),
        None => "—".into(),
    };
    let mut rows: Vec<Vec<String>> = Vec::new();
    let state = |r: &runstore_core::read::RunInfo| {
        serde_json::to_value(r.state).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
    };
    let mut first = vec!["state".to_string()];
    first.extend(cmp.runs.iter().map(state));
    rows.push(first);
    for (key, values) in &cmp.differing {
        let mut row = vec![format!("params.{key}")];
        row.extend(values.iter().map(value));
        rows.push(row);
    }
    if args.all {
        for (key, v) in &cmp.same {
            let mut row = vec![format!("params.{key} (same)")];
            row.extend(std::iter::repeat_n(value(&Some(v.clone())), cmp.runs.len()));
            rows.push(row);
        }
    }
    for m in cmp.metrics.iter().filter(|m| args.labels || m.label.is_empty()) {
        let name = if m.label.is_empty() { m.key.clone() } else { format!("{}[{}]", m.key, m.label) };
        let mut row = vec![format!("{name} (last / best)")];
        row.extend(m.summaries.iter().enumerate().map(|(i, s)| match s {
            None => "—".into(),
            Some(s) => {
                let best = match m.direction {
                    runstore_core::analysis::Direction::Minimize => s.min,
                    runstore_core::analysis::Direction::Maximize => s.max,
                };
                let mark = if m.best == Some(i) { " *" } else { "" };
                format!(
                    "{} / {}{mark}",
                    s.last.map(float).unwrap_or_default(),
                    best.map(float).unwrap_or_default()
                )
            }
        }));
        rows.push(row);
    }
    if args.format == Format::Csv {
        out!("{}", csv_record(&header));
        for row in &rows {
            out!("{}", csv_record(row));
        }
        return Ok(());
    }
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    out!("{}", fit_table(&header, &rows, terminal_width()));
    outln!("  * best run for the metric (lowest for losses and errors, highest for accuracies and scores)");
    Ok(())
}
