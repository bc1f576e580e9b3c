//! lorae: low-rank latent autoencoders (IRMAE, LoRAE) and their baselines, on burn.
//!
//! Data flows one way: [`data`] → [`model`] → [`train`] → [`latent`] codes → [`report`].

#[macro_use]
pub mod config;
pub mod data;
pub mod device;
pub mod error;
pub mod eval;
pub mod kernels;
pub mod latent;
pub mod model;
pub mod npy;
pub mod npz;
pub mod report;
pub mod reproduce;
pub mod sampler;
pub mod train;
pub mod weights;

pub use config::{DatasetKind, ModelKind, PixelRange, RunConfig, VaeLoss};
pub use error::{Error, Result};
