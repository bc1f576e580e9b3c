//! Tensor ↔ host: a tensor's values as `f32` on the host, at the bottom of the layering (the
//! model, the training loop, the readers of runs and the evaluations all need it).

use burn::prelude::*;

use crate::error::{Error, Result};

/// A tensor's values as f32 on the host.
pub fn tensor_values<const D: usize>(t: Tensor<D>) -> Result<Vec<f32>> {
    t.inner()
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .map_err(|e| Error::Numerical(format!("reading tensor values: {e:?}")))
}
