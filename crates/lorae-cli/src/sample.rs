//! `lorae sample RUN`: fit a sampler to the run's codes and decode its samples.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use lorae::data::Split;
use lorae::report::grid::{save_each, save_grid};
use lorae::sampler::draw::{draw_images, Draw};
use lorae::sampler::SamplerKind;

use crate::flags::{named, DeviceFlag, JsonFlag};

#[derive(Args)]
pub struct SampleArgs {
    /// Run directory.
    run: PathBuf,
    /// Sampler (prior: VAE and GAN runs only).
    #[arg(long, default_value = "gmm", value_parser = named::<SamplerKind>())]
    sampler: SamplerKind,
    /// GMM components.
    #[arg(short, default_value_t = 10)]
    k: usize,
    /// Number of samples.
    #[arg(short, default_value_t = 64)]
    n: usize,
    /// FILE.png for one grid, or a directory for numbered PNG files [default: RUN/samples-SAMPLER.png].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Seed of the sampler fit and the draws.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Split whose codes the sampler is fitted to.
    #[arg(long, default_value = "train", value_parser = named::<Split>())]
    fit_on: Split,
    /// Fit the sampler to the codes of the split's first N images only [default: all]
    /// (`lorae reproduce --budget quick` fits to 10 000: a GMM on all 60 000 MNIST codes takes
    /// minutes on 2 cores).
    #[arg(long)]
    fit_limit: Option<usize>,
    #[command(flatten)]
    device: DeviceFlag,
    #[command(flatten)]
    json: JsonFlag,
}

pub fn run(args: SampleArgs) -> Result<()> {
    let device = args.device.open()?;
    let draw = Draw {
        kind: args.sampler,
        fit_on: args.fit_on,
        k: args.k,
        n: args.n,
        seed: args.seed,
        fit_limit: args.fit_limit,
    };
    let (config, images) = draw_images(&args.run, &draw, &device)?;
    let shape = config.data.layout().image_shape();
    let range = config.data.pixel_range;
    let out = args
        .out
        .unwrap_or_else(|| args.run.join(format!("samples-{}.png", args.sampler)));
    if out
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("png"))
    {
        let cols = (args.n as f64).sqrt().ceil() as usize;
        save_grid(
            &images,
            shape,
            args.n.div_ceil(cols.max(1)),
            cols,
            range,
            &out,
        )?;
    } else {
        save_each(&images, shape, range, &out)?;
    }
    args.json.print_out(&out, serde_json::json!({"n": args.n, "sampler": args.sampler.to_string(), "fit_on": args.fit_on.to_string()}));
    Ok(())
}
