//! The Fréchet Inception Distance between two sets of feature vectors, as pytorch-fid computes it:
//! `‖μ₁ − μ₂‖² + tr Σ₁ + tr Σ₂ − 2 tr (Σ₁ Σ₂)^½`, with the mean and the unbiased covariance
//! (`np.cov(rowvar=False)`) of the features in f64.
//!
//! pytorch-fid takes `tr sqrtm(Σ₁ Σ₂)` with `scipy.linalg.sqrtm` (a Schur method on the
//! non-symmetric product). The product of two symmetric positive semi-definite matrices has the
//! same eigenvalues as the symmetric `Σ₁^½ Σ₂ Σ₁^½`, so the trace is the sum of the square roots
//! of that matrix's eigenvalues: two symmetric eigendecompositions, no complex arithmetic, and
//! tiny negative eigenvalues from rounding are clamped to zero instead of producing imaginary parts.
//!
//! When a set has fewer feature vectors than dimensions (e.g. 100 images against 2048 pool3
//! features), its covariance is `Σ₁ = Fᵀ F` with `F` the `[n, dim]` centred features divided by
//! `√(n − 1)`, and `Σ₁^½ Σ₂ Σ₁^½` has the same nonzero eigenvalues as the small `F Σ₂ Fᵀ`
//! (`[n, n]`): the statistics keep that factor, and the trace costs one `n × dim × dim` product
//! and an `n × n` eigensolve instead of two `dim × dim` eigendecompositions (seconds → milliseconds).

use std::path::Path;

use nalgebra::{DMatrix, DVector, SymmetricEigen};

use crate::error::{Error, Result};

/// Mean and covariance (f64) of `n` feature vectors.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureStats {
    /// Mean, `[dim]`.
    pub mu: DVector<f64>,
    /// Unbiased covariance (divided by `n − 1`), `[dim, dim]`.
    pub sigma: DMatrix<f64>,
    /// Number of feature vectors the statistics were computed from (0 when unknown, e.g. read
    /// from a pytorch-fid `.npz`).
    pub n: usize,
    /// `F`, `[n, dim]`, with `sigma = Fᵀ F`, kept when `n ≤ dim` (saved to `.npz` as `factor`,
    /// so cached statistics give the same distance as fresh ones).
    pub factor: Option<DMatrix<f64>>,
}

/// Accumulates feature vectors batch by batch into [`FeatureStats`], shifted by the first batch's
/// mean so that the covariance does not lose precision to large means.
#[derive(Debug, Clone)]
pub struct StatsAccumulator {
    dim: usize,
    n: usize,
    shift: Option<DVector<f64>>,
    sum: DVector<f64>,
    outer: DMatrix<f64>,
    /// The shifted rows, row-major, while there are at most `dim` of them.
    rows: Option<Vec<f64>>,
}

impl StatsAccumulator {
    /// An empty accumulator for `dim`-dimensional features.
    pub fn new(dim: usize) -> Self {
        StatsAccumulator {
            dim,
            n: 0,
            shift: None,
            sum: DVector::zeros(dim),
            outer: DMatrix::zeros(dim, dim),
            rows: Some(Vec::new()),
        }
    }

    /// Number of feature vectors added so far.
    pub fn len(&self) -> usize {
        self.n
    }

    /// True before the first feature vector.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Adds row-major `[b, dim]` features.
    pub fn add(&mut self, features: &[f32]) -> Result<()> {
        if self.dim == 0 || !features.len().is_multiple_of(self.dim) {
            return Err(Error::invalid(
                "features",
                features.len(),
                format!("expected a multiple of the feature dimension {}", self.dim),
            ));
        }
        let b = features.len() / self.dim;
        if b == 0 {
            return Ok(());
        }
        let x = DMatrix::from_row_iterator(b, self.dim, features.iter().map(|&v| v as f64)); // [b, dim]
        let shift = self
            .shift
            .get_or_insert_with(|| x.row_mean().transpose())
            .clone(); // [dim]
        let mut y = x; // [b, dim]
        for mut row in y.row_iter_mut() {
            row -= shift.transpose();
        }
        for row in y.row_iter() {
            self.sum += row.transpose();
        }
        self.outer.gemm_tr(1.0, &y, &y, 1.0); // [dim, dim] += yᵀ y
        self.n += b;
        if self.n > self.dim {
            self.rows = None;
        } else if let Some(rows) = &mut self.rows {
            for row in y.row_iter() {
                rows.extend(row.iter());
            }
        }
        Ok(())
    }

    /// The mean and unbiased covariance of everything added.
    pub fn finish(self) -> Result<FeatureStats> {
        if self.n < 2 {
            return Err(Error::invalid(
                "images",
                self.n,
                "FID statistics need at least 2 images per set (-n, --limit)",
            ));
        }
        let n = self.n as f64;
        let mean_y = &self.sum / n; // [dim]
        let mut sigma = (&self.outer - &mean_y * mean_y.transpose() * n) / (n - 1.0); // [dim, dim]
        sigma = (&sigma + sigma.transpose()) * 0.5;
        let factor = self.rows.map(|rows| {
            let mut f = DMatrix::from_row_slice(self.n, self.dim, &rows); // [n, dim]
            for mut row in f.row_iter_mut() {
                row -= mean_y.transpose();
            }
            f / (n - 1.0).sqrt()
        });
        let mu = mean_y + self.shift.unwrap_or_else(|| DVector::zeros(self.dim));
        Ok(FeatureStats {
            mu,
            sigma,
            n: self.n,
            factor,
        })
    }
}

impl FeatureStats {
    /// Statistics of row-major `[n, dim]` features.
    pub fn from_features(features: &[f32], dim: usize) -> Result<Self> {
        let mut acc = StatsAccumulator::new(dim);
        acc.add(features)?;
        acc.finish()
    }

    /// Feature dimension.
    pub fn dim(&self) -> usize {
        self.mu.len()
    }

    /// Writes `mu` and `sigma` as a `.npz` archive (the layout of pytorch-fid's `--save-stats`),
    /// plus `n` as a one-element array and, when kept, the low-rank `factor` `[n, dim]` (which
    /// pytorch-fid ignores). Without it a reloaded set of fewer than `dim` images would take the
    /// distance through the eigenvalues of a rank-deficient product instead: 9e-7 relative off the
    /// fresh value on `lorae fid dataset:mnist:test dataset:mnist:train --limit 100`.
    pub fn save(&self, path: &Path) -> Result<()> {
        let d = self.dim();
        let sigma: Vec<f64> = self.sigma.transpose().iter().copied().collect(); // row-major
        let factor: Option<Vec<f64>> = self
            .factor
            .as_ref()
            .map(|f| f.transpose().iter().copied().collect()); // row-major [n, d]
        let rows = self.factor.as_ref().map_or(0, |f| f.nrows());
        let mut arrays = vec![
            ("mu", self.mu.as_slice(), vec![d]),
            ("sigma", &sigma[..], vec![d, d]),
        ];
        let n = [self.n as f64];
        arrays.push(("n", &n[..], vec![1]));
        if let Some(f) = &factor {
            arrays.push(("factor", &f[..], vec![rows, d]));
        }
        let arrays: Vec<(&str, &[f64], &[usize])> = arrays
            .iter()
            .map(|(name, values, shape)| (*name, *values, &shape[..]))
            .collect();
        crate::io::npz::write(path, &arrays)
    }

    /// Reads statistics written by [`FeatureStats::save`] or by pytorch-fid (`mu`, `sigma`).
    pub fn load(path: &Path) -> Result<Self> {
        let arrays = crate::io::npz::read(path)?;
        let get = |name: &str| {
            arrays
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, a)| a)
                .ok_or_else(|| {
                    Error::bad_file(
                        path,
                        format!("no `{name}` array: FID statistics need `mu` and `sigma`"),
                    )
                })
        };
        let (mu, sigma) = (get("mu")?, get("sigma")?);
        let d = mu.values.len();
        if mu.shape != [d] || sigma.shape != [d, d] {
            return Err(Error::bad_file(
                path,
                format!(
                    "`mu` has shape {:?} and `sigma` {:?}; expected [d] and [d, d]",
                    mu.shape, sigma.shape
                ),
            ));
        }
        if d == 0 {
            return Err(Error::bad_file(
                path,
                "`mu` is empty: FID statistics need at least one feature dimension",
            ));
        }
        if let Some(v) = mu
            .values
            .iter()
            .chain(&sigma.values)
            .find(|v| !v.is_finite())
        {
            return Err(Error::bad_file(
                path,
                format!(
                    "holds the non-finite value {v}: the statistics are corrupt; recompute them"
                ),
            ));
        }
        let scale = sigma.values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        for i in 0..d {
            let diagonal = sigma.values[i * d + i];
            if diagonal < 0.0 {
                return Err(Error::bad_file(path, format!("`sigma` has the negative variance {diagonal} at [{i}, {i}]: not a covariance; recompute the statistics")));
            }
            for j in 0..i {
                let (a, b) = (sigma.values[i * d + j], sigma.values[j * d + i]);
                if (a - b).abs() > PSD_TOLERANCE * scale {
                    return Err(Error::bad_file(path, format!("`sigma` is not symmetric ([{i}, {j}] = {a}, [{j}, {i}] = {b}): not a covariance; recompute the statistics")));
                }
            }
        }
        let n = get("n")
            .ok()
            .and_then(|a| a.values.first())
            .map_or(0, |&v| v as usize);
        let factor = match arrays.iter().find(|(name, _)| name == "factor") {
            None => None,
            Some((_, f)) => {
                if f.shape != [n, d] || f.values.iter().any(|v| !v.is_finite()) {
                    return Err(Error::bad_file(
                        path,
                        format!(
                            "`factor` has shape {:?} (or non-finite values); expected [{n}, {d}] \
                             from `n` and `mu`: the statistics are corrupt; recompute them",
                            f.shape
                        ),
                    ));
                }
                Some(DMatrix::from_row_slice(n, d, &f.values))
            }
        };
        Ok(FeatureStats {
            mu: DVector::from_vec(mu.values.clone()),
            sigma: DMatrix::from_row_slice(d, d, &sigma.values),
            factor,
            n,
        })
    }
}

/// The Fréchet distance between two Gaussians given by their statistics.
pub fn frechet_distance(a: &FeatureStats, b: &FeatureStats) -> Result<f64> {
    if a.dim() != b.dim()
        || a.sigma.shape() != (a.dim(), a.dim())
        || b.sigma.shape() != (b.dim(), b.dim())
    {
        return Err(Error::invalid(
            "statistics",
            format!("dimensions {} and {}", a.dim(), b.dim()),
            "both sets need statistics of the same feature dimension (2048 for pool3)",
        ));
    }
    let diff = &a.mu - &b.mu;
    let tr_covmean = match (&a.factor, &b.factor) {
        (Some(f), _) => trace_sqrt_factored(f, &b.sigma)?,
        (None, Some(f)) => trace_sqrt_factored(f, &a.sigma)?,
        (None, None) => trace_sqrt_product(&a.sigma, &b.sigma)?,
    };
    let fid = diff.dot(&diff) + a.sigma.trace() + b.sigma.trace() - 2.0 * tr_covmean;
    if !fid.is_finite() {
        return Err(Error::Numerical(format!(
            "the Fréchet distance is {fid}: the statistics hold non-finite values"
        )));
    }
    Ok(fid)
}

/// `tr (Σ₁ Σ₂)^½` for symmetric positive semi-definite `Σ₁`, `Σ₂`, through the eigenvalues of
/// `Σ₁^½ Σ₂ Σ₁^½`.
pub fn trace_sqrt_product(s1: &DMatrix<f64>, s2: &DMatrix<f64>) -> Result<f64> {
    let root = psd_sqrt(s1)?; // [d, d]
    sum_sqrt_eigenvalues(&root * s2 * &root, "Σ₁^½ Σ₂ Σ₁^½") // [d, d]
}

/// The sum of the square roots of the eigenvalues of the symmetric part of `m` (rounding-level
/// negative ones count as zero).
fn sum_sqrt_eigenvalues(m: DMatrix<f64>, what: &str) -> Result<f64> {
    let m = (&m + m.transpose()) * 0.5;
    let values = m.symmetric_eigenvalues();
    if values.iter().any(|v| !v.is_finite()) {
        return Err(Error::Numerical(format!(
            "eigenvalues of {what} are not finite"
        )));
    }
    check_psd(values.as_slice(), what)?;
    Ok(values.iter().map(|&v| v.max(0.0).sqrt()).sum())
}

/// Negative eigenvalues beyond this fraction of the largest magnitude are not rounding: the
/// covariance is not positive semi-definite.
const PSD_TOLERANCE: f64 = 1e-6;

/// Fails when `values` (eigenvalues of a covariance, or of one congruent to it) have a negative
/// one beyond rounding: such statistics would give a meaningless (e.g. zero) FID.
fn check_psd(values: &[f64], what: &str) -> Result<()> {
    let scale = values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let lowest = values.iter().copied().fold(f64::INFINITY, f64::min);
    if lowest < -PSD_TOLERANCE * scale {
        return Err(Error::invalid(
            "statistics",
            format!("eigenvalue {lowest:.3e} of {what} (largest magnitude {scale:.3e})"),
            "a covariance `sigma` is not positive semi-definite: the statistics are corrupt; recompute them",
        ));
    }
    Ok(())
}

/// `tr (Fᵀ F Σ)^½` through the eigenvalues of the small `F Σ Fᵀ` (`F`: `[n, dim]`).
pub fn trace_sqrt_factored(f: &DMatrix<f64>, sigma: &DMatrix<f64>) -> Result<f64> {
    sum_sqrt_eigenvalues(f * sigma * f.transpose(), "F Σ Fᵀ") // [n, n]
}

/// The symmetric square root of a symmetric positive semi-definite matrix (negative eigenvalues
/// from rounding are clamped to zero).
pub fn psd_sqrt(s: &DMatrix<f64>) -> Result<DMatrix<f64>> {
    let sym = (s + s.transpose()) * 0.5;
    let eig = SymmetricEigen::try_new(sym, 1e-15, 0).ok_or_else(|| {
        Error::Numerical("the eigendecomposition of a covariance did not converge".into())
    })?;
    check_psd(eig.eigenvalues.as_slice(), "a covariance Σ₁")?;
    let mut scaled = eig.eigenvectors.clone(); // [d, d]: column i times sqrt(λᵢ)
    for (mut column, &v) in scaled.column_iter_mut().zip(eig.eigenvalues.iter()) {
        column *= v.max(0.0).sqrt();
    }
    Ok(scaled * eig.eigenvectors.transpose())
}
