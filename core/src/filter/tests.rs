use super::*;
use crate::event::{Owner, RunRecord};
use crate::{BatchWriter, Context, Event, Id, Point, RunQuery, RunStatus, SeriesKey, Store};
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

const T0: i64 = 1_700_000_000_000;

/// Name, lr, model tag, val/loss values, final status, duration in ms.
type RunSpec = (&'static str, Option<f64>, Option<&'static str>, &'static [f64], RunStatus, i64);

/// Runs: a (lr 0.1, resnet, val/loss 0.5 → 0.2), b (lr 0.01, vit, 0.9 → 0.4),
/// c (lr 0.01, resnet, diverged: last NaN, failed), d (no params, no metrics, running, stale).
fn store() -> Store {
    let mut store = Store::open_in_memory(T0).unwrap();
    let exp = Id::from_parts(T0, 1);
    let mut events = vec![Event::Experiment {
        id: exp.clone(),
        name: "e".into(),
        description: String::new(),
        time_ms: T0,
    }];
    let runs: [RunSpec; 4] = [
        ("a", Some(0.1), Some("resnet"), &[0.5, 0.2, 0.3], RunStatus::Completed, 2_000),
        ("b", Some(0.01), Some("vit"), &[0.9, 0.4], RunStatus::Completed, 10_000),
        ("c", Some(0.01), Some("resnet"), &[0.7, f64::NAN], RunStatus::Failed, 1_000),
        ("d", None, None, &[], RunStatus::Running, 0),
    ];
    for (i, (name, lr, model, losses, status, duration)) in runs.iter().enumerate() {
        let id = Id::from_parts(T0, 100 + i as u128);
        events.push(Event::Run(Box::new(RunRecord {
            id: id.clone(),
            experiment_id: exp.clone(),
            trial_id: None,
            name: (*name).into(),
            status: RunStatus::Running,
            host: None,
            pid: None,
            heartbeat_interval_ms: Some(1000),
            time_ms: T0 + i as i64,
        })));
        if let Some(lr) = lr {
            events.push(Event::Params {
                owner: Owner::Run(id.clone()),
                params: vec![("lr".into(), (*lr).into())],
            });
        }
        if let Some(model) = model {
            events.push(Event::Tags {
                owner: Owner::Run(id.clone()),
                tags: vec![("model".into(), (*model).into())],
            });
        }
        if !losses.is_empty() {
            let handle = i as u64;
            events.push(Event::Series {
                handle,
                series: SeriesKey {
                    run_id: id.clone(),
                    key: "val/loss".into(),
                    context: Context::phase("val").to_json(),
                    label: String::new(),
                },
            });
            for (step, v) in losses.iter().enumerate() {
                let point = Point { step: step as i64, time_ms: T0, value: *v, epoch: None, batch: None };
                events.push(Event::Point { handle, point });
            }
        }
        if *status != RunStatus::Running {
            events.push(Event::RunStatus {
                run_id: id,
                status: *status,
                error: None,
                time_ms: T0 + duration,
            });
        }
    }
    BatchWriter::new().write(&mut store, &events).unwrap().all_written().unwrap();
    store
}

fn names(store: &Store, filter: &str) -> Vec<String> {
    let query = RunQuery { filter: Some(filter.into()), now_ms: Some(T0 + 3_600_000), ..Default::default() };
    store.runs(&query).unwrap_or_else(|e| panic!("{filter}: {e}")).into_iter().map(|r| r.name).collect()
}

#[test]
fn filters_select_the_right_runs() {
    let s = store();
    assert_eq!(names(&s, "params.lr = 0.01"), ["b", "c"]);
    assert_eq!(
        names(&s, "params.lr = 0.01 and metrics.val/loss.min < 0.5 or tags.model = \"resnet\""),
        ["a", "b", "c"]
    );
    assert_eq!(
        names(&s, "params.lr = 0.01 and (metrics.val/loss.min < 0.5 or tags.model = 'resnet')"),
        ["b", "c"]
    );
    assert_eq!(names(&s, "not (status in ('failed', 'killed'))"), ["a", "b", "d"]);
    assert_eq!(names(&s, "status not in ('failed', 'killed')"), ["a", "b", "d"]);
    assert_eq!(names(&s, "name like 'a%' or name = 'd'"), ["a", "d"]);
    assert_eq!(names(&s, "metrics.val/loss < 10"), ["a", "b"], "NaN compares false");
    assert_eq!(names(&s, "metrics.val/loss.nan_count > 0"), ["c"]);
    assert_eq!(names(&s, "metrics.val/loss.mean > 0.6"), ["b", "c"]);
    assert_eq!(names(&s, "metrics.val/loss.count >= 3"), ["a"]);
    assert_eq!(names(&s, "metrics.val/loss.best < 0.3"), ["a"], "best of a loss is its min");
    assert_eq!(names(&s, "params.lr is null"), ["d"]);
    assert_eq!(names(&s, "tags.model is not null and tags.model != 'vit'"), ["a", "c"]);
    assert_eq!(names(&s, "duration > 5s"), ["b"]);
    assert_eq!(names(&s, "duration >= 2"), ["a", "b"]);
    assert_eq!(names(&s, "state = 'crashed'"), ["d"]);
    assert_eq!(names(&s, "start >= '2023-11-14' and end < \"2023-11-15 00:00\""), ["a", "b", "c"]);
    assert_eq!(names(&s, "NOT params.lr = 0.1 AND experiment = 'e'"), ["b", "c", "d"]);
}

#[test]
fn values_are_bound_never_spliced() {
    let s = store();
    assert!(names(&s, "name = \"x' OR 1=1 --\"").is_empty());
    assert!(names(&s, "tags.model = 'resnet\" OR \"1\"=\"1'").is_empty());
}

fn syntax_error(filter: &str) -> FilterError {
    match Filter::parse(filter) {
        Err(e) => e,
        Ok(f) => panic!("{filter:?} parsed as {f:?}"),
    }
}

#[test]
fn syntax_errors_say_where_and_what() {
    let e = syntax_error("params.lr = ");
    assert_eq!(e.at, 12);
    assert!(e.message.contains("expected a value"), "{e}");
    assert!(e.to_string().ends_with(&format!("\n  {}^", " ".repeat(12))), "{e}");
    let e = syntax_error("params.lr 0.1");
    assert_eq!(e.at, 10);
    assert!(e.message.contains("expected a comparison"), "{e}");
    let e = syntax_error("(params.lr = 1 and name = 'a'");
    assert!(e.message.contains("expected `)`"), "{e}");
    assert!(syntax_error("lr = 1").message.contains("params.lr"));
    assert!(syntax_error("name = 'unterminated").message.contains("unterminated"));
    assert!(syntax_error("").message.contains("empty"));
    assert!(syntax_error("name = resnet").message.contains("quote text"));
    assert!(syntax_error("duration > 5 weeks").message.contains("expected `and`"));
    assert!(syntax_error("duration > 5w").message.contains("unknown unit"));
    assert!(syntax_error("params.lr = 1 params.seed = 2").message.contains("expected `and`, `or`"));
    assert!(syntax_error("name ~ 'a'").message.contains("unexpected character"));
}

#[test]
fn unknown_keys_are_errors_with_suggestions() {
    let s = store();
    let query = |f: &str| RunQuery { filter: Some(f.into()), ..Default::default() };
    let e = s.runs(&query("params.lrr = 0.1")).unwrap_err().to_string();
    assert!(e.contains("no run has the param `lrr`") && e.contains("did you mean `lr`"), "{e}");
    let e = s.runs(&query("metrics.val/los < 1")).unwrap_err().to_string();
    assert!(e.contains("did you mean `val/loss`"), "{e}");
    let e = s.runs(&query("metrics.val/loss < 'low'")).unwrap_err().to_string();
    assert!(e.contains("metrics are numbers"), "{e}");
}

#[test]
fn sorting_puts_runs_without_the_key_last() {
    let s = store();
    let sorted = |key: &str| -> Vec<String> {
        s.runs(&RunQuery { sort: Some(key.into()), ..Default::default() })
            .unwrap()
            .into_iter()
            .map(|r| r.name)
            .collect()
    };
    assert_eq!(sorted("metrics.val/loss.min"), ["a", "b", "c", "d"]);
    assert_eq!(sorted("-metrics.val/loss.max"), ["b", "c", "a", "d"]);
    assert_eq!(sorted("params.lr desc"), ["a", "b", "c", "d"]);
    assert_eq!(sorted("name desc"), ["d", "c", "b", "a"]);
    assert!(Sort::parse("params.lr = 1").is_err());
    let limited =
        s.runs(&RunQuery { sort: Some("name".into()), limit: Some(2), ..Default::default() }).unwrap();
    assert_eq!(limited.len(), 2);
}

#[test]
fn times_parse_as_utc() {
    assert_eq!(sql::parse_time("1970-01-01"), Some(0));
    assert_eq!(sql::parse_time("2023-11-14 22:13:20"), Some(1_700_000_000_000));
    assert_eq!(sql::parse_time("2023-11-14T22:13:20Z"), Some(1_700_000_000_000));
    assert_eq!(sql::parse_time("2023-13-01"), None);
    assert_eq!(sql::parse_time("yesterday"), None);
}

/// Runs `f` on a thread with a stack of `kib` KiB. On wasm32 (no threads) it runs in place, on
/// the module's own stack (1 MiB unless linked otherwise).
#[cfg(not(target_arch = "wasm32"))]
fn on_stack<T: Send + 'static>(kib: usize, f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new().stack_size(kib * 1024).spawn(f).unwrap().join().unwrap()
}

#[cfg(target_arch = "wasm32")]
fn on_stack<T>(_: usize, f: impl FnOnce() -> T) -> T {
    f()
}

/// `open` repeated `depth` times around a comparison, each closed by `close`.
fn nested(open: &str, depth: usize, close: &str) -> String {
    format!("{}name = 'a'{}", open.repeat(depth), close.repeat(depth))
}

#[test]
fn deep_nesting_is_a_syntax_error_not_a_stack_overflow() {
    // A `?filter=` link can hold this much; the page's worker has a smaller stack than a CLI.
    let n = if cfg!(target_arch = "wasm32") { 10_000 } else { 100_000 };
    // However long the text, parsing stops at the limit: a small stack is enough, even unoptimised.
    on_stack(256, move || {
        for (open, close, width) in [("(", ")", 1), ("not ", "", 4), ("not (", ")", 0)] {
            let e = syntax_error(&nested(open, n, close));
            assert!(e.message.contains(&format!("more than {MAX_DEPTH} levels")), "{open:?}: {}", e.message);
            if width > 0 {
                assert_eq!(e.at, MAX_DEPTH * width, "{open:?}: points at the first level too many");
            }
        }
        // A long chain of `and` / `or` is wide, not deep.
        for op in [" or ", " and "] {
            let chain = vec!["name = 'a'"; n].join(op);
            let filter = Filter::parse(&chain).unwrap();
            let mut sql = Sql::new(1, None);
            sql.condition(filter.expr()).unwrap();
            assert_eq!(sql.params.len(), n);
        }
    });
}

#[test]
fn nesting_is_accepted_up_to_the_limit() {
    let s = store();
    // The whole pipeline at the limit (parsing, the SQL, SQLite) on the stack a wasm32 module
    // has by default, as in the page's worker.
    on_stack(1024, move || {
        // The last has an `or` and an `and` on every level: the tallest tree there is.
        for (open, close) in [("(", ")"), ("not ", ""), ("(name = 'z' or name = 'a' and ", ")")] {
            assert_eq!(names(&s, &nested(open, MAX_DEPTH, close)), ["a"], "{open:?}");
            let e = syntax_error(&nested(open, MAX_DEPTH + 1, close));
            assert!(e.message.contains("levels"), "{open:?}: {e}");
        }
    });
}

#[test]
fn messages_show_control_characters_escaped() {
    // The filter, names included, may come from a link.
    let shown = syntax_error("name = 'a\u{1b}' `b\u{7}`").to_string();
    assert!(!shown.contains(['\u{1b}', '\u{7}']), "{shown}");
    let lines: Vec<&str> = shown.lines().collect();
    assert!(lines[0].ends_with("found `b\\u{7}`"), "{shown}");
    assert_eq!(lines[2].find('^'), lines[1].find('`'), "the caret counts the escapes: {shown}");
    // Names from the file, in the store's errors.
    assert_eq!(Error::not_found("run", "r\u{1b}[2J").to_string(), "run not found: r\\u{1b}[2J");
}
