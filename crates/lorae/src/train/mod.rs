//! The training loop: Adam on the model's objective, one epoch at a time, evaluating the
//! reconstruction error and the latent rank after each epoch and checkpointing atomically.
//!
//! A run directory holds `config.json` (the resolved [`RunConfig`]), `metrics.jsonl`,
//! `model.safetensors`, `optimizer.bpk` and `state.json`.

pub mod checkpoint;
pub mod metrics;
pub mod step;

use std::path::Path;
use std::time::Instant;

use burn::optim::ModuleOptimizer;
use burn::prelude::*;
use indicatif::{ProgressBar, ProgressStyle};

use crate::config::{PixelRange, RunConfig};
use crate::data::{self, epoch_order, ImageSet};
use crate::device::DeviceKind;
use crate::error::{Error, Result};
use crate::latent::{spectrum::spectrum, tensor_values, Codes};
use crate::model::Autoencoder;
use checkpoint::{TrainState, MODEL_FILE, OPTIMIZER_FILE, STATE_FILE};
use metrics::{EpochMetrics, METRICS_FILE};

/// File name of the resolved configuration in a run directory.
pub const CONFIG_FILE: &str = "config.json";
/// Evaluation MSE must fall below this fraction of the mean-image baseline, or the run is
/// reported as collapsed.
pub const COLLAPSE_RATIO: f64 = 0.95;
/// Batch size of evaluation passes (no gradients, so larger than training batches).
pub const EVAL_BATCH: usize = 250;

/// How to run (not part of the run's identity).
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// Compute device.
    pub device: DeviceKind,
    /// Show a progress bar on a terminal.
    pub progress: bool,
}

/// Reads `RUN/config.json`.
pub fn load_config(run: &Path) -> Result<RunConfig> {
    let path = run.join(CONFIG_FILE);
    let bytes = checkpoint::read(&path)?;
    let config: RunConfig = serde_json::from_slice(&bytes)
        .map_err(|e| Error::bad_file(&path, format!("not a lorae run config: {e}")))?;
    config.validate()?;
    Ok(config)
}

/// A trained model loaded from a run directory, on `device` (plain, for inference).
pub fn load_run(run: &Path, device: &Device) -> Result<(RunConfig, Autoencoder)> {
    let config = load_config(run)?;
    let template = Autoencoder::new(&config.model, config.data.layout(), device);
    let model = checkpoint::load_model(template, &run.join(MODEL_FILE))?;
    Ok((config, model))
}

/// Starts a new run in `out` (which must not hold one already) and trains it.
pub fn train(config: &RunConfig, out: &Path, options: &TrainOptions) -> Result<Vec<EpochMetrics>> {
    config.validate()?;
    std::fs::create_dir_all(out).map_err(|e| Error::io("cannot create run directory", out, e))?;
    if out.join(MODEL_FILE).exists() || out.join(CONFIG_FILE).exists() {
        return Err(Error::invalid(
            "out",
            out.display(),
            "this directory already holds a run: pass --resume to continue it, or choose another --out",
        ));
    }
    let json = serde_json::to_vec_pretty(config).map_err(|e| Error::Numerical(e.to_string()))?;
    checkpoint::write_atomic(&out.join(CONFIG_FILE), &json)?;
    run_epochs(config, out, options, false)
}

/// Continues the run in `run` from its last checkpoint, up to `epochs` (default: the run's).
pub fn resume(
    run: &Path,
    epochs: Option<usize>,
    options: &TrainOptions,
) -> Result<Vec<EpochMetrics>> {
    let mut config = load_config(run)?;
    if let Some(epochs) = epochs {
        config.train.epochs = epochs;
        config.validate()?;
        let json =
            serde_json::to_vec_pretty(&config).map_err(|e| Error::Numerical(e.to_string()))?;
        checkpoint::write_atomic(&run.join(CONFIG_FILE), &json)?;
    }
    run_epochs(&config, run, options, true)
}

fn run_epochs(
    config: &RunConfig,
    out: &Path,
    options: &TrainOptions,
    resume: bool,
) -> Result<Vec<EpochMetrics>> {
    let plain = options.device.device()?;
    let device = plain.clone().autodiff();
    let splits = data::load(&config.data, config.seed)?;
    let range = config.data.pixel_range;
    let baseline_mse = splits.train.mean_image_mse(&splits.eval, range)?;

    device.seed(config.seed);
    let mut model = Autoencoder::new(&config.model, config.data.layout(), &device);
    let mut optim = step::adam();
    let mut start = 1;
    if resume {
        let state = checkpoint::load_state(&out.join(STATE_FILE))?;
        model = checkpoint::load_model(model, &out.join(MODEL_FILE))?;
        optim = checkpoint::load_optimizer(optim, &out.join(OPTIMIZER_FILE))?;
        metrics::truncate_after(&out.join(METRICS_FILE), state.epoch)?;
        start = state.epoch + 1;
    }
    let frozen = if config.model.frozen_linear {
        model.chain_param_ids()
    } else {
        Vec::new()
    };

    let mut all = Vec::new();
    for epoch in start..=config.train.epochs {
        let started = Instant::now();
        // Shuffling and VAE noise depend on (seed, epoch) only, so a resumed run matches.
        device.seed(config.seed.wrapping_add(epoch as u64));
        let order = epoch_order(splits.train.len(), config.seed, epoch);
        let steps = order.len().div_ceil(config.train.batch_size);
        let bar = progress_bar(options.progress, steps, epoch, config.train.epochs);
        let (mut sum_total, mut sum_recon, mut sum_reg) = (0.0, 0.0, 0.0);
        for (step, indices) in order.chunks(config.train.batch_size).enumerate() {
            let x = splits.train.batch(indices, range, &device); // [batch, C, H, W]
            let (next, losses) = step::step(
                model,
                &mut optim,
                x,
                &config.model,
                config.train.lr,
                &frozen,
            )?;
            let total = losses.total;
            if !total.is_finite() {
                bar.abandon();
                return Err(Error::Diverged {
                    epoch,
                    step: step + 1,
                    loss: total,
                    lr: config.train.lr,
                });
            }
            model = next;
            sum_total += total;
            sum_recon += losses.reconstruction;
            sum_reg += losses.regularizer;
            bar.set_message(format!("loss {:.5}", sum_total / (step + 1) as f64));
            bar.inc(1);
        }
        bar.finish_and_clear();

        let (eval_mse, codes) = evaluate(&model.valid(), &splits.eval, range, &plain)?;
        let spec = spectrum(&codes, config.eval.rank_threshold)?;
        let m = EpochMetrics {
            epoch,
            train_loss: sum_total / steps as f64,
            train_reconstruction: sum_recon / steps as f64,
            train_regularizer: sum_reg / steps as f64,
            eval_mse,
            baseline_mse,
            collapsed: eval_mse >= COLLAPSE_RATIO * baseline_mse,
            effective_rank: spec.effective_rank,
            rank_threshold: spec.threshold,
            singular_values: spec.singular_values,
            seconds: started.elapsed().as_secs_f64(),
        };
        save_checkpoint(out, &model, &optim, epoch)?;
        metrics::append(&out.join(METRICS_FILE), &m)?;
        report_epoch(&m, config.train.epochs);
        all.push(m);
    }
    Ok(all)
}

fn save_checkpoint(
    out: &Path,
    model: &Autoencoder,
    optim: &ModuleOptimizer,
    epoch: usize,
) -> Result<()> {
    checkpoint::save_model(model, &out.join(MODEL_FILE))?;
    checkpoint::save_optimizer(optim, &out.join(OPTIMIZER_FILE))?;
    checkpoint::save_state(&TrainState { epoch }, &out.join(STATE_FILE))
}

fn report_epoch(m: &EpochMetrics, epochs: usize) {
    eprintln!(
        "epoch {}/{}: train loss {:.5}, eval mse {:.5} (mean-image baseline {:.5}), effective rank {} (threshold {:.0e}), {:.1}s",
        m.epoch, epochs, m.train_loss, m.eval_mse, m.baseline_mse, m.effective_rank, m.rank_threshold, m.seconds
    );
    if m.collapsed {
        eprintln!(
            "warning: eval mse {:.5} is not below the mean-image baseline {:.5}: the model reconstructs nothing yet. \
             If this persists the run has collapsed (e.g. --pixel-range pm1 on shapes saturates the Tanh output): \
             use --pixel-range 01 or a lower --lr.",
            m.eval_mse, m.baseline_mse
        );
    }
}

fn progress_bar(show: bool, steps: usize, epoch: usize, epochs: usize) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(steps as u64);
    if let Ok(style) = ProgressStyle::with_template(
        "epoch {prefix} [{elapsed_precise}] {wide_bar} {pos}/{len} {msg} (eta {eta})",
    ) {
        bar.set_style(style);
    }
    bar.set_prefix(format!("{epoch}/{epochs}"));
    bar
}

/// Reconstruction MSE per pixel of `set` and its codes, with a plain (validation) model.
pub fn evaluate(
    model: &Autoencoder,
    set: &ImageSet,
    range: PixelRange,
    device: &Device,
) -> Result<(f64, Codes)> {
    let indices: Vec<usize> = (0..set.len()).collect();
    let mut values = Vec::with_capacity(set.len());
    let (mut sq_sum, mut dim) = (0.0, 0);
    for chunk in indices.chunks(EVAL_BATCH) {
        let x = set.batch(chunk, range, device); // [b, C, H, W]
        let z = model.encode(x.clone()); // [b, d]
        let err = (model.decode(z.clone()) - x).powi_scalar(2).sum(); // [1]
        sq_sum += tensor_values(err)?[0] as f64;
        dim = z.dims()[1];
        values.extend(tensor_values(z)?);
    }
    let mse = sq_sum / (set.len() * set.image_len()) as f64;
    Ok((mse, Codes { values, dim }))
}
