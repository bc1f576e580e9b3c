//! [`RunConfig::validate`]: every value checked once, before anything is trained; an error names
//! the flag and the bad value. Sizes are checked against the memory bound ([`crate::limits`]).

use super::kinds::{DatasetKind, ModelKind, PixelRange, VaeLoss};
use super::RunConfig;
use crate::error::{Error, Result};

/// The smallest effective-rank threshold that means something: normalised singular values below
/// ~1e-16 are rounding noise (a threshold of 1e-300 once counted 23 directions in 16 codes).
pub const MIN_RANK_THRESHOLD: f64 = 1e-12;

impl RunConfig {
    /// Checks every value once; the error names the bad value.
    pub fn validate(&self) -> Result<()> {
        let m = &self.model;
        if m.latent_dim == 0 {
            return Err(Error::invalid("latent-dim", 0, "must be at least 1"));
        }
        match m.kind {
            ModelKind::Irmae if m.layers == 0 => {
                return Err(Error::invalid(
                    "layers",
                    0,
                    "irmae needs at least 1 linear layer; use --model ae for none",
                ))
            }
            ModelKind::Lorae if m.layers != 1 => {
                return Err(Error::invalid(
                    "layers",
                    m.layers,
                    "lorae has exactly one linear layer M; --layers applies to irmae",
                ))
            }
            ModelKind::Ae
            | ModelKind::AeL1
            | ModelKind::AeL2
            | ModelKind::Vae
            | ModelKind::Rae
            | ModelKind::Wae
            | ModelKind::Gan
            | ModelKind::Rrae
            | ModelKind::Arrae
                if m.layers != 0 =>
            {
                return Err(Error::invalid(
                    "layers",
                    m.layers,
                    format!("{} has no linear layers; --layers applies to irmae", m.kind),
                ))
            }
            _ => {}
        }
        self.validate_rank()?;
        let ablation = m.frozen_linear || m.relu_between || m.shared_linear;
        if ablation && m.kind != ModelKind::Irmae {
            return Err(Error::invalid(
                "model",
                m.kind,
                "--frozen-linear, --relu-between and --shared-linear are IRMAE ablations: use --model irmae",
            ));
        }
        if m.kind == ModelKind::Vae
            && m.vae_loss == VaeLoss::Bce
            && self.data.pixel_range != PixelRange::ZeroOne
        {
            return Err(Error::invalid(
                "pixel-range",
                self.data.pixel_range,
                "the BCE VAE decodes through a Sigmoid to [0, 1]: use --pixel-range 01, or --vae-loss gaussian",
            ));
        }
        positive("lambda", m.lambda)?;
        positive("beta", m.beta)?;
        positive("init-scale", m.init_scale)?;
        // The uniform bound √k/√d must stay a normal, finite f32 (1e308 overflowed, 1e-300
        // underflowed to an empty range inside burn's initialiser).
        if !(1e-12..=1e12).contains(&m.init_scale) {
            return Err(Error::invalid(
                "init-scale",
                m.init_scale,
                "must be between 1e-12 and 1e12 (Table 5 uses 1, 2 and 4)",
            ));
        }
        positive("lr", self.train.lr)?;
        positive("threshold", self.eval.rank_threshold)?;
        if !(MIN_RANK_THRESHOLD..1.0).contains(&self.eval.rank_threshold) {
            return Err(Error::invalid(
                "threshold",
                self.eval.rank_threshold,
                "must be in [1e-12, 1): singular values are divided by the largest, and below 1e-12 they are rounding noise",
            ));
        }
        if self.train.epochs == 0 {
            return Err(Error::invalid("epochs", 0, "must be at least 1"));
        }
        if self.train.batch_size == 0 {
            return Err(Error::invalid("batch-size", 0, "must be at least 1"));
        }
        if self.data.train_size < self.train.batch_size {
            return Err(Error::invalid(
                "train-size",
                self.data.train_size,
                format!(
                    "must be at least the batch size ({})",
                    self.train.batch_size
                ),
            ));
        }
        if self.data.dataset == DatasetKind::Folder && ![32, 64].contains(&self.data.image_size) {
            return Err(Error::invalid(
                "image-size",
                self.data.image_size,
                "folder images are resized to 32 (CIFAR networks) or 64 (CelebA networks)",
            ));
        }
        if self.data.dataset == DatasetKind::Folder && self.data.data_dir.is_none() {
            return Err(Error::invalid(
                "data-dir",
                "(none)",
                "--dataset folder needs --data-dir DIR, the folder of images",
            ));
        }
        if self.data.test_size < 2 {
            return Err(Error::invalid(
                "test-size",
                self.data.test_size,
                "must be at least 2 (the latent covariance needs two codes)",
            ));
        }
        self.check_memory()
    }

    /// Refuses sizes whose buffers cannot fit in memory ([`crate::limits`]): the generated shapes
    /// images (`--train-size`, `--test-size`), the linear layers and the fully connected layers
    /// with their gradients and Adam moments (`--latent-dim`, `--layers`), the batch.
    fn check_memory(&self) -> Result<()> {
        use crate::limits::{check, product};
        let image = self.data.layout().image_shape();
        if self.data.dataset == DatasetKind::Shapes {
            let image_bytes = product(&image);
            let (train, eval) = (self.data.train_size, self.data.test_size);
            check(
                "train-size",
                train,
                (train as u128).saturating_mul(image_bytes),
            )?;
            check(
                "test-size",
                eval,
                (eval as u128).saturating_mul(image_bytes),
            )?;
            let both = (train as u128).saturating_add(eval as u128);
            check("train-size", train, both.saturating_mul(image_bytes))?;
        }
        let d = self.model.latent_dim;
        // Weights, gradients and two Adam moments: 16 bytes a parameter. The FC layers around
        // the code have at most 65 536 inputs or outputs (CelebA's decoder), twice.
        let fc = product(&[d, 2 * 65_536, 16]);
        check("latent-dim", d, fc)?;
        // A batch's activations: the widest layer keeps ~32 values per pixel, forward and back.
        let batch = product(&[self.train.batch_size, image[1], image[2], 32, 2 * 4]);
        check("batch-size", self.train.batch_size, batch)?;
        // Each linear layer: its d×d weights (16 bytes each, as above) and the batch's codes
        // through it, kept for the backward pass.
        let per_layer =
            product(&[d, d, 16]).saturating_add(product(&[self.train.batch_size, d, 4, 3]));
        let chain = per_layer.saturating_mul(self.model.layers.max(1) as u128);
        check("layers", self.model.layers, fc.saturating_add(chain))
    }
}

impl RunConfig {
    /// RRAE's rank is required and in 1..=d (aRRAE's starting rank likewise, and its patience
    /// at least 1); no other model has one.
    fn validate_rank(&self) -> Result<()> {
        let m = &self.model;
        let truncated = matches!(m.kind, ModelKind::Rrae | ModelKind::Arrae);
        match (m.rank, truncated) {
            (None, true) => Err(Error::invalid(
                "rank",
                "(none)",
                format!(
                    "{} needs --rank K, the number of singular directions the decoder sees (1..={}; the RRAE paper uses 5 on MNIST)",
                    m.kind, m.latent_dim
                ),
            )),
            (Some(k), true) if k == 0 || k > m.latent_dim => Err(Error::invalid(
                "rank",
                k,
                format!(
                    "must be between 1 and the latent dimension {} (the codes have no more directions)",
                    m.latent_dim
                ),
            )),
            (Some(k), false) => Err(Error::invalid(
                "rank",
                k,
                format!("applies to rrae and arrae only, not {}", m.kind),
            )),
            _ => {
                let arrae = m.kind == ModelKind::Arrae;
                for (flag, value, default) in [
                    ("rank-patience", m.rank_patience, 500),
                    ("rank-warmup", m.rank_warmup.or(arrae.then_some(50)), 50),
                ] {
                    match (value, arrae) {
                        (None, true) | (Some(0), true) => {
                            return Err(Error::invalid(
                                flag,
                                value.unwrap_or(0),
                                format!("arrae needs at least 1 step (default {default})"),
                            ))
                        }
                        (Some(p), false) => {
                            return Err(Error::invalid(
                                flag,
                                p,
                                format!("applies to arrae only, not {}", m.kind),
                            ))
                        }
                        _ => {}
                    }
                }
                Ok(())
            }
        }
    }
}

fn positive(field: &'static str, value: f64) -> Result<()> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(Error::invalid(
            field,
            value,
            "must be a positive finite number",
        ))
    }
}
