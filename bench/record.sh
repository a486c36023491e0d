#!/usr/bin/env bash
# P10: `runstore record` — JSON-lines ingest through RUNSTORE_SINK and RUNSTORE_SOCKET from 1 and
# 8 writer processes beside a raw pipe's floor, and the resource monitor's CPU cost at 1 Hz with
# a 50-process tree beside psutil watching the same tree. Builds the release binary (without
# polars, as the demo's), uses the bench virtualenv's Python (psutil comes with W&B there; see
# bench/python.sh), then runs bench/record_bench.py with the given arguments:
#
#   bench/record.sh                                   3 rounds, 2M points a case, table + JSON
#   bench/record.sh --rounds 1 --points 200000 --monitor-seconds 10    a quick look
#   bench/record.sh --only ingest                     ingest or monitor only
set -euo pipefail
cd "$(dirname "$0")/.."
cache="${RUNSTORE_CACHE:-$HOME/.cache/runstore}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$cache/target}"
venv="$cache/bench-venv"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import psutil" 2>/dev/null; then
  echo "[record-bench] installing psutil into $venv (once)" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "psutil==7.1.3" >&2
fi
echo "[record-bench] building the release runstore binary" >&2
cargo build --quiet --release -p runstore-cli --no-default-features >&2
exec "$venv/bin/python" bench/record_bench.py --runstore "$CARGO_TARGET_DIR/release/runstore" "$@"
