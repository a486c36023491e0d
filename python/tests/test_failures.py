"""Failure paths: exceptions, interrupts, bad values, kills, read-only directories."""

import math
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

import runstore
from conftest import integrity, run_python


def test_an_exception_inside_with_fails_the_run(db):
    with pytest.raises(ValueError):
        with runstore.init(db) as run:
            run.log({"loss": 1.0})
            raise ValueError("diverged at step 3")
    info = runstore.open(db).run(run.id)
    assert info["state"] == "failed"
    assert info["error"] == "ValueError: diverged at step 3"


def test_ctrl_c_inside_with_kills_the_run(db):
    with pytest.raises(KeyboardInterrupt):
        with runstore.init(db) as run:
            raise KeyboardInterrupt
    info = runstore.open(db).run(run.id)
    assert info["state"] == "killed" and info["error"] == "KeyboardInterrupt"


def test_a_value_that_is_not_a_number_is_a_type_error_naming_the_key(db):
    with runstore.init(db) as run:
        for bad in ("0.3", None, [1.0], object()):
            with pytest.raises(TypeError, match='"train/acc"'):
                run.log({"train/loss": 0.5, "train": {"acc": bad}})
        with pytest.raises(TypeError, match="keys are str"):
            run.log({1: 0.5})
        run.log({"train/loss": 0.25})
    # A refused call logs nothing, not even its good values.
    assert runstore.open(db).series(run.id, "train/loss")["value"].to_list() == [0.25]


def test_log_many_checks_its_arrays(db):
    import numpy as np

    with runstore.init(db) as run:
        with pytest.raises(ValueError, match="3 steps for 2 values"):
            run.log_many("x", [1, 2, 3], [1.0, 2.0])
        with pytest.raises(ValueError, match="one dimension"):
            run.log_many("x", None, np.zeros((2, 2)))
        strided = np.arange(20, dtype=np.float64)[::2]
        assert run.log_many("x", None, strided) == 10
    assert runstore.open(db).series(run.id, "x")["value"].to_list() == list(np.arange(0, 20, 2.0))


def test_a_read_only_directory_is_a_clear_error_at_init(tmp_path):
    if os.geteuid() == 0:
        # root writes anywhere: a directory that does not exist stands in for one.
        path = tmp_path / "missing" / "runs.db"
    else:
        tmp_path.chmod(0o500)
        path = tmp_path / "runs.db"
    with pytest.raises(runstore.RunstoreError, match="runs.db"):
        runstore.init(path)


def test_a_file_that_is_not_a_runstore_file_is_refused(tmp_path):
    path = tmp_path / "notes.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(runstore.RunstoreError):
        runstore.init(path)
    with pytest.raises(runstore.RunstoreError):
        runstore.open(path)


def test_logging_after_finish_is_an_error(db):
    run = runstore.init(db)
    run.finish()
    with pytest.raises(runstore.RunstoreError, match="has ended"):
        run.log({"loss": 1.0})
    run.finish()  # ending twice does nothing


def test_sigkill_mid_logging_leaves_a_sound_file(db):
    script = textwrap.dedent(f"""
        import runstore, sys
        run = runstore.init({db!r}, flush_interval=0.02)
        print(run.id, flush=True)
        step = 0
        while True:
            run.log({{"loss": 1.0 / (step + 1), "acc": step * 1e-6}})
            step += 1
    """)
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    run_id = child.stdout.readline().strip()
    time.sleep(1.5)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    assert integrity(db) == "ok"
    points = runstore.open(db).series(run_id, "loss")
    assert len(points) > 1000
    assert points["step"].to_list() == list(range(len(points)))


def test_a_script_that_ends_without_finish_loses_nothing(db):
    run_python(f"""
        import runstore
        run = runstore.init({db!r}, flush_interval=60)
        for step in range(100_000):
            run.log({{"loss": float(step)}})
    """)
    (info,) = [runstore.open(db).run(r) for r in runstore.open(db).runs()["id"]]
    assert info["state"] == "completed"
    assert info["metrics"][0]["count"] == 100_000


def test_an_uncaught_exception_fails_the_run_and_ctrl_c_kills_it(db):
    failed = run_python(f"""
        import runstore
        run = runstore.init({db!r}, name="boom")
        run.log({{"loss": 1.0}})
        raise RuntimeError("out of memory")
    """, check=False)
    assert failed.returncode == 1 and "RuntimeError: out of memory" in failed.stderr
    killed = run_python(f"""
        import runstore
        run = runstore.init({db!r}, name="interrupted")
        raise KeyboardInterrupt
    """, check=False)
    assert killed.returncode != 0
    store = runstore.open(db)
    boom, interrupted = store.run("boom"), store.run("interrupted")
    assert (boom["state"], boom["error"]) == ("failed", "RuntimeError: out of memory")
    assert boom["metrics"][0]["count"] == 1
    assert interrupted["state"] == "killed"
