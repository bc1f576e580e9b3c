//! 3×3, stride-1 convolution by Winograd's minimal filtering F(2×2, 3×3) (Lavin & Gray, 2016):
//! 16 multiply-adds per 2×2 output tile and channel pair where the direct convolution (im2col +
//! GEMM) takes 36, so 2.25× fewer. Each 4×4 input patch `d` and each 3×3 filter `g` is moved
//! into the transform domain, `V = Bᵀ d B` and `U = G g Gᵀ`, where the convolution becomes an
//! element-wise product summed over input channels, that is one GEMM per element
//! `k ∈ 0..16`: `M_k = U_k [c_out, c_in] · V_k [c_in, tiles]`; each output tile is then
//! `Y = Aᵀ M A` (2×2). With
//!
//! ```text
//! Bᵀ = [1  0 −1  0]   G = [1    0    0 ]   Aᵀ = [1  1  1  0]
//!      [0  1  1  0]       [1/2  1/2  1/2]        [0  1 −1 −1]
//!      [0 −1  1  0]       [1/2 −1/2  1/2]
//!      [0  1  0 −1]       [0    0    1 ]
//! ```
//!
//! every coefficient is 0, ±1 or ±1/2, so the transforms add no rounding beyond a few additions:
//! the outputs match the direct convolution to ~1e-6 relative (the tests' bound), not to the bit.
//!
//! The transforms run across a whole row of tiles at once, so that each step is one contiguous
//! vector operation: a patch's columns `2t … 2t + 3` are the even and odd input columns `t` and
//! `t + 1`, so each input row is split once into its even and odd columns, and every `V_k` row
//! of a tile row is then a sum or difference of two such (shifted) rows. The output transform
//! reads the 16 products' rows the same way and interleaves the 2×2 results back into the image.
//! Tiles are done in blocks of tile rows sized by [`BLOCK_FLOATS`], so a block's transformed
//! inputs and products stay in cache between the input transform, the 16 GEMMs and the output
//! transform.

use super::conv::ConvShape;
use super::gemm::{matmul_into, Mat};
use super::scratch::with2;

/// Target size of one block's transformed inputs plus products, in floats (4 MiB: of 256 K, 512 K,
/// 1 M and 4 M floats, the fastest on Inception's layers, `examples/conv3x3_shapes.rs`).
pub const BLOCK_FLOATS: usize = 1 << 20;

/// Output tiles below which the direct convolution is used: at Inception's 8×8 outputs (16 tiles,
/// Mixed_7's 448 → 384 channels) Winograd took 1.9–2.2× the time of im2col + GEMM, its 16 GEMMs
/// 16 columns wide and its filter transform as large as its data.
const MIN_TILES: usize = 64;

/// Whether [`conv3x3_into`] computes `s`: a 3×3, stride-1 convolution with enough output tiles,
/// at least one channel in and out, and the output size the convolution gives (a hand-built
/// `ConvShape` with a larger one would otherwise read as extra zero padding).
pub fn applies(s: &ConvShape) -> bool {
    let g = s.geometry;
    let (th, tw) = tiles(s.out_hw);
    g.kernel == [3, 3]
        && g.stride == [1, 1]
        && th * tw >= MIN_TILES
        && s.c_in > 0
        && s.c_out > 0
        && g.conv_out(s.in_hw) == Some(s.out_hw)
}

/// Tile rows and columns covering an `[H, W]` output.
fn tiles([h, w]: [usize; 2]) -> (usize, usize) {
    (h.div_ceil(2), w.div_ceil(2))
}

/// `U = G g Gᵀ` of every filter: `[16, c_out, c_in]`, element `k = 4i + j` of filter `(o, c)` at
/// `u[(k · c_out + o) · c_in + c]`.
fn filters(w: &[f32], c_out: usize, c_in: usize) -> Vec<f32> {
    let mut u = vec![0.0; 16 * c_out * c_in];
    for (oc, g) in w.chunks_exact(9).enumerate() {
        let mut gg = [[0.0f32; 3]; 4]; // G g: [4, 3]
        for j in 0..3 {
            let (a, b, c) = (g[j], g[3 + j], g[6 + j]);
            gg[0][j] = a;
            gg[1][j] = (a + b + c) * 0.5;
            gg[2][j] = (a - b + c) * 0.5;
            gg[3][j] = c;
        }
        for (i, r) in gg.iter().enumerate() {
            let row = [
                r[0],
                (r[0] + r[1] + r[2]) * 0.5,
                (r[0] - r[1] + r[2]) * 0.5,
                r[2],
            ];
            for (j, v) in row.into_iter().enumerate() {
                u[(4 * i + j) * c_out * c_in + oc] = v;
            }
        }
    }
    u
}

/// Splits padded row `yp` of an `[h, wd]` plane (zero outside it, `pad` = `[py, px]`) into its
/// even and odd padded columns: `even[t]` is padded column `2t`, `odd[t]` column `2t + 1`.
#[inline(always)]
fn split_row(
    plane: &[f32],
    [h, wd]: [usize; 2],
    [py, px]: [usize; 2],
    yp: usize,
    even: &mut [f32],
    odd: &mut [f32],
) {
    let Some(iy) = yp.checked_sub(py).filter(|&r| r < h) else {
        even.fill(0.0);
        odd.fill(0.0);
        return;
    };
    let row = &plane[iy * wd..(iy + 1) * wd];
    let at = |q: usize| {
        q.checked_sub(px)
            .and_then(|ix| row.get(ix))
            .copied()
            .unwrap_or(0.0)
    };
    // From column t0 on, padded columns 2t and 2t + 1 are the input pair starting at 2t − px;
    // before t0 and past the last whole pair, zero padding is involved.
    let t0 = px.div_ceil(2).min(even.len());
    let first = 2 * t0 - px;
    let t1 = (t0 + wd.saturating_sub(first) / 2).min(even.len());
    for t in (0..t0).chain(t1..even.len()) {
        even[t] = at(2 * t);
        odd[t] = at(2 * t + 1);
    }
    let pairs = row[first.min(wd)..].chunks_exact(2);
    for ((e, o), pair) in even[t0..t1].iter_mut().zip(&mut odd[t0..t1]).zip(pairs) {
        *e = pair[0];
        *o = pair[1];
    }
}

/// The input transform of one tile row of one channel: from the even (`e`) and odd (`o`) columns
/// of its four padded input rows (each `tw + 1` long) into the 16 rows `v[k]` (each `tw` long).
#[inline(always)]
fn input_row(e: [&[f32]; 4], o: [&[f32]; 4], tmp: &mut [f32], v: &mut [&mut [f32]; 16]) {
    let tw = v[0].len();
    let (te, to) = tmp.split_at_mut(tw + 1);
    let (te, to) = (&mut te[..tw + 1], &mut to[..tw + 1]);
    let (quads, _) = v.as_chunks_mut::<4>();
    for (i, [v0, v1, v2, v3]) in quads.iter_mut().enumerate() {
        // Row i of Bᵀ d, for the even and the odd columns: [d0 − d2, d1 + d2, d2 − d1, d1 − d3].
        let (a, b, sign) = match i {
            0 => (0, 2, -1.0),
            1 => (1, 2, 1.0),
            2 => (2, 1, -1.0),
            _ => (1, 3, -1.0),
        };
        for (dst, (x, y)) in te
            .iter_mut()
            .zip(e[a][..tw + 1].iter().zip(&e[b][..tw + 1]))
        {
            *dst = x + sign * y;
        }
        for (dst, (x, y)) in to
            .iter_mut()
            .zip(o[a][..tw + 1].iter().zip(&o[b][..tw + 1]))
        {
            *dst = x + sign * y;
        }
        // Columns of (Bᵀ d) B: [c0 − c2, c1 + c2, c2 − c1, c1 − c3], c0 = te[t], c1 = to[t],
        // c2 = te[t + 1], c3 = to[t + 1].
        let (v0, v1, v2, v3) = (&mut v0[..tw], &mut v1[..tw], &mut v2[..tw], &mut v3[..tw]);
        let (e0, e1, o0, o1) = (&te[..tw], &te[1..tw + 1], &to[..tw], &to[1..tw + 1]);
        for t in 0..tw {
            v0[t] = e0[t] - e1[t];
            v1[t] = o0[t] + e1[t];
            v2[t] = e1[t] - o0[t];
            v3[t] = o0[t] - o1[t];
        }
    }
}

/// The output transform `Aᵀ m A` of one tile row of one output channel, plus `add` and (with
/// `RELU`) the ReLU: from the 16 product rows `m[k]` (each `tw` long) into rows `2ty` and (when
/// inside) `2ty + 1` of that channel's `[ho, wo]` plane `out`.
#[inline(always)]
fn output_row<const RELU: bool>(
    m: [&[f32]; 16],
    add: f32,
    tmp: &mut [f32],
    out: &mut [f32],
    [ho, wo]: [usize; 2],
    ty: usize,
) {
    let tw = m[0].len();
    let [m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11, m12, m13, m14, m15] =
        m.map(|r| &r[..tw]);
    let (y0, rest) = tmp.split_at_mut(tw);
    let (y1, rest) = rest.split_at_mut(tw);
    let (y2, y3) = rest.split_at_mut(tw);
    let (y0, y1, y2, y3) = (&mut y0[..tw], &mut y1[..tw], &mut y2[..tw], &mut y3[..tw]);
    let r = |v: f32| if RELU { (v + add).max(0.0) } else { v + add };
    for t in 0..tw {
        // Aᵀ m: rows [m0 + m1 + m2, m1 − m2 − m3] of each column; then the same across columns.
        let s0 = [
            m0[t] + m4[t] + m8[t],
            m1[t] + m5[t] + m9[t],
            m2[t] + m6[t] + m10[t],
            m3[t] + m7[t] + m11[t],
        ];
        let s1 = [
            m4[t] - m8[t] - m12[t],
            m5[t] - m9[t] - m13[t],
            m6[t] - m10[t] - m14[t],
            m7[t] - m11[t] - m15[t],
        ];
        y0[t] = r(s0[0] + s0[1] + s0[2]);
        y1[t] = r(s0[1] - s0[2] - s0[3]);
        y2[t] = r(s1[0] + s1[1] + s1[2]);
        y3[t] = r(s1[1] - s1[2] - s1[3]);
    }
    // Interleave each tile's two columns back into the image's rows (an odd width drops the last).
    let oy = 2 * ty;
    for (dy, (left, right)) in [(0, (&*y0, &*y1)), (1, (&*y2, &*y3))] {
        if oy + dy >= ho {
            break;
        }
        let row = &mut out[(oy + dy) * wo..(oy + dy + 1) * wo];
        let (pairs, last) = row.as_chunks_mut::<2>();
        for (pair, (a, b)) in pairs.iter_mut().zip(left.iter().zip(right)) {
            *pair = [*a, *b];
        }
        if let [v] = last {
            *v = left[tw - 1];
        }
    }
}

/// The input transform of one block of `nr` tile rows from tile row `ty0`, every channel of
/// `xi` `[ci, h, wd]`: `v[(k · ci + c) · n + r · tw + t]` for tile (ty0 + r, t), `n = nr · tw`.
/// `eo` holds `2 · nr + 2` split rows of `2 · (tw + 1)`, `tmp` `2 · (tw + 1)` values.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn input_block(
    xi: &[f32],
    ci: usize,
    in_hw: [usize; 2],
    pad: [usize; 2],
    (tw, ty0, nr): (usize, usize, usize),
    eo: &mut [f32],
    tmp: &mut [f32],
    v: &mut [f32],
) {
    let ([h, wd], n, split) = (in_hw, nr * tw, 2 * (tw + 1));
    for c in 0..ci {
        let plane = &xi[c * h * wd..(c + 1) * h * wd];
        for (a, buf) in eo.chunks_exact_mut(split).take(2 * nr + 2).enumerate() {
            let (e, o) = buf.split_at_mut(tw + 1);
            split_row(plane, in_hw, pad, 2 * ty0 + a, e, o);
        }
        let eo = &*eo;
        let half = |a: usize, odd: usize| &eo[a * split + odd * (tw + 1)..][..tw + 1];
        for r in 0..nr {
            let e = std::array::from_fn(|a| half(2 * r + a, 0));
            let o = std::array::from_fn(|a| half(2 * r + a, 1));
            // Row `k` of the 16 is `v[(k · ci + c) · n + r · tw..][..tw]`.
            let mut rest = &mut v[..];
            let mut dst: [&mut [f32]; 16] = std::array::from_fn(|_| {
                let (vk, tail) = std::mem::take(&mut rest).split_at_mut(ci * n);
                rest = tail;
                &mut vk[c * n + r * tw..][..tw]
            });
            input_row(e, o, tmp, &mut dst);
        }
    }
}

/// The output transform of one block (see [`input_block`]) of products `m`
/// `[16, co, n]` into the `co` planes `[ho, wo]` of `yi`, with bias and ReLU.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn output_block(
    m: &[f32],
    co: usize,
    bias: Option<&[f32]>,
    relu: bool,
    out_hw: [usize; 2],
    (tw, ty0, nr): (usize, usize, usize),
    tmp: &mut [f32],
    yi: &mut [f32],
) {
    let ([ho, wo], n) = (out_hw, nr * tw);
    for (o, out) in yi.chunks_exact_mut(ho * wo).take(co).enumerate() {
        let add = bias.map_or(0.0, |b| b[o]);
        for r in 0..nr {
            let mk = std::array::from_fn(|k| &m[(k * co + o) * n + r * tw..][..tw]);
            if relu {
                output_row::<true>(mk, add, tmp, out, out_hw, ty0 + r);
            } else {
                output_row::<false>(mk, add, tmp, out, out_hw, ty0 + r);
            }
        }
    }
}

/// Runs `f` compiled with AVX2 when the CPU has it (the transforms are element-wise additions,
/// so their results do not depend on the vector width), as it is otherwise.
#[inline(always)]
fn vectorised<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx2")]
        fn avx2<R>(f: impl FnOnce() -> R) -> R {
            f()
        }
        if std::arch::is_x86_feature_detected!("avx2") && !scalar_only() {
            // SAFETY: the CPU has AVX2, checked just above.
            return unsafe { avx2(f) };
        }
    }
    f()
}

/// Whether a test has asked this thread for the transforms' baseline build (no AVX2).
#[cfg(test)]
fn scalar_only() -> bool {
    tests::SCALAR_ONLY.with(std::cell::Cell::get)
}

#[cfg(not(test))]
#[inline(always)]
fn scalar_only() -> bool {
    false
}

/// `relu?(conv(x) + bias)` of every image of `x` `[batch, c_in, H, W]` into `y`
/// `[batch, c_out, H', W']`, for a 3×3 stride-1 convolution (`applies(s)`; panics otherwise).
/// Single-threaded: the caller runs images in parallel.
pub fn conv3x3_into(
    x: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    relu: bool,
    s: &ConvShape,
    y: &mut [f32],
) {
    assert!(applies(s), "Winograd F(2×2, 3×3) does not apply to {s:?}");
    let (ci, co) = (s.c_in, s.c_out);
    let ([h, wd], [ho, wo]) = (s.in_hw, s.out_hw);
    assert_eq!(w.len(), co * ci * 9, "3×3 weight of the wrong length");
    assert_eq!(x.len(), s.batch * ci * h * wd, "input of the wrong length");
    assert_eq!(
        y.len(),
        s.batch * co * ho * wo,
        "output of the wrong length"
    );
    let u = filters(w, co, ci); // [16, co, ci]
    let (th, tw) = tiles(s.out_hw);
    let rb = (BLOCK_FLOATS / (16 * (ci + co) * tw)).clamp(1, th); // tile rows per block
                                                                  // The block's split input rows, then the transforms' temporaries.
    let mut eo = vec![0.0f32; (2 * rb + 2) * 2 * (tw + 1)];
    let mut tmp = vec![0.0f32; 4 * (tw + 1)];
    for (xi, yi) in x.chunks(ci * h * wd).zip(y.chunks_mut(co * ho * wo)) {
        for ty0 in (0..th).step_by(rb) {
            let nr = rb.min(th - ty0);
            let n = nr * tw;
            with2(16 * ci * n, 16 * co * n, |v, m| {
                let block = (tw, ty0, nr);
                vectorised(|| {
                    input_block(
                        xi,
                        ci,
                        s.in_hw,
                        s.geometry.padding,
                        block,
                        &mut eo,
                        &mut tmp,
                        v,
                    )
                });
                // 16 products: m_k [co, n] = u_k [co, ci] · v_k [ci, n].
                for k in 0..16 {
                    let uk = Mat::row_major(&u[k * co * ci..(k + 1) * co * ci], co, ci);
                    let vk = Mat::row_major(&v[k * ci * n..(k + 1) * ci * n], ci, n);
                    matmul_into(&mut m[k * co * n..(k + 1) * co * n], uk, vk, false);
                }
                vectorised(|| output_block(m, co, bias, relu, s.out_hw, block, &mut tmp, yi));
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::Geometry;
    use std::cell::Cell;

    thread_local! {
        /// Set by a test on its own thread to run the transforms as compiled for the baseline
        /// target, the path of a CPU without AVX2.
        pub static SCALAR_ONLY: Cell<bool> = const { Cell::new(false) };
    }

    /// The convolution's definition, in f64.
    fn direct(x: &[f32], w: &[f32], b: &[f32], s: &ConvShape) -> Vec<f64> {
        let ([h, wd], [ho, wo], [py, px]) = (s.in_hw, s.out_hw, s.geometry.padding);
        let mut y = vec![0.0; s.batch * s.c_out * ho * wo];
        for n in 0..s.batch {
            for o in 0..s.c_out {
                for oy in 0..ho {
                    for ox in 0..wo {
                        let mut acc = b[o] as f64;
                        for c in 0..s.c_in {
                            for ky in 0..3 {
                                for kx in 0..3 {
                                    let (iy, ix) =
                                        ((oy + ky).wrapping_sub(py), (ox + kx).wrapping_sub(px));
                                    if iy < h && ix < wd {
                                        let xv = x[((n * s.c_in + c) * h + iy) * wd + ix] as f64;
                                        acc += xv * w[((o * s.c_in + c) * 3 + ky) * 3 + kx] as f64;
                                    }
                                }
                            }
                        }
                        y[((n * s.c_out + o) * ho + oy) * wo + ox] = acc;
                    }
                }
            }
        }
        y
    }

    /// Runs [`conv3x3_into`] on the calling thread, with the transforms' AVX2 build (where the
    /// CPU has it) or their baseline one.
    fn run(
        x: &[f32],
        w: &[f32],
        b: Option<&[f32]>,
        relu: bool,
        s: &ConvShape,
        scalar: bool,
    ) -> Vec<f32> {
        let mut y = vec![f32::NAN; s.batch * s.c_out * s.out_hw[0] * s.out_hw[1]];
        SCALAR_ONLY.with(|c| c.set(scalar));
        conv3x3_into(x, w, b, relu, s, &mut y);
        SCALAR_ONLY.with(|c| c.set(false));
        y
    }

    #[test]
    fn winograd_matches_the_definition_at_odd_and_even_sizes_with_and_without_padding() {
        for (batch, ci, co, hw, padding) in [
            (1, 3, 5, [17, 19], [0, 0]),
            (2, 4, 3, [16, 16], [1, 1]),
            (1, 7, 6, [21, 15], [1, 1]),
            (1, 2, 2, [18, 33], [0, 0]),
            // Padding wider than the kernel's reach, and lopsided.
            (1, 3, 2, [15, 17], [2, 2]),
            (1, 2, 3, [19, 18], [0, 1]),
            (1, 2, 3, [18, 19], [1, 0]),
            // One input channel; images one row, or one column, high.
            (1, 1, 4, [1, 200], [1, 1]),
            (2, 3, 1, [129, 1], [1, 1]),
            // Several blocks of tile rows, the last one shorter.
            (1, 32, 32, [41, 40], [1, 1]),
            // Blocks of a single tile row, channels not multiples of 8.
            (1, 203, 197, [3, 328], [1, 1]),
        ] {
            let g = Geometry {
                kernel: [3, 3],
                stride: [1, 1],
                padding,
            };
            let s = ConvShape::conv(batch, ci, co, hw, g).unwrap();
            assert!(applies(&s), "{s:?}");
            let x: Vec<f32> = (0..batch * ci * hw[0] * hw[1])
                .map(|i| ((i * 37 % 101) as f32 / 50.0) - 1.0)
                .collect();
            let w: Vec<f32> = (0..co * ci * 9)
                .map(|i| ((i * 53 % 89) as f32 / 44.0) - 1.0)
                .collect();
            let b: Vec<f32> = (0..co).map(|i| i as f32 * 0.1 - 0.2).collect();
            let zeros = vec![0.0; co];
            for (bias, with) in [(Some(&b[..]), &b), (None, &zeros)] {
                let want = direct(&x, &w, with, &s);
                let scale = want.iter().fold(0.0f64, |a, v| a.max(v.abs()));
                for relu in [false, true] {
                    let fast = run(&x, &w, bias, relu, &s, false);
                    for (i, (got, want)) in fast.iter().zip(&want).enumerate() {
                        let want = if relu { want.max(0.0) } else { *want };
                        assert!(
                            (*got as f64 - want).abs() <= 1e-6 * scale,
                            "{s:?} bias {} relu {relu}: element {i} is {got}, the definition {want}",
                            bias.is_some()
                        );
                    }
                    // The transforms are additions only, so the baseline build (a CPU without
                    // AVX2) gives the same bits.
                    let scalar = run(&x, &w, bias, relu, &s, true);
                    assert!(
                        fast.iter()
                            .zip(&scalar)
                            .all(|(a, b)| a.to_bits() == b.to_bits()),
                        "{s:?} bias {} relu {relu}: the AVX2 and baseline transforms differ",
                        bias.is_some()
                    );
                }
            }
        }
    }

    #[test]
    fn narrow_outputs_and_other_kernels_do_not_apply() {
        let g3 = Geometry {
            kernel: [3, 3],
            stride: [1, 1],
            padding: [1, 1],
        };
        assert!(!applies(&ConvShape::conv(1, 4, 4, [8, 8], g3).unwrap()));
        // MIN_TILES' edge: 7 × 9 = 63 tiles are too few, 8 × 8 = 64 enough.
        assert!(!applies(&ConvShape::conv(1, 4, 4, [14, 18], g3).unwrap()));
        assert!(applies(&ConvShape::conv(1, 4, 4, [16, 16], g3).unwrap()));
        let strided = Geometry {
            stride: [2, 2],
            ..g3
        };
        assert!(!applies(
            &ConvShape::conv(1, 4, 4, [35, 35], strided).unwrap()
        ));
        assert!(!applies(
            &ConvShape::conv(1, 4, 4, [35, 35], Geometry::DOWN4).unwrap()
        ));
        let wide = Geometry {
            kernel: [1, 3],
            ..g3
        };
        assert!(!applies(&ConvShape::conv(1, 4, 4, [35, 35], wide).unwrap()));
        // No channels, or an output size that is not the convolution's.
        assert!(!applies(&ConvShape::conv(1, 0, 4, [35, 35], g3).unwrap()));
        assert!(!applies(&ConvShape::conv(1, 4, 0, [35, 35], g3).unwrap()));
        let mut grown = ConvShape::conv(1, 4, 4, [35, 35], g3).unwrap();
        grown.out_hw = [36, 36];
        assert!(!applies(&grown));
    }
}
