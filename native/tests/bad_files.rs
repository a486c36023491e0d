//! Bad input gets a clear error and loses nothing: newer schemas, foreign SQLite files,
//! garbage, truncated files, damaged point chunks.

use std::path::Path;

use runstore::{Context, Error, Recorder, RecorderOptions, RunQuery, Store};

fn record_small(path: &Path) {
    let (rec, guard) = Recorder::with_options(RecorderOptions::file(path).capture_code(false)).unwrap();
    let run = rec.experiment("e").unwrap().start_run("r");
    let s = run.series("loss", &Context::none());
    for i in 0..2000 {
        s.log(i, i as f64);
    }
    run.finish();
    guard.finish().unwrap();
}

fn pretend_newer(path: &Path, min_reader: i64) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute("INSERT INTO schema_migrations VALUES (99, 'from the future', 0)", []).unwrap();
    conn.execute(
        "UPDATE runstore_meta SET value = ?1 WHERE key = 'min_reader_version'",
        [min_reader.to_string()],
    )
    .unwrap();
}

#[test]
fn a_newer_readable_file_opens_read_only_and_refuses_recording() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("newer.db");
    record_small(&path);
    pretend_newer(&path, 1);
    let err = Recorder::open(&path).err().expect("recording must be refused");
    let message = err.to_string();
    assert!(matches!(err, Error::Store(runstore_core::Error::ReadOnly { found: 99, .. })), "{message}");
    assert!(message.contains("newer") && message.contains("upgrade"), "{message}");
    let store = Store::open_read_only(&path).unwrap();
    assert!(!store.compatibility().writable);
    assert_eq!(store.stats().unwrap().points, 2000, "still readable");
    drop(store);

    // The write path takes the store and refuses one that must not be written.
    let before = std::fs::read(&path).unwrap();
    let mut store = Store::open_read_only(&path).unwrap();
    let event = runstore_core::Event::Heartbeat { run_id: runstore_core::Id::from_parts(0, 1), time_ms: 0 };
    let err = runstore_core::BatchWriter::new().write(&mut store, &[event]).unwrap_err();
    assert!(matches!(err, runstore_core::Error::ReadOnly { found: 99, .. }), "{err}");
    drop(store);
    assert!(std::fs::read(&path).unwrap() == before, "the newer file was never written");
}

#[test]
fn a_newer_unreadable_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("newer.db");
    record_small(&path);
    pretend_newer(&path, 99);
    let err = Store::open_read_only(&path).unwrap_err();
    assert!(
        matches!(
            err,
            runstore_core::Error::SchemaTooNew {
                found: 99,
                supported: runstore_core::schema::SCHEMA_VERSION
            }
        ),
        "{err}"
    );
    assert!(Recorder::open(&path).is_err());
}

#[test]
fn an_older_file_is_upgraded_when_recorded_into_and_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v1.db");
    std::fs::copy(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/basic-v1.db"), &path).unwrap();
    let before = Store::open_read_only(&path).unwrap();
    assert_eq!(before.compatibility().file_version, 1);
    let points = before.stats().unwrap().points;
    drop(before);
    record_small(&path);
    let after = Store::open_read_only(&path).unwrap();
    assert_eq!(after.compatibility().file_version, runstore_core::schema::SCHEMA_VERSION);
    assert_eq!(after.stats().unwrap().points, points + 2000);
    let span_index: bool = after
        .conn()
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'metric_chunks_by_span')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(span_index, "the v2 migration ran");
    after.integrity_check().unwrap();
}

#[test]
fn foreign_and_garbage_files_are_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let foreign = dir.path().join("app.db");
    rusqlite::Connection::open(&foreign)
        .unwrap()
        .execute_batch(
            "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users VALUES (1, 'ada');",
        )
        .unwrap();
    let garbage = dir.path().join("garbage.db");
    std::fs::write(
        &garbage,
        b"this is not a database, just some text that is long enough to look like a header.....",
    )
    .unwrap();
    for path in [&foreign, &garbage] {
        let before = std::fs::read(path).unwrap();
        let err = Recorder::open(path).err().expect("refused").to_string();
        assert!(err.contains("not a runstore file") || err.contains("not a SQLite database"), "{err}");
        assert!(Store::open_read_only(path).is_err());
        assert_eq!(std::fs::read(path).unwrap(), before, "{} was modified", path.display());
        assert!(!Path::new(&format!("{}-wal", path.display())).exists());
    }
}

#[test]
fn truncated_files_and_bytes_give_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("full.db");
    record_small(&path);
    // Fold the WAL into the file so that the bytes alone hold everything.
    rusqlite::Connection::open(&path).unwrap().pragma_update(None, "journal_mode", "DELETE").unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert!(Store::from_bytes(&bytes).is_ok());
    for cut in [0, 50, 100, 4096, bytes.len() / 2, bytes.len() - 1] {
        let short = dir.path().join(format!("cut{cut}.db"));
        std::fs::write(&short, &bytes[..cut]).unwrap();
        // Either refused at open, or every query answers with an error or a result.
        if let Ok(store) = Store::open_read_only(&short) {
            let _ = store.stats();
            let _ = store.runs(&RunQuery { with_metrics: true, ..Default::default() });
            let _ = store.integrity_check();
        }
        if let Ok(store) = Store::from_bytes(&bytes[..cut]) {
            let _ = store.stats();
            let _ = store.runs(&RunQuery { with_metrics: true, ..Default::default() });
        }
    }
}

#[test]
fn a_damaged_chunk_is_reported_as_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("damaged.db");
    record_small(&path);
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute(
            "UPDATE metric_chunks SET data = x'01000a0203' WHERE id = (SELECT min(id) FROM metric_chunks)",
            [],
        )
        .unwrap();
    let store = Store::open_read_only(&path).unwrap();
    let run = &store.runs(&RunQuery { with_metrics: true, ..Default::default() }).unwrap()[0];
    let err = store.series_points(run.metrics[0].series_id).unwrap_err().to_string();
    assert!(err.contains("corrupt data in metric_chunks"), "{err}");
    assert_eq!(run.metrics[0].count, 2000, "summaries stay readable");
}

#[test]
fn wal_mode_bytes_open_from_memory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wal.db");
    record_small(&path);
    // Checkpoint but stay in WAL mode: the header still says WAL (bytes 18 and 19 are 2).
    rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!((bytes[18], bytes[19]), (2, 2));
    let store = Store::from_bytes(&bytes).unwrap();
    assert_eq!(store.stats().unwrap().points, 2000);
}
