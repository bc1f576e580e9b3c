//! `lorae bench gmm`: lorae's GMM fit against scikit-learn's GaussianMixture on the same codes,
//! with the same k, restarts, tolerance, thread count and covariance floor.
//!
//! The default codes imitate a low-rank latent space: 60 000 codes of dimension 128 and rank 12,
//! a 10-cluster mixture in 12 dimensions mapped linearly into 128.

use std::path::PathBuf;
use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use serde::Serialize;

use super::peer::{self, GMM_BENCH};
use crate::error::{Error, Result};
use crate::io::npy;
use crate::latent::{to_matrix, Codes};
use crate::sampler::gmm::{covariance_floor, Gmm, GmmConfig};

/// Where the codes come from.
#[derive(Debug, Clone)]
pub enum CodesFrom {
    /// A float32/float64 `.npy` file `[n, dim]`.
    File(PathBuf),
    /// [`low_rank_codes`]`(n, dim, rank, seed)`.
    Synthetic {
        /// Codes.
        n: usize,
        /// Their dimension.
        dim: usize,
        /// Their rank.
        rank: usize,
    },
}

/// What to fit.
#[derive(Debug, Clone)]
pub struct GmmBenchConfig {
    /// The codes.
    pub codes: CodesFrom,
    /// The fit (k, restarts, iterations, tolerance, seed; `reg_covar` relative, lorae's).
    pub gmm: GmmConfig,
    /// The peer's Python (`None`: no peer).
    pub peer: Option<PathBuf>,
}

/// The result.
#[derive(Debug, Clone, Serialize)]
pub struct GmmBench {
    /// Codes fitted.
    pub n: usize,
    /// Their dimension.
    pub dim: usize,
    /// Components.
    pub k: usize,
    /// Threads both sides used.
    pub threads: usize,
    /// lorae's fit, seconds.
    pub lorae_seconds: f64,
    /// lorae's EM iterations.
    pub lorae_iterations: usize,
    /// Whether lorae's fit converged.
    pub lorae_converged: bool,
    /// lorae's final mean log-likelihood a code.
    pub lorae_log_likelihood: f64,
    /// The absolute covariance floor both sides used.
    pub reg_covar: f64,
    /// scikit-learn's float64 fit, seconds.
    pub sklearn_seconds: Option<f64>,
    /// scikit-learn's EM iterations.
    pub sklearn_iterations: Option<f64>,
    /// scikit-learn's final mean log-likelihood a code.
    pub sklearn_log_likelihood: Option<f64>,
    /// scikit-learn's float32 fit, seconds, or why it failed.
    pub sklearn_float32: Option<String>,
    /// scikit-learn's version.
    pub sklearn_version: Option<String>,
    /// lorae / scikit-learn.
    pub ratio: Option<f64>,
}

/// Fits lorae's GMM (then the peer's) as `config` says.
pub fn bench_gmm(config: &GmmBenchConfig) -> Result<GmmBench> {
    let dir = tempfile::tempdir().map_err(|e| {
        Error::io(
            "cannot create a temporary directory",
            std::env::temp_dir(),
            e,
        )
    })?;
    let (codes, file) = match &config.codes {
        CodesFrom::File(path) => {
            let array = npy::read(path)?;
            if array.shape.len() != 2 {
                return Err(Error::bad_file(
                    path,
                    format!("expected a 2-d array [n, dim], got shape {:?}", array.shape),
                ));
            }
            let codes = Codes {
                values: array.values.iter().map(|&v| v as f32).collect(),
                dim: array.shape[1],
            };
            (codes, path.clone())
        }
        CodesFrom::Synthetic { n, dim, rank } => {
            let codes = low_rank_codes(*n, *dim, *rank, config.gmm.seed)?;
            let file = dir.path().join("codes.npy");
            npy::write_f32(&file, &codes.values, &[codes.len(), codes.dim])?;
            (codes, file)
        }
    };
    let g = &config.gmm;
    let threads = rayon::current_num_threads();
    crate::note!(
        "fitting a {}-component full-covariance GMM to {} codes of dimension {} ({} restart(s), tol {:.0e}, {threads} thread(s))",
        g.k, codes.len(), codes.dim, g.restarts, g.tol
    );
    let start = Instant::now();
    let gmm = Gmm::fit(&codes, g)?;
    let seconds = start.elapsed().as_secs_f64();
    // scikit-learn's reg_covar is absolute: give it lorae's floor so both fit the same model.
    let floor = covariance_floor(&to_matrix(&codes), g.reg_covar);
    let mut result = GmmBench {
        n: codes.len(),
        dim: codes.dim,
        k: g.k,
        threads,
        lorae_seconds: seconds,
        lorae_iterations: gmm.log_likelihood.len(),
        lorae_converged: gmm.converged,
        lorae_log_likelihood: gmm.log_likelihood.last().copied().unwrap_or(f64::NAN),
        reg_covar: floor,
        sklearn_seconds: None,
        sklearn_iterations: None,
        sklearn_log_likelihood: None,
        sklearn_float32: None,
        sklearn_version: None,
        ratio: None,
    };
    let Some(python) = &config.peer else {
        return Ok(result);
    };
    let args = peer::flags([
        ("--codes", file.to_string_lossy().into_owned()),
        ("-k", g.k.to_string()),
        ("--seed", g.seed.to_string()),
        ("--restarts", g.restarts.to_string()),
        ("--max-iter", g.max_iter.to_string()),
        ("--tol", g.tol.to_string()),
        ("--threads", threads.to_string()),
        ("--reg-covar", format!("{floor:e}")),
    ]);
    let report = peer::run(python, GMM_BENCH, &args)?.report;
    let peer_seconds = peer::number(&report, "float64_seconds", GMM_BENCH)?;
    result.sklearn_seconds = Some(peer_seconds);
    result.sklearn_iterations = Some(peer::number(&report, "float64_n_iter", GMM_BENCH)?);
    result.sklearn_log_likelihood = Some(peer::number(&report, "mean_log_likelihood", GMM_BENCH)?);
    result.sklearn_float32 = Some(match report["float32_error"].as_str() {
        Some(e) => format!("failed: {e}"),
        None => format!(
            "{:.2} s",
            report["float32_seconds"].as_f64().unwrap_or(f64::NAN)
        ),
    });
    result.sklearn_version = report["sklearn_version"].as_str().map(String::from);
    result.ratio = Some(seconds / peer_seconds);
    Ok(result)
}

/// `n` float32 codes of dimension `dim` and rank `rank`: 10 clusters (means ~ N(0, 9 I), unit
/// spread) in `rank` dimensions, mapped by a random `rank × dim` matrix.
pub fn low_rank_codes(n: usize, dim: usize, rank: usize, seed: u64) -> Result<Codes> {
    if rank == 0 || rank > dim {
        return Err(Error::invalid(
            "rank",
            rank,
            format!("must be in 1..={dim}"),
        ));
    }
    crate::limits::check("n", n, crate::limits::product(&[n, dim, 4]))?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut normal = move || -> f64 { rng.sample(StandardNormal) };
    let map: Vec<f64> = (0..rank * dim)
        .map(|_| normal() / (rank as f64).sqrt())
        .collect();
    let centres: Vec<f64> = (0..10 * rank).map(|_| 3.0 * normal()).collect();
    let mut values = Vec::with_capacity(n * dim);
    for i in 0..n {
        let c = i % 10;
        let factors: Vec<f64> = (0..rank)
            .map(|r| centres[c * rank + r] + normal())
            .collect();
        for j in 0..dim {
            let v: f64 = (0..rank).map(|r| factors[r] * map[r * dim + j]).sum();
            values.push(v as f32);
        }
    }
    Ok(Codes { values, dim })
}
