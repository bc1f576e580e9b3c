//! Output images: PNG grids of decoded images, spectrum plots and the other charts.

pub mod charts;
pub mod document;
pub mod figures;
pub mod grid;
pub mod plot;
