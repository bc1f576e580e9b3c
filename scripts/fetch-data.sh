#!/usr/bin/env bash
# Fetch the real datasets and the FID weights into the cache: a thin wrapper over
# `lorae data fetch` (run `lorae data fetch --help`), kept for the commands written against it.
# Builds the CLI first. Prints `NAME: DIR` for each name.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/lorae-target}"
cargo build --release --quiet -p lorae-cli
exec "$CARGO_TARGET_DIR/release/lorae" data fetch ${LORAE_FETCH_SOURCE:+--source "$LORAE_FETCH_SOURCE"} "$@"
