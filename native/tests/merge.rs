//! Merging files from different machines: identities survive, names unify, nothing doubles.

use std::collections::BTreeSet;
use std::path::Path;

use runstore::demo::{DemoOptions, record_demo};
use runstore::{RunQuery, Store, now_ms};

fn demo(path: &Path) {
    let options = DemoOptions { epochs: 2, batches: 10, ..DemoOptions::default() };
    record_demo(path, &options).unwrap();
}

fn run_ids(store: &Store) -> BTreeSet<String> {
    store.runs(&RunQuery::default()).unwrap().into_iter().map(|r| r.id).collect()
}

#[test]
fn merging_keeps_identities_unifies_names_and_adds_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, all) = (dir.path().join("a.db"), dir.path().join("b.db"), dir.path().join("all.db"));
    demo(&a);
    demo(&b);
    let (sa, sb) = (Store::open_read_only(&a).unwrap(), Store::open_read_only(&b).unwrap());
    let mut dst = Store::open(&all, &Default::default(), now_ms()).unwrap();
    let mut calls = 0;
    let ra = dst.merge_from(&sa, &mut |_| calls += 1).unwrap();
    let rb = dst.merge_from(&sb, &mut |_| {}).unwrap();
    assert_eq!(calls, 11, "progress after each run");
    assert_eq!((ra.runs_added, rb.runs_added, rb.experiments_unified), (11, 11, 1));
    assert_eq!((rb.model_versions_added, rb.model_versions_renumbered), (3, 3));
    let again = dst.merge_from(&sa, &mut |_| {}).unwrap();
    assert_eq!(
        (again.runs_added, again.runs_present, again.points_added, again.model_versions_added),
        (0, 11, 0, 0)
    );

    let expected: BTreeSet<String> = run_ids(&sa).union(&run_ids(&sb)).cloned().collect();
    assert_eq!(run_ids(&dst), expected, "every run keeps its id");
    assert_eq!(dst.experiments().unwrap().len(), 1);
    assert_eq!(dst.stats().unwrap().points, sa.stats().unwrap().points + sb.stats().unwrap().points);
    dst.integrity_check().unwrap();

    // Points, summaries and provenance of a run are as recorded.
    let run = &sb.runs(&RunQuery { with_metrics: true, ..Default::default() }).unwrap()[2];
    let merged = dst.run(&run.id, None).unwrap();
    assert_eq!(merged.params, run.params);
    assert_eq!(merged.metrics.len(), run.metrics.len());
    for (m, original) in merged.metrics.iter().zip(&run.metrics) {
        assert_eq!(
            (m.key.as_str(), m.count, m.min, m.max),
            (original.key.as_str(), original.count, original.min, original.max)
        );
        let (p, q) = (dst.series_points(m.series_id).unwrap(), sb.series_points(original.series_id).unwrap());
        assert!(p.len() == q.len() && p.iter().zip(&q).all(|(x, y)| x.same_bits(y)));
        assert_eq!(dst.overview(m.series_id, 0).unwrap(), sb.overview(original.series_id, 0).unwrap());
    }
    assert_eq!(dst.datasets(&run.id).unwrap().len(), 1);
    assert!(dst.code(&run.id).unwrap().is_some());
    assert_eq!(dst.run_artifacts(&run.id).unwrap(), sb.run_artifacts(&run.id).unwrap());

    // The registry: six versions, the second file's renumbered 4..6; aliases follow versions.
    let versions = dst.model_versions("mnist-cnn").unwrap();
    assert_eq!(versions.iter().map(|v| v.version).collect::<Vec<_>>(), [1, 2, 3, 4, 5, 6]);
    let prod = dst.model_version_by_alias("mnist-cnn", "production").unwrap();
    assert_eq!(
        prod.id,
        sa.model_version_by_alias("mnist-cnn", "production").unwrap().id,
        "the first file's alias is kept"
    );
}

/// Runs SQL on a store file directly, as a damaged or hostile file would be made.
fn tamper(path: &Path, sql: &str) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch("PRAGMA foreign_keys = OFF").unwrap();
    conn.execute_batch(sql).unwrap();
}

fn points_and_runs(store: &Store) -> (i64, usize) {
    (store.stats().unwrap().points, store.runs(&RunQuery::default()).unwrap().len())
}

#[test]
fn a_source_with_a_series_twice_is_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let (src, dst) = (dir.path().join("src.db"), dir.path().join("dst.db"));
    demo(&src);
    // A malformed file: metric_series without its UNIQUE key, and one series copied twice.
    let conn = rusqlite::Connection::open(&src).unwrap();
    let sql: String = conn
        .query_row("SELECT sql FROM sqlite_master WHERE name = 'metric_series'", [], |r| r.get(0))
        .unwrap();
    let without_key = sql
        .replace("\n    UNIQUE (run_id, key, context, label)", "")
        .replace("sum_value  REAL,", "sum_value  REAL");
    assert_ne!(sql, without_key);
    conn.execute_batch("PRAGMA writable_schema = ON").unwrap();
    conn.execute("UPDATE sqlite_master SET sql = ?1 WHERE name = 'metric_series'", [&without_key]).unwrap();
    conn.execute("DELETE FROM sqlite_master WHERE name = 'sqlite_autoindex_metric_series_1'", []).unwrap();
    conn.execute_batch("PRAGMA writable_schema = OFF").unwrap();
    drop(conn);
    tamper(
        &src,
        "INSERT INTO metric_series (run_id, key, context, label, count) SELECT run_id, key, context, label, 1
             FROM metric_series ORDER BY id DESC LIMIT 1;
         INSERT INTO metric_chunks (series_id, first_step, last_step, count, data)
             SELECT (SELECT max(id) FROM metric_series), first_step, last_step, 1, data FROM metric_chunks LIMIT 1;",
    );
    let source = Store::open_read_only(&src).unwrap();
    let mut dest = Store::open(&dst, &Default::default(), now_ms()).unwrap();
    let err = dest.merge_from(&source, &mut |_| {}).unwrap_err().to_string();
    assert!(err.contains("more than once"), "{err}");
    assert_eq!(points_and_runs(&dest), (0, 0), "nothing of the malformed source is written");
}

#[test]
fn dangling_references_in_a_source_are_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    for (name, sql, what) in [
        ("no-experiments", "DELETE FROM experiments", "experiment"),
        ("no-models", "DELETE FROM models", "model"),
        ("no-trials", "DELETE FROM trials", "trial"),
    ] {
        let (src, dst) = (dir.path().join(format!("{name}.db")), dir.path().join(format!("{name}-dst.db")));
        demo(&src);
        tamper(&src, sql);
        let source = Store::open_read_only(&src).unwrap();
        let mut dest = Store::open(&dst, &Default::default(), now_ms()).unwrap();
        let merged =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| dest.merge_from(&source, &mut |_| {})));
        let err = merged.expect("no panic").unwrap_err().to_string();
        assert!(err.contains(&format!("refers to {what}")), "{name}: {err}");
        assert_eq!(points_and_runs(&dest), (0, 0), "{name}: nothing written");
    }
}

/// An in-memory recorder (a simulation persisting now and then) with one started run.
fn simulation() -> (runstore::Recorder, runstore::RecorderGuard, runstore::Run) {
    let (rec, guard) = runstore::Recorder::with_options(
        runstore::RecorderOptions::in_memory().capture_code(false).capture_environment(false),
    )
    .unwrap();
    let run = rec.experiment("sim").unwrap().start_run("r");
    (rec, guard, run)
}

#[test]
fn persisting_again_brings_later_points_and_the_final_status() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("persisted.db");
    let (rec, guard, run) = simulation();
    let id = run.id().to_string();
    let loss = run.series("loss", &runstore::Context::none());
    for step in 0..100 {
        loss.log(step, step as f64);
    }
    rec.persist_to(&file).unwrap();
    for step in 100..250 {
        loss.log(step, step as f64);
    }
    run.finish();
    rec.persist_to(&file).unwrap();
    guard.finish().unwrap();

    let store = Store::open_read_only(&file).unwrap();
    let info = store.run(&id, None).unwrap();
    assert_eq!(info.status, runstore::RunStatus::Completed);
    assert_eq!(info.metrics[0].count, 250);
    assert_eq!(store.series_points(info.metrics[0].series_id).unwrap().len(), 250);

    // An older copy never overwrites a newer one.
    drop(store);
    let old = dir.path().join("old.db");
    std::fs::copy(&file, &old).unwrap();
    let mut newer = Store::open(&file, &Default::default(), now_ms()).unwrap();
    tamper(
        &old,
        "DELETE FROM metric_chunks; UPDATE metric_series SET count = 10; UPDATE runs SET status = 'running'",
    );
    let report = newer.merge_from(&Store::open_read_only(&old).unwrap(), &mut |_| {}).unwrap();
    assert_eq!((report.runs_updated, report.runs_present), (0, 1));
    assert_eq!(newer.run(&id, None).unwrap().metrics[0].count, 250);
}

#[test]
fn persisting_again_brings_new_rows_of_a_run_without_new_points() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("persisted.db");
    let (rec, guard, run) = simulation();
    let id = run.id().to_string();
    run.series("loss", &runstore::Context::none()).log(0, 1.0);
    rec.persist_to(&file).unwrap();
    run.tags(&[("checkpoint", "epoch-1")]);
    run.param("lr", 0.1);
    rec.persist_to(&file).unwrap();
    let store = Store::open_read_only(&file).unwrap();
    let info = store.run(&id, None).unwrap();
    assert_eq!(info.tags.get("checkpoint").map(String::as_str), Some("epoch-1"));
    assert!(info.params.contains_key("lr"));
    drop((store, run));
    guard.finish().unwrap();
}
