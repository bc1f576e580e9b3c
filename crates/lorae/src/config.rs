//! Run configuration: plain serde structs with documented defaults, validated once.
//!
//! Defaults follow the IRMAE paper (Table 4) for the chosen dataset; `RunConfig::for_dataset`
//! fills them in, the CLI overrides what the user passes, and `validate` checks the result.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The model families lorae trains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    /// Plain deterministic autoencoder.
    Ae,
    /// AE with an L1 code penalty `β·mean‖z‖₁` (IRMAE Fig 2's "L1" curve).
    #[serde(rename = "ae-l1")]
    AeL1,
    /// AE with an L2 code penalty `β·mean‖z‖²` (IRMAE Fig 2's "L2" curve).
    #[serde(rename = "ae-l2")]
    AeL2,
    /// Variational autoencoder (mean + log-variance, β-weighted KL).
    Vae,
    /// Implicit rank-minimising AE: `l` bias-free d×d linear layers between E and D.
    Irmae,
    /// Low-rank AE: one d×d linear layer `M` with a `λ‖M‖*` penalty.
    Lorae,
    /// Regularised AE (Ghosh et al. 2020): `β·½‖z‖²` plus a decoder regulariser (`rae_reg`).
    Rae,
    /// Wasserstein AE with an MMD penalty against N(0, I) (Tolstikhin et al. 2018).
    Wae,
    /// DCGAN-style GAN: the decoder is the generator, a discriminator mirrors the encoder.
    Gan,
}

/// The decoder regulariser of an RAE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum RaeReg {
    /// Sum of the squared decoder parameters (RAE-L2). Default.
    #[default]
    L2,
    /// Squared Frobenius norm of the decoder's Jacobian at the codes (RAE-GP).
    Gp,
}

/// The VAE's objective.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum VaeLoss {
    /// Mean squared error plus `β·KL / pixels` (KL summed over the latent dimensions), Tanh
    /// output: lorae's first VAE, and what runs written before `vae_loss` existed used.
    #[default]
    Gaussian,
    /// The official IRMAE code's VAE: Sigmoid output, mean binary cross-entropy plus
    /// `β · mean(−(1 + log σ² − μ² − σ²))` over batch and latent dimensions, β = 0.1; needs [0, 1]
    /// pixels. Default of new VAE runs.
    Bce,
}

/// The datasets lorae can train on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DatasetKind {
    /// Synthetic shapes of the IRMAE paper (generated from the seed, embedded).
    Shapes,
    /// MNIST digits (IDX files), 28→32, grey.
    Mnist,
    /// Fashion-MNIST (IDX files), 28→32, grey.
    FashionMnist,
    /// CIFAR-10 (binary batches), 32×32 RGB.
    Cifar10,
    /// CelebA aligned faces (JPEGs + partition file), crop 148, 64×64 RGB.
    Celeba,
    /// Any folder of PNG/JPEG images, resized to `image_size`, RGB.
    Folder,
}

/// Range the pixels are scaled to before they reach the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PixelRange {
    /// [0, 1] (background 0). Default for shapes: [-1, 1] collapses there (see README).
    #[serde(rename = "01")]
    ZeroOne,
    /// [-1, 1].
    #[serde(rename = "pm1")]
    PlusMinusOne,
}

/// Which encoder/decoder layout of SPEC.md (IRMAE Table 3) a dataset uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    /// 32×32×3, all-convolutional, d = 32.
    Shapes,
    /// 32×32×1, conv encoder + FC, FC + deconv decoder, d = 128.
    Mnist,
    /// 64×64×3, d = 512.
    Celeba,
    /// 32×32×3 (CIFAR-10, 32-pixel folders): the MNIST networks with three channels, d = 128.
    Cifar,
}

/// `FromStr` (its error names the accepted values) and `Display` for a closed set of names.
macro_rules! name_enum {
    ($ty:ident, $what:literal, [$(($var:ident, $name:literal)),+ $(,)?]) => {
        impl std::str::FromStr for $ty {
            type Err = $crate::error::Error;
            fn from_str(s: &str) -> $crate::error::Result<Self> {
                match s {
                    $($name => Ok($ty::$var),)+
                    _ => Err($crate::error::Error::UnknownName {
                        what: $what,
                        value: s.to_string(),
                        expected: [$($name),+].join(", "),
                    }),
                }
            }
        }
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                let name = match self { $($ty::$var => $name,)+ };
                f.write_str(name)
            }
        }
    };
}

name_enum!(
    ModelKind,
    "model",
    [
        (Ae, "ae"),
        (AeL1, "ae-l1"),
        (AeL2, "ae-l2"),
        (Vae, "vae"),
        (Irmae, "irmae"),
        (Lorae, "lorae"),
        (Rae, "rae"),
        (Wae, "wae"),
        (Gan, "gan")
    ]
);
name_enum!(RaeReg, "RAE regulariser", [(L2, "l2"), (Gp, "gp")]);
name_enum!(VaeLoss, "VAE loss", [(Gaussian, "gaussian"), (Bce, "bce")]);
name_enum!(
    DatasetKind,
    "dataset",
    [
        (Shapes, "shapes"),
        (Mnist, "mnist"),
        (FashionMnist, "fashion-mnist"),
        (Cifar10, "cifar10"),
        (Celeba, "celeba"),
        (Folder, "folder")
    ]
);
name_enum!(
    PixelRange,
    "pixel range",
    [(ZeroOne, "01"), (PlusMinusOne, "pm1")]
);

impl DatasetKind {
    /// The network layout of this dataset at `image_size` (used by `folder` only: 64 → CelebA's
    /// networks, otherwise CIFAR's).
    pub fn layout(self, image_size: usize) -> Layout {
        match self {
            DatasetKind::Shapes => Layout::Shapes,
            DatasetKind::Mnist | DatasetKind::FashionMnist => Layout::Mnist,
            DatasetKind::Cifar10 => Layout::Cifar,
            DatasetKind::Celeba => Layout::Celeba,
            DatasetKind::Folder if image_size == 64 => Layout::Celeba,
            DatasetKind::Folder => Layout::Cifar,
        }
    }
}

impl DataConfig {
    /// The network layout this data needs.
    pub fn layout(&self) -> Layout {
        self.dataset.layout(self.image_size)
    }
}

fn default_image_size() -> usize {
    32
}

impl Layout {
    /// Image shape `[channels, height, width]`.
    pub fn image_shape(self) -> [usize; 3] {
        match self {
            Layout::Shapes => [3, 32, 32],
            Layout::Mnist => [1, 32, 32],
            Layout::Celeba => [3, 64, 64],
            Layout::Cifar => [3, 32, 32],
        }
    }
}

/// Where the data comes from and how it is scaled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataConfig {
    /// Dataset name. Default `shapes`.
    pub dataset: DatasetKind,
    /// Training images: shapes generates this many (default 50 000, paper); the other datasets
    /// take at most this many, in file order (default: the whole training split).
    pub train_size: usize,
    /// Evaluation images: generated for shapes (default 10 000), at most this many of the test
    /// split otherwise (default: all of it).
    pub eval_size: usize,
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
}

/// Evaluation settings used every epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalConfig {
    /// Effective rank counts normalised singular values above this. Default 1e-2.
    pub rank_threshold: f64,
}

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
        let (train_size, eval_size) = match dataset {
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
                eval_size,
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
            },
            train: TrainConfig {
                epochs,
                batch_size: 32,
                lr: 1e-4,
            },
            eval: EvalConfig {
                rank_threshold: 1e-2,
            },
        }
    }

    /// Checks every value once; the error names the bad value.
    pub fn validate(&self) -> Result<()> {
        let m = &self.model;
        if m.latent_dim == 0 {
            return Err(Error::invalid("latent-dim", 0, "must be at least 1"));
        }
        match m.kind {
            ModelKind::Irmae if m.layers == 0 => {
                return Err(Error::invalid(
                    "layers",
                    0,
                    "irmae needs at least 1 linear layer; use --model ae for none",
                ))
            }
            ModelKind::Lorae if m.layers != 1 => {
                return Err(Error::invalid(
                    "layers",
                    m.layers,
                    "lorae has exactly one linear layer M; --layers applies to irmae",
                ))
            }
            ModelKind::Ae
            | ModelKind::AeL1
            | ModelKind::AeL2
            | ModelKind::Vae
            | ModelKind::Rae
            | ModelKind::Wae
            | ModelKind::Gan
                if m.layers != 0 =>
            {
                return Err(Error::invalid(
                    "layers",
                    m.layers,
                    format!("{} has no linear layers; --layers applies to irmae", m.kind),
                ))
            }
            _ => {}
        }
        let ablation = m.frozen_linear || m.relu_between || m.shared_linear;
        if ablation && m.kind != ModelKind::Irmae {
            return Err(Error::invalid(
                "model",
                m.kind,
                "--frozen-linear, --relu-between and --shared-linear are IRMAE ablations: use --model irmae",
            ));
        }
        if m.kind == ModelKind::Vae
            && m.vae_loss == VaeLoss::Bce
            && self.data.pixel_range != PixelRange::ZeroOne
        {
            return Err(Error::invalid(
                "pixel-range",
                self.data.pixel_range,
                "the BCE VAE decodes through a Sigmoid to [0, 1]: use --pixel-range 01, or --vae-loss gaussian",
            ));
        }
        positive("lambda", m.lambda)?;
        positive("beta", m.beta)?;
        positive("init-scale", m.init_scale)?;
        // The uniform bound √k/√d must stay a normal, finite f32 (1e308 overflowed, 1e-300
        // underflowed to an empty range inside burn's initialiser).
        if !(1e-12..=1e12).contains(&m.init_scale) {
            return Err(Error::invalid(
                "init-scale",
                m.init_scale,
                "must be between 1e-12 and 1e12 (Table 5 uses 1, 2 and 4)",
            ));
        }
        positive("lr", self.train.lr)?;
        positive("rank-threshold", self.eval.rank_threshold)?;
        if !(MIN_RANK_THRESHOLD..1.0).contains(&self.eval.rank_threshold) {
            return Err(Error::invalid(
                "rank-threshold",
                self.eval.rank_threshold,
                "must be in [1e-12, 1): singular values are divided by the largest, and below 1e-12 they are rounding noise",
            ));
        }
        if self.train.epochs == 0 {
            return Err(Error::invalid("epochs", 0, "must be at least 1"));
        }
        if self.train.batch_size == 0 {
            return Err(Error::invalid("batch-size", 0, "must be at least 1"));
        }
        if self.data.train_size < self.train.batch_size {
            return Err(Error::invalid(
                "train-size",
                self.data.train_size,
                format!(
                    "must be at least the batch size ({})",
                    self.train.batch_size
                ),
            ));
        }
        if self.data.dataset == DatasetKind::Folder && ![32, 64].contains(&self.data.image_size) {
            return Err(Error::invalid(
                "image-size",
                self.data.image_size,
                "folder images are resized to 32 (CIFAR networks) or 64 (CelebA networks)",
            ));
        }
        if self.data.dataset == DatasetKind::Folder && self.data.data_dir.is_none() {
            return Err(Error::invalid(
                "data-dir",
                "(none)",
                "--dataset folder needs --data-dir DIR, the folder of images",
            ));
        }
        if self.data.eval_size < 2 {
            return Err(Error::invalid(
                "eval-size",
                self.data.eval_size,
                "must be at least 2 (the latent covariance needs two codes)",
            ));
        }
        self.check_memory()
    }

    /// Refuses sizes whose buffers cannot fit in memory ([`crate::limits`]): the generated shapes
    /// images (`--train-size`, `--eval-size`), the linear layers and the fully connected layers
    /// with their gradients and Adam moments (`--latent-dim`, `--layers`), the batch.
    fn check_memory(&self) -> Result<()> {
        use crate::limits::{check, product};
        let image = self.data.layout().image_shape();
        if self.data.dataset == DatasetKind::Shapes {
            let image_bytes = product(&image);
            let (train, eval) = (self.data.train_size, self.data.eval_size);
            check(
                "train-size",
                train,
                (train as u128).saturating_mul(image_bytes),
            )?;
            check(
                "eval-size",
                eval,
                (eval as u128).saturating_mul(image_bytes),
            )?;
            let both = (train as u128).saturating_add(eval as u128);
            check("train-size", train, both.saturating_mul(image_bytes))?;
        }
        let d = self.model.latent_dim;
        // Weights, gradients and two Adam moments: 16 bytes a parameter. The FC layers around
        // the code have at most 65 536 inputs or outputs (CelebA's decoder), twice.
        let fc = product(&[d, 2 * 65_536, 16]);
        check("latent-dim", d, fc)?;
        // A batch's activations: the widest layer keeps ~32 values per pixel, forward and back.
        let batch = product(&[self.train.batch_size, image[1], image[2], 32, 2 * 4]);
        check("batch-size", self.train.batch_size, batch)?;
        // Each linear layer: its d×d weights (16 bytes each, as above) and the batch's codes
        // through it, kept for the backward pass.
        let per_layer =
            product(&[d, d, 16]).saturating_add(product(&[self.train.batch_size, d, 4, 3]));
        let chain = per_layer.saturating_mul(self.model.layers.max(1) as u128);
        check("layers", self.model.layers, fc.saturating_add(chain))
    }
}

/// The smallest effective-rank threshold that means something: normalised singular values below
/// ~1e-16 are rounding noise (a threshold of 1e-300 once counted 23 directions in 16 codes).
pub const MIN_RANK_THRESHOLD: f64 = 1e-12;

fn positive(field: &'static str, value: f64) -> Result<()> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(Error::invalid(
            field,
            value,
            "must be a positive finite number",
        ))
    }
}
