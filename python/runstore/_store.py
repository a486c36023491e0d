"""Reading runstore files from Python: runs, series and comparisons as polars DataFrames
(``.to_pandas()`` works when pyarrow is installed). The numbers are runstore's own: the same
filter language, summaries and smoothing as the CLI and the web page."""

from __future__ import annotations

import os
from typing import Any, Iterable, Optional, Sequence

import numpy as np
import polars as pl

from ._runstore import Store as _NativeStore
from ._runstore import smooth as _smooth

_AGGREGATES = ("last", "min", "max", "mean", "sum", "count", "nan_count", "best")


def open(path: str | os.PathLike[str]) -> "Store":  # noqa: A001 - runstore.open reads a file
    """Opens the runstore file at ``path`` for reading (it may be being recorded into)."""
    return Store(path)


def smooth(
    x: Sequence[float] | np.ndarray,
    y: Sequence[float] | np.ndarray,
    how: str = "ema",
    weight: float = 0.6,
    window: int = 10,
) -> np.ndarray:
    """Smooths ``y`` (at positions ``x``) as TensorBoard (``"ema"``, debiased, weight 0.6 by
    default), W&B (``"time_weighted_ema"``) or a centred running average of ``window`` points
    (``"running_average"``) do. NaN and inf points pass through unchanged."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    return np.asarray(_smooth(x.tolist(), y.tolist(), how, weight, window), dtype=np.float64)


def _split_metric(spec: str) -> tuple[str, str]:
    key, _, agg = spec.rpartition(".")
    if key and agg in _AGGREGATES:
        return key, agg
    return spec, "last"


def _pick(summary: dict[str, Any], agg: str) -> Optional[float]:
    if agg == "best":
        agg = "min" if summary["direction"] == "minimize" else "max"
    value = summary[agg]
    return None if value is None else float(value)



class Store:
    """A runstore file opened for reading. Every method reads the file as it is now."""

    def __init__(self, path: str | os.PathLike[str]):
        self._native = _NativeStore(os.fspath(path))

    @property
    def path(self) -> str:
        """The file."""
        return self._native.path

    def __repr__(self) -> str:
        return f"<runstore.Store {self.path!r}>"

    def runs(
        self,
        filter: Optional[str] = None,
        sort: Optional[str] = None,
        metrics: Optional[Iterable[str]] = None,
        *,
        experiment: Optional[str] = None,
        limit: Optional[int] = None,
    ) -> pl.DataFrame:
        """One row per run: ``id``, ``name``, ``experiment``, ``trial``, ``state`` (crashed runs
        detected), ``created``/``started``/``ended`` (UTC), ``duration_s``, ``error``, a
        ``params.<key>`` column per param, a ``tags.<key>`` column per tag, and metric columns.

        Args:
            filter: runstore's filter language, e.g.
                ``"params.lr = 0.01 and metrics.val/loss.min < 0.3"``.
            sort: ``"metrics.val/loss.min"``, ``"-params.lr"`` (largest first),
                ``"duration desc"``. Default: oldest first.
            metrics: columns as ``KEY`` (last value) or ``KEY.AGG`` with AGG one of last, min,
                max, mean, sum, count, nan_count, best. Default: the last value of every metric.
            experiment: only runs of this experiment.
            limit: at most this many runs.
        """
        runs = self._native.runs(filter=filter, sort=sort, experiment=experiment, limit=limit)
        return _runs_frame(runs, metrics)

    def run(self, id_or_name: str) -> dict[str, Any]:
        """One run as a dict: attributes, ``params``, ``tags``, ``results`` and ``metrics``
        (the summary of each of its series)."""
        return self._native.run(id_or_name)

    def series(
        self,
        run: str,
        key: str,
        context: Optional[str | dict[str, str]] = None,
        label: str = "",
    ) -> pl.DataFrame:
        """Every point of metric ``key`` of ``run`` (id or name): columns ``step`` (Int64),
        ``value`` (Float64, NaN and inf as logged) and ``time`` (Datetime, ms, UTC).
        ``context`` is the phase name the metric was logged with (``phase=`` of
        ``run.log``), or a dict of context labels; ``label`` picks a per-label value.
        ``.to_numpy()`` gives the arrays.

        Raises:
            KeyError: the run has no such series.
        """
        columns = self._native.points(run, key, context, label)
        if columns is None:
            where = f" (context {context!r})" if context else ""
            raise KeyError(f"run {run!r} has no metric {key!r}{where}{' label ' + repr(label) if label else ''}")
        steps, values, times = (np.frombuffer(c, dtype=t) for c, t in zip(columns, ("<i8", "<f8", "<i8")))
        return pl.DataFrame(
            {
                "step": pl.Series("step", steps, dtype=pl.Int64),
                "value": pl.Series("value", values, dtype=pl.Float64),
                "time": pl.Series("time", times, dtype=pl.Int64).cast(pl.Datetime("ms", "UTC")),
            }
        )

    def metrics(self, run: str) -> pl.DataFrame:
        """The summary of every series of ``run``: key, phase, label, count, nan_count, first
        and last step, last, min, max, mean, sum."""
        rows = self._native.series_summaries(run)
        return _summaries_frame(rows)

    def compare(self, runs: Sequence[str]) -> dict[str, pl.DataFrame]:
        """Runs side by side, as ``runstore compare`` shows them: ``{"params": one row per
        param that differs, a column per run; "metrics": one row per metric with each run's
        last value and the best run}``. Runs are given by id or unique name."""
        comparison = self._native.compare(list(runs))
        names = _unique_names(comparison["runs"])
        params = {"param": list(comparison["differing"].keys())}
        for i, name in enumerate(names):
            params[name] = [_cell(values[i]) for values in comparison["differing"].values()]
        metric_rows: dict[str, list[Any]] = {"key": [], "phase": [], "label": [], "direction": [], "best": []}
        for name in names:
            metric_rows[name] = []
        for row in comparison["metrics"]:
            metric_rows["key"].append(row["key"])
            metric_rows["phase"].append(row["context"].get("phase"))
            metric_rows["label"].append(row["label"])
            metric_rows["direction"].append(row["direction"])
            metric_rows["best"].append(None if row["best"] is None else names[row["best"]])
            for name, summary in zip(names, row["summaries"]):
                metric_rows[name].append(None if summary is None else summary["last"])
        return {
            "params": pl.DataFrame(params, schema={"param": pl.Utf8, **{n: pl.Utf8 for n in names}}),
            "metrics": pl.DataFrame(
                metric_rows,
                schema={
                    "key": pl.Utf8,
                    "phase": pl.Utf8,
                    "label": pl.Utf8,
                    "direction": pl.Utf8,
                    "best": pl.Utf8,
                    **{n: pl.Float64 for n in names},
                },
            ),
        }

    def group(
        self,
        metric: str,
        by: Sequence[str],
        *,
        filter: Optional[str] = None,
        band: str = "std",
        budget: int = 1000,
    ) -> pl.DataFrame:
        """Runs grouped by the params ``by`` (all seeds of one learning rate), metric ``metric``
        aligned by step: one row per group and x with ``mean``, ``lower``/``upper`` (the band:
        ``"std"``, ``"std_err"`` or ``"min_max"``), ``count`` and ``members``."""
        groups = self._native.group(metric, list(by), filter=filter, band=band, budget=budget)
        frames = []
        for group in groups:
            n = len(group["x"])
            columns: dict[str, Any] = {f"params.{k}": [_cell(v)] * n for k, v in group["key"].items()}
            columns.update(
                x=group["x"],
                mean=group["mean"],
                lower=group["lower"],
                upper=group["upper"],
                count=group["count"],
                members=[len(group["members"])] * n,
            )
            frames.append(pl.DataFrame(columns))
        return pl.concat(frames, how="diagonal") if frames else pl.DataFrame()

    def summary(self) -> dict[str, Any]:
        """The file's overview (``runstore summary``): stats, resources, spans and metrics."""
        return self._native.summary()

    def experiments(self) -> list[dict[str, Any]]:
        """Experiments with their trial and run counts."""
        return self._native.experiments()

    def artifacts(self, run: str) -> list[dict[str, Any]]:
        """Artifacts of a run, with sizes and SHA-256."""
        return self._native.artifacts(run)

    def datasets(self, run: str) -> list[dict[str, Any]]:
        """Datasets a run read or wrote."""
        return self._native.datasets(run)

    def environment(self, run: str) -> Optional[dict[str, Any]]:
        """The environment of a run: OS, host, CPU, memory, GPUs, runtimes, packages."""
        return self._native.environment(run)

    def code(self, run: str) -> Optional[dict[str, Any]]:
        """The code of a run: git commit, branch, dirty flag, entry point (command line)."""
        return self._native.code(run)

    def spans(self, run: Optional[str] = None, name: Optional[str] = None) -> list[dict[str, Any]]:
        """Spans (timed blocks) of a run, or of every run."""
        return self._native.spans(run, name)

    def models(self) -> list[dict[str, Any]]:
        """Registered models with their versions, aliases and tags."""
        return self._native.models()

    def model_versions(self, name: str) -> list[dict[str, Any]]:
        """Versions of model ``name``."""
        return self._native.model_versions(name)

    def model_version(self, name: str, alias: str) -> dict[str, Any]:
        """The version of model ``name`` that ``alias`` points at."""
        return self._native.model_version(name, alias)


def _cell(value: Any) -> Any:
    """A param value for a text column of a comparison (None stays None)."""
    return None if value is None else str(value)


def _unique_names(runs: list[dict[str, Any]]) -> list[str]:
    names = [r["name"] or r["id"] for r in runs]
    return [n if names.count(n) == 1 else f"{n} ({r['id'][-6:]})" for n, r in zip(names, runs)]


def _ms_column(name: str, values: list[Optional[int]]) -> pl.Series:
    return pl.Series(name, values, dtype=pl.Int64).cast(pl.Datetime("ms", "UTC"))


def _runs_frame(runs: list[dict[str, Any]], metrics: Optional[Iterable[str]]) -> pl.DataFrame:
    if metrics is None:
        keys = sorted({m["key"] for r in runs for m in r["metrics"] if not m["label"]})
        wanted = [(k, "last") for k in keys]
    else:
        wanted = [_split_metric(m) for m in metrics]
    columns: dict[str, pl.Series] = {
        "id": pl.Series("id", [r["id"] for r in runs], dtype=pl.Utf8),
        "name": pl.Series("name", [r["name"] for r in runs], dtype=pl.Utf8),
        "experiment": pl.Series("experiment", [r["experiment"] for r in runs], dtype=pl.Utf8),
        "trial": pl.Series("trial", [r["trial"] for r in runs], dtype=pl.Utf8),
        "state": pl.Series("state", [r["state"] for r in runs], dtype=pl.Utf8),
        "created": _ms_column("created", [r["created_ms"] for r in runs]),
        "started": _ms_column("started", [r["started_ms"] for r in runs]),
        "ended": _ms_column("ended", [r["ended_ms"] for r in runs]),
        "duration_s": pl.Series(
            "duration_s",
            [None if r["duration_ms"] is None else r["duration_ms"] / 1000 for r in runs],
            dtype=pl.Float64,
        ),
        "error": pl.Series("error", [r["error"] for r in runs], dtype=pl.Utf8),
    }
    for key in sorted({k for r in runs for k in r["params"]}):
        columns[f"params.{key}"] = _param_column(f"params.{key}", [r["params"].get(key) for r in runs])
    for key in sorted({k for r in runs for k in r["tags"]}):
        columns[f"tags.{key}"] = pl.Series(f"tags.{key}", [r["tags"].get(key) for r in runs], dtype=pl.Utf8)
    for key, agg in wanted:
        name = key if agg == "last" else f"{key}.{agg}"
        values = []
        for r in runs:
            summary = next((m for m in r["metrics"] if m["key"] == key and not m["label"]), None)
            values.append(None if summary is None else _pick(summary, agg))
        columns[name] = pl.Series(name, values, dtype=pl.Float64)
    return pl.DataFrame(list(columns.values()))


def _param_column(name: str, values: list[Any]) -> pl.Series:
    """Numbers (and bools) as Float64 when every present value is one, text otherwise."""
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return pl.Series(name, values, dtype=pl.Boolean)
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return pl.Series(name, values, dtype=pl.Int64)
    if present and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        return pl.Series(name, [None if v is None else float(v) for v in values], dtype=pl.Float64)
    return pl.Series(name, [None if v is None else (v if isinstance(v, str) else str(v)) for v in values], dtype=pl.Utf8)


def _summaries_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    schema = {
        "key": pl.Utf8,
        "phase": pl.Utf8,
        "label": pl.Utf8,
        "count": pl.Int64,
        "nan_count": pl.Int64,
        "first_step": pl.Int64,
        "last_step": pl.Int64,
        "last": pl.Float64,
        "min": pl.Float64,
        "max": pl.Float64,
        "mean": pl.Float64,
        "sum": pl.Float64,
    }
    return pl.DataFrame({k: [r[k] for r in rows] for k in schema}, schema=schema)
