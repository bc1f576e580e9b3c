//! Encoder and decoder layouts of SPEC.md (IRMAE appendix, Table 3). All convolutions are 4×4,
//! stride 2, padding 1.
//!
//! | layout | encoder | decoder |
//! |---|---|---|
//! | shapes 3×32×32 | Conv32-64-128-256 (ReLU), Conv d (2×2 → 1×1) | ConvT256-128-64-32 (ReLU), ConvT3, Tanh |
//! | mnist 1×32×32 | Conv32-64-128-256 (ReLU), flatten 1024, FC d | FC 8·8·128, ReLU, ConvT64-32 (ReLU), 1×1 Conv1, Tanh |
//! | cifar 3×32×32 | as mnist, 3 input channels | as mnist, 1×1 Conv3 |
//! | celeba 3×64×64 | Conv128-256-512-1024 (ReLU), flatten 16384, FC d | FC 8·8·1024, ConvT512-256-128 (ReLU), 1×1 Conv3, Tanh |
//!
//! Where the paper's table is inconsistent (MNIST "FC8096" and a final ConvT that would double
//! the size to 64×64) we follow the public reference code: FC to 8·8·128 and a 1×1 convolution
//! to the output channels, which produces the stated 32×32 output. CelebA is resolved the same
//! way (1×1 convolution to 3 channels keeps 64×64). The shapes encoder has no ReLU on its last
//! convolution: the code feeds a linear chain and must be able to take negative values.
//!
//! Initial weights are PyTorch's for the official layers (`1/√fan_in` bounds, fan-in of a
//! transposed convolution from its weight's dimension 1): the 1×1 output convolution takes the
//! bound of the official `ConvTranspose2d(c, C, 1)`, 1/√C, and the shapes layout's 2×2 layers,
//! kept as 4×4 stride-2 layers whose outer taps only meet padding, the bound of the 2×2 kernel
//! with those taps zeroed (`zero_dead_taps`).
//!
//! The MNIST decoder's ReLU after the FC layer is the official code's (`MNIST_Decoder`); runs
//! written before lorae had it keep decoding without it (`ModelConfig::decoder_fc_relu`). The
//! official VAE decodes through a Sigmoid instead of the Tanh (`sigmoid`).

use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::nn::{Initializer, Linear, LinearConfig, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::activation::relu;

use crate::config::Layout;
use crate::error::Result;
use crate::kernels::flex as flex_conv;
use crate::kernels::Geometry;

fn down(c_in: usize, c_out: usize, device: &Device) -> Conv2d {
    Conv2dConfig::new([c_in, c_out], [4, 4])
        .with_stride([2, 2])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
        .init(device)
}

fn up(c_in: usize, c_out: usize, device: &Device) -> ConvTranspose2d {
    ConvTranspose2dConfig::new([c_in, c_out], [4, 4])
        .with_stride([2, 2])
        .with_padding([1, 1])
        .init(device)
}

/// PyTorch's default bound for weights and bias alike, `1/√fan_in`, as `Uniform`.
fn torch_bound(fan_in: usize) -> Initializer {
    let bound = 1.0 / (fan_in as f64).sqrt();
    Initializer::Uniform {
        min: -bound,
        max: bound,
    }
}

/// The shapes layout's 2×2 layers (`Conv2d(256, d, 2, 1, 0)` on a 2×2 input,
/// `ConvTranspose2d(d, 256, 2, 1, 0)` on a 1×1 one) as lorae's 4×4 stride-2 layers, drawn with
/// PyTorch's bound for the 2×2 kernel (fan-in `channels · 4`, dimension 1 of the weight for the
/// transposed one); [`zero_outer_taps`] then zeroes the taps outside the centre 2×2, which only
/// ever meet padding.
fn down_2x2(c_in: usize, c_out: usize, device: &Device) -> Conv2d {
    Conv2dConfig::new([c_in, c_out], [4, 4])
        .with_stride([2, 2])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
        .with_initializer(torch_bound(c_in * 4))
        .init(device)
}

fn up_2x2(c_in: usize, c_out: usize, device: &Device) -> ConvTranspose2d {
    ConvTranspose2dConfig::new([c_in, c_out], [4, 4])
        .with_stride([2, 2])
        .with_padding([1, 1])
        .with_initializer(torch_bound(c_out * 4))
        .init(device)
}

/// `w` (`[a, b, 4, 4]`) with every tap outside rows and columns 1..3 set to zero: a new leaf
/// built from the values (a parameter's value, not a node of a graph), trainable if `w` was.
fn zero_outer_taps(w: Tensor<4>) -> Result<Tensor<4>> {
    let trainable = w.is_require_grad();
    let (dims, device) = (w.dims(), w.device());
    let mut values = crate::tensor::tensor_values(w)?;
    for (i, v) in values.iter_mut().enumerate() {
        let (row, col) = (i % 16 / 4, i % 4);
        if !((1..3).contains(&row) && (1..3).contains(&col)) {
            *v = 0.0;
        }
    }
    let zeroed = Tensor::<4>::from_data(TensorData::new(values, dims), &device);
    Ok(if trainable {
        zeroed.require_grad()
    } else {
        zeroed
    })
}

/// `relu?(conv(x))` through lorae's kernels when `own` and on flex; `None` otherwise.
fn own_conv(conv: &Conv2d, x: &Tensor<4>, own: bool, with_relu: bool) -> Option<Tensor<4>> {
    let bias = conv.bias.as_ref()?.val();
    own.then(|| flex_conv::conv2d(x, &conv.weight.val(), &bias, Geometry::DOWN4, with_relu))?
}

/// Convolutional encoder; its last layer (`head_conv` or `head_fc`) outputs the code.
#[derive(Module, Debug)]
pub struct Encoder {
    /// Strided convolutions, each followed by ReLU.
    pub convs: Vec<Conv2d>,
    /// Shapes layout: the last convolution (2×2 → 1×1) producing the code.
    pub head_conv: Option<Conv2d>,
    /// MNIST/CelebA layouts: the fully connected layer producing the code.
    pub head_fc: Option<Linear>,
    /// Run the convolutions through lorae's kernels on flex ([`crate::kernels::flex`], ReLU fused),
    /// the default; `false` keeps burn's modules (a test compares the two).
    pub own_kernels: bool,
}

impl Encoder {
    /// An encoder for `layout` whose code has `out_dim` values.
    pub fn new(layout: Layout, out_dim: usize, device: &Device) -> Self {
        let (channels, fc_in): (&[usize], Option<usize>) = match layout {
            Layout::Shapes => (&[3, 32, 64, 128, 256], None),
            Layout::Mnist => (&[1, 32, 64, 128, 256], Some(256 * 2 * 2)),
            Layout::Cifar => (&[3, 32, 64, 128, 256], Some(256 * 2 * 2)),
            Layout::Celeba => (&[3, 128, 256, 512, 1024], Some(1024 * 4 * 4)),
        };
        let convs = channels
            .windows(2)
            .map(|w| down(w[0], w[1], device))
            .collect();
        let last = channels[channels.len() - 1];
        Encoder {
            convs,
            head_conv: fc_in.is_none().then(|| down_2x2(last, out_dim, device)),
            head_fc: fc_in.map(|n| LinearConfig::new(n, out_dim).init(device)),
            own_kernels: true,
        }
    }

    /// The same encoder with the dead taps of its 2×2-input head convolution zeroed (see
    /// [`down_2x2`]); a fresh model's initial weights, after they are drawn.
    pub fn zero_dead_taps(mut self) -> Result<Self> {
        if let Some(conv) = self.head_conv.as_mut() {
            let zeroed = zero_outer_taps(conv.weight.val())?;
            conv.weight = conv.weight.clone().map(|_| zeroed);
        }
        Ok(self)
    }

    /// `[batch, C, H, W]` → `[batch, out_dim]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let mut h = x;
        for conv in &self.convs {
            h = match own_conv(conv, &h, self.own_kernels, true) {
                Some(y) => y,
                None => relu(conv.forward(h)),
            }; // [batch, C', H/2, W/2]
        }
        match (&self.head_conv, &self.head_fc) {
            (Some(conv), _) => own_conv(conv, &h, self.own_kernels, false)
                .unwrap_or_else(|| conv.forward(h))
                .flatten(1, 3), // [batch, d]
            (None, Some(fc)) => fc.forward(h.flatten(1, 3)), // [batch, d]
            (None, None) => h.flatten(1, 3),
        }
    }
}

/// Decoder: optional FC + reshape, transposed convolutions, optional 1×1 output conv, Tanh.
#[derive(Module, Debug)]
pub struct Decoder {
    /// MNIST/CelebA: code → 8·8·C.
    pub fc: Option<Linear>,
    /// Transposed convolutions (ReLU after each but the last when there is no `out_conv`).
    pub deconvs: Vec<ConvTranspose2d>,
    /// MNIST/CelebA: 1×1 convolution to the image channels.
    pub out_conv: Option<Conv2d>,
    /// `[C, H, W]` the code is reshaped to before the first transposed convolution.
    pub start: [usize; 3],
    /// A ReLU after `fc` (the official MNIST decoder).
    pub fc_relu: bool,
    /// Sigmoid output to [0, 1] (the official VAE) instead of Tanh.
    pub sigmoid: bool,
    /// Use lorae's own CPU paths (the default): `out_conv` as one matrix product
    /// ([`super::gemm_conv::pointwise`]) and, on flex, the transposed convolutions through
    /// [`crate::kernels::flex`] with their ReLU fused. Same values; a test checks the training
    /// losses against burn's modules (`false`).
    pub own_kernels: bool,
}

impl Decoder {
    /// A decoder for `layout` from codes of `latent_dim` values; `fc_relu` puts a ReLU after the
    /// FC layer of the MNIST/CIFAR layout (none of the others has one), `sigmoid` replaces the
    /// output Tanh.
    pub fn new(
        layout: Layout,
        latent_dim: usize,
        fc_relu: bool,
        sigmoid: bool,
        device: &Device,
    ) -> Self {
        // The official output layer is `ConvTranspose2d(c_in, c_out, 1, 1, 0)`, whose PyTorch
        // fan-in is c_out (dimension 1 of its weight): bound 1/√c_out, not a Conv2d's 1/√c_in.
        let one_by_one = |c_in, c_out: usize| {
            Conv2dConfig::new([c_in, c_out], [1, 1])
                .with_initializer(torch_bound(c_out))
                .init(device)
        };
        let (channels, fc, out_conv, start): (&[usize], _, _, _) = match layout {
            Layout::Shapes => (
                &[latent_dim, 256, 128, 64, 32, 3],
                None,
                None,
                [latent_dim, 1, 1],
            ),
            Layout::Mnist | Layout::Cifar => (
                &[128, 64, 32],
                Some(LinearConfig::new(latent_dim, 128 * 8 * 8).init(device)),
                Some(one_by_one(32, layout.image_shape()[0])),
                [128, 8, 8],
            ),
            Layout::Celeba => (
                &[1024, 512, 256, 128],
                Some(LinearConfig::new(latent_dim, 1024 * 8 * 8).init(device)),
                Some(one_by_one(128, 3)),
                [1024, 8, 8],
            ),
        };
        Decoder {
            fc,
            deconvs: channels
                .windows(2)
                .enumerate()
                .map(|(i, w)| match (i, layout) {
                    (0, Layout::Shapes) => up_2x2(w[0], w[1], device),
                    _ => up(w[0], w[1], device),
                })
                .collect(),
            out_conv,
            start,
            fc_relu: fc_relu && matches!(layout, Layout::Mnist | Layout::Cifar),
            sigmoid,
            own_kernels: true,
        }
    }

    /// The same decoder with the dead taps of a first transposed convolution on a 1×1 code
    /// (the shapes layout) zeroed (see [`up_2x2`]).
    pub fn zero_dead_taps(mut self) -> Result<Self> {
        if self.fc.is_none() && self.start[1..] == [1, 1] {
            if let Some(first) = self.deconvs.first_mut() {
                let zeroed = zero_outer_taps(first.weight.val())?;
                first.weight = first.weight.clone().map(|_| zeroed);
            }
        }
        Ok(self)
    }

    /// `[batch, d]` → `[batch, C, H, W]` in (−1, 1) (Tanh) or (0, 1) (Sigmoid).
    pub fn forward(&self, z: Tensor<2>) -> Tensor<4> {
        let [batch, _] = z.dims();
        let h = match &self.fc {
            Some(fc) if self.fc_relu => relu(fc.forward(z)), // [batch, C·8·8]
            Some(fc) => fc.forward(z),                       // [batch, C·8·8]
            None => z,
        };
        let mut h: Tensor<4> = h.reshape([batch, self.start[0], self.start[1], self.start[2]]);
        let last = self.deconvs.len() - 1;
        for (i, deconv) in self.deconvs.iter().enumerate() {
            let with_relu = i < last || self.out_conv.is_some();
            let own = match (&deconv.bias, self.own_kernels) {
                (Some(bias), true) => flex_conv::conv_transpose2d(
                    &h,
                    &deconv.weight.val(),
                    &bias.val(),
                    Geometry::DOWN4,
                    with_relu,
                ),
                _ => None,
            };
            h = match own {
                Some(y) => y,
                None if with_relu => relu(deconv.forward(h)),
                None => deconv.forward(h),
            }; // [batch, C', 2H, 2W]
        }
        if let Some(conv) = &self.out_conv {
            h = if self.own_kernels {
                let bias = conv.bias.as_ref().map(|b| b.val());
                super::gemm_conv::pointwise(h, conv.weight.val(), bias) // [batch, channels, H, W]
            } else {
                conv.forward(h) // [batch, channels, H, W]
            };
        }
        if self.sigmoid {
            burn::tensor::activation::sigmoid(h)
        } else {
            h.tanh()
        }
    }
}
