//! `lorae train` as one library call: a new run configured by the user's [`Overrides`], or, with
//! `resume`, the run already in the directory continued once the overrides are checked against
//! its `config.json`.

use std::path::Path;

use super::{resume, train, Observer, TrainOptions};
use crate::config::Overrides;
use crate::error::Result;
use crate::run::metrics::EpochMetrics;
use crate::run::RunDir;

/// Trains into `out`: a new run (`resume` false), or the run there continued (the overrides must
/// agree with it; `overrides.epochs` raises its total). Returns the metrics of the epochs
/// trained now.
pub fn start(
    overrides: &Overrides,
    out: &Path,
    resume_run: bool,
    options: &TrainOptions,
    observer: &mut dyn Observer,
) -> Result<Vec<EpochMetrics>> {
    if resume_run {
        overrides.check_resume(RunDir::open(out)?.config(), out)?;
        return resume(out, overrides.epochs, options, observer);
    }
    let mut config = overrides.config()?;
    if let Some(init) = &config.train.init {
        // Recorded as an absolute path: the run may be resumed from another directory.
        config.train.init = Some(
            std::fs::canonicalize(init)
                .map_err(|e| crate::error::Error::io("cannot find the --init run", init, e))?,
        );
    }
    train(&config, out, options, observer)
}

/// `lorae import`: the official checkpoint `file` as a new run in `out`, configured by
/// `overrides` (the flags of a new run: model, dataset, latent dimension, layers, λ), with a
/// fresh Adam state. Returns how each official tensor was mapped ([`crate::run::import`]).
pub fn import(
    file: &Path,
    overrides: &Overrides,
    out: &Path,
) -> Result<Vec<crate::run::import::Entry>> {
    import_config(file, &overrides.config()?, out)
}

/// [`import`] with the run's whole configuration.
pub fn import_config(
    file: &Path,
    config: &crate::config::RunConfig,
    out: &Path,
) -> Result<Vec<crate::run::import::Entry>> {
    crate::run::import::import(file, config, out, &super::step::adam())
}
