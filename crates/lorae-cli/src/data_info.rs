//! `lorae data info --dataset NAME`: what a dataset holds once loaded — counts, image shape,
//! pixel mean and standard deviation on [0, 1] (before the model's scaling), label histogram.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Subcommand};
use lorae::config::{DataConfig, DatasetKind, ModelKind, RunConfig};
use lorae::data::mnist::Mnist;
use lorae::data::{self, ImageSet, Split};
use serde_json::json;

use crate::flags::{named, DataDirFlag, JsonFlag};

#[derive(Subcommand)]
pub enum DataCommand {
    /// Fetch datasets and the FID weights into the cache ($LORAE_DATA_DIR or
    /// ~/.cache/lorae/data), each file checked by SHA-256; prints `NAME: DIR`.
    Fetch(crate::data_fetch::FetchArgs),
    /// Counts, shape, pixel mean/std and label counts of a dataset's two splits.
    Info(InfoArgs),
    /// Writes a split's images, as lorae loads them (e.g. MNIST resized to 32×32), to a folder of
    /// PNGs: the input `python -m pytorch_fid` and `lorae fid DIR` take.
    Export(ExportArgs),
}

#[derive(Args)]
pub struct ExportArgs {
    /// Dataset.
    #[arg(long, value_parser = named::<DatasetKind>())]
    dataset: DatasetKind,
    /// Split.
    #[arg(long, default_value = "test", value_parser = named::<Split>())]
    split: Split,
    #[command(flatten)]
    data_dir: DataDirFlag,
    /// folder: side the images are resized to (32 or 64).
    #[arg(long, default_value_t = 32)]
    image_size: usize,
    /// Export only the first N images of the split.
    #[arg(short)]
    n: Option<usize>,
    /// Output folder (created); files are 000000.png, 000001.png, ...
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    json: JsonFlag,
}

#[derive(Args)]
pub struct InfoArgs {
    /// Dataset.
    #[arg(long, value_parser = named::<DatasetKind>())]
    dataset: DatasetKind,
    #[command(flatten)]
    data_dir: DataDirFlag,
    /// folder: side the images are resized to (32 or 64).
    #[arg(long, default_value_t = 32)]
    image_size: usize,
    #[command(flatten)]
    json: JsonFlag,
}

pub fn run(command: DataCommand) -> Result<()> {
    match command {
        DataCommand::Fetch(args) => crate::data_fetch::run(args),
        DataCommand::Info(args) => info(args),
        DataCommand::Export(args) => export(args),
    }
}

/// The data settings of `--dataset`, `--data-dir` and `--image-size`.
fn dataset_config(
    kind: DatasetKind,
    data_dir: Option<PathBuf>,
    image_size: usize,
) -> Result<(DatasetKind, DataConfig)> {
    let mut config = RunConfig::for_dataset(ModelKind::Ae, kind).data;
    config.data_dir = data_dir;
    config.image_size = image_size;
    if kind == DatasetKind::Folder && config.data_dir.is_none() {
        anyhow::bail!("--dataset folder needs --data-dir DIR, the folder of images");
    }
    Ok((kind, config))
}

fn export(args: ExportArgs) -> Result<()> {
    let (kind, config) = dataset_config(args.dataset, args.data_dir.data_dir, args.image_size)?;
    if args.n == Some(0) {
        anyhow::bail!("-n must be at least 1, got 0");
    }
    let set = data::load_split(&config, 0, args.split, args.n)?;
    let n = lorae::report::grid::save_set(&set, &args.out)?;
    if args.json.json {
        lorae::say!(
            "{}",
            json!({"out": args.out, "n": n, "dataset": kind.to_string(), "split": args.split.to_string()})
        );
    } else {
        lorae::say!(
            "wrote {n} {kind} {} images to {}",
            args.split,
            args.out.display()
        );
    }
    Ok(())
}

fn info(args: InfoArgs) -> Result<()> {
    let (kind, config) = dataset_config(args.dataset, args.data_dir.data_dir, args.image_size)?;
    let splits = data::load(&config, 0)?;
    // Statistics of the training split, as torchvision's normalisation constants are; for the
    // IDX datasets at their native 28×28 (resizing smooths the digits and lowers the std).
    let (mean, std) = match kind {
        DatasetKind::Mnist | DatasetKind::FashionMnist => {
            let source = Mnist {
                dir: data::data_dir(&config)?,
                train_size: config.train_size,
                eval_size: config.eval_size,
            };
            pixel_stats(&source.load_split_raw("train", config.train_size)?)
        }
        _ => pixel_stats(&splits.train),
    };
    let labels = label_counts(&splits.train);
    let test_labels = label_counts(&splits.eval);
    if args.json.json {
        let report = json!({
            "dataset": kind.to_string(),
            "dir": data::data_dir(&config)?.display().to_string(),
            "train_count": splits.train.len(),
            "test_count": splits.eval.len(),
            "shape": splits.train.shape,
            "pixel_mean": mean,
            "pixel_std": std,
            "label_counts": labels,
            "test_label_counts": test_labels,
        });
        lorae::say!("{report}");
    } else {
        lorae::say!("dataset {kind} ({})", data::data_dir(&config)?.display());
        lorae::say!(
            "  train {} images, test {} images, each {:?} (C, H, W)",
            splits.train.len(),
            splits.eval.len(),
            splits.train.shape
        );
        lorae::say!(
            "  training pixels on [0, 1] (at the files' resolution): mean {mean:.4}, std {std:.4}"
        );
        match labels {
            Some(counts) => lorae::say!("  training labels 0..{}: {counts:?}", counts.len()),
            None => lorae::say!("  no labels"),
        }
    }
    Ok(())
}

/// Mean and standard deviation of all pixels, on [0, 1].
fn pixel_stats(set: &ImageSet) -> (f64, f64) {
    let n = set.pixels.len().max(1) as f64;
    let (sum, sq) = set.pixels.iter().fold((0f64, 0f64), |(s, q), &p| {
        let v = p as f64 / 255.0;
        (s + v, q + v * v)
    });
    let mean = sum / n;
    (mean, (sq / n - mean * mean).max(0.0).sqrt())
}

/// How many images carry each label (0..=max label).
fn label_counts(set: &ImageSet) -> Option<Vec<usize>> {
    let labels = set.labels.as_ref()?;
    let max = labels.iter().copied().max().unwrap_or(0) as usize;
    let mut counts = vec![0usize; max + 1];
    labels.iter().for_each(|&l| counts[l as usize] += 1);
    Some(counts)
}
