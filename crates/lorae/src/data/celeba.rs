//! CelebA from the aligned JPEG folder (`img_align_celeba/`) and the official partition file
//! (`list_eval_partition.txt`: `000001.jpg 0` per line; 0 train, 1 validation, 2 test). Images are
//! centre-cropped to 148×148 and resized to 64×64. Training uses partition 0 (162 770 images),
//! evaluation partition 2 (19 962).

use std::path::PathBuf;

use rayon::prelude::*;

use super::image_file::{self, Resize};
use super::{DataSource, ImageSet, Splits};
use crate::error::{Error, Result};

/// Centre crop side (pixels of the 178×218 aligned images).
pub const CROP: u32 = 148;
/// Side of the images given to the model.
pub const SIDE: usize = 64;
/// File listing each image's partition.
pub const PARTITION_FILE: &str = "list_eval_partition.txt";
/// Folder of the aligned JPEGs.
pub const IMAGE_DIR: &str = "img_align_celeba";

/// A CelebA directory.
#[derive(Debug, Clone)]
pub struct Celeba {
    /// Directory holding `img_align_celeba/` and `list_eval_partition.txt`.
    pub dir: PathBuf,
    /// At most this many training images.
    pub train_size: usize,
    /// At most this many evaluation (test-partition) images.
    pub test_size: usize,
}

impl Celeba {
    /// `(file name, partition)` for every line of the partition file.
    pub fn partition(&self) -> Result<Vec<(String, u8)>> {
        if !self.dir.is_dir() {
            return Err(Error::bad_file(
                &self.dir,
                "no such data directory: download aligned CelebA (img_align_celeba/ and list_eval_partition.txt) and pass --data-dir",
            ));
        }
        let path = self.dir.join(PARTITION_FILE);
        crate::io::atomic::require_regular(&path)?;
        let text = std::fs::read_to_string(&path)
            .map_err(|e| Error::io("cannot read CelebA partition file", &path, e))?;
        text.lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, line)| {
                let mut parts = line.split_whitespace();
                match (
                    parts.next(),
                    parts.next().map(str::parse::<u8>),
                    parts.next(),
                ) {
                    (Some(name), Some(Ok(p @ 0..=2)), None) => Ok((name.to_string(), p)),
                    _ => Err(Error::bad_file(
                        &path,
                        format!("line {} is `{line}`, expected `FILE.jpg 0|1|2`", i + 1),
                    )),
                }
            })
            .collect()
    }

    fn load_partition(
        &self,
        entries: &[(String, u8)],
        which: u8,
        limit: usize,
    ) -> Result<ImageSet> {
        let files: Vec<PathBuf> = entries
            .iter()
            .filter(|(_, p)| *p == which)
            .take(limit)
            .map(|(name, _)| self.dir.join(IMAGE_DIR).join(name))
            .collect();
        if files.is_empty() && limit > 0 {
            let split = if which == 0 { "training" } else { "test" };
            return Err(Error::bad_file(
                self.dir.join(PARTITION_FILE),
                format!("lists no {split} images (no line ends in ` {which}`); use the official partition file of aligned CelebA"),
            ));
        }
        let resize = Resize {
            crop: Some(CROP),
            size: SIDE as u32,
            channels: 3,
        };
        let images: Vec<Vec<u8>> = files
            .par_iter()
            .map(|f| image_file::load(f, resize))
            .collect::<Result<_>>()?;
        Ok(ImageSet {
            pixels: images.concat(),
            shape: [3, SIDE, SIDE],
            labels: None,
        })
    }
}

impl DataSource for Celeba {
    fn load(&self) -> Result<Splits> {
        let entries = self.partition()?;
        Ok(Splits {
            train: self.load_partition(&entries, 0, self.train_size)?,
            eval: self.load_partition(&entries, 2, self.test_size)?,
        })
    }
}
