//! WAE-MMD (Tolstikhin et al. 2018): the maximum mean discrepancy between the batch's codes and as
//! many draws from the prior N(0, I), with the inverse multiquadratic kernel
//! `k(x, y) = C / (C + ‖x − y‖²)` summed over the scales `C ∈ {0.1, 0.2, 0.5, 1, 2, 5, 10} · 2d`
//! (the WAE authors' choice for a unit-variance prior in d dimensions).

use burn::prelude::*;
use burn::tensor::Distribution;

/// Multiples of the base scale `2d` that the kernel sums over.
pub const SCALES: [f64; 7] = [0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0];

/// Squared distances between the rows of `a` (`[n, d]`) and `b` (`[m, d]`), `[n, m]`.
fn squared_distances(a: Tensor<2>, b: Tensor<2>) -> Tensor<2> {
    let a2 = a.clone().powi_scalar(2).sum_dim(1); // [n, 1]
    let b2 = b.clone().powi_scalar(2).sum_dim(1).transpose(); // [1, m]
    (a2 + b2 - a.matmul(b.transpose()) * 2.0).clamp_min(0.0) // [n, m]
}

/// The summed IMQ kernel matrix between the rows of `a` and `b`, `[n, m]`.
pub fn imq_kernel(a: Tensor<2>, b: Tensor<2>) -> Tensor<2> {
    let [_, d] = a.dims();
    let dist = squared_distances(a, b); // [n, m]
    let mut total = dist.zeros_like();
    for s in SCALES {
        let c = s * 2.0 * d as f64;
        total = total + (dist.clone() + c).recip() * c;
    }
    total
}

/// The unbiased MMD² estimate between samples `x` (`[n, d]`) and `y` (`[m, d]`), `[1]`:
/// off-diagonal means of k(x, x) and k(y, y), minus twice the mean of k(x, y).
pub fn mmd(x: Tensor<2>, y: Tensor<2>) -> Tensor<1> {
    let [n, _] = x.dims();
    let [m, _] = y.dims();
    let off_diagonal_mean = |k: Tensor<2>, n: usize| {
        let diagonal = (SCALES.len() * n) as f64; // k(x, x) = Σ_s 1 on the diagonal
        (k.sum() - diagonal) / (n * (n - 1).max(1)) as f64
    };
    let kxx = off_diagonal_mean(imq_kernel(x.clone(), x.clone()), n);
    let kyy = off_diagonal_mean(imq_kernel(y.clone(), y.clone()), m);
    let kxy = imq_kernel(x, y).mean();
    kxx + kyy - kxy * 2.0
}

/// MMD between the codes `z` and as many draws from N(0, I) (the host's seeded generator).
pub fn mmd_to_prior(z: Tensor<2>) -> Tensor<1> {
    let prior = crate::device::random(z.shape(), Distribution::Normal(0.0, 1.0), &z.device());
    mmd(z, prior)
}
