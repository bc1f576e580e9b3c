//! lorae's errors as the exception classes of the package `lorae` (`python/lorae/__init__.py`):
//! all derive from `lorae.Error`, and each also from the built-in a Python caller expects
//! (`ValueError` for a bad value or file, `FileNotFoundError`, `ArithmeticError` for a run that
//! diverged, `RuntimeError` for what this machine or build cannot do).

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;

/// The package's class for `e`.
fn class_of(e: &lorae::Error) -> &'static str {
    use lorae::Error as E;
    match e {
        E::InvalidConfig { .. } | E::UnknownName { .. } | E::ResumeConflict { .. } => {
            "InvalidValueError"
        }
        E::Io { cause, .. } if cause.kind() == std::io::ErrorKind::NotFound => "NotFoundError",
        E::Io { .. } => "IoError",
        E::BadFile { .. } => "BadFileError",
        E::Diverged { .. } | E::NonFinite(_) => "DivergedError",
        E::Numerical(_) => "NumericalError",
        E::RunLocked(_) => "RunLockedError",
        E::Fetch(_) | E::Unsupported(_) | E::Peer(_) | E::Device(_) | E::Server(_) => {
            "UnsupportedError"
        }
        E::Serialize(_) | E::Internal(_) => "InternalError",
    }
}

/// `e` as the package's exception, with lorae's message.
pub fn to_py(e: lorae::Error) -> PyErr {
    raise(class_of(&e), e.to_string())
}

/// The package's exception `class` with `message` (a `RuntimeError` if the package cannot be
/// imported, which only a broken installation gives).
pub fn raise(class: &str, message: String) -> PyErr {
    Python::attach(|py| {
        let made = py
            .import("lorae")
            .and_then(|m| m.getattr(class))
            .and_then(|c| c.call1((message.clone(),)));
        match made {
            Ok(value) => PyErr::from_value(value),
            Err(_) => PyRuntimeError::new_err(message),
        }
    })
}

/// A bad argument: `lorae.InvalidValueError` (a `ValueError`).
pub fn invalid(message: String) -> PyErr {
    raise("InvalidValueError", message)
}

/// `Result<T, lorae::Error>` into a `PyResult<T>`.
pub trait IntoPy<T> {
    fn py_err(self) -> PyResult<T>;
}

impl<T> IntoPy<T> for lorae::Result<T> {
    fn py_err(self) -> PyResult<T> {
        self.map_err(to_py)
    }
}
