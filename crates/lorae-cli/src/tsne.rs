//! `lorae tsne RUN`: real evaluation codes and sampler draws embedded together in 2-D
//! (IRMAE Fig 13), coloured by source and, for the real codes, by class where labels exist.

use std::path::PathBuf;

use anyhow::{ensure, Result};
use clap::Args;
use lorae::data;
use lorae::data::Split;
use lorae::eval::tsne::{embed, TsneConfig};
use lorae::latent::{encode_set, Codes};
use lorae::report::charts::{scatter, Series};
use lorae::sampler::draw::fit_sampler;
use lorae::sampler::SamplerKind;
use lorae::train::EVAL_BATCH;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::flags::{named, DeviceFlag, JsonFlag};

#[derive(Args)]
pub struct TsneArgs {
    /// Run directory.
    run: PathBuf,
    /// Sampler whose draws are embedded beside the real codes: gmm or gaussian.
    #[arg(long, default_value = "gmm", value_parser = named::<SamplerKind>())]
    sampler: SamplerKind,
    /// GMM components.
    #[arg(short, default_value_t = 10)]
    k: usize,
    /// Real codes (the first n evaluation images) and as many sampler draws.
    #[arg(short, default_value_t = 2000)]
    n: usize,
    /// t-SNE perplexity.
    #[arg(long, default_value_t = 30.0)]
    perplexity: f32,
    /// t-SNE iterations.
    #[arg(long, default_value_t = 1000)]
    epochs: usize,
    /// Split whose codes the sampler is fitted to: train (as `lorae sample`) or test (faster: the
    /// GMM fit on MNIST's 60 000 training codes takes minutes, the t-SNE itself about a second).
    #[arg(long, default_value = "train", value_parser = named::<Split>())]
    fit_on: Split,
    /// Seed of the sampler and of the initial embedding.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output PNG [default: RUN/tsne-SAMPLER.png].
    #[arg(long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    device: DeviceFlag,
    /// Print `{"out", "seconds", "real": [[x, y, label]...], "samples": [[x, y]...]}` (label
    /// null without labels) instead of the PNG's path.
    #[command(flatten)]
    json: JsonFlag,
}

pub fn run(args: TsneArgs) -> Result<()> {
    let kind = args.sampler;
    ensure!(
        kind != SamplerKind::Prior,
        "--sampler prior has no real codes to compare with here: use gmm or gaussian"
    );
    ensure!(args.n >= 1, "-n must be at least 1, got {}", args.n);
    let device = args.device.open()?;
    let (config, model) = lorae::run::load_run(&args.run, &device)?;
    lorae::run::require_encoder(&config, &args.run)?;
    let model = model.fold().unwrap_or(model);
    let eval = data::load_eval(&config.data, config.seed, Some(args.n))?;
    let real = encode_set(&model, &eval, config.data.pixel_range, EVAL_BATCH, &device)?;
    let fit_on = args.fit_on;
    let sampler = fit_sampler(
        kind,
        &config,
        &model,
        (fit_on, None),
        args.k,
        args.seed,
        &device,
    )?;
    let drawn = sampler.sample(real.len(), &mut ChaCha8Rng::seed_from_u64(args.seed));
    let mut both = real.values.clone();
    both.extend_from_slice(&drawn.values);
    let all = Codes {
        values: both,
        dim: real.dim,
    };
    let started = std::time::Instant::now();
    let seconds = || started.elapsed().as_secs_f64();
    let points = embed(
        &all,
        &TsneConfig {
            perplexity: args.perplexity,
            epochs: args.epochs,
            seed: args.seed,
        },
    )?;
    lorae::note!(
        "t-SNE of {} real and {} {kind} codes in {:.1}s",
        real.len(),
        drawn.len(),
        seconds()
    );
    let point = |p: &[f32; 2]| (p[0] as f64, p[1] as f64);
    let (real_pts, drawn_pts) = points.split_at(real.len());
    let mut groups = Vec::new();
    match &eval.labels {
        Some(labels) => {
            let classes = labels.iter().copied().max().map_or(0, |m| m as usize + 1);
            for c in 0..classes {
                groups.push(Series {
                    label: format!("real, class {c}"),
                    points: real_pts
                        .iter()
                        .zip(labels)
                        .filter(|(_, &l)| l as usize == c)
                        .map(|(p, _)| point(p))
                        .collect(),
                });
            }
        }
        None => groups.push(Series {
            label: "real".into(),
            points: real_pts.iter().map(point).collect(),
        }),
    }
    groups.push(Series {
        label: format!("{kind} samples"),
        points: drawn_pts.iter().map(point).collect(),
    });
    let out = args
        .out
        .unwrap_or_else(|| args.run.join(format!("tsne-{kind}.png")));
    scatter(
        &groups,
        &format!("t-SNE: real codes and {kind} samples"),
        &out,
    )?;
    if args.json.json {
        let label = |i: usize| eval.labels.as_ref().map(|l| l[i]);
        let real: Vec<_> = real_pts
            .iter()
            .enumerate()
            .map(|(i, p)| serde_json::json!([p[0], p[1], label(i)]))
            .collect();
        let samples: Vec<[f32; 2]> = drawn_pts.to_vec();
        lorae::say!(
            "{}",
            serde_json::json!({"out": out, "seconds": seconds(), "real": real, "samples": samples})
        );
    } else {
        lorae::say!("{}", out.display());
    }
    Ok(())
}
