//! Listing runs: the one-pass path for many runs gives exactly what looking each run up gives,
//! and the run table holds the same summaries as the listing, as columns.

use runstore_core::event::{Owner, RunRecord};
use runstore_core::{BatchWriter, Context, Event, Id, Point, RunQuery, RunStatus, SeriesKey, Store};

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

const T0: i64 = 1_750_000_000_000;

/// `runs` runs; run `i` logs `loss` (NaN last for every 7th), `acc` in phase val except every
/// 5th run, and a labelled `acc` value; params lr and seed, a tag on even runs.
fn store(runs: u32) -> Store {
    let mut store = Store::open_in_memory(T0).unwrap();
    let exp = Id::from_parts(T0, 1);
    let mut events = vec![Event::Experiment {
        id: exp.clone(),
        name: "e".into(),
        description: String::new(),
        time_ms: T0,
    }];
    let mut handle = 0;
    for i in 0..runs {
        let run = Id::from_parts(T0 + i64::from(i), 1000 + u128::from(i));
        events.push(Event::Run(Box::new(RunRecord {
            id: run.clone(),
            experiment_id: exp.clone(),
            trial_id: None,
            name: format!("run-{i:03}"),
            status: RunStatus::Completed,
            host: None,
            pid: None,
            heartbeat_interval_ms: None,
            time_ms: T0 + i64::from(i),
        })));
        events.push(Event::Params {
            owner: Owner::Run(run.clone()),
            params: vec![("lr".into(), (0.1 / f64::from(i + 1)).into()), ("seed".into(), i.into())],
        });
        if i % 2 == 0 {
            events.push(Event::Tags {
                owner: Owner::Run(run.clone()),
                tags: vec![("even".into(), "yes".into())],
            });
        }
        let mut series = vec![("loss", Context::default(), "")];
        if i % 5 != 0 {
            series.push(("acc", Context::phase("val"), ""));
            series.push(("acc", Context::phase("val"), "class_0"));
        }
        for (key, context, label) in series {
            handle += 1;
            events.push(Event::Series {
                handle,
                series: SeriesKey {
                    run_id: run.clone(),
                    key: key.into(),
                    context: context.to_json(),
                    label: label.into(),
                },
            });
            for step in 0..3i64 {
                let nan_last = key == "loss" && i % 7 == 0 && step == 2;
                let value = if nan_last { f64::NAN } else { f64::from(i) + step as f64 / 4.0 };
                events.push(Event::Point {
                    handle,
                    point: Point { step, time_ms: T0 + step, value, epoch: None, batch: None },
                });
            }
        }
    }
    BatchWriter::new().write(&mut store, &events).unwrap().all_written().unwrap();
    store
}

fn same(a: Option<f64>, b: Option<f64>) -> bool {
    a.map(f64::to_bits) == b.map(f64::to_bits)
}

#[test]
fn many_runs_are_listed_as_each_run_is_looked_up() {
    // 3 runs: looked up; 80: one pass; 40 of 200: looked up (a small part of the file).
    for (runs, filter, expected) in [(3, None, 3), (80, None, 80), (200, Some("params.seed < 40"), 40)] {
        let store = store(runs);
        let query = RunQuery { with_metrics: true, filter: filter.map(str::to_owned), ..Default::default() };
        let listed = store.runs(&query).unwrap();
        assert_eq!(listed.len(), expected);
        for run in &listed {
            let alone = store.run(&run.id, None).unwrap();
            assert_eq!(format!("{run:?}"), format!("{alone:?}"), "{runs} runs: {}", run.name);
        }
        assert!(listed[2].tags.contains_key("even") && !listed[1].tags.contains_key("even"));
        assert_eq!(listed[1].metrics.len(), 3);
    }
}

#[test]
fn the_run_table_holds_the_listings_summaries_as_columns() {
    for runs in [4, 80] {
        let store = store(runs);
        let query = RunQuery {
            filter: Some("params.seed >= 1".into()),
            sort: Some("-params.seed".into()),
            ..Default::default()
        };
        let listed = store.runs(&RunQuery { with_metrics: true, ..query.clone() }).unwrap();
        let table = store.run_table(&query, None).unwrap();
        assert_eq!(table.summarised, listed.len());
        assert_eq!(
            table.runs.iter().map(|r| &r.id).collect::<Vec<_>>(),
            listed.iter().map(|r| &r.id).collect::<Vec<_>>()
        );
        assert!(table.runs.iter().all(|r| r.metrics.is_empty()));
        assert_eq!(table.runs[0].params, listed[0].params);
        let names: Vec<_> = table.metrics.iter().map(|c| (c.key.as_str(), c.label.as_str())).collect();
        assert_eq!(names, [("acc", ""), ("acc", "class_0"), ("loss", "")], "{runs} runs");
        assert_eq!(table.metrics[0].context.get("phase").map(String::as_str), Some("val"));
        let mut cells = 0;
        for (at, run) in listed.iter().enumerate() {
            for column in &table.metrics {
                let found = run.metrics.iter().find(|s| s.key == column.key && s.label == column.label);
                assert_eq!(column.series_id[at], found.map(|s| s.series_id), "{} {}", run.name, column.key);
                let Some(s) = found else {
                    assert_eq!((column.count[at], column.last[at]), (0, None));
                    continue;
                };
                cells += 1;
                assert_eq!((column.count[at], column.nan_count[at]), (s.count, s.nan_count));
                assert_eq!((column.first_step[at], column.last_step[at]), (s.first_step, s.last_step));
                for (a, b) in [
                    (column.last[at], s.last),
                    (column.min[at], s.min),
                    (column.max[at], s.max),
                    (column.mean[at], s.mean),
                ] {
                    assert!(same(a, b), "{} {}: {a:?} vs {b:?}", run.name, column.key);
                }
            }
        }
        let loss = &table.metrics[2];
        let seven = listed.iter().position(|r| r.name == "run-007");
        if let Some(at) = seven {
            assert!(loss.last[at].is_some_and(f64::is_nan), "a diverged last value stays NaN");
        }
        assert!(cells > 0);
    }
}

#[test]
fn a_table_summarises_its_first_runs_and_the_rest_comes_by_id() {
    for runs in [6, 80] {
        let store = store(runs);
        let whole = store.run_table(&RunQuery::default(), None).unwrap();
        let head = store.run_table(&RunQuery::default(), Some(2)).unwrap();
        assert_eq!((head.runs.len(), head.summarised), (runs as usize, 2));
        let rest: Vec<&str> = head.runs[2..].iter().map(|r| r.id.as_str()).collect();
        let tail = store.metric_columns(&rest).unwrap();
        for (c, column) in whole.metrics.iter().enumerate() {
            let first = head.metrics.iter().find(|h| h.key == column.key && h.label == column.label);
            let later = tail.iter().find(|t| t.key == column.key && t.label == column.label);
            let joined: Vec<Option<i64>> = (0..2)
                .map(|i| first.and_then(|h| h.series_id[i]))
                .chain((0..rest.len()).map(|i| later.and_then(|t| t.series_id[i])))
                .collect();
            assert_eq!(joined, column.series_id, "column {c} of {runs} runs");
            assert!(first.is_none_or(|h| h.series_id.len() == 2));
        }
    }
}
