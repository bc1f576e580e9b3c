//! A run's image figures, as grids of decoded images: evaluation images above their
//! reconstructions; linear interpolations between the codes of pairs of evaluation images, the
//! two originals at the ends of each row; and a grid over the top two principal components of the
//! evaluation codes (±`extent` standard deviations around the mean code), decoded.

use std::path::Path;

use burn::prelude::*;

use super::grid::save_grid;
use crate::config::PixelRange;
use crate::error::{Error, Result};
use crate::latent::interpolate::interpolate;
use crate::latent::pca::Pca;
use crate::latent::{decode_codes, EVAL_BATCH};
use crate::run::codes::RunCodes;
use crate::tensor::tensor_values;

/// Images laid out in `rows × cols` cells, row-major.
#[derive(Debug, Clone)]
pub struct Grid {
    /// `[rows·cols, C, H, W]` floats in `range`.
    pub values: Vec<f32>,
    /// `[C, H, W]`.
    pub shape: [usize; 3],
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub cols: usize,
    /// The run's pixel range.
    pub range: PixelRange,
}

impl Grid {
    /// Writes the grid as a PNG.
    pub fn save(&self, path: &Path) -> Result<()> {
        save_grid(
            &self.values,
            self.shape,
            self.rows,
            self.cols,
            self.range,
            path,
        )
    }
}

/// The first `n` evaluation images (top row) and their reconstructions (bottom row); fewer
/// when the run has fewer, with a note.
pub fn reconstructions(run: &Path, n: usize, device: &Device) -> Result<Grid> {
    if n == 0 {
        return Err(Error::invalid("n", 0, "show at least 1 image"));
    }
    let dir = crate::run::RunDir::open(run)?;
    dir.require_encoder()?;
    let model = dir.model(device)?;
    let config = dir.config();
    let eval = crate::data::load_eval(&config.data, config.seed, Some(n))?;
    if eval.len() < n {
        crate::note!(
            "-n {n}: the run has {} evaluation images; showing them all",
            eval.len()
        );
    }
    let indices: Vec<usize> = (0..eval.len()).collect();
    let x = eval.batch(&indices, config.data.pixel_range, device); // [n, C, H, W]
    let y = model.reconstruct(x.clone()); // [n, C, H, W]
    let mut values = tensor_values(x)?;
    values.extend(tensor_values(y)?);
    Ok(Grid {
        values,
        shape: eval.shape,
        rows: 2,
        cols: indices.len(),
        range: config.data.pixel_range,
    })
}

/// `pairs` rows: evaluation images (0, 1), (2, 3), ... at the ends, `steps` decoded points of
/// the line between their codes (ends included) between them.
pub fn interpolations(run: &Path, pairs: usize, steps: usize, device: &Device) -> Result<Grid> {
    if pairs == 0 {
        return Err(Error::invalid("pairs", 0, "must be at least 1"));
    }
    let shape = crate::run::RunDir::open(run)?
        .config()
        .data
        .layout()
        .image_shape();
    let per_row = (steps as u128).saturating_add(2);
    crate::limits::check_images("steps", steps, per_row, shape)?;
    crate::limits::check_images("pairs", pairs, per_row.saturating_mul(pairs as u128), shape)?;
    let run_codes = RunCodes::load(run, Some(2 * pairs), device)?;
    let RunCodes {
        config,
        model,
        eval,
        codes,
    } = run_codes;
    if eval.len() < 2 * pairs {
        return Err(Error::invalid(
            "pairs",
            pairs,
            format!(
                "needs {} evaluation images; the run has {}",
                2 * pairs,
                eval.len()
            ),
        ));
    }
    let range = config.data.pixel_range;
    let ends: Vec<(usize, usize)> = (0..pairs).map(|p| (2 * p, 2 * p + 1)).collect();
    let path = interpolate(&codes, &ends, steps)?;
    let decoded = decode_codes(&model, &path, EVAL_BATCH, device).map_err(|e| e.in_run(run))?; // [pairs·steps, C, H, W]
    let len = eval.image_len();
    let mut values = Vec::with_capacity(pairs * (steps + 2) * len);
    for (p, &(a, b)) in ends.iter().enumerate() {
        let original = |i: usize| tensor_values(eval.batch(&[i], range, device));
        values.extend(original(a)?);
        values.extend_from_slice(&decoded[p * steps * len..(p + 1) * steps * len]);
        values.extend(original(b)?);
    }
    Ok(Grid {
        values,
        shape: eval.shape,
        rows: pairs,
        cols: steps + 2,
        range,
    })
}

/// Largest `--extent` of [`pca_grid`], in standard deviations (its codes lie within a few).
pub const MAX_EXTENT: f64 = 100.0;

/// A `size × size` grid over the top two principal components of the evaluation codes, with the
/// standard deviations along them.
pub fn pca_grid(run: &Path, size: usize, extent: f64, device: &Device) -> Result<(Grid, Vec<f64>)> {
    if !(extent.is_finite() && extent > 0.0 && extent <= MAX_EXTENT) {
        return Err(Error::invalid(
            "extent",
            extent,
            format!("must be a positive number of standard deviations, at most {MAX_EXTENT}"),
        ));
    }
    let dir = crate::run::RunDir::open(run)?;
    let config = dir.config();
    let cells = (size as u128).saturating_mul(size as u128);
    crate::limits::check_images("size", size, cells, config.data.layout().image_shape())?;
    let run_codes = RunCodes::load(run, None, device)?;
    let pca = Pca::fit(&run_codes.codes)?;
    if pca.std.first().is_none_or(|&s| !(s.is_finite() && s > 0.0)) {
        return Err(Error::bad_file(
            run,
            "its evaluation codes do not vary (σ1 = 0): the encoder gives every image the same code, \
             so there is nothing to walk along; the weights vanish, or the run collapsed",
        ));
    }
    let grid = pca.grid(size, extent)?;
    let values =
        decode_codes(&run_codes.model, &grid, EVAL_BATCH, device).map_err(|e| e.in_run(run))?;
    let std = pca.std.iter().take(2).copied().collect();
    Ok((
        Grid {
            values,
            shape: run_codes.eval.shape,
            rows: size,
            cols: size,
            range: config.data.pixel_range,
        },
        std,
    ))
}
