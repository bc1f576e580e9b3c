//! Samplers fitted to latent codes: a full-covariance Gaussian, a Gaussian mixture fitted by EM,
//! and the VAE's N(0, I) prior. Decoding their samples generates images (IRMAE Figs 6, 7).

pub mod draw;
pub mod gaussian;
pub mod gmm;

use nalgebra::{DMatrix, DVector};
use rand::Rng;
use rand_distr::StandardNormal;

use crate::error::{Error, Result};
use crate::latent::Codes;

/// The samplers lorae offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SamplerKind {
    /// One Gaussian with the codes' mean and full covariance.
    Gaussian,
    /// A k-component full-covariance Gaussian mixture (EM).
    Gmm,
    /// N(0, I): the VAE's prior (not fitted).
    Prior,
}

name_enum!(
    SamplerKind,
    "sampler",
    [(Gaussian, "gaussian"), (Gmm, "gmm"), (Prior, "prior")]
);

/// A distribution over codes that can be sampled.
pub trait Sampler {
    /// `n` codes, row-major `[n, dim]`.
    fn sample(&self, n: usize, rng: &mut dyn rand::RngCore) -> Codes;
}

/// Cholesky factor of `cov`, adding `jitter · I` (growing ×10 from 1e-9 of the mean variance) when
/// `cov` is not positive definite — as for the codes of a low-rank model. Returns `(L, jitter)`.
pub fn cholesky_with_jitter(cov: &DMatrix<f64>) -> Result<(DMatrix<f64>, f64)> {
    let d = cov.nrows();
    if let Some(chol) = cov.clone().cholesky() {
        return Ok((chol.l(), 0.0));
    }
    let scale = (cov.trace() / d as f64).abs().max(f64::MIN_POSITIVE);
    let mut jitter = 1e-9 * scale;
    for _ in 0..12 {
        let mut shifted = cov.clone();
        for i in 0..d {
            shifted[(i, i)] += jitter;
        }
        if let Some(chol) = shifted.cholesky() {
            return Ok((chol.l(), jitter));
        }
        jitter *= 10.0;
    }
    Err(Error::Numerical(format!(
        "covariance is not positive definite even with jitter {jitter:.1e}: are the codes finite?"
    )))
}

/// `mean + L·ε` with ε ~ N(0, I).
pub fn draw(mean: &DVector<f64>, l: &DMatrix<f64>, rng: &mut dyn rand::RngCore) -> DVector<f64> {
    let eps = DVector::from_fn(mean.len(), |_, _| rng.sample::<f64, _>(StandardNormal));
    mean + l * eps
}

/// The standard normal prior N(0, I) in `dim` dimensions.
#[derive(Debug, Clone)]
pub struct Prior {
    /// Latent dimension.
    pub dim: usize,
}

impl Sampler for Prior {
    fn sample(&self, n: usize, rng: &mut dyn rand::RngCore) -> Codes {
        let values = (0..n * self.dim)
            .map(|_| rng.sample::<f64, _>(StandardNormal) as f32)
            .collect();
        Codes {
            values,
            dim: self.dim,
        }
    }
}
