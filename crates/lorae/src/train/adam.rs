//! Adam in one pass on the CPU. burn's `Adam` updates a parameter in ten element-wise tensor
//! operations (each moment scaled, the gradient scaled and squared, the sums, the square root,
//! the division, the step), each a single-threaded pass over the parameter on flex. Here one
//! parallel pass reads the parameter, its gradient and both moments and writes the parameter and
//! the moments in place:
//!
//! ```text
//! m ← β₁·m + (1 − β₁)·g        v ← β₂·v + (1 − β₂)·g²        t ← t + 1
//! c₂ = √(1 − β₂ᵗ)              θ ← θ − lr · (m · c₂/(1 − β₁ᵗ)) / (√v + ε·c₂)
//! ```
//!
//! with burn's operation order and f32 rounding, so the parameters and moments are burn's to the
//! bit (`fused_adam_matches_burns_adam_bit_for_bit` below), and with burn's state type
//! (`AdamState`), so a checkpoint's optimizer state is the same file either way. A parameter's
//! first step (no moments yet) and every device but flex go through burn's `Adam` itself.

use burn::optim::{Adam, AdamConfig, AdamState, LearningRate, ModuleOptimizer, Optimizer};
use burn::prelude::*;
use burn::tensor::DType;
use burn_flex::{Flex, FlexTensor};
use rayon::prelude::*;

/// Values per parallel task of the update.
const CHUNK: usize = 1 << 14;

/// Adam (no weight decay, no AMSGrad), fused on flex.
#[derive(Clone)]
pub struct FusedAdam {
    beta_1: f32,
    beta_2: f32,
    epsilon: f32,
    burn: Adam,
}

impl FusedAdam {
    /// Adam with moment decays `beta_1`, `beta_2` and `epsilon`.
    pub fn new(beta_1: f32, beta_2: f32, epsilon: f32) -> Self {
        let burn = AdamConfig::new()
            .with_beta_1(beta_1)
            .with_beta_2(beta_2)
            .with_epsilon(epsilon)
            .build();
        FusedAdam {
            beta_1,
            beta_2,
            epsilon,
            burn,
        }
    }

    /// As a whole-module optimizer.
    pub fn init(self) -> ModuleOptimizer {
        ModuleOptimizer::from(self)
    }
}

/// A flex tensor's values in place, when it is f32 and contiguous from offset 0 (copied first if
/// its storage is shared).
fn values_mut(t: &mut FlexTensor) -> Option<&mut [f32]> {
    let (0, end) = t.layout().contiguous_offsets()? else {
        return None;
    };
    if t.dtype() != DType::F32 {
        return None;
    }
    Some(&mut t.storage_mut::<f32>()[..end])
}

impl Optimizer for FusedAdam {
    type State<const D: usize> = AdamState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        let fusable = |s: &AdamState<D>| {
            s.momentum.max_moment_2.is_none()
                && [&tensor, &grad, &s.momentum.moment_1, &s.momentum.moment_2]
                    .iter()
                    .all(|t| crate::device::is_host(&t.device()))
        };
        let mut state = match state {
            Some(s) if fusable(&s) => s,
            other => return self.burn.step(lr, tensor, grad, other),
        };
        let flex = |t: Tensor<D>| match t.try_into_primitive::<Flex>() {
            Ok(p) => p,
            // The device was checked to be the host's, whose tensors are flex's.
            Err(e) => unreachable!("a host tensor is not a flex tensor: {e:?}"),
        };
        let (mut theta, g) = (flex(tensor), flex(grad));
        let mut m = flex(state.momentum.moment_1);
        let mut v = flex(state.momentum.moment_2);
        let g_values = g.as_slice::<f32>();
        let (b1, b2, eps) = (self.beta_1, self.beta_2, self.epsilon);
        let time = state.momentum.time + 1;
        let bc2 = (1.0 - b2.powi(time as i32)).sqrt();
        let factor = bc2 / (1.0 - b1.powi(time as i32));
        let (f1, f2, e, lr32) = (1.0 - b1, 1.0 - b2, eps * bc2, lr as f32);
        let fused = match (g_values, values_mut(&mut theta)) {
            (Some(gs), Some(ts)) => match (values_mut(&mut m), values_mut(&mut v)) {
                (Some(ms), Some(vs)) if [ts.len(), ms.len(), vs.len()] == [gs.len(); 3] => {
                    ts.par_chunks_mut(CHUNK)
                        .zip(ms.par_chunks_mut(CHUNK))
                        .zip(vs.par_chunks_mut(CHUNK))
                        .zip(gs.par_chunks(CHUNK))
                        .for_each(|(((ts, ms), vs), gs)| {
                            for (((t, m), v), &g) in ts.iter_mut().zip(ms).zip(vs).zip(gs) {
                                *m = *m * b1 + g * f1;
                                *v = *v * b2 + g * g * f2;
                                *t -= (*m * factor) / (v.sqrt() + e) * lr32;
                            }
                        });
                    true
                }
                _ => false,
            },
            _ => false,
        };
        let back = |p: FlexTensor| Tensor::<D>::from_primitive::<Flex>(p);
        state.momentum.moment_1 = back(m);
        state.momentum.moment_2 = back(v);
        if !fused {
            return self.burn.step(lr, back(theta), back(g), Some(state));
        }
        state.momentum.time = time;
        (back(theta), Some(state))
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        <Adam as Optimizer>::to_device(state, device)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::module::Module;
    use burn::nn::{Linear, LinearConfig};
    use burn::optim::GradientsParams;

    #[derive(Module, Debug)]
    struct Net {
        a: Linear,
        b: Linear,
    }

    fn net(device: &Device) -> Net {
        crate::device::seed(device, 3);
        Net {
            a: LinearConfig::new(7, 300).init(device),
            b: LinearConfig::new(300, 5).init(device),
        }
    }

    fn train(mut model: Net, mut optim: ModuleOptimizer, steps: usize) -> Vec<Vec<f32>> {
        let device = crate::device::host().autodiff();
        for i in 0..steps {
            let x = Tensor::<2>::from_data(
                TensorData::new(
                    (0..4 * 7)
                        .map(|k| ((k * 7 + i * 3) % 11) as f32 / 5.0 - 1.0)
                        .collect(),
                    [4, 7],
                ),
                &device,
            ); // [4, 7]
            let y = model.b.forward(model.a.forward(x)); // [4, 5]
            let loss = (y.clone() * y).mean();
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(1e-2, model, grads);
        }
        [model.a.weight.val(), model.b.weight.val()]
            .into_iter()
            .map(|t| crate::tensor::tensor_values(t).unwrap())
            .collect()
    }

    #[test]
    fn fused_adam_matches_burns_adam_bit_for_bit() {
        let device = crate::device::host().autodiff();
        let burn = AdamConfig::new().with_beta_1(0.5).with_epsilon(1e-8).init();
        let want = train(net(&device), burn, 6);
        let got = train(net(&device), FusedAdam::new(0.5, 0.999, 1e-8).init(), 6);
        assert_eq!(got, want);
        let start = train(net(&device), FusedAdam::new(0.5, 0.999, 1e-8).init(), 0);
        assert_ne!(got, start, "the steps changed the weights");
    }
}
