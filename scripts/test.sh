#!/usr/bin/env bash
# The one test command (README; `.ci/run` calls exactly this): formatting, lints, the real data
# the tests need, every workspace test (unit, integration, doc), the explorer's page in a headless
# browser and the GPU path on a software Vulkan device. Under CI=true nothing is skipped: a part
# that cannot get what it needs fails.
#
# Targets stay warm in $HOME/.cache (a cold release build takes ~10 min on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/lorae-target}"
step() { printf '\n== test.sh: %s\n' "$*" >&2; }

step "cargo fmt --check"
cargo fmt --all --check
step "cargo clippy -D warnings"
cargo clippy --release --workspace --all-targets --quiet -- -D warnings
# The plain library (`default-features = false`): it builds, and pulls in no HTTP server, async
# runtime or TLS stack (those come with the `explore` and `fetch` features the CLI turns on).
step "the plain library: cargo check --no-default-features, cargo tree"
cargo check -p lorae --no-default-features --quiet
if cargo tree -p lorae --no-default-features -e normal | grep -E " (axum|tokio|hyper|ureq|rustls) "; then
  echo "test.sh: the plain library depends on the crates above; put them behind a feature" >&2
  exit 1
fi
# Real MNIST and the FID weights for the tests that use them (cached after the first run): those
# tests are #[ignore = "needs …"], run here with --include-ignored, and fail when the data is
# missing, so a failed fetch stops here, loudly.
step "fetch MNIST and the FID weights"
scripts/fetch-data.sh mnist fid-weights
# `reference_*` tests need the Python reference venv's outputs (tools/setup-ref-venv.sh) and run
# beside it, not here; `browser::` runs in the next step.
step "workspace tests"
cargo test --release --workspace -- --include-ignored --skip reference_ --skip browser::
step "the Python package: pip install ./crates/lorae-py, then pytest"
scripts/test-python.sh
step "explore's page in headless Chromium"
scripts/test-browser.sh
step "the GPU path (wgpu) on a software Vulkan device"
scripts/test-wgpu.sh
step "all passed"
