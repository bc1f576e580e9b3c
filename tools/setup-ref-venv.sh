#!/usr/bin/env bash
# Create (or reuse) the Python reference environment used by the peer comparisons in tools/ and
# reference/: numpy, scipy, scikit-learn, threadpoolctl and PyTorch (used on CPU; ~5.5 GB installed),
# and pytorch-fid 0.3.0 for tools/fid_reference.py (with torchvision and pillow, installed without
# their dependencies so that pip does not replace torch: pytorch-fid only uses torchvision's Python
# Inception definition, which works across torch versions).
#
#   tools/setup-ref-venv.sh            # venv at ${LORAE_REF_VENV:-$HOME/.cache/lorae/venv-ref}
#   LORAE_REF_VENV=.venv-ref tools/setup-ref-venv.sh
#
# Idempotent: if the venv already imports every package, nothing is installed. The last line
# printed is the venv's python interpreter, so callers can do `py=$(tools/setup-ref-venv.sh | tail -n 1)`.
#
# PyTorch comes from PyPI (`pip install torch`; on Linux that is the CUDA build, which runs on CPU too).
# Where download.pytorch.org is reachable the much smaller CPU-only build can be used instead:
#   TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu tools/setup-ref-venv.sh
set -euo pipefail

venv="${LORAE_REF_VENV:-$HOME/.cache/lorae/venv-ref}"
python="${PYTHON:-python3}"
py="$venv/bin/python"
# Imports everything (fails if anything is missing) and reports the versions.
check='import numpy, scipy, sklearn, threadpoolctl, torch, pytorch_fid.inception
print(f"numpy {numpy.__version__}, scipy {scipy.__version__}, scikit-learn {sklearn.__version__}, torch {torch.__version__}")'

if [[ -x "$py" ]] && "$py" -c "$check" >&2 2>/dev/null; then
  echo "reference venv already complete: $venv" >&2
else
  if [[ ! -x "$py" ]]; then
    echo "creating venv $venv" >&2
    mkdir -p "$(dirname "$venv")"
    "$python" -m venv "$venv"
  fi
  "$py" -m pip install --quiet --upgrade pip >&2 || true   # an old pip is fine if the upgrade fails
  "$py" -m pip install --quiet numpy scipy scikit-learn threadpoolctl >&2
  if [[ -n "${TORCH_INDEX_URL:-}" ]]; then
    "$py" -m pip install --quiet torch --index-url "$TORCH_INDEX_URL" >&2
  else
    "$py" -m pip install --quiet torch >&2
  fi
  "$py" -m pip install --quiet --no-deps pytorch-fid==0.3.0 torchvision pillow >&2
  "$py" -c "$check" >&2
  echo "reference venv ready: $venv" >&2
fi
echo "$py"
