//! The VAE's Gaussian code: split the encoder output into mean and log-variance, sample with the
//! reparameterisation trick, and the KL divergence to N(0, I).

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

/// `mean + exp(log_var / 2) · ε`, ε ~ N(0, I) from the device's seeded generator.
pub fn reparameterize(mean: Tensor<2>, log_var: Tensor<2>) -> Tensor<2> {
    let eps = Tensor::random(mean.shape(), Distribution::Normal(0.0, 1.0), &mean.device());
    mean + (log_var * 0.5).exp() * eps // [batch, d]
}

/// KL(q(z|x) ‖ N(0, I)) summed over the latent dimensions, averaged over the batch. `[1]`.
pub fn kl_to_standard_normal(mean: Tensor<2>, log_var: Tensor<2>) -> Tensor<1> {
    let [batch, _] = mean.dims();
    let per_dim = log_var.clone().exp() + mean.powi_scalar(2) - log_var - 1.0; // [batch, d]
    per_dim.sum() * (0.5 / batch as f64)
}
