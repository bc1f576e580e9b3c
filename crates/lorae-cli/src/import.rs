//! `lorae import`: an official checkpoint becomes a run ([`lorae::train::import`]); the flags
//! name the official model it is (as `lorae train`'s would).

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use lorae::config::{DatasetKind, ModelKind, Overrides, PixelRange};

use crate::flags::{named, DataDirFlag, JsonFlag};

#[derive(Args)]
pub struct ImportArgs {
    /// The checkpoint: `torch.save(net.state_dict(), PATH)` of the official `model.AE` (zip or
    /// legacy format), or the same state dict as safetensors.
    checkpoint: PathBuf,
    /// Model: ae (official `-l 0`), irmae (`-l L`), lorae (LoRAE's code), vae (`--vae`)
    /// [default: irmae].
    #[arg(long, value_parser = named::<ModelKind>())]
    model: Option<ModelKind>,
    /// Dataset, which sets the layout: mnist (or fashion-mnist), shapes, celeba [default: shapes].
    #[arg(long, value_parser = named::<DatasetKind>())]
    dataset: Option<DatasetKind>,
    #[command(flatten)]
    data_dir: DataDirFlag,
    /// Latent dimension d, the official `-n` [default: shapes 32, mnist 128, celeba 512].
    #[arg(long)]
    latent_dim: Option<usize>,
    /// IRMAE: number of extra linear layers, the official `-l` [default: shapes 2, mnist 8, celeba 4].
    #[arg(long)]
    layers: Option<usize>,
    /// LoRAE: λ of ‖M‖* the model was trained with (recorded in the run) [default: 1e-5].
    #[arg(long, allow_negative_numbers = true, allow_hyphen_values = true)]
    lambda: Option<f64>,
    /// VAE: β of the KL term (recorded in the run) [default: 0.1].
    #[arg(long, allow_negative_numbers = true, allow_hyphen_values = true)]
    beta: Option<f64>,
    /// Training images the run's commands read [default: all].
    #[arg(long)]
    train_size: Option<usize>,
    /// Test images the run's commands read [default: all].
    #[arg(long, alias = "eval-size")]
    test_size: Option<usize>,
    /// Pixel range the model was trained on: 01 (both official codes) or pm1 [default: 01].
    #[arg(long, value_parser = named::<PixelRange>())]
    pixel_range: Option<PixelRange>,
    /// Effective rank counts normalised singular values above this [default: 1e-2].
    #[arg(long, allow_negative_numbers = true, allow_hyphen_values = true)]
    threshold: Option<f64>,
    /// Run directory to create (new or empty).
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    json: JsonFlag,
}

pub fn run(args: ImportArgs) -> Result<()> {
    let overrides = Overrides {
        model: args.model,
        dataset: args.dataset,
        latent_dim: args.latent_dim,
        layers: args.layers,
        lambda: args.lambda,
        beta: args.beta,
        train_size: args.train_size,
        test_size: args.test_size,
        data_dir: args.data_dir.data_dir.clone(),
        pixel_range: args.pixel_range,
        rank_threshold: args.threshold,
        ..Overrides::default()
    };
    let entries = lorae::train::import(&args.checkpoint, &overrides, &args.out)?;
    if args.json.json {
        lorae::say!("{}", serde_json::to_string(&entries)?);
        return Ok(());
    }
    let moved = entries
        .iter()
        .filter(|e| e.mapping != lorae::run::import::Mapping::Same)
        .count();
    lorae::say!(
        "imported {} tensors of {} ({} transposed or re-laid out, see {}/import.json) into {}; \
         e.g. `lorae spectrum {}`, `lorae fid --run {}`, `lorae train --init {} --out NEW`",
        entries.len(),
        args.checkpoint.display(),
        moved,
        args.out.display(),
        args.out.display(),
        args.out.display(),
        args.out.display(),
        args.out.display()
    );
    Ok(())
}
