#!/usr/bin/env bash
# P11: `runstore import` throughput beside each tool's own reader of the same data: an MLflow
# SQLite store of 1M metric rows (MLflow's client, get_metric_history) and TensorBoard logs of
# 1M scalars (tbparse). Builds the release binary without polars (as the demo's), installs the
# pinned readers into the MLflow virtualenv of bench/mlflow.sh (once), then runs
# bench/import_bench.py with the given arguments:
#
#   bench/import.sh                          2 rounds, 1M points a source, table + JSON
#   bench/import.sh --points 100000          a quick look
#   bench/import.sh --only mlflow            mlflow or tensorboard only
set -euo pipefail
cd "$(dirname "$0")/.."
cache="${RUNSTORE_CACHE:-$HOME/.cache/runstore}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$cache/target}"
venv="$cache/mlflow-venv"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import mlflow, sqlalchemy, alembic, tensorboardX, tbparse" 2>/dev/null; then
  echo "[import-bench] installing MLflow, tensorboardX and tbparse into $venv (once)" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check \
    "mlflow-skinny==3.17.2" "sqlalchemy==2.0.44" "alembic==1.17.2" \
    "tensorboardX==2.6.4" "tbparse==0.0.9" "tensorboard==2.21.0" >&2
fi
echo "[import-bench] building the release runstore binary" >&2
cargo build --quiet --release -p runstore-cli --no-default-features >&2
exec "$venv/bin/python" bench/import_bench.py --runstore "$CARGO_TARGET_DIR/release/runstore" "$@"
