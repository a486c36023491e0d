//! Seeded mutation fuzzing of what reads untrusted bytes: opening a `.db` (from bytes and
//! lazily through a byte source) and querying it, the chunk decoder, and the filter parser.
//! Every case must end in an answer or an error — never a panic, never a hang.
//!
//! Short mode runs in `scripts/test` (natively and under wasm32 in headless Chromium). Long
//! mode, for RELIABILITY.md: `scripts/reliability` (`RUNSTORE_FUZZ_CASES=100000`, natively
//! and in wasm32).
//!
//! Coverage-guided fuzzing (cargo-fuzz) needs a nightly toolchain, which this project does
//! not use; mutations of real inputs (the shared fixture, valid chunks, valid filters) reach
//! deep into each parser instead of bouncing off its first check.

use runstore_core::analysis::SeriesRequest;
use runstore_core::chunk::{self, Point};
use runstore_core::filter::Filter;
use runstore_core::source::SourceOptions;
use runstore_core::{RunQuery, Store};

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

const FIXTURE: &[u8] = include_bytes!("../../tests/fixtures/basic.db");

/// Cases per target: `RUNSTORE_FUZZ_CASES` (long mode; read when the test runs natively, and
/// when it is built for wasm32, where a test has no environment), else `short`.
fn cases(short: usize) -> usize {
    let at_run_time =
        if cfg!(target_arch = "wasm32") { None } else { std::env::var("RUNSTORE_FUZZ_CASES").ok() };
    at_run_time
        .as_deref()
        .or(option_env!("RUNSTORE_FUZZ_CASES"))
        .and_then(|v| v.parse().ok())
        .unwrap_or(short)
}

/// A small deterministic generator: a failing case is replayed from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Mutates `bytes` in one of the ways damage and hostility take: flipped bytes, a run of
/// random bytes, a truncation, one page copied over another, a header field rewritten.
fn mutate(rng: &mut Rng, bytes: &mut Vec<u8>) {
    match rng.below(6) {
        0 => {
            for _ in 0..1 + rng.below(16) {
                let i = rng.below(bytes.len());
                bytes[i] ^= 1 << rng.below(8);
            }
        }
        1 => {
            let start = rng.below(bytes.len());
            let end = (start + 1 + rng.below(512)).min(bytes.len());
            for b in &mut bytes[start..end] {
                *b = rng.next() as u8;
            }
        }
        2 => {
            let keep = rng.below(bytes.len());
            bytes.truncate(keep);
        }
        3 => {
            let page = 8192.min(bytes.len() / 2);
            let pages = bytes.len() / page;
            let (from, to) = (rng.below(pages) * page, rng.below(pages) * page);
            let copy = bytes[from..from + page].to_vec();
            bytes[to..to + page].copy_from_slice(&copy);
        }
        4 => {
            // The database header: page size, counts, schema cookie, encoding, ...
            let i = rng.below(100);
            if i < bytes.len() {
                bytes[i] = rng.next() as u8;
            }
        }
        _ => {
            // Small integers in a random place: cell counts, row ids, varint lengths.
            let i = rng.below(bytes.len().saturating_sub(4));
            bytes[i..i + 4].copy_from_slice(&(rng.below(70_000) as u32).to_be_bytes());
        }
    }
}

/// Opens and queries a store the way the page and the CLI do; errors are fine.
fn exercise(store: &Store) {
    let _ = store.stats();
    let _ = store.experiments();
    if let Ok(runs) = store.runs(&RunQuery { with_metrics: true, ..Default::default() }) {
        for m in runs.iter().flat_map(|r| &r.metrics).take(3) {
            let _ = store.series_data(&SeriesRequest::new(m.series_id));
            let _ = store.series_points(m.series_id);
        }
    }
    let _ = store.runs(&RunQuery {
        filter: Some("params.lr > 0.01 or metrics.val/loss.min < 1".into()),
        ..Default::default()
    });
}

/// Opens and queries one quarter of the damaged files (quarters are separate tests: a browser
/// page blocked by one test for minutes is taken for hung by the test runner's driver).
fn damaged_store_files(quarter: u64) {
    let n = cases(if cfg!(target_arch = "wasm32") { 150 } else { 600 }) / 4;
    let mut rng = Rng(0x0b5e_55ed_u64.wrapping_add(quarter.wrapping_mul(0x9e37_79b9_7f4a_7c15)));
    let (mut opened, mut refused) = (0, 0);
    for case in 0..n {
        let mut bytes = FIXTURE.to_vec();
        for _ in 0..1 + rng.below(3) {
            if !bytes.is_empty() {
                mutate(&mut rng, &mut bytes);
            }
        }
        // Every fourth case is read lazily, as the page reads dropped and hosted files.
        let store = if case % 4 == 0 {
            Store::from_source(Box::new(bytes), &SourceOptions::default()).map(|(s, _)| s)
        } else {
            Store::from_bytes(&bytes)
        };
        match store {
            Ok(store) => {
                opened += 1;
                exercise(&store);
            }
            Err(_) => refused += 1,
        }
    }
    println!(
        "RELIABILITY fuzz open (quarter {quarter}): {n} damaged files, {opened} opened and queried, {refused} refused, 0 panics"
    );
}

#[test]
fn damaged_store_files_give_errors_never_panics_1() {
    damaged_store_files(1);
}

#[test]
fn damaged_store_files_give_errors_never_panics_2() {
    damaged_store_files(2);
}

#[test]
fn damaged_store_files_give_errors_never_panics_3() {
    damaged_store_files(3);
}

#[test]
fn damaged_store_files_give_errors_never_panics_4() {
    damaged_store_files(4);
}

#[test]
fn damaged_chunks_give_errors_never_panics() {
    let n = cases(if cfg!(target_arch = "wasm32") { 2_000 } else { 20_000 });
    let mut rng = Rng(0xc4a2_7e11);
    let mut decoded = 0;
    let mut out = Vec::new();
    for _ in 0..n {
        let len = 1 + rng.below(600);
        let points: Vec<Point> = (0..len)
            .map(|i| Point {
                step: i as i64 * (1 + rng.below(3) as i64),
                time_ms: 1_700_000_000_000 + rng.below(1 << 20) as i64,
                value: f64::from_bits(rng.next()),
                epoch: (rng.below(2) == 0).then(|| rng.below(100) as u32),
                batch: (rng.below(3) == 0).then(|| rng.below(1000) as u32),
            })
            .collect();
        let mut blob = Vec::new();
        chunk::encode(&points, &mut blob);
        if rng.below(8) == 0 {
            blob = (0..rng.below(64)).map(|_| rng.next() as u8).collect();
        } else {
            mutate(&mut rng, &mut blob);
        }
        out.clear();
        if chunk::decode_into(&blob, &mut out).is_ok() {
            decoded += 1;
        }
    }
    println!("RELIABILITY fuzz chunks: {n} damaged chunks, {decoded} still decoded, 0 panics");
}

const FILTER_ATOMS: &[&str] = &[
    "params.lr",
    "metrics.val/loss.min",
    "tags.model",
    "name",
    "status",
    "state",
    "duration",
    "start",
    "experiment",
    "(",
    ")",
    "and",
    "or",
    "not",
    "in",
    "like",
    "is",
    "null",
    "=",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    ",",
    "0.01",
    "-1e309",
    "'x'",
    "\"cnn\"",
    "90s",
    "2h",
    "'",
    "\"",
    "\\",
    ".",
    "`",
    "%",
    "\u{0}",
    "\u{1b}",
    "é",
    "😀",
    "metrics.",
    "params.",
    "..",
    "1e",
    "--",
    "/*",
];

#[test]
fn random_and_mutated_filters_give_errors_never_panics() {
    let n = cases(if cfg!(target_arch = "wasm32") { 2_000 } else { 20_000 });
    let store = Store::from_bytes(FIXTURE).unwrap();
    let mut rng = Rng(0xf1_17e2);
    let mut parsed = 0;
    for case in 0..n {
        let mut text = String::new();
        for _ in 0..1 + rng.below(12) {
            text.push_str(FILTER_ATOMS[rng.below(FILTER_ATOMS.len())]);
            if rng.below(3) > 0 {
                text.push(' ');
            }
        }
        if rng.below(4) == 0 {
            // Byte-level damage to a valid filter, kept as text (lossily).
            let mut bytes =
                b"params.lr = 0.01 and (metrics.val/loss.min < 0.3 or not tags.model in ('a', 'b'))".to_vec();
            mutate(&mut rng, &mut bytes);
            text = String::from_utf8_lossy(&bytes).into_owned();
        }
        if Filter::parse(&text).is_ok() {
            parsed += 1;
            // A tenth of the parsed ones also run against the fixture.
            if case % 10 == 0 {
                let _ = store.runs(&RunQuery { filter: Some(text), ..Default::default() });
            }
        }
    }
    println!("RELIABILITY fuzz filters: {n} random filters, {parsed} parsed, 0 panics");
}
