//! `lorae explore`: a local web page to move through learned latent spaces. A run's decoder runs
//! in milliseconds on a CPU, so the page can decode on every slider move: the point
//! `z = m + Σᵢ tᵢ σᵢ aᵢ` along the top principal components `aᵢ` (standard deviations `σᵢ`) of
//! the evaluation codes, as many as the effective rank (at most 16), goes to the server and comes back as a
//! PNG. Beside it: the latent spectrum, GMM / Gaussian samples, interpolations between
//! evaluation images; several runs side by side, under the same controls.
//!
//! [`view::RunView`] holds one loaded run and answers each question; [`server::Server`] is the
//! HTTP layer over a list of them.

pub mod server;
pub mod view;

use std::path::PathBuf;

use burn::prelude::Device;

use crate::error::Result;
use view::RunView;

/// Loads each run of `runs` (its first `limit` evaluation images; samplers fitted to the first
/// `fit_limit` codes).
pub fn load_runs(
    runs: &[PathBuf],
    limit: Option<usize>,
    fit_limit: usize,
    device: &Device,
) -> Result<Vec<RunView>> {
    runs.iter()
        .map(|run| RunView::load(run, limit, fit_limit, device))
        .collect()
}
