//! The VAE's Gaussian code: split the encoder output into mean and log-variance, sample with the
//! reparameterisation trick, and the KL divergence to N(0, I) — summed over the latent
//! dimensions (lorae's `gaussian` objective) or, as the official IRMAE code writes it,
//! `mean(−(1 + log σ² − μ² − σ²))` over batch and dimensions (twice the per-dimension KL), beside
//! the mean binary cross-entropy of its Sigmoid decoder (the `bce` objective).

use burn::prelude::*;
use burn::tensor::Distribution;

/// `[batch, 2d]` → (mean `[batch, d]`, log-variance `[batch, d]`).
pub fn split_moments(h: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
    let [_, two_d] = h.dims();
    let d = two_d / 2;
    let mean = h.clone().narrow(1, 0, d); // [batch, d]
    let log_var = h.narrow(1, d, d); // [batch, d]
    (mean, log_var)
}

/// `mean + exp(log_var / 2) · ε`, ε ~ N(0, I) from the host's seeded generator.
pub fn reparameterize(mean: Tensor<2>, log_var: Tensor<2>) -> Tensor<2> {
    let eps = crate::device::random(mean.shape(), Distribution::Normal(0.0, 1.0), &mean.device());
    mean + (log_var * 0.5).exp() * eps // [batch, d]
}

/// KL(q(z|x) ‖ N(0, I)) summed over the latent dimensions, averaged over the batch. `[1]`.
pub fn kl_to_standard_normal(mean: Tensor<2>, log_var: Tensor<2>) -> Tensor<1> {
    let [batch, _] = mean.dims();
    let per_dim = log_var.clone().exp() + mean.powi_scalar(2) - log_var - 1.0; // [batch, d]
    per_dim.sum() * (0.5 / batch as f64)
}

/// `mean(−(1 + log σ² − μ² − σ²))` over batch and latent dimensions, as the official code's VAE
/// loss has it (no ½). `[1]`.
pub fn mean_kl_term(mean: Tensor<2>, log_var: Tensor<2>) -> Tensor<1> {
    (log_var.clone().exp() + mean.powi_scalar(2) - log_var - 1.0).mean() // [1]
}

/// Mean binary cross-entropy of predictions `p` in (0, 1) against targets `x` in [0, 1], as
/// `F.binary_cross_entropy`; `p` is kept within [1e-7, 1 − 1e-7] so the logarithms stay finite.
pub fn binary_cross_entropy(p: Tensor<4>, x: Tensor<4>) -> Tensor<1> {
    let p = p.clamp(1e-7, 1.0 - 1e-7); // [batch, C, H, W]
    let terms = x.clone() * p.clone().log() + (x.neg() + 1.0) * (p.neg() + 1.0).log();
    terms.mean().neg() // [1]
}
