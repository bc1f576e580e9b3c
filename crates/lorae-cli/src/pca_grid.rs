//! `lorae pca-grid RUN`: codes on a grid over the top two principal components of the evaluation
//! codes (±2σ by default around the mean code), decoded ([`lorae::report::figures::pca_grid`]).

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use lorae::report::figures::pca_grid;

use crate::flags::{DeviceFlag, JsonFlag};

#[derive(Args)]
pub struct PcaGridArgs {
    /// Run directory.
    run: PathBuf,
    /// Cells per side.
    #[arg(long, default_value_t = 9)]
    size: usize,
    /// Half-width of the grid in standard deviations along each component.
    #[arg(
        long,
        default_value_t = 2.0,
        allow_negative_numbers = true,
        allow_hyphen_values = true
    )]
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
    let (grid, std) = pca_grid(&args.run, args.size, args.extent, &args.device.open()?)?;
    let sigma = |i: usize| std.get(i).copied().unwrap_or(0.0);
    lorae::note!(
        "PCA of the evaluation codes: σ1 = {:.3}, σ2 = {:.3}",
        sigma(0),
        sigma(1)
    );
    let out = args.out.unwrap_or_else(|| args.run.join("pca-grid.png"));
    grid.save(&out)?;
    args.json.print_out(
        &out,
        serde_json::json!({"size": args.size, "extent": args.extent, "std": std}),
    );
    Ok(())
}
