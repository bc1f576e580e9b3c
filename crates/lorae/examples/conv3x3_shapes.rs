//! Milliseconds per image of FID Inception's 3×3 stride-1 convolutions, by im2col + GEMM
//! (`kernels::conv::conv_im2col_into`) and by Winograd's F(2×2, 3×3) (`kernels::winograd`):
//! two threads, each convolving its own image, as FID's feature extraction runs. Best of 20, the two alternating.
//! `cargo run --release --example conv3x3_shapes`.

use std::time::Instant;

use lorae::kernels::conv::conv_im2col_into;
use lorae::kernels::{winograd, ConvShape, Geometry};
use rayon::prelude::*;

fn main() {
    // (layer, c_in, c_out, input side, padding)
    let layers = [
        ("Conv2d_2a_3x3", 32, 32, 149, 0),
        ("Conv2d_2b_3x3", 32, 64, 147, 1),
        ("Conv2d_4a_3x3", 80, 192, 73, 0),
        ("Mixed_5*.branch3x3dbl_2", 64, 96, 35, 1),
        ("Mixed_5*.branch3x3dbl_3", 96, 96, 35, 1),
    ];
    for (name, ci, co, side, p) in layers {
        let g = Geometry {
            kernel: [3, 3],
            stride: [1, 1],
            padding: [p, p],
        };
        let s =
            ConvShape::conv(1, ci, co, [side, side], g).expect("a 3×3 kernel fits these inputs");
        let x: Vec<f32> = (0..ci * side * side)
            .map(|i| (i as f32 * 0.37).sin())
            .collect();
        let w: Vec<f32> = (0..co * ci * 9)
            .map(|i| (i as f32 * 0.11).cos() * 0.1)
            .collect();
        let b: Vec<f32> = (0..co).map(|i| i as f32 * 0.01).collect();
        let out = co * s.out_hw[0] * s.out_hw[1];
        // The two alternate, rep by rep, so that a slow spell of the machine falls on both.
        let once = |f: &(dyn Fn(&mut [f32]) + Sync)| {
            let started = Instant::now();
            (0..2).into_par_iter().for_each(|_| f(&mut vec![0.0; out]));
            started.elapsed().as_secs_f64() * 1e3
        };
        let (mut direct, mut wino) = (f64::INFINITY, f64::INFINITY);
        for _ in 0..20 {
            direct = direct.min(once(&|y| conv_im2col_into(&x, &w, Some(&b), true, &s, y)));
            wino = wino.min(once(&|y| {
                winograd::conv3x3_into(&x, &w, Some(&b), true, &s, y)
            }));
        }
        let macs = (ci * 9 * out) as f64 / 1e6;
        println!(
            "{name} ({ci}→{co}, {side}×{side}, {macs:.0} M multiply-adds): im2col + GEMM {direct:.2} ms, Winograd {wino:.2} ms, ratio {:.2}",
            wino / direct
        );
    }
}
