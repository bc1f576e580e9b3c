//! `lorae interpolate RUN`: decoded linear interpolations between the codes of pairs of evaluation
//! images, one row per pair, with the two originals at the ends of each row.

use std::path::PathBuf;

use anyhow::{ensure, Result};
use clap::Args;
use lorae::data;
use lorae::latent::interpolate::interpolate;
use lorae::latent::{decode_codes, encode_set};
use lorae::report::grid::save_grid;
use lorae::tensor::tensor_values;
use lorae::train::EVAL_BATCH;

use crate::flags::{DeviceFlag, JsonFlag};

#[derive(Args)]
pub struct InterpolateArgs {
    /// Run directory.
    run: PathBuf,
    /// Number of pairs (rows): evaluation images (0, 1), (2, 3), ...
    #[arg(long, default_value_t = 8)]
    pairs: usize,
    /// Decoded points per pair, ends included.
    #[arg(long, default_value_t = 10)]
    steps: usize,
    /// Output PNG [default: RUN/interpolation.png].
    #[arg(long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    device: DeviceFlag,
    #[command(flatten)]
    json: JsonFlag,
}

pub fn run(args: InterpolateArgs) -> Result<()> {
    ensure!(
        args.pairs >= 1,
        "--pairs must be at least 1, got {}",
        args.pairs
    );
    let device = args.device.open()?;
    let (config, model) = lorae::run::load_run(&args.run, &device)?;
    lorae::run::require_encoder(&config, &args.run)?;
    let shape = config.data.layout().image_shape();
    let per_row = (args.steps as u128).saturating_add(2);
    lorae::limits::check_images("steps", args.steps, per_row, shape)?;
    lorae::limits::check_images(
        "pairs",
        args.pairs,
        per_row.saturating_mul(args.pairs as u128),
        shape,
    )?;
    let model = model.fold().unwrap_or(model);
    let range = config.data.pixel_range;
    let eval = data::load_eval(&config.data, config.seed, Some(2 * args.pairs))?;
    ensure!(
        eval.len() >= 2 * args.pairs,
        "--pairs {} needs {} evaluation images; the run has {}",
        args.pairs,
        2 * args.pairs,
        eval.len()
    );
    let codes = encode_set(&model, &eval, range, EVAL_BATCH, &device)?;
    let pairs: Vec<(usize, usize)> = (0..args.pairs).map(|p| (2 * p, 2 * p + 1)).collect();
    let path = interpolate(&codes, &pairs, args.steps)?;
    let decoded = decode_codes(&model, &path, EVAL_BATCH, &device)?; // [pairs*steps, C, H, W]
    let len = eval.image_len();
    let mut cells = Vec::with_capacity(args.pairs * (args.steps + 2) * len);
    for (p, &(a, b)) in pairs.iter().enumerate() {
        let original = |i: usize| tensor_values(eval.batch(&[i], range, &device));
        cells.extend(original(a)?);
        cells.extend_from_slice(&decoded[p * args.steps * len..(p + 1) * args.steps * len]);
        cells.extend(original(b)?);
    }
    let out = args
        .out
        .unwrap_or_else(|| args.run.join("interpolation.png"));
    save_grid(&cells, eval.shape, args.pairs, args.steps + 2, range, &out)?;
    args.json.print_out(
        &out,
        serde_json::json!({"pairs": args.pairs, "steps": args.steps}),
    );
    Ok(())
}
