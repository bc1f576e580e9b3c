//! RAE (Ghosh et al. 2020): a deterministic AE with `β·½‖z‖²` on the codes and a regulariser on the
//! decoder — L2 weight decay (RAE-L2) or a gradient penalty `‖∂D(z)/∂z‖²` (RAE-GP).
//!
//! burn's autodiff is first order, so the gradient penalty is estimated without double backward:
//! for v ~ N(0, I), `E‖J v‖² = ‖J‖²_F`, and `J v ≈ (D(z + εv) − D(z)) / ε`. One probe per code,
//! ε = 1e-2 × the batch's code scale: an unbiased Hutchinson estimate up to the finite difference.

use burn::module::{Module, ModuleVisitor, Param};
use burn::prelude::*;
use burn::tensor::Distribution;

/// `½‖z‖²` averaged over the batch, `[1]`.
pub fn code_penalty(z: Tensor<2>) -> Tensor<1> {
    let [batch, _] = z.dims();
    z.powi_scalar(2).sum() * (0.5 / batch as f64)
}

/// The sum of the squares of every float parameter of `module`, `[1]` (differentiable).
pub fn sum_of_squares<M: Module>(module: &M, device: &Device) -> Tensor<1> {
    struct Squares {
        sum: Tensor<1>,
    }
    impl ModuleVisitor for Squares {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let s = param.val().powi_scalar(2).sum(); // [1]
            self.sum = self.sum.clone() + s;
        }
    }
    let mut visitor = Squares {
        sum: Tensor::zeros([1], device),
    };
    module.visit(&mut visitor);
    visitor.sum
}

/// `‖(f(z + εv) − f(z)) / ε‖²` summed over outputs and averaged over the batch, with probes `v`
/// (`[batch, d]`), `[1]`: a one-probe estimate of `‖∂f/∂z‖²_F` (exact for linear `f`).
pub fn jacobian_penalty<const D: usize>(
    f: impl Fn(Tensor<2>) -> Tensor<D>,
    z: Tensor<2>,
    v: Tensor<2>,
    eps: f64,
) -> Tensor<1> {
    let [batch, _] = z.dims();
    let base = f(z.clone()); // [batch, ...]
    let moved = f(z + v * eps); // [batch, ...]
    ((moved - base) / eps).powi_scalar(2).sum() * (1.0 / batch as f64)
}

/// Standard normal probes for [`jacobian_penalty`] and the finite-difference step for codes `z`:
/// 1e-2 × their root-mean-square value (at least 1e-4).
pub fn probes(z: &Tensor<2>) -> (Tensor<2>, f64) {
    let rms: f64 = z
        .clone()
        .detach()
        .powi_scalar(2)
        .mean()
        .sqrt()
        .into_scalar::<f32>() as f64;
    let v = crate::device::random(z.shape(), Distribution::Normal(0.0, 1.0), &z.device());
    (v, (1e-2 * rms).max(1e-4))
}
