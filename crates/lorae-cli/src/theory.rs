//! `lorae theory`: LoRAE's theory checks on trained runs — rank against λ (Proposition 1), the
//! min–max distance ratio (Theorem 2), loss convergence per epoch.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use clap::{Args, Subcommand};
use lorae::eval::theory::{fit_rank_lambda, minmax_of_run, RankPoint};
use lorae::report::charts::{loss_per_epoch, rank_against_lambda, Series};
use lorae::run::metrics::EpochMetrics;
use lorae::run::RunDir;
use lorae::ModelKind;

use crate::flags::{DeviceFlag, JsonFlag, RunsFlags};

#[derive(Subcommand)]
pub enum TheoryCommand {
    /// Effective rank against λ over LoRAE runs, and the fitted slope of log(rank) on log(λ)
    /// (Proposition 1 predicts −1).
    RankLambda(RankLambdaArgs),
    /// Theorem 2's min–max distance ratio (d_max − d_min)/d_min of query codes against the other
    /// evaluation codes, per run (LoRAE: codes M E(x); other models: their codes).
    Minmax(MinmaxArgs),
    /// Training loss and regulariser per epoch, from metrics.jsonl (log y).
    Convergence(ConvergenceArgs),
}

#[derive(Args)]
pub struct RankLambdaArgs {
    /// LoRAE runs, trained at different λ.
    #[command(flatten)]
    runs: RunsFlags,
    /// Draw rank against λ (log-log) with the fitted line into this PNG.
    #[arg(long)]
    plot: Option<PathBuf>,
}

#[derive(Args)]
pub struct MinmaxArgs {
    /// Run directories (any model with an encoder).
    #[arg(required = true)]
    runs: Vec<PathBuf>,
    /// Query codes per run (seeded random evaluation images).
    #[arg(long, default_value_t = 1000)]
    queries: usize,
    /// Seed of the query choice.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[command(flatten)]
    json: JsonFlag,
    #[command(flatten)]
    device: DeviceFlag,
}

#[derive(Args)]
pub struct ConvergenceArgs {
    /// Run directory.
    run: PathBuf,
    /// Output PNG [default: RUN/convergence.png].
    #[arg(long)]
    plot: Option<PathBuf>,
    #[command(flatten)]
    json: JsonFlag,
}

pub fn run(command: TheoryCommand) -> Result<()> {
    match command {
        TheoryCommand::RankLambda(args) => rank_lambda(args),
        TheoryCommand::Minmax(args) => minmax(args),
        TheoryCommand::Convergence(args) => convergence(args),
    }
}

fn last_epoch(run: &Path) -> Result<EpochMetrics> {
    match RunDir::open(run)?.metrics()?.pop() {
        Some(m) => Ok(m),
        None => bail!(
            "{} has no finished epoch yet: train it first",
            run.display()
        ),
    }
}

fn check_threshold(t: f64) -> Result<()> {
    Ok(lorae::latent::spectrum::check_threshold(t)?)
}

fn rank_lambda(args: RankLambdaArgs) -> Result<()> {
    if let Some(t) = args.runs.threshold.threshold {
        check_threshold(t)?;
    }
    let mut points = Vec::new();
    for run in &args.runs.runs {
        let config = RunDir::open(run)?.config().clone();
        if config.model.kind != ModelKind::Lorae {
            bail!(
                "{} is a {} run: rank-lambda needs LoRAE runs (--model lorae) at several --lambda",
                run.display(),
                config.model.kind
            );
        }
        let last = last_epoch(run)?;
        let threshold = args.runs.threshold.threshold.unwrap_or(last.rank_threshold);
        let rank = last
            .singular_values
            .iter()
            .filter(|&&v| v > threshold)
            .count();
        points.push((
            run.display().to_string(),
            RankPoint {
                lambda: config.model.lambda,
                rank,
            },
        ));
    }
    if points.len() < 2 {
        bail!(
            "rank-lambda needs LoRAE runs at two or more λ values; got one run ({})",
            points[0].0
        );
    }
    let fit = fit_rank_lambda(&points.iter().map(|p| p.1.clone()).collect::<Vec<_>>())?;
    if args.runs.json.json {
        let runs: Vec<_> = points
            .iter()
            .map(|(run, p)| serde_json::json!({"run": run, "lambda": p.lambda, "rank": p.rank}))
            .collect();
        lorae::say!("{}", serde_json::json!({"points": runs, "fit": fit}));
    } else {
        for (run, p) in &points {
            lorae::say!("{run}: λ {:.0e}, effective rank {}", p.lambda, p.rank);
        }
        lorae::say!(
            "slope of log(rank) on log(λ): {:.3} over the {} runs above rank 1 (Proposition 1 predicts -1)",
            fit.slope, fit.used
        );
    }
    if let Some(path) = &args.plot {
        let points: Vec<RankPoint> = points.into_iter().map(|p| p.1).collect();
        rank_against_lambda(&points, &fit, "effective rank against λ", path)?;
        lorae::note!("plot: {}", path.display());
    }
    Ok(())
}

fn minmax(args: MinmaxArgs) -> Result<()> {
    let device = args.device.open()?;
    for run in &args.runs {
        let (config, mm, rank_m) = minmax_of_run(run, args.queries, args.seed, &device)?;
        if args.json.json {
            let mut value = serde_json::to_value(&mm)?;
            value["run"] = serde_json::json!(run.display().to_string());
            value["model"] = serde_json::json!(config.model.kind.to_string());
            value["rank_m"] = serde_json::json!(rank_m);
            lorae::say!("{value}");
        } else {
            let q: Vec<String> = mm
                .quantiles
                .iter()
                .map(|(p, v)| format!("q{:.0} {v:.3}", p * 100.0))
                .collect();
            lorae::say!(
                "{} ({}{}): min–max ratio over {} queries against {} codes: mean {:.3}, min {:.3}, {}, max {:.3}{}",
                run.display(),
                config.model.kind,
                rank_m.map(|r| format!(", rank(M) {r}")).unwrap_or_default(),
                mm.queries,
                mm.codes,
                mm.mean,
                mm.min,
                q.join(", "),
                mm.max,
                if mm.skipped > 0 { format!(" ({} queries with an identical code skipped)", mm.skipped) } else { String::new() }
            );
        }
    }
    Ok(())
}

fn convergence(args: ConvergenceArgs) -> Result<()> {
    let metrics = RunDir::open(&args.run)?.metrics()?;
    if metrics.is_empty() {
        bail!(
            "{} has no finished epoch yet: train it first",
            args.run.display()
        );
    }
    for m in &metrics {
        if args.json.json {
            lorae::say!(
                "{}",
                serde_json::json!({"epoch": m.epoch, "train_loss": m.train_loss,
                    "train_reconstruction": m.train_reconstruction, "train_regularizer": m.train_regularizer})
            );
        } else {
            lorae::say!(
                "epoch {}: train loss {:.6}, reconstruction {:.6}, regulariser {:.6}",
                m.epoch,
                m.train_loss,
                m.train_reconstruction,
                m.train_regularizer
            );
        }
    }
    let curve = |label: &str, f: &dyn Fn(&EpochMetrics) -> f64| Series {
        label: label.into(),
        points: metrics.iter().map(|m| (m.epoch as f64, f(m))).collect(),
    };
    let mut series = vec![curve("train loss", &|m| m.train_loss)];
    if metrics.iter().any(|m| m.train_regularizer > 0.0) {
        series.push(curve("reconstruction", &|m| m.train_reconstruction));
        series.push(curve("regulariser", &|m| m.train_regularizer));
    }
    let path = args
        .plot
        .unwrap_or_else(|| args.run.join("convergence.png"));
    loss_per_epoch(&series, &path)?;
    lorae::note!("plot: {}", path.display());
    Ok(())
}
