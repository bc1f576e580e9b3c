//! The files of a checkpoint: model weights as safetensors (named by module path, f32), Adam
//! state as burn's optimizer record, and a small JSON state; [`super::snapshot`] writes them as
//! one atomic unit. [`crate::io::atomic`] has the single-file version (temp + rename).

use std::collections::BTreeMap;
use std::path::Path;

use burn::module::{ModuleMapper, ModuleVisitor, Param};
use burn::optim::ModuleOptimizer;
use burn::prelude::*;
use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::io::atomic::{read, write_atomic};
use crate::model::arrae::RankTracker;
use crate::model::Autoencoder;
use crate::tensor::tensor_values;

/// File name of the latest model weights in a run directory.
pub const MODEL_FILE: &str = "model.safetensors";
/// File name of the optimizer state.
pub const OPTIMIZER_FILE: &str = "optimizer.bpk";
/// File name of the training state (last finished epoch).
pub const STATE_FILE: &str = "state.json";

/// What a run has finished.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainState {
    /// Last finished epoch (1-based); 0 before the first.
    pub epoch: usize,
    /// A mid-epoch checkpoint's progress through epoch `epoch + 1` (`--checkpoint-every`);
    /// absent at the end of an epoch (and in runs written before mid-epoch checkpoints).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partial: Option<PartialEpoch>,
    /// SHA-256 of the checkpoint's other files, written with them, so that a file replaced by
    /// another run's or damaged is refused on load ([`super::snapshot::verify`]); absent in
    /// checkpoints written before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digests: Option<Digests>,
    /// aRRAE: where its rank search is; absent for every other model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rank_search: Option<RankTracker>,
}

impl TrainState {
    /// The state after epoch `epoch` finished.
    pub fn after(epoch: usize) -> TrainState {
        TrainState {
            epoch,
            partial: None,
            digests: None,
            rank_search: None,
        }
    }

    /// The state inside epoch `epoch` (1-based), `partial` of it done.
    pub fn inside(epoch: usize, partial: PartialEpoch) -> TrainState {
        TrainState {
            epoch: epoch - 1,
            partial: Some(partial),
            digests: None,
            rank_search: None,
        }
    }

    /// The same state with aRRAE's rank search (`None` for other models).
    pub fn with_rank_search(self, rank_search: Option<RankTracker>) -> TrainState {
        TrainState {
            rank_search,
            ..self
        }
    }
}

/// Hex SHA-256 of each file of a checkpoint besides `state.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Digests {
    /// Of `model.safetensors`.
    pub model: String,
    /// Of `optimizer.bpk`.
    pub optimizer: String,
    /// Of `metrics.jsonl`.
    pub metrics: String,
}

/// Hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// How far an unfinished epoch got: its steps done and the sums its metrics average.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct PartialEpoch {
    /// Steps of the epoch already done.
    pub steps: usize,
    /// Sum of the total training losses of those steps.
    pub sum_total: f64,
    /// Sum of their reconstruction terms.
    pub sum_reconstruction: f64,
    /// Sum of their regulariser terms.
    pub sum_regularizer: f64,
    /// GAN: sum of the discriminator losses.
    pub sum_discriminator: f64,
    /// GAN: sum of the generator losses.
    pub sum_generator: f64,
    /// Wall-clock seconds spent on those steps.
    pub seconds: f64,
}

#[derive(Default)]
struct Collect {
    path: Vec<String>,
    tensors: Vec<(String, Tensor<1>, Vec<usize>)>,
}

impl ModuleVisitor for Collect {
    fn enter_module(&mut self, name: &str, _: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _: &str, _: &str) {
        self.path.pop();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let value = param.val();
        let shape = value.dims().to_vec();
        self.tensors
            .push((self.path.join("."), value.flatten(0, D - 1), shape));
    }
}

/// The model's weights as safetensors bytes (f32, little endian).
pub fn model_bytes(model: &Autoencoder) -> Result<Vec<u8>> {
    let mut collect = Collect::default();
    model.visit(&mut collect);
    let mut buffers = Vec::new();
    for (name, tensor, shape) in collect.tensors {
        let bytes: Vec<u8> = tensor_values(tensor)?
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        buffers.push((name, shape, bytes));
    }
    let views: Vec<(String, TensorView<'_>)> = buffers
        .iter()
        .map(|(name, shape, bytes)| {
            TensorView::new(Dtype::F32, shape.clone(), bytes)
                .map(|view| (name.clone(), view))
                .map_err(|e| {
                    Error::Serialize(format!("tensor `{name}` as a safetensors view: {e}"))
                })
        })
        .collect::<Result<_>>()?;
    safetensors::serialize(views, None)
        .map_err(|e| Error::Serialize(format!("the model as safetensors: {e}")))
}

/// Saves the model to `path` atomically.
pub fn save_model(model: &Autoencoder, path: &Path) -> Result<()> {
    write_atomic(path, &model_bytes(model)?)
}

struct Assign<'a> {
    path: Vec<String>,
    tensors: BTreeMap<String, (Vec<usize>, Vec<f32>)>,
    file: &'a Path,
    error: Option<Error>,
}

impl ModuleMapper for Assign<'_> {
    fn enter_module(&mut self, name: &str, _: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _: &str, _: &str) {
        self.path.pop();
    }
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let name = self.path.join(".");
        let expected = param.val().dims().to_vec();
        match self.tensors.remove(&name) {
            Some((shape, values)) if shape == expected => param.map(|old| {
                let loaded = Tensor::from_data(TensorData::new(values, shape), &old.device());
                if old.is_require_grad() {
                    loaded.require_grad()
                } else {
                    loaded
                }
            }),
            Some((shape, _)) => {
                self.error.get_or_insert(Error::bad_file(
                    self.file,
                    format!("tensor `{name}` has shape {shape:?}, the model expects {expected:?}: the checkpoint was made with another config"),
                ));
                param
            }
            None => {
                self.error.get_or_insert(Error::bad_file(
                    self.file,
                    format!(
                        "tensor `{name}` is missing: the checkpoint was made with another model"
                    ),
                ));
                param
            }
        }
    }
}

/// Loads weights from safetensors `bytes` (read from `file`) into `model`, which must have the
/// same architecture. Every tensor must be present, with the same shape.
pub fn load_model_bytes(model: Autoencoder, bytes: &[u8], file: &Path) -> Result<Autoencoder> {
    let st = SafeTensors::deserialize(bytes).map_err(|e| {
        Error::bad_file(
            file,
            format!("not a safetensors file ({e}); was it truncated?"),
        )
    })?;
    let mut tensors = BTreeMap::new();
    for (name, view) in st.tensors() {
        if view.dtype() != Dtype::F32 {
            return Err(Error::bad_file(
                file,
                format!("tensor `{name}` is {:?}, expected F32", view.dtype()),
            ));
        }
        let values: Vec<f32> = view
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        if let Some(bad) = values.iter().find(|v| !v.is_finite()) {
            return Err(Error::bad_file(
                file,
                format!("tensor `{name}` holds {bad}: the weights are damaged (or the run diverged); resume from an earlier copy or retrain"),
            ));
        }
        tensors.insert(name, (view.shape().to_vec(), values));
    }
    load_model_tensors(model, tensors, file)
}

/// Loads named tensors (`module.path.weight` → shape and row-major values) into `model`, which
/// must have exactly these parameters with these shapes; `file` names their source in errors.
pub fn load_model_tensors(
    model: Autoencoder,
    tensors: BTreeMap<String, (Vec<usize>, Vec<f32>)>,
    file: &Path,
) -> Result<Autoencoder> {
    let mut assign = Assign {
        path: Vec::new(),
        tensors,
        file,
        error: None,
    };
    let model = model.map(&mut assign);
    if let Some(e) = assign.error {
        return Err(e);
    }
    if let Some(extra) = assign.tensors.keys().next() {
        return Err(Error::bad_file(
            file,
            format!("unexpected tensor `{extra}`: the checkpoint was made with another model"),
        ));
    }
    Ok(model)
}

/// Loads weights from `path` into `model`.
pub fn load_model(model: Autoencoder, path: &Path) -> Result<Autoencoder> {
    load_model_bytes(model, &read(path)?, path)
}

/// Loads optimizer state (burn's record bytes, as [`super::snapshot::save`] writes them).
pub fn load_optimizer(optim: ModuleOptimizer, path: &Path) -> Result<ModuleOptimizer> {
    let bytes = read(path)?;
    optim
        .from_bytes(burn::tensor::Bytes::from_bytes_vec(bytes))
        .map_err(|e| Error::bad_file(path, format!("not an optimizer state ({e:?})")))
}

/// Loads the training state.
pub fn load_state(path: &Path) -> Result<TrainState> {
    serde_json::from_slice(&read(path)?)
        .map_err(|e| Error::bad_file(path, format!("not a lorae training state: {e}")))
}
