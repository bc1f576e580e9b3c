//! What a training step optimises and what an epoch's evaluation measures, for the two kinds of
//! run the loop trains:
//! - an **autoencoder** (AE, IRMAE, LoRAE, VAE, RAE, WAE): the model's loss
//!   `‖x − D(E(x))‖² + regulariser` by Adam (β = 0.9, 0.999) with the chain's weights left out
//!   under `--frozen-linear`; after each epoch the reconstruction MSE of the evaluation split and
//!   the spectrum of its codes. RRAE / aRRAE first set their evaluation basis from the training
//!   set ([`crate::model::rrae`]); aRRAE's rank search ([`crate::model::arrae`]) takes every
//!   step's loss;
//! - a **GAN**: a discriminator step then a generator step ([`super::gan`]), Adam with β₁ = 0.5;
//!   it has no encoder, so nothing to evaluate.

use burn::module::ParamId;
use burn::optim::ModuleOptimizer;
use burn::prelude::*;

use super::{gan, step};
use crate::config::{ModelConfig, ModelKind, RunConfig};
use crate::data::ImageSet;
use crate::error::{Error, Result};
use crate::latent::spectrum::{spectrum, Spectrum};
use crate::model::arrae::RankTracker;
use crate::model::{rrae, Autoencoder};
use crate::run::checkpoint::PartialEpoch;
use crate::tensor::tensor_values;

/// The objective of a run.
#[derive(Debug, Clone)]
pub enum Objective {
    /// Reconstruction plus the model's regulariser; parameters in `frozen` get no update.
    Autoencoder {
        /// The chain's weights under `--frozen-linear`, else none.
        frozen: Vec<ParamId>,
        /// aRRAE's rank search; `None` for every other model.
        search: Option<RankTracker>,
    },
    /// Discriminator and generator losses (DCGAN, non-saturating).
    Gan,
}

/// What an autoencoder's evaluation measured.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// Reconstruction MSE per pixel of the evaluation split.
    pub mse: f64,
    /// Singular values and effective rank of its codes.
    pub spectrum: Spectrum,
}

impl Objective {
    /// The objective of `config`'s model, whose parameters `model` holds; aRRAE's rank search
    /// continues from `search` (a checkpoint's) or starts.
    pub fn new(config: &RunConfig, model: &Autoencoder, search: Option<RankTracker>) -> Objective {
        let m = &config.model;
        match m.kind {
            ModelKind::Gan => Objective::Gan,
            _ => Objective::Autoencoder {
                frozen: match m.frozen_linear {
                    true => model.chain_param_ids(),
                    false => Vec::new(),
                },
                search: (m.kind == ModelKind::Arrae).then(|| {
                    search.unwrap_or_else(|| {
                        RankTracker::new(
                            m.rank.unwrap_or(m.latent_dim),
                            m.rank_warmup.unwrap_or(crate::model::arrae::WARMUP_STEPS),
                            m.rank_patience.unwrap_or(500),
                        )
                    })
                }),
            },
        }
    }

    /// aRRAE's rank search, for the checkpoint.
    pub fn rank_search(&self) -> Option<RankTracker> {
        match self {
            Objective::Autoencoder { search, .. } => search.clone(),
            Objective::Gan => None,
        }
    }

    /// The rank RRAE's decoder sees now (aRRAE: of the moment); `None` for other models.
    pub fn truncation_rank(&self, config: &RunConfig) -> Option<usize> {
        match (self, config.model.kind) {
            (
                Objective::Autoencoder {
                    search: Some(s), ..
                },
                _,
            ) => Some(s.rank),
            (_, ModelKind::Rrae) => config.model.rank,
            _ => None,
        }
    }

    /// A fresh Adam for this objective.
    pub fn optimizer(&self) -> ModuleOptimizer {
        match self {
            Objective::Gan => gan::adam(),
            Objective::Autoencoder { .. } => step::adam(),
        }
    }

    /// One step on batch `x` (`[batch, C, H, W]`, autodiff device): the updated model and the
    /// step's total loss (not checked for finiteness), its terms added to `acc`.
    pub fn step(
        &mut self,
        model: Autoencoder,
        optim: &mut ModuleOptimizer,
        x: Tensor<4>,
        config: &RunConfig,
        acc: &mut PartialEpoch,
    ) -> Result<(Autoencoder, f64)> {
        let lr = config.train.lr;
        let (model, total) = match self {
            Objective::Autoencoder { frozen, search } => {
                let (model, l) = match search {
                    Some(search) => {
                        let at_rank = ModelConfig {
                            rank: Some(search.rank),
                            ..config.model.clone()
                        };
                        let (model, l) = step::step(model, optim, x, &at_rank, lr, frozen)?;
                        search.observe(l.total);
                        (model, l)
                    }
                    None => step::step(model, optim, x, &config.model, lr, frozen)?,
                };
                acc.sum_reconstruction += l.reconstruction;
                acc.sum_regularizer += l.regularizer;
                (model, l.total)
            }
            Objective::Gan => {
                let (model, l) = gan::step(model, optim, x, config.model.latent_dim, lr)?;
                acc.sum_discriminator += l.discriminator;
                acc.sum_generator += l.generator;
                (model, l.discriminator + l.generator)
            }
        };
        acc.steps += 1;
        acc.sum_total += total;
        Ok((model, total))
    }

    /// Before the evaluation of an epoch whose training images came in `order`: RRAE / aRRAE
    /// set their evaluation basis from the training set's batches ([`rrae`]); other models are
    /// returned as they are.
    pub fn end_epoch(
        &self,
        model: Autoencoder,
        train: &ImageSet,
        order: &[usize],
        config: &RunConfig,
        plain: &Device,
    ) -> Result<Autoencoder> {
        let Some(rank) = self.truncation_rank(config) else {
            return Ok(model);
        };
        let valid = model.valid();
        let mut sum = rrae::BasisSum::new(config.model.latent_dim, rank);
        for indices in order.chunks(config.train.batch_size) {
            let x = train.batch(indices, config.data.pixel_range, plain); // [batch, C, H, W]
            let z = valid.encode_before_chain(x); // [batch, d]
            sum.add(&tensor_values(z)?, indices.len())?;
        }
        let projector = sum.projector(plain)?; // [d, d]
        let chain = model.chain.clone().map(|c| c.with_projector(projector));
        Ok(Autoencoder { chain, ..model })
    }

    /// The evaluation after an epoch (`None` for a GAN), with a plain (validation) model. Codes
    /// or an error that overflow are a divergence, reported at `epoch`'s last step `steps`.
    pub fn evaluate(
        &self,
        model: &Autoencoder,
        eval: &ImageSet,
        config: &RunConfig,
        device: &Device,
        (epoch, steps): (usize, usize),
    ) -> Result<Option<Evaluation>> {
        if let Objective::Gan = self {
            return Ok(None);
        }
        let (mse, codes) = super::evaluate(model, eval, config.data.pixel_range, device)?;
        if !mse.is_finite() || codes.values.iter().any(|v| !v.is_finite()) {
            // Finite training losses, but codes that overflow: diverged all the same.
            return Err(Error::Diverged {
                epoch,
                step: steps,
                loss: mse,
                lr: config.train.lr,
            });
        }
        let spectrum = spectrum(&codes, config.eval.rank_threshold)?;
        Ok(Some(Evaluation { mse, spectrum }))
    }
}
