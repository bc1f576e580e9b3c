//! The closed sets a run is configured with: model families, regularisers, datasets, pixel
//! ranges, and the network layout each dataset uses.

use serde::{Deserialize, Serialize};

/// The model families lorae trains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
    /// Rank Reduction AE (Mounayer et al. 2024): the decoder sees the batch's codes truncated
    /// to their `rank` leading singular directions.
    Rrae,
    /// Adaptive RRAE: the truncation rank is lowered during training while the loss allows it.
    Arrae,
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

/// The order an epoch reads the training images in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Order {
    /// A new permutation each epoch, from (seed, epoch). The default.
    #[default]
    Shuffled,
    /// File order every epoch, as both official `train.py`s read (a `DataLoader` without
    /// `shuffle`).
    Sequential,
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
        (Gan, "gan"),
        (Rrae, "rrae"),
        (Arrae, "arrae")
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
    Order,
    "order",
    [(Shuffled, "shuffled"), (Sequential, "sequential")]
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
