//! PNG output of images given as N×C×H×W floats in a pixel range: grids with a 2-pixel white gap
//! between cells, or one file per image.

use std::path::Path;

use image::{Rgb, RgbImage};

use crate::config::PixelRange;
use crate::data::{unscale_pixel, ImageSet};
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
    let grid = grid_image(values, shape, rows, cols, range)?;
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::io("cannot create directory", dir, e))?;
    }
    save_png(&grid, path)
}

/// [`save_grid`]'s PNG as bytes (what `lorae explore` serves).
pub fn grid_png(
    values: &[f32],
    shape: [usize; 3],
    rows: usize,
    cols: usize,
    range: PixelRange,
) -> Result<Vec<u8>> {
    let grid = grid_image(values, shape, rows, cols, range)?;
    let mut bytes = std::io::Cursor::new(Vec::new());
    grid.write_to(&mut bytes, image::ImageFormat::Png)
        .map_err(|e| Error::Serialize(format!("a PNG in memory: {e}")))?;
    Ok(bytes.into_inner())
}

/// The images in `rows × cols` cells with a white gap between them.
fn grid_image(
    values: &[f32],
    shape: [usize; 3],
    rows: usize,
    cols: usize,
    range: PixelRange,
) -> Result<RgbImage> {
    let len = image_len(shape)?;
    let [_, h, w] = shape;
    let (cw, ch) = (w as u32 + GAP, h as u32 + GAP);
    let white = Rgb([255, 255, 255]);
    let mut grid = RgbImage::from_pixel(cols as u32 * cw + GAP, rows as u32 * ch + GAP, white);
    for (i, image) in values.chunks_exact(len).take(rows * cols).enumerate() {
        let (x0, y0) = (GAP + (i % cols) as u32 * cw, GAP + (i / cols) as u32 * ch);
        image::imageops::replace(
            &mut grid,
            &to_rgb(image, shape, range),
            x0 as i64,
            y0 as i64,
        );
    }
    Ok(grid)
}

/// Writes each image of `values` (`[n, C, H, W]`) to `dir/000000.png`, `dir/000001.png`, ...
/// Returns the number of files written.
pub fn save_each(
    values: &[f32],
    shape: [usize; 3],
    range: PixelRange,
    dir: &Path,
) -> Result<usize> {
    let len = image_len(shape)?;
    std::fs::create_dir_all(dir).map_err(|e| Error::io("cannot create directory", dir, e))?;
    let mut count = 0;
    for (i, image) in values.chunks_exact(len).enumerate() {
        save_png(
            &to_rgb(image, shape, range),
            &dir.join(format!("{i:06}.png")),
        )?;
        count += 1;
    }
    Ok(count)
}

/// Writes each image of `set` to `dir/000000.png`, ... as 8-bit RGB (grey images on three equal
/// channels), losslessly: reading the folder back gives the set's pixels. Returns the count.
/// `dir` must be new or empty; each file is written atomically, and a failed write is an error
/// naming it.
pub fn save_set(set: &ImageSet, dir: &Path) -> Result<usize> {
    let len = image_len(set.shape)?;
    if std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some()) {
        return Err(Error::invalid(
            "out",
            dir.display(),
            "is not empty: export into a new or empty folder (a folder mixing these images with others would be read whole by `fid`)",
        ));
    }
    let [c, h, w] = set.shape;
    std::fs::create_dir_all(dir).map_err(|e| Error::io("cannot create directory", dir, e))?;
    for (i, image) in set.pixels.chunks_exact(len).enumerate() {
        let img = RgbImage::from_fn(w as u32, h as u32, |x, y| {
            let at = |ch: usize| image[ch * h * w + y as usize * w + x as usize];
            Rgb(if c == 1 {
                [at(0); 3]
            } else {
                [at(0), at(1), at(2)]
            })
        });
        save_png(&img, &dir.join(format!("{i:06}.png")))?;
    }
    Ok(set.len())
}

fn image_len([c, h, w]: [usize; 3]) -> Result<usize> {
    if c != 1 && c != 3 {
        return Err(Error::Unsupported(format!(
            "cannot draw images with {c} channels"
        )));
    }
    Ok(c * h * w)
}

fn save_png(img: &RgbImage, path: &Path) -> Result<()> {
    write_png(img, path)
}

/// Encodes `img` as a PNG in memory and writes it in one atomic write: a failed write (a full
/// disk) is an error naming the file, and a previous file at `path` stays as it was.
pub fn write_png(img: &RgbImage, path: &Path) -> Result<()> {
    if path.is_dir() {
        return Err(Error::bad_file(
            path,
            "is a directory: give a file name ending in .png",
        ));
    }
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::io("cannot create directory", dir, e))?;
    }
    let mut bytes = std::io::Cursor::new(Vec::new());
    img.write_to(&mut bytes, image::ImageFormat::Png)
        .map_err(|e| Error::bad_file(path, format!("cannot encode PNG: {e}")))?;
    crate::io::atomic::write_atomic(path, &bytes.into_inner())
}

/// One channel-major image (1 or 3 channels) as RGB pixels.
fn to_rgb(image: &[f32], [c, h, w]: [usize; 3], range: PixelRange) -> RgbImage {
    RgbImage::from_fn(w as u32, h as u32, |x, y| {
        let at = |ch: usize| unscale_pixel(image[ch * h * w + y as usize * w + x as usize], range);
        Rgb(if c == 1 {
            [at(0); 3]
        } else {
            [at(0), at(1), at(2)]
        })
    })
}
