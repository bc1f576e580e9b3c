//! Interpolation entropy: the RRAE paper's measure of how much decoded interpolations look like
//! the data (Mounayer et al., arXiv 2405.13980v1, §5 and Table 3).
//!
//! A classifier — the *judge* — is trained on the labelled training images. Then, for each of
//! `sets` seeded draws, `pairs` pairs of training images are encoded, `steps` evenly spaced
//! interior points `z(t) = (1 − t)·a + t·b`, `t = 1/(steps+1) … steps/(steps+1)`, are decoded,
//! and the judge's class probabilities `p` of each decoded image give its entropy
//! `−Σⱼ pⱼ ln pⱼ` (nats; 0 when certain, ln 10 ≈ 2.30 at uniform over ten classes). The result
//! is the mean over the `pairs·steps` images, as mean ± std over the sets. A low entropy means
//! the in-between images read as digits.
//!
//! The paper's judge is the Equinox MNIST example CNN (one 4×4 convolution, a max-pool, three
//! linear layers) trained one epoch (937 batches of 64) on 28×28 images. lorae's judge is its
//! own encoder architecture for the dataset's layout with the classification head
//! ([`super::classify::Head`]), trained the same 937 batches of 64 with Adam (lr 1e-3) on the
//! images the runs train on (MNIST at 32×32). The judge is seeded: every run of a dataset is
//! judged by the same classifier, whose test accuracy is reported beside the entropy.

use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::classify::{accuracy, Batch, Classifier, Head, Inputs};
use super::classify_run::open_labelled;
use crate::config::{Layout, PixelRange};
use crate::data::ImageSet;
use crate::error::{Error, Result};
use crate::latent::{decode_codes, interpolate::interpolate, Codes};
use crate::model::nets::Encoder;
use crate::tensor::tensor_values;
use crate::train::EVAL_BATCH;

/// Settings of an interpolation entropy; [`EntropyConfig::default`] is the paper's protocol.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntropyConfig {
    /// Pairs of training images per set. Default 2 000 (paper).
    pub pairs: usize,
    /// Interior points per pair. Default 5 (paper: 10 000 images per set).
    pub steps: usize,
    /// Independent sets (other pairs). Default 5 (paper).
    pub sets: usize,
    /// Training steps of the judge. Default 937 (paper: one epoch of batches of 64).
    pub judge_steps: usize,
    /// Batch size of the judge. Default 64.
    pub judge_batch: usize,
    /// Adam learning rate of the judge. Default 1e-3.
    pub judge_lr: f64,
    /// Seed of the judge and of the pairs (set `s` draws with `seed + s`). Default 0.
    pub seed: u64,
}

impl Default for EntropyConfig {
    fn default() -> Self {
        EntropyConfig {
            pairs: 2_000,
            steps: 5,
            sets: 5,
            judge_steps: 937,
            judge_batch: 64,
            judge_lr: 1e-3,
            seed: 0,
        }
    }
}

impl EntropyConfig {
    /// Every count positive and the learning rate finite and positive.
    pub fn validate(&self) -> Result<()> {
        for (name, v) in [
            ("pairs", self.pairs),
            ("steps", self.steps),
            ("sets", self.sets),
            ("judge_steps", self.judge_steps),
            ("judge_batch", self.judge_batch),
        ] {
            if v == 0 {
                return Err(Error::invalid(name, v, "must be at least 1"));
            }
        }
        if !(self.judge_lr.is_finite() && self.judge_lr > 0.0) {
            return Err(Error::invalid(
                "judge_lr",
                self.judge_lr,
                "must be a positive number",
            ));
        }
        Ok(())
    }
}

/// What an interpolation entropy measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntropyResult {
    /// Mean entropy over the sets, in nats.
    pub entropy_mean: f64,
    /// Sample standard deviation over the sets (0 for one set).
    pub entropy_std: f64,
    /// Each set's mean entropy.
    pub entropies: Vec<f64>,
    /// The judge's accuracy on the test split (the judge must know the classes for its
    /// certainty to mean anything).
    pub judge_accuracy: f64,
    /// Decoded images judged per set.
    pub images_per_set: usize,
    /// Wall-clock seconds, judge included.
    pub seconds: f64,
}

/// Entropy in nats of the softmax of one row of logits.
pub fn softmax_entropy(logits: &[f32]) -> f64 {
    let max = logits
        .iter()
        .fold(f64::NEG_INFINITY, |m, &v| m.max(v as f64));
    let exps: Vec<f64> = logits.iter().map(|&v| (v as f64 - max).exp()).collect();
    let total: f64 = exps.iter().sum();
    exps.iter()
        .map(|&e| e / total)
        .filter(|&p| p > 0.0)
        .map(|p| -p * p.ln())
        .sum()
}

/// Trains the judge on `train` (images with `labels`) and returns it with autodiff stripped.
pub fn train_judge(
    train: &ImageSet,
    labels: &[u8],
    layout: Layout,
    range: PixelRange,
    config: &EntropyConfig,
    device: &Device,
) -> Result<Classifier> {
    let classes = labels.iter().max().map_or(1, |&m| m as usize + 1);
    let d = 128;
    let autodiff = device.clone().autodiff();
    crate::device::seed(&autodiff, config.seed ^ 0x00e4_7e00);
    let mut model = Classifier {
        encoder: Some(Encoder::new(layout, d, &autodiff)),
        head: Head::new(d, classes, &autodiff),
    };
    let mut optim = AdamConfig::new().with_epsilon(1e-8).init();
    let loss_fn = CrossEntropyLossConfig::new().init(&autodiff);
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed ^ 0x00e4_7e01);
    let mut order: Vec<usize> = Vec::new();
    for step in 0..config.judge_steps {
        if order.len() < config.judge_batch {
            let mut epoch: Vec<usize> = (0..labels.len()).collect();
            epoch.shuffle(&mut rng);
            order.extend(epoch);
        }
        let indices: Vec<usize> = order.drain(..config.judge_batch.min(order.len())).collect();
        let targets: Vec<i64> = indices.iter().map(|&i| labels[i] as i64).collect();
        let targets =
            Tensor::<1, Int>::from_data(TensorData::new(targets, [indices.len()]), &autodiff);
        let x = train.batch(&indices, range, &autodiff); // [b, C, H, W]
        let logits = model.forward(Batch::Images(x))?; // [b, classes]
        let loss = loss_fn.forward(logits, targets); // [1]
        let value = tensor_values(loss.clone())?[0];
        if !value.is_finite() {
            return Err(Error::Numerical(format!(
                "the judge's classification loss is {value} at step {step}: lower judge_lr (now {})",
                config.judge_lr
            )));
        }
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(config.judge_lr, model, grads);
    }
    Ok(model.valid())
}

/// Logits of the judge for `images` (`[n, C, H, W]` flattened, pixels in the run's range).
fn judge_logits(
    judge: &Classifier,
    images: &[f32],
    shape: [usize; 3],
    device: &Device,
) -> Result<Vec<f32>> {
    let len = shape.iter().product::<usize>();
    let mut logits = Vec::new();
    for chunk in images.chunks(EVAL_BATCH * len) {
        let x = Tensor::<4>::from_data(
            TensorData::new(
                chunk.to_vec(),
                [chunk.len() / len, shape[0], shape[1], shape[2]],
            ),
            device,
        ); // [b, C, H, W]
        logits.extend(tensor_values(judge.forward(Batch::Images(x))?)?); // [b·classes]
    }
    Ok(logits)
}

/// The judge's accuracy on `set` with `labels`.
pub fn judge_accuracy(
    judge: &Classifier,
    set: &ImageSet,
    labels: &[u8],
    range: PixelRange,
    device: &Device,
) -> Result<f64> {
    accuracy(judge, (Inputs::Images(set, range), labels), None, device)
}

/// The interpolation entropy of the run in `run` (its data read from `data_dir` if given).
pub fn entropy_run(
    run: &Path,
    data_dir: Option<PathBuf>,
    config: &EntropyConfig,
    device: &Device,
) -> Result<EntropyResult> {
    config.validate()?;
    let started = Instant::now();
    let (model, run_config, splits) = open_labelled(run, data_dir, device)?;
    let (train_labels, test_labels) = splits.labels(run_config.data.dataset)?;
    if splits.train.len() < 2 {
        return Err(Error::invalid(
            "training images",
            splits.train.len(),
            "an interpolation needs at least two",
        ));
    }
    let range = run_config.data.pixel_range;
    let layout = run_config.data.layout();
    let judge = train_judge(&splits.train, train_labels, layout, range, config, device)?;
    let judge_accuracy = judge_accuracy(&judge, &splits.eval, test_labels, range, device)?;
    crate::note!(
        "judge: {} steps of {} training images, test accuracy {:.2} % ({:.1}s)",
        config.judge_steps,
        config.judge_batch,
        100.0 * judge_accuracy,
        started.elapsed().as_secs_f64()
    );
    let mut entropies = Vec::with_capacity(config.sets);
    for set in 0..config.sets as u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed.wrapping_add(set));
        let n = splits.train.len();
        // Image pair p is rows 2p and 2p+1 of the codes.
        let pairs: Vec<(usize, usize)> = (0..config.pairs)
            .map(|_| {
                let a = rng.random_range(0..n);
                let b = (a + rng.random_range(1..n)) % n; // another image
                (a, b)
            })
            .collect();
        let ends: Vec<usize> = pairs.iter().flat_map(|&(a, b)| [a, b]).collect();
        let mut values = Vec::new();
        let mut dim = 0;
        for chunk in ends.chunks(EVAL_BATCH) {
            let z = model.encode(splits.train.batch(chunk, range, device)); // [b, d]
            dim = z.dims()[1];
            values.extend(tensor_values(z)?);
        }
        let codes = Codes { values, dim };
        let rows: Vec<(usize, usize)> = (0..config.pairs).map(|p| (2 * p, 2 * p + 1)).collect();
        // steps + 2 points with both ends; the ends are the images themselves, so they go.
        let line = interpolate(&codes, &rows, config.steps + 2)?; // [pairs·(steps+2), d]
        let interior = Codes {
            values: line
                .values
                .chunks(dim)
                .enumerate()
                .filter(|(i, _)| {
                    let k = i % (config.steps + 2);
                    k != 0 && k != config.steps + 1
                })
                .flat_map(|(_, row)| row.iter().copied())
                .collect(),
            dim,
        }; // [pairs·steps, d]
        let images = decode_codes(&model, &interior, EVAL_BATCH, device)?;
        let logits = judge_logits(&judge, &images, splits.train.shape, device)?;
        let classes = logits.len() / interior.len();
        let total: f64 = logits.chunks_exact(classes).map(softmax_entropy).sum();
        entropies.push(total / interior.len() as f64);
    }
    let mean = entropies.iter().sum::<f64>() / entropies.len() as f64;
    let var = entropies.iter().map(|e| (e - mean).powi(2)).sum::<f64>()
        / (entropies.len().max(2) - 1) as f64;
    Ok(EntropyResult {
        entropy_mean: mean,
        entropy_std: var.sqrt(),
        entropies,
        judge_accuracy,
        images_per_set: config.pairs * config.steps,
        seconds: started.elapsed().as_secs_f64(),
    })
}
