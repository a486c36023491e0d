//! Memory while many series come and go: a long sweep or an import declares a series per run
//! and metric, and the writer must forget each once its run has ended, so memory stays flat.
//!
//! Short mode in `scripts/test` (30,000 series); long mode for RELIABILITY.md:
//! `scripts/reliability` (100,000).

use std::time::Duration;

use runstore::{Context, Recorder, RecorderOptions, Store};

/// Resident memory of this process, bytes (Linux).
fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

/// Declares and finishes `runs` runs of one 20-point series each, in turn; returns the
/// resident memory after each tenth of them.
fn sweep(runs: usize) -> Vec<u64> {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sweep.db");
    let options = RecorderOptions::file(&db)
        .capture_code(false)
        .capture_environment(false)
        .flush_interval(Duration::from_millis(5))
        // The channel's ring is touched page by page the first time round (14 MiB by default):
        // a small one keeps that out of the figure.
        .channel_capacity(8_192);
    let (rec, guard) = Recorder::with_options(options).unwrap();
    let exp = rec.experiment("sweep").unwrap();
    let mut rss = Vec::new();
    for i in 0..runs {
        let run = exp.start_run(&format!("r{i}"));
        let s = run.series("loss", &Context::phase("train"));
        for step in 0..20 {
            s.log(step, 1.0 / (step + 1) as f64);
        }
        run.finish();
        if (i + 1) % (runs / 10) == 0 {
            rec.flush().unwrap();
            rss.push(rss_bytes());
        }
    }
    guard.finish().unwrap();
    let stats = Store::open_read_only(&db).unwrap().stats().unwrap();
    assert_eq!((stats.runs as usize, stats.series as usize), (runs, runs));
    rss
}

fn check(runs: usize) {
    let rss = sweep(runs);
    let mib = |b: u64| b as f64 / (1 << 20) as f64;
    let growth = rss.last().unwrap().saturating_sub(rss[1]);
    println!(
        "RELIABILITY memory: {runs} series declared and finished in turn: resident {:.1} MiB after the first \
         fifth, {:.1} MiB at the end ({:+.1} MiB); by tenths: {}",
        mib(rss[1]),
        mib(*rss.last().unwrap()),
        mib(growth),
        rss.iter().map(|b| format!("{:.1}", mib(*b))).collect::<Vec<_>>().join(" ")
    );
    // Flat: no per-series state is kept (a series' state was several hundred bytes, and its
    // open chunk more). A leak grows memory in every tenth; the allocator and SQLite's caches
    // grow it in a step or two (one run of 30,000 series here stepped by 15 MiB once, between
    // two tenths, and stayed), so the typical tenth is what must stay flat: 100 bytes kept per
    // series would add 0.3 MiB to every tenth of 30,000.
    let mut steps: Vec<f64> = rss[1..].windows(2).map(|w| mib(w[1]) - mib(w[0])).collect();
    steps.sort_by(f64::total_cmp);
    let typical = steps[steps.len() / 2];
    assert!(typical < 0.15, "memory grew by {typical:.2} MiB in a typical tenth (steps {steps:?})");
    assert!(mib(growth) < 32.0, "memory grew by {:.1} MiB", mib(growth));
}

#[test]
fn memory_stays_flat_while_series_come_and_go_short() {
    check(30_000);
}

#[test]
#[ignore = "long mode for RELIABILITY.md (100,000 series)"]
fn memory_stays_flat_while_series_come_and_go_long() {
    check(100_000);
}
