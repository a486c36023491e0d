//! Analysis over a recorded demo: grouping seeds by learning rate, chart series, smoothing.

use runstore::demo::{DemoOptions, record_demo};
use runstore::{Context, RunQuery, Store};
use runstore_core::analysis::{Band, GroupRequest, SeriesRequest, Smoothing, smooth};

fn demo() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("demo.db");
    record_demo(&path, &DemoOptions { epochs: 4, batches: 25, ..DemoOptions::default() }).unwrap();
    let store = Store::open_read_only(&path).unwrap();
    (dir, store)
}

#[test]
fn seeds_group_by_learning_rate_into_mean_and_band() {
    let (_dir, store) = demo();
    let req = GroupRequest {
        filter: Some("state = 'completed'".into()),
        group_by: vec!["lr".into()],
        metric: "val/loss".into(),
        band: Band::MinMax,
        ..Default::default()
    };
    let groups = store.group(&req).unwrap();
    assert_eq!(groups.len(), 3, "three learning rates completed");
    for g in &groups {
        assert_eq!(g.members.len(), 3, "three seeds each");
        assert_eq!(g.x.len(), 4, "one value per epoch");
        // The mean at each step is the mean of the members' values there.
        let members: Vec<Vec<f64>> = g
            .members
            .iter()
            .map(|(id, _)| {
                let sid = store.find_series(id, "val/loss", &Context::phase("val"), "").unwrap().unwrap();
                store.series_points(sid).unwrap().iter().map(|p| p.value).collect()
            })
            .collect();
        for i in 0..g.x.len() {
            let vals: Vec<f64> = members.iter().map(|m| m[i]).collect();
            let mean = vals.iter().sum::<f64>() / 3.0;
            assert!((g.mean[i] - mean).abs() < 1e-12);
            assert_eq!(g.lower[i], vals.iter().copied().fold(f64::INFINITY, f64::min));
            assert_eq!(g.count[i], 3);
        }
    }
    let err =
        store.group(&GroupRequest { metric: "nope".into(), ..Default::default() }).unwrap_err().to_string();
    assert!(err.contains("no selected run has the metric `nope`"), "{err}");
}

#[test]
fn a_diverged_run_shows_its_nan_in_the_chart_series() {
    let (_dir, store) = demo();
    let run = store
        .runs(&RunQuery {
            filter: Some("name like '%diverges%'".into()),
            with_metrics: true,
            ..Default::default()
        })
        .unwrap()
        .remove(0);
    let loss = run.metrics.iter().find(|m| m.key == "train/loss").unwrap();
    let mut req = SeriesRequest::new(loss.series_id);
    req.budget = 16;
    let data = store.series_data(&req).unwrap();
    assert!(!data.exact && data.y.len() <= 16);
    assert!(data.y.iter().any(|y| y.is_nan()), "the divergence is visible");
    assert!(data.y.contains(&loss.max.unwrap()), "the spike before it too");
    let smoothed = smooth(&data.x, &data.y, Smoothing::Ema { weight: 0.6 });
    assert_eq!(smoothed.len(), data.y.len());
}

#[test]
fn the_epoch_axis_counts_fractional_epochs() {
    let (_dir, store) = demo();
    let run =
        store.runs(&RunQuery { with_metrics: true, limit: Some(1), ..Default::default() }).unwrap().remove(0);
    let loss = run.metrics.iter().find(|m| m.key == "train/loss").unwrap();
    let mut req = SeriesRequest::new(loss.series_id);
    req.x_axis = runstore_core::analysis::XAxis::Epoch;
    let data = store.series_data(&req).unwrap();
    assert!(data.x.windows(2).all(|w| w[0] <= w[1]), "epochs grow");
    assert!(data.x[0] >= 0.0 && *data.x.last().unwrap() <= 4.0, "{:?}", (data.x[0], data.x.last()));
    assert!(*data.x.last().unwrap() > 3.0, "the last points are in the fourth epoch");
}
