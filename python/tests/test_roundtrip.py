"""What a Python loop logs comes back bit for bit through runstore.open and through the CLI."""

import csv
import hashlib
import io
import math
import struct

import numpy as np
import pandas as pd
import polars as pl
import pytest

import runstore
from conftest import runstore_cli

SPECIAL = [0.1, -0.0, 1e-310, 1.7976931348623157e308, math.nan, math.inf, -math.inf, 2.5]


def bits(x):
    return struct.pack("<d", x)


def record(db, tmp_path):
    model = tmp_path / "model.bin"
    model.write_bytes(b"weights" * 1000)
    with runstore.init(
        db,
        experiment="mnist",
        trial="lr=0.01",
        name="seed-0",
        config={"lr": 0.01, "epochs": 3, "amsgrad": False, "optimizer": {"name": "adam", "betas": [0.9, 0.999]}},
        tags={"team": "vision"},
    ) as run:
        for step, value in enumerate(SPECIAL):
            run.log({"train/loss": value, "train": {"acc": step / 10}, "count": step}, step=step)
        run.log({"val/loss": 0.5}, phase="val")
        run.log_labelled("val/acc", 0.9, {"cat": 0.95, "dog": math.nan}, step=3)
        run.log_many("series", np.arange(1000, dtype=np.int64) * 2, np.linspace(0.0, 1.0, 1000))
        run.log_many("np32", None, np.array([1.5, np.nan, np.inf], dtype=np.float32))
        run.log({"numpy": np.float32(0.25), "numpy_int": np.int64(7)}, step=0)
        run.start_epoch(1)
        run.log({"in_epoch": 1.0}, step=0)
        run.end_epoch(1)
        artifact = run.log_artifact(model, kind="model", metadata={"format": "raw"})
        run.log_artifact("s3://bucket/data.tar", kind="data")
        run.log_dataset("train", pl.DataFrame({"x": [1.0, 2.0, 3.0], "label": [0, 1, 0]}))
        run.log_dataset("test", pd.DataFrame({"x": [1.0, 2.0], "y": ["a", "b"]}), role="output")
        with run.time("generate", round=1) as span:
            span.set("samples", 64)
        run.log_results({"accuracy": 0.91, "best_epoch": 2})
        version = run.register_model("classifier", model, aliases=["production"], tags={"stage": "test"})
    return run, artifact, version, model


def test_values_come_back_bit_for_bit(db, tmp_path):
    run, artifact, version, model = record(db, tmp_path)
    store = runstore.open(db)

    loss = store.series(run.id, "train/loss")
    assert loss["step"].to_list() == list(range(len(SPECIAL)))
    assert [bits(v) for v in loss["value"].to_list()] == [bits(v) for v in SPECIAL]
    assert loss["value"].dtype == pl.Float64 and math.isnan(loss["value"][4])

    assert store.series(run.id, "train/acc")["value"].to_list() == [s / 10 for s in range(len(SPECIAL))]
    assert store.series(run.id, "val/loss", context="val")["value"].to_list() == [0.5]
    with pytest.raises(KeyError):
        store.series(run.id, "val/loss")  # logged with phase="val" only
    assert store.series(run.id, "val/acc", label="cat")["value"].to_list() == [0.95]
    assert math.isnan(store.series(run.id, "val/acc", label="dog")["value"][0])
    many = store.series(run.id, "series")
    assert many["step"].to_numpy().tolist() == list(range(0, 2000, 2))
    assert np.array_equal(many["value"].to_numpy(), np.linspace(0.0, 1.0, 1000))
    np32 = store.series(run.id, "np32")["value"].to_list()
    assert np32[0] == 1.5 and math.isnan(np32[1]) and np32[2] == math.inf
    assert store.series(run.id, "numpy")["value"].to_list() == [0.25]
    assert store.series(run.id, "numpy_int")["value"].to_list() == [7.0]

    info = store.run(run.id)
    assert info["state"] == "completed"
    assert info["params"] == {
        "lr": 0.01,
        "epochs": 3,
        "amsgrad": False,
        "optimizer.name": "adam",
        "optimizer.betas": [0.9, 0.999],
    }
    assert info["tags"] == {"team": "vision"}
    assert info["results"] == {"accuracy": 0.91, "best_epoch": 2}

    artifacts = {a["name"]: a for a in store.artifacts(run.id)}
    assert artifacts["model.bin"]["sha256"] == hashlib.sha256(model.read_bytes()).hexdigest()
    assert artifacts["model.bin"]["size_bytes"] == model.stat().st_size
    assert artifacts["data.tar"]["uri"] == "s3://bucket/data.tar"
    datasets = {d["name"]: d for d in store.datasets(run.id)}
    assert (datasets["train"]["rows"], datasets["train"]["columns"]) == (3, 2)
    assert datasets["train"]["schema"] == {"x": "Float64", "label": "Int64"}
    assert len(datasets["train"]["sha256"]) == 64
    assert datasets["test"]["role"] == "output" and datasets["test"]["rows"] == 2
    spans = store.spans(run.id)
    assert spans[0]["name"] == "generate" and spans[0]["attributes"] == {"round": 1, "samples": 64}
    assert version == 1
    assert store.model_version("classifier", "production")["version"] == 1

    frame = store.runs(metrics=["train/loss.min", "train/loss", "val/acc.max"])
    row = frame.row(0, named=True)
    assert row["id"] == run.id and row["experiment"] == "mnist" and row["trial"] == "lr=0.01"
    assert row["params.lr"] == 0.01 and row["params.optimizer.name"] == "adam"
    assert row["train/loss.min"] == -math.inf and row["train/loss"] == 2.5
    assert row["val/acc.max"] == 0.9


def test_cli_export_gives_the_same_points(db, tmp_path):
    run, *_ = record(db, tmp_path)
    out = tmp_path / "points.csv"
    runstore_cli("export", db, "--format", "csv", "--table", "points", "-o", str(out))
    exported = {}
    for row in csv.DictReader(io.StringIO(out.read_text())):
        if row["key"] == "train/loss" and row["label"] == "":
            exported[int(row["step"])] = float(row["value"])
    python = runstore.open(db).series(run.id, "train/loss")
    assert [bits(exported[s]) for s in python["step"].to_list()] == [bits(v) for v in python["value"].to_list()]


def test_runs_table_matches_the_cli(db, tmp_path):
    for lr in (0.1, 0.01):
        with runstore.init(db, experiment="sweep", config={"lr": lr}) as run:
            for step in range(50):
                run.log({"val/loss": lr * (50 - step) + step * 1e-3})
    cli = list(csv.DictReader(io.StringIO(runstore_cli(
        "runs", db, "--format", "csv", "--metric", "val/loss.min", "--sort", "-params.lr", "--filter", "params.lr > 0.001"
    ))))
    python = runstore.open(db).runs(filter="params.lr > 0.001", sort="-params.lr", metrics=["val/loss.min"])
    assert python["id"].to_list() == [r["id"] for r in cli]
    assert python["val/loss.min"].to_list() == [float(r["val/loss.min"]) for r in cli]


def test_compare_group_summary_and_smoothing(db):
    for lr in (0.1, 0.01):
        for seed in range(2):
            with runstore.init(db, experiment="sweep", name=f"lr{lr}-s{seed}", config={"lr": lr, "seed": seed}) as run:
                run.log_many("loss", None, np.linspace(1.0, lr, 20) + seed * 1e-3)
    store = runstore.open(db)
    compared = store.compare(["lr0.1-s0", "lr0.01-s0"])
    assert compared["params"]["param"].to_list() == ["lr"]
    metrics = compared["metrics"].row(0, named=True)
    assert metrics["key"] == "loss" and metrics["best"] == "lr0.01-s0"
    assert metrics["lr0.01-s0"] == pytest.approx(0.01)
    grouped = store.group("loss", ["lr"])
    assert sorted(set(grouped["params.lr"].to_list())) == ["0.01", "0.1"]
    assert set(grouped["members"].to_list()) == {2}
    summary = store.summary()
    assert summary["stats"]["runs"] == 4 and summary["stats"]["points"] == 80
    smoothed = runstore.smooth([0, 1, 2], [1.0, math.nan, 3.0], how="ema", weight=0.5)
    assert smoothed[0] == 1.0 and math.isnan(smoothed[1]) and 1.0 < smoothed[2] < 3.0


def test_frames_convert_to_pandas_and_numpy(db):
    with runstore.init(db, config={"lr": 0.1}) as run:
        run.log_many("loss", None, [3.0, math.nan, 1.0])
    store = runstore.open(db)
    runs = store.runs().to_pandas()
    assert list(runs["id"]) == [run.id] and runs["params.lr"][0] == 0.1
    values = store.series(run.id, "loss")["value"].to_numpy()
    assert values.dtype == np.float64 and values[0] == 3.0 and math.isnan(values[1])
