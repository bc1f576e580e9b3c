//! `lorae bench step`: a training step's median time against the PyTorch peer, as a ratio
//! ([`lorae::bench::step`]).

use anyhow::Result;
use clap::Args;
use lorae::bench::step::{bench_step, StepBenchConfig};
use lorae::config::{DatasetKind, ModelKind};

use crate::flags::{named, DeviceFlag, JsonFlag, PeerFlags};

#[derive(Args)]
pub struct BenchArgs {
    /// Model: irmae, lorae or ae have the PyTorch peer; time any other (rrae with --rank) with --no-peer.
    #[arg(long, default_value = "irmae", value_parser = named::<ModelKind>())]
    model: ModelKind,
    /// Network layout: mnist (SPEC's MNIST model) or shapes.
    #[arg(long, default_value = "mnist", value_parser = named::<DatasetKind>())]
    dataset: DatasetKind,
    /// Batch size.
    #[arg(long, default_value_t = 64)]
    batch_size: usize,
    /// IRMAE linear layers [default: mnist 8, shapes 2].
    #[arg(long)]
    layers: Option<usize>,
    /// RRAE: the truncation rank k (aRRAE: the rank it starts from), as `train --rank`.
    #[arg(long)]
    rank: Option<usize>,
    /// Timed steps (after the warm-up).
    #[arg(long, default_value_t = 40)]
    steps: usize,
    /// Rounds, each timing lorae then the peer (a fresh model each round).
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Untimed warm-up steps.
    #[arg(long, default_value_t = 5)]
    warmup: usize,
    #[command(flatten)]
    peer: PeerFlags,
    #[command(flatten)]
    device: DeviceFlag,
    #[command(flatten)]
    json: JsonFlag,
}

pub fn run(args: BenchArgs) -> Result<()> {
    let config = StepBenchConfig {
        model: args.model,
        dataset: args.dataset,
        batch_size: args.batch_size,
        layers: args.layers,
        rank: args.rank,
        steps: args.steps,
        rounds: args.rounds,
        warmup: args.warmup,
        peer: args.peer.python(),
        device: args.device.device,
    };
    let threads = rayon::current_num_threads();
    let result = bench_step(&config, &mut |index, round| {
        lorae::note!(
            "round {index}: lorae {} {} batch={} threads={threads} device={}: median {:.1} ms/step over {} steps (min {:.1}, max {:.1})",
            args.model, args.dataset, args.batch_size, args.device.device, round.lorae_ms,
            args.steps, round.lorae_min_ms, round.lorae_max_ms
        );
        if round.pytorch_ms.is_some() {
            lorae::note!("round {index}: {}", round.pytorch_summary);
        }
    })?;
    if said_json(args.json.json, &result)? {
        return Ok(());
    }
    let head = format!("{} batch={}", result.model, result.batch_size);
    let peer = result.pytorch_ms.zip(result.ratio);
    let peer = peer.map(|(ms, ratio)| ("pytorch", format!("{ms:.1} ms/step"), ratio));
    say_result(&head, format!("{:.1} ms/step", result.lorae_ms), peer, "");
    Ok(())
}

/// Prints a benchmark's `result` as one JSON line if `--json` asked for it; says whether it did.
pub fn said_json<T: serde::Serialize>(json: bool, result: &T) -> Result<bool> {
    if json {
        lorae::say!("{}", serde_json::to_string(result)?);
    }
    Ok(json)
}

/// A benchmark's result line: `HEAD: lorae X, PEER Y, ratio R READING` (the ratio last but for
/// how to read it), or lorae's figure alone when the peer did not run.
pub fn say_result(head: &str, lorae: String, peer: Option<(&str, String, f64)>, reading: &str) {
    match peer {
        Some((name, value, ratio)) => {
            lorae::say!("{head}: lorae {lorae}, {name} {value}, ratio {ratio:.2}{reading}")
        }
        None => lorae::say!("{head}: lorae {lorae}"),
    }
}
