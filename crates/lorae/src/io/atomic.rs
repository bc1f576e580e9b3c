//! Whole-file writes that cannot be seen half done (temporary file in the same directory, sync,
//! rename), and reads that name the file in their error.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::error::{Error, Result};

/// Writes `bytes` to `path` through a temporary file in the same directory (a unique name
/// `.NAME.XXXXXX.tmp`, so concurrent writers of one path never share it), a sync and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(TMP_SUFFIX)
        .tempfile_in(dir)
        .map_err(|e| Error::io("cannot create a temporary file in", dir, e))?;
    // tempfile creates 0600; the file gets what a plain create would (0666 less the umask).
    // Best effort: a filesystem without Unix modes (vfat) refuses the change, and the write
    // must not fail for that.
    let mode = std::fs::Permissions::from_mode(0o666 & !umask());
    let _ = tmp.as_file().set_permissions(mode);
    let written = tmp.write_all(bytes).and_then(|()| tmp.as_file().sync_all());
    written.map_err(|e| Error::io("cannot write", tmp.path().to_path_buf(), e))?;
    tmp.persist(path)
        .map_err(|e| Error::io("cannot rename into", path, e.error))?;
    Ok(())
}

/// The process's umask, read from `/proc/self/status` (setting it to read it would race other
/// threads' file creations); 0o022, the usual one, where that line is missing.
fn umask() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("Umask:"))
                .and_then(|m| u32::from_str_radix(m.trim(), 8).ok())
        })
        .unwrap_or(0o022)
}

/// The suffix of [`write_atomic`]'s temporary files: a process killed mid-write leaves
/// `.NAME.XXXXXX.tmp`, which is never a file of a run and may be removed.
pub const TMP_SUFFIX: &str = ".tmp";

/// True for a temporary file [`write_atomic`] may leave behind.
pub fn is_leftover(file_name: &str) -> bool {
    file_name.starts_with('.')
        && file_name.ends_with(TMP_SUFFIX)
        && !file_name.starts_with(".checkpoint-")
}

/// Reads a whole file, naming it in the error; a FIFO, device or directory is refused first
/// ([`require_regular`]).
pub fn read(path: &Path) -> Result<Vec<u8>> {
    require_regular(path)?;
    std::fs::read(path).map_err(|e| Error::io("cannot read", path, e))
}

/// Fails unless `path` is a regular file (after links): opening a FIFO for reading blocks until a
/// writer comes, and a device can be endless, so every file lorae reads is checked first.
pub fn require_regular(path: &Path) -> Result<()> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io("cannot read", path, e))?;
    if meta.is_file() {
        return Ok(());
    }
    let what = if meta.is_dir() {
        "a directory"
    } else {
        "not a regular file (a FIFO, socket or device)"
    };
    Err(Error::bad_file(
        path,
        format!("is {what}: give the file itself"),
    ))
}
