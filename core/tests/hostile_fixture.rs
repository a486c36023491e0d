//! `tests/fixtures/hostile.db`: a store whose every string is an attack on whatever displays
//! it (HTML and script injection, SQL, CSV formulas, bidi overrides, huge strings, keys named
//! like JavaScript object internals, characters XML forbids). The page's browser test loads it
//! and checks that nothing runs. Regenerate with
//! `RUNSTORE_BLESS=1 cargo test -p runstore-core --test hostile_fixture`.

use runstore_core::event::{
    ArtifactOwner, ArtifactRecord, CodeRecord, DatasetRecord, DatasetRole, EnvironmentRecord,
    ModelVersionRecord, Owner, RunRecord, SpanRecord,
};
use runstore_core::plot::{ChartRequest, render_svg};
use runstore_core::{
    BatchWriter, Context, Event, Id, ParamValue, Point, RunQuery, RunStatus, SeriesKey, Store,
};
use serde_json::json;

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

const T0: i64 = 1_750_000_000_000;
const FIXTURE: &[u8] = include_bytes!("../../tests/fixtures/hostile.db");

/// Each sets `window.__pwned` if it ever runs as markup or script.
const HOSTILE: [&str; 8] = [
    "<script>window.__pwned = 1</script>",
    "<img src=x onerror=\"window.__pwned = 2\">",
    "\"><svg onload=window.__pwned=3>",
    "javascript:window.__pwned=4",
    "'; DROP TABLE runs; --",
    "=HYPERLINK(\"http://evil.example\",\"click\")",
    "\u{202e}gpj.exe\u{202c} ${window.__pwned=5} {{constructor.constructor('window.__pwned=6')()}}",
    "<iframe srcdoc=\"<script>parent.__pwned=7</script>\"></iframe>",
];

/// Keys that are special in JavaScript objects: a page that turns params into plain objects by
/// assignment loses `__proto__` (or lets it replace the prototype) and finds `constructor` and
/// `toString` on runs that do not have them.
const OBJECT_INTERNALS: [&str; 3] = ["__proto__", "constructor", "toString"];

/// A metric key with the noncharacters U+FFFE and U+FFFF, which XML 1.0 forbids: an SVG chart
/// titled with it as is cannot be opened.
const NONCHARACTER_KEY: &str = "loss\u{FFFE}\u{FFFF}";

fn id(n: u128) -> Id {
    Id::from_parts(T0, n)
}

fn hostile(i: usize) -> String {
    HOSTILE[i % HOSTILE.len()].to_string()
}

fn build() -> Store {
    let mut store = Store::open_in_memory(T0).unwrap();
    let mut events = vec![
        Event::Experiment { id: id(1), name: hostile(0), description: hostile(1), time_ms: T0 },
        Event::Tags { owner: Owner::Experiment(id(1)), tags: vec![(hostile(2), hostile(3))] },
        Event::Trial {
            id: id(2),
            experiment_id: id(1),
            name: hostile(7),
            description: hostile(4),
            time_ms: T0,
        },
    ];
    for r in 0..HOSTILE.len() {
        let run = id(100 + r as u128);
        events.push(Event::Run(Box::new(RunRecord {
            id: run.clone(),
            experiment_id: id(1),
            trial_id: Some(id(2)),
            name: format!("{} #{r}", hostile(r)),
            status: RunStatus::Running,
            host: Some(hostile(r + 1)),
            pid: None,
            heartbeat_interval_ms: None,
            time_ms: T0,
        })));
        events.push(Event::Params {
            owner: Owner::Run(run.clone()),
            params: vec![(hostile(r + 2), hostile(r + 3).into()), ("group".into(), hostile(r % 2).into())],
        });
        events.push(Event::Tags {
            owner: Owner::Run(run.clone()),
            tags: vec![(hostile(r + 4), hostile(r + 5))],
        });
        // On every other run only, so the others lack them.
        if r % 2 == 0 {
            let [proto, constructor, to_string] = OBJECT_INTERNALS.map(String::from);
            events.push(Event::Params {
                owner: Owner::Run(run.clone()),
                params: vec![
                    (proto.clone(), ParamValue::Json(json!({ "polluted": hostile(r) }))),
                    (constructor.clone(), hostile(r + 1).into()),
                    (to_string, hostile(r + 2).into()),
                    ("\u{FFFE}param\u{FFFF}".into(), "\u{FFFF}".to_string().into()),
                ],
            });
            events.push(Event::Tags {
                owner: Owner::Run(run.clone()),
                tags: vec![(constructor, hostile(r + 3)), (proto, hostile(r + 4))],
            });
        }
        let handle = r as u64 + 1;
        events.push(Event::Series {
            handle,
            series: SeriesKey {
                run_id: run.clone(),
                key: hostile(r + 6),
                context: Context::phase(hostile(r)).to_json(),
                label: hostile(r + 7),
            },
        });
        for step in 0..50 {
            let point = Point {
                step,
                time_ms: T0 + step,
                value: (step * (r as i64 + 1)) as f64,
                epoch: Some(0),
                batch: None,
            };
            events.push(Event::Point { handle, point });
        }
        if r == 0 {
            let handle = 100;
            events.push(Event::Series {
                handle,
                series: SeriesKey {
                    run_id: run.clone(),
                    key: NONCHARACTER_KEY.into(),
                    context: Context::phase("train").to_json(),
                    label: String::new(),
                },
            });
            for step in 0..10 {
                let point =
                    Point { step, time_ms: T0 + step, value: step as f64, epoch: Some(0), batch: None };
                events.push(Event::Point { handle, point });
            }
        }
        events.push(Event::Epoch { run_id: run.clone(), epoch: 0, end: true, time_ms: T0 + 50 });
        events.push(Event::Artifact(Box::new(ArtifactRecord {
            id: id(1000 + r as u128),
            owner: ArtifactOwner::Run(run.clone()),
            name: hostile(r + 1),
            kind: hostile(r + 2),
            uri: hostile(r + 3),
            size_bytes: Some(1),
            sha256: Some(hostile(r + 4)),
            metadata: Some(json!({ hostile(r): hostile(r + 5) })),
            time_ms: T0,
        })));
        events.push(Event::Dataset(Box::new(DatasetRecord {
            id: id(2000 + r as u128),
            run_id: run.clone(),
            role: DatasetRole::Input,
            name: hostile(r + 6),
            path: Some(hostile(r + 7)),
            rows: Some(1),
            columns: None,
            schema: Some(json!([hostile(r)])),
            size_bytes: None,
            sha256: None,
            time_ms: T0,
        })));
        events.push(Event::Code {
            run_id: run.clone(),
            code: Box::new(CodeRecord {
                git_commit: Some(hostile(r)),
                git_branch: Some(hostile(r + 1)),
                entrypoint: Some(hostile(r + 2)),
                ..Default::default()
            }),
            time_ms: T0,
        });
        events.push(Event::Environment {
            run_id: run.clone(),
            environment: Box::new(EnvironmentRecord {
                os: Some(hostile(r + 3)),
                hostname: Some(hostile(r + 4)),
                packages: Some(json!({ hostile(r + 5): hostile(r + 6) })),
                ..Default::default()
            }),
            time_ms: T0,
        });
        events.push(Event::Span(Box::new(SpanRecord {
            run_id: Some(run.clone()),
            name: hostile(r + 7),
            start_ms: T0,
            duration_ms: 1.0,
            attributes: json!({ "round": hostile(r) }),
        })));
        events.push(Event::RunStatus {
            run_id: run,
            status: if r % 2 == 0 { RunStatus::Completed } else { RunStatus::Failed },
            error: (r % 2 == 1).then(|| hostile(r)),
            time_ms: T0 + 100,
        });
    }
    events.push(Event::ModelVersion(Box::new(ModelVersionRecord {
        id: id(300),
        model_name: hostile(1),
        new_model_id: id(299),
        description: hostile(2),
        storage_path: hostile(3),
        size_bytes: 1,
        sha256: None,
        source_run_id: Some(id(100)),
        tags: vec![(hostile(4), hostile(5))],
        aliases: Vec::new(),
        time_ms: T0,
    })));
    events.push(Event::ModelAlias { model_name: hostile(1), alias: hostile(6), version: 1, time_ms: T0 });
    // A 1 MiB string: displays must cope without choking.
    events.push(Event::Tags {
        owner: Owner::Run(id(100)),
        tags: vec![("long".into(), "<b>x</b>".repeat(1 << 17))],
    });
    BatchWriter::new().write(&mut store, &events).unwrap().all_written().unwrap();
    // Deeply nested JSON, as no runstore writes it but a hand-made file can hold it: a param
    // 100 levels deep, and a results summary 100,000 levels deep (past any parser's limit).
    let nest = |depth: usize| format!("{}1{}", "{\"a\":[".repeat(depth), "]}".repeat(depth));
    store
        .conn()
        .execute(
            "INSERT INTO params (owner_kind, owner_id, key, kind, value) VALUES ('run', ?1, 'nested', 'json', ?2)",
            (id(100), nest(100)),
        )
        .unwrap();
    store
        .conn()
        .execute("UPDATE runs SET results_json = ?2 WHERE id = ?1", (id(101), nest(100_000)))
        .unwrap();
    store
}

fn answers(store: &Store) -> serde_json::Value {
    json!({
        "runs": store.runs(&RunQuery { with_metrics: true, ..Default::default() }).unwrap(),
        "models": store.models().unwrap(),
        "artifacts": store.run_artifacts(&id(100).to_string()).unwrap(),
    })
}

#[test]
fn the_hostile_fixture_matches_its_generator() {
    let store = build();
    #[cfg(not(target_arch = "wasm32"))]
    if std::env::var_os("RUNSTORE_BLESS").is_some() {
        let mut store = store;
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/hostile.db");
        std::fs::write(path, store.to_bytes().unwrap()).unwrap();
        return;
    }
    let committed = Store::from_bytes(FIXTURE).unwrap();
    assert_eq!(answers(&committed), answers(&store), "regenerate with RUNSTORE_BLESS=1 if intended");
    // Strings come back byte for byte: nothing is escaped or dropped on the way in or out.
    let names: Vec<String> =
        committed.runs(&RunQuery::default()).unwrap().into_iter().map(|r| r.name).collect();
    assert!(names.iter().any(|n| n.starts_with(HOSTILE[0])), "{names:?}");
}

#[test]
fn keys_named_like_object_internals_are_ordinary_keys() {
    let committed = Store::from_bytes(FIXTURE).unwrap();
    let runs = committed.runs(&RunQuery::default()).unwrap();
    let with: Vec<_> = runs.iter().filter(|r| r.params.contains_key("__proto__")).collect();
    assert_eq!(with.len(), HOSTILE.len() / 2);
    for run in with {
        for key in OBJECT_INTERNALS {
            assert!(run.params.contains_key(key), "{key}");
        }
        assert!(matches!(&run.params["__proto__"], ParamValue::Json(v) if v["polluted"].is_string()));
        assert!(run.tags.contains_key("constructor") && run.tags.contains_key("__proto__"));
    }
}

/// Whether `c` may appear in an XML 1.0 document.
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

#[test]
fn charts_of_hostile_names_are_well_formed_svg() {
    let committed = Store::from_bytes(FIXTURE).unwrap();
    // The key is the title; the hostile run names and `group` params are the legend.
    let mut grouped = ChartRequest::new(NONCHARACTER_KEY);
    grouped.group_by = vec!["group".into()];
    for request in [ChartRequest::new(NONCHARACTER_KEY), grouped] {
        let chart = committed.metric_chart(&request).unwrap();
        let svg = render_svg(&chart, 640, 360).unwrap();
        let bad: Vec<char> = svg.chars().filter(|c| !xml_char(*c)).collect();
        assert!(bad.is_empty(), "{:?}: characters XML forbids in the SVG: {bad:?}", request.metric);
        assert!(svg.contains("loss\u{FFFD}\u{FFFD}"), "the title keeps its place");
        assert!(!svg.contains("<script") && !svg.contains("<img") && !svg.contains("<iframe"));
    }
}

#[test]
fn json_nested_past_the_parsers_limit_is_kept_as_text_and_hides_nothing() {
    let store = Store::from_bytes(FIXTURE).unwrap();
    let runs = store.runs(&RunQuery::default()).unwrap();
    assert_eq!(runs.len(), 8, "one over-deep cell does not hide the listing");
    let deep = runs.iter().find(|r| r.id == id(101).to_string()).unwrap();
    let text = deep.results.as_ref().and_then(|r| r.as_str()).expect("kept as its text");
    assert_eq!(text.len(), 800_001);
    let run = runs.iter().find(|r| r.id == id(100).to_string()).unwrap();
    assert!(
        matches!(&run.params["nested"], ParamValue::Json(serde_json::Value::String(t)) if t.len() == 801)
    );
    assert_eq!(run.tags["long"].len(), 1 << 20);
}
