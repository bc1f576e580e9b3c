//! The latent spectrum (IRMAE Figs 2, 4): singular values of the covariance of the codes, sorted
//! and divided by the largest; the effective rank counts those above a threshold.

use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

use super::Codes;
use crate::config::MIN_RANK_THRESHOLD;
use crate::error::{Error, Result};

/// Normalised singular values and the effective rank at a stated threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spectrum {
    /// Singular values of the code covariance divided by the largest, descending.
    pub singular_values: Vec<f64>,
    /// Number of normalised singular values above `threshold`.
    pub effective_rank: usize,
    /// The threshold used.
    pub threshold: f64,
}

/// Covariance (f64, unbiased) of row-major `[n, dim]` codes, `[dim, dim]`.
pub fn covariance(codes: &Codes) -> Result<DMatrix<f64>> {
    let (n, d) = (codes.len(), codes.dim);
    if n < 2 {
        return Err(Error::invalid(
            "codes",
            n,
            "the covariance needs at least 2 codes",
        ));
    }
    let x = DMatrix::from_row_iterator(n, d, codes.values.iter().map(|&v| v as f64));
    let mean = x.row_mean();
    let mut centred = x;
    for mut row in centred.row_iter_mut() {
        row -= &mean;
    }
    Ok(centred.tr_mul(&centred) / (n as f64 - 1.0))
}

/// Fails unless `threshold` is in [[`MIN_RANK_THRESHOLD`], 1).
pub fn check_threshold(threshold: f64) -> Result<()> {
    if (MIN_RANK_THRESHOLD..1.0).contains(&threshold) {
        Ok(())
    } else {
        Err(Error::invalid(
            "threshold",
            threshold,
            "must be in [1e-12, 1): singular values are divided by the largest, and below 1e-12 they are rounding noise",
        ))
    }
}

/// The spectrum of `codes` with the effective rank at `threshold`.
pub fn spectrum(codes: &Codes, threshold: f64) -> Result<Spectrum> {
    check_threshold(threshold)?;
    let cov = covariance(codes)?;
    let mut values: Vec<f64> = cov
        .try_svd(false, false, 1e-14, 100_000)
        .ok_or_else(|| Error::Numerical("SVD of the latent covariance did not converge".into()))?
        .singular_values
        .iter()
        .copied()
        .collect();
    values.sort_by(|a, b| b.total_cmp(a));
    let largest = values.first().copied().unwrap_or(0.0);
    let singular_values: Vec<f64> = if largest > 0.0 {
        values.iter().map(|v| v / largest).collect()
    } else {
        vec![0.0; values.len()]
    };
    let effective_rank = singular_values.iter().filter(|&&v| v > threshold).count();
    Ok(Spectrum {
        singular_values,
        effective_rank,
        threshold,
    })
}
