//! From `u8` images to FID Inception features, with pytorch-fid's input conventions: pixels
//! scaled to [0, 1] (as `to_tensor` does), grey images repeated to three channels (as PIL's
//! `convert("RGB")` does), a bilinear resize to 299×299 (`F.interpolate(mode="bilinear",
//! align_corners=False)`) and scaling to [−1, 1] (`2x − 1`).

use burn::prelude::*;
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;

use super::inception::{FidInception, FEATURE_DIM, INPUT_SIZE};
use super::stats::{FeatureStats, StatsAccumulator};
use crate::data::ImageSet;
use crate::error::{Error, Result};
use crate::tensor::tensor_values;

/// The `[n_out, n_in]` row-major matrix of PyTorch's 1-D bilinear resize with
/// `align_corners=False`: source `(i + ½)·n_in/n_out − ½`, clamped at 0, between its two
/// neighbours (the last one repeated at the far edge). Computed in f32 as PyTorch's CPU kernel does.
pub fn resize_matrix(n_in: usize, n_out: usize) -> Vec<f32> {
    let scale = n_in as f32 / n_out as f32;
    let mut m = vec![0f32; n_out * n_in];
    for i in 0..n_out {
        let src = (scale * (i as f32 + 0.5) - 0.5).max(0.0);
        let i0 = (src as usize).min(n_in - 1);
        let i1 = if i0 < n_in - 1 { i0 + 1 } else { i0 };
        let l1 = src - i0 as f32;
        m[i * n_in + i0] += 1.0 - l1;
        m[i * n_in + i1] += l1;
    }
    m
}

/// Images `indices` of `set` as the network's input, `[b, 3, 299, 299]` in [−1, 1].
pub fn preprocess(set: &ImageSet, indices: &[usize], device: &Device) -> Result<Tensor<4>> {
    let [c, h, w] = set.shape;
    if c != 1 && c != 3 {
        return Err(Error::Unsupported(format!(
            "FID needs grey or RGB images, these have {c} channels"
        )));
    }
    let len = set.image_len();
    let mut values = Vec::with_capacity(indices.len() * len);
    for &i in indices {
        values.extend(
            set.pixels[i * len..(i + 1) * len]
                .iter()
                .map(|&p| p as f32 / 255.0),
        );
    }
    let b = indices.len();
    let x = Tensor::<4>::from_data(TensorData::new(values, [b, c, h, w]), device); // [b, c, h, w]
    let x = if (h, w) == (INPUT_SIZE, INPUT_SIZE) {
        x
    } else {
        let s = INPUT_SIZE;
        let rw = Tensor::<2>::from_data(TensorData::new(resize_matrix(w, s), [s, w]), device); // [299, w]
        let rh = Tensor::<2>::from_data(TensorData::new(resize_matrix(h, s), [s, h]), device); // [299, h]
        let x = x.reshape([b * c * h, w]).matmul(rw.transpose()); // [b·c·h, 299]
        let x = x
            .reshape([b * c, h, s])
            .swap_dims(1, 2)
            .reshape([b * c * s, h]); // [b·c·299(w), h]
        let x = x.matmul(rh.transpose()); // [b·c·299(w), 299(h)]
        x.reshape([b, c, s, s]).swap_dims(2, 3) // [b, c, 299, 299]
    };
    let x = x * 2.0 - 1.0; // [b, c, 299, 299] in [−1, 1]
    Ok(if c == 1 { x.repeat_dim(1, 3) } else { x }) // [b, 3, 299, 299]
}

/// Fails when a batch of `batch` images (at most `n`, the set's size) of `shape` cannot fit in
/// memory: the images as floats, their row-resized copy, and the network's activations and
/// column buffers (~16 values an input pixel at 299×299). On a GPU (`host` false) the network
/// runs layer by layer over the whole batch; on the CPU each thread takes one image through the
/// whole network, so only as many images as threads are in flight, whatever the batch.
pub fn check_batch_memory(shape: [usize; 3], batch: usize, n: usize, host: bool) -> Result<()> {
    let [c, h, w] = shape;
    let per_image = crate::limits::product(&[c, h, w, 4, 3])
        .saturating_add(crate::limits::product(&[3, INPUT_SIZE, INPUT_SIZE, 4, 16]));
    let mut in_flight = batch.min(n).max(1);
    if host {
        in_flight = in_flight.min(rayon::current_num_threads().max(1));
    }
    crate::limits::check(
        "batch-size",
        batch,
        per_image.saturating_mul(in_flight as u128),
    )
}

/// A progress bar over `n` images (hidden when `show` is false).
pub fn progress_bar(show: bool, n: usize, label: &str) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(n as u64);
    if let Ok(style) = ProgressStyle::with_template(
        "{prefix} [{elapsed_precise}] {wide_bar} {pos}/{len} images ({per_sec}, eta {eta})",
    ) {
        bar.set_style(style);
    }
    bar.set_prefix(label.to_string());
    bar
}

impl FidInception {
    /// Pool3 features of every image of `set`, row-major `[n, 2048]`, in batches of `batch`;
    /// `progress` advances by the images done.
    pub fn features(
        &self,
        set: &ImageSet,
        batch: usize,
        device: &Device,
        progress: &ProgressBar,
    ) -> Result<Vec<f32>> {
        let mut out = Vec::with_capacity(set.len() * FEATURE_DIM);
        self.for_each_batch(set, batch, device, progress, |f| {
            out.extend_from_slice(f);
            Ok(())
        })?;
        Ok(out)
    }

    /// Mean and covariance of the pool3 features of every image of `set`.
    pub fn statistics(
        &self,
        set: &ImageSet,
        batch: usize,
        device: &Device,
        progress: &ProgressBar,
    ) -> Result<FeatureStats> {
        let mut acc = StatsAccumulator::new(FEATURE_DIM);
        self.for_each_batch(set, batch, device, progress, |f| acc.add(f))?;
        acc.finish()
    }

    fn for_each_batch(
        &self,
        set: &ImageSet,
        batch: usize,
        device: &Device,
        progress: &ProgressBar,
        mut each: impl FnMut(&[f32]) -> Result<()>,
    ) -> Result<()> {
        let host = crate::device::is_host(device);
        check_batch_memory(set.shape, batch, set.len(), host)?;
        let _pages = crate::kernels::huge_pages::HugePagesOff::new();
        let indices: Vec<usize> = (0..set.len()).collect();
        for chunk in indices.chunks(batch.max(1)) {
            let features = if host {
                // One image per task, each through the whole network: a layer's activations
                // (at most 5.5 MB) stay in cache and its buffers are reused, where a batch's
                // (up to 280 MB a layer at 50 images) streamed through memory.
                // (Groups of 2, 5 and 25 images a task measured 20.5, 20.3 and 18.4 images/s
                // against one image's 20.8, `lorae bench fid --no-peer -n 100 --threads 2`.)
                let per_image = chunk
                    .par_iter()
                    .map(|&i| self.forward_host(preprocess(set, &[i], device)?))
                    .collect::<Result<Vec<_>>>()?; // b × [2048]
                per_image.concat() // [b, 2048]
            } else {
                let x = preprocess(set, chunk, device)?; // [b, 3, 299, 299]
                tensor_values(self.forward(x))? // [b, 2048]
            };
            each(&features)?;
            progress.inc(chunk.len() as u64);
        }
        progress.finish_and_clear();
        Ok(())
    }
}
