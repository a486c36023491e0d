//! `runstore import`, run as a subprocess, read back with the library and checked against
//! Python's own reading of the same CSV files.

use std::path::Path;
use std::process::{Command, Output};

use runstore::{RunQuery, Store};

fn runstore(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_runstore")).args(args).output().unwrap()
}

/// A JSON file of a fixture folder, parsed.
fn fixture_json<T: serde::de::DeserializeOwned>(fixtures: &Path, name: &str) -> T {
    serde_json::from_str(&std::fs::read_to_string(fixtures.join(name)).unwrap()).unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A W&B panel export (two runs, companions, gaps, NaN/±Inf, a word) and a run history.
fn write_exports(dir: &Path) -> (String, String) {
    let panel = dir.join("panel.csv");
    std::fs::write(
        &panel,
        "\"Step\",\"dulcet-wave-12 - train/loss\",\"dulcet-wave-12 - train/loss__MIN\",\"dulcet-wave-12 - train/loss__MAX\",\"fresh-sun-3 - train/loss\"\n\
         0,2.302585092994046,2.3,2.31,2.1\n\
         10,1.25e-1,,,NaN\n\
         20,,,,inf\n\
         30,0.1000000000000000055511151231257827,,,-inf\n\
         40,diverged,,,0.3333333333333333\n",
    )
    .unwrap();
    let history = dir.join("history.csv");
    std::fs::write(
        &history,
        ",_step,_runtime,_timestamp,val/acc,lr\n0,0,1.0,1750000000.5,0.5,0.001\n1,1,2.0,1750000001.5,0.625,\n2,2,3.0,1750000002.5,,0.0005\n",
    )
    .unwrap();
    (panel.to_str().unwrap().to_owned(), history.to_str().unwrap().to_owned())
}

/// (run, key, step, value bits) of every number Python's csv module and float() read.
fn python_points(panel: &str, history: &str) -> Vec<(String, String, i64, u64)> {
    let script = r#"
import csv, struct, sys
for path, stem in [(sys.argv[1], None), (sys.argv[2], "history")]:
    rows = list(csv.reader(open(path, newline="")))
    head = rows[0]
    step = next(i for i, h in enumerate(head) if h in ("Step", "_step", "step"))
    for r in rows[1:]:
        for i, h in enumerate(head):
            if i == step or not h or h.startswith("_") or h.endswith(("__MIN", "__MAX")) or not r[i]:
                continue
            try:
                v = float(r[i])
            except ValueError:
                continue
            run, key = h.rsplit(" - ", 1) if " - " in h else (stem, h)
            print(run, key, int(float(r[step])), struct.unpack("<Q", struct.pack("<d", v))[0])
"#;
    let out = Command::new("python3").args(["-c", script, panel, history]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    points_printed(&out.stdout)
}

/// (run, key, step, value bits) of every cell of every metric column as pandas reads the files
/// (`pd.read_csv`, then `pd.to_numeric` for a column with words in it): pandas has one NaN for
/// a NaN, an empty cell and a word alike. Uses the test virtualenv (scripts/setup makes it).
fn pandas_cells(panel: &str, history: &str) -> Vec<(String, String, i64, u64)> {
    let script = r#"
import struct, sys
import pandas as pd
for path, stem in [(sys.argv[1], None), (sys.argv[2], "history")]:
    df = pd.read_csv(path)
    step = next(c for c in df.columns if c in ("Step", "_step", "step"))
    for col in df.columns:
        if col == step or col.startswith(("_", "Unnamed:")) or col.endswith(("__MIN", "__MAX")):
            continue
        run, key = col.rsplit(" - ", 1) if " - " in col else (stem, col)
        for s, v in zip(df[step], pd.to_numeric(df[col], errors="coerce")):
            print(run, key, int(s), struct.unpack("<Q", struct.pack("<d", float(v)))[0])
"#;
    let venv = std::env::var("RUNSTORE_PYTHON_VENV")
        .unwrap_or_else(|_| format!("{}/.cache/runstore/python-venv", std::env::var("HOME").unwrap()));
    let python = Path::new(&venv).join("bin/python");
    assert!(
        python.exists(),
        "{} missing: the test virtualenv with pandas comes from scripts/setup",
        python.display()
    );
    let out = Command::new(python).args(["-c", script, panel, history]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    points_printed(&out.stdout)
}

/// The `RUN KEY STEP BITS` lines the Python readers print.
fn points_printed(stdout: &[u8]) -> Vec<(String, String, i64, u64)> {
    text(stdout)
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            (f[0].to_owned(), f[1].to_owned(), f[2].parse().unwrap(), f[3].parse().unwrap())
        })
        .collect()
}

/// (run, key, step, value bits) of every point in the file (NaN as Python writes it).
fn stored_points(db: &Path) -> Vec<(String, String, i64, u64)> {
    let store = Store::open_read_only(db).unwrap();
    let mut out = Vec::new();
    for run in store.runs(&RunQuery { with_metrics: true, ..Default::default() }).unwrap() {
        for s in &run.metrics {
            for p in store.series_points(s.series_id).unwrap() {
                let bits = if p.value.is_nan() { f64::NAN.to_bits() } else { p.value.to_bits() };
                out.push((run.name.clone(), s.key.clone(), p.step, bits));
            }
        }
    }
    out
}

#[test]
fn wandb_csv_imports_every_number_exactly_once_and_says_what_it_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let (panel, history) = write_exports(dir.path());
    let db = dir.path().join("runs.db");
    let db_arg = db.to_str().unwrap();
    let out = runstore(&["import", "wandb-csv", &panel, &history, "-o", db_arg]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stderr);
    assert!(said.contains("imported 3 runs (0 imported before"), "{said}");
    assert!(
        said.contains("skipped column \"dulcet-wave-12 - train/loss__MIN\"")
            && said.contains("min/max companion"),
        "{said}"
    );
    assert!(
        said.contains("skipped 1 cells of column \"dulcet-wave-12 - train/loss\"")
            && said.contains("not numbers"),
        "{said}"
    );

    let mut expected = python_points(&panel, &history);
    let mut stored = stored_points(&db);
    expected.sort();
    stored.sort();
    assert_eq!(stored.len(), 12, "{stored:?}");
    assert_eq!(stored, expected, "every value exactly as Python reads it, NaN and ±Inf included");
    // pandas: every cell it reads is the stored point at that step, or NaN where none is.
    let cells = pandas_cells(&panel, &history);
    assert_eq!(cells.len(), 16, "5 rows x 2 columns of the panel, 3 x 2 of the history");
    let nan = f64::NAN.to_bits();
    for (run, key, step, bits) in &cells {
        match stored.iter().find(|(r, k, s, _)| (r, k, s) == (run, key, step)) {
            Some(point) => assert_eq!(point.3, *bits, "{run} {key} at {step}"),
            None => {
                assert_eq!(*bits, nan, "pandas read a number where no point was stored: {run} {key} {step}")
            }
        }
    }
    assert!(
        stored.iter().all(|(r, k, s, _)| cells.iter().any(|(cr, ck, cs, _)| (cr, ck, cs) == (r, k, s))),
        "every stored point is a cell pandas reads"
    );

    let store = Store::open_read_only(&db).unwrap();
    let runs = store.runs(&RunQuery::default()).unwrap();
    let history_run = runs.iter().find(|r| r.name == "history").unwrap();
    assert_eq!(
        (history_run.started_ms, history_run.ended_ms),
        (Some(1_750_000_000_500), Some(1_750_000_002_500))
    );
    assert_eq!(history_run.tags.get("import.source").map(String::as_str), Some("wandb-csv"));
    assert!(runs.iter().all(|r| r.experiment == "wandb" && r.status == runstore::RunStatus::Completed));

    // Again: nothing added.
    let again = runstore(&["import", "wandb-csv", &panel, &history, "-o", db_arg, "--json"]);
    assert!(again.status.success(), "{}", text(&again.stderr));
    let report: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!((report["runs_added"].as_u64(), report["runs_present"].as_u64()), (Some(0), Some(3)));
    assert_eq!(store.runs(&RunQuery::default()).unwrap().len(), 3);
}

#[test]
fn a_csv_without_a_step_column_fails_the_import_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (panel, _) = write_exports(dir.path());
    let bad = dir.path().join("no-step.csv");
    std::fs::write(&bad, "time,loss\n0,1\n").unwrap();
    let db = dir.path().join("runs.db");
    let out = runstore(&["import", "wandb-csv", &panel, bad.to_str().unwrap(), "-o", db.to_str().unwrap()]);
    assert!(!out.status.success());
    let said = text(&out.stderr);
    assert!(said.contains("no-step.csv: no step column") && said.contains("time, loss"), "{said}");
    assert!(!db.exists(), "nothing written: the output was not even created");
    let missing = runstore(&["import", "wandb-csv", "nowhere.csv", "-o", db.to_str().unwrap()]);
    assert!(text(&missing.stderr).contains("nowhere.csv: no such file"), "{}", text(&missing.stderr));
}

/// The MLflow fixtures (tests/fixtures/mlflow/make.py: the same runs written by MLflow itself
/// into its SQLite store and its file store, with what MLflow's client reads back) import to
/// the same runs, params, tags and every metric point, bit for bit (NaN, and ±Inf as each store
/// keeps them), the same registered models, versions, tags and aliases, and the runs'
/// artifacts: the file store's files with their sizes and SHA-256 as the client downloads
/// them; the SQLite store's locations (its files were in a folder that is gone).
#[test]
fn an_mlflow_sqlite_store_imports_as_mlflows_own_client_reads_it() {
    check_mlflow_import("mlflow.db", "expected.json");
}

/// The same runs logged by MLflow 2.22.1: its SQLite schema (alembic 0584bdc529eb) reads alike.
#[test]
fn an_mlflow_2_sqlite_store_imports_as_mlflows_own_client_reads_it() {
    check_mlflow_import("mlflow2.db", "expected_mlflow2.json");
}

#[test]
fn an_mlflow_file_store_imports_as_mlflows_own_client_reads_it() {
    check_mlflow_import("mlruns", "expected_mlruns.json");
}

fn check_mlflow_import(source: &str, expected: &str) {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/mlflow");
    let expected: serde_json::Value = fixture_json(&fixtures, expected);
    let file_store = source == "mlruns";
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("runs.db");
    // The file store as a git checkout has it: without the empty folders MLflow made.
    let mlflow_db = if file_store {
        copy_files(&fixtures.join(source), &dir.path().join(source))
    } else {
        fixtures.join(source)
    };
    let out = runstore(&["import", "mlflow", mlflow_db.to_str().unwrap(), "-o", db.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("(thrown away)") && text(&out.stderr).contains("deleted in MLflow"),
        "{}",
        text(&out.stderr)
    );

    let store = Store::open_read_only(&db).unwrap();
    let runs = store.runs(&RunQuery { with_metrics: true, ..Default::default() }).unwrap();
    let mut compared_points = 0;
    for want in expected["runs"].as_array().unwrap() {
        let id = want["run_id"].as_str().unwrap();
        let found = runs
            .iter()
            .find(|r| r.tags.get("import.source_id").map(String::as_str) == Some(&format!("mlflow:{id}")));
        if want["lifecycle_stage"] == "deleted" {
            assert!(found.is_none(), "a deleted run is left out");
            continue;
        }
        let run = found.unwrap_or_else(|| panic!("run {id} not imported"));
        assert_eq!(run.name, want["name"].as_str().unwrap());
        assert_eq!(run.experiment, want["experiment"].as_str().unwrap());
        let status = match want["status"].as_str().unwrap() {
            "FINISHED" => "completed",
            "FAILED" => "failed",
            "RUNNING" => "running",
            other => panic!("{other}"),
        };
        assert_eq!(run.status.to_string(), status, "{}", run.name);
        assert_eq!(run.started_ms, want["start_time"].as_i64());
        if status != "running" {
            assert_eq!(run.ended_ms, want["end_time"].as_i64(), "{}", run.name);
        }
        for (key, value) in want["params"].as_object().unwrap() {
            let got = match &run.params[key] {
                runstore::ParamValue::Int(i) => i.to_string(),
                runstore::ParamValue::Float(x) => format!("{x}"),
                runstore::ParamValue::Str(s) => s.clone(),
                other => panic!("{other:?}"),
            };
            assert_eq!(got, value.as_str().unwrap(), "param {key} of {}", run.name);
        }
        for (key, value) in want["tags"].as_object().unwrap() {
            assert_eq!(run.tags.get(key).map(String::as_str), value.as_str(), "tag {key} of {}", run.name);
        }
        let artifacts = store.run_artifacts(&run.id).unwrap();
        if file_store {
            let got: Vec<(String, i64, String)> = artifacts
                .iter()
                .map(|a| (a.name.clone(), a.size_bytes.unwrap(), a.sha256.clone().unwrap()))
                .collect();
            let want: Vec<(String, i64, String)> = want["artifacts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| {
                    (a[0].as_str().unwrap().into(), a[1].as_i64().unwrap(), a[2].as_str().unwrap().into())
                })
                .collect();
            assert_eq!(got, want, "artifacts of {}", run.name);
        } else {
            let got: Vec<(&str, &str)> =
                artifacts.iter().map(|a| (a.kind.as_str(), a.uri.as_str())).collect();
            assert_eq!(got, [("location", want["artifact_uri"].as_str().unwrap())], "{}", run.name);
        }
        let histories = want["metrics"].as_object().unwrap();
        assert_eq!(run.metrics.len(), histories.len(), "{}", run.name);
        for (key, history) in histories {
            let series = run.metrics.iter().find(|s| &s.key == key).unwrap();
            let points = store.series_points(series.series_id).unwrap();
            let history = history.as_array().unwrap();
            assert_eq!(points.len(), history.len(), "{key} of {}", run.name);
            for (p, h) in points.iter().zip(history) {
                let value: f64 = h[2].as_str().unwrap().parse().unwrap();
                assert_eq!(
                    (p.step, p.time_ms),
                    (h[0].as_i64().unwrap(), h[1].as_i64().unwrap()),
                    "{key} of {}",
                    run.name
                );
                assert!(
                    p.value.to_bits() == value.to_bits() || (p.value.is_nan() && value.is_nan()),
                    "{key} of {} at {}: {} vs {value}",
                    run.name,
                    p.step,
                    p.value
                );
                compared_points += 1;
            }
        }
    }
    assert_eq!(compared_points, 614);
    let sweep = store.experiment("sweep").unwrap();
    assert_eq!(sweep.tags.get("team").map(String::as_str), Some("vision"));
    check_mlflow_models(&store, &expected, &runs, file_store);
    // Again: nothing added.
    let again =
        runstore(&["import", "mlflow", mlflow_db.to_str().unwrap(), "-o", db.to_str().unwrap(), "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!((report["runs_added"].as_u64(), report["runs_present"].as_u64()), (Some(0), Some(4)));
    assert_eq!(
        (report["model_versions"].as_u64(), report["model_versions_present"].as_u64()),
        (Some(0), Some(2))
    );
    assert_eq!(Store::open_read_only(&db).unwrap().models().unwrap().len(), 2, "no model twice");
}

/// Copies the files under `from` to `to` (folders only as files need them), returning `to`.
fn copy_files(from: &Path, to: &Path) -> std::path::PathBuf {
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_files(&path, &target);
        } else {
            std::fs::create_dir_all(to).unwrap();
            std::fs::copy(&path, &target).unwrap();
        }
    }
    to.to_owned()
}

/// The registry as MLflow's client lists it: models, tags, aliases, live versions.
fn check_mlflow_models(
    store: &Store,
    expected: &serde_json::Value,
    runs: &[runstore::RunInfo],
    file_store: bool,
) {
    let models = store.models().unwrap();
    let want_models = expected["models"].as_array().unwrap();
    assert_eq!(models.len(), want_models.len());
    for want in want_models {
        let name = want["name"].as_str().unwrap();
        let model = models.iter().find(|m| m.name == name).unwrap();
        assert_eq!(model.description, want["description"].as_str().unwrap_or(""));
        for (key, value) in want["tags"].as_object().unwrap() {
            assert_eq!(model.tags.get(key).map(String::as_str), value.as_str(), "tag {key} of {name}");
        }
        let aliases: Vec<(String, i64)> = want["aliases"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(a, v)| (a.clone(), v.as_i64().unwrap_or_else(|| v.as_str().unwrap().parse().unwrap())))
            .collect();
        assert_eq!(model.aliases.clone().into_iter().collect::<Vec<_>>(), aliases, "{name}");
        let versions = store.model_versions(name).unwrap();
        let want_versions = want["versions"].as_array().unwrap();
        assert_eq!(versions.len(), want_versions.len(), "deleted versions left out");
        for (v, w) in versions.iter().zip(want_versions) {
            assert_eq!(v.version, w["version"].as_i64().unwrap());
            assert_eq!(v.description, w["description"].as_str().unwrap());
            assert_eq!(v.storage_path, w["source"].as_str().unwrap());
            for (key, value) in w["tags"].as_object().unwrap() {
                assert_eq!(
                    v.tags.get(key).map(String::as_str),
                    value.as_str(),
                    "tag {key} of v{}",
                    v.version
                );
            }
            let made_by = runs
                .iter()
                .find(|r| {
                    r.tags.get("import.source_id")
                        == Some(&format!("mlflow:{}", w["run_id"].as_str().unwrap()))
                })
                .unwrap();
            assert_eq!(v.source_run_id.as_deref(), Some(made_by.id.as_str()));
            // The model's files are its run's `model/` artifacts, read when they are here.
            let run =
                expected["runs"].as_array().unwrap().iter().find(|r| r["run_id"] == w["run_id"]).unwrap();
            let model_bytes: i64 = run["artifacts"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|a| a[0].as_str().unwrap().starts_with("model/"))
                .map(|a| a[1].as_i64().unwrap())
                .sum();
            assert_eq!(v.size_bytes, if file_store { model_bytes } else { 0 }, "v{}", v.version);
        }
    }
}

#[test]
fn mlflow_import_refuses_what_is_not_an_mlflow_store() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("runs.db");
    let basic = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/basic.db");
    let out = runstore(&["import", "mlflow", basic.to_str().unwrap(), "-o", db.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("not an MLflow tracking store: no table `experiment_tags`"),
        "{}",
        text(&out.stderr)
    );
    let folder = runstore(&["import", "mlflow", dir.path().to_str().unwrap(), "-o", db.to_str().unwrap()]);
    assert!(text(&folder.stderr).contains("not an MLflow file store"), "{}", text(&folder.stderr));
    assert!(!db.exists());
}

/// The TensorBoard fixture (tests/fixtures/tensorboard/make.py: event files by tensorboardX and
/// TensorBoard's own writer, with what tbparse reads back in expected.json) imports to the same
/// scalars, bit for bit, and leaves out the text and the histogram.
#[test]
fn tensorboard_logs_import_as_tbparse_reads_them() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/tensorboard");
    let expected: Vec<(String, String, i64, String, String)> = fixture_json(&fixtures, "expected.json");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("runs.db");
    let logs = fixtures.join("logs");
    let out = runstore(&["import", "tensorboard", logs.to_str().unwrap(), "-o", db.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stderr);
    assert!(
        said.contains("imported 2 runs")
            && said.contains("\"notes/text_summary\"")
            && said.contains("\"weights\"")
            && said.contains("not scalars")
            && !said.contains("_hparams_"),
        "{said}"
    );
    let store = Store::open_read_only(&db).unwrap();
    let mut stored = Vec::new();
    let mut params = Vec::new();
    for run in store.runs(&RunQuery { with_metrics: true, ..Default::default() }).unwrap() {
        for (name, value) in &run.params {
            let value = match value {
                runstore::ParamValue::Float(x) => serde_json::json!(x),
                runstore::ParamValue::Bool(b) => serde_json::json!(b),
                runstore::ParamValue::Str(s) => serde_json::json!(s),
                other => panic!("{other:?}"),
            };
            params.push(serde_json::json!([run.name, name, value]));
        }
        for s in &run.metrics {
            for p in store.series_points(s.series_id).unwrap() {
                let bits = if p.value.is_nan() { f64::NAN.to_bits() } else { p.value.to_bits() };
                stored.push((run.name.clone(), s.key.clone(), p.step, p.time_ms, bits));
            }
        }
    }
    let mut wanted: Vec<_> = expected
        .iter()
        .map(|(run, tag, step, wall, value)| {
            let wall: f64 = wall.parse().unwrap();
            let value: f64 = value.parse().unwrap();
            let bits = if value.is_nan() { f64::NAN.to_bits() } else { value.to_bits() };
            (run.clone(), tag.clone(), *step, (wall * 1000.0).round() as i64, bits)
        })
        .collect();
    stored.sort();
    wanted.sort();
    assert_eq!(stored.len(), 440);
    assert_eq!(stored, wanted, "every scalar as tbparse reads it, NaN and ±Inf included");
    let hparams: Vec<serde_json::Value> = fixture_json(&fixtures, "expected_hparams.json");
    params.sort_by_key(|p| p.to_string());
    assert_eq!(params.len(), 7);
    assert_eq!(params, hparams, "hyperparameters as tbparse reads them");
    let again =
        runstore(&["import", "tensorboard", logs.to_str().unwrap(), "-o", db.to_str().unwrap(), "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!((report["runs_added"].as_u64(), report["runs_present"].as_u64()), (Some(0), Some(2)));
}

/// Copies the fixture's logs into `dir`, returning the TF1 event file of run lr=0.1.
fn copy_logs(dir: &Path) -> std::path::PathBuf {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/tensorboard/logs/lr=0.1");
    let to = dir.join("logs/lr=0.1");
    std::fs::create_dir_all(&to).unwrap();
    let mut tf1 = None;
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let copy = to.join(path.file_name().unwrap());
        std::fs::copy(&path, &copy).unwrap();
        if copy.to_string_lossy().ends_with(".a") {
            tf1 = Some(copy);
        }
    }
    tf1.unwrap()
}

#[test]
fn a_cut_short_event_file_imports_up_to_its_last_whole_record_and_a_bad_crc_fails() {
    let dir = tempfile::tempdir().unwrap();
    let file = copy_logs(dir.path());
    let bytes = std::fs::read(&file).unwrap();
    // Cut inside one of the loss records (the first half of the file: the histogram after them
    // is the other half).
    std::fs::write(&file, &bytes[..bytes.len() / 4]).unwrap();
    let db = dir.path().join("runs.db");
    let logs = dir.path().join("logs");
    let out = runstore(&["import", "tensorboard", logs.to_str().unwrap(), "-o", db.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("cut short"), "{}", text(&out.stderr));
    let store = Store::open_read_only(&db).unwrap();
    let runs = store.runs(&RunQuery { with_metrics: true, ..Default::default() }).unwrap();
    let loss = runs[0].metrics.iter().find(|s| s.key == "train/loss").unwrap();
    assert!(loss.count > 10 && loss.count < 120, "the records before the cut: {}", loss.count);
    drop(store);

    // A flipped byte inside a record: an error naming the file and the offset; nothing written.
    let dir = tempfile::tempdir().unwrap();
    let file = copy_logs(dir.path());
    let mut bytes = std::fs::read(&file).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x5a;
    std::fs::write(&file, &bytes).unwrap();
    let db = dir.path().join("runs.db");
    let out = runstore(&[
        "import",
        "tensorboard",
        dir.path().join("logs").to_str().unwrap(),
        "-o",
        db.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let said = text(&out.stderr);
    assert!(
        said.contains(file.file_name().unwrap().to_str().unwrap())
            && said.contains("CRC")
            && said.contains("at byte"),
        "{said}"
    );
    assert!(!db.exists(), "nothing written");
}

/// The trackio fixture (tests/fixtures/trackio/make.py: a project database written by trackio,
/// with what trackio's own reader returns in expected.json) imports to the same points, bit for
/// bit (NaN and ±Inf from trackio's strings), timestamps to the ms, and configs as params.
#[test]
fn a_trackio_database_imports_as_trackios_own_reader_reads_it() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/trackio");
    let expected: serde_json::Value = fixture_json(&fixtures, "expected.json");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("runs.db");
    let source = fixtures.join("sweep.db");
    let out = runstore(&["import", "trackio", source.to_str().unwrap(), "-o", db.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stderr);
    assert!(said.contains("4 values of \"note\"") && said.contains("not numbers"), "{said}");
    let store = Store::open_read_only(&db).unwrap();
    let runs = store.runs(&RunQuery { with_metrics: true, ..Default::default() }).unwrap();
    assert_eq!(runs.len(), 2);
    let mut compared = 0;
    for run in &runs {
        assert_eq!(run.experiment, "sweep", "a project is an experiment");
        let want = &expected[run.name.as_str()];
        let mut stored = Vec::new();
        for s in &run.metrics {
            for p in store.series_points(s.series_id).unwrap() {
                let bits = if p.value.is_nan() { f64::NAN.to_bits() } else { p.value.to_bits() };
                stored.push((s.key.clone(), p.step, p.time_ms, bits));
            }
        }
        let mut wanted: Vec<_> = want["points"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let value: f64 = p[3].as_str().unwrap().parse().unwrap();
                let bits = if value.is_nan() { f64::NAN.to_bits() } else { value.to_bits() };
                (p[0].as_str().unwrap().to_owned(), p[1].as_i64().unwrap(), p[2].as_i64().unwrap(), bits)
            })
            .collect();
        stored.sort();
        wanted.sort();
        assert_eq!(stored, wanted, "{}", run.name);
        compared += stored.len();
        for (key, value) in want["config"].as_object().unwrap() {
            let got = match &run.params[key] {
                runstore::ParamValue::Int(i) => serde_json::json!(i),
                runstore::ParamValue::Float(x) => serde_json::json!(x),
                runstore::ParamValue::Bool(b) => serde_json::json!(b),
                runstore::ParamValue::Str(s) => serde_json::json!(s),
                runstore::ParamValue::Json(j) => serde_json::from_str(&j.to_string()).unwrap(),
            };
            assert_eq!(&got, value, "param {key} of {}", run.name);
        }
    }
    assert_eq!(compared, 505);
    let again =
        runstore(&["import", "trackio", source.to_str().unwrap(), "-o", db.to_str().unwrap(), "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!((report["runs_added"].as_u64(), report["runs_present"].as_u64()), (Some(0), Some(2)));
    let mlflow = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/mlflow/mlflow.db");
    let wrong = runstore(&["import", "trackio", mlflow.to_str().unwrap(), "-o", db.to_str().unwrap()]);
    assert!(text(&wrong.stderr).contains("not a trackio project database"), "{}", text(&wrong.stderr));
}

/// A file given twice is imported once; a name runstore refuses (an experiment of spaces) fails
/// the whole import and writes nothing, not even the runs before it; a link to a run folder
/// (`latest -> lr=0.1`) is not a second run.
#[test]
fn sources_given_twice_bad_names_and_linked_folders_add_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let (panel, _) = write_exports(dir.path());
    let db = dir.path().join("runs.db");
    let db_arg = db.to_str().unwrap();
    let twice = runstore(&["import", "wandb-csv", &panel, &panel, "-o", db_arg, "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&twice.stdout).unwrap();
    assert_eq!((report["runs_added"].as_u64(), report["runs_present"].as_u64()), (Some(2), Some(2)));

    copy_logs(dir.path());
    let logs = dir.path().join("logs");
    let fresh = dir.path().join("fresh.db");
    let spaces = runstore(&[
        "import",
        "tensorboard",
        logs.to_str().unwrap(),
        "-o",
        fresh.to_str().unwrap(),
        "-e",
        " ",
    ]);
    assert!(!spaces.status.success());
    assert!(text(&spaces.stderr).contains("experiment name"), "{}", text(&spaces.stderr));
    let runs =
        Store::open_read_only(&fresh).map(|s| s.runs(&RunQuery::default()).unwrap().len()).unwrap_or(0);
    assert_eq!(runs, 0, "nothing of the failed import");

    std::os::unix::fs::symlink("lr=0.1", logs.join("latest")).unwrap();
    std::os::unix::fs::symlink(".", logs.join("lr=0.1/loop")).unwrap();
    let linked =
        runstore(&["import", "tensorboard", logs.to_str().unwrap(), "-o", fresh.to_str().unwrap(), "--json"]);
    assert!(linked.status.success(), "{}", text(&linked.stderr));
    let report: serde_json::Value = serde_json::from_slice(&linked.stdout).unwrap();
    assert_eq!(report["runs_added"].as_u64(), Some(1), "the linked folder and the loop are not followed");
}
