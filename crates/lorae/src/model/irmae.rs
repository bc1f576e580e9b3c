//! IRMAE's linear chain: `l` bias-free d×d linear layers between encoder and decoder.
//!
//! Gradient descent on a deep linear chain drives the product towards low rank, and with it the
//! covariance of the codes (Jing et al. 2020). At inference the chain is one matrix
//! `P = W1·W2···Wl` (burn's row convention: `z ↦ z·W`), folded into the encoder's last layer by
//! [`fold_into_encoder`]. LoRAE uses the same module with one layer `M`.

use burn::nn::{Initializer, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::relu;

use super::nets::Encoder;
use crate::error::{Error, Result};

/// The chain of square bias-free linear layers.
#[derive(Module, Debug)]
pub struct LinearChain {
    /// The distinct matrices (one when shared).
    pub layers: Vec<Linear>,
    /// How many times each matrix is applied in turn (`l` when shared, else 1).
    pub repeats: usize,
    /// Ablation: ReLU between consecutive layers (not after the last).
    pub relu_between: bool,
}

impl LinearChain {
    /// `layers` d×d layers initialised like PyTorch's `nn.Linear` (uniform, bound 1/√d), with the
    /// variance multiplied by `init_scale`. With `shared`, one matrix is applied `layers` times.
    pub fn new(
        dim: usize,
        layers: usize,
        shared: bool,
        relu_between: bool,
        init_scale: f64,
        device: &Device,
    ) -> Self {
        let bound = init_scale.sqrt() / (dim as f64).sqrt();
        let make = || {
            LinearConfig::new(dim, dim)
                .with_bias(false)
                .with_initializer(Initializer::Uniform {
                    min: -bound,
                    max: bound,
                })
                .init(device)
        };
        let (distinct, repeats) = if shared { (1, layers) } else { (layers, 1) };
        LinearChain {
            layers: (0..distinct).map(|_| make()).collect(),
            repeats,
            relu_between,
        }
    }

    /// One d×d layer holding the identity (RRAE's projector before its first basis).
    pub fn identity(dim: usize, device: &Device) -> Self {
        let layer = LinearConfig::new(dim, dim)
            .with_bias(false)
            .with_initializer(Initializer::Zeros)
            .init(device);
        LinearChain {
            layers: vec![layer],
            repeats: 1,
            relu_between: false,
        }
        .with_projector(Tensor::eye(dim, device))
    }

    /// The same chain with its one layer set to `p` (`[d, d]`): RRAE's new basis projector.
    pub fn with_projector(mut self, p: Tensor<2>) -> Self {
        if let Some(layer) = self.layers.first_mut() {
            // A constant: it is set, never trained.
            layer.weight = layer.weight.clone().map(|old| p.to_device(&old.device()));
        }
        self
    }

    /// Number of matrix applications l.
    pub fn depth(&self) -> usize {
        self.layers.len() * self.repeats
    }

    /// `[batch, d]` → `[batch, d]` through every layer.
    pub fn forward(&self, z: Tensor<2>) -> Tensor<2> {
        let depth = self.depth();
        let mut z = z;
        for i in 0..depth {
            z = self.layers[i / self.repeats].forward(z); // [batch, d]
            if self.relu_between && i + 1 < depth {
                z = relu(z);
            }
        }
        z
    }

    /// The product `P` with `forward(z) = z·P`, `[d, d]`. Fails with ReLUs between the layers.
    pub fn product(&self) -> Result<Tensor<2>> {
        if self.relu_between && self.depth() > 1 {
            return Err(Error::Unsupported(
                "a chain with ReLU between its layers is not linear and cannot be folded".into(),
            ));
        }
        let mut p = self.layers[0].weight.val();
        for i in 1..self.depth() {
            p = p.matmul(self.layers[i / self.repeats].weight.val()); // [d, d]
        }
        Ok(p)
    }
}

/// Folds `P` into the encoder's last layer, so that `folded(x) = encoder(x)·P`.
pub fn fold_into_encoder(encoder: &Encoder, p: Tensor<2>) -> Encoder {
    let mut folded = encoder.clone();
    let [d, _] = p.dims();
    if let Some(fc) = folded.head_fc.take() {
        // code = h·A + b  →  h·(A·P) + b·P
        let weight = fc.weight.map(|a| a.matmul(p.clone())); // [in, d]
        let bias = fc.bias.map(|b| {
            b.map(|b| {
                b.unsqueeze_dim::<2>(0)
                    .matmul(p.clone())
                    .squeeze_dim::<1>(0)
            }) // [d]
        });
        folded.head_fc = Some(Linear { weight, bias });
    }
    if let Some(mut conv) = folded.head_conv.take() {
        // code_o = Σ w[o]·x + b[o]  →  code'_o' = Σ_o P[o, o'] code_o
        let pt = p.transpose(); // [d, d]
        conv.weight = conv.weight.map(|w| {
            let [_, c, kh, kw] = w.dims();
            pt.clone()
                .matmul(w.reshape([d, c * kh * kw])) // [d, c·kh·kw]
                .reshape([d, c, kh, kw])
        });
        conv.bias = conv.bias.map(|b| {
            b.map(|b| {
                pt.clone()
                    .matmul(b.unsqueeze_dim::<2>(1))
                    .squeeze_dim::<1>(1)
            }) // [d]
        });
        folded.head_conv = Some(conv);
    }
    folded
}
