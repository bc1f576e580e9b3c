//! Datasets: images kept in memory as `u8` (N×C×H×W), scaled to floats batch by batch.

pub mod celeba;
pub mod cifar;
#[cfg(feature = "fetch")]
pub mod fetch;
#[cfg(feature = "fetch")]
mod fetch_sources;
pub mod folder;
pub mod idx;
pub mod image_file;
pub mod info;
pub mod mnist;
pub mod resample;
pub mod shapes;

use std::path::PathBuf;

use burn::prelude::*;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::config::{DataConfig, DatasetKind, PixelRange};
use crate::error::{Error, Result};

/// A set of equally-sized images, `u8` pixels in N×C×H×W order, with optional labels.
#[derive(Debug, Clone)]
pub struct ImageSet {
    /// Pixels, `len() * C*H*W` bytes.
    pub pixels: Vec<u8>,
    /// `[channels, height, width]`.
    pub shape: [usize; 3],
    /// One label per image where the format has them.
    pub labels: Option<Vec<u8>>,
}

/// The two splits of a dataset.
#[derive(Debug, Clone)]
pub struct Splits {
    /// Training images.
    pub train: ImageSet,
    /// Evaluation (test / validation) images.
    pub eval: ImageSet,
}

impl Splits {
    /// The labels of both splits (training, evaluation); an error for a dataset without them.
    pub fn labels(&self, dataset: DatasetKind) -> Result<(&[u8], &[u8])> {
        match (&self.train.labels, &self.eval.labels) {
            (Some(a), Some(b)) => Ok((a, b)),
            _ => Err(Error::Unsupported(format!(
                "dataset `{dataset}` has no labels: classification needs mnist, fashion-mnist, cifar10 or shapes (circle/square)"
            ))),
        }
    }
}

/// One split of a dataset: the one vocabulary of `--split`, `--fit-on` and `dataset:NAME:SPLIT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    /// The training split.
    Train,
    /// The test split (CelebA: its test partition; shapes: the generated evaluation images):
    /// what a run is evaluated on.
    #[serde(alias = "eval")]
    Test,
}

name_enum!(Split, "split", [(Train, "train"), (Test, "test")]);

/// A source of data: one implementation per dataset format.
pub trait DataSource {
    /// Loads (or generates) both splits.
    fn load(&self) -> Result<Splits>;
}

/// Loads the dataset a run is configured with.
pub fn load(config: &DataConfig, seed: u64) -> Result<Splits> {
    let (train_size, test_size) = (config.train_size, config.test_size);
    let dir = data_dir(config)?;
    let splits = match config.dataset {
        DatasetKind::Shapes => shapes::Shapes {
            train_size,
            test_size,
            seed,
        }
        .load(),
        DatasetKind::Mnist | DatasetKind::FashionMnist => mnist::Mnist {
            dir,
            train_size,
            test_size,
        }
        .load(),
        DatasetKind::Cifar10 => cifar::Cifar10 {
            dir,
            train_size,
            test_size,
        }
        .load(),
        DatasetKind::Celeba => celeba::Celeba {
            dir,
            train_size,
            test_size,
        }
        .load(),
        DatasetKind::Folder => folder::Folder {
            dir,
            image_size: config.image_size,
            train_size,
            test_size,
        }
        .load(),
    }?;
    let expected = config.layout().image_shape();
    if splits.train.shape != expected || splits.eval.shape != expected {
        return Err(Error::Unsupported(format!(
            "{} loaded images of shape {:?}, the networks expect {expected:?}",
            config.dataset, splits.train.shape
        )));
    }
    Ok(splits)
}

/// The fetch cache: `$LORAE_DATA_DIR`, else `~/.cache/lorae/data` (what `lorae data fetch`
/// fills, one folder per dataset).
pub fn cache_root() -> PathBuf {
    match std::env::var_os("LORAE_DATA_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_default()
            .join(".cache/lorae/data"),
    }
}

/// The directory a dataset is read from: `--data-dir`, else its folder in the fetch cache.
pub fn data_dir(config: &DataConfig) -> Result<PathBuf> {
    match (&config.data_dir, config.dataset) {
        (Some(dir), _) => Ok(dir.clone()),
        (None, DatasetKind::Folder) => Err(Error::invalid(
            "data-dir",
            "(none)",
            "--dataset folder needs --data-dir DIR",
        )),
        (None, kind) => Ok(cache_root().join(kind.to_string())),
    }
}

/// The first `limit` images (all, if `None`) of one split, without loading the other.
pub fn load_split(
    config: &DataConfig,
    seed: u64,
    split: Split,
    limit: Option<usize>,
) -> Result<ImageSet> {
    let train = split == Split::Train;
    let mut config = config.clone();
    let cap = |n: usize| limit.map_or(n, |l| l.min(n));
    if train {
        (config.train_size, config.test_size) = (cap(config.train_size), 0);
    } else {
        (config.train_size, config.test_size) = (0, cap(config.test_size));
    }
    let splits = load(&config, seed)?;
    Ok(if train { splits.train } else { splits.eval })
}

/// The first `limit` images (all, if `None`) of a run's evaluation split, without its training split.
pub fn load_eval(config: &DataConfig, seed: u64, limit: Option<usize>) -> Result<ImageSet> {
    load_split(config, seed, Split::Test, limit)
}

impl ImageSet {
    /// Pixels per image (C·H·W).
    pub fn image_len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.pixels.len() / self.image_len()
    }

    /// True when there are no images.
    pub fn is_empty(&self) -> bool {
        self.pixels.is_empty()
    }

    /// The first `n` images (or all, if fewer).
    pub fn take(&self, n: usize) -> ImageSet {
        let n = n.min(self.len());
        ImageSet {
            pixels: self.pixels[..n * self.image_len()].to_vec(),
            shape: self.shape,
            labels: self.labels.as_ref().map(|l| l[..n].to_vec()),
        }
    }

    /// Images `indices` as floats in `range`, `[batch, C, H, W]`.
    pub fn batch(&self, indices: &[usize], range: PixelRange, device: &Device) -> Tensor<4> {
        let len = self.image_len();
        let mut values = Vec::with_capacity(indices.len() * len);
        for &i in indices {
            let image = &self.pixels[i * len..(i + 1) * len];
            values.extend(image.iter().map(|&p| scale_pixel(p, range)));
        }
        let [c, h, w] = self.shape;
        Tensor::from_data(TensorData::new(values, [indices.len(), c, h, w]), device)
    }

    /// Mean squared error of predicting every image of `eval` by the per-pixel mean of `self`
    /// (in `range`): the score of a model that has learned nothing about the input.
    pub fn mean_image_mse(&self, eval: &ImageSet, range: PixelRange) -> Result<f64> {
        if self.shape != eval.shape || self.is_empty() || eval.is_empty() {
            return Err(Error::Unsupported(format!(
                "mean-image baseline needs two non-empty sets of one shape, got {:?} and {:?}",
                self.shape, eval.shape
            )));
        }
        let len = self.image_len();
        let mut mean = vec![0f64; len];
        for image in self.pixels.chunks_exact(len) {
            for (m, &p) in mean.iter_mut().zip(image) {
                *m += scale_pixel(p, range) as f64;
            }
        }
        mean.iter_mut().for_each(|m| *m /= self.len() as f64);
        let mut sum = 0f64;
        for image in eval.pixels.chunks_exact(len) {
            for (m, &p) in mean.iter().zip(image) {
                let d = scale_pixel(p, range) as f64 - m;
                sum += d * d;
            }
        }
        Ok(sum / eval.pixels.len() as f64)
    }
}

/// One `u8` pixel as a float in `range`.
pub fn scale_pixel(p: u8, range: PixelRange) -> f32 {
    let unit = p as f32 / 255.0;
    match range {
        PixelRange::ZeroOne => unit,
        PixelRange::PlusMinusOne => unit * 2.0 - 1.0,
    }
}

/// A float in `range` back to a `u8` pixel (clamped).
pub fn unscale_pixel(v: f32, range: PixelRange) -> u8 {
    let unit = match range {
        PixelRange::ZeroOne => v,
        PixelRange::PlusMinusOne => (v + 1.0) / 2.0,
    };
    (unit.clamp(0.0, 1.0) * 255.0).round() as u8
}

/// Index order of epoch `epoch` (1-based): a permutation seeded by the run seed and the epoch,
/// so a resumed run sees the same batches as an uninterrupted one.
pub fn epoch_order(n: usize, seed: u64, epoch: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5EED_0000_0000_0000 ^ epoch as u64);
    order.shuffle(&mut rng);
    order
}
