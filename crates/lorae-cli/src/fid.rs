//! `lorae fid A B`: the Fréchet Inception Distance between two sets of images, as pytorch-fid
//! computes it; `lorae fid --run RUN [B]` samples the run's model and scores the samples against
//! B (default: the run's test split).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Result};
use clap::Args;
use lorae::data::cache_root;
use lorae::eval::fid::frechet_distance;
use lorae::eval::fid::source::ImageSource;
use lorae::eval::fid::{FidScorer, StatsOptions};

use crate::flags::{DataDirFlag, DeviceFlag, JsonFlag, ProgressFlag, SamplerFlags};

#[derive(Args)]
pub struct FidArgs {
    /// Image sets: a folder of PNG/JPEG files, `dataset:NAME[:train|test]` or statistics
    /// (`.npz`). Two sets, or one with --run (default: the run's test split) or --save-stats.
    sets: Vec<String>,
    /// FID weights: pytorch-fid's .pth or fid-helper's default_1.pt [default: the fetch cache's
    /// fid-weights folder].
    #[arg(long)]
    weights: Option<PathBuf>,
    #[command(flatten)]
    json: JsonFlag,
    /// At most this many images per set (folders: in name order; datasets: file order).
    #[arg(long)]
    limit: Option<usize>,
    #[command(flatten)]
    data_dir: DataDirFlag,
    /// Images per forward pass.
    #[arg(long, default_value_t = 50)]
    batch_size: usize,
    /// Write the statistics of the one given set to this .npz (pytorch-fid's --save-stats).
    #[arg(long, conflicts_with = "run")]
    save_stats: Option<PathBuf>,
    /// Do not read or write cached dataset statistics (`$LORAE_DATA_DIR/fid-stats`).
    #[arg(long)]
    no_cache: bool,
    /// Run directory whose model is sampled; its samples are set A.
    #[arg(long)]
    run: Option<PathBuf>,
    #[command(flatten)]
    sampler: SamplerFlags,
    /// With --run: number of samples.
    #[arg(short, default_value_t = 10_000, requires = "run")]
    n: usize,
    #[command(flatten)]
    device: DeviceFlag,
    #[command(flatten)]
    progress: ProgressFlag,
}

pub fn run(args: FidArgs) -> Result<()> {
    anyhow::ensure!(
        args.batch_size >= 1,
        "--batch-size must be at least 1, got 0"
    );
    if let Some(limit) = args.limit {
        anyhow::ensure!(
            limit >= 2,
            "--limit must be at least 2 (FID statistics need two images per set), got {limit}"
        );
    }
    let device = args.device.open()?;
    let options = StatsOptions {
        weights: args.weights.clone(),
        data_dir: args.data_dir.data_dir.clone(),
        limit: args.limit,
        batch: args.batch_size,
        cache_dir: (!args.no_cache).then(|| cache_root().join("fid-stats")),
        progress: args.progress.show(),
    };
    let mut scorer = FidScorer::new(options, &device).on_note(|text| lorae::note!("{text}"));
    let start = Instant::now();

    if let Some(out) = &args.save_stats {
        let [set] = args.sets.as_slice() else {
            bail!("--save-stats OUT.npz takes exactly one image set");
        };
        let stats = scorer.source_statistics(&ImageSource::parse(set)?)?;
        stats.save(out)?;
        if args.json.json {
            lorae::say!("{}", serde_json::json!({"out": out, "n": stats.n}));
        } else {
            lorae::say!("{} images: statistics in {}", stats.n, out.display());
        }
        return Ok(());
    }

    let (a, b) = match (&args.run, args.sets.as_slice()) {
        (Some(run), sets) if sets.len() <= 1 => {
            let draw = args.sampler.draw(args.n);
            let real = sets.first().map(|s| ImageSource::parse(s)).transpose()?;
            let scored = scorer.run_fid(run, &draw, real.as_ref())?;
            report(
                scored.fid,
                scored.n_samples,
                scored.n_real,
                statistics_s(&start),
                args.json.json,
            );
            return Ok(());
        }
        (Some(_), _) => bail!("with --run give at most one image set (the real images)"),
        (None, [a, b]) => (
            scorer.source_statistics(&ImageSource::parse(a)?)?,
            scorer.source_statistics(&ImageSource::parse(b)?)?,
        ),
        (None, _) => {
            bail!("give two image sets (folders, dataset:NAME[:split] or .npz), or --run RUN")
        }
    };
    let fid = frechet_distance(&a, &b)?;
    report(fid, a.n, b.n, statistics_s(&start), args.json.json);
    Ok(())
}

fn statistics_s(start: &Instant) -> f64 {
    start.elapsed().as_secs_f64()
}

/// Prints the distance of `n_a` against `n_b` images (JSON or text).
fn report(fid: f64, n_a: usize, n_b: usize, seconds: f64, json: bool) {
    lorae::note!(
        "{n_a} + {n_b} images scored in {seconds:.1} s (network loading and cached sets included)"
    );
    if json {
        lorae::say!(
            "{}",
            serde_json::json!({"fid": fid, "n_a": n_a, "n_b": n_b})
        );
    } else {
        lorae::say!("FID: {fid:.6} ({n_a} vs {n_b} images)");
    }
}
