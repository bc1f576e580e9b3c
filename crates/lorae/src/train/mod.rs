//! The training loop: Adam on the model's objective, one epoch at a time, evaluating the
//! reconstruction error and the latent rank after each epoch and checkpointing atomically into
//! a run directory ([`crate::run`]: its layout, and everything that reads it).

pub mod adam;
pub mod gan;
mod init;
pub mod objective;
pub mod observer;
mod start;
pub mod step;

pub use objective::Objective;
pub use observer::{Flow, Observer, Silent};
pub use start::{import, import_config, start};

use std::path::Path;
use std::time::Instant;

use burn::optim::ModuleOptimizer;
use burn::prelude::*;

use crate::config::{Order, PixelRange, RunConfig};
use crate::data::{self, epoch_order, ImageSet, Splits};
use crate::device::DeviceKind;
use crate::error::{Error, Result};
use crate::latent::Codes;
use crate::model::Autoencoder;
use crate::run::checkpoint::{self, PartialEpoch, TrainState};
use crate::run::metrics::{self, EpochMetrics};
use crate::run::RunDir;
use crate::tensor::tensor_values;

/// Evaluation MSE must fall below this fraction of the mean-image baseline, or the run is
/// reported as collapsed.
pub const COLLAPSE_RATIO: f64 = 0.95;
pub use crate::latent::EVAL_BATCH;

/// How to run (not part of the run's identity). The default: the CPU, checkpoints at the end
/// of each epoch. Progress goes to the [`Observer`] given beside these.
#[derive(Debug, Clone, Default)]
pub struct TrainOptions {
    /// Compute device.
    pub device: DeviceKind,
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

/// Starts a new run in `out` (which must not hold one already) and trains it, telling
/// `observer` how it goes. Returns the metrics of the epochs trained.
pub fn train(
    config: &RunConfig,
    out: &Path,
    options: &TrainOptions,
    observer: &mut dyn Observer,
) -> Result<Vec<EpochMetrics>> {
    config.validate()?;
    // Everything that can fail before the run directory: what cannot start leaves nothing behind.
    let plain = options.device.device()?;
    RunDir::check_new(out)?;
    if let Some(init) = &config.train.init {
        init::init_model(config, init, &crate::device::host())?;
    }
    let splits = data::load(&config.data, config.seed)?;
    let run = RunDir::create(out, config)?;
    let start = Start::load(&run, &splits, &plain.clone().autodiff())?;
    run_epochs(&run, &splits, start, &plain, options, observer)
}

/// Continues the run in `run` from its last checkpoint, up to `epochs` (default: the run's). A
/// new total is written to `config.json` only once the data and the checkpoint have loaded;
/// one below the epochs already finished is an error, and a failed resume changes nothing.
pub fn resume(
    run: &Path,
    epochs: Option<usize>,
    options: &TrainOptions,
    observer: &mut dyn Observer,
) -> Result<Vec<EpochMetrics>> {
    if crate::run::import::is_imported(run) {
        return Err(Error::Unsupported(format!(
            "{} was imported from an official checkpoint ({}): it has no optimizer state to resume; \
             train a new run from its weights with `lorae train --init {} --out NEW` and the same --model, --dataset, --latent-dim and --layers",
            run.display(),
            crate::run::import::IMPORT_FILE,
            run.display()
        )));
    }
    let plain = options.device.device()?;
    let mut dir = RunDir::resume(run)?;
    let latest = dir.latest()?;
    // A checkpoint inside epoch N + 1 has begun that epoch: it cannot end before it.
    let partial = latest.as_ref().is_some_and(|s| s.state.partial.is_some());
    let finished = latest
        .as_ref()
        .map_or(0, |s| s.state.epoch + usize::from(partial));
    if let Some(epochs) = epochs.filter(|&e| e < finished) {
        let under_way = if partial {
            " (the last of them is under way in a mid-epoch checkpoint)"
        } else {
            ""
        };
        return Err(Error::invalid(
            "epochs",
            epochs,
            format!(
                "{} already finished {finished} epochs{under_way}: give at least that many",
                run.display()
            ),
        ));
    }
    let mut config = dir.config().clone();
    if let Some(epochs) = epochs {
        config.train.epochs = epochs;
        config.validate()?;
    }
    let splits = data::load(&config.data, config.seed)?;
    // Before config.json changes: a checkpoint that cannot load leaves the run as it was.
    let start = Start::load(&dir, &splits, &plain.clone().autodiff())?;
    if config.train.epochs != dir.config().train.epochs {
        dir.set_epochs(config.train.epochs)?;
    }
    run_epochs(&dir, &splits, start, &plain, options, observer)
}

/// A mid-epoch checkpoint's steps must lie inside the epoch it continues.
fn check_partial(
    s: &crate::run::snapshot::Snapshot,
    splits: &Splits,
    config: &RunConfig,
) -> Result<()> {
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

/// Where training starts: the model and Adam state, the first epoch, the steps of it a
/// mid-epoch checkpoint holds, and the metrics of the epochs before.
struct Start {
    model: Autoencoder,
    optim: ModuleOptimizer,
    objective: Objective,
    epoch: usize,
    partial: Option<PartialEpoch>,
    history: Vec<EpochMetrics>,
}

impl Start {
    /// From the run's current checkpoint, or its initial weights when it has none (a run killed
    /// before its first checkpoint starts over; an `--init` run that may be gone by now is read
    /// only then).
    fn load(run: &RunDir, splits: &Splits, device: &Device) -> Result<Start> {
        let config = run.config();
        let Some(s) = run.latest()? else {
            let model = init::initial_model(config, device)?;
            let objective = Objective::new(config, &model, None);
            return Ok(Start {
                optim: objective.optimizer(),
                model,
                objective,
                epoch: 1,
                partial: None,
                history: Vec::new(),
            });
        };
        let template = Autoencoder::new(&config.model, config.data.layout(), device);
        let model = checkpoint::load_model(template, &s.model())?;
        let objective = Objective::new(config, &model, s.state.rank_search.clone());
        let optim = checkpoint::load_optimizer(objective.optimizer(), &s.optimizer())?;
        check_partial(&s, splits, config)?;
        let history = metrics::read_all(&s.metrics())?
            .into_iter()
            .filter(|m| m.epoch <= s.state.epoch)
            .collect();
        run.clean()?;
        Ok(Start {
            model,
            optim,
            objective,
            epoch: s.state.epoch + 1,
            partial: s.state.partial,
            history,
        })
    }
}

/// Trains `run` from its current state to its last epoch, saving a checkpoint after every
/// epoch (and inside epochs as `options` ask, or when `observer` says stop).
fn run_epochs(
    run: &RunDir,
    splits: &Splits,
    start: Start,
    plain: &Device,
    options: &TrainOptions,
    observer: &mut dyn Observer,
) -> Result<Vec<EpochMetrics>> {
    let config = run.config();
    let (epochs, batch, range) = (
        config.train.epochs,
        config.train.batch_size,
        config.data.pixel_range,
    );
    let device = plain.clone().autodiff();
    let baseline_mse = splits.train.mean_image_mse(&splits.eval, range)?;
    let Start {
        mut model,
        mut optim,
        mut objective,
        epoch: first,
        mut partial,
        mut history,
    } = start;
    observer.started(run.path(), config, first);
    let (mut guard, mut clock, mut all) = (Guard::default(), Clock::new(options), Vec::new());
    for epoch in first..=epochs {
        let started = Instant::now();
        let order = order_of(config, splits.train.len(), epoch);
        let steps = order.len().div_ceil(batch);
        let mut acc = partial.take().unwrap_or_default(); // a mid-epoch checkpoint's steps and sums
        observer.epoch_started(epoch, epochs, steps, acc.steps);
        let mut stop = false;
        for (step, indices) in order.chunks(batch).enumerate().skip(acc.steps) {
            // Shuffling and every step's noise depend on (seed, epoch, step) only, so a run
            // resumed from any checkpoint matches the uninterrupted one.
            crate::device::seed(&device, step_seed(config.seed, epoch, step));
            let x = splits.train.batch(indices, range, &device); // [batch, C, H, W]
            let (next, total) = objective
                .step(model, &mut optim, x, config, &mut acc)
                .map_err(|e| guard.non_finite(e, config, epoch, step))?;
            guard.check(total, config, epoch, step, observer)?;
            model = next;
            stop = observer.step(epoch, acc.steps, acc.sum_total / acc.steps as f64) == Flow::Stop;
            if (clock.due(acc.steps) || stop) && acc.steps < steps {
                let seconds = acc.seconds + started.elapsed().as_secs_f64();
                let state = TrainState::inside(epoch, PartialEpoch { seconds, ..acc })
                    .with_rank_search(objective.rank_search());
                run.save(&model, &optim, &state, &history)?;
                clock.saved();
                observer.saved(epoch, Some(acc.steps));
                if stop {
                    return Ok(all);
                }
            }
        }
        model = objective.end_epoch(model, &splits.train, &order, config, plain)?;
        let evaluation =
            objective.evaluate(&model.valid(), &splits.eval, config, plain, (epoch, steps))?;
        let seconds = acc.seconds + started.elapsed().as_secs_f64();
        let mut m = epoch_metrics(
            epoch,
            steps,
            &acc,
            evaluation,
            config,
            (baseline_mse, seconds),
        );
        m.truncation_rank = objective.truncation_rank(config);
        history.push(m.clone());
        let state = TrainState::after(epoch).with_rank_search(objective.rank_search());
        run.save(&model, &optim, &state, &history)?;
        clock.saved();
        observer.saved(epoch, None);
        observer.epoch_finished(&m, epochs);
        all.push(m);
        if stop {
            break;
        }
    }
    Ok(all)
}

/// The order of the training images in `epoch`: shuffled from (seed, epoch), or file order.
fn order_of(config: &RunConfig, n: usize, epoch: usize) -> Vec<usize> {
    match config.train.order {
        Order::Shuffled => epoch_order(n, config.seed, epoch),
        Order::Sequential => (0..n).collect(),
    }
}

/// When the next checkpoint inside an epoch is due (`--checkpoint-every`).
struct Clock {
    every: Option<CheckpointEvery>,
    last: Instant,
}

impl Clock {
    fn new(options: &TrainOptions) -> Clock {
        Clock {
            every: options.checkpoint_every,
            last: Instant::now(),
        }
    }

    /// Whether a checkpoint is due after `steps` steps of the epoch.
    fn due(&self, steps: usize) -> bool {
        match self.every {
            Some(CheckpointEvery::Steps(n)) => steps.is_multiple_of(n),
            Some(CheckpointEvery::Time(t)) => self.last.elapsed() >= t,
            None => false,
        }
    }

    fn saved(&mut self) {
        self.last = Instant::now();
    }
}

/// The metrics of a finished epoch: the means of its `steps` steps' losses and the evaluation.
fn epoch_metrics(
    epoch: usize,
    steps: usize,
    acc: &PartialEpoch,
    evaluation: Option<objective::Evaluation>,
    config: &RunConfig,
    (baseline_mse, seconds): (f64, f64),
) -> EpochMetrics {
    let n = steps as f64;
    let gan = config.model.kind == crate::config::ModelKind::Gan;
    EpochMetrics {
        epoch,
        train_loss: acc.sum_total / n,
        train_reconstruction: acc.sum_reconstruction / n,
        train_regularizer: acc.sum_regularizer / n,
        eval_mse: evaluation.as_ref().map(|e| e.mse),
        baseline_mse,
        collapsed: evaluation
            .as_ref()
            .is_some_and(|e| e.mse >= COLLAPSE_RATIO * baseline_mse),
        effective_rank: evaluation.as_ref().map(|e| e.spectrum.effective_rank),
        rank_threshold: config.eval.rank_threshold,
        singular_values: evaluation
            .map(|e| e.spectrum.singular_values)
            .unwrap_or_default(),
        discriminator_loss: gan.then_some(acc.sum_discriminator / n),
        generator_loss: gan.then_some(acc.sum_generator / n),
        truncation_rank: None,
        seconds,
    }
}

/// The divergence guards: a non-finite loss stops the run; a loss a million times its first
/// value has diverged even while it is finite (a GAN's reached 1e25): the observer is warned
/// once and training goes on as asked.
#[derive(Default)]
struct Guard {
    first: Option<f64>,
    warned: bool,
}

impl Guard {
    fn diverged(config: &RunConfig, epoch: usize, step: usize, loss: f64) -> Error {
        Error::Diverged {
            epoch,
            step: step + 1,
            loss,
            lr: config.train.lr,
        }
    }

    /// A step's non-finite error as a divergence at that step; other errors as they are.
    fn non_finite(&self, e: Error, config: &RunConfig, epoch: usize, step: usize) -> Error {
        match e {
            Error::NonFinite(_) => Self::diverged(config, epoch, step, f64::NAN),
            e => e,
        }
    }

    fn check(
        &mut self,
        total: f64,
        config: &RunConfig,
        epoch: usize,
        step: usize,
        observer: &mut dyn Observer,
    ) -> Result<()> {
        if !total.is_finite() {
            return Err(Self::diverged(config, epoch, step, total));
        }
        let first = *self.first.get_or_insert(total.abs().max(f64::MIN_POSITIVE));
        if !self.warned && total.abs() > 1e6 * first {
            self.warned = true;
            observer.warning(&format!(
                "epoch {epoch}, step {}: loss {total:.3e} is over 1e6 times its first value {first:.3e}: the run is diverging; lower --lr (now {})",
                step + 1,
                config.train.lr
            ));
        }
        Ok(())
    }
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
