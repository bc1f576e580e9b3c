//! Generic file I/O at the bottom of the layering: atomic writes, NumPy `.npy` and `.npz`, standard output
//! that reports its failures.

pub mod atomic;
pub mod npy;
pub mod npz;
pub mod stdout;
