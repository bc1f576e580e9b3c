//! The training loop: Adam on the model's objective, one epoch at a time, evaluating the
//! reconstruction error and the latent rank after each epoch and checkpointing atomically into
//! a run directory ([`crate::run`]: its layout, and everything that reads it).

pub mod adam;
pub mod gan;
mod start;
pub mod step;

pub use start::{import, import_config, start};

use std::path::Path;
use std::time::Instant;

use burn::prelude::*;
use indicatif::{ProgressBar, ProgressStyle};

use crate::config::{ModelKind, Order, PixelRange, RunConfig};
use crate::data::{self, epoch_order, ImageSet, Splits};
use crate::device::DeviceKind;
use crate::error::{Error, Result};
use crate::io::atomic::write_atomic;
use crate::latent::{spectrum::spectrum, Codes};
use crate::model::Autoencoder;
use crate::run::checkpoint::{self, PartialEpoch, TrainState, MODEL_FILE};
use crate::run::metrics::{self, EpochMetrics};
use crate::run::{load_config, lock, snapshot, CONFIG_FILE};
use crate::tensor::tensor_values;

/// Evaluation MSE must fall below this fraction of the mean-image baseline, or the run is
/// reported as collapsed.
pub const COLLAPSE_RATIO: f64 = 0.95;
pub use crate::latent::EVAL_BATCH;

/// How to run (not part of the run's identity). The default: the CPU, no progress bar,
/// checkpoints at the end of each epoch.
#[derive(Debug, Clone, Default)]
pub struct TrainOptions {
    /// Compute device.
    pub device: DeviceKind,
    /// Show a progress bar on a terminal.
    pub progress: bool,
    /// Also checkpoint inside epochs (`--checkpoint-every`); `None`: at the end of each epoch only.
    pub checkpoint_every: Option<CheckpointEvery>,
}

/// How often to checkpoint inside an epoch. Either way a resumed run is bit-identical to an
/// uninterrupted one: every step draws its randomness from (seed, epoch, step) alone, so where
/// the checkpoints fell does not matter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CheckpointEvery {
    /// After every N training steps.
    Steps(usize),
    /// At the first step boundary after this much time since the last checkpoint.
    Time(std::time::Duration),
}

impl std::str::FromStr for CheckpointEvery {
    type Err = Error;
    /// `500` (steps), or a duration as `humantime` reads it: `90s`, `10m`, `2h`, `1h 30m`.
    fn from_str(text: &str) -> Result<Self> {
        let bad = |why: String| {
            Error::invalid(
                "checkpoint-every",
                text,
                format!(
                    "a positive number of steps (500) or a duration (90s, 10m, 2h, 1h 30m){why}"
                ),
            )
        };
        let t = text.trim();
        if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
            return match t.parse::<usize>() {
                Ok(n) if n > 0 => Ok(CheckpointEvery::Steps(n)),
                _ => Err(bad(String::new())),
            };
        }
        match humantime::parse_duration(t) {
            Ok(d) if d.as_secs() >= 1 => Ok(CheckpointEvery::Time(d)),
            Ok(_) => Err(bad(": at least 1s".into())),
            Err(e) => Err(bad(format!(": {e}"))),
        }
    }
}

/// The seed of the randomness (VAE noise, WAE prior draws, GAN noise, RAE-GP probes) of one
/// training step: a function of the run's seed, the epoch and the step only (splitmix64).
pub fn step_seed(seed: u64, epoch: usize, step: usize) -> u64 {
    let mut z = seed
        ^ (epoch as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
        ^ (step as u64).wrapping_mul(0xd1b5_4a32_d192_ed03);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Starts a new run in `out` (which must not hold one already) and trains it.
pub fn train(config: &RunConfig, out: &Path, options: &TrainOptions) -> Result<Vec<EpochMetrics>> {
    config.validate()?;
    // The device before the run directory: one that cannot open leaves nothing behind.
    options.device.device()?;
    if out.join(MODEL_FILE).exists() || out.join(CONFIG_FILE).exists() {
        return Err(Error::invalid(
            "out",
            out.display(),
            "this directory already holds a run: pass --resume to continue it (one killed before its first checkpoint starts over), or choose another --out",
        ));
    }
    refuse_stray_files(out)?;
    if let Some(init) = &config.train.init {
        // Before the run directory: weights that do not fit leave nothing behind.
        init_model(config, init, &crate::device::host())?;
    }
    // Data before the run directory: a dataset that cannot be read leaves nothing behind.
    let splits = data::load(&config.data, config.seed)?;
    std::fs::create_dir_all(out).map_err(|e| Error::io("cannot create run directory", out, e))?;
    let _lock = lock::acquire(out)?;
    if out.join(CONFIG_FILE).exists() {
        return Err(Error::invalid(
            "out",
            out.display(),
            "another process started a run in this directory just now: choose another --out",
        ));
    }
    let json = serde_json::to_vec_pretty(config)
        .map_err(|e| Error::Serialize(format!("the run configuration: {e}")))?;
    write_atomic(&out.join(CONFIG_FILE), &json)?;
    run_epochs(config, &splits, out, options, false)
}

/// A new run goes into a new or empty directory (a `lock` or a half-written temporary file left
/// by a process killed before it wrote `config.json` is no run): files of something else (an old `metrics.jsonl`, a
/// checkpoint without a config) are refused rather than mixed with the new run's.
fn refuse_stray_files(out: &Path) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(out) else {
        return Ok(()); // Absent: created below; unreadable: creating it will say why.
    };
    let stray: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name != lock::LOCK_FILE && !crate::io::atomic::is_leftover(name))
        .collect();
    if stray.is_empty() {
        return Ok(());
    }
    let mut shown = stray.clone();
    shown.sort();
    shown.truncate(3);
    Err(Error::invalid(
        "out",
        out.display(),
        format!(
            "holds files but no run ({}{}): a new run needs a new or empty directory; choose another --out or remove them",
            shown.join(", "),
            if stray.len() > 3 { ", ..." } else { "" }
        ),
    ))
}

/// Continues the run in `run` from its last checkpoint, up to `epochs` (default: the run's). A
/// new total is written to `config.json` only once the data has loaded; one below the epochs
/// already finished is an error, and a failed resume changes nothing on disk.
pub fn resume(
    run: &Path,
    epochs: Option<usize>,
    options: &TrainOptions,
) -> Result<Vec<EpochMetrics>> {
    let mut config = load_config(run)?;
    if crate::run::import::is_imported(run) {
        return Err(Error::Unsupported(format!(
            "{} was imported from an official checkpoint ({}): it has no optimizer state to resume; \
             train a new run from its weights with `lorae train --init {} --out NEW` and the same --model, --dataset, --latent-dim and --layers",
            run.display(),
            crate::run::import::IMPORT_FILE,
            run.display()
        )));
    }
    options.device.device()?;
    let _lock = lock::acquire(run)?;
    // A kill between the switch of `latest` and the copies leaves them missing: restore them
    // even when there is nothing left to train.
    snapshot::verify(run)?;
    snapshot::repair_copies(run)?;
    let state = snapshot::latest(run)?.map(|s| s.state);
    // A checkpoint inside epoch N + 1 has begun that epoch: it cannot end before it.
    let finished = state
        .as_ref()
        .map_or(0, |s| s.epoch + usize::from(s.partial.is_some()));
    let changed = epochs.is_some_and(|e| e != config.train.epochs);
    if let Some(epochs) = epochs {
        if epochs < finished {
            return Err(Error::invalid(
                "epochs",
                epochs,
                format!(
                    "{} already finished {finished} epochs{}: give at least that many",
                    run.display(),
                    if state.as_ref().is_some_and(|s| s.partial.is_some()) {
                        " (the last of them is under way in a mid-epoch checkpoint)"
                    } else {
                        ""
                    }
                ),
            ));
        }
        config.train.epochs = epochs;
        config.validate()?;
    }
    let splits = data::load(&config.data, config.seed)?;
    if let Some(s) = snapshot::latest(run)? {
        // Before config.json changes: a checkpoint that cannot load leaves the run as it was.
        let template =
            Autoencoder::new(&config.model, config.data.layout(), &crate::device::host());
        checkpoint::load_model(template, &s.model())?;
        checkpoint::load_optimizer(step::adam(), &s.optimizer())?;
        check_partial(&s, &splits, &config)?;
    }
    if changed {
        let json = serde_json::to_vec_pretty(&config)
            .map_err(|e| Error::Serialize(format!("the run configuration: {e}")))?;
        write_atomic(&run.join(CONFIG_FILE), &json)?;
    }
    run_epochs(&config, &splits, run, options, true)
}

/// A mid-epoch checkpoint's steps must lie inside the epoch it continues.
fn check_partial(s: &snapshot::Snapshot, splits: &Splits, config: &RunConfig) -> Result<()> {
    let Some(p) = s.state.partial else {
        return Ok(());
    };
    let steps = splits.train.len().div_ceil(config.train.batch_size);
    if p.steps == 0 || p.steps >= steps {
        return Err(Error::bad_file(
            s.dir.join(checkpoint::STATE_FILE),
            format!(
                "says {} steps of epoch {} are done, but the epoch has {steps}: the file was edited; start the run again",
                p.steps,
                s.state.epoch + 1
            ),
        ));
    }
    Ok(())
}

/// The run's initial model on `device`: drawn from the run's seed by the host's generator, its
/// parameters in module order (burn initialises a parameter when it is first read), then copied
/// to a GPU device; so the same seed gives the same initial weights on every device.
fn initial_model(config: &RunConfig, device: &Device) -> Result<Autoencoder> {
    let layout = config.data.layout();
    if let Some(init) = &config.train.init {
        return init_model(config, init, device);
    }
    if crate::device::is_host(device) {
        device.seed(config.seed);
        let model = Autoencoder::new(&config.model, layout, device);
        checkpoint::model_bytes(&model)?; // reads every parameter, in module order
        return model.zero_dead_taps();
    }
    let host = crate::device::host();
    host.seed(config.seed);
    let drawn = Autoencoder::new(&config.model, layout, &host);
    checkpoint::model_bytes(&drawn)?; // reads every parameter, in module order
    let bytes = checkpoint::model_bytes(&drawn.zero_dead_taps()?)?;
    let template = Autoencoder::new(&config.model, layout, device);
    checkpoint::load_model_bytes(template, &bytes, Path::new("(the initial weights)"))
}

/// `--init RUN`: the model of this run's configuration with the current weights of `init`.
fn init_model(config: &RunConfig, init: &Path, device: &Device) -> Result<Autoencoder> {
    let Some(snapshot) = snapshot::latest(init)? else {
        return Err(Error::invalid(
            "init",
            init.display(),
            "has no checkpoint: give a trained or imported run directory",
        ));
    };
    // What has no parameter but changes the function the weights compute must agree too.
    let theirs = load_config(init)?;
    let (a, b) = (&theirs, config);
    for (what, same) in [
        ("--pixel-range", a.data.pixel_range == b.data.pixel_range),
        (
            "the decoder's ReLU after its FC layer",
            a.model.decoder_fc_relu == b.model.decoder_fc_relu,
        ),
        (
            "--vae-loss (the decoder's Sigmoid or Tanh)",
            a.model.vae_loss == b.model.vae_loss || a.model.kind != ModelKind::Vae,
        ),
        (
            "--relu-between",
            a.model.relu_between == b.model.relu_between,
        ),
        (
            "--shared-linear",
            a.model.shared_linear == b.model.shared_linear,
        ),
    ] {
        if !same {
            return Err(Error::invalid(
                "init",
                init.display(),
                format!("that run differs from this one in {what}: its weights would compute another function here; give the same settings"),
            ));
        }
    }
    let template = Autoencoder::new(&config.model, config.data.layout(), device);
    checkpoint::load_model(template, &snapshot.model()).map_err(|e| {
        Error::invalid(
            "init",
            init.display(),
            format!("its weights do not fit this run's model ({e}): give the same --model, --dataset, --latent-dim and --layers as that run has"),
        )
    })
}

fn run_epochs(
    config: &RunConfig,
    splits: &Splits,
    out: &Path,
    options: &TrainOptions,
    resume: bool,
) -> Result<Vec<EpochMetrics>> {
    let plain = options.device.device()?;
    let device = plain.clone().autodiff();
    let range = config.data.pixel_range;
    let baseline_mse = splits.train.mean_image_mse(&splits.eval, range)?;

    // A resumed run's weights come from its checkpoint: its initial ones (an `--init` run that
    // may be gone by now included) are not read again.
    let resuming = resume && snapshot::latest(out)?.is_some();
    let mut model = if resuming {
        Autoencoder::new(&config.model, config.data.layout(), &device)
    } else {
        initial_model(config, &device)?
    };
    let is_gan = config.model.kind == ModelKind::Gan;
    let mut optim = if is_gan { gan::adam() } else { step::adam() };
    let mut start = 1;
    let mut resumed_partial: Option<PartialEpoch> = None;
    let mut history: Vec<EpochMetrics> = Vec::new();
    if resume {
        // A run killed before its first checkpoint has none: it starts over.
        if let Some(s) = snapshot::latest(out)? {
            model = checkpoint::load_model(model, &s.model())?;
            optim = checkpoint::load_optimizer(optim, &s.optimizer())?;
            history = metrics::read_all(&s.metrics())?
                .into_iter()
                .filter(|m| m.epoch <= s.state.epoch)
                .collect();
            start = s.state.epoch + 1;
            check_partial(&s, splits, config)?;
            resumed_partial = s.state.partial;
        }
        snapshot::clean(out)?;
    }
    let frozen = if config.model.frozen_linear {
        model.chain_param_ids()
    } else {
        Vec::new()
    };

    let mut all = Vec::new();
    let (mut first_loss, mut warned) = (None::<f64>, false);
    let mut last_save = Instant::now();
    for epoch in start..=config.train.epochs {
        let started = Instant::now();
        let order = match config.train.order {
            Order::Shuffled => epoch_order(splits.train.len(), config.seed, epoch),
            Order::Sequential => (0..splits.train.len()).collect(),
        };
        let steps = order.len().div_ceil(config.train.batch_size);
        // A mid-epoch checkpoint resumes at its step with its sums.
        let mut acc = resumed_partial.take().unwrap_or_default();
        let bar = progress_bar(options.progress, steps, epoch, config.train.epochs, out);
        bar.set_position(acc.steps as u64);
        for (step, indices) in order
            .chunks(config.train.batch_size)
            .enumerate()
            .skip(acc.steps)
        {
            // Shuffling and every step's noise depend on (seed, epoch, step) only, so a run
            // resumed from any checkpoint matches the uninterrupted one.
            crate::device::seed(&device, step_seed(config.seed, epoch, step));
            let x = splits.train.batch(indices, range, &device); // [batch, C, H, W]
            let diverged = |loss: f64| Error::Diverged {
                epoch,
                step: step + 1,
                loss,
                lr: config.train.lr,
            };
            let result = if is_gan {
                gan::step(
                    model,
                    &mut optim,
                    x,
                    config.model.latent_dim,
                    config.train.lr,
                )
                .map(|(next, gan)| {
                    acc.sum_discriminator += gan.discriminator;
                    acc.sum_generator += gan.generator;
                    let losses = step::StepLosses {
                        total: gan.discriminator + gan.generator,
                        reconstruction: 0.0,
                        regularizer: 0.0,
                    };
                    (next, losses)
                })
            } else {
                step::step(
                    model,
                    &mut optim,
                    x,
                    &config.model,
                    config.train.lr,
                    &frozen,
                )
            };
            let (next, losses) = match result {
                Ok(done) => done,
                Err(Error::NonFinite(_)) => {
                    bar.abandon();
                    return Err(diverged(f64::NAN));
                }
                Err(e) => return Err(e),
            };
            let total = losses.total;
            if !total.is_finite() {
                bar.abandon();
                return Err(diverged(total));
            }
            model = next;
            // A loss a million times its first value has diverged even while it is finite
            // (a GAN's reached 1e25): say so once, and keep training as asked.
            let first = *first_loss.get_or_insert(total.abs().max(f64::MIN_POSITIVE));
            if !warned && total.abs() > 1e6 * first {
                warned = true;
                crate::note!(
                    "warning: epoch {epoch}, step {}: loss {total:.3e} is over 1e6 times its first value {first:.3e}: the run is diverging; lower --lr (now {})",
                    step + 1,
                    config.train.lr
                );
            }
            acc.steps = step + 1;
            acc.sum_total += total;
            acc.sum_reconstruction += losses.reconstruction;
            acc.sum_regularizer += losses.regularizer;
            bar.set_message(format!("loss {:.5}", acc.sum_total / acc.steps as f64));
            bar.inc(1);
            let due = match options.checkpoint_every {
                Some(CheckpointEvery::Steps(n)) => acc.steps.is_multiple_of(n),
                Some(CheckpointEvery::Time(t)) => last_save.elapsed() >= t,
                None => false,
            };
            if due && acc.steps < steps {
                let partial = PartialEpoch {
                    seconds: acc.seconds + started.elapsed().as_secs_f64(),
                    ..acc
                };
                let state = TrainState {
                    epoch: epoch - 1,
                    partial: Some(partial),
                    digests: None,
                };
                snapshot::save(out, &model, &optim, &state, &history)?;
                last_save = Instant::now();
            }
        }
        bar.finish_and_clear();

        // A GAN has no encoder: nothing to reconstruct, no codes to measure.
        let evaluation = if is_gan {
            None
        } else {
            let (eval_mse, codes) = evaluate(&model.valid(), &splits.eval, range, &plain)?;
            if !eval_mse.is_finite() || codes.values.iter().any(|v| !v.is_finite()) {
                // Finite training losses, but codes that overflow: diverged all the same.
                return Err(Error::Diverged {
                    epoch,
                    step: steps,
                    loss: eval_mse,
                    lr: config.train.lr,
                });
            }
            Some((eval_mse, spectrum(&codes, config.eval.rank_threshold)?))
        };
        let n = steps as f64;
        let m = EpochMetrics {
            epoch,
            train_loss: acc.sum_total / n,
            train_reconstruction: acc.sum_reconstruction / n,
            train_regularizer: acc.sum_regularizer / n,
            eval_mse: evaluation.as_ref().map(|(mse, _)| *mse),
            baseline_mse,
            collapsed: evaluation
                .as_ref()
                .is_some_and(|(mse, _)| *mse >= COLLAPSE_RATIO * baseline_mse),
            effective_rank: evaluation.as_ref().map(|(_, s)| s.effective_rank),
            rank_threshold: config.eval.rank_threshold,
            singular_values: evaluation
                .map(|(_, s)| s.singular_values)
                .unwrap_or_default(),
            discriminator_loss: is_gan.then_some(acc.sum_discriminator / n),
            generator_loss: is_gan.then_some(acc.sum_generator / n),
            seconds: acc.seconds + started.elapsed().as_secs_f64(),
        };
        history.push(m.clone());
        let state = TrainState {
            epoch,
            partial: None,
            digests: None,
        };
        snapshot::save(out, &model, &optim, &state, &history)?;
        last_save = Instant::now();
        report_epoch(&m, config.train.epochs, out);
        all.push(m);
    }
    Ok(all)
}

/// One line per epoch on stderr, naming the run (runs trained side by side interleave).
fn report_epoch(m: &EpochMetrics, epochs: usize, run: &Path) {
    let run = run.display();
    match (m.eval_mse, m.effective_rank) {
        (Some(eval_mse), Some(rank)) => crate::note!(
            "{run}: epoch {}/{}: train loss {:.5}, eval mse {:.5} (mean-image baseline {:.5}), effective rank {} (threshold {:.0e}), {:.1}s",
            m.epoch, epochs, m.train_loss, eval_mse, m.baseline_mse, rank, m.rank_threshold, m.seconds
        ),
        _ => crate::note!(
            "{run}: epoch {}/{}: discriminator loss {:.5}, generator loss {:.5}, {:.1}s",
            m.epoch,
            epochs,
            m.discriminator_loss.unwrap_or(f64::NAN),
            m.generator_loss.unwrap_or(f64::NAN),
            m.seconds
        ),
    }
    if m.collapsed {
        crate::note!(
            "warning: eval mse {:.5} is not below the mean-image baseline {:.5}: the model reconstructs nothing yet. \
             If this persists the run has collapsed (e.g. --pixel-range pm1 on shapes saturates the Tanh output): \
             use --pixel-range 01 or a lower --lr.",
            m.eval_mse.unwrap_or(f64::NAN), m.baseline_mse
        );
    }
}

fn progress_bar(show: bool, steps: usize, epoch: usize, epochs: usize, run: &Path) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(steps as u64);
    if let Ok(style) = ProgressStyle::with_template(
        "epoch {prefix} [{elapsed_precise}] {wide_bar} {pos}/{len} {msg} (eta {eta})",
    ) {
        bar.set_style(style);
    }
    bar.set_prefix(format!("{epoch}/{epochs} of {}", run.display()));
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
