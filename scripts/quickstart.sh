#!/usr/bin/env bash
# The main job: train a plain AE and IRMAE (l = 3) on the embedded shapes data side by side
# (10 000 images, lr 1e-3, 8 epochs; about 2–3 minutes on 2 CPU cores after the build), print both
# effective-rank curves at threshold 1e-3 and a one-line verdict, draw their spectra in one plot,
# and decode reconstructions, GMM samples, interpolations and a PCA grid.
#
# The settings come from a search recorded in docs/results.md ("The quickstart"): the AE spreads
# its codes over about twice as many directions as IRMAE, whose rank stays near the data's
# intrinsic dimension (7: colour 3, position 2, size 1, shape 1).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/lorae-target}"
cargo build --release -p lorae-cli
lorae="$CARGO_TARGET_DIR/release/lorae"
out="${1:-runs/quickstart}"
threshold=1e-3
quick=(--dataset shapes --train-size 10000 --test-size 2000 --epochs 8 --lr 1e-3
  --threshold "$threshold" --no-progress)
mkdir -p "$out"
start=$(date +%s)
# --json: each epoch's metrics, one JSON object a line (the epoch lines on stderr name the run).
"$lorae" train --model ae "${quick[@]}" --out "$out/ae" --json > "$out/ae.jsonl" &
ae=$!
"$lorae" train --model irmae --layers 3 "${quick[@]}" --out "$out/irmae" --json > "$out/irmae.jsonl" &
irmae=$!
wait "$ae"
wait "$irmae"
echo "trained both in $(( $(date +%s) - start )) s; effective rank (singular values above $threshold):"
ranks() { grep -o '"effective_rank":[0-9]*' "$out/$1.jsonl" | cut -d: -f2; }
for m in ae irmae; do
  printf '  %-6s per epoch: %s   eval mse: %s\n' "$m" "$(ranks "$m" | paste -sd' ')" \
    "$(tail -n 1 "$out/$m.jsonl" | grep -o '"eval_mse":[0-9.e-]*' | cut -d: -f2)"
  "$lorae" reconstruct "$out/$m" -n 12 > /dev/null
  "$lorae" sample "$out/$m" --sampler gmm -k 10 -n 64 > /dev/null 2>&1
done
a=$(ranks ae | tail -n 1)
i=$(ranks irmae | tail -n 1)
if [ "$a" -ge $((2 * i)) ]; then
  echo "verdict: the AE's codes span $a directions, IRMAE's $i (the data has 7 factors): IRMAE's linear layers lowered the rank $(awk "BEGIN{printf \"%.1f\", $a/$i}")×"
else
  echo "verdict: the AE's codes span $a directions, IRMAE's $i: less than the 2× of docs/results.md (another machine's float order?)"
fi
"$lorae" spectrum "$out/ae" "$out/irmae" --plot "$out/spectrum.png" > /dev/null
"$lorae" interpolate "$out/irmae" > /dev/null
"$lorae" pca-grid "$out/irmae" > /dev/null 2>&1
echo "outputs: $out/{ae,irmae}/ (config.json, metrics.jsonl, model.safetensors, reconstructions.png, samples-gmm.png),"
echo "         $out/irmae/{interpolation,pca-grid}.png, $out/spectrum.png"
