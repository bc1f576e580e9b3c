//! Spectrum plots (IRMAE Figs 2, 4): normalised singular values against their index on a log
//! scale, one line per run, with the effective-rank threshold dashed.
//!
//! Text is drawn with DejaVu Sans Mono, embedded in the crate (`assets/`, free licence beside it),
//! so plots look the same on machines without fonts.

use std::path::Path;
use std::sync::Once;

use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::error::{Error, Result};

const FONT: &[u8] = include_bytes!("../../assets/DejaVuSansMono.ttf");
pub(crate) const FONT_NAME: &str = "sans-serif";
/// Values below this are drawn at this floor (a log axis cannot show 0).
pub const LOG_FLOOR: f64 = 1e-8;

/// One line of a spectrum plot.
#[derive(Debug, Clone)]
pub struct SpectrumSeries {
    /// Legend text (e.g. the run directory and its effective rank).
    pub label: String,
    /// Normalised singular values, descending.
    pub values: Vec<f64>,
}

pub(crate) fn register_font() -> Result<()> {
    static ONCE: Once = Once::new();
    let mut result = Ok(());
    ONCE.call_once(|| {
        if plotters::style::register_font(FONT_NAME, FontStyle::Normal, FONT).is_err() {
            result = Err(Error::Internal(
                "the embedded plot font does not parse".into(),
            ));
        }
    });
    result
}

/// Draws `series` into a PNG at `path` (800×500), with a dashed line at `threshold`.
pub fn plot_spectra(series: &[SpectrumSeries], threshold: f64, path: &Path) -> Result<()> {
    if series.is_empty() || series.iter().any(|s| s.values.is_empty()) {
        return Err(Error::invalid(
            "series",
            series.len(),
            "a spectrum plot needs at least one non-empty series",
        ));
    }
    register_font()?;
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::io("cannot create directory", dir, e))?;
    }
    let fail = |e: &dyn std::fmt::Display| Error::bad_file(path, format!("cannot draw plot: {e}"));
    let len = series.iter().map(|s| s.values.len()).max().unwrap_or(1);
    let lowest = series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .chain([threshold])
        .fold(1.0f64, f64::min)
        .max(LOG_FLOOR);
    // Round the bottom of the axis down to a power of ten.
    let bottom = 10f64.powf(lowest.log10().floor());

    draw_png(path, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption("latent spectrum", (FONT_NAME, 22))
            .margin(15)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(1usize..len, (bottom..1.5f64).log_scale())
            .map_err(|e| fail(&e))?;
        chart
            .configure_mesh()
            .x_desc("singular value index")
            .y_desc("normalised singular value")
            .label_style((FONT_NAME, 14))
            .y_label_formatter(&|v| format!("{v:.0e}"))
            .draw()
            .map_err(|e| fail(&e))?;

        for (i, s) in series.iter().enumerate() {
            let colour = Palette99::pick(i).to_rgba();
            let points = s
                .values
                .iter()
                .enumerate()
                .map(|(j, &v)| (j + 1, v.max(LOG_FLOOR)));
            chart
                .draw_series(LineSeries::new(points, colour.stroke_width(2)))
                .map_err(|e| fail(&e))?
                .label(s.label.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
                });
        }
        chart
            .draw_series(DashedLineSeries::new(
                [(1, threshold), (len, threshold)],
                6,
                4,
                BLACK.stroke_width(1),
            ))
            .map_err(|e| fail(&e))?
            .label(format!("threshold {threshold:.0e}"))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK));
        super::charts::legend(&mut chart, path)?;
        Ok(())
    })
}

/// A chart's drawing area: an 800×500 RGB buffer.
pub(crate) type Root<'a> = DrawingArea<BitMapBackend<'a>, plotters::coord::Shift>;

/// Draws with `draw` on a white 800×500 area in memory, then writes it to `path` as a PNG in one
/// atomic write ([`crate::io::atomic::write_atomic`]): a chart that fails, or a full disk, leaves
/// a previous file at `path` as it was.
pub(crate) fn draw_png(path: &Path, draw: impl FnOnce(&Root<'_>) -> Result<()>) -> Result<()> {
    register_font()?;
    let fail = |e: &dyn std::fmt::Display| Error::bad_file(path, format!("cannot draw plot: {e}"));
    let (w, h) = (800u32, 500u32);
    let mut buffer = vec![0u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buffer, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| fail(&e))?;
        draw(&root)?;
        root.present().map_err(|e| fail(&e))?;
    }
    let image = image::RgbImage::from_raw(w, h, buffer)
        .ok_or_else(|| fail(&"the drawing buffer has the wrong size"))?;
    crate::report::grid::write_png(&image, path)
}
