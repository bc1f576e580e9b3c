//! Where a training step's time goes: each layer of the MNIST model — forward, and the extra time
//! of the input gradient and of the weight gradient — then the whole IRMAE (l = 8) step phase by
//! phase. Best of 15 runs, in ms, on flex. `cargo run --release --example profile_ops [-- BATCH]`
//! (default 64).

use std::time::Instant;

use burn::module::Module;
use burn::nn::conv::{Conv2d, ConvTranspose2d};
use burn::nn::conv::{Conv2dConfig, ConvTranspose2dConfig};
use burn::nn::{LinearConfig, PaddingConfig2d};
use burn::optim::GradientsParams;
use burn::prelude::*;
use burn::tensor::activation::relu;
use burn::tensor::Distribution;
use lorae::config::{DatasetKind, Layout, ModelKind, RunConfig};
use lorae::kernels::flex as flex_conv;
use lorae::kernels::Geometry;
use lorae::model::{gemm_conv, Autoencoder};
use lorae::train::step;

/// The allocator the `lorae` binary uses, so that the step times here compare with `lorae bench step`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn best_ms(mut f: impl FnMut()) -> f64 {
    for _ in 0..3 {
        f();
    }
    // The fastest of 15: the least disturbed by other work on the machine.
    (0..15)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_secs_f64() * 1e3
        })
        .fold(f64::INFINITY, f64::min)
}

/// Forward, forward + input gradient, forward + weight gradient of `layer` on `x`, with a random
/// upstream gradient (as in training; a plain `sum()` would send a broadcast one).
fn profile<const D: usize, M: Module>(
    name: &str,
    layer: &M,
    forward: impl Fn(&M, Tensor<D>) -> Tensor<D>,
    x: Tensor<D>,
) -> (f64, f64) {
    let device = x.device();
    let y = forward(layer, x.clone());
    let upstream = Tensor::<D>::random(y.shape(), Distribution::Normal(0.0, 1.0), &device);
    let fwd = best_ms(|| {
        let _ = forward(layer, x.clone()).sum().into_data();
    });
    let frozen = layer.clone().no_grad();
    let xg = x.clone().require_grad();
    let with_x = best_ms(|| {
        let g = (forward(&frozen, xg.clone()) * upstream.clone())
            .sum()
            .backward();
        let _ = xg.grad(&g);
    });
    let with_w = best_ms(|| {
        let g = (forward(layer, x.clone()) * upstream.clone())
            .sum()
            .backward();
        let _ = GradientsParams::from_grads(g, layer);
    });
    println!(
        "{name:<28} forward {fwd:6.2}  input grad +{:6.2}  weight grad +{:6.2}",
        with_x - fwd,
        with_w - fwd
    );
    (fwd, with_x + with_w - 2.0 * fwd)
}

extern "C" {
    fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
}

fn main() {
    // As the `lorae` binary does: freed memory stays committed (mimalloc's purge delay, option
    // 15, off), and the work runs on a rayon worker rather than beside the pool.
    // SAFETY: sets an integer option of the linked allocator.
    unsafe { mi_option_set(15, -1) };
    rayon::scope(|_| profile_all());
}

fn profile_all() {
    let b: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(64);
    let device = Device::flex().autodiff();
    let normal =
        |shape: [usize; 4]| Tensor::<4>::random(shape, Distribution::Normal(0.0, 1.0), &device);
    // Totals over the layers the model runs: burn's modules, and lorae's kernels where it uses them.
    let (mut burn_total, mut lorae_total) = ((0.0, 0.0), (0.0, 0.0));
    let mut add = |(f, bw): (f64, f64), to_burn: bool, to_lorae: bool| {
        for (on, total) in [(to_burn, &mut burn_total), (to_lorae, &mut lorae_total)] {
            if on {
                total.0 += f;
                total.1 += bw;
            }
        }
    };
    println!("batch {b}, ms:");
    for (cin, cout, hw) in [(1, 32, 32), (32, 64, 16), (64, 128, 8), (128, 256, 4)] {
        let conv = Conv2dConfig::new([cin, cout], [4, 4])
            .with_stride([2, 2])
            .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
            .init(&device);
        let name = format!("conv+relu {cin}->{cout} @{hw}");
        let x = normal([b, cin, hw, hw]);
        add(
            profile(&name, &conv, |c, x| relu(c.forward(x)), x.clone()),
            true,
            false,
        );
        let own = |c: &Conv2d, x: Tensor<4>| {
            let bias = c.bias.as_ref().map(|b| b.val()).expect("bias");
            flex_conv::conv2d(&x, &c.weight.val(), &bias, Geometry::DOWN4, true).expect("flex")
        };
        add(profile("  lorae's kernel", &conv, own, x), false, true);
    }
    for (cin, cout, hw) in [(128, 64, 8), (64, 32, 16)] {
        let deconv = ConvTranspose2dConfig::new([cin, cout], [4, 4])
            .with_stride([2, 2])
            .with_padding([1, 1])
            .init(&device);
        let name = format!("deconv+relu {cin}->{cout} @{hw}");
        let x = normal([b, cin, hw, hw]);
        add(
            profile(&name, &deconv, |c, x| relu(c.forward(x)), x.clone()),
            true,
            false,
        );
        let own = |c: &ConvTranspose2d, x: Tensor<4>| {
            let bias = c.bias.as_ref().map(|b| b.val()).expect("bias");
            flex_conv::conv_transpose2d(&x, &c.weight.val(), &bias, Geometry::DOWN4, true)
                .expect("flex")
        };
        add(profile("  lorae's kernel", &deconv, own, x), false, true);
    }
    let one = Conv2dConfig::new([32, 1], [1, 1]).init(&device);
    add(
        profile(
            "1x1 conv 32->1 @32 (burn)",
            &one,
            |c, x| c.forward(x),
            normal([b, 32, 32, 32]),
        ),
        true,
        false,
    );
    let pointwise =
        |c: &Conv2d, x| gemm_conv::pointwise(x, c.weight.val(), c.bias.as_ref().map(|b| b.val()));
    add(
        profile(
            "  as a matmul (lorae)",
            &one,
            pointwise,
            normal([b, 32, 32, 32]),
        ),
        false,
        true,
    );
    for (i, o) in [(1024, 128), (128, 8192)] {
        let lin = LinearConfig::new(i, o).init(&device);
        let x = Tensor::<2>::random([b, i], Distribution::Normal(0.0, 1.0), &device);
        add(
            profile(&format!("linear {i}->{o}"), &lin, |l, x| l.forward(x), x),
            true,
            true,
        );
    }
    println!(
        "sum of layers: burn forward {:.1}, backward {:.1}; lorae forward {:.1}, backward {:.1}",
        burn_total.0, burn_total.1, lorae_total.0, lorae_total.1
    );

    let config = RunConfig::for_dataset(ModelKind::Irmae, DatasetKind::Mnist).model;
    let model = Autoencoder::new(&config, Layout::Mnist, &device);
    let x = Tensor::<4>::random([b, 1, 32, 32], Distribution::Uniform(-1.0, 1.0), &device);
    let fwd = best_ms(|| {
        let _ = model.losses(x.clone(), &config).unwrap().total.into_data();
    });
    let fwd_bwd = best_ms(|| {
        let g = model.losses(x.clone(), &config).unwrap().total.backward();
        let _ = GradientsParams::from_grads(g, &model);
    });
    let mut optim = step::adam();
    let mut current = Some(model.clone());
    let full = best_ms(|| {
        let m = current.take().unwrap();
        let (next, _) = step::step(m, &mut optim, x.clone(), &config, 1e-4, &[]).unwrap();
        current = Some(next);
    });
    println!(
        "IRMAE l=8 step: forward+loss {fwd:.1}, backward {:.1}, optimizer and bookkeeping {:.1}, total {full:.1}",
        fwd_bwd - fwd,
        full - fwd_bwd
    );
}
