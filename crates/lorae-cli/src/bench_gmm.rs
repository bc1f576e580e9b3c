//! `lorae bench gmm`: lorae's GMM fit against scikit-learn's on the same codes, as a ratio
//! ([`lorae::bench::gmm`]).

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use lorae::bench::gmm::{bench_gmm, CodesFrom, GmmBenchConfig};
use lorae::sampler::gmm::GmmConfig;

use crate::flags::{JsonFlag, PeerFlags};

#[derive(Args)]
pub struct BenchGmmArgs {
    /// Number of synthetic codes.
    #[arg(short, default_value_t = 60_000)]
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
    #[command(flatten)]
    peer: PeerFlags,
    #[command(flatten)]
    json: JsonFlag,
}

pub fn run(args: BenchGmmArgs) -> Result<()> {
    let config = GmmBenchConfig {
        codes: match &args.codes {
            Some(path) => CodesFrom::File(path.clone()),
            None => CodesFrom::Synthetic {
                n: args.n,
                dim: args.dim,
                rank: args.rank,
            },
        },
        gmm: GmmConfig {
            k: args.k,
            restarts: args.restarts,
            max_iter: args.max_iter,
            tol: args.tol,
            seed: args.seed,
            ..GmmConfig::default()
        },
        peer: args.peer.python(),
    };
    let r = bench_gmm(&config)?;
    if args.json.json {
        lorae::say!("{}", serde_json::to_string(&r)?);
        return Ok(());
    }
    lorae::note!(
        "lorae: {:.2} s, {} EM iterations ({:.2} s each), converged {}, mean log-likelihood {:.3}",
        r.lorae_seconds,
        r.lorae_iterations,
        r.lorae_seconds / r.lorae_iterations.max(1) as f64,
        r.lorae_converged,
        r.lorae_log_likelihood
    );
    let head = format!("gmm n={} dim={} k={}", r.n, r.dim, r.k);
    let (Some(peer), Some(ratio)) = (r.sklearn_seconds, r.ratio) else {
        lorae::say!("{head}: lorae {:.2} s", r.lorae_seconds);
        return Ok(());
    };
    if let Some(f32_fit) = &r.sklearn_float32 {
        lorae::note!("scikit-learn float32: {f32_fit}");
    }
    let iterations = r.sklearn_iterations.unwrap_or(f64::NAN);
    lorae::note!(
        "scikit-learn {} float64 (reg_covar {:.2e}): {peer:.2} s, {iterations} EM iterations ({:.2} s each), mean log-likelihood {:.3}",
        r.sklearn_version.as_deref().unwrap_or("?"),
        r.reg_covar,
        peer / iterations,
        r.sklearn_log_likelihood.unwrap_or(f64::NAN)
    );
    lorae::say!(
        "{head}: lorae {:.2} s, scikit-learn {peer:.2} s, ratio {ratio:.2}",
        r.lorae_seconds
    );
    Ok(())
}
