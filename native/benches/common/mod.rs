//! Deterministic benchmark data, shared by the benches and `examples/generate.rs`: the same
//! seeded points as a runstore file and as a "plain" SQLite schema (one row per point, the
//! way MLflow-like stores keep metrics), so both sides of a comparison hold the same data.
#![allow(dead_code)] // each bench uses part of this module

use std::path::Path;

use runstore_core::event::RunRecord;
use runstore_core::{BatchWriter, Context, Event, Id, Point, RunStatus, SeriesKey, Store};
use rusqlite::Connection;

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    /// Runs.
    pub runs: u64,
    /// Metric series per run.
    pub series_per_run: u64,
    /// Points per series.
    pub points_per_series: u64,
    /// Seed of the values.
    pub seed: u64,
}

impl Spec {
    /// A spec of about `points` points in 100 runs of 5 series.
    pub fn points(points: u64) -> Spec {
        Spec { runs: 100, series_per_run: 5, points_per_series: (points / 500).max(1), seed: 1 }
    }

    /// Total points.
    pub fn total(&self) -> u64 {
        self.runs * self.series_per_run * self.points_per_series
    }
}

const T0: i64 = 1_750_000_000_000;
const KEYS: [&str; 8] =
    ["train/loss", "val/loss", "val/accuracy", "lr", "grad_norm", "train/accuracy", "val/f1", "throughput"];

/// splitmix64: a small, well-mixed deterministic generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn key(series: u64) -> String {
    let base = KEYS[(series % KEYS.len() as u64) as usize];
    if series < KEYS.len() as u64 { base.to_string() } else { format!("{base}_{series}") }
}

fn lr(run: u64) -> f64 {
    [0.1, 0.03, 0.01, 0.003][(run % 4) as usize]
}

/// Every point in the order both writers use: `(run, series, step, time_ms, value)`.
fn points(spec: Spec, mut each: impl FnMut(u64, u64, i64, i64, f64)) {
    for run in 0..spec.runs {
        let mut rng = Rng(spec.seed ^ (run.wrapping_mul(0x2545_f491_4f6c_dd1d)));
        for series in 0..spec.series_per_run {
            let scale = 1.0 + series as f64;
            for step in 0..spec.points_per_series {
                let progress = step as f64 / spec.points_per_series as f64;
                let value =
                    scale * (0.05 + 2.0 / (1.0 + 30.0 * lr(run) * progress)) + 0.05 * (rng.unit() - 0.5);
                each(run, series, step as i64, T0 + step as i64 * 100, value);
            }
        }
    }
}

/// Writes `spec` as a new runstore file at `path` (summaries and overviews maintained), in
/// transactions of about a million points.
pub fn write_runstore(path: &Path, spec: Spec) {
    write_runstore_with_offset(path, spec, 0);
}

/// As [`write_runstore`], with run ids starting at `first_run` (files that merge into one).
pub fn write_runstore_with_offset(path: &Path, spec: Spec, first_run: u64) {
    let mut store = Store::open(path, &Default::default(), T0).unwrap();
    let mut writer = BatchWriter::new();
    let exp = Id::from_parts(T0, 1);
    let mut events = vec![Event::Experiment {
        id: exp.clone(),
        name: "bench".into(),
        description: String::new(),
        time_ms: T0,
    }];
    for run in 0..spec.runs {
        let id = Id::from_parts(T0, 1000 + u128::from(first_run + run));
        events.push(Event::Run(Box::new(RunRecord {
            id: id.clone(),
            experiment_id: exp.clone(),
            trial_id: None,
            name: format!("run-{:03}", first_run + run),
            status: RunStatus::Running,
            host: None,
            pid: None,
            heartbeat_interval_ms: None,
            time_ms: T0,
        })));
        events.push(Event::Params {
            owner: runstore_core::event::Owner::Run(id.clone()),
            params: vec![("lr".into(), lr(run).into()), ("seed".into(), ((run / 4) as i64).into())],
        });
        for series in 0..spec.series_per_run {
            events.push(Event::Series {
                handle: run * spec.series_per_run + series,
                series: SeriesKey {
                    run_id: id.clone(),
                    key: key(series),
                    context: Context::none().to_json(),
                    label: String::new(),
                },
            });
        }
    }
    writer.write(&mut store, &events).unwrap().all_written().unwrap();
    events.clear();
    points(spec, |run, series, step, time_ms, value| {
        let point = Point { step, time_ms, value, epoch: None, batch: None };
        events.push(Event::Point { handle: run * spec.series_per_run + series, point });
        if events.len() >= 1 << 20 {
            writer.write(&mut store, &events).unwrap().all_written().unwrap();
            events.clear();
        }
    });
    // Runs end after their points: a run's series handles go when it ends.
    for run in 0..spec.runs {
        events.push(Event::RunStatus {
            run_id: Id::from_parts(T0, 1000 + u128::from(first_run + run)),
            status: RunStatus::Completed,
            error: None,
            time_ms: T0 + 1,
        });
    }
    writer.write(&mut store, &events).unwrap().all_written().unwrap();
    store.conn().execute_batch("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode = DELETE;").unwrap();
}

/// Writes `spec` as a plain SQLite file: `runs(id, name, lr)` and one `points(run, key, step,
/// time_ms, value)` row per point, indexed by (run, key, step) as a tracking store would be.
pub fn write_plain(path: &Path, spec: Spec) {
    let mut conn = Connection::open(path).unwrap();
    conn.execute_batch(
        "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;
         CREATE TABLE runs (id INTEGER PRIMARY KEY, name TEXT NOT NULL, lr REAL);
         CREATE TABLE points (run INTEGER NOT NULL, key TEXT NOT NULL, step INTEGER NOT NULL,
                              time_ms INTEGER NOT NULL, value REAL,
                              PRIMARY KEY (run, key, step)) WITHOUT ROWID;",
    )
    .unwrap();
    let tx = conn.transaction().unwrap();
    {
        let mut run_row = tx.prepare("INSERT INTO runs VALUES (?1, ?2, ?3)").unwrap();
        for run in 0..spec.runs {
            run_row.execute((run as i64, format!("run-{run:03}"), lr(run))).unwrap();
        }
        let keys: Vec<String> = (0..spec.series_per_run).map(key).collect();
        let mut point = tx.prepare("INSERT INTO points VALUES (?1, ?2, ?3, ?4, ?5)").unwrap();
        points(spec, |run, series, step, time_ms, value| {
            point.execute((run as i64, &keys[series as usize], step, time_ms, value)).unwrap();
        });
    }
    tx.commit().unwrap();
}

/// The summaries a plain schema needs a `GROUP BY` over every point for.
pub const PLAIN_SUMMARIES: &str = "SELECT r.name, p.key, count(*), min(p.value), max(p.value), avg(p.value), \
     max(p.step) FROM points p JOIN runs r ON r.id = p.run GROUP BY p.run, p.key";

/// File size in bytes.
pub fn size(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// Runs `bench/mlflow.sh ARGS` (MLflow in its own virtualenv) and returns the JSON it prints.
pub fn mlflow(args: &[&str]) -> serde_json::Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/mlflow.sh");
    let out = std::process::Command::new(script)
        .args(args)
        .stderr(std::process::Stdio::inherit())
        .output()
        .expect("running bench/mlflow.sh");
    assert!(out.status.success(), "bench/mlflow.sh {args:?} failed");
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.lines().last().unwrap_or_default()).expect("JSON from bench/mlflow.sh")
}

/// Whether the command line asks for the MLflow side (`--mlflow`).
pub fn with_mlflow() -> bool {
    std::env::args().any(|a| a == "--mlflow")
}
