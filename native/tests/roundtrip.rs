//! Every entity written through the public API comes back as written: NaN and infinities,
//! per-label values, summaries and overviews, provenance, artifacts, registry.

use std::path::Path;

use runstore::{
    ArtifactSpec, CodeRecord, Context, DatasetSpec, EnvironmentRecord, NewModelVersion, ParamValue, Recorder,
    RecorderOptions, ResourceKind, RunQuery, RunState, RunStatus, Store,
};
use runstore_core::event::ArtifactOwner;
use serde_json::json;

fn quiet(path: &Path) -> RecorderOptions {
    RecorderOptions::file(path).capture_code(false)
}

#[test]
fn special_values_round_trip_bit_exactly_and_summaries_ignore_nan() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let values = [1.5, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0, 0.25, f64::NAN];
    {
        let (rec, guard) = Recorder::with_options(quiet(&path)).unwrap();
        let run = rec.experiment("e").unwrap().start_run("r");
        let s = run.series("loss", &Context::phase("train"));
        for (i, v) in values.iter().enumerate() {
            s.log(i as i64, *v);
        }
        run.finish();
        guard.finish().unwrap();
    }
    let store = Store::open_read_only(&path).unwrap();
    let run = &store.runs(&RunQuery { with_metrics: true, ..Default::default() }).unwrap()[0];
    let m = &run.metrics[0];
    assert_eq!((m.count, m.nan_count), (7, 2));
    assert_eq!(m.min, Some(f64::NEG_INFINITY));
    assert_eq!(m.max, Some(f64::INFINITY));
    assert!(m.last.unwrap().is_nan(), "last value was NaN and must stay NaN");
    assert!(m.mean.unwrap().is_nan(), "+Inf + -Inf has no mean");
    let points = store.series_points(m.series_id).unwrap();
    assert_eq!(points.len(), values.len());
    for (p, v) in points.iter().zip(values) {
        assert_eq!(p.value.to_bits(), v.to_bits());
    }
    // JSON keeps the information instead of writing null.
    let text = serde_json::to_string(m).unwrap();
    assert!(text.contains(r#""last":"NaN""#), "{text}");
    assert!(text.contains(r#""max":"Infinity""#), "{text}");
}

#[test]
fn every_entity_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("all.db");
    let file = dir.path().join("model.bin");
    std::fs::write(&file, b"weights").unwrap();
    let (rec, guard) = Recorder::with_options(quiet(&path)).unwrap();
    let exp = rec.experiment_with_description("exp", "desc").unwrap();
    assert_eq!(rec.experiment("exp").unwrap().id(), exp.id(), "same name, same experiment");
    exp.tags(&[("team", "vision")]);
    exp.params([("budget", 3i64)]);
    exp.artifact(ArtifactSpec::uri("report", "doc", "https://example.org/r")).unwrap();
    let trial = exp.trial("lr=0.1").unwrap();
    trial.config(&json!({"lr": 0.1, "opt": {"name": "sgd", "nesterov": true}}));
    trial.artifact(ArtifactSpec::file("trial file", "file", &file)).unwrap();
    let run = trial.start_run("r1");
    run.params([
        ("lr", ParamValue::Float(0.1)),
        ("seed", 7i64.into()),
        ("amp", true.into()),
        ("name", "x".into()),
    ]);
    run.param("nan_param", f64::NAN);
    run.config(&json!({"model": {"layers": [1, 2], "width": 64}}));
    run.tags(&[("model", "resnet")]);
    run.start_epoch(0);
    run.start_batch(0);
    let loss = run.series("train/loss", &Context::phase("train"));
    loss.log(0, 2.0);
    run.batch_artifact(0, 0, ArtifactSpec::uri("batch img", "image", "mem://b0")).unwrap();
    run.end_batch(0);
    run.log_labelled(
        "val/acc",
        &Context::phase("val").with("fold", "1"),
        0,
        0.9,
        &[("cat", 0.8), ("dog", 1.0)],
    );
    run.epoch_artifact(0, ArtifactSpec::uri("cm", "plot", "mem://cm")).unwrap();
    run.end_epoch(0);
    run.artifact(ArtifactSpec::file("model", "model", &file).metadata(json!({"format": "bin"}))).unwrap();
    run.dataset(DatasetSpec::input("train").file(&file).shape(10, 3).schema(json!({"x": "f32"}))).unwrap();
    run.dataset(DatasetSpec::output("preds").location("/tmp/preds")).unwrap();
    run.code(CodeRecord {
        git_commit: Some("abc".into()),
        git_dirty: Some(true),
        entrypoint: Some("train.py".into()),
        ..Default::default()
    });
    run.environment(EnvironmentRecord {
        os: Some("Linux".into()),
        cpu_count: Some(8),
        packages: Some(json!({"torch": "2.5"})),
        ..Default::default()
    });
    run.resource(ResourceKind::Gpu, "gpu0_util", 97.0, "%");
    rec.resource(ResourceKind::Cpu, "system_total", 12.5, "%");
    run.span("data_generation", 1000, 12.5, json!({"round": 1, "samples_generated": 64}));
    run.results(json!({"acc": 0.9}));
    let run_id = run.id().clone();
    run.finish();
    let model_id = rec.model("net", "a net").unwrap();
    rec.tag_model(&model_id, &[("task", "cls")]);
    let mut v = NewModelVersion::from_file("net", &file).unwrap();
    v.source_run = Some(run_id.clone());
    v.tags = vec![("type".into(), "regression".into())];
    assert_eq!(rec.register_model_version(v.clone()).unwrap(), 1);
    assert_eq!(rec.register_model_version(v).unwrap(), 2);
    rec.set_model_alias("net", "production", 1).unwrap();
    assert!(rec.set_model_alias("net", "production", 9).is_err(), "unknown version is refused");
    exp.set_status("completed", Some(json!({"best": 0.9})));
    guard.finish().unwrap();

    let store = Store::open_read_only(&path).unwrap();
    store.integrity_check().unwrap();
    let e = store.experiment("exp").unwrap();
    assert_eq!((e.description.as_str(), e.status.as_str(), e.runs, e.trials), ("desc", "completed", 1, 1));
    assert_eq!(e.results, Some(json!({"best": 0.9})));
    assert_eq!(e.tags["team"], "vision");
    let trials = store.trials("exp").unwrap();
    assert_eq!(trials[0].config["opt.name"], ParamValue::Str("sgd".into()));
    assert_eq!(trials[0].config["opt.nesterov"], ParamValue::Bool(true));

    let r = store.run(run_id.as_str(), None).unwrap();
    assert_eq!(r.status, RunStatus::Completed);
    assert_eq!(r.state, RunState::Completed);
    assert_eq!(r.trial.as_deref(), Some("lr=0.1"));
    assert_eq!(r.params["lr"], ParamValue::Float(0.1));
    assert_eq!(r.params["seed"], ParamValue::Int(7));
    assert_eq!(r.params["amp"], ParamValue::Bool(true));
    assert!(matches!(r.params["nan_param"], ParamValue::Float(x) if x.is_nan()));
    assert_eq!(r.params["model.width"], ParamValue::Int(64));
    assert_eq!(r.params["model.layers"], ParamValue::Json(json!([1, 2])));
    assert_eq!(r.tags["model"], "resnet");
    assert_eq!(r.results, Some(json!({"acc": 0.9})));
    assert_eq!(r.pid, Some(i64::from(std::process::id())));

    // Per-label values are series of their own, with their label.
    let labels: Vec<(&str, Option<f64>)> =
        r.metrics.iter().filter(|m| m.key == "val/acc").map(|m| (m.label.as_str(), m.last)).collect();
    assert_eq!(labels, vec![("", Some(0.9)), ("cat", Some(0.8)), ("dog", Some(1.0))]);
    let acc = r.metrics.iter().find(|m| m.key == "val/acc").unwrap();
    assert_eq!(acc.context["fold"], "1");
    // Points carry the epoch and batch they were logged in.
    let loss_id =
        store.find_series(run_id.as_str(), "train/loss", &Context::phase("train"), "").unwrap().unwrap();
    let p = store.series_points(loss_id).unwrap()[0];
    assert_eq!((p.epoch, p.batch), (Some(0), Some(0)));

    let epochs = store.epochs(run_id.as_str()).unwrap();
    assert_eq!((epochs.len(), epochs[0].batches), (1, 1));
    assert!(epochs[0].ended_ms.is_some());
    assert_eq!(store.batches(run_id.as_str(), 0).unwrap().len(), 1);

    let at = |owner: ArtifactOwner| store.artifacts(&owner).unwrap();
    assert_eq!(at(ArtifactOwner::Experiment(e.id.parse().unwrap()))[0].name, "report");
    let trial_art = &at(ArtifactOwner::Trial(trials[0].id.parse().unwrap()))[0];
    assert_eq!(trial_art.size_bytes, Some(7));
    // SHA-256 of "weights", computed independently.
    assert_eq!(
        trial_art.sha256.as_deref(),
        Some("9a129038d9a00aed0cf6a7ea059ca50a813449061ab87848cf1a13eafdf33b2c")
    );
    let run_level = at(ArtifactOwner::Run(run_id.clone()));
    assert_eq!(run_level.len(), 1);
    assert_eq!(run_level[0].metadata, Some(json!({"format": "bin"})));
    assert_eq!(at(ArtifactOwner::Epoch { run: run_id.clone(), epoch: 0 })[0].name, "cm");
    assert_eq!(at(ArtifactOwner::Batch { run: run_id.clone(), epoch: 0, batch: 0 })[0].name, "batch img");
    assert_eq!(store.run_artifacts(run_id.as_str()).unwrap().len(), 3);

    let datasets = store.datasets(run_id.as_str()).unwrap();
    assert_eq!(datasets.len(), 2);
    assert_eq!(
        (datasets[0].role.as_str(), datasets[0].rows, datasets[0].size_bytes),
        ("input", Some(10), Some(7))
    );
    assert_eq!(datasets[0].schema, Some(json!({"x": "f32"})));
    assert_eq!(datasets[1].sha256, None);
    let code = store.code(run_id.as_str()).unwrap().unwrap();
    assert_eq!((code.git_commit.as_deref(), code.git_dirty), (Some("abc"), Some(true)));
    let env = store.environment(run_id.as_str()).unwrap().unwrap();
    assert_eq!((env.os.as_deref(), env.cpu_count), (Some("Linux"), Some(8)));
    assert_eq!(env.packages, Some(json!({"torch": "2.5"})));

    let gpu = store.resource_samples(ResourceKind::Gpu, None, Some(run_id.as_str())).unwrap();
    assert_eq!((gpu.len(), gpu[0].value), (1, 97.0));
    assert_eq!(store.resource_samples(ResourceKind::Cpu, Some("system_total"), None).unwrap().len(), 1);
    let spans = store.spans(Some(run_id.as_str()), Some("data_generation")).unwrap();
    assert_eq!(spans[0].attributes["samples_generated"], 64);

    let models = store.models().unwrap();
    assert_eq!((models[0].versions, models[0].latest.as_ref().unwrap().version), (2, 2));
    assert_eq!(models[0].aliases["production"], 1);
    assert_eq!(models[0].tags["task"], "cls");
    let prod = store.model_version_by_alias("net", "production").unwrap();
    assert_eq!((prod.version, prod.source_run_id.as_deref()), (1, Some(run_id.as_str())));
    assert_eq!(prod.aliases, vec!["production".to_string()]);
    assert_eq!(store.models_by_tag("type", "regression").unwrap().len(), 2);
    let stats = store.model_stats().unwrap();
    assert_eq!((stats.total_models, stats.total_versions, stats.total_size_bytes), (1, 2, 14));

    let finals = store.final_values("train/loss", None).unwrap();
    assert_eq!(finals[0].value, Some(2.0));
    let s = store.stats().unwrap();
    assert_eq!((s.runs, s.points, s.artifacts, s.datasets, s.spans, s.resource_samples), (1, 4, 5, 2, 1, 2));
}

#[test]
fn overviews_hold_the_true_extremes_of_every_bucket() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("o.db");
    let n = 20_000i64;
    let value = |i: i64| ((i * 7919) % 1000) as f64 - if i == 12_345 { 1e9 } else { 0.0 };
    {
        // Small batches, so buckets are written in many parts.
        let opts = quiet(&path).max_batch(333);
        let (rec, guard) = Recorder::with_options(opts).unwrap();
        let run = rec.experiment("e").unwrap().start_run("r");
        let s = run.series("x", &Context::none());
        for i in 0..n {
            s.log(i, value(i));
        }
        run.finish();
        guard.finish().unwrap();
    }
    let store = Store::open_read_only(&path).unwrap();
    let id = store
        .find_series(&store.runs(&RunQuery::default()).unwrap()[0].id, "x", &Context::none(), "")
        .unwrap()
        .unwrap();
    let points = store.series_points(id).unwrap();
    assert_eq!(points.len() as i64, n);
    assert!(points.windows(2).all(|w| w[0].step < w[1].step));
    for level in 0..3 {
        let width = runstore_core::aggregate::bucket_width(level);
        let buckets = store.overview(id, level).unwrap();
        assert_eq!(buckets.len() as i64, (n + width - 1) / width);
        for b in &buckets {
            let members: Vec<f64> = (b.bucket * width..((b.bucket + 1) * width).min(n)).map(value).collect();
            assert_eq!(b.count, members.len() as i64);
            let min = members.iter().cloned().fold(f64::INFINITY, f64::min);
            let max = members.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            assert_eq!(b.min.unwrap().1, min);
            assert_eq!(b.max.unwrap().1, max);
        }
        assert!(buckets.iter().any(|b| b.min.unwrap() == (12_345, -1e9 + value(12_345) + 1e9)));
    }
}

#[test]
fn lossy_mode_counts_what_it_drops() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l.db");
    let opts = quiet(&path).channel_capacity(4).when_full(runstore::WhenFull::Drop);
    let (rec, guard) = Recorder::with_options(opts).unwrap();
    let run = rec.experiment("e").unwrap().start_run("r");
    let s = run.series("x", &Context::none());
    for i in 0..100_000 {
        s.log(i, 1.0);
    }
    run.finish();
    rec.flush().unwrap();
    let dropped = rec.dropped();
    guard.finish().unwrap();
    let store = Store::open_read_only(&path).unwrap();
    let written = store.stats().unwrap().points as u64;
    assert!(dropped > 0, "a 4-event channel must overflow");
    assert_eq!(written + dropped, 100_000, "every point is either written or counted as dropped");
}

#[test]
fn in_memory_store_persists_to_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("persisted.db");
    let (rec, guard) = Recorder::with_options(RecorderOptions::in_memory().capture_code(false)).unwrap();
    let run = rec.experiment("sims").unwrap().start_run("sim_000");
    run.params([("seed", 0i64)]);
    run.series("population", &Context::none()).log(0, 100.0);
    run.finish();
    rec.persist_to(&path).unwrap();
    rec.persist_to(&path).unwrap(); // merging into it again adds nothing
    guard.finish().unwrap();
    // A second simulation, recorded in memory elsewhere, persists into the same central file.
    let (rec2, guard2) = Recorder::with_options(RecorderOptions::in_memory().capture_code(false)).unwrap();
    let run2 = rec2.experiment("sims").unwrap().start_run("sim_001");
    run2.series("population", &Context::none()).log(0, 120.0);
    run2.finish();
    rec2.persist_to(&path).unwrap();
    guard2.finish().unwrap();
    let store = Store::open_read_only(&path).unwrap();
    store.integrity_check().unwrap();
    let runs = store.runs(&RunQuery { with_metrics: true, ..Default::default() }).unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(store.experiments().unwrap().len(), 1, "both simulations in one experiment");
    assert_eq!(runs[0].metrics[0].last, Some(100.0));
    assert_eq!(runs[1].metrics[0].last, Some(120.0));
    assert_eq!(runs[0].status, RunStatus::Completed);
}

#[test]
fn a_panic_in_training_code_marks_the_run_failed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.db");
    let (rec, guard) = Recorder::with_options(quiet(&path)).unwrap();
    let exp = rec.experiment("e").unwrap();
    let result = std::thread::spawn(move || {
        let run = exp.start_run("doomed");
        run.series("loss", &Context::none()).log(0, 1.0);
        panic!("training blew up");
    })
    .join();
    assert!(result.is_err());
    guard.finish().unwrap();
    let store = Store::open_read_only(&path).unwrap();
    store.integrity_check().unwrap();
    let run = &store.runs(&RunQuery::default()).unwrap()[0];
    assert_eq!(run.status, RunStatus::Failed);
    assert_eq!(run.error.as_deref(), Some("the program panicked"));
    assert_eq!(store.stats().unwrap().points, 1);
}

#[test]
fn invalid_events_are_reported_without_losing_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("i.db");
    let (rec, guard) = Recorder::with_options(quiet(&path)).unwrap();
    let run = rec.experiment("e").unwrap().start_run("r");
    let s = run.series("x", &Context::none());
    s.log(0, 1.0);
    run.param("", 1i64); // an empty key is invalid
    s.log(1, 2.0);
    run.finish();
    let err = rec.flush().unwrap_err().to_string();
    assert!(err.contains("param key"), "{err}");
    assert!(guard.finish().is_err());
    let store = Store::open_read_only(&path).unwrap();
    assert_eq!(store.stats().unwrap().points, 2);
}

#[test]
fn handles_are_send_and_sync() {
    fn shareable<T: Send + Sync>() {}
    shareable::<Recorder>();
    shareable::<runstore::Experiment>();
    shareable::<runstore::Trial>();
    shareable::<runstore::Run>();
    shareable::<runstore::Series>();
}
