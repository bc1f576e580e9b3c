//! A multivariate Gaussian with the codes' mean and full covariance.

use nalgebra::{DMatrix, DVector};

use super::{cholesky_with_jitter, draw, Sampler};
use crate::error::Result;
use crate::latent::spectrum::covariance;
use crate::latent::{to_matrix, Codes};

/// N(mean, cov), sampled through a Cholesky factor.
#[derive(Debug, Clone)]
pub struct Gaussian {
    /// Mean of the codes.
    pub mean: DVector<f64>,
    /// Covariance of the codes (unbiased).
    pub cov: DMatrix<f64>,
    /// Lower Cholesky factor of `cov + jitter·I`.
    pub chol: DMatrix<f64>,
    /// Jitter added to the diagonal (0 when `cov` was positive definite).
    pub jitter: f64,
}

impl Gaussian {
    /// Fits mean and covariance to `codes` (at least two).
    pub fn fit(codes: &Codes) -> Result<Self> {
        let mean = to_matrix(codes).row_mean().transpose();
        let cov = covariance(codes)?;
        let (chol, jitter) = cholesky_with_jitter(&cov)?;
        Ok(Gaussian {
            mean,
            cov,
            chol,
            jitter,
        })
    }
}

impl Sampler for Gaussian {
    fn sample(&self, n: usize, rng: &mut dyn rand::RngCore) -> Codes {
        let mut values = Vec::with_capacity(n * self.mean.len());
        for _ in 0..n {
            values.extend(draw(&self.mean, &self.chol, rng).iter().map(|&v| v as f32));
        }
        Codes {
            values,
            dim: self.mean.len(),
        }
    }
}
