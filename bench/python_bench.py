"""P9: logging from Python -- runstore's Python package against MLflow and W&B, side by side.

Run through bench/python.sh, which installs the pinned tools (and runstore from ../python)
into a virtualenv under ~/.cache/runstore. Usage:

    python_bench.py [--rounds R] [--scale S] [--only NAME,NAME...] [--json FILE]

Two workloads, the same for every tool:

  dict   N calls of `log({"k0": v, ..., "k9": v + 9}, step=i)`: 10 points a call, the shape of
         a training loop's per-step logging.
  array  one key with N points (steps 0..N-1): runstore `log_many` with numpy arrays; MLflow
         `log_batch` of 1000 `Metric`s (its maximum); W&B a loop of `wandb.log({"x": v}, step=i)`.

Each measurement runs in a fresh Python process (imports and the store's creation are not
timed; init is timed and reported apart). The time counted runs from the first logging call
until everything is written: until `run.finish()` (runstore, W&B) or `end_run()` /
`set_terminated()` (MLflow) returns. Afterwards, untimed, the file is read back to check that
every point is in it. The cases alternate round by round; the best round of each is reported.
N differs per tool (a few seconds each on a 2-core machine); rates are per second.

Caller cost per call: in the dict workload every 17th call is timed on its own
(`perf_counter_ns` around it, building the call's dict included, as in python.loop);
p50/p99/max/mean are over those samples. "us/call (all)" is the whole time (finish included)
divided by the calls, "us/call (loop)" the caller's loop alone.

The MLflow cases: `log_batch` (the call's 10 Metrics gathered, sent every 100 calls), the
asynchronous `log_metrics(..., synchronous=False)` with its defaults and with
MLFLOW_ASYNC_LOGGING_BUFFERING_SECONDS=1, and the default synchronous `log_metrics`. W&B runs
offline with system stats, console capture and git/code/metadata capture off (less work for
it). MLflow's telemetry is off; nothing is written outside a temporary directory.

Prints a table, then one JSON object (also written to --json FILE).
"""
import argparse
import glob
import json
import os
import shutil
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time

KEYS = [f"k{j}" for j in range(10)]
# The Rust recorder's rate in BENCHMARKS.md P1 (best of 3 rounds, 2M points, since issue 11):
# `cargo bench -p runstore --no-default-features --bench record`. Override with --rust-rate.
RUST_RECORDER_P1 = 5_272_197
SAMPLE_EVERY = 17  # time every 17th dict call on its own (prime: no aliasing with batches of 100)

# name: (tool, workload, default N, what it does). N is calls for dict, points for array.
CASES = {
    "runstore.log": ("runstore", "dict", 1_000_000, "run.log(dict of 10, step=i); run.finish()"),
    "mlflow.log_batch": ("mlflow", "dict", 4_000,
                         "10 Metric per call, MlflowClient.log_batch every 100 calls (1000 metrics)"),
    "mlflow.async": ("mlflow", "dict", 300,
                     "mlflow.log_metrics(dict, step=i, synchronous=False); mlflow.end_run()"),
    "mlflow.async+buffer": ("mlflow", "dict", 2_500,
                            "the same with MLFLOW_ASYNC_LOGGING_BUFFERING_SECONDS=1"),
    "mlflow.log_metrics": ("mlflow", "dict", 300,
                           "mlflow.log_metrics(dict, step=i) (synchronous, the default)"),
    "wandb.log": ("wandb", "dict", 20_000, "wandb.log(dict, step=i); wandb.finish() (offline)"),
    "python.loop": ("python", "dict", 2_000_000,
                    "the loop alone: builds the same dict, calls a no-op log(d, step=i)"),
    "runstore.log_many": ("runstore", "array", 20_000_000,
                          "run.log_many('x', steps, values): one call, int64/float64 arrays"),
    "runstore.log_many/1000": ("runstore", "array", 20_000_000,
                               "run.log_many in calls of 1000 points (MLflow's batch size)"),
    "mlflow.log_batch[x]": ("mlflow", "array", 30_000, "MlflowClient.log_batch of 1000 Metric"),
    "wandb.log[x]": ("wandb", "array", 20_000, "wandb.log({'x': v}, step=i); wandb.finish()"),
}


# ---------------------------------------------------------------------------------------------
# workers: one measurement each, in a fresh process; print one JSON line


def dict_loop(log, calls):
    """The dict workload's loop, the same for every tool; returns (loop seconds, samples ns)."""
    samples = []
    sample = samples.append
    clock = time.perf_counter_ns
    start = time.perf_counter()
    for i in range(calls):
        v = i * 1e-3
        if i % SAMPLE_EVERY:
            log({"k0": v, "k1": v + 1, "k2": v + 2, "k3": v + 3, "k4": v + 4,
                 "k5": v + 5, "k6": v + 6, "k7": v + 7, "k8": v + 8, "k9": v + 9}, i)
        else:
            t = clock()
            log({"k0": v, "k1": v + 1, "k2": v + 2, "k3": v + 3, "k4": v + 4,
                 "k5": v + 5, "k6": v + 6, "k7": v + 7, "k8": v + 8, "k9": v + 9}, i)
            sample(clock() - t)
    return time.perf_counter() - start, samples


def percentiles(samples):
    if not samples:
        return {}
    s = sorted(samples)
    pick = lambda q: s[min(len(s) - 1, int(q * len(s)))]  # noqa: E731
    return {"p50_ns": pick(0.50), "p99_ns": pick(0.99), "p999_ns": pick(0.999), "max_ns": s[-1],
            "mean_ns": sum(s) / len(s), "samples": len(s)}


def size_of(*paths):
    return sum(os.path.getsize(p) for p in paths if os.path.exists(p))


def worker_python(case, n, directory):
    def noop(d, step):
        pass

    loop_s, samples = dict_loop(lambda d, i: noop(d, step=i), n)  # as the tools are called
    return {"init_s": 0.0, "loop_s": loop_s, "total_s": loop_s, "calls": n, "points": 10 * n,
            "latency": percentiles(samples), "bytes": 0, "written": 10 * n}


def worker_runstore(case, n, directory):
    import numpy as np
    import runstore

    path = os.path.join(directory, "runs.db")
    workload = CASES[case][1]
    if workload == "array":
        steps = np.arange(n, dtype=np.int64)
        values = (steps % 1000).astype(np.float64) * 1e-3
    start = time.perf_counter()
    run = runstore.init(path, experiment="bench", name="r")
    init_s = time.perf_counter() - start
    latency = {}
    if workload == "dict":
        log = run.log
        loop_s, samples = dict_loop(lambda d, i: log(d, step=i), n)
        latency = percentiles(samples)
        calls = n
        t = time.perf_counter()
        run.finish()
        total_s = loop_s + (time.perf_counter() - t)
        points = 10 * n
    else:
        block = n if case == "runstore.log_many" else 1000
        start = time.perf_counter()
        for lo in range(0, n, block):
            run.log_many("x", steps[lo:lo + block], values[lo:lo + block])
        loop_s = time.perf_counter() - start
        run.finish()
        total_s = time.perf_counter() - start
        calls = (n + block - 1) // block
        points = n
    del run
    written = None
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        keys = KEYS if workload == "dict" else ["x"]
        marks = ",".join("?" * len(keys))
        written = db.execute(
            f"SELECT coalesce(sum(c.count), 0) FROM metric_chunks c JOIN metric_series s "
            f"ON s.id = c.series_id WHERE s.key IN ({marks})", keys).fetchone()[0]
    return {"init_s": init_s, "loop_s": loop_s, "total_s": total_s, "calls": calls,
            "points": points, "latency": latency, "written": written,
            "bytes": size_of(path, path + "-wal")}


def mlflow_template(directory):
    """An empty MLflow SQLite store, migrated once and copied for each measurement."""
    import mlflow  # noqa: F401
    from mlflow.tracking import MlflowClient

    path = os.path.join(directory, "template.db")
    client = MlflowClient(tracking_uri=f"sqlite:///{path}")
    client.search_experiments()
    del client
    return {"template": path}


def worker_mlflow(case, n, directory, template):
    import mlflow
    from mlflow.entities import Metric
    from mlflow.tracking import MlflowClient

    path = os.path.join(directory, "mlflow.db")
    shutil.copyfile(template, path)
    uri = f"sqlite:///{path}"
    workload = CASES[case][1]
    latency = {}
    if case in ("mlflow.log_batch", "mlflow.log_batch[x]"):
        client = MlflowClient(tracking_uri=uri)
        exp = client.create_experiment("bench", artifact_location=os.path.join(directory, "a"))
        start = time.perf_counter()
        run_id = client.create_run(exp).info.run_id
        init_s = time.perf_counter() - start
        now = int(time.time() * 1000)
        if workload == "dict":
            batch = []

            def log(d, step):
                batch.extend([Metric(key=k, value=v, timestamp=now, step=step) for k, v in d.items()])
                if len(batch) >= 1000:
                    client.log_batch(run_id, metrics=batch)
                    batch.clear()

            loop_s, samples = dict_loop(log, n)
            latency = percentiles(samples)
            t = time.perf_counter()
            if batch:
                client.log_batch(run_id, metrics=batch)
            client.set_terminated(run_id)
            total_s = loop_s + (time.perf_counter() - t)
            calls, points = n, 10 * n
        else:
            start = time.perf_counter()
            batch = []
            for i in range(n):
                batch.append(Metric(key="x", value=(i % 1000) * 1e-3, timestamp=now, step=i))
                if len(batch) == 1000:
                    client.log_batch(run_id, metrics=batch)
                    batch = []
            if batch:
                client.log_batch(run_id, metrics=batch)
            loop_s = time.perf_counter() - start
            client.set_terminated(run_id)
            total_s = time.perf_counter() - start
            calls, points = (n + 999) // 1000, n
    else:  # the fluent API: synchronous or asynchronous log_metrics
        mlflow.set_tracking_uri(uri)
        exp = mlflow.create_experiment("bench", artifact_location=os.path.join(directory, "a"))
        start = time.perf_counter()
        mlflow.start_run(experiment_id=exp, run_name="r")
        init_s = time.perf_counter() - start
        synchronous = case == "mlflow.log_metrics"
        loop_s, samples = dict_loop(
            lambda d, i: mlflow.log_metrics(d, step=i, synchronous=synchronous), n)
        latency = percentiles(samples)
        t = time.perf_counter()
        mlflow.end_run()  # waits for the asynchronous queue (flush_async_logging)
        total_s = loop_s + (time.perf_counter() - t)
        calls, points = n, 10 * n
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        written = db.execute("SELECT count(*) FROM metrics").fetchone()[0]
    return {"init_s": init_s, "loop_s": loop_s, "total_s": total_s, "calls": calls,
            "points": points, "latency": latency, "written": written,
            "bytes": size_of(path, path + "-wal")}


def wandb_history_points(directory):
    """Counts the metric values in the offline run's .wandb file (W&B's record log: 32 KiB
    blocks of records with a 7-byte header, each record a protobuf `Record`)."""
    from wandb.proto import wandb_internal_pb2 as pb

    files = glob.glob(os.path.join(directory, "wandb", "offline-run-*", "run-*.wandb"))
    if len(files) != 1:
        return None, 0
    data = open(files[0], "rb").read()
    pos, block, records, partial = 7, 32768, [], b""
    while pos + 7 <= len(data):
        left = block - pos % block
        if left < 7:
            pos += left
            continue
        _crc, length, kind = struct.unpack("<IHB", data[pos:pos + 7])
        if kind == 0 and length == 0:
            pos += left
            continue
        chunk = data[pos + 7:pos + 7 + length]
        pos += 7 + length
        if kind == 1:
            records.append(chunk)
        elif kind == 2:
            partial = chunk
        elif kind == 3:
            partial += chunk
        elif kind == 4:
            records.append(partial + chunk)
            partial = b""
    points = 0
    for raw in records:
        record = pb.Record()
        record.ParseFromString(raw)
        if record.WhichOneof("record_type") == "history":
            points += sum(1 for item in record.history.item
                          if not (item.key or item.nested_key[0]).startswith("_"))
    return points, os.path.getsize(files[0])


def worker_wandb(case, n, directory):
    import wandb

    settings = wandb.Settings(x_disable_stats=True, console="off", disable_git=True,
                              disable_code=True, x_disable_meta=True, x_disable_machine_info=True)
    start = time.perf_counter()
    run = wandb.init(mode="offline", dir=directory, project="bench", name="r", settings=settings)
    init_s = time.perf_counter() - start
    latency = {}
    if CASES[case][1] == "dict":
        log = run.log
        loop_s, samples = dict_loop(lambda d, i: log(d, step=i), n)
        latency = percentiles(samples)
        t = time.perf_counter()
        run.finish()
        total_s = loop_s + (time.perf_counter() - t)
        calls, points = n, 10 * n
    else:
        log = run.log
        start = time.perf_counter()
        for i in range(n):
            log({"x": (i % 1000) * 1e-3}, step=i)
        loop_s = time.perf_counter() - start
        run.finish()
        total_s = time.perf_counter() - start
        calls, points = n, n
    written, size = wandb_history_points(directory)
    return {"init_s": init_s, "loop_s": loop_s, "total_s": total_s, "calls": calls,
            "points": points, "latency": latency, "written": written, "bytes": size}


def worker(args):
    import warnings

    warnings.filterwarnings("ignore")
    case, n, directory = args.worker, args.n, args.dir
    if case == "mlflow-template":
        out = mlflow_template(directory)
    else:
        tool = CASES[case][0]
        if tool == "python":
            out = worker_python(case, n, directory)
        elif tool == "runstore":
            out = worker_runstore(case, n, directory)
        elif tool == "mlflow":
            out = worker_mlflow(case, n, directory, args.template)
        else:
            out = worker_wandb(case, n, directory)
    print("RESULT " + json.dumps(out), flush=True)


# ---------------------------------------------------------------------------------------------
# driver


def worker_env(tmp, case):
    env = dict(os.environ)
    env.update({
        # W&B: offline, quiet, everything under the temporary directory, never a login
        "WANDB_MODE": "offline", "WANDB_SILENT": "true", "WANDB_DISABLE_GIT": "true",
        "WANDB_CONFIG_DIR": os.path.join(tmp, "config", "wandb"),
        "WANDB_CACHE_DIR": os.path.join(tmp, "cache", "wandb"),
        "WANDB_DATA_DIR": os.path.join(tmp, "data", "wandb"),
        "XDG_CACHE_HOME": os.path.join(tmp, "cache"),
        "XDG_CONFIG_HOME": os.path.join(tmp, "config"),
        # MLflow: no telemetry (it would try the network), no progress bars
        "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true",
        "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
        "PYTHONWARNINGS": "ignore",
    })
    env.pop("MLFLOW_ASYNC_LOGGING_BUFFERING_SECONDS", None)
    env.pop("MLFLOW_ENABLE_ASYNC_LOGGING", None)
    if case == "mlflow.async+buffer":
        env["MLFLOW_ASYNC_LOGGING_BUFFERING_SECONDS"] = "1"
    return env


def run_worker(tmp, case, n, template=None, timeout=900):
    directory = tempfile.mkdtemp(prefix="case-", dir=tmp)
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", case, "--n", str(n),
           "--dir", directory]
    if template:
        cmd += ["--template", template]
    try:
        proc = subprocess.run(cmd, env=worker_env(tmp, case), capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s"}
    finally:
        if case != "mlflow-template":
            shutil.rmtree(directory, ignore_errors=True)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
    return {"error": f"exit {proc.returncode}: " + " | ".join(tail)}


def available(module, tmp):
    code = f"import {module}" + ("; runstore.init" if module == "runstore" else "")
    return subprocess.run([sys.executable, "-c", code], capture_output=True,
                          env=worker_env(tmp, "")).returncode == 0


def versions(tmp):
    code = ("import importlib.metadata as m, json, sys\n"
            "out = {'python': sys.version.split()[0]}\n"
            "for p in ('runstore', 'mlflow-skinny', 'sqlalchemy', 'wandb', 'numpy'):\n"
            "    try: out[p] = m.version(p)\n"
            "    except Exception: out[p] = None\n"
            "print(json.dumps(out))")
    return json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True,
                                     text=True, env=worker_env(tmp, "")).stdout)


def fmt_rate(x):
    return "-" if x is None else f"{x / 1e6:.2f} M/s" if x >= 1e6 else f"{x:,.0f}/s"


def fmt_calls(x):
    return f"{x:,.0f}" if x >= 10 else f"{x:.2f}"


def fmt_us(seconds):
    us = seconds * 1e6
    return f"{us:,.2f}" if us < 10 else f"{us:,.1f}" if us < 1000 else f"{us:,.0f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every N")
    parser.add_argument("--only", default="", help="comma-separated case names or tools")
    parser.add_argument("--json", default="", help="also write the JSON object to this file")
    parser.add_argument("--rust-rate", type=float, default=RUST_RECORDER_P1,
                        help="the Rust recorder's points/s to compare log_many with (BENCHMARKS.md P1)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--dir", help=argparse.SUPPRESS)
    parser.add_argument("--template", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)

    only = {s for s in args.only.split(",") if s}
    with tempfile.TemporaryDirectory(prefix="runstore-p9-") as probe:  # imports write nothing home
        have = {tool: available(tool, probe) for tool in ("runstore", "mlflow", "wandb")}
        vers = versions(probe)
    have["python"] = True
    cases = [c for c, (tool, *_rest) in CASES.items()
             if (not only or c in only or tool in only) and have[tool]]
    skipped = [c for c, (tool, *_rest) in CASES.items()
               if (not only or c in only or tool in only) and not have[tool]]
    print(f"P9: logging from Python, {args.rounds} rounds, cases alternate; "
          + ", ".join(f"{k} {v}" for k, v in vers.items() if v), flush=True)
    for c in skipped:
        print(f"  skipped {c}: `import {CASES[c][0]}` failed", flush=True)

    results = {c: [] for c in cases}
    with tempfile.TemporaryDirectory(prefix="runstore-p9-") as tmp:
        template = None
        if any(CASES[c][0] == "mlflow" for c in cases):
            t = run_worker(tmp, "mlflow-template", 0)
            if "error" in t:
                sys.exit(f"could not create the MLflow store: {t['error']}")
            template = t["template"]
        for r in range(args.rounds):
            for c in cases:
                n = max(1, int(CASES[c][2] * args.scale))
                res = run_worker(tmp, c, n, template)
                res["round"] = r
                results[c].append(res)
                if "error" in res:
                    print(f"  round {r} {c:24s} ERROR {res['error']}", flush=True)
                    continue
                res["points_per_s"] = res["points"] / res["total_s"]
                res["calls_per_s"] = res["calls"] / res["total_s"]
                res["complete"] = res["written"] == res["points"]
                lat = res["latency"]
                print(f"  round {r} {c:24s} {res['points']:>10,} points {res['total_s']:7.2f} s "
                      f"{fmt_rate(res['points_per_s']):>12s} "
                      f"{fmt_us(res['total_s'] / res['calls']):>8s} us/call"
                      + (f"  caller p50 {lat['p50_ns'] / 1e3:.1f} us p99 "
                         f"{lat['p99_ns'] / 1e3:.1f} us mean {lat['mean_ns'] / 1e3:.1f} us"
                         if lat else "")
                      + ("" if res["complete"] else
                         f"  INCOMPLETE: {res['written']} of {res['points']} points in the file"),
                      flush=True)

    best = {}
    for c in cases:
        ok = [r for r in results[c] if "error" not in r]
        if ok:
            best[c] = max(ok, key=lambda r: r["points_per_s"])

    def fastest_other(workload):
        others = [(best[c]["points_per_s"], c) for c in best
                  if CASES[c][1] == workload and CASES[c][0] in ("mlflow", "wandb")]
        return max(others) if others else (None, None)

    print()
    print("| case | workload | points | best of rounds | points/s | calls/s | us/call (all) "
          "| us/call (loop) | caller p50 / p99 | init | bytes/point | vs fastest of MLflow/W&B |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    summary = {}
    for c in cases:
        if c not in best:
            print(f"| {c} | {CASES[c][1]} | - | failed | | | | | | | | |")
            continue
        b = best[c]
        tool, workload = CASES[c][0], CASES[c][1]
        rate_other, other = fastest_other(workload)
        ratio = b["points_per_s"] / rate_other if rate_other and tool == "runstore" else None
        lat = b["latency"]
        summary[c] = {
            "tool": tool, "workload": workload, "does": CASES[c][3], "points": b["points"],
            "calls": b["calls"], "seconds": b["total_s"], "loop_seconds": b["loop_s"],
            "init_seconds": b["init_s"], "points_per_s": b["points_per_s"],
            "calls_per_s": b["calls_per_s"], "us_per_call": b["total_s"] / b["calls"] * 1e6,
            "loop_us_per_call": b["loop_s"] / b["calls"] * 1e6, "latency_ns": lat,
            "bytes_per_point": b["bytes"] / b["points"] if b["bytes"] else None,
            "complete": all(r.get("complete") for r in results[c] if "error" not in r),
            "rounds_points_per_s": [r.get("points_per_s") for r in results[c]],
            "ratio_vs_fastest_other": ratio, "fastest_other": other if ratio else None,
        }
        lat_s = f"{lat['p50_ns'] / 1e3:.1f} / {lat['p99_ns'] / 1e3:.1f} us" if lat else "-"
        bpp = f"{b['bytes'] / b['points']:.1f}" if b["bytes"] else "-"
        vs = f"{ratio:,.0f}x ({other})" if ratio else ""
        print(f"| {c} | {workload} | {b['points']:,} | {b['total_s']:.2f} s "
              f"| {fmt_rate(b['points_per_s'])} | {fmt_calls(b['calls_per_s'])} "
              f"| {fmt_us(b['total_s'] / b['calls'])} | {fmt_us(b['loop_s'] / b['calls'])} "
              f"| {lat_s} | {b['init_s'] * 1e3:.0f} ms | {bpp} | {vs} |")

    goals = {}
    if "runstore.log" in summary:
        s = summary["runstore.log"]
        goals["dict_points_per_s>=1M"] = s["points_per_s"] >= 1e6
        goals["dict_calls_per_s>=100k"] = s["calls_per_s"] >= 1e5
        if s["ratio_vs_fastest_other"]:
            goals["dict>=50x_fastest_other"] = s["ratio_vs_fastest_other"] >= 50
    if "runstore.log_many" in summary:
        s = summary["runstore.log_many"]
        if s["ratio_vs_fastest_other"]:
            goals["log_many>=50x_fastest_other"] = s["ratio_vs_fastest_other"] >= 50
        s["ratio_vs_rust_recorder"] = s["points_per_s"] / args.rust_rate
        print(f"\nlog_many: {fmt_rate(s['points_per_s'])} = {s['ratio_vs_rust_recorder']:.2f}x the Rust "
              f"recorder's {fmt_rate(args.rust_rate)} (BENCHMARKS.md P1)")
        goals["log_many>=0.8x_rust_recorder"] = s["ratio_vs_rust_recorder"] >= 0.8
    print()
    for g, met in goals.items():
        print(f"goal {g}: {'met' if met else 'NOT met'}")
    incomplete = [c for c, s in summary.items() if not s["complete"]]
    if incomplete:
        print("INCOMPLETE (points missing from the file): " + ", ".join(incomplete))
    out = {"rounds": args.rounds, "scale": args.scale, "versions": vers,
           "rust_recorder_points_per_s": args.rust_rate, "cases": summary,
           "goals": goals, "skipped": skipped}
    text = json.dumps(out, indent=1)
    print(text)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
