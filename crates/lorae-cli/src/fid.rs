//! `lorae fid A B`: the Fréchet Inception Distance between two sets of images, as pytorch-fid
//! computes it; `lorae fid --run RUN [B]` samples the run's model and scores the samples against
//! B (default: the run's test split).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Result};
use clap::Args;
use lorae::data::cache_root;
use lorae::device::DeviceKind;
use lorae::eval::fid::frechet_distance;
use lorae::eval::score::{images_statistics, quantise, source_statistics, StatsOptions};
use lorae::eval::source::ImageSource;

use lorae::sampler::draw::{draw_images, Draw};

#[derive(Args)]
pub struct FidArgs {
    /// Image sets: a folder of PNG/JPEG files, `dataset:NAME[:train|test]` or statistics
    /// (`.npz`). Two sets, or one with --run (default: the run's test split) or --save-stats.
    sets: Vec<String>,
    /// FID weights: pytorch-fid's .pth or fid-helper's default_1.pt [default: the fetch cache's
    /// fid-weights folder].
    #[arg(long)]
    weights: Option<PathBuf>,
    /// Print `{"fid": .., "n_a": .., "n_b": ..}`.
    #[arg(long)]
    json: bool,
    /// At most this many images per set (folders: in name order; datasets: file order).
    #[arg(long)]
    limit: Option<usize>,
    /// Folder of the dataset's files [default: the fetch cache].
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Images per forward pass.
    #[arg(long, default_value_t = 50)]
    batch_size: usize,
    /// Write the statistics of the one given set to this .npz (pytorch-fid's --save-stats).
    #[arg(long)]
    save_stats: Option<PathBuf>,
    /// Do not read or write cached dataset statistics (`$LORAE_DATA_DIR/fid-stats`).
    #[arg(long)]
    no_cache: bool,
    /// Run directory whose model is sampled; its samples are set A.
    #[arg(long)]
    run: Option<PathBuf>,
    /// With --run: sampler (gaussian, gmm, prior).
    #[arg(long, default_value = "gmm")]
    sampler: String,
    /// With --run: GMM components.
    #[arg(short, default_value_t = 10)]
    k: usize,
    /// With --run: number of samples.
    #[arg(short, default_value_t = 10_000)]
    n: usize,
    /// With --run: seed of the sampler fit and the draws.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// With --run: split whose codes the sampler is fitted to (train or eval).
    #[arg(long, default_value = "train")]
    fit_on: String,
    /// Compute device: cpu or wgpu.
    #[arg(long, default_value = "cpu")]
    device: String,
    /// Hide the progress bars.
    #[arg(long)]
    no_progress: bool,
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
    let device = args.device.parse::<DeviceKind>()?.device()?;
    let options = StatsOptions {
        weights: args.weights.clone(),
        data_dir: args.data_dir.clone(),
        limit: args.limit,
        batch: args.batch_size,
        cache_dir: (!args.no_cache).then(|| cache_root().join("fid-stats")),
        progress: !args.no_progress,
    };
    let mut net = None;
    let start = Instant::now();

    if let Some(out) = &args.save_stats {
        let [set] = args.sets.as_slice() else {
            bail!("--save-stats OUT.npz takes exactly one image set");
        };
        let stats = source_statistics(&ImageSource::parse(set)?, &mut net, &options, &device)?;
        stats.save(out)?;
        lorae::say!("{} images: statistics in {}", stats.n, out.display());
        return Ok(());
    }

    let (a, b) = match (&args.run, args.sets.as_slice()) {
        (Some(run), sets) if sets.len() <= 1 => {
            let draw = Draw {
                kind: args.sampler.parse()?,
                fit_on: args.fit_on.parse()?,
                k: args.k,
                n: args.n,
                seed: args.seed,
                fit_limit: None,
            };
            let (config, images) = draw_images(run, &draw, &device)?;
            let images = quantise(
                &images,
                config.data.layout().image_shape(),
                config.data.pixel_range,
            );
            let label = format!("{} samples ({})", run.display(), args.sampler);
            let a = images_statistics(&images, &label, &mut net, &options, &device)?;
            let real = match sets.first() {
                Some(set) => ImageSource::parse(set)?,
                None => ImageSource::Dataset {
                    kind: config.data.dataset,
                    train: false,
                },
            };
            let mut options = options.clone();
            if args.data_dir.is_none() && sets.is_empty() {
                options.data_dir = config.data.data_dir.clone();
            }
            (a, source_statistics(&real, &mut net, &options, &device)?)
        }
        (Some(_), _) => bail!("with --run give at most one image set (the real images)"),
        (None, [a, b]) => (
            source_statistics(&ImageSource::parse(a)?, &mut net, &options, &device)?,
            source_statistics(&ImageSource::parse(b)?, &mut net, &options, &device)?,
        ),
        (None, _) => {
            bail!("give two image sets (folders, dataset:NAME[:split] or .npz), or --run RUN")
        }
    };
    let statistics_s = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let fid = frechet_distance(&a, &b)?;
    lorae::note!(
        "statistics of {} + {} images in {statistics_s:.1} s (network loading and cached sets \
         included), Fréchet distance in {:.1} s",
        a.n,
        b.n,
        start.elapsed().as_secs_f64()
    );
    if args.json {
        lorae::say!(
            "{}",
            serde_json::json!({"fid": fid, "n_a": a.n, "n_b": b.n})
        );
    } else {
        lorae::say!("FID: {fid:.6} ({} vs {} images)", a.n, b.n);
    }
    Ok(())
}
