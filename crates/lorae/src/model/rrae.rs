//! RRAE (Mounayer et al. 2024, arXiv 2405.13980): the decoder sees the batch's codes truncated
//! to their `k` leading singular directions.
//!
//! **Training.** With the batch's codes `Z = E(X)` (`[batch, d]`, one code a row) and its thin
//! SVD `Z = A S Bᵀ`, the decoder gets `Z_k = A_k S_k B_kᵀ = Z·P`, `P = B_k B_kᵀ` (no centring,
//! as the official code). The gradient flows through the SVD, as in the official code's
//! `stable_SVD` custom JVP: with `G = ZᵀZ = Σ λ_j b_j b_jᵀ` (all d eigenvectors, `λ_j = s_j²`,
//! descending), `P` is G's top-k eigenprojector and
//!
//! `d(Z·P) = dZ·P + Z·dP`, `dP = B C Bᵀ`, `C = (Bᵀ dG B) ⊙ H`, `dG = dZᵀZ + ZᵀdZ`,
//! `H_ij = 1/(λ_i − λ_j)` for `i ≤ k < j` (and symmetric), 0 elsewhere.
//!
//! The SVD runs on the host in f64 (where LoRAE's runs); the forward pass is
//! `Z·P + W·((FᵀW + WᵀF) ⊙ H)·Bᵀ` with `W = Z₀B` and `F = (Z − stopgrad Z)·B`: the second
//! term is zero in value and carries exactly the `Z·dP` part of the gradient. The official guard
//! becomes: a gap `λ_i − λ_j` below 1e-12·λ₁ (equal or negligible singular values) gets `H = 0`.
//!
//! **Evaluation.** A single image has no batch to truncate with, so after each epoch the
//! official `fine_tune_basis` is followed: the training set is encoded batch by batch (the
//! epoch's batches), each batch's `B_k` is kept, and the basis is the `k` leading left singular
//! vectors of `[B_k¹ … B_kⁿ]` — the top-k eigenvectors of `Σ B_kⁱ B_kⁱᵀ`. The model keeps
//! `P = basis·basisᵀ` as its one-layer chain, so `encode` gives `E(x)·P` (the official
//! `B Bᵀ E(x)`), and every evaluation of lorae (spectrum, samplers, FID, classification,
//! `explore`) sees the codes the decoder is trained on. The official code's optional decoder
//! fine-tuning on those codes is not done.
//!
//! **Where lorae differs.** The loss is the per-pixel MSE of every lorae model, not the official
//! `100·‖X̂ − X‖_F/‖X‖_F`: per batch the two gradients differ only by a positive factor, and one
//! objective keeps the family comparison on one protocol.

use burn::prelude::*;
use nalgebra::{DMatrix, SymmetricEigen};

use crate::error::{Error, Result};
use crate::tensor::tensor_values;

/// Eigenvalue gaps below this fraction of the largest get no gradient (the official guard).
const GAP: f64 = 1e-12;

/// Eigenvectors (as columns) and eigenvalues of the symmetric `m`, eigenvalues descending.
fn sorted_eigen(m: DMatrix<f64>, what: &str) -> Result<(DMatrix<f64>, Vec<f64>)> {
    let d = m.nrows();
    let eigen = SymmetricEigen::try_new(m, 1e-14, 10_000).ok_or_else(|| {
        Error::Numerical(format!(
            "the eigendecomposition of the {d}×{d} {what} did not converge"
        ))
    })?;
    let mut order: Vec<usize> = (0..d).collect();
    order.sort_by(|&a, &b| eigen.eigenvalues[b].total_cmp(&eigen.eigenvalues[a]));
    let vectors = DMatrix::from_fn(d, d, |r, c| eigen.eigenvectors[(r, order[c])]);
    Ok((
        vectors,
        order.iter().map(|&i| eigen.eigenvalues[i]).collect(),
    ))
}

/// The eigen-decomposition of `ZᵀZ` for a batch's codes `Z` (`[batch, d]`): eigenvectors as
/// columns, eigenvalues descending (rounding's negatives clipped to 0).
fn gram_eigen(values: &[f32], rows: usize, d: usize) -> Result<(DMatrix<f64>, Vec<f64>)> {
    if values.iter().any(|v| !v.is_finite()) {
        return Err(Error::NonFinite(format!(
            "the {rows}×{d} codes RRAE truncates"
        )));
    }
    let z = DMatrix::from_row_iterator(rows, d, values.iter().map(|&v| v as f64));
    let (vectors, lambdas) = sorted_eigen(z.transpose() * &z, "Gram matrix of the codes")?;
    Ok((vectors, lambdas.into_iter().map(|l| l.max(0.0)).collect()))
}

/// `k` leading right singular vectors of the codes `Z` (`[rows, d]` row-major values), `[d, k]`.
pub fn leading_directions(values: &[f32], rows: usize, d: usize, k: usize) -> Result<DMatrix<f64>> {
    let (vectors, _) = gram_eigen(values, rows, d)?;
    Ok(vectors.columns(0, k.min(d)).into_owned())
}

fn constant(m: &DMatrix<f64>, device: &Device) -> Tensor<2> {
    let (rows, cols) = m.shape();
    let values: Vec<f32> = (0..rows)
        .flat_map(|r| (0..cols).map(move |c| (r, c)))
        .map(|(r, c)| m[(r, c)] as f32)
        .collect();
    Tensor::from_data(TensorData::new(values, [rows, cols]), device)
}

/// The batch's codes `z` (`[batch, d]`) truncated to their `k` leading singular directions,
/// `[batch, d]`, with the gradient through the SVD (module doc). `k ≥ d` is the identity.
pub fn truncate(z: Tensor<2>, k: usize) -> Result<Tensor<2>> {
    let [rows, d] = z.dims();
    if k >= d {
        return Ok(z);
    }
    let device = z.device();
    let (b, lambdas) = gram_eigen(&tensor_values(z.clone())?, rows, d)?;
    let b_k = b.columns(0, k);
    let p = b_k * b_k.transpose(); // [d, d]
    let floor = GAP * lambdas[0].max(f64::MIN_POSITIVE);
    let h = DMatrix::from_fn(d, d, |i, j| {
        let (top, rest) = match (i < k, j < k) {
            (true, false) => (lambdas[i], lambdas[j]),
            (false, true) => (lambdas[j], lambdas[i]),
            _ => return 0.0,
        };
        let gap = top - rest;
        if gap > floor {
            1.0 / gap
        } else {
            0.0
        }
    });
    let b_t = constant(&b, &device); // [d, d]
    let w = z.clone().detach().matmul(b_t.clone()); // Z₀B, [batch, d]
    let f = (z.clone() - z.clone().detach()).matmul(b_t.clone()); // zero, carries dZ·B
    let m = f.clone().transpose().matmul(w.clone()) + w.clone().transpose().matmul(f); // [d, d]
    let dp_term = w.matmul(m * constant(&h, &device)).matmul(b_t.transpose()); // Z₀·dP, [batch, d]
    Ok(z.matmul(constant(&p, &device)) + dp_term)
}

/// Accumulates the evaluation basis over the training batches: `Σ B_kⁱ B_kⁱᵀ`.
#[derive(Debug, Clone)]
pub struct BasisSum {
    k: usize,
    sum: DMatrix<f64>,
}

impl BasisSum {
    /// An empty sum for rank `k` in dimension `d`.
    pub fn new(d: usize, k: usize) -> BasisSum {
        BasisSum {
            k,
            sum: DMatrix::zeros(d, d),
        }
    }

    /// Adds one batch's codes (`[rows, d]` row-major values).
    pub fn add(&mut self, values: &[f32], rows: usize) -> Result<()> {
        let d = self.sum.nrows();
        let b_k = leading_directions(values, rows, d, self.k)?; // [d, k]
        self.sum += &b_k * b_k.transpose();
        Ok(())
    }

    /// The projector `P = basis·basisᵀ` onto the `k` leading eigenvectors of the sum, `[d, d]`.
    pub fn projector(&self, device: &Device) -> Result<Tensor<2>> {
        let (vectors, _) = sorted_eigen(self.sum.clone(), "sum of the batches' projectors")?;
        let basis = vectors.columns(0, self.k.min(self.sum.nrows()));
        Ok(constant(&(basis * basis.transpose()), device))
    }
}
