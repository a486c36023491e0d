"""MLflow on SQLite, measured the way runstore's benches measure runstore (see BENCHMARKS.md).

log POINTS:     a new store; POINTS metric values over 100 keys (step = i // 100) logged with
                MlflowClient.log_batch in batches of 1000 (its maximum); prints points/s and
                the store's bytes per point.
history POINTS: a store holding one metric of POINTS steps; prints the seconds
                get_metric_history takes to return all of them (best of 3).
Prints one JSON object.
"""
import json
import os
import sys
import tempfile
import time
import warnings

warnings.filterwarnings("ignore")
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

from mlflow.entities import Metric  # noqa: E402
from mlflow.tracking import MlflowClient  # noqa: E402


def store(directory):
    path = os.path.join(directory, "mlflow.db")
    client = MlflowClient(tracking_uri=f"sqlite:///{path}")
    exp = client.create_experiment("bench", artifact_location=os.path.join(directory, "artifacts"))
    run = client.create_run(exp).info.run_id
    return path, client, run


def log(client, run, points, keys):
    batch = []
    now = int(time.time() * 1000)
    for i in range(points):
        batch.append(Metric(key=f"m{i % keys}", value=(i % 1000) * 0.001, timestamp=now, step=i // keys))
        if len(batch) == 1000:
            client.log_batch(run, metrics=batch)
            batch = []
    if batch:
        client.log_batch(run, metrics=batch)


def main():
    mode, points = sys.argv[1], int(sys.argv[2])
    with tempfile.TemporaryDirectory() as directory:
        path, client, run = store(directory)
        if mode == "log":
            start = time.perf_counter()
            log(client, run, points, 100)
            seconds = time.perf_counter() - start
            size = os.path.getsize(path)
            print(json.dumps({"points": points, "seconds": seconds, "points_per_s": points / seconds,
                              "bytes": size, "bytes_per_point": size / points}))
        elif mode == "history":
            log(client, run, points, 1)
            best = float("inf")
            for _ in range(3):
                start = time.perf_counter()
                history = client.get_metric_history(run, "m0")
                best = min(best, time.perf_counter() - start)
                assert len(history) == points
            print(json.dumps({"points": points, "seconds": best}))
        else:
            sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
