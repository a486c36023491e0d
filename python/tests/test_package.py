"""The package as a user meets it: the README's example, the stubs, help(), the command."""

import ast
import inspect
import os
import pathlib
import re

import runstore
from runstore import _runstore
from conftest import run_python, runstore_cli

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_the_readme_python_example_runs_and_leaves_a_complete_db_file(tmp_path):
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Quick start (Python)", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    run_python(code, cwd=tmp_path)
    # The script also read the file: its writer still moved the log into the .db at exit, so
    # the .db alone (dropped into the page, copied elsewhere) holds everything.
    wal = tmp_path / "runs.db-wal"
    assert not wal.exists() or wal.stat().st_size == 0
    alone = tmp_path / "alone.db"
    alone.write_bytes((tmp_path / "runs.db").read_bytes())
    runs = runstore.open(alone).runs()
    assert runs["name"].to_list() == ["seed-0"] and runs["state"].to_list() == ["completed"]
    assert runs["train/loss"].to_list() == [1.0 / 1000]


def test_the_stubs_cover_the_native_module():
    stubs = ast.parse((pathlib.Path(runstore.__file__).parent / "_runstore.pyi").read_text())
    stubbed = {node.name: node for node in stubs.body if isinstance(node, (ast.ClassDef, ast.FunctionDef))}
    for name, value in vars(_runstore).items():
        if name.startswith("__") or not (inspect.isclass(value) or callable(value)):
            continue
        assert name in stubbed, f"_runstore.{name} has no stub"
        if inspect.isclass(value) and not issubclass(value, BaseException):
            methods = {n.name for n in stubbed[name].body if isinstance(n, ast.FunctionDef)}
            for attr in vars(value):
                if not attr.startswith("_") or attr in ("__enter__", "__exit__"):
                    assert attr in methods, f"_runstore.{name}.{attr} has no stub"


def test_help_documents_init():
    doc = runstore.init.__doc__
    assert "RUNSTORE_DB" in doc and "Raises" in doc
    assert "log" in _runstore.Run.log.__doc__ and "TypeError" in _runstore.Run.log.__doc__


def test_the_wheel_carries_the_command_and_its_page(db, tmp_path):
    with runstore.init(db, name="cli") as run:
        run.log({"loss": 0.5})
    assert "cli" in runstore_cli("runs", db)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    runstore_cli("report", os.path.abspath(db), "-o", "report.html", cwd=elsewhere)
    html = (elsewhere / "report.html").read_text()
    assert "<html" in html.lower() and len(html) > 100_000  # the page and its wasm, inlined
