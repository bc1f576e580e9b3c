#!/usr/bin/env bash
# The main job: train a plain AE and IRMAE (l = 2) on the embedded shapes data with the quick
# setting (10 000 images, lr 1e-3, 4 epochs; a few minutes on 2 CPU cores), side by side, then
# print both effective-rank curves, draw their spectra in one plot, and decode GMM samples,
# interpolations and a PCA grid of the IRMAE run.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/lorae-target}"
cargo build --release -p lorae-cli
lorae="$CARGO_TARGET_DIR/release/lorae"
out="${1:-runs/quickstart}"
quick=(--dataset shapes --train-size 10000 --eval-size 2000 --epochs 4 --lr 1e-3 --no-progress)
mkdir -p "$out"
# --json: each epoch's metrics, one JSON object a line (the epoch lines on stderr name the run).
"$lorae" train --model ae "${quick[@]}" --out "$out/ae" --json > "$out/ae.jsonl" &
ae=$!
"$lorae" train --model irmae --layers 2 "${quick[@]}" --out "$out/irmae" --json > "$out/irmae.jsonl" &
irmae=$!
wait "$ae"
wait "$irmae"
for m in ae irmae; do
  "$lorae" reconstruct "$out/$m" -n 12 > /dev/null
  printf '%-6s effective rank per epoch: %s   eval mse: %s\n' "$m" \
    "$(grep -o '"effective_rank":[0-9]*' "$out/$m.jsonl" | cut -d: -f2 | paste -sd' ')" \
    "$(tail -n 1 "$out/$m.jsonl" | grep -o '"eval_mse":[0-9.e-]*' | cut -d: -f2)"
  "$lorae" sample "$out/$m" --sampler gmm -k 10 -n 64 > /dev/null 2>&1
done
"$lorae" spectrum "$out/ae" "$out/irmae" --plot "$out/spectrum.png" > /dev/null
"$lorae" interpolate "$out/irmae" > /dev/null
"$lorae" pca-grid "$out/irmae" > /dev/null 2>&1
echo "outputs: $out/{ae,irmae}/ (config.json, metrics.jsonl, model.safetensors, reconstructions.png, samples-gmm.png),"
echo "         $out/irmae/{interpolation,pca-grid}.png, $out/spectrum.png"
