//! Generic file I/O at the bottom of the layering: atomic writes, NumPy `.npy` and `.npz`.

pub mod atomic;
pub mod npy;
pub mod npz;
