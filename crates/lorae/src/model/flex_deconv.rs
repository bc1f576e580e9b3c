//! The decoders' transposed convolutions (kernel 4, stride 2, padding 1) as an autodiff op of
//! lorae's own on flex: forward and input gradient are flex's, the weight gradient is one GEMM,
//! `dW[c, (o, ky, kx)] = Σ_{b,y,x} x[b, c, y, x] · g[b, o, 2y − 1 + ky, 2x − 1 + kx]`, instead of
//! burn's generic formula (a convolution whose kernel is the whole output), which flex runs
//! several times slower than the forward pass (`cargo run --release --example profile_ops`).
//! Other devices keep burn's `ConvTranspose2d`.
//!
//! Measured at batch 64 (`profile_ops`): the weight gradient of the 128→64 deconvolution from 8×8
//! falls from 38 ms to 16 ms, but that of the 64→32 one from 16×16 rises from 23 ms to 41 ms
//! (gathering its 33 MB im2col buffer costs more than it saves), so the op is used only for inputs
//! of at most [`MAX_SIDE`] pixels a side.

use std::borrow::Cow;

use burn::prelude::*;
use burn::tensor::DType;
use burn_autodiff::checkpoint::base::Checkpointer;
use burn_autodiff::grads::Gradients;
use burn_autodiff::ops::{Backward, Ops, OpsKind};
use burn_autodiff::{Autodiff, NodeId};
use burn_backend::ops::{ConvTransposeOptions, ModuleOps};
use burn_backend::{AutodiffBackend, TensorData};
use burn_flex::{Flex, FlexTensor};
use rayon::prelude::*;

type Ad = Autodiff<Flex>;

/// Largest input side for which lorae's op beats burn's generic weight gradient on flex.
pub const MAX_SIDE: usize = 8;
type FloatPrimitive = <Ad as burn_backend::BackendTypes>::FloatTensorPrimitive;

/// Kernel 4, stride 2, padding 1.
fn options() -> ConvTransposeOptions<2> {
    ConvTransposeOptions::new([2, 2], [1, 1], [0, 0], [1, 1], 1)
}

/// The values of `t` in row-major order: borrowed from its storage when it is a contiguous f32
/// tensor (the usual case), else copied out.
fn values(t: &FlexTensor) -> Cow<'_, [f32]> {
    match t.layout().contiguous_offsets() {
        Some((start, end)) if t.dtype() == DType::F32 => {
            Cow::Borrowed(&t.storage::<f32>()[start..end])
        }
        _ => Cow::Owned(
            t.clone()
                .into_data()
                .convert::<f32>()
                .try_to_vec::<f32>()
                .unwrap_or_default(),
        ),
    }
}

/// `dW` `[C, O, 4, 4]` of the transposed convolution of `x` `[B, C, H, W]` given the output
/// gradient `g` `[B, O, 2H, 2W]`.
fn weight_grad(x: &FlexTensor, g: &FlexTensor) -> FlexTensor {
    let xs = x.layout().shape();
    let gs = g.layout().shape();
    let (b, c, h, w, o) = (xs[0], xs[1], xs[2], xs[3], gs[1]);
    let (xv, gv) = (values(x), values(g));
    let (hw, oh, ow) = (h * w, 2 * h, 2 * w);
    // x as [C, B·H·W].
    let mut x_mat = vec![0f32; c * b * hw];
    x_mat
        .par_chunks_mut(b * hw)
        .enumerate()
        .for_each(|(ci, row)| {
            for bi in 0..b {
                row[bi * hw..(bi + 1) * hw]
                    .copy_from_slice(&xv[(bi * c + ci) * hw..(bi * c + ci + 1) * hw]);
            }
        });
    // g gathered as [B·H·W, O·16]: row (b, y, x), column (o, ky, kx) = g[b, o, 2y−1+ky, 2x−1+kx].
    let mut cols = vec![0f32; b * hw * o * 16];
    cols.par_chunks_mut(hw * o * 16)
        .enumerate()
        .for_each(|(bi, block)| {
            for y in 0..h {
                for xx in 0..w {
                    let row = &mut block[(y * w + xx) * o * 16..(y * w + xx + 1) * o * 16];
                    for oi in 0..o {
                        let plane = &gv[(bi * o + oi) * oh * ow..(bi * o + oi + 1) * oh * ow];
                        for ky in 0..4 {
                            let oy = (2 * y + ky) as isize - 1;
                            if oy < 0 || oy >= oh as isize {
                                continue;
                            }
                            for kx in 0..4 {
                                let ox = (2 * xx + kx) as isize - 1;
                                if ox >= 0 && ox < ow as isize {
                                    row[oi * 16 + ky * 4 + kx] =
                                        plane[oy as usize * ow + ox as usize];
                                }
                            }
                        }
                    }
                }
            }
        });
    let x_mat = FlexTensor::from_data(TensorData::new(x_mat, [c, b * hw]));
    let cols = FlexTensor::from_data(TensorData::new(cols, [b * hw, o * 16]));
    let dw = <Flex as burn_backend::ops::FloatTensorOps<Flex>>::float_matmul(x_mat, cols); // [C, O·16]
    <Flex as burn_backend::ops::FloatTensorOps<Flex>>::float_reshape(dw, [c, o, 4, 4].into())
}

/// `Σ_{b,y,x} g[b, o, y, x]`, `[O]`.
fn bias_grad(g: &FlexTensor) -> FlexTensor {
    let gs = g.layout().shape();
    let (b, o, plane) = (gs[0], gs[1], gs[2] * gs[3]);
    let gv = values(g);
    let sums: Vec<f32> = (0..o)
        .map(|oi| {
            (0..b)
                .map(|bi| {
                    gv[(bi * o + oi) * plane..(bi * o + oi + 1) * plane]
                        .iter()
                        .sum::<f32>()
                })
                .sum()
        })
        .collect();
    FlexTensor::from_data(TensorData::new(sums, [o]))
}

#[derive(Debug)]
struct DeconvBackward;

impl Backward<Flex, 3> for DeconvBackward {
    type State = (NodeId, NodeId);

    fn backward(
        self,
        ops: Ops<Self::State, 3>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let [node_x, node_w, node_b] = ops.parents;
        let grad = grads.consume::<Flex>(&ops.node);
        let (x_state, w_state) = ops.state;
        let x = checkpointer.retrieve_node_output::<FlexTensor>(x_state);
        let w = checkpointer.retrieve_node_output::<FlexTensor>(w_state);
        if let Some(node) = node_x {
            let gx = Flex::conv_transpose2d_x_backward(w, grad.clone(), options());
            grads.register::<Flex>(node.id, gx);
        }
        if let Some(node) = node_w {
            grads.register::<Flex>(node.id, weight_grad(&x, &grad));
        }
        if let Some(node) = node_b {
            grads.register::<Flex>(node.id, bias_grad(&grad));
        }
    }
}

/// The transposed convolution (kernel 4, stride 2, padding 1, with bias) of `x` `[B, C, H, W]` by
/// `weight` `[C, O, 4, 4]`, `[B, O, 2H, 2W]`, when all three live on flex's autodiff device;
/// `None` elsewhere, or for inputs larger than [`MAX_SIDE`] (the caller uses burn's module).
pub fn conv_transpose2d(x: &Tensor<4>, weight: &Tensor<4>, bias: &Tensor<1>) -> Option<Tensor<4>> {
    let [_, _, h, w] = x.dims();
    if h.max(w) > MAX_SIDE {
        return None;
    }
    let x = x.clone().try_into_primitive::<Ad>().ok()?;
    let w = weight.clone().try_into_primitive::<Ad>().ok()?;
    let b = bias.clone().try_into_primitive::<Ad>().ok()?;
    let forward = |x: &FloatPrimitive, w: &FloatPrimitive, b: &FloatPrimitive| {
        let (x, w, b) = (
            Ad::inner(x.clone()),
            Ad::inner(w.clone()),
            Ad::inner(b.clone()),
        );
        Flex::conv_transpose2d(x, w, Some(b), options()) // [B, O, 2H, 2W]
    };
    let out = match DeconvBackward
        .prepare::<burn_autodiff::checkpoint::strategy::NoCheckpointing>([
            x.node(),
            w.node(),
            b.node(),
        ])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(mut prep) => {
            let x_state = prep.checkpoint(&x);
            let w_state = prep.checkpoint(&w);
            let output = forward(&x, &w, &b);
            prep.finish((x_state, w_state), output)
        }
        OpsKind::UnTracked(prep) => prep.finish(forward(&x, &w, &b)),
    };
    Some(Tensor::from_primitive::<Ad>(out))
}
