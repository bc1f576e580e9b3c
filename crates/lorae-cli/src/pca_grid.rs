//! `lorae pca-grid RUN`: codes on a grid over the top two principal components of the evaluation
//! codes (±2σ by default around the mean code), decoded.

use std::path::PathBuf;

use anyhow::{ensure, Result};
use clap::Args;
use lorae::data;
use lorae::latent::pca::Pca;
use lorae::latent::{decode_codes, encode_set};
use lorae::report::grid::save_grid;
use lorae::train::EVAL_BATCH;

use crate::flags::{DeviceFlag, JsonFlag};

#[derive(Args)]
pub struct PcaGridArgs {
    /// Run directory.
    run: PathBuf,
    /// Cells per side.
    #[arg(long, default_value_t = 9)]
    size: usize,
    /// Half-width of the grid in standard deviations along each component.
    #[arg(long, default_value_t = 2.0, allow_negative_numbers = true)]
    extent: f64,
    /// Output PNG [default: RUN/pca-grid.png].
    #[arg(long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    device: DeviceFlag,
    #[command(flatten)]
    json: JsonFlag,
}

pub fn run(args: PcaGridArgs) -> Result<()> {
    ensure!(
        args.extent.is_finite() && args.extent > 0.0,
        "--extent must be a positive number of standard deviations, got {}",
        args.extent
    );
    let device = args.device.open()?;
    let (config, model) = lorae::run::load_run(&args.run, &device)?;
    lorae::run::require_encoder(&config, &args.run)?;
    let cells = (args.size as u128).saturating_mul(args.size as u128);
    lorae::limits::check_images("size", args.size, cells, config.data.layout().image_shape())?;
    let model = model.fold().unwrap_or(model);
    let eval = data::load_eval(&config.data, config.seed, None)?;
    let codes = encode_set(&model, &eval, config.data.pixel_range, EVAL_BATCH, &device)?;
    let pca = Pca::fit(&codes)?;
    lorae::note!(
        "PCA of {} evaluation codes: σ1 = {:.3}, σ2 = {:.3}",
        codes.len(),
        pca.std[0],
        pca.std.get(1).copied().unwrap_or(0.0)
    );
    let grid = pca.grid(args.size, args.extent)?;
    let images = decode_codes(&model, &grid, EVAL_BATCH, &device)?;
    let out = args.out.unwrap_or_else(|| args.run.join("pca-grid.png"));
    save_grid(
        &images,
        eval.shape,
        args.size,
        args.size,
        config.data.pixel_range,
        &out,
    )?;
    args.json.print_out(&out, serde_json::json!({"size": args.size, "extent": args.extent, "std": &pca.std[..pca.std.len().min(2)]}));
    Ok(())
}
