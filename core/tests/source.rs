//! Reading stores lazily through a `ByteSource`: few bytes for lookups, few calls for scans,
//! clear errors for bad sources, and nothing ever written.

use runstore_core::event::RunRecord;
use runstore_core::source::{ByteSource, SourceOptions};
use runstore_core::{BatchWriter, Context, Error, Event, Id, Point, RunQuery, RunStatus, SeriesKey, Store};

const T0: i64 = 1_750_000_000_000;

/// A store of `runs` runs with one 20k-point series each, as file bytes.
fn store_bytes(runs: u128) -> Vec<u8> {
    let mut store = Store::open_in_memory(T0).unwrap();
    let mut writer = BatchWriter::new();
    let exp = Id::from_parts(T0, 1);
    let mut events = vec![Event::Experiment {
        id: exp.clone(),
        name: "e".into(),
        description: String::new(),
        time_ms: T0,
    }];
    for r in 0..runs {
        let run = Id::from_parts(T0, 100 + r);
        events.push(Event::Run(Box::new(RunRecord {
            id: run.clone(),
            experiment_id: exp.clone(),
            trial_id: None,
            name: format!("run {r}"),
            status: RunStatus::Completed,
            host: None,
            pid: None,
            heartbeat_interval_ms: None,
            time_ms: T0,
        })));
        let handle = r as u64;
        events.push(Event::Series {
            handle,
            series: SeriesKey {
                run_id: run,
                key: "loss".into(),
                context: Context::default().to_json(),
                label: String::new(),
            },
        });
        for step in 0..20_000 {
            let point =
                Point { step, time_ms: T0 + step, value: 1.0 / (step + 1) as f64, epoch: None, batch: None };
            events.push(Event::Point { handle, point });
        }
    }
    writer.write(&mut store, &events).unwrap().all_written().unwrap();
    store.to_bytes().unwrap()
}

#[test]
fn a_lookup_fetches_a_small_part_of_the_file() {
    let bytes = store_bytes(40);
    let size = bytes.len() as u64;
    let (store, stats) = Store::from_source(Box::new(bytes), &SourceOptions::default()).unwrap();
    let runs = store.runs(&RunQuery { with_metrics: true, ..Default::default() }).unwrap();
    assert_eq!(runs.len(), 40);
    let fetched = stats.get().bytes_fetched;
    assert!(fetched * 4 < size, "runs with summaries fetched {fetched} of {size} bytes");
}

#[test]
fn opening_and_counting_read_the_start_of_the_file_in_one_fetch() {
    let bytes = store_bytes(40);
    let (store, stats) = Store::from_source(Box::new(bytes), &SourceOptions::default()).unwrap();
    store.stats().unwrap();
    let counters = stats.get();
    assert_eq!(counters.fetches, 1, "{counters:?}");
    let (store, stats) =
        Store::from_source(Box::new(store_bytes(40)), &SourceOptions { head_bytes: 0, ..Default::default() })
            .unwrap();
    store.stats().unwrap();
    assert!(stats.get().fetches > 1, "without the head read, every root page is a fetch");
}

#[test]
fn a_scan_reads_ahead_in_growing_fetches() {
    let bytes = store_bytes(10);
    let options = SourceOptions { block_size: 4096, ..Default::default() };
    let (store, stats) = Store::from_source(Box::new(bytes.clone()), &options).unwrap();
    let blobs: i64 =
        store.conn().query_row("SELECT sum(length(data)) FROM metric_chunks", [], |r| r.get(0)).unwrap();
    assert!(blobs > 0);
    let counters = stats.get();
    let pages = bytes.len() as u64 / 4096;
    assert!(counters.fetches * 8 < pages, "{counters:?} for {pages} pages");
}

#[test]
fn a_wal_mode_file_opens() {
    let mut bytes = store_bytes(1);
    bytes[18] = 2;
    bytes[19] = 2;
    let (store, _) = Store::from_source(Box::new(bytes), &SourceOptions::default()).unwrap();
    assert_eq!(store.runs(&RunQuery::default()).unwrap().len(), 1);
}

#[test]
fn garbage_and_foreign_files_get_clear_errors() {
    let garbage = b"this is not a database, just some text that is long enough".repeat(100);
    let err = Store::from_source(Box::new(garbage), &SourceOptions::default()).unwrap_err();
    assert!(matches!(err, Error::Malformed(_)), "{err}");

    let mut bytes = store_bytes(1);
    bytes.truncate(bytes.len() / 2);
    let opened = Store::from_source(Box::new(bytes), &SourceOptions::default());
    let failed = match opened {
        Err(_) => true,
        Ok((store, _)) => store
            .conn()
            .query_row("SELECT sum(length(data)) FROM metric_chunks", [], |r| r.get::<_, i64>(0))
            .is_err(),
    };
    assert!(failed, "a truncated file must fail, at open or at the first query that needs the missing pages");
}

/// A source whose reads fail after the first `good` calls, as a network drop would.
struct Flaky {
    bytes: Vec<u8>,
    good: u32,
}

impl ByteSource for Flaky {
    fn size(&self) -> u64 {
        self.bytes.len() as u64
    }
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, String> {
        if self.good == 0 {
            return Err("connection reset".into());
        }
        self.good -= 1;
        self.bytes.read_at(offset, buf)
    }
}

#[test]
fn a_failing_source_is_an_error_not_a_crash() {
    let source = Flaky { bytes: store_bytes(5), good: 3 };
    let options = SourceOptions { block_size: 4096, max_read_ahead: 4096, ..Default::default() };
    let result = Store::from_source(Box::new(source), &options)
        .and_then(|(store, _)| store.runs(&RunQuery { with_metrics: true, ..Default::default() }));
    let err = result.unwrap_err().to_string();
    assert!(err.contains("I/O") || err.contains("disk"), "{err}");
}

#[test]
fn writes_are_refused() {
    let (store, _) = Store::from_source(Box::new(store_bytes(1)), &SourceOptions::default()).unwrap();
    let err = store.conn().execute("DELETE FROM runs", []).unwrap_err();
    assert!(err.to_string().contains("readonly"), "{err}");
}
