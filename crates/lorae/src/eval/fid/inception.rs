//! The FID Inception-v3 network (the 2015-12-05 TensorFlow graph that pytorch-fid ports), up to
//! the 2048-d pool3 features, in inference mode.
//!
//! It differs from torchvision's Inception-v3 where pytorch-fid's `FIDInception*` blocks do:
//! the average-pooling branches of blocks A, C and the first E exclude padding from the count
//! (`count_include_pad=False`), and the last E block (`Mixed_7c`) pools its branch with a 3×3
//! max-pool instead. Every convolution is followed by batch normalisation (ε = 0.001, as in
//! TensorFlow) and ReLU; the batch norm is folded into the convolution's weights and bias.

use std::collections::HashMap;
use std::path::Path;

use burn::prelude::*;
use burn::tensor::activation::relu;
use burn::tensor::module::{adaptive_avg_pool2d, avg_pool2d, conv2d, max_pool2d};
use burn::tensor::ops::{AvgPoolOptions, ConvOptions, MaxPoolOptions};

use super::inception_weights::{load_params, ConvBnParams};
use crate::error::{Error, Result};
use crate::kernels::flex as flex_conv;
use crate::kernels::pool::Pool3;
use crate::kernels::Geometry;

/// Batch-norm ε of the TensorFlow Inception graph.
pub const BN_EPS: f64 = 0.001;
/// Input side the network expects.
pub const INPUT_SIZE: usize = 299;
/// Dimension of the pool3 features.
pub const FEATURE_DIM: usize = 2048;

/// Convolution + folded batch norm + ReLU.
#[derive(Debug, Clone)]
pub(super) struct ConvBn {
    pub(super) weight: Tensor<4>, // [out, in, kh, kw], scaled by γ/√(var+ε)
    pub(super) bias: Tensor<1>,   // [out], β − mean·γ/√(var+ε)
    stride: usize,
    padding: [usize; 2],
}

impl ConvBn {
    /// Kernel, stride and padding.
    pub(super) fn geometry(&self) -> Geometry {
        let [_, _, kh, kw] = self.weight.dims();
        Geometry {
            kernel: [kh, kw],
            stride: [self.stride; 2],
            padding: self.padding,
        }
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let geometry = self.geometry();
        // lorae's im2col + GEMM kernel on flex (ReLU fused); burn's convolution elsewhere.
        if let Some(y) = flex_conv::conv2d(&x, &self.weight, &self.bias, geometry, true) {
            return y; // [batch, out, H', W']
        }
        let options = ConvOptions::new([self.stride; 2], self.padding, [1, 1], 1);
        relu(conv2d(
            x,
            self.weight.clone(),
            Some(self.bias.clone()),
            options,
        ))
    }
}

/// How a convolution pads: TensorFlow's "SAME" (stride 1, keeps the size) or "VALID".
#[derive(Clone, Copy)]
enum Pad {
    Same,
    Valid,
}

/// Builds the network's convolutions from the loaded parameters, checking names and shapes.
struct Builder<'a> {
    params: &'a HashMap<String, ConvBnParams>,
    path: &'a Path,
    device: &'a Device,
}

impl Builder<'_> {
    fn conv(&self, name: &str, stride: usize, pad: Pad) -> Result<ConvBn> {
        let p = self.params.get(name).ok_or_else(|| {
            Error::bad_file(
                self.path,
                format!("no convolution `{name}` in the FID weights"),
            )
        })?;
        let [out, cin, kh, kw] = p.shape;
        let per_out = cin * kh * kw;
        let mut weight = Vec::with_capacity(p.weight.len());
        let mut bias = Vec::with_capacity(out);
        for o in 0..out {
            let scale = p.gamma[o] as f64 / (p.var[o] as f64 + BN_EPS).sqrt();
            let kernel = &p.weight[o * per_out..(o + 1) * per_out];
            weight.extend(kernel.iter().map(|&w| (w as f64 * scale) as f32));
            bias.push((p.beta[o] as f64 - p.mean[o] as f64 * scale) as f32);
        }
        let padding = match pad {
            Pad::Same => [(kh - 1) / 2, (kw - 1) / 2],
            Pad::Valid => [0, 0],
        };
        Ok(ConvBn {
            weight: Tensor::from_data(TensorData::new(weight, p.shape), self.device),
            bias: Tensor::from_data(TensorData::new(bias, [out]), self.device),
            stride,
            padding,
        })
    }

    fn same(&self, name: &str) -> Result<ConvBn> {
        self.conv(name, 1, Pad::Same)
    }

    fn branches<const N: usize>(&self, block: &str, names: [&str; N]) -> Result<[ConvBn; N]> {
        let convs = names
            .iter()
            .map(|n| self.same(&format!("{block}.{n}")))
            .collect::<Result<Vec<_>>>()?;
        convs
            .try_into()
            .map_err(|_| Error::Numerical("branch count".into()))
    }
}

fn max_pool_3x3(x: Tensor<4>, stride: usize, padding: usize) -> Tensor<4> {
    // lorae's separable pool on flex; burn's elsewhere.
    if let Some(y) = flex_conv::pool3x3(&x, stride, padding, Pool3::Max) {
        return y;
    }
    max_pool2d(
        x,
        MaxPoolOptions::new([3, 3])
            .with_stride([stride; 2])
            .with_padding([padding; 2]),
    )
}

/// pytorch-fid's 3×3, stride-1 average pool that divides by the number of real pixels.
fn avg_pool_3x3(x: Tensor<4>) -> Tensor<4> {
    if let Some(y) = flex_conv::pool3x3(&x, 1, 1, Pool3::AvgExcludePad) {
        return y;
    }
    avg_pool2d(
        x,
        AvgPoolOptions::new([3, 3])
            .with_stride([1, 1])
            .with_padding([1, 1])
            .with_count_include_pad(false),
    )
}

/// FIDInceptionA: 1×1 | 1×1→5×5 | 1×1→3×3→3×3 | avg-pool→1×1.
#[derive(Debug, Clone)]
pub(super) struct BlockA(pub(super) [ConvBn; 7]);

impl BlockA {
    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let [b1, b5_1, b5_2, d1, d2, d3, pool] = &self.0;
        let a = b1.forward(x.clone()); // [b, 64, 35, 35]
        let b = b5_2.forward(b5_1.forward(x.clone())); // [b, 64, 35, 35]
        let c = d3.forward(d2.forward(d1.forward(x.clone()))); // [b, 96, 35, 35]
        let d = pool.forward(avg_pool_3x3(x)); // [b, pool_features, 35, 35]
        Tensor::cat(vec![a, b, c, d], 1)
    }
}

/// InceptionB (grid reduction 35 → 17): 3×3/2 | 1×1→3×3→3×3/2 | max-pool/2.
#[derive(Debug, Clone)]
pub(super) struct BlockB(pub(super) [ConvBn; 4]);

impl BlockB {
    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let [b3, d1, d2, d3] = &self.0;
        let a = b3.forward(x.clone()); // [b, 384, 17, 17]
        let b = d3.forward(d2.forward(d1.forward(x.clone()))); // [b, 96, 17, 17]
        let c = max_pool_3x3(x, 2, 0); // [b, 288, 17, 17]
        Tensor::cat(vec![a, b, c], 1)
    }
}

/// FIDInceptionC: 1×1 | 1×1→1×7→7×1 | 1×1→7×1→1×7→7×1→1×7 | avg-pool→1×1.
#[derive(Debug, Clone)]
pub(super) struct BlockC(pub(super) [ConvBn; 10]);

impl BlockC {
    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let [b1, s1, s2, s3, d1, d2, d3, d4, d5, pool] = &self.0;
        let a = b1.forward(x.clone()); // [b, 192, 17, 17]
        let b = s3.forward(s2.forward(s1.forward(x.clone()))); // [b, 192, 17, 17]
        let c = d5.forward(d4.forward(d3.forward(d2.forward(d1.forward(x.clone()))))); // [b, 192, 17, 17]
        let d = pool.forward(avg_pool_3x3(x)); // [b, 192, 17, 17]
        Tensor::cat(vec![a, b, c, d], 1)
    }
}

/// InceptionD (grid reduction 17 → 8): 1×1→3×3/2 | 1×1→1×7→7×1→3×3/2 | max-pool/2.
#[derive(Debug, Clone)]
pub(super) struct BlockD(pub(super) [ConvBn; 6]);

impl BlockD {
    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let [t1, t2, s1, s2, s3, s4] = &self.0;
        let a = t2.forward(t1.forward(x.clone())); // [b, 320, 8, 8]
        let b = s4.forward(s3.forward(s2.forward(s1.forward(x.clone())))); // [b, 192, 8, 8]
        let c = max_pool_3x3(x, 2, 0); // [b, 768, 8, 8]
        Tensor::cat(vec![a, b, c], 1)
    }
}

/// FIDInceptionE_1 / _2: 1×1 | 1×1→(1×3, 3×1) | 1×1→3×3→(1×3, 3×1) | pool→1×1, where the
/// pool is the padding-excluding average (`Mixed_7b`) or a max-pool (`Mixed_7c`).
#[derive(Debug, Clone)]
pub(super) struct BlockE {
    pub(super) convs: [ConvBn; 9],
    pub(super) max_pool: bool,
}

impl BlockE {
    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let [b1, t1, t2a, t2b, d1, d2, d3a, d3b, pool] = &self.convs;
        let a = b1.forward(x.clone()); // [b, 320, 8, 8]
        let t = t1.forward(x.clone()); // [b, 384, 8, 8]
        let (b, c) = (t2a.forward(t.clone()), t2b.forward(t)); // [b, 384, 8, 8] each
        let u = d2.forward(d1.forward(x.clone())); // [b, 384, 8, 8]
        let (d, e) = (d3a.forward(u.clone()), d3b.forward(u)); // [b, 384, 8, 8] each
        let pooled = if self.max_pool {
            max_pool_3x3(x, 1, 1)
        } else {
            avg_pool_3x3(x)
        };
        let f = pool.forward(pooled); // [b, 192, 8, 8]
        Tensor::cat(vec![a, b, c, d, e, f], 1) // [b, 2048, 8, 8]
    }
}

/// The FID Inception-v3 up to pool3, weights on one device.
#[derive(Debug, Clone)]
pub struct FidInception {
    pub(super) stem: [ConvBn; 5],
    pub(super) mixed_5: [BlockA; 3],
    pub(super) mixed_6a: BlockB,
    pub(super) mixed_6: [BlockC; 4],
    pub(super) mixed_7a: BlockD,
    pub(super) mixed_7: [BlockE; 2],
}

const A: [&str; 7] = [
    "branch1x1",
    "branch5x5_1",
    "branch5x5_2",
    "branch3x3dbl_1",
    "branch3x3dbl_2",
    "branch3x3dbl_3",
    "branch_pool",
];
const C: [&str; 10] = [
    "branch1x1",
    "branch7x7_1",
    "branch7x7_2",
    "branch7x7_3",
    "branch7x7dbl_1",
    "branch7x7dbl_2",
    "branch7x7dbl_3",
    "branch7x7dbl_4",
    "branch7x7dbl_5",
    "branch_pool",
];
const E: [&str; 9] = [
    "branch1x1",
    "branch3x3_1",
    "branch3x3_2a",
    "branch3x3_2b",
    "branch3x3dbl_1",
    "branch3x3dbl_2",
    "branch3x3dbl_3a",
    "branch3x3dbl_3b",
    "branch_pool",
];

impl FidInception {
    /// Loads the weights from pytorch-fid's `.pth` state dict or fid-helper's TorchScript
    /// `default_1.pt` (see [`super::inception_weights`]).
    pub fn load(path: &Path, device: &Device) -> Result<Self> {
        let params = load_params(path)?;
        let b = Builder {
            params: &params,
            path,
            device,
        };
        let a = |name: &str| b.branches(name, A).map(BlockA);
        let c = |name: &str| b.branches(name, C).map(BlockC);
        let e = |name: &str, max_pool| b.branches(name, E).map(|convs| BlockE { convs, max_pool });
        Ok(FidInception {
            stem: [
                b.conv("Conv2d_1a_3x3", 2, Pad::Valid)?,
                b.conv("Conv2d_2a_3x3", 1, Pad::Valid)?,
                b.same("Conv2d_2b_3x3")?,
                b.same("Conv2d_3b_1x1")?,
                b.conv("Conv2d_4a_3x3", 1, Pad::Valid)?,
            ],
            mixed_5: [a("Mixed_5b")?, a("Mixed_5c")?, a("Mixed_5d")?],
            mixed_6a: BlockB([
                b.conv("Mixed_6a.branch3x3", 2, Pad::Valid)?,
                b.same("Mixed_6a.branch3x3dbl_1")?,
                b.same("Mixed_6a.branch3x3dbl_2")?,
                b.conv("Mixed_6a.branch3x3dbl_3", 2, Pad::Valid)?,
            ]),
            mixed_6: [
                c("Mixed_6b")?,
                c("Mixed_6c")?,
                c("Mixed_6d")?,
                c("Mixed_6e")?,
            ],
            mixed_7a: BlockD([
                b.same("Mixed_7a.branch3x3_1")?,
                b.conv("Mixed_7a.branch3x3_2", 2, Pad::Valid)?,
                b.same("Mixed_7a.branch7x7x3_1")?,
                b.same("Mixed_7a.branch7x7x3_2")?,
                b.same("Mixed_7a.branch7x7x3_3")?,
                b.conv("Mixed_7a.branch7x7x3_4", 2, Pad::Valid)?,
            ]),
            mixed_7: [e("Mixed_7b", false)?, e("Mixed_7c", true)?],
        })
    }

    /// Pool3 features of `[batch, 3, 299, 299]` images in [−1, 1]: `[batch, 2048]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let [s1, s2, s3, s4, s5] = &self.stem;
        let x = s3.forward(s2.forward(s1.forward(x))); // [b, 64, 147, 147]
        let x = max_pool_3x3(x, 2, 0); // [b, 64, 73, 73]
        let x = s5.forward(s4.forward(x)); // [b, 192, 71, 71]
        let mut x = max_pool_3x3(x, 2, 0); // [b, 192, 35, 35]
        for block in &self.mixed_5 {
            x = block.forward(x); // [b, 256 | 288 | 288, 35, 35]
        }
        x = self.mixed_6a.forward(x); // [b, 768, 17, 17]
        for block in &self.mixed_6 {
            x = block.forward(x); // [b, 768, 17, 17]
        }
        x = self.mixed_7a.forward(x); // [b, 1280, 8, 8]
        for block in &self.mixed_7 {
            x = block.forward(x); // [b, 2048, 8, 8]
        }
        adaptive_avg_pool2d(x, [1, 1]).flatten(1, 3) // [b, 2048]
    }
}
