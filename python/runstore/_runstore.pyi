"""Type stubs of the extension module ``runstore._runstore`` (native, PyO3)."""

from os import PathLike
from types import TracebackType
from typing import Any, Mapping, Optional, Sequence, Union

import numpy as np

__version__: str

_Path = Union[str, PathLike[str]]
_Numbers = Union[np.ndarray, Sequence[float]]
_Steps = Union[np.ndarray, Sequence[int], None]

class RunstoreError(Exception):
    """An error of runstore: the file could not be opened, read or written, or a value was refused."""

class ForkedProcessError(RuntimeError):
    """A recorder or run made before os.fork() was used in the child process."""

class Recorder:
    """The writer of one runstore file (one native writer thread). Made by ``runstore.init``."""

    def __init__(self, path: _Path, *, flush_interval: float = 0.5) -> None: ...
    @property
    def path(self) -> str: ...
    @property
    def usable(self) -> bool: ...
    def start_run(
        self,
        experiment: str,
        name: str,
        *,
        trial: Optional[str] = None,
        provenance: Optional[Mapping[str, Any]] = None,
        monitor_interval: Optional[float] = None,
    ) -> Run: ...
    def attach_run(self, run_id: str, *, monitor_interval: Optional[float] = None) -> Run: ...
    def flush(self) -> None: ...
    def close(self) -> None: ...
    def health(self) -> dict[str, Any]: ...
    def register_model(
        self,
        name: str,
        path: _Path,
        *,
        description: str = "",
        tags: Optional[Mapping[str, Any]] = None,
        aliases: Sequence[str] = (),
        source_run: Optional[str] = None,
    ) -> int: ...
    def set_model_alias(self, name: str, alias: str, version: int) -> None: ...
    def tag_model(self, name: str, tags: Mapping[str, Any]) -> None: ...

class Span:
    """A timed block of a run: ``with run.time("generate") as span: ...``."""

    def set(self, key: str, value: Any) -> None:
        """Sets an attribute of the span."""
    def end(self) -> None:
        """Records the span now (leaving the ``with`` block does it)."""
    def __enter__(self) -> Span: ...
    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc_value: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> bool: ...

class Run:
    """A run being recorded; thread-safe. Use as a context manager or end with ``finish()``."""

    @property
    def id(self) -> str:
        """The run's id (a ULID)."""
    @property
    def name(self) -> str:
        """The run's name."""
    @property
    def path(self) -> str:
        """The file the run is recorded in."""
    @property
    def attached(self) -> bool:
        """Whether the run was joined through RUNSTORE_RUN_ID (its status is its owner's)."""
    @property
    def ended(self) -> bool:
        """Whether the run has ended."""
    @property
    def step(self) -> int:
        """The step the next ``log()`` without ``step`` gets."""
    def log(
        self,
        data: Mapping[str, Any],
        step: Optional[int] = None,
        *,
        epoch: Optional[int] = None,
        phase: Optional[str] = None,
    ) -> None:
        """Logs metrics: ``run.log({"train/loss": 0.31, "lr": 1e-3})``. Steps count up from 0
        when not given; nested dicts flatten with "/"; ints, floats (NaN, ±inf kept), numpy
        scalars. Anything else raises ``TypeError`` naming the key (nothing of the call is
        logged then)."""
    def log_many(
        self,
        key: str,
        steps: _Steps,
        values: _Numbers,
        *,
        epoch: Optional[int] = None,
        phase: Optional[str] = None,
    ) -> int:
        """Logs a whole array of one metric (numpy arrays read in place); ``steps=None``
        continues the run's step count. Returns the number of points."""
    def log_labelled(
        self,
        key: str,
        total: float,
        per_label: Mapping[str, float],
        step: Optional[int] = None,
        *,
        phase: Optional[str] = None,
    ) -> None:
        """Logs a metric and its per-label values (accuracy per class)."""
    def log_params(self, params: Mapping[str, Any]) -> None:
        """Sets params; nested dicts flatten with "." (``optimizer.lr``)."""
    def set_tags(self, tags: Mapping[str, Any]) -> None:
        """Sets tags (values converted with ``str()``)."""
    def log_results(self, results: Mapping[str, Any]) -> None:
        """Sets the run's results summary."""
    def start_epoch(self, epoch: int) -> None:
        """Marks the start of an epoch; points logged meanwhile carry it."""
    def end_epoch(self, epoch: int) -> None:
        """Marks the end of an epoch."""
    def start_batch(self, batch: int) -> None:
        """Marks the start of a batch of the current epoch."""
    def end_batch(self, batch: int) -> None:
        """Marks the end of a batch."""
    def log_artifact(
        self,
        path: _Path,
        *,
        name: Optional[str] = None,
        kind: str = "file",
        metadata: Optional[Mapping[str, Any]] = None,
        epoch: Optional[int] = None,
        batch: Optional[int] = None,
    ) -> str:
        """Records a file (size and SHA-256 computed natively) or a URI; returns its id."""
    def log_dataset(
        self,
        name: str,
        data: Any = None,
        *,
        path: Optional[_Path] = None,
        role: str = "input",
    ) -> str:
        """Records a dataset: a pandas/polars DataFrame (shape, schema, content hash) and/or a
        path; ``role`` is "input" or "output". Returns its id."""
    def time(self, name: str, **attributes: Any) -> Span:
        """Times a block as a span: ``with run.time("generate", round=3): ...``."""
    def register_model(
        self,
        name: str,
        path: _Path,
        *,
        description: str = "",
        tags: Optional[Mapping[str, Any]] = None,
        aliases: Sequence[str] = (),
    ) -> int:
        """Registers a version of model ``name`` from a file, produced by this run."""
    def flush(self) -> None:
        """Waits until everything logged so far is written."""
    def finish(self) -> None:
        """Marks the run completed and waits until everything logged is written."""
    def fail(self, message: str) -> None:
        """Marks the run failed with ``message``."""
    def kill(self, reason: str = "interrupted") -> None:
        """Marks the run killed."""
    def __enter__(self) -> Run: ...
    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc_value: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> bool: ...

class SeriesHandle:
    """A cached metric series of a run (internal)."""

class Store:
    """A runstore file opened for reading (the native half of ``runstore.Store``)."""

    def __init__(self, path: _Path) -> None: ...
    @property
    def path(self) -> str: ...
    def runs(
        self,
        *,
        filter: Optional[str] = None,
        sort: Optional[str] = None,
        experiment: Optional[str] = None,
        limit: Optional[int] = None,
    ) -> list[dict[str, Any]]: ...
    def run(self, id_or_name: str) -> dict[str, Any]: ...
    def points(
        self, run: str, key: str, context: Union[str, Mapping[str, str], None] = None, label: str = ""
    ) -> Optional[tuple[bytes, bytes, bytes]]: ...
    def series_summaries(self, run: str) -> list[dict[str, Any]]: ...
    def compare(self, runs: Sequence[str]) -> dict[str, Any]: ...
    def group(
        self,
        metric: str,
        group_by: Sequence[str],
        *,
        filter: Optional[str] = None,
        band: str = "std",
        budget: int = 1000,
    ) -> list[dict[str, Any]]: ...
    def summary(self) -> dict[str, Any]: ...
    def experiments(self) -> list[dict[str, Any]]: ...
    def artifacts(self, run: str) -> list[dict[str, Any]]: ...
    def datasets(self, run: str) -> list[dict[str, Any]]: ...
    def environment(self, run: str) -> Optional[dict[str, Any]]: ...
    def code(self, run: str) -> Optional[dict[str, Any]]: ...
    def spans(self, run: Optional[str] = None, name: Optional[str] = None) -> list[dict[str, Any]]: ...
    def models(self) -> list[dict[str, Any]]: ...
    def model_versions(self, name: str) -> list[dict[str, Any]]: ...
    def model_version(self, name: str, alias: str) -> dict[str, Any]: ...

def smooth(x: Sequence[float], y: Sequence[float], how: str = "ema", weight: float = 0.6, window: int = 10) -> list[float]: ...
def _cli_main(argv: Sequence[str]) -> int: ...
def _before_fork() -> None: ...
def _after_fork_in_parent() -> None: ...
def _after_fork_in_child() -> None: ...
