"""runstore: record every run of a training job or simulation into one SQLite file, live and
at native speed, then search, compare and chart the runs from Python, a terminal
(``runstore runs runs.db``) or a web page (``runstore serve runs.db``).

Quick start::

    import runstore

    with runstore.init("runs.db", experiment="mnist", config={"lr": 0.01}) as run:
        for step in range(1000):
            run.log({"train/loss": 1.0 / (step + 1), "lr": 0.01})

    store = runstore.open("runs.db")
    print(store.runs(metrics=["train/loss.min"]))      # a polars DataFrame, one row per run
    print(store.series(store.runs()["id"][0], "train/loss"))

Logging puts points on a queue and returns; one native writer thread per file writes them in
batched transactions (so logging costs well under a microsecond per point). An exception
that leaves ``with`` marks the run failed, Ctrl-C marks it killed; a script that ends without
``finish()`` still has everything written (at exit), and an uncaught exception marks its
runs failed.

Environment variables (set by ``runstore record -- python train.py``):

``RUNSTORE_DB``
    The file ``runstore.init()`` records into when no path is given.
``RUNSTORE_RUN_ID``
    The run ``runstore.init()`` joins instead of starting one (its status is then left to the
    process that started it).
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
import weakref
from typing import Any, Mapping, Optional

from . import _environment
from ._runstore import (
    ForkedProcessError,
    Recorder,
    Run,
    RunstoreError,
    Span,
    __version__,
)
from ._store import Store, open, smooth

__all__ = [
    "ENV_DB",
    "ENV_RUN_ID",
    "ForkedProcessError",
    "Recorder",
    "Run",
    "RunstoreError",
    "Span",
    "Store",
    "__version__",
    "finish",
    "init",
    "open",
    "smooth",
]

ENV_DB = "RUNSTORE_DB"
"""Environment variable: the file ``runstore.init()`` records into when given no path."""
ENV_RUN_ID = "RUNSTORE_RUN_ID"
"""Environment variable: the run ``runstore.init()`` joins instead of starting one."""

_lock = threading.Lock()
_recorders: dict[str, Recorder] = {}
_live_runs: "weakref.WeakSet[Run]" = weakref.WeakSet()
_uncaught: Optional[BaseException] = None
_hooks_installed = False


def init(
    path: Optional[str | os.PathLike[str]] = None,
    *,
    experiment: Optional[str] = None,
    trial: Optional[str] = None,
    name: Optional[str] = None,
    config: Optional[Mapping[str, Any]] = None,
    tags: Optional[Mapping[str, Any]] = None,
    monitor: bool = False,
    monitor_interval: float = 1.0,
    capture_environment: bool = True,
    capture_code: bool = True,
    flush_interval: float = 0.5,
) -> Run:
    """Starts a run recorded into the runstore file at ``path`` (created if missing) and
    returns it; use it as a context manager (``with runstore.init(...) as run:``) or end it
    with ``run.finish()``.

    Args:
        path: the runstore file. Default: ``$RUNSTORE_DB``; when that is set together with
            ``$RUNSTORE_RUN_ID`` (as ``runstore record`` does), the run named there is joined
            instead of a new one started.
        experiment: the experiment the run belongs to (created if new). Default: "default".
        trial: a trial of the experiment (one configuration, run with several seeds).
        name: the run's name. Default: the script's name and the start time.
        config: params of the run; nested dicts flatten to dotted keys (``optimizer.lr``).
        tags: tags of the run (values converted with ``str()``).
        monitor: sample CPU, memory and GPU of this process and the machine into the run
            every ``monitor_interval`` seconds.
        capture_environment: record the OS, host, CPU, memory, GPUs, Python version and
            executable, and the installed packages with their versions.
        capture_code: record the git commit, branch and dirty state, and the command line.
        flush_interval: the longest a logged point waits before it is written, in seconds.

    Raises:
        RunstoreError: the file cannot be created or opened (a read-only directory, a file
            that is not a runstore file, a newer schema).
    """
    env_db = os.environ.get(ENV_DB) or None
    env_run = os.environ.get(ENV_RUN_ID) or None
    if path is None:
        if env_db is None:
            raise ValueError(
                "runstore.init() needs the path of a runstore file, e.g. runstore.init('runs.db') "
                f"(or ${ENV_DB} set, as `runstore record` does)"
            )
        path = env_db
    path = os.fspath(path)
    recorder = _recorder(path, flush_interval)
    interval = monitor_interval if monitor else None
    if env_run is not None and env_db is not None and _same_file(path, env_db):
        Store(path).run(env_run)  # raises RunstoreError when the file has no such run
        run = recorder.attach_run(env_run, monitor_interval=interval)
    else:
        provenance = _environment.provenance(environment=capture_environment, code=capture_code)
        run = recorder.start_run(
            experiment or "default",
            name or _environment.default_run_name(),
            trial=trial,
            provenance=provenance,
            monitor_interval=interval,
        )
    if config:
        run.log_params(dict(config))
    if tags:
        run.set_tags(dict(tags))
    _live_runs.add(run)
    _install_hooks()
    return run


def finish() -> None:
    """Ends every run this process started and has not ended (as completed), and writes
    everything queued. Called at exit automatically."""
    for run in list(_live_runs):
        if not run.ended:
            run.finish()


def _recorder(path: str, flush_interval: float) -> Recorder:
    key = os.path.realpath(path)
    with _lock:
        recorder = _recorders.get(key)
        if recorder is None or not recorder.usable:
            recorder = Recorder(path, flush_interval=flush_interval)
            _recorders[key] = recorder
        return recorder


def _same_file(a: str, b: str) -> bool:
    return os.path.realpath(a) == os.path.realpath(b)


def _excepthook(kind, value, traceback) -> None:
    global _uncaught
    _uncaught = value
    _previous_excepthook(kind, value, traceback)


_previous_excepthook = sys.excepthook


def _install_hooks() -> None:
    """Notes an exception that ends the script (so its runs end failed, not completed), and
    ends runs and closes recorders at exit. Installed by the first ``init()``."""
    global _hooks_installed, _previous_excepthook
    with _lock:
        if _hooks_installed:
            return
        _hooks_installed = True
        _previous_excepthook = sys.excepthook
        sys.excepthook = _excepthook
        atexit.register(_at_exit)


def _describe(error: BaseException) -> str:
    message = str(error)
    return f"{type(error).__qualname__}: {message}" if message else type(error).__qualname__


def _at_exit() -> None:
    """Ends the runs left open (failed or killed if an exception ended the script) and writes
    everything queued. In a forked child the parent's runs are left alone."""
    for run in list(_live_runs):
        try:
            if run.ended:
                continue
            if isinstance(_uncaught, KeyboardInterrupt):
                run.kill("KeyboardInterrupt")
            elif _uncaught is not None:
                run.fail(_describe(_uncaught))
            else:
                run.finish()
        except ForkedProcessError:
            pass
        except RunstoreError as e:
            print(f"runstore: while ending run {run.id}: {e}", file=sys.stderr)
    with _lock:
        recorders = list(_recorders.values())
        _recorders.clear()
    for recorder in recorders:
        if not recorder.usable:
            continue
        try:
            recorder.close()
        except RunstoreError as e:
            print(f"runstore: {recorder.path}: {e}", file=sys.stderr)


def _forget_after_fork() -> None:
    # The parent's recorders have no writer thread here; runstore.init() opens new ones. The
    # lock is new too: another thread of the parent may have held it at the fork.
    global _recorders, _lock
    _recorders = {}
    _lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_after_fork)
