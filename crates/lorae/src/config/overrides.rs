//! The settings a user gives on top of the defaults (`lorae train --lambda 1e-3`): each field
//! left `None` (or `false`) keeps the default of [`RunConfig::for_dataset`]. The same overrides
//! configure a new run ([`Overrides::config`]) and, when a run is resumed, must agree with its
//! `config.json` ([`Overrides::check_resume`]: only `epochs` may change, to raise the total).

use std::path::{Path, PathBuf};

use super::kinds::{DatasetKind, ModelKind, Order, PixelRange, RaeReg, VaeLoss};
use super::RunConfig;
use crate::error::{Error, Result};

/// Settings that differ from the paper's defaults; field docs give those defaults.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    /// Model family [default: irmae].
    pub model: Option<ModelKind>,
    /// Dataset [default: shapes].
    pub dataset: Option<DatasetKind>,
    /// Seed of data generation, initialisation and shuffling [default: 0].
    pub seed: Option<u64>,
    /// IRMAE's extra linear layers l [default: shapes 2, mnist 8, celeba 4].
    pub layers: Option<usize>,
    /// Latent dimension d [default: shapes 32, mnist 128, celeba 512].
    pub latent_dim: Option<usize>,
    /// Regulariser weight λ [default: lorae 1e-5, rae 1e-7, wae 10].
    pub lambda: Option<f64>,
    /// Code penalty weight β [default: vae 0.1, rae 1e-4, ae-l1 / ae-l2 0.1].
    pub beta: Option<f64>,
    /// RAE decoder regulariser [default: l2].
    pub rae_reg: Option<RaeReg>,
    /// VAE objective [default: bce].
    pub vae_loss: Option<VaeLoss>,
    /// IRMAE ablation: keep the linear layers at their initial values.
    pub frozen_linear: bool,
    /// IRMAE ablation: ReLU between the linear layers.
    pub relu_between: bool,
    /// IRMAE ablation: one matrix applied l times.
    pub shared_linear: bool,
    /// Multiplier of the linear layers' initial variance [default: 1].
    pub init_scale: Option<f64>,
    /// RRAE's truncation rank k [required for rrae]; aRRAE's starting rank [default: d].
    pub rank: Option<usize>,
    /// aRRAE: steps a lowered rank may take to match the loss before it is fixed [default: 500].
    pub rank_patience: Option<usize>,
    /// aRRAE: settled steps before the search starts lowering the rank [default: 50].
    pub rank_warmup: Option<usize>,
    /// Epochs [default: shapes 100, mnist 50, celeba 100].
    pub epochs: Option<usize>,
    /// Batch size [default: 32].
    pub batch_size: Option<usize>,
    /// Adam learning rate [default: 1e-4].
    pub lr: Option<f64>,
    /// Order of the training images [default: shuffled].
    pub order: Option<Order>,
    /// A run whose current weights start this one (fresh optimizer) [default: none].
    pub init: Option<PathBuf>,
    /// Training images [default: shapes 50 000 generated, else the whole split].
    pub train_size: Option<usize>,
    /// Evaluation images [default: shapes 10 000 generated, else the whole test split].
    pub test_size: Option<usize>,
    /// Folder of the dataset's files [default: the fetch cache].
    pub data_dir: Option<PathBuf>,
    /// `folder`: side the images are resized to [default: 32].
    pub image_size: Option<usize>,
    /// Pixel range [default: 01].
    pub pixel_range: Option<PixelRange>,
    /// Effective-rank threshold [default: 1e-2].
    pub rank_threshold: Option<f64>,
}

impl Overrides {
    /// The configuration of a new run: the paper's defaults for the model and dataset, these
    /// overrides on top, validated.
    pub fn config(&self) -> Result<RunConfig> {
        let kind = self.model.unwrap_or(ModelKind::Irmae);
        let dataset = self.dataset.unwrap_or(DatasetKind::Shapes);
        self.refuse_what_does_not_apply(kind, dataset)?;
        let mut config = RunConfig::for_dataset(kind, dataset);
        self.apply(&mut config);
        if kind == ModelKind::Arrae && self.rank.is_none() {
            config.model.rank = Some(config.model.latent_dim); // from the whole latent space
        }
        config.validate()?;
        Ok(config)
    }

    /// A flag given for a model or dataset it does nothing for is an error, not silently
    /// ignored (`--image-size 7` on shapes, `--rae-reg gp` on an AE).
    fn refuse_what_does_not_apply(&self, kind: ModelKind, dataset: DatasetKind) -> Result<()> {
        let only = |flag: &'static str, value: String, applies: bool, to: &str| {
            if applies {
                Ok(())
            } else {
                Err(Error::invalid(
                    flag,
                    value,
                    format!(
                        "applies to {to} only (here --model {kind} --dataset {dataset}): drop it"
                    ),
                ))
            }
        };
        if let Some(v) = self.image_size {
            only(
                "image-size",
                v.to_string(),
                dataset == DatasetKind::Folder,
                "--dataset folder",
            )?;
        }
        if let Some(v) = self.rae_reg {
            only(
                "rae-reg",
                v.to_string(),
                kind == ModelKind::Rae,
                "--model rae",
            )?;
        }
        if let Some(v) = self.vae_loss {
            only(
                "vae-loss",
                v.to_string(),
                kind == ModelKind::Vae,
                "--model vae",
            )?;
        }
        if let Some(v) = self.rank {
            only(
                "rank",
                v.to_string(),
                matches!(kind, ModelKind::Rrae | ModelKind::Arrae),
                "--model rrae and arrae",
            )?;
        }
        for (flag, value) in [
            ("rank-patience", self.rank_patience),
            ("rank-warmup", self.rank_warmup),
        ] {
            if let Some(v) = value {
                only(
                    flag,
                    v.to_string(),
                    kind == ModelKind::Arrae,
                    "--model arrae",
                )?;
            }
        }
        Ok(())
    }

    /// Writes every override but the model, the dataset and the epochs into `config`.
    fn apply(&self, config: &mut RunConfig) {
        fn set<T: Clone>(slot: &mut T, value: &Option<T>) {
            if let Some(v) = value {
                *slot = v.clone();
            }
        }
        set(&mut config.seed, &self.seed);
        let m = &mut config.model;
        set(&mut m.layers, &self.layers);
        set(&mut m.latent_dim, &self.latent_dim);
        set(&mut m.lambda, &self.lambda);
        set(&mut m.beta, &self.beta);
        set(&mut m.rae_reg, &self.rae_reg);
        set(&mut m.vae_loss, &self.vae_loss);
        m.frozen_linear |= self.frozen_linear;
        m.relu_between |= self.relu_between;
        m.shared_linear |= self.shared_linear;
        set(&mut m.init_scale, &self.init_scale);
        if self.rank.is_some() {
            m.rank = self.rank;
        }
        if self.rank_patience.is_some() {
            m.rank_patience = self.rank_patience;
        }
        if self.rank_warmup.is_some() {
            m.rank_warmup = self.rank_warmup;
        }
        set(&mut config.train.epochs, &self.epochs);
        set(&mut config.train.batch_size, &self.batch_size);
        set(&mut config.train.lr, &self.lr);
        set(&mut config.train.order, &self.order);
        if self.init.is_some() {
            config.train.init = self.init.clone();
        }
        let d = &mut config.data;
        set(&mut d.train_size, &self.train_size);
        set(&mut d.test_size, &self.test_size);
        set(&mut d.image_size, &self.image_size);
        set(&mut d.pixel_range, &self.pixel_range);
        if self.data_dir.is_some() {
            d.data_dir = self.data_dir.clone();
        }
        set(&mut config.eval.rank_threshold, &self.rank_threshold);
    }

    /// Resuming the run in `dir` configured as `run`: every override given must agree with it
    /// (the epochs may differ: they raise the total). A contradiction names each setting and
    /// both values.
    pub fn check_resume(&self, run: &RunConfig, dir: &Path) -> Result<()> {
        let mut wanted = run.clone();
        if let Some(kind) = self.model {
            wanted.model.kind = kind;
        }
        if let Some(dataset) = self.dataset {
            wanted.data.dataset = dataset;
        }
        self.apply(&mut wanted);
        wanted.train.epochs = run.train.epochs;
        let to_json = |c: &RunConfig| {
            serde_json::to_value(c).map_err(|e| Error::Serialize(format!("the run config: {e}")))
        };
        let (a, b) = (to_json(run)?, to_json(&wanted)?);
        let mut diffs = Vec::new();
        for (section, fields) in a.as_object().into_iter().flatten() {
            match fields.as_object() {
                Some(fields) => {
                    for (name, value) in fields {
                        let other = &b[section][name];
                        if other != value {
                            diffs.push(format!(
                                "{section}.{name}: the run has {value}, the flags say {other}"
                            ));
                        }
                    }
                }
                None if &b[section] != fields => diffs.push(format!(
                    "{section}: the run has {fields}, the flags say {}",
                    b[section]
                )),
                None => {}
            }
        }
        // Fields absent from the run's JSON (an `init` it never had) but set by the flags.
        for (section, fields) in b.as_object().into_iter().flatten() {
            for (name, value) in fields.as_object().into_iter().flatten() {
                if a[section].get(name).is_none() && !value.is_null() {
                    diffs.push(format!(
                        "{section}.{name}: the run has none, the flags say {value}"
                    ));
                }
            }
        }
        if diffs.is_empty() {
            Ok(())
        } else {
            Err(Error::ResumeConflict {
                run: dir.to_path_buf(),
                diffs: diffs.join("; "),
            })
        }
    }
}
