//! PNG grids of images (N×C×H×W floats in a pixel range), with a 2-pixel gap between cells.

use std::path::Path;

use image::{Rgb, RgbImage};

use crate::config::PixelRange;
use crate::data::unscale_pixel;
use crate::error::{Error, Result};

const GAP: u32 = 2;

/// Arranges `values` (`[n, C, H, W]`, C = 1 or 3) in `rows × cols` cells (row-major) and writes a PNG.
pub fn save_grid(
    values: &[f32],
    shape: [usize; 3],
    rows: usize,
    cols: usize,
    range: PixelRange,
    path: &Path,
) -> Result<()> {
    let [c, h, w] = shape;
    let len = c * h * w;
    if c != 1 && c != 3 {
        return Err(Error::Unsupported(format!(
            "cannot draw images with {c} channels"
        )));
    }
    let n = values.len() / len;
    let (cw, ch) = (w as u32 + GAP, h as u32 + GAP);
    let mut img = RgbImage::from_pixel(
        cols as u32 * cw + GAP,
        rows as u32 * ch + GAP,
        Rgb([255, 255, 255]),
    );
    for i in 0..n.min(rows * cols) {
        let image = &values[i * len..(i + 1) * len];
        let (x0, y0) = (GAP + (i % cols) as u32 * cw, GAP + (i / cols) as u32 * ch);
        for y in 0..h {
            for x in 0..w {
                let px = |ch: usize| unscale_pixel(image[ch * h * w + y * w + x], range);
                let rgb = if c == 1 {
                    [px(0); 3]
                } else {
                    [px(0), px(1), px(2)]
                };
                img.put_pixel(x0 + x as u32, y0 + y as u32, Rgb(rgb));
            }
        }
    }
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::io("cannot create directory", dir, e))?;
    }
    img.save(path)
        .map_err(|e| Error::bad_file(path, format!("cannot write PNG: {e}")))
}

/// Writes each image of `values` (`[n, C, H, W]`) to `dir/000000.png`, `dir/000001.png`, ...
pub fn save_each(
    values: &[f32],
    shape: [usize; 3],
    range: PixelRange,
    dir: &Path,
) -> Result<usize> {
    let [c, h, w] = shape;
    let len = c * h * w;
    std::fs::create_dir_all(dir).map_err(|e| Error::io("cannot create directory", dir, e))?;
    for (i, image) in values.chunks_exact(len).enumerate() {
        let mut img = RgbImage::new(w as u32, h as u32);
        for y in 0..h {
            for x in 0..w {
                let px = |ch: usize| unscale_pixel(image[ch * h * w + y * w + x], range);
                let rgb = if c == 1 {
                    [px(0); 3]
                } else {
                    [px(0), px(1), px(2)]
                };
                img.put_pixel(x as u32, y as u32, Rgb(rgb));
            }
        }
        let path = dir.join(format!("{i:06}.png"));
        img.save(&path)
            .map_err(|e| Error::bad_file(&path, format!("cannot write PNG: {e}")))?;
    }
    Ok(values.len() / len)
}
