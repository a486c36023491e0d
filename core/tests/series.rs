//! Chart series: exact points when the range holds few, otherwise bucket extremes within the
//! budget that always include the true min and max of the range.

use runstore_core::analysis::{SeriesRequest, XAxis};
use runstore_core::event::RunRecord;
use runstore_core::{BatchWriter, Context, Event, Id, Point, RunStatus, SeriesKey, Store};

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

/// A store with one series of `n` points whose values come from `value(step)`, written in
/// batches like a recorder would.
fn store_with(n: i64, value: impl Fn(i64) -> f64) -> (Store, i64) {
    let mut store = Store::open_in_memory(0).unwrap();
    let (exp, run) = (Id::from_parts(0, 1), Id::from_parts(0, 2));
    let mut writer = BatchWriter::new();
    writer
        .write(
            &mut store,
            &[
                Event::Experiment {
                    id: exp.clone(),
                    name: "e".into(),
                    description: String::new(),
                    time_ms: 0,
                },
                Event::Run(Box::new(RunRecord {
                    id: run.clone(),
                    experiment_id: exp,
                    trial_id: None,
                    name: "r".into(),
                    status: RunStatus::Running,
                    host: None,
                    pid: None,
                    heartbeat_interval_ms: None,
                    time_ms: 0,
                })),
                Event::Series {
                    handle: 0,
                    series: SeriesKey {
                        run_id: run,
                        key: "x".into(),
                        context: Context::none().to_json(),
                        label: String::new(),
                    },
                },
            ],
        )
        .unwrap()
        .all_written()
        .unwrap();
    let batch = 100_000;
    let mut events = Vec::with_capacity(batch as usize);
    for start in (0..n).step_by(batch as usize) {
        events.clear();
        events.extend((start..(start + batch).min(n)).map(|step| Event::Point {
            handle: 0,
            point: Point { step, time_ms: 1000 + step * 10, value: value(step), epoch: None, batch: None },
        }));
        writer.write(&mut store, &events).unwrap().all_written().unwrap();
    }
    let id = store.conn().query_row("SELECT id FROM metric_series", [], |r| r.get(0)).unwrap();
    (store, id)
}

/// Deterministic pseudo-random numbers (splitmix64).
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn value(step: i64) -> f64 {
    let r = mix(step as u64);
    match r % 997 {
        0 => 1e6 + (r % 1000) as f64,  // rare spikes up
        1 => -1e6 - (r % 1000) as f64, // and down
        2 => f64::NAN,
        _ => (r % 10_000) as f64 / 100.0,
    }
}

fn check_range(store: &Store, id: i64, a: i64, b: i64, budget: usize) {
    let req =
        SeriesRequest { series_id: id, from_step: Some(a), to_step: Some(b), budget, x_axis: XAxis::Step };
    let got = store.series_data(&req).unwrap();
    let truth: Vec<(i64, f64)> = (a.max(0)..=b).map(|s| (s, value(s))).collect();
    assert_eq!(got.points_in_range, truth.len() as i64, "{a}..{b}");
    assert!(got.steps.windows(2).all(|w| w[0] < w[1]), "sorted, no duplicates");
    assert!(got.steps.iter().all(|s| (a..=b).contains(s)), "all inside the range");
    if truth.len() <= budget {
        assert!(got.exact);
        assert_eq!(got.steps.len(), truth.len());
        assert!(got.y.iter().zip(&truth).all(|(y, t)| y.to_bits() == t.1.to_bits()));
        return;
    }
    assert!(!got.exact);
    assert!(got.y.len() <= budget, "{} points for a budget of {budget}", got.y.len());
    let finite = truth.iter().filter(|t| !t.1.is_nan());
    let min = finite.clone().min_by(|x, y| x.1.total_cmp(&y.1)).unwrap();
    let max = finite.max_by(|x, y| x.1.total_cmp(&y.1)).unwrap();
    for (what, (step, v)) in [("min", min), ("max", max)] {
        let i = got
            .steps
            .iter()
            .position(|s| s == step)
            .unwrap_or_else(|| panic!("{a}..{b}: true {what} at step {step} missing"));
        assert_eq!(got.y[i], *v);
    }
}

#[test]
fn random_ranges_keep_the_extremes() {
    let (store, id) = store_with(60_000, value);
    for i in 0..60u64 {
        let a = (mix(i) % 60_000) as i64;
        let b = (a + (mix(i + 1000) % 60_000) as i64).min(59_999);
        let budget = [8, 50, 200, 1000, 5000][(i % 5) as usize];
        check_range(&store, id, a, b, budget);
    }
    check_range(&store, id, 0, 59_999, 2000);
    check_range(&store, id, 100, 100, 10);
}

#[test]
fn time_axes_and_empty_ranges() {
    let (store, id) = store_with(1000, |s| s as f64);
    let mut req = SeriesRequest::new(id);
    req.x_axis = XAxis::Relative;
    let data = store.series_data(&req).unwrap();
    assert_eq!((data.x[0], data.x[999]), (0.0, 9990.0));
    req.x_axis = XAxis::WallTime;
    assert_eq!(store.series_data(&req).unwrap().x[1], 1010.0);
    req.from_step = Some(5000);
    let empty = store.series_data(&req).unwrap();
    assert!(empty.x.is_empty() && empty.exact);
    assert!(store.series_data(&SeriesRequest::new(999)).is_err());
}

/// 10M points: the answer for any range stays within the budget and holds the true extremes,
/// reading overviews, not points.
#[cfg(not(target_arch = "wasm32"))]
#[test]
fn ten_million_points() {
    let (store, id) = store_with(10_000_000, value);
    check_range(&store, id, 0, 9_999_999, 2000);
    check_range(&store, id, 1_234_567, 8_765_432, 1000);
    check_range(&store, id, 5_000_000, 5_003_000, 500);
    check_range(&store, id, 9_999_000, 9_999_999, 2000);
}
