//! GFLOP/s of the GEMM under lorae's kernels (`kernels::gemm`, the `gemm` crate) on the shapes the
//! training step uses: two threads, each running its own single-threaded product, as the kernels
//! do per batch chunk. Best of 20. `cargo run --release --example gemm_throughput`.
//!
//! Measured here (2 cores): 185–200 GFLOP/s with gemm's AVX2 kernels, 320–420 GFLOP/s with its
//! AVX-512 kernels (the `x86-v4` feature lorae enables). The last thirteen shapes are FID
//! Inception's (`[out, in·taps] · [in·taps, pixels]`, pixels cut to bands as `kernels::conv` does):
//! 175–430 GFLOP/s, most near 400, measured 2026-12-02.

use std::time::Instant;

use lorae::kernels::gemm::{matmul_into, Mat};
use rayon::prelude::*;

fn main() {
    let shapes = [
        (256, 256, 2048),
        (512, 64, 2048),
        (64, 512, 2048),
        (32, 512, 2048),
        (64, 2048, 512),
        (512, 2048, 64),
        (256, 2048, 256),
        (32, 27, 22201),
        (32, 288, 3640),
        (64, 288, 3640),
        (80, 64, 5329),
        (192, 720, 1456),
        (64, 192, 1225),
        (96, 576, 1225),
        (192, 768, 289),
        (160, 1120, 289),
        (192, 1344, 289),
        (384, 1280, 64),
        (384, 1152, 64),
        (448, 2048, 64),
    ];
    for (m, k, n) in shapes {
        let a: Vec<f32> = (0..m * k).map(|i| (i as f32).sin()).collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i as f32).cos()).collect();
        let mut best = f64::INFINITY;
        for _ in 0..20 {
            let started = Instant::now();
            (0..2).into_par_iter().for_each(|_| {
                let mut c = vec![0.0; m * n];
                let (am, bm) = (Mat::row_major(&a, m, k), Mat::row_major(&b, k, n));
                matmul_into(&mut c, am, bm, false);
            });
            best = best.min(started.elapsed().as_secs_f64());
        }
        let gflops = 2.0 * 2.0 * (m * k * n) as f64 / best / 1e9;
        println!("{m}×{k} · {k}×{n}: {gflops:.0} GFLOP/s (2 threads, one product each)");
    }
}
