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

/// `cols` `[C·kh·kw, n·Ho·Wo]` from `x` `[n, C, H, W]`; `out` is `[Ho, Wo]`.
pub fn im2col(x: &[f32], c: usize, hw: [usize; 2], g: Geometry, out: [usize; 2], cols: &mut [f32]) {
    let ([h, w], [ho, wo]) = (hw, out);
    let (plane, oplane) = (h * w, ho * wo);
    let n = x.len() / (c * plane).max(1);
    let width = n * oplane;
    assert_eq!(
        cols.len(),
        c * g.taps() * width,
        "im2col buffer of the wrong length"
    );
    for (r, row) in cols.chunks_mut(width.max(1)).enumerate() {
        let (ci, ky, kx) = (r / g.taps(), r % g.taps() / g.kernel[1], r % g.kernel[1]);
        let (ys, xs) = (g.valid(0, ky, h, ho), g.valid(1, kx, w, wo));
        for (b, dst) in row.chunks_mut(oplane.max(1)).enumerate() {
            let src = &x[(b * c + ci) * plane..(b * c + ci + 1) * plane];
            dst.fill(0.0);
            for oy in ys.clone() {
                let iy = oy * g.stride[0] + ky - g.padding[0];
                let line = &src[iy * w..(iy + 1) * w];
                let dline = &mut dst[oy * wo..(oy + 1) * wo];
                for ox in xs.clone() {
                    dline[ox] = line[ox * g.stride[1] + kx - g.padding[1]];
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
    for ky in 0..g.kernel[0] {
        let ys = g.valid(0, ky, h, ho);
        for kx in 0..g.kernel[1] {
            let xs = g.valid(1, kx, w, wo);
            let r = (ci * g.kernel[0] + ky) * g.kernel[1] + kx;
            let src = &cols[r * width + b * oplane..r * width + (b + 1) * oplane];
            for oy in ys.clone() {
                let iy = oy * g.stride[0] + ky - g.padding[0];
                let line = &mut plane[iy * w..(iy + 1) * w];
                let sline = &src[oy * wo..(oy + 1) * wo];
                for ox in xs.clone() {
                    line[ox * g.stride[1] + kx - g.padding[1]] += sline[ox];
                }
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
