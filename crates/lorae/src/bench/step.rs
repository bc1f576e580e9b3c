//! `lorae bench step`: the median time of one training step (forward, backward, Adam) of lorae's
//! networks against the PyTorch peer on the same model, batch and thread count, as a ratio
//! (PyTorch = 1). The two sides alternate round by round, so that a slow spell of a shared
//! machine falls on both; each side's result is the median over all its rounds' steps.

use std::path::PathBuf;

use serde::Serialize;

use super::peer::{self, TORCH_STEP};
use crate::config::{DatasetKind, ModelKind, RunConfig};
use crate::device::DeviceKind;
use crate::error::{Error, Result};
use crate::train::step::time_steps;

/// What to time.
#[derive(Debug, Clone)]
pub struct StepBenchConfig {
    /// irmae, lorae or ae (the models the peer has).
    pub model: ModelKind,
    /// Network layout: mnist or shapes.
    pub dataset: DatasetKind,
    /// Batch size.
    pub batch_size: usize,
    /// IRMAE's linear layers (`None`: the dataset's default).
    pub layers: Option<usize>,
    /// RRAE's truncation rank (aRRAE's starting rank; `None`: no truncation flag).
    pub rank: Option<usize>,
    /// Timed steps a round, after the warm-up.
    pub steps: usize,
    /// Rounds, each timing lorae then the peer on a fresh model.
    pub rounds: usize,
    /// Untimed warm-up steps.
    pub warmup: usize,
    /// The peer's Python (`None`: no peer).
    pub peer: Option<PathBuf>,
    /// lorae's device.
    pub device: DeviceKind,
}

/// One side's times in one round.
#[derive(Debug, Clone, Serialize)]
pub struct Round {
    /// lorae's median ms/step.
    pub lorae_ms: f64,
    /// lorae's fastest step, ms.
    pub lorae_min_ms: f64,
    /// lorae's slowest step, ms.
    pub lorae_max_ms: f64,
    /// The peer's median ms/step.
    pub pytorch_ms: Option<f64>,
    /// The peer's own summary line.
    #[serde(skip)]
    pub pytorch_summary: String,
}

/// The result.
#[derive(Debug, Clone, Serialize)]
pub struct StepBench {
    /// Model.
    pub model: String,
    /// Layout.
    pub dataset: String,
    /// Batch size.
    pub batch_size: usize,
    /// Threads both sides used.
    pub threads: usize,
    /// Device of lorae's side.
    pub device: String,
    /// Median ms/step of lorae over all rounds.
    pub lorae_ms: f64,
    /// Median ms/step of PyTorch over all rounds.
    pub pytorch_ms: Option<f64>,
    /// lorae / PyTorch.
    pub ratio: Option<f64>,
    /// Each round.
    pub rounds: Vec<Round>,
}

/// Times the step as `config` says, calling `on_round` after each round.
pub fn bench_step(
    config: &StepBenchConfig,
    on_round: &mut dyn FnMut(usize, &Round),
) -> Result<StepBench> {
    let kind = config.model;
    if config.peer.is_some() {
        super::peer::check_torch_model(kind)?;
    }
    if !matches!(config.dataset, DatasetKind::Mnist | DatasetKind::Shapes) {
        return Err(Error::invalid(
            "dataset",
            config.dataset,
            "the peer has the mnist and shapes layouts",
        ));
    }
    super::peer::check_counts(&[
        ("batch-size", config.batch_size),
        ("steps", config.steps),
        ("rounds", config.rounds),
    ])?;
    let threads = rayon::current_num_threads();
    let mut run = RunConfig::for_dataset(kind, config.dataset);
    if let (Some(l), ModelKind::Irmae) = (config.layers, kind) {
        run.model.layers = l;
    }
    if config.rank.is_some() {
        run.model.rank = config.rank;
    }
    // Validated as `train` validates its flags (the batch's memory against the bound included);
    // the benchmark's batch is random data, so any training-set size will do.
    run.train.batch_size = config.batch_size;
    run.data.train_size = run.data.train_size.max(config.batch_size);
    run.validate()?;
    let device = config.device.device()?.autodiff();
    let (mut ours, mut theirs, mut rounds) = (Vec::new(), Vec::new(), Vec::new());
    for index in 1..=config.rounds {
        let (times, _) = time_steps(
            &run.model,
            run.data.layout(),
            config.batch_size,
            config.warmup,
            config.steps,
            &device,
        )?;
        let ms: Vec<f64> = times.iter().map(|t| t * 1e3).collect();
        let mut round = Round {
            lorae_ms: median(&ms),
            lorae_min_ms: ms.iter().copied().fold(f64::INFINITY, f64::min),
            lorae_max_ms: ms.iter().copied().fold(0.0, f64::max),
            pytorch_ms: None,
            pytorch_summary: String::new(),
        };
        ours.extend(ms);
        if let Some(python) = &config.peer {
            let args = peer::flags([
                ("--layout", config.dataset.to_string()),
                ("--model", kind.to_string()),
                ("--batch", config.batch_size.to_string()),
                ("--steps", config.steps.to_string()),
                ("--warmup", config.warmup.to_string()),
                ("--threads", threads.to_string()),
                ("--layers", run.model.layers.max(1).to_string()),
            ]);
            let out = peer::run(python, TORCH_STEP, &args)?;
            let peer_ms: Vec<f64> = out.report["times_ms"]
                .as_array()
                .ok_or_else(|| Error::Peer("no times_ms in the report of torch_step.py".into()))?
                .iter()
                .map(|v| v.as_f64())
                .collect::<Option<Vec<f64>>>()
                .filter(|t| !t.is_empty())
                .ok_or_else(|| {
                    Error::Peer(
                        "the report of torch_step.py has no times, or a time that is not a number"
                            .into(),
                    )
                })?;
            round.pytorch_ms = Some(median(&peer_ms));
            round.pytorch_summary = out.summary;
            theirs.extend(peer_ms);
        }
        on_round(index, &round);
        rounds.push(round);
    }
    let lorae_ms = median(&ours);
    let pytorch_ms = (!theirs.is_empty()).then(|| median(&theirs));
    Ok(StepBench {
        model: kind.to_string(),
        dataset: config.dataset.to_string(),
        batch_size: config.batch_size,
        threads,
        device: config.device.to_string(),
        lorae_ms,
        pytorch_ms,
        ratio: pytorch_ms.map(|p| lorae_ms / p),
        rounds,
    })
}

/// The median (NaN for no values).
pub fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}
