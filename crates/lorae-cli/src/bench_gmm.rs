//! `lorae bench-gmm`: time lorae's GMM fit against scikit-learn's GaussianMixture on the same
//! codes (`tools/gmm_bench.py`), with the same k, restarts, tolerance and thread count.
//!
//! The default codes imitate a low-rank latent space: 60 000 codes of dimension 128 and rank 12,
//! a 10-cluster mixture in 12 dimensions mapped linearly into 128.

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, ensure, Context, Result};
use clap::Args;
use lorae::io::npy;
use lorae::latent::to_matrix;
use lorae::latent::Codes;
use lorae::sampler::gmm::{covariance_floor, Gmm, GmmConfig};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

#[derive(Args)]
pub struct BenchGmmArgs {
    /// Number of synthetic codes.
    #[arg(long, default_value_t = 60_000)]
    n: usize,
    /// Dimension of the codes.
    #[arg(long, default_value_t = 128)]
    dim: usize,
    /// Rank of the synthetic codes.
    #[arg(long, default_value_t = 12)]
    rank: usize,
    /// Codes from a float32/float64 `.npy` file `[n, dim]` instead of synthetic ones.
    #[arg(long)]
    codes: Option<PathBuf>,
    /// GMM components.
    #[arg(short, default_value_t = 10)]
    k: usize,
    /// Restarts (scikit-learn's n_init).
    #[arg(long, default_value_t = 1)]
    restarts: usize,
    /// EM iterations at most.
    #[arg(long, default_value_t = 200)]
    max_iter: usize,
    /// Convergence tolerance on the mean log-likelihood per code.
    #[arg(long, default_value_t = 1e-3)]
    tol: f64,
    /// Seed of the data and the fits.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Python with scikit-learn [default: ~/.cache/lorae/venv-ref/bin/python if present, else python3].
    #[arg(long)]
    peer: Option<PathBuf>,
    /// Skip the scikit-learn side.
    #[arg(long)]
    no_peer: bool,
}

/// The peer script, found beside the sources this binary was built from.
const PEER_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tools/gmm_bench.py");

pub fn run(args: BenchGmmArgs) -> Result<()> {
    let dir = tempfile::tempdir().context("cannot create a temporary directory")?;
    let codes = match &args.codes {
        Some(path) => {
            let array = npy::read(path)?;
            ensure!(
                array.shape.len() == 2,
                "{}: expected a 2-d array [n, dim], got shape {:?}",
                path.display(),
                array.shape
            );
            Codes {
                values: array.values.iter().map(|&v| v as f32).collect(),
                dim: array.shape[1],
            }
        }
        None => low_rank_codes(args.n, args.dim, args.rank, args.seed)?,
    };
    let file = match &args.codes {
        Some(path) => path.clone(),
        None => {
            let file = dir.path().join("codes.npy");
            npy::write_f32(&file, &codes.values, &[codes.len(), codes.dim])?;
            file
        }
    };
    let config = GmmConfig {
        k: args.k,
        restarts: args.restarts,
        max_iter: args.max_iter,
        tol: args.tol,
        reg_covar: 1e-6,
        seed: args.seed,
    };
    let threads = rayon::current_num_threads();
    lorae::note!(
        "fitting a {}-component full-covariance GMM to {} codes of dimension {} ({} restart(s), tol {:.0e}, {threads} thread(s))",
        args.k,
        codes.len(),
        codes.dim,
        args.restarts,
        args.tol
    );
    let start = Instant::now();
    let gmm = Gmm::fit(&codes, &config)?;
    let seconds = start.elapsed().as_secs_f64();
    let ll = gmm.log_likelihood.last().copied().unwrap_or(f64::NAN);
    let iterations = gmm.log_likelihood.len();
    lorae::note!(
        "lorae: {seconds:.2} s, {iterations} EM iterations ({:.2} s each), converged {}, mean log-likelihood {ll:.3}",
        seconds / iterations.max(1) as f64,
        gmm.converged
    );
    // scikit-learn's reg_covar is absolute: give it lorae's floor so both fit the same model.
    let floor = covariance_floor(&to_matrix(&codes), config.reg_covar);
    let head = format!("gmm n={} dim={} k={}", codes.len(), codes.dim, args.k);
    if args.no_peer {
        lorae::say!("{head}: lorae {seconds:.2} s");
        return Ok(());
    }
    let python = args
        .peer
        .clone()
        .unwrap_or_else(crate::bench::default_python);
    let output = Command::new(&python)
        .arg(PEER_SCRIPT)
        .args(["--codes", &file.to_string_lossy()])
        .args(["-k", &args.k.to_string(), "--seed", &args.seed.to_string()])
        .args(["--restarts", &args.restarts.to_string()])
        .args([
            "--max-iter",
            &args.max_iter.to_string(),
            "--tol",
            &args.tol.to_string(),
        ])
        .args(["--threads", &threads.to_string()])
        .args(["--reg-covar", &format!("{floor:e}")])
        .output()
        .with_context(|| {
            format!(
                "cannot run the peer `{}` (see tools/setup-ref-venv.sh, or pass --no-peer)",
                python.display()
            )
        })?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "the scikit-learn peer failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let report: serde_json::Value = stdout
        .lines()
        .last()
        .and_then(|l| serde_json::from_str(l).ok())
        .context("the peer printed no JSON report on its last line")?;
    let peer_seconds = report["float64_seconds"]
        .as_f64()
        .context("no float64_seconds in the peer report")?;
    match report["float32_error"].as_str() {
        Some(e) => lorae::note!("scikit-learn float32: failed: {e}"),
        None => lorae::note!(
            "scikit-learn float32: {:.2} s",
            report["float32_seconds"].as_f64().unwrap_or(f64::NAN)
        ),
    }
    let peer_iterations = report["float64_n_iter"].as_f64().unwrap_or(f64::NAN);
    lorae::note!(
        "scikit-learn {} float64 (reg_covar {floor:.2e}): {peer_seconds:.2} s, {peer_iterations} EM iterations ({:.2} s each), mean log-likelihood {:.3}",
        report["sklearn_version"].as_str().unwrap_or("?"),
        peer_seconds / peer_iterations,
        report["mean_log_likelihood"].as_f64().unwrap_or(f64::NAN)
    );
    lorae::say!(
        "{head}: lorae {seconds:.2} s, scikit-learn {peer_seconds:.2} s, ratio {:.2}",
        seconds / peer_seconds
    );
    Ok(())
}

/// `n` float32 codes of dimension `dim` and rank `rank`: 10 clusters (means ~ N(0, 9 I), unit
/// spread) in `rank` dimensions, mapped by a random `rank × dim` matrix.
pub fn low_rank_codes(n: usize, dim: usize, rank: usize, seed: u64) -> Result<Codes> {
    ensure!(
        rank >= 1 && rank <= dim,
        "--rank must be in 1..={dim}, got {rank}"
    );
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
