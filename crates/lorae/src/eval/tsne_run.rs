//! IRMAE Fig 13 from a run: the codes of its first `n` evaluation images and `n` draws of a
//! sampler fitted to a split's codes, embedded together by [`super::tsne::embed`].

use std::path::Path;
use std::time::Instant;

use burn::prelude::Device;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::tsne::{embed, TsneConfig};
use crate::data::Split;
use crate::error::{Error, Result};
use crate::latent::Codes;
use crate::run::codes::RunCodes;
use crate::sampler::draw::fit_sampler;
use crate::sampler::SamplerKind;

/// What to embed.
#[derive(Debug, Clone)]
pub struct TsneRunConfig {
    /// The sampler whose draws are embedded beside the real codes (gaussian or gmm).
    pub sampler: SamplerKind,
    /// GMM components.
    pub k: usize,
    /// Real codes (the first n evaluation images) and as many draws.
    pub n: usize,
    /// Split the sampler is fitted to, and at most how many of its images (`None`: all).
    pub fit: (Split, Option<usize>),
    /// Seed of the sampler (the embedding's is in `tsne`).
    pub seed: u64,
    /// The embedding's settings.
    pub tsne: TsneConfig,
}

/// The embedded points.
#[derive(Debug, Clone)]
pub struct TsneRun {
    /// The real codes' points, in evaluation order.
    pub real: Vec<[f32; 2]>,
    /// The class of each real code, where the dataset has labels.
    pub labels: Option<Vec<u8>>,
    /// The draws' points.
    pub samples: Vec<[f32; 2]>,
    /// Seconds the embedding took.
    pub seconds: f64,
}

/// Embeds the run in `run` as `config` says.
pub fn tsne_of_run(run: &Path, config: &TsneRunConfig, device: &Device) -> Result<TsneRun> {
    if config.sampler == SamplerKind::Prior {
        return Err(Error::invalid(
            "sampler",
            config.sampler,
            "the prior has no real codes to compare with here: use gmm or gaussian",
        ));
    }
    // n real codes and n draws are embedded together.
    let needed = crate::eval::tsne::codes_needed(config.tsne.perplexity).div_ceil(2);
    if config.n < needed {
        return Err(Error::invalid(
            "n",
            config.n,
            format!(
                "t-SNE at perplexity {} embeds n real codes with n draws and needs n ≥ {needed}: raise -n or lower --perplexity",
                config.tsne.perplexity
            ),
        ));
    }
    let codes = RunCodes::load(run, Some(config.n), device)?;
    if codes.codes.len() < needed {
        return Err(Error::invalid(
            "n",
            config.n,
            format!(
                "the run's evaluation set has only {} images, t-SNE at perplexity {} needs {needed}: lower --perplexity",
                codes.codes.len(),
                config.tsne.perplexity
            ),
        ));
    }
    let sampler = fit_sampler(
        config.sampler,
        &codes.config,
        &codes.model,
        config.fit,
        config.k,
        config.seed,
        device,
    )?;
    let real = &codes.codes;
    let drawn = sampler.sample(real.len(), &mut ChaCha8Rng::seed_from_u64(config.seed));
    let mut both = real.values.clone();
    both.extend_from_slice(&drawn.values);
    let all = Codes {
        values: both,
        dim: real.dim,
    };
    let started = Instant::now();
    let mut points = embed(&all, &config.tsne)?;
    let seconds = started.elapsed().as_secs_f64();
    crate::note!(
        "t-SNE of {} real and {} {} codes in {seconds:.1}s",
        real.len(),
        drawn.len(),
        config.sampler
    );
    let samples = points.split_off(real.len());
    Ok(TsneRun {
        real: points,
        labels: codes.eval.labels.clone(),
        samples,
        seconds,
    })
}
