//! The library's error type: every variant names the bad value or file and says what to do.

use std::path::PathBuf;

/// Errors returned by lorae. Each message names the offending value or file and a fix.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A configuration value is out of range or inconsistent.
    #[error("invalid value for `{field}`: {value} ({hint})")]
    InvalidConfig {
        /// The setting's name, as in the config file and CLI flag.
        field: &'static str,
        /// The rejected value, as text.
        value: String,
        /// What would be accepted.
        hint: String,
    },

    /// A name (model, dataset, ...) that lorae does not know.
    #[error("unknown {what} `{value}`: expected one of {expected}")]
    UnknownName {
        /// What kind of name it was ("model", "dataset", ...).
        what: &'static str,
        /// The rejected name.
        value: String,
        /// The accepted names.
        expected: String,
    },

    /// A filesystem operation failed on a path.
    #[error("{action} `{}`: {cause}", path.display())]
    Io {
        /// What was being done ("cannot read", "cannot create directory", ...).
        action: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        cause: std::io::Error,
    },

    /// A file exists but its contents are not what lorae expects.
    #[error("bad file `{}`: {reason}", path.display())]
    BadFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it and what to do.
        reason: String,
    },

    /// Training diverged (a loss became NaN or infinite).
    #[error("training diverged at epoch {epoch}, step {step}: loss is {loss}; lower --lr (now {lr}) or check the data; checkpoints written before are unchanged")]
    Diverged {
        /// Epoch (1-based) where it happened.
        epoch: usize,
        /// Step within the epoch.
        step: usize,
        /// The non-finite loss value.
        loss: f64,
        /// The learning rate in use.
        lr: f64,
    },

    /// Weights or activations became NaN or infinite (training has diverged); the training
    /// loop turns this into [`Error::Diverged`] with the epoch and step.
    #[error("{0} holds non-finite values: training has diverged; lower --lr")]
    NonFinite(String),

    /// Fetching a dataset failed before its files could be checked (a registry client missing or
    /// failing, a URL unreachable); `lorae data fetch --source auto` then tries the next source.
    #[error("fetch failed: {0}")]
    Fetch(String),

    /// A value could not be written out (JSON, safetensors, the optimizer record): a lorae bug,
    /// as every value it writes is serialisable.
    #[error("cannot serialise {0} (a lorae bug: please report it)")]
    Serialize(String),

    /// Settings given to resume a run contradict the run's `config.json`.
    #[error("--resume continues {} as configured in its config.json; these settings contradict it: {diffs} (drop them, or start a new run with another --out)", run.display())]
    ResumeConflict {
        /// The run directory.
        run: std::path::PathBuf,
        /// Each contradiction: the setting and both values.
        diffs: String,
    },

    /// A numerical routine failed (e.g. an SVD did not converge).
    #[error("numerical failure in {0}")]
    Numerical(String),

    /// What this model, dataset or image cannot do (a GAN has no encoder, FID takes grey or RGB
    /// images, ...): the message names the run or value and what to use instead.
    #[error("{0}")]
    Unsupported(String),

    /// Another lorae process holds the run directory's lock.
    #[error("{0}")]
    RunLocked(String),

    /// A benchmark's Python peer failed or reported something lorae cannot read.
    #[error("{0}")]
    Peer(String),

    /// The compute device cannot be used (`--device wgpu` without a working adapter).
    #[error("{0}")]
    Device(String),

    /// `lorae explore`'s server could not listen or serve.
    #[error("{0}")]
    Server(String),

    /// Something lorae itself should never do (an embedded asset that does not load): a bug.
    #[error("{0} (a lorae bug: please report it)")]
    Internal(String),
}

/// Result alias used throughout the library.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// Shorthand for [`Error::InvalidConfig`].
    pub fn invalid(field: &'static str, value: impl ToString, hint: impl Into<String>) -> Self {
        Error::InvalidConfig {
            field,
            value: value.to_string(),
            hint: hint.into(),
        }
    }

    /// A numerical failure of the model in `run` (weights that overflow) names the run; other
    /// errors pass unchanged.
    pub fn in_run(self, run: &std::path::Path) -> Self {
        match self {
            Error::Numerical(what) => Error::Numerical(format!("run {}: {what}", run.display())),
            other => other,
        }
    }

    /// Shorthand for [`Error::Io`].
    pub fn io(action: &'static str, path: impl Into<PathBuf>, cause: std::io::Error) -> Self {
        Error::Io {
            action,
            path: path.into(),
            cause,
        }
    }

    /// Shorthand for [`Error::BadFile`].
    pub fn bad_file(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Error::BadFile {
            path: path.into(),
            reason: reason.into(),
        }
    }
}
