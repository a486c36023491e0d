"""P11 (see BENCHMARKS.md): `runstore import` beside the tool's own reader of the same data.

mlflow:      an MLflow SQLite store (schema made by MLflow 3.17.2) with R runs x K keys x S
             steps metric rows, the rows put in with one executemany (logging 1M points through
             MlflowClient.log_batch takes ~2 minutes); read back through MlflowClient
             (get_metric_history of every run's every key) vs `runstore import mlflow`.
tensorboard: R runs x K tags x S steps written by tensorboardX's SummaryWriter.add_scalar;
             read back by tbparse's SummaryReader (scalars as a DataFrame) vs
             `runstore import tensorboard`.
Rounds alternate the two sides; each runstore round imports into a new file. The data is
generated once into a temporary folder. Prints a table, then one JSON object.
"""
import argparse
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
import warnings

warnings.filterwarnings("ignore")


def mlflow_store(folder, runs, keys, steps):
    from mlflow.entities import Metric
    from mlflow.tracking import MlflowClient

    path = os.path.join(folder, "mlflow.db")
    client = MlflowClient(tracking_uri=f"sqlite:///{path}")
    exp = client.create_experiment("bench", artifact_location=os.path.join(folder, "artifacts"))
    ids = []
    for r in range(runs):
        run = client.create_run(exp, run_name=f"run-{r}").info.run_id
        client.log_batch(run, metrics=[Metric(f"m{k}", 0.0, 0, 0) for k in range(keys)])  # latest_metrics rows
        ids.append(run)
    rng = random.Random(7)
    con = sqlite3.connect(path)
    con.execute("DELETE FROM metrics")
    rows = ((f"m{k}", rng.random(), 1_750_000_000_000 + s, run, s, 0)
            for run in ids for k in range(keys) for s in range(steps))
    con.executemany("INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES (?, ?, ?, ?, ?, ?)", rows)
    con.commit()
    con.close()
    return path, ids


def read_mlflow(path, ids, keys):
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{path}")
    n = 0
    for run in ids:
        for k in range(keys):
            n += len(client.get_metric_history(run, f"m{k}"))
    return n


def tensorboard_logs(folder, runs, keys, steps):
    from tensorboardX import SummaryWriter

    logs = os.path.join(folder, "logs")
    rng = random.Random(7)
    for r in range(runs):
        w = SummaryWriter(os.path.join(logs, f"run-{r}"), max_queue=10_000, flush_secs=600)
        for s in range(steps):
            for k in range(keys):
                w.add_scalar(f"m{k}", rng.random(), s, walltime=1_750_000_000.0 + s)
        w.close()
    return logs


def read_tbparse(logs):
    from tbparse import SummaryReader

    return len(SummaryReader(logs, pivot=False).scalars)


def runstore_import(binary, kind, source, folder, round_):
    out = os.path.join(folder, f"runs-{kind}-{round_}.db")
    start = time.perf_counter()
    done = subprocess.run([binary, "import", kind, source, "-o", out, "--json"], capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"runstore import {kind} failed: {done.stderr}")
    return seconds, json.loads(done.stdout)["points"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runstore", required=True)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--only", choices=["mlflow", "tensorboard"])
    args = parser.parse_args()
    runs, keys = 10, 10
    steps = args.points // (runs * keys)
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        sources = []
        if args.only in (None, "mlflow"):
            start = time.perf_counter()
            path, ids = mlflow_store(folder, runs, keys, steps)
            print(f"mlflow store: {runs * keys * steps} rows, {os.path.getsize(path) / 1e6:.0f} MB, made in {time.perf_counter() - start:.0f} s", file=sys.stderr)
            sources.append(("mlflow", path, "MlflowClient.get_metric_history", lambda: read_mlflow(path, ids, keys)))
        if args.only in (None, "tensorboard"):
            start = time.perf_counter()
            logs = tensorboard_logs(folder, runs, keys, steps)
            size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(logs) for f in fs)
            print(f"tensorboard logs: {runs * keys * steps} scalars, {size / 1e6:.0f} MB, written in {time.perf_counter() - start:.0f} s", file=sys.stderr)
            sources.append(("tensorboard", logs, "tbparse SummaryReader", lambda: read_tbparse(logs)))
        for kind, source, reader, read in sources:
            ours, theirs = [], []
            for round_ in range(args.rounds):
                seconds, points = runstore_import(args.runstore, kind, source, folder, round_)
                ours.append(points / seconds)
                start = time.perf_counter()
                n = read()
                theirs.append(n / (time.perf_counter() - start))
                assert n == points, (kind, n, points)
                print(f"  {kind} round {round_}: runstore import {ours[-1]:12,.0f} points/s   {reader} {theirs[-1]:10,.0f} points/s   {ours[-1] / theirs[-1]:5.0f}x", file=sys.stderr)
            results[kind] = {"points": points, "runstore_points_per_s": ours, "reader": reader,
                             "reader_points_per_s": theirs, "ratio_of_bests": max(ours) / max(theirs)}
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
