//! Where a training step's time goes: each layer of the MNIST model, forward and forward +
//! backward, best of 15 runs in ms on flex. `cargo run --release --example profile_ops [-- BATCH]` (default 64).

use std::time::Instant;

use burn::nn::conv::{Conv2dConfig, ConvTranspose2dConfig};
use burn::nn::{LinearConfig, PaddingConfig2d};
use burn::optim::GradientsParams;
use burn::prelude::*;
use burn::tensor::Distribution;
use lorae::config::{DatasetKind, Layout, ModelKind, RunConfig};
use lorae::model::{gemm_conv, Autoencoder};
use lorae::train::step;

fn best_ms(mut f: impl FnMut()) -> f64 {
    for _ in 0..3 {
        f();
    }
    let mut t: Vec<f64> = (0..15)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    // The fastest of 15: the least disturbed by other work on the machine.
    t.sort_by(f64::total_cmp);
    t[0]
}

fn sync<const D: usize>(t: Tensor<D>) {
    let _ = t.sum().into_data();
}

fn main() {
    let b: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(64);
    let device = Device::flex().autodiff();
    let mut total_f = 0.0;
    let mut total_b = 0.0;
    println!("batch {b}: layer, forward ms, forward+backward ms");
    for (cin, cout, hw) in [(1, 32, 32), (32, 64, 16), (64, 128, 8), (128, 256, 4)] {
        let conv = Conv2dConfig::new([cin, cout], [4, 4])
            .with_stride([2, 2])
            .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
            .init(&device);
        let x = Tensor::<4>::random([b, cin, hw, hw], Distribution::Normal(0.0, 1.0), &device)
            .require_grad();
        let f = best_ms(|| sync(conv.forward(x.clone())));
        let fb = best_ms(|| {
            let g = conv.forward(x.clone()).sum().backward();
            let _ = conv.weight.grad(&g);
        });
        println!("conv {cin}->{cout} @{hw}: {f:.2} {fb:.2}");
        total_f += f;
        total_b += fb;
    }
    for (cin, cout, hw) in [(128, 64, 8), (64, 32, 16)] {
        let deconv = ConvTranspose2dConfig::new([cin, cout], [4, 4])
            .with_stride([2, 2])
            .with_padding([1, 1])
            .init(&device);
        let x = Tensor::<4>::random([b, cin, hw, hw], Distribution::Normal(0.0, 1.0), &device)
            .require_grad();
        let f = best_ms(|| sync(deconv.forward(x.clone())));
        let fb = best_ms(|| {
            let g = deconv.forward(x.clone()).sum().backward();
            let _ = deconv.weight.grad(&g);
        });
        println!("deconv {cin}->{cout} @{hw}: {f:.2} {fb:.2}");
        total_f += f;
        total_b += fb;
    }
    let one = Conv2dConfig::new([32, 1], [1, 1]).init(&device);
    let x = Tensor::<4>::random([b, 32, 32, 32], Distribution::Normal(0.0, 1.0), &device)
        .require_grad();
    let f = best_ms(|| sync(one.forward(x.clone())));
    let fb = best_ms(|| {
        let g = one.forward(x.clone()).sum().backward();
        let _ = one.weight.grad(&g);
    });
    let w = one.weight.val();
    let bias = one.bias.as_ref().map(|b| b.val());
    let gf = best_ms(|| sync(gemm_conv::pointwise(x.clone(), w.clone(), bias.clone())));
    let gfb = best_ms(|| {
        let g = gemm_conv::pointwise(x.clone(), w.clone(), bias.clone())
            .sum()
            .backward();
        let _ = w.grad(&g);
    });
    println!(
        "1x1 conv 32->1 @32: burn Conv2d {f:.2} {fb:.2}; as a matmul (lorae): {gf:.2} {gfb:.2}"
    );
    total_f += f;
    total_b += fb;
    for (i, o) in [(1024, 128), (128, 8192)] {
        let lin = LinearConfig::new(i, o).init(&device);
        let x = Tensor::<2>::random([b, i], Distribution::Normal(0.0, 1.0), &device).require_grad();
        let f = best_ms(|| sync(lin.forward(x.clone())));
        let fb = best_ms(|| {
            let g = lin.forward(x.clone()).sum().backward();
            let _ = lin.weight.grad(&g);
        });
        println!("linear {i}->{o}: {f:.2} {fb:.2}");
        total_f += f;
        total_b += fb;
    }
    let x = Tensor::<4>::random([b, 32, 32, 32], Distribution::Normal(0.0, 1.0), &device)
        .require_grad();
    let f = best_ms(|| sync(burn::tensor::activation::relu(x.clone())));
    println!("relu [b,32,32,32]: {f:.2}");
    println!("sum of layers: forward {total_f:.1} ms, forward+backward {total_b:.1} ms");

    // The whole MNIST IRMAE (l = 8) step, phase by phase.
    let config = RunConfig::for_dataset(ModelKind::Irmae, DatasetKind::Mnist).model;
    let model = Autoencoder::new(&config, Layout::Mnist, &device);
    let x = Tensor::<4>::random([b, 1, 32, 32], Distribution::Uniform(-1.0, 1.0), &device);
    let fwd = best_ms(|| sync(model.losses(x.clone(), &config).unwrap().total));
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
        "IRMAE l=8 step: forward+loss {fwd:.1} ms, backward {:.1} ms, optimizer and bookkeeping {:.1} ms, total {full:.1} ms",
        fwd_bwd - fwd,
        full - fwd_bwd
    );
}
