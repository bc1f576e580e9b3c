//! lorae from Python: the extension module `lorae._lorae`, which the package `lorae`
//! (`python/lorae/`) wraps with docstrings, type hints and its exception classes.
//!
//! Numpy in and out: images are `uint8` arrays `N×H×W` (one channel) or `N×H×W×C`, or floats in
//! [0, 1] (quantised to 8 bits as PNG files would be); codes are `float32` `N×d`. Each call copies
//! an input array once (into lorae's channel-first bytes) and releases the GIL while lorae works.
//! Errors are the package's exception classes, carrying lorae's messages ([`errors`]).

mod errors;
mod fid;
mod images;
mod run;
mod train;

use pyo3::prelude::*;

#[pymodule]
fn _lorae(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(fid::fid, m)?)?;
    m.add_function(wrap_pyfunction!(fid::fid_stats, m)?)?;
    m.add_function(wrap_pyfunction!(images::data, m)?)?;
    m.add_function(wrap_pyfunction!(train::train, m)?)?;
    m.add_class::<run::Run>()?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
