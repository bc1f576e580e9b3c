//! Lines on standard output ([`crate::say!`]): a reader that went away (`lorae … | head -1`,
//! a closed pipe) is ignored, since the command's files are what matter; any other failure
//! (ENOSPC behind `> FILE`, `/dev/full`, EIO) is kept, and the command exits non-zero naming it
//! ([`failure`], read once the command is done) instead of claiming a success whose output was
//! lost.

use std::io::Write;
use std::sync::Mutex;

static FAILURE: Mutex<Option<String>> = Mutex::new(None);

/// Writes one line; see the module doc for what happens when that fails.
pub fn line(args: std::fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    let written = out
        .write_fmt(args)
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush());
    if let Err(e) = written {
        record(e);
    }
}

fn record(e: std::io::Error) {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        return;
    }
    let mut failure = FAILURE.lock().unwrap_or_else(|p| p.into_inner());
    failure.get_or_insert_with(|| e.to_string());
}

/// The first failure to write standard output other than a closed pipe, after flushing it.
pub fn failure() -> Option<String> {
    if let Err(e) = std::io::stdout().lock().flush() {
        record(e);
    }
    FAILURE.lock().unwrap_or_else(|p| p.into_inner()).clone()
}
