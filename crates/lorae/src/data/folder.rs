//! A folder of the user's own images: every PNG and JPEG under a directory (recursively, in sorted
//! path order), centre-cropped to a square and resized to `image_size`, as RGB. Every tenth image
//! (positions 9, 19, 29, …) is held out for evaluation, so the split does not depend on the limits.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::image_file::{self, Resize};
use super::{DataSource, ImageSet, Splits};
use crate::error::{Error, Result};

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
    pub eval_size: usize,
}

impl DataSource for Folder {
    fn load(&self) -> Result<Splits> {
        let mut files = Vec::new();
        collect(&self.dir, &mut files)?;
        files.sort();
        if files.len() < 2 {
            return Err(Error::bad_file(
                &self.dir,
                format!("holds {} PNG/JPEG images; at least 2 are needed (one to train, one to evaluate)", files.len()),
            ));
        }
        let (eval, train): (Vec<_>, Vec<_>) = files
            .into_iter()
            .enumerate()
            .partition(|(i, _)| i % 10 == 9);
        let mut eval: Vec<PathBuf> = eval.into_iter().map(|(_, f)| f).collect();
        let mut train: Vec<PathBuf> = train.into_iter().map(|(_, f)| f).collect();
        if eval.is_empty() {
            // Fewer than 10 images: hold out the last one.
            eval.extend(train.pop());
        }
        let resize = Resize {
            crop: None,
            size: self.image_size as u32,
            channels: 3,
        };
        Ok(Splits {
            train: load_all(&train[..train.len().min(self.train_size)], resize)?,
            eval: load_all(&eval[..eval.len().min(self.eval_size)], resize)?,
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

fn collect(dir: &Path, files: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        Error::io(
            "cannot read image folder (pass an existing --data-dir)",
            dir,
            e,
        )
    })?;
    for entry in entries {
        let path = entry
            .map_err(|e| Error::io("cannot list image folder", dir, e))?
            .path();
        if path.is_dir() {
            collect(&path, files)?;
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| ["png", "jpg", "jpeg"].contains(&e.to_ascii_lowercase().as_str()))
        {
            files.push(path);
        }
    }
    Ok(())
}
