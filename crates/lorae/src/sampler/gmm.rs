//! A Gaussian mixture with full covariances, fitted to codes by EM.
//!
//! Initialisation by k-means++ seeding followed by a few Lloyd iterations, several seeded restarts
//! (the best final log-likelihood wins), stopping when the mean log-likelihood per code improves by
//! less than `tol`. Every covariance gets `reg_covar` times the codes' mean variance added to its
//! diagonal: the floor that keeps the rank-deficient covariances of low-rank codes (this project's
//! normal case) positive definite, where scikit-learn's absolute 1e-6 floor fails on float32 codes.

use nalgebra::{DMatrix, DVector};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{cholesky_with_jitter, draw, Sampler};
use crate::error::{Error, Result};
use crate::kernels::gemm::{matmul_f64_into, ColMajor};
use crate::latent::{to_matrix, Codes};

/// EM settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GmmConfig {
    /// Components. Default 10 (RAE/pythae; the IRMAE reference code uses 4).
    pub k: usize,
    /// Seeded restarts; the best log-likelihood is kept. Default 3.
    pub restarts: usize,
    /// EM iterations per restart at most. Default 200.
    pub max_iter: usize,
    /// Stop when the mean log-likelihood per code improves by less than this. Default 1e-4.
    pub tol: f64,
    /// Covariance floor, relative to the codes' mean variance. Default 1e-6.
    pub reg_covar: f64,
    /// Seed of the initialisation. Default 0.
    pub seed: u64,
}

impl Default for GmmConfig {
    fn default() -> Self {
        GmmConfig {
            k: 10,
            restarts: 3,
            max_iter: 200,
            tol: 1e-4,
            reg_covar: 1e-6,
            seed: 0,
        }
    }
}

/// A fitted mixture.
#[derive(Debug, Clone)]
pub struct Gmm {
    /// Mixture weights, summing to 1.
    pub weights: Vec<f64>,
    /// Component means.
    pub means: Vec<DVector<f64>>,
    /// Component covariances (floor included).
    pub covs: Vec<DMatrix<f64>>,
    /// Lower Cholesky factors of `covs`.
    pub chols: Vec<DMatrix<f64>>,
    /// Mean log-likelihood per code after each EM iteration of the kept restart.
    pub log_likelihood: Vec<f64>,
    /// Whether the kept restart met `tol` before `max_iter`.
    pub converged: bool,
}

impl Gmm {
    /// Fits a k-component mixture to `codes` (at least k of them).
    pub fn fit(codes: &Codes, config: &GmmConfig) -> Result<Self> {
        let _pages = crate::kernels::huge_pages::HugePagesOff::new();
        let x = to_matrix(codes); // [n, d]
        let n = x.nrows();
        if config.k == 0 || n < config.k {
            return Err(Error::invalid(
                "k",
                config.k,
                format!("needs 1 ≤ k ≤ number of codes ({n})"),
            ));
        }
        let floor = covariance_floor(&x, config.reg_covar);
        // EM runs on globally centred codes (so the M-step's one-GEMM second moments lose no
        // precision), with their transpose kept for that GEMM; the means are shifted back at the end.
        let centre = x.row_mean(); // [1, d]
        let mut x = x;
        for mut row in x.row_iter_mut() {
            row -= &centre;
        }
        let x_t = x.transpose(); // [d, n]
        let mut best: Option<Gmm> = None;
        for restart in 0..config.restarts.max(1) {
            let mut rng = ChaCha8Rng::seed_from_u64(config.seed.wrapping_add(restart as u64));
            let resp = kmeans_responsibilities(&x, config.k, &mut rng);
            let mut gmm = m_step(&x, &x_t, &resp, floor)?;
            let mut prev = f64::NEG_INFINITY;
            for _ in 0..config.max_iter {
                let (ll, resp) = gmm.e_step(&x)?;
                gmm.log_likelihood.push(ll);
                if (ll - prev).abs() < config.tol {
                    gmm.converged = true;
                    break;
                }
                prev = ll;
                let history = std::mem::take(&mut gmm.log_likelihood);
                gmm = m_step(&x, &x_t, &resp, floor)?;
                gmm.log_likelihood = history;
            }
            let score = gmm
                .log_likelihood
                .last()
                .copied()
                .unwrap_or(f64::NEG_INFINITY);
            if best
                .as_ref()
                .is_none_or(|b| score > *b.log_likelihood.last().unwrap_or(&f64::NEG_INFINITY))
            {
                best = Some(gmm);
            }
        }
        let mut best = best.ok_or_else(|| Error::Numerical("GMM fit produced no model".into()))?;
        for mean in &mut best.means {
            *mean += centre.transpose();
        }
        Ok(best)
    }

    /// Mean log-likelihood per row of `x` and the responsibilities `[n, k]`.
    pub fn e_step(&self, x: &DMatrix<f64>) -> Result<(f64, DMatrix<f64>)> {
        let n = x.nrows();
        let k = self.weights.len();
        // Components are independent: one thread each (rayon), a GEMM inside each.
        let columns: Vec<DVector<f64>> = (0..k)
            .into_par_iter()
            .map(|j| self.component_log_prob(x, j))
            .collect::<Result<_>>()?;
        let mut log_prob = DMatrix::from_columns(&columns); // [n, k]
        let mut total = 0.0;
        for i in 0..n {
            let mut row = log_prob.row_mut(i);
            let max = row.max();
            let lse = max + row.iter().map(|v| (v - max).exp()).sum::<f64>().ln();
            total += lse;
            row.apply(|v| *v = (*v - lse).exp());
        }
        Ok((total / n as f64, log_prob))
    }

    /// `log(w_j) + log N(x_i | μ_j, Σ_j)` for every row of `x`, `[n]`.
    fn component_log_prob(&self, x: &DMatrix<f64>, j: usize) -> Result<DVector<f64>> {
        let (n, d) = x.shape();
        let l = &self.chols[j];
        // Whitening: y = (x − μ) L⁻ᵀ, so that ‖y‖² is the Mahalanobis distance.
        let l_inv_t = l
            .clone()
            .solve_lower_triangular(&DMatrix::identity(d, d))
            .ok_or_else(|| {
                Error::Numerical(format!(
                    "GMM component {j}: its Cholesky factor has a zero on the diagonal"
                ))
            })?
            .transpose(); // [d, d]
        let shift = self.means[j].transpose() * &l_inv_t; // [1, d]
                                                          // In blocks of rows, so that each block's whitened codes are still in cache when their
                                                          // squared distances are summed.
        let mut mahalanobis = DVector::<f64>::zeros(n);
        let whiten = ColMajor::new(l_inv_t.as_slice(), d, d);
        let mut y = vec![0.0; ROW_BLOCK.min(n) * d];
        for start in (0..n).step_by(ROW_BLOCK) {
            let rows = ROW_BLOCK.min(n - start);
            let y = &mut y[..rows * d]; // [rows, d]
            let block = ColMajor::new(x.as_slice(), n, d).rows(start, rows);
            matmul_f64_into(y, block, whiten, false);
            let m = &mut mahalanobis.as_mut_slice()[start..start + rows];
            for (column, b) in y.chunks(rows).zip(shift.iter()) {
                for (m, v) in m.iter_mut().zip(column) {
                    *m += (v - b) * (v - b);
                }
            }
        }
        let log_det: f64 = (0..d).map(|i| l[(i, i)].ln()).sum::<f64>() * 2.0;
        let log_2pi = (2.0 * std::f64::consts::PI).ln();
        let constant =
            self.weights[j].max(f64::MIN_POSITIVE).ln() - 0.5 * (d as f64 * log_2pi + log_det);
        mahalanobis.apply(|m| *m = constant - 0.5 * *m);
        Ok(mahalanobis)
    }
}

/// Rows per block of the E- and M-step's products (1 024 × 128 doubles: 1 MiB).
const ROW_BLOCK: usize = 1024;

/// The absolute diagonal floor: `reg_covar` times the mean per-dimension variance of `x` (`[n, d]`).
pub fn covariance_floor(x: &DMatrix<f64>, reg_covar: f64) -> f64 {
    reg_covar * x.column_variance().mean().max(f64::MIN_POSITIVE)
}

/// Weights, means and floored covariances from responsibilities `[n, k]`.
fn m_step(x: &DMatrix<f64>, x_t: &DMatrix<f64>, resp: &DMatrix<f64>, floor: f64) -> Result<Gmm> {
    let n = x.nrows();
    // Per component: (n_k, mean, covariance, Cholesky factor).
    type Part = (f64, DVector<f64>, DMatrix<f64>, DMatrix<f64>);
    let parts: Vec<Part> = (0..resp.ncols())
        .into_par_iter()
        .map(|j| {
            let (nk, mean, cov) = weighted_moments(x, x_t, resp.column(j).as_slice(), floor);
            let (chol, _) = cholesky_with_jitter(&cov)?;
            Ok((nk, mean, cov, chol))
        })
        .collect::<Result<_>>()?;
    let sum: f64 = parts.iter().map(|p| p.0).sum();
    let mut gmm = Gmm {
        weights: vec![],
        means: vec![],
        covs: vec![],
        chols: vec![],
        log_likelihood: vec![],
        converged: false,
    };
    for (nk, mean, cov, chol) in parts {
        gmm.weights.push(nk / sum);
        gmm.means.push(mean);
        gmm.covs.push(cov);
        gmm.chols.push(chol);
    }
    debug_assert!((sum - n as f64).abs() < 1e-6 * n as f64 + 1.0);
    Ok(gmm)
}

/// Responsibility mass `n_k`, weighted mean and weighted covariance (plus `floor` on the diagonal)
/// of the rows of `x` (`[n, d]`, centred; `x_t` its transpose) under weights `r`:
/// `Σ rᵢ xᵢ xᵢᵀ / n_k − μ μᵀ`, the second moment being one GEMM of contiguous operands.
fn weighted_moments(
    x: &DMatrix<f64>,
    x_t: &DMatrix<f64>,
    r: &[f64],
    floor: f64,
) -> (f64, DVector<f64>, DMatrix<f64>) {
    let d = x.ncols();
    let nk = r.iter().sum::<f64>() + 10.0 * f64::EPSILON;
    let weights = DVector::from_column_slice(r); // [n]
    let mean = x_t * &weights / nk; // [d]
                                    // Σᵢ rᵢ xᵢ xᵢᵀ, a block of rows at a time: the rows scaled by r in cache, then one GEMM.
    let n = x.nrows();
    let mut second = DMatrix::<f64>::zeros(d, d);
    let mut weighted = vec![0.0; ROW_BLOCK.min(n) * d];
    for start in (0..n).step_by(ROW_BLOCK) {
        let rows = ROW_BLOCK.min(n - start);
        let weighted = &mut weighted[..rows * d]; // [rows, d]
        let r = &r[start..start + rows];
        for (c, column) in weighted.chunks_mut(rows).enumerate() {
            let src = &x.as_slice()[c * n + start..c * n + start + rows];
            for ((w, &v), &ri) in column.iter_mut().zip(src).zip(r) {
                *w = v * ri;
            }
        }
        let block_t = ColMajor {
            data: &x_t.as_slice()[start * d..],
            rows: d,
            cols: rows,
            ld: d,
        }; // [d, rows]
        matmul_f64_into(
            second.as_mut_slice(),
            block_t,
            ColMajor::new(weighted, rows, d),
            true,
        );
    }
    let second = second / nk; // [d, d]
    let mut cov = (&second + second.transpose()) * 0.5 - &mean * mean.transpose();
    for i in 0..d {
        cov[(i, i)] += floor;
    }
    (nk, mean, cov)
}

/// Hard responsibilities from k-means++ seeding and 10 Lloyd iterations.
fn kmeans_responsibilities(x: &DMatrix<f64>, k: usize, rng: &mut ChaCha8Rng) -> DMatrix<f64> {
    let (n, d) = x.shape();
    let row_norms: Vec<f64> = (0..n).map(|i| x.row(i).norm_squared()).collect();
    // Squared distances from every row to each centre, [n, centres], by one GEMM.
    let distances = |centres: &DMatrix<f64>| -> DMatrix<f64> {
        let mut g = x * centres.transpose() * -2.0; // [n, c]
        for (j, centre) in centres.row_iter().enumerate() {
            let cn = centre.norm_squared();
            for (i, v) in g.column_mut(j).iter_mut().enumerate() {
                *v = (*v + row_norms[i] + cn).max(0.0);
            }
        }
        g
    };
    let first = rng.random_range(0..n);
    let mut centres = DMatrix::from_rows(&[x.row(first).into_owned()]); // [1, d]
    let mut nearest: Vec<f64> = distances(&centres).column(0).iter().copied().collect();
    while centres.nrows() < k {
        let total: f64 = nearest.iter().sum();
        let pick = if total > 0.0 {
            let mut u = rng.random::<f64>() * total;
            nearest
                .iter()
                .position(|&w| {
                    u -= w;
                    u <= 0.0
                })
                .unwrap_or(n - 1)
        } else {
            rng.random_range(0..n)
        };
        let c = DMatrix::from_rows(&[x.row(pick).into_owned()]);
        for (best, &dist) in nearest.iter_mut().zip(distances(&c).iter()) {
            *best = best.min(dist);
        }
        let rows = centres.nrows();
        centres = centres.insert_row(rows, 0.0);
        centres.row_mut(rows).copy_from(&c.row(0));
    }
    let mut labels = vec![0usize; n];
    for _ in 0..10 {
        let dist = distances(&centres);
        for (i, label) in labels.iter_mut().enumerate() {
            *label = (0..k)
                .min_by(|&a, &b| dist[(i, a)].total_cmp(&dist[(i, b)]))
                .unwrap_or(0);
        }
        let mut sums = DMatrix::<f64>::zeros(k, d);
        let mut counts = vec![0usize; k];
        labels.iter().for_each(|&j| counts[j] += 1);
        for c in 0..d {
            for (i, &v) in x.column(c).iter().enumerate() {
                sums[(labels[i], c)] += v;
            }
        }
        for (j, &count) in counts.iter().enumerate() {
            if count > 0 {
                let mean = sums.row(j) / count as f64;
                centres.row_mut(j).copy_from(&mean);
            }
        }
    }
    DMatrix::from_fn(n, k, |i, j| if labels[i] == j { 1.0 } else { 0.0 })
}

impl Sampler for Gmm {
    fn sample(&self, n: usize, rng: &mut dyn rand::RngCore) -> Codes {
        let dim = self.means[0].len();
        let mut values = Vec::with_capacity(n * dim);
        for _ in 0..n {
            let mut u = rng.random::<f64>();
            let j = self
                .weights
                .iter()
                .position(|&w| {
                    u -= w;
                    u <= 0.0
                })
                .unwrap_or(self.weights.len() - 1);
            values.extend(
                draw(&self.means[j], &self.chols[j], rng)
                    .iter()
                    .map(|&v| v as f32),
            );
        }
        Codes { values, dim }
    }
}
