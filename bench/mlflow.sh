#!/usr/bin/env bash
# MLflow, the strongest widely used alternative, on its SQLite backend: the other side of P1, P7
# and P8. Installs MLflow from PyPI into a virtualenv under ~/.cache/runstore (once; pinned
# versions), then runs bench/mlflow_bench.py with the given arguments:
#
#   bench/mlflow.sh log POINTS          points/s through MlflowClient.log_batch, bytes/point
#   bench/mlflow.sh history POINTS      seconds for get_metric_history of one POINTS-long metric
set -euo pipefail
cd "$(dirname "$0")"
venv="${RUNSTORE_CACHE:-$HOME/.cache/runstore}/mlflow-venv"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import mlflow, sqlalchemy, alembic" 2>/dev/null; then
  echo "[mlflow] installing MLflow into $venv (once)" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check \
    "mlflow-skinny==3.17.2" "sqlalchemy==2.0.44" "alembic==1.17.2" >&2
fi
exec "$venv/bin/python" mlflow_bench.py "$@"
