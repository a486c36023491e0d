//! The `runstore` binary, run as a subprocess.

use std::path::Path;
use std::process::{Command, Output};

use runstore::{Context, RunQuery, RunStatus, Store};

fn runstore(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_runstore")).args(args).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn help_has_examples() {
    for args in [&["--help"][..], &["demo", "--help"], &["info", "--help"]] {
        let out = runstore(args);
        assert!(out.status.success());
        let stdout = text(&out.stdout);
        assert!(stdout.contains("Usage"), "{stdout}");
    }
    assert!(text(&runstore(&["info", "--help"]).stdout).contains("Example"));
}

#[test]
fn demo_records_what_the_readme_promises() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let db_arg = db.to_str().unwrap();
    let out = runstore(&["demo", "--out", db_arg, "--pace-ms", "0", "--epochs", "4", "--batches", "20"]);
    assert!(out.status.success(), "{}", text(&out.stderr));

    let store = Store::open_read_only(&db).unwrap();
    store.integrity_check().unwrap();
    let runs = store.runs(&RunQuery { with_metrics: true, ..Default::default() }).unwrap();
    assert!(runs.len() >= 9);
    assert!(runs.iter().all(|r| r.params.contains_key("lr") && r.params.contains_key("seed")));
    assert_eq!(runs.iter().filter(|r| r.status == RunStatus::Failed).count(), 2, "one diverges, one fails");
    let diverged = runs.iter().find(|r| r.name.contains("diverges")).unwrap();
    let loss = diverged.metrics.iter().find(|m| m.key == "train/loss").unwrap();
    assert!(loss.nan_count > 0 && loss.last.unwrap().is_nan(), "the divergence is kept");
    let converged = &runs[0];
    for key in ["train/loss", "val/loss", "val/accuracy"] {
        assert!(converged.metrics.iter().any(|m| m.key == key), "missing {key}");
    }
    let per_class =
        converged.metrics.iter().filter(|m| m.key == "val/accuracy" && !m.label.is_empty()).count();
    assert_eq!(per_class, 10);
    assert!(store.find_series(&converged.id, "val/loss", &Context::phase("val"), "").unwrap().is_some());
    assert!(store.code(&converged.id).unwrap().is_some());
    assert!(store.environment(&converged.id).unwrap().unwrap().cpu_count.is_some());
    assert_eq!(store.datasets(&converged.id).unwrap().len(), 1);
    assert!(store.epochs(&converged.id).unwrap().len() == 4);
    let stats = store.stats().unwrap();
    assert!(stats.resource_samples > 0 && stats.spans > 0 && stats.artifacts > 0);
    let models = store.models().unwrap();
    assert_eq!(models[0].versions, 3);
    assert!(models[0].aliases.contains_key("production"));

    // info, as text and as JSON.
    let out = runstore(&["info", db_arg]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("mnist-sweep") && stdout.contains("failed") && stdout.contains("mnist-cnn"),
        "{stdout}"
    );
    let out = runstore(&["info", db_arg, "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["stats"]["runs"], runs.len());
    assert_eq!(doc["models"][0]["aliases"]["production"], models[0].aliases["production"]);

    // The demo never overwrites a file.
    let out = runstore(&["demo", "--out", db_arg]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("exists"), "{}", text(&out.stderr));
}

#[test]
fn info_explains_bad_files() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.db");
    let out = runstore(&["info", missing.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("no such file"), "{}", text(&out.stderr));
    assert!(!Path::new(&missing).exists(), "info must not create files");

    let garbage = dir.path().join("garbage.db");
    std::fs::write(&garbage, vec![b'x'; 5000]).unwrap();
    let out = runstore(&["info", garbage.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("not a SQLite database"), "{}", text(&out.stderr));
}

fn demo_db(dir: &Path) -> String {
    let db = dir.join("demo.db");
    let db = db.to_str().unwrap().to_string();
    let out = runstore(&["demo", "--out", &db, "--pace-ms", "0", "--epochs", "3", "--batches", "20"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    db
}

#[test]
fn runs_filters_sorts_and_formats() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo_db(dir.path());
    let out = runstore(&["runs", &db, "--filter", "params.lr = 0.1 or state = 'failed'", "--format", "json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let runs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = runs.as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names.len(), 5, "{names:?}");
    assert!(names.iter().all(|n| n.starts_with("lr=0.1 ") || n.contains("diverges") || n.contains("fails")));

    let out = runstore(&[
        "runs",
        &db,
        "--sort",
        "-metrics.val/accuracy.max",
        "--limit",
        "2",
        "--format",
        "csv",
        "--metric",
        "val/accuracy.max",
    ]);
    let csv = text(&out.stdout);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(lines[0].starts_with("id,run,") && lines[0].ends_with("val/accuracy.max"));
    let best: Vec<f64> = lines[1..].iter().map(|l| l.rsplit(',').next().unwrap().parse().unwrap()).collect();
    assert!(best[0] >= best[1]);

    let out = runstore(&["runs", &db]);
    assert!(text(&out.stdout).contains("RUN") && text(&out.stdout).contains("failed"));

    let out = runstore(&["runs", &db, "--filter", "params.lr = and"]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("at column 13: expected a value") && err.matches("expected a value").count() == 1,
        "{err}"
    );
    let out = runstore(&["runs", &db, "--filter", "params.lrr = 1"]);
    assert!(text(&out.stderr).contains("did you mean `lr`"), "{}", text(&out.stderr));
}

#[test]
fn compare_shows_differing_params_and_the_best_run() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo_db(dir.path());
    let out = runstore(&["compare", &db, "lr=0.1 seed=0", "lr=0.01 seed=0", "--format", "json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let cmp: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(cmp["differing"]["lr"], serde_json::json!([0.1, 0.01]));
    assert!(cmp["differing"].get("seed").is_none() && cmp["same"]["seed"] == 0);
    let loss = cmp["metrics"].as_array().unwrap().iter().find(|m| m["key"] == "val/loss").unwrap();
    assert_eq!(loss["direction"], "minimize");
    assert_eq!(loss["best"], 0, "the faster learning rate reaches the lower loss");
    let out = runstore(&["compare", &db, "lr=0.1 seed=0", "no such run"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("run not found: no such run"), "{}", text(&out.stderr));
}

#[test]
fn plot_writes_png_and_svg_and_explains_mistakes() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo_db(dir.path());
    let png = dir.path().join("loss.png");
    let out =
        runstore(&["plot", &db, "--metric", "train/loss", "--smooth", "0.6", "-o", png.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    assert!(bytes.len() > 10_000, "a real image, {} bytes", bytes.len());

    let svg = dir.path().join("groups.svg");
    let out = runstore(&[
        "plot",
        &db,
        "--metric",
        "val/loss",
        "--group-by",
        "lr",
        "--log-y",
        "-o",
        svg.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let svg = std::fs::read_to_string(&svg).unwrap();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    assert!(
        svg.contains(">val/loss</text>") && svg.contains("lr=0.1 (3 runs)") && svg.contains("<polygon"),
        "title, legend, bands"
    );

    let diverged = dir.path().join("diverged.svg");
    let out = runstore(&[
        "plot",
        &db,
        "--metric",
        "train/loss",
        "--filter",
        "name like '%diverges%'",
        "-o",
        diverged.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        std::fs::read_to_string(&diverged).unwrap().contains(">NaN →</text>"),
        "the divergence is marked"
    );

    let cpu = dir.path().join("cpu.svg");
    assert!(runstore(&["plot", &db, "--resource", "cpu", "-o", cpu.to_str().unwrap()]).status.success());

    let bad = |args: &[&str], expect: &str| {
        let out = runstore(args);
        assert!(!out.status.success());
        assert!(text(&out.stderr).contains(expect), "{args:?}: {}", text(&out.stderr));
    };
    bad(&["plot", &db, "--metric", "train/loss", "-o", "x.jpg"], "must end in .png or .svg");
    bad(&["plot", &db, "--metric", "nope", "-o", "x.svg"], "has the metric `nope`");
    bad(&["plot", &db, "--metric", "train/loss", "--smooth", "1.5", "-o", "x.svg"], "weights are in [0, 1)");
    bad(&["plot", &db, "--metric", "train/loss", "--smooth", "gauss:2", "-o", "x.svg"], "unknown kind");
}

#[test]
fn summary_gives_the_collectors_analysis() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo_db(dir.path());
    let out = runstore(&["summary", &db, "--format", "json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let loss = doc["metrics"].as_array().unwrap().iter().find(|m| m["key"] == "train/loss").unwrap();
    assert_eq!((loss["runs"].as_i64(), loss["runs_ending_nan"].as_i64()), (Some(11), Some(1)));
    let round0 = doc["span_rounds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "data_generation" && r["round"] == 0)
        .unwrap();
    assert_eq!(round0["count"], 11);
    assert_eq!(round0["samples"].as_f64(), Some(11.0 * 20.0 * 64.0));
    assert!(
        doc["resources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["kind"] == "cpu" && r["name"] == "system_total")
    );
    let out = runstore(&["summary", &db]);
    let table = text(&out.stdout);
    assert!(table.contains("Performance by round") && table.contains("Resource usage"), "{table}");
}

#[test]
fn export_writes_csv_json_and_parquet_tables() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo_db(dir.path());
    let store = Store::open_read_only(&db).unwrap();
    let stats = store.stats().unwrap();

    let csv_dir = dir.path().join("csv");
    let out = runstore(&["export", &db, "--format", "csv", "-o", csv_dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let points = std::fs::read_to_string(csv_dir.join("points.csv")).unwrap();
    assert_eq!(points.lines().count() as i64, stats.points + 1, "a header and one line per point");
    assert_eq!(
        points.lines().filter(|l| l.ends_with(",NaN")).count() as i64,
        stats.nan_points,
        "NaN is kept"
    );
    let runs_csv = std::fs::read_to_string(csv_dir.join("runs.csv")).unwrap();
    assert!(runs_csv.lines().next().unwrap().contains("params.lr"));
    assert_eq!(runs_csv.lines().count() as i64, stats.runs + 1);
    assert_eq!(
        std::fs::read_to_string(csv_dir.join("summaries.csv")).unwrap().lines().count() as i64,
        stats.series + 1
    );

    let json = dir.path().join("points.json");
    let out = runstore(&[
        "export",
        &db,
        "--format",
        "json",
        "--table",
        "points",
        "--filter",
        "name like '%diverges%'",
        "-o",
        json.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert!(rows.iter().all(|r| r["run"].as_str().unwrap().contains("diverges")));
    assert!(rows.iter().any(|r| r["value"] == "NaN"));

    let pq = dir.path().join("pq");
    let out = runstore(&["export", &db, "--format", "parquet", "-o", pq.to_str().unwrap()]);
    #[cfg(not(feature = "dataframe"))]
    {
        assert!(!out.status.success() && !pq.exists());
        let err = text(&out.stderr);
        assert!(err.contains("without Parquet export") && err.contains("--format csv"), "{err}");
    }
    #[cfg(feature = "dataframe")]
    parquet_tables_hold_every_point(out, &pq, &stats);
}

#[cfg(feature = "dataframe")]
fn parquet_tables_hold_every_point(out: Output, pq: &Path, stats: &runstore_core::read::StoreStats) {
    assert!(out.status.success(), "{}", text(&out.stderr));
    let bytes = std::fs::read(pq.join("points.parquet")).unwrap();
    assert_eq!(&bytes[..4], b"PAR1");
    use runstore::dataframe::polars::prelude::*;
    let df = ParquetReader::new(std::fs::File::open(pq.join("points.parquet")).unwrap()).finish().unwrap();
    assert_eq!(df.height() as i64, stats.points);
    let values = df.column("value").unwrap().f64().unwrap();
    let nan = values.downcast_iter().flat_map(|a| a.values().iter().copied()).filter(|v| v.is_nan()).count();
    assert_eq!(nan as i64, stats.nan_points);
    let runs = ParquetReader::new(std::fs::File::open(pq.join("runs.parquet")).unwrap()).finish().unwrap();
    assert_eq!(runs.column("params.lr").unwrap().dtype(), &DataType::Float64);
}

/// A copy of the page with a stand-in for the wasm build (the browser tests open real reports).
fn page_copy(dir: &Path) -> std::path::PathBuf {
    let www = dir.join("www");
    std::fs::create_dir_all(www.join("pkg")).unwrap();
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../www");
    for entry in std::fs::read_dir(&source).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::copy(&path, www.join(path.file_name().unwrap())).unwrap();
        }
    }
    std::fs::write(www.join("pkg/runstore_web.js"), "let wasm_bindgen;").unwrap();
    std::fs::write(www.join("pkg/runstore_web_bg.wasm"), b"\0asm").unwrap();
    www
}

#[test]
fn report_inlines_page_wasm_and_data_and_keeps_existing_files() {
    let dir = tempfile::tempdir().unwrap();
    let www = page_copy(dir.path());
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/basic.db");
    let out = dir.path().join("report.html");
    let (out_s, www_s) = (out.to_str().unwrap(), www.to_str().unwrap());
    let done = runstore(&["report", fixture, "-o", out_s, "--www", www_s]);
    assert!(done.status.success(), "{}", text(&done.stderr));
    assert!(text(&done.stdout).contains("no server needed"));
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.contains("data-name=\"basic.db\""));
    assert!(html.contains("function drawChart") && html.contains("globalThis.runstoreInline"));
    assert!(!html.contains("src=\"app.js\"") && !html.contains("href=\"style.css\""), "nothing is fetched");
    // The embedded data is the file's content.
    let b64_start = html.find("data-name=\"basic.db\">").unwrap() + "data-name=\"basic.db\">".len();
    let b64_len = html[b64_start..].find("</script>").unwrap();
    assert!(b64_len > 600_000, "basic.db (512 KiB) as base64");

    let again = runstore(&["report", fixture, "-o", out_s, "--www", www_s]);
    assert!(!again.status.success());
    assert!(text(&again.stderr).contains("--force"), "{}", text(&again.stderr));
    assert!(runstore(&["report", fixture, "-o", out_s, "--www", www_s, "--force"]).status.success());

    let missing =
        runstore(&["report", fixture, "-o", out_s, "--www", dir.path().to_str().unwrap(), "--force"]);
    assert!(text(&missing.stderr).contains("scripts/build-web"), "{}", text(&missing.stderr));
}

/// A file whose names a spreadsheet would run as formulas: a run `=HYPERLINK("http://x")`
/// with the text param and tag `@SUM(1)`, a metric `@acc`, and a metric `loss` ending at -0.5.
fn formula_db(dir: &Path) -> String {
    let db = dir.join("formulas.db");
    let (rec, guard) = runstore::Recorder::open(&db).unwrap();
    let run = rec.experiment("e").unwrap().start_run("=HYPERLINK(\"http://x\")");
    run.params([("note", "@SUM(1)")]);
    run.tags(&[("note", "@SUM(1)")]);
    run.series("loss", &Context::phase("train")).log(0, -0.5);
    run.series("@acc", &Context::phase("val")).log(0, 0.5);
    run.finish();
    drop(guard);
    db.to_str().unwrap().to_string()
}

/// Whether some cell of `csv` (naively split: the test's cells hold no commas) starts like
/// a formula without the neutralising `'`.
fn has_formula(csv: &str) -> bool {
    csv.lines().flat_map(|l| l.split(',')).any(|c| c.trim_start_matches('"').starts_with(['=', '+', '@']))
}

#[test]
fn csv_cells_are_never_formulas_but_numbers_stay_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let db = formula_db(dir.path());
    let out = runstore(&["runs", &db, "--format", "csv"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let csv = text(&out.stdout);
    assert!(csv.contains(r#""'=HYPERLINK(""http://x"")""#) && csv.contains(",'@SUM(1),"), "{csv}");
    assert!(csv.lines().next().unwrap().contains(",'@acc"), "{csv}");
    assert!(!has_formula(&csv), "{csv}");
    assert!(csv.lines().nth(1).unwrap().ends_with(",-0.5"), "a number is kept: {csv}");

    let export = dir.path().join("csv");
    let out = runstore(&["export", &db, "--format", "csv", "-o", export.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    for (table, number) in
        [("runs", None), ("summaries", Some(",-0.5,-0.5,-0.5,-0.5")), ("points", Some(",-0.5"))]
    {
        let csv = std::fs::read_to_string(export.join(format!("{table}.csv"))).unwrap();
        assert!(csv.contains(r#""'=HYPERLINK(""http://x"")""#), "{table}: {csv}");
        assert!(!has_formula(&csv), "{table}: {csv}");
        if let Some(number) = number {
            assert!(csv.lines().any(|l| l.ends_with(number)), "{table}: {csv}");
        }
    }
}

#[test]
fn names_from_the_file_never_reach_the_terminal_raw() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("escape.db");
    let (rec, guard) = runstore::Recorder::open(&db).unwrap();
    let run = rec.experiment("e").unwrap().start_run("r\u{1b}[2J");
    run.series("\u{1b}]0;pwned\u{7}", &Context::phase("train")).log(0, 1.0);
    run.finish();
    drop(guard);
    let db = db.to_str().unwrap();

    let out = runstore(&["runs", db, "--filter", "metrics.x.min < 1"]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("Known metrics: \\u{1b}]0;pwned\\u{7}"), "{err}");
    assert!(!out.stderr.contains(&0x1b) && !out.stderr.contains(&0x07), "{err}");

    let out = runstore(&["runs", db]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    assert!(table.contains("\\u{1b}]0;pwned\\u{7}") && table.contains("r\\u{1b}[2J"), "{table}");
    assert!(!out.stdout.contains(&0x1b) && !out.stdout.contains(&0x07), "{table}");
}

/// Runs `runstore serve ARGS` until dropped, reading what it prints first.
struct ServeCommand(std::process::Child);

impl ServeCommand {
    /// Starts the command and returns it with the lines it printed before "(Ctrl-C to stop)".
    fn start(dir: &std::path::Path, args: &[&str]) -> (ServeCommand, String) {
        use std::io::BufRead;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_runstore"))
            .current_dir(dir)
            .arg("serve")
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        let command = ServeCommand(child);
        let mut printed = String::new();
        for line in stdout.lines() {
            let line = line.unwrap();
            if line.contains("Ctrl-C") {
                break;
            }
            printed.push_str(&line);
            printed.push('\n');
        }
        (command, printed)
    }
}

impl Drop for ServeCommand {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn serve_says_which_file_each_name_serves() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("www")).unwrap();
    std::fs::write(dir.path().join("www/index.html"), "<!doctype html><title>t</title>").unwrap();
    for path in ["a/runs.db", "b/runs.db"] {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, [0u8; 100]).unwrap();
    }
    let (_command, printed) =
        ServeCommand::start(dir.path(), &["a/runs.db", "b/runs.db", "--port", "0", "--www", "www"]);
    let line = |name: &str| {
        let mut lines = printed.lines().filter(|l| !l.contains("http://"));
        lines.find(|l| l.split_whitespace().any(|w| w == name)).unwrap_or_default().to_string()
    };
    assert!(line("/files/runs.db").contains("a/runs.db"), "{printed}");
    assert!(line("/files/runs-2.db").contains("b/runs.db"), "{printed}");
    assert!(printed.contains("?db=/files/runs.db&db=/files/runs-2.db"), "{printed}");
}

#[test]
fn the_cli_merges_with_a_report() {
    let dir = tempfile::tempdir().unwrap();
    let (a, all) = (dir.path().join("a.db"), dir.path().join("all.db"));
    let options = runstore::demo::DemoOptions { epochs: 2, batches: 10, ..Default::default() };
    runstore::demo::record_demo(&a, &options).unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_runstore")).args(args).output().unwrap()
    };
    let out = run(&["merge", a.to_str().unwrap(), "-o", all.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["runs_added"], 11);
    let out = run(&["merge", all.to_str().unwrap(), "-o", all.to_str().unwrap()]);
    assert!(!out.status.success(), "merging a file into itself is refused");
}

/// One HTTP/1.0 GET of `path` from `address`: the status line, the headers (lowercase) and
/// the body.
fn http_get(address: &str, path: &str) -> (String, String, Vec<u8>) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(std::time::Duration::from_secs(20))).unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let (status, headers) = head.split_once("\r\n").unwrap_or((&head, ""));
    (status.to_string(), headers.to_lowercase(), raw[split + 4..].to_vec())
}

#[test]
fn report_and_serve_carry_their_page_and_work_from_any_directory() {
    // A directory with no www/ in sight: the page comes from the binary.
    let dir = tempfile::tempdir().unwrap();
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/basic.db");
    let done = Command::new(env!("CARGO_BIN_EXE_runstore"))
        .current_dir(dir.path())
        .args(["report", fixture, "-o", "report.html"])
        .output()
        .unwrap();
    assert!(done.status.success(), "{}", text(&done.stderr));
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(html.contains("function drawChart") && html.contains("data-name=\"basic.db\""));
    let marker = "id=\"runstore-wasm\">";
    let wasm = &html[html.find(marker).unwrap() + marker.len()..];
    let wasm = &wasm[..wasm.find("</script>").unwrap()];
    // base64 of "\0asm", and the real module, not a stand-in (it holds SQLite: over 500 KB).
    assert!(wasm.starts_with("AGFzbQ") && wasm.len() > 700_000, "{} bytes of base64", wasm.len());

    let (_command, printed) = ServeCommand::start(dir.path(), &[fixture, "--port", "0"]);
    let url =
        printed.lines().find_map(|l| l.strip_prefix("open http://")).unwrap_or_else(|| panic!("{printed}"));
    let address = url.split('/').next().unwrap();
    let (status, headers, body) = http_get(address, "/");
    assert!(status.contains(" 200 ") && headers.contains("content-type: text/html"), "{status} {headers}");
    assert!(String::from_utf8_lossy(&body).contains("app.js"));
    let (status, headers, body) = http_get(address, "/pkg/runstore_web_bg.wasm");
    assert!(
        status.contains(" 200 ") && headers.contains("content-type: application/wasm"),
        "{status} {headers}"
    );
    assert!(body.starts_with(b"\0asm") && body.len() > 500_000, "{} bytes", body.len());
    for path in ["/pkg/runstore_web.js", "/worker.js", "/style.css", "/runstore-chart.js", "/embed.html"] {
        assert!(http_get(address, path).0.contains(" 200 "), "{path}");
    }
    assert!(http_get(address, "/pkg/missing.js").0.contains(" 404 "));
    assert!(http_get(address, "/files/basic.db").0.contains(" 200 "));
}

#[test]
fn output_into_a_closed_pipe_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo_db(dir.path());
    for args in [
        &["compare", &db, "lr=0.1 seed=0", "lr=0.01 seed=0"][..],
        &["runs", &db, "--format", "csv"],
        &["info", &db, "--format", "json"],
        &["summary", &db],
        &["--help"],
    ] {
        // Nobody reads this pipe: the first write fails (EPIPE), as under `| head -1` once
        // head has its line.
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = Command::new(env!("CARGO_BIN_EXE_runstore")).args(args).stdout(writer).output().unwrap();
        let err = text(&out.stderr);
        assert!(out.status.success() && err.is_empty(), "{args:?}: {:?} {err}", out.status);
    }
}
