//! One writer per run directory: an advisory lock on `RUN/lock`, held while a process trains
//! the run. The operating system releases it when the process ends, however it ends, so a killed
//! run never leaves a stale lock; the file holds the writer's pid for the error a second writer
//! gets.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use crate::error::{Error, Result};

/// The lock file's name in a run directory.
pub const LOCK_FILE: &str = "lock";

/// The held lock; dropping it releases the run.
#[derive(Debug)]
pub struct RunLock {
    _file: File,
}

/// Takes the run's lock, or fails naming the process that holds it.
pub fn acquire(run: &Path) -> Result<RunLock> {
    let path = run.join(LOCK_FILE);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| Error::io("cannot open", &path, e))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            return Err(Error::RunLocked(format!(
                "{} is being written by another lorae process (pid {}): wait for it to finish or stop it; two writers would mix their epochs",
                run.display(),
                if holder.is_empty() { "unknown" } else { holder }
            )));
        }
        Err(TryLockError::Error(e)) => return Err(Error::io("cannot lock", &path, e)),
    }
    let write = |file: &mut File| -> std::io::Result<()> {
        file.set_len(0)?;
        file.seek(SeekFrom::Start(0))?;
        writeln!(file, "{}", std::process::id())?;
        file.sync_all()
    };
    write(&mut file).map_err(|e| Error::io("cannot write", &path, e))?;
    Ok(RunLock { _file: file })
}
