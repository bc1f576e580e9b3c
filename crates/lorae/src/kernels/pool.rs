//! 3×3 max and average pooling of NCHW `f32` planes, the pools of FID Inception (inference only).
//!
//! Each output row first combines its (up to three) input rows element by element into one row,
//! a loop the compiler vectorises, then combines three neighbours of that row per output pixel.
//! Padding never enters a window: the max is over the pixels inside the image (PyTorch pads max
//! pools with −∞) and the average divides by their count (`count_include_pad=False`). A NaN is
//! dropped by the max (`f32::max`), where PyTorch's would keep it: the network's inputs are bytes
//! and its weights finite, and its fused ReLU (`max(0)`) drops NaN the same way before any pool. burn's
//! pools on flex visit the nine taps of every output pixel with scalar code: 25% of the FID
//! network's time in `perf record` of `lorae bench fid`.

use rayon::prelude::*;

/// What a window computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pool3 {
    /// The largest pixel inside the image.
    Max,
    /// The mean of the pixels inside the image.
    AvgExcludePad,
}

/// Output side of a 3-wide window at `stride` over `side + 2·padding` pixels; `None` when the
/// window does not fit or the padding is as wide as the window (a window of padding alone).
pub fn out_side(side: usize, stride: usize, padding: usize) -> Option<usize> {
    if stride == 0 || padding >= 3 {
        return None;
    }
    Some((side + 2 * padding).checked_sub(3)? / stride + 1)
}

/// The outputs `ox` (of `wo`) whose 3-wide window at `stride` lies wholly inside a row of `n`:
/// `padding ≤ ox·stride` and `ox·stride + 3 ≤ n + padding`.
fn interior(n: usize, wo: usize, stride: usize, padding: usize) -> std::ops::Range<usize> {
    let lo = padding.div_ceil(stride).min(wo);
    let hi = match (n + padding).checked_sub(3) {
        Some(last) => (last / stride + 1).min(wo),
        None => 0,
    };
    lo..hi.max(lo)
}

/// Pools every `[h, w]` plane of `x` (`planes · h · w` values): `[planes, h', w']` and `[h', w']`.
pub fn pool3x3(
    x: &[f32],
    [h, w]: [usize; 2],
    stride: usize,
    padding: usize,
    kind: Pool3,
) -> Option<(Vec<f32>, [usize; 2])> {
    let (ho, wo) = (out_side(h, stride, padding)?, out_side(w, stride, padding)?);
    let plane = h * w;
    if plane == 0 || !x.len().is_multiple_of(plane) {
        return None;
    }
    let mut y = vec![0.0; x.len() / plane * ho * wo];
    pool3x3_into(x, [h, w], stride, padding, kind, &mut y)?;
    Some((y, [ho, wo]))
}

/// [`pool3x3`] into `y` (`planes · h' · w'` values, every one overwritten): `[h', w']`, or `None`
/// when the window does not fit or `x` and `y` hold different numbers of planes.
pub fn pool3x3_into(
    x: &[f32],
    [h, w]: [usize; 2],
    stride: usize,
    padding: usize,
    kind: Pool3,
    y: &mut [f32],
) -> Option<[usize; 2]> {
    let (ho, wo) = (out_side(h, stride, padding)?, out_side(w, stride, padding)?);
    let plane = h * w;
    if plane == 0 || !x.len().is_multiple_of(plane) || y.len() != x.len() / plane * ho * wo {
        return None;
    }
    // Input index range of the window starting at output index `o` along a side of `n`.
    let window = move |o: usize, n: usize| {
        let start = (o * stride).saturating_sub(padding);
        let end = (o * stride + 3 - padding).min(n);
        start..end
    };
    let planes_per_task = (16_384 / (ho * wo).max(1)).max(1);
    y.par_chunks_mut(ho * wo * planes_per_task)
        .zip(x.par_chunks(plane * planes_per_task))
        .for_each(|(yc, xc)| {
            let mut row = vec![0.0f32; w];
            let mut gathered: [Vec<f32>; 3] = Default::default();
            for (yp, xp) in yc.chunks_mut(ho * wo).zip(xc.chunks(plane)) {
                for oy in 0..ho {
                    let rows = window(oy, h);
                    let n_rows = rows.len() as f32;
                    row.copy_from_slice(&xp[rows.start * w..(rows.start + 1) * w]);
                    for r in rows.start + 1..rows.end {
                        let src = &xp[r * w..(r + 1) * w];
                        match kind {
                            Pool3::Max => row.iter_mut().zip(src).for_each(|(a, b)| *a = a.max(*b)),
                            Pool3::AvgExcludePad => {
                                row.iter_mut().zip(src).for_each(|(a, b)| *a += b)
                            }
                        }
                    }
                    let out = &mut yp[oy * wo..(oy + 1) * wo];
                    // Windows wholly inside the row, three taps each, in vectorised passes.
                    let inner = interior(w, wo, stride, padding);
                    let taps: [&[f32]; 3] = if stride == 1 {
                        let at =
                            |k: usize| &row[inner.start + k - padding..inner.end + k - padding];
                        [at(0), at(1), at(2)]
                    } else {
                        for (k, t) in gathered.iter_mut().enumerate() {
                            t.clear();
                            t.extend(inner.clone().map(|ox| row[ox * stride + k - padding]));
                        }
                        [&gathered[0], &gathered[1], &gathered[2]]
                    };
                    let dst = out[inner.clone()].iter_mut().zip(taps[0]).zip(taps[1]);
                    match kind {
                        Pool3::Max => dst
                            .zip(taps[2])
                            .for_each(|(((o, a), b), c)| *o = a.max(*b).max(*c)),
                        Pool3::AvgExcludePad => {
                            let count = n_rows * 3.0;
                            dst.zip(taps[2])
                                .for_each(|(((o, a), b), c)| *o = (a + b + c) / count)
                        }
                    }
                    // The windows that the padding or the row's end cuts short.
                    for ox in (0..inner.start).chain(inner.end..wo) {
                        let taps = &row[window(ox, w)];
                        out[ox] = match kind {
                            Pool3::Max => taps.iter().fold(f32::NEG_INFINITY, |a, b| a.max(*b)),
                            Pool3::AvgExcludePad => {
                                taps.iter().sum::<f32>() / (n_rows * taps.len() as f32)
                            }
                        };
                    }
                }
            }
        });
    Some([ho, wo])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition: every tap of every window, padding skipped.
    fn naive(x: &[f32], [h, w]: [usize; 2], s: usize, p: usize, kind: Pool3) -> Vec<f32> {
        let (ho, wo) = (out_side(h, s, p).unwrap(), out_side(w, s, p).unwrap());
        let mut y = Vec::new();
        for plane in x.chunks(h * w) {
            for oy in 0..ho {
                for ox in 0..wo {
                    let mut taps = Vec::new();
                    for ky in 0..3 {
                        for kx in 0..3 {
                            let (iy, ix) = (
                                (oy * s + ky) as isize - p as isize,
                                (ox * s + kx) as isize - p as isize,
                            );
                            if (0..h as isize).contains(&iy) && (0..w as isize).contains(&ix) {
                                taps.push(plane[iy as usize * w + ix as usize]);
                            }
                        }
                    }
                    y.push(match kind {
                        Pool3::Max => taps.iter().cloned().fold(f32::NEG_INFINITY, f32::max),
                        Pool3::AvgExcludePad => taps.iter().sum::<f32>() / taps.len() as f32,
                    });
                }
            }
        }
        y
    }

    #[test]
    fn pools_match_the_definition() {
        // Inception's pools (3×3/1 padded 1, 3×3/2 unpadded) on odd and even sides, many planes.
        for (hw, s, p) in [
            ([7, 5], 1, 1),
            ([8, 8], 1, 1),
            ([9, 6], 2, 0),
            ([10, 11], 2, 0),
            ([3, 3], 1, 0),
            ([2, 2], 1, 1),
            ([12, 41], 1, 1),
            ([13, 40], 2, 0),
            ([13, 40], 2, 1),
            ([6, 33], 3, 2),
        ] {
            for kind in [Pool3::Max, Pool3::AvgExcludePad] {
                let planes = 37;
                let x: Vec<f32> = (0..planes * hw[0] * hw[1])
                    .map(|i| ((i as f32) * 0.71).sin())
                    .collect();
                let (got, out_hw) = pool3x3(&x, hw, s, p, kind).unwrap();
                let want = naive(&x, hw, s, p, kind);
                assert_eq!(got.len(), planes * out_hw[0] * out_hw[1]);
                assert_eq!(got.len(), want.len());
                for (g, w) in got.iter().zip(&want) {
                    // The max is exact; the average adds rows first, then columns.
                    let tolerance = if kind == Pool3::Max { 0.0 } else { 1e-6 };
                    assert!(
                        (g - w).abs() <= tolerance,
                        "{hw:?} /{s} pad {p} {kind:?}: {g} vs {w}"
                    );
                }
            }
        }
    }

    #[test]
    fn windows_that_do_not_fit_are_refused() {
        assert_eq!(out_side(2, 1, 0), None);
        assert_eq!(out_side(2, 1, 1), Some(2));
        assert_eq!(out_side(5, 0, 0), None);
        assert_eq!(out_side(5, 1, 3), None);
        assert!(
            pool3x3(&[0.0; 5], [2, 2], 1, 1, Pool3::Max).is_none(),
            "not whole planes"
        );
    }
}
