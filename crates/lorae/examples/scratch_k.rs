use lorae::kernels::{self, ConvShape, Geometry};
use std::time::Instant;
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
extern "C" {
    fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
}
fn stats(mut f: impl FnMut()) -> (f64, f64) {
    for _ in 0..3 {
        f();
    }
    let mut t: Vec<f64> = (0..30)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    t.sort_by(f64::total_cmp);
    (t[0], t[15])
}
fn main() {
    unsafe { mi_option_set(15, -1) };
    let inscope = std::env::args().nth(1).is_some();
    let run = || {
        let s = ConvShape::transposed(64, 64, 32, [16, 16], Geometry::DOWN4).unwrap();
        let x: Vec<f32> = (0..64 * 64 * 256).map(|i| (i as f32 * 0.1).sin()).collect();
        let w: Vec<f32> = (0..64 * 32 * 16).map(|i| (i as f32 * 0.3).sin()).collect();
        let b = vec![0.1f32; 32];
        let g: Vec<f32> = (0..64 * 32 * 1024)
            .map(|i| (i as f32 * 0.7).sin())
            .collect();
        let (mn, md) = stats(|| {
            let _ = kernels::deconv_forward(&x, &w, Some(&b), true, &s);
        });
        println!("deconv 64->32 fwd min {mn:.2} med {md:.2}");
        let (mn, md) = stats(|| {
            let _ = kernels::deconv_backward(&x, &w, &g, true, &s);
        });
        println!("deconv 64->32 bwd min {mn:.2} med {md:.2}");
        let s = ConvShape::transposed(64, 128, 64, [8, 8], Geometry::DOWN4).unwrap();
        let x: Vec<f32> = (0..64 * 128 * 64).map(|i| (i as f32 * 0.1).sin()).collect();
        let w: Vec<f32> = (0..128 * 64 * 16).map(|i| (i as f32 * 0.3).sin()).collect();
        let g: Vec<f32> = (0..64 * 64 * 256).map(|i| (i as f32 * 0.7).sin()).collect();
        let b = vec![0.1f32; 64];
        let (mn, md) = stats(|| {
            let _ = kernels::deconv_forward(&x, &w, Some(&b), true, &s);
        });
        println!("deconv 128->64 fwd min {mn:.2} med {md:.2}");
        let (mn, md) = stats(|| {
            let _ = kernels::deconv_backward(&x, &w, &g, true, &s);
        });
        println!("deconv 128->64 bwd min {mn:.2} med {md:.2}");
        for (c, o, hw) in [(32, 64, 16), (64, 128, 8), (128, 256, 4)] {
            let s = ConvShape::conv(64, c, o, [hw, hw], Geometry::DOWN4).unwrap();
            let x: Vec<f32> = (0..64 * c * hw * hw)
                .map(|i| (i as f32 * 0.1).sin())
                .collect();
            let w: Vec<f32> = (0..o * c * 16).map(|i| (i as f32 * 0.3).sin()).collect();
            let g: Vec<f32> = (0..64 * o * hw * hw / 4)
                .map(|i| (i as f32 * 0.7).sin())
                .collect();
            let b = vec![0.1f32; o];
            let (mn, md) = stats(|| {
                let _ = kernels::conv_forward(&x, &w, Some(&b), true, &s);
            });
            println!("conv {c}->{o} fwd min {mn:.2} med {md:.2}");
            let (mn, md) = stats(|| {
                let _ = kernels::conv_backward(&x, &w, &g, true, &s);
            });
            println!("conv {c}->{o} bwd min {mn:.2} med {md:.2}");
        }
    };
    if inscope {
        rayon::scope(|_| run())
    } else {
        run()
    }
}
