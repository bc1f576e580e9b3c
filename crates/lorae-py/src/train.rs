//! `lorae.train(...)`: `lorae train` as a function. Every setting of the command is a keyword of
//! the same name (`--train-size` → `train_size`, `--lambda` → `lambda_`), validated by the same
//! code with the same messages. The GIL is released while training; progress goes to `callback`
//! (each finished epoch's metrics as a dict) and, with `verbose`, one line per epoch on
//! `sys.stderr` (a terminal or a notebook). Ctrl-C stops at the next step boundary with a
//! checkpoint there, then raises `KeyboardInterrupt`: `train(..., resume=True)` continues the run
//! and ends bit-identical to one never interrupted.

use std::path::PathBuf;

use lorae::config::Overrides;
use lorae::run::metrics::EpochMetrics;
use lorae::train::{CheckpointEvery, Flow, Observer, TrainOptions};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors::{invalid, IntoPy};
use crate::run::Run;

/// The settings `lorae.train` takes as keywords besides model, dataset and out.
const SETTINGS: &[&str] = &[
    "seed",
    "layers",
    "latent_dim",
    "lambda_",
    "beta",
    "rae_reg",
    "vae_loss",
    "frozen_linear",
    "relu_between",
    "shared_linear",
    "init_scale",
    "rank",
    "rank_patience",
    "rank_warmup",
    "epochs",
    "batch_size",
    "lr",
    "order",
    "init",
    "train_size",
    "test_size",
    "data_dir",
    "image_size",
    "pixel_range",
    "threshold",
];

/// The overrides of `model`, `dataset` and the keywords in `settings`.
fn overrides(
    model: &str,
    dataset: &str,
    settings: Option<&Bound<'_, PyDict>>,
) -> PyResult<Overrides> {
    let mut o = Overrides {
        model: Some(model.parse().py_err()?),
        dataset: Some(dataset.parse().py_err()?),
        ..Default::default()
    };
    let Some(settings) = settings else {
        return Ok(o);
    };
    for (key, value) in settings.iter() {
        let key: String = key.extract()?;
        let bad = |e: PyErr| invalid(format!("`{key}`: {e}"));
        let text = |v: &Bound<'_, PyAny>| v.extract::<String>().map_err(bad);
        match key.as_str() {
            "seed" => o.seed = Some(value.extract().map_err(bad)?),
            "layers" => o.layers = Some(value.extract().map_err(bad)?),
            "latent_dim" => o.latent_dim = Some(value.extract().map_err(bad)?),
            "lambda_" | "lambda" => o.lambda = Some(value.extract().map_err(bad)?),
            "beta" => o.beta = Some(value.extract().map_err(bad)?),
            "rae_reg" => o.rae_reg = Some(text(&value)?.parse().py_err()?),
            "vae_loss" => o.vae_loss = Some(text(&value)?.parse().py_err()?),
            "frozen_linear" => o.frozen_linear = value.extract().map_err(bad)?,
            "relu_between" => o.relu_between = value.extract().map_err(bad)?,
            "shared_linear" => o.shared_linear = value.extract().map_err(bad)?,
            "init_scale" => o.init_scale = Some(value.extract().map_err(bad)?),
            "rank" => o.rank = Some(value.extract().map_err(bad)?),
            "rank_patience" => o.rank_patience = Some(value.extract().map_err(bad)?),
            "rank_warmup" => o.rank_warmup = Some(value.extract().map_err(bad)?),
            "epochs" => o.epochs = Some(value.extract().map_err(bad)?),
            "batch_size" => o.batch_size = Some(value.extract().map_err(bad)?),
            "lr" => o.lr = Some(value.extract().map_err(bad)?),
            "order" => o.order = Some(text(&value)?.parse().py_err()?),
            "init" => o.init = Some(value.extract::<PathBuf>().map_err(bad)?),
            "train_size" => o.train_size = Some(value.extract().map_err(bad)?),
            "test_size" | "eval_size" => o.test_size = Some(value.extract().map_err(bad)?),
            "data_dir" => o.data_dir = Some(value.extract::<PathBuf>().map_err(bad)?),
            "image_size" => o.image_size = Some(value.extract().map_err(bad)?),
            "pixel_range" => o.pixel_range = Some(text(&value)?.parse().py_err()?),
            "threshold" => o.rank_threshold = Some(value.extract().map_err(bad)?),
            _ => {
                return Err(invalid(format!(
                    "unknown setting `{key}`: expected one of model, dataset, out, resume, callback, verbose, device, checkpoint_every, {}",
                    SETTINGS.join(", ")
                )))
            }
        }
    }
    Ok(o)
}

/// Forwards the loop's progress to Python, and turns a pending Ctrl-C (or an exception raised by
/// the callback) into a stop at the next step boundary.
struct PyObserver {
    callback: Option<Py<PyAny>>,
    verbose: bool,
    run: String,
    pending: Option<PyErr>,
}

impl PyObserver {
    fn say(&self, py: Python<'_>, line: &str) {
        if self.verbose {
            if let Ok(stderr) = py.import("sys").and_then(|s| s.getattr("stderr")) {
                let _ = stderr.call_method1("write", (format!("{line}\n"),));
                let _ = stderr.call_method0("flush");
            }
        }
    }
}

impl Observer for PyObserver {
    fn started(&mut self, run: &std::path::Path, config: &lorae::config::RunConfig, first: usize) {
        self.run = run.display().to_string();
        let line = format!(
            "{} {} on {} into {} at epoch {first} of {}",
            if first == 1 { "training" } else { "resuming" },
            config.model.kind,
            config.data.dataset,
            self.run,
            config.train.epochs
        );
        Python::attach(|py| self.say(py, &line));
    }

    fn step(&mut self, _epoch: usize, _step: usize, _mean_loss: f64) -> Flow {
        if self.pending.is_some() {
            return Flow::Stop;
        }
        Python::attach(|py| match py.check_signals() {
            Ok(()) => Flow::Continue,
            Err(e) => {
                self.pending = Some(e);
                Flow::Stop
            }
        })
    }

    fn epoch_finished(&mut self, m: &EpochMetrics, epochs: usize) {
        Python::attach(|py| {
            let line = match (m.eval_mse, m.effective_rank) {
                (Some(mse), Some(rank)) => format!(
                    "{}: epoch {}/{epochs}: train loss {:.5}, eval mse {mse:.5}, effective rank {rank} (threshold {:.0e}), {:.1}s",
                    self.run, m.epoch, m.train_loss, m.rank_threshold, m.seconds
                ),
                _ => format!("{}: epoch {}/{epochs}: train loss {:.5}, {:.1}s", self.run, m.epoch, m.train_loss, m.seconds),
            };
            self.say(py, &line);
            let Some(callback) = &self.callback else {
                return;
            };
            let called = serde_json::to_string(m)
                .map_err(|e| invalid(format!("metrics: {e}")))
                .and_then(|text| py.import("json")?.call_method1("loads", (text,)))
                .and_then(|dict| callback.call1(py, (dict,)));
            if let Err(e) = called {
                self.pending.get_or_insert(e);
            }
        });
    }

    fn warning(&mut self, text: &str) {
        Python::attach(|py| {
            let warned = py.import("warnings").and_then(|w| {
                let category = py.get_type::<pyo3::exceptions::PyRuntimeWarning>();
                w.call_method1("warn", (text, category))
            });
            if let Err(e) = warned {
                self.pending.get_or_insert(e);
            }
        });
    }
}

/// `lorae.train`: trains (or with `resume`, continues) a run in `out` and returns it.
#[pyfunction]
#[pyo3(signature = (model = "irmae", dataset = "shapes", out = None, *, resume = false, callback = None, verbose = true, device = "cpu", checkpoint_every = None, **settings))]
#[allow(clippy::too_many_arguments)]
pub fn train(
    py: Python<'_>,
    model: &str,
    dataset: &str,
    out: Option<PathBuf>,
    resume: bool,
    callback: Option<Py<PyAny>>,
    verbose: bool,
    device: &str,
    checkpoint_every: Option<String>,
    settings: Option<&Bound<'_, PyDict>>,
) -> PyResult<Run> {
    let Some(out) = out else {
        return Err(invalid(
            "`out` is required: the run directory to create (or, with resume=True, to continue)"
                .into(),
        ));
    };
    if let Some(c) = &callback {
        if !c.bind(py).is_callable() {
            return Err(invalid(
                "`callback` must be callable: it is called with each epoch's metrics (a dict)"
                    .into(),
            ));
        }
    }
    let overrides = overrides(model, dataset, settings)?;
    let options = TrainOptions {
        device: device.parse().py_err()?,
        checkpoint_every: checkpoint_every
            .map(|t| t.parse::<CheckpointEvery>())
            .transpose()
            .py_err()?,
    };
    let mut observer = PyObserver {
        callback,
        verbose,
        run: out.display().to_string(),
        pending: None,
    };
    let path = out.clone();
    let result =
        py.detach(|| lorae::train::start(&overrides, &path, resume, &options, &mut observer));
    if let Some(e) = observer.pending.take() {
        return Err(e);
    }
    result.py_err()?;
    Run::open(out)
}
