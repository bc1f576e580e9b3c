//! NumPy `.npy` arrays (format 1.0/2.0, little-endian `<f4`/`<f8`, C order): codes and statistics
//! exchanged with the Python peers in `tools/`.

use std::path::Path;

use crate::error::{Error, Result};
use crate::io::atomic::write_atomic;

const MAGIC: &[u8] = b"\x93NUMPY";

/// An array read from a `.npy` file, values widened to f64.
#[derive(Debug, Clone, PartialEq)]
pub struct Array {
    /// Row-major values.
    pub values: Vec<f64>,
    /// Dimensions.
    pub shape: Vec<usize>,
}

/// Writes `values` (row-major, `shape`) as a float32 `.npy` file, atomically.
pub fn write_f32(path: &Path, values: &[f32], shape: &[usize]) -> Result<()> {
    let mut bytes = header("<f4", shape, values.len())?;
    values.iter().for_each(|v| bytes.extend(v.to_le_bytes()));
    write_atomic(path, &bytes)
}

/// Writes `values` (row-major, `shape`) as a float64 `.npy` file, atomically.
pub fn write_f64(path: &Path, values: &[f64], shape: &[usize]) -> Result<()> {
    write_atomic(path, &encode_f64(values, shape)?)
}

/// The bytes of a float64 `.npy` file holding `values` (row-major, `shape`).
pub fn encode_f64(values: &[f64], shape: &[usize]) -> Result<Vec<u8>> {
    let mut bytes = header("<f8", shape, values.len())?;
    values.iter().for_each(|v| bytes.extend(v.to_le_bytes()));
    Ok(bytes)
}

fn header(descr: &str, shape: &[usize], len: usize) -> Result<Vec<u8>> {
    if shape.iter().product::<usize>() != len {
        return Err(Error::invalid(
            "shape",
            format!("{shape:?}"),
            format!("does not hold {len} values"),
        ));
    }
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let tuple = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    let mut text = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {tuple}, }}");
    // Pad with spaces so that the data starts on a 64-byte boundary; end with a newline.
    while !(MAGIC.len() + 4 + text.len() + 1).is_multiple_of(64) {
        text.push(' ');
    }
    text.push('\n');
    let mut bytes = MAGIC.to_vec();
    bytes.extend([1, 0]);
    bytes.extend((text.len() as u16).to_le_bytes());
    bytes.extend(text.as_bytes());
    Ok(bytes)
}

/// Reads a little-endian float32 or float64 C-order `.npy` file.
pub fn read(path: &Path) -> Result<Array> {
    let bytes = crate::io::atomic::read(path)?;
    parse(&bytes, path)
}

/// Parses the bytes of a `.npy` file; `path` names it in errors (a file, or `archive.npz/name.npy`).
pub fn parse(bytes: &[u8], path: &Path) -> Result<Array> {
    let bad = |reason: String| Error::bad_file(path, reason);
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        return Err(bad("not a .npy file (no \\x93NUMPY magic)".into()));
    }
    let (header_len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        v => return Err(bad(format!("unsupported .npy format version {v}"))),
    };
    let text = bytes
        .get(start..start + header_len)
        .and_then(|h| std::str::from_utf8(h).ok())
        .ok_or_else(|| bad("truncated or non-text .npy header".into()))?;
    let field = |key: &str| -> Option<&str> {
        let at = text.find(&format!("'{key}'"))? + key.len() + 2;
        Some(text[at..].trim_start().strip_prefix(':')?.trim_start())
    };
    let width = match field("descr") {
        Some(d) if d.starts_with("'<f4'") => 4,
        Some(d) if d.starts_with("'<f8'") => 8,
        other => {
            return Err(bad(format!(
                "dtype {other:?} is not supported: save little-endian float32 or float64"
            )))
        }
    };
    if field("fortran_order").is_some_and(|f| f.starts_with("True")) {
        return Err(bad(
            "Fortran-order arrays are not supported: save with np.ascontiguousarray".into(),
        ));
    }
    let shape_text = field("shape")
        .and_then(|s| s.strip_prefix('('))
        .and_then(|s| s.split(')').next())
        .ok_or_else(|| bad("no shape in the .npy header".into()))?;
    let shape = shape_text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<usize>())
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| bad(format!("bad shape `({shape_text})`: {e}")))?;
    let needed = crate::limits::product(&shape).saturating_mul(width as u128);
    let data = &bytes[start + header_len..];
    if data.len() as u128 != needed {
        return Err(bad(format!(
            "shape {shape:?} needs {needed} data bytes, the file has {}",
            data.len()
        )));
    }
    let values = if width == 4 {
        data.chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64)
            .collect()
    } else {
        data.chunks_exact(8)
            .map(|b| f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
            .collect()
    };
    Ok(Array { values, shape })
}
