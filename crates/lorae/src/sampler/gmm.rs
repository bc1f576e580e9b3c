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
use serde::{Deserialize, Serialize};

use super::{cholesky_with_jitter, draw, to_matrix, Sampler};
use crate::error::{Error, Result};
use crate::latent::Codes;

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
        let x = to_matrix(codes); // [n, d]
        let n = x.nrows();
        if config.k == 0 || n < config.k {
            return Err(Error::invalid(
                "k",
                config.k,
                format!("needs 1 ≤ k ≤ number of codes ({n})"),
            ));
        }
        let var = x.column_variance().mean().max(f64::MIN_POSITIVE);
        let floor = config.reg_covar * var;
        let mut best: Option<Gmm> = None;
        for restart in 0..config.restarts.max(1) {
            let mut rng = ChaCha8Rng::seed_from_u64(config.seed.wrapping_add(restart as u64));
            let resp = kmeans_responsibilities(&x, config.k, &mut rng);
            let mut gmm = m_step(&x, &resp, floor)?;
            let mut prev = f64::NEG_INFINITY;
            for _ in 0..config.max_iter {
                let (ll, resp) = gmm.e_step(&x);
                gmm.log_likelihood.push(ll);
                if (ll - prev).abs() < config.tol {
                    gmm.converged = true;
                    break;
                }
                prev = ll;
                let history = std::mem::take(&mut gmm.log_likelihood);
                gmm = m_step(&x, &resp, floor)?;
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
        best.ok_or_else(|| Error::Numerical("GMM fit produced no model".into()))
    }

    /// Mean log-likelihood per row of `x` and the responsibilities `[n, k]`.
    pub fn e_step(&self, x: &DMatrix<f64>) -> (f64, DMatrix<f64>) {
        let (n, d) = x.shape();
        let k = self.weights.len();
        let mut log_prob = DMatrix::<f64>::zeros(n, k);
        let log_2pi = (2.0 * std::f64::consts::PI).ln();
        for j in 0..k {
            let l = &self.chols[j];
            let l_inv = l
                .clone()
                .solve_lower_triangular(&DMatrix::identity(d, d))
                .unwrap_or_else(|| DMatrix::identity(d, d));
            let mut diff = x.clone(); // [n, d]
            for mut row in diff.row_iter_mut() {
                row -= self.means[j].transpose();
            }
            let y = diff * l_inv.transpose(); // [n, d]: whitened
            let log_det: f64 = (0..d).map(|i| l[(i, i)].ln()).sum::<f64>() * 2.0;
            let constant =
                self.weights[j].max(f64::MIN_POSITIVE).ln() - 0.5 * (d as f64 * log_2pi + log_det);
            for (i, row) in y.row_iter().enumerate() {
                log_prob[(i, j)] = constant - 0.5 * row.norm_squared();
            }
        }
        let mut total = 0.0;
        for mut row in log_prob.row_iter_mut() {
            let max = row.max();
            let lse = max + row.iter().map(|v| (v - max).exp()).sum::<f64>().ln();
            total += lse;
            row.apply(|v| *v = (*v - lse).exp());
        }
        (total / n as f64, log_prob)
    }
}

/// Weights, means and floored covariances from responsibilities `[n, k]`.
fn m_step(x: &DMatrix<f64>, resp: &DMatrix<f64>, floor: f64) -> Result<Gmm> {
    let (n, d) = x.shape();
    let k = resp.ncols();
    let mut gmm = Gmm {
        weights: vec![],
        means: vec![],
        covs: vec![],
        chols: vec![],
        log_likelihood: vec![],
        converged: false,
    };
    for j in 0..k {
        let r = resp.column(j);
        let nk = r.sum() + 10.0 * f64::EPSILON;
        let mean = x.tr_mul(&r) / nk; // [d]
        let mut weighted = x.clone(); // [n, d]: √r_i (x_i − μ)
        for (i, mut row) in weighted.row_iter_mut().enumerate() {
            row -= mean.transpose();
            row *= r[i].sqrt();
        }
        let mut cov = weighted.tr_mul(&weighted) / nk; // [d, d]
        for i in 0..d {
            cov[(i, i)] += floor;
        }
        let (chol, _) = cholesky_with_jitter(&cov)?;
        gmm.weights.push(nk / n as f64);
        gmm.means.push(mean);
        gmm.covs.push(cov);
        gmm.chols.push(chol);
    }
    let sum: f64 = gmm.weights.iter().sum();
    gmm.weights.iter_mut().for_each(|w| *w /= sum);
    Ok(gmm)
}

/// Hard responsibilities from k-means++ seeding and 10 Lloyd iterations.
fn kmeans_responsibilities(x: &DMatrix<f64>, k: usize, rng: &mut ChaCha8Rng) -> DMatrix<f64> {
    let n = x.nrows();
    let dist2 = |i: usize, c: &DVector<f64>| (x.row(i).transpose() - c).norm_squared();
    let mut centres = vec![x.row(rng.random_range(0..n)).transpose()];
    let mut nearest: Vec<f64> = (0..n).map(|i| dist2(i, &centres[0])).collect();
    while centres.len() < k {
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
        let c = x.row(pick).transpose();
        for (i, best) in nearest.iter_mut().enumerate() {
            *best = best.min(dist2(i, &c));
        }
        centres.push(c);
    }
    let mut labels = vec![0usize; n];
    for _ in 0..10 {
        for (i, label) in labels.iter_mut().enumerate() {
            *label = (0..k)
                .min_by(|&a, &b| dist2(i, &centres[a]).total_cmp(&dist2(i, &centres[b])))
                .unwrap_or(0);
        }
        for (j, centre) in centres.iter_mut().enumerate() {
            let members: Vec<usize> = (0..n).filter(|&i| labels[i] == j).collect();
            if !members.is_empty() {
                *centre = members
                    .iter()
                    .map(|&i| x.row(i).transpose())
                    .sum::<DVector<f64>>()
                    / members.len() as f64;
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
