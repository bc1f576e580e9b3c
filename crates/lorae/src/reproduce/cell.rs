//! One unit of a reproduction: train a model, score a sampler's FID, classify with few labels,
//! measure the min–max ratio. Each cell is a directory `DIR/cells/ID/` holding `cell.json` (what
//! it computes) and, once finished, `result.json` (written atomically, so its presence means the
//! cell is done). A training cell keeps its run in `run/` and resumes it from its checkpoint.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::config::{DataConfig, RunConfig};
use crate::error::{Error, Result};
use crate::eval::classify::{ClassifyConfig, LabelResult};
use crate::eval::classify_run::{classify_run, classify_supervised};
use crate::eval::entropy::{entropy_run, EntropyConfig, EntropyResult};
use crate::eval::fid::FidScorer;
use crate::eval::theory::{minmax_of_run, MinMax};
use crate::io::atomic::{read, write_atomic};
use crate::latent::CodeSource;
use crate::report::grid::save_grid;
use crate::run::metrics::EpochMetrics;
use crate::sampler::draw::Draw;
use crate::train::{self, TrainOptions};

/// What a cell computes. Its JSON is the cell's identity: a directory holding a cell with another
/// JSON is refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "cell", rename_all = "lowercase")]
pub enum Cell {
    /// Train (or resume) one run.
    Train {
        /// Short name of the run, e.g. `mnist-irmae-l8`.
        name: String,
        /// Its configuration.
        config: RunConfig,
    },
    /// FID of a run's samples against its test split.
    Fid {
        /// The training cell's run name.
        run: String,
        /// Sampler, samples, seed.
        draw: Draw,
        /// Real images scored (the first this many of the test split; all when `None`).
        real: Option<usize>,
    },
    /// Few-label classification on a run's codes.
    Classify {
        /// The training cell's run name.
        run: String,
        /// Where the codes are taken.
        codes: CodeSource,
        /// Protocol, labels, seeds.
        config: ClassifyConfig,
    },
    /// The supervised baseline: the encoder architecture trained with the head.
    Supervised {
        /// The labelled data.
        data: DataConfig,
        /// Code dimension of the encoder.
        latent_dim: usize,
        /// Protocol, labels, seeds.
        config: ClassifyConfig,
    },
    /// An official code's checkpoint imported as a run ([`crate::run::import`]) and evaluated.
    Import {
        /// Run name: [`OFFICIAL_PREFIX`] and the lorae run it stands beside.
        name: String,
        /// The checkpoint (`torch.save(net.state_dict())` of the official `model.AE`).
        source: PathBuf,
        /// The configuration of the lorae run it stands beside (model, data).
        config: RunConfig,
    },
    /// Theorem 2's min–max ratio of a run's evaluation codes.
    Minmax {
        /// The training cell's run name.
        run: String,
        /// Query codes.
        queries: usize,
    },
    /// The RRAE paper's interpolation entropy of a run.
    Entropy {
        /// The training cell's run name.
        run: String,
        /// Pairs, steps, sets, judge.
        config: EntropyConfig,
    },
}

/// What a finished cell measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "lowercase")]
pub enum Outcome {
    /// The run's last epoch.
    Train {
        /// Its metrics.
        last: EpochMetrics,
        /// Seconds spent by this cell (all sessions).
        seconds: f64,
    },
    /// An FID.
    Fid {
        /// The distance.
        fid: f64,
        /// Samples scored.
        n_samples: usize,
        /// Real images scored.
        n_real: usize,
        /// Seconds spent.
        seconds: f64,
    },
    /// Test errors per label count.
    Classify {
        /// One result per label count.
        results: Vec<LabelResult>,
        /// Seconds spent.
        seconds: f64,
    },
    /// An imported official model's evaluation.
    Import {
        /// Reconstruction MSE per pixel on the evaluation split.
        eval_mse: f64,
        /// The mean-image baseline's MSE.
        baseline_mse: f64,
        /// Effective rank of the evaluation codes at `rank_threshold`.
        effective_rank: usize,
        /// The run's rank threshold.
        rank_threshold: f64,
        /// Normalised singular values of the codes' covariance.
        singular_values: Vec<f64>,
        /// Seconds spent.
        seconds: f64,
    },
    /// Min–max ratios.
    Minmax {
        /// The summary.
        ratios: MinMax,
        /// rank(M) of a LoRAE run at its threshold.
        rank_m: Option<usize>,
        /// Seconds spent.
        seconds: f64,
    },
    /// An interpolation entropy.
    Entropy {
        /// What it measured.
        entropy: EntropyResult,
        /// Seconds spent.
        seconds: f64,
    },
}

/// File names in a cell directory.
pub const CELL_FILE: &str = "cell.json";
/// Present once the cell has finished.
pub const RESULT_FILE: &str = "result.json";

/// How cells run.
pub struct Context {
    /// The reproduction's directory.
    pub dir: PathBuf,
    /// Training options (device, checkpoints inside epochs).
    pub train: TrainOptions,
    /// What training cells report their progress to.
    pub observer: Box<dyn train::Observer>,
    /// The FID scorer (weights, dataset cache; the network loaded on first need and kept).
    pub fid: FidScorer,
}

impl Cell {
    /// The cell's directory name under `DIR/cells/`.
    pub fn id(&self) -> String {
        match self {
            Cell::Train { name, .. } => format!("train-{name}"),
            Cell::Fid { run, draw, .. } => match draw.kind {
                crate::sampler::SamplerKind::Gmm => format!("fid-{run}-gmm{}", draw.k),
                kind => format!("fid-{run}-{kind}"),
            },
            Cell::Classify { run, codes, config } => {
                format!("classify-{run}-{codes}-{}", config.protocol)
            }
            Cell::Supervised { data, config, .. } => {
                format!("classify-{}-supervised-{}", data.dataset, config.protocol)
            }
            Cell::Minmax { run, .. } => format!("minmax-{run}"),
            Cell::Entropy { run, .. } => format!("entropy-{run}"),
            Cell::Import { name, .. } => format!("import-{name}"),
        }
    }

    /// The training cell this cell reads, if any.
    pub fn needs(&self) -> Option<&str> {
        match self {
            Cell::Fid { run, .. }
            | Cell::Classify { run, .. }
            | Cell::Minmax { run, .. }
            | Cell::Entropy { run, .. } => Some(run),
            Cell::Train { .. } | Cell::Supervised { .. } | Cell::Import { .. } => None,
        }
    }
}

/// `DIR/cells/ID`.
pub fn cell_dir(dir: &Path, id: &str) -> PathBuf {
    dir.join("cells").join(id)
}

/// Names of imported official runs start with this.
pub const OFFICIAL_PREFIX: &str = "official-";

/// The id of the cell that makes run `name`: its training cell, or its import cell.
pub fn provider_id(name: &str) -> String {
    if name.starts_with(OFFICIAL_PREFIX) {
        format!("import-{name}")
    } else {
        format!("train-{name}")
    }
}

/// The run directory of run `name` (in its training or import cell).
pub fn run_dir(dir: &Path, name: &str) -> PathBuf {
    cell_dir(dir, &provider_id(name)).join("run")
}

/// Checks that `DIR/cells/ID/cell.json`, if present, describes `cell`; writes it if absent.
pub fn claim(dir: &Path, cell: &Cell) -> Result<()> {
    let path = cell_dir(dir, &cell.id()).join(CELL_FILE);
    let json = serde_json::to_vec_pretty(cell)
        .map_err(|e| Error::Serialize(format!("cell {}: {e}", cell.id())))?;
    if path.exists() {
        let existing: Cell = serde_json::from_slice(&read(&path)?).map_err(|e| {
            Error::bad_file(
                &path,
                format!("not a cell description ({e}): the cell was changed by hand; delete its directory to recompute it"),
            )
        })?;
        if &existing != cell {
            return Err(Error::bad_file(
                &path,
                format!(
                    "this directory holds cell {} computed with another configuration (another budget, \
                     data folder or lorae version): use another --out, or delete the cell to recompute it",
                    cell.id()
                ),
            ));
        }
        return Ok(());
    }
    let parent = path.parent().unwrap_or(dir);
    std::fs::create_dir_all(parent).map_err(|e| Error::io("cannot create directory", parent, e))?;
    write_atomic(&path, &json)
}

/// The cell's result, if it has finished.
pub fn outcome(dir: &Path, cell: &Cell) -> Result<Option<Outcome>> {
    let path = cell_dir(dir, &cell.id()).join(RESULT_FILE);
    if !path.exists() {
        return Ok(None);
    }
    serde_json::from_slice(&read(&path)?)
        .map(Some)
        .map_err(|e| {
            Error::bad_file(
                &path,
                format!("not a cell result ({e}): delete the file to recompute the cell"),
            )
        })
}

/// Runs `cell` (resuming a training run) and records its result.
pub fn execute(cell: &Cell, ctx: &mut Context) -> Result<Outcome> {
    claim(&ctx.dir, cell)?;
    let here = cell_dir(&ctx.dir, &cell.id());
    let started = Instant::now();
    let device = ctx.train.device.device()?;
    let outcome = match cell {
        Cell::Train { name, config } => {
            let run = run_dir(&ctx.dir, name);
            let metrics = if run.join(crate::run::CONFIG_FILE).exists() {
                // Resumes from the current checkpoint (from scratch if none was written).
                if crate::run::RunDir::open(&run)?.config() != config {
                    return Err(Error::bad_file(
                        run.join(crate::run::CONFIG_FILE),
                        "this run was started with another configuration than its cell's: delete the cell to recompute it",
                    ));
                }
                train::resume(&run, None, &ctx.train, ctx.observer.as_mut())?;
                crate::run::RunDir::open(&run)?.metrics()?
            } else {
                train::train(config, &run, &ctx.train, ctx.observer.as_mut())?
            };
            let last = metrics
                .last()
                .cloned()
                .ok_or_else(|| Error::bad_file(&run, "the run finished no epoch"))?;
            Outcome::Train {
                last,
                seconds: started.elapsed().as_secs_f64(),
            }
        }
        Cell::Fid { run, draw, real } => {
            let run = run_dir(&ctx.dir, run);
            ctx.fid.set_limit(*real);
            let scored = ctx.fid.run_fid(&run, draw, None)?;
            let n = scored.samples.len().min(64);
            let cols = (n as f64).sqrt().ceil().max(1.0) as usize;
            let values: Vec<f32> = scored.samples.pixels[..n * scored.samples.image_len()]
                .iter()
                .map(|&p| p as f32 / 255.0)
                .collect();
            save_grid(
                &values,
                scored.samples.shape,
                n.div_ceil(cols),
                cols,
                crate::config::PixelRange::ZeroOne,
                &here.join("samples.png"),
            )?;
            Outcome::Fid {
                fid: scored.fid,
                n_samples: scored.n_samples,
                n_real: scored.n_real,
                seconds: started.elapsed().as_secs_f64(),
            }
        }
        Cell::Classify { run, codes, config } => {
            let run = run_dir(&ctx.dir, run);
            let results = classify_run(&run, *codes, None, config, &device, &mut |_| {})?;
            Outcome::Classify {
                results,
                seconds: started.elapsed().as_secs_f64(),
            }
        }
        Cell::Supervised {
            data: data_config,
            latent_dim,
            config,
        } => {
            let results =
                classify_supervised(data_config, *latent_dim, config, &device, &mut |_| {})?;
            Outcome::Classify {
                results,
                seconds: started.elapsed().as_secs_f64(),
            }
        }
        Cell::Import {
            name,
            source,
            config,
        } => {
            let run = run_dir(&ctx.dir, name);
            let complete = crate::run::import::is_imported(&run)
                && crate::run::RunDir::open(&run)?.latest()?.is_some();
            if !complete {
                // A killed import leaves a partial directory of this cell's own: start over.
                if run.exists() {
                    std::fs::remove_dir_all(&run)
                        .map_err(|e| Error::io("cannot remove an unfinished import", &run, e))?;
                }
                train::import_config(source, config, &run)?;
            }
            let dir = crate::run::RunDir::open(&run)?;
            let model = dir.model(&device)?;
            let config = dir.config();
            let range = config.data.pixel_range;
            let splits = crate::data::load(&config.data, config.seed)?;
            let (eval_mse, codes) = train::evaluate(&model, &splits.eval, range, &device)?;
            let spectrum = crate::latent::spectrum::spectrum(&codes, config.eval.rank_threshold)?;
            Outcome::Import {
                eval_mse,
                baseline_mse: splits.train.mean_image_mse(&splits.eval, range)?,
                effective_rank: spectrum.effective_rank,
                rank_threshold: config.eval.rank_threshold,
                singular_values: spectrum.singular_values,
                seconds: started.elapsed().as_secs_f64(),
            }
        }
        Cell::Minmax { run, queries } => {
            let run = run_dir(&ctx.dir, run);
            let (_, ratios, rank_m) = minmax_of_run(&run, *queries, 0, &device)?;
            Outcome::Minmax {
                ratios,
                rank_m,
                seconds: started.elapsed().as_secs_f64(),
            }
        }
        Cell::Entropy { run, config } => {
            let run = run_dir(&ctx.dir, run);
            Outcome::Entropy {
                entropy: entropy_run(&run, None, config, &device)?,
                seconds: started.elapsed().as_secs_f64(),
            }
        }
    };
    let json = serde_json::to_vec_pretty(&outcome)
        .map_err(|e| Error::Serialize(format!("the result of {}: {e}", cell.id())))?;
    write_atomic(&here.join(RESULT_FILE), &json)?;
    Ok(outcome)
}
