//! The shared fixture: `tests/fixtures/basic.db` and the answers expected from it,
//! `tests/fixtures/basic.expected.json`. The same bytes must give the same answers natively
//! and under wasm32 in a browser. Floating-point values are compared exactly: both targets run
//! the same SQLite and the same Rust code on IEEE-754 doubles, with no fused or reordered math.
//! (The generator avoids exp/sin/log, whose last bit differs between glibc and wasm32's libm:
//! a difference in the data, not in runstore.)
//!
//! To regenerate both files after a deliberate change: `RUNSTORE_BLESS=1 cargo test -p
//! runstore-core --test fixture`.

use runstore_core::event::{
    ArtifactOwner, ArtifactRecord, ModelVersionRecord, Owner, ResourceKind, ResourceSample, RunRecord,
    SpanRecord,
};
use runstore_core::{BatchWriter, Context, Event, Id, Point, RunQuery, RunStatus, SeriesKey, Store};
use serde_json::{Value, json};

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

const T0: i64 = 1_750_000_000_000;
const FIXTURE: &[u8] = include_bytes!("../../tests/fixtures/basic.db");
const EXPECTED: &str = include_str!("../../tests/fixtures/basic.expected.json");

fn id(n: u128) -> Id {
    Id::from_parts(T0, n)
}

/// Builds the fixture store: deterministic ids, times and values.
fn build() -> Store {
    let mut store = Store::open_in_memory(T0).unwrap();
    let mut events = vec![
        Event::Experiment { id: id(1), name: "sweep".into(), description: "fixture".into(), time_ms: T0 },
        Event::Tags {
            owner: Owner::Experiment(id(1)),
            tags: vec![("team".into(), "<script>alert(1)</script>".into())],
        },
    ];
    let mut handle = 0;
    for (t, lr) in [0.1f64, 0.01].iter().enumerate() {
        let trial = id(10 + t as u128);
        events.push(Event::Trial {
            id: trial.clone(),
            experiment_id: id(1),
            name: format!("lr={lr}"),
            description: String::new(),
            time_ms: T0,
        });
        for seed in 0..2u32 {
            let run = id(100 + 10 * t as u128 + u128::from(seed));
            let diverges = t == 0 && seed == 1;
            events.push(Event::Run(Box::new(RunRecord {
                id: run.clone(),
                experiment_id: id(1),
                trial_id: Some(trial.clone()),
                name: format!("lr={lr} seed={seed}"),
                status: RunStatus::Running,
                host: Some("host-a".into()),
                pid: Some(42),
                heartbeat_interval_ms: Some(10_000),
                time_ms: T0 + 1000 * seed as i64,
            })));
            events.push(Event::Params {
                owner: Owner::Run(run.clone()),
                params: vec![("lr".into(), (*lr).into()), ("seed".into(), seed.into())],
            });
            for (key, phase) in [("train/loss", "train"), ("val/accuracy", "val")] {
                handle += 1;
                events.push(Event::Series {
                    handle,
                    series: SeriesKey {
                        run_id: run.clone(),
                        key: key.into(),
                        context: Context::phase(phase).to_json(),
                        label: String::new(),
                    },
                });
                for step in 0..700i64 {
                    let x = step as f64;
                    // Only + - * / here: they are exactly rounded everywhere, while exp() and
                    // sin() differ in the last bit between glibc and wasm32's libm.
                    let wiggle = 0.01 * ((step % 7) as f64 - 3.0) / 3.0;
                    let mut value = if phase == "train" {
                        2.0 / (1.0 + lr * x / 10.0) + wiggle
                    } else {
                        1.0 - 1.0 / (1.0 + lr * x / 20.0)
                    };
                    if diverges && step > 400 {
                        value = if step > 500 { f64::NAN } else { f64::INFINITY };
                    }
                    events.push(Event::Point {
                        handle,
                        point: Point {
                            step,
                            time_ms: T0 + 10 * step,
                            value,
                            epoch: Some((step / 100) as u32),
                            batch: Some((step % 100) as u32),
                        },
                    });
                }
            }
            handle += 1;
            events.push(Event::Series {
                handle,
                series: SeriesKey {
                    run_id: run.clone(),
                    key: "val/accuracy".into(),
                    context: Context::phase("val").to_json(),
                    label: "class_0".into(),
                },
            });
            events.push(Event::Point {
                handle,
                point: Point {
                    step: 699,
                    time_ms: T0 + 6990,
                    value: 0.5 + 0.1 * f64::from(seed),
                    epoch: None,
                    batch: None,
                },
            });
            events.push(Event::Epoch { run_id: run.clone(), epoch: 0, end: true, time_ms: T0 + 500 });
            events.push(Event::Artifact(Box::new(ArtifactRecord {
                id: id(1000 + 10 * t as u128 + u128::from(seed)),
                owner: ArtifactOwner::Epoch { run: run.clone(), epoch: 0 },
                name: "cm".into(),
                kind: "plot".into(),
                uri: "file:///cm.png".into(),
                size_bytes: Some(10),
                sha256: None,
                metadata: None,
                time_ms: T0,
            })));
            events.push(Event::Resource(Box::new(ResourceSample {
                run_id: Some(run.clone()),
                time_ms: T0 + 100,
                kind: ResourceKind::Cpu,
                name: "process".into(),
                value: 50.0 + f64::from(seed),
                unit: "%".into(),
            })));
            events.push(Event::Span(Box::new(SpanRecord {
                run_id: Some(run.clone()),
                name: "data_generation".into(),
                start_ms: T0,
                duration_ms: 12.5 * f64::from(seed + 1),
                attributes: json!({"round": seed}),
            })));
            let status = if diverges { RunStatus::Failed } else { RunStatus::Completed };
            events.push(Event::RunStatus {
                run_id: run.clone(),
                status,
                error: diverges.then(|| "loss became NaN".to_string()),
                time_ms: T0 + 9000,
            });
        }
    }
    events.push(Event::Run(Box::new(RunRecord {
        id: id(200),
        experiment_id: id(1),
        trial_id: None,
        name: "stuck".into(),
        status: RunStatus::Running,
        host: None,
        pid: None,
        heartbeat_interval_ms: Some(10_000),
        time_ms: T0,
    })));
    for v in 0..2u128 {
        events.push(Event::ModelVersion(Box::new(ModelVersionRecord {
            id: id(300 + v),
            model_name: "net".into(),
            new_model_id: id(299),
            description: format!("v{v}"),
            storage_path: format!("/m/{v}.bin"),
            size_bytes: 1000 * (v as i64 + 1),
            sha256: None,
            source_run_id: Some(id(100)),
            tags: vec![("type".into(), "classification".into())],
            aliases: Vec::new(),
            time_ms: T0,
        })));
    }
    events.push(Event::ModelAlias {
        model_name: "net".into(),
        alias: "production".into(),
        version: 1,
        time_ms: T0,
    });
    BatchWriter::new().write(&mut store, &events).unwrap().all_written().unwrap();
    store
}

/// Every query of the read API, as JSON.
fn answers(store: &Store) -> Value {
    let runs = store
        .runs(&RunQuery { with_metrics: true, now_ms: Some(T0 + 3_600_000), ..Default::default() })
        .unwrap();
    let diverged = runs.iter().find(|r| r.name == "lr=0.1 seed=1").unwrap();
    let loss = diverged.metrics.iter().find(|m| m.key == "train/loss").unwrap().series_id;
    let run0: Id = runs[0].id.parse().unwrap();
    json!({
        "stats": store.stats().unwrap(),
        "experiments": store.experiments().unwrap(),
        "trials": store.trials("sweep").unwrap(),
        "runs": runs,
        "experiment_metrics": store.experiment_metrics("sweep").unwrap().len(),
        "final_loss": store.final_values("train/loss", None).unwrap(),
        "diverged_points_tail": store.series_points(loss).unwrap()[395..].iter().step_by(25).collect::<Vec<_>>(),
        "overview_level1": store.overview(loss, 1).unwrap(),
        "epoch_artifacts": store.artifacts(&ArtifactOwner::Epoch { run: run0, epoch: 0 }).unwrap(),
        "models": store.models().unwrap(),
        "model_stats": store.model_stats().unwrap(),
        "models_by_tag": store.models_by_tag("type", "classification").unwrap(),
        "resources": store.resource_stats().unwrap(),
        "cpu_samples": store.resource_samples(ResourceKind::Cpu, None, None).unwrap(),
        "spans": store.span_stats().unwrap(),
        "analysis": analysis(store),
    })
}

/// The analysis answers the CLI and the page both give: filters, sorting, chart series,
/// smoothing, groups and comparison.
fn analysis(store: &Store) -> Value {
    use runstore_core::analysis::{Band, GroupRequest, SeriesRequest, Smoothing, smooth};
    let names = |filter: &str, sort: Option<&str>| -> Vec<String> {
        let q = RunQuery {
            filter: Some(filter.into()),
            sort: sort.map(String::from),
            now_ms: Some(T0 + 3_600_000),
            ..Default::default()
        };
        store.runs(&q).unwrap().into_iter().map(|r| r.name).collect()
    };
    let runs = store.runs(&RunQuery { with_metrics: true, ..Default::default() }).unwrap();
    let diverged = runs.iter().find(|r| r.name == "lr=0.1 seed=1").unwrap();
    let loss = diverged.metrics.iter().find(|m| m.key == "train/loss").unwrap().series_id;
    let mut req = SeriesRequest::new(loss);
    req.budget = 40;
    let downsampled = store.series_data(&req).unwrap();
    req.from_step = Some(100);
    req.to_step = Some(130);
    let exact = store.series_data(&req).unwrap();
    let healthy = runs.iter().find(|r| r.name == "lr=0.01 seed=0").unwrap();
    let mut h = SeriesRequest::new(healthy.metrics.iter().find(|m| m.key == "train/loss").unwrap().series_id);
    h.budget = 30;
    let h = store.series_data(&h).unwrap();
    let groups = store
        .group(&GroupRequest {
            group_by: vec!["lr".into()],
            metric: "val/accuracy".into(),
            budget: 25,
            band: Band::StdErr,
            ..Default::default()
        })
        .unwrap();
    let mut request = runstore_core::plot::ChartRequest::new("train/loss");
    request.smoothing = Smoothing::Ema { weight: 0.6 };
    request.budget = 60;
    request.log_y = true;
    let chart = store.metric_chart(&request).unwrap();
    json!({
        "filters": {
            "lr_0.01": names("params.lr = 0.01", None),
            "or_and": names("params.lr = 0.1 and metrics.train/loss.min < 1 or state = 'crashed'", None),
            "nan": names("metrics.train/loss.nan_count > 0", None),
            "not_in": names("not status in ('failed') and trial like 'lr=%'", None),
        },
        "sorted": names("name like '%'", Some("-metrics.val/accuracy.max")),
        "downsampled": downsampled,
        "exact_range": exact,
        "smoothed": {
            "ema": smooth(&h.x, &h.y, Smoothing::Ema { weight: 0.6 }).iter().map(|v| runstore_core::json::Float(*v)).collect::<Vec<_>>(),
            "time_weighted": smooth(&h.x, &h.y, Smoothing::TimeWeightedEma { weight: 0.6 }).iter().map(|v| runstore_core::json::Float(*v)).collect::<Vec<_>>(),
            "running": smooth(&h.x, &h.y, Smoothing::RunningAverage { window: 5 }).iter().map(|v| runstore_core::json::Float(*v)).collect::<Vec<_>>(),
        },
        "groups": groups,
        "compare": store.compare(&["lr=0.1 seed=0", "lr=0.01 seed=0"], None).unwrap().metrics.iter().map(|m| (m.key.clone(), m.best)).collect::<Vec<_>>(),
        "chart": chart,
        "svg": runstore_core::plot::render_svg(&chart, 640, 400).unwrap(),
    })
}

/// The path and values of the first place where two JSON values differ.
fn first_difference(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            keys.into_iter().find_map(|k| {
                first_difference(
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                    &format!("{path}.{k}"),
                )
            })
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (u, v))| first_difference(u, v, &format!("{path}[{i}]"))),
        _ => (a != b).then(|| format!("{path}: {a} != {b}")),
    }
}

fn assert_same(actual: &Value, expected: &Value, hint: &str) {
    if let Some(diff) = first_difference(actual, expected, "") {
        panic!("{hint}: {diff}");
    }
}

#[test]
fn the_fixture_gives_the_expected_answers() {
    let store = Store::from_bytes(FIXTURE).unwrap();
    let expected: Value = serde_json::from_str(EXPECTED).unwrap();
    assert_same(&answers(&store), &expected, "answers from basic.db differ");
}

/// The same store as written by schema v1 (before chunk spans were indexed).
const FIXTURE_V1: &[u8] = include_bytes!("../../tests/fixtures/basic-v1.db");

#[test]
fn a_file_of_an_older_schema_version_gives_the_same_answers() {
    let store = Store::from_bytes(FIXTURE_V1).unwrap();
    assert_eq!(store.compatibility().file_version, 1);
    let mut expected: Value = serde_json::from_str(EXPECTED).unwrap();
    expected["stats"]["schema_version"] = json!(1);
    assert_same(&answers(&store), &expected, "answers from basic-v1.db differ");
}

#[test]
fn the_fixture_read_lazily_gives_the_expected_answers() {
    // Small blocks, so that the answers come from many separate fetches and cache evictions.
    let options = runstore_core::source::SourceOptions {
        block_size: 8192,
        max_read_ahead: 16384,
        cache_bytes: 32768,
        head_bytes: 8192,
    };
    let (store, stats) = Store::from_source(Box::new(FIXTURE.to_vec()), &options).unwrap();
    let expected: Value = serde_json::from_str(EXPECTED).unwrap();
    assert_same(&answers(&store), &expected, "answers from basic.db read lazily differ");
    assert!(stats.get().cached_bytes <= 32768, "{:?}", stats.get());
}

#[test]
fn the_fixture_matches_its_generator() {
    let store = build();
    let fresh = answers(&store);
    #[cfg(not(target_arch = "wasm32"))]
    if std::env::var_os("RUNSTORE_BLESS").is_some() {
        let mut store = store;
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures");
        std::fs::write(format!("{dir}/basic.db"), store.to_bytes().unwrap()).unwrap();
        std::fs::write(
            format!("{dir}/basic.expected.json"),
            serde_json::to_string_pretty(&fresh).unwrap() + "\n",
        )
        .unwrap();
        return;
    }
    let expected: Value = serde_json::from_str(EXPECTED).unwrap();
    assert_same(
        &fresh,
        &expected,
        "the generator's store differs (regenerate with RUNSTORE_BLESS=1 if intended)",
    );
}
