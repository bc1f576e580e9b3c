//! From a run to decoded samples: fit a sampler to the codes of one split (or take the prior of
//! a VAE or GAN), draw codes, decode them. Shared by `lorae sample`, `lorae fid --run`, t-SNE and
//! `lorae reproduce`.

use std::path::Path;

use burn::prelude::Device;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::gaussian::Gaussian;
use super::gmm::{Gmm, GmmConfig};
use super::{Prior, Sampler, SamplerKind};
use crate::config::{ModelKind, RunConfig};
use crate::data::{self, Split};
use crate::error::{Error, Result};
use crate::latent::{decode_codes, encode_set};
use crate::model::Autoencoder;
use crate::train::EVAL_BATCH;

/// What to draw from a run: `n` samples of sampler `kind` (GMM with `k` components), fitted to
/// the codes of split `fit_on`, seeded by `seed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Draw {
    /// Sampler.
    pub kind: SamplerKind,
    /// Split the sampler is fitted to.
    pub fit_on: Split,
    /// GMM components.
    pub k: usize,
    /// Number of samples.
    pub n: usize,
    /// Seed of the fit and the draws.
    pub seed: u64,
    /// Fit to the first this many images of the split only (`None`: all of it). The `quick`
    /// reproduction budget fits to 10 000 training codes: a GMM fit to all 60 000 MNIST codes
    /// takes minutes on 2 cores.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fit_limit: Option<usize>,
}

/// The run's configuration and its decoded samples, `[n, C, H, W]` floats in the run's pixel
/// range.
pub fn draw_images(run: &Path, draw: &Draw, device: &Device) -> Result<(RunConfig, Vec<f32>)> {
    if draw.n == 0 {
        return Err(Error::invalid("n", 0, "draw at least 1 sample"));
    }
    if draw.fit_limit == Some(0) {
        return Err(Error::invalid(
            "fit-limit",
            0,
            "the sampler needs codes to fit: give at least 1, or leave it out for the whole split",
        ));
    }
    let dir = crate::run::RunDir::open(run)?;
    let model = dir.model(device)?;
    let config = dir.config().clone();
    let shape = config.data.layout().image_shape();
    crate::limits::check_images("n", draw.n, draw.n as u128, shape)?;
    // A chain with ReLUs between its layers cannot fold; it encodes as it is.
    let model = model.fold().unwrap_or(model);
    let sampler = fit_sampler(
        draw.kind,
        &config,
        &model,
        (draw.fit_on, draw.fit_limit),
        draw.k,
        draw.seed,
        device,
    )
    .map_err(|e| e.in_run(run))?;
    let codes = sampler.sample(draw.n, &mut ChaCha8Rng::seed_from_u64(draw.seed));
    let images = decode_codes(&model, &codes, EVAL_BATCH, device).map_err(|e| e.in_run(run))?;
    Ok((config, images))
}

/// The sampler `kind` fitted to the codes of the run's `fit_on` split (its first `limit` images
/// when given), or the VAE's or GAN's prior.
pub fn fit_sampler(
    kind: SamplerKind,
    config: &RunConfig,
    model: &Autoencoder,
    (fit_on, limit): (Split, Option<usize>),
    k: usize,
    seed: u64,
    device: &Device,
) -> Result<Box<dyn Sampler>> {
    let is_prior_model = matches!(config.model.kind, ModelKind::Vae | ModelKind::Gan);
    match kind {
        SamplerKind::Prior if !is_prior_model => Err(Error::invalid(
            "sampler",
            "prior",
            format!(
                "prior samples N(0, I), the prior of a VAE or a GAN; this run is {}: use gaussian or gmm",
                config.model.kind
            ),
        )),
        SamplerKind::Prior => Ok(Box::new(Prior {
            dim: config.model.latent_dim,
        })),
        _ if config.model.kind == ModelKind::Gan => Err(Error::Unsupported(
            "this is a GAN run: it has no encoder, so there are no codes to fit a sampler to; use --sampler prior".into(),
        )),
        _ => {
            let set = data::load_split(&config.data, config.seed, fit_on, limit)?;
            let codes = encode_set(model, &set, config.data.pixel_range, EVAL_BATCH, device)?;
            Ok(match kind {
                SamplerKind::Gaussian => Box::new(Gaussian::fit(&codes)?),
                _ => Box::new(Gmm::fit(
                    &codes,
                    &GmmConfig {
                        k,
                        seed,
                        ..GmmConfig::default()
                    },
                )?),
            })
        }
    }
}
