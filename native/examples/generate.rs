//! Writes deterministic benchmark files: the same seeded points as a runstore file and (with
//! `--plain`) as a plain one-row-per-point SQLite file.
//!
//! `cargo run --release -p runstore --example generate -- OUT.db POINTS [--plain PLAIN.db]
//! [--runs N] [--series N]` (default 100 runs × 5 series; POINTS accepts 4M, 200k, 1G style
//! suffixes). `--runs 10000 --series 20` makes the page's 10,000-run workspace file.

#[path = "../benches/common/mod.rs"]
mod common;

fn count(text: &str) -> u64 {
    let (digits, scale) = match text.chars().last() {
        Some('k' | 'K') => (&text[..text.len() - 1], 1_000),
        Some('M') => (&text[..text.len() - 1], 1_000_000),
        Some('G') => (&text[..text.len() - 1], 1_000_000_000),
        _ => (text, 1),
    };
    let value: f64 = digits.parse().unwrap_or_else(|_| panic!("not a count: {text}"));
    (value * scale as f64) as u64
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(out), Some(points)) = (args.first(), args.get(1)) else {
        eprintln!("usage: generate OUT.db POINTS [--plain PLAIN.db] [--runs N] [--series N]");
        std::process::exit(2);
    };
    let option =
        |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).map(|v| count(v));
    let mut spec = common::Spec::points(count(points));
    if let Some(runs) = option("--runs") {
        spec.runs = runs.max(1);
    }
    if let Some(series) = option("--series") {
        spec.series_per_run = series.max(1);
    }
    spec.points_per_series = (count(points) / (spec.runs * spec.series_per_run)).max(1);
    let out = std::path::Path::new(out);
    if out.exists() {
        eprintln!("{} exists", out.display());
        std::process::exit(2);
    }
    let started = std::time::Instant::now();
    common::write_runstore(out, spec);
    println!(
        "{}: {} points, {} bytes ({:.1} B/point) in {:.1} s",
        out.display(),
        spec.total(),
        common::size(out),
        common::size(out) as f64 / spec.total() as f64,
        started.elapsed().as_secs_f64()
    );
    if let Some(i) = args.iter().position(|a| a == "--plain") {
        let plain = std::path::Path::new(&args[i + 1]);
        common::write_plain(plain, spec);
        println!("{}: {} bytes", plain.display(), common::size(plain));
    }
}
