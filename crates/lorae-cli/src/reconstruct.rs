//! `lorae reconstruct RUN`: originals above their reconstructions
//! ([`lorae::report::figures::reconstructions`]).

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use lorae::report::figures::reconstructions;

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
    let grid = reconstructions(&args.run, args.n, &args.device.open()?)?;
    let out = args
        .out
        .unwrap_or_else(|| args.run.join("reconstructions.png"));
    grid.save(&out)?;
    args.json
        .print_out(&out, serde_json::json!({"n": grid.cols}));
    Ok(())
}
