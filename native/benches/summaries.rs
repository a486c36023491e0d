//! P5 and P7: summaries of every series, and bytes per point, against a plain schema.
//!
//! `cargo bench -p runstore --bench summaries -- [POINTS...]` (default 1M 10M 20M). For each
//! size the same seeded points are written as a runstore file and as a plain SQLite file with
//! one row per point (`common::write_plain`); then, alternating for 3 rounds, runstore lists all
//! runs with the summaries of all their series (`Store::runs` with metrics: what the runs table
//! shows) and the plain file runs the `GROUP BY` over every point that gives the same numbers.

mod common;

use std::time::Instant;

use runstore_core::{RunQuery, Store};

fn parse(arg: &str) -> Option<u64> {
    let (digits, scale) = match arg.strip_suffix('M') {
        Some(d) => (d, 1_000_000.0),
        None => (arg, 1.0),
    };
    digits.parse::<f64>().ok().map(|v| (v * scale) as u64)
}

fn main() {
    let mut sizes: Vec<u64> = std::env::args().skip(1).filter_map(|a| parse(&a)).collect();
    if sizes.is_empty() {
        sizes = vec![1_000_000, 10_000_000, 20_000_000];
    }
    let dir = tempfile::tempdir().unwrap();
    println!("summaries of all series: runstore (precomputed) vs plain GROUP BY; 3 rounds alternating");
    for points in sizes {
        let spec = common::Spec::points(points);
        let (ours, plain) =
            (dir.path().join(format!("ours-{points}.db")), dir.path().join(format!("plain-{points}.db")));
        let t = Instant::now();
        common::write_runstore(&ours, spec);
        let t_ours = t.elapsed().as_secs_f64();
        let t = Instant::now();
        common::write_plain(&plain, spec);
        let t_plain = t.elapsed().as_secs_f64();
        let n = spec.total() as f64;
        println!(
            "{} points ({} runs x {} series): runstore file {:.1} B/point (written in {:.1} s, {:.2}M points/s), plain {:.1} B/point (written in {:.1} s)",
            spec.total(),
            spec.runs,
            spec.series_per_run,
            common::size(&ours) as f64 / n,
            t_ours,
            n / t_ours / 1e6,
            common::size(&plain) as f64 / n,
            t_plain
        );
        let mut best = (f64::INFINITY, f64::INFINITY);
        for round in 0..3 {
            let t = Instant::now();
            let store = Store::open_read_only(&ours).unwrap();
            let runs = store.runs(&RunQuery { with_metrics: true, ..Default::default() }).unwrap();
            let series: usize = runs.iter().map(|r| r.metrics.len()).sum();
            let a = t.elapsed().as_secs_f64();
            let t = Instant::now();
            let conn =
                rusqlite::Connection::open_with_flags(&plain, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                    .unwrap();
            let mut stmt = conn.prepare(common::PLAIN_SUMMARIES).unwrap();
            let rows = stmt.query_map([], |r| r.get::<_, i64>(2)).unwrap().count();
            let b = t.elapsed().as_secs_f64();
            assert_eq!(series, rows);
            println!(
                "  round {round}: runstore {:>9.3} ms   GROUP BY {:>10.1} ms   ratio {:>7.0}x",
                a * 1e3,
                b * 1e3,
                b / a
            );
            best = (best.0.min(a), best.1.min(b));
        }
        println!(
            "  best: runstore {:.3} ms, GROUP BY {:.1} ms, {:.0}x faster",
            best.0 * 1e3,
            best.1 * 1e3,
            best.1 / best.0
        );
    }
}
