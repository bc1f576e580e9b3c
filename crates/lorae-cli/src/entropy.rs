//! `lorae entropy RUN`: the RRAE paper's interpolation entropy — how certain a classifier trained
//! on the labelled training images is about the run's decoded interpolations (lower: they read
//! more like the data).

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use lorae::eval::entropy::{entropy_run, EntropyConfig};

use crate::flags::{DataDirFlag, DeviceFlag, JsonFlag};

#[derive(Args)]
pub struct EntropyArgs {
    /// Run directory (its encoder and decoder make the interpolations).
    run: PathBuf,
    /// Pairs of training images per set.
    #[arg(long, default_value_t = 2000)]
    pairs: usize,
    /// Interior points decoded per pair.
    #[arg(long, default_value_t = 5)]
    steps: usize,
    /// Independent sets of pairs (mean ± std over them).
    #[arg(long, default_value_t = 5)]
    sets: usize,
    /// Training steps of the judge (batches of 64; 937 is one MNIST epoch).
    #[arg(long, default_value_t = 937)]
    judge_steps: usize,
    /// Seed of the judge and the pairs.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[command(flatten)]
    data_dir: DataDirFlag,
    #[command(flatten)]
    json: JsonFlag,
    #[command(flatten)]
    device: DeviceFlag,
}

pub fn run(args: EntropyArgs) -> Result<()> {
    let config = EntropyConfig {
        pairs: args.pairs,
        steps: args.steps,
        sets: args.sets,
        judge_steps: args.judge_steps,
        seed: args.seed,
        ..EntropyConfig::default()
    };
    let device = args.device.open()?;
    let r = entropy_run(&args.run, args.data_dir.data_dir.clone(), &config, &device)?;
    if args.json.json {
        lorae::say!("{}", serde_json::to_string(&r)?);
    } else {
        let sets: Vec<String> = r.entropies.iter().map(|e| format!("{e:.4}")).collect();
        lorae::say!(
            "interpolation entropy {:.4} ± {:.4} nats over {} sets of {} images [{}]; judge test accuracy {:.2} %; {:.1}s",
            r.entropy_mean,
            r.entropy_std,
            r.entropies.len(),
            r.images_per_set,
            sets.join(" "),
            100.0 * r.judge_accuracy,
            r.seconds
        );
    }
    Ok(())
}
