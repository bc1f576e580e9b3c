//! Images between numpy and lorae: an array (`uint8` or float in [0, 1]; `N×H×W` or `N×H×W×C`
//! with C = 1 or 3) becomes lorae's channel-first bytes in one copy; a string is a folder or
//! `dataset:NAME[:split]` as the CLI reads it. Back to Python, images are `uint8` `N×H×W` (one
//! channel) or `N×H×W×3`.

use std::path::PathBuf;

use lorae::config::{DatasetKind, ModelKind, RunConfig};
use lorae::data::{ImageSet, Split};
use lorae::eval::fid::source::ImageSource;
use numpy::ndarray::{ArrayD, IxDyn};
use numpy::{IntoPyArray, PyArrayDyn, PyReadonlyArrayDyn, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::prelude::*;

use crate::errors::{invalid, IntoPy};

/// What a function taking images was given.
pub enum Images {
    /// An array, converted.
    Set(ImageSet),
    /// A folder, a dataset split, or (for FID) a statistics file.
    Source(ImageSource),
}

/// Reads `obj`: a numpy array, or a string / path naming a folder, `dataset:NAME[:split]` or a
/// `.npz` of statistics.
pub fn images_from(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Images> {
    if let Ok(text) = obj.extract::<PathBuf>() {
        let text = text.to_string_lossy().into_owned();
        return ImageSource::parse(&text).py_err().map(Images::Source);
    }
    array_to_set(obj, what).map(Images::Set)
}

/// A numpy array of images as lorae's bytes, checked: `what` names the argument in errors.
pub fn array_to_set(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<ImageSet> {
    let Ok(array) = obj.cast::<PyUntypedArray>() else {
        return Err(invalid(format!(
            "`{what}` must be a numpy array of images (uint8 N×H×W or N×H×W×C, or floats in [0, 1]), a folder or `dataset:NAME[:split]`; got {}",
            obj.get_type().name().map_or("?".into(), |n| n.to_string())
        )));
    };
    let shape = array.shape().to_vec();
    let (n, h, w, c) = match shape[..] {
        [n, h, w] => (n, h, w, 1),
        [n, h, w, c] if c == 1 || c == 3 => (n, h, w, c),
        _ => {
            return Err(invalid(format!(
                "`{what}` has shape {shape:?}: images are N×H×W or N×H×W×C with C = 1 or 3"
            )))
        }
    };
    if n == 0 || h == 0 || w == 0 {
        return Err(invalid(format!(
            "`{what}` has shape {shape:?}: it holds no image"
        )));
    }
    let pixels: Vec<u8> = if let Ok(a) = obj.extract::<PyReadonlyArrayDyn<'_, u8>>() {
        let view = a.as_array();
        match view.as_slice() {
            Some(s) => s.to_vec(),
            None => view.iter().copied().collect(),
        }
    } else if let Ok(a) = obj.extract::<PyReadonlyArrayDyn<'_, f32>>() {
        quantise(a.as_array().iter().map(|&v| v as f64), what)?
    } else if let Ok(a) = obj.extract::<PyReadonlyArrayDyn<'_, f64>>() {
        quantise(a.as_array().iter().copied(), what)?
    } else {
        return Err(invalid(format!(
            "`{what}` has dtype {}: give uint8 pixels or floats (float32, float64) in [0, 1]",
            array.dtype()
        )));
    };
    // N×H×W×C (row-major) → N×C×H×W.
    let mut chw = vec![0u8; pixels.len()];
    let plane = h * w;
    for (i, image) in pixels.chunks_exact(plane * c).enumerate() {
        let out = &mut chw[i * plane * c..(i + 1) * plane * c];
        for (p, px) in image.chunks_exact(c).enumerate() {
            for (ch, &v) in px.iter().enumerate() {
                out[ch * plane + p] = v;
            }
        }
    }
    Ok(ImageSet {
        pixels: chw,
        shape: [c, h, w],
        labels: None,
    })
}

/// Floats in [0, 1] as 8-bit pixels, `round(255 x)`; a value outside (or NaN) is refused with its
/// position.
fn quantise(values: impl Iterator<Item = f64>, what: &str) -> PyResult<Vec<u8>> {
    values
        .enumerate()
        .map(|(i, v)| {
            if (0.0..=1.0).contains(&v) {
                Ok((v * 255.0).round() as u8)
            } else {
                Err(invalid(format!(
                    "`{what}` holds {v} at flat index {i}: float images must lie in [0, 1] (uint8 for 0–255)"
                )))
            }
        })
        .collect()
}

/// lorae's images as a numpy `uint8` array, `N×H×W` for one channel, else `N×H×W×C`.
pub fn set_to_array<'py>(py: Python<'py>, set: &ImageSet) -> PyResult<Bound<'py, PyArrayDyn<u8>>> {
    let [c, h, w] = set.shape;
    let (n, plane) = (set.len(), h * w);
    let mut hwc = vec![0u8; set.pixels.len()];
    for (i, image) in set.pixels.chunks_exact(plane * c).enumerate() {
        let out = &mut hwc[i * plane * c..(i + 1) * plane * c];
        for ch in 0..c {
            for p in 0..plane {
                out[p * c + ch] = image[ch * plane + p];
            }
        }
    }
    let dims = if c == 1 {
        vec![n, h, w]
    } else {
        vec![n, h, w, c]
    };
    let array = ArrayD::from_shape_vec(IxDyn(&dims), hwc)
        .map_err(|e| invalid(format!("images of shape {dims:?}: {e}")))?;
    Ok(array.into_pyarray(py))
}

/// Images and, where the dataset has them, labels.
type Labelled<'py> = (
    Bound<'py, PyArrayDyn<u8>>,
    Option<Bound<'py, PyArrayDyn<u8>>>,
);

/// `lorae.data(name, split)`: the images (and labels, where the dataset has them) lorae trains
/// and evaluates on.
#[pyfunction]
#[pyo3(signature = (name, split = "train", *, limit = None, data_dir = None))]
pub fn data<'py>(
    py: Python<'py>,
    name: &str,
    split: &str,
    limit: Option<usize>,
    data_dir: Option<PathBuf>,
) -> PyResult<Labelled<'py>> {
    let kind: DatasetKind = name.parse().py_err()?;
    let split: Split = split.parse().py_err()?;
    let mut config = RunConfig::for_dataset(ModelKind::Ae, kind);
    config.data.data_dir = data_dir;
    let set = py
        .detach(|| lorae::data::load_split(&config.data, config.seed, split, limit))
        .py_err()?;
    let labels = match &set.labels {
        Some(l) => Some(
            ArrayD::from_shape_vec(IxDyn(&[l.len()]), l.clone())
                .map_err(|e| invalid(e.to_string()))?
                .into_pyarray(py),
        ),
        None => None,
    };
    Ok((set_to_array(py, &set)?, labels))
}
