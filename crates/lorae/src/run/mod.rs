//! A run directory: `config.json` (the resolved [`crate::config::RunConfig`]), the current checkpoint
//! `checkpoint-NNNN/` named by `latest` (model, Adam state, training state and metrics as one
//! atomic unit, see [`snapshot`]), copies of its `model.safetensors` and `metrics.jsonl`, and the
//! writer's `lock`. [`RunDir`] is the only way in: [`crate::train`] writes runs through it and
//! everything above reads them through it.

pub mod checkpoint;
pub mod codes;
mod dir;
pub mod import;
pub mod lock;
pub mod metrics;
pub mod snapshot;

pub use dir::{RunDir, CONFIG_FILE};
