//! P8: reading one full series of 125,000 points.
//!
//! `cargo bench -p runstore --bench series_read` times `Store::series_points` (every point,
//! decoded from its chunks) against a plain one-row-per-point table's `SELECT ... ORDER BY step`,
//! alternating for 5 rounds. With `--mlflow`, MLflow's `get_metric_history` on 125,000 points
//! of one metric (its SQLite backend, `bench/mlflow.sh history`) is measured in the same run.

mod common;

use std::time::Instant;

use runstore_core::Store;

fn main() {
    let spec = common::Spec { runs: 1, series_per_run: 1, points_per_series: 125_000, seed: 1 };
    let dir = tempfile::tempdir().unwrap();
    let (ours, plain) = (dir.path().join("ours.db"), dir.path().join("plain.db"));
    common::write_runstore(&ours, spec);
    common::write_plain(&plain, spec);
    println!(
        "one series of {} points: runstore series_points vs plain SELECT, 5 rounds alternating",
        spec.total()
    );
    let mut best = (f64::INFINITY, f64::INFINITY);
    for round in 0..5 {
        let t = Instant::now();
        let store = Store::open_read_only(&ours).unwrap();
        let id: i64 = store.conn().query_row("SELECT id FROM metric_series", [], |r| r.get(0)).unwrap();
        let points = store.series_points(id).unwrap();
        let a = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let conn = rusqlite::Connection::open(&plain).unwrap();
        let mut stmt = conn
            .prepare("SELECT step, time_ms, value FROM points WHERE run = 0 AND key = ?1 ORDER BY step")
            .unwrap();
        let rows: Vec<(i64, i64, f64)> = stmt
            .query_map(["train/loss"], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let b = t.elapsed().as_secs_f64();
        assert_eq!(points.len(), rows.len());
        println!("  round {round}: runstore {:>8.2} ms   plain {:>8.2} ms", a * 1e3, b * 1e3);
        best = (best.0.min(a), best.1.min(b));
    }
    println!(
        "best: runstore {:.2} ms ({:.1}M points/s), plain SELECT {:.2} ms",
        best.0 * 1e3,
        125_000.0 / best.0 / 1e6,
        best.1 * 1e3
    );
    if common::with_mlflow() {
        let seconds = common::mlflow(&["history", "125000"])["seconds"].as_f64().unwrap();
        println!(
            "mlflow get_metric_history: {:.0} ms (best of 3): runstore is {:.0}x faster",
            seconds * 1e3,
            seconds / best.0
        );
    }
}
