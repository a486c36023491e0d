//! Faults while recording: an invalid event among good ones, a file locked or full for a
//! while, a writer that cannot finish in time, extreme option values. Nothing committed is
//! damaged, nothing valid is lost, every loss is reported, and nobody waits on a sick disk.

use std::path::Path;
use std::time::{Duration, Instant};

use runstore::{Context, Recorder, RecorderOptions, RunQuery, Store};

fn options(db: &Path) -> RecorderOptions {
    RecorderOptions::file(db).capture_code(false).capture_environment(false)
}

/// Points recorded under `key`, over all runs.
fn points(db: &Path, key: &str) -> i64 {
    let store = Store::open_read_only(db).unwrap();
    let runs = store.runs(&RunQuery { with_metrics: true, ..Default::default() }).unwrap();
    runs.iter().flat_map(|r| &r.metrics).filter(|m| m.key == key).map(|m| m.count).sum()
}

fn chunk_rows(db: &Path, key: &str) -> i64 {
    rusqlite::Connection::open(db)
        .unwrap()
        .query_row(
            "SELECT count(*) FROM metric_chunks WHERE series_id IN (SELECT id FROM metric_series WHERE key = ?1)",
            [key],
            |r| r.get(0),
        )
        .unwrap()
}

/// Another process's connection holding the file's write lock until dropped.
struct WriteLock(rusqlite::Connection);

impl WriteLock {
    fn take(db: &Path) -> WriteLock {
        let conn = rusqlite::Connection::open(db).unwrap();
        conn.execute_batch("BEGIN IMMEDIATE").unwrap();
        WriteLock(conn)
    }
}

impl Drop for WriteLock {
    fn drop(&mut self) {
        let _ = self.0.execute_batch("ROLLBACK");
    }
}

#[test]
fn one_invalid_series_is_refused_alone_and_the_rest_is_written_in_whole_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("runs.db");
    let (rec, guard) = Recorder::with_options(options(&db)).unwrap();
    let run = rec.experiment("e").unwrap().start_run("r");
    let loss = run.series("loss", &Context::none());
    let bad = run.series("", &Context::none());
    for step in 0..10_000 {
        loss.log(step, step as f64);
        bad.log(step, 1.0);
        if step % 100 == 99 {
            let _ = rec.flush(); // a batch of 100 good and 100 refused points
        }
    }
    run.finish();
    let finished = guard.finish();
    let errors = rec.errors().join("\n");
    assert!(errors.contains("metric key: empty"), "{errors}");
    assert!(finished.is_err(), "finish() reports the refused events");
    assert_eq!(points(&db, "loss"), 10_000);
    // 10,000 points fill 20 chunks of 512; one-point chunks (resets after each bad batch)
    // would make hundreds.
    assert!(chunk_rows(&db, "loss") <= 20, "{} chunk rows", chunk_rows(&db, "loss"));
}

#[test]
fn extreme_intervals_and_timeouts_neither_panic_nor_lose_points() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("runs.db");
    let opts = options(&db)
        .flush_interval(Duration::MAX)
        .heartbeat_interval(Duration::MAX)
        .shutdown_timeout(Duration::MAX)
        .busy_timeout(Duration::MAX);
    let (rec, guard) = Recorder::with_options(opts).unwrap();
    let run = rec.experiment("e").unwrap().start_run("r");
    let loss = run.series("loss", &Context::none());
    for step in 0..10 {
        loss.log(step, 0.5);
    }
    run.finish();
    drop(guard);
    assert_eq!(points(&db, "loss"), 10);
}

#[test]
fn finish_reports_a_writer_that_could_not_finish_in_time() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("runs.db");
    Recorder::open(&db).unwrap().1.finish().unwrap();
    let lock = WriteLock::take(&db);
    let opts =
        options(&db).busy_timeout(Duration::from_secs(20)).shutdown_timeout(Duration::from_millis(200));
    let (rec, guard) = Recorder::with_options(opts).unwrap();
    rec.resource(runstore::ResourceKind::Cpu, "system_total", 12.5, "%");
    let started = Instant::now();
    let result = guard.finish();
    assert!(result.is_err(), "the queued sample was not written, so finish() must not say Ok");
    assert!(started.elapsed() < Duration::from_secs(10), "finish() waited {:?}", started.elapsed());
    drop(lock);
}

#[test]
fn requests_are_answered_at_once_while_the_file_is_locked_and_nothing_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("runs.db");
    let opts = options(&db).busy_timeout(Duration::from_millis(50));
    let (rec, guard) = Recorder::with_options(opts).unwrap();
    let run = rec.experiment("e").unwrap().start_run("r");
    let loss = run.series("loss", &Context::none());
    for step in 0..100 {
        loss.log(step, 1.0);
    }
    rec.flush().unwrap();

    let lock = WriteLock::take(&db);
    // Released late, so that a writer that stops reading its channel shows as a slow answer.
    let release = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(8));
        drop(lock);
    });
    for step in 100..200 {
        loss.log(step, 2.0);
    }
    assert!(rec.flush().is_err(), "the first flush reports the locked file");
    let started = Instant::now();
    assert!(rec.flush().is_err(), "so does the next");
    assert!(rec.experiment("other").is_err(), "a call is answered with the error");
    for step in 200..300 {
        loss.log(step, 3.0); // queues behind the failing batch
    }
    assert!(started.elapsed() < Duration::from_secs(4), "answers took {:?}", started.elapsed());

    release.join().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while rec.flush().is_err() {
        assert!(Instant::now() < deadline, "the writer never recovered");
        std::thread::sleep(Duration::from_millis(100));
    }
    run.finish();
    guard.finish().unwrap();
    assert_eq!(points(&db, "loss"), 300);
    assert!(Store::open_read_only(&db).unwrap().experiments().unwrap().iter().all(|e| e.name != "other"));
}

#[test]
fn a_refusal_reaches_the_next_flush_even_after_timed_commits() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("runs.db");
    let (rec, guard) = Recorder::with_options(options(&db).flush_interval(Duration::from_millis(5))).unwrap();
    let run = rec.experiment("e").unwrap().start_run("r");
    run.series("", &Context::none()).log(0, 1.0);
    // Several timed commits happen before anyone asks.
    std::thread::sleep(Duration::from_millis(300));
    let err = rec.flush().unwrap_err().to_string();
    assert!(err.contains("metric key: empty"), "{err}");
    assert!(rec.flush().is_ok(), "reported once");
    run.finish();
    assert!(guard.finish().is_err());
}
