//! `lorae bench epoch`: the wall time of one whole training epoch, as users wait for it — every
//! step of a shuffled pass over the training images, then the evaluation lorae runs after each
//! epoch (reconstruction MSE of the evaluation images, their codes' covariance spectrum and
//! effective rank) — against `peers/torch_step.py --epoch` doing the same work in PyTorch on the
//! same images, batch and thread count. Ratio = lorae / PyTorch (lower is better). Two layouts:
//! MNIST's networks on MNIST, and CelebA's networks at 64×64 (where the big convolutions dominate)
//! on a folder of images, by default shapes images upscaled to 64×64 and written to a temporary
//! folder (both sides read the same files).
//!
//! The peer check: after each round's epoch the step peer (`torch_step.py`, the `bench step`
//! peer, on a fixed random batch) times the same model, batch and threads; its median step must
//! agree with the median step inside the peer's epoch within [`PEER_TOLERANCE`], or the result
//! says that the step benchmark's peer is not PyTorch at its best.
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
use crate::config::{DatasetKind, Layout, ModelKind, RunConfig};
use crate::data::ImageSet;
use crate::device::DeviceKind;
use crate::error::{Error, Result};
use crate::train::{train, TrainOptions};

/// How far the step peer's median may be from the median step inside the peer's epoch (relative).
pub const PEER_TOLERANCE: f64 = 0.10;

/// What to time.
#[derive(Debug, Clone)]
pub struct EpochBenchConfig {
    /// irmae, lorae or ae (the models the peer has).
    pub model: ModelKind,
    /// The networks: `Layout::Mnist` (on MNIST) or `Layout::Celeba` (64×64, on a folder).
    pub layout: Layout,
    /// IRMAE's linear layers (`None`: the layout's default, 8 for MNIST and 4 for CelebA).
    pub layers: Option<usize>,
    /// Batch size.
    pub batch_size: usize,
    /// Training images (the first of the split).
    pub train_size: usize,
    /// Evaluation images (the first of the test split).
    pub test_size: usize,
    /// MNIST's folder (`None`: the fetch cache's), or the CelebA layout's folder of images
    /// (`None`: shapes images upscaled to 64×64, written to a temporary folder).
    pub data_dir: Option<PathBuf>,
    /// Timed steps of the peer check's step peer (0: no check).
    pub check_steps: usize,
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
    /// The peer's median training step inside its epoch, ms.
    pub pytorch_epoch_step_ms: Option<f64>,
    /// The step peer's median step on the same model, batch and threads, ms.
    pub pytorch_step_ms: Option<f64>,
    /// The peer's summary line.
    #[serde(skip)]
    pub pytorch_summary: String,
}

/// The result.
#[derive(Debug, Clone, Serialize)]
pub struct EpochBench {
    /// Model.
    pub model: String,
    /// Layout of the networks (mnist or celeba).
    pub layout: String,
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
    /// The peer check: the step peer's median step over the median step inside the peer's epochs
    /// (all rounds); `None` without a peer or a check.
    pub peer_step_ratio: Option<f64>,
    /// Whether `peer_step_ratio` is within 1 ± [`PEER_TOLERANCE`].
    pub peers_agree: Option<bool>,
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
    super::peer::check_counts(&[
        ("rounds", config.rounds),
        ("batch-size", config.batch_size),
        ("train-size", config.train_size),
        ("test-size", config.test_size),
    ])?;
    // A synthetic folder lives as long as the benchmark.
    let mut _synthetic = None;
    let mut run = match config.layout {
        Layout::Mnist => {
            let mut run = RunConfig::for_dataset(kind, DatasetKind::Mnist);
            run.data.data_dir = config.data_dir.clone();
            run
        }
        Layout::Celeba => {
            let mut run = RunConfig::for_dataset(kind, DatasetKind::Celeba);
            run.data.dataset = DatasetKind::Folder;
            run.data.image_size = 64;
            run.data.data_dir = config.data_dir.clone();
            run
        }
        other => {
            return Err(Error::invalid(
                "layout",
                format!("{other:?}").to_lowercase(),
                "the epoch benchmark has the mnist and celeba layouts",
            ))
        }
    };
    if let (Some(l), ModelKind::Irmae) = (config.layers, kind) {
        run.model.layers = l;
    }
    run.train.epochs = 1;
    run.train.batch_size = config.batch_size;
    run.data.train_size = config.train_size;
    run.data.test_size = config.test_size;
    if run.data.dataset == DatasetKind::Folder && run.data.data_dir.is_none() {
        // Validated with a stand-in folder first, so that bad sizes fail before any image is
        // written; then the synthetic folder, which lives as long as the benchmark.
        run.data.data_dir = Some(std::env::temp_dir());
        run.validate()?;
        let dir = synthetic_folder(config.train_size, config.test_size)?;
        run.data.data_dir = Some(dir.path().to_path_buf());
        _synthetic = Some(dir);
    }
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
            pytorch_epoch_step_ms: None,
            pytorch_step_ms: None,
            pytorch_summary: String::new(),
        };
        ours.push(epoch.seconds);
        if let Some(python) = &config.peer {
            let args = peer::flags([
                ("--epoch", data_dir.display().to_string()),
                ("--layout", layout_name(config.layout).to_string()),
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
            round.pytorch_epoch_step_ms =
                Some(peer::number(&out.report, "step_median_ms", TORCH_STEP)?);
            round.pytorch_summary = out.summary;
            theirs.push(seconds);
            if config.check_steps > 0 {
                let args = peer::flags([
                    ("--layout", layout_name(config.layout).to_string()),
                    ("--model", kind.to_string()),
                    ("--batch", config.batch_size.to_string()),
                    ("--steps", config.check_steps.to_string()),
                    ("--warmup", "5".to_string()),
                    ("--lr", run.train.lr.to_string()),
                    ("--lam", run.model.lambda.to_string()),
                    ("--threads", threads.to_string()),
                    ("--layers", run.model.layers.max(1).to_string()),
                ]);
                let out = peer::run(python, TORCH_STEP, &args)?;
                round.pytorch_step_ms = Some(peer::number(&out.report, "median_ms", TORCH_STEP)?);
            }
        }
        on_round(index, &round);
        rounds.push(round);
    }
    let lorae_s = median(&ours);
    let pytorch_s = (!theirs.is_empty()).then(|| median(&theirs));
    let in_epoch: Vec<f64> = rounds
        .iter()
        .filter_map(|r| r.pytorch_epoch_step_ms)
        .collect();
    let stepped: Vec<f64> = rounds.iter().filter_map(|r| r.pytorch_step_ms).collect();
    let peer_step_ratio =
        (!in_epoch.is_empty() && !stepped.is_empty()).then(|| median(&stepped) / median(&in_epoch));
    Ok(EpochBench {
        model: kind.to_string(),
        layout: layout_name(config.layout).to_string(),
        layers: run.model.layers,
        batch_size: config.batch_size,
        train_size: config.train_size,
        test_size: config.test_size,
        threads,
        lorae_s,
        pytorch_s,
        ratio: pytorch_s.map(|p| lorae_s / p),
        peer_step_ratio,
        peers_agree: peer_step_ratio.map(|r| (r - 1.0).abs() <= PEER_TOLERANCE),
        rounds,
    })
}

/// The peer's name of a layout.
fn layout_name(layout: Layout) -> &'static str {
    match layout {
        Layout::Celeba => "celeba",
        _ => "mnist",
    }
}

/// How many images a folder needs so that lorae's split (every tenth held out) leaves `train`
/// training and `test` evaluation images, and at least [`crate::data::folder::MIN_IMAGES`].
fn synthetic_count(train: usize, test: usize) -> Result<usize> {
    let too_many = || {
        Error::invalid(
            "train-size",
            train,
            "too many images for a synthetic folder",
        )
    };
    // n - n/10 >= train holds for n = train + ceil(train / 9); n/10 >= test for n = 10 test.
    let for_train = train.checked_add(train.div_ceil(9)).ok_or_else(too_many)?;
    let for_test = test.checked_mul(10).ok_or_else(too_many)?;
    Ok(for_train.max(for_test).max(crate::data::folder::MIN_IMAGES))
}

/// A temporary folder of PNGs for the CelebA layout: shapes images (seed 0) upscaled to 64×64 by
/// repeating each pixel 2×2, enough of them that lorae's folder split (every tenth held out) has
/// `train` training and `test` evaluation images.
fn synthetic_folder(train: usize, test: usize) -> Result<tempfile::TempDir> {
    let n = synthetic_count(train, test)?;
    // The 32×32 images, their 64×64 copies and the PNGs' bytes at most.
    let bytes = crate::limits::product(&[n, 3 * 32 * 32 + 2 * 3 * 64 * 64]);
    crate::limits::check("train-size", train, bytes)?;
    let (small, _) = crate::data::shapes::generate(n, 0);
    let [c, h, w] = small.shape;
    let mut pixels = Vec::with_capacity(small.pixels.len() * 4);
    for plane in small.pixels.chunks_exact(w) {
        // One row of one channel, [w] → two rows of [2w].
        let row: Vec<u8> = plane.iter().flat_map(|&p| [p, p]).collect();
        pixels.extend_from_slice(&row);
        pixels.extend_from_slice(&row);
    }
    let big = ImageSet {
        pixels,
        shape: [c, 2 * h, 2 * w],
        labels: None,
    };
    let dir = tempfile::tempdir().map_err(|e| {
        Error::io(
            "cannot create a temporary image folder",
            std::env::temp_dir(),
            e,
        )
    })?;
    crate::report::grid::save_set(&big, &dir.path().join("images"))?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_synthetic_folder_splits_into_the_sizes_asked() {
        for train in [1, 2, 8, 9, 10, 17, 18, 19, 100, 640, 1001] {
            for test in [1, 2, 3, 9, 10, 250] {
                let n = synthetic_count(train, test).unwrap();
                let held_out = (0..n).filter(|i| i % 10 == 9).count();
                assert!(
                    n - held_out >= train,
                    "n = {n} for train {train}, test {test}"
                );
                assert!(held_out >= test, "n = {n} for train {train}, test {test}");
                assert!(n >= crate::data::folder::MIN_IMAGES);
            }
        }
        assert!(synthetic_count(usize::MAX, 2).is_err());
        assert!(synthetic_count(2, usize::MAX).is_err());
    }

    #[test]
    fn the_synthetic_folder_holds_shapes_upscaled_to_64() {
        let dir = synthetic_folder(18, 2).unwrap();
        let files = crate::data::folder::image_files(dir.path()).unwrap();
        assert_eq!(files.len(), 20);
        let (small, _) = crate::data::shapes::generate(20, 0);
        let first = image::open(&files[0]).unwrap().to_rgb8();
        assert_eq!(first.dimensions(), (64, 64));
        for (x, y, pixel) in first.enumerate_pixels() {
            for c in 0..3 {
                let (sx, sy) = (x as usize / 2, y as usize / 2);
                assert_eq!(
                    pixel[c],
                    small.pixels[c * 32 * 32 + sy * 32 + sx],
                    "({x}, {y}, {c})"
                );
            }
        }
    }
}
