//! The data movement around a convolution's GEMM, for a chunk of `n` images in NCHW layout:
//! `im2col` lays each kernel window out as a column, `col2im` is its adjoint (overlapping windows
//! add up), and the two permutes move between `[n, C, P]` and channel-major `[C, n·P]`.
//!
//! Column layout: `cols[(c, ky, kx), (b, oy, ox)] = x[b, c, oy·s + ky − p, ox·s + kx − p]`, zero
//! where the window hangs over the padding.

/// Kernel, stride and padding of a 2-d convolution, `[rows, columns]` each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    /// Kernel size.
    pub kernel: [usize; 2],
    /// Stride.
    pub stride: [usize; 2],
    /// Zero padding on each side.
    pub padding: [usize; 2],
}

impl Geometry {
    /// The autoencoders' convolutions: 4×4, stride 2, padding 1.
    pub const DOWN4: Geometry = Geometry {
        kernel: [4, 4],
        stride: [2, 2],
        padding: [1, 1],
    };

    /// Output size of the convolution of an `[h, w]` image, `None` when the kernel does not fit.
    pub fn conv_out(&self, [h, w]: [usize; 2]) -> Option<[usize; 2]> {
        let side = |i: usize, d: usize| {
            let padded = i + 2 * self.padding[d];
            (padded >= self.kernel[d] && self.stride[d] > 0)
                .then(|| (padded - self.kernel[d]) / self.stride[d] + 1)
        };
        Some([side(h, 0)?, side(w, 1)?])
    }

    /// Output size of the transposed convolution of an `[h, w]` image (no output padding).
    pub fn transposed_out(&self, [h, w]: [usize; 2]) -> Option<[usize; 2]> {
        let side = |i: usize, d: usize| {
            ((i - 1) * self.stride[d] + self.kernel[d]).checked_sub(2 * self.padding[d])
        };
        if h == 0 || w == 0 {
            return None;
        }
        Some([side(h, 0)?, side(w, 1)?])
    }

    /// Rows of the column matrix per input channel.
    pub fn taps(&self) -> usize {
        self.kernel[0] * self.kernel[1]
    }

    /// The output indices `o` (of `out` in total) whose input index `o·s + k − p` lies in
    /// `0..size`, along dimension `d`.
    fn valid(&self, d: usize, k: usize, size: usize, out: usize) -> std::ops::Range<usize> {
        let (s, p) = (self.stride[d], self.padding[d]);
        let lo = p.saturating_sub(k).div_ceil(s);
        // o·s + k − p ≤ size − 1  ⇔  o ≤ (size − 1 + p − k) / s
        let hi = match (size + p).checked_sub(k + 1) {
            Some(top) => (top / s + 1).min(out),
            None => 0,
        };
        lo.min(hi)..hi
    }
}

/// A plane `[H, W]` split by column phase for stride `s`: `phases[(y·s + q)·pw + j] =
/// plane[y, j·s + q]`, `pw = ⌈W / s⌉`. A horizontal kernel tap then reads (or, in `col2im`,
/// writes) one contiguous run per output row instead of every `s`-th value: the strided scalar
/// loops this replaces took a fifth of a training step (`perf record` of `lorae bench step`).
struct Phases {
    s: usize,
    pw: usize,
}

impl Phases {
    fn new(g: &Geometry, w: usize) -> Self {
        let s = g.stride[1];
        Phases {
            s,
            pw: w.div_ceil(s),
        }
    }

    fn len(&self, h: usize) -> usize {
        h * self.s * self.pw
    }

    /// The phase and the offset of horizontal tap `kx`: input column `ox·s + kx − p` is entry
    /// `ox + off` of phase `q`.
    fn tap(&self, g: &Geometry, kx: usize) -> (usize, isize) {
        let t = kx as isize - g.padding[1] as isize;
        let s = self.s as isize;
        (t.rem_euclid(s) as usize, t.div_euclid(s))
    }

    /// Row `y`, phase `q`: `pw` values.
    fn line(&self, y: usize, q: usize) -> std::ops::Range<usize> {
        let start = (y * self.s + q) * self.pw;
        start..start + self.pw
    }

    fn split(&self, plane: &[f32], w: usize, dst: &mut [f32]) {
        for (y, src) in plane.chunks(w).enumerate() {
            for q in 0..self.s {
                let line = &mut dst[self.line(y, q)];
                for (d, v) in line.iter_mut().zip(src.iter().skip(q).step_by(self.s)) {
                    *d = *v;
                }
            }
        }
    }

    fn merge_add(&self, src: &[f32], w: usize, plane: &mut [f32]) {
        for (y, dst) in plane.chunks_mut(w).enumerate() {
            for q in 0..self.s {
                let line = &src[self.line(y, q)];
                for (d, v) in dst.iter_mut().skip(q).step_by(self.s).zip(line) {
                    *d += *v;
                }
            }
        }
    }
}

/// `start + off .. end + off` of a range of output columns.
fn shifted(r: &std::ops::Range<usize>, off: isize) -> std::ops::Range<usize> {
    (r.start as isize + off) as usize..(r.end as isize + off) as usize
}

/// `cols` `[C·kh·kw, n·Ho·Wo]` from `x` `[n, C, H, W]`; `out` is `[Ho, Wo]`.
pub fn im2col(x: &[f32], c: usize, hw: [usize; 2], g: Geometry, out: [usize; 2], cols: &mut [f32]) {
    let ([h, w], [ho, wo]) = (hw, out);
    if g == Geometry::DOWN4 && w == 2 * wo && h == 2 * ho {
        let n = x.len() / (c * h * w).max(1);
        assert_eq!(
            cols.len(),
            c * 16 * n * ho * wo,
            "im2col buffer of the wrong length"
        );
        return im2col_down4(x, c, hw, cols);
    }
    im2col_rows(x, c, hw, g, out, 0..ho, cols)
}

/// [`im2col`] restricted to the output rows `oys`: `cols` `[C·kh·kw, n·|oys|·Wo]`. Large images
/// (the FID network's first layers) are processed a band of rows at a time, so that the columns
/// stay cache-sized.
pub fn im2col_rows(
    x: &[f32],
    c: usize,
    hw: [usize; 2],
    g: Geometry,
    out: [usize; 2],
    oys: std::ops::Range<usize>,
    cols: &mut [f32],
) {
    let ([h, w], [ho, wo]) = (hw, out);
    let (plane, oplane) = (h * w, oys.len() * wo);
    let n = x.len() / (c * plane).max(1);
    let width = n * oplane;
    assert_eq!(
        cols.len(),
        c * g.taps() * width,
        "im2col buffer of the wrong length"
    );
    if oys.is_empty() {
        return;
    }
    // The input rows the band reads: a band of a large image needs only its own rows, and at
    // horizontal stride 1 the phases are the rows themselves, so nothing is split at all.
    // (Splitting every channel's whole plane for every band was 11% of `lorae bench fid`.)
    let rows = (oys.start * g.stride[0]).saturating_sub(g.padding[0])
        ..((oys.end - 1) * g.stride[0] + g.kernel[0])
            .saturating_sub(g.padding[0])
            .min(h);
    let ph = Phases::new(&g, w);
    let direct = ph.s == 1;
    let mut split = if direct {
        Vec::new()
    } else {
        vec![0f32; ph.len(rows.len())]
    };
    for (ci, b) in (0..c).flat_map(|ci| (0..n).map(move |b| (ci, b))) {
        let src = &x[(b * c + ci) * plane..(b * c + ci + 1) * plane];
        if !direct {
            ph.split(&src[rows.start * w..rows.end * w], w, &mut split);
        }
        for ky in 0..g.kernel[0] {
            let ys = g.valid(0, ky, h, ho);
            for kx in 0..g.kernel[1] {
                let xs = g.valid(1, kx, w, wo);
                let (q, off) = ph.tap(&g, kx);
                let r = (ci * g.kernel[0] + ky) * g.kernel[1] + kx;
                let dst = &mut cols[r * width + b * oplane..r * width + (b + 1) * oplane];
                for (oy, dline) in oys.clone().zip(dst.chunks_mut(wo)) {
                    if !ys.contains(&oy) {
                        dline.fill(0.0);
                        continue;
                    }
                    let iy = oy * g.stride[0] + ky - g.padding[0];
                    let line = if direct {
                        &src[iy * w..(iy + 1) * w]
                    } else {
                        &split[ph.line(iy - rows.start, q)]
                    };
                    dline[..xs.start].fill(0.0);
                    dline[xs.end..].fill(0.0);
                    dline[xs.clone()].copy_from_slice(&line[shifted(&xs, off)]);
                }
            }
        }
    }
}

/// The adjoint of [`im2col`] for one image plane: adds row block `(c, ·, ·)` of `cols` for image
/// `b` into `plane` `[H, W]`. `cols` is `[C·kh·kw, n·Ho·Wo]`.
#[allow(clippy::too_many_arguments)]
pub fn col2im_plane(
    cols: &[f32],
    n: usize,
    b: usize,
    ci: usize,
    hw: [usize; 2],
    g: Geometry,
    out: [usize; 2],
    plane: &mut [f32],
) {
    let ([h, w], [ho, wo]) = (hw, out);
    let (oplane, width) = (ho * wo, n * ho * wo);
    if g == Geometry::DOWN4 && w == 2 * wo && h == 2 * ho {
        return col2im_plane_down4(cols, n, b, ci, hw, plane);
    }
    let ph = Phases::new(&g, w);
    let mut acc = vec![0f32; ph.len(h)];
    for ky in 0..g.kernel[0] {
        let ys = g.valid(0, ky, h, ho);
        for kx in 0..g.kernel[1] {
            let xs = g.valid(1, kx, w, wo);
            let (q, off) = ph.tap(&g, kx);
            let r = (ci * g.kernel[0] + ky) * g.kernel[1] + kx;
            let src = &cols[r * width + b * oplane..r * width + (b + 1) * oplane];
            for oy in ys.clone() {
                let iy = oy * g.stride[0] + ky - g.padding[0];
                let line = &mut acc[ph.line(iy, q)][shifted(&xs, off)];
                for (d, v) in line
                    .iter_mut()
                    .zip(&src[oy * wo + xs.start..oy * wo + xs.end])
                {
                    *d += *v;
                }
            }
        }
    }
    ph.merge_add(&acc, w, plane);
}

/// [`im2col`] for 4×4 kernels, stride 2, padding 1 on even sides (every layer of the
/// autoencoders): one pass over each input row fills the four horizontal taps' rows, even
/// columns to taps 1 and 3, odd ones to taps 2 and 0.
fn im2col_down4(x: &[f32], c: usize, [h, w]: [usize; 2], cols: &mut [f32]) {
    let (ho, wo) = (h / 2, w / 2);
    let (plane, oplane) = (h * w, ho * wo);
    let n = x.len() / (c * plane).max(1);
    let width = n * oplane;
    for (group, rows) in cols.chunks_mut(4 * width).enumerate() {
        let (ci, ky) = (group / 4, group % 4);
        let [d0, d1, d2, d3] = split4(rows, width);
        for b in 0..n {
            let src = &x[(b * c + ci) * plane..(b * c + ci + 1) * plane];
            for oy in 0..ho {
                let at = b * oplane + oy * wo;
                let (l0, l1, l2, l3) = (
                    &mut d0[at..at + wo],
                    &mut d1[at..at + wo],
                    &mut d2[at..at + wo],
                    &mut d3[at..at + wo],
                );
                let iy = (2 * oy + ky).wrapping_sub(1);
                if iy >= h {
                    for l in [l0, l1, l2, l3] {
                        l.fill(0.0);
                    }
                    continue;
                }
                let line = &src[iy * w..(iy + 1) * w];
                // Taps 1 and 2 read columns 2·ox and 2·ox + 1; tap 0 reads 2·ox − 1 (zero at
                // ox = 0) and tap 3 reads 2·ox + 2 (zero at the last ox).
                for ((pair, e), o) in line.chunks_exact(2).zip(l1.iter_mut()).zip(l2.iter_mut()) {
                    *e = pair[0];
                    *o = pair[1];
                }
                l0[0] = 0.0;
                for ((d0, d3), pair) in l0[1..]
                    .iter_mut()
                    .zip(l3.iter_mut())
                    .zip(line[1..].chunks_exact(2))
                {
                    *d0 = pair[0];
                    *d3 = pair[1];
                }
                l3[wo - 1] = 0.0;
            }
        }
    }
}

/// Four consecutive rows of `width` values.
fn split4(rows: &mut [f32], width: usize) -> [&mut [f32]; 4] {
    let (d0, rest) = rows.split_at_mut(width);
    let (d1, rest) = rest.split_at_mut(width);
    let (d2, d3) = rest.split_at_mut(width);
    [d0, d1, d2, d3]
}

/// [`col2im_plane`] for 4×4 kernels, stride 2, padding 1 on even sides: each output row takes
/// its four horizontal taps in one pass.
fn col2im_plane_down4(
    cols: &[f32],
    n: usize,
    b: usize,
    ci: usize,
    [h, w]: [usize; 2],
    plane: &mut [f32],
) {
    let (ho, wo) = (h / 2, w / 2);
    let (oplane, width) = (ho * wo, n * ho * wo);
    for ky in 0..4 {
        let r0 = (ci * 4 + ky) * 4;
        let row =
            |kx: usize| &cols[(r0 + kx) * width + b * oplane..(r0 + kx) * width + (b + 1) * oplane];
        let (s0, s1, s2, s3) = (row(0), row(1), row(2), row(3));
        for oy in 0..ho {
            let iy = (2 * oy + ky).wrapping_sub(1);
            if iy >= h {
                continue;
            }
            let line = &mut plane[iy * w..(iy + 1) * w];
            let at = oy * wo;
            let (t0, t1, t2, t3) = (
                &s0[at..at + wo],
                &s1[at..at + wo],
                &s2[at..at + wo],
                &s3[at..at + wo],
            );
            for ((pair, a), b) in line.chunks_exact_mut(2).zip(t1).zip(t2) {
                pair[0] += a;
                pair[1] += b;
            }
            // Column 2j gets tap 3 of output column j − 1; column 2j − 1 tap 0 of column j.
            for (j, (a, b)) in t3[..wo - 1].iter().zip(&t0[1..]).enumerate() {
                line[2 * j + 2] += a;
                line[2 * j + 1] += b;
            }
        }
    }
}

/// `[n, C, P]` → `[C, n·P]`.
pub fn to_channel_major(src: &[f32], c: usize, p: usize, dst: &mut [f32]) {
    let n = src.len() / (c * p).max(1);
    for ci in 0..c {
        for b in 0..n {
            dst[ci * n * p + b * p..ci * n * p + (b + 1) * p]
                .copy_from_slice(&src[(b * c + ci) * p..(b * c + ci + 1) * p]);
        }
    }
}

/// `[C, n·P]` → `[n, C, P]`, adding `bias[c]` and applying ReLU when asked.
pub fn from_channel_major(
    src: &[f32],
    c: usize,
    p: usize,
    bias: Option<&[f32]>,
    relu: bool,
    dst: &mut [f32],
) {
    let n = dst.len() / (c * p).max(1);
    for b in 0..n {
        for ci in 0..c {
            let add = bias.map_or(0.0, |bias| bias[ci]);
            let out = &mut dst[(b * c + ci) * p..(b * c + ci + 1) * p];
            let input = &src[ci * n * p + b * p..ci * n * p + (b + 1) * p];
            for (o, v) in out.iter_mut().zip(input) {
                let v = v + add;
                *o = if relu { v.max(0.0) } else { v };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_the_convolution_formulas() {
        let g = Geometry::DOWN4;
        assert_eq!(g.conv_out([32, 32]), Some([16, 16]));
        assert_eq!(g.conv_out([2, 2]), Some([1, 1]));
        assert_eq!(g.transposed_out([8, 8]), Some([16, 16]));
        let g = Geometry {
            kernel: [1, 7],
            stride: [1, 1],
            padding: [0, 3],
        };
        assert_eq!(g.conv_out([17, 17]), Some([17, 17]));
        assert_eq!(Geometry::DOWN4.conv_out([1, 1]), None);
    }

    /// `⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩`, and im2col against the definition, on odd sizes.
    #[test]
    fn col2im_is_the_adjoint_of_im2col() {
        let g = Geometry {
            kernel: [3, 2],
            stride: [2, 1],
            padding: [1, 0],
        };
        let (n, c, hw) = (2, 3, [5, 4]);
        let out = g.conv_out(hw).unwrap();
        let x: Vec<f32> = (0..n * c * 20).map(|i| (i as f32 * 0.7).sin()).collect();
        let mut cols = vec![0.0; c * 6 * n * out[0] * out[1]];
        im2col(&x, c, hw, g, out, &mut cols);
        let width = n * out[0] * out[1];
        for (r, (b, oy, ox)) in [(4, (1, 2, 1)), (0, (0, 0, 0)), (17, (1, 1, 2))] {
            let (ci, ky, kx) = (r / 6, r % 6 / 2, r % 2);
            let (iy, ix) = ((oy * 2 + ky) as isize - 1, (ox + kx) as isize);
            let want = if !(0..5).contains(&iy) || ix >= 4 {
                0.0
            } else {
                x[((b * c + ci) * 5 + iy as usize) * 4 + ix as usize]
            };
            assert_eq!(cols[r * width + (b * out[0] + oy) * out[1] + ox], want);
        }
        let cv: Vec<f32> = (0..cols.len()).map(|i| (i as f32 * 0.3).cos()).collect();
        let mut back = vec![0.0; x.len()];
        for (i, plane) in back.chunks_mut(20).enumerate() {
            col2im_plane(&cv, n, i / c, i % c, hw, g, out, plane);
        }
        let lhs: f64 = cols.iter().zip(&cv).map(|(a, b)| (a * b) as f64).sum();
        let rhs: f64 = x.iter().zip(&back).map(|(a, b)| (a * b) as f64).sum();
        assert!((lhs - rhs).abs() < 1e-4, "{lhs} vs {rhs}");
    }

    /// The 4×4 / stride 2 fast paths against the generic loops (an odd side takes the generic
    /// path, so the comparison runs the generic code on the same values).
    #[test]
    fn down4_fast_paths_match_the_generic_ones() {
        let g = Geometry::DOWN4;
        let (n, c, hw) = (3, 2, [6, 8]);
        let out = g.conv_out(hw).unwrap();
        let x: Vec<f32> = (0..n * c * 48).map(|i| (i as f32 * 0.7).sin()).collect();
        let mut fast = vec![0.0; c * 16 * n * out[0] * out[1]];
        im2col(&x, c, hw, g, out, &mut fast);
        let cv: Vec<f32> = (0..fast.len()).map(|i| (i as f32 * 0.3).cos()).collect();
        let mut back = vec![0.0; x.len()];
        for (i, plane) in back.chunks_mut(48).enumerate() {
            col2im_plane(&cv, n, i / c, i % c, hw, g, out, plane);
        }
        // Generic: the phase-split loops, reached through a stride-2 geometry they share.
        let ph = Phases::new(&g, hw[1]);
        let mut slow = vec![0.0; fast.len()];
        let width = n * out[0] * out[1];
        let mut split = vec![0.0; ph.len(hw[0])];
        for (ci, b) in (0..c).flat_map(|ci| (0..n).map(move |b| (ci, b))) {
            ph.split(
                &x[(b * c + ci) * 48..(b * c + ci + 1) * 48],
                hw[1],
                &mut split,
            );
            for (ky, kx) in (0..4).flat_map(|ky| (0..4).map(move |kx| (ky, kx))) {
                let (q, off) = ph.tap(&g, kx);
                let (ys, xs) = (g.valid(0, ky, hw[0], out[0]), g.valid(1, kx, hw[1], out[1]));
                for oy in ys {
                    for ox in xs.clone() {
                        let iy = oy * 2 + ky - 1;
                        slow[((ci * 4 + ky) * 4 + kx) * width + (b * out[0] + oy) * out[1] + ox] =
                            split[ph.line(iy, q)][(ox as isize + off) as usize];
                    }
                }
            }
        }
        assert_eq!(fast, slow);
        let lhs: f64 = fast.iter().zip(&cv).map(|(a, b)| (a * b) as f64).sum();
        let rhs: f64 = x.iter().zip(&back).map(|(a, b)| (a * b) as f64).sum();
        assert!((lhs - rhs).abs() < 1e-4, "{lhs} vs {rhs}");
    }

    /// Bands of output rows (as the FID network's large first layers take them) against the
    /// definition of the column matrix, at strides 1 and 2, with and without padding.
    #[test]
    fn im2col_bands_match_the_definition() {
        let (n, c, [h, w]) = (2, 3, [9, 7]);
        let x: Vec<f32> = (0..n * c * h * w)
            .map(|i| (i as f32 * 0.37).sin())
            .collect();
        for g in [
            Geometry {
                kernel: [3, 3],
                stride: [1, 1],
                padding: [1, 1],
            },
            Geometry {
                kernel: [3, 3],
                stride: [2, 2],
                padding: [0, 0],
            },
            Geometry {
                kernel: [7, 1],
                stride: [1, 1],
                padding: [3, 0],
            },
            Geometry {
                kernel: [2, 3],
                stride: [2, 2],
                padding: [1, 1],
            },
        ] {
            let [ho, wo] = g.conv_out([h, w]).unwrap();
            let taps = g.kernel[0] * g.kernel[1];
            for band in [0..ho, 0..1, 1..ho.min(3), ho - 1..ho] {
                let width = n * band.len() * wo;
                let mut cols = vec![f32::NAN; c * taps * width];
                im2col_rows(&x, c, [h, w], g, [ho, wo], band.clone(), &mut cols);
                for (r, b, oy, ox) in (0..c * taps).flat_map(|r| {
                    let band = band.clone();
                    (0..n).flat_map(move |b| {
                        band.clone()
                            .flat_map(move |oy| (0..wo).map(move |ox| (r, b, oy, ox)))
                    })
                }) {
                    let (ci, ky, kx) = (r / taps, r % taps / g.kernel[1], r % g.kernel[1]);
                    let iy = (oy * g.stride[0] + ky) as isize - g.padding[0] as isize;
                    let ix = (ox * g.stride[1] + kx) as isize - g.padding[1] as isize;
                    let inside = (0..h as isize).contains(&iy) && (0..w as isize).contains(&ix);
                    let want = if inside {
                        x[((b * c + ci) * h + iy as usize) * w + ix as usize]
                    } else {
                        0.0
                    };
                    let at = r * width + (b * band.len() + oy - band.start) * wo + ox;
                    assert_eq!(
                        cols[at], want,
                        "{g:?} band {band:?}: row {r}, ({b}, {oy}, {ox})"
                    );
                }
            }
        }
    }

    #[test]
    fn permutes_invert_each_other() {
        let src: Vec<f32> = (0..24).map(|i| i as f32).collect(); // [2, 3, 4]
        let mut cm = vec![0.0; 24];
        to_channel_major(&src, 3, 4, &mut cm);
        assert_eq!(&cm[4..8], &src[12..16]); // channel 0, image 1
        let mut back = vec![0.0; 24];
        from_channel_major(&cm, 3, 4, None, false, &mut back);
        assert_eq!(back, src);
        from_channel_major(&cm, 3, 4, Some(&[-10.0, 0.0, 0.0]), true, &mut back);
        assert_eq!(&back[..4], &[0.0; 4]);
        assert_eq!(back[4], 4.0);
    }
}
