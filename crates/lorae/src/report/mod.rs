//! Output images: PNG grids of decoded images.

pub mod grid;
