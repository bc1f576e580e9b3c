#!/usr/bin/env bash
# Every configuration issue 7 reports: lorae vs the PyTorch peer (crates/lorae/peers/torch_step.py), same model,
# batch and thread count, 3 alternating rounds each. Needs the reference venv
# (tools/setup-ref-venv.sh). Usage: scripts/bench-all.sh [THREADS] (default 2).
set -euo pipefail
cd "$(dirname "$0")/.."
threads="${1:-2}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/lorae-target}"
cargo build --release -q -p lorae-cli
lorae="$CARGO_TARGET_DIR/release/lorae"
for config in "irmae mnist" "lorae mnist" "ae mnist" "irmae shapes"; do
    set -- $config
    for batch in 32 64; do
        "$lorae" bench step --threads "$threads" --model "$1" --dataset "$2" --batch-size "$batch" 2>/dev/null \
            | sed "s/^/$2 /"
    done
done
