#!/usr/bin/env bash
# P9: logging from Python, runstore's Python package against MLflow (log_batch and asynchronous
# logging, SQLite backend) and W&B (offline mode). Installs the pinned tools from PyPI into a
# virtualenv under ~/.cache/runstore (once), installs runstore from ../python into it (every
# time, a release build through maturin: cargo rebuilds only what changed; skip with
# RUNSTORE_BENCH_NO_INSTALL=1), then runs bench/python_bench.py with the given arguments:
#
#   bench/python.sh                        3 rounds of every case, table + JSON
#   bench/python.sh --rounds 1 --scale 0.1 a quick look
#   bench/python.sh --only mlflow,wandb    some tools or cases only
#
# Without ../python/pyproject.toml (or if it fails to install) the runstore cases are skipped.
# W&B runs offline and never logs in; MLflow's telemetry is off; nothing is written outside a
# temporary directory.
set -euo pipefail
cd "$(dirname "$0")"
cache="${RUNSTORE_CACHE:-$HOME/.cache/runstore}"
venv="$cache/bench-venv"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$cache/target}"
# importing mlflow (the check below) would otherwise start its telemetry and write ~/.config/mlflow
export MLFLOW_DISABLE_TELEMETRY=true DO_NOT_TRACK=true
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import mlflow, sqlalchemy, alembic, wandb, numpy, polars, maturin" 2>/dev/null; then
  echo "[python-bench] installing MLflow, W&B, numpy, polars and maturin into $venv (once)" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check \
    "mlflow-skinny==3.17.2" "sqlalchemy==2.0.44" "alembic==1.17.2" \
    "wandb==0.31.0" "numpy==2.4.6" "polars==2.1.0" "maturin==1.16.0" >&2
fi
if [ -f ../python/pyproject.toml ] && [ "${RUNSTORE_BENCH_NO_INSTALL:-0}" != 1 ]; then
  # the pinned maturin above builds it (no build isolation: nothing fetched at build time);
  # its dependencies (numpy, polars) are already there at the pinned versions
  echo "[python-bench] installing runstore from ../python (release build)" >&2
  PATH="$venv/bin:$PATH" "$venv/bin/pip" install --quiet --disable-pip-version-check --no-build-isolation ../python >&2 \
    || echo "[python-bench] installing runstore failed: its cases are skipped" >&2
fi
exec "$venv/bin/python" python_bench.py "$@"
