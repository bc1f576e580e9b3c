//! `lorae reproduce`: the papers' tables and figures as experiments made of cells.
//!
//! An [`Experiment`] (one paper item: a table, a figure, a theory check) expands, for a
//! [`Budget`], into [`cell::Cell`]s: training runs, FIDs, classifications, min–max ratios. Cells
//! shared by several experiments (one trained model serves its FIDs, its classification and its
//! spectrum) are planned once. Each cell is a directory under `DIR/cells/`; a finished cell is
//! never recomputed and a killed training cell resumes from its checkpoint, so rerunning the same
//! command continues where it stopped. [`plan`] orders the cells (training first), and
//! [`report`] turns whatever cells exist into `DIR/report.md` and `DIR/report.html`.

pub mod cell;
pub mod experiments;
mod family;
pub mod paper;
pub mod report;
pub mod slurm;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use cell::Cell;
pub use experiments::Experiment;

/// How much compute a reproduction spends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Budget {
    /// Seconds per experiment: tiny subsets, one epoch; checks that everything runs (CI).
    Smoke,
    /// A few epochs, 1 000 FID samples (`shapes-spectra` took 19 min on 2 CPU cores; the MNIST
    /// experiments take hours there).
    Quick,
    /// The papers' settings: Table 4's epochs, 10 000 FID samples, 5 seeds. Meant for a GPU.
    Paper,
}

name_enum!(
    Budget,
    "budget",
    [(Smoke, "smoke"), (Quick, "quick"), (Paper, "paper")]
);

/// What every experiment needs to know to make its cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Setup {
    /// The budget.
    pub budget: Budget,
    /// Root of the dataset folders (`ROOT/mnist`, `ROOT/celeba`, ...); `None`: the fetch cache.
    pub data_root: Option<PathBuf>,
    /// `official-parity`: the official codes' checkpoints, by the name of the lorae run they
    /// stand beside (`mnist-ae`, `mnist-irmae-l8`).
    pub official: Vec<(String, PathBuf)>,
}

impl Setup {
    /// The folder of `dataset` under the data root, if one was given.
    pub fn data_dir(&self, dataset: crate::config::DatasetKind) -> Option<PathBuf> {
        self.data_root.as_ref().map(|r| r.join(dataset.to_string()))
    }

    /// True when CelebA's files are present (its partition file).
    pub fn has_celeba(&self) -> bool {
        let root = self
            .data_root
            .clone()
            .unwrap_or_else(crate::data::cache_root);
        root.join("celeba/list_eval_partition.txt").exists()
    }
}

/// The cells of `experiments`, each once, training cells first, in the order experiments list
/// them. Fails when two experiments would give one cell two configurations.
pub fn plan(experiments: &[Experiment], setup: &Setup) -> Result<Vec<Cell>> {
    let mut cells: Vec<Cell> = Vec::new();
    for experiment in experiments {
        for cell in experiment.cells(setup)? {
            match cells.iter().find(|c| c.id() == cell.id()) {
                Some(existing) if existing != &cell => {
                    return Err(Error::Unsupported(format!(
                        "cell {} is planned with two configurations (lorae bug)",
                        cell.id()
                    )))
                }
                Some(_) => {}
                None => cells.push(cell),
            }
        }
    }
    cells.sort_by_key(|c| c.needs().is_some());
    Ok(cells)
}

/// Checks every cell directory already in `dir` against the plan: a cell whose `cell.json`
/// differs (another budget, another lorae) is refused before anything runs.
pub fn check_existing(dir: &Path, cells: &[Cell]) -> Result<()> {
    for cell in cells {
        if cell::cell_dir(dir, &cell.id())
            .join(cell::CELL_FILE)
            .exists()
        {
            cell::claim(dir, cell)?;
            cell::outcome(dir, cell)?;
        }
    }
    Ok(())
}

/// The outcomes of the finished cells among `cells`.
pub fn collect(dir: &Path, cells: &[Cell]) -> Result<report::Outcomes> {
    let mut outcomes = report::Outcomes::new();
    for c in cells {
        if let Some(o) = cell::outcome(dir, c)? {
            outcomes.insert(c.id(), o);
        }
    }
    Ok(outcomes)
}

/// Called before each cell with (position, total, cell id, estimated seconds left).
pub type Progress<'a> = &'a mut dyn FnMut(usize, usize, &str, Option<f64>);

/// Runs every unfinished cell of `cells` in order (or only the cell `only`), calling `progress`
/// with (position, total, cell id, estimated seconds left) before each. A cell whose training
/// cell has not finished is an error naming both.
pub fn execute(
    cells: &[Cell],
    ctx: &mut cell::Context,
    only: Option<&str>,
    progress: Progress<'_>,
) -> Result<()> {
    check_existing(&ctx.dir, cells)?;
    let todo: Vec<&Cell> = match only {
        Some(id) => match cells.iter().find(|c| c.id() == id) {
            Some(c) => vec![c],
            None => {
                return Err(Error::invalid(
                    "cell",
                    id,
                    "not a cell of these experiments at this budget: `lorae reproduce ... --plan` lists them",
                ))
            }
        },
        None => cells.iter().collect(),
    };
    let pending: Vec<&Cell> = todo
        .into_iter()
        .filter(|c| {
            !cell::cell_dir(&ctx.dir, &c.id())
                .join(cell::RESULT_FILE)
                .exists()
        })
        .collect();
    let started = std::time::Instant::now();
    for (i, c) in pending.iter().enumerate() {
        if let Some(run) = c.needs() {
            let train_id = cell::provider_id(run);
            if !cell::cell_dir(&ctx.dir, &train_id)
                .join(cell::RESULT_FILE)
                .exists()
            {
                return Err(Error::Unsupported(format!(
                    "cell {} needs {train_id} to finish first (run the plan's training stage before the others)",
                    c.id()
                )));
            }
        }
        let left = (i > 0)
            .then(|| started.elapsed().as_secs_f64() / i as f64 * (pending.len() - i) as f64);
        progress(i + 1, pending.len(), &c.id(), left);
        cell::execute(c, ctx)?;
    }
    Ok(())
}
