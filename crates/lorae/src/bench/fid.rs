//! `lorae bench fid`: FID feature extraction (decoding the PNGs, the 299×299 resize, Inception
//! up to pool3) in images per second, lorae against pytorch-fid (`peers/fid_features.py`,
//! `get_activations` with the same weights, batch size and thread count) on the same folder.
//! The two alternate over the rounds, so that a slow spell of a shared machine falls on both;
//! each side's rate is the median of its rounds. The ratio is lorae / pytorch-fid in images per
//! second: higher is better. Loading the network is left out on both sides.

use std::path::PathBuf;
use std::time::Instant;

use burn::prelude::Device;
use serde::Serialize;

use super::peer::{self, FID_FEATURES};
use super::step::median;
use crate::config::{DatasetKind, ModelKind, RunConfig};
use crate::data::Split;
use crate::error::{Error, Result};
use crate::eval::fid::inception::{FidInception, FEATURE_DIM};
use crate::eval::fid::source::load_folder;

/// What to time.
#[derive(Debug, Clone)]
pub struct FidBenchConfig {
    /// A folder of PNG / JPEG images (`None`: the first `n` shapes test images, written as PNGs).
    pub images: Option<PathBuf>,
    /// At most this many images.
    pub n: usize,
    /// FID weights (the file both sides load).
    pub weights: PathBuf,
    /// Images per forward pass (pytorch-fid's default: 50).
    pub batch: usize,
    /// Alternating rounds of the two sides.
    pub rounds: usize,
    /// The peer's Python (`None`: lorae only).
    pub peer: Option<PathBuf>,
}

/// The result.
#[derive(Debug, Clone, Serialize)]
pub struct FidBench {
    /// Images each round.
    pub images: usize,
    /// Their `[C, H, W]`.
    pub shape: [usize; 3],
    /// Threads both sides used.
    pub threads: usize,
    /// lorae's images per second, each round.
    pub lorae_rounds: Vec<f64>,
    /// Its median.
    pub lorae_images_per_s: f64,
    /// pytorch-fid's images per second, each round.
    pub peer_rounds: Vec<f64>,
    /// Its median.
    pub peer_images_per_s: Option<f64>,
    /// pytorch-fid's version.
    pub peer_version: Option<String>,
    /// lorae / pytorch-fid in images per second (higher is better).
    pub ratio: Option<f64>,
}

/// Times both sides as `config` says.
pub fn bench_fid(config: &FidBenchConfig, device: &Device) -> Result<FidBench> {
    if config.n == 0 || config.rounds == 0 || config.batch == 0 {
        return Err(Error::invalid(
            "n, rounds, batch-size",
            format!("{}, {}, {}", config.n, config.rounds, config.batch),
            "each must be at least 1",
        ));
    }
    let temp = tempfile::tempdir().map_err(|e| {
        Error::io(
            "cannot create a temporary directory",
            std::env::temp_dir(),
            e,
        )
    })?;
    // Both sides read the same files: the first n of the folder (by name), copied, or the
    // first n shapes test images written as PNGs.
    let folder = temp.path().join("images");
    match &config.images {
        Some(dir) => copy_first(dir, config.n, &folder)?,
        None => {
            let data = RunConfig::for_dataset(ModelKind::Ae, DatasetKind::Shapes).data;
            let set = crate::data::load_split(&data, 0, Split::Test, Some(config.n))?;
            crate::report::grid::save_set(&set, &folder)?;
        }
    }
    let net = FidInception::load(&config.weights, device)?;
    let threads = rayon::current_num_threads();
    let hidden = indicatif::ProgressBar::hidden();
    let (mut lorae_rounds, mut peer_rounds, mut peer_version) = (Vec::new(), Vec::new(), None);
    let (mut count, mut shape) = (0, [0; 3]);
    for round in 1..=config.rounds {
        let start = Instant::now();
        let images = load_folder(&folder, None)?;
        let features = net.features(&images, config.batch, device, &hidden)?;
        let rate = images.len() as f64 / start.elapsed().as_secs_f64();
        if features.len() != images.len() * FEATURE_DIM {
            return Err(Error::Numerical(format!(
                "{} features for {} images",
                features.len(),
                images.len()
            )));
        }
        (count, shape) = (images.len(), images.shape);
        crate::note!("round {round}: lorae {rate:.2} images/s");
        lorae_rounds.push(rate);
        if let Some(python) = &config.peer {
            let args: Vec<String> = vec![
                "--images".into(),
                folder.to_string_lossy().into_owned(),
                "--weights".into(),
                config.weights.to_string_lossy().into_owned(),
                "--batch-size".into(),
                config.batch.to_string(),
                "--threads".into(),
                threads.to_string(),
            ];
            let out = peer::run(python, FID_FEATURES, &args)?;
            let images = peer::number(&out.report, "images", FID_FEATURES)?;
            if images as usize != count {
                return Err(Error::Peer(format!(
                    "the peer read {images} images, lorae {count}: is the folder changing?"
                )));
            }
            let rate = peer::number(&out.report, "images_per_s", FID_FEATURES)?;
            crate::note!("round {round}: pytorch-fid {rate:.2} images/s");
            peer_rounds.push(rate);
            peer_version = out.report["pytorch_fid"].as_str().map(str::to_string);
        }
    }
    let lorae = median(&lorae_rounds);
    let peer_rate = (!peer_rounds.is_empty()).then(|| median(&peer_rounds));
    Ok(FidBench {
        images: count,
        shape,
        threads,
        lorae_rounds,
        lorae_images_per_s: lorae,
        peer_rounds,
        peer_images_per_s: peer_rate,
        peer_version,
        ratio: peer_rate.map(|p| lorae / p),
    })
}

/// Copies the first `n` PNG / JPEG files of `dir` (by name) into `out`.
fn copy_first(dir: &std::path::Path, n: usize, out: &std::path::Path) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io("cannot read", dir, e))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .filter(|p| {
            let ext = p.extension().map(|e| e.to_string_lossy().to_lowercase());
            matches!(ext.as_deref(), Some("png" | "jpg" | "jpeg"))
        })
        .collect();
    if files.is_empty() {
        return Err(Error::bad_file(
            dir,
            "holds no PNG or JPEG images: give a folder of images with --images",
        ));
    }
    files.sort();
    std::fs::create_dir_all(out).map_err(|e| Error::io("cannot create directory", out, e))?;
    for file in files.iter().take(n) {
        let name = file.file_name().unwrap_or_default();
        std::fs::copy(file, out.join(name)).map_err(|e| Error::io("cannot copy", file, e))?;
    }
    Ok(())
}
