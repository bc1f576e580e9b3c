//! A run directory: `config.json` (the resolved [`RunConfig`]), the current checkpoint
//! `checkpoint-NNNN/` named by `latest` (model, Adam state, training state and metrics as one
//! atomic unit, see [`snapshot`]), copies of its `model.safetensors` and `metrics.jsonl`, and the
//! writer's `lock`. [`crate::train`] writes runs; everything above reads them through here.

pub mod checkpoint;
pub mod codes;
pub mod import;
pub mod lock;
pub mod metrics;
pub mod snapshot;

use std::path::Path;

use burn::prelude::*;

use crate::config::{ModelKind, RunConfig};
use crate::error::{Error, Result};
use crate::io::atomic::read;
use crate::model::Autoencoder;

/// File name of the resolved configuration in a run directory.
pub const CONFIG_FILE: &str = "config.json";

/// Reads `RUN/config.json`.
pub fn load_config(run: &Path) -> Result<RunConfig> {
    let path = run.join(CONFIG_FILE);
    let bytes = read(&path)?;
    let config: RunConfig = serde_json::from_slice(&bytes)
        .map_err(|e| Error::bad_file(&path, format!("not a lorae run config: {e}")))?;
    config.validate()?;
    Ok(config)
}

/// The metrics of every epoch the run's current checkpoint has finished (none before the
/// first): read from the checkpoint itself, so a run killed before its top-level copy of
/// `metrics.jsonl` was written reads the same.
pub fn metrics_of(run: &Path) -> Result<Vec<metrics::EpochMetrics>> {
    if !run.join(CONFIG_FILE).exists() {
        return Err(Error::bad_file(
            run,
            "is not a run directory (no config.json): give a directory `lorae train --out` wrote",
        ));
    }
    // A run still training may switch to its next checkpoint (and delete this one) between
    // reading `latest` and reading the file: read `latest` again once.
    match snapshot::latest(run)? {
        Some(s) => metrics::read_all(&s.metrics()).or_else(|e| match snapshot::latest(run)? {
            Some(again) if again.dir != s.dir => metrics::read_all(&again.metrics()),
            _ => Err(e),
        }),
        None => Ok(Vec::new()),
    }
}

/// Fails for runs without an encoder (GANs): their only use is sampling the prior.
pub fn require_encoder(config: &RunConfig, run: &Path) -> Result<()> {
    if config.model.kind == ModelKind::Gan {
        return Err(Error::Unsupported(format!(
            "{} is a GAN run: it has no encoder, so there are no codes to analyse or reconstruct; \
             use `lorae sample {} --sampler prior`",
            run.display(),
            run.display()
        )));
    }
    Ok(())
}

/// A trained model loaded from a run directory's current checkpoint, on `device` (plain, for
/// inference).
pub fn load_run(run: &Path, device: &Device) -> Result<(RunConfig, Autoencoder)> {
    let config = load_config(run)?;
    let template = Autoencoder::new(&config.model, config.data.layout(), device);
    let (path, bytes) = match snapshot::latest(run)? {
        Some(s) => {
            // A run still training may have moved on to its next checkpoint: read `latest` again.
            let (s, bytes) = match read(&s.model()) {
                Ok(bytes) => (s, bytes),
                Err(e) => match snapshot::latest(run)? {
                    Some(again) if again.dir != s.dir => {
                        let bytes = read(&again.model())?;
                        (again, bytes)
                    }
                    _ => return Err(e),
                },
            };
            if let Some(d) = &s.state.digests {
                if checkpoint::sha256_hex(&bytes) != d.model {
                    return Err(Error::bad_file(
                        s.model(),
                        "does not belong to this checkpoint (its SHA-256 differs from state.json's): it was replaced or damaged",
                    ));
                }
            }
            (s.model(), bytes)
        }
        None => {
            return Err(Error::bad_file(
                run,
                "the run has no checkpoint yet (no epoch finished): train it, or resume it with --resume",
            ))
        }
    };
    let model = checkpoint::load_model_bytes(template, &bytes, &path)?;
    Ok((config, model))
}
