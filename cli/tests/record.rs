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

    let svg = dir.path().join("cpu.svg");
    let plot = Command::new(env!("CARGO_BIN_EXE_runstore"))
        .args(["plot", db.to_str().unwrap(), "--resource", "cpu", "--runs", &run.name])
        .args(["-o", svg.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(plot.status.success(), "{}", String::from_utf8_lossy(&plot.stderr));
    let svg = std::fs::read_to_string(&svg).unwrap();
    assert!(
        svg.contains("cpu usage of run sh") && svg.contains("tree (%)"),
        "the tree's CPU is drawn for the run"
    );
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
    let metadata = stdout.metadata.as_ref().unwrap();
    assert_eq!(metadata["bytes_written"], 1492);
    assert!(metadata["tail"].as_str().unwrap().ends_with("out 199\nout 200\n"), "the end rides in the file");

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
        echo "{\"artifact\": \"$RUNSTORE_SINK\"}" > "$RUNSTORE_SINK"
        printf '{"key": "cut", "value": 1' > "$RUNSTORE_SINK"
    "#;
    let out = record(&db, &["sh", "-c", script]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "4 lines were not taken from RUNSTORE_SINK or RUNSTORE_SOCKET; the first: \"not json\""
        ),
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

#[test]
fn json_lines_over_the_socket_from_four_processes_long_lines_included_all_arrive() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("r.db");
    // Four writers, one connection each, lines past the pipe's atomic 4 KiB included; a fifth
    // process connects, writes, and outlives the program holding its connection open.
    let script = r#"
import json, os, socket, subprocess, sys
def writer(rank):
    s = socket.socket(socket.AF_UNIX)
    s.connect(os.environ["RUNSTORE_SOCKET"])
    f = s.makefile("w", buffering=1 << 16)
    for i in range(5000):
        f.write(json.dumps({"key": f"rank{rank}/loss", "value": i / 10, "step": i}) + "\n")
    labels = {f"class_{c:04d}": c / 1000 for c in range(400)}
    f.write(json.dumps({"key": "per_class", "value": rank, "step": rank, "labels": labels}) + "\n")
    f.close(); s.close()
children = []
for rank in range(4):
    pid = os.fork()
    if pid == 0:
        writer(rank); os._exit(0)
    children.append(pid)
for pid in children:
    os.waitpid(pid, 0)
linger = "import os, socket, time; s = socket.socket(socket.AF_UNIX); s.connect(os.environ['RUNSTORE_SOCKET']); s.sendall(b'{\"key\": \"late\", \"value\": 1}\\n'); time.sleep(60)"
subprocess.Popen([sys.executable, "-c", linger], start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
import time; time.sleep(0.5)
"#;
    let started = Instant::now();
    let out = record(&db, &["python3", "-c", script]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(started.elapsed() < Duration::from_secs(30), "a lingering connection does not hold record up");
    let run = only_run(&db);
    let count = |key: &str, label: &str| {
        run.metrics.iter().find(|m| m.key == key && m.label == label).map(|m| m.count)
    };
    for rank in 0..4 {
        assert_eq!(count(&format!("rank{rank}/loss"), ""), Some(5000), "every point of writer {rank}");
    }
    assert_eq!(count("per_class", "class_0399"), Some(4), "a 10 KiB line arrives whole from each writer");
    assert_eq!(count("late", ""), Some(1), "what a lingering writer sent is kept");
    let _ = Command::new("pkill").args(["-f", "time.sleep\\(60\\)"]).status();
}

#[test]
fn parse_reads_metrics_from_a_log_with_mixed_lines() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("r.db");
    let log = r#"
        echo "loading data..."
        echo "epoch 1 step 100 loss=0.9 acc=0.51"
        echo "warning: time=12:30:01 id=3a" >&2
        echo "epoch 2 step 200 loss=0.5 acc=0.75 | val_loss: 0.6"
        printf 'progress 50%%\rtrain throughput 410.5 img/s\n'
        echo "epoch 3 step 300 loss=nan acc=0.74" >&2
        echo done
    "#;
    let out = Command::new(env!("CARGO_BIN_EXE_runstore"))
        .args(["record", "--db", db.to_str().unwrap(), "--parse-key-values"])
        .args(["--parse", r"throughput (?P<value>[\d.]+) img/s"])
        .args(["--", "sh", "-c", log])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("epoch 1 step 100 loss=0.9"), "still shown");
    let run = only_run(&db);
    let store = Store::open_read_only(&db).unwrap();
    let summaries = store.series_summaries(&run.id).unwrap();
    let points = |key: &str| {
        let series = summaries.iter().find(|s| s.key == key && s.context.is_empty()).expect(key);
        store.series_points(series.series_id).unwrap().iter().map(|p| (p.step, p.value)).collect::<Vec<_>>()
    };
    let loss = points("loss");
    assert_eq!(loss.len(), 3, "{loss:?}");
    assert_eq!(loss[..2], [(100, 0.9), (200, 0.5)]);
    assert!(loss[2].0 == 300 && loss[2].1.is_nan(), "NaN from stderr kept: {loss:?}");
    assert_eq!(points("acc"), [(100, 0.51), (200, 0.75), (300, 0.74)]);
    assert_eq!(points("val_loss"), [(200, 0.6)]);
    assert_eq!(points("throughput"), [(0, 410.5)]);
    let keys: Vec<&str> = run.metrics.iter().map(|m| m.key.as_str()).collect();
    assert!(!keys.contains(&"time") && !keys.contains(&"id") && !keys.contains(&"step"), "{keys:?}");

    let bad = Command::new(env!("CARGO_BIN_EXE_runstore"))
        .args(["record", "--db", db.to_str().unwrap(), "--parse", "loss=([0-9.]+)", "--", "true"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("no group named `value`"));
    assert_eq!(
        Store::open_read_only(&db).unwrap().runs(&RunQuery::default()).unwrap().len(),
        1,
        "no run started"
    );
}

#[test]
fn a_python_program_gets_its_config_and_python_environment_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("r.db");
    let config = dir.path().join("train.yaml");
    std::fs::write(&config, "lr: 0.001\nmodel:\n  layers: 4\nseed: 1\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_runstore"))
        .args([
            "record",
            "--db",
            db.to_str().unwrap(),
            "--config",
            config.to_str().unwrap(),
            "--param",
            "seed=7",
        ])
        .args(["--", "python3", "-c", "print('hi')"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let run = only_run(&db);
    assert_eq!(run.params["lr"], ParamValue::Float(0.001));
    assert_eq!(run.params["model.layers"], ParamValue::Int(4));
    assert_eq!(run.params["seed"], ParamValue::Int(7), "--param overrides the config");
    let store = Store::open_read_only(&db).unwrap();
    let environment = store.environment(&run.id).unwrap().expect("an environment");
    let runtimes = environment.runtimes.expect("runtimes");
    assert!(runtimes["python"].as_str().is_some_and(|v| v.starts_with("3.")), "{runtimes}");
    assert!(runtimes["runstore"].is_string(), "the native side's facts stay: {runtimes}");
    assert!(environment.packages.is_some_and(|p| p.is_object()));
    let artifacts = store.run_artifacts(&run.id).unwrap();
    assert!(artifacts.iter().any(|a| a.name == "train.yaml" && a.kind == "config"), "{artifacts:?}");
}

#[test]
fn a_run_that_cannot_get_its_sink_fails_saying_why() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("r.db");
    // A socket's path holds at most 108 bytes.
    let long = dir.path().join("t".repeat(120));
    std::fs::create_dir(&long).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_runstore"))
        .env("TMPDIR", &long)
        .args(["record", "--db", db.to_str().unwrap(), "--", "true"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("is TMPDIR's path long?"), "{stderr}");
    let run = only_run(&db);
    assert_eq!(run.state, RunState::Failed, "not left looking completed");
    assert!(run.error.unwrap().contains("creating the socket"));
}
