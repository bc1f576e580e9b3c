//! One optimisation step — forward, loss, backward, Adam — shared by the training loop and the
//! speed benchmark, and the benchmark's timing loop itself.

use std::time::Instant;

use burn::module::ParamId;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;

use crate::config::{Layout, ModelConfig};
use crate::error::Result;
use crate::model::Autoencoder;
use crate::tensor::tensor_values;

/// The loss values of one step (read back from the device, which also synchronises it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepLosses {
    /// The objective.
    pub total: f64,
    /// Mean squared reconstruction error per pixel.
    pub reconstruction: f64,
    /// The regulariser term (0 for AE and IRMAE).
    pub regularizer: f64,
}

/// The optimiser every run uses: Adam (β = 0.9, 0.999; ε = 1e-8), fused on the CPU
/// ([`super::adam`]).
pub fn adam() -> ModuleOptimizer {
    super::adam::FusedAdam::new(0.9, 0.999, 1e-8).init()
}

/// One step on batch `x` (`[batch, C, H, W]`, on the autodiff device). Parameters in `frozen`
/// get no update. Returns the updated model and the step's losses (not checked for finiteness).
pub fn step(
    model: Autoencoder,
    optim: &mut ModuleOptimizer,
    x: Tensor<4>,
    config: &ModelConfig,
    lr: f64,
    frozen: &[ParamId],
) -> Result<(Autoencoder, StepLosses)> {
    let losses = model.losses(x, config)?;
    let values = tensor_values(Tensor::cat(
        vec![
            losses.total.clone(),
            losses.reconstruction,
            losses.regularizer,
        ],
        0,
    ))?; // [3]
    let mut grads = GradientsParams::from_grads(losses.total.backward(), &model);
    for id in frozen {
        grads.remove::<2>(*id);
    }
    let model = optim.step(lr, model, grads);
    Ok((
        model,
        StepLosses {
            total: values[0] as f64,
            reconstruction: values[1] as f64,
            regularizer: values[2] as f64,
        },
    ))
}

/// Wall-clock seconds of `steps` training steps after `warmup` untimed ones, on a fixed random
/// batch in [−1, 1] (the data path is not timed). The device must be an autodiff device.
pub fn time_steps(
    config: &ModelConfig,
    layout: Layout,
    batch: usize,
    warmup: usize,
    steps: usize,
    device: &Device,
) -> Result<(Vec<f64>, Vec<StepLosses>)> {
    device.seed(0);
    let mut model = Autoencoder::new(config, layout, device);
    let mut optim = adam();
    let [c, h, w] = layout.image_shape();
    let x = Tensor::<4>::random(
        [batch, c, h, w],
        burn::tensor::Distribution::Uniform(-1.0, 1.0),
        device,
    ); // [batch, C, H, W]
    let (mut times, mut losses) = (Vec::with_capacity(steps), Vec::with_capacity(steps));
    for i in 0..warmup + steps {
        let started = Instant::now();
        let (next, l) = step(model, &mut optim, x.clone(), config, 1e-4, &[])?;
        model = next;
        if i >= warmup {
            times.push(started.elapsed().as_secs_f64());
            losses.push(l);
        }
    }
    Ok((times, losses))
}
