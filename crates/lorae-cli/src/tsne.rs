//! `lorae tsne RUN`: real evaluation codes and sampler draws embedded together in 2-D
//! (IRMAE Fig 13), coloured by source and, for the real codes, by class where labels exist
//! ([`lorae::eval::tsne_run`]). With --json: `{"out", "seconds", "real": [[x, y, label]...],
//! "samples": [[x, y]...]}` (label null without labels).

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use lorae::eval::tsne::TsneConfig;
use lorae::eval::tsne_run::{tsne_of_run, TsneRunConfig};
use lorae::report::charts::{scatter, Series};

use crate::flags::{DeviceFlag, JsonFlag, SamplerFlags};

#[derive(Args)]
pub struct TsneArgs {
    /// Run directory.
    run: PathBuf,
    /// The sampler whose draws are embedded beside the real codes: gmm or gaussian.
    #[command(flatten)]
    sampler: SamplerFlags,
    /// Real codes (the first n evaluation images) and as many sampler draws.
    #[arg(short, default_value_t = 2000)]
    n: usize,
    /// t-SNE perplexity.
    #[arg(long, default_value_t = 30.0)]
    perplexity: f32,
    /// t-SNE iterations.
    #[arg(long, default_value_t = 1000)]
    iterations: usize,
    /// Output PNG [default: RUN/tsne-SAMPLER.png].
    #[arg(long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    device: DeviceFlag,
    #[command(flatten)]
    json: JsonFlag,
}

pub fn run(args: TsneArgs) -> Result<()> {
    let kind = args.sampler.sampler;
    let config = TsneRunConfig {
        sampler: kind,
        k: args.sampler.k,
        n: args.n,
        fit: (args.sampler.fit_on, args.sampler.fit_limit),
        seed: args.sampler.seed,
        tsne: TsneConfig {
            perplexity: args.perplexity,
            epochs: args.iterations,
            seed: args.sampler.seed,
        },
    };
    let embedded = tsne_of_run(&args.run, &config, &args.device.open()?)?;
    let (real_pts, drawn_pts) = (&embedded.real, &embedded.samples);
    let eval_labels = &embedded.labels;
    let point = |p: &[f32; 2]| (p[0] as f64, p[1] as f64);
    let mut groups = Vec::new();
    match eval_labels {
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
        let label = |i: usize| eval_labels.as_ref().map(|l| l[i]);
        let real: Vec<_> = real_pts
            .iter()
            .enumerate()
            .map(|(i, p)| serde_json::json!([p[0], p[1], label(i)]))
            .collect();
        let samples: Vec<[f32; 2]> = drawn_pts.to_vec();
        lorae::say!(
            "{}",
            serde_json::json!({"out": out, "seconds": embedded.seconds, "real": real, "samples": samples})
        );
    } else {
        lorae::say!("{}", out.display());
    }
    Ok(())
}
