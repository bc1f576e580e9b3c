#!/usr/bin/env bash
# Scores one run directory (a lorae run, or an official checkpoint after `lorae import`) as the
# official-parity table does: effective rank at 1e-2 and 1e-3, 100-label error (honest protocol),
# FID at 10 000 samples (Gaussian; GMM k = 10; GMM k = 4, Table 1's) against the test set. Each
# result is a JSON line in RUN/score.jsonl (a step already there is skipped: the script resumes).
# Usage: tools/parity_score.sh LORAE_BINARY RUN [THREADS]   (issue 31's 50-epoch table)
# PARITY_SKIP_GMM4=1 leaves the k = 4 FID for a later call (to score several runs' k = 10 first).
set -euo pipefail
L=$1; R=$2; T=${3:-1}
out="$R/score.jsonl"; touch "$out"
# step NAME LORAE-ARGS…: runs `lorae --threads T LORAE-ARGS… --json` unless NAME is recorded.
step() {
  local name=$1; shift
  grep -q "\"step\":\"$name\"" "$out" && return 0
  local t0; t0=$(date +%s)
  local res; res=$("$L" --threads "$T" "$@" --json | tail -n 1)
  echo "{\"step\":\"$name\",\"seconds\":$(( $(date +%s) - t0 )),\"date\":\"$(date -u +%FT%TZ)\",\"result\":$res}" >> "$out"
}
step rank-1e-2 spectrum "$R" --threshold 1e-2
step rank-1e-3 spectrum "$R" --threshold 1e-3
step classify-100 classify "$R" --labels 100
step fid-gaussian fid --run "$R" --sampler gaussian -n 10000 --no-progress
step fid-gmm10 fid --run "$R" --sampler gmm -k 10 -n 10000 --no-progress
[ "${PARITY_SKIP_GMM4:-0}" = 1 ] || step fid-gmm4 fid --run "$R" --sampler gmm -k 4 -n 10000 --no-progress
echo "scored $R" >&2
