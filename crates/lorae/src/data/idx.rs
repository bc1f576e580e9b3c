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

/// The file at `path` as a stream, inflated when it starts with the gzip magic.
fn open_maybe_gz(path: &Path) -> Result<Box<dyn Read>> {
    crate::io::atomic::require_regular(path)?;
    let mut file = std::fs::File::open(path).map_err(|e| Error::io("cannot read", path, e))?;
    let mut magic = [0u8; 2];
    let got = read_up_to(&mut file, &mut magic).map_err(|e| Error::io("cannot read", path, e))?;
    let head = std::io::Cursor::new(magic[..got].to_vec());
    Ok(if magic[..got] == [0x1f, 0x8b] {
        Box::new(GzDecoder::new(head.chain(file)))
    } else {
        Box::new(head.chain(file))
    })
}

fn corrupt(path: &Path, e: std::io::Error) -> Error {
    Error::bad_file(
        path,
        format!("corrupt gzip data ({e}); fetch the file again"),
    )
}

/// Reads a file, gunzipping it when it starts with the gzip magic. At most `limit` bytes are
/// inflated, so a gzip bomb stops at the bound instead of filling memory.
pub fn read_maybe_gz(path: &Path, limit: u64) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    open_maybe_gz(path)?
        .take(limit.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| corrupt(path, e))?;
    if out.len() as u64 > limit {
        return Err(Error::bad_file(
            path,
            format!(
                "holds more than the {limit} bytes its header announces (a corrupt or foreign file, or a gzip bomb); fetch it again"
            ),
        ));
    }
    Ok(out)
}

fn read_up_to(file: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match file.read(&mut buf[got..])? {
            0 => break,
            n => got += n,
        }
    }
    Ok(got)
}

/// The header (`dims` words after the magic) of the IDX file at `path`, inflating no more.
fn read_header(path: &Path, magic: u32, dims: usize) -> Result<Vec<usize>> {
    let mut bytes = vec![0u8; 4 * (dims + 1)];
    let got = read_up_to(&mut open_maybe_gz(path)?, &mut bytes).map_err(|e| corrupt(path, e))?;
    bytes.truncate(got);
    header(&bytes, path, magic, dims)
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

/// The data after a header of `offset` bytes, which must be exactly `expected` bytes (checked
/// against the memory bound before anything is inflated).
fn body(path: &Path, offset: usize, expected: u128) -> Result<Vec<u8>> {
    let (bound, source) = crate::limits::memory_bound()?;
    if expected > bound as u128 {
        return Err(Error::bad_file(
            path,
            format!(
                "the header announces {} of data, more than the {} ({source}): a corrupt file; fetch it again",
                crate::limits::human(expected),
                crate::limits::human(bound as u128)
            ),
        ));
    }
    let expected = expected as usize;
    let bytes = read_maybe_gz(path, (offset + expected) as u64)?;
    let data = &bytes[offset.min(bytes.len())..];
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
    let dims = read_header(path, IMAGES_MAGIC, 3)?;
    let (count, rows, cols) = (dims[0], dims[1], dims[2]);
    if rows == 0 || cols == 0 {
        return Err(Error::bad_file(
            path,
            format!("the header announces images of {rows}×{cols} pixels: a corrupt file; fetch it again"),
        ));
    }
    let pixels = body(path, 16, crate::limits::product(&[count, rows, cols]))?;
    Ok(IdxImages {
        count,
        rows,
        cols,
        pixels,
    })
}

/// Reads an IDX1 label file (raw or gzipped).
pub fn read_labels(path: &Path) -> Result<Vec<u8>> {
    let dims = read_header(path, LABELS_MAGIC, 1)?;
    body(path, 8, dims[0] as u128)
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
