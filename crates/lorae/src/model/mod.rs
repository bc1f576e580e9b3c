//! Autoencoders: one struct for every model family — encoder, an optional linear chain
//! (IRMAE's `l` layers, LoRAE's `M`, or RRAE's fixed basis projector), decoder — and its
//! training objective.

pub mod arrae;
pub mod gemm_conv;
pub mod irmae;
pub mod lorae;
pub mod nets;
pub mod rae;
pub mod rrae;
pub mod vae;
pub mod wae;

use burn::module::{ModuleMapper, Param, ParamId};
use burn::prelude::*;

use crate::config::{ModelConfig, ModelKind, RaeReg, VaeLoss};
use crate::error::Result;
use irmae::LinearChain;
use nets::{Decoder, Encoder};

/// Encoder → (linear chain) → decoder.
#[derive(Module, Debug)]
pub struct Autoencoder {
    /// Image → code (for the VAE: mean and log-variance, 2d values; for a GAN: the discriminator's
    /// logit).
    pub encoder: Encoder,
    /// IRMAE / LoRAE linear layers between encoder and decoder. RRAE / aRRAE: one layer holding
    /// the projector onto the evaluation basis ([`rrae`]), set after each epoch and never
    /// trained (training truncates each batch instead); the identity before the first epoch.
    pub chain: Option<LinearChain>,
    /// Code → image.
    pub decoder: Decoder,
    /// Whether the encoder outputs a Gaussian (VAE).
    pub variational: bool,
}

/// The parts of one batch's loss, each `[1]`.
#[derive(Debug, Clone)]
pub struct Losses {
    /// What is minimised: `reconstruction + regulariser`.
    pub total: Tensor<1>,
    /// Mean squared error per pixel.
    pub reconstruction: Tensor<1>,
    /// The weighted regulariser (LoRAE: `λ‖M‖*`; VAE: `β·KL / pixels`; RAE:
    /// `(β·½‖z‖² + λ·decoder term) / pixels`; WAE: `λ·MMD / pixels`; AE-L1 / AE-L2:
    /// `β·mean‖z‖₁ / pixels`, `β·mean‖z‖² / pixels`); zero for AE and IRMAE.
    pub regularizer: Tensor<1>,
}

impl Autoencoder {
    /// A freshly initialised model (seed the device first for a repeatable one).
    pub fn new(config: &ModelConfig, layout: crate::config::Layout, device: &Device) -> Self {
        let d = config.latent_dim;
        let variational = config.kind == ModelKind::Vae;
        // A GAN's "encoder" is its discriminator: the encoder's layout with one logit.
        let out = match config.kind {
            ModelKind::Vae => 2 * d,
            ModelKind::Gan => 1,
            _ => d,
        };
        let encoder = Encoder::new(layout, out, device);
        let chain = match config.kind {
            ModelKind::Irmae | ModelKind::Lorae => Some(LinearChain::new(
                d,
                config.layers,
                config.shared_linear,
                config.relu_between,
                config.init_scale,
                device,
            )),
            ModelKind::Rrae | ModelKind::Arrae => Some(LinearChain::identity(d, device)),
            _ => None,
        };
        Autoencoder {
            encoder,
            chain,
            decoder: Decoder::new(
                layout,
                d,
                config.decoder_fc_relu,
                variational && config.vae_loss == VaeLoss::Bce,
                device,
            ),
            variational,
        }
        .with_stable_ids()
    }

    /// The same model with the taps of its shapes-layout 4×4 kernels that only ever meet
    /// padding set to zero (see [`nets`]): applied to fresh weights once they are drawn.
    pub fn zero_dead_taps(self) -> Result<Self> {
        Ok(Autoencoder {
            encoder: self.encoder.zero_dead_taps()?,
            decoder: self.decoder.zero_dead_taps()?,
            ..self
        })
    }

    /// Codes after the chain, `[batch, d]` (the VAE's mean).
    pub fn encode(&self, x: Tensor<4>) -> Tensor<2> {
        let z = self.encode_before_chain(x); // [batch, d]
        match &self.chain {
            Some(chain) => chain.forward(z),
            None => z,
        }
    }

    /// Codes before the chain, `[batch, d]`: the encoder's output (the VAE's mean). This is what
    /// both papers' classification code feeds its head.
    pub fn encode_before_chain(&self, x: Tensor<4>) -> Tensor<2> {
        let h = self.encoder.forward(x); // [batch, d] or [batch, 2d]
        if self.variational {
            vae::split_moments(h).0
        } else {
            h
        }
    }

    /// `[batch, d]` → `[batch, C, H, W]`.
    pub fn decode(&self, z: Tensor<2>) -> Tensor<4> {
        self.decoder.forward(z)
    }

    /// Deterministic reconstruction (the VAE decodes its mean).
    pub fn reconstruct(&self, x: Tensor<4>) -> Tensor<4> {
        self.decode(self.encode(x))
    }

    /// The training objective on one batch `x` (`[batch, C, H, W]`); RRAE truncates the batch's
    /// codes at `config.rank` (aRRAE's training loop sets it to the rank of the moment).
    pub fn losses(&self, x: Tensor<4>, config: &ModelConfig) -> Result<Losses> {
        let [_, c, h, w] = x.dims();
        let device = x.device();
        let code = self.encoder.forward(x.clone());
        let bce = config.kind == ModelKind::Vae && config.vae_loss == VaeLoss::Bce;
        let (z, kl) = if self.variational {
            let (mean, log_var) = vae::split_moments(code);
            let kl = if bce {
                vae::mean_kl_term(mean.clone(), log_var.clone())
            } else {
                vae::kl_to_standard_normal(mean.clone(), log_var.clone())
            };
            (vae::reparameterize(mean, log_var), Some(kl))
        } else {
            (code, None)
        };
        let z = match (config.kind, &self.chain) {
            // The batch's own truncation; the basis projector is for single codes only.
            (ModelKind::Rrae | ModelKind::Arrae, _) => {
                rrae::truncate(z, config.rank.unwrap_or(config.latent_dim))? // [batch, d]
            }
            (_, Some(chain)) => chain.forward(z),
            (_, None) => z,
        };
        let pixels = (c * h * w) as f64;
        let decoded = self.decode(z.clone()); // [batch, C, H, W]
        let reconstruction = (decoded.clone() - x.clone()).powi_scalar(2).mean(); // [1]
        if bce {
            // The official VAE: mean BCE + β · mean(−(1 + log σ² − μ² − σ²)); MSE is reported.
            let regularizer = kl.map_or_else(|| Tensor::zeros([1], &device), |kl| kl * config.beta);
            return Ok(Losses {
                total: vae::binary_cross_entropy(decoded, x) + regularizer.clone(),
                reconstruction,
                regularizer,
            });
        }
        let regularizer = match (config.kind, kl) {
            (ModelKind::Vae, Some(kl)) => kl * (config.beta / pixels),
            (ModelKind::Rae, _) => {
                let decoder_term = match config.rae_reg {
                    RaeReg::L2 => rae::sum_of_squares(&self.decoder, &device),
                    RaeReg::Gp => {
                        let (v, eps) = rae::probes(&z);
                        rae::jacobian_penalty(|z| self.decode(z), z.clone(), v, eps)
                    }
                };
                (rae::code_penalty(z) * config.beta + decoder_term * config.lambda) / pixels
            }
            (ModelKind::AeL1, _) => z.abs().sum_dim(1).mean() * (config.beta / pixels),
            (ModelKind::AeL2, _) => z.powi_scalar(2).sum_dim(1).mean() * (config.beta / pixels),
            (ModelKind::Wae, _) => wae::mmd_to_prior(z) * (config.lambda / pixels),
            (ModelKind::Lorae, _) => match &self.chain {
                Some(chain) => lorae::nuclear_norm(chain.layers[0].weight.val())? * config.lambda,
                None => Tensor::zeros([1], &device),
            },
            _ => Tensor::zeros([1], &device),
        };
        Ok(Losses {
            total: reconstruction.clone() + regularizer.clone(),
            reconstruction,
            regularizer,
        })
    }

    /// The same model with the chain's product folded into the encoder's last layer: same codes,
    /// no chain. Fails for a chain with ReLUs between its layers.
    pub fn fold(&self) -> Result<Autoencoder> {
        let Some(chain) = &self.chain else {
            return Ok(self.clone());
        };
        let encoder = irmae::fold_into_encoder(&self.encoder, chain.product()?);
        Ok(Autoencoder {
            encoder,
            chain: None,
            decoder: self.decoder.clone(),
            variational: false,
        })
    }

    /// Gives every parameter an id from its position in the module, so that optimizer state
    /// saved with one instance applies to another of the same architecture (resume).
    pub fn with_stable_ids(self) -> Self {
        struct Renumber(u64);
        impl ModuleMapper for Renumber {
            fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
                let (_, value, mapper) = param.consume();
                self.0 += 1;
                Param::from_mapped_value(ParamId::from(self.0), value, mapper)
            }
        }
        self.map(&mut Renumber(0))
    }

    /// The parameter ids of the chain (IRMAE's frozen-linear ablation skips their updates).
    pub fn chain_param_ids(&self) -> Vec<ParamId> {
        self.chain
            .as_ref()
            .map(|c| c.layers.iter().map(|l| l.weight.id).collect())
            .unwrap_or_default()
    }
}
