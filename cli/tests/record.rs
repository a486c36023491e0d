//! `runstore record -- CMD`: the program's fate becomes the run's status, signals reach it,
//! its process tree is sampled, and it gets the variables that let it log into the run.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use runstore::{ParamValue, ResourceKind, RunQuery, RunState, Store};

fn record(db: &Path, command: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_runstore"))
        .args(["record", "--db", db.to_str().unwrap(), "--monitor-interval", "0.2", "--"])
        .args(command)
        .output()
        .unwrap()
}

fn only_run(db: &Path) -> runstore::RunInfo {
    let runs = Store::open_read_only(db)
        .unwrap()
        .runs(&RunQuery { with_metrics: true, ..Default::default() })
        .unwrap();
    assert_eq!(runs.len(), 1, "{runs:?}");
    runs.into_iter().next().unwrap()
}

#[test]
fn the_programs_exit_is_the_runs_status_and_records_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, i32, RunState, Option<&str>); 3] = [
        ("exit 0", 0, RunState::Completed, None),
        ("echo oops >&2; exit 3", 3, RunState::Failed, Some("exited with code 3; stderr ends: oops")),
        ("kill -9 $$", 137, RunState::Killed, Some("killed by SIGKILL")),
    ];
    for (i, (script, code, state, error)) in cases.into_iter().enumerate() {
        let db = dir.path().join(format!("{i}.db"));
        let out = record(&db, &["sh", "-c", script]);
        assert_eq!(out.status.code(), Some(code), "{script}: {}", String::from_utf8_lossy(&out.stderr));
        let run = only_run(&db);
        assert_eq!((run.state, run.error.as_deref()), (state, error), "{script}");
        assert_eq!(run.name, "sh");
    }
}

#[test]
fn a_program_that_cannot_start_fails_the_run_with_why() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("r.db");
    let out = record(&db, &["/no/such/program"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("could not start /no/such/program"));
    let run = only_run(&db);
    assert_eq!(run.state, RunState::Failed);
    assert!(run.error.unwrap().contains("No such file"));
}

#[test]
fn params_tags_and_the_variables_that_name_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("r.db");
    let out = Command::new(env!("CARGO_BIN_EXE_runstore"))
        .args([
            "record",
            "--db",
            db.to_str().unwrap(),
            "-e",
            "sims",
            "--name",
            "seed-3",
            "--no-capture-output",
        ])
        .args(["--param", "lr=0.01", "--param", "layers=4", "--param", "opt=adam", "--tag", "team=vision"])
        .args(["--", "sh", "-c", "echo \"$RUNSTORE_DB $RUNSTORE_RUN_ID\""])
        .output()
        .unwrap();
    assert!(out.status.success());
    let run = only_run(&db);
    let printed = String::from_utf8(out.stdout).unwrap();
    assert_eq!(printed.trim(), format!("{} {}", std::path::absolute(&db).unwrap().display(), run.id));
    assert_eq!((run.experiment.as_str(), run.name.as_str()), ("sims", "seed-3"));
    assert_eq!(run.params["lr"], ParamValue::Float(0.01));
    assert_eq!(run.params["layers"], ParamValue::Int(4));
    assert_eq!(run.params["opt"], ParamValue::Str("adam".into()));
    assert_eq!(run.tags["team"], "vision");
    let code = Store::open_read_only(&db).unwrap().code(&run.id).unwrap().unwrap();
    assert_eq!(code.entrypoint.as_deref(), Some("sh -c 'echo \"$RUNSTORE_DB $RUNSTORE_RUN_ID\"'"));
}

#[test]
fn ctrl_c_is_forwarded_to_the_program_and_the_run_is_closed() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("r.db");
    let mut child = Command::new(env!("CARGO_BIN_EXE_runstore"))
        .args(["record", "--db", db.to_str().unwrap(), "--", "sleep", "30"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Once the run is in the file, the program has been started (the run is written first).
    let deadline = Instant::now() + Duration::from_secs(20);
    while Store::open_read_only(&db)
        .ok()
        .and_then(|s| s.runs(&RunQuery::default()).ok())
        .is_none_or(|r| r.is_empty())
    {
        assert!(Instant::now() < deadline, "the run never appeared");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    let status = child.wait().unwrap();
    assert!(started.elapsed() < Duration::from_secs(10), "sleep 30 was interrupted, not waited for");
    assert_eq!(status.code(), Some(130));
    let run = only_run(&db);
    assert_eq!((run.state, run.error.as_deref()), (RunState::Killed, Some("killed by SIGINT")));
}

#[test]
fn the_programs_process_tree_is_sampled() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("r.db");
    let script = "for i in 1 2 3; do timeout 2 sh -c 'while :; do :; done' & done; wait";
    let out = record(&db, &["sh", "-c", script]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let run = only_run(&db);
    let store = Store::open_read_only(&db).unwrap();
    let processes = store.resource_samples(ResourceKind::Cpu, Some("tree_processes"), Some(&run.id)).unwrap();
    assert!(processes.iter().any(|s| s.value >= 4.0), "{processes:?}");
    let cpu = store.resource_samples(ResourceKind::Cpu, Some("tree"), Some(&run.id)).unwrap();
    // % of the machine: three busy workers take most of it (at least 15 % even when loaded).
    assert!(cpu.iter().any(|s| s.value >= 15.0), "three busy workers show in the tree's CPU: {cpu:?}");
}

#[test]
fn the_output_is_shown_and_kept_as_artifacts_up_to_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("r.db");
    let script = "for i in $(seq 1 200); do echo out $i; done; echo err >&2";
    let out = Command::new(env!("CARGO_BIN_EXE_runstore"))
        .args(["record", "--db", db.to_str().unwrap(), "--capture-limit", "100", "--", "sh", "-c", script])
        .output()
        .unwrap();
    assert!(out.status.success());
    let shown = String::from_utf8(out.stdout).unwrap();
    assert!(shown.starts_with("out 1\n") && shown.ends_with("out 200\n"), "everything is shown live");
    let run = only_run(&db);
    let artifacts = Store::open_read_only(&db).unwrap().run_artifacts(&run.id).unwrap();
    let stdout = artifacts.iter().find(|a| a.name == "stdout").expect("stdout kept");
    let kept = std::fs::read_to_string(&stdout.uri).unwrap();
    assert!(
        kept.starts_with("out 1\nout 2\n") && kept.contains("[runstore: output cut at 100 bytes"),
        "{kept}"
    );
    assert_eq!(stdout.sha256.as_ref().map(String::len), Some(64));
    let stderr = artifacts.iter().find(|a| a.name == "stderr").expect("stderr kept");
    assert_eq!(std::fs::read_to_string(&stderr.uri).unwrap(), "err\n");
    assert!(stdout.uri.contains(&format!("r.db.artifacts/{}/stdout.log", run.id)), "{}", stdout.uri);

    let db2 = dir.path().join("r2.db");
    let out = Command::new(env!("CARGO_BIN_EXE_runstore"))
        .args(["record", "--db", db2.to_str().unwrap(), "--no-capture-output", "--", "echo", "hi"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "hi\n");
    let run = only_run(&db2);
    assert!(Store::open_read_only(&db2).unwrap().run_artifacts(&run.id).unwrap().is_empty());
}

#[test]
fn a_worker_left_holding_the_output_does_not_hold_record_up() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("r.db");
    let started = Instant::now();
    let out = record(&db, &["sh", "-c", "sleep 60 & echo started"]);
    assert!(out.status.success());
    assert!(started.elapsed() < Duration::from_secs(30), "{:?}", started.elapsed());
    assert!(String::from_utf8_lossy(&out.stderr).contains("still holds its output open"));
    assert_eq!(only_run(&db).state, RunState::Completed);
    let _ = Command::new("pkill").args(["-f", "^sleep 60$"]).status();
}

#[test]
fn json_lines_from_four_processes_at_once_all_arrive_and_bad_lines_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("r.db");
    let script = r#"
        for p in 1 2 3 4; do
          (for i in $(seq 1 2000); do echo "{\"key\": \"w$p\", \"value\": $i, \"step\": $i, \"phase\": \"train\"}"; done > "$RUNSTORE_SINK") &
        done
        wait
        echo '{"params": {"lr": 0.1, "model": {"depth": 4}}}' > "$RUNSTORE_SINK"
        echo '{"tags": {"team": "vision"}}' > "$RUNSTORE_SINK"
        echo '{"key": "loss", "value": "NaN", "labels": {"cat": 0.5}}' > "$RUNSTORE_SINK"
        echo 'not json' > "$RUNSTORE_SINK"
        echo '{"value": 1}' > "$RUNSTORE_SINK"
        echo '{"results": {"accuracy": 0.9}}' > "$RUNSTORE_SINK"
    "#;
    let out = record(&db, &["sh", "-c", script]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("2 lines were not taken from RUNSTORE_SINK; the first: \"not json\""),
        "{stderr}"
    );
    let run = only_run(&db);
    let count = |key: &str, label: &str| {
        run.metrics.iter().find(|m| m.key == key && m.label == label).map(|m| (m.count, m.nan_count))
    };
    for p in 1..=4 {
        assert_eq!(count(&format!("w{p}"), ""), Some((2000, 0)), "every point of writer {p}");
    }
    assert_eq!(count("loss", ""), Some((1, 1)));
    assert_eq!(count("loss", "cat"), Some((1, 0)));
    assert_eq!(run.params["lr"], ParamValue::Float(0.1));
    assert_eq!(run.params["model.depth"], ParamValue::Int(4));
    assert_eq!(run.tags["team"], "vision");
    assert_eq!(run.results, Some(serde_json::json!({"accuracy": 0.9})));
    let w1 = run.metrics.iter().find(|m| m.key == "w1").unwrap();
    assert_eq!(w1.context.get("phase").map(String::as_str), Some("train"));
}
