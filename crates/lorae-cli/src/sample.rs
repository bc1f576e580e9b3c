//! `lorae sample RUN`: fit a sampler to the run's codes and decode its samples.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use lorae::report::grid::{save_each, save_grid};
use lorae::sampler::draw::draw_images;

use crate::flags::{DeviceFlag, JsonFlag, SamplerFlags};

#[derive(Args)]
pub struct SampleArgs {
    /// Run directory.
    run: PathBuf,
    #[command(flatten)]
    sampler: SamplerFlags,
    /// Number of samples.
    #[arg(short, default_value_t = 64)]
    n: usize,
    /// FILE.png for one grid, or a directory for numbered PNG files [default: RUN/samples-SAMPLER.png].
    #[arg(long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    device: DeviceFlag,
    #[command(flatten)]
    json: JsonFlag,
}

pub fn run(args: SampleArgs) -> Result<()> {
    let device = args.device.open()?;
    let draw = args.sampler.draw(args.n);
    if draw.kind != lorae::sampler::SamplerKind::Prior {
        let first = draw
            .fit_limit
            .map_or(String::new(), |n| format!("the first {n} "));
        lorae::note!(
            "fitting {} to {first}codes of the {} split",
            draw.kind,
            draw.fit_on
        );
    }
    let (config, images) = draw_images(&args.run, &draw, &device)?;
    let shape = config.data.layout().image_shape();
    let range = config.data.pixel_range;
    let out = args.out.unwrap_or_else(|| {
        args.run
            .join(format!("samples-{}.png", args.sampler.sampler))
    });
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
    args.json.print_out(&out, serde_json::json!({"n": args.n, "sampler": args.sampler.sampler.to_string(), "fit_on": args.sampler.fit_on.to_string()}));
    Ok(())
}
