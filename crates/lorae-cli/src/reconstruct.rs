//! `lorae reconstruct RUN`: originals above their reconstructions.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use lorae::data;
use lorae::report::grid::save_grid;
use lorae::tensor::tensor_values;

use crate::flags::{DeviceFlag, JsonFlag};

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
    #[command(flatten)]
    device: DeviceFlag,
    #[command(flatten)]
    json: JsonFlag,
}

pub fn run(args: ReconstructArgs) -> Result<()> {
    let device = args.device.open()?;
    let (config, model) = lorae::run::load_run(&args.run, &device)?;
    lorae::run::require_encoder(&config, &args.run)?;
    anyhow::ensure!(args.n >= 1, "-n must be at least 1, got 0");
    let eval = data::load_eval(&config.data, config.seed, Some(args.n))?;
    if eval.len() < args.n {
        lorae::note!(
            "-n {}: the run has {} evaluation images; showing them all",
            args.n,
            eval.len()
        );
    }
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
    args.json
        .print_out(&out, serde_json::json!({"n": indices.len()}));
    Ok(())
}
