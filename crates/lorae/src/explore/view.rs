//! One run as `lorae explore` shows it, everything decoded on request: its latent spectrum; a
//! point moved along the top principal components of its evaluation codes, `z = m + Σᵢ tᵢ σᵢ aᵢ`
//! (`tᵢ` in standard deviations, as many sliders as the effective rank, at least 1 and at most
//! [`MAX_SLIDERS`]); samples of a Gaussian or GMM fitted to its evaluation codes (fitted once per
//! `k`, so a reseed only redraws); the line between the codes of two evaluation images.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use burn::prelude::Device;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::config::{ModelKind, RunConfig};
use crate::error::{Error, Result};
use crate::latent::interpolate::interpolate;
use crate::latent::pca::Pca;
use crate::latent::spectrum::Spectrum;
use crate::latent::{decode_codes, Codes, EVAL_BATCH};
use crate::model::Autoencoder;
use crate::report::grid::grid_png;
use crate::run::codes::RunCodes;
use crate::sampler::gaussian::Gaussian;
use crate::sampler::gmm::{Gmm, GmmConfig};
use crate::sampler::{Prior, Sampler, SamplerKind};
use crate::tensor::tensor_values;

/// At most this many principal-component sliders.
pub const MAX_SLIDERS: usize = 16;
/// Largest slider value accepted, in standard deviations (`|tᵢ| ≤ MAX_PC`). The page's sliders
/// span ±3σ; 10σ leaves room for a hand-made request while keeping the code within reach of the
/// evaluation codes the decoder was trained near (a Gaussian puts about 1e-23 of its mass beyond
/// 10σ), where a far larger value only decodes to a saturated picture.
pub const MAX_PC: f64 = 10.0;
/// At most this many GMM components.
pub const MAX_K: usize = 50;
/// At most this many images in one sample grid or strip.
pub const MAX_IMAGES: usize = 64;
/// At most this many decoded points on an interpolation.
pub const MAX_STEPS: usize = 32;

type Fitted = Arc<dyn Sampler + Send + Sync>;

/// A loaded run: model, evaluation images and codes, their PCA and spectrum.
pub struct RunView {
    /// Shown name (the run directory's name).
    pub name: String,
    config: RunConfig,
    model: Mutex<Autoencoder>,
    eval: crate::data::ImageSet,
    codes: Codes,
    pca: Pca,
    spectrum: Spectrum,
    fit_limit: usize,
    samplers: Mutex<HashMap<(SamplerKind, usize), Fitted>>,
    device: Device,
}

/// What the page needs to lay out a run's controls (`GET /api/runs`).
#[derive(Debug, Clone, Serialize)]
pub struct RunInfo {
    /// Index in the server's list.
    pub id: usize,
    /// Run directory name.
    pub name: String,
    /// Model family.
    pub model: String,
    /// Dataset.
    pub dataset: String,
    /// Latent dimension.
    pub latent_dim: usize,
    /// `[C, H, W]`.
    pub image_shape: [usize; 3],
    /// Evaluation images loaded (the strip and interpolation indices are below this).
    pub eval_images: usize,
    /// Codes the samplers are fitted to (the first of the evaluation codes).
    pub fit_codes: usize,
    /// The spectrum of the evaluation codes at the run's threshold.
    pub spectrum: Spectrum,
    /// Standard deviation along each slider's component.
    pub slider_std: Vec<f64>,
    /// Samplers this run offers.
    pub samplers: Vec<SamplerKind>,
    /// Largest GMM `k`.
    pub max_k: usize,
}

impl RunView {
    /// Loads the run at `run` with its first `limit` evaluation images (all when `None`); the
    /// samplers are fitted to the first `fit_limit` of their codes.
    pub fn load(
        run: &Path,
        limit: Option<usize>,
        fit_limit: usize,
        device: &Device,
    ) -> Result<Self> {
        if fit_limit < 2 {
            return Err(Error::invalid(
                "fit-limit",
                fit_limit,
                "the samplers need at least 2 codes to fit",
            ));
        }
        let RunCodes {
            config,
            model,
            eval,
            codes,
        } = RunCodes::load(run, limit, device)?;
        let spectrum = crate::latent::spectrum::spectrum(&codes, config.eval.rank_threshold)?;
        let pca = Pca::fit(&codes)?;
        let name = shown_name(run);
        Ok(RunView {
            name,
            config,
            model: Mutex::new(model),
            fit_limit: fit_limit.min(codes.len()),
            eval,
            codes,
            pca,
            spectrum,
            samplers: Mutex::new(HashMap::new()),
            device: device.clone(),
        })
    }

    /// Number of sliders: the effective rank, at least 1, at most [`MAX_SLIDERS`].
    pub fn sliders(&self) -> usize {
        self.spectrum.effective_rank.clamp(1, MAX_SLIDERS)
    }

    /// The page's description of this run, listed as `id`.
    pub fn info(&self, id: usize) -> RunInfo {
        let mut samplers = vec![SamplerKind::Gaussian, SamplerKind::Gmm];
        if self.config.model.kind == ModelKind::Vae {
            samplers.push(SamplerKind::Prior);
        }
        RunInfo {
            id,
            name: self.name.clone(),
            model: self.config.model.kind.to_string(),
            dataset: self.config.data.dataset.to_string(),
            latent_dim: self.codes.dim,
            image_shape: self.eval.shape,
            eval_images: self.eval.len(),
            fit_codes: self.fit_limit,
            spectrum: self.spectrum.clone(),
            slider_std: self.pca.std[..self.sliders()].to_vec(),
            samplers,
            max_k: MAX_K.min(self.fit_limit),
        }
    }

    /// PNG of the code at `t` standard deviations along the top components (missing ones 0).
    pub fn decode_point(&self, t: &[f64]) -> Result<Vec<u8>> {
        if t.len() > self.sliders() {
            return Err(Error::invalid(
                "pc",
                t.len(),
                format!("this run has {} sliders", self.sliders()),
            ));
        }
        if let Some((i, bad)) = t
            .iter()
            .enumerate()
            .find(|(_, v)| !v.is_finite() || v.abs() > MAX_PC)
        {
            // 1e308 as `1e308`, not as 309 digits.
            let shown = if bad.abs() < 1e6 {
                bad.to_string()
            } else {
                format!("{bad:e}")
            };
            return Err(Error::invalid(
                "pc",
                shown,
                format!(
                    "slider {}: each slider is a finite number of standard deviations from \
                     -{MAX_PC} to {MAX_PC}",
                    i + 1
                ),
            ));
        }
        let mut z = self.pca.mean.clone(); // [d]
        for (i, &ti) in t.iter().enumerate() {
            z += &self.pca.axes[i] * (ti * self.pca.std[i]);
        }
        let codes = Codes {
            values: z.iter().map(|&v| v as f32).collect(),
            dim: self.codes.dim,
        };
        self.png(&self.decode(&codes)?, 1, 1)
    }

    /// PNG grid of `n` samples (`rows × cols` near square) of `kind` (GMM with `k` components),
    /// drawn with `seed`.
    pub fn samples(&self, kind: SamplerKind, k: usize, n: usize, seed: u64) -> Result<Vec<u8>> {
        check_count("n", n, MAX_IMAGES)?;
        let sampler = self.sampler(kind, k)?;
        let codes = sampler.sample(n, &mut ChaCha8Rng::seed_from_u64(seed)); // [n, d]
        let cols = (n as f64).sqrt().ceil() as usize;
        self.png(&self.decode(&codes)?, n.div_ceil(cols), cols)
    }

    /// PNG strip: evaluation image `a`, `steps` decoded points from its code to `b`'s (ends
    /// included), image `b`.
    pub fn interpolation(&self, a: usize, b: usize, steps: usize) -> Result<Vec<u8>> {
        if !(2..=MAX_STEPS).contains(&steps) {
            return Err(Error::invalid(
                "steps",
                steps,
                format!("an interpolation has 2 to {MAX_STEPS} points"),
            ));
        }
        self.check_index("a", a)?;
        self.check_index("b", b)?;
        let path = interpolate(&self.codes, &[(a, b)], steps)?; // [steps, d]
        let mut values = self.originals(&[a])?;
        values.extend(self.decode(&path)?);
        values.extend(self.originals(&[b])?);
        self.png(&values, 1, steps + 2)
    }

    /// PNG strip of evaluation images `from .. from + n`.
    pub fn strip(&self, from: usize, n: usize) -> Result<Vec<u8>> {
        check_count("n", n, MAX_IMAGES)?;
        self.check_index("from", from)?;
        let indices: Vec<usize> = (from..(from + n).min(self.eval.len())).collect();
        self.png(&self.originals(&indices)?, 1, indices.len())
    }

    /// The sampler `kind` with `k` components, fitted on first use.
    fn sampler(&self, kind: SamplerKind, k: usize) -> Result<Fitted> {
        let k = if kind == SamplerKind::Gmm { k } else { 1 };
        let max_k = MAX_K.min(self.fit_limit);
        if !(1..=max_k).contains(&k) {
            return Err(Error::invalid(
                "k",
                k,
                format!("a GMM here has 1 to {max_k} components"),
            ));
        }
        let cache = || self.samplers.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(fitted) = cache().get(&(kind, k)) {
            return Ok(fitted.clone());
        }
        // Fitted without the lock: a long GMM fit does not hold up the samplers already fitted
        // (two first requests for the same k fit it twice, to the same model).
        let codes = Codes {
            values: self.codes.values[..self.fit_limit * self.codes.dim].to_vec(),
            dim: self.codes.dim,
        };
        let fitted: Fitted = match kind {
            SamplerKind::Gaussian => Arc::new(Gaussian::fit(&codes)?),
            SamplerKind::Gmm => Arc::new(Gmm::fit(
                &codes,
                &GmmConfig {
                    k,
                    ..GmmConfig::default()
                },
            )?),
            SamplerKind::Prior if self.config.model.kind == ModelKind::Vae => Arc::new(Prior {
                dim: self.codes.dim,
            }),
            SamplerKind::Prior => {
                return Err(Error::invalid(
                    "sampler",
                    "prior",
                    format!(
                        "only a VAE has a prior; this run is {}",
                        self.config.model.kind
                    ),
                ))
            }
        };
        cache().insert((kind, k), fitted.clone());
        Ok(fitted)
    }

    fn check_index(&self, field: &'static str, i: usize) -> Result<()> {
        if i >= self.eval.len() {
            return Err(Error::invalid(
                field,
                i,
                format!(
                    "evaluation images are numbered 0 to {}",
                    self.eval.len() - 1
                ),
            ));
        }
        Ok(())
    }

    /// Decoded images `[n, C, H, W]` of `codes`, one decode at a time.
    fn decode(&self, codes: &Codes) -> Result<Vec<f32>> {
        let model = self.model.lock().unwrap_or_else(PoisonError::into_inner);
        decode_codes(&model, codes, EVAL_BATCH, &self.device)
    }

    /// Evaluation images `indices` in the run's pixel range.
    fn originals(&self, indices: &[usize]) -> Result<Vec<f32>> {
        let range = self.config.data.pixel_range;
        tensor_values(self.eval.batch(indices, range, &self.device))
    }

    fn png(&self, values: &[f32], rows: usize, cols: usize) -> Result<Vec<u8>> {
        grid_png(
            values,
            self.eval.shape,
            rows,
            cols,
            self.config.data.pixel_range,
        )
    }
}

/// The run directory's name; with its parent's when it is only `run` (as in `lorae reproduce`'s
/// cells, `train-mnist-ae/run`).
fn shown_name(run: &Path) -> String {
    let parts: Vec<String> = run
        .components()
        .rev()
        .filter_map(|c| match c {
            std::path::Component::Normal(p) => Some(p.to_string_lossy().into_owned()),
            _ => None,
        })
        .take(2)
        .collect();
    match parts.as_slice() {
        [last, parent] if last == "run" => format!("{parent}/{last}"),
        [last, ..] => last.clone(),
        [] => run.display().to_string(),
    }
}

fn check_count(field: &'static str, n: usize, max: usize) -> Result<()> {
    if !(1..=max).contains(&n) {
        return Err(Error::invalid(field, n, format!("give 1 to {max}")));
    }
    Ok(())
}
