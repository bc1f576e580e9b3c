//! [`RunDir`]: one run directory as a value, the only code that reads or writes its
//! `config.json`, its checkpoints (through [`snapshot`]), its `latest` and its metrics.
//!
//! Three ways in, one per use:
//! - [`RunDir::open`]: a reader (`fid`, `sample`, `spectrum`, …): the resolved configuration,
//!   read and validated once; no lock, so a run still training can be read.
//! - [`RunDir::create`]: a new run's writer: creates the directory, takes its lock and writes
//!   `config.json`. What must be checked before anything is written (a directory holding
//!   something else, [`RunDir::check_new`]) comes first, from the caller.
//! - [`RunDir::resume`]: an existing run's writer: its lock taken, the checkpoint verified and a
//!   kill between the switch of `latest` and the copies repaired.
//!
//! Saving needs the lock: only a writer holds it, so a reader cannot save by mistake.

use std::path::{Path, PathBuf};

use burn::optim::ModuleOptimizer;
use burn::prelude::*;

use super::checkpoint::{self, TrainState};
use super::lock::{self, RunLock};
use super::metrics::{self, EpochMetrics};
use super::snapshot::{self, Snapshot};
use crate::config::{ModelKind, RunConfig};
use crate::error::{Error, Result};
use crate::io::atomic::{read, write_atomic};
use crate::model::Autoencoder;

/// File name of the resolved configuration in a run directory.
pub const CONFIG_FILE: &str = "config.json";

/// A run directory and its resolved configuration; a writer also holds its lock.
#[derive(Debug)]
pub struct RunDir {
    path: PathBuf,
    config: RunConfig,
    lock: Option<RunLock>,
}

impl RunDir {
    /// An existing run, for reading.
    pub fn open(path: &Path) -> Result<RunDir> {
        let config = read_config(path)?;
        Ok(RunDir {
            path: path.to_path_buf(),
            config,
            lock: None,
        })
    }

    /// A new run in `path` with `config`: the directory created, the lock taken and
    /// `config.json` written. Fails if another process made a run there meanwhile.
    pub fn create(path: &Path, config: &RunConfig) -> Result<RunDir> {
        std::fs::create_dir_all(path)
            .map_err(|e| Error::io("cannot create run directory", path, e))?;
        let lock = lock::acquire(path)?;
        if path.join(CONFIG_FILE).exists() {
            return Err(Error::invalid(
                "out",
                path.display(),
                "another process started a run in this directory just now: choose another --out",
            ));
        }
        write_atomic(&path.join(CONFIG_FILE), &config_json(config)?)?;
        Ok(RunDir {
            path: path.to_path_buf(),
            config: config.clone(),
            lock: Some(lock),
        })
    }

    /// An existing run, for writing: its lock taken, its current checkpoint verified and the
    /// reader copies restored if a kill left them missing.
    pub fn resume(path: &Path) -> Result<RunDir> {
        let mut run = RunDir::open(path)?;
        run.lock = Some(lock::acquire(path)?);
        snapshot::verify(path)?;
        snapshot::repair_copies(path)?;
        Ok(run)
    }

    /// Refuses a directory that cannot take a new run: one holding a run (pass `--resume`), or
    /// files of something else (an old `metrics.jsonl`, a checkpoint without a config), which
    /// would be mixed with the new run's. A `lock` or a half-written temporary file left by a
    /// process killed before it wrote `config.json` is no run.
    pub fn check_new(path: &Path) -> Result<()> {
        if path.join(checkpoint::MODEL_FILE).exists() || path.join(CONFIG_FILE).exists() {
            return Err(Error::invalid(
                "out",
                path.display(),
                "this directory already holds a run: pass --resume to continue it (one killed before its first checkpoint starts over), or choose another --out",
            ));
        }
        let Ok(entries) = std::fs::read_dir(path) else {
            return Ok(()); // Absent: created later; unreadable: creating it will say why.
        };
        let mut stray: Vec<String> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|name| name != lock::LOCK_FILE && !crate::io::atomic::is_leftover(name))
            .collect();
        if stray.is_empty() {
            return Ok(());
        }
        stray.sort();
        let more = if stray.len() > 3 { ", ..." } else { "" };
        stray.truncate(3);
        Err(Error::invalid(
            "out",
            path.display(),
            format!(
                "holds files but no run ({}{more}): a new run needs a new or empty directory; choose another --out or remove them",
                stray.join(", ")
            ),
        ))
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The resolved configuration.
    pub fn config(&self) -> &RunConfig {
        &self.config
    }

    /// Whether the run was made by `lorae import` (it has no optimizer state of its own).
    pub fn is_imported(&self) -> bool {
        super::import::is_imported(&self.path)
    }

    /// The current checkpoint, if an epoch (or a step checkpoint) was saved.
    pub fn latest(&self) -> Result<Option<Snapshot>> {
        snapshot::latest(&self.path)
    }

    /// Sets the run's total epochs and writes `config.json` (a writer only).
    pub fn set_epochs(&mut self, epochs: usize) -> Result<()> {
        self.writer("change its epochs")?;
        let mut config = self.config.clone();
        config.train.epochs = epochs;
        config.validate()?;
        write_atomic(&self.path.join(CONFIG_FILE), &config_json(&config)?)?;
        self.config = config;
        Ok(())
    }

    /// Saves `model`, `optim`, `state` and the metrics of every finished epoch as the run's
    /// current checkpoint, atomically ([`snapshot::save`]); a writer only.
    pub fn save(
        &self,
        model: &Autoencoder,
        optim: &ModuleOptimizer,
        state: &TrainState,
        history: &[EpochMetrics],
    ) -> Result<()> {
        self.writer("save a checkpoint")?;
        snapshot::save(&self.path, model, optim, state, history)
    }

    /// Removes checkpoints the current one superseded and unfinished ones; a writer only.
    pub fn clean(&self) -> Result<()> {
        self.writer("remove old checkpoints")?;
        snapshot::clean(&self.path)
    }

    /// The metrics of every epoch the current checkpoint has finished (none before the first):
    /// read from the checkpoint itself, so a run killed before its top-level copy of
    /// `metrics.jsonl` was written reads the same.
    pub fn metrics(&self) -> Result<Vec<EpochMetrics>> {
        // A run still training may switch to its next checkpoint (and delete this one) between
        // reading `latest` and reading the file: read `latest` again once.
        match self.latest()? {
            Some(s) => metrics::read_all(&s.metrics()).or_else(|e| match self.latest()? {
                Some(again) if again.dir != s.dir => metrics::read_all(&again.metrics()),
                _ => Err(e),
            }),
            None => Ok(Vec::new()),
        }
    }

    /// Fails for runs without an encoder (GANs): their only use is sampling the prior.
    pub fn require_encoder(&self) -> Result<()> {
        if self.config.model.kind == ModelKind::Gan {
            return Err(Error::Unsupported(format!(
                "{} is a GAN run: it has no encoder, so there are no codes to analyse or reconstruct; \
                 use `lorae sample {} --sampler prior`",
                self.path.display(),
                self.path.display()
            )));
        }
        Ok(())
    }

    /// The trained model of the current checkpoint on `device` (plain, for inference), checked
    /// against the checkpoint's digest.
    pub fn model(&self, device: &Device) -> Result<Autoencoder> {
        let template = Autoencoder::new(&self.config.model, self.config.data.layout(), device);
        let Some(s) = self.latest()? else {
            return Err(Error::bad_file(
                &self.path,
                "the run has no checkpoint yet (no epoch finished): train it, or resume it with --resume",
            ));
        };
        // A run still training may have moved on to its next checkpoint: read `latest` again.
        let (s, bytes) = match read(&s.model()) {
            Ok(bytes) => (s, bytes),
            Err(e) => match self.latest()? {
                Some(again) if again.dir != s.dir => {
                    let bytes = read(&again.model())?;
                    (again, bytes)
                }
                _ => return Err(e),
            },
        };
        if let Some(d) = &s.state.digests {
            if checkpoint::sha256_hex(&bytes) != d.model {
                return Err(Error::bad_file(
                    s.model(),
                    "does not belong to this checkpoint (its SHA-256 differs from state.json's): it was replaced or damaged",
                ));
            }
        }
        checkpoint::load_model_bytes(template, &bytes, &s.model())
    }

    fn writer(&self, what: &str) -> Result<()> {
        match self.lock {
            Some(_) => Ok(()),
            None => Err(Error::Internal(format!(
                "cannot {what} in {}: it was opened for reading (RunDir::open); writers use RunDir::create or RunDir::resume",
                self.path.display()
            ))),
        }
    }
}

/// Reads and validates `RUN/config.json`.
fn read_config(run: &Path) -> Result<RunConfig> {
    let path = run.join(CONFIG_FILE);
    if !path.exists() && run.is_dir() {
        return Err(Error::bad_file(
            run,
            "is not a run directory (no config.json): give a directory `lorae train --out` wrote",
        ));
    }
    let bytes = read(&path)?;
    let config: RunConfig = serde_json::from_slice(&bytes)
        .map_err(|e| Error::bad_file(&path, format!("not a lorae run config: {e}")))?;
    config.validate()?;
    Ok(config)
}

fn config_json(config: &RunConfig) -> Result<Vec<u8>> {
    serde_json::to_vec_pretty(config)
        .map_err(|e| Error::Serialize(format!("the run configuration: {e}")))
}
