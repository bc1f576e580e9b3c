//! A run's evaluation codes, the starting point of every analysis command: the model loaded
//! (its linear chain folded into the encoder where it can be: same codes, fewer products), the
//! first `limit` evaluation images, and their codes. GAN runs have no encoder and are refused.

use std::path::Path;

use burn::prelude::*;

use crate::config::RunConfig;
use crate::data::{self, ImageSet};
use crate::error::Result;
use crate::latent::spectrum::{check_threshold, spectrum, Spectrum};
use crate::latent::{encode_set, Codes, EVAL_BATCH};
use crate::model::Autoencoder;

/// A run with its evaluation images and their codes.
pub struct RunCodes {
    /// The run's configuration.
    pub config: RunConfig,
    /// The model, folded where it can be.
    pub model: Autoencoder,
    /// The evaluation images encoded.
    pub eval: ImageSet,
    /// Their codes, `[n, d]`.
    pub codes: Codes,
}

impl RunCodes {
    /// Loads the run in `run` and encodes its first `limit` evaluation images (all if `None`).
    pub fn load(run: &Path, limit: Option<usize>, device: &Device) -> Result<Self> {
        let dir = super::RunDir::open(run)?;
        dir.require_encoder()?;
        let model = dir.model(device)?;
        let config = dir.config().clone();
        // A chain with ReLUs between its layers cannot fold; it encodes as it is.
        let model = model.fold().unwrap_or(model);
        let eval = data::load_eval(&config.data, config.seed, limit)?;
        let codes = encode_set(&model, &eval, config.data.pixel_range, EVAL_BATCH, device)
            .map_err(|e| e.in_run(run))?;
        Ok(RunCodes {
            config,
            model,
            eval,
            codes,
        })
    }

    /// The spectrum of the codes at `threshold` (default: the run's).
    pub fn spectrum(&self, threshold: Option<f64>) -> Result<Spectrum> {
        let threshold = threshold.unwrap_or(self.config.eval.rank_threshold);
        check_threshold(threshold)?;
        spectrum(&self.codes, threshold)
    }
}

/// File name of the spectrum `lorae spectrum` writes into a run directory.
pub const SPECTRUM_FILE: &str = "spectrum.json";

/// The spectrum of the run's evaluation codes at `threshold` (default: the run's), also written
/// to `RUN/spectrum.json`; with the number of codes and their dimension.
pub fn run_spectrum(
    run: &Path,
    threshold: Option<f64>,
    device: &Device,
) -> Result<(Spectrum, usize, usize)> {
    let codes = RunCodes::load(run, None, device)?;
    let spec = codes.spectrum(threshold)?;
    let json = serde_json::to_vec(&spec)
        .map_err(|e| crate::error::Error::Serialize(format!("a spectrum: {e}")))?;
    crate::io::atomic::write_atomic(&run.join(SPECTRUM_FILE), &json)?;
    Ok((spec, codes.codes.len(), codes.codes.dim))
}
