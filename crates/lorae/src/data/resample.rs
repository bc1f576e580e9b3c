//! Pillow's bilinear resample, bit for bit: what `torchvision.transforms.Resize` does to the
//! official codes' images (MNIST 28→32, CelebA 148→64), so lorae trains on the same bytes.
//!
//! Each axis is a separable pass with a triangle filter `f(t) = max(0, 1 − |t|)` stretched by
//! the scale when shrinking (`s = max(1, in/out)`): output pixel `o` of an axis of `in` pixels
//! centres at `c = (o + ½)·in/out` and weighs input pixels `i ∈ [⌊c − s + ½⌋, ⌊c + s + ½⌋)` by
//! `f((i − c + ½)/s)`, normalised to sum 1. Pillow then rounds each weight to a fixed-point
//! integer of 22 fractional bits and accumulates `½ + Σ pixel·weight` in integers, clamped to
//! 0..=255: the horizontal pass first, into 8-bit rows, then the vertical pass over those. The
//! 8-bit intermediate is why a float bilinear (the `image` crate's) differs by one grey level
//! in a few percent of MNIST's pixels. `tools/pil_resize.py` writes the expected bytes that
//! the test compares against.

/// Fractional bits of Pillow's fixed-point weights (`PRECISION_BITS = 32 − 8 − 2`).
const PRECISION_BITS: u32 = 22;

/// One axis's taps: output pixel `o` reads `len[o]` inputs from `start[o]` with weights
/// `weights[o·ksize ..]`.
struct Taps {
    start: Vec<usize>,
    len: Vec<usize>,
    ksize: usize,
    weights: Vec<i32>,
}

fn taps(input: usize, output: usize) -> Taps {
    let scale = input as f64 / output as f64;
    let filter_scale = scale.max(1.0);
    let support = filter_scale; // the triangle's support (1) stretched
    let ksize = support.ceil() as usize * 2 + 1;
    let mut taps = Taps {
        start: Vec::with_capacity(output),
        len: Vec::with_capacity(output),
        ksize,
        weights: vec![0; output * ksize],
    };
    let mut w = vec![0f64; ksize];
    for o in 0..output {
        let centre = (o as f64 + 0.5) * scale;
        // Truncation toward zero, as C's cast.
        let lo = ((centre - support + 0.5) as i64).max(0) as usize;
        let hi = ((centre + support + 0.5) as i64).min(input as i64) as usize;
        let n = hi.saturating_sub(lo);
        let mut total = 0.0;
        for (x, wx) in w.iter_mut().enumerate().take(n) {
            let t = (((x + lo) as f64 - centre + 0.5) / filter_scale).abs();
            *wx = if t < 1.0 { 1.0 - t } else { 0.0 };
            total += *wx;
        }
        let row = &mut taps.weights[o * ksize..o * ksize + n];
        for (fixed_w, &wx) in row.iter_mut().zip(&w) {
            let k = if total != 0.0 { wx / total } else { wx };
            let fixed = k * f64::from(1u32 << PRECISION_BITS);
            *fixed_w = if k < 0.0 {
                (fixed - 0.5) as i32
            } else {
                (fixed + 0.5) as i32
            };
        }
        taps.start.push(lo);
        taps.len.push(n);
    }
    taps
}

/// `½ + Σ pixel·weight` rounded down to a byte, clamped (Pillow's `clip8`).
fn accumulate(pixels: impl Iterator<Item = u8>, weights: &[i32]) -> u8 {
    let mut sum: i32 = 1 << (PRECISION_BITS - 1);
    for (p, &k) in pixels.zip(weights) {
        sum += i32::from(p) * k;
    }
    if sum >= (1 << PRECISION_BITS << 8) {
        255
    } else if sum <= 0 {
        0
    } else {
        (sum >> PRECISION_BITS) as u8
    }
}

/// Resizes an interleaved `[height, width, channels]` byte image to `[out_h, out_w, channels]`
/// as Pillow's `Image.resize((out_w, out_h), Image.BILINEAR)` does; empty when a side is zero.
pub fn bilinear(
    src: &[u8],
    (width, height): (usize, usize),
    channels: usize,
    (out_w, out_h): (usize, usize),
) -> Vec<u8> {
    debug_assert_eq!(src.len(), width * height * channels);
    if width == 0 || height == 0 || out_w == 0 || out_h == 0 {
        return Vec::new();
    }
    let c = channels;
    let rows = if out_w != width {
        let t = taps(width, out_w);
        let mut rows = vec![0u8; height * out_w * c]; // [height, out_w, c]
        for y in 0..height {
            let row = &src[y * width * c..(y + 1) * width * c];
            for o in 0..out_w {
                let k = &t.weights[o * t.ksize..o * t.ksize + t.len[o]];
                for ch in 0..c {
                    let px = (t.start[o]..t.start[o] + t.len[o]).map(|x| row[x * c + ch]);
                    rows[(y * out_w + o) * c + ch] = accumulate(px, k);
                }
            }
        }
        rows
    } else {
        src.to_vec()
    };
    if out_h == height {
        return rows;
    }
    let t = taps(height, out_h);
    let stride = out_w * c;
    let mut out = vec![0u8; out_h * stride]; // [out_h, out_w, c]
    for o in 0..out_h {
        let k = &t.weights[o * t.ksize..o * t.ksize + t.len[o]];
        for i in 0..stride {
            let px = (t.start[o]..t.start[o] + t.len[o]).map(|y| rows[y * stride + i]);
            out[o * stride + i] = accumulate(px, k);
        }
    }
    out
}
