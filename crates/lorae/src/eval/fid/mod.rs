//! The Fréchet Inception Distance. [`FidScorer`] is what callers hold: the network loaded once,
//! lazily, and the statistics and distances it computes ([`scorer`]). Beneath it: [`stats`]
//! (the statistics and the distance), [`inception`] (the FID Inception-v3 network, its weights
//! read by [`inception_weights`]; [`inception_host`] runs it one image at a time on the CPU),
//! [`features`] (input conventions and batching) and [`source`] (what a set of images can be:
//! a folder, a dataset split, cached statistics).

pub mod features;
pub mod inception;
pub mod inception_host;
pub mod inception_weights;
pub mod scorer;
pub mod source;
pub mod stats;

pub use scorer::{
    default_weights, quantise, weights_path, FidScorer, RunFid, StatsOptions, FID_HELPER_WEIGHTS,
    PYTORCH_FID_WEIGHTS,
};
pub use stats::{frechet_distance, FeatureStats};
