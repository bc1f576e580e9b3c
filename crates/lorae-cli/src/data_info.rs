//! `lorae data info --dataset NAME`: what a dataset holds once loaded — counts, image shape,
//! pixel mean and standard deviation on [0, 1] (before the model's scaling), label histogram.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Subcommand};
use lorae::config::{DataConfig, DatasetKind, ModelKind, RunConfig};
use lorae::data::info::describe;
use lorae::data::{self, Split};
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
    let info = describe(&config)?;
    if args.json.json {
        lorae::say!("{}", serde_json::to_string(&info)?);
        return Ok(());
    }
    lorae::say!("dataset {kind} ({})", info.dir.display());
    lorae::say!(
        "  train {} images, test {} images, each {:?} (C, H, W)",
        info.train_count,
        info.test_count,
        info.shape
    );
    lorae::say!(
        "  training pixels on [0, 1] (at the files' resolution): mean {:.4}, std {:.4}",
        info.pixel_mean,
        info.pixel_std
    );
    match &info.label_counts {
        Some(counts) => lorae::say!("  training labels 0..{}: {counts:?}", counts.len()),
        None => lorae::say!("  no labels"),
    }
    Ok(())
}
