//! Per-epoch metrics, appended to `RUN/metrics.jsonl` (one JSON object per line).

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// File name of the metrics log in a run directory.
pub const METRICS_FILE: &str = "metrics.jsonl";

/// What one epoch measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochMetrics {
    /// Epoch number, 1-based.
    pub epoch: usize,
    /// Mean training objective (reconstruction + regulariser) over the epoch's batches; for a GAN,
    /// discriminator + generator loss.
    pub train_loss: f64,
    /// Mean training reconstruction MSE (per pixel).
    pub train_reconstruction: f64,
    /// Mean weighted regulariser (0 for AE and IRMAE).
    pub train_regularizer: f64,
    /// Reconstruction MSE per pixel on the evaluation set (deterministic codes); none for a GAN.
    pub eval_mse: Option<f64>,
    /// MSE of predicting every evaluation image by the training mean image.
    pub baseline_mse: f64,
    /// True when `eval_mse` did not fall clearly below `baseline_mse` (collapse, see README).
    pub collapsed: bool,
    /// Effective rank of the evaluation codes' covariance at `rank_threshold`; none for a GAN.
    pub effective_rank: Option<usize>,
    /// Threshold on the normalised singular values.
    pub rank_threshold: f64,
    /// Normalised singular values of the evaluation codes' covariance, descending.
    pub singular_values: Vec<f64>,
    /// GAN: mean discriminator loss.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discriminator_loss: Option<f64>,
    /// GAN: mean (non-saturating) generator loss.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generator_loss: Option<f64>,
    /// RRAE / aRRAE: the rank the decoder saw at the epoch's end (aRRAE: its search's rank of
    /// the moment); absent for other models.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncation_rank: Option<usize>,
    /// Wall-clock seconds of the epoch (training and evaluation).
    pub seconds: f64,
}

/// Reads every line of a metrics log.
pub fn read_all(path: &Path) -> Result<Vec<EpochMetrics>> {
    crate::io::atomic::require_regular(path)?;
    let text = std::fs::read_to_string(path).map_err(|e| Error::io("cannot read", path, e))?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, line)| {
            serde_json::from_str(line)
                .map_err(|e| Error::bad_file(path, format!("line {}: {e}", i + 1)))
        })
        .collect()
}
