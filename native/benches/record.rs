//! Recording throughput and the caller's cost per logged point.
//!
//! `cargo bench -p runstore --bench record -- [POINTS] [ROUNDS]` (default 2,000,000 points, 3
//! rounds). Each round records the same points twice, alternating:
//!
//! - **recorder**: through the public API (`Series::log`) into a new file, until the guard has
//!   written everything (summaries and overviews maintained);
//! - **direct**: the same points as events handed straight to `BatchWriter` on this thread in
//!   one transaction — the same schema work without the channel and the writer thread, i.e. the
//!   ceiling the recorder can reach.
//!
//! The caller's cost of `Series::log` is sampled on every 16th call (the rest run untimed so
//! the clock reads do not dominate) and reported as p50/p99/max.
//!
//! With `--mlflow`, each round also logs points through MLflow's `log_batch` on its SQLite
//! backend (`bench/mlflow.sh log`, 1/40 of the points: MLflow is far slower) and the rates are
//! compared.

mod common;

use std::time::Instant;

use runstore::{Context, Recorder, RecorderOptions};
use runstore_core::{BatchWriter, Event, Point, SeriesKey, Store};

const SERIES: usize = 100;

fn value(i: u64) -> f64 {
    (i % 1000) as f64 * 0.001
}

fn recorder_round(path: &std::path::Path, points: u64) -> (f64, Vec<u64>) {
    let opts = RecorderOptions::file(path).capture_code(false).capture_environment(false);
    let start = Instant::now();
    let (rec, guard) = Recorder::with_options(opts).unwrap();
    let run = rec.experiment("bench").unwrap().start_run("r");
    let series: Vec<_> = (0..SERIES).map(|i| run.series(&format!("m{i}"), &Context::none())).collect();
    let mut samples = Vec::with_capacity((points / 16) as usize);
    for i in 0..points {
        let s = &series[(i as usize) % SERIES];
        let step = (i / SERIES as u64) as i64;
        if i % 16 == 0 {
            let t = Instant::now();
            s.log(step, value(i));
            samples.push(t.elapsed().as_nanos() as u64);
        } else {
            s.log(step, value(i));
        }
    }
    run.finish();
    guard.finish().unwrap();
    (start.elapsed().as_secs_f64(), samples)
}

fn direct_round(path: &std::path::Path, points: u64) -> f64 {
    let start = Instant::now();
    let mut store = Store::open(path, &Default::default(), runstore::now_ms()).unwrap();
    let run_id = runstore::new_id();
    let exp_id = runstore::new_id();
    let mut events = vec![
        Event::Experiment {
            id: exp_id.clone(),
            name: "bench".into(),
            description: String::new(),
            time_ms: 0,
        },
        Event::Run(Box::new(runstore_core::event::RunRecord {
            id: run_id.clone(),
            experiment_id: exp_id,
            trial_id: None,
            name: "r".into(),
            status: runstore::RunStatus::Running,
            host: None,
            pid: None,
            heartbeat_interval_ms: None,
            time_ms: 0,
        })),
    ];
    for h in 0..SERIES {
        events.push(Event::Series {
            handle: h as u64,
            series: SeriesKey {
                run_id: run_id.clone(),
                key: format!("m{h}"),
                context: Context::none().to_json(),
                label: String::new(),
            },
        });
    }
    let now = runstore::now_ms();
    events.extend((0..points).map(|i| Event::Point {
        handle: i % SERIES as u64,
        point: Point {
            step: (i / SERIES as u64) as i64,
            time_ms: now,
            value: value(i),
            epoch: None,
            batch: None,
        },
    }));
    BatchWriter::new().write(&mut store, &events).unwrap().all_written().unwrap();
    start.elapsed().as_secs_f64()
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    sorted[((sorted.len() - 1) as f64 * p) as usize]
}

fn main() {
    let args: Vec<u64> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let points = args.first().copied().unwrap_or(2_000_000);
    let rounds = args.get(1).copied().unwrap_or(3);
    let dir = tempfile::tempdir().unwrap();
    println!(
        "recording {points} points into {SERIES} series, {rounds} rounds (recorder and direct alternate)"
    );
    let mut best = (f64::INFINITY, f64::INFINITY);
    let mut latencies = Vec::new();
    let mut bytes = 0;
    let mut mlflow_best: Option<(f64, f64)> = None;
    for round in 0..rounds {
        let a = dir.path().join(format!("recorder{round}.db"));
        let (t_rec, samples) = recorder_round(&a, points);
        bytes = std::fs::metadata(&a).unwrap().len();
        let b = dir.path().join(format!("direct{round}.db"));
        let t_direct = direct_round(&b, points);
        println!(
            "  round {round}: recorder {:>10.0} points/s   direct {:>10.0} points/s   ratio {:.2}",
            points as f64 / t_rec,
            points as f64 / t_direct,
            t_direct / t_rec
        );
        best = (best.0.min(t_rec), best.1.min(t_direct));
        if common::with_mlflow() {
            let n = (points / 40).to_string();
            let m = common::mlflow(&["log", &n]);
            let (rate, per_point) =
                (m["points_per_s"].as_f64().unwrap(), m["bytes_per_point"].as_f64().unwrap());
            println!(
                "           mlflow log_batch {rate:>8.0} points/s ({} points, {per_point:.0} B/point); recorder is {:.0}x faster",
                m["points"],
                points as f64 / t_rec / rate
            );
            mlflow_best = Some(mlflow_best.map_or((rate, per_point), |(r, b)| (r.max(rate), b)));
        }
        latencies.extend(samples);
    }
    latencies.sort_unstable();
    println!(
        "best: recorder {:.0} points/s, direct (ceiling) {:.0} points/s, recorder/ceiling {:.2}",
        points as f64 / best.0,
        points as f64 / best.1,
        best.1 / best.0
    );
    println!(
        "Series::log caller cost: p50 {} ns, p99 {} ns, p99.9 {} ns, max {} ns ({} samples)",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        percentile(&latencies, 0.999),
        latencies.last().unwrap(),
        latencies.len()
    );
    println!(
        "file size: {bytes} bytes, {:.1} bytes per point (everything included)",
        bytes as f64 / points as f64
    );
    if let Some((rate, per_point)) = mlflow_best {
        println!(
            "mlflow best {rate:.0} points/s, {per_point:.0} bytes per point: recorder {:.0}x the rate, {:.1}x smaller",
            points as f64 / best.0 / rate,
            per_point / (bytes as f64 / points as f64)
        );
    }
}
