//! Latent codes of a trained model: encode a whole split, analyse them ([`spectrum`], [`pca`]),
//! move between them ([`interpolate`]) and decode codes back to images.

pub mod interpolate;
pub mod pca;
pub mod spectrum;

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::config::PixelRange;
use crate::data::ImageSet;
use crate::error::{Error, Result};
use crate::model::Autoencoder;
use crate::tensor::tensor_values;
use nalgebra::DMatrix;

/// Batch size of evaluation passes (no gradients, so larger than training batches).
pub const EVAL_BATCH: usize = 250;

/// Where codes are taken: after the linear chain (the codes every analysis uses) or at the
/// encoder's output before it (what the papers' classification code feeds its head).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CodeSource {
    /// The encoder's output, before the chain (the VAE's mean).
    Encoder,
    /// After the chain: the folded encoder's codes.
    Chain,
}

name_enum!(
    CodeSource,
    "code source",
    [(Encoder, "encoder"), (Chain, "chain")]
);

/// Codes of every image of `set`, row-major `[n, d]`, computed in batches of `batch`.
/// `model` should be a plain (validation) module on `device`.
pub fn encode_set(
    model: &Autoencoder,
    set: &ImageSet,
    range: PixelRange,
    batch: usize,
    device: &Device,
) -> Result<Codes> {
    encode_set_from(model, set, range, batch, CodeSource::Chain, device)
}

/// [`encode_set`] with the codes taken at `source`.
pub fn encode_set_from(
    model: &Autoencoder,
    set: &ImageSet,
    range: PixelRange,
    batch: usize,
    source: CodeSource,
    device: &Device,
) -> Result<Codes> {
    let n = set.len();
    let mut values = Vec::new();
    let mut dim = 0;
    let indices: Vec<usize> = (0..n).collect();
    for chunk in indices.chunks(batch.max(1)) {
        let x = set.batch(chunk, range, device); // [b, C, H, W]
        let z = match source {
            CodeSource::Chain => model.encode(x),
            CodeSource::Encoder => model.encode_before_chain(x),
        }; // [b, d]
        dim = z.dims()[1];
        values.extend(tensor_values(z)?);
    }
    if let Some(bad) = values.iter().find(|v| !v.is_finite()) {
        return Err(Error::Numerical(format!(
            "the model's codes hold {bad}: its weights overflow (a damaged checkpoint, or a run that diverged); \
             retrain, or resume from an earlier copy"
        )));
    }
    Ok(Codes { values, dim })
}

/// Decoded images of row-major `[n, dim]` codes, `[n, C, H, W]` flattened, in batches of `batch`.
pub fn decode_codes(
    model: &Autoencoder,
    codes: &Codes,
    batch: usize,
    device: &Device,
) -> Result<Vec<f32>> {
    let mut values = Vec::new();
    for chunk in codes.values.chunks(batch.max(1) * codes.dim.max(1)) {
        let z = Tensor::<2>::from_data(
            TensorData::new(chunk.to_vec(), [chunk.len() / codes.dim, codes.dim]),
            device,
        ); // [b, d]
        values.extend(tensor_values(model.decode(z))?);
    }
    check_decoded(&values)?;
    Ok(values)
}

/// Decoded pixels must be finite and not all pinned to the output's bounds (0 and ±1, where a
/// sigmoid or tanh lands once its input overflows): either means decoder weights that overflow,
/// which would otherwise come out as a blank image and exit 0.
fn check_decoded(values: &[f32]) -> Result<()> {
    let advice = "its decoder's weights overflow (a damaged checkpoint, or a run that diverged); \
                  retrain, or resume from an earlier copy";
    if let Some(bad) = values.iter().find(|v| !v.is_finite()) {
        return Err(Error::Numerical(format!(
            "the model's decoded images hold {bad}: {advice}"
        )));
    }
    if values.len() >= 64 && values.iter().all(|&v| v == 0.0 || v.abs() == 1.0) {
        return Err(Error::Numerical(format!(
            "every decoded pixel sits on the output's bound (0 or ±1), the decoder is saturated: {advice}"
        )));
    }
    Ok(())
}

/// Codes of n images, row-major `[n, dim]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Codes {
    /// `n * dim` values.
    pub values: Vec<f32>,
    /// Latent dimension.
    pub dim: usize,
}

impl Codes {
    /// Number of codes.
    pub fn len(&self) -> usize {
        self.values.len().checked_div(self.dim).unwrap_or(0)
    }

    /// True when there are no codes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The codes as an `n × d` f64 matrix.
pub fn to_matrix(codes: &Codes) -> DMatrix<f64> {
    DMatrix::from_row_iterator(
        codes.len(),
        codes.dim,
        codes.values.iter().map(|&v| v as f64),
    )
}
