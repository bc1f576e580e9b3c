//! `lorae.Run`: a run directory from Python — its configuration and metrics as Python objects,
//! and its model encoding, decoding, reconstructing and sampling numpy arrays.

use std::path::PathBuf;

use lorae::data::{ImageSet, Split};
use lorae::eval::fid::quantise;
use lorae::latent::{decode_codes, encode_set_from, CodeSource, Codes, EVAL_BATCH};
use lorae::model::Autoencoder;
use lorae::run::RunDir;
use lorae::sampler::draw::{draw_images, Draw};
use lorae::sampler::SamplerKind;
use numpy::ndarray::Array2;
use numpy::{IntoPyArray, PyArray1, PyArray2, PyArrayDyn, PyReadonlyArray2};
use pyo3::prelude::*;

use crate::errors::{invalid, IntoPy};
use crate::images::{images_from, set_to_array, Images};

/// A run directory `lorae train` (or `lorae.train`, or `lorae import`) wrote.
#[pyclass(module = "lorae._lorae", frozen, subclass)]
pub struct Run {
    path: PathBuf,
}

/// Python's `json.loads(text)`.
fn json<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    py.import("json")?.call_method1("loads", (text,))
}

impl Run {
    /// The run in `path`, checked to be one.
    pub fn open(path: PathBuf) -> PyResult<Run> {
        RunDir::open(&path).py_err()?;
        Ok(Run { path })
    }

    /// The normalised singular values of a split's (folded) codes.
    fn singular_values(&self, py: Python<'_>, split: &str) -> PyResult<Vec<f64>> {
        let split: Split = split.parse().py_err()?;
        let (config, model) = self.model()?;
        let spectrum = py
            .detach(|| {
                let host = lorae::device::host();
                let model = model.fold().unwrap_or(model);
                let set = lorae::data::load_split(&config.data, config.seed, split, None)?;
                let range = config.data.pixel_range;
                let codes = lorae::latent::encode_set(&model, &set, range, EVAL_BATCH, &host)?;
                lorae::latent::spectrum::spectrum(&codes, config.eval.rank_threshold)
            })
            .py_err()?;
        Ok(spectrum.singular_values)
    }

    fn dir(&self) -> PyResult<RunDir> {
        RunDir::open(&self.path).py_err()
    }

    /// The run's model on the host, and its configuration.
    fn model(&self) -> PyResult<(lorae::config::RunConfig, Autoencoder)> {
        let dir = self.dir()?;
        dir.require_encoder().py_err()?;
        let model = dir.model(&lorae::device::host()).py_err()?;
        Ok((dir.config().clone(), model))
    }

    /// `images` as a set of the run's image shape.
    fn images(
        &self,
        images: &Bound<'_, PyAny>,
        config: &lorae::config::RunConfig,
    ) -> PyResult<ImageSet> {
        let set = match images_from(images, "images")? {
            Images::Set(set) => set,
            Images::Source(source) => source
                .load(config.data.data_dir.as_deref(), None)
                .py_err()?,
        };
        let want = config.data.layout().image_shape();
        if set.shape != want {
            let [c, h, w] = want;
            return Err(invalid(format!(
                "`images` are {}×{}×{} (C×H×W) but the run's model takes {c}×{h}×{w}: give N×{h}×{w}{} images",
                set.shape[0],
                set.shape[1],
                set.shape[2],
                if c == 1 { String::new() } else { format!("×{c}") }
            )));
        }
        Ok(set)
    }
}

#[pymethods]
impl Run {
    #[new]
    fn new(path: PathBuf) -> PyResult<Self> {
        Run::open(path)
    }

    /// The run directory.
    #[getter]
    fn path(&self) -> PathBuf {
        self.path.clone()
    }

    /// The resolved configuration (`config.json`) as a dict.
    #[getter]
    fn config<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let text = serde_json::to_string(self.dir()?.config())
            .map_err(|e| invalid(format!("the configuration: {e}")))?;
        json(py, &text)
    }

    /// The metrics of every finished epoch, one dict each.
    #[getter]
    fn metrics<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let metrics = self.dir()?.metrics().py_err()?;
        let text =
            serde_json::to_string(&metrics).map_err(|e| invalid(format!("the metrics: {e}")))?;
        json(py, &text)
    }

    /// Codes of `images`, `float32` `N×d`.
    #[pyo3(signature = (images, *, chain = true))]
    fn encode<'py>(
        &self,
        py: Python<'py>,
        images: &Bound<'py, PyAny>,
        chain: bool,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let (config, model) = self.model()?;
        let set = self.images(images, &config)?;
        let codes = py
            .detach(|| {
                // The codes the CLI's `spectrum` and the samplers use: the folded chain.
                let model = model.fold().unwrap_or(model);
                let source = if chain {
                    CodeSource::Chain
                } else {
                    CodeSource::Encoder
                };
                let host = lorae::device::host();
                encode_set_from(
                    &model,
                    &set,
                    config.data.pixel_range,
                    EVAL_BATCH,
                    source,
                    &host,
                )
            })
            .py_err()?;
        codes_to_array(py, codes)
    }

    /// Images decoded from `codes` (`N×d`), `uint8`.
    fn decode<'py>(
        &self,
        py: Python<'py>,
        codes: PyReadonlyArray2<'py, f32>,
    ) -> PyResult<Bound<'py, PyArrayDyn<u8>>> {
        let (config, model) = self.model()?;
        let view = codes.as_array();
        let (n, d) = view.dim();
        if d != config.model.latent_dim || n == 0 {
            return Err(invalid(format!(
                "`codes` has shape ({n}, {d}): give N ≥ 1 codes of the run's latent dimension {}",
                config.model.latent_dim
            )));
        }
        if let Some(i) = view.iter().position(|v| !v.is_finite()) {
            return Err(invalid(format!(
                "`codes` holds a non-finite value at flat index {i}"
            )));
        }
        let codes = Codes {
            values: view.iter().copied().collect(),
            dim: d,
        };
        let values = py
            .detach(|| decode_codes(&model, &codes, EVAL_BATCH, &lorae::device::host()))
            .py_err()?;
        let shape = config.data.layout().image_shape();
        set_to_array(py, &quantise(&values, shape, config.data.pixel_range))
    }

    /// `images` through the model (encoder, chain, decoder), `uint8`.
    fn reconstruct<'py>(
        &self,
        py: Python<'py>,
        images: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArrayDyn<u8>>> {
        let (config, model) = self.model()?;
        let set = self.images(images, &config)?;
        let values = py
            .detach(|| {
                let host = lorae::device::host();
                let range = config.data.pixel_range;
                let codes =
                    encode_set_from(&model, &set, range, EVAL_BATCH, CodeSource::Chain, &host)?;
                decode_codes(&model, &codes, EVAL_BATCH, &host)
            })
            .py_err()?;
        let shape = config.data.layout().image_shape();
        set_to_array(py, &quantise(&values, shape, config.data.pixel_range))
    }

    /// Normalised singular values of the covariance of the codes of a split, descending.
    #[pyo3(signature = (split = "test"))]
    fn spectrum<'py>(&self, py: Python<'py>, split: &str) -> PyResult<Bound<'py, PyArray1<f64>>> {
        Ok(self.singular_values(py, split)?.into_pyarray(py))
    }

    /// How many normalised singular values of the test codes exceed `threshold`.
    #[pyo3(signature = (threshold = 1e-2, split = "test"))]
    fn effective_rank(&self, py: Python<'_>, threshold: f64, split: &str) -> PyResult<usize> {
        lorae::latent::spectrum::check_threshold(threshold).py_err()?;
        let values = self.singular_values(py, split)?;
        Ok(values.iter().filter(|&&v| v > threshold).count())
    }

    /// `n` images sampled from a `sampler` fitted to the codes of `fit_on`, `uint8`.
    #[pyo3(signature = (n, sampler = "gmm", *, k = 10, seed = 0, fit_on = "train", fit_limit = None))]
    #[allow(clippy::too_many_arguments)]
    fn sample<'py>(
        &self,
        py: Python<'py>,
        n: usize,
        sampler: &str,
        k: usize,
        seed: u64,
        fit_on: &str,
        fit_limit: Option<usize>,
    ) -> PyResult<Bound<'py, PyArrayDyn<u8>>> {
        let draw = Draw {
            kind: sampler.parse::<SamplerKind>().py_err()?,
            fit_on: fit_on.parse::<Split>().py_err()?,
            k,
            n,
            seed,
            fit_limit,
        };
        let path = self.path.clone();
        let (config, values) = py
            .detach(|| draw_images(&path, &draw, &lorae::device::host()))
            .py_err()?;
        let shape = config.data.layout().image_shape();
        set_to_array(py, &quantise(&values, shape, config.data.pixel_range))
    }

    fn __repr__(&self) -> String {
        format!("lorae.Run({:?})", self.path.display().to_string())
    }
}

/// Codes as a `float32` `N×d` array.
fn codes_to_array(py: Python<'_>, codes: Codes) -> PyResult<Bound<'_, PyArray2<f32>>> {
    let n = codes.values.len() / codes.dim.max(1);
    let array = Array2::from_shape_vec((n, codes.dim), codes.values)
        .map_err(|e| invalid(format!("codes: {e}")))?;
    Ok(array.into_pyarray(py))
}
