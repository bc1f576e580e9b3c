//! `lorae.fid(a, b)` and `lorae.fid_stats(x)`: the FID code of `lorae fid` (pytorch-fid's numbers
//! to ~4e-7, without PyTorch) on numpy arrays, folders, dataset splits or pytorch-fid `.npz`
//! statistics.

use std::path::PathBuf;

use lorae::eval::fid::source::ImageSource;
use lorae::eval::fid::{frechet_distance, FeatureStats, FidScorer, StatsOptions};
use numpy::ndarray::{Array1, Array2};
use numpy::{IntoPyArray, PyArray1, PyArray2};
use pyo3::prelude::*;

use crate::errors::{invalid, IntoPy};
use crate::images::{images_from, Images};

fn options(
    batch_size: usize,
    limit: Option<usize>,
    weights: Option<PathBuf>,
    data_dir: Option<PathBuf>,
) -> PyResult<StatsOptions> {
    if batch_size == 0 {
        return Err(invalid("`batch_size` must be at least 1".into()));
    }
    if limit.is_some_and(|l| l < 2) {
        return Err(invalid(format!(
            "`limit` is {}: FID statistics need at least 2 images per set",
            limit.unwrap_or(0)
        )));
    }
    Ok(StatsOptions {
        weights,
        data_dir,
        limit,
        batch: batch_size,
        cache_dir: Some(lorae::data::cache_root().join("fid-stats")),
        progress: false,
    })
}

/// The statistics of one set, on a scorer that loads the network once.
fn stats_of(scorer: &mut FidScorer, images: Images, label: &str) -> lorae::Result<FeatureStats> {
    match images {
        Images::Set(set) => {
            let set = match scorer.options().limit {
                Some(l) if l < set.len() => set.take(l),
                _ => set,
            };
            scorer.images_statistics(&set, label)
        }
        Images::Source(source) => scorer.source_statistics(&source),
    }
}

/// `lorae.fid`: the Fréchet Inception Distance between two sets of images.
#[pyfunction]
#[pyo3(signature = (a, b, *, batch_size = 50, limit = None, weights = None, data_dir = None))]
pub fn fid(
    py: Python<'_>,
    a: &Bound<'_, PyAny>,
    b: &Bound<'_, PyAny>,
    batch_size: usize,
    limit: Option<usize>,
    weights: Option<PathBuf>,
    data_dir: Option<PathBuf>,
) -> PyResult<f64> {
    let options = options(batch_size, limit, weights, data_dir)?;
    let (a, b) = (images_from(a, "a")?, images_from(b, "b")?);
    py.detach(|| {
        let mut scorer = FidScorer::new(options, &lorae::device::host());
        let sa = stats_of(&mut scorer, a, "a")?;
        let sb = stats_of(&mut scorer, b, "b")?;
        frechet_distance(&sa, &sb)
    })
    .py_err()
}

/// `(mu, sigma)` as numpy arrays.
type MeanCovariance<'py> = (Bound<'py, PyArray1<f64>>, Bound<'py, PyArray2<f64>>);

/// `lorae.fid_stats`: the mean and covariance of a set's Inception features; with `out`, also
/// saved as a pytorch-fid `.npz` (`mu`, `sigma`).
#[pyfunction]
#[pyo3(signature = (x, *, out = None, batch_size = 50, limit = None, weights = None, data_dir = None))]
#[allow(clippy::too_many_arguments)]
pub fn fid_stats<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    out: Option<PathBuf>,
    batch_size: usize,
    limit: Option<usize>,
    weights: Option<PathBuf>,
    data_dir: Option<PathBuf>,
) -> PyResult<MeanCovariance<'py>> {
    let options = options(batch_size, limit, weights, data_dir)?;
    let x = images_from(x, "x")?;
    if let Images::Source(ImageSource::Stats(path)) = &x {
        return Err(invalid(format!(
            "`x` is a statistics file ({}): give images (an array, a folder or dataset:NAME)",
            path.display()
        )));
    }
    let stats = py
        .detach(|| {
            let mut scorer = FidScorer::new(options, &lorae::device::host());
            let stats = stats_of(&mut scorer, x, "x")?;
            if let Some(out) = &out {
                stats.save(out)?;
            }
            Ok::<_, lorae::Error>(stats)
        })
        .py_err()?;
    let dim = stats.mu.len();
    let mu = Array1::from_vec(stats.mu.iter().copied().collect());
    // nalgebra is column-major; Σ is symmetric, so either order reads the same.
    let sigma = Array2::from_shape_vec((dim, dim), stats.sigma.iter().copied().collect())
        .map_err(|e| invalid(format!("sigma: {e}")))?;
    Ok((mu.into_pyarray(py), sigma.into_pyarray(py)))
}
