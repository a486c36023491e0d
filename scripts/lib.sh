# Shared by the scripts: where builds go, and how steps are announced.

# Builds go outside the clone, so repeated runs (CI included) reuse them; override freely.
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/runstore/target}
# wasm-bindgen-test runs the wasm32 tests in Debian's headless Chromium through chromedriver.
export CHROMEDRIVER=${CHROMEDRIVER:-/usr/bin/chromedriver}
export WASM_BINDGEN_TEST_TIMEOUT=${WASM_BINDGEN_TEST_TIMEOUT:-180}
# The virtualenv the Python package is built and tested in (scripts/setup makes it).
export RUNSTORE_PYTHON_VENV=${RUNSTORE_PYTHON_VENV:-$HOME/.cache/runstore/python-venv}
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-auto}

step() {
  local name=$1
  shift
  printf '\n\033[1m==> %s\033[0m\n' "$name" >&2
  local start=$SECONDS
  "$@"
  printf '\033[1m<== %s (%ss)\033[0m\n' "$name" "$((SECONDS - start))" >&2
}
