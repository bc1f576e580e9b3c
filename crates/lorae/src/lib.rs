//! lorae: low-rank latent autoencoders (IRMAE, LoRAE) and their baselines, on burn.
//!
//! Data flows one way: [`data`] → [`model`] → [`train`] → [`latent`] codes → [`report`].
//!
//! Train an IRMAE on the embedded shapes data, read the effective rank of its codes, fit a
//! 10-component GMM to them and score the GMM's samples by FID against the test images
//! (the FID weights come from `lorae data fetch fid-weights`):
//!
//! ```no_run
//! use lorae::config::Overrides;
//! use lorae::data::Split;
//! use lorae::eval::fid::{FidScorer, StatsOptions};
//! use lorae::sampler::{draw::Draw, SamplerKind};
//! use lorae::{device, latent, run, train, ModelKind};
//!
//! # fn main() -> lorae::Result<()> {
//! let dir = std::path::Path::new("runs/irmae");
//! let overrides = Overrides { model: Some(ModelKind::Irmae), epochs: Some(4), ..Default::default() };
//! train::start(&overrides, dir, false, &train::TrainOptions::default(), &mut train::Silent)?; // writes the run
//! let cpu = device::host();
//! let codes = run::codes::RunCodes::load(dir, None, &cpu)?; // test images' codes, [n, d]
//! let rank = latent::spectrum::spectrum(&codes.codes, 1e-2)?.effective_rank;
//! let gmm = Draw { kind: SamplerKind::Gmm, k: 10, n: 1000, fit_on: Split::Train, seed: 0, fit_limit: None };
//! let options = StatsOptions { weights: None, data_dir: None, limit: Some(1000), batch: 50, cache_dir: None, progress: false };
//! let fid = FidScorer::new(options, &cpu).run_fid(dir, &gmm, None)?.fid; // vs the test split
//! println!("effective rank {rank}, FID {fid:.1}");
//! # Ok(())
//! # }
//! ```
//!
//! The `lorae` command line (crate `lorae-cli`) is a thin shell over these calls. Its servers,
//! downloads and timings are cargo features, on by default: `explore` (the HTTP server of
//! `lorae explore`), `fetch` (`lorae data fetch`) and `bench` (the Python peers); with
//! `default-features = false` the library has no HTTP server, async runtime or TLS stack.

/// `println!` that ignores a closed stdout (`lorae … | head -1` must not crash a command whose
/// files are what matter) and records any other failure (a full disk behind `> FILE`) for the
/// command to report: [`io::stdout::failure`].
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {{
        $crate::io::stdout::line(::std::format_args!($($arg)*));
    }};
}

/// `eprintln!` that ignores a closed stderr (training goes on when its log reader goes away).
#[macro_export]
macro_rules! note {
    ($($arg:tt)*) => {{
        use ::std::io::Write as _;
        let _ = ::std::writeln!(::std::io::stderr(), $($arg)*);
    }};
}

#[macro_use]
pub mod names;
#[cfg(feature = "bench")]
pub mod bench;
pub mod config;
pub mod data;
pub mod device;
pub mod error;
pub mod eval;
#[cfg(feature = "explore")]
pub mod explore;
pub mod io;
pub mod kernels;
pub mod latent;
pub mod limits;
pub mod model;
pub mod report;
pub mod reproduce;
pub mod run;
pub mod sampler;
pub mod tensor;
pub mod train;
pub mod weights;

pub use config::{DatasetKind, ModelKind, PixelRange, RunConfig, VaeLoss};
pub use error::{Error, Result};
