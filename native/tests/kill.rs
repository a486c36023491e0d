//! Processes killed with SIGKILL at random moments while recording — during the file's
//! creation, mid-batch, between flushes. Every file must open and pass `integrity_check`, hold
//! every point logged up to one flush interval (plus the commit's own time) before the kill,
//! and show the killed run as crashed; recording into it again must work.
//!
//! Short mode (in `scripts/test`): 12 kills. Long mode, for RELIABILITY.md:
//! `scripts/reliability` (120 kills).
//! Children are this test binary itself, re-run with `--ignored child_process`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use runstore::{Context, Recorder, RecorderOptions, RunQuery, RunState, Store, now_ms};

const DB: &str = "RUNSTORE_TEST_DB";
const FLUSH_MS: u64 = 50;

/// Not a test: the body of the child processes the tests below start and kill.
#[test]
#[ignore = "entry point of child processes; run by the tests in this file"]
fn child_process() {
    let Ok(db) = std::env::var(DB) else { return };
    let options = RecorderOptions::file(PathBuf::from(db))
        .capture_code(false)
        .flush_interval(Duration::from_millis(FLUSH_MS))
        .heartbeat_interval(Duration::from_millis(100));
    let (rec, _guard) = Recorder::with_options(options).unwrap();
    let run = rec.experiment("kill").unwrap().start_run("victim");
    println!("started {}", run.id());
    let series: Vec<_> =
        ["loss", "acc", "lr"].iter().map(|k| run.series(k, &Context::phase("train"))).collect();
    for step in 0.. {
        for (i, s) in series.iter().enumerate() {
            s.log(step, (step as f64).sqrt() * (i + 1) as f64);
        }
        if step % 10 == 0 {
            std::thread::sleep(Duration::from_micros(300));
        }
    }
}

/// What one kill left behind.
#[derive(Debug)]
struct Outcome {
    /// Whether the run had been created in the file before the kill.
    run_recorded: bool,
    /// Time from the newest point in the file to the kill, ms.
    gap_ms: i64,
}

/// A small deterministic generator: the suite's kill moments are the same on every run.
struct XorShift(u64);

impl XorShift {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn spawn(db: &Path) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_process", "--ignored", "--nocapture", "--test-threads=1"])
        .env(DB, db)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn child")
}

/// Starts a recording child, kills it `delay_ms` after it started (or after its run was
/// created, when `after_run`), and checks the file.
fn kill_once(db: &Path, delay_ms: u64, after_run: bool) -> Outcome {
    let started_ms = now_ms();
    let mut child = spawn(db);
    if after_run {
        let started = BufReader::new(child.stdout.as_mut().unwrap())
            .lines()
            .any(|line| line.is_ok_and(|l| l.contains("started ")));
        assert!(started, "the child never started its run");
    }
    std::thread::sleep(Duration::from_millis(delay_ms));
    let killed_at = now_ms();
    child.kill().unwrap(); // SIGKILL: no destructor, no flush
    child.wait().unwrap();

    if !db.exists() || std::fs::metadata(db).unwrap().len() == 0 {
        return Outcome { run_recorded: false, gap_ms: 0 };
    }
    let store = match Store::open_read_only(db) {
        Ok(store) => store,
        Err(runstore_core::Error::NotRunstore(why)) if why.contains("empty") => {
            // Killed before the schema's transaction committed: an empty database, which
            // must open for recording like a new file.
            Store::open(db, &Default::default(), now_ms())
                .unwrap_or_else(|e| panic!("killed after {delay_ms} ms: {e}"));
            return Outcome { run_recorded: false, gap_ms: 0 };
        }
        Err(e) => panic!("killed after {delay_ms} ms: {e}"),
    };
    store.integrity_check().unwrap_or_else(|e| panic!("killed after {delay_ms} ms: {e}"));
    let later = RunQuery { with_metrics: true, now_ms: Some(killed_at + 3_600_000), ..Default::default() };
    let runs = store.runs(&later).unwrap();
    // The file may hold runs of children killed before: this child's is the newest.
    let Some(run) = runs.iter().filter(|r| r.created_ms >= started_ms).max_by_key(|r| r.created_ms) else {
        return Outcome { run_recorded: false, gap_ms: 0 };
    };
    assert_eq!(run.state, RunState::Crashed, "killed after {delay_ms} ms");
    let newest = run.metrics.iter().filter_map(|m| m.last_ms).max().unwrap_or(run.created_ms);
    for m in &run.metrics {
        let points = store.series_points(m.series_id).unwrap();
        assert_eq!(points.len() as i64, m.count, "summary and chunks agree");
        assert!(points.iter().enumerate().all(|(i, p)| p.step == i as i64), "no gap, no duplicate");
    }
    Outcome { run_recorded: true, gap_ms: killed_at - newest }
}

/// Kills `n` children at seeded random moments, half of them within the first 150 ms (file
/// creation, migration, the first batches); returns the outcomes.
fn suite(n: usize, seed: u64) -> Vec<Outcome> {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = XorShift(seed);
    let mut outcomes = Vec::new();
    for i in 0..n {
        // Every fourth kill goes into a fresh file; the others into one that grows.
        let db = dir.path().join(if i % 4 == 0 { format!("fresh-{i}.db") } else { "shared.db".into() });
        let (delay, after_run) =
            if i % 2 == 0 { (rng.below(150), false) } else { (50 + rng.below(600), true) };
        outcomes.push(kill_once(&db, delay, after_run));
    }
    // The file many children were killed in still records.
    let db = dir.path().join("shared.db");
    let (rec, guard) = Recorder::with_options(RecorderOptions::file(&db).capture_code(false)).unwrap();
    rec.experiment("kill").unwrap().start_run("after").finish();
    guard.finish().unwrap();
    Store::open_read_only(&db).unwrap().integrity_check().unwrap();
    outcomes
}

fn check_and_report(outcomes: &[Outcome], started: Instant) {
    let recorded: Vec<i64> = outcomes.iter().filter(|o| o.run_recorded).map(|o| o.gap_ms).collect();
    let mut gaps = recorded.clone();
    gaps.sort_unstable();
    let max = gaps.last().copied().unwrap_or(0);
    println!(
        "RELIABILITY kill: {} kills, 0 corrupt files, {} with the run recorded (all crashed), newest point \
         before the kill: median {} ms, max {} ms (flush interval {FLUSH_MS} ms), {:.0} s",
        outcomes.len(),
        recorded.len(),
        gaps.get(gaps.len() / 2).copied().unwrap_or(0),
        max,
        started.elapsed().as_secs_f64()
    );
    assert!(recorded.len() * 3 >= outcomes.len(), "too few kills landed after the run was created");
    // Loss is bounded by one flush interval plus the commit's own time; the margin is for a
    // loaded two-core machine.
    assert!(max <= FLUSH_MS as i64 + 400, "points older than a flush interval were lost: {max} ms");
}

#[test]
fn killed_recorders_leave_sound_files_short() {
    let started = Instant::now();
    check_and_report(&suite(12, 0x5eed), started);
}

#[test]
#[ignore = "long mode for RELIABILITY.md (120 kills, ~2 minutes)"]
fn killed_recorders_leave_sound_files_long() {
    let started = Instant::now();
    check_and_report(&suite(120, 0x5eed_1234), started);
}
