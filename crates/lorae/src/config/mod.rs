//! Run configuration: plain serde structs with documented defaults, validated once.
//!
//! Defaults follow the IRMAE paper (Table 4) for the chosen dataset; `RunConfig::for_dataset`
//! fills them in, [`Overrides`] (the flags a user gave) change them, and `validate` checks the
//! result. One file a concern: [`kinds`] (the closed sets), [`sections`] (the structs of
//! `config.json`), `validate`, [`overrides`].

pub mod kinds;
pub mod overrides;
pub mod sections;
mod validate;

use serde::{Deserialize, Serialize};

pub use kinds::{DatasetKind, Layout, ModelKind, Order, PixelRange, RaeReg, VaeLoss};
pub use overrides::Overrides;
pub use sections::{DataConfig, EvalConfig, ModelConfig, TrainConfig};
pub use validate::MIN_RANK_THRESHOLD;

use sections::default_image_size;

/// Everything that defines a run; written to `RUN/config.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunConfig {
    /// Seed of the data generator, initialisation and shuffling. Default 0.
    pub seed: u64,
    /// Data settings.
    pub data: DataConfig,
    /// Model settings.
    pub model: ModelConfig,
    /// Training settings.
    pub train: TrainConfig,
    /// Evaluation settings.
    pub eval: EvalConfig,
}

impl RunConfig {
    /// The paper's defaults for `kind` on `dataset`.
    pub fn for_dataset(kind: ModelKind, dataset: DatasetKind) -> Self {
        let layout = dataset.layout(default_image_size());
        let (latent_dim, layers, epochs) = match layout {
            Layout::Shapes => (32, 2, 100),
            Layout::Mnist | Layout::Cifar => (128, 8, 50),
            Layout::Celeba => (512, 4, 100),
        };
        // Both official codes train on `ToTensor()` images: [0, 1] under the Tanh decoder.
        let pixel_range = PixelRange::ZeroOne;
        let (train_size, test_size) = match dataset {
            DatasetKind::Shapes => (50_000, 10_000),
            DatasetKind::Mnist | DatasetKind::FashionMnist => (60_000, 10_000),
            DatasetKind::Cifar10 => (50_000, 10_000),
            DatasetKind::Celeba => (162_770, 19_962),
            DatasetKind::Folder => (1_000_000, 1_000_000),
        };
        let layers = match kind {
            ModelKind::Irmae => layers,
            ModelKind::Lorae => 1,
            _ => 0,
        };
        let (lambda, beta) = match kind {
            ModelKind::Rae => (1e-7, 1e-4),
            ModelKind::Wae => (10.0, 1.0),
            ModelKind::AeL1 | ModelKind::AeL2 => (1e-5, 0.1),
            ModelKind::Vae => (1e-5, 0.1),
            _ => (1e-5, 1.0),
        };
        RunConfig {
            seed: 0,
            data: DataConfig {
                dataset,
                train_size,
                test_size,
                pixel_range,
                data_dir: None,
                image_size: default_image_size(),
            },
            model: ModelConfig {
                kind,
                latent_dim,
                layers,
                lambda,
                beta,
                rae_reg: RaeReg::L2,
                vae_loss: VaeLoss::Bce,
                decoder_fc_relu: true,
                frozen_linear: false,
                relu_between: false,
                shared_linear: false,
                init_scale: 1.0,
                rank: (kind == ModelKind::Arrae).then_some(latent_dim),
                rank_patience: (kind == ModelKind::Arrae).then_some(500),
                rank_warmup: None, // aRRAE: 50 when absent (runs before the flag had none)
            },
            train: TrainConfig {
                epochs,
                batch_size: 32,
                lr: 1e-4,
                order: Order::Shuffled,
                init: None,
            },
            eval: EvalConfig {
                rank_threshold: 1e-2,
            },
        }
    }
}
