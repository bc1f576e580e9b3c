//! The terminal's view of training: the library's [`Observer`] drawn as a progress bar per
//! epoch (when asked and on a terminal) and one line per epoch on stderr naming the run (runs
//! trained side by side interleave).

use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};
use lorae::config::RunConfig;
use lorae::run::metrics::EpochMetrics;
use lorae::train::{Flow, Observer};

/// Prints training's progress on stderr.
pub struct Terminal {
    bar_wanted: bool,
    bar: ProgressBar,
    run: PathBuf,
}

impl Terminal {
    /// `bar`: draw a progress bar during epochs (the epoch lines are printed either way).
    pub fn new(bar: bool) -> Terminal {
        Terminal {
            bar_wanted: bar,
            bar: ProgressBar::hidden(),
            run: PathBuf::new(),
        }
    }
}

impl Observer for Terminal {
    fn started(&mut self, run: &Path, config: &RunConfig, first_epoch: usize) {
        self.run = run.to_path_buf();
        if first_epoch > config.train.epochs {
            return;
        }
        let what = if first_epoch == 1 {
            "training"
        } else {
            "resuming"
        };
        lorae::note!(
            "{what} {} on {} ({} train / {} eval images, {} epochs, batch {}, lr {}) into {}{}",
            config.model.kind,
            config.data.dataset,
            config.data.train_size,
            config.data.test_size,
            config.train.epochs,
            config.train.batch_size,
            config.train.lr,
            run.display(),
            if first_epoch > 1 {
                format!(" at epoch {first_epoch}")
            } else {
                String::new()
            }
        );
    }

    fn epoch_started(&mut self, epoch: usize, epochs: usize, steps: usize, done: usize) {
        if !self.bar_wanted {
            return;
        }
        let bar = ProgressBar::new(steps as u64);
        if let Ok(style) = ProgressStyle::with_template(
            "epoch {prefix} [{elapsed_precise}] {wide_bar} {pos}/{len} {msg} (eta {eta})",
        ) {
            bar.set_style(style);
        }
        bar.set_prefix(format!("{epoch}/{epochs} of {}", self.run.display()));
        bar.set_position(done as u64);
        self.bar = bar;
    }

    fn step(&mut self, _epoch: usize, step: usize, mean_loss: f64) -> Flow {
        if self.bar_wanted {
            self.bar.set_message(format!("loss {mean_loss:.5}"));
            self.bar.set_position(step as u64);
        }
        Flow::Continue
    }

    fn epoch_finished(&mut self, m: &EpochMetrics, epochs: usize) {
        self.bar.finish_and_clear();
        let run = self.run.display();
        match (m.eval_mse, m.effective_rank) {
            (Some(eval_mse), Some(rank)) => lorae::note!(
                "{run}: epoch {}/{}: train loss {:.5}, eval mse {:.5} (mean-image baseline {:.5}), effective rank {} (threshold {:.0e}){}, {:.1}s",
                m.epoch, epochs, m.train_loss, eval_mse, m.baseline_mse, rank, m.rank_threshold,
                m.truncation_rank.map_or(String::new(), |k| format!(", truncation rank {k}")),
                m.seconds
            ),
            _ => lorae::note!(
                "{run}: epoch {}/{}: discriminator loss {:.5}, generator loss {:.5}, {:.1}s",
                m.epoch,
                epochs,
                m.discriminator_loss.unwrap_or(f64::NAN),
                m.generator_loss.unwrap_or(f64::NAN),
                m.seconds
            ),
        }
        if m.collapsed {
            lorae::note!(
                "warning: eval mse {:.5} is not below the mean-image baseline {:.5}: the model reconstructs nothing yet. \
                 If this persists the run has collapsed (e.g. --pixel-range pm1 on shapes saturates the Tanh output): \
                 use --pixel-range 01 or a lower --lr.",
                m.eval_mse.unwrap_or(f64::NAN),
                m.baseline_mse
            );
        }
    }

    fn warning(&mut self, text: &str) {
        self.bar.suspend(|| lorae::note!("warning: {text}"));
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        // A run that stopped on an error leaves its bar where it was, above the error.
        if !self.bar.is_finished() {
            self.bar.abandon();
        }
    }
}
