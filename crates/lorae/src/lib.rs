//! lorae: low-rank latent autoencoders (IRMAE, LoRAE) and their baselines, on burn.
//!
//! Data flows one way: [`data`] → [`model`] → [`train`] → [`latent`] codes → [`report`].

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
pub mod bench;
pub mod config;
pub mod data;
pub mod device;
pub mod error;
pub mod eval;
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
