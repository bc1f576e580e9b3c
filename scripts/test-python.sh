#!/usr/bin/env bash
# The Python package's tests: a venv of its own (numpy, pytest, Pillow for the PNG comparison),
# the package installed from the checkout exactly as README says (`pip install ./crates/lorae-py`,
# maturin from PyPI building the abi3 wheel; the cargo target stays warm), then pytest against the
# CLI binary the workspace tests built. Any failure, an install included, fails the test command.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/lorae-target}"
venv="${LORAE_PY_VENV:-$HOME/.cache/lorae/venv-py}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check numpy pytest pillow
"$venv/bin/pip" install --quiet --disable-pip-version-check --force-reinstall --no-deps ./crates/lorae-py
cargo build --release --quiet -p lorae-cli
LORAE_BIN="$CARGO_TARGET_DIR/release/lorae" "$venv/bin/python" -m pytest -q crates/lorae-py/tests
