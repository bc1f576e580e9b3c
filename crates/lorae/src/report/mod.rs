//! Output images: PNG grids of decoded images and spectrum plots.

pub mod grid;
pub mod plot;
