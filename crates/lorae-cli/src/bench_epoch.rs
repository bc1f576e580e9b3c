//! `lorae bench epoch`: one whole MNIST epoch (training and the per-epoch evaluation) against
//! PyTorch doing the same ([`lorae::bench::epoch`]).

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use lorae::bench::epoch::{bench_epoch, EpochBenchConfig};
use lorae::config::ModelKind;

use crate::flags::{named, DeviceFlag, JsonFlag, PeerFlags};

#[derive(Args)]
pub struct BenchEpochArgs {
    /// Model: irmae, lorae or ae (the peer's).
    #[arg(long, default_value = "irmae", value_parser = named::<ModelKind>())]
    model: ModelKind,
    /// IRMAE linear layers.
    #[arg(long, default_value_t = 8)]
    layers: usize,
    /// Batch size (the paper's MNIST batch).
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    /// Training images, the first of MNIST's training split (60000: a full epoch).
    #[arg(long, default_value_t = 10_000)]
    train_size: usize,
    /// Test images, the first of the test split (10000: all of it).
    #[arg(long, default_value_t = 10_000, alias = "eval-size")]
    test_size: usize,
    /// MNIST's folder [default: the fetch cache's, `lorae data fetch mnist`].
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Rounds, each timing lorae then the peer (a fresh model each round).
    #[arg(long, default_value_t = 2)]
    rounds: usize,
    #[command(flatten)]
    peer: PeerFlags,
    #[command(flatten)]
    device: DeviceFlag,
    #[command(flatten)]
    json: JsonFlag,
}

pub fn run(args: BenchEpochArgs) -> Result<()> {
    let config = EpochBenchConfig {
        model: args.model,
        layers: Some(args.layers),
        batch_size: args.batch_size,
        train_size: args.train_size,
        test_size: args.test_size,
        data_dir: args.data_dir.clone(),
        rounds: args.rounds,
        peer: args.peer.python(),
        device: args.device.device,
    };
    let result = bench_epoch(&config, &mut |index, round| {
        lorae::note!(
            "round {index}: lorae epoch {:.1} s (with loading the data and the checkpoint {:.1} s), eval mse {:.5}, rank {}",
            round.lorae_s,
            round.lorae_call_s,
            round.lorae_eval_mse,
            round.lorae_rank
        );
        if round.pytorch_s.is_some() {
            lorae::note!("round {index}: {}", round.pytorch_summary);
        }
    })?;
    if crate::bench::said_json(args.json.json, &result)? {
        return Ok(());
    }
    let head = format!(
        "mnist epoch ({} l={}, batch {}, {} training + {} evaluation images, {} threads)",
        result.model,
        result.layers,
        result.batch_size,
        result.train_size,
        result.test_size,
        result.threads
    );
    let peer = result.pytorch_s.zip(result.ratio);
    let peer = peer.map(|(s, ratio)| ("pytorch", format!("{s:.1} s"), ratio));
    let reading = " (lorae / pytorch: lower is better)";
    crate::bench::say_result(&head, format!("{:.1} s", result.lorae_s), peer, reading);
    Ok(())
}
