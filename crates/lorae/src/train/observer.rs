//! What the training loop tells its caller as it goes. The library prints nothing: the CLI's
//! observer draws the progress bar and the epoch lines, a Python caller's forwards them to its
//! callback, a test's records them. Every method has a default that does nothing, so an
//! observer implements only what it shows.

use std::path::Path;

use crate::config::RunConfig;
use crate::run::metrics::EpochMetrics;

/// Whether training goes on after a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Flow {
    /// Train the next step.
    #[default]
    Continue,
    /// Checkpoint at this step boundary and return: the run resumes from here, bit-identical
    /// to an uninterrupted one (an interrupt handler's answer).
    Stop,
}

/// Receives the training loop's progress.
pub trait Observer {
    /// Training into `run` with `config` begins (a new run, or a resumed one at `first_epoch`).
    fn started(&mut self, _run: &Path, _config: &RunConfig, _first_epoch: usize) {}

    /// Epoch `epoch` of `epochs` begins with `steps` steps, `done` of which a mid-epoch
    /// checkpoint already holds.
    fn epoch_started(&mut self, _epoch: usize, _epochs: usize, _steps: usize, _done: usize) {}

    /// Step `step` (1-based) of the epoch finished; `mean_loss` is the epoch's running mean.
    fn step(&mut self, _epoch: usize, _step: usize, _mean_loss: f64) -> Flow {
        Flow::Continue
    }

    /// A checkpoint was saved (`step`: inside the epoch; `None`: at its end).
    fn saved(&mut self, _epoch: usize, _step: Option<usize>) {}

    /// Epoch `m.epoch` of `epochs` finished and is saved.
    fn epoch_finished(&mut self, _m: &EpochMetrics, _epochs: usize) {}

    /// Something the user should know that does not stop training (a loss running away).
    fn warning(&mut self, _text: &str) {}
}

/// Shows nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Observer for Silent {}
