//! LoRAE's nuclear-norm penalty `λ‖M‖*` with its exact (sub)gradient `U Vᵀ`.
//!
//! With `M = U Σ Vᵀ`, `‖M‖* = Σ σᵢ = tr(Uᵀ M V) = sum(M ⊙ U Vᵀ)`. Treating `U Vᵀ` as a
//! constant (computed from M's values, outside the autodiff graph) gives a term whose value is
//! `‖M‖*` and whose gradient with respect to M is `U Vᵀ`.

use burn::prelude::*;
use nalgebra::DMatrix;

use crate::error::{Error, Result};
use crate::tensor::tensor_values;

/// Host SVD of a 2-D tensor's values in f64: `(U, σ, Vᵀ)`.
pub fn host_svd(m: &Tensor<2>) -> Result<(DMatrix<f64>, Vec<f64>, DMatrix<f64>)> {
    let [rows, cols] = m.dims();
    let values = tensor_values(m.clone())?;
    if values.iter().any(|v| !v.is_finite()) {
        return Err(Error::NonFinite(format!("the {rows}×{cols} matrix M")));
    }
    let matrix = DMatrix::from_row_iterator(rows, cols, values.iter().map(|&v| v as f64));
    let svd = matrix.try_svd(true, true, 1e-12, 10_000).ok_or_else(|| {
        Error::Numerical(format!(
            "SVD of the {rows}×{cols} matrix M did not converge"
        ))
    })?;
    let (Some(u), Some(v_t)) = (svd.u, svd.v_t) else {
        return Err(Error::Numerical("SVD returned no singular vectors".into()));
    };
    Ok((u, svd.singular_values.iter().copied().collect(), v_t))
}

/// `sum(M ⊙ stopgrad(U Vᵀ))`: equals `‖M‖*`, gradient `U Vᵀ`. `[1]`, on M's device.
pub fn nuclear_norm(m: Tensor<2>) -> Result<Tensor<1>> {
    let [rows, cols] = m.dims();
    let (u, _, v_t) = host_svd(&m)?;
    let uvt = u * v_t; // [rows, cols]
    let values: Vec<f32> = (0..rows)
        .flat_map(|r| (0..cols).map(move |c| (r, c)))
        .map(|(r, c)| uvt[(r, c)] as f32)
        .collect();
    let direction = Tensor::<2>::from_data(TensorData::new(values, [rows, cols]), &m.device());
    Ok((m * direction).sum())
}
