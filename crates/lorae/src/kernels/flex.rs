//! The autoencoders' convolutions and transposed convolutions as autodiff ops of lorae's own on
//! flex: forward, input gradient and weight gradient all run [`crate::kernels::conv`] (im2col or
//! col2im around one GEMM per batch chunk), with bias and ReLU fused into the forward pass.
//! burn's generic backward passes express the weight gradient as a convolution whose kernel is
//! the whole output, which flex runs several times slower than the forward pass
//! (`cargo run --release --example profile_ops` prints both, layer by layer).
//!
//! On flex without autodiff (evaluation, sampling) the same forward kernels run; on any other
//! device these functions return `None` and the caller uses burn's modules.

use std::borrow::Cow;

use burn::prelude::*;
use burn::tensor::DType;
use burn_autodiff::checkpoint::base::Checkpointer;
use burn_autodiff::checkpoint::strategy::NoCheckpointing;
use burn_autodiff::grads::Gradients;
use burn_autodiff::ops::{Backward, Ops, OpsKind};
use burn_autodiff::{Autodiff, NodeId};
use burn_backend::{AutodiffBackend, TensorData};
use burn_flex::{Flex, FlexTensor};

use crate::kernels::{self, ConvShape, Geometry};

type Ad = Autodiff<Flex>;

/// Convolution or transposed convolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Conv,
    Transposed,
}

/// The values of `t` in row-major order: borrowed from its storage when it is a contiguous f32
/// tensor (the usual case), else copied out. Invariant: after `convert::<f32>()` the data is f32,
/// so reading it as f32 cannot fail (the backward pass, which needs this, cannot return errors).
fn values(t: &FlexTensor) -> Cow<'_, [f32]> {
    match t.layout().contiguous_offsets() {
        Some((start, end)) if t.dtype() == DType::F32 => {
            Cow::Borrowed(&t.storage::<f32>()[start..end])
        }
        _ => match t.clone().into_data().convert::<f32>().try_to_vec::<f32>() {
            Ok(v) => Cow::Owned(v),
            Err(e) => unreachable!("data converted to f32 is not f32: {e:?}"),
        },
    }
}

fn tensor(values: Vec<f32>, shape: &[usize]) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape.to_vec()))
}

/// The layer's shape from `x` `[B, C, H, W]` and `weight`, `None` if the kernel does not fit.
fn shape(kind: Kind, x: &[usize], w: &[usize], g: Geometry) -> Option<ConvShape> {
    match kind {
        Kind::Conv => ConvShape::conv(x[0], x[1], w[0], [x[2], x[3]], g),
        Kind::Transposed => ConvShape::transposed(x[0], x[1], w[1], [x[2], x[3]], g),
    }
}

fn forward(
    kind: Kind,
    x: &FlexTensor,
    w: &FlexTensor,
    b: &FlexTensor,
    relu: bool,
    s: &ConvShape,
) -> FlexTensor {
    let (x, w, b) = (values(x), values(w), values(b));
    let y = match kind {
        Kind::Conv => kernels::conv_forward(&x, &w, Some(&b), relu, s),
        Kind::Transposed => kernels::deconv_forward(&x, &w, Some(&b), relu, s),
    };
    tensor(y, &[s.batch, s.c_out, s.out_hw[0], s.out_hw[1]])
}

#[derive(Debug)]
struct ConvBackward;

/// What the backward pass needs beyond the inputs: the layer, and the output when a ReLU was
/// fused (its mask).
#[derive(Clone, Debug)]
struct State {
    x: NodeId,
    w: NodeId,
    kind: Kind,
    shape: ConvShape,
    relu_out: Option<FlexTensor>,
}

impl Backward<Flex, 3> for ConvBackward {
    type State = State;

    fn backward(self, ops: Ops<State, 3>, grads: &mut Gradients, checkpointer: &mut Checkpointer) {
        let [node_x, node_w, node_b] = ops.parents;
        let grad = grads.consume::<Flex>(&ops.node);
        let st = ops.state;
        let x = checkpointer.retrieve_node_output::<FlexTensor>(st.x);
        let w = checkpointer.retrieve_node_output::<FlexTensor>(st.w);
        let weight_shape = w.layout().shape().to_vec();
        let (xv, wv, gv) = (values(&x), values(&w), values(&grad));
        let gv = match &st.relu_out {
            Some(out) => Cow::Owned(kernels::relu_mask(&gv, &values(out))),
            None => gv,
        };
        let backward = match st.kind {
            Kind::Conv => kernels::conv_backward,
            Kind::Transposed => kernels::deconv_backward,
        };
        let g = backward(
            &xv,
            &wv,
            &gv,
            [node_x.is_some(), node_w.is_some()],
            &st.shape,
        );
        let s = st.shape;
        if let (Some(node), Some(dx)) = (node_x, g.x) {
            grads.register::<Flex>(
                node.id,
                tensor(dx, &[s.batch, s.c_in, s.in_hw[0], s.in_hw[1]]),
            );
        }
        if let (Some(node), Some(dw)) = (node_w, g.weight) {
            grads.register::<Flex>(node.id, tensor(dw, &weight_shape));
        }
        if let Some(node) = node_b {
            grads.register::<Flex>(node.id, tensor(g.bias, &[s.c_out]));
        }
    }
}

fn apply(
    kind: Kind,
    x: &Tensor<4>,
    weight: &Tensor<4>,
    bias: &Tensor<1>,
    g: Geometry,
    relu: bool,
) -> Option<Tensor<4>> {
    if let Ok(xp) = x.clone().try_into_primitive::<Ad>() {
        let w = weight.clone().try_into_primitive::<Ad>().ok()?;
        let b = bias.clone().try_into_primitive::<Ad>().ok()?;
        let (xi, wi, bi) = (
            Ad::inner(xp.clone()),
            Ad::inner(w.clone()),
            Ad::inner(b.clone()),
        );
        let s = shape(kind, xi.layout().shape(), wi.layout().shape(), g)?;
        let out = match ConvBackward
            .prepare::<NoCheckpointing>([xp.node(), w.node(), b.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(mut prep) => {
                let (x_state, w_state) = (prep.checkpoint(&xp), prep.checkpoint(&w));
                let y = forward(kind, &xi, &wi, &bi, relu, &s);
                let state = State {
                    x: x_state,
                    w: w_state,
                    kind,
                    shape: s,
                    relu_out: relu.then(|| y.clone()),
                };
                prep.finish(state, y)
            }
            OpsKind::UnTracked(prep) => prep.finish(forward(kind, &xi, &wi, &bi, relu, &s)),
        };
        return Some(Tensor::from_primitive::<Ad>(out));
    }
    let xp = x.clone().try_into_primitive::<Flex>().ok()?;
    let w = weight.clone().try_into_primitive::<Flex>().ok()?;
    let b = bias.clone().try_into_primitive::<Flex>().ok()?;
    let s = shape(kind, xp.layout().shape(), w.layout().shape(), g)?;
    Some(Tensor::from_primitive::<Flex>(forward(
        kind, &xp, &w, &b, relu, &s,
    )))
}

/// `relu?(conv2d(x, weight) + bias)` for `x` `[B, C, H, W]`, `weight` `[O, C, kh, kw]`:
/// `[B, O, H', W']`, on flex (with or without autodiff); `None` on other devices.
pub fn conv2d(
    x: &Tensor<4>,
    weight: &Tensor<4>,
    bias: &Tensor<1>,
    g: Geometry,
    relu: bool,
) -> Option<Tensor<4>> {
    apply(Kind::Conv, x, weight, bias, g, relu)
}

/// `relu?(conv_transpose2d(x, weight) + bias)` for `x` `[B, C, H, W]`, `weight`
/// `[C, O, kh, kw]`: `[B, O, H', W']`, on flex; `None` on other devices.
pub fn conv_transpose2d(
    x: &Tensor<4>,
    weight: &Tensor<4>,
    bias: &Tensor<1>,
    g: Geometry,
    relu: bool,
) -> Option<Tensor<4>> {
    apply(Kind::Transposed, x, weight, bias, g, relu)
}

/// [`kernels::pool::pool3x3`] of `x` `[B, C, H, W]` on flex without autodiff (inference);
/// `None` on other devices, under autodiff, or when the window does not fit.
pub fn pool3x3(
    x: &Tensor<4>,
    stride: usize,
    padding: usize,
    kind: kernels::pool::Pool3,
) -> Option<Tensor<4>> {
    let xp = x.clone().try_into_primitive::<Flex>().ok()?;
    let dims = xp.layout().shape().to_vec();
    let (y, [ho, wo]) =
        kernels::pool::pool3x3(&values(&xp), [dims[2], dims[3]], stride, padding, kind)?;
    Some(Tensor::from_primitive::<Flex>(tensor(
        y,
        &[dims[0], dims[1], ho, wo],
    )))
}

/// Runs `f` on the values of `t` when `t` lives on flex without autodiff (borrowed from its
/// storage when contiguous); `None` on other devices.
pub fn with_host_values<const D: usize, R>(
    t: &Tensor<D>,
    f: impl FnOnce(&[f32]) -> R,
) -> Option<R> {
    let p = t.clone().try_into_primitive::<Flex>().ok()?;
    Some(f(&values(&p)))
}
