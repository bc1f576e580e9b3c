//! The IDX format of MNIST and Fashion-MNIST (raw or gzipped): a big-endian header with a magic
//! number (`0x0000_0803` images, `0x0000_0801` labels), the dimensions, then `u8` values.

use std::io::Read;
use std::path::Path;

use flate2::read::GzDecoder;

use crate::error::{Error, Result};

const IMAGES_MAGIC: u32 = 0x0000_0803;
const LABELS_MAGIC: u32 = 0x0000_0801;

/// Images of an IDX3 file: `count × rows × cols` bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct IdxImages {
    /// Number of images.
    pub count: usize,
    /// Rows per image.
    pub rows: usize,
    /// Columns per image.
    pub cols: usize,
    /// Pixels, image after image.
    pub pixels: Vec<u8>,
}

/// Reads a file, gunzipping it when it starts with the gzip magic.
pub fn read_maybe_gz(path: &Path) -> Result<Vec<u8>> {
    let raw = std::fs::read(path).map_err(|e| Error::io("cannot read", path, e))?;
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        GzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .map_err(|e| {
                Error::bad_file(
                    path,
                    format!("corrupt gzip data ({e}); fetch the file again"),
                )
            })?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

fn header(bytes: &[u8], path: &Path, magic: u32, dims: usize) -> Result<Vec<usize>> {
    let word = |i: usize| -> Option<u32> {
        bytes
            .get(4 * i..4 * i + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    let found = word(0).ok_or_else(|| Error::bad_file(path, "truncated IDX header"))?;
    if found != magic {
        return Err(Error::bad_file(
            path,
            format!(
                "wrong IDX magic 0x{found:08x} (expected 0x{magic:08x}: {}); is this the right file?",
                if magic == IMAGES_MAGIC { "ubyte images" } else { "ubyte labels" }
            ),
        ));
    }
    (1..=dims)
        .map(|i| {
            word(i)
                .map(|v| v as usize)
                .ok_or_else(|| Error::bad_file(path, "truncated IDX header"))
        })
        .collect()
}

fn body(bytes: &[u8], path: &Path, offset: usize, expected: usize) -> Result<Vec<u8>> {
    let data = &bytes[offset..];
    if data.len() != expected {
        return Err(Error::bad_file(
            path,
            format!(
                "the header announces {expected} bytes of data, the file has {} (truncated or corrupt: fetch it again)",
                data.len()
            ),
        ));
    }
    Ok(data.to_vec())
}

/// Reads an IDX3 image file (raw or gzipped).
pub fn read_images(path: &Path) -> Result<IdxImages> {
    let bytes = read_maybe_gz(path)?;
    let dims = header(&bytes, path, IMAGES_MAGIC, 3)?;
    let (count, rows, cols) = (dims[0], dims[1], dims[2]);
    let pixels = body(&bytes, path, 16, count * rows * cols)?;
    Ok(IdxImages {
        count,
        rows,
        cols,
        pixels,
    })
}

/// Reads an IDX1 label file (raw or gzipped).
pub fn read_labels(path: &Path) -> Result<Vec<u8>> {
    let bytes = read_maybe_gz(path)?;
    let dims = header(&bytes, path, LABELS_MAGIC, 1)?;
    body(&bytes, path, 8, dims[0])
}

/// Encodes images as an IDX3 file's bytes (the inverse of [`read_images`]).
pub fn encode_images(images: &IdxImages) -> Vec<u8> {
    let mut out = IMAGES_MAGIC.to_be_bytes().to_vec();
    for d in [images.count, images.rows, images.cols] {
        out.extend((d as u32).to_be_bytes());
    }
    out.extend(&images.pixels);
    out
}

/// Encodes labels as an IDX1 file's bytes (the inverse of [`read_labels`]).
pub fn encode_labels(labels: &[u8]) -> Vec<u8> {
    let mut out = LABELS_MAGIC.to_be_bytes().to_vec();
    out.extend((labels.len() as u32).to_be_bytes());
    out.extend(labels);
    out
}
