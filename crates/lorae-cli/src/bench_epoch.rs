//! `lorae bench epoch`: one whole epoch (training and the per-epoch evaluation) of MNIST's or
//! CelebA's networks against PyTorch doing the same ([`lorae::bench::epoch`]).

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use clap::ValueEnum;
use lorae::bench::epoch::{bench_epoch, EpochBenchConfig, PEER_TOLERANCE};
use lorae::config::{Layout, ModelKind};

use crate::flags::{named, DeviceFlag, JsonFlag, PeerFlags};

/// The networks the epoch trains.
#[derive(Clone, Copy, ValueEnum)]
enum EpochLayout {
    /// MNIST's networks (1×32×32, d = 128) on MNIST.
    Mnist,
    /// CelebA's networks (3×64×64, d = 512) on a folder of images.
    Celeba,
}

#[derive(Args)]
pub struct BenchEpochArgs {
    /// Model: irmae, lorae or ae (the peer's).
    #[arg(long, default_value = "irmae", value_parser = named::<ModelKind>())]
    model: ModelKind,
    /// Networks and data: mnist (MNIST), or celeba (CelebA's networks at 64×64 on --data-dir's
    /// images, or on shapes images upscaled to 64×64 in a temporary folder).
    #[arg(long, value_enum, default_value = "mnist")]
    layout: EpochLayout,
    /// IRMAE linear layers [default: 8 for mnist, 4 for celeba].
    #[arg(long)]
    layers: Option<usize>,
    /// Batch size (the paper's MNIST batch).
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    /// Training images, the first of the training split (at most those the data has) [default:
    /// 10000 for mnist (60000: a full epoch), 640 for celeba].
    #[arg(long)]
    train_size: Option<usize>,
    /// Evaluation images, the first of the evaluation split [default: 10000 for mnist (all of
    /// it), 250 for celeba].
    #[arg(long, alias = "eval-size")]
    test_size: Option<usize>,
    /// mnist: MNIST's folder [default: the fetch cache's, `lorae data fetch mnist`]; celeba: a
    /// folder of PNG/JPEG images [default: shapes upscaled to 64×64, written to a temporary
    /// folder].
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Timed steps of the peer check (the step peer on the same model, batch and threads,
    /// against the steps inside the peer's epoch); 0: no check [default: 20 for mnist, 5 for
    /// celeba].
    #[arg(long)]
    check_steps: Option<usize>,
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
    let (layout, train_size, test_size, check_steps) = match args.layout {
        EpochLayout::Mnist => (Layout::Mnist, 10_000, 10_000, 20),
        EpochLayout::Celeba => (Layout::Celeba, 640, 250, 5),
    };
    let config = EpochBenchConfig {
        model: args.model,
        layout,
        layers: args.layers,
        batch_size: args.batch_size,
        train_size: args.train_size.unwrap_or(train_size),
        test_size: args.test_size.unwrap_or(test_size),
        data_dir: args.data_dir.clone(),
        check_steps: args.check_steps.unwrap_or(check_steps),
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
        if let (Some(inside), Some(step)) = (round.pytorch_epoch_step_ms, round.pytorch_step_ms) {
            lorae::note!(
                "round {index}: pytorch's median step {inside:.1} ms inside its epoch, {step:.1} ms in the step peer"
            );
        }
    })?;
    if crate::bench::said_json(args.json.json, &result)? {
        return Ok(());
    }
    if let (Some(ratio), Some(agree)) = (result.peer_step_ratio, result.peers_agree) {
        let verdict = if agree {
            "agree".to_string()
        } else {
            format!(
                "DISAGREE by more than {:.0} %: one of the two is not pytorch at its best here (or the machine drifted: rerun)",
                PEER_TOLERANCE * 100.0
            )
        };
        lorae::note!(
            "peer check: pytorch's step peer / its steps inside the epoch = {ratio:.2}: {verdict}"
        );
    }
    let head = format!(
        "{} epoch ({} l={}, batch {}, {} training + {} evaluation images, {} threads)",
        result.layout,
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
