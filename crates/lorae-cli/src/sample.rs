//! `lorae sample RUN`: fit a sampler to the run's codes and decode its samples.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use burn::prelude::Device;
use clap::Args;
use lorae::device::DeviceKind;
use lorae::latent::{decode_codes, encode_set};
use lorae::model::Autoencoder;
use lorae::report::grid::{save_each, save_grid};
use lorae::sampler::gaussian::Gaussian;
use lorae::sampler::gmm::{Gmm, GmmConfig};
use lorae::sampler::{Prior, Sampler, SamplerKind};
use lorae::train::{self, EVAL_BATCH};
use lorae::{data, ModelKind, RunConfig};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

#[derive(Args)]
pub struct SampleArgs {
    /// Run directory.
    run: PathBuf,
    /// Sampler: gaussian, gmm or prior (VAE only).
    #[arg(long, default_value = "gmm")]
    sampler: String,
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
    /// Split whose codes the sampler is fitted to: train or eval.
    #[arg(long, default_value = "train")]
    fit_on: String,
    /// Compute device: cpu or wgpu.
    #[arg(long, default_value = "cpu")]
    device: String,
}

pub fn run(args: SampleArgs) -> Result<()> {
    let kind: SamplerKind = args.sampler.parse()?;
    let device = args.device.parse::<DeviceKind>()?.device()?;
    let draw = Draw {
        kind,
        fit_on: &args.fit_on,
        k: args.k,
        n: args.n,
        seed: args.seed,
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
    println!("{}", out.display());
    Ok(())
}

/// What to draw from a run: `n` samples of sampler `kind` (GMM with `k` components), fitted to
/// the codes of split `fit_on`, seeded by `seed`.
pub struct Draw<'a> {
    pub kind: SamplerKind,
    pub fit_on: &'a str,
    pub k: usize,
    pub n: usize,
    pub seed: u64,
}

/// The run's configuration and its decoded samples, `[n, C, H, W]` floats in the run's pixel
/// range; shared with `lorae fid --run`.
pub fn draw_images(run: &Path, draw: &Draw, device: &Device) -> Result<(RunConfig, Vec<f32>)> {
    let (config, model) = train::load_run(run, device)?;
    let model = model.fold().unwrap_or(model);
    let sampler = fit_sampler(
        draw.kind,
        &config,
        &model,
        draw.fit_on,
        draw.k,
        draw.seed,
        device,
    )?;
    let codes = sampler.sample(draw.n, &mut ChaCha8Rng::seed_from_u64(draw.seed));
    let images = decode_codes(&model, &codes, EVAL_BATCH, device)?;
    Ok((config, images))
}

/// The sampler `kind` fitted to the codes of the run's `fit_on` split (train or eval), or the
/// VAE's or GAN's prior.
pub fn fit_sampler(
    kind: SamplerKind,
    config: &RunConfig,
    model: &Autoencoder,
    fit_on: &str,
    k: usize,
    seed: u64,
    device: &Device,
) -> Result<Box<dyn Sampler>> {
    let fitted_on = fit_on;
    let sampler: Box<dyn Sampler> = match kind {
        SamplerKind::Prior if !matches!(config.model.kind, ModelKind::Vae | ModelKind::Gan) => {
            bail!("--sampler prior samples N(0, I), the prior of a VAE or a GAN; this run is {}: use gaussian or gmm", config.model.kind)
        }
        SamplerKind::Prior => Box::new(Prior {
            dim: config.model.latent_dim,
        }),
        _ => {
            if config.model.kind == ModelKind::Gan {
                bail!("this is a GAN run: it has no encoder, so there are no codes to fit a sampler to; use --sampler prior");
            }
            let splits = data::load(&config.data, config.seed)?;
            let set = match fitted_on {
                "train" => &splits.train,
                "eval" => &splits.eval,
                other => bail!("unknown split `{other}` for --fit-on: expected train or eval"),
            };
            let codes = encode_set(model, set, config.data.pixel_range, EVAL_BATCH, device)?;
            eprintln!(
                "fitting {} to {} codes of the {fitted_on} split",
                kind,
                codes.len()
            );
            match kind {
                SamplerKind::Gaussian => Box::new(Gaussian::fit(&codes)?),
                _ => Box::new(Gmm::fit(
                    &codes,
                    &GmmConfig {
                        k,
                        seed,
                        ..GmmConfig::default()
                    },
                )?),
            }
        }
    };
    Ok(sampler)
}
