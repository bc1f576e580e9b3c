//! `lorae interpolate RUN`: decoded linear interpolations between the codes of pairs of evaluation
//! images, one row per pair, the two originals at the ends of each row
//! ([`lorae::report::figures::interpolations`]).

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use lorae::report::figures::interpolations;

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
    let grid = interpolations(&args.run, args.pairs, args.steps, &args.device.open()?)?;
    let out = args
        .out
        .unwrap_or_else(|| args.run.join("interpolation.png"));
    grid.save(&out)?;
    args.json.print_out(
        &out,
        serde_json::json!({"pairs": args.pairs, "steps": args.steps}),
    );
    Ok(())
}
