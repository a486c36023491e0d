"""Threads, processes and forks logging into one file; joining a run through the environment."""

import multiprocessing
import os
import threading

import pytest

import runstore
from conftest import run_python

POINTS = 20_000


def _log_from_threads(path, worker):
    run = runstore.init(path, name=f"worker-{worker}")
    threads = [
        threading.Thread(target=lambda t=t: [run.log({f"t{t}/x": float(i)}, step=i) for i in range(POINTS)])
        for t in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    run.finish()


@pytest.mark.parametrize("method", ["spawn", "fork"])
def test_four_processes_of_two_threads_lose_nothing(db, method):
    done = threading.Event()
    if method == "fork":
        # A parent that keeps recording while it forks: its writer is paused around each
        # fork (so no child inherits SQLite's locks mid-write), and each child records
        # through a writer of its own.
        parent = runstore.init(db, name="parent", flush_interval=0.001)

        def keep_logging():
            step = 0
            while not done.is_set():
                parent.log({"x": float(step)})
                step += 1

        logger = threading.Thread(target=keep_logging)
        logger.start()
    context = multiprocessing.get_context(method)
    workers = [context.Process(target=_log_from_threads, args=(db, w)) for w in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
        assert worker.exitcode == 0
    if method == "fork":
        done.set()
        logger.join()
        parent.finish()
        assert runstore.open(db).run("parent")["metrics"][0]["count"] > 0
    store = runstore.open(db)
    for w in range(4):
        info = store.run(f"worker-{w}")
        assert info["state"] == "completed"
        counts = {m["key"]: m["count"] for m in info["metrics"]}
        assert counts == {"t0/x": POINTS, "t1/x": POINTS}


def _use_inherited(run, queue):
    try:
        run.log({"x": 1.0})
        queue.put("logged")
    except runstore.ForkedProcessError as e:
        queue.put(f"error: {e}")


def test_a_run_used_in_a_forked_child_is_a_clear_error_not_a_hang(db):
    run = runstore.init(db)
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_use_inherited, args=(run, queue))
    child.start()
    child.join(timeout=60)
    assert child.exitcode == 0
    message = queue.get(timeout=5)
    assert message.startswith("error: ") and "runstore.init()" in message
    run.log({"x": 2.0})
    run.finish()
    assert runstore.open(db).series(run.id, "x")["value"].to_list() == [2.0]


def test_eight_threads_share_one_run(db):
    run = runstore.init(db)

    def work(t):
        for i in range(10_000):
            run.log({f"thread{t}": float(i)}, step=i)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    run.finish()
    counts = {m["key"]: m["count"] for m in runstore.open(db).run(run.id)["metrics"]}
    assert counts == {f"thread{t}": 10_000 for t in range(8)}


def test_init_without_a_path_joins_the_run_named_by_the_environment(db):
    owner = runstore.init(db, name="recorded")
    owner.flush()
    run_python(
        """
        import runstore
        run = runstore.init(config={"lr": 0.1})
        assert run.attached
        for step in range(10):
            run.log({"loss": 1.0 / (step + 1)})
        run.finish()  # leaves the status to the owner
        """,
        env={runstore.ENV_DB: db, runstore.ENV_RUN_ID: owner.id},
    )
    store = runstore.open(db)
    info = store.run(owner.id)
    assert info["state"] == "running" and info["params"] == {"lr": 0.1}
    assert len(store.series(owner.id, "loss")) == 10
    owner.finish()
    assert store.run(owner.id)["state"] == "completed"


def test_init_without_a_path_or_environment_says_what_it_needs(monkeypatch):
    monkeypatch.delenv(runstore.ENV_DB, raising=False)
    with pytest.raises(ValueError, match="RUNSTORE_DB"):
        runstore.init()


def test_an_unknown_run_id_in_the_environment_is_a_clear_error(db, monkeypatch):
    runstore.init(db).finish()
    monkeypatch.setenv(runstore.ENV_DB, db)
    monkeypatch.setenv(runstore.ENV_RUN_ID, "01ARZ3NDEKTSV4RRFFQ69G5FAV")
    with pytest.raises(runstore.RunstoreError):
        runstore.init()


def test_the_environment_lists_the_installed_packages(db):
    import pytest as installed_pytest

    with runstore.init(db) as run:
        pass
    store = runstore.open(db)
    environment = store.environment(run.id)
    assert environment["packages"]["pytest"] == installed_pytest.__version__
    assert environment["runtimes"]["python_executable"]
    assert "python" in store.code(run.id)["entrypoint"]


def test_monitor_samples_resources_into_the_run(db):
    import time

    with runstore.init(db, monitor=True, monitor_interval=0.1) as run:
        time.sleep(0.35)
    resources = runstore.open(db).summary()["resources"]
    names = {(r["kind"], r["name"]) for r in resources}
    assert names >= {("cpu", "process"), ("ram", "process"), ("cpu", "tree"), ("ram", "tree")}
    assert all(r["count"] >= 2 for r in resources if r["name"] == "process")


def test_runstore_record_runs_a_python_script_that_joins_its_run(db, tmp_path):
    import subprocess
    import sys

    from conftest import runstore_cli

    script = tmp_path / "train.py"
    script.write_text(
        "import runstore\n"
        "run = runstore.init(config={'lr': 0.1})\n"
        "for step in range(50):\n"
        "    run.log({'loss': 1.0 / (step + 1)})\n"
    )
    runstore_cli("record", "--db", db, "--name", "train", "--", sys.executable, str(script))
    store = runstore.open(db)
    runs = store.runs()
    assert runs["name"].to_list() == ["train"] and runs["state"].to_list() == ["completed"]
    assert runs["params.lr"].to_list() == [0.1]
    assert len(store.series(runs["id"][0], "loss")) == 50
    command = os.path.join(os.path.dirname(sys.executable), "runstore")
    failing = subprocess.run(
        [command, "record", "--db", db, "--", sys.executable, "-c", "raise SystemExit(3)"], capture_output=True
    )
    assert failing.returncode == 3


def test_a_python_child_writing_json_lines_from_four_processes_loses_nothing(db, tmp_path):
    import sys

    from conftest import runstore_cli

    script = tmp_path / "writers.py"
    script.write_text(
        "import json, multiprocessing, os\n"
        "def write(worker):\n"
        "    with open(os.environ['RUNSTORE_SINK'], 'w', buffering=1) as sink:\n"
        "        for step in range(5000):\n"
        "            sink.write(json.dumps({'key': f'rank{worker}/loss', 'value': 1 / (step + 1), 'step': step}) + '\\n')\n"
        "if __name__ == '__main__':\n"
        "    workers = [multiprocessing.Process(target=write, args=(w,)) for w in range(4)]\n"
        "    [w.start() for w in workers]\n"
        "    [w.join() for w in workers]\n"
    )
    runstore_cli("record", "--db", db, "--no-monitor", "--", sys.executable, str(script))
    store = runstore.open(db)
    run_id = store.runs()["id"][0]
    for worker in range(4):
        points = store.series(run_id, f"rank{worker}/loss")
        assert points["step"].to_list() == list(range(5000))
        assert points["value"][4999] == 1 / 5000
