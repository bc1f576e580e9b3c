//! MNIST and Fashion-MNIST from their standard IDX files (raw or gzipped), digits resized 28→32
//! bilinearly. Files: `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte`,
//! `t10k-labels-idx1-ubyte`, each optionally with `.gz` (`lorae data fetch` fills the cache).

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::idx::{read_images, read_labels};
use super::image_file::resize_grey;
use super::{DataSource, ImageSet, Splits};
use crate::error::{Error, Result};

/// Side of the images given to the model.
pub const SIDE: usize = 32;

/// An IDX dataset directory (MNIST or Fashion-MNIST: same format, same layout).
#[derive(Debug, Clone)]
pub struct Mnist {
    /// Directory holding the four IDX files.
    pub dir: PathBuf,
    /// At most this many training images.
    pub train_size: usize,
    /// At most this many test images.
    pub test_size: usize,
}

impl Mnist {
    /// One split (`train` or `t10k`) at its original 28×28 size, with labels.
    pub fn load_split_raw(&self, prefix: &str, limit: usize) -> Result<ImageSet> {
        let images_path = find(&self.dir, &format!("{prefix}-images-idx3-ubyte"))?;
        let labels_path = find(&self.dir, &format!("{prefix}-labels-idx1-ubyte"))?;
        let images = read_images(&images_path)?;
        let labels = read_labels(&labels_path)?;
        if images.count != labels.len() {
            return Err(Error::bad_file(
                &labels_path,
                format!(
                    "{} labels for {} images in `{}`: the files do not belong together; fetch them again",
                    labels.len(),
                    images.count,
                    images_path.display()
                ),
            ));
        }
        if let Some((i, bad)) = labels.iter().enumerate().find(|(_, &l)| l > 9) {
            return Err(Error::bad_file(
                &labels_path,
                format!("label {bad} at item {i} is not a digit class (0–9): not an MNIST/Fashion-MNIST label file"),
            ));
        }
        let set = ImageSet {
            pixels: images.pixels,
            shape: [1, images.rows, images.cols],
            labels: Some(labels),
        };
        Ok(set.take(limit))
    }

    fn load_split(&self, prefix: &str, limit: usize) -> Result<ImageSet> {
        let raw = self.load_split_raw(prefix, limit)?;
        let [_, rows, cols] = raw.shape;
        if rows != cols {
            return Err(Error::Unsupported(format!(
                "{}: {rows}×{cols} images are not square",
                self.dir.display()
            )));
        }
        let digits: Vec<Vec<u8>> = raw
            .pixels
            .par_chunks(rows * cols)
            .map(|digit| resize_grey(digit, rows as u32, SIDE as u32))
            .collect::<Result<_>>()?;
        let pixels = digits.concat();
        Ok(ImageSet {
            pixels,
            shape: [1, SIDE, SIDE],
            labels: raw.labels,
        })
    }
}

impl DataSource for Mnist {
    fn load(&self) -> Result<Splits> {
        Ok(Splits {
            train: self.load_split("train", self.train_size)?,
            eval: self.load_split("t10k", self.test_size)?,
        })
    }
}

/// `dir/name` or `dir/name.gz`, whichever exists.
fn find(dir: &Path, name: &str) -> Result<PathBuf> {
    if !dir.is_dir() {
        return Err(Error::bad_file(
            dir,
            "no such data directory: run `lorae data fetch mnist` (or fashion-mnist), or pass --data-dir",
        ));
    }
    let raw = dir.join(name);
    let gz = dir.join(format!("{name}.gz"));
    match (raw.exists(), gz.exists()) {
        (true, _) => Ok(raw),
        (false, true) => Ok(gz),
        _ => Err(Error::bad_file(
            raw,
            "missing (neither it nor its .gz exists): run `lorae data fetch mnist` or check --data-dir",
        )),
    }
}
