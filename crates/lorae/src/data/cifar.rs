//! CIFAR-10 from its standard binary batches (`data_batch_1.bin` … `data_batch_5.bin`,
//! `test_batch.bin`, optionally under `cifar-10-batches-bin/`): records of one label byte followed
//! by 3×32×32 channel-major pixels.

use std::path::{Path, PathBuf};

use super::{DataSource, ImageSet, Splits};
use crate::error::{Error, Result};

/// Bytes of one record: label + 3072 pixels.
pub const RECORD: usize = 1 + 3 * 32 * 32;

/// A CIFAR-10 binary directory.
#[derive(Debug, Clone)]
pub struct Cifar10 {
    /// Directory holding the batches (or their `cifar-10-batches-bin/` folder).
    pub dir: PathBuf,
    /// At most this many training images.
    pub train_size: usize,
    /// At most this many test images.
    pub test_size: usize,
}

impl Cifar10 {
    fn root(&self) -> Result<PathBuf> {
        let nested = self.dir.join("cifar-10-batches-bin");
        if nested.is_dir() {
            Ok(nested)
        } else if self.dir.is_dir() {
            Ok(self.dir.clone())
        } else {
            Err(Error::bad_file(
                &self.dir,
                "no such data directory: download the CIFAR-10 binary version and pass --data-dir",
            ))
        }
    }
}

impl DataSource for Cifar10 {
    fn load(&self) -> Result<Splits> {
        let root = self.root()?;
        let train: Vec<PathBuf> = (1..=5)
            .map(|i| root.join(format!("data_batch_{i}.bin")))
            .collect();
        Ok(Splits {
            train: read_batches(&train, self.train_size)?,
            eval: read_batches(&[root.join("test_batch.bin")], self.test_size)?,
        })
    }
}

/// Reads records from `files` in order until `limit` images.
pub fn read_batches(files: &[PathBuf], limit: usize) -> Result<ImageSet> {
    let mut pixels = Vec::new();
    let mut labels = Vec::new();
    for file in files {
        if labels.len() >= limit {
            break;
        }
        let bytes = read(file)?;
        for record in bytes.chunks_exact(RECORD).take(limit - labels.len()) {
            if record[0] > 9 {
                return Err(Error::bad_file(
                    file,
                    format!(
                        "label {} at record {} is not a CIFAR-10 class (0–9)",
                        record[0],
                        labels.len()
                    ),
                ));
            }
            labels.push(record[0]);
            pixels.extend_from_slice(&record[1..]);
        }
    }
    Ok(ImageSet {
        pixels,
        shape: [3, 32, 32],
        labels: Some(labels),
    })
}

fn read(file: &Path) -> Result<Vec<u8>> {
    let bytes = crate::io::atomic::read(file)?;
    if bytes.is_empty() || bytes.len() % RECORD != 0 {
        return Err(Error::bad_file(
            file,
            format!(
                "{} bytes is not a whole number of {RECORD}-byte records (label + 3×32×32): truncated, or not the binary version",
                bytes.len()
            ),
        ));
    }
    Ok(bytes)
}
