//! What one side of an FID comparison can be: a folder of images (as `python -m pytorch_fid`
//! reads it), a split of a known dataset (`dataset:mnist:test`), or statistics saved earlier
//! (`.npz`, pytorch-fid's layout). Dataset statistics are cached so the real side is computed once.

use std::path::{Path, PathBuf};

use crate::config::{DatasetKind, ModelKind, RunConfig};
use crate::data::{self, ImageSet, Split};
use crate::error::{Error, Result};

/// One side of an FID comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum ImageSource {
    /// PNG/JPEG files directly in a folder, in name order, decoded to RGB at their own size.
    Folder(PathBuf),
    /// A split of a dataset read by [`crate::data`].
    Dataset {
        /// The dataset.
        kind: DatasetKind,
        /// The split.
        split: Split,
    },
    /// Statistics in an `.npz` file (`mu`, `sigma`).
    Stats(PathBuf),
}

impl ImageSource {
    /// Parses `dataset:NAME[:train|test]` (test by default), `FILE.npz` or a folder path.
    pub fn parse(text: &str) -> Result<Self> {
        if let Some(rest) = text.strip_prefix("dataset:") {
            let (name, split) = rest.split_once(':').unwrap_or((rest, "test"));
            let kind: DatasetKind = name.parse()?;
            let split: Split = split.parse()?;
            if kind == DatasetKind::Folder {
                return Err(Error::invalid(
                    "dataset",
                    text,
                    "give the folder's path itself instead of dataset:folder",
                ));
            }
            return Ok(ImageSource::Dataset { kind, split });
        }
        let path = PathBuf::from(text);
        if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("npz"))
        {
            Ok(ImageSource::Stats(path))
        } else {
            Ok(ImageSource::Folder(path))
        }
    }

    /// A short name for messages and cache files (`mnist-test`, the folder path, ...).
    pub fn label(&self) -> String {
        match self {
            ImageSource::Folder(p) | ImageSource::Stats(p) => p.display().to_string(),
            ImageSource::Dataset { kind, split } => format!("{kind}-{split}"),
        }
    }

    /// The images (at most `limit`); a dataset is read from `data_dir` or the fetch cache.
    pub fn load(&self, data_dir: Option<&Path>, limit: Option<usize>) -> Result<ImageSet> {
        match self {
            ImageSource::Folder(dir) => load_folder(dir, limit),
            ImageSource::Dataset { kind, split } => {
                let mut config = RunConfig::for_dataset(ModelKind::Ae, *kind).data;
                config.data_dir = data_dir.map(Path::to_path_buf);
                data::load_split(&config, 0, *split, limit)
            }
            ImageSource::Stats(p) => Err(Error::invalid(
                "source",
                p.display(),
                "this is a statistics file, it holds no images",
            )),
        }
    }
}

/// Every `.png`, `.jpg` and `.jpeg` file directly in `dir`, in name order (at most `limit`),
/// decoded to RGB like PIL's `convert("RGB")`; all must have one size.
pub fn load_folder(dir: &Path, limit: Option<usize>) -> Result<ImageSet> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io("cannot list", dir, e))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file()
                && p.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                    ["png", "jpg", "jpeg"].contains(&e.to_ascii_lowercase().as_str())
                })
        })
        .collect();
    files.sort();
    files.truncate(limit.unwrap_or(usize::MAX));
    if files.is_empty() {
        return Err(Error::invalid(
            "images",
            dir.display(),
            "the folder holds no .png/.jpg/.jpeg files",
        ));
    }
    // The first image's header gives the size of them all (checked as each is decoded), so the
    // folder's memory is known before anything is decoded.
    crate::io::atomic::require_regular(&files[0])?;
    let (w, h) = image::ImageReader::open(&files[0])
        .and_then(|r| r.with_guessed_format())
        .map_err(|e| Error::io("cannot read", &files[0], e))?
        .into_dimensions()
        .map_err(|e| Error::bad_file(&files[0], format!("cannot decode image: {e}")))?;
    crate::limits::check(
        "images",
        dir.display(),
        crate::limits::product(&[files.len(), 3, w as usize, h as usize]),
    )?;
    let mut pixels = Vec::new();
    let mut shape: Option<[usize; 3]> = None;
    for file in &files {
        let img = crate::data::image_file::decode(file)?.to_rgb8();
        let (w, h) = (img.width() as usize, img.height() as usize);
        match shape {
            None => shape = Some([3, h, w]),
            Some([_, h0, w0]) if (h0, w0) != (h, w) => {
                return Err(Error::bad_file(
                    file,
                    format!("image is {w}×{h}, the folder's first image is {w0}×{h0}: FID batches need one size"),
                ))
            }
            Some(_) => {}
        }
        let plane = h * w;
        let start = pixels.len();
        pixels.resize(start + 3 * plane, 0);
        for (i, p) in img.pixels().enumerate() {
            for c in 0..3 {
                pixels[start + c * plane + i] = p.0[c];
            }
        }
    }
    Ok(ImageSet {
        pixels,
        shape: shape.unwrap_or([3, 0, 0]),
        labels: None,
    })
}
