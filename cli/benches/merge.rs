//! P6: `runstore merge` of 100 files of 200,000 points each (20M points).
//!
//! `cargo bench -p runstore-cli --no-default-features --bench merge -- [FILES] [POINTS_PER_FILE]` writes the inputs
//! (seeded, distinct runs per file), then times the `runstore merge` command itself (the one
//! users run, progress bar included) into a new file.

#[path = "../../native/benches/common/mod.rs"]
mod common;

use std::process::Command;
use std::time::Instant;

fn main() {
    let args: Vec<u64> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let files = args.first().copied().unwrap_or(100);
    let per_file = args.get(1).copied().unwrap_or(200_000);
    let dir = tempfile::tempdir().unwrap();
    let mut inputs = Vec::new();
    let t = Instant::now();
    for f in 0..files {
        let path = dir.path().join(format!("in-{f:03}.db"));
        // Distinct seeds give distinct run ids per file (ids derive from the seed below).
        let spec = common::Spec { runs: 2, series_per_run: 5, points_per_series: per_file / 10, seed: f + 1 };
        common::write_runstore_with_offset(&path, spec, f * 10);
        inputs.push(path);
    }
    println!("{files} files of {per_file} points written in {:.1} s", t.elapsed().as_secs_f64());
    let out = dir.path().join("merged.db");
    let t = Instant::now();
    let status = Command::new(env!("CARGO_BIN_EXE_runstore"))
        .arg("merge")
        .args(&inputs)
        .arg("-o")
        .arg(&out)
        .status()
        .unwrap();
    let secs = t.elapsed().as_secs_f64();
    assert!(status.success());
    let total = files * per_file;
    println!(
        "runstore merge: {total} points from {files} files in {secs:.2} s = {:.2}M points/s; output {:.1} B/point",
        total as f64 / secs / 1e6,
        common::size(&out) as f64 / total as f64
    );
}
