//! NumPy `.npz` archives (a zip of `.npy` files): FID statistics in pytorch-fid's layout
//! (`mu`, `sigma`). Reads stored and deflated (`np.savez_compressed`) members; writes stored ones.

use std::io::{Read, Write};
use std::path::Path;

use zip::write::FileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use crate::error::{Error, Result};
use crate::io::atomic::write_atomic;
use crate::io::npy::{self, Array};

/// Writes named float64 arrays `(name, row-major values, shape)` as an `.npz` archive, atomically.
pub fn write(path: &Path, arrays: &[(&str, &[f64], &[usize])]) -> Result<()> {
    let mut zip = ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = FileOptions::default().compression_method(CompressionMethod::Stored);
    let zip_err =
        |e: zip::result::ZipError| Error::bad_file(path, format!("cannot write the archive: {e}"));
    for (name, values, shape) in arrays {
        let bytes = npy::encode_f64(values, shape)?;
        zip.start_file(format!("{name}.npy"), options)
            .map_err(zip_err)?;
        zip.write_all(&bytes)
            .map_err(|e| Error::io("cannot write", path, e))?;
    }
    let bytes = zip.finish().map_err(zip_err)?.into_inner();
    write_atomic(path, &bytes)
}

/// Reads every float32/float64 array of an `.npz` archive, with its name (without `.npy`).
pub fn read(path: &Path) -> Result<Vec<(String, Array)>> {
    crate::io::atomic::require_regular(path)?;
    let file = std::fs::File::open(path).map_err(|e| Error::io("cannot open", path, e))?;
    let mut zip = ZipArchive::new(file)
        .map_err(|e| Error::bad_file(path, format!("not an .npz (zip) archive: {e}")))?;
    let mut arrays = Vec::new();
    for i in 0..zip.len() {
        let mut member = zip
            .by_index(i)
            .map_err(|e| Error::bad_file(path, format!("cannot read member {i}: {e}")))?;
        let name = member.name().to_string();
        // The declared size bounds what is inflated (a deflate bomb stops there).
        let size = member.size();
        crate::limits::check("npz member", path.join(&name).display(), size as u128)?;
        let mut bytes = Vec::new();
        member
            .by_ref()
            .take(size)
            .read_to_end(&mut bytes)
            .map_err(|e| Error::io("cannot read", path.join(&name), e))?;
        let array = npy::parse(&bytes, &path.join(&name))?;
        arrays.push((name.trim_end_matches(".npy").to_string(), array));
    }
    Ok(arrays)
}
