//! `lorae reconstruct RUN`: originals above their reconstructions.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use lorae::device::DeviceKind;
use lorae::latent::tensor_values;
use lorae::report::grid::save_grid;
use lorae::{data, train};

#[derive(Args)]
pub struct ReconstructArgs {
    /// Run directory.
    run: PathBuf,
    /// Number of evaluation images.
    #[arg(short, default_value_t = 8)]
    n: usize,
    /// Output PNG [default: RUN/reconstructions.png].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Compute device: cpu or wgpu.
    #[arg(long, default_value = "cpu")]
    device: String,
}

pub fn run(args: ReconstructArgs) -> Result<()> {
    let device = args.device.parse::<DeviceKind>()?.device()?;
    let (config, model) = train::load_run(&args.run, &device)?;
    train::require_encoder(&config, &args.run)?;
    let eval = data::load_eval(&config.data, config.seed, Some(args.n.max(1)))?;
    let indices: Vec<usize> = (0..eval.len()).collect();
    let x = eval.batch(&indices, config.data.pixel_range, &device); // [n, C, H, W]
    let y = model.reconstruct(x.clone());
    let mut values = tensor_values(x)?;
    values.extend(tensor_values(y)?);
    let out = args
        .out
        .unwrap_or_else(|| args.run.join("reconstructions.png"));
    save_grid(
        &values,
        eval.shape,
        2,
        indices.len(),
        config.data.pixel_range,
        &out,
    )?;
    lorae::say!("{}", out.display());
    Ok(())
}
