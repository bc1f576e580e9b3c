#!/usr/bin/env python3
"""scikit-learn peer of lorae's GMM benchmark: fit a full-covariance Gaussian mixture to latent codes.

    python crates/lorae/peers/gmm_bench.py --codes FILE.npy -k 10 --seed 0 --restarts 3 \
        --max-iter 200 --tol 1e-4 --reg-covar 1e-6 [--threads T]

FILE.npy holds an (N, D) float32 array (e.g. the codes written by lorae). The mixture is
sklearn.mixture.GaussianMixture(covariance_type='full', init_params='k-means++', n_init=restarts,
random_state=seed), fitted twice:

  1. on the float32 codes as given. On low-rank codes this usually fails with "Fitting the mixture
     model failed because some components have ill-defined empirical covariance": a float32
     Cholesky of a rank-deficient covariance plus reg_covar breaks down. The error is recorded.
  2. on the same codes cast to float64, which is what a user of sklearn would fall back to.

Only the fit() calls are timed (time.perf_counter); loading and casting are not. The last line of
stdout is one JSON object:

  {"sklearn_version", "n", "dim", "k", "float32_error" (str|null), "float32_seconds" (null if it
   failed), "float64_seconds", "float64_converged", "float64_n_iter", "mean_log_likelihood"
   (score() of the float64 model on the float64 codes, i.e. mean per-sample log-likelihood), ...}

Threads: the BLAS / OpenMP pools honour OMP_NUM_THREADS (and OPENBLAS_NUM_THREADS, MKL_NUM_THREADS)
when set before Python starts. --threads T additionally caps them at runtime through
threadpoolctl.threadpool_limits(T) (if threadpoolctl is installed), so timings can be taken at the
same thread count as lorae's benchmark.

For a test input without real codes:
    python crates/lorae/peers/gmm_bench.py --make-synthetic codes.npy [--n 60000 --dim 128 --rank 12 -k 10]
writes a float32 array of rank `rank`: a k-cluster Gaussian mixture in `rank` dimensions mapped to
`dim` dimensions by a random matrix.
"""

import argparse
import json
import sys
import time

import numpy as np


def make_synthetic(path, n, dim, rank, k, seed):
    """Write an (n, dim) float32 array of rank `rank`: k Gaussian clusters in R^rank, mapped linearly."""
    rng = np.random.default_rng(seed)
    means = rng.normal(scale=3.0, size=(k, rank))
    # A random within-cluster covariance per cluster: L L^T with L = random / sqrt(rank).
    chol = rng.normal(size=(k, rank, rank)) / np.sqrt(rank)
    labels = rng.integers(k, size=n)
    z = means[labels] + np.einsum("nij,nj->ni", chol[labels], rng.normal(size=(n, rank)))
    lift = rng.normal(size=(rank, dim)) / np.sqrt(rank)
    x = (z @ lift).astype(np.float32)
    np.save(path, x)
    # Numerical rank, ignoring float32 rounding (which makes the array full rank to LAPACK's default tol).
    sv = np.linalg.svd(x[:5000].astype(np.float64), compute_uv=False)
    print(f"wrote {path}: shape {x.shape}, dtype {x.dtype}, rank {int((sv > 1e-5 * sv[0]).sum())}", file=sys.stderr)


def blas_threads():
    """Thread counts of the BLAS / OpenMP pools in use (null without threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    import os.path
    return [
        {"api": i["internal_api"], "library": os.path.basename(i["filepath"]), "num_threads": i["num_threads"]}
        for i in threadpool_info()
    ]


def fit_timed(x, args):
    """Fit a fresh GaussianMixture on x; returns (model, seconds) — seconds cover fit() only."""
    from sklearn.mixture import GaussianMixture

    gm = GaussianMixture(
        n_components=args.k,
        covariance_type="full",
        n_init=args.restarts,
        max_iter=args.max_iter,
        tol=args.tol,
        reg_covar=args.reg_covar,
        init_params="k-means++",
        random_state=args.seed,
    )
    start = time.perf_counter()
    gm.fit(x)
    return gm, time.perf_counter() - start


def bench(args):
    import sklearn

    x32 = np.load(args.codes)
    if x32.ndim != 2:
        sys.exit(f"error: {args.codes}: expected an (N, D) array, got shape {x32.shape}")
    if x32.dtype != np.float32:
        print(f"note: {args.codes} is {x32.dtype}; casting to float32", file=sys.stderr)
        x32 = x32.astype(np.float32)
    x32 = np.ascontiguousarray(x32)
    x64 = x32.astype(np.float64)
    n, dim = x32.shape

    result = {
        "sklearn_version": sklearn.__version__,
        "numpy_version": np.__version__,
        "n": n,
        "dim": dim,
        "k": args.k,
        "seed": args.seed,
        "restarts": args.restarts,
        "max_iter": args.max_iter,
        "tol": args.tol,
        "reg_covar": args.reg_covar,
        "threads": args.threads,
        "blas_threads": blas_threads(),
        "float32_error": None,
        "float32_seconds": None,
        "float32_converged": None,
        "float32_n_iter": None,
        "float32_mean_log_likelihood": None,
    }

    # 1. float32, as the codes come. Expected to fail on low-rank codes.
    try:
        gm32, secs = fit_timed(x32, args)
        result.update(
            float32_seconds=secs,
            float32_converged=bool(gm32.converged_),
            float32_n_iter=int(gm32.n_iter_),
            float32_mean_log_likelihood=float(gm32.score(x64)),
        )
        print(f"float32: {secs:.3f} s, converged {gm32.converged_}, {gm32.n_iter_} iterations", file=sys.stderr)
    except Exception as e:  # sklearn raises ValueError for ill-defined covariances
        result["float32_error"] = f"{type(e).__name__}: {e}"
        print(f"float32 fit failed: {result['float32_error']}", file=sys.stderr)

    # 2. float64.
    gm64, secs = fit_timed(x64, args)
    result.update(
        float64_seconds=secs,
        float64_converged=bool(gm64.converged_),
        float64_n_iter=int(gm64.n_iter_),
        mean_log_likelihood=float(gm64.score(x64)),
    )
    print(f"float64: {secs:.3f} s, converged {gm64.converged_}, {gm64.n_iter_} iterations", file=sys.stderr)
    print(json.dumps(result))


def main():
    p = argparse.ArgumentParser(
        description="Time sklearn GaussianMixture (full covariance, k-means++ init) on float32 and float64 codes.",
        epilog="OMP_NUM_THREADS (set before starting) or --threads T limits the BLAS/OpenMP thread pools.",
    )
    p.add_argument("--codes", help="(N, D) float32 .npy file")
    p.add_argument("-k", type=int, default=10, help="number of mixture components (default 10)")
    p.add_argument("--seed", type=int, default=0, help="random_state (default 0)")
    p.add_argument("--restarts", type=int, default=3, help="n_init (default 3)")
    p.add_argument("--max-iter", type=int, default=200, help="EM iterations per restart (default 200)")
    p.add_argument("--tol", type=float, default=1e-4, help="convergence tolerance on the mean log-likelihood (default 1e-4)")
    p.add_argument("--reg-covar", type=float, default=1e-6, help="added to the covariance diagonals (default 1e-6)")
    p.add_argument("--threads", type=int, default=None, help="cap BLAS/OpenMP threads via threadpoolctl")
    p.add_argument("--make-synthetic", metavar="FILE", help="write a synthetic low-rank float32 code file and exit")
    p.add_argument("--n", type=int, default=60000, help="--make-synthetic: rows (default 60000)")
    p.add_argument("--dim", type=int, default=128, help="--make-synthetic: columns (default 128)")
    p.add_argument("--rank", type=int, default=12, help="--make-synthetic: rank (default 12)")
    args = p.parse_args()

    if args.make_synthetic:
        make_synthetic(args.make_synthetic, args.n, args.dim, args.rank, args.k, args.seed)
        return
    if not args.codes:
        p.error("--codes is required (or --make-synthetic)")

    if args.threads is None:
        bench(args)
        return
    # threadpool_limits only reaches libraries loaded when it is entered: load sklearn's (and
    # scipy's own OpenBLAS) first.
    import sklearn.mixture  # noqa: F401
    import scipy.linalg  # noqa: F401

    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        print("warning: threadpoolctl is not installed; --threads ignored (use OMP_NUM_THREADS)", file=sys.stderr)
        bench(args)
        return
    with threadpool_limits(limits=args.threads):
        bench(args)


if __name__ == "__main__":
    main()
