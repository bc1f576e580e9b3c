//! One decode/crop/resize path for every image file (PNG, JPEG) and raw pixel buffer: decoded by
//! the `image` crate, optional centre crop to a square, Pillow's bilinear resize
//! ([`super::resample`], the bytes torchvision gives the official codes), channel-major `u8`
//! output.

use std::path::Path;

use image::DynamicImage;

use super::resample;

use crate::error::{Error, Result};

/// How an image is brought to the model's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resize {
    /// Centre crop to this square side first (`None`: crop the largest centred square).
    pub crop: Option<u32>,
    /// Output side after a bilinear resize.
    pub size: u32,
    /// Output channels: 1 (grey) or 3 (RGB).
    pub channels: usize,
}

/// Largest width or height decoded (lorae's networks take 32 or 64 pixels a side).
pub const MAX_SIDE: u32 = 8192;
/// Largest decoded size of one image in bytes (the image crate's allocation limit).
pub const MAX_DECODE_BYTES: u64 = 256 << 20;

/// Decodes the image file at `path` and brings it to `resize`, `[C, size, size]` bytes.
pub fn load(path: &Path, resize: Resize) -> Result<Vec<u8>> {
    let img = decode(path)?;
    transform(img, resize).map_err(|reason| Error::bad_file(path, reason))
}

/// Decodes the image file at `path`, a regular file: the format comes from the bytes, not the
/// name (a JPEG saved as `.png` still loads), and the header's size is checked before anything
/// is decoded: at most [`MAX_SIDE`] a side and [`MAX_DECODE_BYTES`] decoded (a 10 000² PNG is
/// refused before it takes 300 MB).
pub fn decode(path: &Path) -> Result<DynamicImage> {
    crate::io::atomic::require_regular(path)?;
    let mut reader = image::ImageReader::open(path)
        .and_then(|r| r.with_guessed_format())
        .map_err(|e| Error::io("cannot read", path, e))?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    reader.decode().map_err(|e| {
        Error::bad_file(
            path,
            format!("cannot decode image ({e}); remove the file, convert it to PNG/JPEG, or downscale it (at most {MAX_SIDE} pixels a side)"),
        )
    })
}

/// Brings a decoded image to `resize`, `[C, size, size]` bytes.
pub fn transform(img: DynamicImage, resize: Resize) -> std::result::Result<Vec<u8>, String> {
    let (w, h) = (img.width(), img.height());
    let side = match resize.crop {
        Some(c) if c > w || c > h => {
            return Err(format!(
                "image is {w}×{h}, smaller than the {c}×{c} centre crop"
            ))
        }
        Some(c) => c,
        None => w.min(h),
    };
    if side == 0 {
        return Err("image is empty".into());
    }
    let img = img.crop_imm((w - side) / 2, (h - side) / 2, side, side);
    let n = resize.size as usize;
    let side = side as usize;
    match resize.channels {
        1 => Ok(resized(&img.to_luma8().into_raw(), side, 1, n)),
        3 => {
            let rgb = resized(&img.to_rgb8().into_raw(), side, 3, n); // [n, n, 3]
            let plane = n * n;
            let mut chw = vec![0u8; 3 * plane]; // [3, n, n]
            for (i, p) in rgb.chunks_exact(3).enumerate() {
                for c in 0..3 {
                    chw[c * plane + i] = p[c];
                }
            }
            Ok(chw)
        }
        c => Err(format!("cannot produce {c}-channel images (1 or 3)")),
    }
}

/// Bilinear resize of a grey `side × side` buffer (e.g. an MNIST digit) to `size × size`; an
/// error when the buffer does not hold `side²` pixels.
pub fn resize_grey(pixels: &[u8], side: u32, size: u32) -> Result<Vec<u8>> {
    let side = side as usize;
    if side == 0 || pixels.len() != side * side {
        return Err(Error::invalid(
            "image",
            format!("{} pixels", pixels.len()),
            format!("a {side}×{side} grey image needs {} pixels", side * side),
        ));
    }
    Ok(resized(pixels, side, 1, size as usize))
}

/// `[side, side, channels]` bytes to `[size, size, channels]`.
fn resized(pixels: &[u8], side: usize, channels: usize, size: usize) -> Vec<u8> {
    resample::bilinear(pixels, (side, side), channels, (size, size))
}
