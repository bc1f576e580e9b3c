//! LoRAE's theory checks (the poster's Proposition 1 and Theorem 2), measured on trained runs.
//!
//! **Rank against λ** (Proposition 1: the latent rank is O(1/λ)). Over runs trained at several
//! λ, the least-squares slope of log(rank) on log(λ), fitted over the points above rank 1 (a rank
//! of 1 is the floor, where the relation stops); the proposition predicts a slope of −1.
//!
//! **Min–max distance ratio** (Theorem 2). For a query code and the other codes `j`, with
//! `d_j = ‖M E(x) − M E(x_j)‖ / rank(M)`, the ratio `(max_j d_j − min_j d_j) / min_j d_j`; the
//! theorem bounds it below for λ > 0, so queries stay distinguishable from their neighbours.
//! Dividing every distance by rank(M) leaves the ratio unchanged: the ratio is scale-free, and
//! it is computed on the codes after the chain (for models without `M`, on the plain codes).

use rand::seq::index::sample;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::config::ModelKind;
use crate::error::{Error, Result};
use crate::latent::Codes;
use crate::model::lorae::host_svd;
use crate::model::Autoencoder;

/// rank(M) of a LoRAE model: M's singular values above `threshold` × the largest; `None` for
/// other models.
pub fn rank_of_m(model: &Autoencoder, kind: ModelKind, threshold: f64) -> Result<Option<usize>> {
    match (&model.chain, kind) {
        (Some(chain), ModelKind::Lorae) => {
            let (_, sigma, _) = host_svd(&chain.layers[0].weight.val())?;
            let top = sigma.iter().copied().fold(0.0, f64::max);
            Ok(Some(sigma.iter().filter(|&&s| s > threshold * top).count()))
        }
        _ => Ok(None),
    }
}

/// One trained run on the rank-against-λ plot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankPoint {
    /// The run's λ.
    pub lambda: f64,
    /// Its effective rank.
    pub rank: usize,
}

/// `log(rank) = slope · log(λ) + intercept`, fitted by least squares.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlopeFit {
    /// Proposition 1 predicts −1.
    pub slope: f64,
    /// Natural-log intercept.
    pub intercept: f64,
    /// Points used in the fit (those above rank 1).
    pub used: usize,
}

/// Fits the slope of log(rank) on log(λ) over the points above rank 1.
pub fn fit_rank_lambda(points: &[RankPoint]) -> Result<SlopeFit> {
    if let Some(p) = points
        .iter()
        .find(|p| !(p.lambda.is_finite() && p.lambda > 0.0))
    {
        return Err(Error::invalid(
            "lambda",
            p.lambda,
            "λ must be a positive number",
        ));
    }
    let used: Vec<(f64, f64)> = points
        .iter()
        .filter(|p| p.rank > 1)
        .map(|p| (p.lambda.ln(), (p.rank as f64).ln()))
        .collect();
    if used.len() < 2 {
        return Err(Error::invalid(
            "runs",
            used.len(),
            "the slope needs at least two runs above rank 1: train LoRAE at more (smaller) λ values",
        ));
    }
    let n = used.len() as f64;
    let mean_x = used.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = used.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = used.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    if sxx == 0.0 {
        return Err(Error::invalid(
            "lambda",
            points[0].lambda,
            "every run above rank 1 has the same λ: train at different λ values",
        ));
    }
    let sxy: f64 = used.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    let slope = sxy / sxx;
    Ok(SlopeFit {
        slope,
        intercept: mean_y - slope * mean_x,
        used: used.len(),
    })
}

/// The min–max ratios of a set of codes, summarised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MinMax {
    /// Queries whose ratio was computed.
    pub queries: usize,
    /// Queries skipped because another code equals them (`d_min = 0`).
    pub skipped: usize,
    /// Codes the queries were measured against (absent in results written before it was kept).
    #[serde(default)]
    pub codes: usize,
    /// Mean ratio.
    pub mean: f64,
    /// Smallest ratio (the empirical lower bound of Theorem 2).
    pub min: f64,
    /// The 5%, 25%, 50%, 75% and 95% quantiles.
    pub quantiles: Vec<(f64, f64)>,
    /// Largest ratio.
    pub max: f64,
}

/// `(d_max − d_min) / d_min` for `queries` seeded random codes against all the other codes.
pub fn minmax_ratios(codes: &Codes, queries: usize, seed: u64) -> Result<MinMax> {
    let n = codes.len();
    if n < 3 {
        return Err(Error::invalid(
            "codes",
            n,
            "the min–max ratio needs at least 3 codes",
        ));
    }
    if queries == 0 {
        return Err(Error::invalid("queries", 0, "must be at least 1"));
    }
    let d = codes.dim;
    let picked = sample(&mut ChaCha8Rng::seed_from_u64(seed), n, queries.min(n));
    let mut ratios = Vec::with_capacity(picked.len());
    let mut skipped = 0;
    for q in picked.iter() {
        let query = &codes.values[q * d..(q + 1) * d];
        let (mut lo, mut hi) = (f64::INFINITY, 0f64);
        for (j, other) in codes.values.chunks_exact(d).enumerate() {
            if j == q {
                continue;
            }
            let dist = query
                .iter()
                .zip(other)
                .map(|(a, b)| ((a - b) as f64).powi(2))
                .sum::<f64>()
                .sqrt();
            (lo, hi) = (lo.min(dist), hi.max(dist));
        }
        if lo > 0.0 {
            ratios.push((hi - lo) / lo);
        } else {
            skipped += 1;
        }
    }
    if ratios.is_empty() {
        return Err(Error::Numerical(
            "min–max ratio: every query code has an identical neighbour (d_min = 0)".into(),
        ));
    }
    ratios.sort_by(f64::total_cmp);
    let quantile = |p: f64| ratios[((ratios.len() - 1) as f64 * p).round() as usize];
    Ok(MinMax {
        queries: ratios.len(),
        skipped,
        codes: n,
        mean: ratios.iter().sum::<f64>() / ratios.len() as f64,
        min: ratios[0],
        quantiles: [0.05, 0.25, 0.5, 0.75, 0.95]
            .iter()
            .map(|&p| (p, quantile(p)))
            .collect(),
        max: ratios[ratios.len() - 1],
    })
}

/// Theorem 2's check on the run in `run`: the min–max ratios of `queries` seeded query codes
/// against its other evaluation codes (LoRAE: the codes `M E(x)`), with its rank(M) (`None`
/// for other models), and its configuration.
pub fn minmax_of_run(
    run: &std::path::Path,
    queries: usize,
    seed: u64,
    device: &burn::prelude::Device,
) -> Result<(crate::config::RunConfig, MinMax, Option<usize>)> {
    let dir = crate::run::RunDir::open(run)?;
    dir.require_encoder()?;
    let model = dir.model(device)?;
    let config = dir.config().clone();
    // Before any fold: rank(M) is read from the chain.
    let rank_m = rank_of_m(&model, config.model.kind, config.eval.rank_threshold)?;
    let eval = crate::data::load_eval(&config.data, config.seed, None)?;
    let codes = crate::latent::encode_set(
        &model,
        &eval,
        config.data.pixel_range,
        crate::latent::EVAL_BATCH,
        device,
    )?;
    let ratios = minmax_ratios(&codes, queries, seed)?;
    Ok((config, ratios, rank_m))
}
