"""Reference numbers for lorae's FID (crates/lorae/src/eval/), computed with pytorch-fid itself.

Run with the reference venv (tools/setup-ref-venv.sh, plus `pip install --no-deps pytorch-fid
torchvision pillow`):

  python tools/fid_reference.py frechet
      pytorch-fid's calculate_frechet_distance (scipy sqrtm) on deterministic synthetic features;
      the numbers are pinned in crates/lorae/tests/fid.rs.
"""
import argparse
import sys

import numpy as np


def synthetic(n, dim, which):
    """Deterministic features, the same formula as `synthetic` in crates/lorae/tests/fid.rs."""
    i = np.arange(n, dtype=np.float64)[:, None] + 1.0
    j = np.arange(dim, dtype=np.float64)[None, :] + 1.0
    if which == "a":
        x = np.sin(0.37 * i * j + 0.5 * j) * (1.0 + 0.05 * j)
    else:
        x = np.cos(0.29 * i * (j + 1.0)) + 0.02 * j
    return x.astype(np.float32)


def stats(x):
    return np.mean(x, axis=0), np.cov(x, rowvar=False)


def frechet(_args):
    from pytorch_fid.fid_score import calculate_frechet_distance

    for n_a, n_b, dim in [(200, 300, 16), (40, 50, 64)]:
        mu1, s1 = stats(synthetic(n_a, dim, "a"))
        mu2, s2 = stats(synthetic(n_b, dim, "b"))
        fid = calculate_frechet_distance(mu1, s1, mu2, s2)
        print(f"n_a={n_a} n_b={n_b} dim={dim}: fid={fid:.12e}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("frechet").set_defaults(run=frechet)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    sys.exit(main())
