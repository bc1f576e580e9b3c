//! A folder of the user's own images: every PNG and JPEG under a directory (recursively, in sorted
//! path order), centre-cropped to a square and resized to `image_size`, as RGB. Every tenth image
//! (positions 9, 19, 29, …) is held out for evaluation, so the split does not depend on the limits.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::image_file::{self, Resize};
use super::{DataSource, ImageSet, Splits};
use crate::error::{Error, Result};

/// The fewest images a folder can train on: 18 to train, 2 to evaluate.
pub const MIN_IMAGES: usize = 20;

/// An image folder.
#[derive(Debug, Clone)]
pub struct Folder {
    /// Directory searched recursively.
    pub dir: PathBuf,
    /// Output side in pixels.
    pub image_size: usize,
    /// At most this many training images.
    pub train_size: usize,
    /// At most this many evaluation images.
    pub test_size: usize,
}

impl DataSource for Folder {
    fn load(&self) -> Result<Splits> {
        if ![32, 64].contains(&self.image_size) {
            return Err(Error::invalid(
                "image-size",
                self.image_size,
                "folder images are resized to 32 (CIFAR networks) or 64 (CelebA networks)",
            ));
        }
        let files = image_files(&self.dir)?;
        // Every tenth image is held out, and the evaluation needs two codes (a covariance).
        if files.len() < MIN_IMAGES {
            return Err(Error::bad_file(
                &self.dir,
                format!(
                    "holds {} PNG/JPEG images; at least {MIN_IMAGES} are needed (every 10th is held out for evaluation, which needs 2)",
                    files.len()
                ),
            ));
        }
        let (eval, train): (Vec<_>, Vec<_>) = files
            .into_iter()
            .enumerate()
            .partition(|(i, _)| i % 10 == 9);
        let eval: Vec<PathBuf> = eval.into_iter().map(|(_, f)| f).collect();
        let train: Vec<PathBuf> = train.into_iter().map(|(_, f)| f).collect();
        let resize = Resize {
            crop: None,
            size: self.image_size as u32,
            channels: 3,
        };
        Ok(Splits {
            train: load_all(&train[..train.len().min(self.train_size)], resize)?,
            eval: load_all(&eval[..eval.len().min(self.test_size)], resize)?,
        })
    }
}

fn load_all(files: &[PathBuf], resize: Resize) -> Result<ImageSet> {
    let images: Vec<Vec<u8>> = files
        .par_iter()
        .map(|f| image_file::load(f, resize))
        .collect::<Result<_>>()?;
    let side = resize.size as usize;
    Ok(ImageSet {
        pixels: images.concat(),
        shape: [3, side, side],
        labels: None,
    })
}

/// Every PNG/JPEG under `dir`, once each: entries are followed through symlinks, but a
/// directory already visited (a symlink loop, a link to a parent) is not entered again and a file
/// reached twice is listed once, so links cannot multiply images or leak training images into
/// the evaluation split. Only regular files are taken (a FIFO named `*.png` would block).
pub fn image_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut seen_dirs = HashSet::new();
    let mut seen_files = HashSet::new();
    let mut files = Vec::new();
    collect(dir, &mut seen_dirs, &mut seen_files, &mut files)?;
    files.sort();
    Ok(files)
}

fn collect(
    dir: &Path,
    seen_dirs: &mut HashSet<PathBuf>,
    seen_files: &mut HashSet<PathBuf>,
    files: &mut Vec<PathBuf>,
) -> Result<()> {
    let real = std::fs::canonicalize(dir).map_err(|e| {
        Error::io(
            "cannot read image folder (pass an existing --data-dir)",
            dir,
            e,
        )
    })?;
    if !seen_dirs.insert(real) {
        return Ok(());
    }
    let entries = std::fs::read_dir(dir).map_err(|e| {
        Error::io(
            "cannot read image folder (pass an existing --data-dir)",
            dir,
            e,
        )
    })?;
    let mut paths = Vec::new();
    for entry in entries {
        paths.push(
            entry
                .map_err(|e| Error::io("cannot list image folder", dir, e))?
                .path(),
        );
    }
    paths.sort();
    for path in paths {
        // `metadata` follows links; a dangling link is skipped like any other non-image.
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            collect(&path, seen_dirs, seen_files, files)?;
        } else if meta.is_file() && is_image_name(&path) {
            let real =
                std::fs::canonicalize(&path).map_err(|e| Error::io("cannot resolve", &path, e))?;
            if seen_files.insert(real) {
                files.push(path);
            }
        }
    }
    Ok(())
}

/// True for names ending in `.png`, `.jpg` or `.jpeg` (any case).
pub fn is_image_name(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| ["png", "jpg", "jpeg"].contains(&e.to_ascii_lowercase().as_str()))
}
