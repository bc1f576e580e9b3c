//! `lorae bench epoch`: the wall time of one whole MNIST training epoch, as users wait for it —
//! every step of a shuffled pass over the training images, then the evaluation lorae runs after
//! each epoch (reconstruction MSE of the evaluation images, their codes' covariance spectrum and
//! effective rank) — against `peers/torch_step.py --epoch` doing the same work in PyTorch on the
//! same images, batch and thread count. Ratio = lorae / PyTorch (lower is better).
//!
//! lorae's side is the training loop itself ([`crate::train::train`] for one epoch into a
//! temporary run directory); its time is the epoch's `seconds` in `metrics.jsonl` (training and
//! evaluation; loading the data and writing the checkpoint are reported apart). Neither side
//! times loading the data. Rounds alternate the two sides; each side's result is its median.

use std::path::PathBuf;
use std::time::Instant;

use serde::Serialize;

use super::peer::{self, TORCH_STEP};
use super::step::median;
use crate::config::{DatasetKind, ModelKind, RunConfig};
use crate::device::DeviceKind;
use crate::error::{Error, Result};
use crate::train::{train, TrainOptions};

/// What to time.
#[derive(Debug, Clone)]
pub struct EpochBenchConfig {
    /// irmae, lorae or ae (the models the peer has).
    pub model: ModelKind,
    /// IRMAE's linear layers (`None`: MNIST's 8).
    pub layers: Option<usize>,
    /// Batch size.
    pub batch_size: usize,
    /// Training images (the first of the split).
    pub train_size: usize,
    /// Evaluation images (the first of the test split).
    pub test_size: usize,
    /// MNIST's folder (`None`: the fetch cache's).
    pub data_dir: Option<PathBuf>,
    /// Rounds, each timing lorae then the peer on a fresh model.
    pub rounds: usize,
    /// The peer's Python (`None`: no peer).
    pub peer: Option<PathBuf>,
    /// lorae's device.
    pub device: DeviceKind,
}

/// One round.
#[derive(Debug, Clone, Serialize)]
pub struct EpochRound {
    /// lorae's epoch (training + evaluation), seconds.
    pub lorae_s: f64,
    /// lorae's whole call (loading the data, the epoch, writing the checkpoint), seconds.
    pub lorae_call_s: f64,
    /// lorae's evaluation MSE and effective rank after the epoch.
    pub lorae_eval_mse: f64,
    /// lorae's effective rank.
    pub lorae_rank: usize,
    /// The peer's epoch, seconds.
    pub pytorch_s: Option<f64>,
    /// The peer's summary line.
    #[serde(skip)]
    pub pytorch_summary: String,
}

/// The result.
#[derive(Debug, Clone, Serialize)]
pub struct EpochBench {
    /// Model.
    pub model: String,
    /// IRMAE layers.
    pub layers: usize,
    /// Batch size.
    pub batch_size: usize,
    /// Training images.
    pub train_size: usize,
    /// Evaluation images.
    pub test_size: usize,
    /// Threads both sides used.
    pub threads: usize,
    /// Median epoch of lorae, seconds.
    pub lorae_s: f64,
    /// Median epoch of PyTorch, seconds.
    pub pytorch_s: Option<f64>,
    /// lorae / PyTorch.
    pub ratio: Option<f64>,
    /// Each round.
    pub rounds: Vec<EpochRound>,
}

/// Times one epoch as `config` says, calling `on_round` after each round.
pub fn bench_epoch(
    config: &EpochBenchConfig,
    on_round: &mut dyn FnMut(usize, &EpochRound),
) -> Result<EpochBench> {
    let kind = config.model;
    super::peer::check_torch_model(kind)?;
    super::peer::check_counts(&[("rounds", config.rounds)])?;
    let mut run = RunConfig::for_dataset(kind, DatasetKind::Mnist);
    if let (Some(l), ModelKind::Irmae) = (config.layers, kind) {
        run.model.layers = l;
    }
    run.train.epochs = 1;
    run.train.batch_size = config.batch_size;
    run.data.train_size = config.train_size;
    run.data.test_size = config.test_size;
    run.data.data_dir = config.data_dir.clone();
    run.validate()?;
    let data_dir = crate::data::data_dir(&run.data)?;
    let threads = rayon::current_num_threads();
    let options = TrainOptions {
        device: config.device,
        checkpoint_every: None,
    };
    let (mut ours, mut theirs, mut rounds) = (Vec::new(), Vec::new(), Vec::new());
    for index in 1..=config.rounds {
        let dir = tempfile::tempdir().map_err(|e| {
            Error::io(
                "cannot create a temporary run directory",
                std::env::temp_dir(),
                e,
            )
        })?;
        let started = Instant::now();
        let metrics = train(
            &run,
            &dir.path().join("run"),
            &options,
            &mut crate::train::Silent,
        )?;
        let call = started.elapsed().as_secs_f64();
        let epoch = metrics
            .first()
            .ok_or_else(|| Error::Numerical("the benchmark's epoch reported nothing".into()))?;
        let mut round = EpochRound {
            lorae_s: epoch.seconds,
            lorae_call_s: call,
            lorae_eval_mse: epoch.eval_mse.unwrap_or(f64::NAN),
            lorae_rank: epoch.effective_rank.unwrap_or(0),
            pytorch_s: None,
            pytorch_summary: String::new(),
        };
        ours.push(epoch.seconds);
        if let Some(python) = &config.peer {
            let args = peer::flags([
                ("--epoch", data_dir.display().to_string()),
                ("--model", kind.to_string()),
                ("--batch", config.batch_size.to_string()),
                ("--train-size", config.train_size.to_string()),
                ("--test-size", config.test_size.to_string()),
                ("--lr", run.train.lr.to_string()),
                ("--lam", run.model.lambda.to_string()),
                ("--rank-threshold", run.eval.rank_threshold.to_string()),
                ("--threads", threads.to_string()),
                ("--layers", run.model.layers.max(1).to_string()),
            ]);
            let out = peer::run(python, TORCH_STEP, &args)?;
            let seconds = peer::number(&out.report, "epoch_s", TORCH_STEP)?;
            round.pytorch_s = Some(seconds);
            round.pytorch_summary = out.summary;
            theirs.push(seconds);
        }
        on_round(index, &round);
        rounds.push(round);
    }
    let lorae_s = median(&ours);
    let pytorch_s = (!theirs.is_empty()).then(|| median(&theirs));
    Ok(EpochBench {
        model: kind.to_string(),
        layers: run.model.layers,
        batch_size: config.batch_size,
        train_size: config.train_size,
        test_size: config.test_size,
        threads,
        lorae_s,
        pytorch_s,
        ratio: pytorch_s.map(|p| lorae_s / p),
        rounds,
    })
}
