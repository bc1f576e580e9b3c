//! aRRAE's rank search: RRAE ([`super::rrae`]) whose truncation rank is lowered during training
//! while the loss allows it, following the official `RRAE_gen_Tracker` (JadM133/RRAEs).
//!
//! With `avg` the mean of the last 20 step losses:
//! 1. **Warm-up** at the starting rank: after `warmup` steps (default 50, the official MNIST
//!    script's `patience_init`; counted, not necessarily in a row) whose loss is within 5 % of
//!    `avg`, the loss has settled; `avg` becomes the loss to match. The target is only as good as
//!    the model at that moment: a warm-up that ends while the loss still falls lets later steps
//!    beat it at ranks too low for the data (the official algorithm's behaviour, kept).
//! 2. **Lowering**: a step whose loss is below that target accepts the rank it was trained at
//!    and moves to one less. A step that is not (stagnant, within 1 % of `avg`, or worse than
//!    `avg`) counts against the rank; after `patience` such steps (default 500, the official
//!    value) the rank goes back to the last accepted one and stays there.
//! 3. **Fixed**: training goes on at that rank.
//!
//! The accepted rank never rises; the rank in use is one below it while it is being tried.
//! Where lorae differs: at the end the official code reloads the weights saved when the rank
//! was accepted and starts a fresh optimizer; lorae keeps training the current weights with the
//! same Adam at the accepted rank (a second model to checkpoint for one rollback), and it never
//! goes below rank 1. The tracker is part of the training state, so a resumed run continues it
//! bit-identically.

use serde::{Deserialize, Serialize};

/// Steps in the moving average of the loss.
pub const WINDOW: usize = 20;
/// Settled steps that end the warm-up, by default.
pub const WARMUP_STEPS: usize = 50;
/// Warm-up: a step within this fraction of the average has settled.
const SETTLED: f64 = 0.05;
/// Lowering: a step within this fraction of the average has stagnated.
const STAGNANT: f64 = 0.01;

/// Where the search is.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Training at the starting rank until the loss settles.
    Warmup,
    /// Trying one rank less while the loss reaches `target`.
    Lowering,
    /// The rank is found.
    Fixed,
}

/// The state of aRRAE's rank search, saved with every checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankTracker {
    /// The rank the decoder sees now.
    pub rank: usize,
    /// The lowest rank whose loss reached the target (the starting rank at first).
    pub accepted: usize,
    /// The search's phase.
    pub phase: Phase,
    /// The loss a lowered rank must reach (set when the warm-up ends).
    pub target: Option<f64>,
    /// The last [`WINDOW`] step losses.
    pub recent: Vec<f64>,
    /// Warm-up: settled steps so far; lowering: steps against the rank being tried.
    pub count: usize,
    /// Steps against a rank that fix it one above.
    pub patience: usize,
    /// Settled steps that end the warm-up (absent from checkpoints written before it could be
    /// set, whose warm-up was [`WARMUP_STEPS`]).
    #[serde(default = "default_warmup")]
    pub warmup: usize,
}

fn default_warmup() -> usize {
    WARMUP_STEPS
}

impl RankTracker {
    /// A search from rank `start` after a warm-up of `warmup` settled steps, giving up on a rank
    /// after `patience` steps.
    pub fn new(start: usize, warmup: usize, patience: usize) -> RankTracker {
        RankTracker {
            rank: start,
            accepted: start,
            phase: Phase::Warmup,
            target: None,
            recent: Vec::with_capacity(WINDOW),
            count: 0,
            patience,
            warmup,
        }
    }

    /// Takes one step's loss (the loss of a step taken at [`Self::rank`]).
    pub fn observe(&mut self, loss: f64) {
        if self.recent.len() == WINDOW {
            self.recent.remove(0);
        }
        self.recent.push(loss);
        let Some(avg) = (self.recent.len() == WINDOW)
            .then(|| self.recent.iter().sum::<f64>() / WINDOW as f64)
            .filter(|a| *a != 0.0)
        else {
            return;
        };
        let change = (loss - avg).abs() / avg.abs();
        match (self.phase, self.target) {
            (Phase::Warmup, _) => {
                self.count += usize::from(change < SETTLED);
                if self.count >= self.warmup {
                    (self.phase, self.target, self.count) = (Phase::Lowering, Some(avg), 0);
                    self.lower();
                }
            }
            (Phase::Lowering, Some(target)) if loss < target => {
                self.accepted = self.rank;
                self.count = 0;
                self.lower();
            }
            (Phase::Lowering, _) => {
                self.count += usize::from(change < STAGNANT || loss > avg);
                if self.count >= self.patience {
                    (self.rank, self.phase) = (self.accepted, Phase::Fixed);
                }
            }
            (Phase::Fixed, _) => {}
        }
    }

    /// Tries one rank less than the accepted one, or stops at rank 1.
    fn lower(&mut self) {
        if self.accepted <= 1 {
            (self.rank, self.phase) = (1, Phase::Fixed);
        } else {
            self.rank = self.accepted - 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A loss that needs rank 3: flat noise around 1.0 from rank 3 up, 2.0 below.
    fn loss_at(rank: usize, step: usize) -> f64 {
        let wobble = 0.002 * ((step * 7919 % 13) as f64 - 6.0);
        if rank >= 3 {
            1.0 + wobble - 0.01
        } else {
            2.0 + wobble
        }
    }

    #[test]
    fn the_accepted_rank_never_rises_and_stops_at_the_rank_the_loss_needs() {
        let mut t = RankTracker::new(16, WARMUP_STEPS, 30);
        let mut last = t.accepted;
        for step in 0..2_000 {
            t.observe(loss_at(t.rank, step));
            assert!(
                t.accepted <= last,
                "step {step}: {} after {last}",
                t.accepted
            );
            last = t.accepted;
        }
        assert_eq!((t.phase, t.rank, t.accepted), (Phase::Fixed, 3, 3));
    }

    #[test]
    fn rank_one_is_the_floor() {
        let mut t = RankTracker::new(4, WARMUP_STEPS, 30);
        for step in 0..500 {
            t.observe(1.0 - 1e-4 * step as f64);
        }
        assert_eq!((t.phase, t.rank), (Phase::Fixed, 1));
    }

    #[test]
    fn a_checkpoint_from_before_the_warmup_setting_reads_with_the_default() {
        let mut t = RankTracker::new(8, 120, 30);
        t.observe(1.0);
        let mut json = serde_json::to_value(&t).unwrap();
        json.as_object_mut().unwrap().remove("warmup");
        let old: RankTracker = serde_json::from_value(json).unwrap();
        assert_eq!(old.warmup, WARMUP_STEPS);
        assert_eq!(RankTracker { warmup: 120, ..old }, t);
    }
}
