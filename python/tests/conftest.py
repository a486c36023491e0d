"""Shared helpers of the Python package's tests."""

import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap

import pytest


@pytest.fixture
def db(tmp_path):
    """A path for a new runstore file."""
    return str(tmp_path / "runs.db")


def run_python(code, *, env=None, timeout=120, check=True, cwd=None):
    """Runs `code` in a fresh interpreter; returns the CompletedProcess."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}")
    return result


def runstore_cli(*args, cwd=None, timeout=120):
    """Runs the `runstore` command the package installed; returns its stdout."""
    exe = shutil.which("runstore", path=os.path.dirname(sys.executable)) or shutil.which("runstore")
    assert exe, "the runstore command is not installed next to this interpreter"
    result = subprocess.run([exe, *args], capture_output=True, text=True, cwd=cwd, timeout=timeout)
    if result.returncode != 0:
        raise AssertionError(f"runstore {' '.join(args)}: exit {result.returncode}\n{result.stderr}")
    return result.stdout


def integrity(path):
    """SQLite's integrity_check of the file."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
