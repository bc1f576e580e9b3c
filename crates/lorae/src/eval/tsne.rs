//! t-SNE of codes (IRMAE Fig 13): real codes and sampler draws embedded together in 2-D, so that
//! a reader sees whether the samples cover the data's clusters and stay on them.
//!
//! The embedding is the `bhtsne` crate's Barnes-Hut t-SNE (θ = 0.5, Euclidean distance between
//! codes). Its initial embedding is drawn here from a seeded N(0, 1e-4) — the crate would draw it
//! from an unseeded generator — so the same seed gives the same picture.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

use crate::error::{Error, Result};
use crate::latent::Codes;

/// Settings of an embedding.
#[derive(Debug, Clone, PartialEq)]
pub struct TsneConfig {
    /// Perplexity of the neighbourhoods; needs more than 3 × perplexity codes. Default 30.
    pub perplexity: f32,
    /// Gradient iterations. Default 1 000.
    pub epochs: usize,
    /// Seed of the initial embedding. Default 0.
    pub seed: u64,
}

impl Default for TsneConfig {
    fn default() -> Self {
        TsneConfig {
            perplexity: 30.0,
            epochs: 1_000,
            seed: 0,
        }
    }
}

/// Fewest codes t-SNE embeds at `perplexity` (more than three neighbourhoods' worth).
pub fn codes_needed(perplexity: f32) -> usize {
    3 * perplexity.ceil() as usize + 2
}

/// 2-D points, one `[x, y]` per code, in the order of `codes`.
pub fn embed(codes: &Codes, config: &TsneConfig) -> Result<Vec<[f32; 2]>> {
    let n = codes.len();
    if !(config.perplexity.is_finite() && config.perplexity >= 1.0) {
        return Err(Error::invalid(
            "perplexity",
            config.perplexity,
            "must be a number of at least 1",
        ));
    }
    let needed = codes_needed(config.perplexity);
    if n < needed {
        return Err(Error::invalid(
            "n",
            n,
            format!(
                "t-SNE at perplexity {} needs at least {needed} codes: draw more or lower --perplexity",
                config.perplexity
            ),
        ));
    }
    if config.epochs == 0 {
        return Err(Error::invalid("epochs", 0, "must be at least 1"));
    }
    if let Some(v) = codes.values.iter().find(|v| !v.is_finite()) {
        return Err(Error::Numerical(format!("t-SNE of codes holding {v}")));
    }
    let normal = Normal::new(0.0f32, 1e-2)
        .map_err(|e| Error::Numerical(format!("initial t-SNE embedding: {e}")))?;
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let init: Vec<f32> = (0..2 * n).map(|_| normal.sample(&mut rng)).collect();
    let samples: Vec<&[f32]> = codes.values.chunks_exact(codes.dim).collect();
    let mut tsne = bhtsne::tSNE::<f32, &[f32], 2>::new(&samples);
    tsne.perplexity(config.perplexity)
        .epochs(config.epochs)
        .initial_embedding(init)
        .barnes_hut(0.5, |a, b| {
            a.iter()
                .zip(b.iter())
                .map(|(x, y)| (x - y).powi(2))
                .sum::<f32>()
                .sqrt()
        });
    let flat = tsne.embedding();
    if flat.len() != 2 * n || flat.iter().any(|v| !v.is_finite()) {
        return Err(Error::Numerical(format!(
            "t-SNE returned {} values for {n} codes, or non-finite ones",
            flat.len()
        )));
    }
    Ok(flat.chunks_exact(2).map(|p| [p[0], p[1]]).collect())
}
