//! Downstream classification with few labels (IRMAE Table 2; the LoRAE poster's Table 1).
//!
//! A frozen encoder gives codes; an MLP head — the official code's `Head`: two hidden
//! `Linear(d → d)` layers, each followed by ReLU and dropout 0.5, then a bias-free
//! `Linear(d → classes)` — is trained with Adam (lr 1e-3, batch 100) on N labelled training
//! images, and its test error is reported as mean ± std over seeds. The head trains on codes
//! computed once, not on images, so a classification costs seconds per seed. The supervised
//! baseline trains the same encoder architecture from scratch jointly with the head.
//!
//! Two protocols choose the reported epoch. `Honest`: the last `validation` training images are
//! held out (never labelled), the head is evaluated on them, and the test error at the best
//! validation accuracy is reported. `Paper`: what the official code does — test accuracy every 10
//! epochs, the maximum reported (model selection on the test set; comparable with Table 2 only).

use std::time::Instant;

use burn::nn::loss::CrossEntropyLossConfig;
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use burn::tensor::activation::relu;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::config::PixelRange;
use crate::data::ImageSet;
use crate::error::{Error, Result};
use crate::latent::Codes;
use crate::model::nets::Encoder;
use crate::tensor::tensor_values;

/// How the reported test error is selected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// Early stopping on held-out training images; test error at the best validation epoch.
    Honest,
    /// The official code's: the best test accuracy over evaluations every 10 epochs.
    Paper,
}

name_enum!(Protocol, "protocol", [(Honest, "honest"), (Paper, "paper")]);

/// Which training images are labelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Subset {
    /// The first N images of the labelled pool (the official code).
    First,
    /// N images drawn per class, round-robin over classes, from a seeded shuffle.
    Stratified,
}

name_enum!(
    Subset,
    "subset",
    [(First, "first"), (Stratified, "stratified")]
);

/// Settings of a classification; [`ClassifyConfig::default`] documents the defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassifyConfig {
    /// Labelled-set sizes N; `usize::MAX` (`all` on the command line) is the whole labelled pool.
    /// Default 10, 100, 1 000, 10 000 and all.
    pub labels: Vec<usize>,
    /// Seeds 0..seeds per N (subset draw, head initialisation, dropout, order). Default 5.
    pub seeds: usize,
    /// Default `Honest`.
    pub protocol: Protocol,
    /// Default `Stratified`.
    pub subset: Subset,
    /// Training images held out for validation (honest protocol): the last this many. Default 5 000.
    pub validation: usize,
    /// Epochs over the labelled set (the official code runs 500). Default 100.
    pub epochs: usize,
    /// At least this many steps: small labelled sets get more epochs. Default 1 000.
    pub min_steps: usize,
    /// Batch size. Default 100 (official).
    pub batch_size: usize,
    /// Adam learning rate. Default 1e-3 (official).
    pub lr: f64,
}

impl Default for ClassifyConfig {
    fn default() -> Self {
        ClassifyConfig {
            labels: vec![10, 100, 1_000, 10_000, usize::MAX],
            seeds: 5,
            protocol: Protocol::Honest,
            subset: Subset::Stratified,
            validation: 5_000,
            epochs: 100,
            min_steps: 1_000,
            batch_size: 100,
            lr: 1e-3,
        }
    }
}

/// Test error for one labelled-set size, over seeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelResult {
    /// N, the number of labelled training images.
    pub labels: usize,
    /// Mean test error over seeds, in percent.
    pub error_mean: f64,
    /// Sample standard deviation of the test error over seeds, in percent (0 for one seed).
    pub error_std: f64,
    /// Test error of each seed, in percent.
    pub errors: Vec<f64>,
    /// How the reported epoch was chosen.
    pub protocol: Protocol,
    /// Where the codes come from: `encoder`, `chain` or `supervised`.
    pub codes: String,
    /// How the labelled images were chosen.
    pub subset: Subset,
    /// The reported epoch of each seed.
    pub epochs: Vec<usize>,
    /// Wall-clock seconds for all seeds.
    pub seconds: f64,
}

/// What the classifier reads: frozen codes, or images for the supervised baseline.
#[derive(Debug, Clone, Copy)]
pub enum Inputs<'a> {
    /// Codes of a frozen encoder, one per image.
    Codes(&'a Codes),
    /// Images (the encoder is trained with the head).
    Images(&'a ImageSet, PixelRange),
}

impl Inputs<'_> {
    fn len(&self) -> usize {
        match self {
            Inputs::Codes(c) => c.len(),
            Inputs::Images(set, _) => set.len(),
        }
    }

    fn batch(&self, indices: &[usize], device: &Device) -> Batch {
        match *self {
            Inputs::Codes(codes) => {
                let d = codes.dim;
                let values = indices
                    .iter()
                    .flat_map(|&i| codes.values[i * d..(i + 1) * d].iter().copied())
                    .collect::<Vec<f32>>();
                Batch::Codes(Tensor::from_data(
                    TensorData::new(values, [indices.len(), d]),
                    device,
                )) // [b, d]
            }
            Inputs::Images(set, range) => Batch::Images(set.batch(indices, range, device)),
        }
    }
}

/// One batch of [`Inputs`].
#[derive(Debug, Clone)]
pub enum Batch {
    /// `[b, d]`.
    Codes(Tensor<2>),
    /// `[b, C, H, W]`.
    Images(Tensor<4>),
}

/// The official code's classification head.
#[derive(Module, Debug)]
pub struct Head {
    /// Two `d → d` layers with bias, each followed by ReLU and dropout.
    pub hidden: Vec<Linear>,
    /// `d → classes`, no bias.
    pub out: Linear,
    /// Dropout 0.5 (active on the autodiff device only).
    pub dropout: Dropout,
}

impl Head {
    /// A head from `d` code values to `classes` logits.
    pub fn new(d: usize, classes: usize, device: &Device) -> Self {
        Head {
            hidden: (0..2)
                .map(|_| LinearConfig::new(d, d).init(device))
                .collect(),
            out: LinearConfig::new(d, classes).with_bias(false).init(device),
            dropout: DropoutConfig::new(0.5).init(),
        }
    }

    /// `[b, d]` → logits `[b, classes]`.
    pub fn forward(&self, z: Tensor<2>) -> Tensor<2> {
        let h = self
            .hidden
            .iter()
            .fold(z, |h, layer| self.dropout.forward(relu(layer.forward(h)))); // [b, d]
        self.out.forward(h) // [b, classes]
    }
}

/// A head, with the encoder it reads when the encoder is trained too (supervised).
#[derive(Module, Debug)]
pub struct Classifier {
    /// Trained jointly with the head (supervised baseline); `None` on frozen codes.
    pub encoder: Option<Encoder>,
    /// The MLP head.
    pub head: Head,
}

impl Classifier {
    /// Logits `[b, classes]` of a batch.
    pub fn forward(&self, batch: Batch) -> Result<Tensor<2>> {
        let z = match (batch, &self.encoder) {
            (Batch::Codes(z), None) => z,
            (Batch::Images(x), Some(encoder)) => encoder.forward(x), // [b, d]
            _ => {
                return Err(Error::Unsupported(
                    "a classifier reads codes without an encoder, images with one".into(),
                ))
            }
        };
        Ok(self.head.forward(z))
    }
}

/// Training images labelled for the head, and those held out to validate it.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelSplit {
    /// Indices into the training split, labelled.
    pub labelled: Vec<usize>,
    /// Indices into the training split, held out (honest protocol; empty for `Paper`).
    pub validation: Vec<usize>,
}

/// The labelled pool's size: all training images, less the validation tail (honest protocol).
pub fn pool_size(train_len: usize, config: &ClassifyConfig) -> usize {
    match config.protocol {
        Protocol::Honest => train_len.saturating_sub(config.validation),
        Protocol::Paper => train_len,
    }
}

/// The error for a label count `n` outside the pool of `train_len` training images.
fn too_many_labels(n: usize, train_len: usize, config: &ClassifyConfig) -> Error {
    let pool = pool_size(train_len, config);
    let why = match config.protocol {
        Protocol::Honest => format!(
            "at most {pool}: the honest protocol keeps the last {} of the {train_len} training images for validation",
            config.validation
        ),
        Protocol::Paper => format!("between 1 and the {pool} training images"),
    };
    Error::invalid("labels", n, why)
}

/// Chooses `n` labelled images of the pool and the validation tail.
pub fn split_labels(
    labels: &[u8],
    n: usize,
    config: &ClassifyConfig,
    seed: u64,
) -> Result<LabelSplit> {
    let pool = pool_size(labels.len(), config);
    if n == 0 || n > pool {
        return Err(too_many_labels(n, labels.len(), config));
    }
    let labelled = match config.subset {
        Subset::First => (0..n).collect(),
        Subset::Stratified => {
            let classes = labels.iter().copied().max().map_or(0, |m| m as usize + 1);
            let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x1abe_1000);
            let mut per_class: Vec<Vec<usize>> = (0..classes)
                .map(|c| {
                    let mut idx: Vec<usize> =
                        (0..pool).filter(|&i| labels[i] as usize == c).collect();
                    idx.shuffle(&mut rng);
                    idx.reverse(); // popped from the back: the shuffle's order
                    idx
                })
                .collect();
            let mut chosen = Vec::with_capacity(n);
            while chosen.len() < n {
                for class in per_class.iter_mut() {
                    if chosen.len() < n {
                        if let Some(i) = class.pop() {
                            chosen.push(i);
                        }
                    }
                }
            }
            chosen.sort_unstable();
            chosen
        }
    };
    let validation = match config.protocol {
        Protocol::Honest => (pool..labels.len()).collect(),
        Protocol::Paper => Vec::new(),
    };
    Ok(LabelSplit {
        labelled,
        validation,
    })
}

/// Checks `config` against a training split of `train_len` images.
pub fn validate(config: &ClassifyConfig, train_len: usize) -> Result<()> {
    if config.labels.is_empty() {
        return Err(Error::invalid(
            "labels",
            "(none)",
            "give at least one label count",
        ));
    }
    for (field, value) in [
        ("seeds", config.seeds),
        ("epochs", config.epochs),
        ("batch-size", config.batch_size),
    ] {
        if value == 0 {
            return Err(Error::invalid(field, 0, "must be at least 1"));
        }
    }
    if !(config.lr.is_finite() && config.lr > 0.0) {
        return Err(Error::invalid(
            "lr",
            config.lr,
            "must be a positive finite number",
        ));
    }
    if config.protocol == Protocol::Honest && config.validation == 0 {
        return Err(Error::invalid(
            "validation",
            0,
            "the honest protocol needs held-out training images",
        ));
    }
    let pool = pool_size(train_len, config);
    match config
        .labels
        .iter()
        .find(|&&n| n == 0 || (n > pool && n != usize::MAX))
    {
        Some(&n) => Err(too_many_labels(n, train_len, config)),
        None => Ok(()),
    }
}

/// Classifies with every labelled-set size of `config`, each over `config.seeds` seeds.
/// `train` and `test` pair inputs with labels; `codes` names the input in the results
/// (`encoder`, `chain`, `supervised`); `encoder` is the architecture to train when the inputs are
/// images. `done` is called after each size.
#[allow(clippy::too_many_arguments)]
pub fn classify(
    train: (Inputs, &[u8]),
    test: (Inputs, &[u8]),
    encoder: Option<&dyn Fn(&Device) -> Encoder>,
    code_dim: usize,
    codes: &str,
    config: &ClassifyConfig,
    device: &Device,
    done: &mut dyn FnMut(&LabelResult),
) -> Result<Vec<LabelResult>> {
    validate(config, train.1.len())?;
    if train.0.len() != train.1.len() || test.0.len() != test.1.len() {
        return Err(Error::Unsupported(format!(
            "{} training inputs for {} labels, {} test inputs for {} labels",
            train.0.len(),
            train.1.len(),
            test.0.len(),
            test.1.len()
        )));
    }
    let classes = train
        .1
        .iter()
        .chain(test.1)
        .copied()
        .max()
        .map_or(1, |m| m as usize + 1);
    let pool = pool_size(train.1.len(), config);
    let mut results = Vec::new();
    for &requested in &config.labels {
        let n = requested.min(pool);
        let started = Instant::now();
        let mut errors = Vec::new();
        let mut epochs = Vec::new();
        for seed in 0..config.seeds as u64 {
            let split = split_labels(train.1, n, config, seed)?;
            let autodiff = device.clone().autodiff();
            // The head's initial weights and dropout masks come from the device's generator: on a
            // GPU they differ from the CPU's (training runs draw on the host; see crate::device).
            crate::device::seed(
                &autodiff,
                seed.wrapping_mul(1_000_003).wrapping_add(n as u64),
            );
            let model = Classifier {
                encoder: encoder.map(|make| make(&autodiff)),
                head: Head::new(code_dim, classes, &autodiff),
            };
            let (error, epoch) =
                train_one(model, train, test, &split, config, seed, &autodiff, device)?;
            errors.push(error);
            epochs.push(epoch);
        }
        let mean = errors.iter().sum::<f64>() / errors.len() as f64;
        let var = errors.iter().map(|e| (e - mean).powi(2)).sum::<f64>()
            / (errors.len().max(2) - 1) as f64;
        let result = LabelResult {
            labels: n,
            error_mean: mean,
            error_std: var.sqrt(),
            errors,
            protocol: config.protocol,
            codes: codes.to_string(),
            subset: config.subset,
            epochs,
            seconds: started.elapsed().as_secs_f64(),
        };
        done(&result);
        results.push(result);
    }
    Ok(results)
}

/// Trains one classifier on `device` (autodiff), evaluating on `plain`; returns (test error in
/// percent, the epoch it was taken at).
#[allow(clippy::too_many_arguments)]
fn train_one(
    mut model: Classifier,
    train: (Inputs, &[u8]),
    test: (Inputs, &[u8]),
    split: &LabelSplit,
    config: &ClassifyConfig,
    seed: u64,
    device: &Device,
    plain: &Device,
) -> Result<(f64, usize)> {
    let mut optim = AdamConfig::new().with_epsilon(1e-8).init();
    let loss_fn = CrossEntropyLossConfig::new().init(device);
    let steps_per_epoch = split.labelled.len().div_ceil(config.batch_size);
    let epochs = config
        .epochs
        .max(config.min_steps.div_ceil(steps_per_epoch));
    // Evaluate every 10 epochs (official) or, honestly, about every 100 steps.
    let every = match config.protocol {
        Protocol::Paper => 10,
        Protocol::Honest => 100usize.div_ceil(steps_per_epoch),
    };
    let (mut best_score, mut best) = (f64::NEG_INFINITY, (100.0, 0));
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x0cde_0000);
    let mut order = split.labelled.clone();
    for epoch in 1..=epochs {
        order.shuffle(&mut rng);
        for indices in order.chunks(config.batch_size) {
            let targets: Vec<i64> = indices.iter().map(|&i| train.1[i] as i64).collect();
            let targets =
                Tensor::<1, Int>::from_data(TensorData::new(targets, [indices.len()]), device);
            let logits = model.forward(train.0.batch(indices, device))?; // [b, classes]
            let loss = loss_fn.forward(logits, targets); // [1]
            let value = tensor_values(loss.clone())?[0];
            if !value.is_finite() {
                return Err(Error::Numerical(format!(
                    "classification loss is {value} at epoch {epoch}: lower --lr (now {})",
                    config.lr
                )));
            }
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(config.lr, model, grads);
        }
        if epoch % every != 0 && epoch != epochs {
            continue;
        }
        let frozen = model.valid();
        match config.protocol {
            Protocol::Paper => {
                let acc = accuracy(&frozen, test, None, plain)?;
                if acc > best_score {
                    (best_score, best) = (acc, (100.0 * (1.0 - acc), epoch));
                }
            }
            Protocol::Honest => {
                let acc = accuracy(&frozen, train, Some(&split.validation), plain)?;
                if acc > best_score {
                    let test_acc = accuracy(&frozen, test, None, plain)?;
                    (best_score, best) = (acc, (100.0 * (1.0 - test_acc), epoch));
                }
            }
        }
    }
    Ok(best)
}

/// Accuracy of `model` on `indices` of `data` (all of it when `None`).
pub fn accuracy(
    model: &Classifier,
    data: (Inputs, &[u8]),
    indices: Option<&[usize]>,
    device: &Device,
) -> Result<f64> {
    let all: Vec<usize>;
    let indices = match indices {
        Some(i) => i,
        None => {
            all = (0..data.1.len()).collect();
            &all
        }
    };
    let chunk = match data.0 {
        Inputs::Codes(_) => 2_000,
        Inputs::Images(..) => 250,
    };
    let mut correct = 0usize;
    for batch in indices.chunks(chunk) {
        let logits = tensor_values(model.forward(data.0.batch(batch, device))?)?; // [b·classes]
        let classes = logits.len() / batch.len();
        for (row, &i) in logits.chunks_exact(classes).zip(batch) {
            let predicted = row
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map_or(0, |(c, _)| c);
            correct += usize::from(predicted == data.1[i] as usize);
        }
    }
    Ok(correct as f64 / indices.len().max(1) as f64)
}
