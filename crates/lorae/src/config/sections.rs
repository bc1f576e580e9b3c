//! The sections of a run's configuration (`config.json`): data, model, training, evaluation.
//! Every field documents its default; [`super::RunConfig::for_dataset`] fills them in.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::kinds::{DatasetKind, Layout, ModelKind, Order, PixelRange, RaeReg, VaeLoss};

/// Where the data comes from and how it is scaled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataConfig {
    /// Dataset name. Default `shapes`.
    pub dataset: DatasetKind,
    /// Training images: shapes generates this many (default 50 000, paper); the other datasets
    /// take at most this many, in file order (default: the whole training split).
    pub train_size: usize,
    /// Test images (what a run is evaluated on): generated for shapes (default 10 000), at most
    /// this many of the test split otherwise (default: all of it). Runs written before
    /// 2026-12-07 call it `eval_size`.
    #[serde(alias = "eval_size")]
    pub test_size: usize,
    /// Pixel scaling. Default `01` (both official codes' `ToTensor()` images).
    pub pixel_range: PixelRange,
    /// Where the dataset's files are. Default: the fetch cache, `$LORAE_DATA_DIR/NAME` or
    /// `~/.cache/lorae/data/NAME`. Required for `folder`.
    #[serde(default)]
    pub data_dir: Option<PathBuf>,
    /// `folder`: side the images are resized to, 32 or 64. Default 32.
    #[serde(default = "default_image_size")]
    pub image_size: usize,
}

/// The model and its regulariser.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    /// Model family.
    pub kind: ModelKind,
    /// Latent dimension d. Default per dataset: shapes 32, MNIST 128, CelebA 512.
    pub latent_dim: usize,
    /// IRMAE: number of extra d×d linear layers l. Default shapes 2, MNIST 8, CelebA 4.
    pub layers: usize,
    /// Regulariser weight λ (> 0). LoRAE: of `‖M‖*`, default 1e-5 (against the mean-per-pixel
    /// MSE). RAE: of the decoder regulariser, default 1e-7; WAE: of the MMD, default 10 — these
    /// two against a per-image sum of squares, as in their papers (divided by the pixels here).
    pub lambda: f64,
    /// Code penalty weight β (> 0). VAE: of the KL term, default 0.1 (official; the `gaussian`
    /// objective's first default was 1); RAE: of `½‖z‖²`, default 1e-4;
    /// AE-L1 / AE-L2: of `‖z‖₁` / `‖z‖²`, default 0.1 (all divided by the pixels per image).
    pub beta: f64,
    /// RAE: decoder regulariser, `l2` (default) or `gp`.
    #[serde(default)]
    pub rae_reg: RaeReg,
    /// VAE: objective, `bce` (the official code's; default of new runs) or `gaussian`. Absent in
    /// runs written before it existed, which used `gaussian`.
    #[serde(default)]
    pub vae_loss: VaeLoss,
    /// MNIST/CIFAR decoders: a ReLU after the FC layer, as the official code's MNIST decoder has
    /// (default of new runs). Absent in runs written before it existed, which had none.
    #[serde(default)]
    pub decoder_fc_relu: bool,
    /// IRMAE ablation: the linear layers keep their initial values.
    pub frozen_linear: bool,
    /// IRMAE ablation: ReLU between the linear layers (then the chain cannot be folded).
    pub relu_between: bool,
    /// IRMAE ablation: one matrix applied `layers` times.
    pub shared_linear: bool,
    /// IRMAE/LoRAE: the initial variance of the linear layers is multiplied by this. Default 1.
    pub init_scale: f64,
    /// RRAE: the truncation rank k (1..=d; no default: it is the method's one choice). aRRAE:
    /// the rank it starts from, default d. Absent for every other model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rank: Option<usize>,
    /// aRRAE: steps a lowered rank may go without reaching the loss it must match before the
    /// rank is fixed one above it. Default 500 (the official tracker's). Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rank_patience: Option<usize>,
    /// aRRAE: settled steps (within 5 % of the last 20 steps' mean loss) before the search starts
    /// lowering the rank. Absent: 50 (the official MNIST script's), which is also what runs
    /// written before the setting existed used. Only aRRAE may set it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rank_warmup: Option<usize>,
}

/// Optimisation settings (Adam).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Total epochs. Default shapes 100, MNIST 50, CelebA 100 (paper).
    pub epochs: usize,
    /// Batch size. Default 32 (paper).
    pub batch_size: usize,
    /// Adam learning rate. Default 1e-4 (paper).
    pub lr: f64,
    /// The order of the training images in each epoch. Default `shuffled`; absent in runs
    /// written before it existed, which shuffled.
    #[serde(default)]
    pub order: Order,
    /// A run whose current weights are this run's initial ones (a fresh optimizer): `--init`,
    /// e.g. a run made by `lorae import`. Default none (drawn from the seed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init: Option<PathBuf>,
}

/// Evaluation settings used every epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalConfig {
    /// Effective rank counts normalised singular values above this. Default 1e-2.
    pub rank_threshold: f64,
}

impl DataConfig {
    /// The network layout this data needs.
    pub fn layout(&self) -> Layout {
        self.dataset.layout(self.image_size)
    }
}

pub(super) fn default_image_size() -> usize {
    32
}
