//! One decode/crop/resize path for every image file (PNG, JPEG) and raw pixel buffer, through the
//! `image` crate: optional centre crop to a square, bilinear resize, channel-major `u8` output.

use std::path::Path;

use image::imageops::{self, FilterType};
use image::{DynamicImage, GrayImage, RgbImage};

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

/// Decodes the image file at `path` and brings it to `resize`, `[C, size, size]` bytes.
pub fn load(path: &Path, resize: Resize) -> Result<Vec<u8>> {
    // The format comes from the bytes, not the name (a JPEG saved as `.png` still loads);
    // the `image` crate's default limits refuse decodes above 512 MiB.
    let img = image::ImageReader::open(path)
        .and_then(|r| r.with_guessed_format())
        .map_err(|e| Error::io("cannot read", path, e))?
        .decode()
        .map_err(|e| {
            Error::bad_file(
                path,
                format!("cannot decode image ({e}); remove the file or convert it to PNG/JPEG"),
            )
        })?;
    transform(img, resize).map_err(|reason| Error::bad_file(path, reason))
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
    let n = resize.size;
    match resize.channels {
        1 => {
            let grey = img.to_luma8();
            Ok(resized(&grey, n).into_raw())
        }
        3 => {
            let rgb: RgbImage = resized(&img.to_rgb8(), n);
            let plane = (n * n) as usize;
            let mut chw = vec![0u8; 3 * plane];
            for (i, p) in rgb.pixels().enumerate() {
                for c in 0..3 {
                    chw[c * plane + i] = p.0[c];
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
    let img = GrayImage::from_raw(side, side, pixels.to_vec()).ok_or_else(|| {
        Error::invalid(
            "image",
            format!("{} pixels", pixels.len()),
            format!("a {side}×{side} grey image needs {} pixels", side * side),
        )
    })?;
    Ok(resized(&img, size).into_raw())
}

fn resized<P: image::Pixel<Subpixel = u8> + 'static>(
    img: &image::ImageBuffer<P, Vec<u8>>,
    size: u32,
) -> image::ImageBuffer<P, Vec<u8>> {
    if img.width() == size && img.height() == size {
        img.clone()
    } else {
        imageops::resize(img, size, size, FilterType::Triangle)
    }
}
