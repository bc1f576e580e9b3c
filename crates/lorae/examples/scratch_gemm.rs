use lorae::kernels::gemm::{matmul_into, Mat};
use rayon::prelude::*;
use std::time::Instant;
fn main() {
    for (m, k, n) in [
        (256, 256, 2048),
        (512, 64, 2048),
        (64, 512, 2048),
        (32, 512, 2048),
        (64, 2048, 512),
        (512, 2048, 64),
        (256, 2048, 256),
    ] {
        let a: Vec<f32> = (0..m * k).map(|i| (i as f32).sin()).collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i as f32).cos()).collect();
        let mut best = f64::INFINITY;
        for _ in 0..20 {
            let s = Instant::now();
            // two threads, each its own product
            (0..2).into_par_iter().for_each(|_| {
                let mut c = vec![0.0; m * n];
                matmul_into(
                    &mut c,
                    Mat::row_major(&a, m, k),
                    Mat::row_major(&b, k, n),
                    false,
                );
            });
            best = best.min(s.elapsed().as_secs_f64());
        }
        println!(
            "{m}x{k}x{n}: {:.1} GFLOP/s (2 threads, 2 products)",
            4.0 * (m * k * n) as f64 / best / 1e9
        );
    }
}
