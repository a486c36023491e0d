//! A disk that fills up while recording: the error is reported, what was committed stays
//! intact and readable, logging goes on queueing, and everything is written once space
//! returns. The disk is a small tmpfs mounted for the test (needs root, as CI has; elsewhere
//! the test says it was skipped).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use runstore::{Context, Recorder, RecorderOptions, RunQuery, Store};

/// A tmpfs of a few MiB, unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(size: &str) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().ok()?;
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(SmallDisk { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn free_bytes(&self) -> u64 {
        let out = Command::new("df").args(["-B1", "--output=avail"]).arg(self.path()).output().unwrap();
        String::from_utf8_lossy(&out.stdout).lines().nth(1).unwrap().trim().parse().unwrap()
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.dir.path()).status();
    }
}

fn points(db: &Path) -> i64 {
    let store = Store::open_read_only(db).unwrap();
    store.integrity_check().unwrap();
    let runs = store.runs(&RunQuery { with_metrics: true, ..Default::default() }).unwrap();
    runs.iter().flat_map(|r| &r.metrics).map(|m| m.count).sum()
}

#[test]
fn a_full_disk_is_reported_loses_nothing_and_recording_resumes_when_space_returns() {
    let Some(disk) = SmallDisk::mount("8m") else {
        eprintln!("SKIPPED: mounting a tmpfs needs root");
        return;
    };
    let db = disk.path().join("runs.db");
    let options = RecorderOptions::file(&db)
        .capture_code(false)
        .capture_environment(false)
        .flush_interval(Duration::from_millis(20));
    let (rec, guard) = Recorder::with_options(options).unwrap();
    let run = rec.experiment("full").unwrap().start_run("r");
    let loss = run.series("loss", &Context::none());
    rec.flush().unwrap();
    // Leave ~300 KB: a few tens of thousands of points.
    let filler: PathBuf = disk.path().join("filler");
    let room = disk.free_bytes().saturating_sub(300_000);
    std::fs::write(&filler, vec![7u8; room as usize]).unwrap();

    let (mut logged, mut committed) = (0i64, 0i64);
    let error = loop {
        for _ in 0..2_000 {
            loss.log(logged, (logged as f64).sin());
            logged += 1;
        }
        match rec.flush() {
            Ok(()) => committed = logged,
            Err(e) => break e.to_string(),
        }
        assert!(logged < 5_000_000, "the disk never filled up");
    };
    assert!(error.contains("full"), "the error says the disk is full: {error}");
    assert!(rec.errors().iter().any(|e| e.contains("full")), "{:?}", rec.errors());
    // What was committed is intact and readable while the disk is full.
    let before = points(&db);
    assert!(before >= committed, "{before} points in the file, {committed} committed");

    // Logging goes on while the disk is full: the events queue.
    for _ in 0..5_000 {
        loss.log(logged, 0.5);
        logged += 1;
    }
    std::fs::remove_file(&filler).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while rec.flush().is_err() {
        assert!(Instant::now() < deadline, "recording never resumed");
        std::thread::sleep(Duration::from_millis(50));
    }
    run.finish();
    guard.finish().unwrap();
    let after = points(&db);
    println!(
        "RELIABILITY disk-full: {committed} points committed before the disk filled, {} logged while full, \
         {after} in the file after space returned, {} lost",
        logged - committed,
        logged - after
    );
    assert_eq!(after, logged, "every point logged is in the file");
    assert_eq!(rec.lost(), 0);
}
