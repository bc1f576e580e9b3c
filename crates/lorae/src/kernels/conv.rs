//! 2-d convolution and transposed convolution, forward and backward, on NCHW `f32` buffers:
//! im2col/col2im around one GEMM per chunk of images, chunks run in parallel on rayon's pool.
//! Bias and ReLU are applied while the output is written, and the ReLU mask is applied to the
//! incoming gradient by the caller ([`relu_mask`]). The forward pass of a 1×1 convolution is one
//! GEMM per image without im2col, and that of a 3×3 stride-1 one goes through [`super::winograd`]
//! (only Inception's forward passes have such layers; training's 4×4 stride-2 ones do not).
//!
//! A chunk holds enough images to fill every thread, but no more than keeps its column buffer
//! near [`CHUNK_FLOATS`] (cache-sized), so im2col's output is still in cache when the GEMM reads it.

use rayon::prelude::*;

use super::gemm::{matmul_into, Mat};
use super::im2col::{
    col2im_plane, from_channel_major, im2col, im2col_rows, to_channel_major, Geometry,
};
use super::scratch::with2;
use super::winograd;

/// Target size of one chunk's column buffer, in floats (4 MiB).
pub const CHUNK_FLOATS: usize = 1 << 20;

/// Shapes of one convolution: `x` `[batch, c_in, in_hw]`, weight `[c_out, c_in, kh, kw]` for a
/// convolution and `[c_in, c_out, kh, kw]` for a transposed one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvShape {
    /// Images.
    pub batch: usize,
    /// Input channels.
    pub c_in: usize,
    /// Output channels.
    pub c_out: usize,
    /// Input `[H, W]`.
    pub in_hw: [usize; 2],
    /// Output `[H, W]`.
    pub out_hw: [usize; 2],
    /// Kernel, stride, padding.
    pub geometry: Geometry,
}

/// Gradients of a convolution; `x` is `None` when it was not asked for.
#[derive(Debug)]
pub struct ConvGrads {
    /// `[batch, c_in, in_hw]`.
    pub x: Option<Vec<f32>>,
    /// Same shape as the weight; `None` when it was not asked for.
    pub weight: Option<Vec<f32>>,
    /// `[c_out]`.
    pub bias: Vec<f32>,
}

impl ConvShape {
    /// A convolution of `x` `[batch, c_in, h, w]` to `c_out` channels, `None` if the kernel does
    /// not fit.
    pub fn conv(
        batch: usize,
        c_in: usize,
        c_out: usize,
        in_hw: [usize; 2],
        g: Geometry,
    ) -> Option<Self> {
        Some(ConvShape {
            batch,
            c_in,
            c_out,
            in_hw,
            out_hw: g.conv_out(in_hw)?,
            geometry: g,
        })
    }

    /// A transposed convolution of `x` `[batch, c_in, h, w]` to `c_out` channels.
    pub fn transposed(
        batch: usize,
        c_in: usize,
        c_out: usize,
        in_hw: [usize; 2],
        g: Geometry,
    ) -> Option<Self> {
        Some(ConvShape {
            batch,
            c_in,
            c_out,
            in_hw,
            out_hw: g.transposed_out(in_hw)?,
            geometry: g,
        })
    }

    fn in_plane(&self) -> usize {
        self.in_hw[0] * self.in_hw[1]
    }

    fn out_plane(&self) -> usize {
        self.out_hw[0] * self.out_hw[1]
    }

    /// Images per chunk when each image's column matrix holds `per_image` floats.
    fn chunk(&self, per_image: usize) -> usize {
        let threads = rayon::current_num_threads().max(1);
        let fill = self.batch.div_ceil(threads);
        (CHUNK_FLOATS / per_image.max(1)).clamp(1, fill.max(1))
    }
}

/// `grad · [out > 0]`: the gradient through a ReLU whose output was `out`.
pub fn relu_mask(grad: &[f32], out: &[f32]) -> Vec<f32> {
    grad.par_iter()
        .zip(out.par_iter())
        .map(|(g, o)| if *o > 0.0 { *g } else { 0.0 })
        .collect()
}

/// Per-channel sums of `g` `[batch, c, p]`.
fn channel_sums(g: &[f32], c: usize, p: usize, acc: &mut [f32]) {
    for (i, plane) in g.chunks(p.max(1)).enumerate() {
        acc[i % c] += plane.iter().sum::<f32>();
    }
}

/// `[rows, cols]` → `[cols, rows]`, in 8×8 tiles written a contiguous row at a time. (Element by
/// element, or in 32×32 tiles, the power-of-two strides of weight gradients such as 2048 × 256
/// kept evicting the same cache sets: 6–11% of a training step.)
fn transpose(src: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    const T: usize = 8;
    let mut out = vec![0.0; src.len()];
    for r0 in (0..rows).step_by(T) {
        let r1 = (r0 + T).min(rows);
        for c0 in (0..cols).step_by(T) {
            for c in c0..(c0 + T).min(cols) {
                let line = &mut out[c * rows + r0..c * rows + r1];
                for (r, d) in (r0..r1).zip(line) {
                    *d = src[r * cols + c];
                }
            }
        }
    }
    out
}

fn add(mut a: (Vec<f32>, Vec<f32>), b: (Vec<f32>, Vec<f32>)) -> (Vec<f32>, Vec<f32>) {
    a.0.iter_mut().zip(&b.0).for_each(|(x, y)| *x += y);
    a.1.iter_mut().zip(&b.1).for_each(|(x, y)| *x += y);
    a
}

/// The convolution `y = relu?(W ⋆ x + bias)`, `[batch, c_out, out_hw]`.
pub fn conv_forward(
    x: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    relu: bool,
    s: &ConvShape,
) -> Vec<f32> {
    let mut y = vec![0.0; s.batch * s.c_out * s.out_plane()];
    conv_forward_into(x, w, bias, relu, s, &mut y);
    y
}

/// [`conv_forward`] into `y` (`batch · c_out · out_hw` values, every one overwritten, so its
/// contents on entry do not matter): a slice of a larger buffer, such as one branch's channels of
/// an Inception block's concatenated output.
pub fn conv_forward_into(
    x: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    relu: bool,
    s: &ConvShape,
    y: &mut [f32],
) {
    let (g, rows) = (s.geometry, s.c_in * s.geometry.taps());
    let (ip, op) = (s.in_plane(), s.out_plane());
    assert_eq!(
        y.len(),
        s.batch * s.c_out * op,
        "convolution output of the wrong length"
    );
    let weight = Mat::row_major(w, s.c_out, rows);
    // A 1×1, stride-1, unpadded convolution (most of Inception's) multiplies each image as it
    // is: no column matrix, and the product lands in place, with nothing to reorder.
    if g.taps() == 1 && g.stride == [1, 1] && g.padding == [0, 0] {
        x.par_chunks(s.c_in * ip)
            .zip(y.par_chunks_mut(s.c_out * op))
            .for_each(|(xi, yi)| {
                matmul_into(yi, weight, Mat::row_major(xi, s.c_in, ip), false); // [O, P]
                for (o, plane) in yi.chunks_mut(op).enumerate() {
                    let add = bias.map_or(0.0, |b| b[o]);
                    for v in plane {
                        *v = if relu { (*v + add).max(0.0) } else { *v + add };
                    }
                }
            });
        return;
    }
    // 3×3 stride-1 convolutions (a third of Inception's work) by Winograd's F(2×2, 3×3): 2.25×
    // fewer multiply-adds, ~1e-6 relative from the direct product.
    if winograd::applies(s) {
        let one = ConvShape { batch: 1, ..*s };
        x.par_chunks(s.c_in * ip)
            .zip(y.par_chunks_mut(s.c_out * op))
            .for_each(|(xi, yi)| winograd::conv3x3_into(xi, w, bias, relu, &one, yi));
        return;
    }
    conv_im2col_into(x, w, bias, relu, s, y);
}

/// [`conv_forward_into`] by im2col and one GEMM per chunk of images (or band of output rows),
/// whatever the geometry: the path every convolution without a faster one takes.
pub fn conv_im2col_into(
    x: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    relu: bool,
    s: &ConvShape,
    y: &mut [f32],
) {
    let (g, rows) = (s.geometry, s.c_in * s.geometry.taps());
    let (ip, op) = (s.in_plane(), s.out_plane());
    assert_eq!(
        y.len(),
        s.batch * s.c_out * op,
        "convolution output of the wrong length"
    );
    let nb = s.chunk(rows * op);
    let weight = Mat::row_major(w, s.c_out, rows);
    // Images whose columns alone exceed a chunk are done in bands of output rows.
    let [ho, wo] = s.out_hw;
    let band = (CHUNK_FLOATS / (rows * wo).max(1)).clamp(1, ho.max(1));
    x.par_chunks(nb * s.c_in * ip)
        .zip(y.par_chunks_mut(nb * s.c_out * op))
        .for_each(|(xc, yc)| {
            let n = xc.len() / (s.c_in * ip);
            if n == 1 && band < ho {
                for oy0 in (0..ho).step_by(band) {
                    let len = band.min(ho - oy0) * wo;
                    with2(rows * len, s.c_out * len, |cols, out| {
                        im2col_rows(xc, s.c_in, s.in_hw, g, s.out_hw, oy0..oy0 + len / wo, cols);
                        matmul_into(out, weight, Mat::row_major(cols, rows, len), false); // [O, len]
                        for (o, (dst, src)) in yc.chunks_mut(op).zip(out.chunks(len)).enumerate() {
                            let add = bias.map_or(0.0, |b| b[o]);
                            for (d, v) in dst[oy0 * wo..oy0 * wo + len].iter_mut().zip(src) {
                                *d = if relu { (v + add).max(0.0) } else { v + add };
                            }
                        }
                    });
                }
                return;
            }
            with2(rows * n * op, s.c_out * n * op, |cols, out| {
                im2col(xc, s.c_in, s.in_hw, g, s.out_hw, cols);
                matmul_into(out, weight, Mat::row_major(cols, rows, n * op), false); // [O, n·P]
                from_channel_major(out, s.c_out, op, bias, relu, yc);
            });
        });
}

/// The skeleton both backward passes share: chunks of `nb` images of `x` and `grad` in parallel,
/// each calling `chunk(dw, x chunk, grad chunk, dx chunk)`, which adds its part of the (transposed)
/// weight gradient to the thread's `dw` and writes its part of `dx` when asked. Bias gradients
/// are the per-channel sums of `grad`. Returns `(dx, dwᵀ, db)`.
fn backward_chunks(
    x: &[f32],
    grad: &[f32],
    s: &ConvShape,
    nb: usize,
    [need_x, need_w]: [bool; 2],
    dw_len: usize,
    chunk: impl Fn(&mut [f32], &[f32], &[f32], Option<&mut [f32]>) + Sync,
) -> (Option<Vec<f32>>, Vec<f32>, Vec<f32>) {
    let (xs, gs) = (nb * s.c_in * s.in_plane(), nb * s.c_out * s.out_plane());
    let mut dx = need_x.then(|| vec![0.0; x.len()]);
    let dx_chunks: Vec<Option<&mut [f32]>> = match dx.as_mut() {
        Some(d) => d.chunks_mut(xs).map(Some).collect(),
        None => x.chunks(xs).map(|_| None).collect(),
    };
    let dw_len = if need_w { dw_len } else { 0 };
    let zeros = || (vec![0.0; dw_len], vec![0.0; s.c_out]);
    let (dwt, db) = x
        .par_chunks(xs)
        .zip(grad.par_chunks(gs))
        .zip(dx_chunks)
        .fold(zeros, |(mut dw, mut db), ((xc, gc), dxc)| {
            channel_sums(gc, s.c_out, s.out_plane(), &mut db);
            chunk(&mut dw, xc, gc, dxc);
            (dw, db)
        })
        .reduce(zeros, add);
    (dx, dwt, db)
}

/// Gradients of [`conv_forward`] given `grad` of its output (ReLU mask already applied).
pub fn conv_backward(
    x: &[f32],
    w: &[f32],
    grad: &[f32],
    [need_x, need_w]: [bool; 2],
    s: &ConvShape,
) -> ConvGrads {
    let (g, rows) = (s.geometry, s.c_in * s.geometry.taps());
    let (ip, op) = (s.in_plane(), s.out_plane());
    let nb = s.chunk(rows * op);
    let weight = Mat::row_major(w, s.c_out, rows);
    let (dx, dwt, db) = backward_chunks(
        x,
        grad,
        s,
        nb,
        [need_x, need_w],
        s.c_out * rows,
        |dw, xc, gc, dxc| {
            let n = xc.len() / (s.c_in * ip);
            with2(s.c_out * n * op, rows * n * op, |gcm, cols| {
                to_channel_major(gc, s.c_out, op, gcm); // [O, n·P]
                let gmat = Mat::row_major(gcm, s.c_out, n * op);
                if need_w {
                    im2col(xc, s.c_in, s.in_hw, g, s.out_hw, cols);
                    let cmat = Mat::row_major(cols, rows, n * op);
                    // dWᵀ = cols · gᵀ: this way round gemm packs g, not the larger columns.
                    matmul_into(dw, cmat, gmat.t(), true); // [C·k·k, O]
                }
                if let Some(dxc) = dxc {
                    matmul_into(cols, weight.t(), gmat, false); // [C·k·k, n·P]
                    for (i, plane) in dxc.chunks_mut(ip).enumerate() {
                        let (b, ci) = (i / s.c_in, i % s.c_in);
                        col2im_plane(cols, n, b, ci, s.in_hw, g, s.out_hw, plane);
                    }
                }
            });
        },
    );
    ConvGrads {
        x: dx,
        weight: need_w.then(|| transpose(&dwt, rows, s.c_out)),
        bias: db,
    }
}

/// The transposed convolution `y = relu?(Wᵀ ⋆ x + bias)`, `[batch, c_out, out_hw]`, with `w`
/// `[c_in, c_out, kh, kw]`: the adjoint of the convolution from `out_hw` back to `in_hw`.
pub fn deconv_forward(
    x: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    relu: bool,
    s: &ConvShape,
) -> Vec<f32> {
    let (g, rows) = (s.geometry, s.c_out * s.geometry.taps());
    let (ip, op) = (s.in_plane(), s.out_plane());
    let nb = s.chunk(rows * ip);
    let mut y = vec![0.0; s.batch * s.c_out * op];
    let weight = Mat::row_major(w, s.c_in, rows);
    x.par_chunks(nb * s.c_in * ip)
        .zip(y.par_chunks_mut(nb * s.c_out * op))
        .for_each(|(xc, yc)| {
            let n = xc.len() / (s.c_in * ip);
            with2(s.c_in * n * ip, rows * n * ip, |xcm, cols| {
                to_channel_major(xc, s.c_in, ip, xcm); // [C, n·HW]
                let xmat = Mat::row_major(xcm, s.c_in, n * ip);
                matmul_into(cols, weight.t(), xmat, false); // [O·k·k, n·HW]
                for (i, plane) in yc.chunks_mut(op).enumerate() {
                    let ci = i % s.c_out;
                    plane.fill(bias.map_or(0.0, |b| b[ci]));
                    col2im_plane(cols, n, i / s.c_out, ci, s.out_hw, g, s.in_hw, plane);
                    if relu {
                        plane.iter_mut().for_each(|v| *v = v.max(0.0));
                    }
                }
            });
        });
    y
}

/// Gradients of [`deconv_forward`] given `grad` of its output (ReLU mask already applied).
pub fn deconv_backward(
    x: &[f32],
    w: &[f32],
    grad: &[f32],
    [need_x, need_w]: [bool; 2],
    s: &ConvShape,
) -> ConvGrads {
    let (g, rows) = (s.geometry, s.c_out * s.geometry.taps());
    let ip = s.in_plane();
    let nb = s.chunk(rows * ip);
    let weight = Mat::row_major(w, s.c_in, rows);
    let (dx, dwt, db) = backward_chunks(
        x,
        grad,
        s,
        nb,
        [need_x, need_w],
        s.c_in * rows,
        |dw, xc, gc, dxc| {
            let n = xc.len() / (s.c_in * ip);
            with2(rows * n * ip, s.c_in * n * ip, |cols, xcm| {
                im2col(gc, s.c_out, s.out_hw, g, s.in_hw, cols); // [O·k·k, n·HW]
                let cmat = Mat::row_major(cols, rows, n * ip);
                if need_w {
                    to_channel_major(xc, s.c_in, ip, xcm); // [C, n·HW]
                                                           // dWᵀ = cols · x'ᵀ: this way round gemm packs x', not the larger columns.
                    let xmat = Mat::row_major(xcm, s.c_in, n * ip);
                    matmul_into(dw, cmat, xmat.t(), true); // [O·k·k, C]
                }
                if let Some(dxc) = dxc {
                    matmul_into(xcm, weight, cmat, false); // [C, n·HW]
                    from_channel_major(xcm, s.c_in, ip, None, false, dxc);
                }
            });
        },
    );
    ConvGrads {
        x: dx,
        weight: need_w.then(|| transpose(&dwt, rows, s.c_in)),
        bias: db,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Calls `f(x index, weight index, y index)` for every multiply of the convolution from
    /// `[n, c, in_hw]` to `[n, o, out_hw]` with weight `[o, c, kh, kw]` (the definition).
    fn visit(
        n: usize,
        c: usize,
        o: usize,
        in_hw: [usize; 2],
        g: Geometry,
        mut f: impl FnMut(usize, usize, usize),
    ) {
        let out = g.conv_out(in_hw).unwrap();
        for (b, oi, ci) in
            (0..n).flat_map(|b| (0..o).flat_map(move |oi| (0..c).map(move |ci| (b, oi, ci))))
        {
            for (oy, ox, ky, kx) in (0..out[0]).flat_map(|oy| {
                (0..out[1]).flat_map(move |ox| {
                    (0..g.kernel[0])
                        .flat_map(move |ky| (0..g.kernel[1]).map(move |kx| (oy, ox, ky, kx)))
                })
            }) {
                let iy = (oy * g.stride[0] + ky) as isize - g.padding[0] as isize;
                let ix = (ox * g.stride[1] + kx) as isize - g.padding[1] as isize;
                if iy < 0 || ix < 0 || iy >= in_hw[0] as isize || ix >= in_hw[1] as isize {
                    continue;
                }
                let xi = ((b * c + ci) * in_hw[0] + iy as usize) * in_hw[1] + ix as usize;
                let wi = ((oi * c + ci) * g.kernel[0] + ky) * g.kernel[1] + kx;
                let yi = ((b * o + oi) * out[0] + oy) * out[1] + ox;
                f(xi, wi, yi);
            }
        }
    }

    fn data(len: usize, seed: f32) -> Vec<f32> {
        (0..len).map(|i| ((i as f32 + 1.0) * seed).sin()).collect()
    }

    fn close(got: &[f32], want: &[f64], what: &str) {
        assert_eq!(got.len(), want.len(), "{what}");
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            assert!(
                (*g as f64 - w).abs() < 1e-4 * (1.0 + w.abs()),
                "{what}[{i}]: {g} vs {w}"
            );
        }
    }

    fn geometries() -> [Geometry; 3] {
        [
            Geometry::DOWN4,
            // The 1×1 fast path of the forward pass.
            Geometry {
                kernel: [1, 1],
                stride: [1, 1],
                padding: [0, 0],
            },
            Geometry {
                kernel: [3, 1],
                stride: [1, 2],
                padding: [1, 0],
            },
        ]
    }

    #[test]
    fn convolution_and_its_gradients_match_the_definition() {
        for g in geometries() {
            // 7 images: chunks of uneven size on any thread count.
            let (n, c, o, hw) = (7, 3, 5, [6, 8]);
            let s = ConvShape::conv(n, c, o, hw, g).unwrap();
            let (x, w, bias) = (
                data(n * c * 48, 0.37),
                data(o * c * g.taps(), 0.23),
                data(o, 0.9),
            );
            let y_len = n * o * s.out_hw[0] * s.out_hw[1];
            let grad = data(y_len, 0.61);
            let (mut y, mut dx, mut dw) =
                (vec![0f64; y_len], vec![0f64; x.len()], vec![0f64; w.len()]);
            visit(n, c, o, hw, g, |xi, wi, yi| {
                y[yi] += (w[wi] * x[xi]) as f64;
                dx[xi] += (grad[yi] * w[wi]) as f64;
                dw[wi] += (grad[yi] * x[xi]) as f64;
            });
            let plane = s.out_hw[0] * s.out_hw[1];
            let with_bias: Vec<f64> = y
                .iter()
                .enumerate()
                .map(|(i, v)| v + bias[i / plane % o] as f64)
                .collect();
            close(
                &conv_forward(&x, &w, Some(&bias), false, &s),
                &with_bias,
                "y",
            );
            let relu: Vec<f64> = with_bias.iter().map(|v| v.max(0.0)).collect();
            close(
                &conv_forward(&x, &w, Some(&bias), true, &s),
                &relu,
                "relu(y)",
            );
            let grads = conv_backward(&x, &w, &grad, [true, true], &s);
            close(grads.x.as_deref().unwrap(), &dx, "dx");
            close(grads.weight.as_deref().unwrap(), &dw, "dw");
            let db: Vec<f64> = (0..o)
                .map(|oi| {
                    grad.iter()
                        .enumerate()
                        .filter(|(i, _)| i / plane % o == oi)
                        .map(|(_, v)| *v as f64)
                        .sum()
                })
                .collect();
            close(&grads.bias, &db, "db");
            let only_x = conv_backward(&x, &w, &grad, [true, false], &s);
            assert!(only_x.weight.is_none());
            close(only_x.x.as_deref().unwrap(), &dx, "dx without dw");
            assert!(conv_backward(&x, &w, &grad, [false, true], &s).x.is_none());
        }
    }

    #[test]
    fn transposed_convolution_and_its_gradients_match_the_definition() {
        for g in geometries() {
            // The transposed convolution from [c, small] to [o, big] is the adjoint of the
            // convolution from [o, big] to [c, small] with the same weight [c, o, kh, kw].
            // Sizes whose transposed convolution needs no output padding.
            let big = if g == Geometry::DOWN4 { [8, 6] } else { [8, 7] };
            let (n, c, o) = (5, 4, 3);
            let small = g.conv_out(big).unwrap();
            let s = ConvShape::transposed(n, c, o, small, g).unwrap();
            assert_eq!(s.out_hw, big, "no output padding needed for these sizes");
            let (x, w, bias) = (
                data(n * c * small[0] * small[1], 0.41),
                data(c * o * g.taps(), 0.19),
                data(o, 0.7),
            );
            let y_len = n * o * big[0] * big[1];
            let grad = data(y_len, 0.53);
            let (mut y, mut dx, mut dw) =
                (vec![0f64; y_len], vec![0f64; x.len()], vec![0f64; w.len()]);
            visit(n, o, c, big, g, |yi, wi, xi| {
                y[yi] += (w[wi] * x[xi]) as f64;
                dx[xi] += (grad[yi] * w[wi]) as f64;
                dw[wi] += (grad[yi] * x[xi]) as f64;
            });
            let plane = big[0] * big[1];
            let with_bias: Vec<f64> = y
                .iter()
                .enumerate()
                .map(|(i, v)| v + bias[i / plane % o] as f64)
                .collect();
            close(
                &deconv_forward(&x, &w, Some(&bias), false, &s),
                &with_bias,
                "y",
            );
            let relu: Vec<f64> = with_bias.iter().map(|v| v.max(0.0)).collect();
            close(
                &deconv_forward(&x, &w, Some(&bias), true, &s),
                &relu,
                "relu(y)",
            );
            let grads = deconv_backward(&x, &w, &grad, [true, true], &s);
            let only_x = deconv_backward(&x, &w, &grad, [true, false], &s);
            assert!(only_x.weight.is_none());
            close(only_x.x.as_deref().unwrap(), &dx, "dx without dw");
            close(grads.x.as_deref().unwrap(), &dx, "dx");
            close(grads.weight.as_deref().unwrap(), &dw, "dw");
            let db: Vec<f64> = (0..o)
                .map(|oi| {
                    grad.iter()
                        .enumerate()
                        .filter(|(i, _)| i / plane % o == oi)
                        .map(|(_, v)| *v as f64)
                        .sum()
                })
                .collect();
            close(&grads.bias, &db, "db");
        }
    }

    /// Images whose column matrix exceeds [`CHUNK_FLOATS`] go through bands of output rows. (A
    /// 1×7 kernel, as Inception's: 3×3 stride-1 ones take the Winograd path instead.)
    #[test]
    fn banded_large_images_match_the_definition() {
        let g = Geometry {
            kernel: [1, 7],
            stride: [1, 1],
            padding: [0, 3],
        };
        let (n, c, o, hw) = (2, 24, 3, [90, 86]);
        let s = ConvShape::conv(n, c, o, hw, g).unwrap();
        assert!(!winograd::applies(&s));
        assert!(
            c * g.taps() * hw[0] * hw[1] > CHUNK_FLOATS,
            "the test must take the banded path"
        );
        let (x, w, bias) = (
            data(n * c * hw[0] * hw[1], 0.37),
            data(o * c * g.taps(), 0.23),
            data(o, 0.9),
        );
        let mut y = vec![0f64; n * o * hw[0] * hw[1]];
        visit(n, c, o, hw, g, |xi, wi, yi| y[yi] += (w[wi] * x[xi]) as f64);
        let plane = hw[0] * hw[1];
        let want: Vec<f64> = y
            .iter()
            .enumerate()
            .map(|(i, v)| (v + bias[i / plane % o] as f64).max(0.0))
            .collect();
        close(
            &conv_forward(&x, &w, Some(&bias), true, &s),
            &want,
            "banded relu(y)",
        );
    }

    /// `conv_forward` sends 3×3 stride-1 convolutions with enough tiles to Winograd, image by
    /// image; they agree with im2col + GEMM to ~1e-6 of the output's scale.
    #[test]
    fn three_by_three_convolutions_take_winograd_and_match_im2col() {
        let g = Geometry {
            kernel: [3, 3],
            stride: [1, 1],
            padding: [1, 1],
        };
        let (n, c, o, hw) = (5, 6, 4, [20, 18]);
        let s = ConvShape::conv(n, c, o, hw, g).unwrap();
        assert!(winograd::applies(&s));
        let (x, w, bias) = (data(n * c * 360, 0.37), data(o * c * 9, 0.23), data(o, 0.9));
        for relu in [false, true] {
            let fast = conv_forward(&x, &w, Some(&bias), relu, &s);
            let mut direct = vec![f32::NAN; fast.len()];
            conv_im2col_into(&x, &w, Some(&bias), relu, &s, &mut direct);
            let scale = direct.iter().fold(0f32, |a, v| a.max(v.abs()));
            for (i, (f, d)) in fast.iter().zip(&direct).enumerate() {
                assert!(
                    (f - d).abs() <= 1e-5 * scale,
                    "relu {relu}: [{i}] {f} vs {d}"
                );
            }
        }
    }

    #[test]
    fn relu_mask_zeroes_where_the_output_was_not_positive() {
        assert_eq!(
            relu_mask(&[1.0, 2.0, 3.0], &[0.5, 0.0, -1.0]),
            vec![1.0, 0.0, 0.0]
        );
    }
}
