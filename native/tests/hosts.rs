//! What language hosts (the Python package) build on: points in blocks, queueing that hands
//! points back instead of waiting, runs owned by another process, and pausing the writer
//! around a fork.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use runstore::{Context, Point, Recorder, RecorderOptions, RunState, Store};

fn quiet(path: &Path) -> RecorderOptions {
    RecorderOptions::file(path).capture_code(false).capture_environment(false)
}

#[test]
fn blocks_of_points_are_written_in_order_as_if_logged_one_by_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b.db");
    let (rec, guard) = Recorder::with_options(quiet(&path).max_batch(1000)).unwrap();
    let run = rec.experiment("e").unwrap().start_run("r");
    let series = run.series("x", &Context::none());
    let points: Vec<Point> = (0..10_000).map(|i| series.point(i, i as f64 * 0.5, 1)).collect();
    for block in points.chunks(4096) {
        series.log_points(block.to_vec());
    }
    series.log_points(Vec::new());
    let id = run.id().to_string();
    run.finish();
    guard.finish().unwrap();
    let store = Store::open_read_only(&path).unwrap();
    let series_id = store.find_series(&id, "x", &Context::none(), "").unwrap().unwrap();
    let read = store.series_points(series_id).unwrap();
    assert_eq!(read.len(), 10_000);
    assert!(read.iter().enumerate().all(|(i, p)| p.step == i as i64 && p.value == i as f64 * 0.5));
}

#[test]
fn a_full_channel_hands_points_back_instead_of_waiting() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.db");
    let (rec, guard) = Recorder::with_options(quiet(&path).channel_capacity(1)).unwrap();
    let run = rec.experiment("e").unwrap().start_run("r");
    let series = run.series("x", &Context::none());
    rec.pause_writer(); // the writer can still drain one slot at most before it stops
    let mut handed_back = None;
    for step in 0..100 {
        if let Err(point) = series.try_log_point(series.point(step, 1.0, 1)) {
            handed_back = Some(point);
            break;
        }
    }
    let point = handed_back.expect("a one-slot channel with a paused writer fills up");
    // The writer may take that one last slot after the refusal above; then the channel stays
    // full, and a block of points is refused too.
    let refused = (0..100).any(|_| series.try_log_points(vec![point]).is_err());
    assert!(refused, "a full channel hands blocks of points back too");
    rec.resume_writer();
    series.log_point(point); // waits for room now
    run.finish();
    guard.finish().unwrap();
    assert_eq!(rec.dropped(), 0);
}

#[test]
fn an_attached_run_logs_but_leaves_the_status_to_its_owner() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    let (owner, owner_guard) = Recorder::with_options(quiet(&path)).unwrap();
    let run = owner.experiment("e").unwrap().start_run("owned");
    owner.flush().unwrap();
    let (guest, guest_guard) = Recorder::with_options(quiet(&path)).unwrap();
    let attached = guest.attach_run(run.id().clone());
    attached.log("from-guest", 0, 1.5);
    attached.finish(); // not the guest's to end
    guest_guard.finish().unwrap();
    let store = Store::open_read_only(&path).unwrap();
    let info = store.run(run.id().as_str(), None).unwrap();
    assert_eq!(info.state, RunState::Running);
    assert_eq!(store.series_summaries(run.id().as_str()).unwrap()[0].count, 1);
    run.finish();
    owner_guard.finish().unwrap();
    let info = Store::open_read_only(&path).unwrap().run(info.id.as_str(), None).unwrap();
    assert_eq!(info.state, RunState::Completed);
}

#[test]
fn a_paused_writer_writes_nothing_until_resumed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.db");
    let opts = quiet(&path).flush_interval(Duration::from_millis(5));
    let (rec, guard) = Recorder::with_options(opts).unwrap();
    let run = rec.experiment("e").unwrap().start_run("r");
    rec.flush().unwrap();
    rec.pause_writer();
    let flushed = Arc::new(AtomicBool::new(false));
    let flusher = {
        let (rec, flushed) = (rec.clone(), flushed.clone());
        std::thread::spawn(move || {
            rec.flush().unwrap();
            flushed.store(true, Ordering::SeqCst);
        })
    };
    run.log("x", 0, 1.0);
    std::thread::sleep(Duration::from_millis(200));
    assert!(!flushed.load(Ordering::SeqCst), "a paused writer must not write");
    rec.resume_writer();
    flusher.join().unwrap();
    assert!(flushed.load(Ordering::SeqCst));
    run.finish();
    guard.finish().unwrap();
}

#[test]
fn the_db_file_alone_is_complete_after_the_guard_even_with_a_reader_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.db");
    let (rec, guard) = Recorder::with_options(quiet(&path)).unwrap();
    let run = rec.experiment("e").unwrap().start_run("r");
    let series = run.series("x", &Context::none());
    for step in 0..10_000 {
        series.log(step, step as f64);
    }
    run.finish();
    rec.flush().unwrap();
    // A reader of this process still has the file open when the writer closes (Python's
    // runstore.open in the same script): SQLite then leaves the log in place.
    let reader = Store::open_read_only(&path).unwrap();
    assert_eq!(reader.stats().unwrap().points, 10_000);
    guard.finish().unwrap();
    // The page gets the .db file alone, without its -wal.
    let copy = dir.path().join("copy.db");
    std::fs::copy(&path, &copy).unwrap();
    let alone = Store::from_bytes(&std::fs::read(&copy).unwrap()).unwrap();
    assert_eq!(alone.stats().unwrap().points, 10_000);
    drop(reader);
}
