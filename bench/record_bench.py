"""P10: `runstore record` — JSON-lines ingest through RUNSTORE_SINK (the named pipe) and
RUNSTORE_SOCKET from 1 and 8 writer processes, against the same bytes written into a pipe that
only `cat > /dev/null` reads (the floor: no parsing, no storing); and the resource monitor's
own CPU cost at 1 Hz with a 50-process tree, against psutil sampling the same tree at 1 Hz (how
W&B's and the collector seed's monitors read a process tree).

Run through bench/record.sh, which builds the release binary and passes --runstore.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time

# The program `runstore record` runs: W writer processes, each with N points as JSON lines
# built before the clock starts, written in blocks of whole lines of at most 4 KiB (as a
# line-buffered writer's lines stay whole in the pipe), all starting at once.
WRITER = r"""
import json, os, socket, sys, time
writers, points, via, start_file = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
def blocks(rank):
    lines = [json.dumps({"key": f"rank{rank}/m{i % 10}", "value": i * 0.001, "step": i // 10}) + "\n"
             for i in range(points)]
    out, block = [], ""
    for line in lines:
        if len(block) + len(line) > 4096:
            out.append(block.encode()); block = ""
        block += line
    out.append(block.encode())
    return out
go_r, go_w = os.pipe()
ready_r, ready_w = os.pipe()
children = []
for rank in range(writers):
    pid = os.fork()
    if pid == 0:
        data = blocks(rank)
        if via == "socket":
            s = socket.socket(socket.AF_UNIX); s.connect(os.environ["RUNSTORE_SOCKET"]); fd = s.fileno()
        else:
            fd = os.open(os.environ.get("RUNSTORE_SINK") or os.environ["FLOOR_PIPE"], os.O_WRONLY)
        os.write(ready_w, b"r"); os.read(go_r, 1)
        for block in data:
            view = memoryview(block)
            while view:
                view = view[os.write(fd, view):]
        os._exit(0)
    children.append(pid)
for _ in children:
    os.read(ready_r, 1)
with open(start_file, "w") as f:
    f.write(repr(time.time()))
os.write(go_w, b"g" * writers)
for pid in children:
    os.waitpid(pid, 0)
"""

# A tree of 50 processes (the program and 49 children), alive for `seconds`.
TREE = r"""
import subprocess, sys, time
seconds = float(sys.argv[1])
children = [subprocess.Popen(["sleep", str(seconds + 5)]) for _ in range(49)]
time.sleep(seconds)
for c in children: c.kill()
"""

# psutil reading the same facts of a tree at 1 Hz: CPU %, RSS, threads, I/O per process.
PSUTIL_MONITOR = r"""
import psutil, sys, time
root = psutil.Process(int(sys.argv[1]))
seen = {}
while True:
    try:
        procs = [root] + root.children(recursive=True)
    except psutil.NoSuchProcess:
        break
    total = {"cpu": 0.0, "rss": 0, "threads": 0, "read": 0, "write": 0}
    for p in procs:
        try:
            p = seen.setdefault(p.pid, p)
            with p.oneshot():
                total["cpu"] += p.cpu_percent(None)
                total["rss"] += p.memory_info().rss
                total["threads"] += p.num_threads()
                io = p.io_counters()
                total["read"] += io.read_bytes; total["write"] += io.write_bytes
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    psutil.cpu_percent(None); psutil.virtual_memory()
    time.sleep(1.0)
"""

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (all its threads)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def stored_points(db: str) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT COALESCE(SUM(count), 0) FROM metric_series").fetchone()[0]


def ingest(runstore: str, writers: int, points: int, via: str, work: str) -> dict:
    """Points/s from the writers' start until `runstore record` has stored everything."""
    db = os.path.join(work, f"ingest-{via}-{writers}-{time.monotonic_ns()}.db")
    start_file = os.path.join(work, "start")
    cmd = [runstore, "record", "--db", db, "--no-monitor", "--no-capture-output", "--",
           sys.executable, "-c", WRITER, str(writers), str(points), via, start_file]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    end = time.time()
    start = float(open(start_file).read())
    stored = stored_points(db)
    total = writers * points
    if stored != total:
        raise SystemExit(f"{via} x{writers}: stored {stored} points of {total}")
    os.remove(db)
    return {"seconds": end - start, "points_per_s": total / (end - start)}


def floor(writers: int, points: int, work: str) -> dict:
    """The same writers into a pipe whose reader only discards the bytes."""
    fifo = os.path.join(work, f"floor-{time.monotonic_ns()}")
    os.mkfifo(fifo)
    reader = subprocess.Popen(f"cat < {fifo} > /dev/null", shell=True)
    start_file = os.path.join(work, "start")
    env = dict(os.environ, FLOOR_PIPE=fifo)
    env.pop("RUNSTORE_SINK", None)
    keep_open = os.open(fifo, os.O_WRONLY)  # the reader sees one end, after every writer
    subprocess.run([sys.executable, "-c", WRITER, str(writers), str(points), "pipe", start_file],
                   check=True, env=env)
    os.close(keep_open)
    reader.wait()
    end = time.time()
    start = float(open(start_file).read())
    os.remove(fifo)
    total = writers * points
    return {"seconds": end - start, "points_per_s": total / (end - start)}


def monitor_cost(runstore: str, seconds: float, work: str, monitor: str) -> dict:
    """CPU of the monitoring side while a 50-process tree lives, as % of one core, measured
    after a 2 s settling from /proc: `runstore record` at 1 Hz, the same with --no-monitor,
    or psutil watching the tree at 1 Hz."""
    db = os.path.join(work, f"monitor-{monitor}-{time.monotonic_ns()}.db")
    tree = [sys.executable, "-c", TREE, str(seconds)]
    watcher = None
    if monitor == "psutil":
        program = subprocess.Popen(tree)
        watcher = subprocess.Popen([sys.executable, "-c", PSUTIL_MONITOR, str(program.pid)])
        measured = watcher.pid
    else:
        flags = ["--monitor-interval", "1"] if monitor == "runstore" else ["--no-monitor"]
        program = subprocess.Popen([runstore, "record", "--db", db, *flags, "--", *tree], stdout=subprocess.DEVNULL)
        measured = program.pid
    time.sleep(2.0)
    t0, c0 = time.monotonic(), cpu_seconds(measured)
    time.sleep(seconds - 4.0)
    t1, c1 = time.monotonic(), cpu_seconds(measured)
    program.wait()
    if watcher:
        watcher.kill()
        watcher.wait()
    samples = None
    if monitor == "runstore":
        with sqlite3.connect(db) as conn:
            samples = conn.execute(
                "SELECT MAX(value) FROM resource_samples WHERE name = 'tree_processes'").fetchone()[0]
    return {"core_percent": 100.0 * (c1 - c0) / (t1 - t0), "tree_processes_seen": samples}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runstore", required=True, help="the runstore binary")
    parser.add_argument("--points", type=int, default=2_000_000, help="points per case, split among the writers")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--monitor-seconds", type=float, default=30.0)
    parser.add_argument("--only", default="ingest,monitor")
    args = parser.parse_args()
    only = set(args.only.split(","))
    results: dict[str, list] = {}
    with tempfile.TemporaryDirectory(prefix="runstore-p10-") as work:
        for round_ in range(args.rounds):
            if "ingest" in only:
                for writers in (1, 8):
                    per = args.points // writers
                    for name, measure in [
                        ("floor", lambda: floor(writers, per, work)),
                        ("sink", lambda: ingest(args.runstore, writers, per, "pipe", work)),
                        ("socket", lambda: ingest(args.runstore, writers, per, "socket", work)),
                    ]:
                        r = measure()
                        results.setdefault(f"ingest.{name}.x{writers}", []).append(r)
                        print(f"round {round_} ingest {name} x{writers}: {r['points_per_s']:,.0f} points/s", file=sys.stderr)
            if "monitor" in only:
                for monitor in ("runstore", "none", "psutil"):
                    r = monitor_cost(args.runstore, args.monitor_seconds, work, monitor)
                    results.setdefault(f"monitor.{monitor}", []).append(r)
                    print(f"round {round_} monitor {monitor}: {r['core_percent']:.2f} % of a core", file=sys.stderr)
    print(f"\n{'case':28} {'best':>16}  rounds")
    best = {}
    for case, rs in results.items():
        if case.startswith("ingest"):
            values = [r["points_per_s"] for r in rs]
            best[case] = max(values)
            print(f"{case:28} {best[case]:>12,.0f} p/s  " + ", ".join(f"{v:,.0f}" for v in values))
        else:
            values = [r["core_percent"] for r in rs]
            best[case] = min(values)
            print(f"{case:28} {best[case]:>11.2f} %core  " + ", ".join(f"{v:.2f}" for v in values))
    for writers in (1, 8):
        floor_rate = best.get(f"ingest.floor.x{writers}")
        for via in ("sink", "socket"):
            rate = best.get(f"ingest.{via}.x{writers}")
            if floor_rate and rate:
                print(f"ratio {via} x{writers} / raw pipe floor: {rate / floor_rate:.2f}")
    if "monitor.runstore" in best and "monitor.psutil" in best:
        cost = best["monitor.runstore"] - best.get("monitor.none", 0.0)
        print(f"monitor cost (record at 1 Hz - record --no-monitor): {cost:.2f} % of a core; "
              f"psutil: {best['monitor.psutil']:.2f} %; ratio psutil / runstore: "
              f"{best['monitor.psutil'] / max(cost, 0.01):.1f}")
    print(json.dumps({"best": best, "rounds": results}))


if __name__ == "__main__":
    main()
