//! lorae's own CPU kernels for the layers that dominate a training step: 2-d convolutions and
//! transposed convolutions as im2col/col2im around a GEMM, with bias and ReLU fused, 3×3 stride-1
//! convolutions by Winograd's F(2×2, 3×3) ([`winograd`], FID's Inception), and FID
//! Inception's 3×3 pools ([`pool`]), and a memory setting for the large-buffer passes
//! ([`huge_pages`]). Plain functions on `f32` slices; [`flex`] wraps them as
//! (autodiff) ops on flex.

pub mod conv;
pub mod flex;
pub mod gemm;
pub mod huge_pages;
pub mod im2col;
pub mod pool;
pub mod scratch;
pub mod subnormal;
pub mod winograd;

pub use conv::{
    conv_backward, conv_forward, deconv_backward, deconv_forward, relu_mask, ConvGrads, ConvShape,
};
pub use im2col::Geometry;
