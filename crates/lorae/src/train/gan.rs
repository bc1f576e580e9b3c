//! One GAN step (DCGAN-style, non-saturating loss): the discriminator (the encoder's layout with a
//! single logit) learns `real → 1, fake → 0`, then the generator (the decoder) learns to make the
//! discriminator say 1 on its samples of N(0, I). Adam with β₁ = 0.5 as in DCGAN.

use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use burn::tensor::activation::softplus;
use burn::tensor::Distribution;

use crate::error::Result;
use crate::model::Autoencoder;
use crate::tensor::tensor_values;

/// The two losses of one step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GanLosses {
    /// `−log σ(D(x)) − log(1 − σ(D(G(z))))`, batch mean.
    pub discriminator: f64,
    /// `−log σ(D(G(z)))`, batch mean (non-saturating).
    pub generator: f64,
}

/// The GAN's optimiser: Adam (β = 0.5, 0.999; ε = 1e-8).
pub fn adam() -> ModuleOptimizer {
    super::adam::FusedAdam::new(0.5, 0.999, 1e-8).init()
}

/// Discriminator loss on real logits and fake logits (`[batch, 1]` each), `[1]`.
pub fn discriminator_loss(real: Tensor<2>, fake: Tensor<2>) -> Tensor<1> {
    softplus(real.neg(), 1.0).mean() + softplus(fake, 1.0).mean()
}

/// Non-saturating generator loss on the logits of fakes (`[batch, 1]`), `[1]`.
pub fn generator_loss(fake: Tensor<2>) -> Tensor<1> {
    softplus(fake.neg(), 1.0).mean()
}

/// One discriminator update then one generator update on real batch `x` (`[batch, C, H, W]`).
pub fn step(
    model: Autoencoder,
    optim: &mut ModuleOptimizer,
    x: Tensor<4>,
    latent_dim: usize,
    lr: f64,
) -> Result<(Autoencoder, GanLosses)> {
    let [batch, ..] = x.dims();
    let device = x.device();
    let prior =
        || crate::device::random::<2>([batch, latent_dim], Distribution::Normal(0.0, 1.0), &device);

    let fake = model.decoder.forward(prior()).detach(); // [batch, C, H, W]
    let d_loss = discriminator_loss(model.encoder.forward(x), model.encoder.forward(fake));
    let d_value = tensor_values(d_loss.clone())?[0] as f64;
    let grads = GradientsParams::from_grads(d_loss.backward(), &model.encoder);
    let model = optim.step(lr, model, grads);

    let fake = model.decoder.forward(prior()); // [batch, C, H, W]
    let g_loss = generator_loss(model.encoder.forward(fake));
    let g_value = tensor_values(g_loss.clone())?[0] as f64;
    let grads = GradientsParams::from_grads(g_loss.backward(), &model.decoder);
    let model = optim.step(lr, model, grads);
    Ok((
        model,
        GanLosses {
            discriminator: d_value,
            generator: g_value,
        },
    ))
}
