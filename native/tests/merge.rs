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

#[test]
fn the_cli_merges_with_a_report() {
    let dir = tempfile::tempdir().unwrap();
    let (a, all) = (dir.path().join("a.db"), dir.path().join("all.db"));
    demo(&a);
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_runstore")).args(args).output().unwrap()
    };
    let out = run(&["merge", a.to_str().unwrap(), "-o", all.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["runs_added"], 11);
    let out = run(&["merge", all.to_str().unwrap(), "-o", all.to_str().unwrap()]);
    assert!(!out.status.success(), "merging a file into itself is refused");
}
