//! What a dataset holds once loaded (`lorae data info`): counts, image shape, pixel mean and
//! standard deviation on [0, 1] of the training split, as torchvision's normalisation constants
//! are computed (for MNIST and Fashion-MNIST at the files' 28×28: resizing smooths the digits and
//! lowers the std), and label counts of both splits.

use std::path::PathBuf;

use serde::Serialize;

use super::mnist::Mnist;
use super::{data_dir, load, ImageSet};
use crate::config::{DataConfig, DatasetKind};
use crate::error::Result;

/// A dataset's description.
#[derive(Debug, Clone, Serialize)]
pub struct DatasetInfo {
    /// The dataset.
    pub dataset: String,
    /// Its folder.
    pub dir: PathBuf,
    /// Training images.
    pub train_count: usize,
    /// Test images.
    pub test_count: usize,
    /// `[C, H, W]` as the model sees them.
    pub shape: [usize; 3],
    /// Mean training pixel on [0, 1], at the files' resolution.
    pub pixel_mean: f64,
    /// Its standard deviation.
    pub pixel_std: f64,
    /// Images per label (0..=max) of the training split, where there are labels.
    pub label_counts: Option<Vec<usize>>,
    /// The same of the test split.
    pub test_label_counts: Option<Vec<usize>>,
}

/// Loads the dataset `config` names and describes it.
pub fn describe(config: &DataConfig) -> Result<DatasetInfo> {
    let splits = load(config, 0)?;
    let dir = data_dir(config)?;
    let (pixel_mean, pixel_std) = match config.dataset {
        DatasetKind::Mnist | DatasetKind::FashionMnist => {
            let source = Mnist {
                dir: dir.clone(),
                train_size: config.train_size,
                test_size: config.test_size,
            };
            pixel_stats(&source.load_split_raw("train", config.train_size)?)
        }
        _ => pixel_stats(&splits.train),
    };
    Ok(DatasetInfo {
        dataset: config.dataset.to_string(),
        dir,
        train_count: splits.train.len(),
        test_count: splits.eval.len(),
        shape: splits.train.shape,
        pixel_mean,
        pixel_std,
        label_counts: label_counts(&splits.train),
        test_label_counts: label_counts(&splits.eval),
    })
}

/// Mean and standard deviation of all pixels, on [0, 1].
fn pixel_stats(set: &ImageSet) -> (f64, f64) {
    let n = set.pixels.len().max(1) as f64;
    let (sum, sq) = set.pixels.iter().fold((0f64, 0f64), |(s, q), &p| {
        let v = p as f64 / 255.0;
        (s + v, q + v * v)
    });
    let mean = sum / n;
    (mean, (sq / n - mean * mean).max(0.0).sqrt())
}

/// How many images carry each label (0..=max label).
fn label_counts(set: &ImageSet) -> Option<Vec<usize>> {
    let labels = set.labels.as_ref()?;
    let max = labels.iter().copied().max().unwrap_or(0) as usize;
    let mut counts = vec![0usize; max + 1];
    labels.iter().for_each(|&l| counts[l as usize] += 1);
    Some(counts)
}
